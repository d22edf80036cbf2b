/* Persistent volumes: kube's PersistentVolumeController ("persistentvolume-binder") and
 * a local-path provisioner in the manner of rancher.io/local-path.
 *
 * Binding: a pending claim is bound to the smallest available volume that fits it (same
 * storage class, every requested access mode, capacity at least the request, the claim's
 * selector, same volume mode), or to the volume pre-bound to it. The volume gets
 * spec.claimRef and phase Bound; the claim gets spec.volumeName, phase Bound and the
 * pv.kubernetes.io/bind-completed and bound-by-controller annotations. A volume whose
 * claim is gone is Released and then reclaimed by its policy.
 *
 * Provisioning: the default StorageClass "local-path" is created at start when missing.
 * A claim of that class (once a node is chosen for WaitForFirstConsumer: the
 * volume.kubernetes.io/selected-node annotation, or the node of a scheduled pod using
 * it) gets a hostPath volume at <data_dir>/storage/pvc-<uid>_<ns>_<name>, pinned to the
 * node, pre-bound to the claim; deleted with the claim under reclaim policy Delete.
 *
 * Keys are "pvc:<ns>/<name>" and "pv:<name>". */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "controllers/controller.h"
#include "lib/json.h"
#include "lib/quantity.h"
#include "lib/selector.h"

#define LOCAL_PATH_CLASS "local-path"
#define LOCAL_PATH_PROVISIONER "rancher.io/local-path"
#define ANN_DEFAULT_CLASS "storageclass.kubernetes.io/is-default-class"
#define ANN_BIND_COMPLETED "pv.kubernetes.io/bind-completed"
#define ANN_BOUND_BY_CONTROLLER "pv.kubernetes.io/bound-by-controller"
#define ANN_PROVISIONED_BY "pv.kubernetes.io/provisioned-by"
#define ANN_SELECTED_NODE "volume.kubernetes.io/selected-node"
#define ANN_STORAGE_PROVISIONER "volume.kubernetes.io/storage-provisioner"
#define ANN_BETA_STORAGE_PROVISIONER "volume.beta.kubernetes.io/storage-provisioner"

/* metadata.<field>[key]: label and annotation keys hold dots, so no dotted path. */
static const char *meta_str(const json_t *obj, const char *field, const char *key) {
  json_t *m = json_object_get(json_object_get((json_t *)obj, "metadata"), field);
  return json_string_value(json_object_get(m, key));
}

struct vol_state {
  struct informer *pvs, *pvcs, *classes, *pods;
  char *storage_dir;
};

static struct vol_state *state(struct controller *c) { return controller_state(c); }

/* ---- handlers ---- */

static void enqueue_claim(struct controller *c, const char *ns, const char *name) {
  _cleanup_free_ char *key = xasprintf("pvc:%s/%s", ns, name);
  controller_enqueue(c, key);
}

static void on_pvc(void *ud, json_t *obj) {
  const char *ns = json_path_str(obj, "metadata.namespace");
  const char *name = json_path_str(obj, "metadata.name");
  if (ns && name)
    enqueue_claim(ud, ns, name);
  /* The volume bound to a deleted claim must learn it is released. */
  const char *vol = json_path_str(obj, "spec.volumeName");
  if (vol && *vol) {
    _cleanup_free_ char *key = xasprintf("pv:%s", vol);
    controller_enqueue(ud, key);
  }
}
static void on_pvc_update(void *ud, json_t *old, json_t *obj) {
  (void)old;
  on_pvc(ud, obj);
}

static void on_pv(void *ud, json_t *obj) {
  const char *name = json_path_str(obj, "metadata.name");
  if (name) {
    _cleanup_free_ char *key = xasprintf("pv:%s", name);
    controller_enqueue(ud, key);
  }
  const char *cns = json_path_str(obj, "spec.claimRef.namespace");
  const char *cname = json_path_str(obj, "spec.claimRef.name");
  if (cns && cname)
    enqueue_claim(ud, cns, cname);
}
static void on_pv_update(void *ud, json_t *old, json_t *obj) {
  (void)old;
  on_pv(ud, obj);
}

