/* Store conformance suite: the same tests run against the SQLite backend (a fresh data
 * dir per test) and against a 3-member etcd cluster on loopback that the suite starts,
 * plus SQLite-only reopen and kill -9 durability tests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/macro.h"
#include "store/store.h"

#define ETCD_BIN "/usr/bin/etcd"
#define N_MEMBERS 3

struct fx {
  struct store *s;
  char *dir; /* SQLite data dir, removed at teardown */
  char prefix[96];
  bool etcd;
};

static char *etcd_endpoints;
static char *etcd_tmp;
static pid_t etcd_pids[N_MEMBERS];
static int fx_counter;

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *f) {
  return remove(path);
}

static void rm_rf(const char *dir) {
  if (dir)
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static char *key_of(struct fx *f, const char *suffix) {
  return xasprintf("%s%s", f->prefix, suffix);
}

/* ---- fixtures --------------------------------------------------------------------- */

static int open_fx(struct fx *f) {
  char *err = NULL;
  int r = store_open(f->etcd ? etcd_endpoints : "", f->dir, &f->s, &err);
  if (r < 0) {
    fprintf(stderr, "store_open: %s\n", err ? err : "?");
    free(err);
  }
  return r;
}

static int setup_sqlite(void **state) {
  struct fx *f = xcalloc(1, sizeof(*f));
  char tmpl[] = "/tmp/ckube-store-test-XXXXXX";
  if (!mkdtemp(tmpl))
    return -1;
  f->dir = xstrdup(tmpl);
  snprintf(f->prefix, sizeof(f->prefix), "/registry/t%d/", ++fx_counter);
  if (open_fx(f) < 0)
    return -1;
  *state = f;
  return 0;
}

static int setup_etcd(void **state) {
  if (!etcd_endpoints)
    return -1;
  struct fx *f = xcalloc(1, sizeof(*f));
  f->etcd = true;
  snprintf(f->prefix, sizeof(f->prefix), "/registry/t%d-%d/", ++fx_counter, (int)getpid());
  if (open_fx(f) < 0)
    return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fx *f = *state;
  if (!f)
    return 0;
  store_close(f->s);
  rm_rf(f->dir);
  free(f->dir);
  free(f);
  return 0;
}

/* ---- etcd cluster ----------------------------------------------------------------- */

static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof(a);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
      getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
    if (fd >= 0)
      close(fd);
    return -1;
  }
  close(fd);
  return ntohs(a.sin_port);
}

static size_t sink(char *p, size_t sz, size_t n, void *ud) {
  char *buf = ud;
  size_t have = strlen(buf), add = sz * n;
  if (have + add < 255) {
    memcpy(buf + have, p, add);
    buf[have + add] = '\0';
  }
  return sz * n;
}

static bool member_healthy(int port) {
  CURL *c = curl_easy_init();
  char url[64], body[256] = "";
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/health", port);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 1000L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, (void *)body);
  CURLcode rc = curl_easy_perform(c);
  curl_easy_cleanup(c);
  return rc == CURLE_OK && strstr(body, "\"true\"");
}

static void etcd_stop(void) {
  for (int i = 0; i < N_MEMBERS; i++)
    if (etcd_pids[i] > 0) {
      kill(etcd_pids[i], SIGKILL);
      waitpid(etcd_pids[i], NULL, 0);
      etcd_pids[i] = 0;
    }
  rm_rf(etcd_tmp);
  free(etcd_tmp);
  etcd_tmp = NULL;
  free(etcd_endpoints);
  etcd_endpoints = NULL;
}

static int etcd_start(void **state) {
  if (access(ETCD_BIN, X_OK) < 0) {
    fprintf(stderr, "%s is missing: the etcd suite cannot run\n", ETCD_BIN);
    return -1;
  }
  char tmpl[] = "/tmp/ckube-etcd-test-XXXXXX";
  if (!mkdtemp(tmpl))
    return -1;
  etcd_tmp = xstrdup(tmpl);

  int client[N_MEMBERS], peer[N_MEMBERS];
  for (int i = 0; i < N_MEMBERS; i++) {
    client[i] = free_port();
    peer[i] = free_port();
  }
  char cluster[512] = "", endpoints[256] = "";
  for (int i = 0; i < N_MEMBERS; i++) {
    size_t n = strlen(cluster), m = strlen(endpoints);
    snprintf(cluster + n, sizeof(cluster) - n, "%sm%d=http://127.0.0.1:%d", i ? "," : "", i,
             peer[i]);
    snprintf(endpoints + m, sizeof(endpoints) - m, "%shttp://127.0.0.1:%d", i ? "," : "",
             client[i]);
  }
  etcd_endpoints = xstrdup(endpoints);

  for (int i = 0; i < N_MEMBERS; i++) {
    char name[16], curl_s[64], purl[64], datadir[256], logf[256];
    snprintf(name, sizeof(name), "m%d", i);
    snprintf(curl_s, sizeof(curl_s), "http://127.0.0.1:%d", client[i]);
    snprintf(purl, sizeof(purl), "http://127.0.0.1:%d", peer[i]);
    snprintf(datadir, sizeof(datadir), "%s/%s", etcd_tmp, name);
    snprintf(logf, sizeof(logf), "%s/%s.log", etcd_tmp, name);
    pid_t pid = fork();
    if (pid < 0)
      goto fail;
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      int fd = open(logf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
      }
      execl(ETCD_BIN, ETCD_BIN, "--name", name, "--data-dir", datadir, "--listen-client-urls",
            curl_s, "--advertise-client-urls", curl_s, "--listen-peer-urls", purl,
            "--initial-advertise-peer-urls", purl, "--initial-cluster", cluster,
            "--initial-cluster-state", "new", "--initial-cluster-token", "ckube-test",
            "--heartbeat-interval", "50", "--election-timeout", "500", (char *)NULL);
      _exit(127);
    }
    etcd_pids[i] = pid;
  }

  int64_t deadline = mono_ms() + 30000;
  for (;;) {
    int ok = 0;
    for (int i = 0; i < N_MEMBERS; i++)
      ok += member_healthy(client[i]);
    if (ok == N_MEMBERS)
      return 0;
    if (mono_ms() > deadline) {
      fprintf(stderr, "etcd cluster did not become healthy (logs in %s)\n", etcd_tmp);
      goto fail;
    }
    usleep(100 * 1000);
  }
