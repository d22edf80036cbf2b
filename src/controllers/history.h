/* history.h — ControllerRevisions: the revision history that DaemonSets and StatefulSets
 * keep of their pod template, as kube-controller-manager's history package and the two
 * controllers' getPatch/snapshot build it, and as `kubectl rollout history|undo` reads it.
 *
 * A revision is an apps/v1 ControllerRevision named "<owner>-<hash>" whose data is the
 * patch {"spec":{"template":{...,"$patch":"replace"}}} that restores the owner's template
 * (a strategic merge patch kubectl applies on undo), with a revision number one above the
 * highest before it, the owner as controller owner reference, and the hash in the label
 * controller-revision-hash.
 *
 * Everything here is pure (no I/O), thread-safe and never logs. Objects passed in are only
 * read; results are new references the caller owns. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/json.h"

#define HISTORY_HASH_LABEL "controller-revision-hash"

/* The revision data of an owner with spec.template: {"spec":{"template":{...,
 * "$patch":"replace"}}}. NULL when the owner has no template. */
json_t *history_patch(const json_t *owner);

/* Canonical bytes of a JSON value as Go's json.Marshal of a map writes them: compact, keys
 * sorted, '<', '>' and '&' escaped as \u003c, \u003e, \u0026. Caller frees. */
char *history_canonical(const json_t *v);

/* rand.SafeEncodeString: each byte of s mapped onto "bcdfghjklmnpqrstvwxz2456789" so that
 * hashes never spell words. Caller frees. */
char *history_safe_encode(const char *s);

/* HashControllerRevision: FNV-1 (32 bit) over the canonical bytes of data, then the
 * decimal collision count when collision_count is non-NULL, printed in decimal and
 * safe-encoded. Caller frees. */
char *history_hash(const json_t *data, const int64_t *collision_count);

/* The hash of a pod template with a collision count (controller.ComputeHash: FNV-1a of
 * the template, then the decimal count when non-NULL), safe-encoded; the DaemonSet's
 * pod label and revision name suffix. Caller frees. */
char *history_template_hash(const json_t *template, const int64_t *collision_count);

/* A new ControllerRevision of `owner` (kind/api_version of the owner) named
 * "<owner name, at most 223 bytes>-<hash>", in the owner's namespace, with labels =
 * template labels + controller-revision-hash: hash, annotations copied from the owner,
 * data and revision number. */
json_t *history_new_revision(const json_t *owner, const char *api_version, const char *kind,
                             const char *hash, const json_t *data, int64_t revision);

/* Sorts an array of revisions in place by revision number, then creationTimestamp, then
 * name (history.SortControllerRevisions). */
void history_sort(json_t *revisions);

/* One above the last revision of a sorted array; 1 for an empty one. */
int64_t history_next_revision(const json_t *sorted);

/* Whether two revisions hold the same data (semantic JSON equality). */
bool history_equal_data(const json_t *a, const json_t *b);

/* The owner with its spec.template replaced by the revision's (ApplyRevision). NULL when
 * the revision holds no template. */
json_t *history_apply(const json_t *owner, const json_t *revision);

/* truncateHistory: of the sorted revisions, those not named in `live` (n_live names, NULL
 * entries ignored) are history; when there are more than `limit` (limit >= 0), the oldest
 * surplus are returned, as a new array of the revision objects to delete (empty when
 * none). */
json_t *history_to_prune(const json_t *sorted, const char *const *live, size_t n_live,
                         long limit);