/* A pod reaching a node may be the first consumer a claim waits for. */
static void on_pod_update(void *ud, json_t *old, json_t *pod) {
  const char *node = json_path_str(pod, "spec.nodeName");
  if (!node || !*node || streq_ptr(json_path_str(old, "spec.nodeName"), node))
    return;
  size_t i;
  json_t *v;
  json_array_foreach(json_path(pod, "spec.volumes"), i, v) {
    const char *claim = json_path_str(v, "persistentVolumeClaim.claimName");
    if (claim)
      enqueue_claim(ud, json_path_str(pod, "metadata.namespace"), claim);
  }
}
static void on_pod_add(void *ud, json_t *pod) {
  _cleanup_json_ json_t *none = json_object();
  on_pod_update(ud, none, pod);
}

static size_t index_claims(const json_t *pod, const char **ret_values, size_t max) {
  size_t n = 0, i;
  json_t *v;
  json_array_foreach(json_path((json_t *)pod, "spec.volumes"), i, v) {
    const char *claim = json_path_str(v, "persistentVolumeClaim.claimName");
    if (claim && n < max)
      ret_values[n++] = claim;
  }
  return n;
}

static int vol_setup(struct controller *c) {
  const struct ctrl_env *env = controller_env(c);
  struct vol_state *s = xcalloc(1, sizeof(*s));
  controller_set_state(c, s);
  if (env->data_dir)
    s->storage_dir = xasprintf("%s/storage", env->data_dir);
  s->pvs = controller_informer(c, "/api/v1/persistentvolumes");
  s->pvcs = controller_informer(c, "/api/v1/persistentvolumeclaims");
  s->classes = controller_informer(c, "/apis/storage.k8s.io/v1/storageclasses");
  s->pods = controller_informer(c, "/api/v1/pods");
  if (!s->pvs || !s->pvcs || !s->classes || !s->pods)
    return -ENOMEM;
  informer_add_index(s->pods, "volume-claim-name", index_claims);
  informer_add_handler(s->pvcs, &(struct informer_handler){
                                    .on_add = on_pvc, .on_update = on_pvc_update,
                                    .on_delete = on_pvc, .userdata = c});
  informer_add_handler(s->pvs, &(struct informer_handler){
                                   .on_add = on_pv, .on_update = on_pv_update,
                                   .on_delete = on_pv, .userdata = c});
  informer_add_handler(s->pods, &(struct informer_handler){
                                    .on_add = on_pod_add, .on_update = on_pod_update,
                                    .userdata = c});
  return 0;
}

static void vol_teardown(struct controller *c) {
  struct vol_state *s = state(c);
  if (!s)
    return;
  free(s->storage_dir);
  free(s);
  controller_set_state(c, NULL);
}

/* The default StorageClass, made once at start when it does not exist. */
static void vol_started(struct controller *c) {
  struct vol_state *s = state(c);
  _cleanup_json_ json_t *sc = informer_get(s->classes, LOCAL_PATH_CLASS);
  if (sc || !s->storage_dir)
    return;
  _cleanup_json_ json_t *obj = json_pack(
      "{s:s,s:s,s:{s:s,s:{s:s}},s:s,s:s,s:s}", "apiVersion", "storage.k8s.io/v1", "kind",
      "StorageClass", "metadata", "name", LOCAL_PATH_CLASS, "annotations", ANN_DEFAULT_CLASS,
      "true", "provisioner", LOCAL_PATH_PROVISIONER, "reclaimPolicy", "Delete",
      "volumeBindingMode", "WaitForFirstConsumer");
  _cleanup_free_ char *err = NULL;
  int r = controller_create(c, "/apis/storage.k8s.io/v1/storageclasses", obj, NULL, &err);
  if (r < 0 && r != -EEXIST)
    controller_log(c, "creating StorageClass %s: %s", LOCAL_PATH_CLASS, err ? err : strerror(-r));
}

