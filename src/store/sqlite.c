/* sqlite.c — the embedded store backend: MVCC over one SQLite file.
 *
 * Layout, after kine: every write appends one row to `log`, whose AUTOINCREMENT id is the
 * revision (AUTOINCREMENT so that ids are never reused after compaction deletes the
 * newest rows of a key). `cur` maps each live key to its newest log row, so get/list at
 * the latest revision read one index; reads at older revisions take, per key, the newest
 * log row at or below the revision. `meta` holds the compaction point.
 *
 * All writes go through one writer thread that drains the whole request queue into a
 * single transaction and commits it with one fsync (group commit): with synchronous=FULL
 * in WAL mode every acknowledged write is on disk, yet thousands of concurrent writers
 * share each fsync. Readers take a connection from a small pool; WAL readers never block
 * the writer. Watches poll the log from their position each time the writer publishes a
 * new committed revision, so replay and live delivery are the same code path and can
 * neither skip nor repeat a revision.
 */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/coro.h"
#include "lib/macro.h"
#include "store/backend.h"
#include "store/store.h"

#define N_READERS 4
#define WATCH_BATCH 512
#define SWEEP_INTERVAL_MS 1000

enum write_type { WRITE_CREATE, WRITE_UPDATE, WRITE_DELETE, WRITE_COMPACT, WRITE_SWEEP };

struct write_req {
  enum write_type type;
  const char *key;
  const char *value;
  size_t len;
  int64_t expected_rev; /* WRITE_COMPACT: the compaction revision */
  int64_t ttl;
  bool want_prev;
  /* results, written by the writer thread */
  int r;
  int64_t rev;
  struct store_kv prev;
  bool done;
  struct coro *co; /* the waiting coroutine, or NULL: the waiting thread's cond */
  pthread_cond_t cond;
  struct write_req *next;
};

struct sqlite_store {
  struct store base;
  char *path;

  /* writer side: only the writer thread touches wdb and the statements */
  sqlite3 *wdb;
  sqlite3_stmt *st_cur, *st_ins, *st_cur_put, *st_cur_del, *st_expired;
  int64_t next_rev;
  pthread_t writer;
  bool writer_started;

  pthread_mutex_t qlock;
  pthread_cond_t qcond;
  struct write_req *qhead, **qtail;
  bool closing;

  pthread_t sweeper;
  bool sweeper_started;
  pthread_mutex_t sweep_lock;
  pthread_cond_t sweep_cond;
  bool sweep_stop;

  pthread_mutex_t plock;
  pthread_cond_t pcond;
  sqlite3 *readers[N_READERS];
  bool reader_busy[N_READERS];

  /* publication of commits to watches */
  pthread_mutex_t clock;
  pthread_cond_t ccond;
  int64_t committed_rev;
  int64_t compact_rev;
  bool stopping;
  struct store_watch *watches;
};

struct store_watch {
  struct sqlite_store *s;
  char *prefix;
  char *prefix_end; /* NULL: no upper bound */
  int64_t pos;      /* every revision <= pos has been looked at */
  store_watch_cb cb;
  void *userdata;
  pthread_t thread;
  bool cancel;      /* under s->clock */
  bool self_cancel; /* cancelled from its own callback: the thread frees itself */
  struct store_watch *next;
};

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS log("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " key TEXT NOT NULL,"
    " value BLOB,"
    " create_rev INTEGER NOT NULL,"
    " prev_rev INTEGER NOT NULL,"
    " deleted INTEGER NOT NULL,"
    " expires INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS log_key_id ON log(key, id);"
    "CREATE TABLE IF NOT EXISTS cur("
    " key TEXT PRIMARY KEY,"
    " rev INTEGER NOT NULL,"
    " expires INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS cur_expires ON cur(expires) WHERE expires > 0;"
    "CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL);";

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int sql_err(int rc) {
  switch (rc & 0xff) {
  case SQLITE_OK:
  case SQLITE_DONE:
  case SQLITE_ROW:
    return 0;
  case SQLITE_NOMEM:
    return -ENOMEM;
  case SQLITE_CANTOPEN:
    return -ENOENT;
  case SQLITE_PERM:
  case SQLITE_READONLY:
    return -EACCES;
  default:
    return -EIO;
  }
}

static int exec_sql(sqlite3 *db, const char *sql) {
  return sql_err(sqlite3_exec(db, sql, NULL, NULL, NULL));
}

static void kv_fill(struct store_kv *kv, const char *key, const void *value, int value_len,
                    int64_t create_rev, int64_t mod_rev, bool has_value) {
  kv->key = xstrdup(key);
  if (has_value) {
    size_t n = value_len > 0 ? (size_t)value_len : 0;
    kv->value = xmalloc(n + 1);
    if (n)
      memcpy(kv->value, value, n);
    kv->value[n] = '\0';
    kv->value_len = n;
  } else {
    kv->value = NULL;
    kv->value_len = 0;
  }
  kv->create_rev = create_rev;
  kv->mod_rev = mod_rev;
}

static int open_conn(const char *path, bool writer, sqlite3 **ret) {
  sqlite3 *db = NULL;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  if (writer)
    flags |= SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path, &db, flags, NULL);
  if (rc != SQLITE_OK) {
    sqlite3_close(db);
    return sql_err(rc);
  }
  sqlite3_busy_timeout(db, 10000);
  int r = exec_sql(db, writer ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                              : "PRAGMA query_only=1;");
  if (r < 0) {
    sqlite3_close(db);
    return r;
  }
  *ret = db;
  return 0;
}

