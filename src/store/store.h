/* store.h — the storage contract: a key-value map with etcd's MVCC semantics.
 *
 * Everything above the store relies only on this contract:
 *  - keys are "/registry/<group>/<resource>/<namespace>/<name>" (core group "core",
 *    cluster-scoped objects have no namespace segment); values are opaque bytes (the
 *    JSON encoding of the object);
 *  - one global, strictly increasing revision (int64, starts at 1 for the first write);
 *    every successful write (create, update, delete) gets its own new revision and the
 *    object's resourceVersion is the revision of its last write;
 *  - writes are conditional: create only if absent, update/delete only if the key's
 *    current mod revision equals the expected one (0 = unconditional);
 *  - list by prefix at the current or an older revision, in key order, with a limit and
 *    a continuation key;
 *  - watch a prefix from a revision: every event with revision > from_rev, in revision
 *    order, with no gaps;
 *  - history older than the compaction point answers -ERANGE ("410 Gone / Expired");
 *  - keys written with a TTL disappear (as a delete event) once it passes.
 *
 * Error codes (negative errno):
 *   -EEXIST   create of a key that exists
 *   -ENOENT   get/update/delete of a key that does not exist
 *   -ESTALE   update/delete whose expected revision does not match (conflict)
 *   -ERANGE   list/watch at a revision older than the compaction point
 *   -EINVAL   bad argument (empty key, limit/continue misuse)
 *   -EIO      backend failure (the write may or may not have happened only for -EIO)
 *   -ENOTCONN backend unreachable
 *
 * Thread-safety: every function may be called from any thread concurrently. A write
 * that returned 0 is durable: it survives kill -9 of the process.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

/* One key and its value as stored. Freed with store_kv_clear(). */
struct store_kv {
  char *key;
  char *value; /* NUL-terminated for convenience; value_len excludes the NUL */
  size_t value_len;
  int64_t create_rev; /* revision that created this incarnation of the key */
  int64_t mod_rev;    /* revision of the last write to the key */
};

struct store_list {
  struct store_kv *items;
  size_t n_items;
  int64_t rev; /* the revision the list was read at */
  bool more;   /* limit cut the result: continue from the last item's key */
};

enum store_event_type { STORE_EVENT_PUT = 1, STORE_EVENT_DELETE = 2 };

/* One change. For PUT, kv is the new value and prev (if prev.key) the one it replaced.
 * For DELETE, kv.key is the key, kv.mod_rev the delete's revision, kv.value NULL, and
 * prev the last value before the delete. */
struct store_event {
  enum store_event_type type;
  struct store_kv kv;
  struct store_kv prev;
};

/* Called by the store for each event, in revision order, on a store-owned thread.
 * The event is borrowed for the duration of the call. Return 0 to go on; a negative
 * value stops the watch. When the watch ends for any other reason (compaction passed
 * it: err=-ERANGE; backend lost: -ENOTCONN; store closing: -ECANCELED) the callback is
 * called once with ev=NULL and err set, and never again. */
typedef int (*store_watch_cb)(const struct store_event *ev, int err, void *userdata);

struct store_watch;

struct store_ops {
  const char *name;
  int (*open)(const char *endpoint, const char *data_dir, struct store **ret);
  void (*close)(struct store *s);
  int (*get)(struct store *s, const char *key, struct store_kv *ret);
  int (*create)(struct store *s, const char *key, const char *value, size_t len,
                int64_t ttl_seconds, int64_t *ret_rev);
  int (*update)(struct store *s, const char *key, const char *value, size_t len,
                int64_t expected_rev, int64_t ttl_seconds, int64_t *ret_rev);
  int (*delete)(struct store *s, const char *key, int64_t expected_rev,
                struct store_kv *ret_prev, int64_t *ret_rev);
  int (*list)(struct store *s, const char *prefix, int64_t rev, const char *start_after,
              size_t limit, struct store_list *ret);
  int (*count)(struct store *s, const char *prefix, int64_t *ret_count);
  int (*watch)(struct store *s, const char *prefix, int64_t from_rev, store_watch_cb cb,
               void *userdata, struct store_watch **ret);
  void (*watch_cancel)(struct store_watch *w);
  int (*current_rev)(struct store *s, int64_t *ret_rev);
  int (*compact)(struct store *s, int64_t rev);
  int (*compacted_rev)(struct store *s, int64_t *ret_rev);
};

/* The store object every backend's own struct starts with. */
struct store {
  const struct store_ops *ops;
};

