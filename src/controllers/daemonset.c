/* The DaemonSet controller (kube-controller-manager's DaemonSetsController): one daemon pod
 * on every node the DaemonSet's template may run on — judged by nodeSelector, required
 * node affinity and the node's NoSchedule/NoExecute taints against the template's
 * tolerations plus the ones every daemon pod gets — placed by the default scheduler
 * through a required node affinity on metadata.name. Template changes roll out by
 * RollingUpdate (maxUnavailable, maxSurge) or wait for deletions (OnDelete); the template
 * history lives in ControllerRevisions (history.h).
 *
 * Differences from kube: pods and revisions are found by their controller owner
 * reference only (orphans matching the selector are not adopted), and the failed-pod
 * back-off is a fixed re-queue. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controllers/controller.h"
#include "controllers/ctlutil.h"
#include "controllers/history.h"
#include "controllers/podutil.h"
#include "lib/hmap.h"
#include "lib/selector.h"

#define DS_GROUP "/apis/apps/v1"
#define DS_TEMPLATE_GENERATION_ANNOTATION "deprecated.daemonset.template.generation"
#define DS_TEMPLATE_GENERATION_LABEL "pod-template-generation"
/* At most this many creates or deletes per sync (kube's BurstReplicas). */
#define DS_BURST 250
#define DS_FAILED_POD_RETRY_MS 10000

struct ds_state {
  struct informer *dss, *pods, *nodes, *revs;
};

static struct ds_state *st(struct controller *c) { return controller_state(c); }

static const char *str(const json_t *obj, const char *dotted) {
  return json_path_str((json_t *)obj, dotted);
}

static const char *str_or_empty(const json_t *obj, const char *key) {
  const char *s = json_string_value(json_object_get(obj, key));
  return s ? s : "";
}

static long long int_at(const json_t *obj, const char *dotted, long long dflt) {
  const json_t *v = json_path((json_t *)obj, dotted);
  return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

/* ---- eligibility: the scheduler predicates a daemon pod needs on a node ---- */

static bool toleration_matches(const json_t *a, const json_t *b) {
  return streq(str_or_empty(a, "key"), str_or_empty(b, "key")) &&
         streq(str_or_empty(a, "effect"), str_or_empty(b, "effect")) &&
         streq(str_or_empty(a, "operator"), str_or_empty(b, "operator")) &&
         streq(str_or_empty(a, "value"), str_or_empty(b, "value"));
}

/* AddOrUpdateTolerationInPodSpec. */
static void add_toleration(json_t *spec, const char *key, const char *effect) {
  json_t *tols = json_object_ensure_array(spec, "tolerations");
  _cleanup_json_ json_t *t =
      json_pack("{s:s, s:s, s:s}", "key", key, "operator", "Exists", "effect", effect);
  size_t i;
  json_t *e;
  json_array_foreach(tols, i, e) {
    if (toleration_matches(e, t)) {
      if (!json_equal(e, t))
        json_array_set(tols, i, t);
      return;
    }
  }
  json_array_append(tols, t);
}

/* AddOrUpdateDaemonPodTolerations: daemon pods ride out node trouble that evicts or keeps
 * away other pods. */
static void add_daemon_tolerations(json_t *spec) {
  add_toleration(spec, "node.kubernetes.io/not-ready", "NoExecute");
  add_toleration(spec, "node.kubernetes.io/unreachable", "NoExecute");
  add_toleration(spec, "node.kubernetes.io/disk-pressure", "NoSchedule");
  add_toleration(spec, "node.kubernetes.io/memory-pressure", "NoSchedule");
  add_toleration(spec, "node.kubernetes.io/pid-pressure", "NoSchedule");
  add_toleration(spec, "node.kubernetes.io/unschedulable", "NoSchedule");
  if (json_is_true(json_object_get(spec, "hostNetwork")))
    add_toleration(spec, "node.kubernetes.io/network-unavailable", "NoSchedule");
}

static bool tolerates(const json_t *tol, const json_t *taint) {
  const char *effect = str_or_empty(tol, "effect");
  if (*effect && !streq(effect, str_or_empty(taint, "effect")))
    return false;
  const char *key = str_or_empty(tol, "key");
  if (*key && !streq(key, str_or_empty(taint, "key")))
    return false;
  const char *op = str_or_empty(tol, "operator");
  if (streq(op, "Exists"))
    return true;
  if (*op && !streq(op, "Equal"))
    return false;
  return streq(str_or_empty(tol, "value"), str_or_empty(taint, "value"));
}

/* Whether some taint of the node with one of the effects (NULL = NoSchedule or NoExecute)
 * is not tolerated. */
static bool untolerated_taint(const json_t *node, const json_t *tols, const char *only_effect) {
  size_t i, j;
  const json_t *taint, *tol;
  json_array_foreach(json_path((json_t *)node, "spec.taints"), i, taint) {
    const char *effect = str_or_empty(taint, "effect");
    if (only_effect ? !streq(effect, only_effect)
                    : !streq(effect, "NoSchedule") && !streq(effect, "NoExecute"))
      continue;
    bool ok = false;
    json_array_foreach(tols, j, tol) {
      if (tolerates(tol, taint)) {
        ok = true;
        break;
      }
    }
    if (!ok)
      return true;
  }
  return false;
}

static bool requirement_matches(const json_t *req, const char *value, bool present) {
  const char *op = str_or_empty(req, "operator");
  const json_t *values = json_object_get(req, "values");
  if (streq(op, "Exists"))
    return present;
  if (streq(op, "DoesNotExist"))
    return !present;
  if (streq(op, "In") || streq(op, "NotIn")) {
    bool in = false;
    size_t i;
    const json_t *v;
    json_array_foreach(values, i, v) {
      if (present && streq_ptr(json_string_value(v), value))
        in = true;
    }
    return streq(op, "In") ? in : !in;
  }
  if (streq(op, "Gt") || streq(op, "Lt")) {
    if (!present || json_array_size(values) != 1)
      return false;
    char *end;
    errno = 0;
    long long have = strtoll(value, &end, 10);
    if (errno || *end || end == value)
      return false;
    const char *ws = json_string_value(json_array_get(values, 0));
    if (!ws)
      return false;
    long long want = strtoll(ws, &end, 10);
    if (*end || end == ws)
      return false;
    return streq(op, "Gt") ? have > want : have < want;
  }
  return false;
}

/* A NodeSelectorTerm: its label expressions and field requirements all hold; a term
 * with neither matches nothing. */
static bool term_matches(const json_t *term, const json_t *node) {
  const json_t *exprs = json_object_get(term, "matchExpressions");
  const json_t *fields = json_object_get(term, "matchFields");
  if (json_array_size(exprs) == 0 && json_array_size(fields) == 0)
    return false;
  const json_t *labels = json_path((json_t *)node, "metadata.labels");
  size_t i;
  const json_t *req;
  json_array_foreach(exprs, i, req) {
    const char *v = json_string_value(json_object_get(labels, str_or_empty(req, "key")));
    if (!requirement_matches(req, v, v != NULL))
      return false;
  }
  json_array_foreach(fields, i, req) {
    if (!streq(str_or_empty(req, "key"), "metadata.name"))
      return false;
    if (!requirement_matches(req, str(node, "metadata.name"), true))
      return false;
  }
  return true;
}

/* nodeaffinity.GetRequiredNodeAffinity(pod).Match(node). */
static bool fits_node_affinity(const json_t *spec, const json_t *node) {
  const json_t *labels = json_path((json_t *)node, "metadata.labels");
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)json_object_get(spec, "nodeSelector"), k, v) {
    if (!streq_ptr(json_string_value(json_object_get(labels, k)), json_string_value(v)))
      return false;
  }
  const json_t *required = json_path((json_t *)spec,
                                     "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution");
  if (!json_is_object(required))
    return true;
  size_t i;
  const json_t *term;
  json_array_foreach(json_object_get(required, "nodeSelectorTerms"), i, term) {
    if (term_matches(term, node))
      return true;
  }
  return false;
}