/* ---- reader pool ------------------------------------------------------------------ */

static int reader_get(struct sqlite_store *s) {
  pthread_mutex_lock(&s->plock);
  for (;;) {
    for (int i = 0; i < N_READERS; i++)
      if (!s->reader_busy[i]) {
        s->reader_busy[i] = true;
        pthread_mutex_unlock(&s->plock);
        return i;
      }
    pthread_cond_wait(&s->pcond, &s->plock);
  }
}

static void reader_put(struct sqlite_store *s, int i) {
  pthread_mutex_lock(&s->plock);
  s->reader_busy[i] = false;
  pthread_cond_signal(&s->pcond);
  pthread_mutex_unlock(&s->plock);
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret) {
  return sql_err(sqlite3_prepare_v2(db, sql, -1, ret, NULL));
}

/* NULL binds SQL NULL: the queries read "?n IS NULL" as "no upper bound". */
static void bind_text_or_null(sqlite3_stmt *st, int idx, const char *text) {
  if (text)
    sqlite3_bind_text(st, idx, text, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(st, idx);
}

/* Read statements are compiled once per connection and reused: SQLite keeps every
 * prepared statement on its connection, so the cache is that list. A statement is free
 * when it is not mid-step; release() resets it for the next user. */
static int prepare_cached(sqlite3 *db, const char *sql, sqlite3_stmt **ret) {
  for (sqlite3_stmt *st = sqlite3_next_stmt(db, NULL); st; st = sqlite3_next_stmt(db, st))
    if (!sqlite3_stmt_busy(st) && streq(sqlite3_sql(st), sql)) {
      *ret = st;
      return 0;
    }
  return prepare(db, sql, ret);
}

static void release(sqlite3_stmt *st) {
  if (!st)
    return;
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
}

/* A parameterless statement run through the cache (the writer's BEGIN, SAVEPOINT, ...). */
static int exec_cached(sqlite3 *db, const char *sql) {
  sqlite3_stmt *st = NULL;
  int r = prepare_cached(db, sql, &st);
  if (r < 0)
    return r;
  int rc = sqlite3_step(st);
  release(st);
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : (sql_err(rc) ?: -EIO);
}

static void close_conn(sqlite3 *db) {
  sqlite3_stmt *st;
  while ((st = sqlite3_next_stmt(db, NULL)))
    sqlite3_finalize(st);
  sqlite3_close(db);
}

/* Runs a one-shot statement whose only parameter ?1 is a revision. */
static int exec_with_rev(sqlite3 *db, const char *sql, int64_t rev) {
  sqlite3_stmt *st = NULL;
  int r = prepare(db, sql, &st);
  if (r < 0)
    return r;
  sqlite3_bind_int64(st, 1, rev);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? 0 : (sql_err(rc) ?: -EIO);
}

/* Reads the current and compacted revisions inside the caller's read transaction. */
static int read_revs(sqlite3 *db, int64_t *ret_cur, int64_t *ret_compact) {
  sqlite3_stmt *st = NULL;
  int r = prepare_cached(db,
                  "SELECT (SELECT seq FROM sqlite_sequence WHERE name='log'),"
                  " (SELECT value FROM meta WHERE name='compact_rev')",
                  &st);
  if (r < 0)
    return r;
  int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) {
    release(st);
    return sql_err(rc) ?: -EIO;
  }
  *ret_cur = sqlite3_column_int64(st, 0);
  *ret_compact = sqlite3_column_int64(st, 1);
  release(st);
  return 0;
}

/* ---- writer ----------------------------------------------------------------------- */

/* Looks up the live row of key: 1 and its revision/create revision (and value when
 * prev is set), 0 if absent. */
static int w_lookup(struct sqlite_store *s, const char *key, int64_t *ret_rev,
                    int64_t *ret_create, struct store_kv *prev) {
  sqlite3_stmt *st = s->st_cur;
  sqlite3_reset(st);
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_DONE)
    return 0;
  if (rc != SQLITE_ROW)
    return sql_err(rc) ?: -EIO;
  *ret_rev = sqlite3_column_int64(st, 0);
  *ret_create = sqlite3_column_int64(st, 1);
  if (prev)
    kv_fill(prev, key, sqlite3_column_blob(st, 2), sqlite3_column_bytes(st, 2), *ret_create,
            *ret_rev, true);
  sqlite3_reset(st);
  return 1;
}

