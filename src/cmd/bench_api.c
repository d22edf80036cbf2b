/* `ckube bench api`: load on any Kubernetes API server through its REST API, in a
 * namespace of its own that it removes afterwards. Every phase is bounded in count and
 * time; the only host contacted is the kubeconfig's server. */
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "client/kubeconfig.h"
#include "client/rest.h"
#include "cmd/bench.h"
#include "lib/json.h"
#include "lib/macro.h"

#define SEQ_ANNOTATION "bench.ckube.io/seq"
#define SENT_ANNOTATION "bench.ckube.io/sent"
#define SENTINEL_NAME "bench-watch-sentinel"
/* Events each watcher may be asked to count: bounds memory at watchers x events. */
#define MAX_WATCH_EVENTS 20000
#define MAX_WATCH_THREADS 8
/* The watch writer cycles over this many objects, so an event is an ordinary update. */
#define WATCH_OBJECTS 100

struct opts {
  const char *kubeconfig;
  const char *context;
  const char *ns;
  int clients;
  double duration;
  long objects;
  long pods;
  int watchers;
  double watch_rate;
  double watch_duration;
  int watch_threads;
  int list_runs;
  long server_pid;
};

struct obj {
  bool exists;
  char rv[32];
};

struct lat {
  double *v; /* milliseconds */
  size_t n, cap;
};

static void lat_add(struct lat *l, double ms) {
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 1024;
    l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
  }
  l->v[l->n++] = ms;
}

