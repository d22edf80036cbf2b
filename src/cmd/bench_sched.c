/* `ckube bench scheduler` and `ckube bench deployment`: control-plane throughput through
 * the API, against any cluster with enough (hollow) nodes.
 *
 *   scheduler   creates N small pods in a namespace of its own with C concurrent
 *               clients, watches them, and reports how fast they were bound: pods/s from
 *               the first bind to the last (kube-scheduler's scheduler_perf figure), and
 *               create→bind latency percentiles;
 *   deployment  creates one Deployment of N replicas and reports the time from the
 *               create to status.availableReplicas == N.
 * The namespace is deleted afterwards. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/kubeconfig.h"
#include "client/rest.h"
#include "cmd/bench.h"
#include "lib/hmap.h"
#include "lib/json.h"
#include "lib/macro.h"

struct sopts {
  const char *kubeconfig, *ns;
  long pods, clients, timeout_s, nodes;
  bool deployment;
};

struct sbench {
  struct sopts o;
  struct rest_client *c;
  char *ns;
  atomic_long next, created, create_errors;
  double *created_at; /* per pod index */
  double *bound_at;
  pthread_mutex_t mu;
  long bound;
  double first_bind, last_bind;
  long available; /* deployment mode */
  double done_at;
  atomic_bool stop;
};

static double mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *creator(void *p) {
  struct sbench *b = p;
  _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/pods", b->ns);
  for (;;) {
    long i = atomic_fetch_add(&b->next, 1);
    if (i >= b->o.pods)
      return NULL;
    _cleanup_free_ char *body = xasprintf(
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p-%ld\","
        "\"labels\":{\"app\":\"bench\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
        "\"image\":\"busybox\",\"resources\":{\"requests\":{\"cpu\":\"10m\","
        "\"memory\":\"10Mi\"}}}]}}",
        i);
    b->created_at[i] = mono();
    _cleanup_rest_response_ struct rest_response resp = {0};
    struct rest_request req = {.method = "POST", .path = path, .body = body,
                               .body_len = strlen(body)};
    if (rest_do(b->c, &req, &resp, NULL) < 0 || resp.status != 201)
      atomic_fetch_add(&b->create_errors, 1);
    else
      atomic_fetch_add(&b->created, 1);
  }
}

static int on_pod_event(void *ud, long status, const char *line, size_t len) {
  struct sbench *b = ud;
  if (!line)
    return status == 200 ? 0 : 1;
  if (atomic_load(&b->stop))
    return 1;
  _cleanup_json_ json_t *ev = NULL;
  if (json_decode(line, len, &ev, NULL) < 0)
    return 0;
  json_t *obj = json_object_get(ev, "object");
  if (b->o.deployment) {
    json_int_t avail = json_integer_value(json_path(obj, "status.availableReplicas"));
    pthread_mutex_lock(&b->mu);
    b->available = avail;
    if (avail >= b->o.pods && !b->done_at)
      b->done_at = mono();
    pthread_mutex_unlock(&b->mu);
    return avail >= b->o.pods;
  }
  const char *name = json_path_str(obj, "metadata.name");
  const char *node = json_path_str(obj, "spec.nodeName");
  if (!name || !node || !*node || strncmp(name, "p-", 2) != 0)
    return 0;
  long i = strtol(name + 2, NULL, 10);
  if (i < 0 || i >= b->o.pods)
    return 0;
  double now = mono();
  pthread_mutex_lock(&b->mu);
  if (!b->bound_at[i]) {
    b->bound_at[i] = now;
    if (!b->bound++)
      b->first_bind = now;
    b->last_bind = now;
  }
  bool all = b->bound >= b->o.pods;
  pthread_mutex_unlock(&b->mu);
  return all;
}

