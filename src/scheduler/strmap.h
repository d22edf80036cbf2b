/* strmap.h — a string-keyed hash map for the scheduler's indexes (node by name, pod by
 * "namespace/name", topology pair counts). Open addressing with linear probing and
 * tombstones; the map copies keys, values are opaque pointers it never frees.
 *
 * Not thread-safe: the owner serialises access (the snapshot's and the queue's locks).
 * Nothing here logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sched_map_slot {
  char *key; /* NULL: empty; SCHED_MAP_TOMBSTONE: deleted */
  uint64_t hash;
  void *value;
};

struct sched_map {
  struct sched_map_slot *slots;
  size_t cap;  /* power of two, or 0 */
  size_t used; /* live + tombstones */
  size_t len;  /* live */
};

/* An empty map needs no allocation: `struct sched_map m = {0};`. */
void sched_map_clear(struct sched_map *m);

/* The value for key, or NULL when absent. */
void *sched_map_get(const struct sched_map *m, const char *key);
/* Same with a key of `len` bytes that need not be NUL-terminated. */
void *sched_map_getn(const struct sched_map *m, const char *key, size_t len);

/* Inserts or replaces. Returns the previous value (NULL if the key was new). */
void *sched_map_put(struct sched_map *m, const char *key, void *value);
void *sched_map_putn(struct sched_map *m, const char *key, size_t len, void *value);

/* Removes key; returns its value, or NULL when it was absent. */
void *sched_map_remove(struct sched_map *m, const char *key);

/* Iteration: `for (size_t i = 0; sched_map_next(m, &i, &k, &v);)`. The map must not change
 * during the walk. */
bool sched_map_next(const struct sched_map *m, size_t *iter, const char **ret_key,
                    void **ret_value);