fail:
  etcd_stop();
  return -1;
}

static int etcd_group_teardown(void **state) {
  etcd_stop();
  return 0;
}

/* ---- watch collector -------------------------------------------------------------- */

struct collector {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  struct store_event evs[512];
  size_t n;
  int err;
  bool ended;
};

static void collector_init(struct collector *c) {
  memset(c, 0, sizeof(*c));
  pthread_mutex_init(&c->lock, NULL);
  pthread_cond_init(&c->cond, NULL);
}

static void kv_copy(struct store_kv *dst, const struct store_kv *src) {
  *dst = *src;
  dst->key = src->key ? xstrdup(src->key) : NULL;
  dst->value = src->value ? xstrndup(src->value, src->value_len) : NULL;
}

static void collector_clear(struct collector *c) {
  for (size_t i = 0; i < c->n; i++) {
    store_kv_clear(&c->evs[i].kv);
    store_kv_clear(&c->evs[i].prev);
  }
  pthread_mutex_destroy(&c->lock);
  pthread_cond_destroy(&c->cond);
}

static int collect_cb(const struct store_event *ev, int err, void *ud) {
  struct collector *c = ud;
  pthread_mutex_lock(&c->lock);
  if (!ev) {
    c->err = err;
    c->ended = true;
  } else if (c->n < ARRAY_SIZE(c->evs)) {
    struct store_event *e = &c->evs[c->n++];
    e->type = ev->type;
    kv_copy(&e->kv, &ev->kv);
    kv_copy(&e->prev, &ev->prev);
  }
  pthread_cond_broadcast(&c->cond);
  pthread_mutex_unlock(&c->lock);
  return 0;
}

/* Waits until n events arrived (or the watch ended); returns how many there are. */
static size_t collector_wait(struct collector *c, size_t n, int timeout_ms) {
  int64_t deadline = mono_ms() + timeout_ms;
  pthread_mutex_lock(&c->lock);
  while (c->n < n && !c->ended && mono_ms() < deadline) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 20 * 1000000;
    if (ts.tv_nsec >= 1000000000) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&c->cond, &c->lock, &ts);
  }
  size_t got = c->n;
  pthread_mutex_unlock(&c->lock);
  return got;
}

/* ---- tests ------------------------------------------------------------------------ */

static void put(struct fx *f, const char *suffix, const char *value, int64_t *ret_rev) {
  _cleanup_free_ char *k = key_of(f, suffix);
  assert_int_equal(store_create(f->s, k, value, strlen(value), 0, ret_rev), 0);
}

