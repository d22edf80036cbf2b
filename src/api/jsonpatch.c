/* jsonpatch.c — RFC 6902 JSON patch with the semantics of the json-patch v4 library that
 * kube-apiserver applies them with, so a patch that works against Kubernetes works here and a
 * patch it refuses is refused here. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "api/patch.h"
#include "lib/json.h"
#include "lib/macro.h"

/* The operation failed: kube-apiserver answers every such failure with one generic 422 and
 * keeps the library's detail to itself. */
static int op_failed(struct api_error *err) {
  if (!err)
    return -EINVAL;
  api_error_set(err, -EINVAL, 422, "Invalid",
                "the server rejected our request due to an error in our request");
  err->details = json_object();
  return -EINVAL;
}

/* Go's encoding/json names of JSON value types, for its "cannot unmarshal" errors. */
static const char *go_json_type(const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_OBJECT:
    return "object";
  case JSON_ARRAY:
    return "array";
  case JSON_STRING:
    return "string";
  case JSON_INTEGER:
  case JSON_REAL:
    return "number";
  case JSON_TRUE:
  case JSON_FALSE:
    return "bool";
  case JSON_NULL:
    break;
  }
  return "null";
}

/* strconv.Atoi: optional sign, decimal digits, in range. */
static bool parse_index(const char *s, long long *ret) {
  const char *p = s;
  bool neg = false;
  if (*p == '+' || *p == '-')
    neg = *p++ == '-';
  if (!*p)
    return false;
  unsigned long long v = 0;
  for (; *p; p++) {
    if (*p < '0' || *p > '9')
      return false;
    if (v > (ULLONG_MAX - 9) / 10)
      return false;
    v = v * 10 + (unsigned)(*p - '0');
  }
  if (!neg && v > (unsigned long long)LLONG_MAX)
    return false;
  if (neg && v > (unsigned long long)LLONG_MAX + 1)
    return false;
  *ret = neg ? (long long)(0 - v) : (long long)v;
  return true;
}

/* An array index for get/replace/remove: negative counts from the end. */
static bool existing_index(const json_t *array, const char *key, size_t *ret) {
  long long idx, len = (long long)json_array_size(array);
  if (!parse_index(key, &idx))
    return false;
  if (idx < 0) {
    if (idx < -len)
      return false;
    idx += len;
  }
  if (idx >= len)
    return false;
  *ret = (size_t)idx;
  return true;
}

/* RFC 6901 unescaping, one pass left to right so "~01" is "~1". */
static char *unescape_token(const char *s, size_t n) {
  char *out = xmalloc(n + 1), *o = out;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '~' && i + 1 < n && (s[i + 1] == '0' || s[i + 1] == '1')) {
      *o++ = s[i + 1] == '0' ? '~' : '/';
      i++;
    } else {
      *o++ = s[i];
    }
  }
  *o = '\0';
  return out;
}

/* The child of a container named by an unescaped token, or NULL. */
static json_t *child_of(json_t *container, const char *key) {
  if (json_is_object(container))
    return json_object_get(container, key);
  size_t idx;
  if (json_is_array(container) && existing_index(container, key, &idx))
    return json_array_get(container, idx);
  return NULL;
}

/* Resolves every token of `path` but the last: returns the container (borrowed) and the
 * last token (malloc'd), or NULL. Like json-patch v4, the text before the first '/' is
 * skipped, so a pointer without a leading '/' is not refused; "" names no container. */
static json_t *find_parent(json_t *root, const char *path, char **ret_key) {
  const char *p = strchr(path, '/');
  if (!p)
    return NULL;
  json_t *cur = root;
  for (;;) {
    p++;
    const char *end = strchr(p, '/');
    if (!end) {
      *ret_key = unescape_token(p, strlen(p));
      return cur;
    }
    _cleanup_free_ char *token = unescape_token(p, (size_t)(end - p));
    json_t *next = child_of(cur, token);
    if (!json_is_object(next) && !json_is_array(next))
      return NULL;
    cur = next;
    p = end;
  }
}

/* The member "name" of the operation when it is a string, else NULL. */
static const char *op_string(const json_t *op, const char *name) {
  return json_string_value(json_object_get(op, name));
}

/* The operation's value: absent or null both mean null. New reference. */
static json_t *op_value(const json_t *op) {
  json_t *v = json_object_get(op, "value");
  return v ? json_deep_copy(v) : json_null();
}

/* Adds `val` (stolen) under `key` of `container`. */
static bool container_add(json_t *container, const char *key, json_t *val) {
  if (json_is_object(container)) {
    json_object_set_new(container, key, val);
    return true;
  }
  if (streq(key, "-")) {
    json_array_append_new(container, val);
    return true;
  }
  long long idx, size = (long long)json_array_size(container) + 1;
  if (!parse_index(key, &idx) || idx >= size || idx < -size) {
    json_decref(val);
    return false;
  }
  if (idx < 0)
    idx += size;
  json_array_insert_new(container, (size_t)idx, val);
  return true;
}

static bool container_remove(json_t *container, const char *key) {
  if (json_is_object(container))
    return json_object_del(container, key) == 0;
  size_t idx;
  if (!existing_index(container, key, &idx))
    return false;
  json_array_remove(container, idx);
  return true;
}

/* Reads `key` of `container`: *ret is borrowed, NULL for a missing object member (not an
 * error, as in json-patch v4); a bad array index is an error. */
static bool container_get(json_t *container, const char *key, json_t **ret) {
  if (json_is_object(container)) {
    *ret = json_object_get(container, key);
    return true;
  }
  size_t idx;
  if (!existing_index(container, key, &idx))
    return false;
  *ret = json_array_get(container, idx);
  return true;
}

