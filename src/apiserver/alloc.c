/* Service ClusterIP and NodePort allocation. Each address or port in use is a key in the
 * store ("/registry/ranges/serviceips/10.43.0.12", ".../servicenodeports/30080"), claimed
 * with create-if-absent, so concurrent creates never share one, and released when the
 * service goes or stops needing it. */
#include <arpa/inet.h>
#include <stdio.h>
#include <sys/random.h>

#include "api/strategy.h"
#include "apiserver/admission.h"
#include "lib/json.h"

/* The service CIDR (k3s' default) and the node-port range, as kube-apiserver's flags. */
#define SERVICE_NET 0x0a2b0000u /* 10.43.0.0/16 */
#define SERVICE_BITS 16
#define NODEPORT_MIN 30000
#define NODEPORT_MAX 32767

static const char ip_prefix[] = "/registry/ranges/serviceips/";
static const char port_prefix[] = "/registry/ranges/servicenodeports/";

static int claim(struct store *s, const char *prefix, const char *id) {
  _cleanup_free_ char *key = xasprintf("%s%s", prefix, id);
  return store_create(s, key, "{}", 2, 0, NULL);
}

static void release(struct store *s, const char *prefix, const char *id) {
  _cleanup_free_ char *key = xasprintf("%s%s", prefix, id);
  store_delete(s, key, 0, NULL, NULL);
}

static bool exists(struct store *s, const char *prefix, const char *id) {
  _cleanup_free_ char *key = xasprintf("%s%s", prefix, id);
  struct store_kv kv = {0};
  int rc = store_get(s, key, &kv);
  store_kv_clear(&kv);
  return rc == 0;
}

static uint32_t random_u32(void) {
  uint32_t v = 0;
  if (getrandom(&v, sizeof(v), 0) != sizeof(v))
    v = (uint32_t)rand();
  return v;
}

/* Every service but ExternalName holds a cluster IP (or "None"): one given explicitly
 * is claimed like an allocated one. */
static bool wants_cluster_ip(const json_t *svc) {
  const char *type = json_path_str((json_t *)svc, "spec.type");
  return !(type && streq(type, "ExternalName"));
}
static bool wants_node_ports(const json_t *svc) { return strategy_service_needs_node_ports(svc); }

static bool in_service_net(const char *ip) {
  struct in_addr a;
  if (inet_pton(AF_INET, ip, &a) != 1)
    return false;
  uint32_t v = ntohl(a.s_addr);
  return (v >> (32 - SERVICE_BITS)) == (SERVICE_NET >> (32 - SERVICE_BITS));
}

static int invalid(struct api_error *err, const struct admission_attrs *a, const char *field,
                   const json_t *value, const char *detail) {
  struct field_errors errs = {0};
  field_errors_invalid(&errs, field, value, detail);
  int rc = api_error_invalid(err, "", "Service", a->name, &errs);
  field_errors_clear(&errs);
  return rc;
}

static int allocate_ip(const struct admission_attrs *a, json_t *spec, struct api_error *err) {
  const char *ip = json_string_value(json_object_get(spec, "clusterIP"));
  if (ip && streq(ip, "None"))
    return 0;
  if (ip && *ip) {
    _cleanup_json_ json_t *ips = json_pack("[s]", ip);
    if (!in_service_net(ip)) {
      _cleanup_free_ char *d = xasprintf("failed to allocate IP %s: the provided IP (%s) is not in the valid range. The range of valid IPs is 10.43.0.0/16", ip, ip);
      return invalid(err, a, "spec.clusterIPs", ips, d);
    }
    int rc = a->dry_run ? (exists(a->store, ip_prefix, ip) ? -EEXIST : 0)
                        : claim(a->store, ip_prefix, ip);
    if (rc == -EEXIST) {
      _cleanup_free_ char *d = xasprintf("failed to allocate IP %s: provided IP is already allocated", ip);
      return invalid(err, a, "spec.clusterIPs", ips, d);
    }
    if (rc < 0)
      return api_error_set(err, rc, 500, "InternalError", "allocating a service IP: %s", strerror(-rc));
  } else {
    uint32_t size = 1u << (32 - SERVICE_BITS);
    /* .0 is the network, .1 the kubernetes service, the last the broadcast address. */
    uint32_t start = 2 + random_u32() % (size - 3);
    char buf[INET_ADDRSTRLEN];
    int rc = -ENOSPC;
    for (uint32_t i = 0; i < size - 3; i++) {
      uint32_t off = 2 + (start - 2 + i) % (size - 3);
      struct in_addr addr = {.s_addr = htonl(SERVICE_NET + off)};
      inet_ntop(AF_INET, &addr, buf, sizeof(buf));
      rc = a->dry_run ? (exists(a->store, ip_prefix, buf) ? -EEXIST : 0)
                      : claim(a->store, ip_prefix, buf);
      if (rc != -EEXIST)
        break;
    }
    if (rc < 0)
      return api_error_set(err, rc, 500, "InternalError",
                           "failed to allocate a serviceIP: range is full");
    json_object_set_new(spec, "clusterIP", json_string(buf));
    ip = buf;
  }
  json_object_set_new(spec, "clusterIPs", json_pack("[s]", json_string_value(json_object_get(spec, "clusterIP"))));
  return 0;
}

static bool port_in(const json_t *svc, json_int_t port) {
  size_t i;
  json_t *p;
  json_array_foreach(json_path((json_t *)svc, "spec.ports"), i, p) if (
      json_integer_value(json_object_get(p, "nodePort")) == port) return true;
  return false;
}