static void test_crud(void **state) {
  struct fx *f = *state;
  _cleanup_free_ char *k = key_of(f, "pods/default/a");
  int64_t r1 = 0, r2 = 0, r3 = 0, r4 = 0, rx = -1;
  struct store_kv kv = {0};

  assert_int_equal(store_get(f->s, k, &kv), -ENOENT);
  assert_int_equal(store_create(f->s, k, "{\"v\":1}", 7, 0, &r1), 0);
  assert_true(r1 > 0);
  assert_int_equal(store_get(f->s, k, &kv), 0);
  assert_string_equal(kv.key, k);
  assert_string_equal(kv.value, "{\"v\":1}");
  assert_int_equal(kv.value_len, 7);
  assert_int_equal(kv.create_rev, r1);
  assert_int_equal(kv.mod_rev, r1);
  store_kv_clear(&kv);

  assert_int_equal(store_create(f->s, k, "x", 1, 0, &rx), -EEXIST);
  assert_int_equal(rx, -1);

  assert_int_equal(store_update(f->s, k, "{\"v\":2}", 7, r1, 0, &r2), 0);
  assert_true(r2 > r1);
  assert_int_equal(store_get(f->s, k, &kv), 0);
  assert_string_equal(kv.value, "{\"v\":2}");
  assert_int_equal(kv.create_rev, r1);
  assert_int_equal(kv.mod_rev, r2);
  store_kv_clear(&kv);

  /* a writer still holding r1 lost the race */
  assert_int_equal(store_update(f->s, k, "{\"v\":3}", 7, r1, 0, &rx), -ESTALE);
  assert_int_equal(store_delete(f->s, k, r1, NULL, &rx), -ESTALE);
  assert_int_equal(rx, -1);

  /* unconditional update of an existing key */
  assert_int_equal(store_update(f->s, k, "{\"v\":3}", 7, 0, 0, &r3), 0);
  assert_true(r3 > r2);

  _cleanup_free_ char *missing = key_of(f, "pods/default/missing");
  assert_int_equal(store_update(f->s, missing, "x", 1, 0, 0, &rx), -ENOENT);
  assert_int_equal(store_update(f->s, missing, "x", 1, 5, 0, &rx), -ENOENT);
  assert_int_equal(store_delete(f->s, missing, 0, NULL, &rx), -ENOENT);

  struct store_kv prev = {0};
  assert_int_equal(store_delete(f->s, k, r3, &prev, &r4), 0);
  assert_true(r4 > r3);
  assert_string_equal(prev.value, "{\"v\":3}");
  assert_int_equal(prev.mod_rev, r3);
  assert_int_equal(prev.create_rev, r1);
  store_kv_clear(&prev);
  assert_int_equal(store_get(f->s, k, &kv), -ENOENT);
  assert_int_equal(store_delete(f->s, k, 0, NULL, &rx), -ENOENT);

  /* a new incarnation gets a new create revision */
  int64_t r5 = 0;
  assert_int_equal(store_create(f->s, k, "", 0, 0, &r5), 0);
  assert_true(r5 > r4);
  assert_int_equal(store_get(f->s, k, &kv), 0);
  assert_int_equal(kv.create_rev, r5);
  assert_int_equal(kv.value_len, 0);
  assert_string_equal(kv.value, "");
  store_kv_clear(&kv);

  int64_t cur = 0;
  assert_int_equal(store_current_rev(f->s, &cur), 0);
  assert_true(cur >= r5);

  assert_int_equal(store_create(f->s, "", "x", 1, 0, &rx), -EINVAL);
}

static void test_revisions_increase(void **state) {
  struct fx *f = *state;
  int64_t last = 0;
  for (int i = 0; i < 30; i++) {
    char name[32];
    snprintf(name, sizeof(name), "k%d", i % 7);
    _cleanup_free_ char *k = key_of(f, name);
    int64_t rev = 0;
    struct store_kv kv = {0};
    int r = store_get(f->s, k, &kv);
    if (r == -ENOENT)
      assert_int_equal(store_create(f->s, k, "v", 1, 0, &rev), 0);
    else if (i % 3 == 0)
      assert_int_equal(store_delete(f->s, k, kv.mod_rev, NULL, &rev), 0);
    else
      assert_int_equal(store_update(f->s, k, "w", 1, kv.mod_rev, 0, &rev), 0);
    store_kv_clear(&kv);
    assert_true(rev > last);
    last = rev;
  }
}

static void test_list_prefix(void **state) {
  struct fx *f = *state;
  put(f, "a/1", "1", NULL);
  put(f, "ab/1", "x", NULL);
  put(f, "a/2", "2", NULL);
  put(f, "b", "y", NULL);
  put(f, "a", "z", NULL);

  _cleanup_free_ char *p = key_of(f, "a/");
  struct store_list l = {0};
  assert_int_equal(store_list(f->s, p, 0, NULL, 0, &l), 0);
  assert_int_equal(l.n_items, 2);
  assert_false(l.more);
  _cleanup_free_ char *k1 = key_of(f, "a/1"), *k2 = key_of(f, "a/2");
  assert_string_equal(l.items[0].key, k1);
  assert_string_equal(l.items[0].value, "1");
  assert_string_equal(l.items[1].key, k2);
  int64_t cur = 0;
  assert_int_equal(store_current_rev(f->s, &cur), 0);
  assert_true(l.rev >= l.items[1].mod_rev);
  assert_true(l.rev <= cur);
  store_list_clear(&l);

  int64_t n = 0;
  assert_int_equal(store_count(f->s, p, &n), 0);
  assert_int_equal(n, 2);
  assert_int_equal(store_count(f->s, f->prefix, &n), 0);
  assert_int_equal(n, 5);

  assert_int_equal(store_list(f->s, f->prefix, 0, NULL, 0, &l), 0);
  assert_int_equal(l.n_items, 5);
  for (size_t i = 1; i < l.n_items; i++)
    assert_true(strcmp(l.items[i - 1].key, l.items[i].key) < 0);
  store_list_clear(&l);

  _cleanup_free_ char *none = key_of(f, "zzz/");
  assert_int_equal(store_list(f->s, none, 0, NULL, 0, &l), 0);
  assert_int_equal(l.n_items, 0);
  store_list_clear(&l);
}