static int w_append(struct sqlite_store *s, const char *key, const char *value, size_t len,
                    int64_t create_rev, int64_t prev_rev, bool deleted, int64_t expires) {
  int64_t rev = s->next_rev;
  sqlite3_stmt *st = s->st_ins;
  sqlite3_reset(st);
  sqlite3_bind_int64(st, 1, rev);
  sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
  if (deleted)
    sqlite3_bind_null(st, 3);
  else
    sqlite3_bind_blob64(st, 3, len ? value : "", len, SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, deleted ? 0 : create_rev ? create_rev : rev);
  sqlite3_bind_int64(st, 5, prev_rev);
  sqlite3_bind_int(st, 6, deleted);
  sqlite3_bind_int64(st, 7, expires);
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE)
    return sql_err(rc) ?: -EIO;

  st = deleted ? s->st_cur_del : s->st_cur_put;
  sqlite3_reset(st);
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  if (!deleted) {
    sqlite3_bind_int64(st, 2, rev);
    sqlite3_bind_int64(st, 3, expires);
  }
  rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE)
    return sql_err(rc) ?: -EIO;
  s->next_rev++;
  return 0;
}

static int w_delete(struct sqlite_store *s, struct write_req *q) {
  int64_t rev, create;
  int r = w_lookup(s, q->key, &rev, &create, q->want_prev ? &q->prev : NULL);
  if (r < 0)
    return r;
  if (r == 0)
    return -ENOENT;
  if (q->expected_rev && q->expected_rev != rev) {
    store_kv_clear(&q->prev);
    return -ESTALE;
  }
  q->rev = s->next_rev;
  r = w_append(s, q->key, NULL, 0, 0, rev, true, 0);
  if (r < 0)
    store_kv_clear(&q->prev);
  return r;
}

static int w_compact(struct sqlite_store *s, int64_t rev) {
  if (rev <= s->compact_rev)
    return -ERANGE;
  if (rev >= s->next_rev)
    return -EINVAL;
  /* A row goes when a newer row of the same key exists at or below the compaction point
   * (a list at any kept revision never reads it), and a tombstone goes too once it is
   * below the point: an absent key needs no row. */
  int r = exec_with_rev(s->wdb,
                        "DELETE FROM log WHERE id < ?1 AND (deleted = 1 OR id < (SELECT"
                        " max(l2.id) FROM log l2 WHERE l2.key = log.key AND l2.id <= ?1))",
                        rev);
  if (r < 0)
    return r;
  return exec_with_rev(s->wdb,
                       "INSERT INTO meta(name, value) VALUES('compact_rev', ?1)"
                       " ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                       rev);
}

static int w_sweep(struct sqlite_store *s) {
  struct {
    char *key;
    int64_t rev;
  } *due = NULL;
  size_t n = 0, cap = 0;
  sqlite3_stmt *st = s->st_expired;
  sqlite3_reset(st);
  sqlite3_bind_int64(st, 1, now_ms());
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (n == cap) {
      cap = cap ? cap * 2 : 16;
      due = xrealloc(due, cap * sizeof(*due));
    }
    due[n].key = xstrdup((const char *)sqlite3_column_text(st, 0));
    due[n].rev = sqlite3_column_int64(st, 1);
    n++;
  }
  sqlite3_reset(st);
  int r = rc == SQLITE_DONE ? 0 : (sql_err(rc) ?: -EIO);
  for (size_t i = 0; i < n; i++) {
    if (r == 0) {
      struct write_req q = {.type = WRITE_DELETE, .key = due[i].key,
                            .expected_rev = due[i].rev};
      int k = w_delete(s, &q);
      if (k < 0 && k != -ENOENT && k != -ESTALE)
        r = k;
    }
    free(due[i].key);
  }
  free(due);
  return r;
}

static int w_apply(struct sqlite_store *s, struct write_req *q) {
  int64_t rev = 0, create = 0;
  int r;
  int64_t expires = q->ttl > 0 ? now_ms() + q->ttl * 1000 : 0;

  switch (q->type) {
  case WRITE_CREATE:
    r = w_lookup(s, q->key, &rev, &create, NULL);
    if (r < 0)
      return r;
    if (r > 0)
      return -EEXIST;
    q->rev = s->next_rev;
    return w_append(s, q->key, q->value, q->len, 0, 0, false, expires);
  case WRITE_UPDATE:
    r = w_lookup(s, q->key, &rev, &create, NULL);
    if (r < 0)
      return r;
    if (r == 0)
      return -ENOENT;
    if (q->expected_rev && q->expected_rev != rev)
      return -ESTALE;
    q->rev = s->next_rev;
    return w_append(s, q->key, q->value, q->len, create, rev, false, expires);
  case WRITE_DELETE:
    return w_delete(s, q);
  case WRITE_COMPACT:
    return w_compact(s, q->expected_rev);
  case WRITE_SWEEP:
    return w_sweep(s);
  }
  return -EINVAL;
}

static int64_t db_seq(sqlite3 *db) {
  int64_t cur = 0, compact = 0;
  if (read_revs(db, &cur, &compact) < 0)
    return -1;
  return cur;
}

/* Runs one batch in one transaction. Requests that fail leave no trace thanks to their
 * savepoint; a failed COMMIT turns every success of the batch into -EIO. */