static void *watcher(void *p) {
  struct sbench *b = p;
  _cleanup_free_ char *path = b->o.deployment
                                  ? xasprintf("/apis/apps/v1/namespaces/%s/deployments", b->ns)
                                  : xasprintf("/api/v1/namespaces/%s/pods", b->ns);
  rest_stream_cancellable(b->c, path, "watch=1&resourceVersion=0", b->o.timeout_s * 1000,
                          &b->stop, on_pod_event, b, NULL);
  return NULL;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static long count_ready_nodes(struct sbench *b) {
  _cleanup_json_ json_t *list = NULL;
  long status;
  if (rest_do_json(b->c, "GET", "/api/v1/nodes", NULL, NULL, &status, &list, NULL) < 0 ||
      status != 200)
    return -1;
  long n = 0;
  json_t *it, *cond;
  size_t i, j;
  json_array_foreach(json_object_get(list, "items"), i, it) {
    json_array_foreach(json_path(it, "status.conditions"), j, cond) {
      if (streq(json_string_value(json_object_get(cond, "type")) ?: "", "Ready") &&
          streq(json_string_value(json_object_get(cond, "status")) ?: "", "True"))
        n++;
    }
  }
  return n;
}

static int parse(int argc, char **argv, struct sopts *o) {
  enum { O_KC = 1, O_NS, O_N, O_CLIENTS, O_TIMEOUT, O_NODES, O_HELP };
  static const struct option lo[] = {{"kubeconfig", required_argument, NULL, O_KC},
                                     {"namespace", required_argument, NULL, O_NS},
                                     {"pods", required_argument, NULL, O_N},
                                     {"replicas", required_argument, NULL, O_N},
                                     {"clients", required_argument, NULL, O_CLIENTS},
                                     {"timeout", required_argument, NULL, O_TIMEOUT},
                                     {"nodes", required_argument, NULL, O_NODES},
                                     {"help", no_argument, NULL, O_HELP},
                                     {NULL, 0, NULL, 0}};
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
    long *num = NULL;
    switch (c) {
    case O_KC:
      o->kubeconfig = optarg;
      continue;
    case O_NS:
      o->ns = optarg;
      continue;
    case O_N:
      num = &o->pods;
      break;
    case O_CLIENTS:
      num = &o->clients;
      break;
    case O_TIMEOUT:
      num = &o->timeout_s;
      break;
    case O_NODES:
      num = &o->nodes;
      break;
    case O_HELP:
    default:
      fprintf(c == O_HELP ? stdout : stderr,
              "Usage: ckube bench %s --kubeconfig FILE [--%s N] [--clients N] [--nodes N]\n"
              "       [--timeout S] [--namespace NS]\n"
              "  --nodes N   first wait until N nodes are Ready\n",
              o->deployment ? "deployment" : "scheduler", o->deployment ? "replicas" : "pods");
      return c == O_HELP ? 0 : 2;
    }
    char *end;
    *num = strtol(optarg, &end, 10);
    if (*end || *num < 0) {
      fprintf(stderr, "ckube bench: invalid number %s\n", optarg);
      return 2;
    }
  }
  if (!o->kubeconfig) {
    fputs("ckube bench: --kubeconfig is required\n", stderr);
    return 2;
  }
  return -1;
}