static void test_list_old_revision(void **state) {
  struct fx *f = *state;
  _cleanup_free_ char *a = key_of(f, "a"), *b = key_of(f, "b");
  _cleanup_free_ char *other = xasprintf("%.*sother", (int)strlen(f->prefix) - 1, f->prefix);
  int64_t seed, r1, r2, r3, r4;
  /* a write outside the prefix, so that there is a revision before the first one */
  assert_int_equal(store_create(f->s, other, "o", 1, 0, &seed), 0);
  assert_int_equal(store_create(f->s, a, "a1", 2, 0, &r1), 0);
  assert_int_equal(store_update(f->s, a, "a2", 2, r1, 0, &r2), 0);
  assert_int_equal(store_create(f->s, b, "b1", 2, 0, &r3), 0);
  assert_int_equal(store_delete(f->s, a, r2, NULL, &r4), 0);

  struct store_list l = {0};
  assert_int_equal(store_list(f->s, f->prefix, r1, NULL, 0, &l), 0);
  assert_int_equal(l.rev, r1);
  assert_int_equal(l.n_items, 1);
  assert_string_equal(l.items[0].value, "a1");
  assert_int_equal(l.items[0].mod_rev, r1);
  store_list_clear(&l);

  assert_int_equal(store_list(f->s, f->prefix, r2, NULL, 0, &l), 0);
  assert_int_equal(l.n_items, 1);
  assert_string_equal(l.items[0].value, "a2");
  assert_int_equal(l.items[0].create_rev, r1);
  assert_int_equal(l.items[0].mod_rev, r2);
  store_list_clear(&l);

  assert_int_equal(store_list(f->s, f->prefix, r3, NULL, 0, &l), 0);
  assert_int_equal(l.n_items, 2);
  assert_string_equal(l.items[0].value, "a2");
  assert_string_equal(l.items[1].value, "b1");
  store_list_clear(&l);

  assert_int_equal(store_list(f->s, f->prefix, r4, NULL, 0, &l), 0);
  assert_int_equal(l.n_items, 1);
  assert_string_equal(l.items[0].value, "b1");
  store_list_clear(&l);

  assert_int_equal(store_list(f->s, f->prefix, seed, NULL, 0, &l), 0);
  assert_int_equal(l.n_items, 0);
  store_list_clear(&l);

  int64_t cur;
  assert_int_equal(store_current_rev(f->s, &cur), 0);
  assert_int_equal(store_list(f->s, f->prefix, cur + 1000, NULL, 0, &l), -EINVAL);
}

static void test_list_pagination(void **state) {
  struct fx *f = *state;
  for (int i = 0; i < 10; i++) {
    char name[16];
    snprintf(name, sizeof(name), "k%02d", i);
    put(f, name, name, NULL);
  }
  struct store_list l = {0};
  assert_int_equal(store_list(f->s, f->prefix, 0, NULL, 3, &l), 0);
  assert_int_equal(l.n_items, 3);
  assert_true(l.more);
  int64_t at = l.rev;
  char *next = xstrdup(l.items[2].key);
  size_t seen = 3;
  store_list_clear(&l);

  /* changes after the first page must not show in the later pages */
  _cleanup_free_ char *k5 = key_of(f, "k05"), *k00 = key_of(f, "k00");
  assert_int_equal(store_delete(f->s, k5, 0, NULL, NULL), 0);
  put(f, "k055", "new", NULL);
  assert_int_equal(store_update(f->s, k00, "changed", 7, 0, 0, NULL), 0);

  for (;;) {
    assert_int_equal(store_list(f->s, f->prefix, at, next, 3, &l), 0);
    assert_int_equal(l.rev, at);
    for (size_t i = 0; i < l.n_items; i++) {
      char want[16];
      snprintf(want, sizeof(want), "k%02zu", seen + i);
      _cleanup_free_ char *wk = key_of(f, want);
      assert_string_equal(l.items[i].key, wk);
      assert_string_equal(l.items[i].value, want);
    }
    seen += l.n_items;
    free(next);
    next = l.n_items ? xstrdup(l.items[l.n_items - 1].key) : NULL;
    bool more = l.more;
    store_list_clear(&l);
    if (!more)
      break;
  }
  free(next);
  assert_int_equal(seen, 10);

  /* limit exactly matching the remaining items: no phantom "more" */
  assert_int_equal(store_list(f->s, f->prefix, 0, NULL, 10, &l), 0);
  assert_int_equal(l.n_items, 10);
  assert_false(l.more);
  store_list_clear(&l);
}

