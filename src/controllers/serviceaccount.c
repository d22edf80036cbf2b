/* The per-namespace objects every namespace must hold, as kube-controller-manager keeps
 * them:
 *
 *   serviceaccount         the "default" ServiceAccount (kube's ServiceAccountsController),
 *                          recreated whenever it goes missing;
 *   root-ca-cert-publisher the kube-root-ca.crt ConfigMap with the cluster CA under
 *                          "ca.crt", so pods can verify the API server through the
 *                          projected service-account volume.
 *
 * Both are keyed by namespace name. Namespaces being deleted are left alone: the API
 * server refuses creates in them and the namespace controller is emptying them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "controllers/controller.h"
#include "lib/fileio.h"
#include "lib/json.h"

#define ROOT_CA_CONFIGMAP "kube-root-ca.crt"
#define DESCRIPTION_ANNOTATION "kubernetes.io/description"
#define ROOT_CA_DESCRIPTION                                                                  \
  "Contains a CA bundle that can be used to verify the kube-apiserver when using internal "  \
  "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "  \
  "guaranteed across distributions of Kubernetes clusters."

/* metadata.<field>[key]: label and annotation keys hold dots, so no dotted path. */
static const char *meta_str(const json_t *obj, const char *field, const char *key) {
  json_t *m = json_object_get(json_object_get((json_t *)obj, "metadata"), field);
  return json_string_value(json_object_get(m, key));
}

static const char *const managed_service_accounts[] = {"default"};

struct ns_state {
  struct informer *namespaces;
  struct informer *objects; /* serviceaccounts or configmaps */
  char *ca_pem;             /* root-ca-cert-publisher only */
};

static struct ns_state *ns_state(struct controller *c) { return controller_state(c); }

static void ns_teardown(struct controller *c) {
  struct ns_state *s = ns_state(c);
  if (!s)
    return;
  free(s->ca_pem);
  free(s);
  controller_set_state(c, NULL);
}

/* Namespace events: added, or updated while active (kube ignores updates of
 * terminating namespaces). */
static void on_ns_add(void *ud, json_t *obj) { controller_enqueue_obj(ud, obj); }
static void on_ns_update(void *ud, json_t *old, json_t *obj) {
  (void)old;
  const char *phase = json_path_str(obj, "status.phase");
  if (phase && !streq(phase, "Active"))
    return;
  controller_enqueue_obj(ud, obj);
}

static void enqueue_namespace_of(struct controller *c, const json_t *obj) {
  const char *ns = json_path_str((json_t *)obj, "metadata.namespace");
  if (ns)
    controller_enqueue(c, ns);
}

static void on_sa_delete(void *ud, json_t *obj) {
  const char *name = json_path_str(obj, "metadata.name");
  for (size_t i = 0; i < ARRAY_SIZE(managed_service_accounts); i++)
    if (streq_ptr(name, managed_service_accounts[i]))
      enqueue_namespace_of(ud, obj);
}

static void on_cm_event(void *ud, json_t *obj) {
  if (streq_ptr(json_path_str(obj, "metadata.name"), ROOT_CA_CONFIGMAP))
    enqueue_namespace_of(ud, obj);
}
static void on_cm_update(void *ud, json_t *old, json_t *obj) {
  (void)old;
  on_cm_event(ud, obj);
}

static int setup_common(struct controller *c, const char *objects_path,
                        const struct informer_handler *objects_handler) {
  struct ns_state *s = xcalloc(1, sizeof(*s));
  controller_set_state(c, s);
  s->namespaces = controller_informer(c, "/api/v1/namespaces");
  s->objects = controller_informer(c, objects_path);
  if (!s->namespaces || !s->objects)
    return -ENOMEM;
  informer_add_handler(s->namespaces, &(struct informer_handler){
                                          .on_add = on_ns_add,
                                          .on_update = on_ns_update,
                                          .userdata = c,
                                      });
  informer_add_handler(s->objects, objects_handler);
  return 0;
}

/* The namespace when it exists and is not being deleted (new reference), else NULL. */
static json_t *live_namespace(struct ns_state *s, const char *name) {
  json_t *ns = informer_get(s->namespaces, name);
  if (ns && json_path(ns, "metadata.deletionTimestamp")) {
    json_decref(ns);
    return NULL;
  }
  return ns;
}

/* Creates that race with namespace deletion or another writer are not failures. */
static int create_tolerant(struct controller *c, const char *path, const json_t *obj) {
  _cleanup_free_ char *err = NULL;
  int r = controller_create(c, path, obj, NULL, &err);
  if (r == -EEXIST || r == -ENOENT)
    return 0;
  if (r == -EIO && err && strstr(err, "because it is being terminated"))
    return 0;
  if (r < 0)
    controller_log(c, "creating in %s: %s", path, err ? err : strerror(-r));
  return r;
}

