/* garbagecollector.c — kube's garbage collector: deletes objects whose owners are gone,
 * and carries out the foreground and orphan deletions the API server marks with the
 * foregroundDeletion and orphan finalizers.
 *
 * The ownerReference graph is the informers' own index of every object by the uids its
 * ownerReferences name, over each resource that has dependents; the graph needs no
 * separate copy. Queue keys are "<plural>/<namespace>/<name>".
 *
 * An item's sync (kube's attemptToDeleteItem and friends):
 *  - being deleted with the orphan finalizer: drop the ownerReferences naming it from
 *    every dependent, then the finalizer;
 *  - being deleted with foregroundDeletion: queue its dependents (their owner waits for
 *    them, so they are deleted) and drop the finalizer once no dependent that blocks owner
 *    deletion is left;
 *  - otherwise, with owners: sort each owner into solid (exists), dangling (gone; checked
 *    in the cache, then by a live GET) or waiting (being deleted in foreground). With a
 *    solid owner, only the references to dangling and waiting owners are removed; else
 *    the item is deleted (in foreground when a waiting owner needs it gone and it has
 *    dependents of its own, making its owner references non-blocking first when one of
 *    those dependents waits on it — a cycle).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "controllers/controller.h"
#include "lib/hmap.h"
#include "lib/macro.h"

#define INDEX_OWNER_UIDS "gc-owner-uids"
#define FINALIZER_ORPHAN "orphan"
#define FINALIZER_FOREGROUND "foregroundDeletion"
/* kube keeps the last 500 owners found absent so dependents of one gone owner cost one
 * live read, not one each. */
#define ABSENT_CACHE_MAX 500

struct gc_res {
  const char *prefix; /* group-version path prefix */
  const char *plural;
  const char *kind;
  const char *group; /* "" for core */
  struct informer *inf;
  struct gc_state *st;
};

struct gc_state {
  struct controller *c;
  struct gc_res res[12];
  size_t n_res;
  pthread_mutex_t mu;
  struct hmap absent; /* uids of owners a live read found gone */
};

static const struct gc_res tracked[] = {
    {"/api/v1", "pods", "Pod", ""},
    {"/api/v1", "replicationcontrollers", "ReplicationController", ""},
    {"/api/v1", "services", "Service", ""},
    {"/apis/apps/v1", "replicasets", "ReplicaSet", "apps"},
    {"/apis/apps/v1", "deployments", "Deployment", "apps"},
    {"/apis/apps/v1", "daemonsets", "DaemonSet", "apps"},
    {"/apis/apps/v1", "statefulsets", "StatefulSet", "apps"},
    {"/apis/apps/v1", "controllerrevisions", "ControllerRevision", "apps"},
    {"/apis/batch/v1", "jobs", "Job", "batch"},
    {"/apis/batch/v1", "cronjobs", "CronJob", "batch"},
    {"/apis/discovery.k8s.io/v1", "endpointslices", "EndpointSlice", "discovery.k8s.io"},
};

/* Every uid the object's ownerReferences name. */
static size_t index_owner_uids(const json_t *obj, const char **ret_values, size_t max) {
  size_t n = 0, i;
  json_t *ref;
  json_array_foreach(json_path((json_t *)obj, "metadata.ownerReferences"), i, ref) {
    const char *uid = json_string_value(json_object_get(ref, "uid"));
    if (uid && n < max)
      ret_values[n++] = uid;
  }
  return n;
}

static bool has_finalizer(const json_t *obj, const char *f) {
  size_t i;
  json_t *v;
  json_array_foreach(json_path((json_t *)obj, "metadata.finalizers"), i, v) {
    if (streq_ptr(json_string_value(v), f))
      return true;
  }
  return false;
}

static bool is_deleting(const json_t *obj) {
  return json_path((json_t *)obj, "metadata.deletionTimestamp") != NULL;
}