static void writer_run_batch(struct sqlite_store *s, struct write_req *batch) {
  int64_t start_rev = s->next_rev;
  int64_t compacted = 0;
  int r = exec_cached(s->wdb, "BEGIN IMMEDIATE");
  for (struct write_req *q = batch; q; q = q->next) {
    if (r < 0) {
      q->r = r;
      continue;
    }
    int64_t before = s->next_rev;
    if (exec_cached(s->wdb, "SAVEPOINT w") < 0) {
      q->r = -EIO;
      continue;
    }
    q->r = w_apply(s, q);
    if (q->r == -EIO || q->r == -ENOMEM || q->r == -EACCES) {
      exec_cached(s->wdb, "ROLLBACK TO w");
      s->next_rev = before;
    }
    exec_cached(s->wdb, "RELEASE w");
    if (q->r == 0 && q->type == WRITE_COMPACT)
      compacted = q->expected_rev;
  }
  if (r == 0 && exec_cached(s->wdb, "COMMIT") < 0) {
    exec_cached(s->wdb, "ROLLBACK");
    r = -EIO;
  }
  if (r < 0) {
    s->next_rev = start_rev;
    int64_t seq = db_seq(s->wdb);
    if (seq >= 0)
      s->next_rev = seq + 1;
    for (struct write_req *q = batch; q; q = q->next)
      if (q->r == 0) {
        q->r = -EIO;
        store_kv_clear(&q->prev);
      }
  }

  pthread_mutex_lock(&s->clock);
  if (r == 0) {
    s->committed_rev = s->next_rev - 1;
    if (compacted)
      s->compact_rev = compacted;
    pthread_cond_broadcast(&s->ccond);
  }
  pthread_mutex_unlock(&s->clock);
}

static void *writer_main(void *arg) {
  struct sqlite_store *s = arg;
  pthread_mutex_lock(&s->qlock);
  for (;;) {
    while (!s->qhead && !s->closing)
      pthread_cond_wait(&s->qcond, &s->qlock);
    if (!s->qhead)
      break;
    struct write_req *batch = s->qhead;
    s->qhead = NULL;
    s->qtail = &s->qhead;
    pthread_mutex_unlock(&s->qlock);

    writer_run_batch(s, batch);

    /* Threads wait on their condition under qlock; coroutines are woken after it is
     * released, so queuing writers do not stall behind the wake-ups. q lives on its
     * waiter's stack: it is not touched once its waiter may run again. */
    struct write_req *wake = NULL;
    pthread_mutex_lock(&s->qlock);
    for (struct write_req *q = batch, *next; q; q = next) {
      next = q->next;
      if (q->co) {
        q->next = wake;
        wake = q;
        continue;
      }
      q->done = true;
      pthread_cond_signal(&q->cond);
    }
    pthread_mutex_unlock(&s->qlock);
    for (struct write_req *q = wake, *next; q; q = next) {
      next = q->next;
      coro_wake(q->co);
    }
    pthread_mutex_lock(&s->qlock);
  }
  pthread_mutex_unlock(&s->qlock);
  return NULL;
}

static void writer_kick(void *arg) {
  struct sqlite_store *s = arg;
  pthread_mutex_lock(&s->qlock);
  pthread_cond_signal(&s->qcond);
  pthread_mutex_unlock(&s->qlock);
}

/* Queues a write for the writer thread and waits for its batch to commit. A coroutine
 * (an API request on the HTTP loop) suspends meanwhile, so its thread serves other
 * requests and their writes join the same batch; a plain thread blocks. */
static int submit(struct sqlite_store *s, struct write_req *q) {
  q->co = coro_waitable();
  if (!q->co)
    pthread_cond_init(&q->cond, NULL);
  q->next = NULL;
  q->done = false;
  pthread_mutex_lock(&s->qlock);
  if (s->closing) {
    pthread_mutex_unlock(&s->qlock);
    if (!q->co)
      pthread_cond_destroy(&q->cond);
    return -ECANCELED;
  }
  *s->qtail = q;
  s->qtail = &q->next;
  if (q->co) {
    pthread_mutex_unlock(&s->qlock);
    /* The writer is woken once the loop has run every request it has at hand, so
     * their writes share one commit. */
    coro_defer(writer_kick, s);
    coro_suspend();
    return q->r;
  }
  pthread_cond_signal(&s->qcond);
  while (!q->done)
    pthread_cond_wait(&q->cond, &s->qlock);
  pthread_mutex_unlock(&s->qlock);
  pthread_cond_destroy(&q->cond);
  return q->r;
}

static int submit_put(struct sqlite_store *s, struct write_req *q, int64_t *ret_rev) {
  int r = submit(s, q);
  if (r < 0)
    return r;
  if (ret_rev)
    *ret_rev = q->rev;
  return 0;
}

static void *sweeper_main(void *arg) {
  struct sqlite_store *s = arg;
  pthread_mutex_lock(&s->sweep_lock);
  while (!s->sweep_stop) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += SWEEP_INTERVAL_MS / 1000;
    pthread_cond_timedwait(&s->sweep_cond, &s->sweep_lock, &ts);
    if (s->sweep_stop)
      break;
    pthread_mutex_unlock(&s->sweep_lock);
    struct write_req q = {.type = WRITE_SWEEP};
    (void)submit(s, &q);
    pthread_mutex_lock(&s->sweep_lock);
  }
  pthread_mutex_unlock(&s->sweep_lock);
  return NULL;
}

/* ---- store ops -------------------------------------------------------------------- */