static void test_watch_replay_and_live(void **state) {
  struct fx *f = *state;
  int64_t revs[10];
  int64_t start;
  _cleanup_free_ char *a = key_of(f, "w/a"), *b = key_of(f, "w/b");
  _cleanup_free_ char *other = xasprintf("%.*sother", (int)strlen(f->prefix) - 1, f->prefix);
  assert_int_equal(store_create(f->s, other, "o", 1, 0, &start), 0);
  assert_int_equal(store_create(f->s, a, "1", 1, 0, &revs[0]), 0);
  assert_int_equal(store_update(f->s, a, "2", 1, revs[0], 0, &revs[1]), 0);
  assert_int_equal(store_create(f->s, b, "3", 1, 0, &revs[2]), 0);
  assert_int_equal(store_delete(f->s, a, 0, NULL, &revs[3]), 0);
  assert_int_equal(store_update(f->s, b, "4", 1, 0, 0, &revs[4]), 0);

  struct collector c;
  collector_init(&c);
  struct store_watch *w = NULL;
  assert_int_equal(store_watch(f->s, f->prefix, start, collect_cb, &c, &w), 0);

  assert_int_equal(store_create(f->s, a, "5", 1, 0, &revs[5]), 0);
  for (int i = 6; i < 10; i++)
    assert_int_equal(store_update(f->s, a, "6", 1, revs[i - 1], 0, &revs[i]), 0);

  assert_int_equal(collector_wait(&c, 10, 10000), 10);
  usleep(100 * 1000);
  store_watch_cancel(f->s, w);
  assert_int_equal(c.n, 10);
  for (int i = 0; i < 10; i++)
    assert_int_equal(c.evs[i].kv.mod_rev, revs[i]);
  assert_int_equal(c.evs[0].type, STORE_EVENT_PUT);
  assert_null(c.evs[0].prev.key);
  assert_int_equal(c.evs[1].type, STORE_EVENT_PUT);
  assert_string_equal(c.evs[1].kv.value, "2");
  assert_int_equal(c.evs[1].kv.create_rev, revs[0]);
  assert_string_equal(c.evs[1].prev.value, "1");
  assert_int_equal(c.evs[1].prev.mod_rev, revs[0]);
  assert_int_equal(c.evs[3].type, STORE_EVENT_DELETE);
  assert_string_equal(c.evs[3].kv.key, a);
  assert_null(c.evs[3].kv.value);
  assert_string_equal(c.evs[3].prev.value, "2");
  assert_int_equal(c.evs[5].type, STORE_EVENT_PUT);
  assert_int_equal(c.evs[5].kv.create_rev, revs[5]);
  assert_null(c.evs[5].prev.key);
  assert_false(c.ended);
  collector_clear(&c);

  /* from "now": only later events */
  collector_init(&c);
  assert_int_equal(store_watch(f->s, f->prefix, 0, collect_cb, &c, &w), 0);
  int64_t rb;
  assert_int_equal(store_update(f->s, b, "7", 1, 0, 0, &rb), 0);
  assert_int_equal(collector_wait(&c, 1, 10000), 1);
  assert_int_equal(c.evs[0].kv.mod_rev, rb);
  store_watch_cancel(f->s, w);
  collector_clear(&c);
}

static void test_watch_prefix(void **state) {
  struct fx *f = *state;
  _cleanup_free_ char *p = key_of(f, "a/");
  struct collector c;
  collector_init(&c);
  struct store_watch *w = NULL;
  assert_int_equal(store_watch(f->s, p, 0, collect_cb, &c, &w), 0);
  put(f, "ab/1", "no", NULL);
  put(f, "b", "no", NULL);
  int64_t r1, r2;
  put(f, "a/1", "yes", &r1);
  put(f, "a", "no", NULL);
  put(f, "a/2", "yes", &r2);
  assert_int_equal(collector_wait(&c, 2, 10000), 2);
  usleep(200 * 1000);
  store_watch_cancel(f->s, w);
  assert_int_equal(c.n, 2);
  assert_int_equal(c.evs[0].kv.mod_rev, r1);
  assert_int_equal(c.evs[1].kv.mod_rev, r2);
  assert_string_equal(c.evs[1].kv.value, "yes");
  collector_clear(&c);
}

struct stopper {
  struct collector c;
  struct store *s;
  struct store_watch *w;
  bool cancel_self; /* cancel from inside the callback instead of returning < 0 */
};

static int stop_cb(const struct store_event *ev, int err, void *ud) {
  struct stopper *st = ud;
  collect_cb(ev, err, &st->c);
  if (!ev)
    return 0;
  if (st->cancel_self) {
    store_watch_cancel(st->s, st->w);
    return 0;
  }
  return -1;
}

/* A watch ends when its callback says so or cancels itself; closing the store ends the
 * remaining ones with -ECANCELED. */
static void test_watch_stop_and_close(void **state) {
  struct fx *f = *state;
  struct stopper a = {.s = f->s}, b = {.s = f->s, .cancel_self = true};
  collector_init(&a.c);
  collector_init(&b.c);
  struct store_watch *wa = NULL;
  assert_int_equal(store_watch(f->s, f->prefix, 0, stop_cb, &a, &wa), 0);
  pthread_mutex_lock(&b.c.lock);
  assert_int_equal(store_watch(f->s, f->prefix, 0, stop_cb, &b, &b.w), 0);
  pthread_mutex_unlock(&b.c.lock);
  struct collector c;
  collector_init(&c);
  struct store_watch *wc = NULL;
  assert_int_equal(store_watch(f->s, f->prefix, 0, collect_cb, &c, &wc), 0);

  put(f, "1", "1", NULL);
  put(f, "2", "2", NULL);
  assert_int_equal(collector_wait(&c, 2, 5000), 2);
  usleep(300 * 1000);
  assert_int_equal(a.c.n, 1);
  assert_false(a.c.ended);
  assert_int_equal(b.c.n, 1);
  assert_false(b.c.ended);
  store_watch_cancel(f->s, wa);

  store_close(f->s);
  f->s = NULL;
  assert_true(c.ended);
  assert_int_equal(c.err, -ECANCELED);
  collector_clear(&a.c);
  collector_clear(&b.c);
  collector_clear(&c);
}