/* The tracked resource of an ownerReference's apiVersion and kind, or NULL. */
static struct gc_res *res_of_ref(struct gc_state *st, const json_t *ref) {
  const char *kind = json_string_value(json_object_get(ref, "kind"));
  const char *av = json_string_value(json_object_get(ref, "apiVersion"));
  if (!kind || !av)
    return NULL;
  const char *slash = strchr(av, '/');
  size_t glen = slash ? (size_t)(slash - av) : 0;
  for (size_t i = 0; i < st->n_res; i++) {
    struct gc_res *r = &st->res[i];
    if (streq(r->kind, kind) && strlen(r->group) == glen && strncmp(r->group, av, glen) == 0)
      return r;
  }
  return NULL;
}

static char *item_key(const struct gc_res *r, const char *ns, const char *name) {
  return xasprintf("%s/%s/%s", r->plural, ns ? ns : "", name);
}

static void enqueue_item(struct gc_res *r, const json_t *obj) {
  const char *ns = json_path_str((json_t *)obj, "metadata.namespace");
  const char *name = json_path_str((json_t *)obj, "metadata.name");
  if (!name)
    return;
  _cleanup_free_ char *key = item_key(r, ns, name);
  controller_enqueue(r->st->c, key);
}

/* Queues the owners the object's references name (in the object's namespace). */
static void enqueue_owners(struct gc_state *st, const json_t *obj) {
  const char *ns = json_path_str((json_t *)obj, "metadata.namespace");
  size_t i;
  json_t *ref;
  json_array_foreach(json_path((json_t *)obj, "metadata.ownerReferences"), i, ref) {
    struct gc_res *r = res_of_ref(st, ref);
    const char *name = json_string_value(json_object_get(ref, "name"));
    if (r && name) {
      _cleanup_free_ char *key = item_key(r, ns, name);
      controller_enqueue(st->c, key);
    }
  }
}

/* Queues every object whose ownerReferences name uid. */
static void enqueue_dependents(struct gc_state *st, const char *uid) {
  if (!uid)
    return;
  for (size_t i = 0; i < st->n_res; i++) {
    _cleanup_json_ json_t *deps = informer_by_index(st->res[i].inf, INDEX_OWNER_UIDS, uid);
    size_t j;
    json_t *d;
    json_array_foreach(deps, j, d) enqueue_item(&st->res[i], d);
  }
}

static bool wants_attention(const json_t *obj) {
  if (json_array_size(json_path((json_t *)obj, "metadata.ownerReferences")) > 0)
    return true;
  return is_deleting(obj) &&
         (has_finalizer(obj, FINALIZER_ORPHAN) || has_finalizer(obj, FINALIZER_FOREGROUND));
}

static void on_add(void *ud, json_t *obj) {
  struct gc_res *r = ud;
  if (wants_attention(obj))
    enqueue_item(r, obj);
}

static void on_update(void *ud, json_t *old, json_t *obj) {
  struct gc_res *r = ud;
  json_t *old_refs = json_path(old, "metadata.ownerReferences");
  json_t *refs = json_path(obj, "metadata.ownerReferences");
  bool refs_changed = !json_equal(old_refs, refs) && (old_refs || refs);
  if (refs_changed) {
    /* An owner waiting in foreground for this object may be free to go now. */
    enqueue_owners(r->st, old);
    enqueue_item(r, obj);
    return;
  }
  bool was = is_deleting(old) && (has_finalizer(old, FINALIZER_ORPHAN) ||
                                  has_finalizer(old, FINALIZER_FOREGROUND));
  bool now = is_deleting(obj) && (has_finalizer(obj, FINALIZER_ORPHAN) ||
                                  has_finalizer(obj, FINALIZER_FOREGROUND));
  if (now || (was != now) || (!is_deleting(old) && is_deleting(obj) && refs))
    enqueue_item(r, obj);
}

static void on_delete(void *ud, json_t *obj) {
  struct gc_res *r = ud;
  enqueue_owners(r->st, obj);
  enqueue_dependents(r->st, json_path_str(obj, "metadata.uid"));
}

