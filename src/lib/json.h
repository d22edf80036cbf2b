/* json.h — helpers over jansson. Objects are jansson trees (json_t); ownership follows
 * jansson's reference counting. Nothing here logs. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/macro.h"

/* json_decrefp() comes with jansson 2.14. */
#define _cleanup_json_ _cleanup_(json_decrefp)

/* Walks a dotted path ("metadata.name", "spec.template.metadata"): borrowed reference,
 * NULL if any step is missing or not an object. */
json_t *json_path(json_t *root, const char *dotted);

/* String at a dotted path, or NULL if absent or not a string. Borrowed. */
const char *json_path_str(json_t *root, const char *dotted);

/* Returns the object at key, creating an empty object there if absent or not an object.
 * Borrowed reference. */
json_t *json_object_ensure(json_t *obj, const char *key);

/* Compact encoding with keys in insertion order; caller frees. Never NULL for valid
 * trees (aborts on OOM). */
char *json_encode(const json_t *v);

/* Parses a buffer holding exactly one JSON value (any type; strings must be UTF-8 and may
 * hold \u0000; a later duplicate key replaces an earlier one; nesting deeper than 2048 is
 * refused). On failure returns -EINVAL and, if ret_err is set, a malloc'd message naming
 * line/column. */
int json_decode(const char *buf, size_t len, json_t **ret, char **ret_err);

/* Decodes only part of a document, for readers that need a few fields of a large object
 * and should not pay for the rest. `paths` is a NULL-terminated list (at most 64) of dotted
 * object paths ("metadata.labels", "spec.nodeName"); a path never goes through arrays.
 * except = false: the result keeps the values at those paths, whole, and the objects on
 * the way to them (even when empty) — nothing else. except = true: the result is the
 * whole document but for the values at those paths. A document that is not an object is
 * returned whole either way. The parts left out are stepped over with only their brackets and
 * strings checked, so use this on JSON from a trusted writer (the store, the API server).
 * Returns as json_decode(), or -E2BIG for too many paths. */
int json_decode_select(const char *buf, size_t len, const char *const *paths, bool except,
                       json_t **ret, char **ret_err);

/* Returns the array at key, creating an empty one there if absent or not an array.
 * Borrowed reference. */
json_t *json_object_ensure_array(json_t *obj, const char *key);
