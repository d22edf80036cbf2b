/* replicaset.c — the ReplicaSet controller (apps/v1, set-based selector) and the
 * ReplicationController controller (core v1, map selector): one sync engine, as kube's
 * ReplicationManager is the ReplicaSetController behind a conversion.
 *
 * sync(key): claim the active pods (adopt matching orphans, release owned pods that no
 * longer match), create or delete pods toward spec.replicas when the expectations of the
 * previous burst are met, then write status through /status if it changed. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "controllers/controller.h"
#include "controllers/ctlutil.h"
#include "controllers/podutil.h"
#include "lib/hmap.h"
#include "lib/macro.h"
#include "lib/selector.h"
#include "lib/timeutil.h"

/* kube's burstReplicas: the most pods one sync creates or deletes. */
#define BURST_REPLICAS 500

struct rs_kind {
  const char *kind;
  const char *api_version;
  const char *prefix; /* group-version path prefix */
  const char *plural;
  bool map_selector; /* ReplicationController: spec.selector is a label map */
};

static const struct rs_kind kind_rs = {"ReplicaSet", "apps/v1", "/apis/apps/v1", "replicasets",
                                       false};
static const struct rs_kind kind_rc = {"ReplicationController", "v1", "/api/v1",
                                       "replicationcontrollers", true};

struct rs_state {
  const struct rs_kind *k;
  struct controller *c;
  struct informer *owners; /* ReplicaSets or ReplicationControllers */
  struct informer *pods;
};

static struct rs_state *state_of(struct controller *c) { return controller_state(c); }

static int build_selector(const struct rs_kind *k, const json_t *owner, selector_t **ret) {
  json_t *sel = json_path((json_t *)owner, "spec.selector");
  if (k->map_selector) {
    /* An RC's selector is a plain label map: the same as matchLabels. */
    _cleanup_json_ json_t *ls = json_object();
    json_object_set_new(ls, "matchLabels", json_is_object(sel) ? json_incref(sel) : json_object());
    return selector_from_json(ls, ret, NULL);
  }
  return selector_from_json(sel, ret, NULL);
}

static long spec_replicas(const json_t *owner) {
  json_t *r = json_path((json_t *)owner, "spec.replicas");
  return r ? (long)json_integer_value(r) : 1;
}

static long min_ready_seconds(const json_t *owner) {
  return (long)json_integer_value(json_path((json_t *)owner, "spec.minReadySeconds"));
}

/* The key of the pod's controller when that is a live owner of our kind (kube's
 * resolveControllerRef: kind and uid must match the cached object). Caller frees. */
static char *resolve_owner(struct rs_state *st, const json_t *pod) {
  const json_t *ref = controller_owner_ref(pod);
  if (!ref || !streq_ptr(json_string_value(json_object_get(ref, "kind")), st->k->kind))
    return NULL;
  const char *ns = json_path_str((json_t *)pod, "metadata.namespace");
  const char *name = json_string_value(json_object_get(ref, "name"));
  if (!ns || !name)
    return NULL;
  _cleanup_json_ json_t *owner = informer_get_nn(st->owners, ns, name);
  if (!owner || !streq_ptr(json_path_str(owner, "metadata.uid"),
                           json_string_value(json_object_get(ref, "uid"))))
    return NULL;
  return xasprintf("%s/%s", ns, name);
}

/* An orphan changed: every owner of our kind in its namespace whose selector matches it
 * may want to adopt it. */
static void enqueue_matching_owners(struct rs_state *st, const json_t *pod) {
  const char *ns = json_path_str((json_t *)pod, "metadata.namespace");
  if (!ns)
    return;
  json_t *labels = json_path((json_t *)pod, "metadata.labels");
  _cleanup_json_ json_t *owners = informer_list(st->owners, ns);
  size_t i;
  json_t *o;
  json_array_foreach(owners, i, o) {
    _cleanup_selector_ selector_t *sel = NULL;
    if (build_selector(st->k, o, &sel) < 0 || selector_is_empty(sel))
      continue;
    if (selector_matches(sel, labels))
      controller_enqueue_obj(st->c, o);
  }
}

