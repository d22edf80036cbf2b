/* PersistentVolumeClaim strategy (ValidatePersistentVolumeClaimSpec): a claim asks for
 * storage with at least one supported access mode. */
#include "api/strategy.h"

#include <stdio.h>

#include "lib/json.h"
#include "lib/quantity.h"
#include "lib/validation.h"

static void pvc_spec_validate(const json_t *spec, const char *path, struct field_errors *errs) {
  static const char *const modes[] = {"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce",
                                      "ReadWriteOncePod", NULL};
  const json_t *am = json_object_get(spec, "accessModes");
  _cleanup_free_ char *amp = xasprintf("%s.accessModes", path);
  if (json_array_size(am) == 0)
    field_errors_required(errs, amp, "at least 1 access mode is required");
  size_t i;
  const json_t *m;
  bool rwop = false;
  json_array_foreach(am, i, m) {
    bool ok = false;
    for (size_t k = 0; modes[k]; k++)
      ok |= json_is_string(m) && streq(json_string_value(m), modes[k]);
    if (!ok)
      field_errors_not_supported(errs, amp, m, modes);
    rwop |= json_is_string(m) && streq(json_string_value(m), "ReadWriteOncePod");
  }
  if (rwop && json_array_size(am) > 1)
    field_errors_forbidden(errs, amp, "may not use ReadWriteOncePod with other access modes");

  _cleanup_free_ char *sp = xasprintf("%s.resources[storage]", path);
  const json_t *storage = json_path((json_t *)spec, "resources.requests.storage");
  quantity_t q;
  if (!storage) {
    field_errors_required(errs, sp, NULL);
  } else if (json_is_string(storage) && quantity_parse(json_string_value(storage), &q, NULL) == 0 &&
             quantity_sign(&q) <= 0) {
    field_errors_invalid(errs, sp, storage, "must be greater than zero");
  }
  const json_t *cls = json_object_get(spec, "storageClassName");
  if (json_is_string(cls) && *json_string_value(cls)) {
    _cleanup_free_ char *cp = xasprintf("%s.storageClassName", path);
    _cleanup_valid_msgs_ char **msgs = NULL;
    valid_dns1123_subdomain(json_string_value(cls), &msgs);
    strategy_invalid_msgs(errs, cp, cls, msgs);
  }
}

static void pvc_validate(const json_t *obj, const json_t *old, struct field_errors *errs) {
  const json_t *spec = json_object_get(obj, "spec");
  if (json_is_object(spec))
    pvc_spec_validate(spec, "spec", errs);
  if (!old)
    return;
  /* Once created, only the requested size (growing) and the attributes class change;
   * the volume name may be set once when the claim binds. */
  _cleanup_json_ json_t *a = json_deep_copy(spec),
                        *b = json_deep_copy(json_object_get(old, "spec"));
  if (!a || !b)
    return;
  json_t *areq = json_path(a, "resources.requests"), *breq = json_path(b, "resources.requests");
  if (json_is_object(areq))
    json_object_del(areq, "storage");
  if (json_is_object(breq))
    json_object_del(breq, "storage");
  json_object_del(a, "volumeAttributesClassName");
  json_object_del(b, "volumeAttributesClassName");
  if (!json_object_get(b, "volumeName"))
    json_object_del(a, "volumeName");
  if (!json_equal(a, b))
    field_errors_forbidden(errs, "spec",
                           "spec is immutable after creation except resources.requests and "
                           "volumeAttributesClassName for bound claims");
}

const struct api_strategy strategy_persistentvolumeclaims = {.validate = pvc_validate};
