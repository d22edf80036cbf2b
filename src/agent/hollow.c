/* hollow.c — simulated kubelets (see hollow.h). */
#include "agent/hollow.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent/podstatus.h"
#include "client/informer.h"
#include "client/kubeconfig.h"
#include "client/rest.h"
#include "client/workqueue.h"
#include "lib/hmap.h"
#include "lib/quantity.h"
#include "lib/timeutil.h"
#include "lib/validation.h"

#define HOLLOW_KUBELET_VERSION "v1.32.0"
#define HOLLOW_LEASE_NS "kube-node-lease"
#define HOLLOW_LEASE_PERIOD_MS 10000L
#define HOLLOW_LEASE_DURATION_S 40
#define HOLLOW_STATUS_PERIOD_S 300
/* How long a pod shows ContainerCreating before its containers run. */
#define HOLLOW_CREATE_MS 100L
/* Kubelet kills containers within the grace period; a hollow one needs at most this. */
#define HOLLOW_KILL_MAX_MS 1000L
#define HOLLOW_ANN_RUN_SECONDS "hollow.ckube.io/run-seconds"
#define HOLLOW_ANN_EXIT_CODE "hollow.ckube.io/exit-code"

struct hnode {
  char *name;
  unsigned index;
  char ip[16];
  char *uid;
  json_t *lease;      /* the lease thread's last copy (for its resourceVersion) */
  time_t last_status; /* when the status was last posted (lease thread only) */
  time_t ready_since; /* lastTransitionTime of the conditions */
  uint64_t used[4];   /* pod IP host numbers in use (under hollow.lock) */
};

enum hpod_stage { HPOD_CREATING, HPOD_RUNNING, HPOD_EXITED, HPOD_DONE };

struct hpod {
  char *uid;
  struct hnode *node;
  enum hpod_stage stage;
  long long accepted_ms;
  long long run_start_ms; /* when the current run began */
  time_t started_at;
  int restarts;
  bool has_last;
  struct podstatus_termination last;
  int exit_code;
  time_t finished_at;
  char ip[16];
  int ip_host;          /* -1: not from the bitmap */
  long long kill_at_ms; /* 0: not being killed */
};

struct hollow {
  struct hollow_config cfg;
  struct rest_client *client;
  struct hnode *nodes;
  size_t n_nodes;
  struct hmap by_name; /* node name → hnode; read-only once started */
  json_t *taints, *labels;

  struct informer *pods;
  struct informer *node_inf;
  struct workqueue *queue;
  pthread_t *workers;
  int n_workers;
  pthread_t lease_thread;
  bool lease_started;

  pthread_mutex_t lock; /* states, node IP bitmaps */
  struct hmap states;   /* pod key → hpod */

  pthread_mutex_t stop_lock;
  pthread_cond_t stop_cond;
  atomic_bool stopping;
  atomic_ulong pod_writes;
};

static const char *str_of(const json_t *obj, const char *key) {
  const json_t *v = json_object_get(obj, key);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

static json_t *json_string_take(char *s) {
  json_t *v = json_string(s);
  free(s);
  return v;
}

/* ---- flag parsing ---- */

static bool valid_with(int (*check)(const char *, char ***), const char *v, char **ret_msg) {
  _cleanup_valid_msgs_ char **m = NULL;
  check(v, &m);
  if (valid_msgs_count(m) == 0)
    return true;
  *ret_msg = valid_msgs_join(m, "; ");
  return false;
}

int hollow_parse_labels(const char *s, json_t **ret, char **ret_err) {
  _cleanup_json_ json_t *labels = json_object();
  _cleanup_free_ char *copy = xstrdup(s ? s : "");
  char *save = NULL;
  for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(tok, '=');
    if (!eq)
      return set_error(ret_err, -EINVAL, "invalid node label %s: want key=value", tok);
    *eq = '\0';
    _cleanup_free_ char *msg = NULL;
    if (!valid_with(valid_label_key, tok, &msg) || !valid_with(valid_label_value, eq + 1, &msg))
      return set_error(ret_err, -EINVAL, "invalid node label %s=%s: %s", tok, eq + 1, msg);
    json_object_set_new(labels, tok, json_string(eq + 1));
  }
  *ret = TAKE_PTR(labels);
  return 0;
}

int hollow_parse_taints(const char *s, json_t **ret, char **ret_err) {
  _cleanup_json_ json_t *taints = json_array();
  _cleanup_free_ char *copy = xstrdup(s ? s : "");
  char *save = NULL;
  for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    char *colon = strrchr(tok, ':');
    if (!colon)
      return set_error(ret_err, -EINVAL, "invalid node taint %s: want key[=value]:Effect", tok);
    *colon = '\0';
    const char *effect = colon + 1;
    if (!streq(effect, "NoSchedule") && !streq(effect, "PreferNoSchedule") &&
        !streq(effect, "NoExecute"))
      return set_error(ret_err, -EINVAL,
                       "invalid node taint effect %s: want NoSchedule, PreferNoSchedule or "
                       "NoExecute",
                       effect);
    char *eq = strchr(tok, '=');
    const char *value = NULL;
    if (eq) {
      *eq = '\0';
      value = eq + 1;
    }
    _cleanup_free_ char *msg = NULL;
    if (!valid_with(valid_label_key, tok, &msg) ||
        (value && !valid_with(valid_label_value, value, &msg)))
      return set_error(ret_err, -EINVAL, "invalid node taint %s: %s", tok, msg);
    json_t *t = json_object();
    json_object_set_new(t, "key", json_string(tok));
    if (value && *value)
      json_object_set_new(t, "value", json_string(value));
    json_object_set_new(t, "effect", json_string(effect));
    json_array_append_new(taints, t);
  }
  *ret = TAKE_PTR(taints);
  return 0;
}