static int gc_setup(struct controller *c) {
  struct gc_state *st = xcalloc(1, sizeof(*st));
  st->c = c;
  pthread_mutex_init(&st->mu, NULL);
  st->absent = (struct hmap)HMAP_INIT;
  for (size_t i = 0; i < ARRAY_SIZE(tracked); i++) {
    struct gc_res *r = &st->res[st->n_res];
    *r = tracked[i];
    r->st = st;
    _cleanup_free_ char *path = xasprintf("%s/%s", r->prefix, r->plural);
    r->inf = controller_informer(c, path);
    if (!r->inf)
      continue;
    informer_add_index(r->inf, INDEX_OWNER_UIDS, index_owner_uids);
    informer_add_handler(r->inf, &(struct informer_handler){.on_add = on_add,
                                                            .on_update = on_update,
                                                            .on_delete = on_delete,
                                                            .userdata = r});
    st->n_res++;
  }
  controller_set_state(c, st);
  return 0;
}

static void gc_teardown(struct controller *c) {
  struct gc_state *st = controller_state(c);
  if (!st)
    return;
  hmap_clear(&st->absent, NULL);
  pthread_mutex_destroy(&st->mu);
  free(st);
  controller_set_state(c, NULL);
}

/* ---- REST ---- */

static char *object_path(const struct gc_res *r, const char *ns, const char *name) {
  _cleanup_free_ char *coll = controller_path(r->prefix, ns, r->plural);
  return xasprintf("%s/%s", coll, name);
}

/* Deletes the item with a propagation policy and its uid as precondition. */
static int delete_item(struct gc_state *st, const struct gc_res *r, const json_t *obj,
                       const char *policy) {
  const char *ns = json_path_str((json_t *)obj, "metadata.namespace");
  _cleanup_free_ char *path = object_path(r, ns, json_path_str((json_t *)obj, "metadata.name"));
  _cleanup_json_ json_t *opts =
      json_pack("{s:s,s:s,s:s,s:{s:s?}}", "kind", "DeleteOptions", "apiVersion", "v1",
                "propagationPolicy", policy, "preconditions", "uid",
                json_path_str((json_t *)obj, "metadata.uid"));
  _cleanup_free_ char *err = NULL;
  int r2 = controller_delete(st->c, path, opts, &err);
  if (r2 < 0 && r2 != -ENOENT) {
    /* A uid precondition failing means the object was replaced: nothing of ours. */
    if (r2 == -ESTALE || r2 == -EEXIST)
      return 0;
    controller_log(st->c, "deleting %s: %s", path, err ? err : strerror(-r2));
    return r2;
  }
  return 0;
}

/* Strategic merge patch of the item's metadata; 404 counts as done. */
static int patch_item(struct gc_state *st, const struct gc_res *r, const json_t *obj,
                      json_t *patch, bool strategic) {
  const char *ns = json_path_str((json_t *)obj, "metadata.namespace");
  _cleanup_free_ char *path = object_path(r, ns, json_path_str((json_t *)obj, "metadata.name"));
  _cleanup_free_ char *err = NULL;
  int rc = controller_patch(st->c, path, patch, strategic, NULL, &err);
  if (rc < 0 && rc != -ENOENT) {
    controller_log(st->c, "patching %s: %s", path, err ? err : strerror(-rc));
    return rc;
  }
  return 0;
}

/* Removes the references to the given owner uids (kube's
 * GenerateDeleteOwnerRefStrategicMergeBytes), with the item's uid as precondition. */
static int remove_owner_refs(struct gc_state *st, const struct gc_res *r, const json_t *obj,
                             json_t *uids) {
  json_t *refs = json_array();
  size_t i;
  json_t *u;
  json_array_foreach(uids, i, u) json_array_append_new(
      refs, json_pack("{s:s,s:O}", "$patch", "delete", "uid", u));
  _cleanup_json_ json_t *patch =
      json_pack("{s:{s:o,s:s?}}", "metadata", "ownerReferences", refs, "uid",
                json_path_str((json_t *)obj, "metadata.uid"));
  return patch_item(st, r, obj, patch, true);
}