static void lat_merge(struct lat *into, const struct lat *from) {
  for (size_t i = 0; i < from->n; i++)
    lat_add(into, from->v[i]);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void lat_sort(struct lat *l) { qsort(l->v, l->n, sizeof(*l->v), cmp_double); }

/* Nearest-rank percentile of a sorted sample. */
static double lat_pct(const struct lat *l, double q) {
  if (!l->n)
    return NAN;
  size_t r = (size_t)ceil(q * (double)l->n);
  return l->v[r ? r - 1 : 0];
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(long pid) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%ld/status", pid);
  FILE *f = fopen(path, "re");
  if (!f)
    return -1;
  char line[256];
  long kb = -1;
  while (fgets(line, sizeof(line), f))
    if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
      break;
  fclose(f);
  return kb;
}

struct bench {
  struct opts o;
  struct rest_client *c;
  const struct kubeconfig_creds *creds; /* for the load phases' own clients */
  char *cm_path;  /* /api/v1/namespaces/NS/configmaps */
  char *pod_path; /* /api/v1/namespaces/NS/pods */
  struct obj *cms;
  struct obj *pods;
  long n_cms; /* configmaps created (indices below are candidates) */
  long n_pods;
  bool failed;

  pthread_mutex_t mu;
  char *first_error;

  /* Server RSS sampler. */
  pthread_t sampler;
  atomic_bool sampling;
  atomic_long rss_peak;
};

static void note_error(struct bench *b, const char *what, long status, const char *detail) {
  pthread_mutex_lock(&b->mu);
  if (!b->first_error)
    b->first_error = xasprintf("%s: %s%ld %.200s", what, status ? "HTTP " : "", status,
                               detail ? detail : "");
  pthread_mutex_unlock(&b->mu);
}

/* ---- request bodies ---- */

static char *configmap_body(long i) {
  return xasprintf("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                   "\"bench-cm-%06ld\",\"labels\":{\"app\":\"bench\"}},\"data\":{\"index\":"
                   "\"%ld\",\"key\":\"a value of a typical small size\"}}",
                   i, i);
}

/* A pod as a Deployment would make one: one container, image, port, resources and
 * labels. The node selector matches no node, so on a cluster with nodes nothing runs. */
static char *pod_body(long i) {
  return xasprintf(
      "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"bench-pod-%06ld\","
      "\"labels\":{\"app\":\"bench-web\",\"tier\":\"frontend\",\"pod-template-hash\":"
      "\"5d4f8b9c7\"}},\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":"
      "\"registry.k8s.io/nginx-slim:0.27\",\"ports\":[{\"name\":\"http\",\"containerPort\":80,"
      "\"protocol\":\"TCP\"}],\"env\":[{\"name\":\"INDEX\",\"value\":\"%ld\"}],\"resources\":{"
      "\"requests\":{\"cpu\":\"100m\",\"memory\":\"64Mi\"},\"limits\":{\"cpu\":\"500m\","
      "\"memory\":\"128Mi\"}},\"readinessProbe\":{\"httpGet\":{\"path\":\"/\",\"port\":80},"
      "\"periodSeconds\":10}}],\"restartPolicy\":\"Always\",\"nodeSelector\":{"
      "\"bench.ckube.io/no-such-node\":\"true\"}}}",
      i, i);
}

/* The resourceVersion from an object response, without a full parse. */
static bool extract_rv(const char *body, char rv[static 32]) {
  const char *p = strstr(body, "\"resourceVersion\":\"");
  if (!p)
    return false;
  p += 19;
  size_t n = strcspn(p, "\"");
  if (n == 0 || n >= 32)
    return false;
  memcpy(rv, p, n);
  rv[n] = 0;
  return true;
}

/* ---- load phases ---- */

struct phase;
typedef void (*phase_op)(struct phase *ph, long i, struct lat *lat, struct lat *lat2);

struct phase {
  const char *name;
  struct bench *b;
  phase_op op;
  long n;
  atomic_long next;
  double deadline;
  atomic_long ok, errors;
  pthread_mutex_t mu;
  struct lat lat, lat2;
  double elapsed;
};

/* The load phases' own client, one per client thread: N client threads are exactly N
 * connections, each reused by its thread alone. */
static __thread struct rest_client *thread_client;

static double timed(struct bench *b, struct rest_request *req, struct rest_response *resp,
                    int *ret_r) {
  double t0 = now_s();
  _cleanup_free_ char *err = NULL;
  int r = rest_do(thread_client ? thread_client : b->c, req, resp, &err);
  double ms = (now_s() - t0) * 1000.0;
  if (r < 0)
    note_error(b, req->method ? req->method : "GET", 0, err);
  *ret_r = r;
  return ms;
}

static bool expect(struct phase *ph, const char *what, int r, const struct rest_response *resp,
                   long want) {
  if (r < 0) {
    atomic_fetch_add(&ph->errors, 1);
    return false;
  }
  if (resp->status != want) {
    _cleanup_free_ char *w = xasprintf("%s (%s)", what, ph->name);
    note_error(ph->b, w, resp->status, resp->body);
    atomic_fetch_add(&ph->errors, 1);
    return false;
  }
  return true;
}

static void op_cm_create(struct phase *ph, long i, struct lat *lat, struct lat *lat2) {
  struct bench *b = ph->b;
  _cleanup_free_ char *body = configmap_body(i);
  struct rest_request req = {.method = "POST", .path = b->cm_path, .body = body,
                             .body_len = strlen(body)};
  _cleanup_rest_response_ struct rest_response resp = {0};
  int r;
  double ms = timed(b, &req, &resp, &r);
  char what[64];
  snprintf(what, sizeof(what), "create configmap bench-cm-%06ld", i);
  if (!expect(ph, what, r, &resp, 201))
    return;
  lat_add(lat, ms);
  b->cms[i].exists = true;
  extract_rv(resp.body, b->cms[i].rv);

  _cleanup_free_ char *path = xasprintf("%s/bench-cm-%06ld", b->cm_path, i);
  struct rest_request get = {.path = path};
  _cleanup_rest_response_ struct rest_response resp2 = {0};
  ms = timed(b, &get, &resp2, &r);
  if (!expect(ph, "get configmap", r, &resp2, 200))
    return;
  lat_add(lat2, ms);
  atomic_fetch_add(&ph->ok, 1);
}

static void op_pod_create(struct phase *ph, long i, struct lat *lat, struct lat *lat2) {
  struct bench *b = ph->b;
  _cleanup_free_ char *body = pod_body(i);
  struct rest_request req = {.method = "POST", .path = b->pod_path, .body = body,
                             .body_len = strlen(body)};
  _cleanup_rest_response_ struct rest_response resp = {0};
  int r;
  double ms = timed(b, &req, &resp, &r);
  char what[64];
  snprintf(what, sizeof(what), "create pod bench-pod-%06ld", i);
  if (!expect(ph, what, r, &resp, 201))
    return;
  b->pods[i].exists = true;
  lat_add(lat, ms);
  atomic_fetch_add(&ph->ok, 1);
}

static void op_cm_get(struct phase *ph, long i, struct lat *lat, struct lat *lat2) {
  struct bench *b = ph->b;
  if (!b->cms[i].exists)
    return;
  _cleanup_free_ char *path = xasprintf("%s/bench-cm-%06ld", b->cm_path, i);
  struct rest_request req = {.path = path};
  _cleanup_rest_response_ struct rest_response resp = {0};
  int r;
  double ms = timed(b, &req, &resp, &r);
  if (!expect(ph, "get configmap", r, &resp, 200))
    return;
  lat_add(lat, ms);
  atomic_fetch_add(&ph->ok, 1);
}

static void op_cm_update(struct phase *ph, long i, struct lat *lat, struct lat *lat2) {
  struct bench *b = ph->b;
  if (!b->cms[i].exists || !b->cms[i].rv[0])
    return;
  _cleanup_free_ char *path = xasprintf("%s/bench-cm-%06ld", b->cm_path, i);
  _cleanup_free_ char *body = xasprintf(
      "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"bench-cm-%06ld\","
      "\"resourceVersion\":\"%s\",\"labels\":{\"app\":\"bench\"}},\"data\":{\"index\":\"%ld\","
      "\"key\":\"an updated value of a typical small size\"}}",
      i, b->cms[i].rv, i);
  struct rest_request req = {.method = "PUT", .path = path, .body = body,
                             .body_len = strlen(body)};
  _cleanup_rest_response_ struct rest_response resp = {0};
  int r;
  double ms = timed(b, &req, &resp, &r);
  if (!expect(ph, "update configmap", r, &resp, 200))
    return;
  extract_rv(resp.body, b->cms[i].rv);
  lat_add(lat, ms);
  atomic_fetch_add(&ph->ok, 1);
}

static void delete_one(struct phase *ph, const char *base, const char *fmt, struct obj *o,
                       long i, struct lat *lat) {
  if (!o->exists)
    return;
  char name[64];
  snprintf(name, sizeof(name), fmt, i);
  _cleanup_free_ char *path = xasprintf("%s/%s", base, name);
  struct rest_request req = {.method = "DELETE", .path = path};
  _cleanup_rest_response_ struct rest_response resp = {0};
  int r;
  double ms = timed(ph->b, &req, &resp, &r);
  /* 202 Accepted: deletion pending behind finalizers or grace; the object is going. */
  if (r == 0 && (resp.status == 200 || resp.status == 202)) {
    o->exists = false;
    lat_add(lat, ms);
    atomic_fetch_add(&ph->ok, 1);
    return;
  }
  expect(ph, "delete", r, &resp, 200);
}

static void op_cm_delete(struct phase *ph, long i, struct lat *lat, struct lat *lat2) {
  delete_one(ph, ph->b->cm_path, "bench-cm-%06ld", &ph->b->cms[i], i, lat);
}

static void op_pod_delete(struct phase *ph, long i, struct lat *lat, struct lat *lat2) {
  delete_one(ph, ph->b->pod_path, "bench-pod-%06ld", &ph->b->pods[i], i, lat);
}

static void *phase_worker(void *p) {
  struct phase *ph = p;
  struct lat lat = {0}, lat2 = {0};
  if (rest_client_new_from_creds(ph->b->creds, &thread_client, NULL) < 0)
    thread_client = NULL; /* then the shared client serves */
  for (;;) {
    if (ph->deadline && now_s() > ph->deadline)
      break;
    long i = atomic_fetch_add(&ph->next, 1);
    if (i >= ph->n)
      break;
    ph->op(ph, i, &lat, &lat2);
  }
  rest_client_free(TAKE_PTR(thread_client));
  pthread_mutex_lock(&ph->mu);
  lat_merge(&ph->lat, &lat);
  lat_merge(&ph->lat2, &lat2);
  pthread_mutex_unlock(&ph->mu);
  free(lat.v);
  free(lat2.v);
  return NULL;
}

/* Runs `op` over indices [0, n) on the configured number of clients; with `bounded` it
 * stops taking new indices after --duration seconds. Returns the indices handed out. */
static long phase_run(struct bench *b, struct phase *ph, const char *name, phase_op op, long n,
                      bool bounded) {
  *ph = (struct phase){.name = name, .b = b, .op = op, .n = n};
  pthread_mutex_init(&ph->mu, NULL);
  atomic_init(&ph->next, 0);
  fprintf(stderr, "bench: %s (%ld, %d clients)...\n", name, n, b->o.clients);
  double t0 = now_s();
  if (bounded)
    ph->deadline = t0 + b->o.duration;
  pthread_t *t = xcalloc((size_t)b->o.clients, sizeof(*t));
  int started = 0;
  for (int k = 0; k < b->o.clients; k++)
    if (pthread_create(&t[k], NULL, phase_worker, ph) == 0)
      started++;
  for (int k = 0; k < started; k++)
    pthread_join(t[k], NULL);
  free(t);
  ph->elapsed = now_s() - t0;
  lat_sort(&ph->lat);
  lat_sort(&ph->lat2);
  long handed = atomic_load(&ph->next);
  if (atomic_load(&ph->errors))
    b->failed = true;
  return handed < n ? handed : n;
}

static void phase_free(struct phase *ph) {
  free(ph->lat.v);
  free(ph->lat2.v);
  pthread_mutex_destroy(&ph->mu);
}

static void print_row(const char *name, long ops, double secs, const struct lat *l, long errors) {
  printf("%-26s %8ld %10.0f %9.2f %9.2f %9.2f %7ld\n", name, ops, secs > 0 ? ops / secs : 0,
         lat_pct(l, 0.50), lat_pct(l, 0.99), l->n ? l->v[l->n - 1] : NAN, errors);
}

/* ---- list ---- */

struct list_result {
  struct lat runs;
  long items;
  size_t bytes;
  bool ok;
};

static void list_configmaps(struct bench *b, struct list_result *res) {
  *res = (struct list_result){.ok = true};
  for (int k = 0; k < b->o.list_runs; k++) {
    struct rest_request req = {.path = b->cm_path};
    _cleanup_rest_response_ struct rest_response resp = {0};
    int r;
    double ms = timed(b, &req, &resp, &r);
    if (r < 0 || resp.status != 200) {
      if (r == 0)
        note_error(b, "list configmaps", resp.status, resp.body);
      res->ok = false;
      b->failed = true;
      return;
    }
    lat_add(&res->runs, ms);
    res->bytes = resp.body_len;
    if (k == 0) {
      /* Counting items needs a parse; done once, outside the measured call. */
      _cleanup_json_ json_t *o = NULL;
      if (json_decode(resp.body, resp.body_len, &o, NULL) == 0)
        res->items = (long)json_array_size(json_object_get(o, "items"));
    }
  }
  lat_sort(&res->runs);
}

/* ---- watch delivery ---- */

struct watch_bench;

struct watcher {
  struct watch_bench *wb;
  int id;
  long status;
  bool opened;
  bool saw_sentinel;
  long received;
  long errors;
};

struct watch_bench {
  struct bench *b;
  int n_watchers;
  long n_events;
  struct watcher *w;
  double *recv_at;    /* [watcher][seq], monotonic seconds, 0 = not received */
  double *written_at; /* [seq]: when the write returned */
  atomic_int opened;
  atomic_int sentinel_seen;
  atomic_long delivered;
  struct rest_streams *groups[MAX_WATCH_THREADS];
  int n_groups;
};

static int on_watch_line(void *ud, long status, const char *line, size_t len) {
  struct watcher *w = ud;
  struct watch_bench *wb = w->wb;
  double t = now_s();
  if (!line) {
    w->status = status;
    if (!w->opened) {
      w->opened = true;
      atomic_fetch_add(&wb->opened, 1);
    }
    return status != 200;
  }
  /* Parsing a thousand copies of each event would measure this client, not the server:
   * find the annotation by its text. */
  static const char key[] = "\"" SEQ_ANNOTATION "\":\"";
  const char *p = strstr(line, key);
  if (p) {
    char *end;
    long seq = strtol(p + sizeof(key) - 1, &end, 10);
    if (*end != '"')
      seq = -1;
    if (seq >= 0 && seq < wb->n_events) {
      double *slot = &wb->recv_at[(size_t)w->id * (size_t)wb->n_events + (size_t)seq];
      if (*slot == 0) {
        *slot = t;
        w->received++;
        atomic_fetch_add(&wb->delivered, 1);
      }
    }
    return 0;
  }
  if (!w->saw_sentinel && strstr(line, "\"" SENTINEL_NAME "\"")) {
    w->saw_sentinel = true;
    atomic_fetch_add(&wb->sentinel_seen, 1);
    return 0;
  }
  if (strstr(line, "\"type\":\"ERROR\""))
    w->errors++;
  return 0;
}

static void *watch_group_main(void *p) {
  rest_streams_run(p, 0);
  return NULL;
}

static void sleep_s(double s) {
  if (s <= 0)
    return;
  struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};
  nanosleep(&ts, NULL);
}