static void test_ttl(void **state) {
  struct fx *f = *state;
  _cleanup_free_ char *k = key_of(f, "events/e1"), *keep = key_of(f, "events/keep");
  int64_t rev;
  struct collector c;
  collector_init(&c);
  struct store_watch *w = NULL;
  assert_int_equal(store_watch(f->s, f->prefix, 0, collect_cb, &c, &w), 0);
  assert_int_equal(store_create(f->s, k, "e", 1, 1, &rev), 0);
  assert_int_equal(store_create(f->s, keep, "k", 1, 0, NULL), 0);
  struct store_kv kv = {0};
  assert_int_equal(store_get(f->s, k, &kv), 0);
  store_kv_clear(&kv);

  int64_t deadline = mono_ms() + 10000;
  while (store_get(f->s, k, &kv) == 0 && mono_ms() < deadline) {
    store_kv_clear(&kv);
    usleep(100 * 1000);
  }
  assert_int_equal(store_get(f->s, k, &kv), -ENOENT);
  assert_int_equal(store_get(f->s, keep, &kv), 0);
  store_kv_clear(&kv);
  assert_int_equal(collector_wait(&c, 3, 5000), 3);
  store_watch_cancel(f->s, w);
  assert_int_equal(c.evs[2].type, STORE_EVENT_DELETE);
  assert_string_equal(c.evs[2].kv.key, k);
  assert_true(c.evs[2].kv.mod_rev > rev);
  collector_clear(&c);
}

#define N_THREADS 8
#define N_PER_THREAD 40

struct writer_arg {
  struct fx *f;
  int id;
  int64_t revs[N_PER_THREAD];
  int failures;
};

