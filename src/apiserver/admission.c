#include "apiserver/admission.h"

#include <stdio.h>

#include "api/validate.h"
#include "apiserver/resource.h"
#include "lib/json.h"

int admission_decode(const struct api_resource *r, json_t *obj, const char *field_validation,
                     char ***warnings, size_t *n_warnings, struct api_error *err) {
  enum validate_unknown mode;
  if (validate_unknown_parse(field_validation, &mode) < 0) {
    struct field_errors errs = {0};
    json_t *v = json_string(field_validation);
    field_errors_not_supported(&errs, "fieldValidation", v, validate_unknown_values);
    json_decref(v);
    /* kube-apiserver reports this one as a bare 400 with the field error text */
    int rc = api_error_bad_request(err, "fieldValidation: %s", errs.items[0].message);
    field_errors_clear(&errs);
    return rc;
  }
  if (!r->schema)
    return 0;
  _cleanup_validate_warnings_ struct validate_warnings w = {0};
  int rc = validate_decode(r, obj, mode, &w, err);
  if (w.n) {
    *warnings = xrealloc(*warnings, (*n_warnings + w.n) * sizeof(char *));
    for (size_t i = 0; i < w.n; i++)
      (*warnings)[(*n_warnings)++] = TAKE_PTR(w.items[i]);
  }
  return rc;
}

/* NamespaceLifecycle: nothing is created in a namespace that does not exist or is being
 * deleted. */
static int namespace_lifecycle(const struct admission_attrs *a, struct api_error *err) {
  if (a->op != ADMIT_CREATE || !a->res->namespaced || !a->namespace_)
    return 0;
  const struct api_resource *ns = api_registry_find("", "v1", "namespaces");
  _cleanup_free_ char *key = resource_key(ns, NULL, a->namespace_);
  struct store_kv kv = {0};
  int rc = store_get(a->store, key, &kv);
  if (rc == -ENOENT)
    return api_error_not_found(err, "", "namespaces", a->namespace_);
  if (rc < 0)
    return api_error_set(err, rc, 500, "InternalError", "storage error: %s", strerror(-rc));
  /* Only a namespace being deleted has a deletionTimestamp: decode just those. */
  bool terminating = false;
  if (memmem(kv.value, kv.value_len, "\"deletionTimestamp\"", 19)) {
    _cleanup_json_ json_t *obj = resource_decode_stored(kv.value, kv.value_len, kv.mod_rev);
    terminating = json_path(obj, "metadata.deletionTimestamp") != NULL;
  }
  store_kv_clear(&kv);
  /* Events about the namespace's own teardown are still accepted, as kube does. */
  if (terminating && !streq(a->res->plural, "events"))
    return api_error_set(err, -EPERM, 403, "Forbidden",
                         "%s \"%s\" is forbidden: unable to create new content in namespace %s "
                         "because it is being terminated",
                         a->res->plural, a->name ? a->name : "", a->namespace_);
  return 0;
}

static const struct admission_plugin namespace_lifecycle_plugin = {
    .name = "NamespaceLifecycle", .mutate = namespace_lifecycle};

static const struct admission_plugin *const plugins[] = {
    &namespace_lifecycle_plugin,
    &admission_service_account,
    &admission_default_toleration_seconds,
    &admission_priority,
    &admission_default_storage_class,
    &admission_service_alloc,
};


/* Gives back what the first n plugins reserved. */
static void abort_plugins(const struct admission_attrs *a, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (plugins[i]->aborted)
      plugins[i]->aborted(a);
}

void admission_finish(const struct admission_attrs *a, int rc) {
  if (rc < 0) {
    abort_plugins(a, ARRAY_SIZE(plugins));
    return;
  }
  for (size_t i = 0; i < ARRAY_SIZE(plugins); i++)
    if (plugins[i]->committed)
      plugins[i]->committed(a);
}

static int admission_run_inner(const struct admission_attrs *a, struct api_error *err) {
  int rc;
  if (a->obj && a->res->schema) {
    validate_default(a->res, a->obj);
    _cleanup_field_errors_ struct field_errors errs = {0};
    validate_object(a->res, a->obj, validate_name_rule(a->res), &errs);
    if (a->res->strategy && a->res->strategy->validate)
      a->res->strategy->validate(a->obj, a->old, &errs);
    if (errs.n)
      return api_error_invalid(err, a->res->group, a->res->kind,
                               json_path_str(a->obj, "metadata.name"), &errs);
  }
  for (size_t i = 0; i < ARRAY_SIZE(plugins); i++)
    if (plugins[i]->validate && (rc = plugins[i]->validate(a, err)) < 0)
      return rc;
  return 0;
}

int admission_run(const struct admission_attrs *a, struct api_error *err) {
  size_t i;
  int rc;
  for (i = 0; i < ARRAY_SIZE(plugins); i++)
    if (plugins[i]->mutate && (rc = plugins[i]->mutate(a, err)) < 0) {
      abort_plugins(a, i);
      return rc;
    }
  rc = admission_run_inner(a, err);
  if (rc < 0)
    abort_plugins(a, ARRAY_SIZE(plugins));
  return rc;
}
