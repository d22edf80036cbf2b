/* RBAC strategies (pkg/apis/rbac/validation): rules need verbs and either resources or
 * non-resource URLs; bindings name a role they can never change and valid subjects. */
#include "api/strategy.h"

#include <stdio.h>

#include "lib/json.h"
#include "lib/validation.h"

#define RBAC_GROUP "rbac.authorization.k8s.io"

static const char *str_at(const json_t *obj, const char *key) {
  const json_t *v = json_object_get(obj, key);
  return json_is_string(v) ? json_string_value(v) : "";
}

static void rules_validate(const json_t *obj, bool namespaced, struct field_errors *errs) {
  size_t i;
  const json_t *rule;
  json_array_foreach(json_object_get(obj, "rules"), i, rule) {
    _cleanup_free_ char *p = xasprintf("rules[%zu]", i);
    _cleanup_free_ char *vp = xasprintf("%s.verbs", p);
    if (json_array_size(json_object_get(rule, "verbs")) == 0) {
      strategy_errors_drop(errs, vp, CAUSE_REQUIRED);
      field_errors_required(errs, vp, "verbs must contain at least one value");
    }
    const json_t *urls = json_object_get(rule, "nonResourceURLs");
    if (json_array_size(urls) > 0) {
      _cleanup_free_ char *up = xasprintf("%s.nonResourceURLs", p);
      if (namespaced)
        field_errors_invalid(errs, up, urls, "namespaced rules cannot apply to non-resource URLs");
      if (json_array_size(json_object_get(rule, "apiGroups")) ||
          json_array_size(json_object_get(rule, "resources")) ||
          json_array_size(json_object_get(rule, "resourceNames")))
        field_errors_invalid(errs, up, urls,
                             "rules cannot apply to both regular resources and non-resource URLs");
      continue;
    }
    if (json_array_size(json_object_get(rule, "apiGroups")) == 0) {
      _cleanup_free_ char *ap = xasprintf("%s.apiGroups", p);
      field_errors_required(errs, ap, "resource rules must supply at least one api group");
    }
    if (json_array_size(json_object_get(rule, "resources")) == 0) {
      _cleanup_free_ char *rp = xasprintf("%s.resources", p);
      field_errors_required(errs, rp, "resource rules must supply at least one resource");
    }
  }
}

static void role_validate(const json_t *obj, const json_t *old, struct field_errors *errs) {
  (void)old;
  rules_validate(obj, true, errs);
}

static void clusterrole_validate(const json_t *obj, const json_t *old, struct field_errors *errs) {
  (void)old;
  rules_validate(obj, false, errs);
}

const struct api_strategy strategy_roles = {.validate = role_validate};
const struct api_strategy strategy_clusterroles = {.validate = clusterrole_validate};

/* A subject's apiGroup follows from its kind when left out. */
static void subjects_default(json_t *obj) {
  size_t i;
  json_t *s;
  json_array_foreach(json_object_get(obj, "subjects"), i, s) {
    if (*str_at(s, "apiGroup"))
      continue;
    const char *kind = str_at(s, "kind");
    if (streq(kind, "ServiceAccount"))
      json_object_set_new(s, "apiGroup", json_string(""));
    else if (streq(kind, "User") || streq(kind, "Group"))
      json_object_set_new(s, "apiGroup", json_string(RBAC_GROUP));
  }
}

STRATEGY_DEFAULT_ON_WRITE(binding, subjects_default)

static void path_segment_validate(const json_t *v, const char *path, struct field_errors *errs) {
  const char *s = json_string_value(v);
  if (!s || !*s)
    return;
  if (streq(s, ".") || streq(s, ".."))
    field_errors_invalid(errs, path, v, "may not be '.' or '..'");
  else if (strchr(s, '/'))
    field_errors_invalid(errs, path, v, "may not contain '/'");
  else if (strchr(s, '%'))
    field_errors_invalid(errs, path, v, "may not contain '%'");
}

