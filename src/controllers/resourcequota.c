/* The resource quota controller (kube's ResourceQuotaController): keeps every
 * ResourceQuota's status current: status.hard mirrors spec.hard, status.used counts what
 * the namespace holds of each resource named in spec.hard.
 *
 * Object counts ("pods", "services", "count/deployments.apps", ...) come from informers;
 * compute resources (requests.cpu, limits.memory, ...) are summed over the pods that are
 * not terminal, as kube's pod evaluator sums them (containers added up, an init
 * container counted when it asks for more). Quota scopes (Terminating, NotTerminating,
 * BestEffort, NotBestEffort) narrow the pods counted. Keys are quota keys; any change of
 * a counted object re-queues the quotas of its namespace. Status is written only when it
 * changes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "controllers/controller.h"
#include "lib/json.h"
#include "lib/quantity.h"

/* Countable resources: the quota name of their object count and where they live. */
struct counted {
  const char *count_name; /* "count/<resource>[.<group>]" */
  const char *legacy;     /* the short quota name kube also accepts, or NULL */
  const char *path;       /* collection path */
};

static const struct counted counted[] = {
    {"count/pods", "pods", "/api/v1/pods"},
    {"count/services", "services", "/api/v1/services"},
    {"count/configmaps", "configmaps", "/api/v1/configmaps"},
    {"count/secrets", "secrets", "/api/v1/secrets"},
    {"count/persistentvolumeclaims", "persistentvolumeclaims", "/api/v1/persistentvolumeclaims"},
    {"count/replicationcontrollers", "replicationcontrollers",
     "/api/v1/replicationcontrollers"},
    {"count/resourcequotas", "resourcequotas", "/api/v1/resourcequotas"},
    {"count/deployments.apps", NULL, "/apis/apps/v1/deployments"},
    {"count/replicasets.apps", NULL, "/apis/apps/v1/replicasets"},
    {"count/statefulsets.apps", NULL, "/apis/apps/v1/statefulsets"},
    {"count/daemonsets.apps", NULL, "/apis/apps/v1/daemonsets"},
    {"count/jobs.batch", NULL, "/apis/batch/v1/jobs"},
    {"count/cronjobs.batch", NULL, "/apis/batch/v1/cronjobs"},
};

#define IDX_PODS 0
#define IDX_SERVICES 1
#define IDX_PVCS 4
#define IDX_QUOTAS 6

struct rq_state {
  struct informer *inf[ARRAY_SIZE(counted)];
};

static struct rq_state *state(struct controller *c) { return controller_state(c); }

/* ---- handlers: re-queue the quotas of the namespace ---- */

static void enqueue_quotas_of(struct controller *c, const json_t *obj) {
  const char *ns = json_path_str((json_t *)obj, "metadata.namespace");
  if (!ns)
    return;
  _cleanup_json_ json_t *quotas = informer_list(state(c)->inf[IDX_QUOTAS], ns);
  size_t i;
  json_t *q;
  json_array_foreach(quotas, i, q) controller_enqueue_obj(c, q);
}

static void on_add(void *ud, json_t *obj) { enqueue_quotas_of(ud, obj); }
static void on_delete(void *ud, json_t *obj) { enqueue_quotas_of(ud, obj); }

static bool pod_terminal(const json_t *pod) {
  const char *phase = json_path_str((json_t *)pod, "status.phase");
  return streq_ptr(phase, "Succeeded") || streq_ptr(phase, "Failed");
}

/* Pods release quota when they finish; their resources are otherwise fixed. */
static void on_pod_update(void *ud, json_t *old, json_t *pod) {
  if (pod_terminal(old) != pod_terminal(pod) ||
      !json_equal(json_path(old, "spec.activeDeadlineSeconds") ?: json_null(),
                  json_path(pod, "spec.activeDeadlineSeconds") ?: json_null()))
    enqueue_quotas_of(ud, pod);
}

/* A Service's type decides its node ports and load balancers; a claim's size its
 * storage. */
static void on_spec_update(void *ud, json_t *old, json_t *obj) {
  if (!json_equal(json_object_get(old, "spec") ?: json_null(),
                  json_object_get(obj, "spec") ?: json_null()))
    enqueue_quotas_of(ud, obj);
}

static void on_quota_update(void *ud, json_t *old, json_t *obj) {
  (void)old;
  controller_enqueue_obj(ud, obj);
}

static int rq_setup(struct controller *c) {
  struct rq_state *s = xcalloc(1, sizeof(*s));
  controller_set_state(c, s);
  for (size_t i = 0; i < ARRAY_SIZE(counted); i++) {
    s->inf[i] = controller_informer(c, counted[i].path);
    if (!s->inf[i])
      return -ENOMEM;
  }
  for (size_t i = 0; i < ARRAY_SIZE(counted); i++) {
    struct informer_handler h = {.on_add = on_add, .on_delete = on_delete, .userdata = c};
    if (i == IDX_PODS)
      h.on_update = on_pod_update;
    else if (i == IDX_SERVICES || i == IDX_PVCS)
      h.on_update = on_spec_update;
    else if (i == IDX_QUOTAS)
      h = (struct informer_handler){
          .on_add = on_add, .on_update = on_quota_update, .on_delete = on_delete, .userdata = c};
    informer_add_handler(s->inf[i], &h);
  }
  return 0;
}