static int sq_create(struct store *base, const char *key, const char *value, size_t len,
                     int64_t ttl_seconds, int64_t *ret_rev) {
  struct sqlite_store *s = (struct sqlite_store *)base;
  if (store_check_write(key, value, len, 0, ttl_seconds) < 0)
    return -EINVAL;
  struct write_req q = {.type = WRITE_CREATE, .key = key, .value = value, .len = len,
                        .ttl = ttl_seconds};
  return submit_put(s, &q, ret_rev);
}

static int sq_update(struct store *base, const char *key, const char *value, size_t len,
                     int64_t expected_rev, int64_t ttl_seconds, int64_t *ret_rev) {
  struct sqlite_store *s = (struct sqlite_store *)base;
  if (store_check_write(key, value, len, expected_rev, ttl_seconds) < 0)
    return -EINVAL;
  struct write_req q = {.type = WRITE_UPDATE, .key = key, .value = value, .len = len,
                        .expected_rev = expected_rev, .ttl = ttl_seconds};
  return submit_put(s, &q, ret_rev);
}

static int sq_delete(struct store *base, const char *key, int64_t expected_rev,
                     struct store_kv *ret_prev, int64_t *ret_rev) {
  struct sqlite_store *s = (struct sqlite_store *)base;
  if (store_check_write(key, NULL, 0, expected_rev, 0) < 0)
    return -EINVAL;
  struct write_req q = {.type = WRITE_DELETE, .key = key, .expected_rev = expected_rev,
                        .want_prev = ret_prev != NULL};
  int r = submit(s, &q);
  if (r < 0)
    return r;
  if (ret_prev)
    *ret_prev = q.prev;
  if (ret_rev)
    *ret_rev = q.rev;
  return 0;
}

static int sq_compact(struct store *base, int64_t rev) {
  struct sqlite_store *s = (struct sqlite_store *)base;
  if (rev <= 0)
    return -EINVAL;
  struct write_req q = {.type = WRITE_COMPACT, .expected_rev = rev};
  return submit(s, &q);
}

static int sq_get(struct store *base, const char *key, struct store_kv *ret) {
  struct sqlite_store *s = (struct sqlite_store *)base;
  if (store_check_write(key, NULL, 0, 0, 0) < 0)
    return -EINVAL;
  int ri = reader_get(s);
  sqlite3 *db = s->readers[ri];
  sqlite3_stmt *st = NULL;
  int r = prepare_cached(db,
                         "SELECT l.id, l.value, l.create_rev FROM cur c JOIN log l ON l.id = c.rev"
                         " WHERE c.key = ?1",
                         &st);
  if (r == 0) {
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      kv_fill(ret, key, sqlite3_column_blob(st, 1), sqlite3_column_bytes(st, 1),
              sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 0), true);
    } else
      r = rc == SQLITE_DONE ? -ENOENT : (sql_err(rc) ?: -EIO);
  }
  release(st);
  reader_put(s, ri);
  return r;
}

static int sq_list_locked(sqlite3 *db, const char *prefix, int64_t rev, const char *start_after,
                          size_t limit, struct store_list *out) {
  int64_t cur, compact;
  int r = read_revs(db, &cur, &compact);
  if (r < 0)
    return r;
  if (rev > cur)
    return -EINVAL;
  if (rev > 0 && rev < compact)
    return -ERANGE;
  bool latest = rev == 0 || rev == cur;
  if (rev == 0)
    rev = cur;

  _cleanup_free_ char *end = store_prefix_end(prefix);
  sqlite3_stmt *st = NULL;
  r = prepare_cached(db,
              latest ? "SELECT l.id, l.key, l.value, l.create_rev FROM cur c"
                       " JOIN log l ON l.id = c.rev"
                       " WHERE c.key >= ?1 AND (?2 IS NULL OR c.key < ?2) AND c.key > ?3"
                       " ORDER BY c.key LIMIT ?5"
                     : "SELECT l.id, l.key, l.value, l.create_rev FROM"
                       " (SELECT max(id) AS mid FROM log WHERE key >= ?1"
                       "  AND (?2 IS NULL OR key < ?2) AND key > ?3 AND id <= ?4"
                       "  GROUP BY key) m"
                       " JOIN log l ON l.id = m.mid WHERE l.deleted = 0"
                       " ORDER BY l.key LIMIT ?5",
              &st);
  if (r < 0)
    return r;
  sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
  bind_text_or_null(st, 2, end);
  sqlite3_bind_text(st, 3, start_after ? start_after : "", -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, rev);
  sqlite3_bind_int64(st, 5, limit ? (int64_t)limit + 1 : -1);

  size_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (limit && out->n_items == limit) {
      out->more = true;
      break;
    }
    if (out->n_items == cap) {
      cap = cap ? cap * 2 : 16;
      out->items = xrealloc(out->items, cap * sizeof(*out->items));
    }
    kv_fill(&out->items[out->n_items++], (const char *)sqlite3_column_text(st, 1),
            sqlite3_column_blob(st, 2), sqlite3_column_bytes(st, 2), sqlite3_column_int64(st, 3),
            sqlite3_column_int64(st, 0), true);
  }
  release(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return sql_err(rc) ?: -EIO;
  out->rev = rev;
  return 0;
}

