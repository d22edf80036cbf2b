/* nodelifecycle — kube's NodeLifecycleController with its taint-based eviction (kube's
 * taint-eviction-controller), keyed three ways:
 *
 *   "monitor"         every few seconds, each node's health: the kubelet proves itself
 *                     alive by renewing its Lease in kube-node-lease or posting a new
 *                     Ready heartbeat; a node silent for longer than the grace period
 *                     (--node-monitor-grace-period, 40 s) gets every condition Unknown
 *                     (NodeStatusUnknown, "Kubelet stopped posting node status."), its
 *                     pods Ready=False (MarkPodsNotReady) and a NodeNotReady event;
 *   "node/NAME"       the taints that mirror the node's state: Ready=False →
 *                     node.kubernetes.io/not-ready, Ready=Unknown →
 *                     node.kubernetes.io/unreachable (each NoExecute and NoSchedule),
 *                     spec.unschedulable → node.kubernetes.io/unschedulable:NoSchedule;
 *                     removed when the node is healthy again; then the node's pods are
 *                     checked for eviction;
 *   "pod/NS/NAME"     eviction of one pod on a node with NoExecute taints: a taint it does
 *                     not tolerate deletes it at once, tolerations with tolerationSeconds
 *                     delete it that long after the taint was added (event
 *                     TaintManagerEviction "Marking for deletion Pod NS/NAME"); a
 *                     toleration without tolerationSeconds keeps it forever.
 *
 * Health probes (when each node last showed a sign of life) live in memory: after a
 * restart every node gets a full grace period again, as in kube. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controllers/controller.h"
#include "controllers/ctlutil.h"
#include "lib/hmap.h"
#include "lib/timeutil.h"

#define NLC_MONITOR_KEY "monitor"
#define NLC_MONITOR_PERIOD_MS 5000L
#define NLC_DEFAULT_GRACE_MS 40000L
#define NLC_INDEX_NODE "pod-node-name"
#define NLC_LEASE_NS "kube-node-lease"

#define TAINT_NOT_READY "node.kubernetes.io/not-ready"
#define TAINT_UNREACHABLE "node.kubernetes.io/unreachable"
#define TAINT_UNSCHEDULABLE "node.kubernetes.io/unschedulable"

struct health {
  long long probe_ms; /* monotonic time of the last sign of life */
  char *heartbeat;    /* Ready's lastHeartbeatTime seen then */
  char *renew;        /* the Lease's renewTime seen then */
};

struct nlc {
  struct informer *nodes, *leases, *pods;
  long grace_ms;
  long period_ms;
  pthread_mutex_t lock;
  struct hmap health;    /* node name → struct health */
  struct hmap scheduled; /* pod key → eviction deadline (epoch ms, cast) */
};

static struct nlc *nlc_of(struct controller *c) {
  return controller_state(c);
}