static int allocate_ports(const struct admission_attrs *a, json_t *spec, struct api_error *err) {
  size_t i;
  json_t *p;
  json_array_foreach(json_object_get(spec, "ports"), i, p) {
    json_int_t np = json_integer_value(json_object_get(p, "nodePort"));
    char id[16];
    if (np) {
      if (a->old && port_in(a->old, np))
        continue; /* kept from before */
      snprintf(id, sizeof(id), "%lld", (long long)np);
      int rc = np < NODEPORT_MIN || np > NODEPORT_MAX ? -ERANGE
               : a->dry_run ? (exists(a->store, port_prefix, id) ? -EEXIST : 0)
                            : claim(a->store, port_prefix, id);
      _cleanup_free_ char *field = xasprintf("spec.ports[%zu].nodePort", i);
      _cleanup_json_ json_t *v = json_integer(np);
      if (rc == -ERANGE)
        return invalid(err, a, field, v, "provided port is not in the valid range. The range of valid ports is 30000-32767");
      if (rc == -EEXIST)
        return invalid(err, a, field, v, "provided port is already allocated");
      if (rc < 0)
        return api_error_set(err, rc, 500, "InternalError", "allocating a node port: %s", strerror(-rc));
      continue;
    }
    uint32_t n = NODEPORT_MAX - NODEPORT_MIN + 1, start = random_u32() % n;
    int rc = -ENOSPC;
    for (uint32_t k = 0; k < n; k++) {
      snprintf(id, sizeof(id), "%u", NODEPORT_MIN + (start + k) % n);
      if (port_in(a->obj, atoi(id)))
        continue;
      rc = a->dry_run ? (exists(a->store, port_prefix, id) ? -EEXIST : 0)
                      : claim(a->store, port_prefix, id);
      if (rc != -EEXIST)
        break;
    }
    if (rc < 0)
      return api_error_set(err, rc, 500, "InternalError", "failed to allocate a nodePort: range is full");
    json_object_set_new(p, "nodePort", json_integer(atoi(id)));
  }
  return 0;
}

static int alloc_mutate(const struct admission_attrs *a, struct api_error *err) {
  if (!streq(a->res->plural, "services") || a->op == ADMIT_DELETE || !a->obj ||
      (a->subresource && *a->subresource))
    return 0;
  json_t *spec = json_object_ensure(a->obj, "spec");
  int rc;
  if (a->op == ADMIT_CREATE && wants_cluster_ip(a->obj) && (rc = allocate_ip(a, spec, err)) < 0)
    return rc;
  if (a->op == ADMIT_UPDATE) {
    /* clusterIP is immutable: an update that leaves it out keeps the old one */
    json_t *old_ip = json_path((json_t *)a->old, "spec.clusterIP");
    const char *ip = json_string_value(json_object_get(spec, "clusterIP"));
    if ((!ip || !*ip) && old_ip) {
      json_object_set(spec, "clusterIP", old_ip);
      json_t *old_ips = json_path((json_t *)a->old, "spec.clusterIPs");
      if (old_ips)
        json_object_set(spec, "clusterIPs", old_ips);
    }
  }
  if (wants_node_ports(a->obj)) {
    rc = allocate_ports(a, spec, err);
    if (rc < 0) {
      /* give back what this call claimed before failing */
      if (!a->dry_run && a->op == ADMIT_CREATE && wants_cluster_ip(a->obj)) {
        const char *ip = json_path_str(a->obj, "spec.clusterIP");
        if (ip && !streq(ip, "None"))
          release(a->store, ip_prefix, ip);
      }
      return rc;
    }
  } else {
    json_t *p;
    size_t i;
    json_array_foreach(json_object_get(spec, "ports"), i, p) json_object_del(p, "nodePort");
  }
  return 0;
}

/* Releases what `from` holds and `keep` (may be NULL) does not. */
static void release_diff(struct store *s, const json_t *from, const json_t *keep) {
  const char *ip = json_path_str((json_t *)from, "spec.clusterIP");
  const char *keep_ip = keep ? json_path_str((json_t *)keep, "spec.clusterIP") : NULL;
  if (ip && *ip && !streq(ip, "None") && !streq_ptr(ip, keep_ip) && in_service_net(ip))
    release(s, ip_prefix, ip);
  size_t i;
  json_t *p;
  json_array_foreach(json_path((json_t *)from, "spec.ports"), i, p) {
    json_int_t np = json_integer_value(json_object_get(p, "nodePort"));
    if (np && !(keep && wants_node_ports(keep) && port_in(keep, np))) {
      char id[16];
      snprintf(id, sizeof(id), "%lld", (long long)np);
      release(s, port_prefix, id);
    }
  }
}

static void alloc_committed(const struct admission_attrs *a) {
  if (!streq(a->res->plural, "services") || a->dry_run)
    return;
  if (a->op == ADMIT_DELETE && a->old)
    release_diff(a->store, a->old, NULL);
  else if (a->op == ADMIT_UPDATE && a->old && a->obj)
    release_diff(a->store, a->old, a->obj);
}

static void alloc_aborted(const struct admission_attrs *a) {
  if (!streq(a->res->plural, "services") || a->dry_run || !a->obj || a->op == ADMIT_DELETE)
    return;
  release_diff(a->store, a->obj, a->old);
}

const struct admission_plugin admission_service_alloc = {
    .name = "ServiceIPAllocation",
    .mutate = alloc_mutate,
    .committed = alloc_committed,
    .aborted = alloc_aborted,
};