/* ---- helpers ---- */

/* The claim's storage class (malloc'd; "" for none). A claim naming none gets the default
 * class, as kube's admission (or its retroactive default) would have given it. */
static char *class_of(struct vol_state *s, const json_t *pvc) {
  json_t *cls = json_path((json_t *)pvc, "spec.storageClassName");
  if (json_is_string(cls))
    return xstrdup(json_string_value(cls));
  _cleanup_json_ json_t *all = informer_list(s->classes, NULL);
  size_t i;
  json_t *sc;
  json_array_foreach(all, i, sc) {
    if (streq_ptr(meta_str(sc, "annotations", ANN_DEFAULT_CLASS), "true"))
      return xstrdup(json_path_str(sc, "metadata.name") ?: "");
  }
  return xstrdup("");
}

static const char *pv_class(const json_t *pv) {
  const char *cls = json_path_str((json_t *)pv, "spec.storageClassName");
  return cls ? cls : "";
}

static bool quantity_at(const json_t *obj, const char *dotted, quantity_t *ret) {
  const char *s = json_path_str((json_t *)obj, dotted);
  const char *err;
  return s && quantity_parse(s, ret, &err) == 0;
}

static bool modes_cover(const json_t *pv, const json_t *pvc) {
  size_t i, j;
  json_t *want, *have;
  json_array_foreach(json_path((json_t *)pvc, "spec.accessModes"), i, want) {
    bool found = false;
    json_array_foreach(json_path((json_t *)pv, "spec.accessModes"), j, have) found |=
        json_equal(want, have);
    if (!found)
      return false;
  }
  return true;
}

static const char *volume_mode(const json_t *obj) {
  const char *m = json_path_str((json_t *)obj, "spec.volumeMode");
  return m ? m : "Filesystem";
}

static bool claim_ref_is(const json_t *pv, const json_t *pvc) {
  json_t *ref = json_path((json_t *)pv, "spec.claimRef");
  if (!ref)
    return false;
  const char *uid = json_string_value(json_object_get(ref, "uid"));
  return streq_ptr(json_string_value(json_object_get(ref, "namespace")),
                   json_path_str((json_t *)pvc, "metadata.namespace")) &&
         streq_ptr(json_string_value(json_object_get(ref, "name")),
                   json_path_str((json_t *)pvc, "metadata.name")) &&
         (!uid || !*uid || streq_ptr(uid, json_path_str((json_t *)pvc, "metadata.uid")));
}

/* The best volume for a claim (new reference): one pre-bound to it, else the smallest
 * unclaimed one that fits. */
static json_t *find_volume(struct vol_state *s, const json_t *pvc) {
  _cleanup_free_ char *cls = class_of(s, pvc);
  quantity_t want;
  if (!quantity_at(pvc, "spec.resources.requests.storage", &want))
    return NULL;
  _cleanup_selector_ selector_t *sel = NULL;
  json_t *ls = json_path((json_t *)pvc, "spec.selector");
  if (ls && selector_from_json(ls, &sel, NULL) < 0)
    return NULL;
  _cleanup_json_ json_t *all = informer_list(s->pvs, NULL);
  json_t *best = NULL;
  quantity_t best_size;
  size_t i;
  json_t *pv;
  json_array_foreach(all, i, pv) {
    if (json_path(pv, "metadata.deletionTimestamp"))
      continue;
    bool prebound = claim_ref_is(pv, pvc);
    if (!prebound && json_path(pv, "spec.claimRef"))
      continue;
    const char *phase = json_path_str(pv, "status.phase");
    if (streq_ptr(phase, "Released") || streq_ptr(phase, "Failed"))
      continue;
    quantity_t size;
    if (!streq(pv_class(pv), cls) || !modes_cover(pv, pvc) ||
        !streq(volume_mode(pv), volume_mode(pvc)) ||
        !quantity_at(pv, "spec.capacity.storage", &size) || quantity_cmp(&size, &want) < 0)
      continue;
    if (sel && !selector_matches(sel, json_path(pv, "metadata.labels")))
      continue;
    if (prebound)
      return json_incref(pv);
    if (!best || quantity_cmp(&size, &best_size) < 0) {
      best = pv;
      best_size = size;
    }
  }
  return best ? json_incref(best) : NULL;
}