static int finalizer_patch(struct gc_state *st, const struct gc_res *r, const json_t *obj,
                           const char *fin, char **ret_err) {
  json_t *rest = json_array();
  size_t i;
  json_t *f;
  json_array_foreach(json_path((json_t *)obj, "metadata.finalizers"), i, f) {
    if (!streq_ptr(json_string_value(f), fin))
      json_array_append(rest, f);
  }
  _cleanup_json_ json_t *patch =
      json_pack("{s:{s:s?,s:o}}", "metadata", "resourceVersion",
                json_path_str((json_t *)obj, "metadata.resourceVersion"), "finalizers", rest);
  const char *ns = json_path_str((json_t *)obj, "metadata.namespace");
  _cleanup_free_ char *path = object_path(r, ns, json_path_str((json_t *)obj, "metadata.name"));
  return controller_patch(st->c, path, patch, false, NULL, ret_err);
}

/* Drops one finalizer with a merge patch of the remaining list, guarded by the
 * resourceVersion the decision was made on (kube's removeFinalizer). The owner's own
 * controller keeps writing its status meanwhile, so on a conflict the decision is
 * re-checked against a fresh read (its dependents are unchanged: they are gone or
 * orphaned) and tried again. */
static int remove_finalizer(struct gc_state *st, const struct gc_res *r, const json_t *obj,
                            const char *fin) {
  _cleanup_json_ json_t *cur = json_incref((json_t *)obj);
  for (int attempt = 0;; attempt++) {
    _cleanup_free_ char *err = NULL;
    int rc = finalizer_patch(st, r, cur, fin, &err);
    if (rc == 0 || rc == -ENOENT)
      return 0;
    if (rc != -ESTALE || attempt == 5) {
      controller_log(st->c, "removing finalizer %s from %s/%s: %s", fin,
                     json_path_str(cur, "metadata.namespace"), json_path_str(cur, "metadata.name"),
                     err ? err : strerror(-rc));
      return rc;
    }
    const char *ns = json_path_str(cur, "metadata.namespace");
    _cleanup_free_ char *path = object_path(r, ns, json_path_str(cur, "metadata.name"));
    long status = 0;
    json_t *fresh = NULL;
    rc = rest_do_json(controller_client(st->c), "GET", path, NULL, NULL, &status, &fresh, NULL);
    if (rc < 0)
      return rc;
    if (status == 404 || !fresh ||
        !streq_ptr(json_path_str(fresh, "metadata.uid"), json_path_str(cur, "metadata.uid")) ||
        !has_finalizer(fresh, fin)) {
      json_decref(fresh);
      return 0;
    }
    json_decref(cur);
    cur = fresh;
  }
}

/* ---- the graph ---- */

struct dep {
  struct gc_res *r;
  json_t *obj; /* new reference */
};

static void deps_free(struct dep *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    json_decref(v[i].obj);
  free(v);
}

/* Every cached object whose ownerReferences name uid. */
static size_t dependents_of(struct gc_state *st, const char *uid, struct dep **ret) {
  struct dep *v = NULL;
  size_t n = 0, cap = 0;
  for (size_t i = 0; uid && i < st->n_res; i++) {
    _cleanup_json_ json_t *deps = informer_by_index(st->res[i].inf, INDEX_OWNER_UIDS, uid);
    size_t j;
    json_t *d;
    json_array_foreach(deps, j, d) {
      v = xgrow(v, n, &cap, sizeof(*v));
      v[n++] = (struct dep){&st->res[i], json_incref(d)};
    }
  }
  *ret = v;
  return n;
}

static const json_t *ref_to(const json_t *obj, const char *uid) {
  size_t i;
  json_t *ref;
  json_array_foreach(json_path((json_t *)obj, "metadata.ownerReferences"), i, ref) {
    if (streq_ptr(json_string_value(json_object_get(ref, "uid")), uid))
      return ref;
  }
  return NULL;
}

static bool absent_known(struct gc_state *st, const char *uid) {
  pthread_mutex_lock(&st->mu);
  bool known = hmap_contains(&st->absent, uid);
  pthread_mutex_unlock(&st->mu);
  return known;
}