/* NodeShouldRunDaemonPod: whether a daemon pod should be started on the node, and whether
 * one already there may keep running. `spec` is the template spec with the daemon
 * tolerations added. */
static void node_should_run(const json_t *spec, const json_t *node, bool *ret_run,
                            bool *ret_continue) {
  const char *want = str_or_empty(spec, "nodeName");
  *ret_run = *ret_continue = false;
  if (*want && !streq(want, str(node, "metadata.name")))
    return;
  if (!fits_node_affinity(spec, node))
    return;
  const json_t *tols = json_object_get(spec, "tolerations");
  if (untolerated_taint(node, tols, NULL)) {
    *ret_continue = !untolerated_taint(node, tols, "NoExecute");
    return;
  }
  *ret_run = *ret_continue = true;
}

/* util.GetTargetNodeName: spec.nodeName, or the node the affinity pins the pod to. */
static const char *target_node(const json_t *pod) {
  const char *n = str(pod, "spec.nodeName");
  if (n && *n)
    return n;
  const json_t *terms = json_path(
      (json_t *)pod,
      "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms");
  size_t i, j;
  const json_t *term, *req;
  json_array_foreach(terms, i, term) {
    json_array_foreach(json_object_get(term, "matchFields"), j, req) {
      if (streq(str_or_empty(req, "key"), "metadata.name") &&
          streq(str_or_empty(req, "operator"), "In") &&
          json_array_size(json_object_get(req, "values")) == 1)
        return json_string_value(json_array_get(json_object_get(req, "values"), 0));
    }
  }
  return NULL;
}

/* ReplaceDaemonSetPodNodeNameNodeAffinity: the required node terms become one term that
 * names the node, so the scheduler places the pod there and nowhere else. */
static void pin_to_node(json_t *spec, const char *node) {
  json_t *na = json_object_ensure(json_object_ensure(spec, "affinity"), "nodeAffinity");
  json_t *req = json_object_ensure(na, "requiredDuringSchedulingIgnoredDuringExecution");
  json_object_set_new(req, "nodeSelectorTerms",
                      json_pack("[{s:[{s:s, s:s, s:[s]}]}]", "matchFields", "key",
                                "metadata.name", "operator", "In", "values", node));
}

/* ---- pods ---- */