static void *writer_thread(void *p) {
  struct writer_arg *a = p;
  for (int i = 0; i < N_PER_THREAD; i++) {
    char name[32];
    snprintf(name, sizeof(name), "c/%d/%d", a->id, i);
    _cleanup_free_ char *k = key_of(a->f, name);
    if (store_create(a->f->s, k, name, strlen(name), 0, &a->revs[i]) < 0)
      a->failures++;
  }
  return NULL;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static void test_concurrent_writers(void **state) {
  struct fx *f = *state;
  struct writer_arg args[N_THREADS];
  pthread_t th[N_THREADS];
  for (int t = 0; t < N_THREADS; t++) {
    args[t] = (struct writer_arg){.f = f, .id = t};
    assert_int_equal(pthread_create(&th[t], NULL, writer_thread, &args[t]), 0);
  }
  for (int t = 0; t < N_THREADS; t++)
    pthread_join(th[t], NULL);

  int64_t all[N_THREADS * N_PER_THREAD];
  size_t n = 0;
  for (int t = 0; t < N_THREADS; t++) {
    assert_int_equal(args[t].failures, 0);
    for (int i = 0; i < N_PER_THREAD; i++) {
      if (i)
        assert_true(args[t].revs[i] > args[t].revs[i - 1]);
      all[n++] = args[t].revs[i];
      char name[32];
      snprintf(name, sizeof(name), "c/%d/%d", t, i);
      _cleanup_free_ char *k = key_of(f, name);
      struct store_kv kv = {0};
      assert_int_equal(store_get(f->s, k, &kv), 0);
      assert_int_equal(kv.mod_rev, args[t].revs[i]);
      assert_string_equal(kv.value, name);
      store_kv_clear(&kv);
    }
  }
  qsort(all, n, sizeof(all[0]), cmp_i64);
  for (size_t i = 1; i < n; i++)
    assert_true(all[i] > all[i - 1]);
  int64_t count = 0;
  assert_int_equal(store_count(f->s, f->prefix, &count), 0);
  assert_int_equal(count, (int64_t)n);
}

static void test_compaction(void **state) {
  struct fx *f = *state;
  _cleanup_free_ char *a = key_of(f, "a"), *b = key_of(f, "b"), *d = key_of(f, "d");
  int64_t r1, r2, r3, r4, r5, rd;
  assert_int_equal(store_create(f->s, a, "a1", 2, 0, &r1), 0);
  assert_int_equal(store_create(f->s, d, "d1", 2, 0, &rd), 0);
  assert_int_equal(store_update(f->s, a, "a2", 2, r1, 0, &r2), 0);
  assert_int_equal(store_create(f->s, b, "b1", 2, 0, &r3), 0);
  assert_int_equal(store_delete(f->s, d, 0, NULL, NULL), 0);
  assert_int_equal(store_update(f->s, a, "a3", 2, r2, 0, &r4), 0);

  struct collector c;
  collector_init(&c);
  struct store_watch *w = NULL;
  assert_int_equal(store_watch(f->s, f->prefix, 0, collect_cb, &c, &w), 0);

  assert_int_equal(store_compact(f->s, r3), 0);
  int64_t crev = 0;
  assert_int_equal(store_compacted_rev(f->s, &crev), 0);
  assert_int_equal(crev, r3);

  struct store_list l = {0};
  assert_int_equal(store_list(f->s, f->prefix, r2, NULL, 0, &l), -ERANGE);
  assert_int_equal(store_list(f->s, f->prefix, r3, NULL, 0, &l), 0);
  assert_int_equal(l.n_items, 3);
  assert_string_equal(l.items[0].value, "a2");
  assert_string_equal(l.items[1].value, "b1");
  assert_string_equal(l.items[2].value, "d1");
  store_list_clear(&l);
  assert_int_equal(store_list(f->s, f->prefix, 0, NULL, 0, &l), 0);
  assert_int_equal(l.n_items, 2);
  assert_string_equal(l.items[0].value, "a3");
  store_list_clear(&l);

  struct collector c2;
  collector_init(&c2);
  struct store_watch *w2 = NULL;
  assert_int_equal(store_watch(f->s, f->prefix, r1, collect_cb, &c2, &w2), -ERANGE);
  /* from the compaction point on, history is intact: the update to a at r4 */
  assert_int_equal(store_watch(f->s, f->prefix, r3, collect_cb, &c2, &w2), 0);
  assert_true(collector_wait(&c2, 2, 3000) >= 1);
  assert_int_equal(c2.evs[0].kv.mod_rev, r3 + 1);
  bool saw_r4 = false;
  for (size_t i = 0; i < c2.n; i++)
    saw_r4 |= c2.evs[i].kv.mod_rev == r4;
  assert_true(saw_r4);
  assert_string_equal(c2.evs[c2.n - 1].prev.value, "a2");
  store_watch_cancel(f->s, w2);
  collector_clear(&c2);

  /* a live watch keeps running across compaction */
  assert_int_equal(store_update(f->s, a, "a4", 2, r4, 0, &r5), 0);
  assert_int_equal(collector_wait(&c, 1, 5000), 1);
  assert_int_equal(c.evs[0].kv.mod_rev, r5);
  assert_false(c.ended);
  store_watch_cancel(f->s, w);
  collector_clear(&c);

  assert_int_equal(store_compact(f->s, r2), -ERANGE);
}

/* ---- etcd only -------------------------------------------------------------------- */

/* kill -9 the first member (the one the client prefers): writes fail over to the others
 * and the watch reconnects and resumes without losing or repeating an event. */
static void test_etcd_member_failover(void **state) {
  struct fx *f = *state;
  struct collector c;
  collector_init(&c);
  struct store_watch *w = NULL;
  assert_int_equal(store_watch(f->s, f->prefix, 0, collect_cb, &c, &w), 0);
  int64_t revs[21];
  put(f, "before", "x", &revs[0]);
  assert_int_equal(collector_wait(&c, 1, 5000), 1);

  kill(etcd_pids[0], SIGKILL);
  waitpid(etcd_pids[0], NULL, 0);
  etcd_pids[0] = 0;

  for (int i = 1; i <= 20; i++) {
    char name[32];
    snprintf(name, sizeof(name), "after%d", i);
    _cleanup_free_ char *k = key_of(f, name);
    int64_t deadline = mono_ms() + 15000;
    int r;
    /* -EIO while a new leader is elected: the write may or may not have happened */
    while ((r = store_create(f->s, k, name, strlen(name), 0, &revs[i])) == -EIO &&
           mono_ms() < deadline)
      usleep(100 * 1000);
    if (r == -EEXIST) {
      struct store_kv kv = {0};
      assert_int_equal(store_get(f->s, k, &kv), 0);
      revs[i] = kv.create_rev;
      store_kv_clear(&kv);
      r = 0;
    }
    assert_int_equal(r, 0);
  }
  assert_int_equal(collector_wait(&c, 21, 20000), 21);
  usleep(200 * 1000);
  store_watch_cancel(f->s, w);
  assert_int_equal(c.n, 21);
  for (int i = 0; i < 21; i++)
    assert_int_equal(c.evs[i].kv.mod_rev, revs[i]);
  collector_clear(&c);
}

/* ---- SQLite only ------------------------------------------------------------------ */

static void test_sqlite_reopen(void **state) {
  struct fx *f = *state;
  int64_t r1, r2, r3;
  put(f, "x", "1", &r1);
  put(f, "y", "2", &r2);
  _cleanup_free_ char *y = key_of(f, "y");
  assert_int_equal(store_delete(f->s, y, 0, NULL, &r3), 0);
  store_close(f->s);
  f->s = NULL;

  int64_t t0 = mono_ms();
  assert_int_equal(open_fx(f), 0);
  int64_t took = mono_ms() - t0;
  assert_true(took < 100);

  struct store_kv kv = {0};
  _cleanup_free_ char *x = key_of(f, "x");
  assert_int_equal(store_get(f->s, x, &kv), 0);
  assert_int_equal(kv.mod_rev, r1);
  store_kv_clear(&kv);
  assert_int_equal(store_get(f->s, y, &kv), -ENOENT);
  int64_t cur;
  assert_int_equal(store_current_rev(f->s, &cur), 0);
  assert_int_equal(cur, r3);
  int64_t r4;
  put(f, "z", "3", &r4);
  assert_int_equal(r4, r3 + 1);
}

/* A child writes from several threads as fast as it can and reports each acknowledged
 * write on a pipe; the parent kill -9s it mid-load, reopens the store and checks that
 * every acknowledged write survived with its revision. */
#define CRASH_THREADS 4
#define CRASH_MAX 1000000

struct crash_arg {
  struct store *s;
  int id;
  int fd;
};

static void *crash_writer(void *p) {
  struct crash_arg *a = p;
  for (int64_t i = 0;; i++) {
    char k[64];
    snprintf(k, sizeof(k), "/crash/%d/%08" PRId64, a->id, i);
    int64_t rev;
    if (store_create(a->s, k, k, strlen(k), 0, &rev) < 0)
      _exit(2);
    /* pipe writes up to PIPE_BUF are atomic, so threads never interleave a message */
    int64_t msg[3] = {a->id, i, rev};
    if (write(a->fd, msg, sizeof(msg)) != sizeof(msg))
      _exit(3);
  }
  return NULL;
}

static void test_sqlite_crash(void **state) {
  struct fx *f = *state;
  store_close(f->s);
  f->s = NULL;

  int fds[2];
  assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    struct store *s = NULL;
    if (store_open("", f->dir, &s, NULL) < 0)
      _exit(1);
    struct crash_arg args[CRASH_THREADS];
    pthread_t th;
    for (int t = 0; t < CRASH_THREADS; t++) {
      args[t] = (struct crash_arg){.s = s, .id = t, .fd = fds[1]};
      if (pthread_create(&th, NULL, crash_writer, &args[t]) != 0)
        _exit(4);
    }
    for (;;)
      pause();
  }
  close(fds[1]);

  int64_t(*acked)[3] = xmalloc(sizeof(*acked) * CRASH_MAX);
  size_t n = 0;
  int64_t start = mono_ms();
  bool killed = false;
  for (;;) {
    if (!killed && (mono_ms() - start > 1000 || n > CRASH_MAX / 2)) {
      kill(pid, SIGKILL);
      killed = true;
    }
    int64_t msg[3];
    ssize_t got = read(fds[0], msg, sizeof(msg));
    if (got == 0)
      break;
    assert_int_equal(got, sizeof(msg));
    if (n < CRASH_MAX) {
      memcpy(acked[n], msg, sizeof(msg));
      n++;
    }
  }
  close(fds[0]);
  int status;
  waitpid(pid, &status, 0);
  assert_true(WIFSIGNALED(status));
  assert_true(n > 10);

  assert_int_equal(open_fx(f), 0);
  int64_t last[CRASH_THREADS] = {0}, max_rev = 0;
  for (size_t i = 0; i < n; i++) {
    int t = (int)acked[i][0];
    assert_true(acked[i][2] > last[t]);
    last[t] = acked[i][2];
    if (acked[i][2] > max_rev)
      max_rev = acked[i][2];
    char k[64];
    snprintf(k, sizeof(k), "/crash/%d/%08" PRId64, t, acked[i][1]);
    struct store_kv kv = {0};
    assert_int_equal(store_get(f->s, k, &kv), 0);
    assert_int_equal(kv.mod_rev, acked[i][2]);
    store_kv_clear(&kv);
  }
  int64_t cur;
  assert_int_equal(store_current_rev(f->s, &cur), 0);
  assert_true(cur >= max_rev);
  int64_t next;
  assert_int_equal(store_create(f->s, "/crash/after", "x", 1, 0, &next), 0);
  assert_true(next > cur);
  print_message("crash test: %zu acknowledged writes from %d threads survived kill -9\n", n,
                CRASH_THREADS);
  free(acked);
}

