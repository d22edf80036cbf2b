#include "api/strategy.h"

#include "lib/base64.h"
#include "lib/json.h"

/* Field-selector attributes are the ones kube-apiserver registers per kind: anything
 * else is refused with "field label not supported". */
static const char *str_or_empty(const json_t *obj, const char *path) {
  const char *s = json_path_str((json_t *)obj, path);
  return s ? s : "";
}

static const char *pod_field_label(const json_t *obj, const char *label) {
  static const char *const paths[] = {"spec.nodeName",          "spec.restartPolicy",
                                      "spec.schedulerName",     "spec.serviceAccountName",
                                      "status.phase",           "status.podIP",
                                      "status.nominatedNodeName", NULL};
  for (size_t i = 0; paths[i]; i++)
    if (streq(label, paths[i]))
      return str_or_empty(obj, paths[i]);
  if (streq(label, "spec.hostNetwork")) {
    json_t *v = json_path((json_t *)obj, "spec.hostNetwork");
    return json_is_true(v) ? "true" : "false";
  }
  return NULL;
}

static void pod_prepare_create(json_t *obj) {
  json_t *status = json_object_ensure(obj, "status");
  json_object_set_new(status, "phase", json_string("Pending"));
}

const struct api_strategy strategy_pods = {
    .prepare_create = pod_prepare_create,
    .field_label = pod_field_label,
};

static const char *namespace_field_label(const json_t *obj, const char *label) {
  if (streq(label, "status.phase"))
    return str_or_empty(obj, "status.phase");
  return NULL;
}

/* A new namespace is Active and carries the "kubernetes" finalizer, which the namespace
 * controller removes once the namespace is empty. */
static void namespace_prepare_create(json_t *obj) {
  json_t *spec = json_object_ensure(obj, "spec");
  json_object_set_new(spec, "finalizers", json_pack("[s]", "kubernetes"));
  json_t *status = json_object_ensure(obj, "status");
  json_object_set_new(status, "phase", json_string("Active"));
}

static void namespace_prepare_update(json_t *obj, const json_t *old) {
  json_t *old_spec = json_object_get(old, "spec");
  if (old_spec)
    json_object_set_new(obj, "spec", json_deep_copy(old_spec));
}

const struct api_strategy strategy_namespaces = {
    .prepare_create = namespace_prepare_create,
    .prepare_update = namespace_prepare_update,
    .field_label = namespace_field_label,
};

static const char *node_field_label(const json_t *obj, const char *label) {
  if (streq(label, "spec.unschedulable")) {
    json_t *v = json_path((json_t *)obj, "spec.unschedulable");
    return json_is_true(v) ? "true" : "false";
  }
  return NULL;
}

const struct api_strategy strategy_nodes = {.field_label = node_field_label};

static const char *service_field_label(const json_t *obj, const char *label) {
  if (streq(label, "spec.clusterIP") || streq(label, "spec.type"))
    return str_or_empty(obj, label);
  return NULL;
}

const struct api_strategy strategy_services = {.field_label = service_field_label};

static const char *secret_field_label(const json_t *obj, const char *label) {
  if (streq(label, "type"))
    return str_or_empty(obj, "type");
  return NULL;
}

/* stringData is a write-only convenience: its entries are merged into data (base64) and
 * the field itself is never stored, as kube-apiserver does. */
static void secret_fold_string_data(json_t *obj) {
  json_t *sd = json_object_get(obj, "stringData");
  if (!json_is_object(sd)) {
    json_object_del(obj, "stringData");
    return;
  }
  json_t *data = json_object_ensure(obj, "data");
  const char *k;
  json_t *v;
  json_object_foreach(sd, k, v) {
    const char *s = json_string_value(v);
    if (!s)
      continue;
    _cleanup_free_ char *out = base64_encode(s, strlen(s));
    json_object_set_new(data, k, json_string(out));
  }
  json_object_del(obj, "stringData");
}

static void secret_prepare_create(json_t *obj) { secret_fold_string_data(obj); }
static void secret_prepare_update(json_t *obj, const json_t *old) {
  (void)old;
  secret_fold_string_data(obj);
}

const struct api_strategy strategy_secrets = {
    .prepare_create = secret_prepare_create,
    .prepare_update = secret_prepare_update,
    .field_label = secret_field_label,
};

static const char *event_field_label(const json_t *obj, const char *label) {
  static const char *const paths[] = {
      "involvedObject.kind",      "involvedObject.namespace",       "involvedObject.name",
      "involvedObject.uid",       "involvedObject.apiVersion",      "involvedObject.resourceVersion",
      "involvedObject.fieldPath", "reason",                         "reportingComponent",
      "source",                   "type",                           NULL};
  for (size_t i = 0; paths[i]; i++)
    if (streq(label, paths[i]))
      return str_or_empty(obj, streq(label, "source") ? "source.component" : paths[i]);
  return NULL;
}

const struct api_strategy strategy_events = {.field_label = event_field_label};