static const char *str_of(const json_t *obj, const char *key) {
  const json_t *v = json_object_get(obj, key);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

static void health_free(void *p) {
  struct health *h = p;
  if (!h)
    return;
  free(h->heartbeat);
  free(h->renew);
  free(h);
}

static const json_t *node_condition(const json_t *node, const char *type) {
  return ctlutil_find_condition(json_object_get(node, "status"), type);
}

static size_t index_node_name(const json_t *obj, const char **ret_values, size_t max) {
  const char *n = json_path_str((json_t *)obj, "spec.nodeName");
  if (!n || !*n || max < 1)
    return 0;
  ret_values[0] = n;
  return 1;
}

/* ---- monitor ---- */

static void mark_pods_not_ready(struct controller *c, struct nlc *s, const char *node) {
  _cleanup_json_ json_t *pods = informer_by_index(s->pods, NLC_INDEX_NODE, node);
  size_t i;
  json_t *pod;
  json_array_foreach(pods, i, pod) {
    _cleanup_json_ json_t *conds = json_deep_copy(json_path(pod, "status.conditions"));
    _cleanup_free_ char *now = timeutil_now();
    bool changed = false;
    size_t k;
    json_t *cond;
    json_array_foreach(conds, k, cond) {
      if (streq_ptr(str_of(cond, "type"), "Ready") && !streq_ptr(str_of(cond, "status"), "False")) {
        json_object_set_new(cond, "status", json_string("False"));
        json_object_set_new(cond, "lastTransitionTime", json_string(now));
        changed = true;
      }
    }
    if (!changed)
      continue;
    _cleanup_json_ json_t *patch = json_pack("{s:{s:O}}", "status", "conditions", conds);
    _cleanup_free_ char *path =
        xasprintf("/api/v1/namespaces/%s/pods/%s/status", json_path_str(pod, "metadata.namespace"),
                  json_path_str(pod, "metadata.name"));
    _cleanup_free_ char *err = NULL;
    if (controller_patch(c, path, patch, false, NULL, &err) < 0)
      controller_log(c, "marking pod %s not ready: %s", path, err ? err : "failed");
    else
      event_record(controller_events(c), pod, "Pod", "v1", "Warning", "NodeNotReady",
                   "Node is not ready");
  }
}

/* Sets every condition to Unknown as kube does for a silent kubelet; writes the node
 * status. 0, or -errno. */
static int mark_unknown(struct controller *c, const json_t *node) {
  _cleanup_json_ json_t *upd = json_deep_copy(node);
  _cleanup_free_ char *now = timeutil_now();
  json_t *conds = json_object_ensure_array(json_object_ensure(upd, "status"), "conditions");
  static const char *const types[] = {"Ready", "MemoryPressure", "DiskPressure", "PIDPressure"};
  for (size_t t = 0; t < ARRAY_SIZE(types); t++) {
    json_t *cond = (json_t *)node_condition(upd, types[t]);
    if (!cond) {
      cond = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", types[t], "status", "Unknown",
                       "lastHeartbeatTime",
                       json_path_str((json_t *)node, "metadata.creationTimestamp") ?: now,
                       "lastTransitionTime", now, "reason", "NodeStatusNeverUpdated", "message",
                       "Kubelet never posted node status.");
      json_array_append_new(conds, cond);
      continue;
    }
    if (streq_ptr(str_of(cond, "status"), "Unknown"))
      continue;
    json_object_set_new(cond, "status", json_string("Unknown"));
    json_object_set_new(cond, "reason", json_string("NodeStatusUnknown"));
    json_object_set_new(cond, "message", json_string("Kubelet stopped posting node status."));
    json_object_set_new(cond, "lastTransitionTime", json_string(now));
  }
  _cleanup_free_ char *path =
      xasprintf("/api/v1/nodes/%s/status", json_path_str(upd, "metadata.name"));
  _cleanup_free_ char *err = NULL;
  int r = controller_update(c, path, upd, NULL, &err);
  if (r < 0 && r != -ESTALE && r != -ENOENT)
    controller_log(c, "marking node %s unknown: %s", json_path_str(upd, "metadata.name"),
                   err ? err : strerror(-r));
  return r;
}

static void monitor(struct controller *c, struct nlc *s) {
  _cleanup_json_ json_t *nodes = informer_list(s->nodes, NULL);
  long long now = timeutil_now_ms(CLOCK_MONOTONIC);
  size_t i;
  json_t *node;
  json_array_foreach(nodes, i, node) {
    const char *name = json_path_str(node, "metadata.name");
    if (!name)
      continue;
    const json_t *ready = node_condition(node, "Ready");
    const char *heartbeat = str_of(ready, "lastHeartbeatTime");
    _cleanup_json_ json_t *lease = informer_get_nn(s->leases, NLC_LEASE_NS, name);
    const char *renew = lease ? json_path_str(lease, "spec.renewTime") : NULL;
    bool registered = false;
    pthread_mutex_lock(&s->lock);
    struct health *h = hmap_get(&s->health, name);
    if (!h) {
      h = xcalloc(1, sizeof(*h));
      h->probe_ms = now;
      hmap_put(&s->health, name, h);
      registered = true;
    }
    if (!streq_ptr(h->heartbeat, heartbeat) || !streq_ptr(h->renew, renew)) {
      free(h->heartbeat);
      free(h->renew);
      h->heartbeat = heartbeat ? xstrdup(heartbeat) : NULL;
      h->renew = renew ? xstrdup(renew) : NULL;
      h->probe_ms = now;
    }
    bool silent = now - h->probe_ms > s->grace_ms;
    pthread_mutex_unlock(&s->lock);
    if (registered)
      event_record(controller_events(c), node, "Node", "v1", "Normal", "RegisteredNode",
                   "Node %s event: Registered Node %s in Controller", name, name);
    if (!silent || (ready && streq_ptr(str_of(ready, "status"), "Unknown")))
      continue;
    bool was_ready = ready && streq_ptr(str_of(ready, "status"), "True");
    if (mark_unknown(c, node) < 0)
      continue;
    if (was_ready) {
      event_record(controller_events(c), node, "Node", "v1", "Normal", "NodeNotReady",
                   "Node %s status is now: NodeNotReady", name);
      mark_pods_not_ready(c, s, name);
    }
  }
}

