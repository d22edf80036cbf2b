/* podtemplatehash.c — pod-template-hash values; see podtemplatehash.h. */
#include "controllers/podtemplatehash.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/macro.h"

/* Consonants and digits only, without vowels and look-alikes (0, 1, 3, a, e, i, o, u, y),
 * so generated names never form words. */
static const char safe_alphabet[] = "bcdfghjklmnpqrstvwxz2456789";

uint32_t podtemplatehash_fnv32a(uint32_t h, const void *buf, size_t len) {
  const unsigned char *p = buf;
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= 16777619u;
  }
  return h;
}

char *podtemplatehash_safe_encode(const char *s) {
  size_t n = strlen(s);
  char *out = xmalloc(n + 1);
  for (size_t i = 0; i < n; i++)
    out[i] = safe_alphabet[(unsigned char)s[i] % (sizeof(safe_alphabet) - 1)];
  out[n] = '\0';
  return out;
}

static bool is_empty_value(const json_t *v) {
  return json_is_null(v) || (json_is_object(v) && json_object_size(v) == 0) ||
         (json_is_array(v) && json_array_size(v) == 0);
}

json_t *podtemplatehash_normalize(const json_t *v) {
  if (!v)
    return NULL;
  if (json_is_object(v)) {
    json_t *out = json_object();
    const char *k;
    json_t *m;
    json_object_foreach((json_t *)v, k, m) {
      json_t *n = podtemplatehash_normalize(m);
      if (is_empty_value(n))
        json_decref(n);
      else
        json_object_set_new(out, k, n);
    }
    return out;
  }
  if (json_is_array(v)) {
    /* Elements stay, even empty ones: their positions matter. */
    json_t *out = json_array();
    size_t i;
    json_t *m;
    json_array_foreach(v, i, m) json_array_append_new(out, podtemplatehash_normalize(m));
    return out;
  }
  return json_deep_copy(v);
}

bool podtemplatehash_equal(const json_t *a, const json_t *b) {
  json_t *na = podtemplatehash_normalize(a), *nb = podtemplatehash_normalize(b);
  bool eq = (!na && !nb) || (na && nb && json_equal(na, nb));
  json_decref(na);
  json_decref(nb);
  return eq;
}

char *podtemplatehash_compute(const json_t *tmpl, bool has_collision_count,
                              uint32_t collision_count) {
  uint32_t h = PODTEMPLATEHASH_FNV32A_INIT;
  json_t *norm = podtemplatehash_normalize(tmpl);
  char *canon = norm ? json_dumps(norm, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
  if (norm && !canon)
    abort(); /* jansson fails only on allocation */
  json_decref(norm);
  const char *text = canon ? canon : "null";
  h = podtemplatehash_fnv32a(h, text, strlen(text));
  free(canon);
  if (has_collision_count) {
    unsigned char b[8] = {0};
    for (int i = 0; i < 4; i++)
      b[i] = (unsigned char)(collision_count >> (8 * i));
    h = podtemplatehash_fnv32a(h, b, sizeof(b));
  }
  char dec[16];
  snprintf(dec, sizeof(dec), "%" PRIu32, h);
  return podtemplatehash_safe_encode(dec);
}
