/* Service strategy: defaults that depend on the type and on other fields, validation
 * (pkg/apis/core/validation ValidateService, ValidateServiceUpdate) and keeping the
 * allocated addresses and node ports across updates. Allocation itself needs the store
 * and is the API server's; strategy_service_needs_* tell it what to allocate. */
#include "api/strategy.h"

#include <stdio.h>

#include "lib/json.h"
#include "lib/validation.h"

static const char *str_at(const json_t *obj, const char *key) {
  const json_t *v = json_object_get(obj, key);
  return json_is_string(v) ? json_string_value(v) : "";
}

/* The schema defaults type after the strategy runs: absent means ClusterIP. */
static const char *svc_type(const json_t *spec) {
  const char *t = str_at(spec, "type");
  return *t ? t : "ClusterIP";
}

static bool is_headless(const json_t *spec) {
  return streq(str_at(spec, "clusterIP"), "None");
}

static bool externally_accessible(const json_t *spec) {
  const char *t = svc_type(spec);
  return streq(t, "LoadBalancer") || streq(t, "NodePort") ||
         (streq(t, "ClusterIP") && json_array_size(json_object_get(spec, "externalIPs")) > 0);
}

bool strategy_service_needs_cluster_ip(const json_t *svc) {
  const json_t *spec = json_object_get(svc, "spec");
  return !streq(svc_type(spec), "ExternalName") && !*str_at(spec, "clusterIP");
}

bool strategy_service_needs_node_ports(const json_t *svc) {
  const json_t *spec = json_object_get(svc, "spec");
  const char *t = svc_type(spec);
  if (streq(t, "NodePort"))
    return true;
  return streq(t, "LoadBalancer") &&
         !json_is_false(json_object_get(spec, "allocateLoadBalancerNodePorts"));
}

/* clusterIP and clusterIPs say the same thing; a client may send either. */
static void normalize_cluster_ips(json_t *spec) {
  const char *ip = str_at(spec, "clusterIP");
  json_t *ips = json_object_get(spec, "clusterIPs");
  if (*ip && json_array_size(ips) == 0)
    json_object_set_new(spec, "clusterIPs", json_pack("[s]", ip));
  else if (!*ip && json_array_size(ips) > 0 && json_is_string(json_array_get(ips, 0)))
    json_object_set(spec, "clusterIP", json_array_get(ips, 0));
}

static void service_default(json_t *obj) {
  json_t *spec = json_object_get(obj, "spec");
  if (!json_is_object(spec))
    return;
  const char *type = svc_type(spec);
  const char *aff = str_at(spec, "sessionAffinity");
  if (!*aff || streq(aff, "None")) {
    json_object_del(spec, "sessionAffinityConfig");
  } else if (streq(aff, "ClientIP")) {
    json_t *t = json_path(spec, "sessionAffinityConfig.clientIP.timeoutSeconds");
    if (!json_is_integer(t))
      json_object_set_new(spec, "sessionAffinityConfig",
                          json_pack("{s:{s:i}}", "clientIP", "timeoutSeconds", 10800));
  }
  size_t i;
  json_t *p;
  json_array_foreach(json_object_get(spec, "ports"), i, p) {
    json_t *tp = json_object_get(p, "targetPort");
    bool unset = !tp || json_is_null(tp) || (json_is_integer(tp) && json_integer_value(tp) == 0) ||
                 (json_is_string(tp) && !*json_string_value(tp));
    if (unset && json_object_get(p, "port"))
      json_object_set(p, "targetPort", json_object_get(p, "port"));
  }
  if (externally_accessible(spec) && !*str_at(spec, "externalTrafficPolicy"))
    json_object_set_new(spec, "externalTrafficPolicy", json_string("Cluster"));
  if (!*str_at(spec, "internalTrafficPolicy") &&
      (streq(type, "ClusterIP") || streq(type, "NodePort") || streq(type, "LoadBalancer")))
    json_object_set_new(spec, "internalTrafficPolicy", json_string("Cluster"));
  if (streq(type, "LoadBalancer") &&
      !json_is_boolean(json_object_get(spec, "allocateLoadBalancerNodePorts")))
    json_object_set_new(spec, "allocateLoadBalancerNodePorts", json_true());
  normalize_cluster_ips(spec);

  /* IP families: ckube's service network is single-stack IPv4. Headless services without
   * a selector may hold addresses of any family, which kube records as RequireDualStack. */
  if (streq(type, "ExternalName")) {
    json_object_del(spec, "ipFamilies");
    json_object_del(spec, "ipFamilyPolicy");
    return;
  }
  bool selectorless_headless =
      is_headless(spec) && json_object_size(json_object_get(spec, "selector")) == 0;
  if (!*str_at(spec, "ipFamilyPolicy"))
    json_object_set_new(spec, "ipFamilyPolicy",
                        json_string(selectorless_headless ? "RequireDualStack" : "SingleStack"));
  if (json_array_size(json_object_get(spec, "ipFamilies")) == 0)
    json_object_set_new(spec, "ipFamilies", json_pack("[s]", "IPv4"));
}