static bool pod_terminal(const json_t *pod) {
  const char *phase = str(pod, "status.phase");
  return phase && (streq(phase, "Succeeded") || streq(phase, "Failed"));
}

static bool pod_deleting(const json_t *pod) {
  return json_path((json_t *)pod, "metadata.deletionTimestamp") != NULL;
}

/* podByCreationTimestampAndPhase: scheduled first, then oldest, then by name. */
static int pod_age_cmp(const void *pa, const void *pb) {
  const json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
  const char *na = str(a, "spec.nodeName"), *nb = str(b, "spec.nodeName");
  bool sa = na && *na, sb = nb && *nb;
  if (sa != sb)
    return sa ? -1 : 1;
  const char *ta = str(a, "metadata.creationTimestamp"), *tb = str(b, "metadata.creationTimestamp");
  int c = strcmp(ta ? ta : "", tb ? tb : "");
  if (c)
    return c;
  return strcmp(str(a, "metadata.name") ? str(a, "metadata.name") : "",
                str(b, "metadata.name") ? str(b, "metadata.name") : "");
}

struct node_pods {
  json_t **v;
  size_t n, cap;
};

static void node_pods_free(void *p) {
  struct node_pods *np = p;
  free(np->v);
  free(np);
}

/* getNodesToDaemonPods: the DaemonSet's pods by the node they are (to be) on, oldest
 * first, leaving out terminal pods already being deleted. Pods are borrowed from `pods`. */
static void map_pods(const json_t *pods, struct hmap *ret_map) {
  size_t i;
  json_t *pod;
  json_array_foreach(pods, i, pod) {
    if (pod_terminal(pod) && pod_deleting(pod))
      continue;
    const char *node = target_node(pod);
    if (!node)
      continue;
    struct node_pods *np = hmap_get(ret_map, node);
    if (!np) {
      np = xcalloc(1, sizeof(*np));
      hmap_put(ret_map, node, np);
    }
    np->v = xgrow(np->v, np->n, &np->cap, sizeof(*np->v));
    np->v[np->n++] = pod;
  }
  const char *k;
  void *v;
  for (size_t it = 0; hmap_next(ret_map, &it, &k, &v);) {
    struct node_pods *np = v;
    qsort(np->v, np->n, sizeof(*np->v), pod_age_cmp);
  }
}

static json_t *pod_template_generation(const json_t *ds) {
  const char *g = json_string_value(
      json_object_get(json_path((json_t *)ds, "metadata.annotations"),
                      DS_TEMPLATE_GENERATION_ANNOTATION));
  return g ? json_string(g) : NULL;
}

/* IsPodUpdated: the pod carries the current hash or the current template generation. */
static bool pod_updated(const json_t *pod, const char *hash, const char *generation) {
  const json_t *labels = json_path((json_t *)pod, "metadata.labels");
  const char *h = json_string_value(json_object_get(labels, HISTORY_HASH_LABEL));
  const char *g = json_string_value(json_object_get(labels, DS_TEMPLATE_GENERATION_LABEL));
  return (generation && g && streq(g, generation)) || (hash && *hash && h && streq(h, hash));
}

/* ---- the sync ---- */

struct ds_sync {
  struct controller *c;
  const json_t *ds;
  const char *key;
  const char *ns;
  const char *name;
  const char *hash;
  const char *generation;
  json_t *spec; /* template spec with daemon tolerations (for eligibility) */
  json_t *nodes;
  struct hmap node_pods; /* node name -> struct node_pods */
  struct timespec now;
  /* work for sync_nodes */
  const char **create_on;
  size_t n_create, cap_create;
  const json_t **delete;
  size_t n_delete, cap_delete;
  char *pods_path;
};

static void add_create(struct ds_sync *s, const char *node) {
  s->create_on = xgrow(s->create_on, s->n_create, &s->cap_create, sizeof(*s->create_on));
  s->create_on[s->n_create++] = node;
}

static void add_delete(struct ds_sync *s, const json_t *pod) {
  for (size_t i = 0; i < s->n_delete; i++)
    if (s->delete[i] == pod)
      return;
  s->delete = xgrow(s->delete, s->n_delete, &s->cap_delete, sizeof(*s->delete));
  s->delete[s->n_delete++] = pod;
}

static void reset_work(struct ds_sync *s) { s->n_create = s->n_delete = 0; }

static struct node_pods *pods_on(struct ds_sync *s, const char *node) {
  return hmap_get(&s->node_pods, node);
}