static int sq_list(struct store *base, const char *prefix, int64_t rev, const char *start_after,
                   size_t limit, struct store_list *ret) {
  struct sqlite_store *s = (struct sqlite_store *)base;
  if (store_check_list(prefix, rev, start_after) < 0)
    return -EINVAL;
  struct store_list out = {0};
  int ri = reader_get(s);
  sqlite3 *db = s->readers[ri];
  int r = exec_cached(db, "BEGIN");
  if (r == 0) {
    r = sq_list_locked(db, prefix, rev, start_after, limit, &out);
    exec_cached(db, "COMMIT");
  }
  reader_put(s, ri);
  if (r < 0) {
    store_list_clear(&out);
    return r;
  }
  *ret = out;
  return 0;
}

static int sq_count(struct store *base, const char *prefix, int64_t *ret_count) {
  struct sqlite_store *s = (struct sqlite_store *)base;
  if (!prefix)
    return -EINVAL;
  _cleanup_free_ char *end = store_prefix_end(prefix);
  int ri = reader_get(s);
  sqlite3_stmt *st = NULL;
  int r = prepare_cached(s->readers[ri],
                         "SELECT count(*) FROM cur WHERE key >= ?1 AND (?2 IS NULL OR key < ?2)",
                         &st);
  if (r == 0) {
    sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
    bind_text_or_null(st, 2, end);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
      *ret_count = sqlite3_column_int64(st, 0);
    else
      r = sql_err(rc) ?: -EIO;
  }
  release(st);
  reader_put(s, ri);
  return r;
}

static int sq_current_rev(struct store *base, int64_t *ret_rev) {
  struct sqlite_store *s = (struct sqlite_store *)base;
  pthread_mutex_lock(&s->clock);
  *ret_rev = s->committed_rev;
  pthread_mutex_unlock(&s->clock);
  return 0;
}

static int sq_compacted_rev(struct store *base, int64_t *ret_rev) {
  struct sqlite_store *s = (struct sqlite_store *)base;
  pthread_mutex_lock(&s->clock);
  *ret_rev = s->compact_rev;
  pthread_mutex_unlock(&s->clock);
  return 0;
}

/* ---- watch ------------------------------------------------------------------------ */

struct watch_batch {
  struct store_event *evs;
  size_t n;
  int64_t pos;
};

static void watch_batch_clear(struct watch_batch *b) {
  for (size_t i = 0; i < b->n; i++) {
    store_kv_clear(&b->evs[i].kv);
    store_kv_clear(&b->evs[i].prev);
  }
  free(b->evs);
  *b = (struct watch_batch){0};
}

/* Reads the next events after w->pos from one snapshot. */
static int watch_read(struct store_watch *w, sqlite3 *db, struct watch_batch *b) {
  int64_t cur, compact;
  int r = read_revs(db, &cur, &compact);
  if (r < 0)
    return r;
  if (w->pos < compact)
    return -ERANGE;
  sqlite3_stmt *st = NULL;
  r = prepare_cached(db,
              "SELECT l.id, l.key, l.value, l.create_rev, l.deleted,"
              " p.id, p.value, p.create_rev"
              " FROM log l LEFT JOIN log p ON p.id = l.prev_rev AND l.prev_rev > 0"
              " WHERE l.id > ?1 AND l.key >= ?2 AND (?3 IS NULL OR l.key < ?3)"
              " ORDER BY l.id LIMIT ?4",
              &st);
  if (r < 0)
    return r;
  sqlite3_bind_int64(st, 1, w->pos);
  sqlite3_bind_text(st, 2, w->prefix, -1, SQLITE_STATIC);
  bind_text_or_null(st, 3, w->prefix_end);
  sqlite3_bind_int(st, 4, WATCH_BATCH);
  b->evs = xcalloc(WATCH_BATCH, sizeof(*b->evs));
  int rc;
  int64_t last = w->pos;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    struct store_event *ev = &b->evs[b->n++];
    const char *key = (const char *)sqlite3_column_text(st, 1);
    bool deleted = sqlite3_column_int(st, 4);
    last = sqlite3_column_int64(st, 0);
    ev->type = deleted ? STORE_EVENT_DELETE : STORE_EVENT_PUT;
    kv_fill(&ev->kv, key, sqlite3_column_blob(st, 2), sqlite3_column_bytes(st, 2),
            deleted ? 0 : sqlite3_column_int64(st, 3), last, !deleted);
    if (sqlite3_column_type(st, 5) != SQLITE_NULL)
      kv_fill(&ev->prev, key, sqlite3_column_blob(st, 6), sqlite3_column_bytes(st, 6),
              sqlite3_column_int64(st, 7), sqlite3_column_int64(st, 5), true);
  }
  release(st);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    return sql_err(rc) ?: -EIO;
  b->pos = b->n == WATCH_BATCH ? last : (cur > last ? cur : last);
  return 0;
}

static void watch_free(struct store_watch *w) {
  free(w->prefix);
  free(w->prefix_end);
  free(w);
}

