#include "lib/hmap.h"

#include <stdlib.h>
#include <string.h>

size_t hmap_hash(const char *key) {
  /* FNV-1a, then a final mix so the low bits used for the index depend on every byte. */
  size_t h = 1469598103934665603ULL;
  for (const unsigned char *p = (const unsigned char *)key; *p; p++)
    h = (h ^ *p) * 1099511628211ULL;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ULL;
  return h ^ (h >> 32);
}

static size_t find(const struct hmap *m, const char *key, size_t hash) {
  size_t mask = m->cap - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const struct hmap_slot *s = &m->slots[i];
    if (!s->key || (s->hash == hash && strcmp(s->key, key) == 0))
      return i;
  }
}

static void grow(struct hmap *m) {
  size_t old_cap = m->cap;
  struct hmap_slot *old = m->slots;
  m->cap = old_cap ? old_cap * 2 : 16;
  m->slots = xcalloc(m->cap, sizeof(*m->slots));
  for (size_t i = 0; i < old_cap; i++)
    if (old[i].key)
      m->slots[find(m, old[i].key, old[i].hash)] = old[i];
  free(old);
}

void *hmap_get(const struct hmap *m, const char *key) {
  if (!m->len)
    return NULL;
  const struct hmap_slot *s = &m->slots[find(m, key, hmap_hash(key))];
  return s->key ? s->value : NULL;
}

bool hmap_contains(const struct hmap *m, const char *key) {
  return m->len && m->slots[find(m, key, hmap_hash(key))].key;
}

void *hmap_put(struct hmap *m, const char *key, void *value) {
  if ((m->len + 1) * 4 > m->cap * 3)
    grow(m);
  size_t hash = hmap_hash(key);
  struct hmap_slot *s = &m->slots[find(m, key, hash)];
  if (s->key) {
    void *prev = s->value;
    s->value = value;
    return prev;
  }
  *s = (struct hmap_slot){xstrdup(key), hash, value};
  m->len++;
  return NULL;
}

void *hmap_remove(struct hmap *m, const char *key) {
  if (!m->len)
    return NULL;
  size_t mask = m->cap - 1, i = find(m, key, hmap_hash(key));
  struct hmap_slot *s = &m->slots[i];
  if (!s->key)
    return NULL;
  void *value = s->value;
  free(s->key);
  s->key = NULL;
  m->len--;
  /* Shift later members of the probe run back so lookups never stop at the hole. */
  for (size_t j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
    size_t home = m->slots[j].hash & mask;
    bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (between)
      continue;
    m->slots[i] = m->slots[j];
    m->slots[j].key = NULL;
    i = j;
  }
  return value;
}

bool hmap_next(const struct hmap *m, size_t *iter, const char **ret_key, void **ret_value) {
  for (; *iter < m->cap; (*iter)++) {
    const struct hmap_slot *s = &m->slots[*iter];
    if (s->key) {
      if (ret_key)
        *ret_key = s->key;
      if (ret_value)
        *ret_value = s->value;
      (*iter)++;
      return true;
    }
  }
  return false;
}

void hmap_clear(struct hmap *m, void (*free_value)(void *)) {
  for (size_t i = 0; i < m->cap; i++)
    if (m->slots[i].key) {
      free(m->slots[i].key);
      if (free_value)
        free_value(m->slots[i].value);
    }
  free(m->slots);
  *m = (struct hmap)HMAP_INIT;
}