static int put_status(struct controller *c, const char *path, const json_t *obj, const char *phase,
                      const json_t *extra) {
  _cleanup_json_ json_t *next = json_deep_copy(obj);
  json_t *st = json_object_ensure(next, "status");
  json_object_set_new(st, "phase", json_string(phase));
  if (extra)
    json_object_update(st, (json_t *)extra);
  _cleanup_free_ char *spath = xasprintf("%s/status", path);
  _cleanup_free_ char *err = NULL;
  int r = controller_update(c, spath, next, NULL, &err);
  if (r < 0 && r != -ESTALE && r != -ENOENT)
    controller_log(c, "updating %s: %s", spath, err ? err : strerror(-r));
  return r == -ENOENT ? 0 : r;
}

static void set_annotation(json_t *obj, const char *key, const char *value) {
  json_object_set_new(json_object_ensure(json_object_ensure(obj, "metadata"), "annotations"), key,
                      json_string(value));
}

/* ---- binding ---- */

/* Points the volume at the claim (spec.claimRef) and marks it Bound. */
static int bind_volume(struct controller *c, const json_t *pv, const json_t *pvc) {
  const char *name = json_path_str((json_t *)pv, "metadata.name");
  _cleanup_free_ char *path = xasprintf("/api/v1/persistentvolumes/%s", name);
  json_t *cur = (json_t *)pv;
  _cleanup_json_ json_t *updated = NULL;
  const char *uid = json_path_str((json_t *)pv, "spec.claimRef.uid");
  if (!uid || !*uid) {
    _cleanup_json_ json_t *next = json_deep_copy(pv);
    bool by_controller = !json_path(next, "spec.claimRef");
    json_object_set_new(json_object_ensure(next, "spec"), "claimRef",
                        json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "kind", "PersistentVolumeClaim",
                                  "namespace", json_path_str((json_t *)pvc, "metadata.namespace"),
                                  "name", json_path_str((json_t *)pvc, "metadata.name"), "uid",
                                  json_path_str((json_t *)pvc, "metadata.uid") ?: "",
                                  "apiVersion", "v1", "resourceVersion",
                                  json_path_str((json_t *)pvc, "metadata.resourceVersion") ?: ""));
    if (by_controller)
      set_annotation(next, ANN_BOUND_BY_CONTROLLER, "yes");
    _cleanup_free_ char *err = NULL;
    int r = controller_update(c, path, next, &updated, &err);
    if (r < 0) {
      if (r != -ESTALE)
        controller_log(c, "binding %s: %s", path, err ? err : strerror(-r));
      return r;
    }
    cur = updated;
  }
  if (streq_ptr(json_path_str(cur, "status.phase"), "Bound"))
    return 0;
  return put_status(c, path, cur, "Bound", NULL);
}

/* Records the binding on the claim: volumeName, annotations, then status Bound with the
 * volume's capacity and access modes. */