static void absent_add(struct gc_state *st, const char *uid) {
  pthread_mutex_lock(&st->mu);
  if (hmap_len(&st->absent) >= ABSENT_CACHE_MAX)
    hmap_clear(&st->absent, NULL);
  hmap_put(&st->absent, uid, (void *)1);
  pthread_mutex_unlock(&st->mu);
}

enum owner_state { OWNER_SOLID, OWNER_DANGLING, OWNER_WAITING };

/* Classifies one ownerReference of an object in namespace ns. The cache answers when it
 * holds the owner; when it does not, a live read decides, since the cache may lag
 * behind a just-created owner (kube's isDangling). */
static int classify(struct gc_state *st, const char *ns, const json_t *ref,
                    enum owner_state *ret) {
  struct gc_res *r = res_of_ref(st, ref);
  const char *uid = json_string_value(json_object_get(ref, "uid"));
  const char *name = json_string_value(json_object_get(ref, "name"));
  if (!r || !uid || !name) {
    /* An owner kind this collector does not track cannot be judged: keep the object. */
    *ret = OWNER_SOLID;
    return 0;
  }
  _cleanup_json_ json_t *owner = informer_get_nn(r->inf, ns, name);
  if (!owner || !streq_ptr(json_path_str(owner, "metadata.uid"), uid)) {
    json_decref(owner);
    owner = NULL;
    if (absent_known(st, uid)) {
      *ret = OWNER_DANGLING;
      return 0;
    }
    _cleanup_free_ char *path = object_path(r, ns, name);
    long status = 0;
    _cleanup_free_ char *err = NULL;
    int rc = rest_do_json(controller_client(st->c), "GET", path, NULL, NULL, &status, &owner,
                          &err);
    if (rc < 0)
      return rc;
    if (status == 404 || (status == 200 && !streq_ptr(json_path_str(owner, "metadata.uid"), uid))) {
      absent_add(st, uid);
      *ret = OWNER_DANGLING;
      return 0;
    }
    if (status != 200)
      return -EIO;
  }
  *ret = is_deleting(owner) && has_finalizer(owner, FINALIZER_FOREGROUND) ? OWNER_WAITING
                                                                          : OWNER_SOLID;
  return 0;
}

/* orphan: free every dependent, then let the owner go. */
static int process_orphan(struct gc_state *st, struct gc_res *r, const json_t *obj) {
  const char *uid = json_path_str((json_t *)obj, "metadata.uid");
  struct dep *deps;
  size_t n = dependents_of(st, uid, &deps);
  int rc = 0;
  for (size_t i = 0; i < n && rc >= 0; i++) {
    _cleanup_json_ json_t *uids = json_pack("[s]", uid);
    rc = remove_owner_refs(st, deps[i].r, deps[i].obj, uids);
  }
  deps_free(deps, n);
  if (rc < 0)
    return rc;
  return remove_finalizer(st, r, obj, FINALIZER_ORPHAN);
}

/* foreground: the owner goes once no dependent blocks it. */
static int process_foreground(struct gc_state *st, struct gc_res *r, const json_t *obj) {
  const char *uid = json_path_str((json_t *)obj, "metadata.uid");
  struct dep *deps;
  size_t n = dependents_of(st, uid, &deps);
  size_t blocking = 0;
  for (size_t i = 0; i < n; i++) {
    if (json_is_true(json_object_get(ref_to(deps[i].obj, uid), "blockOwnerDeletion")))
      blocking++;
    /* Their owner is waiting for them: each is deleted by its own sync. */
    if (!(is_deleting(deps[i].obj) && has_finalizer(deps[i].obj, FINALIZER_FOREGROUND)))
      enqueue_item(deps[i].r, deps[i].obj);
  }
  deps_free(deps, n);
  if (blocking)
    return 0;
  return remove_finalizer(st, r, obj, FINALIZER_FOREGROUND);
}

/* Makes the item's blocking owner references non-blocking (kube's
 * unblockOwnerReferencesStrategicMergePatch), to break a foreground cycle. */