static int create_one(void *ud, int i) {
  struct ds_sync *s = ud;
  struct controller *c = s->c;
  const char *node = s->create_on[i];
  _cleanup_json_ json_t *tmpl = json_deep_copy(json_path((json_t *)s->ds, "spec.template"));
  json_t *labels = json_object_ensure(json_object_ensure(tmpl, "metadata"), "labels");
  if (s->generation)
    json_object_set_new(labels, DS_TEMPLATE_GENERATION_LABEL, json_string(s->generation));
  json_object_set_new(labels, HISTORY_HASH_LABEL, json_string(s->hash));
  json_t *spec = json_object_ensure(tmpl, "spec");
  add_daemon_tolerations(spec);
  pin_to_node(spec, node);
  _cleanup_json_ json_t *ref = podutil_controller_ref(s->ds, "apps/v1", "DaemonSet");
  _cleanup_json_ json_t *pod = podutil_from_template(tmpl, s->ds, ref);
  _cleanup_free_ char *err = NULL;
  _cleanup_json_ json_t *created = NULL;
  int r = pod ? controller_create(c, s->pods_path, pod, &created, &err) : -EINVAL;
  if (r < 0) {
    controller_observe_add(c, s->key);
    event_record(controller_events(c), s->ds, "DaemonSet", "apps/v1", "Warning", "FailedCreate",
                 "Error creating: %s", err ? err : strerror(-r));
    return r;
  }
  event_record(controller_events(c), s->ds, "DaemonSet", "apps/v1", "Normal", "SuccessfulCreate",
               "Created pod: %s", str(created, "metadata.name"));
  return 0;
}

static int delete_one(void *ud, int i) {
  struct ds_sync *s = ud;
  struct controller *c = s->c;
  const char *name = str(s->delete[i], "metadata.name");
  _cleanup_free_ char *path = xasprintf("%s/%s", s->pods_path, name);
  _cleanup_free_ char *err = NULL;
  int r = controller_delete(c, path, NULL, &err);
  if (r < 0) {
    controller_observe_del(c, s->key);
    event_record(controller_events(c), s->ds, "DaemonSet", "apps/v1", "Warning", "FailedDelete",
                 "Error deleting: %s", err ? err : strerror(-r));
    return r;
  }
  event_record(controller_events(c), s->ds, "DaemonSet", "apps/v1", "Normal", "SuccessfulDelete",
               "Deleted pod: %s", name);
  return 0;
}

/* syncNodes: fires the creates (slow start) and deletes (all at once) decided by manage
 * or the rolling update, with expectations set first. */
static int sync_nodes(struct ds_sync *s) {
  int creates = s->n_create > DS_BURST ? DS_BURST : (int)s->n_create;
  int deletes = s->n_delete > DS_BURST ? DS_BURST : (int)s->n_delete;
  if (!creates && !deletes)
    return 0;
  controller_expect(s->c, s->key, creates, deletes);
  int err = 0;
  int ok = podutil_slow_start_batch(creates, 1, create_one, s, &err);
  /* Creates never fired will never be observed. */
  for (int i = ok + (err ? 1 : 0); i < creates && err; i++)
    controller_observe_add(s->c, s->key);
  int dok = podutil_parallel(deletes, delete_one, s);
  if (err < 0)
    return err;
  return dok < deletes ? -EIO : 0;
}

/* manage: start missing daemon pods, delete surplus, failed and misplaced ones. */
static int manage(struct ds_sync *s, bool surge) {
  bool requeue_failed = false;
  size_t i;
  json_t *node;
  json_array_foreach(s->nodes, i, node) {
    const char *nname = str(node, "metadata.name");
    if (!nname)
      continue;
    bool run, cont;
    node_should_run(s->spec, node, &run, &cont);
    struct node_pods *np = pods_on(s, nname);
    bool exists = np && np->n > 0;
    if (run && !exists) {
      add_create(s, nname);
    } else if (cont && exists) {
      json_t **running = xmalloc(np->n * sizeof(*running));
      size_t nr = 0;
      for (size_t j = 0; j < np->n; j++) {
        json_t *pod = np->v[j];
        if (pod_deleting(pod))
          continue;
        const char *phase = str(pod, "status.phase");
        if (phase && streq(phase, "Failed")) {
          event_record(controller_events(s->c), s->ds, "DaemonSet", "apps/v1", "Warning",
                       "FailedDaemonPod",
                       "Found failed daemon pod %s/%s on node %s, will try to kill it", s->ns,
                       str(pod, "metadata.name"), nname);
          add_delete(s, pod);
          requeue_failed = true;
        } else if (phase && streq(phase, "Succeeded")) {
          add_delete(s, pod);
        } else {
          running[nr++] = pod;
        }
      }
      if (!surge) {
        for (size_t j = 1; j < nr; j++)
          add_delete(s, running[j]);
      } else {
        /* With surge two pods may share a node only while the new one is not ready yet
         * and the old one still is. */
        json_t *oldest_new = NULL, *oldest_old = NULL;
        for (size_t j = 0; j < nr; j++) {
          const char *h =
              json_string_value(json_object_get(json_path(running[j], "metadata.labels"),
                                                HISTORY_HASH_LABEL));
          bool is_new = h && streq(h, s->hash);
          json_t **slot = is_new ? &oldest_new : &oldest_old;
          if (!*slot)
            *slot = running[j];
          else
            add_delete(s, running[j]);
        }
        if (oldest_new && oldest_old &&
            (!podutil_is_ready(oldest_old) || podutil_is_ready(oldest_new)))
          add_delete(s, oldest_old);
      }
      free(running);
    } else if (!cont && exists) {
      for (size_t j = 0; j < np->n; j++)
        if (!pod_deleting(np->v[j]))
          add_delete(s, np->v[j]);
    }
  }
  /* Pods bound for nodes that no longer exist. */
  const char *k;
  void *v;
  for (size_t it = 0; hmap_next(&s->node_pods, &it, &k, &v);) {
    bool found = false;
    json_array_foreach(s->nodes, i, node) {
      if (streq_ptr(str(node, "metadata.name"), k)) {
        found = true;
        break;
      }
    }
    if (found)
      continue;
    struct node_pods *np = v;
    for (size_t j = 0; j < np->n; j++)
      if (!pod_deleting(np->v[j]))
        add_delete(s, np->v[j]);
  }
  if (requeue_failed)
    controller_enqueue_after(s->c, s->key, DS_FAILED_POD_RETRY_MS);
  return sync_nodes(s);
}