static bool is_deleting(const json_t *obj) {
  return json_path((json_t *)obj, "metadata.deletionTimestamp") != NULL;
}

static void owner_changed(void *ud, json_t *obj) {
  struct rs_state *st = ud;
  controller_enqueue_obj(st->c, obj);
}

static void owner_updated(void *ud, json_t *old, json_t *obj) { owner_changed(ud, obj); }

static void pod_deleted(void *ud, json_t *pod) {
  struct rs_state *st = ud;
  _cleanup_free_ char *key = resolve_owner(st, pod);
  if (!key)
    return;
  /* A pod that was already marked for deletion was observed then. */
  if (!is_deleting(pod))
    controller_observe_del(st->c, key);
  controller_enqueue(st->c, key);
}

static void pod_added(void *ud, json_t *pod) {
  struct rs_state *st = ud;
  if (is_deleting(pod)) {
    /* Seen for the first time already on its way out (after a relist): its deletion is
     * what the controller waits for. */
    _cleanup_free_ char *key = resolve_owner(st, pod);
    if (key) {
      controller_observe_del(st->c, key);
      controller_enqueue(st->c, key);
    }
    return;
  }
  if (controller_owner_ref(pod)) {
    _cleanup_free_ char *key = resolve_owner(st, pod);
    if (key) {
      controller_observe_add(st->c, key);
      controller_enqueue(st->c, key);
    }
    return;
  }
  enqueue_matching_owners(st, pod);
}

static void pod_updated(void *ud, json_t *old, json_t *pod) {
  struct rs_state *st = ud;
  if (streq_ptr(json_path_str(old, "metadata.resourceVersion"),
                json_path_str(pod, "metadata.resourceVersion")))
    return;
  bool labels_changed = !json_equal(json_path(old, "metadata.labels"),
                                    json_path(pod, "metadata.labels"));
  if (is_deleting(pod)) {
    _cleanup_free_ char *key = resolve_owner(st, pod);
    if (key) {
      if (!is_deleting(old))
        controller_observe_del(st->c, key);
      controller_enqueue(st->c, key);
    }
    if (labels_changed) {
      _cleanup_free_ char *old_key = resolve_owner(st, old);
      if (old_key && (!key || !streq(old_key, key)))
        controller_enqueue(st->c, old_key);
    }
    return;
  }
  const json_t *old_ref = controller_owner_ref(old), *ref = controller_owner_ref(pod);
  bool ref_changed = !json_equal((json_t *)old_ref, (json_t *)ref);
  if (ref_changed && old_ref) {
    _cleanup_free_ char *old_key = resolve_owner(st, old);
    if (old_key)
      controller_enqueue(st->c, old_key);
  }
  if (ref) {
    _cleanup_free_ char *key = resolve_owner(st, pod);
    if (!key)
      return;
    controller_enqueue(st->c, key);
    if (!podutil_is_ready(old) && podutil_is_ready(pod)) {
      _cleanup_json_ json_t *owner = informer_get(st->owners, key);
      long mrs = owner ? min_ready_seconds(owner) : 0;
      /* Becomes available minReadySeconds after turning ready; a second more because
       * availability needs strictly more than that at whole-second timestamps. */
      if (mrs > 0)
        controller_enqueue_after(st->c, key, mrs * 1000 + 1000);
    }
    return;
  }
  if (labels_changed || ref_changed)
    enqueue_matching_owners(st, pod);
}