static void *watch_main(void *arg) {
  struct store_watch *w = arg;
  struct sqlite_store *s = w->s;
  int err = 0;

  for (;;) {
    pthread_mutex_lock(&s->clock);
    while (!w->cancel && !s->stopping && s->committed_rev <= w->pos)
      pthread_cond_wait(&s->ccond, &s->clock);
    bool cancel = w->cancel, stopping = s->stopping;
    pthread_mutex_unlock(&s->clock);
    if (cancel)
      break;
    if (stopping) {
      err = -ECANCELED;
      break;
    }

    struct watch_batch b = {0};
    int ri = reader_get(s);
    sqlite3 *db = s->readers[ri];
    int r = exec_cached(db, "BEGIN");
    if (r == 0) {
      r = watch_read(w, db, &b);
      exec_cached(db, "COMMIT");
    }
    reader_put(s, ri);
    if (r < 0) {
      watch_batch_clear(&b);
      err = r;
      break;
    }
    bool stop = false;
    for (size_t i = 0; i < b.n && !stop; i++) {
      if (w->cb(&b.evs[i], 0, w->userdata) < 0)
        stop = true;
      else {
        pthread_mutex_lock(&s->clock);
        stop = w->cancel;
        pthread_mutex_unlock(&s->clock);
      }
    }
    w->pos = b.pos;
    watch_batch_clear(&b);
    if (stop)
      break;
  }

  pthread_mutex_lock(&s->clock);
  bool cancelled = w->cancel;
  bool self = w->self_cancel;
  pthread_mutex_unlock(&s->clock);
  if (err && !cancelled)
    w->cb(NULL, err, w->userdata);
  if (self) {
    watch_free(w);
  }
  return NULL;
}

static int sq_watch(struct store *base, const char *prefix, int64_t from_rev, store_watch_cb cb,
                    void *userdata, struct store_watch **ret) {
  struct sqlite_store *s = (struct sqlite_store *)base;
  if (store_check_watch(prefix, from_rev, cb) < 0)
    return -EINVAL;
  struct store_watch *w = xcalloc(1, sizeof(*w));
  w->s = s;
  w->prefix = xstrdup(prefix);
  w->prefix_end = store_prefix_end(prefix);
  w->cb = cb;
  w->userdata = userdata;

  pthread_mutex_lock(&s->clock);
  int r = 0;
  if (s->stopping)
    r = -ECANCELED;
  else if (from_rev > 0 && from_rev < s->compact_rev)
    r = -ERANGE;
  if (r < 0) {
    pthread_mutex_unlock(&s->clock);
    watch_free(w);
    return r;
  }
  w->pos = from_rev ? from_rev : s->committed_rev;
  if (pthread_create(&w->thread, NULL, watch_main, w) != 0) {
    pthread_mutex_unlock(&s->clock);
    watch_free(w);
    return -EAGAIN;
  }
  w->next = s->watches;
  s->watches = w;
  pthread_mutex_unlock(&s->clock);
  *ret = w;
  return 0;
}

static void sq_watch_cancel(struct store_watch *w) {
  struct sqlite_store *s = w->s;
  pthread_mutex_lock(&s->clock);
  for (struct store_watch **p = &s->watches; *p; p = &(*p)->next)
    if (*p == w) {
      *p = w->next;
      break;
    }
  w->cancel = true;
  bool self = pthread_equal(pthread_self(), w->thread);
  w->self_cancel = self;
  pthread_cond_broadcast(&s->ccond);
  pthread_mutex_unlock(&s->clock);
  store_watch_reap(w, w->thread, self, watch_free);
}

/* ---- open / close ----------------------------------------------------------------- */

static void sq_free(struct sqlite_store *s) {
  sqlite3_finalize(s->st_cur);
  sqlite3_finalize(s->st_ins);
  sqlite3_finalize(s->st_cur_put);
  sqlite3_finalize(s->st_cur_del);
  sqlite3_finalize(s->st_expired);
  for (int i = 0; i < N_READERS; i++)
    close_conn(s->readers[i]);
  close_conn(s->wdb);
  pthread_mutex_destroy(&s->qlock);
  pthread_cond_destroy(&s->qcond);
  pthread_mutex_destroy(&s->sweep_lock);
  pthread_cond_destroy(&s->sweep_cond);
  pthread_mutex_destroy(&s->plock);
  pthread_cond_destroy(&s->pcond);
  pthread_mutex_destroy(&s->clock);
  pthread_cond_destroy(&s->ccond);
  free(s->path);
  free(s);
}

static void sq_close(struct store *base) {
  struct sqlite_store *s = (struct sqlite_store *)base;

  pthread_mutex_lock(&s->clock);
  s->stopping = true;
  pthread_cond_broadcast(&s->ccond);
  struct store_watch *ws = s->watches;
  s->watches = NULL;
  pthread_mutex_unlock(&s->clock);
  for (struct store_watch *w = ws, *next; w; w = next) {
    next = w->next;
    pthread_join(w->thread, NULL);
    watch_free(w);
  }

  if (s->sweeper_started) {
    pthread_mutex_lock(&s->sweep_lock);
    s->sweep_stop = true;
    pthread_cond_signal(&s->sweep_cond);
    pthread_mutex_unlock(&s->sweep_lock);
    pthread_join(s->sweeper, NULL);
  }
  if (s->writer_started) {
    pthread_mutex_lock(&s->qlock);
    s->closing = true;
    pthread_cond_signal(&s->qcond);
    pthread_mutex_unlock(&s->qlock);
    pthread_join(s->writer, NULL);
  }
  sq_free(s);
}

