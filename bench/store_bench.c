/* store_bench — durable creates per second through the store with N concurrent writers,
 * side by side with raw SQLite doing one durable (fsync'd) insert per transaction in the
 * same run and on the same disk.
 *
 *   store_bench [threads=64] [creates=20000] [dir=/tmp] [endpoint=sqlite]
 *
 * Build: cc -O2 -D_GNU_SOURCE -Isrc bench/store_bench.c <build>/libckube.a \
 *          $(pkg-config --libs sqlite3 libcurl jansson) -lpthread -o store_bench
 */
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/macro.h"
#include "store/store.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *f) {
  return remove(path);
}

struct worker {
  struct store *s;
  int run;
  int id;
  long n;
  long failed;
};

static const char value[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"bench\","
    "\"namespace\":\"default\"},\"data\":{\"key\":\"a value of a typical small size\"}}";

static void *worker_main(void *p) {
  struct worker *w = p;
  for (long i = 0; i < w->n; i++) {
    char key[96];
    snprintf(key, sizeof(key), "/registry/configmaps/bench%d/w%d-%ld", w->run, w->id, i);
    if (store_create(w->s, key, value, sizeof(value) - 1, 0, NULL) < 0)
      w->failed++;
  }
  return NULL;
}

static double bench_store(const char *endpoint, const char *dir, int threads, long total,
                          long *ret_failed) {
  static int run;
  run++;
  struct store *s = NULL;
  char *err = NULL;
  if (store_open(endpoint, dir, &s, &err) < 0) {
    fprintf(stderr, "store_open: %s\n", err);
    free(err);
    exit(1);
  }
  struct worker *ws = xcalloc((size_t)threads, sizeof(*ws));
  pthread_t *th = xcalloc((size_t)threads, sizeof(*th));
  double t0 = now_s();
  for (int i = 0; i < threads; i++) {
    ws[i] = (struct worker){.s = s, .run = run, .id = i, .n = total / threads};
    pthread_create(&th[i], NULL, worker_main, &ws[i]);
  }
  long failed = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(th[i], NULL);
    failed += ws[i].failed;
  }
  double dt = now_s() - t0;
  store_close(s);
  free(ws);
  free(th);
  *ret_failed = failed;
  return (double)(total / threads * threads) / dt;
}

static double bench_raw_sqlite(const char *dir, long n) {
  char *path = xasprintf("%s/raw.db", dir);
  sqlite3 *db = NULL;
  if (sqlite3_open(path, &db) != SQLITE_OK)
    exit(1);
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
               "CREATE TABLE kv(id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT, value BLOB);",
               NULL, NULL, NULL);
  sqlite3_stmt *st = NULL;
  sqlite3_prepare_v2(db, "INSERT INTO kv(key, value) VALUES(?1, ?2)", -1, &st, NULL);
  double t0 = now_s();
  for (long i = 0; i < n; i++) {
    char key[64];
    snprintf(key, sizeof(key), "/registry/configmaps/raw/%ld", i);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 2, value, sizeof(value) - 1, SQLITE_STATIC);
    sqlite3_step(st);
    sqlite3_reset(st);
  }
  double dt = now_s() - t0;
  sqlite3_finalize(st);
  sqlite3_close(db);
  free(path);
  return (double)n / dt;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 64;
  long total = argc > 2 ? atol(argv[2]) : 20000;
  const char *base = argc > 3 ? argv[3] : "/tmp";
  const char *endpoint = argc > 4 ? argv[4] : "";
  if (threads < 1 || total < threads) {
    fprintf(stderr, "usage: store_bench [threads] [creates] [dir] [endpoint]\n");
    return 2;
  }
  char *dir = xasprintf("%s/ckube-store-bench-XXXXXX", base);
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }

  long failed = 0, failed1 = 0;
  double store_rate = bench_store(endpoint, dir, threads, total, &failed);
  double one_rate = bench_store(endpoint, dir, 1, total / 10 > 0 ? total / 10 : 1, &failed1);
  failed += failed1;
  long raw_n = total / 10 > 0 ? total / 10 : 1;
  double raw_rate = bench_raw_sqlite(dir, raw_n);

  printf("store (%s), %d writers:  %10.0f durable creates/s (%ld failed)\n",
         endpoint[0] ? endpoint : "sqlite", threads, store_rate, failed);
  printf("store (%s), 1 writer:    %10.0f durable creates/s\n",
         endpoint[0] ? endpoint : "sqlite", one_rate);
  printf("raw SQLite, 1 fsync per insert: %10.0f inserts/s (%ld inserts)\n", raw_rate, raw_n);
  printf("group commit speed-up over raw: %.1fx\n", store_rate / raw_rate);

  nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
  free(dir);
  return failed ? 1 : 0;
}