/* An int-or-percent of total, rounded up (intstr.GetScaledValueFromIntOrPercent). */
static long scaled(const json_t *v, long total, long dflt) {
  if (json_is_integer(v))
    return (long)json_integer_value(v);
  const char *p = json_string_value(v);
  if (!p)
    return dflt;
  char *end;
  long pct = strtol(p, &end, 10);
  if (end == p || !streq(end, "%"))
    return dflt;
  return (pct * total + 99) / 100;
}

/* findUpdatedPodsOnNode: at most one new and one old live pod, else false. */
static bool updated_pods_on_node(struct ds_sync *s, const struct node_pods *np, json_t **ret_new,
                                 json_t **ret_old) {
  *ret_new = *ret_old = NULL;
  for (size_t j = 0; np && j < np->n; j++) {
    json_t *pod = np->v[j];
    if (pod_deleting(pod))
      continue;
    json_t **slot = pod_updated(pod, s->hash, s->generation) ? ret_new : ret_old;
    if (*slot)
      return false;
    *slot = pod;
  }
  return true;
}

static int rolling_update(struct ds_sync *s) {
  const json_t *ru = json_path((json_t *)s->ds, "spec.updateStrategy.rollingUpdate");
  long desired = 0;
  size_t i;
  json_t *node;
  /* updatedDesiredNodeCounts: nodes that should run a pod count even without one. */
  const char **nodes = NULL;
  size_t n_nodes = 0, cap = 0;
  json_array_foreach(s->nodes, i, node) {
    bool run, cont;
    node_should_run(s->spec, node, &run, &cont);
    const char *nname = str(node, "metadata.name");
    if (!nname || (!run && !pods_on(s, nname)))
      continue;
    if (run)
      desired++;
    nodes = xgrow(nodes, n_nodes, &cap, sizeof(*nodes));
    nodes[n_nodes++] = nname;
  }
  long max_surge = scaled(json_object_get(ru, "maxSurge"), desired, 0);
  long max_unavail = scaled(json_object_get(ru, "maxUnavailable"), desired, 1);
  if (desired > 0 && max_surge == 0 && max_unavail == 0)
    max_unavail = 1;

  reset_work(s);
  long num = 0;
  /* Replacements allowed regardless of the budget (old pods already unavailable), and
   * candidates within it: old pods to delete (maxSurge 0) or nodes to surge onto. */
  const json_t **allowed_pods = xcalloc(n_nodes + 1, sizeof(*allowed_pods));
  const json_t **candidate_pods = xcalloc(n_nodes + 1, sizeof(*candidate_pods));
  const char **allowed = xcalloc(n_nodes + 1, sizeof(*allowed));
  const char **candidates = xcalloc(n_nodes + 1, sizeof(*candidates));
  size_t n_allowed = 0, n_candidates = 0;
  for (size_t ni = 0; ni < n_nodes; ni++) {
    const char *nname = nodes[ni];
    json_t *newp, *oldp;
    if (!updated_pods_on_node(s, pods_on(s, nname), &newp, &oldp)) {
      num++;
      continue;
    }
    if (max_surge == 0) {
      if ((!oldp && !newp) || (oldp && newp)) {
        num++;
      } else if (newp) {
        if (!podutil_is_available(newp, int_at(s->ds, "spec.minReadySeconds", 0), &s->now))
          num++;
      } else if (!podutil_is_available(oldp, int_at(s->ds, "spec.minReadySeconds", 0), &s->now)) {
        allowed_pods[n_allowed++] = oldp;
      } else if (num < max_unavail) {
        candidate_pods[n_candidates++] = oldp;
      }
    } else {
      if (!oldp)
        continue;
      if (!newp) {
        if (!podutil_is_available(oldp, int_at(s->ds, "spec.minReadySeconds", 0), &s->now))
          allowed[n_allowed++] = nname;
        else if (num < max_surge)
          candidates[n_candidates++] = nname;
      } else if (!podutil_is_available(newp, int_at(s->ds, "spec.minReadySeconds", 0),
                                       &s->now)) {
        num++;
      } else {
        add_delete(s, oldp);
      }
    }
  }
  long budget = (max_surge == 0 ? max_unavail : max_surge) - num;
  if (budget < 0)
    budget = 0;
  if ((size_t)budget > n_candidates)
    budget = (long)n_candidates;
  for (size_t j = 0; j < n_allowed; j++) {
    if (max_surge == 0)
      add_delete(s, allowed_pods[j]);
    else
      add_create(s, allowed[j]);
  }
  for (long j = 0; j < budget; j++) {
    if (max_surge == 0)
      add_delete(s, candidate_pods[j]);
    else
      add_create(s, candidates[j]);
  }
  free(allowed);
  free(candidates);
  free(allowed_pods);
  free(candidate_pods);
  free(nodes);
  return sync_nodes(s);
}