static void rq_teardown(struct controller *c) {
  free(state(c));
  controller_set_state(c, NULL);
}

/* ---- usage ---- */

static const char *const compute_names[] = {"requests.cpu",  "requests.memory", "limits.cpu",
                                            "limits.memory", "cpu",             "memory",
                                            "requests.ephemeral-storage",
                                            "limits.ephemeral-storage", "ephemeral-storage"};

/* "requests.cpu" → ("requests", "cpu"); a bare name counts as its requests. */
static void split_compute(const char *name, const char **ret_kind, const char **ret_res) {
  if (startswith(name, "requests.")) {
    *ret_kind = "requests";
    *ret_res = name + strlen("requests.");
  } else if (startswith(name, "limits.")) {
    *ret_kind = "limits";
    *ret_res = name + strlen("limits.");
  } else {
    *ret_kind = "requests";
    *ret_res = name;
  }
}

static quantity_t container_amount(const json_t *ctr, const char *kind, const char *res) {
  quantity_t q = quantity_from_int64(0, QUANTITY_DECIMAL_SI);
  json_t *list = json_object_get(json_object_get((json_t *)ctr, "resources"), kind);
  const char *s = json_string_value(json_object_get(list, res));
  const char *err;
  if (s && quantity_parse(s, &q, &err) < 0)
    q = quantity_from_int64(0, QUANTITY_DECIMAL_SI);
  return q;
}

/* What a pod asks for (kube's PodRequests/PodLimits without sidecar subtleties): the sum
 * over its containers, or the largest init container when that is more, plus overhead. */
static quantity_t pod_amount(const json_t *pod, const char *kind, const char *res) {
  quantity_t sum = quantity_from_int64(0, QUANTITY_DECIMAL_SI);
  size_t i;
  json_t *ctr;
  json_array_foreach(json_path((json_t *)pod, "spec.containers"), i, ctr) {
    quantity_t q = container_amount(ctr, kind, res);
    quantity_add(&sum, &q);
  }
  json_array_foreach(json_path((json_t *)pod, "spec.initContainers"), i, ctr) {
    quantity_t q = container_amount(ctr, kind, res);
    if (quantity_cmp(&q, &sum) > 0)
      sum = q;
  }
  const char *ov = json_string_value(json_object_get(json_path((json_t *)pod, "spec.overhead"), res));
  quantity_t o;
  const char *err;
  if (ov && quantity_parse(ov, &o, &err) == 0)
    quantity_add(&sum, &o);
  return sum;
}

static bool pod_best_effort(const json_t *pod) {
  static const char *const lists[] = {"spec.containers", "spec.initContainers"};
  for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
    size_t i;
    json_t *ctr;
    json_array_foreach(json_path((json_t *)pod, lists[l]), i, ctr) {
      if (json_object_size(json_path(ctr, "resources.requests")) ||
          json_object_size(json_path(ctr, "resources.limits")))
        return false;
    }
  }
  return true;
}

static bool pod_in_scopes(const json_t *quota, const json_t *pod) {
  size_t i;
  json_t *scope;
  json_array_foreach(json_path((json_t *)quota, "spec.scopes"), i, scope) {
    const char *sc = json_string_value(scope);
    bool deadline = json_path((json_t *)pod, "spec.activeDeadlineSeconds") != NULL;
    if ((streq_ptr(sc, "Terminating") && !deadline) ||
        (streq_ptr(sc, "NotTerminating") && deadline) ||
        (streq_ptr(sc, "BestEffort") && !pod_best_effort(pod)) ||
        (streq_ptr(sc, "NotBestEffort") && pod_best_effort(pod)))
      return false;
  }
  return true;
}

static bool quota_scoped(const json_t *quota) {
  return json_array_size(json_path((json_t *)quota, "spec.scopes")) > 0;
}

static char *count_string(size_t n) { return xasprintf("%zu", n); }