struct watch_result {
  int watchers, opened, complete;
  long events, written, write_errors, missing;
  struct lat lat;
  long negative; /* events seen before their write returned */
  double write_secs;
  bool ran;
};

static void watch_run(struct bench *b, struct watch_result *res) {
  *res = (struct watch_result){0};
  long targets = b->n_cms < WATCH_OBJECTS ? b->n_cms : WATCH_OBJECTS;
  if (b->o.watchers <= 0 || targets <= 0)
    return;
  res->ran = true;
  struct watch_bench wb = {.b = b, .n_watchers = b->o.watchers};
  long events = (long)(b->o.watch_rate * b->o.watch_duration);
  if (events > MAX_WATCH_EVENTS)
    events = MAX_WATCH_EVENTS;
  if (events < 1)
    events = 1;
  wb.n_events = events;
  wb.w = xcalloc((size_t)wb.n_watchers, sizeof(*wb.w));
  wb.recv_at = xcalloc((size_t)wb.n_watchers * (size_t)events, sizeof(double));
  wb.written_at = xcalloc((size_t)events, sizeof(double));
  atomic_init(&wb.opened, 0);
  atomic_init(&wb.sentinel_seen, 0);
  atomic_init(&wb.delivered, 0);

  /* Watch from "now": the list's resourceVersion, as an informer does. */
  _cleanup_rest_response_ struct rest_response lr = {0};
  char rv[32] = "";
  if (rest_do(b->c, &(struct rest_request){.path = b->cm_path, .query = "limit=1"}, &lr, NULL) ==
          0 &&
      lr.status == 200)
    extract_rv(lr.body, rv);
  _cleanup_free_ char *query =
      rv[0] ? xasprintf("watch=1&resourceVersion=%s", rv) : xstrdup("watch=1");

  wb.n_groups = b->o.watch_threads;
  if (wb.n_groups > wb.n_watchers)
    wb.n_groups = wb.n_watchers;
  for (int g = 0; g < wb.n_groups; g++)
    if (rest_streams_new(b->c, &wb.groups[g]) < 0)
      abort();
  for (int k = 0; k < wb.n_watchers; k++) {
    wb.w[k] = (struct watcher){.wb = &wb, .id = k};
    rest_streams_add(wb.groups[k % wb.n_groups], b->cm_path, query, on_watch_line, &wb.w[k]);
  }
  fprintf(stderr, "bench: opening %d watches...\n", wb.n_watchers);
  pthread_t th[MAX_WATCH_THREADS];
  for (int g = 0; g < wb.n_groups; g++)
    pthread_create(&th[g], NULL, watch_group_main, wb.groups[g]);

  /* A server may send the response headers only with the first event, so the barrier is
   * an event: every watcher must see the sentinel before the measured writes. */
  double t0 = now_s();
  while (atomic_load(&wb.opened) < wb.n_watchers && now_s() - t0 < 30)
    sleep_s(0.05);
  _cleanup_free_ char *sentinel = xasprintf(
      "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"" SENTINEL_NAME
      "\"}}");
  {
    struct rest_request req = {.method = "POST", .path = b->cm_path, .body = sentinel,
                               .body_len = strlen(sentinel)};
    _cleanup_rest_response_ struct rest_response resp = {0};
    if (rest_do(b->c, &req, &resp, NULL) < 0 || resp.status != 201)
      note_error(b, "create watch sentinel", resp.status, resp.body);
  }
  t0 = now_s();
  while (atomic_load(&wb.sentinel_seen) < wb.n_watchers && now_s() - t0 < 60)
    sleep_s(0.05);
  res->opened = atomic_load(&wb.sentinel_seen);
  fprintf(stderr, "bench: %d/%d watches live; writing %ld updates at %.0f/s...\n", res->opened,
          wb.n_watchers, events, b->o.watch_rate);

  double w0 = now_s();
  for (long seq = 0; seq < events; seq++) {
    sleep_s(w0 + (double)seq / b->o.watch_rate - now_s());
    long i = seq % targets;
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    _cleanup_free_ char *path = xasprintf("%s/bench-cm-%06ld", b->cm_path, i);
    _cleanup_free_ char *patch = xasprintf(
        "{\"metadata\":{\"annotations\":{\"" SEQ_ANNOTATION "\":\"%ld\",\"" SENT_ANNOTATION
        "\":\"%lld.%09ld\"}}}",
        seq, (long long)wall.tv_sec, wall.tv_nsec);
    struct rest_request req = {.method = "PATCH", .path = path, .body = patch,
                               .body_len = strlen(patch),
                               .content_type = "application/merge-patch+json"};
    _cleanup_rest_response_ struct rest_response resp = {0};
    int r = rest_do(b->c, &req, &resp, NULL);
    wb.written_at[seq] = now_s();
    if (r < 0 || resp.status != 200) {
      if (r == 0)
        note_error(b, "patch configmap (watch writer)", resp.status, resp.body);
      res->write_errors++;
      continue;
    }
    res->written++;
  }
  res->write_secs = now_s() - w0;

  /* Wait, bounded, for stragglers: every live watcher should get every written event. */
  long want = res->written * res->opened;
  t0 = now_s();
  while (atomic_load(&wb.delivered) < want && now_s() - t0 < 10)
    sleep_s(0.02);
  for (int g = 0; g < wb.n_groups; g++)
    rest_streams_stop(wb.groups[g]);
  for (int g = 0; g < wb.n_groups; g++) {
    pthread_join(th[g], NULL);
    rest_streams_free(wb.groups[g]);
  }

  res->watchers = wb.n_watchers;
  res->events = events;
  for (int k = 0; k < wb.n_watchers; k++) {
    long got = 0;
    for (long seq = 0; seq < events; seq++) {
      if (wb.written_at[seq] == 0)
        continue;
      double r = wb.recv_at[(size_t)k * (size_t)events + (size_t)seq];
      if (r == 0)
        continue;
      got++;
      double ms = (r - wb.written_at[seq]) * 1000.0;
      if (ms < 0) {
        res->negative++;
        ms = 0;
      }
      lat_add(&res->lat, ms);
    }
    if (got == res->written && res->written > 0)
      res->complete++;
    res->missing += res->written - got;
  }
  lat_sort(&res->lat);
  if (res->complete != wb.n_watchers || res->write_errors)
    b->failed = true;
  free(wb.w);
  free(wb.recv_at);
  free(wb.written_at);
}

