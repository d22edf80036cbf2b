/* backend.h — helpers the store backends (sqlite.c, etcd.c) share; not part of the store
 * contract, which is store.h. Everything here is pure: thread-safe, no I/O. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* The smallest key greater than every key starting with prefix (etcd's range_end), or
 * NULL when there is none (empty prefix, or all 0xff bytes). Caller frees. */
char *store_prefix_end(const char *prefix);

/* Argument checks every backend applies before touching storage, so both answer bad
 * arguments alike. Each returns 0 or -EINVAL.
 *  write: a non-empty key, no negative revision or TTL, and value NULL only when len 0
 *         (a delete passes value NULL, len 0, ttl 0);
 *  list:  a prefix, no negative revision, and a continuation key inside the prefix;
 *  watch: a prefix, a callback, no negative revision. */
int store_check_write(const char *key, const char *value, size_t len, int64_t expected_rev,
                      int64_t ttl_seconds);
int store_check_list(const char *prefix, int64_t rev, const char *start_after);
int store_check_watch(const char *prefix, int64_t from_rev, store_watch_cb cb);

/* The end of every backend's watch_cancel, once the watch is marked cancelled and its
 * thread woken. A watch cancelled from its own callback (self) cannot join its own
 * thread: the thread is detached and the backend's thread function frees the watch when
 * the callback returns. Any other caller joins the thread, then frees the watch with
 * free_watch. */
void store_watch_reap(struct store_watch *w, pthread_t thread, bool self,
                      void (*free_watch)(struct store_watch *w));