static void service_prepare_create(json_t *obj) {
  json_object_del(obj, "status");
  service_default(obj);
}

/* Resending a manifest that leaves out what the server allocated (clusterIP, node
 * ports, the health check port) keeps what was allocated, as kube's service REST does;
 * changing them is left to validation to refuse. */
static void service_prepare_update(json_t *obj, const json_t *old) {
  json_t *spec = json_object_get(obj, "spec");
  const json_t *ospec = json_object_get(old, "spec");
  if (json_is_object(spec) && json_is_object(ospec)) {
    bool was_ext = streq(svc_type(ospec), "ExternalName");
    bool is_ext = streq(svc_type(spec), "ExternalName");
    if (!was_ext && !is_ext && !*str_at(spec, "clusterIP") &&
        json_array_size(json_object_get(spec, "clusterIPs")) == 0) {
      json_t *ip = json_object_get(ospec, "clusterIP");
      json_t *ips = json_object_get(ospec, "clusterIPs");
      if (ip)
        json_object_set(spec, "clusterIP", ip);
      if (ips)
        json_object_set_new(spec, "clusterIPs", json_deep_copy(ips));
    }
    const char *t = svc_type(spec);
    if (streq(t, "NodePort") || streq(t, "LoadBalancer")) {
      size_t i, j;
      json_t *p, *op;
      json_array_foreach(json_object_get(spec, "ports"), i, p) {
        if (json_integer_value(json_object_get(p, "nodePort")) != 0)
          continue;
        json_array_foreach(json_object_get(ospec, "ports"), j, op) {
          const char *proto = str_at(p, "protocol"), *oproto = str_at(op, "protocol");
          if (json_integer_value(json_object_get(p, "port")) ==
                  json_integer_value(json_object_get(op, "port")) &&
              streq(*proto ? proto : "TCP", *oproto ? oproto : "TCP") &&
              json_integer_value(json_object_get(op, "nodePort")) != 0) {
            json_object_set(p, "nodePort", json_object_get(op, "nodePort"));
            break;
          }
        }
      }
    }
    if (!json_object_get(spec, "healthCheckNodePort") &&
        streq(str_at(spec, "externalTrafficPolicy"), "Local") &&
        json_object_get(ospec, "healthCheckNodePort"))
      json_object_set(spec, "healthCheckNodePort", json_object_get(ospec, "healthCheckNodePort"));
    if (json_array_size(json_object_get(spec, "ipFamilies")) == 0 &&
        json_object_get(ospec, "ipFamilies") && !is_ext)
      json_object_set_new(spec, "ipFamilies", json_deep_copy(json_object_get(ospec, "ipFamilies")));
  }
  service_default(obj);
}

/* Go's %#v of a []string: []string{"a", "b"}. */
static char *go_string_slice(const json_t *list) {
  char *buf = xstrdup("[]string{");
  size_t i;
  const json_t *v;
  json_array_foreach(list, i, v) {
    _cleanup_free_ char *q = json_encode(v);
    char *next = xasprintf("%s%s%s", buf, i ? ", " : "", q);
    free(buf);
    buf = next;
  }
  char *out = xasprintf("%s}", buf);
  free(buf);
  return out;
}