/* Opens the backend named by endpoint: "" or "sqlite" = SQLite file in data_dir
 * (data_dir/db/state.db), "sqlite:///path/file.db", "http://h:p[,http://h:p...]" = etcd
 * v3. Returns 0 and the store, or a negative errno with a message in *ret_err
 * (malloc'd). */
int store_open(const char *endpoint, const char *data_dir, struct store **ret, char **ret_err);

/* Convenience wrappers that dispatch through s->ops. Same contracts as the ops above:
 *  get: fills *ret (caller clears) or -ENOENT.
 *  create: -EEXIST if present. ttl_seconds 0 = no expiry.
 *  update: expected_rev 0 = unconditional but the key must exist (-ENOENT).
 *  delete: expected_rev 0 = unconditional; *ret_prev (optional) gets the deleted value.
 *  list: rev 0 = latest; start_after NULL or "" = from the prefix start; limit 0 = all;
 *        keys strictly greater than start_after are returned; -ERANGE if rev is older
 *        than the compaction point or newer than the current revision (-EINVAL then).
 *  watch: events with revision > from_rev; from_rev 0 = from "now". -ERANGE at once if
 *        from_rev < compacted revision.
 *  compact: drop history at revisions < rev (the latest value of each live key is kept).
 *        -ERANGE if rev is not above the current compaction point, -EINVAL if it is
 *        above the current revision.
 *  watch_cancel: stops the watch and frees it; the callback is not called afterwards.
 *        Every watch that store_watch() returned is released this way, also after it
 *        ended on its own, except when the store was closed first. It may be called
 *        from the watch's own callback.
 *  close: ends every open watch (its callback gets ev=NULL, err=-ECANCELED), frees it
 *        and waits for in-flight writes; handles to those watches are invalid then.
 *
 * Backends:
 *  sqlite  one writer thread commits all queued writes in one transaction with one
 *          fsync (group commit); reads use a pool of WAL readers; each watch is a
 *          thread; TTL expiry is swept every second.
 *  etcd    JSON over etcd's gRPC gateway (etcd >= 3.4) with libcurl; endpoints are
 *          tried in turn; TTL via one lease per write; store_compact() also records the
 *          compaction point under the key "/ckube/compact_rev", which is where
 *          store_compacted_rev() reads it (etcd's API does not report it).
 */
static inline int store_get(struct store *s, const char *key, struct store_kv *ret) {
  return s->ops->get(s, key, ret);
}
static inline int store_create(struct store *s, const char *key, const char *value, size_t len,
                               int64_t ttl_seconds, int64_t *ret_rev) {
  return s->ops->create(s, key, value, len, ttl_seconds, ret_rev);
}
static inline int store_update(struct store *s, const char *key, const char *value, size_t len,
                               int64_t expected_rev, int64_t ttl_seconds, int64_t *ret_rev) {
  return s->ops->update(s, key, value, len, expected_rev, ttl_seconds, ret_rev);
}
static inline int store_delete(struct store *s, const char *key, int64_t expected_rev,
                               struct store_kv *ret_prev, int64_t *ret_rev) {
  return s->ops->delete(s, key, expected_rev, ret_prev, ret_rev);
}
static inline int store_list(struct store *s, const char *prefix, int64_t rev,
                             const char *start_after, size_t limit, struct store_list *ret) {
  return s->ops->list(s, prefix, rev, start_after, limit, ret);
}
static inline int store_count(struct store *s, const char *prefix, int64_t *ret_count) {
  return s->ops->count(s, prefix, ret_count);
}
static inline int store_watch(struct store *s, const char *prefix, int64_t from_rev,
                              store_watch_cb cb, void *userdata, struct store_watch **ret) {
  return s->ops->watch(s, prefix, from_rev, cb, userdata, ret);
}
static inline void store_watch_cancel(struct store *s, struct store_watch *w) {
  if (w)
    s->ops->watch_cancel(w);
}
static inline int store_current_rev(struct store *s, int64_t *ret_rev) {
  return s->ops->current_rev(s, ret_rev);
}
static inline int store_compact(struct store *s, int64_t rev) { return s->ops->compact(s, rev); }
static inline int store_compacted_rev(struct store *s, int64_t *ret_rev) {
  return s->ops->compacted_rev(s, ret_rev);
}
static inline void store_close(struct store *s) {
  if (s)
    s->ops->close(s);
}

void store_kv_clear(struct store_kv *kv);
void store_list_clear(struct store_list *l);

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_etcd_ops;