/* ---- history ---- */

struct ds_history {
  json_t *cur;   /* the revision matching the template (borrowed from `all` or owned) */
  json_t *all;   /* sorted revisions owned by the DaemonSet */
  json_t *owned; /* a revision created or updated here */
};

static void ds_history_clear(struct ds_history *h) {
  json_decref(h->all);
  json_decref(h->owned);
}

/* constructHistory: find or make the revision of the current template; give it the
 * highest revision number. */
static int construct_history(struct ds_sync *s, struct ds_history *h) {
  struct controller *c = s->c;
  h->all = informer_by_index(st(c)->revs, PODUTIL_INDEX_CONTROLLER_UID,
                             str(s->ds, "metadata.uid"));
  history_sort(h->all);
  _cleanup_json_ json_t *patch = history_patch(s->ds);
  if (!patch)
    return -EINVAL;
  json_t *probe = json_pack("{s:O}", "data", patch);
  size_t i;
  json_t *rev;
  json_array_foreach(h->all, i, rev) {
    if (history_equal_data(rev, probe))
      h->cur = rev; /* the highest equal one, as dedupCurHistories keeps */
  }
  json_decref(probe);
  int64_t next = history_next_revision(h->all);
  _cleanup_free_ char *path = controller_path(DS_GROUP, s->ns, "controllerrevisions");
  _cleanup_free_ char *err = NULL;
  if (!h->cur) {
    const json_t *cc = json_path((json_t *)s->ds, "status.collisionCount");
    int64_t collisions = json_is_integer(cc) ? (int64_t)json_integer_value(cc) : 0;
    _cleanup_free_ char *hash =
        history_template_hash(json_path((json_t *)s->ds, "spec.template"), json_is_integer(cc) ? &collisions : NULL);
    _cleanup_json_ json_t *obj = history_new_revision(s->ds, "apps/v1", "DaemonSet", hash, patch,
                                                      next);
    json_t *created = NULL;
    int r = controller_create(c, path, obj, &created, &err);
    if (r == -EEXIST) {
      /* A revision of that name exists but is not ours or holds other data: a hash
       * collision, resolved by a new count in status (the next sync hashes again). */
      _cleanup_json_ json_t *patch_st =
          json_pack("{s:{s:I}}", "status", "collisionCount", (json_int_t)(collisions + 1));
      _cleanup_free_ char *dp = controller_path(DS_GROUP, s->ns, "daemonsets");
      _cleanup_free_ char *sp = xasprintf("%s/%s/status", dp, s->name);
      controller_patch(c, sp, patch_st, false, NULL, NULL);
      return -EAGAIN;
    }
    if (r < 0) {
      controller_log(c, "creating revision for %s: %s", s->key, err ? err : strerror(-r));
      return r;
    }
    h->owned = created;
    h->cur = created;
    return 0;
  }
  if ((int64_t)json_integer_value(json_object_get(h->cur, "revision")) < next - 1 ||
      (json_array_size(h->all) > 0 &&
       json_array_get(h->all, json_array_size(h->all) - 1) != h->cur)) {
    _cleanup_json_ json_t *upd = json_deep_copy(h->cur);
    json_object_set_new(upd, "revision", json_integer(next));
    _cleanup_free_ char *rp = xasprintf("%s/%s", path, str(upd, "metadata.name"));
    json_t *updated = NULL;
    int r = controller_update(c, rp, upd, &updated, &err);
    if (r < 0)
      return r;
    h->owned = updated;
    h->cur = updated;
  }
  return 0;
}

/* cleanupHistory: keep revisionHistoryLimit old revisions besides those live pods use. */
static void cleanup_history(struct ds_sync *s, struct ds_history *h, const json_t *pods) {
  /* Revisions are live by the hash label their pods carry. */
  size_t i;
  json_t *pod, *rev;
  _cleanup_json_ json_t *old = json_array();
  json_array_foreach(h->all, i, rev) {
    if (streq_ptr(str(rev, "metadata.name"), str(h->cur, "metadata.name")))
      continue;
    const char *hash =
        json_string_value(json_object_get(json_path(rev, "metadata.labels"), HISTORY_HASH_LABEL));
    bool used = false;
    size_t j;
    json_array_foreach(pods, j, pod) {
      const char *ph = json_string_value(
          json_object_get(json_path(pod, "metadata.labels"), HISTORY_HASH_LABEL));
      if (hash && ph && streq(hash, ph) && !pod_deleting(pod)) {
        used = true;
        break;
      }
    }
    if (!used)
      json_array_append(old, rev);
  }
  long limit = (long)int_at(s->ds, "spec.revisionHistoryLimit", 10);
  _cleanup_json_ json_t *prune = history_to_prune(old, NULL, 0, limit);
  _cleanup_free_ char *path = controller_path(DS_GROUP, s->ns, "controllerrevisions");
  json_array_foreach(prune, i, rev) {
    _cleanup_free_ char *rp = xasprintf("%s/%s", path, str(rev, "metadata.name"));
    controller_delete(s->c, rp, NULL, NULL);
  }
}