static int rs_setup(struct controller *c, const struct rs_kind *k) {
  struct rs_state *st = xcalloc(1, sizeof(*st));
  st->k = k;
  st->c = c;
  _cleanup_free_ char *path = xasprintf("%s/%s", k->prefix, k->plural);
  st->owners = controller_informer(c, path);
  st->pods = controller_informer(c, "/api/v1/pods");
  if (!st->owners || !st->pods) {
    free(st);
    return -EINVAL;
  }
  controller_set_state(c, st);
  informer_add_index(st->pods, PODUTIL_INDEX_CONTROLLER_UID, podutil_index_controller_uid);
  informer_add_index(st->pods, PODUTIL_INDEX_ORPHANS, podutil_index_orphans);
  informer_add_index(st->owners, PODUTIL_INDEX_CONTROLLER_UID, podutil_index_controller_uid);
  informer_add_handler(st->owners, &(struct informer_handler){.on_add = owner_changed,
                                                              .on_update = owner_updated,
                                                              .on_delete = owner_changed,
                                                              .userdata = st});
  informer_add_handler(st->pods, &(struct informer_handler){.on_add = pod_added,
                                                            .on_update = pod_updated,
                                                            .on_delete = pod_deleted,
                                                            .userdata = st});
  return 0;
}

static int setup_rs(struct controller *c) { return rs_setup(c, &kind_rs); }
static int setup_rc(struct controller *c) { return rs_setup(c, &kind_rc); }

static void rs_teardown(struct controller *c) {
  free(controller_state(c));
  controller_set_state(c, NULL);
}

/* ---- claiming ---- */

struct claim {
  struct controller *c;
  struct rs_state *st;
  const json_t *owner;
  const char *ns;
  const char *key;
  int adopt_ok; /* 0 unknown, 1 may adopt, -1 must not */
  char *err;    /* first failure, for the sync's error */
};

/* kube's RecheckDeletionTimestamp: before the first adoption, a live read makes sure the
 * owner is not being deleted (the cache may lag) and is the same object. */
static bool can_adopt(struct claim *cl) {
  if (cl->adopt_ok)
    return cl->adopt_ok > 0;
  _cleanup_free_ char *coll = controller_path(cl->st->k->prefix, cl->ns, cl->st->k->plural);
  _cleanup_free_ char *path =
      xasprintf("%s/%s", coll, json_path_str((json_t *)cl->owner, "metadata.name"));
  long status = 0;
  _cleanup_json_ json_t *fresh = NULL;
  int r = rest_do_json(controller_client(cl->c), "GET", path, NULL, NULL, &status, &fresh, NULL);
  cl->adopt_ok = -1;
  if (r < 0 || status != 200 || !fresh)
    return false;
  if (!streq_ptr(json_path_str(fresh, "metadata.uid"),
                 json_path_str((json_t *)cl->owner, "metadata.uid")) ||
      is_deleting(fresh))
    return false;
  cl->adopt_ok = 1;
  return true;
}

static void claim_fail(struct claim *cl, int r, char *msg) {
  if (!cl->err)
    cl->err = msg ? msg : xasprintf("%s", strerror(-r));
  else
    free(msg);
}

static int patch_pod(struct claim *cl, const json_t *pod, json_t *patch, json_t **ret) {
  _cleanup_free_ char *coll = controller_path("/api/v1", cl->ns, "pods");
  _cleanup_free_ char *path =
      xasprintf("%s/%s", coll, json_path_str((json_t *)pod, "metadata.name"));
  char *err = NULL;
  int r = controller_patch(cl->c, path, patch, true, ret, &err);
  if (r < 0 && r != -ENOENT)
    claim_fail(cl, r, err);
  else
    free(err);
  return r;
}

/* Adopts an orphan (kube's AdoptPod): a strategic merge adding our controller reference,
 * with the pod's uid as precondition. The patched pod in *ret. */
static int adopt(struct claim *cl, const json_t *pod, json_t **ret) {
  _cleanup_json_ json_t *ref =
      podutil_controller_ref(cl->owner, cl->st->k->api_version, cl->st->k->kind);
  _cleanup_json_ json_t *patch =
      json_pack("{s:{s:[O],s:s?}}", "metadata", "ownerReferences", ref, "uid",
                json_path_str((json_t *)pod, "metadata.uid"));
  return patch_pod(cl, pod, patch, ret);
}

