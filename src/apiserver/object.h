/* object.h — metadata chores shared by the handlers: uids, timestamps, names from
 * generateName, generation, and the Kubernetes "kind"/"apiVersion" of a resource. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "api/registry.h"

/* "apps/v1" or "v1". Caller frees. */
char *object_api_version(const struct api_resource *r);

/* A random RFC 4122 version-4 UUID, into buf (37 bytes). */
void object_new_uid(char buf[static 37]);

/* Now as RFC 3339 seconds, UTC, into buf (21 bytes). */
void object_now(char buf[static 32]);

/* Whether kube-apiserver tracks metadata.generation for this resource. */
bool object_has_generation(const struct api_resource *r);

/* Whether spec (everything but metadata and status) differs between a and b. */
bool object_spec_changed(const json_t *a, const json_t *b);

/* Appends 5 random [bcdfghjklmnpqrstvwxz2456789] characters to generateName, as
 * kube's SimpleNameGenerator does. Caller frees. */
char *object_generate_name(const char *base);