static void binding_validate(const json_t *obj, const json_t *old, bool namespaced,
                             struct field_errors *errs) {
  const json_t *ref = json_object_get(obj, "roleRef");
  const json_t *group = json_object_get(ref, "apiGroup");
  if (json_is_string(group) && !streq(json_string_value(group), RBAC_GROUP)) {
    static const char *const ok[] = {RBAC_GROUP, NULL};
    field_errors_not_supported(errs, "roleRef.apiGroup", group, ok);
  }
  const json_t *kind = json_object_get(ref, "kind");
  static const char *const ns_kinds[] = {"Role", "ClusterRole", NULL};
  static const char *const cluster_kinds[] = {"ClusterRole", NULL};
  const char *const *kinds = namespaced ? ns_kinds : cluster_kinds;
  bool kind_ok = false;
  for (size_t i = 0; kinds[i]; i++)
    kind_ok |= streq(str_at(ref, "kind"), kinds[i]);
  if (!kind_ok) {
    strategy_errors_drop(errs, "roleRef.kind", CAUSE_REQUIRED);
    _cleanup_json_ json_t *kv = json_string(str_at(ref, "kind"));
    field_errors_not_supported(errs, "roleRef.kind", kind ? kind : kv, kinds);
  }
  if (json_is_object(ref) && !*str_at(ref, "name")) {
    strategy_errors_drop(errs, "roleRef.name", CAUSE_REQUIRED);
    field_errors_required(errs, "roleRef.name", NULL);
  } else {
    path_segment_validate(json_object_get(ref, "name"), "roleRef.name", errs);
  }

  size_t i;
  const json_t *s;
  json_array_foreach(json_object_get(obj, "subjects"), i, s) {
    _cleanup_free_ char *p = xasprintf("subjects[%zu]", i);
    _cleanup_free_ char *np = xasprintf("%s.name", p);
    _cleanup_free_ char *gp = xasprintf("%s.apiGroup", p);
    const char *sk = str_at(s, "kind");
    const json_t *sg = json_object_get(s, "apiGroup");
    _cleanup_json_ json_t *sgv = json_string(str_at(s, "apiGroup"));
    if (streq(sk, "ServiceAccount")) {
      const json_t *name = json_object_get(s, "name");
      if (json_is_string(name) && *json_string_value(name)) {
        _cleanup_valid_msgs_ char **m = NULL;
        valid_dns1123_subdomain(json_string_value(name), &m);
        strategy_invalid_msgs(errs, np, name, m);
      }
      if (*str_at(s, "apiGroup")) {
        static const char *const ok[] = {"", NULL};
        field_errors_not_supported(errs, gp, sg, ok);
      }
      if (!namespaced && !*str_at(s, "namespace")) {
        _cleanup_free_ char *nsp = xasprintf("%s.namespace", p);
        field_errors_required(errs, nsp, NULL);
      }
    } else if (streq(sk, "User") || streq(sk, "Group")) {
      if (!streq(str_at(s, "apiGroup"), RBAC_GROUP)) {
        static const char *const ok[] = {RBAC_GROUP, NULL};
        field_errors_not_supported(errs, gp, sgv, ok);
      }
    } else {
      static const char *const ok[] = {"ServiceAccount", "User", "Group", NULL};
      _cleanup_free_ char *kp = xasprintf("%s.kind", p);
      _cleanup_json_ json_t *kv = json_string(sk);
      field_errors_not_supported(errs, kp, kv, ok);
    }
  }

  if (old) {
    const json_t *oref = json_object_get(old, "roleRef");
    if (!streq(str_at(ref, "apiGroup"), str_at(oref, "apiGroup")) ||
        !streq(str_at(ref, "kind"), str_at(oref, "kind")) ||
        !streq(str_at(ref, "name"), str_at(oref, "name")))
      field_errors_add(errs, CAUSE_INVALID, "roleRef",
                       "Invalid value: rbac.RoleRef{APIGroup:\"%s\", Kind:\"%s\", Name:\"%s\"}: "
                       "cannot change roleRef",
                       str_at(ref, "apiGroup"), str_at(ref, "kind"), str_at(ref, "name"));
  }
}

static void rolebinding_validate(const json_t *obj, const json_t *old, struct field_errors *errs) {
  binding_validate(obj, old, true, errs);
}

static void clusterrolebinding_validate(const json_t *obj, const json_t *old,
                                        struct field_errors *errs) {
  binding_validate(obj, old, false, errs);
}

const struct api_strategy strategy_rolebindings = {
    .prepare_create = binding_prepare_create,
    .prepare_update = binding_prepare_update,
    .validate = rolebinding_validate,
};

const struct api_strategy strategy_clusterrolebindings = {
    .prepare_create = binding_prepare_create,
    .prepare_update = binding_prepare_update,
    .validate = clusterrolebinding_validate,
};