static int bind_claim(struct controller *c, const json_t *pvc, const json_t *pv) {
  const char *ns = json_path_str((json_t *)pvc, "metadata.namespace");
  const char *name = json_path_str((json_t *)pvc, "metadata.name");
  const char *vol = json_path_str((json_t *)pv, "metadata.name");
  _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/persistentvolumeclaims/%s", ns, name);
  json_t *cur = (json_t *)pvc;
  _cleanup_json_ json_t *updated = NULL;
  if (!streq_ptr(json_path_str((json_t *)pvc, "spec.volumeName"), vol) ||
      !streq_ptr(meta_str((json_t *)pvc, "annotations", ANN_BIND_COMPLETED), "yes")) {
    _cleanup_json_ json_t *next = json_deep_copy(pvc);
    bool by_controller = !json_path_str(next, "spec.volumeName");
    json_object_set_new(json_object_ensure(next, "spec"), "volumeName", json_string(vol));
    set_annotation(next, ANN_BIND_COMPLETED, "yes");
    if (by_controller)
      set_annotation(next, ANN_BOUND_BY_CONTROLLER, "yes");
    _cleanup_free_ char *err = NULL;
    int r = controller_update(c, path, next, &updated, &err);
    if (r < 0) {
      if (r != -ESTALE && r != -ENOENT)
        controller_log(c, "binding %s: %s", path, err ? err : strerror(-r));
      return r == -ENOENT ? 0 : r;
    }
    cur = updated;
  }
  json_t *cap = json_path((json_t *)pv, "spec.capacity");
  json_t *modes = json_path((json_t *)pv, "spec.accessModes");
  if (streq_ptr(json_path_str(cur, "status.phase"), "Bound") &&
      json_equal(json_path(cur, "status.capacity") ?: json_null(), cap ?: json_null()))
    return 0;
  _cleanup_json_ json_t *extra = json_object();
  if (cap)
    json_object_set(extra, "capacity", cap);
  if (modes)
    json_object_set(extra, "accessModes", modes);
  return put_status(c, path, cur, "Bound", extra);
}

/* ---- provisioning ---- */

/* The node a WaitForFirstConsumer claim is to live on: the scheduler's choice, or the
 * node of a scheduled pod that uses it. NULL while there is none. */
static char *chosen_node(struct vol_state *s, const json_t *pvc) {
  const char *sel = meta_str((json_t *)pvc, "annotations", ANN_SELECTED_NODE);
  if (sel && *sel)
    return xstrdup(sel);
  const char *ns = json_path_str((json_t *)pvc, "metadata.namespace");
  _cleanup_json_ json_t *pods =
      informer_by_index(s->pods, "volume-claim-name", json_path_str((json_t *)pvc, "metadata.name"));
  size_t i;
  json_t *pod;
  json_array_foreach(pods, i, pod) {
    const char *node = json_path_str(pod, "spec.nodeName");
    if (streq_ptr(json_path_str(pod, "metadata.namespace"), ns) && node && *node)
      return xstrdup(node);
  }
  return NULL;
}