/* Releases an owned pod that no longer matches (kube's ReleasePod). */
static int release(struct claim *cl, const json_t *pod) {
  _cleanup_json_ json_t *patch = json_pack(
      "{s:{s:[{s:s,s:s?}],s:s?}}", "metadata", "ownerReferences", "$patch", "delete", "uid",
      json_path_str((json_t *)cl->owner, "metadata.uid"), "uid",
      json_path_str((json_t *)pod, "metadata.uid"));
  return patch_pod(cl, pod, patch, NULL);
}

/* The active pods this owner controls after adoption and release (kube's claimPods over
 * FilterActivePods). New array. */
static json_t *claim_pods(struct claim *cl, const selector_t *sel) {
  json_t *out = json_array();
  const char *uid = json_path_str((json_t *)cl->owner, "metadata.uid");
  bool owner_deleting = is_deleting(cl->owner);
  _cleanup_json_ json_t *owned = informer_by_index(cl->st->pods, PODUTIL_INDEX_CONTROLLER_UID, uid);
  size_t i;
  json_t *p;
  json_array_foreach(owned, i, p) {
    if (!podutil_is_active(p) || !streq_ptr(json_path_str(p, "metadata.namespace"), cl->ns))
      continue;
    if (selector_matches(sel, json_path(p, "metadata.labels"))) {
      json_array_append(out, p);
      continue;
    }
    /* Owned but no longer matching: let it go, unless the owner itself is going. */
    if (!owner_deleting)
      release(cl, p);
  }
  if (owner_deleting)
    return out;
  _cleanup_json_ json_t *orphans = informer_by_index(cl->st->pods, PODUTIL_INDEX_ORPHANS, cl->ns);
  json_array_foreach(orphans, i, p) {
    if (!podutil_is_active(p) || !selector_matches(sel, json_path(p, "metadata.labels")))
      continue;
    if (!can_adopt(cl))
      break;
    _cleanup_json_ json_t *adopted = NULL;
    if (adopt(cl, p, &adopted) == 0)
      json_array_append(out, adopted ? adopted : p);
  }
  return out;
}

/* ---- creating and deleting ---- */

struct burst_ctx {
  struct controller *c;
  const struct rs_kind *k;
  const json_t *owner;
  const char *key;
  json_t *pod; /* the pod to create */
  json_t **victims;
  const char *pods_path;
  pthread_mutex_t mu;
  char *err; /* first failure's message */
};

static void burst_fail(struct burst_ctx *b, char *msg) {
  pthread_mutex_lock(&b->mu);
  if (!b->err)
    b->err = msg;
  else
    free(msg);
  pthread_mutex_unlock(&b->mu);
}

static int create_one(void *ud, int i) {
  struct burst_ctx *b = ud;
  _cleanup_json_ json_t *created = NULL;
  char *err = NULL;
  int r = controller_create(b->c, b->pods_path, b->pod, &created, &err);
  struct event_recorder *ev = controller_events(b->c);
  if (r < 0) {
    if (!err)
      err = xasprintf("%s", strerror(-r));
    event_record(ev, b->owner, b->k->kind, b->k->api_version, "Warning", "FailedCreate",
                 "Error creating: %s", err);
    burst_fail(b, err);
    return r;
  }
  event_record(ev, b->owner, b->k->kind, b->k->api_version, "Normal", "SuccessfulCreate",
               "Created pod: %s", json_path_str(created, "metadata.name"));
  return 0;
}

static int delete_one(void *ud, int i) {
  struct burst_ctx *b = ud;
  const char *name = json_path_str(b->victims[i], "metadata.name");
  _cleanup_free_ char *path = xasprintf("%s/%s", b->pods_path, name);
  char *err = NULL;
  int r = controller_delete(b->c, path, NULL, &err);
  struct event_recorder *ev = controller_events(b->c);
  if (r < 0) {
    /* The deletion will never be observed: stop waiting for it. */
    controller_observe_del(b->c, b->key);
    if (!err)
      err = xasprintf("%s", strerror(-r));
    event_record(ev, b->owner, b->k->kind, b->k->api_version, "Warning", "FailedDelete",
                 "Error deleting: %s", err);
    burst_fail(b, err);
    return r;
  }
  free(err);
  event_record(ev, b->owner, b->k->kind, b->k->api_version, "Normal", "SuccessfulDelete",
               "Deleted pod: %s", name);
  return 0;
}