static void ports_validate(const json_t *spec, struct field_errors *errs) {
  const json_t *ports = json_object_get(spec, "ports");
  const char *type = svc_type(spec);
  bool node_ports_ok = streq(type, "NodePort") || streq(type, "LoadBalancer");
  size_t n = json_array_size(ports), i;
  const json_t *p;
  json_array_foreach(ports, i, p) {
    _cleanup_free_ char *pp = xasprintf("spec.ports[%zu]", i);
    _cleanup_free_ char *np = xasprintf("%s.name", pp);
    const json_t *name = json_object_get(p, "name");
    bool named = json_is_string(name) && *json_string_value(name);
    if (!named && n > 1) {
      field_errors_required(errs, np, NULL);
    } else if (named) {
      strategy_port_name(ports, i, name, np, valid_dns1123_label, errs);
    }
    const json_t *tp = json_object_get(p, "targetPort");
    _cleanup_free_ char *tpp = xasprintf("%s.targetPort", pp);
    if (json_is_integer(tp)) {
      _cleanup_valid_msgs_ char **m = NULL;
      valid_port_num(json_integer_value(tp), &m);
      strategy_invalid_msgs(errs, tpp, tp, m);
    } else if (json_is_string(tp)) {
      _cleanup_valid_msgs_ char **m = NULL;
      valid_port_name(json_string_value(tp), &m);
      strategy_invalid_msgs(errs, tpp, tp, m);
    }
    const json_t *np_v = json_object_get(p, "nodePort");
    if (json_integer_value(np_v) != 0) {
      _cleanup_free_ char *npp = xasprintf("%s.nodePort", pp);
      if (!node_ports_ok) {
        _cleanup_free_ char *msg = xasprintf("may not be used when `type` is '%s'", type);
        field_errors_forbidden(errs, npp, msg);
      } else {
        _cleanup_valid_msgs_ char **m = NULL;
        valid_port_num(json_integer_value(np_v), &m);
        strategy_invalid_msgs(errs, npp, np_v, m);
      }
    }
    /* A port number may appear once per protocol. */
    const char *proto = str_at(p, "protocol");
    for (size_t j = 0; j < i; j++) {
      const json_t *q = json_array_get(ports, j);
      if (json_integer_value(json_object_get(q, "port")) ==
              json_integer_value(json_object_get(p, "port")) &&
          streq(str_at(q, "protocol"), proto)) {
        field_errors_add(errs, CAUSE_DUPLICATE, pp,
                         "Duplicate value: core.ServicePort{Name:\"\", Protocol:\"%s\", "
                         "AppProtocol:(*string)(nil), Port:%lld, TargetPort:intstr.IntOrString{"
                         "Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}",
                         proto, (long long)json_integer_value(json_object_get(p, "port")));
        break;
      }
    }
  }
}

static void cluster_ips_validate(const json_t *spec, struct field_errors *errs) {
  const char *type = svc_type(spec);
  const json_t *ips = json_object_get(spec, "clusterIPs");
  if (streq(type, "ExternalName")) {
    if (*str_at(spec, "clusterIP") || json_array_size(ips))
      field_errors_forbidden(errs, "spec.clusterIPs", "may not be set for ExternalName services");
    return;
  }
  size_t i;
  const json_t *v;
  json_array_foreach(ips, i, v) {
    _cleanup_free_ char *p = xasprintf("spec.clusterIPs[%zu]", i);
    const char *s = json_string_value(v);
    if (!s)
      continue;
    if (streq(s, "None")) {
      if (i > 0)
        field_errors_invalid(errs, p, v, "must be a valid IP address");
      else if (streq(type, "NodePort") || streq(type, "LoadBalancer")) {
        _cleanup_free_ char *msg = xasprintf("may not be set to 'None' for %s services", type);
        field_errors_invalid(errs, p, v, msg);
      }
      continue;
    }
    if (valid_ip(s, NULL))
      field_errors_invalid(errs, p, v,
                           i == 0 ? "must be empty, 'None', or a valid IP address"
                                  : "must be a valid IP address");
  }
  if (json_array_size(ips) > 2)
    field_errors_invalid(errs, "spec.clusterIPs", ips, "may only hold up to 2 values");
}