/* ---- taints ---- */

struct want_taint {
  const char *key;
  const char *effect;
};

static bool is_managed(const json_t *t) {
  const char *key = str_of(t, "key");
  const char *effect = str_of(t, "effect");
  if (!key || !effect)
    return false;
  if (streq(key, TAINT_NOT_READY) || streq(key, TAINT_UNREACHABLE))
    return streq(effect, "NoExecute") || streq(effect, "NoSchedule");
  return streq(key, TAINT_UNSCHEDULABLE) && streq(effect, "NoSchedule");
}

static const json_t *find_taint(const json_t *taints, const char *key, const char *effect) {
  size_t i;
  json_t *t;
  json_array_foreach((json_t *)taints, i, t) {
    if (streq_ptr(str_of(t, "key"), key) && streq_ptr(str_of(t, "effect"), effect))
      return t;
  }
  return NULL;
}

/* The node's taints as they should be: new reference. */
static json_t *desired_taints(const json_t *node) {
  const json_t *taints = json_path((json_t *)node, "spec.taints");
  struct want_taint want[3];
  size_t n = 0;
  const json_t *ready = node_condition(node, "Ready");
  const char *status = ready ? str_of(ready, "status") : NULL;
  const char *key = NULL;
  if (streq_ptr(status, "False"))
    key = TAINT_NOT_READY;
  else if (streq_ptr(status, "Unknown"))
    key = TAINT_UNREACHABLE;
  if (key) {
    want[n++] = (struct want_taint){key, "NoSchedule"};
    want[n++] = (struct want_taint){key, "NoExecute"};
  }
  if (json_is_true(json_path((json_t *)node, "spec.unschedulable")))
    want[n++] = (struct want_taint){TAINT_UNSCHEDULABLE, "NoSchedule"};
  json_t *out = json_array();
  size_t i;
  json_t *t;
  json_array_foreach((json_t *)taints, i, t) {
    if (!is_managed(t))
      json_array_append(out, t);
  }
  _cleanup_free_ char *now = timeutil_now();
  for (size_t k = 0; k < n; k++) {
    const json_t *have = find_taint(taints, want[k].key, want[k].effect);
    if (have) {
      json_array_append(out, (json_t *)have);
      continue;
    }
    json_t *nt = json_pack("{s:s, s:s}", "key", want[k].key, "effect", want[k].effect);
    if (streq(want[k].effect, "NoExecute"))
      json_object_set_new(nt, "timeAdded", json_string(now));
    json_array_append_new(out, nt);
  }
  return out;
}

static bool same_taints(const json_t *a, const json_t *b) {
  size_t na = json_array_size(a), nb = json_array_size(b);
  if (na != nb)
    return false;
  size_t i;
  json_t *t;
  json_array_foreach((json_t *)a, i, t) {
    if (!find_taint(b, str_of(t, "key"), str_of(t, "effect")))
      return false;
  }
  return true;
}

/* ---- eviction ---- */

/* v1.Toleration.ToleratesTaint. */
static bool tolerates(const json_t *tol, const json_t *taint) {
  const char *effect = str_of(tol, "effect");
  if (effect && *effect && !streq_ptr(effect, str_of(taint, "effect")))
    return false;
  const char *key = str_of(tol, "key");
  const char *op = str_of(tol, "operator");
  if (key && *key && !streq_ptr(key, str_of(taint, "key")))
    return false;
  if (op && streq(op, "Exists"))
    return true;
  if (!key || !*key)
    return false; /* an empty key needs operator Exists */
  const char *v = str_of(tol, "value");
  const char *tv = str_of(taint, "value");
  return streq(v ? v : "", tv ? tv : "");
}