/* ---- RSS sampling ---- */

static void *sampler_main(void *p) {
  struct bench *b = p;
  while (atomic_load(&b->sampling)) {
    long kb = rss_kb(b->o.server_pid);
    long peak = atomic_load(&b->rss_peak);
    while (kb > peak && !atomic_compare_exchange_weak(&b->rss_peak, &peak, kb))
      ;
    sleep_s(0.1);
  }
  return NULL;
}

/* ---- namespace and clean-up ---- */

static int create_namespace(struct bench *b) {
  _cleanup_free_ char *body = xasprintf(
      "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\","
      "\"labels\":{\"app\":\"ckube-bench\"}}}",
      b->o.ns);
  struct rest_request req = {.method = "POST", .path = "/api/v1/namespaces", .body = body,
                             .body_len = strlen(body)};
  _cleanup_rest_response_ struct rest_response resp = {0};
  _cleanup_free_ char *err = NULL;
  int r = rest_do(b->c, &req, &resp, &err);
  if (r < 0) {
    fprintf(stderr, "ckube bench api: %s\n", err);
    return r;
  }
  if (resp.status == 409) {
    /* Refuse: the run ends by deleting its namespace, which must not be someone's. */
    fprintf(stderr, "ckube bench api: namespace %s already exists; choose another --namespace\n",
            b->o.ns);
    return -EEXIST;
  }
  if (resp.status != 201) {
    fprintf(stderr, "ckube bench api: creating namespace %s: HTTP %ld %.300s\n", b->o.ns,
            resp.status, resp.body);
    return -EIO;
  }
  return 0;
}

