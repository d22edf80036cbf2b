#include "lib/json.h"

#include <stdio.h>

json_t *json_path(json_t *root, const char *dotted) {
  json_t *cur = root;
  const char *p = dotted;
  while (cur && *p) {
    const char *dot = strchr(p, '.');
    size_t n = dot ? (size_t)(dot - p) : strlen(p);
    if (!json_is_object(cur))
      return NULL;
    cur = json_object_getn(cur, p, n);
    p += n;
    if (*p == '.')
      p++;
  }
  return cur;
}

const char *json_path_str(json_t *root, const char *dotted) {
  return json_string_value(json_path(root, dotted));
}

/* The member at key when it has the wanted type, else a fresh empty one put there. */
static json_t *ensure_member(json_t *obj, const char *key, json_type type) {
  json_t *v = json_object_get(obj, key);
  if (v && json_typeof(v) == type)
    return v;
  v = type == JSON_ARRAY ? json_array() : json_object();
  json_object_set_new(obj, key, v);
  return v;
}

json_t *json_object_ensure(json_t *obj, const char *key) {
  return ensure_member(obj, key, JSON_OBJECT);
}

char *json_encode(const json_t *v) {
  char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
  if (!s)
    abort();
  return s;
}

json_t *json_object_ensure_array(json_t *obj, const char *key) {
  return ensure_member(obj, key, JSON_ARRAY);
}