static int mkdir_p(const char *dir, mode_t mode) {
  _cleanup_free_ char *p = xstrdup(dir);
  for (char *c = p + 1; *c; c++) {
    if (*c != '/')
      continue;
    *c = '\0';
    if (mkdir(p, mode) < 0 && errno != EEXIST)
      return -errno;
    *c = '/';
  }
  if (mkdir(p, mode) < 0 && errno != EEXIST)
    return -errno;
  return 0;
}

/* SQLite's memory statistics take one process-wide mutex on every allocation, which
 * the writer, the readers and the watches would all contend for. Must precede any use. */
static void sqlite_config_once(void) { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }

static int sq_open(const char *endpoint, const char *data_dir, struct store **ret) {
  _cleanup_free_ char *path = NULL;
  _cleanup_free_ char *dir = NULL;
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, sqlite_config_once);

  if (endpoint && startswith(endpoint, "sqlite://")) {
    const char *p = endpoint + strlen("sqlite://");
    if (p[0] != '/' || !p[1])
      return -EINVAL;
    path = xstrdup(p);
    dir = xstrdup(p);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
      slash[1] = '\0';
    else
      *slash = '\0';
  } else {
    if (!data_dir || !data_dir[0])
      return -EINVAL;
    dir = xasprintf("%s/db", data_dir);
    path = xasprintf("%s/state.db", dir);
  }
  int r = mkdir_p(dir, 0700);
  if (r < 0)
    return r;

  struct sqlite_store *s = xcalloc(1, sizeof(*s));
  s->base.ops = &store_sqlite_ops;
  s->path = TAKE_PTR(path);
  s->qtail = &s->qhead;
  pthread_mutex_init(&s->qlock, NULL);
  pthread_cond_init(&s->qcond, NULL);
  pthread_mutex_init(&s->sweep_lock, NULL);
  pthread_cond_init(&s->sweep_cond, NULL);
  pthread_mutex_init(&s->plock, NULL);
  pthread_cond_init(&s->pcond, NULL);
  pthread_mutex_init(&s->clock, NULL);
  pthread_cond_init(&s->ccond, NULL);

  r = open_conn(s->path, true, &s->wdb);
  if (r < 0)
    goto fail;
  (void)chmod(s->path, 0600);
  r = exec_sql(s->wdb, schema_sql);
  if (r < 0)
    goto fail;
  int64_t cur = 0, compact = 0;
  r = read_revs(s->wdb, &cur, &compact);
  if (r < 0)
    goto fail;
  s->next_rev = cur + 1;
  s->committed_rev = cur;
  s->compact_rev = compact;

  if ((r = prepare(s->wdb,
                   "SELECT c.rev, l.create_rev, l.value FROM cur c JOIN log l ON l.id = c.rev"
                   " WHERE c.key = ?1",
                   &s->st_cur)) < 0 ||
      (r = prepare(s->wdb,
                   "INSERT INTO log(id, key, value, create_rev, prev_rev, deleted, expires)"
                   " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                   &s->st_ins)) < 0 ||
      (r = prepare(s->wdb,
                   "INSERT INTO cur(key, rev, expires) VALUES(?1, ?2, ?3) ON CONFLICT(key)"
                   " DO UPDATE SET rev = excluded.rev, expires = excluded.expires",
                   &s->st_cur_put)) < 0 ||
      (r = prepare(s->wdb, "DELETE FROM cur WHERE key = ?1", &s->st_cur_del)) < 0 ||
      (r = prepare(s->wdb, "SELECT key, rev FROM cur WHERE expires > 0 AND expires <= ?1",
                   &s->st_expired)) < 0)
    goto fail;

  for (int i = 0; i < N_READERS; i++) {
    r = open_conn(s->path, false, &s->readers[i]);
    if (r < 0)
      goto fail;
    /* A connection opens the WAL and shared-memory files at its first read: do that now,
     * so the store's file descriptors are all open from the start (and a later count of
     * them means something). */
    int64_t cur, compact;
    if (exec_cached(s->readers[i], "BEGIN") == 0) {
      read_revs(s->readers[i], &cur, &compact);
      exec_cached(s->readers[i], "COMMIT");
    }
  }

  if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
    r = -EAGAIN;
    goto fail;
  }
  s->writer_started = true;
  if (pthread_create(&s->sweeper, NULL, sweeper_main, s) != 0) {
    r = -EAGAIN;
    sq_close(&s->base);
    return r;
  }
  s->sweeper_started = true;
  *ret = &s->base;
  return 0;

fail:
  sq_free(s);
  return r;
}

const struct store_ops store_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .get = sq_get,
    .create = sq_create,
    .update = sq_update,
    .delete = sq_delete,
    .list = sq_list,
    .count = sq_count,
    .watch = sq_watch,
    .watch_cancel = sq_watch_cancel,
    .current_rev = sq_current_rev,
    .compact = sq_compact,
    .compacted_rev = sq_compacted_rev,
};