/* Pods controlled by the owner's siblings (the ReplicaSets of the same Deployment), for
 * ranking victims by how crowded their node is (kube's getIndirectlyRelatedPods). */
static json_t *related_pods(struct rs_state *st, const json_t *owner) {
  json_t *out = json_array();
  const json_t *ref = controller_owner_ref(owner);
  const char *uid = json_string_value(json_object_get(ref, "uid"));
  if (!uid)
    return out;
  _cleanup_json_ json_t *siblings = informer_by_index(st->owners, PODUTIL_INDEX_CONTROLLER_UID, uid);
  size_t i, j;
  json_t *s, *p;
  json_array_foreach(siblings, i, s) {
    _cleanup_json_ json_t *pods =
        informer_by_index(st->pods, PODUTIL_INDEX_CONTROLLER_UID, json_path_str(s, "metadata.uid"));
    json_array_foreach(pods, j, p) json_array_append(out, p);
  }
  return out;
}

/* Sorts the pods most deletable first, ranked by how many related active pods share
 * their node. `v` has n entries over `pods`. */
static void rank_for_deletion(struct rs_state *st, const json_t *owner, json_t *pods,
                              struct podutil_ranked *v, size_t n) {
  _cleanup_json_ json_t *related = related_pods(st, owner);
  struct hmap on_node = HMAP_INIT;
  size_t j;
  json_t *q;
  json_array_foreach(related, j, q) {
    if (!podutil_is_active(q))
      continue;
    const char *node = json_path_str(q, "spec.nodeName");
    uintptr_t count = (uintptr_t)hmap_get(&on_node, node ? node : "");
    hmap_put(&on_node, node ? node : "", (void *)(count + 1));
  }
  for (size_t i = 0; i < n; i++) {
    json_t *p = json_array_get(pods, i);
    const char *node = json_path_str(p, "spec.nodeName");
    v[i] = (struct podutil_ranked){p, (int)(uintptr_t)hmap_get(&on_node, node ? node : "")};
  }
  hmap_clear(&on_node, NULL);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  podutil_sort_ranked(v, n, &now);
}

/* kube's manageReplicas. 0, or < 0 with the first failure's message in *ret_err. */
static int manage_replicas(struct controller *c, struct rs_state *st, const json_t *owner,
                           const char *key, const char *ns, json_t *pods, char **ret_err) {
  long diff = (long)json_array_size(pods) - spec_replicas(owner);
  if (diff == 0)
    return 0;
  _cleanup_free_ char *pods_path = controller_path("/api/v1", ns, "pods");
  struct burst_ctx b = {.c = c, .k = st->k, .owner = owner, .key = key, .pods_path = pods_path};
  pthread_mutex_init(&b.mu, NULL);
  int r = 0;
  if (diff < 0) {
    int n = -diff > BURST_REPLICAS ? BURST_REPLICAS : (int)-diff;
    _cleanup_json_ json_t *ref = podutil_controller_ref(owner, st->k->api_version, st->k->kind);
    b.pod = podutil_from_template(json_path((json_t *)owner, "spec.template"), owner, ref);
    if (!b.pod) {
      b.err = xstrdup("unable to create pods, no labels");
      r = -EINVAL;
    } else {
      /* Expect them all before the first create, so that informer events of early
       * creates cannot make a concurrent sync think it must create more. */
      controller_expect(c, key, n, 0);
      int err = 0;
      int ok = podutil_slow_start_batch(n, 1, create_one, &b, &err);
      /* Creates never attempted or failed will never be observed. */
      for (int i = ok; i < n; i++)
        controller_observe_add(c, key);
      r = err;
      json_decref(b.pod);
    }
  } else {
    int n = diff > BURST_REPLICAS ? BURST_REPLICAS : (int)diff;
    size_t total = json_array_size(pods);
    struct podutil_ranked *v = xcalloc(total, sizeof(*v));
    rank_for_deletion(st, owner, pods, v, total);
    b.victims = xcalloc(n, sizeof(*b.victims));
    for (int i = 0; i < n; i++)
      b.victims[i] = v[i].pod;
    free(v);
    controller_expect(c, key, 0, n);
    int ok = podutil_parallel(n, delete_one, &b);
    if (ok < n)
      r = -EIO;
    free(b.victims);
  }
  pthread_mutex_destroy(&b.mu);
  if (r < 0) {
    *ret_err = b.err ? b.err : xasprintf("%s", strerror(-r));
    return r;
  }
  free(b.err);
  return 0;
}

