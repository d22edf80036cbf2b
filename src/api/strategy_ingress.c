/* Ingress strategy (pkg/apis/networking/validation): every path has a pathType and an
 * absolute path, every backend exactly one of a Service port or a resource, and an
 * ingress routes something. */
#include "api/strategy.h"

#include <stdio.h>

#include "lib/json.h"
#include "lib/validation.h"

static const char *str_at(const json_t *obj, const char *key) {
  const json_t *v = json_object_get(obj, key);
  return json_is_string(v) ? json_string_value(v) : "";
}

static void invalid_empty(struct field_errors *errs, const char *path, const char *msg) {
  _cleanup_json_ json_t *v = json_string("");
  field_errors_invalid(errs, path, v, msg);
}

static void backend_validate(const json_t *b, const char *path, struct field_errors *errs) {
  if (!json_is_object(b))
    return;
  _cleanup_free_ char *rp = xasprintf("%s.resource", path);
  _cleanup_free_ char *sp = xasprintf("%s.service", path);
  strategy_errors_drop(errs, rp, CAUSE_FORBIDDEN);
  strategy_errors_drop(errs, sp, CAUSE_FORBIDDEN);
  const json_t *svc = json_object_get(b, "service");
  const json_t *res = json_object_get(b, "resource");
  bool has_svc = json_is_object(svc), has_res = json_is_object(res);
  if (has_svc && has_res) {
    invalid_empty(errs, path, "cannot set both resource and service backends");
    return;
  }
  if (!has_svc && !has_res) {
    invalid_empty(errs, path, "resource or service backend is required");
    return;
  }
  if (has_res)
    return; /* kind and name are required by the schema */
  _cleanup_free_ char *np = xasprintf("%s.service.name", path);
  const json_t *name = json_object_get(svc, "name");
  if (json_is_string(name) && *json_string_value(name)) {
    _cleanup_valid_msgs_ char **m = NULL;
    valid_dns1035_label(json_string_value(name), &m);
    strategy_invalid_msgs(errs, np, name, m);
  }
  const json_t *port = json_object_get(svc, "port");
  const json_t *pname = json_object_get(port, "name");
  const json_t *pnum = json_object_get(port, "number");
  bool has_name = json_is_string(pname) && *json_string_value(pname);
  bool has_num = json_integer_value(pnum) != 0;
  _cleanup_free_ char *pnp = xasprintf("%s.service.port.number", path);
  _cleanup_free_ char *pmp = xasprintf("%s.service.port.name", path);
  strategy_errors_drop(errs, pnp, CAUSE_FORBIDDEN);
  strategy_errors_drop(errs, pmp, CAUSE_FORBIDDEN);
  if (has_name && has_num) {
    invalid_empty(errs, path, "cannot set both port name & port number");
  } else if (has_name) {
    _cleanup_valid_msgs_ char **m = NULL;
    valid_port_name(json_string_value(pname), &m);
    strategy_invalid_msgs(errs, pmp, pname, m);
  } else if (has_num) {
    _cleanup_valid_msgs_ char **m = NULL;
    valid_port_num(json_integer_value(pnum), &m);
    strategy_invalid_msgs(errs, pnp, pnum, m);
  } else {
    field_errors_required(errs, path, "port name or number is required");
  }
}