/* Deletes, one by one, whatever a list still shows in the namespace, for the resources
 * the run created. Returns how many objects could not be deleted. */
static long sweep(struct bench *b, const char *base) {
  long left = 0;
  for (int round = 0; round < 3; round++) {
    long status = 0;
    _cleanup_json_ json_t *list = NULL;
    if (rest_do_json(b->c, "GET", base, NULL, NULL, &status, &list, NULL) < 0 || status != 200)
      return -1;
    json_t *items = json_object_get(list, "items");
    left = 0;
    size_t k;
    json_t *it;
    json_array_foreach(items, k, it) {
      const char *name = json_path_str(it, "metadata.name");
      if (!name || json_path(it, "metadata.deletionTimestamp"))
        continue;
      _cleanup_free_ char *path = xasprintf("%s/%s", base, name);
      if (rest_do_json(b->c, "DELETE", path, NULL, NULL, &status, NULL, NULL) < 0 ||
          (status != 200 && status != 202 && status != 404))
        left++;
    }
    if (left == 0)
      break;
  }
  return left;
}

static void cleanup(struct bench *b) {
  long left = sweep(b, b->cm_path);
  long left_pods = sweep(b, b->pod_path);
  _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s", b->o.ns);
  long status = 0;
  int r = rest_do_json(b->c, "DELETE", path, NULL, NULL, &status, NULL, NULL);
  if (left || left_pods || r < 0 || (status != 200 && status != 202)) {
    fprintf(stderr,
            "ckube bench api: clean-up incomplete: %ld configmaps, %ld pods left; namespace "
            "delete: %s %ld\n",
            left, left_pods, r < 0 ? "error" : "HTTP", r < 0 ? (long)r : status);
    b->failed = true;
  }
}

