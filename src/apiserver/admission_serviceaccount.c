/* ServiceAccount admission, and what every namespace holds for its service accounts.
 *
 * Pods run as a ServiceAccount ("default" unless named), which must exist, and get the
 * kube-api-access-xxxxx projected volume (token, cluster CA, namespace) mounted at
 * /var/run/secrets/kubernetes.io/serviceaccount, as kube-apiserver's plugin does.
 *
 * A new namespace gets its "default" ServiceAccount and the kube-root-ca.crt ConfigMap
 * at once, in the same request path, so that pods can be created in it straight away. */
#include <stdio.h>

#include "apiserver/admission.h"
#include "apiserver/object.h"
#include "apiserver/resource.h"
#include "lib/json.h"

#define TOKEN_MOUNT_PATH "/var/run/secrets/kubernetes.io/serviceaccount"

static bool is_pod_create(const struct admission_attrs *a) {
  return a->op == ADMIT_CREATE && streq(a->res->plural, "pods") && a->obj &&
         !(a->subresource && *a->subresource);
}

static bool has_mount_at(const json_t *container, const char *path) {
  size_t i;
  json_t *m;
  json_array_foreach(json_object_get(container, "volumeMounts"), i, m) if (
      streq_ptr(json_string_value(json_object_get(m, "mountPath")), path)) return true;
  return false;
}

static void mount_everywhere(json_t *spec, const char *volume) {
  static const char *const lists[] = {"initContainers", "containers"};
  for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(spec, lists[l]), i, c) {
      if (has_mount_at(c, TOKEN_MOUNT_PATH))
        continue;
      json_array_append_new(json_object_ensure_array(c, "volumeMounts"),
                            json_pack("{s:s,s:b,s:s}", "name", volume, "readOnly", 1,
                                      "mountPath", TOKEN_MOUNT_PATH));
    }
  }
}

static int service_account(const struct admission_attrs *a, struct api_error *err) {
  if (!is_pod_create(a))
    return 0;
  json_t *spec = json_object_ensure(a->obj, "spec");
  const char *sa = json_string_value(json_object_get(spec, "serviceAccountName"));
  if (!sa || !*sa)
    sa = json_string_value(json_object_get(spec, "serviceAccount"));
  if (!sa || !*sa)
    sa = "default";
  _cleanup_free_ char *name = xstrdup(sa);
  json_object_set_new(spec, "serviceAccountName", json_string(name));
  json_object_set_new(spec, "serviceAccount", json_string(name));

  const struct api_resource *sar = api_registry_find("", "v1", "serviceaccounts");
  _cleanup_json_ json_t *account = NULL;
  _cleanup_api_error_ struct api_error lookup = {0};
  int rc = resource_load(a->ctx, sar, a->namespace_, name, &account, NULL, &lookup);
  /* kube words the lookup failure as its informer's lister does: singular resource */
  if (rc == -ENOENT)
    return api_error_set(err, -EPERM, 403, "Forbidden",
                         "pods \"%s\" is forbidden: error looking up service account %s/%s: "
                         "serviceaccount \"%s\" not found",
                         a->name ? a->name : "", a->namespace_, name, name);
  if (rc < 0)
    return api_error_set(err, -EPERM, 403, "Forbidden",
                         "pods \"%s\" is forbidden: error looking up service account %s/%s: %s",
                         a->name ? a->name : "", a->namespace_, name, lookup.message);

  /* The pod's own setting wins over the account's. */
  json_t *automount = json_object_get(spec, "automountServiceAccountToken");
  if (!automount)
    automount = json_object_get(account, "automountServiceAccountToken");
  if (json_is_false(automount))
    return 0;
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(spec, "volumes"), i, v) {
    const char *vn = json_string_value(json_object_get(v, "name"));
    if (vn && startswith(vn, "kube-api-access-"))
      return 0;
  }
  _cleanup_free_ char *volume = object_generate_name("kube-api-access-");
  json_array_append_new(
      json_object_ensure_array(spec, "volumes"),
      json_pack("{s:s,s:{s:i,s:[{s:{s:i,s:s}},{s:{s:s,s:[{s:s,s:s}]}},{s:{s:[{s:{s:s,s:s},s:s}]}}]}}",
                "name", volume, "projected", "defaultMode", 420, "sources",
                "serviceAccountToken", "expirationSeconds", 3607, "path", "token", "configMap",
                "name", "kube-root-ca.crt", "items", "key", "ca.crt", "path", "ca.crt",
                "downwardAPI", "items", "fieldRef", "apiVersion", "v1", "fieldPath",
                "metadata.namespace", "path", "namespace"));
  mount_everywhere(spec, volume);
  return 0;
}

/* After a namespace is created: its default ServiceAccount and the cluster CA. */
static void namespace_created(const struct admission_attrs *a) {
  if (a->op != ADMIT_CREATE || a->dry_run || !streq(a->res->plural, "namespaces") || !a->obj ||
      !a->ctx)
    return;
  const char *ns = json_path_str(a->obj, "metadata.name");
  if (!ns)
    return;
  _cleanup_free_ char *nscopy = xstrdup(ns);
  _cleanup_json_ json_t *sa = json_pack("{s:s,s:s,s:{s:s,s:s}}", "apiVersion", "v1", "kind",
                                        "ServiceAccount", "metadata", "name", "default",
                                        "namespace", nscopy);
  _cleanup_api_error_ struct api_error err = {0};
  resource_create_object(a->ctx, api_registry_find("", "v1", "serviceaccounts"), sa, &err);
  if (a->ctx->ca_pem) {
    _cleanup_json_ json_t *cm = json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s}}", "apiVersion", "v1",
                                          "kind", "ConfigMap", "metadata", "name",
                                          "kube-root-ca.crt", "namespace", nscopy, "data",
                                          "ca.crt", a->ctx->ca_pem);
    api_error_clear(&err);
    resource_create_object(a->ctx, api_registry_find("", "v1", "configmaps"), cm, &err);
  }
}

const struct admission_plugin admission_service_account = {
    .name = "ServiceAccount",
    .mutate = service_account,
    .committed = namespace_created,
};