/* ---- serviceaccount ---- */

static int sa_setup(struct controller *c) {
  return setup_common(c, "/api/v1/serviceaccounts",
                      &(struct informer_handler){.on_delete = on_sa_delete, .userdata = c});
}

static int sa_sync(struct controller *c, const char *key) {
  struct ns_state *s = ns_state(c);
  _cleanup_json_ json_t *ns = live_namespace(s, key);
  if (!ns)
    return 0;
  int ret = 0;
  for (size_t i = 0; i < ARRAY_SIZE(managed_service_accounts); i++) {
    const char *name = managed_service_accounts[i];
    _cleanup_json_ json_t *sa = informer_get_nn(s->objects, key, name);
    if (sa)
      continue;
    _cleanup_json_ json_t *obj = json_pack("{s:s,s:s,s:{s:s,s:s}}", "apiVersion", "v1", "kind",
                                           "ServiceAccount", "metadata", "name", name,
                                           "namespace", key);
    _cleanup_free_ char *path = controller_path("/api/v1", key, "serviceaccounts");
    int r = create_tolerant(c, path, obj);
    if (r < 0)
      ret = r;
  }
  return ret;
}

static const struct controller_def serviceaccount_def = {
    .name = "serviceaccount",
    .component = "service-account-controller",
    .workers = 1,
    .setup = sa_setup,
    .sync = sa_sync,
    .teardown = ns_teardown,
};
CONTROLLER_REGISTER(serviceaccount_def);

/* ---- root-ca-cert-publisher ---- */

static int rootca_setup(struct controller *c) {
  const struct ctrl_env *env = controller_env(c);
  if (!env->data_dir) {
    controller_log(c, "no data directory: cannot find the cluster CA");
    return -EINVAL;
  }
  int r = setup_common(c, "/api/v1/configmaps",
                       &(struct informer_handler){
                           .on_add = on_cm_event,
                           .on_update = on_cm_update,
                           .on_delete = on_cm_event,
                           .userdata = c,
                       });
  if (r < 0)
    return r;
  _cleanup_free_ char *path = xasprintf("%s/tls/ca.crt", env->data_dir);
  size_t len;
  r = fileio_read_all(path, 1 << 20, &ns_state(c)->ca_pem, &len);
  if (r < 0) {
    controller_log(c, "reading %s: %s", path, strerror(-r));
    return r;
  }
  return 0;
}

static int rootca_sync(struct controller *c, const char *key) {
  struct ns_state *s = ns_state(c);
  _cleanup_json_ json_t *ns = live_namespace(s, key);
  if (!ns)
    return 0;
  _cleanup_json_ json_t *cm = informer_get_nn(s->objects, key, ROOT_CA_CONFIGMAP);
  _cleanup_free_ char *path = controller_path("/api/v1", key, "configmaps");
  if (!cm) {
    _cleanup_json_ json_t *obj = json_pack(
        "{s:s,s:s,s:{s:s,s:s,s:{s:s}},s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
        "metadata", "name", ROOT_CA_CONFIGMAP, "namespace", key, "annotations",
        DESCRIPTION_ANNOTATION, ROOT_CA_DESCRIPTION, "data", "ca.crt", s->ca_pem);
    return create_tolerant(c, path, obj);
  }

  /* Only the data and the description annotation are ours to keep. */
  json_t *data = json_object_get(cm, "data");
  const char *desc = meta_str(cm, "annotations", DESCRIPTION_ANNOTATION);
  if (json_object_size(data) == 1 &&
      streq_ptr(json_string_value(json_object_get(data, "ca.crt")), s->ca_pem) && desc && *desc)
    return 0;
  _cleanup_json_ json_t *next = json_deep_copy(cm);
  json_object_set_new(next, "data", json_pack("{s:s}", "ca.crt", s->ca_pem));
  json_object_set_new(json_object_ensure(json_object_ensure(next, "metadata"), "annotations"),
                      DESCRIPTION_ANNOTATION, json_string(ROOT_CA_DESCRIPTION));
  _cleanup_free_ char *opath = xasprintf("%s/%s", path, ROOT_CA_CONFIGMAP);
  _cleanup_free_ char *err = NULL;
  int r = controller_update(c, opath, next, NULL, &err);
  if (r == -ENOENT)
    return 0;
  if (r < 0)
    controller_log(c, "updating %s: %s", opath, err ? err : strerror(-r));
  return r;
}

static const struct controller_def rootca_def = {
    .name = "root-ca-cert-publisher",
    .component = "root-ca-cert-publisher",
    .workers = 1,
    .setup = rootca_setup,
    .sync = rootca_sync,
    .teardown = ns_teardown,
};
CONTROLLER_REGISTER(rootca_def);