int bench_control_plane(int argc, char **argv, bool deployment) {
  struct sbench b = {.o = {.pods = deployment ? 3000 : 10000, .clients = 16, .timeout_s = 600,
                           .deployment = deployment},
                     .mu = PTHREAD_MUTEX_INITIALIZER};
  int r = parse(argc, argv, &b.o);
  if (r >= 0)
    return r;
  _cleanup_free_ char *err = NULL;
  _cleanup_kubeconfig_creds_ struct kubeconfig_creds *creds = NULL;
  if (kubeconfig_load(b.o.kubeconfig, NULL, &creds, &err) < 0 ||
      rest_client_new_from_creds(creds, &b.c, &err) < 0) {
    fprintf(stderr, "ckube bench: %s\n", err);
    return 1;
  }
  b.ns = b.o.ns ? xstrdup(b.o.ns) : xasprintf("ckube-bench-%d", getpid());
  if (b.o.nodes) {
    double t0 = mono();
    long n;
    while ((n = count_ready_nodes(&b)) < b.o.nodes && mono() - t0 < (double)b.o.timeout_s)
      usleep(500000);
    fprintf(stderr, "%ld nodes Ready after %.1f s\n", n, mono() - t0);
  }
  _cleanup_json_ json_t *ns_obj =
      json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Namespace", "metadata",
                "name", b.ns);
  long status;
  if (rest_do_json(b.c, "POST", "/api/v1/namespaces", NULL, ns_obj, &status, NULL, &err) < 0 ||
      status != 201) {
    fprintf(stderr, "ckube bench: creating namespace %s: HTTP %ld\n", b.ns, status);
    rest_client_free(b.c);
    return 1;
  }
  b.created_at = xcalloc((size_t)b.o.pods + 1, sizeof(double));
  b.bound_at = xcalloc((size_t)b.o.pods + 1, sizeof(double));
  pthread_t w;
  pthread_create(&w, NULL, watcher, &b);
  usleep(200000); /* the watch is open before the first create */
  double t0 = mono();
  int rc = 0;
  if (deployment) {
    _cleanup_free_ char *path = xasprintf("/apis/apps/v1/namespaces/%s/deployments", b.ns);
    _cleanup_json_ json_t *d = json_pack(
        "{s:s, s:s, s:{s:s}, s:{s:I, s:{s:{s:s}}, s:{s:{s:{s:s}}, s:{s:[{s:s, s:s, "
        "s:{s:{s:s, s:s}}}]}}}}",
        "apiVersion", "apps/v1", "kind", "Deployment", "metadata", "name", "bench", "spec",
        "replicas", (json_int_t)b.o.pods, "selector", "matchLabels", "app", "bench",
        "template", "metadata", "labels", "app", "bench", "spec", "containers", "name", "c",
        "image", "busybox", "resources", "requests", "cpu", "10m", "memory", "10Mi");
    if (rest_do_json(b.c, "POST", path, NULL, d, &status, NULL, NULL) < 0 || status != 201) {
      fprintf(stderr, "ckube bench: creating the deployment: HTTP %ld\n", status);
      rc = 1;
      atomic_store(&b.stop, true);
    }
    pthread_join(w, NULL);
    if (!rc && b.done_at) {
      printf("deployment of %ld replicas: all available after %.2f s\n", b.o.pods,
             b.done_at - t0);
    } else if (!rc) {
      printf("deployment of %ld replicas: %ld available after %ld s (timeout)\n", b.o.pods,
             b.available, b.o.timeout_s);
      rc = 1;
    }
  } else {
    long nc = b.o.clients > 0 ? b.o.clients : 1;
    pthread_t *cs = xcalloc((size_t)nc, sizeof(*cs));
    for (long i = 0; i < nc; i++)
      pthread_create(&cs[i], NULL, creator, &b);
    for (long i = 0; i < nc; i++)
      pthread_join(cs[i], NULL);
    free(cs);
    double created = mono();
    /* Printed at once: a caller may start the scheduler only now (bench/controlplane.sh). */
    printf("created %ld pods in %.2f s (%.0f/s), %ld create errors\n",
           atomic_load(&b.created), created - t0,
           (double)atomic_load(&b.created) / (created - t0), atomic_load(&b.create_errors));
    fflush(stdout);
    pthread_join(w, NULL);
    long n = b.bound;
    if (n > 1) {
      double span = b.last_bind - b.first_bind;
      printf("bound %ld pods: first bind to last %.2f s = %.0f pods/s; create to last bind "
             "%.2f s\n",
             n, span, span > 0 ? (double)(n - 1) / span : 0, b.last_bind - t0);
      double *lat = xcalloc((size_t)n, sizeof(double));
      long k = 0;
      for (long i = 0; i < b.o.pods; i++)
        if (b.bound_at[i])
          lat[k++] = (b.bound_at[i] - b.created_at[i]) * 1000;
      qsort(lat, (size_t)k, sizeof(double), cmp_d);
      printf("create-to-bind latency: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
             lat[k / 2], lat[(k * 99) / 100], lat[k - 1]);
      free(lat);
    }
    if (n < b.o.pods) {
      printf("only %ld of %ld pods bound within %ld s\n", n, b.o.pods, b.o.timeout_s);
      rc = 1;
    }
  }
  /* Clean-up: the namespace controller removes what is in it. */
  _cleanup_free_ char *ns_path = xasprintf("/api/v1/namespaces/%s", b.ns);
  rest_do_json(b.c, "DELETE", ns_path, NULL, NULL, &status, NULL, NULL);
  free(b.created_at);
  free(b.bound_at);
  free(b.ns);
  rest_client_free(b.c);
  return rc;
}