static void test_open_errors(void **state) {
  struct store *s = NULL;
  char *err = NULL;
  assert_int_equal(store_open("bogus://x", "/tmp", &s, &err), -EINVAL);
  assert_non_null(err);
  free(err);
  err = NULL;
  assert_int_equal(store_open("sqlite://relative.db", "/tmp", &s, &err), -EINVAL);
  free(err);
  assert_null(s);
}

#define CONFORMANCE(setup)                                                             \
  cmocka_unit_test_setup_teardown(test_crud, setup, teardown),                         \
      cmocka_unit_test_setup_teardown(test_revisions_increase, setup, teardown),       \
      cmocka_unit_test_setup_teardown(test_list_prefix, setup, teardown),              \
      cmocka_unit_test_setup_teardown(test_list_old_revision, setup, teardown),        \
      cmocka_unit_test_setup_teardown(test_list_pagination, setup, teardown),          \
      cmocka_unit_test_setup_teardown(test_watch_replay_and_live, setup, teardown),    \
      cmocka_unit_test_setup_teardown(test_watch_prefix, setup, teardown),             \
      cmocka_unit_test_setup_teardown(test_watch_stop_and_close, setup, teardown),     \
      cmocka_unit_test_setup_teardown(test_ttl, setup, teardown),                      \
      cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),       \
      cmocka_unit_test_setup_teardown(test_compaction, setup, teardown)

int main(int argc, char **argv) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest sqlite_tests[] = {
      CONFORMANCE(setup_sqlite),
      cmocka_unit_test_setup_teardown(test_sqlite_reopen, setup_sqlite, teardown),
      cmocka_unit_test_setup_teardown(test_sqlite_crash, setup_sqlite, teardown),
      cmocka_unit_test(test_open_errors),
  };
  const struct CMUnitTest etcd_tests[] = {
      CONFORMANCE(setup_etcd),
      cmocka_unit_test_setup_teardown(test_etcd_member_failover, setup_etcd, teardown),
  };
  bool want_sqlite = argc < 2 || streq(argv[1], "sqlite");
  bool want_etcd = argc < 2 || streq(argv[1], "etcd");
  int failed = 0;
  if (want_sqlite)
    failed += cmocka_run_group_tests_name("store/sqlite", sqlite_tests, NULL, NULL);
  if (want_etcd)
    failed += cmocka_run_group_tests_name("store/etcd", etcd_tests, etcd_start,
                                          etcd_group_teardown);
  curl_global_cleanup();
  return failed ? 1 : 0;
}
