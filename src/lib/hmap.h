/* hmap.h — a hash map from NUL-terminated string keys to pointers (open addressing,
 * linear probing, tombstone-free deletion by back-shifting). Keys are copied; values are
 * the caller's. Not thread-safe: callers lock. Nothing here logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "lib/macro.h"

struct hmap {
  struct hmap_slot *slots;
  size_t cap; /* power of two, or 0 */
  size_t len;
};

struct hmap_slot {
  char *key; /* NULL = empty */
  size_t hash;
  void *value;
};

#define HMAP_INIT {NULL, 0, 0}

/* Frees the keys and the table; calls free_value on each value when non-NULL. */
void hmap_clear(struct hmap *m, void (*free_value)(void *));

void *hmap_get(const struct hmap *m, const char *key);
bool hmap_contains(const struct hmap *m, const char *key);

/* Sets key's value; returns the previous value (NULL when the key was new). */
void *hmap_put(struct hmap *m, const char *key, void *value);

/* Removes key; returns its value (NULL when absent). */
void *hmap_remove(struct hmap *m, const char *key);

static inline size_t hmap_len(const struct hmap *m) { return m->len; }

/* Iteration: for (size_t i = 0; hmap_next(m, &i, &k, &v);) — no insertions or removals
 * while iterating. */
bool hmap_next(const struct hmap *m, size_t *iter, const char **ret_key, void **ret_value);

size_t hmap_hash(const char *key);
