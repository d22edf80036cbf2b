/* Admission plugins for pods that kube-apiserver enables by default:
 *  - Priority: spec.priority from the pod's PriorityClass (or the global default, or 0);
 *  - DefaultTolerationSeconds: tolerate not-ready and unreachable nodes for 300 s. */
#include <stdio.h>

#include "apiserver/admission.h"
#include "apiserver/resource.h"
#include "lib/json.h"

static bool is_pod_create(const struct admission_attrs *a) {
  return a->op == ADMIT_CREATE && streq(a->res->plural, "pods") && a->obj &&
         !(a->subresource && *a->subresource);
}

/* Finds the PriorityClass named name, or with name NULL the one marked globalDefault. */
static json_t *find_priority_class(struct store *s, const char *name) {
  const struct api_resource *pc = api_registry_find("scheduling.k8s.io", "v1", "priorityclasses");
  if (name) {
    _cleanup_free_ char *key = resource_key(pc, NULL, name);
    struct store_kv kv = {0};
    if (store_get(s, key, &kv) < 0)
      return NULL;
    json_t *obj = resource_decode_stored(kv.value, kv.value_len, kv.mod_rev);
    store_kv_clear(&kv);
    return obj;
  }
  _cleanup_free_ char *prefix = resource_key(pc, NULL, "");
  struct store_list l = {0};
  json_t *found = NULL;
  if (store_list(s, prefix, 0, NULL, 0, &l) < 0)
    return NULL;
  for (size_t i = 0; i < l.n_items && !found; i++) {
    json_t *obj = resource_decode_stored(l.items[i].value, l.items[i].value_len, l.items[i].mod_rev);
    if (json_is_true(json_object_get(obj, "globalDefault")))
      found = obj;
    else
      json_decref(obj);
  }
  store_list_clear(&l);
  return found;
}

static int priority(const struct admission_attrs *a, struct api_error *err) {
  if (!is_pod_create(a))
    return 0;
  json_t *spec = json_object_ensure(a->obj, "spec");
  const char *name = json_string_value(json_object_get(spec, "priorityClassName"));
  _cleanup_json_ json_t *pc = find_priority_class(a->store, name && *name ? name : NULL);
  if (name && *name && !pc)
    return api_error_set(err, -EPERM, 403, "Forbidden",
                         "pods \"%s\" is forbidden: no PriorityClass with name %s was found",
                         a->name ? a->name : "", name);
  json_int_t value = pc ? json_integer_value(json_object_get(pc, "value")) : 0;
  json_t *given = json_object_get(spec, "priority");
  if (given && json_integer_value(given) != value)
    return api_error_set(err, -EPERM, 403, "Forbidden",
                         "pods \"%s\" is forbidden: the integer value of priority (%lld) must not "
                         "be provided in pod spec; priority admission controller computed %lld "
                         "from the given PriorityClass name",
                         a->name ? a->name : "", (long long)json_integer_value(given),
                         (long long)value);
  if (pc && (!name || !*name))
    json_object_set(spec, "priorityClassName", json_path(pc, "metadata.name"));
  json_object_set_new(spec, "priority", json_integer(value));
  const char *policy = pc ? json_string_value(json_object_get(pc, "preemptionPolicy")) : NULL;
  json_object_set_new(spec, "preemptionPolicy", json_string(policy ? policy : "PreemptLowerPriority"));
  return 0;
}

static bool tolerates(const json_t *tolerations, const char *key) {
  size_t i;
  json_t *t;
  json_array_foreach(tolerations, i, t) {
    const char *k = json_string_value(json_object_get(t, "key"));
    const char *op = json_string_value(json_object_get(t, "operator"));
    const char *effect = json_string_value(json_object_get(t, "effect"));
    bool any_key = (!k || !*k) && op && streq(op, "Exists");
    if ((any_key || streq_ptr(k, key)) && (!effect || !*effect || streq(effect, "NoExecute")))
      return true;
  }
  return false;
}

static int default_toleration_seconds(const struct admission_attrs *a, struct api_error *err) {
  (void)err;
  if (!is_pod_create(a))
    return 0;
  static const char *const keys[] = {"node.kubernetes.io/not-ready",
                                     "node.kubernetes.io/unreachable"};
  json_t *tolerations = json_object_ensure_array(json_object_ensure(a->obj, "spec"), "tolerations");
  for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
    if (!tolerates(tolerations, keys[i]))
      json_array_append_new(tolerations,
                            json_pack("{s:s,s:s,s:s,s:i}", "key", keys[i], "operator", "Exists",
                                      "effect", "NoExecute", "tolerationSeconds", 300));
  return 0;
}

const struct admission_plugin admission_priority = {.name = "Priority", .mutate = priority};
const struct admission_plugin admission_default_toleration_seconds = {
    .name = "DefaultTolerationSeconds", .mutate = default_toleration_seconds};