/* node: where the volume lives (NULL for Immediate binding, which chooses none). */
static int provision(struct controller *c, const json_t *pvc, const json_t *sc, const char *node) {
  struct vol_state *s = state(c);
  const char *ns = json_path_str((json_t *)pvc, "metadata.namespace");
  const char *name = json_path_str((json_t *)pvc, "metadata.name");
  const char *uid = json_path_str((json_t *)pvc, "metadata.uid");
  if (!uid || !s->storage_dir)
    return 0;
  _cleanup_free_ char *pv_name = xasprintf("pvc-%s", uid);
  _cleanup_json_ json_t *existing = informer_get(s->pvs, pv_name);
  if (existing)
    return 0;
  event_record(controller_events(c), pvc, "PersistentVolumeClaim", "v1", "Normal", "Provisioning",
               "External provisioner is provisioning volume for claim \"%s/%s\"", ns, name);
  _cleanup_free_ char *dir = xasprintf("%s/pvc-%s_%s_%s", s->storage_dir, uid, ns, name);
  if ((mkdir(s->storage_dir, 0755) < 0 && errno != EEXIST) ||
      (mkdir(dir, 0777) < 0 && errno != EEXIST)) {
    int r = -errno;
    event_record(controller_events(c), pvc, "PersistentVolumeClaim", "v1", "Warning",
                 "ProvisioningFailed", "failed to provision volume with StorageClass \"%s\": %s",
                 json_path_str((json_t *)sc, "metadata.name"), strerror(-r));
    return r;
  }
  chmod(dir, 0777); /* any container user may write, as local-path makes it */
  const char *reclaim = json_path_str((json_t *)sc, "reclaimPolicy");
  _cleanup_json_ json_t *pv = json_pack(
      "{s:s,s:s,s:{s:s,s:{s:s,s:s}},s:{s:{s:O},s:O,s:s,s:s,s:s,"
      "s:{s:s,s:s,s:s,s:s,s:s,s:s},s:{s:s,s:s},"
      "s:{s:{s:[{s:[{s:s,s:s,s:[s]}]}]}}}}",
      "apiVersion", "v1", "kind", "PersistentVolume", "metadata", "name", pv_name, "annotations",
      ANN_PROVISIONED_BY, LOCAL_PATH_PROVISIONER, "local.path.provisioner/selected-node",
      node ? node : "",
      "spec", "capacity", "storage", json_path((json_t *)pvc, "spec.resources.requests.storage"),
      "accessModes", json_path((json_t *)pvc, "spec.accessModes"),
      "persistentVolumeReclaimPolicy", reclaim ? reclaim : "Delete", "storageClassName",
      json_path_str((json_t *)sc, "metadata.name"), "volumeMode", volume_mode(pvc), "claimRef",
      "kind", "PersistentVolumeClaim", "namespace", ns, "name", name, "uid", uid, "apiVersion",
      "v1", "resourceVersion", json_path_str((json_t *)pvc, "metadata.resourceVersion") ?: "",
      "hostPath", "path", dir, "type", "DirectoryOrCreate", "nodeAffinity", "required",
      "nodeSelectorTerms", "matchExpressions", "key", "kubernetes.io/hostname", "operator", "In",
      "values", node ? node : "");
  if (!pv)
    return -EINVAL;
  if (!node) {
    /* Immediate binding picks no node: the volume is usable from anywhere on this host. */
    json_object_del(json_object_get(pv, "spec"), "nodeAffinity");
    json_object_del(json_path(pv, "metadata.annotations"), "local.path.provisioner/selected-node");
  }
  _cleanup_free_ char *err = NULL;
  int r = controller_create(c, "/api/v1/persistentvolumes", pv, NULL, &err);
  if (r == -EEXIST)
    return 0;
  if (r < 0) {
    event_record(controller_events(c), pvc, "PersistentVolumeClaim", "v1", "Warning",
                 "ProvisioningFailed", "failed to provision volume with StorageClass \"%s\": %s",
                 json_path_str((json_t *)sc, "metadata.name"), err ? err : strerror(-r));
    return r;
  }
  event_record(controller_events(c), pvc, "PersistentVolumeClaim", "v1", "Normal",
               "ProvisioningSucceeded", "Successfully provisioned volume %s", pv_name);
  return 0;
}

/* Marks a claim as handed to a provisioner, as kube's binder does for out-of-tree ones. */
static int annotate_provisioner(struct controller *c, const json_t *pvc, const char *provisioner) {
  if (streq_ptr(meta_str((json_t *)pvc, "annotations", ANN_STORAGE_PROVISIONER),
                provisioner))
    return 0;
  _cleanup_json_ json_t *patch =
      json_pack("{s:{s:{s:s,s:s}}}", "metadata", "annotations", ANN_STORAGE_PROVISIONER,
                provisioner, ANN_BETA_STORAGE_PROVISIONER, provisioner);
  _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/persistentvolumeclaims/%s",
                                        json_path_str((json_t *)pvc, "metadata.namespace"),
                                        json_path_str((json_t *)pvc, "metadata.name"));
  int r = controller_patch(c, path, patch, false, NULL, NULL);
  return r == -ENOENT ? 0 : r;
}