/* ---- REST ---- */

static int rest_merge_patch(struct hollow *h, const char *path, const json_t *patch,
                            long *ret_status) {
  _cleanup_free_ char *body = json_encode(patch);
  _cleanup_rest_response_ struct rest_response resp = {0};
  int r = rest_do(h->client,
                  &(struct rest_request){.method = "PATCH",
                                         .path = path,
                                         .body = body,
                                         .body_len = strlen(body),
                                         .content_type = "application/merge-patch+json"},
                  &resp, NULL);
  if (r < 0)
    return r;
  *ret_status = resp.status;
  return 0;
}

/* ---- nodes ---- */

static void node_ip(unsigned index, char buf[16]) {
  /* 10.240.0.0/12 holds a million fake node addresses; .0 and .1 are skipped. */
  uint32_t a = (10u << 24) | (240u << 16);
  a += index + 2;
  snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static json_t *node_condition(const char *type, const char *status, const char *reason,
                              const char *message, const char *heartbeat, const char *transition) {
  json_t *c = json_object();
  json_object_set_new(c, "type", json_string(type));
  json_object_set_new(c, "status", json_string(status));
  json_object_set_new(c, "lastHeartbeatTime", json_string(heartbeat));
  json_object_set_new(c, "lastTransitionTime", json_string(transition));
  json_object_set_new(c, "reason", json_string(reason));
  json_object_set_new(c, "message", json_string(message));
  return c;
}

static json_t *resource_list(const struct hollow *h) {
  json_t *r = json_object();
  json_object_set_new(r, "cpu", json_string(h->cfg.cpu));
  json_object_set_new(r, "ephemeral-storage", json_string("100Gi"));
  json_object_set_new(r, "hugepages-1Gi", json_string("0"));
  json_object_set_new(r, "hugepages-2Mi", json_string("0"));
  json_object_set_new(r, "memory", json_string(h->cfg.memory));
  json_object_set_new(r, "pods", json_string(h->cfg.pods));
  return r;
}

/* A stable fake identifier of 32 hex digits from a name (machine ID, boot ID). */
static void fake_id(const char *seed, const char *salt, char out[33]) {
  uint64_t a = 1469598103934665603ull, b = 1099511628211ull * 31;
  for (const char *p = seed; *p; p++)
    a = (a ^ (unsigned char)*p) * 1099511628211ull;
  for (const char *p = salt; *p; p++)
    a = (a ^ (unsigned char)*p) * 1099511628211ull;
  b ^= a * 0x9e3779b97f4a7c15ull;
  b = (b ^ (b >> 29)) * 0xbf58476d1ce4e5b9ull;
  snprintf(out, 33, "%016llx%016llx", (unsigned long long)a, (unsigned long long)b);
}

static json_t *node_status(const struct hollow *h, const struct hnode *n) {
  _cleanup_free_ char *now = timeutil_now();
  _cleanup_free_ char *since = timeutil_format(n->ready_since);
  json_t *st = json_object();
  json_object_set_new(st, "capacity", resource_list(h));
  json_object_set_new(st, "allocatable", resource_list(h));
  json_t *conds = json_array();
  json_array_append_new(conds,
                        node_condition("MemoryPressure", "False", "KubeletHasSufficientMemory",
                                       "kubelet has sufficient memory available", now, since));
  json_array_append_new(conds, node_condition("DiskPressure", "False", "KubeletHasNoDiskPressure",
                                              "kubelet has no disk pressure", now, since));
  json_array_append_new(conds, node_condition("PIDPressure", "False", "KubeletHasSufficientPID",
                                              "kubelet has sufficient PID available", now, since));
  json_array_append_new(conds, node_condition("Ready", "True", "KubeletReady",
                                              "kubelet is posting ready status", now, since));
  json_object_set_new(st, "conditions", conds);
  json_t *addrs = json_array();
  json_t *a = json_object();
  json_object_set_new(a, "type", json_string("InternalIP"));
  json_object_set_new(a, "address", json_string(n->ip));
  json_array_append_new(addrs, a);
  a = json_object();
  json_object_set_new(a, "type", json_string("Hostname"));
  json_object_set_new(a, "address", json_string(n->name));
  json_array_append_new(addrs, a);
  json_object_set_new(st, "addresses", addrs);
  json_t *ep = json_object();
  json_t *port = json_object();
  json_object_set_new(port, "Port", json_integer(10250));
  json_object_set_new(ep, "kubeletEndpoint", port);
  json_object_set_new(st, "daemonEndpoints", ep);
  char machine[33], boot[33];
  fake_id(n->name, "machine", machine);
  fake_id(n->name, "boot", boot);
  json_t *info = json_object();
  json_object_set_new(info, "machineID", json_string(machine));
  json_object_set_new(info, "systemUUID",
                      json_string_take(xasprintf("%.8s-%.4s-%.4s-%.4s-%.12s", machine, machine + 8,
                                                 machine + 12, machine + 16, machine + 20)));
  json_object_set_new(info, "bootID", json_string(boot));
  json_object_set_new(info, "kernelVersion", json_string("6.1.0-hollow"));
  json_object_set_new(info, "osImage", json_string("Debian GNU/Linux 12 (bookworm)"));
  json_object_set_new(info, "containerRuntimeVersion", json_string("hollow://1.0"));
  json_object_set_new(info, "kubeletVersion", json_string(HOLLOW_KUBELET_VERSION));
  json_object_set_new(info, "kubeProxyVersion", json_string(HOLLOW_KUBELET_VERSION));
  json_object_set_new(info, "operatingSystem", json_string("linux"));
  json_object_set_new(info, "architecture", json_string("amd64"));
  json_object_set_new(st, "nodeInfo", info);
  return st;
}

static json_t *node_labels(const struct hollow *h, const struct hnode *n) {
  json_t *l = json_object();
  json_object_set_new(l, "beta.kubernetes.io/arch", json_string("amd64"));
  json_object_set_new(l, "beta.kubernetes.io/os", json_string("linux"));
  json_object_set_new(l, "kubernetes.io/arch", json_string("amd64"));
  json_object_set_new(l, "kubernetes.io/hostname", json_string(n->name));
  json_object_set_new(l, "kubernetes.io/os", json_string("linux"));
  json_object_update(l, h->labels);
  return l;
}

static json_t *node_annotations(void) {
  json_t *a = json_object();
  json_object_set_new(a, "node.alpha.kubernetes.io/ttl", json_string("0"));
  json_object_set_new(a, "volumes.kubernetes.io/controller-managed-attach-detach",
                      json_string("true"));
  return a;
}

static int node_post_status(struct hollow *h, struct hnode *n) {
  _cleanup_json_ json_t *patch = json_object();
  json_object_set_new(patch, "status", node_status(h, n));
  _cleanup_free_ char *path = xasprintf("/api/v1/nodes/%s/status", n->name);
  long status = 0;
  int r = rest_merge_patch(h, path, patch, &status);
  if (r < 0)
    return r;
  if (status >= 300)
    return status == 404 ? -ENOENT : -EIO;
  n->last_status = time(NULL);
  return 0;
}

/* Creates the node, or reconciles the one a previous run left (labels and annotations
 * this agent sets win; taints and the rest stay), then posts its status. */
static int node_register(struct hollow *h, struct hnode *n, char **ret_err) {
  _cleanup_json_ json_t *node = json_object();
  json_object_set_new(node, "apiVersion", json_string("v1"));
  json_object_set_new(node, "kind", json_string("Node"));
  json_t *md = json_object_ensure(node, "metadata");
  json_object_set_new(md, "name", json_string(n->name));
  json_object_set_new(md, "labels", node_labels(h, n));
  json_object_set_new(md, "annotations", node_annotations());
  json_t *spec = json_object_ensure(node, "spec");
  if (json_array_size(h->taints) > 0)
    json_object_set(spec, "taints", h->taints);
  json_object_set_new(node, "status", node_status(h, n));

  _cleanup_free_ char *err = NULL;
  long status = 0;
  _cleanup_json_ json_t *got = NULL;
  int r = rest_do_json(h->client, "POST", "/api/v1/nodes", NULL, node, &status, &got, &err);
  if (r < 0)
    return set_error(ret_err, r, "registering node %s: %s", n->name, err);
  if (status == 409) {
    _cleanup_free_ char *path = xasprintf("/api/v1/nodes/%s", n->name);
    for (int attempt = 0;; attempt++) {
      json_decref(got);
      got = NULL;
      r = rest_do_json(h->client, "GET", path, NULL, NULL, &status, &got, &err);
      if (r < 0 || status != 200 || !got)
        return set_error(ret_err, r < 0 ? r : -EIO, "reading node %s: HTTP %ld", n->name, status);
      _cleanup_json_ json_t *upd = json_deep_copy(got);
      json_t *umd = json_object_ensure(upd, "metadata");
      json_object_update(json_object_ensure(umd, "labels"), json_object_get(md, "labels"));
      json_object_update(json_object_ensure(umd, "annotations"),
                         json_object_get(md, "annotations"));
      json_decref(got);
      got = NULL;
      r = rest_do_json(h->client, "PUT", path, NULL, upd, &status, &got, &err);
      if (r < 0)
        return set_error(ret_err, r, "updating node %s: %s", n->name, err);
      if (status == 409 && attempt < 5)
        continue;
      break;
    }
  }
  if (status >= 300 || !got)
    return set_error(ret_err, -EIO, "registering node %s: HTTP %ld: %s", n->name, status,
                     got && str_of(got, "message") ? str_of(got, "message") : "");
  const char *uid = json_path_str(got, "metadata.uid");
  n->uid = xstrdup(uid ? uid : "");
  r = node_post_status(h, n);
  if (r < 0)
    return set_error(ret_err, r, "posting the status of node %s", n->name);
  return 0;
}

struct reg_job {
  struct hollow *h;
  size_t start, step;
  int r;
  char *err;
};

static void *reg_thread(void *arg) {
  struct reg_job *j = arg;
  for (size_t i = j->start; i < j->h->n_nodes && j->r == 0; i += j->step)
    j->r = node_register(j->h, &j->h->nodes[i], &j->err);
  return NULL;
}

static int register_all(struct hollow *h, char **ret_err) {
  size_t n = h->n_nodes < 8 ? h->n_nodes : 8;
  struct reg_job jobs[8] = {0};
  pthread_t t[8];
  bool started[8] = {0};
  for (size_t i = 0; i < n; i++) {
    jobs[i] = (struct reg_job){.h = h, .start = i, .step = n};
    started[i] = pthread_create(&t[i], NULL, reg_thread, &jobs[i]) == 0;
    if (!started[i])
      reg_thread(&jobs[i]);
  }
  int r = 0;
  for (size_t i = 0; i < n; i++) {
    if (started[i])
      pthread_join(t[i], NULL);
    if (jobs[i].r < 0 && r == 0) {
      r = jobs[i].r;
      if (ret_err)
        *ret_err = TAKE_PTR(jobs[i].err);
    }
    free(jobs[i].err);
  }
  return r;
}

/* ---- leases ---- */

static json_t *lease_object(const struct hnode *n) {
  json_t *l = json_object();
  json_object_set_new(l, "apiVersion", json_string("coordination.k8s.io/v1"));
  json_object_set_new(l, "kind", json_string("Lease"));
  json_t *md = json_object_ensure(l, "metadata");
  json_object_set_new(md, "name", json_string(n->name));
  json_object_set_new(md, "namespace", json_string(HOLLOW_LEASE_NS));
  if (n->uid && *n->uid) {
    json_t *ref = json_object();
    json_object_set_new(ref, "apiVersion", json_string("v1"));
    json_object_set_new(ref, "kind", json_string("Node"));
    json_object_set_new(ref, "name", json_string(n->name));
    json_object_set_new(ref, "uid", json_string(n->uid));
    json_t *refs = json_array();
    json_array_append_new(refs, ref);
    json_object_set_new(md, "ownerReferences", refs);
  }
  json_t *spec = json_object_ensure(l, "spec");
  json_object_set_new(spec, "holderIdentity", json_string(n->name));
  json_object_set_new(spec, "leaseDurationSeconds", json_integer(HOLLOW_LEASE_DURATION_S));
  return l;
}

static void lease_renew(struct hollow *h, struct hnode *n) {
  _cleanup_free_ char *path =
      xasprintf("/apis/coordination.k8s.io/v1/namespaces/" HOLLOW_LEASE_NS "/leases/%s", n->name);
  long status = 0;
  json_t *got = NULL;
  if (!n->lease) {
    if (rest_do_json(h->client, "GET", path, NULL, NULL, &status, &got, NULL) < 0)
      return;
    if (status == 200 && got)
      n->lease = got;
    else
      json_decref(got);
    got = NULL;
  }
  _cleanup_json_ json_t *lease = n->lease ? json_deep_copy(n->lease) : lease_object(n);
  json_t *spec = json_object_ensure(lease, "spec");
  json_object_set_new(spec, "holderIdentity", json_string(n->name));
  json_object_set_new(spec, "leaseDurationSeconds", json_integer(HOLLOW_LEASE_DURATION_S));
  json_object_set_new(spec, "renewTime", json_string_take(timeutil_now_micro()));
  int r;
  if (n->lease)
    r = rest_do_json(h->client, "PUT", path, NULL, lease, &status, &got, NULL);
  else
    r = rest_do_json(h->client, "POST",
                     "/apis/coordination.k8s.io/v1/namespaces/" HOLLOW_LEASE_NS "/leases", NULL,
                     lease, &status, &got, NULL);
  json_decref(n->lease);
  n->lease = NULL;
  /* On a conflict or an error the next round reads the Lease afresh. */
  if (r == 0 && status < 300 && got)
    n->lease = got;
  else
    json_decref(got);
}

/* Kubelet re-posts its status when the API shows something else than it would report
 * (the node lifecycle controller marked it Unknown) and at least every 5 minutes. */
static bool node_status_stale(struct hollow *h, struct hnode *n) {
  if (time(NULL) - n->last_status >= HOLLOW_STATUS_PERIOD_S)
    return true;
  _cleanup_json_ json_t *node = informer_get(h->node_inf, n->name);
  if (!node)
    return false;
  size_t i;
  json_t *c;
  json_array_foreach(json_path(node, "status.conditions"), i, c) {
    if (streq_ptr(str_of(c, "type"), "Ready"))
      return !streq_ptr(str_of(c, "status"), "True");
  }
  return true;
}

static bool wait_until(struct hollow *h, long long deadline_ms) {
  pthread_mutex_lock(&h->stop_lock);
  while (!atomic_load(&h->stopping)) {
    long long now = timeutil_now_ms(CLOCK_REALTIME);
    if (now >= deadline_ms)
      break;
    struct timespec ts = {.tv_sec = deadline_ms / 1000, .tv_nsec = (deadline_ms % 1000) * 1000000};
    pthread_cond_timedwait(&h->stop_cond, &h->stop_lock, &ts);
  }
  bool stopping = atomic_load(&h->stopping);
  pthread_mutex_unlock(&h->stop_lock);
  return !stopping;
}

static void *lease_main(void *arg) {
  struct hollow *h = arg;
  /* The first round creates every Lease at once, as kubelets do right after registering;
   * later rounds spread the renewals over the period. */
  bool first = true;
  while (!atomic_load(&h->stopping)) {
    long long start = timeutil_now_ms(CLOCK_REALTIME);
    for (size_t i = 0; i < h->n_nodes && !atomic_load(&h->stopping); i++) {
      struct hnode *n = &h->nodes[i];
      lease_renew(h, n);
      if (node_status_stale(h, n)) {
        if (time(NULL) - n->last_status < HOLLOW_STATUS_PERIOD_S)
          n->ready_since = time(NULL);
        node_post_status(h, n);
      }
      if (first)
        continue;
      long long next = start + (long long)(i + 1) * HOLLOW_LEASE_PERIOD_MS / (long long)h->n_nodes;
      if (!wait_until(h, next))
        return NULL;
    }
    if (first && !wait_until(h, start + HOLLOW_LEASE_PERIOD_MS))
      return NULL;
    first = false;
  }
  return NULL;
}

/* ---- pods ---- */

static void hpod_free(void *p) {
  struct hpod *s = p;
  if (!s)
    return;
  free(s->uid);
  free(s);
}

static int parse_ipv4(const char *s, uint32_t *ret) {
  unsigned a, b, c, d;
  char tail;
  if (sscanf(s, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4 || a > 255 || b > 255 || c > 255 ||
      d > 255)
    return -EINVAL;
  *ret = (a << 24) | (b << 16) | (c << 8) | d;
  return 0;
}

/* The base address of the node's pod range: spec.podCIDR (its first /24 at most) when
 * the node IPAM controller assigned one, else a fake /24 by node index. */
static uint32_t pod_range(struct hollow *h, struct hnode *n, unsigned *ret_size) {
  _cleanup_json_ json_t *node = informer_get(h->node_inf, n->name);
  const char *cidr = node ? json_path_str(node, "spec.podCIDR") : NULL;
  if (cidr) {
    _cleanup_free_ char *ip = xstrdup(cidr);
    char *slash = strchr(ip, '/');
    uint32_t base;
    if (slash) {
      *slash = '\0';
      int prefix = atoi(slash + 1);
      if (parse_ipv4(ip, &base) == 0 && prefix >= 8 && prefix <= 30) {
        *ret_size = prefix >= 24 ? 1u << (32 - prefix) : 256;
        return base;
      }
    }
  }
  *ret_size = 256;
  return ((10u << 24) | (244u << 16)) + ((n->index * 256u) % (4u << 16));
}

static void ip_alloc(struct hollow *h, struct hpod *s, const char *existing) {
  unsigned size;
  uint32_t base = pod_range(h, s->node, &size);
  uint32_t a;
  s->ip_host = -1;
  if (existing && parse_ipv4(existing, &a) == 0) {
    snprintf(s->ip, sizeof(s->ip), "%s", existing);
    if ((a & ~255u) == (base & ~255u)) {
      s->ip_host = (int)(a & 255);
      s->node->used[s->ip_host / 64] |= 1ull << (s->ip_host % 64);
    }
    return;
  }
  /* .0 is the network, .1 the bridge, the last the broadcast address. */
  for (unsigned host = 2; host + 1 < size; host++) {
    if (s->node->used[host / 64] & (1ull << (host % 64)))
      continue;
    s->node->used[host / 64] |= 1ull << (host % 64);
    s->ip_host = (int)host;
    a = base + host;
    snprintf(s->ip, sizeof(s->ip), "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
             a & 255);
    return;
  }
  /* More pods than addresses (pods beyond capacity): share the last one. */
  a = base + size - 2;
  snprintf(s->ip, sizeof(s->ip), "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static void ip_release(struct hpod *s) {
  if (s->ip_host >= 0)
    s->node->used[s->ip_host / 64] &= ~(1ull << (s->ip_host % 64));
  s->ip_host = -1;
}

static void state_drop(struct hollow *h, const char *key) {
  struct hpod *s = hmap_remove(&h->states, key);
  if (s) {
    ip_release(s);
    hpod_free(s);
  }
}

static long run_ms_of(const json_t *pod) {
  const char *v = str_of(json_path((json_t *)pod, "metadata.annotations"), HOLLOW_ANN_RUN_SECONDS);
  if (!v || !*v)
    return 1000;
  char *end;
  double d = strtod(v, &end);
  if (*end || !(d >= 0) || d > 1e7)
    return 1000;
  return (long)(d * 1000);
}

static int exit_code_of(const json_t *pod) {
  const char *v = str_of(json_path((json_t *)pod, "metadata.annotations"), HOLLOW_ANN_EXIT_CODE);
  if (!v || !*v)
    return 0;
  char *end;
  long c = strtol(v, &end, 10);
  if (*end || c < 0 || c > 255)
    return 0;
  return (int)c;
}

/* A state for a pod this agent has not seen, adopting what the API shows (a restarted
 * agent carries on where the previous run left its pods). */
static struct hpod *state_new(struct hollow *h, const json_t *pod, struct hnode *node) {
  struct hpod *s = xcalloc(1, sizeof(*s));
  s->uid = xstrdup(json_path_str((json_t *)pod, "metadata.uid") ?: "");
  s->node = node;
  s->accepted_ms = timeutil_now_ms(CLOCK_REALTIME);
  s->stage = HPOD_CREATING;
  const char *phase = json_path_str((json_t *)pod, "status.phase");
  const char *ip = json_path_str((json_t *)pod, "status.podIP");
  if (phase && (streq(phase, "Succeeded") || streq(phase, "Failed"))) {
    s->stage = HPOD_DONE;
  } else if (phase && streq(phase, "Running")) {
    const json_t *cs = json_array_get(json_path((json_t *)pod, "status.containerStatuses"), 0);
    const char *started = json_path_str((json_t *)cs, "state.running.startedAt");
    struct timespec ts;
    if (started && timeutil_parse(started, &ts) == 0) {
      s->stage = HPOD_RUNNING;
      s->started_at = ts.tv_sec;
      s->run_start_ms = (long long)ts.tv_sec * 1000;
      s->restarts = (int)json_integer_value(json_object_get(cs, "restartCount"));
    }
  }
  const char *start = json_path_str((json_t *)pod, "status.startTime");
  struct timespec ts;
  if (start && timeutil_parse(start, &ts) == 0 && s->stage != HPOD_CREATING)
    s->accepted_ms = (long long)ts.tv_sec * 1000;
  if (s->stage != HPOD_DONE)
    ip_alloc(h, s, ip);
  return s;
}

static void hex_id(const char *a, const char *b, int n, char out[65]) {
  char seed[32];
  snprintf(seed, sizeof(seed), "%d", n);
  char x[33], y[33];
  fake_id(a, b, x);
  fake_id(x, seed, y);
  snprintf(out, 65, "%s%s", x, y);
}

static void fill_container(const struct hpod *s, const json_t *spec_c, bool init, bool sidecar,
                           const char *policy, struct podstatus_container *c, char id[80],
                           char image_id[300]) {
  const char *name = str_of(spec_c, "name");
  const char *image = str_of(spec_c, "image");
  c->name = name;
  char hex[65];
  hex_id(s->uid, name ? name : "", s->restarts, hex);
  snprintf(id, 80, "hollow://%s", hex);
  hex_id(image ? image : "", "image", 0, hex);
  /* The digest replaces the tag: docker.io/library/nginx@sha256:... */
  _cleanup_free_ char *full = podstatus_image_name(image);
  char *at = strchr(full, '@');
  char *colon = strrchr(full, ':');
  char *slash = strrchr(full, '/');
  if (at)
    *at = '\0';
  else if (colon && (!slash || colon > slash))
    *colon = '\0';
  snprintf(image_id, 300, "%s@sha256:%s", full, hex);
  switch (s->stage) {
  case HPOD_CREATING:
    c->state = PODSTATUS_WAITING;
    break;
  case HPOD_RUNNING:
    if (init && !sidecar) {
      c->state = PODSTATUS_TERMINATED;
      c->terminated =
          (struct podstatus_termination){0, NULL, s->accepted_ms / 1000, s->accepted_ms / 1000};
      c->container_id = id;
      c->image_id = image_id;
      break;
    }
    c->state = PODSTATUS_RUNNING;
    c->running_since = s->started_at;
    c->ready = c->started = true;
    c->restart_count = init ? 0 : s->restarts;
    c->has_last = !init && s->has_last;
    c->last = s->last;
    c->container_id = id;
    c->image_id = image_id;
    break;
  case HPOD_EXITED:
  case HPOD_DONE:
    c->state = PODSTATUS_TERMINATED;
    if (init && !sidecar)
      c->terminated =
          (struct podstatus_termination){0, NULL, s->accepted_ms / 1000, s->accepted_ms / 1000};
    else
      c->terminated = (struct podstatus_termination){init ? 0 : s->exit_code, NULL, s->started_at,
                                                     s->finished_at};
    c->restart_count = init ? 0 : s->restarts;
    c->has_last = !init && s->has_last;
    c->last = s->last;
    c->container_id = id;
    c->image_id = image_id;
    break;
  }
  (void)policy;
}

/* The status this agent reports for the pod in its current state: new reference. */
static json_t *pod_status(const json_t *pod, const struct hpod *s) {
  const json_t *spec = json_object_get(pod, "spec");
  const char *policy = str_of(spec, "restartPolicy") ?: "Always";
  json_t *inits = json_object_get(spec, "initContainers");
  json_t *mains = json_object_get(spec, "containers");
  size_t ni = json_array_size(inits), nm = json_array_size(mains);
  _cleanup_free_ struct podstatus_container *ci = xcalloc(ni + 1, sizeof(*ci));
  _cleanup_free_ struct podstatus_container *cm = xcalloc(nm + 1, sizeof(*cm));
  _cleanup_free_ char(*ids)[80] = xcalloc(ni + nm + 1, sizeof(*ids));
  _cleanup_free_ char(*image_ids)[300] = xcalloc(ni + nm + 1, sizeof(*image_ids));
  for (size_t i = 0; i < ni; i++) {
    const json_t *c = json_array_get(inits, i);
    fill_container(s, c, true, streq_ptr(str_of(c, "restartPolicy"), "Always"), policy, &ci[i],
                   ids[i], image_ids[i]);
  }
  for (size_t i = 0; i < nm; i++)
    fill_container(s, json_array_get(mains, i), false, false, policy, &cm[i], ids[ni + i],
                   image_ids[ni + i]);
  const char *host_ip = s->node->ip;
  struct podstatus_input in = {
      .pod = pod,
      .init_containers = ci,
      .n_init = ni,
      .containers = cm,
      .n_containers = nm,
      .sandbox_ready = s->stage == HPOD_RUNNING || s->stage == HPOD_CREATING,
      .terminal = s->stage == HPOD_EXITED || s->stage == HPOD_DONE,
      .host_ip = host_ip,
      .pod_ip = s->ip[0] ? s->ip : NULL,
      .start_time = s->accepted_ms / 1000,
      .now = time(NULL),
  };
  /* The sandbox is set up during ContainerCreating; report it ready once it runs. */
  if (s->stage == HPOD_CREATING)
    in.sandbox_ready = false;
  json_t *st = NULL;
  if (podstatus_compute(&in, &st) < 0)
    return NULL;
  return st;
}

static int pod_delete(struct hollow *h, const json_t *pod) {
  const char *ns = json_path_str((json_t *)pod, "metadata.namespace");
  const char *name = json_path_str((json_t *)pod, "metadata.name");
  const char *uid = json_path_str((json_t *)pod, "metadata.uid");
  if (!ns || !name)
    return 0;
  _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/pods/%s", ns, name);
  _cleanup_json_ json_t *opts = json_pack("{s:s, s:s, s:i}", "kind", "DeleteOptions", "apiVersion",
                                          "v1", "gracePeriodSeconds", 0);
  if (uid)
    json_object_set_new(opts, "preconditions", json_pack("{s:s}", "uid", uid));
  long status = 0;
  _cleanup_json_ json_t *got = NULL;
  int r = rest_do_json(h->client, "DELETE", path, NULL, opts, &status, &got, NULL);
  if (r < 0)
    return r;
  atomic_fetch_add(&h->pod_writes, 1);
  /* 404: gone already; 409: a new pod of the same name (the uid precondition). */
  if (status >= 300 && status != 404 && status != 409)
    return -EIO;
  return 0;
}

static int pod_sync(struct hollow *h, const char *key) {
  _cleanup_json_ json_t *pod = informer_get(h->pods, key);
  pthread_mutex_lock(&h->lock);
  if (!pod) {
    state_drop(h, key);
    pthread_mutex_unlock(&h->lock);
    return 0;
  }
  struct hnode *node = hmap_get(&h->by_name, json_path_str(pod, "spec.nodeName") ?: "");
  const char *uid = json_path_str(pod, "metadata.uid") ?: "";
  struct hpod *s = hmap_get(&h->states, key);
  if (s && (!streq(s->uid, uid) || s->node != node)) {
    state_drop(h, key);
    s = NULL;
  }
  if (!node) {
    pthread_mutex_unlock(&h->lock);
    return 0;
  }
  if (!s) {
    s = state_new(h, pod, node);
    hmap_put(&h->states, key, s);
  }
  long long now = timeutil_now_ms(CLOCK_REALTIME);
  long delay = -1;
  bool delete_now = false;
  if (json_path_str(pod, "metadata.deletionTimestamp")) {
    if (!s->kill_at_ms) {
      long grace =
          (long)json_integer_value(json_path(pod, "metadata.deletionGracePeriodSeconds")) * 1000;
      if (grace > HOLLOW_KILL_MAX_MS)
        grace = HOLLOW_KILL_MAX_MS;
      if (s->stage == HPOD_DONE || s->stage == HPOD_EXITED || grace < 0)
        grace = 0;
      s->kill_at_ms = now + grace;
    }
    if (now >= s->kill_at_ms)
      delete_now = true;
    else
      delay = (long)(s->kill_at_ms - now);
  }
  const char *policy = json_path_str(pod, "spec.restartPolicy") ?: "Always";
  if (!delete_now && !s->kill_at_ms) {
    if (s->stage == HPOD_CREATING) {
      if (now >= s->accepted_ms + HOLLOW_CREATE_MS) {
        s->stage = HPOD_RUNNING;
        s->started_at = now / 1000;
        s->run_start_ms = now;
      } else {
        delay = (long)(s->accepted_ms + HOLLOW_CREATE_MS - now);
      }
    }
    if (s->stage == HPOD_RUNNING && !streq(policy, "Always")) {
      long run = run_ms_of(pod);
      if (now >= s->run_start_ms + run) {
        int code = exit_code_of(pod);
        if (code == 0 || streq(policy, "Never")) {
          s->stage = HPOD_EXITED;
          s->exit_code = code;
          s->finished_at = now / 1000;
        } else {
          s->has_last = true;
          s->last = (struct podstatus_termination){code, NULL, s->started_at, now / 1000};
          s->restarts++;
          s->started_at = now / 1000;
          s->run_start_ms = now;
          delay = run;
        }
      } else {
        delay = (long)(s->run_start_ms + run - now);
      }
    }
  }
  _cleanup_json_ json_t *status = NULL;
  if (!delete_now && s->stage != HPOD_DONE && !s->kill_at_ms)
    status = pod_status(pod, s);
  pthread_mutex_unlock(&h->lock);

  if (delete_now) {
    int r = pod_delete(h, pod);
    if (r < 0)
      return r;
    return 0;
  }
  if (delay >= 0)
    workqueue_add_after(h->queue, key, delay > 0 ? delay : 1);
  if (!status || !podstatus_changed(json_object_get(pod, "status"), status))
    return 0;
  _cleanup_json_ json_t *patch = json_object();
  json_object_set(patch, "status", status);
  const char *ns = json_path_str(pod, "metadata.namespace") ?: "";
  const char *name = json_path_str(pod, "metadata.name") ?: "";
  _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/pods/%s/status", ns, name);
  long code = 0;
  int r = rest_merge_patch(h, path, patch, &code);
  if (r < 0)
    return r;
  atomic_fetch_add(&h->pod_writes, 1);
  if (code == 404)
    return 0;
  return code >= 300 ? -EIO : 0;
}

static void *worker_main(void *arg) {
  struct hollow *h = arg;
  for (;;) {
    char *key = NULL;
    if (workqueue_get(h->queue, &key) < 0)
      return NULL;
    if (pod_sync(h, key) < 0 && !atomic_load(&h->stopping))
      workqueue_add_rate_limited(h->queue, key);
    else
      workqueue_forget(h->queue, key);
    workqueue_done(h->queue, key);
    free(key);
  }
}

static void enqueue_pod(struct hollow *h, const json_t *pod) {
  const char *node = json_path_str((json_t *)pod, "spec.nodeName");
  if (!node || !hmap_get(&h->by_name, node))
    return;
  _cleanup_free_ char *key = informer_key(pod);
  if (key)
    workqueue_add(h->queue, key);
}

static void on_pod_add(void *ud, json_t *obj) {
  enqueue_pod(ud, obj);
}
static void on_pod_update(void *ud, json_t *old, json_t *obj) {
  enqueue_pod(ud, obj);
}
static void on_pod_delete(void *ud, json_t *obj) {
  enqueue_pod(ud, obj);
}

/* ---- lifecycle ---- */

unsigned long hollow_pod_writes(struct hollow *h) {
  return atomic_load(&h->pod_writes);
}

void hollow_stop(struct hollow *h) {
  if (!h)
    return;
  pthread_mutex_lock(&h->stop_lock);
  atomic_store(&h->stopping, true);
  pthread_cond_broadcast(&h->stop_cond);
  pthread_mutex_unlock(&h->stop_lock);
  if (h->lease_started)
    pthread_join(h->lease_thread, NULL);
  if (h->queue)
    workqueue_shutdown(h->queue);
  for (int i = 0; i < h->n_workers; i++)
    pthread_join(h->workers[i], NULL);
  informer_free(h->pods);
  informer_free(h->node_inf);
  workqueue_free(h->queue);
  free(h->workers);
  hmap_clear(&h->states, hpod_free);
  hmap_clear(&h->by_name, NULL);
  for (size_t i = 0; i < h->n_nodes; i++) {
    free(h->nodes[i].name);
    free(h->nodes[i].uid);
    json_decref(h->nodes[i].lease);
  }
  free(h->nodes);
  json_decref(h->taints);
  json_decref(h->labels);
  rest_client_free(h->client);
  pthread_mutex_destroy(&h->lock);
  pthread_mutex_destroy(&h->stop_lock);
  pthread_cond_destroy(&h->stop_cond);
  free(h);
}

static bool quantity_ok(const char *v) {
  return v && quantity_valid(v);
}

int hollow_start(const struct hollow_config *cfg, struct hollow **ret, char **ret_err) {
  if (!cfg->kubeconfig)
    return set_error(ret_err, -EINVAL, "--kubeconfig is required");
  if (cfg->count < 1 || cfg->count > 1000000)
    return set_error(ret_err, -EINVAL, "--count must be between 1 and 1000000");
  struct hollow *h = xcalloc(1, sizeof(*h));
  h->cfg = *cfg;
  h->cfg.cpu = cfg->cpu ? cfg->cpu : "4";
  h->cfg.memory = cfg->memory ? cfg->memory : "16Gi";
  h->cfg.pods = cfg->pods ? cfg->pods : "110";
  pthread_mutex_init(&h->lock, NULL);
  pthread_mutex_init(&h->stop_lock, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_REALTIME);
  pthread_cond_init(&h->stop_cond, &ca);
  pthread_condattr_destroy(&ca);
  h->states = (struct hmap)HMAP_INIT;
  h->by_name = (struct hmap)HMAP_INIT;
  _cleanup_(kubeconfig_creds_freep) struct kubeconfig_creds *creds = NULL;
  int r;
  if (!quantity_ok(h->cfg.cpu) || !quantity_ok(h->cfg.memory) || !quantity_ok(h->cfg.pods)) {
    r = set_error(ret_err, -EINVAL, "--cpu, --memory and --pods must be quantities");
    goto fail;
  }
  if ((r = hollow_parse_labels(cfg->node_labels, &h->labels, ret_err)) < 0 ||
      (r = hollow_parse_taints(cfg->node_taints, &h->taints, ret_err)) < 0)
    goto fail;

  if ((r = kubeconfig_load(cfg->kubeconfig, NULL, &creds, ret_err)) < 0)
    goto fail;
  if ((r = rest_client_new_from_creds(creds, &h->client, ret_err)) < 0)
    goto fail;

  h->n_nodes = cfg->count;
  h->nodes = xcalloc(h->n_nodes, sizeof(*h->nodes));
  time_t now = time(NULL);
  for (size_t i = 0; i < h->n_nodes; i++) {
    struct hnode *n = &h->nodes[i];
    n->index = cfg->first_index + (unsigned)i;
    n->name = xasprintf("hollow-%u", n->index);
    node_ip(n->index, n->ip);
    n->ready_since = now;
    hmap_put(&h->by_name, n->name, n);
  }
  if ((r = register_all(h, ret_err)) < 0)
    goto fail;

  h->queue = workqueue_new(0, 0);
  h->node_inf = informer_new(h->client, &(struct informer_config){.path = "/api/v1/nodes"});
  h->pods = informer_new(h->client, &(struct informer_config){.path = "/api/v1/pods",
                                                              .field_selector = "spec.nodeName!="});
  informer_add_handler(h->pods, &(struct informer_handler){.on_add = on_pod_add,
                                                           .on_update = on_pod_update,
                                                           .on_delete = on_pod_delete,
                                                           .userdata = h});
  if ((r = informer_start(h->node_inf)) < 0 || (r = informer_wait_synced(h->node_inf, 60000)) < 0 ||
      (r = informer_start(h->pods)) < 0) {
    set_error(ret_err, r, "starting the informers: %s", strerror(-r));
    goto fail;
  }
  h->n_workers = cfg->workers > 0 ? cfg->workers : 4;
  h->workers = xcalloc((size_t)h->n_workers, sizeof(*h->workers));
  for (int i = 0; i < h->n_workers; i++) {
    if ((r = -pthread_create(&h->workers[i], NULL, worker_main, h)) < 0) {
      h->n_workers = i;
      set_error(ret_err, r, "starting workers: %s", strerror(-r));
      goto fail;
    }
  }
  if ((r = -pthread_create(&h->lease_thread, NULL, lease_main, h)) < 0) {
    set_error(ret_err, r, "starting the lease thread: %s", strerror(-r));
    goto fail;
  }
  h->lease_started = true;
  *ret = h;
  return 0;
fail:
  hollow_stop(h);
  return r;
}