/* ---- status ---- */

static json_int_t int_at(json_t *obj, const char *key) {
  return json_integer_value(json_object_get(obj, key));
}

/* kube's calculateStatus: a new status object. */
static json_t *calculate_status(const json_t *owner, json_t *pods, const char *manage_err,
                                long diff) {
  json_t *old = json_object_get(owner, "status");
  json_t *tlabels = json_path((json_t *)owner, "spec.template.metadata.labels");
  long mrs = min_ready_seconds(owner);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  long fully = 0, ready = 0, available = 0;
  size_t i;
  json_t *p;
  json_array_foreach(pods, i, p) {
    json_t *labels = json_path(p, "metadata.labels");
    bool all = true;
    const char *k;
    json_t *v;
    json_object_foreach(tlabels, k, v) {
      if (!json_equal(json_object_get(labels, k), v)) {
        all = false;
        break;
      }
    }
    if (all)
      fully++;
    if (podutil_is_ready(p)) {
      ready++;
      if (podutil_is_available(p, mrs, &now))
        available++;
    }
  }
  json_t *st = json_object();
  json_object_set_new(st, "replicas", json_integer((json_int_t)json_array_size(pods)));
  /* Zero counts are left out, as kube's omitempty leaves them. */
  if (fully)
    json_object_set_new(st, "fullyLabeledReplicas", json_integer(fully));
  if (ready)
    json_object_set_new(st, "readyReplicas", json_integer(ready));
  if (available)
    json_object_set_new(st, "availableReplicas", json_integer(available));
  json_t *og = json_object_get(old, "observedGeneration");
  if (og && json_integer_value(og))
    json_object_set(st, "observedGeneration", og);
  json_t *conds = json_array();
  json_array_foreach(json_object_get(old, "conditions"), i, p) {
    if (!streq_ptr(json_string_value(json_object_get(p, "type")), "ReplicaFailure") || manage_err)
      json_array_append(conds, p);
  }
  if (manage_err && !ctlutil_find_condition(old, "ReplicaFailure")) {
    _cleanup_free_ char *ts = timeutil_now();
    const char *reason = diff < 0 ? "FailedCreate" : diff > 0 ? "FailedDelete" : "";
    json_array_append_new(conds, json_pack("{s:s,s:s,s:s,s:s,s:s}", "type", "ReplicaFailure",
                                           "status", "True", "lastTransitionTime", ts, "reason",
                                           reason, "message", manage_err));
  }
  if (json_array_size(conds))
    json_object_set_new(st, "conditions", conds);
  else
    json_decref(conds);
  return st;
}

static bool status_same(const json_t *owner, json_t *next) {
  json_t *old = json_object_get(owner, "status");
  static const char *const counts[] = {"replicas", "fullyLabeledReplicas", "readyReplicas",
                                       "availableReplicas"};
  for (size_t i = 0; i < ARRAY_SIZE(counts); i++)
    if (int_at(old, counts[i]) != int_at(next, counts[i]))
      return false;
  json_int_t gen = json_integer_value(json_path((json_t *)owner, "metadata.generation"));
  if (gen != int_at(old, "observedGeneration"))
    return false;
  json_t *oc = json_object_get(old, "conditions"), *nc = json_object_get(next, "conditions");
  if (json_array_size(oc) == 0 && json_array_size(nc) == 0)
    return true;
  return json_equal(oc, nc);
}