/* When the pod must go (epoch ms), 0 for now, -1 for never; by the NoExecute taints. */
static long long eviction_time(const json_t *pod, const json_t *taints) {
  const json_t *tols = json_path((json_t *)pod, "spec.tolerations");
  long long when = -1;
  size_t i;
  json_t *taint;
  json_array_foreach((json_t *)taints, i, taint) {
    if (!streq_ptr(str_of(taint, "effect"), "NoExecute"))
      continue;
    bool tolerated = false;
    long long until = -1; /* forever unless a toleration limits it */
    size_t k;
    json_t *tol;
    json_array_foreach((json_t *)tols, k, tol) {
      if (!tolerates(tol, taint))
        continue;
      tolerated = true;
      const json_t *secs = json_object_get(tol, "tolerationSeconds");
      if (!json_is_integer(secs))
        continue;
      long long added = timeutil_now_ms(CLOCK_REALTIME);
      struct timespec ts;
      const char *ta = str_of(taint, "timeAdded");
      if (ta && timeutil_parse(ta, &ts) == 0)
        added = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
      long long s = json_integer_value(secs);
      long long t = s <= 0 ? 0 : added + s * 1000;
      if (until < 0 || t < until)
        until = t;
    }
    if (!tolerated)
      return 0;
    /* kube takes the shortest tolerationSeconds among the tolerations used. */
    if (until >= 0 && (when < 0 || until < when))
      when = until;
  }
  return when;
}

static int evict(struct controller *c, const json_t *pod) {
  const char *ns = json_path_str((json_t *)pod, "metadata.namespace") ?: "";
  const char *name = json_path_str((json_t *)pod, "metadata.name") ?: "";
  event_record(controller_events(c), pod, "Pod", "v1", "Normal", "TaintManagerEviction",
               "Marking for deletion Pod %s/%s", ns, name);
  _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/pods/%s", ns, name);
  _cleanup_free_ char *err = NULL;
  const char *phase = json_path_str((json_t *)pod, "status.phase");
  if (!streq_ptr(phase, "Succeeded") && !streq_ptr(phase, "Failed")) {
    _cleanup_json_ json_t *conds = json_array();
    size_t i;
    json_t *cond;
    json_array_foreach(json_path((json_t *)pod, "status.conditions"), i, cond) {
      if (!streq_ptr(str_of(cond, "type"), "DisruptionTarget"))
        json_array_append(conds, cond);
    }
    _cleanup_free_ char *now = timeutil_now();
    json_array_append_new(conds, json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "DisruptionTarget",
                                           "status", "True", "lastTransitionTime", now, "reason",
                                           "DeletionByTaintManager", "message",
                                           "Taint manager: deleting due to NoExecute taint"));
    _cleanup_json_ json_t *patch = json_pack("{s:{s:O}}", "status", "conditions", conds);
    _cleanup_free_ char *spath = xasprintf("%s/status", path);
    if (controller_patch(c, spath, patch, false, NULL, NULL) == -ENOENT)
      return 0;
  }
  _cleanup_json_ json_t *opts =
      json_pack("{s:s, s:s}", "kind", "DeleteOptions", "apiVersion", "v1");
  const char *uid = json_path_str((json_t *)pod, "metadata.uid");
  if (uid)
    json_object_set_new(opts, "preconditions", json_pack("{s:s}", "uid", uid));
  int r = controller_delete(c, path, opts, &err);
  if (r < 0 && r != -ESTALE && r != -EEXIST) {
    controller_log(c, "evicting pod %s/%s: %s", ns, name, err ? err : strerror(-r));
    return r;
  }
  return 0;
}

static int check_pod(struct controller *c, struct nlc *s, const json_t *pod, const json_t *node) {
  _cleanup_free_ char *key = informer_key(pod);
  if (!key)
    return 0;
  _cleanup_free_ char *qkey = xasprintf("pod/%s", key);
  if (json_path_str((json_t *)pod, "metadata.deletionTimestamp"))
    return 0;
  long long when = node ? eviction_time(pod, json_path((json_t *)node, "spec.taints")) : -1;
  pthread_mutex_lock(&s->lock);
  bool was = hmap_contains(&s->scheduled, key);
  if (when < 0)
    hmap_remove(&s->scheduled, key);
  else
    hmap_put(&s->scheduled, key, (void *)(intptr_t)when);
  pthread_mutex_unlock(&s->lock);
  if (when < 0) {
    if (was)
      event_record(controller_events(c), pod, "Pod", "v1", "Normal", "TaintManagerEviction",
                   "Cancelling deletion of Pod %s", key);
    return 0;
  }
  long long now = timeutil_now_ms(CLOCK_REALTIME);
  if (when > now) {
    controller_enqueue_after(c, qkey, (long)(when - now));
    return 0;
  }
  int r = evict(c, pod);
  if (r == 0) {
    pthread_mutex_lock(&s->lock);
    hmap_remove(&s->scheduled, key);
    pthread_mutex_unlock(&s->lock);
  }
  return r;
}