static int unblock_owner_refs(struct gc_state *st, struct gc_res *r, const json_t *obj) {
  json_t *refs = json_array();
  size_t i;
  json_t *ref;
  json_array_foreach(json_path((json_t *)obj, "metadata.ownerReferences"), i, ref) {
    if (json_is_true(json_object_get(ref, "blockOwnerDeletion")))
      json_array_append_new(refs, json_pack("{s:O,s:b}", "uid", json_object_get(ref, "uid"),
                                            "blockOwnerDeletion", 0));
  }
  if (json_array_size(refs) == 0) {
    json_decref(refs);
    return 0;
  }
  _cleanup_json_ json_t *patch =
      json_pack("{s:{s:o,s:s?}}", "metadata", "ownerReferences", refs, "uid",
                json_path_str((json_t *)obj, "metadata.uid"));
  return patch_item(st, r, obj, patch, true);
}

static int attempt_to_delete(struct gc_state *st, struct gc_res *r, const json_t *obj) {
  const char *ns = json_path_str((json_t *)obj, "metadata.namespace");
  json_t *refs = json_path((json_t *)obj, "metadata.ownerReferences");
  if (json_array_size(refs) == 0)
    return 0;
  size_t solid = 0, waiting = 0;
  _cleanup_json_ json_t *drop = json_array();
  size_t i;
  json_t *ref;
  json_array_foreach(refs, i, ref) {
    enum owner_state s;
    int rc = classify(st, ns, ref, &s);
    if (rc < 0)
      return rc;
    if (s == OWNER_SOLID) {
      solid++;
      continue;
    }
    if (s == OWNER_WAITING)
      waiting++;
    json_array_append(drop, json_object_get(ref, "uid"));
  }
  if (solid) {
    if (json_array_size(drop) == 0)
      return 0;
    return remove_owner_refs(st, r, obj, drop);
  }
  const char *uid = json_path_str((json_t *)obj, "metadata.uid");
  if (waiting) {
    struct dep *deps;
    size_t n = dependents_of(st, uid, &deps);
    int rc = 0;
    if (n > 0) {
      for (size_t k = 0; k < n; k++) {
        if (is_deleting(deps[k].obj) && has_finalizer(deps[k].obj, FINALIZER_FOREGROUND)) {
          rc = unblock_owner_refs(st, r, obj);
          break;
        }
      }
    }
    deps_free(deps, n);
    if (rc < 0)
      return rc;
    if (n > 0)
      return delete_item(st, r, obj, "Foreground");
  }
  const char *policy = has_finalizer(obj, FINALIZER_ORPHAN)       ? "Orphan"
                       : has_finalizer(obj, FINALIZER_FOREGROUND) ? "Foreground"
                                                                  : "Background";
  return delete_item(st, r, obj, policy);
}

static int gc_sync(struct controller *c, const char *key) {
  struct gc_state *st = controller_state(c);
  const char *slash = strchr(key, '/');
  if (!slash)
    return 0;
  struct gc_res *r = NULL;
  for (size_t i = 0; i < st->n_res; i++)
    if (strlen(st->res[i].plural) == (size_t)(slash - key) &&
        strncmp(st->res[i].plural, key, slash - key) == 0)
      r = &st->res[i];
  if (!r)
    return 0;
  const char *cache_key = slash + 1;
  if (*cache_key == '/')
    cache_key++; /* cluster-scoped: "plural//name" */
  _cleanup_json_ json_t *obj = informer_get(r->inf, cache_key);
  if (!obj)
    return 0;
  if (is_deleting(obj)) {
    if (has_finalizer(obj, FINALIZER_ORPHAN))
      return process_orphan(st, r, obj);
    if (has_finalizer(obj, FINALIZER_FOREGROUND))
      return process_foreground(st, r, obj);
    /* Already on its way out. */
    return 0;
  }
  return attempt_to_delete(st, r, obj);
}

static const struct controller_def garbagecollector_def = {
    .name = "garbagecollector",
    .component = "garbage-collector-controller",
    .workers = 4,
    .setup = gc_setup,
    .sync = gc_sync,
    .teardown = gc_teardown,
};
CONTROLLER_REGISTER(garbagecollector_def);
