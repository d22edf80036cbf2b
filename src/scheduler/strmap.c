/* strmap.c — see strmap.h. FNV-1a hashing; the table doubles at 70 % occupancy
 * (tombstones included) so probes stay short under churn. */
#include "scheduler/strmap.h"

#include <string.h>

#include "lib/macro.h"

static char tombstone_mark;
#define SCHED_MAP_TOMBSTONE (&tombstone_mark)

static uint64_t hash_bytes(const char *s, size_t len) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)s[i];
    h *= 1099511628211ULL;
  }
  return h;
}

static bool slot_live(const struct sched_map_slot *s) {
  return s->key && s->key != SCHED_MAP_TOMBSTONE;
}

void sched_map_clear(struct sched_map *m) {
  for (size_t i = 0; i < m->cap; i++)
    if (slot_live(&m->slots[i]))
      free(m->slots[i].key);
  free(m->slots);
  *m = (struct sched_map){0};
}

static struct sched_map_slot *find(const struct sched_map *m, const char *key, size_t len,
                                   uint64_t h) {
  if (m->cap == 0)
    return NULL;
  size_t mask = m->cap - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    struct sched_map_slot *s = &m->slots[i];
    if (!s->key)
      return NULL;
    if (s->key != SCHED_MAP_TOMBSTONE && s->hash == h && strncmp(s->key, key, len) == 0 &&
        s->key[len] == '\0')
      return s;
  }
}

void *sched_map_getn(const struct sched_map *m, const char *key, size_t len) {
  struct sched_map_slot *s = find(m, key, len, hash_bytes(key, len));
  return s ? s->value : NULL;
}

void *sched_map_get(const struct sched_map *m, const char *key) {
  return sched_map_getn(m, key, strlen(key));
}

static void rehash(struct sched_map *m, size_t cap) {
  struct sched_map_slot *old = m->slots;
  size_t old_cap = m->cap;
  m->slots = xcalloc(cap, sizeof(*m->slots));
  m->cap = cap;
  m->used = m->len;
  for (size_t i = 0; i < old_cap; i++) {
    if (!slot_live(&old[i]))
      continue;
    size_t j = old[i].hash & (cap - 1);
    while (m->slots[j].key)
      j = (j + 1) & (cap - 1);
    m->slots[j] = old[i];
  }
  free(old);
}

void *sched_map_putn(struct sched_map *m, const char *key, size_t len, void *value) {
  uint64_t h = hash_bytes(key, len);
  struct sched_map_slot *s = find(m, key, len, h);
  if (s) {
    void *prev = s->value;
    s->value = value;
    return prev;
  }
  if ((m->used + 1) * 10 >= m->cap * 7) {
    size_t cap = m->cap ? m->cap : 8;
    while ((m->len + 1) * 10 >= cap * 5)
      cap *= 2;
    rehash(m, cap);
  }
  size_t mask = m->cap - 1, i = h & mask;
  /* Reuse the first tombstone on the probe path; the key is known to be absent. */
  while (m->slots[i].key && m->slots[i].key != SCHED_MAP_TOMBSTONE)
    i = (i + 1) & mask;
  if (!m->slots[i].key)
    m->used++;
  m->slots[i] = (struct sched_map_slot){xstrndup(key, len), h, value};
  m->len++;
  return NULL;
}

void *sched_map_put(struct sched_map *m, const char *key, void *value) {
  return sched_map_putn(m, key, strlen(key), value);
}

void *sched_map_remove(struct sched_map *m, const char *key) {
  size_t len = strlen(key);
  struct sched_map_slot *s = find(m, key, len, hash_bytes(key, len));
  if (!s)
    return NULL;
  void *prev = s->value;
  free(s->key);
  s->key = SCHED_MAP_TOMBSTONE;
  s->value = NULL;
  m->len--;
  return prev;
}

bool sched_map_next(const struct sched_map *m, size_t *iter, const char **ret_key,
                    void **ret_value) {
  for (; *iter < m->cap; (*iter)++) {
    const struct sched_map_slot *s = &m->slots[*iter];
    if (slot_live(s)) {
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