static bool has_noexecute(const json_t *node) {
  size_t i;
  json_t *t;
  json_array_foreach(json_path((json_t *)node, "spec.taints"), i, t) {
    if (streq_ptr(str_of(t, "effect"), "NoExecute"))
      return true;
  }
  return false;
}

/* ---- sync ---- */

static int sync_node(struct controller *c, struct nlc *s, const char *name) {
  _cleanup_json_ json_t *node = informer_get(s->nodes, name);
  if (!node) {
    pthread_mutex_lock(&s->lock);
    health_free(hmap_remove(&s->health, name));
    pthread_mutex_unlock(&s->lock);
    return 0;
  }
  _cleanup_json_ json_t *want = desired_taints(node);
  json_t *current = json_path(node, "spec.taints");
  _cleanup_json_ json_t *effective = json_incref(node);
  if (!same_taints(current, want)) {
    _cleanup_json_ json_t *upd = json_deep_copy(node);
    json_t *spec = json_object_ensure(upd, "spec");
    if (json_array_size(want) > 0)
      json_object_set(spec, "taints", want);
    else
      json_object_del(spec, "taints");
    _cleanup_free_ char *path = xasprintf("/api/v1/nodes/%s", name);
    _cleanup_free_ char *err = NULL;
    json_t *got = NULL;
    int r = controller_update(c, path, upd, &got, &err);
    if (r == -ENOENT)
      return 0;
    if (r < 0) {
      if (r != -ESTALE)
        controller_log(c, "updating the taints of node %s: %s", name, err ? err : strerror(-r));
      return r;
    }
    json_decref(effective);
    effective = got ? got : json_incref(upd);
  }
  bool noexec = has_noexecute(effective);
  _cleanup_json_ json_t *pods = informer_by_index(s->pods, NLC_INDEX_NODE, name);
  int failed = 0;
  size_t i;
  json_t *pod;
  json_array_foreach(pods, i, pod) {
    _cleanup_free_ char *key = informer_key(pod);
    pthread_mutex_lock(&s->lock);
    bool scheduled = key && hmap_contains(&s->scheduled, key);
    pthread_mutex_unlock(&s->lock);
    if ((noexec || scheduled) && check_pod(c, s, pod, effective) < 0)
      failed++;
  }
  return failed ? -EIO : 0;
}

static int sync_pod(struct controller *c, struct nlc *s, const char *key) {
  _cleanup_json_ json_t *pod = informer_get(s->pods, key);
  if (!pod) {
    pthread_mutex_lock(&s->lock);
    hmap_remove(&s->scheduled, key);
    pthread_mutex_unlock(&s->lock);
    return 0;
  }
  const char *node_name = json_path_str(pod, "spec.nodeName");
  _cleanup_json_ json_t *node = node_name ? informer_get(s->nodes, node_name) : NULL;
  return check_pod(c, s, pod, node);
}

static int nlc_sync(struct controller *c, const char *key) {
  struct nlc *s = nlc_of(c);
  if (streq(key, NLC_MONITOR_KEY)) {
    monitor(c, s);
    controller_enqueue_after(c, NLC_MONITOR_KEY, s->period_ms);
    return 0;
  }
  if (startswith(key, "node/"))
    return sync_node(c, s, key + 5);
  if (startswith(key, "pod/"))
    return sync_pod(c, s, key + 4);
  return 0;
}

/* ---- handlers ---- */

static void enqueue_node(struct controller *c, const json_t *node) {
  const char *name = json_path_str((json_t *)node, "metadata.name");
  if (!name)
    return;
  _cleanup_free_ char *key = xasprintf("node/%s", name);
  controller_enqueue(c, key);
}