/* ---- status ---- */

static int update_status(struct ds_sync *s, bool observed_gen) {
  long desired = 0, current = 0, mis = 0, ready = 0, available = 0, updated = 0;
  long min_ready = (long)int_at(s->ds, "spec.minReadySeconds", 0);
  size_t i;
  json_t *node;
  json_array_foreach(s->nodes, i, node) {
    const char *nname = str(node, "metadata.name");
    if (!nname)
      continue;
    bool run, cont;
    node_should_run(s->spec, node, &run, &cont);
    struct node_pods *np = pods_on(s, nname);
    bool scheduled = np && np->n > 0;
    if (!run) {
      if (scheduled)
        mis++;
      continue;
    }
    desired++;
    if (!scheduled)
      continue;
    current++;
    json_t *pod = np->v[0];
    if (podutil_is_ready(pod)) {
      ready++;
      if (podutil_is_available(pod, min_ready, &s->now))
        available++;
    }
    if (pod_updated(pod, s->hash, s->generation))
      updated++;
  }
  long unavailable = desired - available;
  const json_t *status = json_object_get(s->ds, "status");
  long long gen = int_at(s->ds, "metadata.generation", 0);
  long long seen = int_at(status, "observedGeneration", 0);
  long long want_gen = observed_gen ? gen : seen;
  if (min_ready > 0 && ready != available)
    controller_enqueue_after(s->c, s->key, min_ready * 1000);
  if (int_at(status, "desiredNumberScheduled", 0) == desired &&
      int_at(status, "currentNumberScheduled", 0) == current &&
      int_at(status, "numberMisscheduled", 0) == mis && int_at(status, "numberReady", 0) == ready &&
      int_at(status, "updatedNumberScheduled", 0) == updated &&
      int_at(status, "numberAvailable", 0) == available &&
      int_at(status, "numberUnavailable", 0) == unavailable && seen >= want_gen &&
      json_path((json_t *)status, "desiredNumberScheduled"))
    return 0;
  _cleanup_json_ json_t *patch = json_pack(
      "{s:{s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o}}", "status", "desiredNumberScheduled",
      (json_int_t)desired, "currentNumberScheduled", (json_int_t)current, "numberMisscheduled",
      (json_int_t)mis, "numberReady", (json_int_t)ready, "updatedNumberScheduled",
      ctlutil_int_or_null(updated), "numberAvailable", ctlutil_int_or_null(available),
      "numberUnavailable", ctlutil_int_or_null(unavailable), "observedGeneration",
      ctlutil_int_or_null(want_gen));
  return ctlutil_patch_status(s->c, DS_GROUP, s->ns, "daemonsets", s->name, patch);
}

static int ds_sync(struct controller *c, const char *key) {
  struct ds_state *state = st(c);
  _cleanup_json_ json_t *ds = informer_get(state->dss, key);
  if (!ds) {
    controller_forget_expectations(c, key);
    return 0;
  }
  if (pod_deleting(ds))
    return 0;
  _cleanup_selector_ selector_t *sel = NULL;
  if (selector_from_json(json_path(ds, "spec.selector"), &sel, NULL) < 0 ||
      selector_is_empty(sel))
    return 0; /* kube refuses to select every pod */
  if (!json_is_object(json_path(ds, "spec.template")))
    return 0;

  struct ds_sync s = {.c = c, .ds = ds, .key = key, .node_pods = HMAP_INIT};
  s.ns = str(ds, "metadata.namespace");
  s.name = str(ds, "metadata.name");
  clock_gettime(CLOCK_REALTIME, &s.now);
  _cleanup_json_ json_t *gen = pod_template_generation(ds);
  s.generation = json_string_value(gen);
  s.spec = json_deep_copy(json_path(ds, "spec.template.spec"));
  if (!s.spec)
    s.spec = json_object();
  add_daemon_tolerations(s.spec);
  s.nodes = informer_list(state->nodes, NULL);
  s.pods_path = controller_path("/api/v1", s.ns, "pods");

  struct ds_history h = {0};
  int r = construct_history(&s, &h);
  _cleanup_json_ json_t *pods =
      informer_by_index(state->pods, PODUTIL_INDEX_CONTROLLER_UID, str(ds, "metadata.uid"));
  map_pods(pods, &s.node_pods);
  if (r < 0)
    goto out;
  const char *hash =
      json_string_value(json_object_get(json_path(h.cur, "metadata.labels"), HISTORY_HASH_LABEL));
  s.hash = hash ? hash : "";

  if (!controller_satisfied(c, key)) {
    r = update_status(&s, false);
    goto out;
  }
  const char *strategy = str(ds, "spec.updateStrategy.type");
  bool rolling = !strategy || streq(strategy, "RollingUpdate");
  bool surge = rolling && scaled(json_path(ds, "spec.updateStrategy.rollingUpdate.maxSurge"),
                                 (long)json_array_size(s.nodes), 0) > 0;
  r = manage(&s, surge);
  if (r < 0)
    goto out;
  if (rolling && controller_satisfied(c, key)) {
    r = rolling_update(&s);
    if (r < 0)
      goto out;
  }
  cleanup_history(&s, &h, pods);
  r = update_status(&s, true);
out:
  ds_history_clear(&h);
  hmap_clear(&s.node_pods, node_pods_free);
  json_decref(s.spec);
  json_decref(s.nodes);
  free(s.create_on);
  free(s.delete);
  free(s.pods_path);
  return r;
}

