/* DefaultStorageClass, as kube-apiserver enables it by default: a PersistentVolumeClaim
 * created without spec.storageClassName (absent, not "") gets the default StorageClass —
 * the one annotated storageclass.kubernetes.io/is-default-class=true (or the beta
 * annotation), the newest when several are, by name among equals. Without a default
 * class the claim is left alone. */
#include "apiserver/admission.h"
#include "apiserver/resource.h"
#include "lib/json.h"

static bool is_default_class(const json_t *sc) {
  const json_t *ann = json_path((json_t *)sc, "metadata.annotations");
  return streq_ptr(json_string_value(json_object_get(ann, "storageclass.kubernetes.io/is-default-class")),
                   "true") ||
         streq_ptr(json_string_value(
                       json_object_get(ann, "storageclass.beta.kubernetes.io/is-default-class")),
                   "true");
}

/* Whether a is preferred to b as the default: newer first, then by name. RFC 3339 times
 * in UTC compare as strings. */
static bool preferred(const json_t *a, const json_t *b) {
  const char *ta = json_path_str((json_t *)a, "metadata.creationTimestamp") ?: "";
  const char *tb = json_path_str((json_t *)b, "metadata.creationTimestamp") ?: "";
  int c = strcmp(ta, tb);
  if (c != 0)
    return c > 0;
  return strcmp(json_path_str((json_t *)a, "metadata.name") ?: "",
                json_path_str((json_t *)b, "metadata.name") ?: "") < 0;
}

static int default_storage_class(const struct admission_attrs *a, struct api_error *err) {
  (void)err;
  if (a->op != ADMIT_CREATE || !a->obj || (a->subresource && *a->subresource) ||
      !streq(a->res->plural, "persistentvolumeclaims"))
    return 0;
  json_t *spec = json_object_ensure(a->obj, "spec");
  if (json_object_get(spec, "storageClassName") ||
      json_object_get(json_path(a->obj, "metadata.annotations"),
                      "volume.beta.kubernetes.io/storage-class"))
    return 0;
  const struct api_resource *sc = api_registry_find("storage.k8s.io", "v1", "storageclasses");
  _cleanup_free_ char *prefix = resource_key(sc, NULL, "");
  struct store_list l = {0};
  if (store_list(a->store, prefix, 0, NULL, 0, &l) < 0)
    return 0; /* as kube: a claim without a class is valid; the controller may assign one */
  json_t *best = NULL;
  for (size_t i = 0; i < l.n_items; i++) {
    json_t *obj = resource_decode_stored(l.items[i].value, l.items[i].value_len, l.items[i].mod_rev);
    if (obj && is_default_class(obj) && (!best || preferred(obj, best))) {
      json_decref(best);
      best = obj;
    } else {
      json_decref(obj);
    }
  }
  store_list_clear(&l);
  if (best)
    json_object_set(spec, "storageClassName", json_path(best, "metadata.name"));
  json_decref(best);
  return 0;
}

const struct admission_plugin admission_default_storage_class = {
    .name = "DefaultStorageClass", .mutate = default_storage_class};