static int sync_claim(struct controller *c, const char *nskey) {
  struct vol_state *s = state(c);
  _cleanup_json_ json_t *pvc = informer_get(s->pvcs, nskey);
  if (!pvc || json_path(pvc, "metadata.deletionTimestamp"))
    return 0;
  const char *ns = json_path_str(pvc, "metadata.namespace");
  const char *name = json_path_str(pvc, "metadata.name");
  _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/persistentvolumeclaims/%s", ns, name);
  const char *vol = json_path_str(pvc, "spec.volumeName");
  if (vol && *vol) {
    _cleanup_json_ json_t *pv = informer_get(s->pvs, vol);
    if (!pv) {
      if (streq_ptr(json_path_str(pvc, "status.phase"), "Bound")) {
        event_record(controller_events(c), pvc, "PersistentVolumeClaim", "v1", "Warning",
                     "ClaimLost", "Bound claim has lost its PersistentVolume. Data on the volume "
                     "is lost!");
        return put_status(c, path, pvc, "Lost", NULL);
      }
      return 0;
    }
    if (!json_path(pv, "spec.claimRef") || claim_ref_is(pv, pvc)) {
      int r = bind_volume(c, pv, pvc);
      if (r < 0)
        return r;
      return bind_claim(c, pvc, pv);
    }
    if (!streq_ptr(json_path_str(pvc, "status.phase"), "Bound"))
      event_record(controller_events(c), pvc, "PersistentVolumeClaim", "v1", "Warning",
                   "FailedBinding", "volume \"%s\" already bound to a different claim.", vol);
    return 0;
  }

  _cleanup_free_ char *cls = class_of(s, pvc);
  _cleanup_json_ json_t *sc = *cls ? informer_get(s->classes, cls) : NULL;
  bool wait = sc && streq_ptr(json_path_str(sc, "volumeBindingMode"), "WaitForFirstConsumer");
  _cleanup_free_ char *node = wait ? chosen_node(s, pvc) : NULL;
  if (!wait || node) {
    _cleanup_json_ json_t *pv = find_volume(s, pvc);
    if (pv) {
      int r = bind_volume(c, pv, pvc);
      if (r < 0)
        return r;
      return bind_claim(c, pvc, pv);
    }
  }
  /* Unbound for now: the claim says so (kube's binder writes Pending too). */
  if (!streq_ptr(json_path_str(pvc, "status.phase"), "Pending")) {
    int r = put_status(c, path, pvc, "Pending", NULL);
    if (r < 0)
      return r;
  }
  const char *provisioner = sc ? json_path_str(sc, "provisioner") : NULL;
  if (wait && !node) {
    event_record(controller_events(c), pvc, "PersistentVolumeClaim", "v1", "Normal",
                 "WaitForFirstConsumer", "waiting for first consumer to be created before binding");
    return 0;
  }
  if (provisioner && streq(provisioner, LOCAL_PATH_PROVISIONER)) {
    int r = annotate_provisioner(c, pvc, provisioner);
    if (r < 0 && r != -ESTALE)
      return r;
    return provision(c, pvc, sc, node);
  }
  if (provisioner && !streq(provisioner, "kubernetes.io/no-provisioner")) {
    event_record(controller_events(c), pvc, "PersistentVolumeClaim", "v1", "Normal",
                 "ExternalProvisioning",
                 "Waiting for a volume to be created either by the external provisioner '%s' or "
                 "manually by the system administrator. If volume creation is delayed, please "
                 "verify that the provisioner is running and correctly registered.",
                 provisioner);
    return 0;
  }
  if (!*cls)
    event_record(controller_events(c), pvc, "PersistentVolumeClaim", "v1", "Normal",
                 "FailedBinding", "no persistent volumes available for this claim and no storage "
                 "class is set");
  return 0;
}