static void path_validate(const json_t *p, const char *path, struct field_errors *errs) {
  _cleanup_free_ char *tp = xasprintf("%s.pathType", path);
  _cleanup_free_ char *pp = xasprintf("%s.path", path);
  _cleanup_free_ char *bp = xasprintf("%s.backend", path);
  const json_t *type = json_object_get(p, "pathType");
  const json_t *pathv = json_object_get(p, "path");
  const char *s = str_at(p, "path");
  if (!json_is_string(type) || !*json_string_value(type)) {
    strategy_errors_drop(errs, tp, CAUSE_REQUIRED);
    field_errors_required(errs, tp, "pathType must be specified");
  } else {
    const char *t = json_string_value(type);
    _cleanup_json_ json_t *pv = json_string(s);
    if (streq(t, "Exact") || streq(t, "Prefix")) {
      if (*s != '/')
        field_errors_invalid(errs, pp, pv, "must be an absolute path");
      static const char *const bad_seq[] = {"//", "/./", "/../", "%2f", "%2F"};
      static const char *const bad_suffix[] = {"/..", "/."};
      for (size_t i = 0; *s && i < ARRAY_SIZE(bad_seq); i++)
        if (strstr(s, bad_seq[i])) {
          _cleanup_free_ char *msg = xasprintf("must not contain '%s'", bad_seq[i]);
          field_errors_invalid(errs, pp, pv, msg);
        }
      for (size_t i = 0; *s && i < ARRAY_SIZE(bad_suffix); i++) {
        size_t n = strlen(s), m = strlen(bad_suffix[i]);
        if (n >= m && streq(s + n - m, bad_suffix[i])) {
          _cleanup_free_ char *msg = xasprintf("cannot end with '%s'", bad_suffix[i]);
          field_errors_invalid(errs, pp, pv, msg);
        }
      }
    } else if (streq(t, "ImplementationSpecific")) {
      if (*s && *s != '/')
        field_errors_invalid(errs, pp, pathv, "must be an absolute path");
    } else {
      static const char *const ok[] = {"Exact", "ImplementationSpecific", "Prefix", NULL};
      field_errors_not_supported(errs, tp, type, ok);
    }
  }
  backend_validate(json_object_get(p, "backend"), bp, errs);
}

static void host_validate(const json_t *host, const char *path, struct field_errors *errs) {
  const char *h = json_string_value(host);
  if (!h || !*h)
    return;
  if (valid_ip(h, NULL) == 0) {
    field_errors_invalid(errs, path, host, "must be a DNS name, not an IP address");
    return;
  }
  _cleanup_valid_msgs_ char **m = NULL;
  if (startswith(h, "*.")) {
    /* A wildcard stands for exactly one leading label. */
    _cleanup_free_ char *rest = xasprintf("x%s", h + 1);
    if (valid_dns1123_subdomain(rest, NULL) || strchr(h + 2, '*'))
      field_errors_invalid(
          errs, path, host,
          "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid "
          "DNS subdomain, which must consist of lower case alphanumeric "
          "characters, '-' or '.' and end with an alphanumeric character (e.g. "
          "'*.example.com', regex used for validation is "
          "'\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
    return;
  }
  valid_dns1123_subdomain(h, &m);
  strategy_invalid_msgs(errs, path, host, m);
}

static void ingress_validate(const json_t *obj, const json_t *old, struct field_errors *errs) {
  (void)old;
  const json_t *spec = json_object_get(obj, "spec");
  if (!json_is_object(spec))
    return;
  const json_t *rules = json_object_get(spec, "rules");
  const json_t *def = json_object_get(spec, "defaultBackend");
  if (json_array_size(rules) == 0 && !json_is_object(def))
    field_errors_add(errs, CAUSE_INVALID, "spec",
                     "Invalid value: []networking.IngressRule(nil): either `defaultBackend` or "
                     "`rules` must be specified");
  backend_validate(def, "spec.defaultBackend", errs);
  size_t i, j;
  const json_t *r, *p;
  json_array_foreach(rules, i, r) {
    _cleanup_free_ char *rp = xasprintf("spec.rules[%zu]", i);
    _cleanup_free_ char *hp = xasprintf("%s.host", rp);
    host_validate(json_object_get(r, "host"), hp, errs);
    json_array_foreach(json_path((json_t *)r, "http.paths"), j, p) {
      _cleanup_free_ char *pp = xasprintf("%s.http.paths[%zu]", rp, j);
      path_validate(p, pp, errs);
    }
  }
  json_array_foreach(json_object_get(spec, "tls"), i, r) {
    const json_t *h;
    json_array_foreach(json_object_get(r, "hosts"), j, h) {
      _cleanup_free_ char *hp = xasprintf("spec.tls[%zu].hosts[%zu]", i, j);
      host_validate(h, hp, errs);
    }
  }
  const json_t *cls = json_object_get(spec, "ingressClassName");
  if (json_is_string(cls) && *json_string_value(cls)) {
    _cleanup_valid_msgs_ char **m = NULL;
    valid_dns1123_subdomain(json_string_value(cls), &m);
    strategy_invalid_msgs(errs, "spec.ingressClassName", cls, m);
  }
}

const struct api_strategy strategy_ingresses = {.validate = ingress_validate};