/* ---- informer handlers ---- */

static char *owner_key(const json_t *obj) {
  const json_t *ref = controller_owner_ref(obj);
  if (!streq_ptr(json_string_value(json_object_get(ref, "kind")), "DaemonSet"))
    return NULL;
  const char *name = json_string_value(json_object_get(ref, "name"));
  const char *ns = str(obj, "metadata.namespace");
  if (!name || !ns)
    return NULL;
  return xasprintf("%s/%s", ns, name);
}

static void pod_added(void *ud, json_t *pod) {
  _cleanup_free_ char *key = owner_key(pod);
  if (!key)
    return;
  if (pod_deleting(pod))
    controller_observe_del(ud, key);
  else
    controller_observe_add(ud, key);
  controller_enqueue(ud, key);
}

static void pod_updated_handler(void *ud, json_t *old, json_t *pod) {
  _cleanup_free_ char *key = owner_key(pod);
  _cleanup_free_ char *old_key = old ? owner_key(old) : NULL;
  if (old_key && !streq_ptr(key, old_key))
    controller_enqueue(ud, old_key);
  if (!key)
    return;
  /* A pod marked for deletion counts as deleted, as kube's updatePod does. */
  if (pod_deleting(pod) && old && !pod_deleting(old))
    controller_observe_del(ud, key);
  controller_enqueue(ud, key);
}

static void pod_deleted(void *ud, json_t *pod) {
  _cleanup_free_ char *key = owner_key(pod);
  if (!key)
    return;
  if (!pod_deleting(pod))
    controller_observe_del(ud, key);
  controller_enqueue(ud, key);
}

static void enqueue_all(struct controller *c) {
  _cleanup_json_ json_t *all = informer_list(st(c)->dss, NULL);
  size_t i;
  json_t *ds;
  json_array_foreach(all, i, ds) controller_enqueue_obj(c, ds);
}

static void node_added(void *ud, json_t *node) { enqueue_all(ud); }

/* Heartbeats change only condition times: nothing a DaemonSet decides on. */
static bool node_changed(const json_t *a, const json_t *b) {
  if (!json_equal(json_path((json_t *)a, "metadata.labels"),
                  json_path((json_t *)b, "metadata.labels")) &&
      (json_path((json_t *)a, "metadata.labels") || json_path((json_t *)b, "metadata.labels")))
    return true;
  const json_t *sa = json_object_get(a, "spec"), *sb = json_object_get(b, "spec");
  if ((sa || sb) && !(sa && sb && json_equal((json_t *)sa, (json_t *)sb)))
    return true;
  const json_t *ca = json_path((json_t *)a, "status.conditions");
  const json_t *cb = json_path((json_t *)b, "status.conditions");
  if (json_array_size(ca) != json_array_size(cb))
    return true;
  for (size_t i = 0; i < json_array_size(ca); i++) {
    const json_t *x = json_array_get(ca, i), *y = json_array_get(cb, i);
    if (!streq(str_or_empty(x, "type"), str_or_empty(y, "type")) ||
        !streq(str_or_empty(x, "status"), str_or_empty(y, "status")))
      return true;
  }
  return false;
}

static void node_updated(void *ud, json_t *old, json_t *node) {
  if (!old || node_changed(old, node))
    enqueue_all(ud);
}

static int ds_setup(struct controller *c) {
  struct ds_state *state = xcalloc(1, sizeof(*state));
  controller_set_state(c, state);
  state->dss = controller_informer(c, DS_GROUP "/daemonsets");
  state->pods = controller_informer(c, "/api/v1/pods");
  state->nodes = controller_informer(c, "/api/v1/nodes");
  state->revs = controller_informer(c, DS_GROUP "/controllerrevisions");
  if (!state->dss || !state->pods || !state->nodes || !state->revs)
    return -ENOMEM;
  informer_add_index(state->pods, PODUTIL_INDEX_CONTROLLER_UID, podutil_index_controller_uid);
  informer_add_index(state->revs, PODUTIL_INDEX_CONTROLLER_UID, podutil_index_controller_uid);
  controller_watch_objects(c, state->dss);
  controller_watch_owned(c, state->revs, "DaemonSet");
  informer_add_handler(state->pods, &(struct informer_handler){.on_add = pod_added,
                                                               .on_update = pod_updated_handler,
                                                               .on_delete = pod_deleted,
                                                               .userdata = c});
  informer_add_handler(state->nodes, &(struct informer_handler){.on_add = node_added,
                                                                .on_update = node_updated,
                                                                .on_delete = node_added,
                                                                .userdata = c});
  return 0;
}

static void ds_teardown(struct controller *c) { free(controller_state(c)); }

static const struct controller_def daemonset_controller = {
    .name = "daemonset",
    .component = "daemonset-controller",
    .workers = 2,
    .setup = ds_setup,
    .sync = ds_sync,
    .teardown = ds_teardown,
};

CONTROLLER_REGISTER(daemonset_controller);