/* ---- volumes ---- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static int reclaim(struct controller *c, const json_t *pv) {
  struct vol_state *s = state(c);
  const char *name = json_path_str((json_t *)pv, "metadata.name");
  _cleanup_free_ char *path = xasprintf("/api/v1/persistentvolumes/%s", name);
  const char *policy = json_path_str((json_t *)pv, "spec.persistentVolumeReclaimPolicy");
  if (!streq_ptr(policy, "Delete"))
    return 0; /* Retain: the administrator's to clean up */
  bool ours = streq_ptr(meta_str((json_t *)pv, "annotations", ANN_PROVISIONED_BY),
                        LOCAL_PATH_PROVISIONER);
  if (!ours) {
    if (streq_ptr(json_path_str((json_t *)pv, "status.phase"), "Failed"))
      return 0;
    _cleanup_free_ char *msg = xasprintf(
        "error getting deleter volume plugin for volume \"%s\": no deletable volume plugin matched",
        name);
    event_record(controller_events(c), pv, "PersistentVolume", "v1", "Warning",
                 "VolumeFailedDelete", "%s", msg);
    _cleanup_json_ json_t *extra = json_pack("{s:s}", "message", msg);
    return put_status(c, path, pv, "Failed", extra);
  }
  const char *dir = json_path_str((json_t *)pv, "spec.hostPath.path");
  size_t n = s->storage_dir ? strlen(s->storage_dir) : 0;
  /* Only ever remove what this provisioner made. */
  if (dir && n && strncmp(dir, s->storage_dir, n) == 0 && dir[n] == '/' && !strstr(dir, "/.."))
    if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
      controller_log(c, "removing %s: %s", dir, strerror(errno));
  _cleanup_free_ char *err = NULL;
  int r = controller_delete(c, path, NULL, &err);
  if (r < 0)
    controller_log(c, "deleting %s: %s", path, err ? err : strerror(-r));
  return r;
}

/* Whether the claim a volume is bound to is gone, asking the API server itself before a
 * volume is given up on a possibly stale cache. */
static bool claim_gone(struct controller *c, const json_t *pv) {
  struct vol_state *s = state(c);
  const char *ns = json_path_str((json_t *)pv, "spec.claimRef.namespace");
  const char *name = json_path_str((json_t *)pv, "spec.claimRef.name");
  const char *uid = json_path_str((json_t *)pv, "spec.claimRef.uid");
  _cleanup_json_ json_t *pvc = informer_get_nn(s->pvcs, ns, name);
  if (pvc && streq_ptr(json_path_str(pvc, "metadata.uid"), uid))
    return false;
  _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/persistentvolumeclaims/%s", ns, name);
  long status = 0;
  _cleanup_json_ json_t *live = NULL;
  if (rest_do_json(controller_client(c), "GET", path, NULL, NULL, &status, &live, NULL) < 0)
    return false;
  if (status == 404)
    return true;
  return status == 200 && !streq_ptr(json_path_str(live, "metadata.uid"), uid);
}

static int sync_volume(struct controller *c, const char *name) {
  struct vol_state *s = state(c);
  _cleanup_json_ json_t *pv = informer_get(s->pvs, name);
  if (!pv || json_path(pv, "metadata.deletionTimestamp"))
    return 0;
  _cleanup_free_ char *path = xasprintf("/api/v1/persistentvolumes/%s", name);
  const char *phase = json_path_str(pv, "status.phase");
  json_t *ref = json_path(pv, "spec.claimRef");
  const char *uid = json_string_value(json_object_get(ref, "uid"));
  if (!ref || !uid || !*uid) {
    /* Unclaimed, or pre-bound to a claim that has not been bound yet. */
    if (!streq_ptr(phase, "Available"))
      return put_status(c, path, pv, "Available", NULL);
    return 0;
  }
  if (claim_gone(c, pv)) {
    if (!streq_ptr(phase, "Released") && !streq_ptr(phase, "Failed")) {
      int r = put_status(c, path, pv, "Released", NULL);
      if (r < 0)
        return r;
    }
    return reclaim(c, pv);
  }
  if (!streq_ptr(phase, "Bound") && !streq_ptr(phase, "Released"))
    return put_status(c, path, pv, "Bound", NULL);
  return 0;
}

static int vol_sync(struct controller *c, const char *key) {
  if (startswith(key, "pvc:"))
    return sync_claim(c, key + 4);
  if (startswith(key, "pv:"))
    return sync_volume(c, key + 3);
  return 0;
}

static const struct controller_def volume_def = {
    .name = "persistentvolume-binder",
    .component = "persistentvolume-controller",
    .workers = 1,
    .setup = vol_setup,
    .sync = vol_sync,
    .teardown = vol_teardown,
    .started = vol_started,
};
CONTROLLER_REGISTER(volume_def);