static void service_validate(const json_t *obj, const json_t *old, struct field_errors *errs) {
  const json_t *spec = json_object_get(obj, "spec");
  if (!json_is_object(spec))
    return;
  const char *type = svc_type(spec);
  if (json_array_size(json_object_get(spec, "ports")) == 0 && !is_headless(spec) &&
      !streq(type, "ExternalName"))
    field_errors_required(errs, "spec.ports", NULL);
  if (streq(type, "ExternalName")) {
    const json_t *en = json_object_get(spec, "externalName");
    if (!json_is_string(en) || !*json_string_value(en)) {
      field_errors_required(errs, "spec.externalName", NULL);
    } else {
      /* A fully qualified name may end with a dot. */
      _cleanup_free_ char *name = xstrdup(json_string_value(en));
      size_t n = strlen(name);
      if (n > 1 && name[n - 1] == '.')
        name[n - 1] = 0;
      _cleanup_valid_msgs_ char **m = NULL;
      valid_dns1123_subdomain(name, &m);
      strategy_invalid_msgs(errs, "spec.externalName", en, m);
    }
  }
  ports_validate(spec, errs);
  cluster_ips_validate(spec, errs);
  strategy_labels_validate(json_object_get(spec, "selector"), "spec.selector", errs);

  const json_t *to = json_path((json_t *)spec, "sessionAffinityConfig.clientIP.timeoutSeconds");
  if (json_is_integer(to) && (json_integer_value(to) <= 0 || json_integer_value(to) > 86400))
    field_errors_invalid(errs, "spec.sessionAffinityConfig.clientIP.timeoutSeconds", to,
                         "must be greater than 0 and less than 86400");
  const json_t *etp = json_object_get(spec, "externalTrafficPolicy");
  if (json_is_string(etp) && *json_string_value(etp) && !externally_accessible(spec))
    field_errors_invalid(errs, "spec.externalTrafficPolicy", etp,
                         "may only be set for externally-accessible services");
  const json_t *hc = json_object_get(spec, "healthCheckNodePort");
  if (json_integer_value(hc) != 0 &&
      !(streq(type, "LoadBalancer") && streq(str_at(spec, "externalTrafficPolicy"), "Local")))
    field_errors_invalid(
        errs, "spec.healthCheckNodePort", hc,
        "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'");
  if (!streq(type, "ExternalName") && !*str_at(spec, "internalTrafficPolicy"))
    field_errors_required(errs, "spec.internalTrafficPolicy", NULL);
  size_t i;
  const json_t *v;
  json_array_foreach(json_object_get(spec, "externalIPs"), i, v) {
    _cleanup_free_ char *p = xasprintf("spec.externalIPs[%zu]", i);
    if (json_is_string(v) && valid_ip(json_string_value(v), NULL))
      field_errors_invalid(errs, p, v, "must be a valid IP address");
  }

  if (!old)
    return;
  /* Allocated addresses do not move, except to or from ExternalName. */
  const json_t *ospec = json_object_get(old, "spec");
  if (streq(type, "ExternalName") || streq(svc_type(ospec), "ExternalName"))
    return;
  if (is_headless(spec) && is_headless(ospec))
    return;
  const json_t *nips = json_object_get(spec, "clusterIPs");
  const json_t *oips = json_object_get(ospec, "clusterIPs");
  size_t n = json_array_size(oips);
  for (i = 0; i < n && i < json_array_size(nips); i++) {
    if (!json_equal(json_array_get(oips, i), json_array_get(nips, i))) {
      _cleanup_free_ char *p = xasprintf("spec.clusterIPs[%zu]", i);
      _cleanup_free_ char *go = go_string_slice(nips);
      field_errors_add(errs, CAUSE_INVALID, p, "Invalid value: %s: may not change once set", go);
    }
  }
  if (n > 0 && json_array_size(nips) == 0)
    field_errors_required(errs, "spec.clusterIPs", "primary clusterIP can not be unset");
}

static const char *service_field_label(const json_t *obj, const char *label) {
  if (streq(label, "spec.clusterIP") || streq(label, "spec.type")) {
    const char *s = json_path_str((json_t *)obj, label);
    return s ? s : "";
  }
  return NULL;
}

const struct api_strategy strategy_services = {
    .prepare_create = service_prepare_create,
    .prepare_update = service_prepare_update,
    .validate = service_validate,
    .field_label = service_field_label,
};