static void on_node_add(void *ud, json_t *obj) {
  enqueue_node(ud, obj);
}
static void on_node_delete(void *ud, json_t *obj) {
  const char *name = json_path_str(obj, "metadata.name");
  if (name)
    event_record(controller_events(ud), obj, "Node", "v1", "Normal", "RemovingNode",
                 "Node %s event: Removing Node %s from Controller", name, name);
  enqueue_node(ud, obj);
}
static void on_node_update(void *ud, json_t *old, json_t *obj) {
  const json_t *ro = node_condition(old, "Ready"), *rn = node_condition(obj, "Ready");
  if (streq_ptr(str_of(ro, "status"), str_of(rn, "status")) &&
      json_equal(json_path(old, "spec.taints"), json_path(obj, "spec.taints")) &&
      json_is_true(json_path(old, "spec.unschedulable")) ==
          json_is_true(json_path(obj, "spec.unschedulable")))
    return;
  enqueue_node(ud, obj);
}

static void pod_event(struct controller *c, const json_t *pod) {
  struct nlc *s = nlc_of(c);
  const char *node_name = json_path_str((json_t *)pod, "spec.nodeName");
  if (!node_name || json_path_str((json_t *)pod, "metadata.deletionTimestamp"))
    return;
  _cleanup_json_ json_t *node = informer_get(s->nodes, node_name);
  if (!node || !has_noexecute(node))
    return;
  _cleanup_free_ char *key = informer_key(pod);
  _cleanup_free_ char *qkey = xasprintf("pod/%s", key ? key : "");
  controller_enqueue(c, qkey);
}

static void on_pod_add(void *ud, json_t *obj) {
  pod_event(ud, obj);
}
static void on_pod_update(void *ud, json_t *old, json_t *obj) {
  if (streq_ptr(json_path_str(old, "spec.nodeName"), json_path_str(obj, "spec.nodeName")) &&
      json_equal(json_path(old, "spec.tolerations"), json_path(obj, "spec.tolerations")))
    return;
  pod_event(ud, obj);
}

/* ---- lifecycle ---- */

static void nlc_started(struct controller *c) {
  controller_enqueue(c, NLC_MONITOR_KEY);
}

static void nlc_teardown(struct controller *c) {
  struct nlc *s = nlc_of(c);
  if (!s)
    return;
  hmap_clear(&s->health, health_free);
  hmap_clear(&s->scheduled, NULL);
  pthread_mutex_destroy(&s->lock);
  free(s);
  controller_set_state(c, NULL);
}

static int nlc_setup(struct controller *c) {
  struct nlc *s = xcalloc(1, sizeof(*s));
  pthread_mutex_init(&s->lock, NULL);
  s->health = (struct hmap)HMAP_INIT;
  s->scheduled = (struct hmap)HMAP_INIT;
  long grace = controller_env(c)->node_monitor_grace_ms;
  s->grace_ms = grace > 0 ? grace : NLC_DEFAULT_GRACE_MS;
  /* Checking more often than a quarter of the grace period only costs; kube's 5 s fits
   * its 40 s default. */
  s->period_ms = s->grace_ms / 4 < NLC_MONITOR_PERIOD_MS ? s->grace_ms / 4 : NLC_MONITOR_PERIOD_MS;
  if (s->period_ms < 200)
    s->period_ms = 200;
  controller_set_state(c, s);
  s->nodes = controller_informer(c, "/api/v1/nodes");
  s->leases = controller_informer(c, "/apis/coordination.k8s.io/v1/leases");
  s->pods = controller_informer(c, "/api/v1/pods");
  informer_add_index(s->pods, NLC_INDEX_NODE, index_node_name);
  informer_add_handler(s->nodes, &(struct informer_handler){.on_add = on_node_add,
                                                            .on_update = on_node_update,
                                                            .on_delete = on_node_delete,
                                                            .userdata = c});
  informer_add_handler(
      s->pods,
      &(struct informer_handler){.on_add = on_pod_add, .on_update = on_pod_update, .userdata = c});
  return 0;
}

static const struct controller_def nodelifecycle_def = {
    .name = "nodelifecycle",
    .component = "node-controller",
    .workers = 2,
    .setup = nlc_setup,
    .sync = nlc_sync,
    .teardown = nlc_teardown,
    .started = nlc_started,
};
CONTROLLER_REGISTER(nodelifecycle_def);