/* The usage of one quota resource name, or NULL when ckube does not track it. */
static char *usage_of(struct rq_state *s, const json_t *quota, const char *ns, const char *name,
                      const json_t *pods) {
  bool scoped = quota_scoped(quota);
  for (size_t i = 0; i < ARRAY_SIZE(counted); i++) {
    if (!streq(name, counted[i].count_name) && !streq_ptr(name, counted[i].legacy))
      continue;
    if (i == IDX_PODS) {
      size_t n = 0, k;
      json_t *pod;
      json_array_foreach(pods, k, pod) n += !pod_terminal(pod) && pod_in_scopes(quota, pod);
      return count_string(n);
    }
    if (scoped)
      return NULL;
    _cleanup_json_ json_t *items = informer_list(s->inf[i], ns);
    return count_string(json_array_size(items));
  }
  for (size_t i = 0; i < ARRAY_SIZE(compute_names); i++) {
    if (!streq(name, compute_names[i]))
      continue;
    const char *kind, *res;
    split_compute(name, &kind, &res);
    quantity_t sum = quantity_from_int64(0, QUANTITY_DECIMAL_SI);
    size_t k;
    json_t *pod;
    json_array_foreach(pods, k, pod) {
      if (pod_terminal(pod) || !pod_in_scopes(quota, pod))
        continue;
      quantity_t q = pod_amount(pod, kind, res);
      quantity_add(&sum, &q);
    }
    return quantity_to_string(&sum);
  }
  if (scoped)
    return NULL;
  if (streq(name, "services.nodeports") || streq(name, "services.loadbalancers")) {
    _cleanup_json_ json_t *svcs = informer_list(s->inf[IDX_SERVICES], ns);
    size_t n = 0, k, p;
    json_t *svc, *port;
    json_array_foreach(svcs, k, svc) {
      const char *type = json_path_str(svc, "spec.type");
      if (streq(name, "services.loadbalancers")) {
        n += streq_ptr(type, "LoadBalancer");
      } else if (streq_ptr(type, "NodePort") || streq_ptr(type, "LoadBalancer")) {
        json_array_foreach(json_path(svc, "spec.ports"), p, port) n +=
            json_object_get(port, "nodePort") != NULL;
      }
    }
    return count_string(n);
  }
  if (streq(name, "requests.storage")) {
    _cleanup_json_ json_t *pvcs = informer_list(s->inf[IDX_PVCS], ns);
    quantity_t sum = quantity_from_int64(0, QUANTITY_DECIMAL_SI);
    size_t k;
    json_t *pvc;
    json_array_foreach(pvcs, k, pvc) {
      const char *v = json_path_str(pvc, "spec.resources.requests.storage");
      quantity_t q;
      const char *err;
      if (v && quantity_parse(v, &q, &err) == 0)
        quantity_add(&sum, &q);
    }
    return quantity_to_string(&sum);
  }
  return NULL;
}

static bool same_quantities(const json_t *a, const json_t *b) {
  if (json_object_size(a) != json_object_size(b))
    return false;
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)a, k, v) {
    const char *x = json_string_value(v), *y = json_string_value(json_object_get(b, k));
    if (!x || !y)
      return false;
    quantity_t qx, qy;
    const char *err;
    if (quantity_parse(x, &qx, &err) < 0 || quantity_parse(y, &qy, &err) < 0) {
      if (!streq(x, y))
        return false;
    } else if (quantity_cmp(&qx, &qy) != 0) {
      return false;
    }
  }
  return true;
}

static int rq_sync(struct controller *c, const char *key) {
  struct rq_state *s = state(c);
  _cleanup_json_ json_t *quota = informer_get(s->inf[IDX_QUOTAS], key);
  if (!quota)
    return 0;
  const char *ns = json_path_str(quota, "metadata.namespace");
  json_t *hard = json_path(quota, "spec.hard");
  _cleanup_json_ json_t *pods = informer_list(s->inf[IDX_PODS], ns);
  _cleanup_json_ json_t *used = json_object();
  const char *name;
  json_t *v;
  json_object_foreach(hard, name, v) {
    char *u = usage_of(s, quota, ns, name, pods);
    if (u)
      json_object_set_new(used, name, json_string(u));
    free(u);
  }
  _cleanup_json_ json_t *want_hard = json_is_object(hard) ? json_deep_copy(hard) : json_object();
  json_t *status = json_object_get(quota, "status");
  _cleanup_json_ json_t *none = json_object();
  json_t *have_hard = json_object_get(status, "hard"), *have_used = json_object_get(status, "used");
  if (json_equal(have_hard ? have_hard : none, want_hard) &&
      same_quantities(have_used ? have_used : none, used) &&
      json_object_size(have_used) == json_object_size(used))
    return 0;

  _cleanup_json_ json_t *next = json_deep_copy(quota);
  json_object_set_new(next, "status", json_pack("{s:O,s:O}", "hard", want_hard, "used", used));
  _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/resourcequotas/%s/status", ns,
                                        json_path_str(quota, "metadata.name"));
  _cleanup_free_ char *err = NULL;
  int r = controller_update(c, path, next, NULL, &err);
  if (r == -ENOENT)
    return 0;
  if (r < 0 && r != -ESTALE)
    controller_log(c, "updating %s: %s", path, err ? err : strerror(-r));
  return r;
}

static const struct controller_def resourcequota_def = {
    .name = "resourcequota",
    .component = "resourcequota-controller",
    .workers = 2,
    .setup = rq_setup,
    .sync = rq_sync,
    .teardown = rq_teardown,
};
CONTROLLER_REGISTER(resourcequota_def);