static bool op_add(json_t *root, const json_t *op) {
  const char *path = op_string(op, "path");
  _cleanup_free_ char *key = NULL;
  json_t *con = path ? find_parent(root, path, &key) : NULL;
  if (!con)
    return false;
  return container_add(con, key, op_value(op));
}

static bool op_remove(json_t *root, const json_t *op) {
  const char *path = op_string(op, "path");
  _cleanup_free_ char *key = NULL;
  json_t *con = path ? find_parent(root, path, &key) : NULL;
  return con && container_remove(con, key);
}

static bool op_replace(json_t **root, const json_t *op) {
  const char *path = op_string(op, "path");
  if (!path)
    return false;
  if (!*path) {
    json_t *v = json_object_get(op, "value");
    if (!json_is_object(v) && !json_is_array(v))
      return false;
    json_decref(*root);
    *root = json_deep_copy(v);
    return true;
  }
  _cleanup_free_ char *key = NULL;
  json_t *con = find_parent(*root, path, &key);
  json_t *old;
  if (!con || !container_get(con, key, &old))
    return false;
  if (json_is_object(con)) {
    json_object_set_new(con, key, op_value(op));
  } else {
    size_t idx;
    existing_index(con, key, &idx);
    json_array_set_new(con, idx, op_value(op));
  }
  return true;
}

/* The container, key and value an op's "from" names; false when it names nothing. */
static bool op_from(json_t *root, const json_t *op, json_t **ret_con, char **ret_key,
                    json_t **ret_val) {
  const char *from = op_string(op, "from");
  _cleanup_free_ char *key = NULL;
  json_t *con = from ? find_parent(root, from, &key) : NULL;
  if (!con || !container_get(con, key, ret_val))
    return false;
  *ret_con = con;
  *ret_key = TAKE_PTR(key);
  return true;
}

static bool op_move(json_t *root, const json_t *op) {
  _cleanup_free_ char *from_key = NULL, *key = NULL;
  json_t *con, *val;
  if (!op_from(root, op, &con, &from_key, &val))
    return false;
  _cleanup_json_ json_t *held = val ? json_incref(val) : json_null();
  if (!container_remove(con, from_key))
    return false;
  const char *path = op_string(op, "path");
  con = path ? find_parent(root, path, &key) : NULL;
  if (!con)
    return false;
  return container_add(con, key, TAKE_PTR(held));
}

static bool op_copy(json_t *root, const json_t *op, size_t *copied) {
  _cleanup_free_ char *from_key = NULL, *key = NULL;
  json_t *con, *val;
  if (!op_from(root, op, &con, &from_key, &val))
    return false;
  const char *path = op_string(op, "path");
  json_t *dest = path ? find_parent(root, path, &key) : NULL;
  if (!dest)
    return false;
  if (val) {
    /* The limit counts encoded bytes, as the apiserver's JSONPatchMaxCopyBytes does, and stops
     * a few copy operations from doubling a document into gigabytes. */
    size_t size = json_dumpb(val, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
    *copied += size;
    if (*copied > PATCH_MAX_JSON_COPY_BYTES)
      return false;
  }
  return container_add(dest, key, val ? json_deep_copy(val) : json_null());
}

static bool op_test(json_t *root, const json_t *op) {
  const char *path = op_string(op, "path");
  if (!path)
    return false;
  json_t *want = json_object_get(op, "value");
  if (!*path)
    return want && json_equal(root, want);
  _cleanup_free_ char *key = NULL;
  json_t *con = find_parent(root, path, &key);
  json_t *have;
  if (!con || !container_get(con, key, &have))
    return false;
  if (!have || json_is_null(have))
    return !want || json_is_null(want);
  return want && json_equal(have, want);
}

int patch_json(const json_t *doc, const json_t *patch, json_t **ret, struct api_error *err) {
  if (json_is_null(patch)) {
    *ret = json_deep_copy(doc);
    return 0;
  }
  if (!json_is_array(patch)) {
    if (err)
      return api_error_bad_request(
          err, "json: cannot unmarshal %s into Go value of type jsonpatch.Patch",
          go_json_type(patch));
    return -EINVAL;
  }
  size_t i;
  json_t *op;
  json_array_foreach(patch, i, op) {
    if (!json_is_object(op) && !json_is_null(op)) {
      if (err)
        return api_error_bad_request(
            err, "json: cannot unmarshal %s into Go value of type jsonpatch.Operation",
            go_json_type(op));
      return -EINVAL;
    }
  }
  size_t n = json_array_size(patch);
  if (n > PATCH_MAX_JSON_OPERATIONS) {
    if (err)
      return api_error_set(err, -E2BIG, 413, "RequestEntityTooLarge",
                           "Request entity too large: The allowed maximum operations in a "
                           "JSON patch is %d, got %zu",
                           PATCH_MAX_JSON_OPERATIONS, n);
    return -E2BIG;
  }

  _cleanup_json_ json_t *root = json_deep_copy(doc);
  size_t copied = 0;
  json_array_foreach(patch, i, op) {
    const char *kind = op_string(op, "op");
    bool ok;
    if (!kind)
      ok = false;
    else if (streq(kind, "add"))
      ok = op_add(root, op);
    else if (streq(kind, "remove"))
      ok = op_remove(root, op);
    else if (streq(kind, "replace"))
      ok = op_replace(&root, op);
    else if (streq(kind, "move"))
      ok = op_move(root, op);
    else if (streq(kind, "copy"))
      ok = op_copy(root, op, &copied);
    else if (streq(kind, "test"))
      ok = op_test(root, op);
    else
      ok = false;
    if (!ok)
      return op_failed(err);
  }
  /* A root replaced by an array cannot decode into an object. */
  if (!json_is_object(root))
    return op_failed(err);
  *ret = TAKE_PTR(root);
  return 0;
}