/* Writes the status when it changed; the written object in *ret (or NULL). */
static int update_status(struct controller *c, struct rs_state *st, const json_t *owner,
                         const char *ns, json_t *next, json_t **ret) {
  *ret = NULL;
  if (status_same(owner, next))
    return 0;
  json_t *gen = json_path((json_t *)owner, "metadata.generation");
  if (gen)
    json_object_set(next, "observedGeneration", gen);
  _cleanup_json_ json_t *obj = json_deep_copy(owner);
  json_object_set(obj, "status", next);
  if (!json_object_get(obj, "kind"))
    json_object_set_new(obj, "kind", json_string(st->k->kind));
  if (!json_object_get(obj, "apiVersion"))
    json_object_set_new(obj, "apiVersion", json_string(st->k->api_version));
  _cleanup_free_ char *coll = controller_path(st->k->prefix, ns, st->k->plural);
  _cleanup_free_ char *path =
      xasprintf("%s/%s/status", coll, json_path_str((json_t *)owner, "metadata.name"));
  _cleanup_free_ char *err = NULL;
  int r = controller_update(c, path, obj, ret, &err);
  /* A conflict only means the cache is behind: the next sync writes again. */
  if (r < 0 && r != -ENOENT && r != -ESTALE)
    controller_log(c, "updating status of %s: %s", path, err ? err : strerror(-r));
  return r == -ENOENT ? 0 : r;
}

/* ---- sync ---- */

static int rs_sync(struct controller *c, const char *key) {
  struct rs_state *st = state_of(c);
  _cleanup_json_ json_t *owner = informer_get(st->owners, key);
  if (!owner) {
    controller_forget_expectations(c, key);
    return 0;
  }
  bool need_sync = controller_satisfied(c, key);
  _cleanup_selector_ selector_t *sel = NULL;
  if (build_selector(st->k, owner, &sel) < 0)
    return 0; /* an invalid selector: nothing to do until the object changes */
  const char *ns = json_path_str(owner, "metadata.namespace");
  if (!ns)
    return 0;

  struct claim cl = {.c = c, .st = st, .owner = owner, .ns = ns, .key = key};
  _cleanup_json_ json_t *pods = claim_pods(&cl, sel);
  if (cl.err) {
    controller_log(c, "claiming pods of %s: %s", key, cl.err);
    free(cl.err);
    return -EAGAIN;
  }

  _cleanup_free_ char *manage_err = NULL;
  int manage_r = 0;
  if (need_sync && !is_deleting(owner))
    manage_r = manage_replicas(c, st, owner, key, ns, pods, &manage_err);

  long diff = (long)json_array_size(pods) - spec_replicas(owner);
  _cleanup_json_ json_t *next = calculate_status(owner, pods, manage_err, diff);
  _cleanup_json_ json_t *written = NULL;
  int r = update_status(c, st, owner, ns, next, &written);
  if (r < 0)
    return r;
  if (manage_r < 0)
    return manage_r;

  long replicas = spec_replicas(owner), mrs = min_ready_seconds(owner);
  if (mrs > 0 && int_at(next, "readyReplicas") == replicas &&
      int_at(next, "availableReplicas") != replicas)
    controller_enqueue_after(c, key, mrs * 1000);
  return 0;
}

static const struct controller_def replicaset_def = {
    .name = "replicaset",
    .component = "replicaset-controller",
    .workers = 5,
    .setup = setup_rs,
    .sync = rs_sync,
    .teardown = rs_teardown,
};
CONTROLLER_REGISTER(replicaset_def);

static const struct controller_def replicationcontroller_def = {
    .name = "replicationcontroller",
    .component = "replication-controller",
    .workers = 5,
    .setup = setup_rc,
    .sync = rs_sync,
    .teardown = rs_teardown,
};
CONTROLLER_REGISTER(replicationcontroller_def);
