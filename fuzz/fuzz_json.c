/* Feeds arbitrary bytes to json_decode and json_decode_select. Whatever json_decode
 * accepts must equal what jansson's own parser makes of it and must re-encode; a selection
 * of an accepted document must equal the same selection made on the full tree. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"

/* The projection json_decode_select(except = false) promises, built from a full tree;
 * NULL for what it leaves out. */
static json_t *project(json_t *v, const char *const *paths, size_t level) {
  if (!json_is_object(v))
    return level == 0 ? json_incref(v) : NULL;
  json_t *out = json_object();
  const char *key;
  json_t *m;
  json_object_foreach(v, key, m) {
    size_t klen = strlen(key);
    bool whole = false;
    const char *sub[8];
    size_t n_sub = 0;
    for (size_t i = 0; paths[i]; i++) {
      /* component `level` of paths[i] */
      const char *p = paths[i];
      for (size_t l = 0; l < level && p; l++) {
        p = strchr(p, '.');
        if (p)
          p++;
      }
      if (!p)
        continue;
      size_t n = strcspn(p, ".");
      if (n != klen || memcmp(p, key, n) != 0)
        continue;
      if (!p[n])
        whole = true;
      else if (n_sub < 7)
        sub[n_sub++] = paths[i];
    }
    sub[n_sub] = NULL;
    json_t *keep = whole ? json_incref(m) : n_sub ? project(m, sub, level + 1) : NULL;
    if (keep)
      json_object_set_new(out, key, keep);
  }
  return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_t *v = NULL;
  char *err = NULL;
  const char *buf = (const char *)data;
  int r = json_decode(buf, size, &v, &err);
  json_t *ref = json_loadb(buf, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
  if (r == 0) {
    free(json_encode(v));
    if (ref && !json_equal(v, ref))
      abort();
  } else {
    free(err);
  }
  /* Jansson takes a NUL byte after a value for the end of input; we refuse it. */
  if (ref && r != 0 && !memchr(buf, '\0', size))
    abort(); /* jansson accepted what we refused */
  json_decref(ref);

  static const char *const paths[] = {"a", "b.c", "b.d.e", NULL};
  json_t *sel = NULL;
  if (json_decode_select(buf, size, paths, false, &sel, NULL) == 0 && r == 0) {
    json_t *want = project(v, paths, 0);
    if (!json_equal(sel, want))
      abort();
    json_decref(want);
  }
  json_decref(sel);
  json_t *ex = NULL;
  if (json_decode_select(buf, size, paths, true, &ex, NULL) == 0)
    free(json_encode(ex));
  json_decref(ex);
  json_decref(v);
  return 0;
}