/* ---- the command ---- */

static void api_usage(FILE *f) {
  fputs("Usage: ckube bench api --kubeconfig FILE [FLAGS]\n"
        "\n"
        "Measures an API server through its REST API in a namespace of its own, which it\n"
        "creates and deletes again.\n"
        "\n"
        "  --kubeconfig FILE        credentials and server (required)\n"
        "  --context NAME           kubeconfig context (default: current-context)\n"
        "  --namespace NS           namespace to create (default ckube-bench-PID)\n"
        "  --clients N              concurrent keep-alive clients (default 16)\n"
        "  --duration S             time limit of each load phase (default 30)\n"
        "  --objects N              configmaps to create (default 10000)\n"
        "  --pods N                 pods to create (default 1000)\n"
        "  --list-runs N            full lists of the configmaps (default 5)\n"
        "  --watchers N             concurrent watches (default 1000, 0 = skip)\n"
        "  --watch-rate R           updates per second while watched (default 20)\n"
        "  --watch-duration S       seconds of watched updates (default 10)\n"
        "  --watch-threads N        client threads driving the watches (default 2)\n"
        "  --server-pid PID         report this process's resident memory\n",
        f);
}

static bool parse_num(const char *s, double min, double max, double *ret) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !(v >= min && v <= max))
    return false;
  *ret = v;
  return true;
}

static int parse_opts(int argc, char **argv, struct opts *o) {
  enum { O_KC = 1, O_CTX, O_NS, O_CLIENTS, O_DUR, O_OBJ, O_PODS, O_LIST, O_WATCHERS, O_WRATE,
         O_WDUR, O_WTHREADS, O_PID, O_HELP };
  static const struct option lo[] = {
      {"kubeconfig", required_argument, NULL, O_KC},
      {"context", required_argument, NULL, O_CTX},
      {"namespace", required_argument, NULL, O_NS},
      {"clients", required_argument, NULL, O_CLIENTS},
      {"duration", required_argument, NULL, O_DUR},
      {"objects", required_argument, NULL, O_OBJ},
      {"pods", required_argument, NULL, O_PODS},
      {"list-runs", required_argument, NULL, O_LIST},
      {"watchers", required_argument, NULL, O_WATCHERS},
      {"watch-rate", required_argument, NULL, O_WRATE},
      {"watch-duration", required_argument, NULL, O_WDUR},
      {"watch-threads", required_argument, NULL, O_WTHREADS},
      {"server-pid", required_argument, NULL, O_PID},
      {"help", no_argument, NULL, O_HELP},
      {NULL, 0, NULL, 0}};
  *o = (struct opts){.clients = 16, .duration = 30, .objects = 10000, .pods = 1000,
                     .watchers = 1000, .watch_rate = 20, .watch_duration = 10,
                     .watch_threads = 2, .list_runs = 5};
  optind = 1;
  int c;
  double v;
  while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
    bool ok = true;
    switch (c) {
    case O_KC:
      o->kubeconfig = optarg;
      break;
    case O_CTX:
      o->context = optarg;
      break;
    case O_NS:
      o->ns = optarg;
      break;
    case O_CLIENTS:
      if ((ok = parse_num(optarg, 1, 1024, &v)))
        o->clients = (int)v;
      break;
    case O_DUR:
      if ((ok = parse_num(optarg, 0.1, 3600, &v)))
        o->duration = v;
      break;
    case O_OBJ:
      if ((ok = parse_num(optarg, 0, 1e6, &v)))
        o->objects = (long)v;
      break;
    case O_PODS:
      if ((ok = parse_num(optarg, 0, 1e6, &v)))
        o->pods = (long)v;
      break;
    case O_LIST:
      if ((ok = parse_num(optarg, 0, 1000, &v)))
        o->list_runs = (int)v;
      break;
    case O_WATCHERS:
      if ((ok = parse_num(optarg, 0, 10000, &v)))
        o->watchers = (int)v;
      break;
    case O_WRATE:
      if ((ok = parse_num(optarg, 0.1, 10000, &v)))
        o->watch_rate = v;
      break;
    case O_WDUR:
      if ((ok = parse_num(optarg, 0.1, 600, &v)))
        o->watch_duration = v;
      break;
    case O_WTHREADS:
      if ((ok = parse_num(optarg, 1, MAX_WATCH_THREADS, &v)))
        o->watch_threads = (int)v;
      break;
    case O_PID:
      if ((ok = parse_num(optarg, 1, 4194304, &v)))
        o->server_pid = (long)v;
      break;
    case O_HELP:
      api_usage(stdout);
      return 1;
    default:
      api_usage(stderr);
      return -EINVAL;
    }
    if (!ok) {
      fprintf(stderr, "ckube bench api: invalid value \"%s\" for --%s\n", optarg,
              lo[c - 1].name);
      return -EINVAL;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "ckube bench api: unexpected argument %s\n", argv[optind]);
    return -EINVAL;
  }
  if (!o->kubeconfig) {
    fputs("ckube bench api: --kubeconfig is required\n", stderr);
    return -EINVAL;
  }
  return 0;
}

