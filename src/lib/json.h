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

/* Parses a buffer holding exactly one JSON value. On failure returns -EINVAL and, if
 * ret_err is set, a malloc'd message naming line/column. */
int json_decode(const char *buf, size_t len, json_t **ret, char **ret_err);

/* Returns the array at key, creating an empty one there if absent or not an array.
 * Borrowed reference. */
json_t *json_object_ensure_array(json_t *obj, const char *key);
