/* podtemplatehash.h — the pod-template-hash label value that names a Deployment's
 * ReplicaSets ("web-5d8c7b9f64") and keeps their pods apart.
 *
 * Shape as kube's controller.ComputeHash: FNV-32a over a representation of the pod
 * template, followed by the collisionCount as 8 bytes (the 32-bit count little-endian, then
 * zeros) when the Deployment has one, the 32-bit sum printed in decimal and each digit
 * mapped through the "safe encode" alphabet (rand.SafeEncodeString), so values use only
 * "bcdfghjklmnpqrstvwxz2456789" and never spell words.
 *
 * The representation differs from kube's: kube hashes a Go-specific dump of the typed
 * struct, which C cannot reproduce; ckube hashes the canonical JSON (compact, keys sorted)
 * of the template's normal form (podtemplatehash_normalize()). The hash is therefore
 * stable across runs and ckube versions, templates that kube deems equal hash alike, and
 * different templates give different values (up to FNV-32 collisions, which the
 * Deployment's collisionCount resolves), but the values are not byte-equal to kube's.
 *
 * Pure functions, thread-safe. Nothing here logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/json.h"

#define PODTEMPLATEHASH_FNV32A_INIT 2166136261u

/* FNV-32a of buf continued from h (start with PODTEMPLATEHASH_FNV32A_INIT). */
uint32_t podtemplatehash_fnv32a(uint32_t h, const void *buf, size_t len);

/* rand.SafeEncodeString: every byte of s mapped to the safe alphabet. Caller frees. */
char *podtemplatehash_safe_encode(const char *s);

/* The normal form of a JSON value as a typed Go object sees it after decoding: members
 * that are null, {} or [] are dropped, recursively (so `"resources": {}` or
 * `"creationTimestamp": null`, which clients send from their zero values, equal their
 * absence, as they do for apimachinery's semantic equality). New reference; NULL in gives
 * NULL. */
json_t *podtemplatehash_normalize(const json_t *v);

/* Whether two templates are equal in normal form. */
bool podtemplatehash_equal(const json_t *a, const json_t *b);

/* The hash of a pod template (a PodTemplateSpec object; NULL hashes as JSON null) with the
 * Deployment's collisionCount (has_collision_count false when status.collisionCount is
 * absent). Caller frees; never NULL. */
char *podtemplatehash_compute(const json_t *tmpl, bool has_collision_count,
                              uint32_t collision_count);