static void print_mb(const char *what, long kb) {
  if (kb < 0)
    printf("  %-12s  n/a\n", what);
  else
    printf("  %-12s %8.1f MB\n", what, (double)kb / 1024.0);
}

static int bench_api(int argc, char **argv) {
  struct bench b = {0};
  int r = parse_opts(argc, argv, &b.o);
  if (r != 0)
    return r > 0 ? 0 : 2;
  _cleanup_free_ char *default_ns = xasprintf("ckube-bench-%ld", (long)getpid());
  if (!b.o.ns)
    b.o.ns = default_ns;

  _cleanup_kubeconfig_creds_ struct kubeconfig_creds *creds = NULL;
  _cleanup_free_ char *err = NULL;
  if (kubeconfig_load(b.o.kubeconfig, b.o.context, &creds, &err) < 0) {
    fprintf(stderr, "ckube bench api: %s: %s\n", b.o.kubeconfig, err);
    return 1;
  }
  _cleanup_rest_client_ struct rest_client *c = NULL;
  if (rest_client_new_from_creds(creds, &c, &err) < 0) {
    fprintf(stderr, "ckube bench api: %s\n", err);
    return 1;
  }
  b.c = c;
  b.creds = creds;
  pthread_mutex_init(&b.mu, NULL);

  long status = 0;
  _cleanup_json_ json_t *version = NULL;
  if (rest_do_json(c, "GET", "/version", NULL, NULL, &status, &version, &err) < 0) {
    fprintf(stderr, "ckube bench api: %s\n", err);
    return 1;
  }
  long rss_idle = b.o.server_pid ? rss_kb(b.o.server_pid) : -1;
  if (b.o.server_pid && rss_idle < 0) {
    fprintf(stderr, "ckube bench api: cannot read /proc/%ld/status\n", b.o.server_pid);
    return 1;
  }
  if (create_namespace(&b) < 0)
    return 1;
  if (b.o.server_pid) {
    atomic_init(&b.rss_peak, rss_idle);
    atomic_init(&b.sampling, true);
    pthread_create(&b.sampler, NULL, sampler_main, &b);
  }
  b.cm_path = xasprintf("/api/v1/namespaces/%s/configmaps", b.o.ns);
  b.pod_path = xasprintf("/api/v1/namespaces/%s/pods", b.o.ns);
  b.cms = xcalloc((size_t)b.o.objects + 1, sizeof(*b.cms));
  b.pods = xcalloc((size_t)b.o.pods + 1, sizeof(*b.pods));

  struct phase cm_create, pod_create, get, update, cm_delete, pod_delete;
  b.n_cms = phase_run(&b, &cm_create, "create configmap + get", op_cm_create, b.o.objects, true);
  b.n_pods = phase_run(&b, &pod_create, "create pod", op_pod_create, b.o.pods, true);
  phase_run(&b, &get, "get configmap", op_cm_get, b.n_cms, true);
  struct list_result list;
  fprintf(stderr, "bench: list configmaps x%d...\n", b.o.list_runs);
  list_configmaps(&b, &list);
  phase_run(&b, &update, "update configmap", op_cm_update, b.n_cms, true);
  struct watch_result watch;
  watch_run(&b, &watch);
  phase_run(&b, &cm_delete, "delete configmap", op_cm_delete, b.n_cms, false);
  phase_run(&b, &pod_delete, "delete pod", op_pod_delete, b.n_pods, false);
  fprintf(stderr, "bench: deleting namespace %s...\n", b.o.ns);
  cleanup(&b);

  long rss_peak = -1, rss_after = -1;
  if (b.o.server_pid) {
    atomic_store(&b.sampling, false);
    pthread_join(b.sampler, NULL);
    rss_peak = atomic_load(&b.rss_peak);
    /* Let the server's per-connection threads and caches wind down before "after". */
    rest_client_free(TAKE_PTR(c));
    b.c = NULL;
    sleep_s(2);
    rss_after = rss_kb(b.o.server_pid);
  }

  const char *git = json_string_value(json_object_get(version, "gitVersion"));
  printf("ckube bench api: server %s (%s), namespace %s, %d clients\n",
         creds->server,
         git ? git : "version unknown", b.o.ns, b.o.clients);
  printf("\n%-26s %8s %10s %9s %9s %9s %7s\n", "operation", "ops", "ops/s", "p50 ms", "p99 ms",
         "max ms", "errors");
  long pairs = atomic_load(&cm_create.ok);
  print_row("create cm (+get), pairs", pairs, cm_create.elapsed, &cm_create.lat,
            atomic_load(&cm_create.errors));
  print_row("  create cm (POST)", (long)cm_create.lat.n, cm_create.elapsed, &cm_create.lat, 0);
  print_row("  get after create", (long)cm_create.lat2.n, cm_create.elapsed, &cm_create.lat2, 0);
  print_row("create pod", atomic_load(&pod_create.ok), pod_create.elapsed, &pod_create.lat,
            atomic_load(&pod_create.errors));
  print_row("get configmap", atomic_load(&get.ok), get.elapsed, &get.lat, atomic_load(&get.errors));
  print_row("update configmap (PUT)", atomic_load(&update.ok), update.elapsed, &update.lat,
            atomic_load(&update.errors));
  print_row("delete configmap", atomic_load(&cm_delete.ok), cm_delete.elapsed, &cm_delete.lat,
            atomic_load(&cm_delete.errors));
  print_row("delete pod", atomic_load(&pod_delete.ok), pod_delete.elapsed, &pod_delete.lat,
            atomic_load(&pod_delete.errors));

  if (list.runs.n)
    printf("\nlist %ld configmaps (%.1f MB): best %.1f ms, median %.1f ms, worst %.1f ms "
           "(%zu runs)\n",
           list.items, (double)list.bytes / 1e6, list.runs.v[0], lat_pct(&list.runs, 0.5),
           list.runs.v[list.runs.n - 1], list.runs.n);
  if (watch.ran) {
    printf("\nwatch: %d watchers (%d live), %ld updates in %.1f s (%ld failed)\n",
           watch.watchers, watch.opened, watch.written, watch.write_secs, watch.write_errors);
    printf("  delivery latency: p50 %.2f ms, p99 %.2f ms, max %.2f ms (%zu deliveries)\n",
           lat_pct(&watch.lat, 0.5), lat_pct(&watch.lat, 0.99),
           watch.lat.n ? watch.lat.v[watch.lat.n - 1] : NAN, watch.lat.n);
    printf("  every event to every watcher: %s (%d/%d watchers complete, %ld deliveries "
           "missing)\n",
           watch.complete == watch.watchers ? "yes" : "NO", watch.complete, watch.watchers,
           watch.missing);
    if (watch.negative)
      printf("  %ld deliveries arrived before their write returned (counted as 0 ms)\n",
             watch.negative);
  }
  if (b.o.server_pid) {
    printf("\nserver RSS (pid %ld):\n", b.o.server_pid);
    print_mb("idle before", rss_idle);
    print_mb("peak", rss_peak);
    print_mb("after", rss_after);
  }
  if (b.first_error)
    printf("\nfirst error: %s\n", b.first_error);
  printf("\nresult: %s\n", b.failed ? "FAILED" : "ok");

  phase_free(&cm_create);
  phase_free(&pod_create);
  phase_free(&get);
  phase_free(&update);
  phase_free(&cm_delete);
  phase_free(&pod_delete);
  free(list.runs.v);
  free(watch.lat.v);
  free(b.cms);
  free(b.pods);
  free(b.cm_path);
  free(b.pod_path);
  free(b.first_error);
  pthread_mutex_destroy(&b.mu);
  return b.failed ? 1 : 0;
}

int cmd_bench(int argc, char **argv) {
  if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
    fputs("Usage: ckube bench BENCHMARK [FLAGS]\n"
          "\n"
          "Benchmarks:\n"
          "  api         API server load: create/get/list/update/delete, watch latency,\n"
          "              memory\n"
          "  scheduler   pods bound per second (needs nodes, e.g. `ckube agent --hollow`)\n"
          "  deployment  time from creating a Deployment to all replicas available\n",
          argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (streq(argv[1], "api"))
    return bench_api(argc - 1, argv + 1);
  if (streq(argv[1], "scheduler") || streq(argv[1], "deployment"))
    return bench_control_plane(argc - 1, argv + 1, streq(argv[1], "deployment"));
  fprintf(stderr, "ckube bench: unknown benchmark \"%s\"\n", argv[1]);
  return 2;
}
