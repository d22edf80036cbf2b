/* Pod and PodTemplate strategies, and the PodSpec defaulting and validation that every
 * workload's template shares (pkg/apis/core/v1/defaults.go, pkg/apis/core/validation). */
#include "api/strategy.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/json.h"
#include "lib/quantity.h"
#include "lib/validation.h"

static const char *str_at(const json_t *obj, const char *key) {
  const json_t *v = json_object_get(obj, key);
  return json_is_string(v) ? json_string_value(v) : "";
}

static bool has_str(const json_t *obj, const char *key) {
  return *str_at(obj, key) != 0;
}

/* ---- defaults ---- */

/* The tag kube's image-name parser finds: after the last ':' of the last path component,
 * before any digest. An image without tag or digest means "latest". Names the parser
 * refuses (empty, upper case in the repository) give no tag. */
static bool image_is_latest(const char *image) {
  if (!*image)
    return false;
  const char *at = strchr(image, '@');
  size_t len = at ? (size_t)(at - image) : strlen(image);
  const char *slash = NULL;
  for (size_t i = 0; i < len; i++)
    if (image[i] == '/')
      slash = image + i;
  const char *last = slash ? slash + 1 : image;
  const char *colon = memchr(last, ':', len - (size_t)(last - image));
  const char *repo_end = colon ? colon : image + len;
  /* The registry host may be upper case; the repository path may not. */
  const char *first_slash = memchr(image, '/', len);
  const char *repo_start = image;
  if (first_slash) {
    bool is_host = false;
    for (const char *p = image; p < first_slash; p++)
      is_host |= *p == '.' || *p == ':';
    is_host |= (size_t)(first_slash - image) == 9 && !strncmp(image, "localhost", 9);
    if (is_host)
      repo_start = first_slash + 1;
  }
  for (const char *p = repo_start; p < repo_end; p++)
    if (isupper((unsigned char)*p))
      return false;
  if (!colon)
    return !at;
  size_t tag_len = len - (size_t)(colon + 1 - image);
  return tag_len == 6 && !strncmp(colon + 1, "latest", 6);
}

static void container_default(json_t *c) {
  if (!json_is_object(c))
    return;
  if (!has_str(c, "imagePullPolicy"))
    json_object_set_new(
        c, "imagePullPolicy",
        json_string(image_is_latest(str_at(c, "image")) ? "Always" : "IfNotPresent"));
}

/* Host-network pods listen on the node: an unset host port is the container port. */
static void host_network_ports(json_t *containers) {
  size_t i, j;
  json_t *c, *p;
  json_array_foreach(containers, i, c) {
    json_array_foreach(json_object_get(c, "ports"), j, p) {
      json_int_t hp = json_integer_value(json_object_get(p, "hostPort"));
      json_t *cp = json_object_get(p, "containerPort");
      if (hp == 0 && json_is_integer(cp))
        json_object_set(p, "hostPort", cp);
    }
  }
}

void strategy_pod_spec_default(json_t *spec) {
  if (!json_is_object(spec))
    return;
  static const char *const lists[] = {"initContainers", "containers", "ephemeralContainers"};
  for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(spec, lists[l]), i, c) container_default(c);
  }
  /* serviceAccount is the deprecated spelling; the v1 conversion keeps both in step. */
  const char *sa = str_at(spec, "serviceAccountName");
  const char *dsa = str_at(spec, "serviceAccount");
  if (!*sa && *dsa)
    json_object_set_new(spec, "serviceAccountName", json_string(dsa));
  else if (*sa)
    json_object_set_new(spec, "serviceAccount", json_string(sa));
  if (json_is_true(json_object_get(spec, "hostNetwork"))) {
    host_network_ports(json_object_get(spec, "containers"));
    host_network_ports(json_object_get(spec, "initContainers"));
  }
}

/* Requests default to limits only for Pods, not templates (SetDefaults_Pod). */
static void requests_from_limits(json_t *containers) {
  size_t i;
  json_t *c;
  json_array_foreach(containers, i, c) {
    json_t *res = json_object_get(c, "resources");
    json_t *limits = json_object_get(res, "limits");
    if (!json_is_object(limits))
      continue;
    json_t *req = json_object_ensure(res, "requests");
    const char *k;
    json_t *v;
    json_object_foreach(limits, k, v) {
      if (!json_object_get(req, k))
        json_object_set(req, k, v);
    }
  }
}

static void pod_prepare_create(json_t *obj) {
  json_t *spec = json_object_get(obj, "spec");
  strategy_pod_spec_default(spec);
  if (json_is_object(spec)) {
    requests_from_limits(json_object_get(spec, "containers"));
    requests_from_limits(json_object_get(spec, "initContainers"));
    if (!json_is_boolean(json_object_get(spec, "enableServiceLinks")))
      json_object_set_new(spec, "enableServiceLinks", json_true());
    /* A negative grace period would mean "kill at once" to some nodes and "never" to
     * others; kube stores 1 instead. */
    json_t *tgps = json_object_get(spec, "terminationGracePeriodSeconds");
    if (json_is_integer(tgps) && json_integer_value(tgps) < 0)
      json_object_set_new(spec, "terminationGracePeriodSeconds", json_integer(1));
  }
  json_t *status = json_object_ensure(obj, "status");
  json_object_set_new(status, "phase", json_string("Pending"));
  json_object_set_new(status, "qosClass", json_string("BestEffort"));
  /* QoS class from the (now defaulted) requests and limits, as kube computes it. */
  bool any = false, guaranteed = true;
  static const char *const lists[] = {"initContainers", "containers"};
  for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(spec, lists[l]), i, c) {
      json_t *res = json_object_get(c, "resources");
      json_t *req = json_object_get(res, "requests"), *lim = json_object_get(res, "limits");
      static const char *const names[] = {"cpu", "memory"};
      for (size_t n = 0; n < ARRAY_SIZE(names); n++) {
        json_t *r = json_object_get(req, names[n]), *m = json_object_get(lim, names[n]);
        any |= r || m;
        if (!m || !r || !json_equal(r, m))
          guaranteed = false;
      }
    }
  }
  if (any)
    json_object_set_new(status, "qosClass", json_string(guaranteed ? "Guaranteed" : "Burstable"));
}

/* ---- validation ---- */

static void invalid_str(struct field_errors *errs, const char *path, const char *value,
                        const char *msg) {
  _cleanup_json_ json_t *v = json_string(value);
  field_errors_invalid(errs, path, v, msg);
}

static void check_name(struct field_errors *errs, const char *path, const json_t *v,
                       int (*check)(const char *, char ***)) {
  if (!json_is_string(v) || !*json_string_value(v))
    return;
  _cleanup_valid_msgs_ char **m = NULL;
  check(json_string_value(v), &m);
  strategy_invalid_msgs(errs, path, v, m);
}

static void port_num_or_name(struct field_errors *errs, const char *path, const json_t *port) {
  if (json_is_integer(port)) {
    _cleanup_valid_msgs_ char **m = NULL;
    valid_port_num(json_integer_value(port), &m);
    strategy_invalid_msgs(errs, path, port, m);
  } else if (json_is_string(port)) {
    _cleanup_valid_msgs_ char **m = NULL;
    valid_port_name(json_string_value(port), &m);
    strategy_invalid_msgs(errs, path, port, m);
  }
}

static size_t count_set(const json_t *obj, const char *const *keys) {
  size_t n = 0;
  for (size_t i = 0; keys[i]; i++) {
    const json_t *v = json_object_get(obj, keys[i]);
    n += v && !json_is_null(v);
  }
  return n;
}

/* A handler (probe, lifecycle hook) names exactly one action. */
static void handler_validate(const json_t *h, const char *path, const char *const *actions,
                             const char *group, struct field_errors *errs) {
  if (count_set(h, actions) == 0)
    field_errors_required(errs, path, "must specify a handler type");
  for (size_t i = 0; actions[i]; i++) {
    _cleanup_free_ char *p = xasprintf("%s.%s", path, actions[i]);
    if (strategy_errors_drop(errs, p, CAUSE_FORBIDDEN) && group)
      field_errors_forbidden(errs, p, "may not specify more than 1 handler type");
  }
  const json_t *exec = json_object_get(h, "exec");
  if (json_is_object(exec) && json_array_size(json_object_get(exec, "command")) == 0) {
    _cleanup_free_ char *p = xasprintf("%s.exec.command", path);
    field_errors_required(errs, p, NULL);
  }
  static const char *const port_actions[] = {"httpGet", "tcpSocket"};
  for (size_t i = 0; i < ARRAY_SIZE(port_actions); i++) {
    const json_t *a = json_object_get(h, port_actions[i]);
    if (!json_is_object(a))
      continue;
    _cleanup_free_ char *p = xasprintf("%s.%s.port", path, port_actions[i]);
    port_num_or_name(errs, p, json_object_get(a, "port"));
  }
  const json_t *grpc = json_object_get(h, "grpc");
  if (json_is_object(grpc)) {
    _cleanup_free_ char *p = xasprintf("%s.grpc.port", path);
    const json_t *port = json_object_get(grpc, "port");
    if (json_is_integer(port)) {
      _cleanup_valid_msgs_ char **m = NULL;
      valid_port_num(json_integer_value(port), &m);
      strategy_invalid_msgs(errs, p, port, m);
    }
  }
}

static const char *const probe_actions[] = {"exec", "httpGet", "tcpSocket", "grpc", NULL};
static const char *const lifecycle_actions[] = {"exec", "httpGet", "tcpSocket", "sleep", NULL};

static void probe_validate(const json_t *c, const char *cpath, const char *which,
                           struct field_errors *errs) {
  const json_t *probe = json_object_get(c, which);
  if (!json_is_object(probe))
    return;
  _cleanup_free_ char *path = xasprintf("%s.%s", cpath, which);
  handler_validate(probe, path, probe_actions, "handler", errs);
  const json_t *st = json_object_get(probe, "successThreshold");
  if (!streq(which, "readinessProbe") && json_is_integer(st) && json_integer_value(st) != 1) {
    _cleanup_free_ char *p = xasprintf("%s.successThreshold", path);
    field_errors_invalid(errs, p, st, "must be 1");
  }
  const json_t *tg = json_object_get(probe, "terminationGracePeriodSeconds");
  if (json_is_integer(tg)) {
    _cleanup_free_ char *p = xasprintf("%s.terminationGracePeriodSeconds", path);
    if (streq(which, "readinessProbe"))
      field_errors_invalid(errs, p, tg, "must not be set for readinessProbes");
    else if (json_integer_value(tg) <= 0)
      field_errors_invalid(errs, p, tg, "must be greater than 0");
  }
}

static bool is_standard_container_resource(const char *name) {
  return streq(name, "cpu") || streq(name, "memory") || streq(name, "ephemeral-storage") ||
         startswith(name, "hugepages-");
}

/* cpu, memory and ephemeral storage may be requested below their limit; anything else
 * (extended resources, huge pages) must be requested exactly. */
static bool overcommit_allowed(const char *name) {
  bool native = !strchr(name, '/') || strstr(name, "kubernetes.io/");
  return native && !startswith(name, "hugepages-");
}

static void resource_list_validate(const json_t *list, const char *path,
                                   struct field_errors *errs) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)list, k, v) {
    _cleanup_free_ char *p = xasprintf("%s[%s]", path, k);
    _cleanup_json_ json_t *kv = json_string(k);
    _cleanup_valid_msgs_ char **m = NULL;
    valid_qualified_name(k, &m);
    strategy_invalid_msgs(errs, p, kv, m);
    if (!strchr(k, '/')) {
      if (!is_standard_container_resource(k))
        field_errors_invalid(errs, p, kv, "must be a standard resource for containers");
    } else if (!strstr(k, "kubernetes.io/") && startswith(k, "requests.")) {
      field_errors_invalid(errs, p, kv, "doesn't follow extended resource name standard");
    }
    quantity_t q;
    if (json_is_string(v) && quantity_parse(json_string_value(v), &q, NULL) == 0 &&
        quantity_sign(&q) < 0)
      field_errors_invalid(errs, p, v, "must be greater than or equal to 0");
  }
}

static void resources_validate(const json_t *res, const char *cpath, struct field_errors *errs) {
  if (!json_is_object(res))
    return;
  const json_t *limits = json_object_get(res, "limits");
  const json_t *requests = json_object_get(res, "requests");
  _cleanup_free_ char *lpath = xasprintf("%s.resources.limits", cpath);
  _cleanup_free_ char *rpath = xasprintf("%s.resources.requests", cpath);
  resource_list_validate(limits, lpath, errs);
  resource_list_validate(requests, rpath, errs);
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)requests, k, v) {
    quantity_t rq, lq;
    const json_t *lim = json_object_get(limits, k);
    if (!json_is_string(v) || quantity_parse(json_string_value(v), &rq, NULL) < 0)
      continue;
    if (!lim) {
      if (!overcommit_allowed(k)) {
        _cleanup_free_ char *p = xasprintf("%s[%s]", lpath, k);
        field_errors_required(errs, p, "Limit must be set for non overcommitable resources");
      }
      continue;
    }
    if (!json_is_string(lim) || quantity_parse(json_string_value(lim), &lq, NULL) < 0)
      continue;
    _cleanup_free_ char *rs = quantity_to_string(&rq);
    _cleanup_free_ char *ls = quantity_to_string(&lq);
    if (quantity_cmp(&rq, &lq) != 0 && !overcommit_allowed(k)) {
      _cleanup_free_ char *msg = xasprintf("must be equal to %s limit of %s", k, ls);
      invalid_str(errs, rpath, rs, msg);
    } else if (quantity_cmp(&rq, &lq) > 0) {
      _cleanup_free_ char *msg = xasprintf("must be less than or equal to %s limit of %s", k, ls);
      invalid_str(errs, rpath, rs, msg);
    }
  }
}

static void env_validate(const json_t *c, const char *cpath, struct field_errors *errs) {
  size_t i;
  const json_t *e;
  json_array_foreach(json_object_get(c, "env"), i, e) {
    _cleanup_free_ char *p = xasprintf("%s.env[%zu]", cpath, i);
    _cleanup_free_ char *np = xasprintf("%s.name", p);
    check_name(errs, np, json_object_get(e, "name"), valid_env_var_name);
    const json_t *vf = json_object_get(e, "valueFrom");
    if (!json_is_object(vf))
      continue;
    _cleanup_free_ char *vp = xasprintf("%s.valueFrom", p);
    static const char *const sources[] = {"fieldRef", "resourceFieldRef", "configMapKeyRef",
                                          "secretKeyRef", NULL};
    size_t n = count_set(vf, sources);
    /* These replace the schema's generic oneof wording. */
    for (size_t s = 0; sources[s]; s++) {
      _cleanup_free_ char *sp = xasprintf("%s.%s", vp, sources[s]);
      strategy_errors_drop(errs, sp, CAUSE_FORBIDDEN);
    }
    if (n == 0)
      invalid_str(errs, vp, "",
                  "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or "
                  "`secretKeyRef`");
    else if (has_str(e, "value"))
      invalid_str(errs, vp, "", "may not be specified when `value` is not empty");
    else if (n > 1)
      invalid_str(errs, vp, "", "may not have more than one field specified at a time");
    static const char *const key_refs[] = {"configMapKeyRef", "secretKeyRef"};
    for (size_t s = 0; s < ARRAY_SIZE(key_refs); s++) {
      const json_t *ref = json_object_get(vf, key_refs[s]);
      if (!json_is_object(ref))
        continue;
      if (!has_str(ref, "name")) {
        _cleanup_free_ char *rp = xasprintf("%s.%s.name", vp, key_refs[s]);
        field_errors_required(errs, rp, NULL);
      }
      _cleanup_free_ char *kp = xasprintf("%s.%s.key", vp, key_refs[s]);
      check_name(errs, kp, json_object_get(ref, "key"), valid_config_map_key);
    }
  }
  json_array_foreach(json_object_get(c, "envFrom"), i, e) {
    _cleanup_free_ char *p = xasprintf("%s.envFrom[%zu]", cpath, i);
    _cleanup_free_ char *pp = xasprintf("%s.prefix", p);
    check_name(errs, pp, json_object_get(e, "prefix"), valid_env_var_name);
    static const char *const sources[] = {"configMapRef", "secretRef", NULL};
    size_t n = count_set(e, sources);
    for (size_t s = 0; sources[s]; s++) {
      _cleanup_free_ char *sp = xasprintf("%s.%s", p, sources[s]);
      strategy_errors_drop(errs, sp, CAUSE_FORBIDDEN);
    }
    if (n == 0)
      invalid_str(errs, p, "", "must specify one of: `configMapRef` or `secretRef`");
    else if (n > 1)
      invalid_str(errs, p, "", "may not have more than one field specified at a time");
  }
}

static bool volume_exists(const json_t *volumes, const char *name) {
  size_t i;
  const json_t *v;
  json_array_foreach(volumes, i, v) if (streq(str_at(v, "name"), name)) return true;
  return false;
}

/* subPath and similar are relative paths that may not climb out of the volume. */
static void relative_path_validate(const json_t *v, const char *path, struct field_errors *errs) {
  const char *s = json_string_value(v);
  if (!s || !*s)
    return;
  if (*s == '/')
    field_errors_invalid(errs, path, v, "must be a relative path");
  _cleanup_free_ char *copy = xstrdup(s);
  char *save = NULL;
  for (char *part = strtok_r(copy, "/", &save); part; part = strtok_r(NULL, "/", &save))
    if (streq(part, "..")) {
      field_errors_invalid(errs, path, v, "must not contain '..'");
      break;
    }
}

static void mounts_validate(const json_t *c, const char *cpath, const json_t *volumes,
                            struct field_errors *errs) {
  size_t i;
  const json_t *m;
  const json_t *mounts = json_object_get(c, "volumeMounts");
  json_array_foreach(mounts, i, m) {
    _cleanup_free_ char *p = xasprintf("%s.volumeMounts[%zu]", cpath, i);
    const json_t *name = json_object_get(m, "name");
    if (json_is_string(name) && *json_string_value(name) &&
        !volume_exists(volumes, json_string_value(name))) {
      _cleanup_free_ char *np = xasprintf("%s.name", p);
      strategy_not_found(errs, np, name);
    }
    const char *mp = str_at(m, "mountPath");
    for (size_t j = 0; *mp && j < i; j++)
      if (streq(str_at(json_array_get(mounts, j), "mountPath"), mp)) {
        _cleanup_free_ char *pp = xasprintf("%s.mountPath", p);
        invalid_str(errs, pp, mp, "must be unique");
        break;
      }
    _cleanup_free_ char *sp = xasprintf("%s.subPath", p);
    relative_path_validate(json_object_get(m, "subPath"), sp, errs);
  }
}

enum container_kind { CONTAINER_REGULAR, CONTAINER_INIT, CONTAINER_EPHEMERAL };

static void container_validate(const json_t *c, const char *cpath, enum container_kind kind,
                               const json_t *spec, struct field_errors *errs) {
  if (!json_is_object(c))
    return;
  if (!has_str(c, "image")) {
    _cleanup_free_ char *p = xasprintf("%s.image", cpath);
    strategy_errors_drop(errs, p, CAUSE_REQUIRED);
    field_errors_required(errs, p, NULL);
  }
  bool host_network = json_is_true(json_object_get(spec, "hostNetwork"));
  size_t i;
  const json_t *port;
  const json_t *ports = json_object_get(c, "ports");
  json_array_foreach(ports, i, port) {
    _cleanup_free_ char *p = xasprintf("%s.ports[%zu]", cpath, i);
    const json_t *name = json_object_get(port, "name");
    if (json_is_string(name) && *json_string_value(name)) {
      _cleanup_free_ char *np = xasprintf("%s.name", p);
      strategy_port_name(ports, i, name, np, valid_port_name, errs);
    }
    const json_t *hp = json_object_get(port, "hostPort");
    _cleanup_free_ char *hpp = xasprintf("%s.hostPort", p);
    if (json_is_integer(hp) && json_integer_value(hp) != 0) {
      _cleanup_valid_msgs_ char **m = NULL;
      valid_port_num(json_integer_value(hp), &m);
      strategy_invalid_msgs(errs, hpp, hp, m);
    }
    if (host_network && json_is_integer(hp) && json_integer_value(hp) != 0 &&
        json_integer_value(hp) != json_integer_value(json_object_get(port, "containerPort")))
      field_errors_invalid(errs, hpp, hp, "must match `containerPort` when `hostNetwork` is true");
  }
  env_validate(c, cpath, errs);
  mounts_validate(c, cpath, json_object_get(spec, "volumes"), errs);
  resources_validate(json_object_get(c, "resources"), cpath, errs);

  const json_t *rp = json_object_get(c, "restartPolicy");
  bool sidecar = false;
  if (rp && !json_is_null(rp)) {
    _cleanup_free_ char *p = xasprintf("%s.restartPolicy", cpath);
    if (kind != CONTAINER_INIT) {
      field_errors_forbidden(errs, p, "may not be set for non-init containers");
    } else if (!json_is_string(rp) || !streq(json_string_value(rp), "Always")) {
      static const char *const supported[] = {"Always", NULL};
      field_errors_not_supported(errs, p, rp, supported);
    } else {
      sidecar = true;
    }
  }
  static const char *const probes[] = {"livenessProbe", "readinessProbe", "startupProbe"};
  for (size_t n = 0; n < ARRAY_SIZE(probes); n++) {
    if (!json_object_get(c, probes[n]))
      continue;
    _cleanup_free_ char *p = xasprintf("%s.%s", cpath, probes[n]);
    if (kind == CONTAINER_EPHEMERAL)
      field_errors_forbidden(errs, p, "cannot be set for an Ephemeral Container");
    else if (kind == CONTAINER_INIT && !sidecar)
      field_errors_forbidden(errs, p,
                             "may not be set for init containers without restartPolicy=Always");
    else
      probe_validate(c, cpath, probes[n], errs);
  }
  const json_t *lc = json_object_get(c, "lifecycle");
  static const char *const hooks[] = {"postStart", "preStop"};
  for (size_t n = 0; json_is_object(lc) && n < ARRAY_SIZE(hooks); n++) {
    const json_t *h = json_object_get(lc, hooks[n]);
    if (!json_is_object(h))
      continue;
    _cleanup_free_ char *p = xasprintf("%s.lifecycle.%s", cpath, hooks[n]);
    handler_validate(h, p, lifecycle_actions, "handler", errs);
  }
}

static void containers_validate(const json_t *spec, const char *path, struct field_errors *errs) {
  static const struct {
    const char *key;
    enum container_kind kind;
  } lists[] = {{"containers", CONTAINER_REGULAR},
               {"initContainers", CONTAINER_INIT},
               {"ephemeralContainers", CONTAINER_EPHEMERAL}};
  /* Names are unique across all three lists: kubectl logs/exec address containers by
   * name alone. */
  size_t cap = 0, n_names = 0;
  const char **names = NULL;
  for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
    size_t i;
    const json_t *c;
    const json_t *list = json_object_get(spec, lists[l].key);
    json_array_foreach(list, i, c) {
      _cleanup_free_ char *cp = xasprintf("%s.%s[%zu]", path, lists[l].key, i);
      const json_t *name = json_object_get(c, "name");
      if (json_is_string(name) && *json_string_value(name)) {
        bool dup = false;
        for (size_t j = 0; j < n_names && !dup; j++)
          dup = streq(names[j], json_string_value(name));
        if (dup) {
          _cleanup_free_ char *np = xasprintf("%s.name", cp);
          field_errors_duplicate(errs, np, name);
        } else {
          if (n_names == cap)
            names = xrealloc(names, (cap = cap ? cap * 2 : 8) * sizeof(*names));
          names[n_names++] = json_string_value(name);
        }
      }
      container_validate(c, cp, lists[l].kind, spec, errs);
    }
    /* Host ports may not collide within one list (protocol, host IP and port). */
    if (lists[l].kind == CONTAINER_EPHEMERAL)
      continue;
    size_t seen_n = 0;
    char **seen = NULL;
    json_array_foreach(list, i, c) {
      size_t j;
      const json_t *p;
      json_array_foreach(json_object_get(c, "ports"), j, p) {
        json_int_t hp = json_integer_value(json_object_get(p, "hostPort"));
        if (hp == 0)
          continue;
        char *key =
            xasprintf("%s/%s/%lld", str_at(p, "protocol"), str_at(p, "hostIP"), (long long)hp);
        bool dup = false;
        for (size_t k = 0; k < seen_n && !dup; k++)
          dup = streq(seen[k], key);
        if (dup) {
          _cleanup_free_ char *pp =
              xasprintf("%s.%s[%zu].ports[%zu].hostPort", path, lists[l].key, i, j);
          _cleanup_json_ json_t *kv = json_string(key);
          field_errors_duplicate(errs, pp, kv);
          free(key);
        } else {
          seen = xrealloc(seen, (seen_n + 1) * sizeof(*seen));
          seen[seen_n++] = key;
        }
      }
    }
    for (size_t k = 0; k < seen_n; k++)
      free(seen[k]);
    free(seen);
  }
  free(names);
}

/* The volume source fields of core/v1 Volume (everything but name), in the order kube
 * checks them: a second source is reported where this order meets it. */
static const char *const volume_sources[] = {"emptyDir",
                                             "hostPath",
                                             "gitRepo",
                                             "gcePersistentDisk",
                                             "awsElasticBlockStore",
                                             "secret",
                                             "nfs",
                                             "iscsi",
                                             "glusterfs",
                                             "flexVolume",
                                             "cinder",
                                             "cephfs",
                                             "flocker",
                                             "persistentVolumeClaim",
                                             "rbd",
                                             "quobyte",
                                             "downwardAPI",
                                             "fc",
                                             "azureFile",
                                             "vsphereVolume",
                                             "photonPersistentDisk",
                                             "portworxVolume",
                                             "azureDisk",
                                             "storageos",
                                             "projected",
                                             "scaleIO",
                                             "csi",
                                             "ephemeral",
                                             "image",
                                             NULL};

static void volumes_validate(const json_t *spec, const char *path, struct field_errors *errs) {
  const json_t *volumes = json_object_get(spec, "volumes");
  size_t i;
  const json_t *v;
  json_array_foreach(volumes, i, v) {
    _cleanup_free_ char *vp = xasprintf("%s.volumes[%zu]", path, i);
    const char *name = str_at(v, "name");
    for (size_t j = 0; *name && j < i; j++)
      if (streq(str_at(json_array_get(volumes, j), "name"), name)) {
        _cleanup_free_ char *np = xasprintf("%s.name", vp);
        field_errors_duplicate(errs, np, json_object_get(v, "name"));
        break;
      }
    size_t seen = 0;
    for (size_t s = 0; volume_sources[s]; s++) {
      _cleanup_free_ char *sp = xasprintf("%s.%s", vp, volume_sources[s]);
      strategy_errors_drop(errs, sp, CAUSE_FORBIDDEN);
      const json_t *src = json_object_get(v, volume_sources[s]);
      if (src && !json_is_null(src) && seen++ > 0)
        field_errors_forbidden(errs, sp, "may not specify more than 1 volume type");
    }
    if (count_set(v, volume_sources) == 0)
      field_errors_required(errs, vp, "must specify a volume type");
    static const char *const rel[][2] = {{"secret", "items"}, {"configMap", "items"}};
    for (size_t r = 0; r < ARRAY_SIZE(rel); r++) {
      size_t k;
      const json_t *item;
      json_array_foreach(json_object_get(json_object_get(v, rel[r][0]), rel[r][1]), k, item) {
        _cleanup_free_ char *ip = xasprintf("%s.%s.items[%zu].path", vp, rel[r][0], k);
        relative_path_validate(json_object_get(item, "path"), ip, errs);
      }
    }
  }
}

static void tolerations_validate(const json_t *spec, const char *path, struct field_errors *errs) {
  size_t i;
  const json_t *t;
  json_array_foreach(json_object_get(spec, "tolerations"), i, t) {
    _cleanup_free_ char *tp = xasprintf("%s.tolerations[%zu]", path, i);
    _cleanup_free_ char *kp = xasprintf("%s.key", tp);
    _cleanup_free_ char *op = xasprintf("%s.operator", tp);
    const json_t *key = json_object_get(t, "key");
    check_name(errs, kp, key, valid_label_key);
    const char *oper = str_at(t, "operator");
    const json_t *opv = json_object_get(t, "operator");
    if (!has_str(t, "key") && !streq(oper, "Exists")) {
      _cleanup_json_ json_t *ov = json_string(oper);
      field_errors_invalid(errs, op, ov,
                           "operator must be Exists when `key` is empty, which means \"match all "
                           "values and all keys\"");
    }
    const json_t *value = json_object_get(t, "value");
    if (streq(oper, "Exists")) {
      if (json_is_string(value) && *json_string_value(value))
        field_errors_invalid(errs, op, value, "value must be empty when `operator` is 'Exists'");
    } else if (!*oper || streq(oper, "Equal")) {
      _cleanup_free_ char *vp = xasprintf("%s.value", tp);
      check_name(errs, vp, value, valid_label_value);
    } else {
      (void)opv; /* the schema's enum reports other operators */
    }
    const json_t *ts = json_object_get(t, "tolerationSeconds");
    if (ts && !json_is_null(ts) && !streq(str_at(t, "effect"), "NoExecute")) {
      _cleanup_free_ char *ep = xasprintf("%s.effect", tp);
      _cleanup_json_ json_t *ev = json_string(str_at(t, "effect"));
      field_errors_invalid(errs, ep, ev,
                           "effect must be 'NoExecute' when `tolerationSeconds` is set");
    }
  }
}

void strategy_pod_spec_validate(const json_t *spec, const char *path, struct field_errors *errs) {
  if (!json_is_object(spec))
    return;
  volumes_validate(spec, path, errs);
  containers_validate(spec, path, errs);

  _cleanup_free_ char *ns = xasprintf("%s.nodeSelector", path);
  strategy_labels_validate(json_object_get(spec, "nodeSelector"), ns, errs);
  tolerations_validate(spec, path, errs);

  const json_t *ads = json_object_get(spec, "activeDeadlineSeconds");
  if (json_is_integer(ads) &&
      (json_integer_value(ads) < 1 || json_integer_value(ads) > INT32_MAX)) {
    _cleanup_free_ char *p = xasprintf("%s.activeDeadlineSeconds", path);
    field_errors_invalid(errs, p, ads, "must be between 1 and 2147483647, inclusive");
  }
  if (streq(str_at(spec, "dnsPolicy"), "None") &&
      !json_is_object(json_object_get(spec, "dnsConfig"))) {
    _cleanup_free_ char *p = xasprintf("%s.dnsConfig", path);
    field_errors_required(errs, p, "must provide `dnsConfig` when `dnsPolicy` is None");
  }
  const json_t *dns = json_object_get(spec, "dnsConfig");
  if (json_array_size(json_object_get(dns, "nameservers")) > 3) {
    _cleanup_free_ char *p = xasprintf("%s.dnsConfig.nameservers", path);
    _cleanup_free_ char *v = json_encode(json_object_get(dns, "nameservers"));
    field_errors_add(errs, CAUSE_INVALID, p,
                     "Invalid value: %s: must not have more than 3 nameservers", v);
  }
  static const struct {
    const char *key;
    int (*check)(const char *, char ***);
  } names[] = {
      {"serviceAccountName", valid_dns1123_subdomain},
      {"nodeName", valid_dns1123_subdomain},
      {"hostname", valid_dns1123_label},
      {"subdomain", valid_dns1123_label},
      {"priorityClassName", valid_dns1123_subdomain},
  };
  for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
    _cleanup_free_ char *p = xasprintf("%s.%s", path, names[i].key);
    check_name(errs, p, json_object_get(spec, names[i].key), names[i].check);
  }
}

void strategy_pod_template_validate(const json_t *tmpl, const char *path,
                                    struct field_errors *errs) {
  if (!json_is_object(tmpl))
    return;
  _cleanup_free_ char *lp = xasprintf("%s.metadata.labels", path);
  strategy_labels_validate(json_path((json_t *)tmpl, "metadata.labels"), lp, errs);
  _cleanup_free_ char *sp = xasprintf("%s.spec", path);
  strategy_pod_spec_validate(json_object_get(tmpl, "spec"), sp, errs);
}

/* ---- Pod updates ---- */

#define POD_UPDATE_FORBIDDEN                                                                       \
  "pod updates may not change fields other than `spec.containers[*].image`,"                       \
  "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "          \
  "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be "       \
  "set to 1 if it was previously negative)"

static bool toleration_in(const json_t *t, const json_t *list) {
  size_t i;
  const json_t *u;
  json_array_foreach(list, i, u) {
    /* tolerationSeconds may shrink; everything else must match. */
    _cleanup_json_ json_t *a = json_deep_copy(t), *b = json_deep_copy(u);
    json_object_del(a, "tolerationSeconds");
    json_object_del(b, "tolerationSeconds");
    if (json_equal(a, b))
      return true;
  }
  return false;
}

static void pod_update_validate(const json_t *obj, const json_t *old, struct field_errors *errs) {
  const json_t *spec = json_object_get(obj, "spec"), *ospec = json_object_get(old, "spec");
  static const char *const lists[] = {"containers", "initContainers"};
  for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
    const json_t *n = json_object_get(spec, lists[l]), *o = json_object_get(ospec, lists[l]);
    if (json_array_size(n) != json_array_size(o)) {
      _cleanup_free_ char *p = xasprintf("spec.%s", lists[l]);
      field_errors_forbidden(errs, p, "pod updates may not add or remove containers");
      return;
    }
    size_t i;
    const json_t *c;
    json_array_foreach(n, i, c) {
      const char *image = str_at(c, "image");
      _cleanup_free_ char *p = xasprintf("spec.%s[%zu].image", lists[l], i);
      if (!*image) {
        strategy_errors_drop(errs, p, CAUSE_REQUIRED);
        field_errors_required(errs, p, NULL);
      } else if (isspace((unsigned char)image[0]) ||
                 isspace((unsigned char)image[strlen(image) - 1])) {
        field_errors_invalid(errs, p, json_object_get(c, "image"),
                             "must not have leading or trailing whitespace");
      }
    }
  }
  const json_t *ads = json_object_get(spec, "activeDeadlineSeconds");
  const json_t *oads = json_object_get(ospec, "activeDeadlineSeconds");
  if (json_is_integer(ads)) {
    json_int_t v = json_integer_value(ads);
    if (v < 0 || v > INT32_MAX) {
      field_errors_invalid(errs, "spec.activeDeadlineSeconds", ads,
                           "must be between 0 and 2147483647, inclusive");
      return;
    }
    if (json_is_integer(oads) && json_integer_value(oads) < v) {
      field_errors_invalid(errs, "spec.activeDeadlineSeconds", ads,
                           "must be less than or equal to previous value");
      return;
    }
  } else if (json_is_integer(oads)) {
    field_errors_invalid(errs, "spec.activeDeadlineSeconds", NULL,
                         "must not update from a positive integer to nil value");
  }
  size_t i;
  const json_t *t;
  const json_t *otol = json_object_get(ospec, "tolerations");
  json_array_foreach(otol, i, t) {
    if (!toleration_in(t, json_object_get(spec, "tolerations"))) {
      _cleanup_free_ char *p = xasprintf("spec.tolerations[%zu]", i);
      field_errors_forbidden(
          errs, p, "existing toleration can not be modified except its tolerationSeconds");
    }
  }
  if (json_equal((json_t *)spec, (json_t *)ospec))
    return;
  /* Put back what may change, then the rest must be equal. */
  _cleanup_json_ json_t *munged = json_deep_copy(spec);
  for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
    json_t *n = json_object_get(munged, lists[l]);
    json_array_foreach(n, i, t) {
      json_t *oimg = json_object_get(json_array_get(json_object_get(ospec, lists[l]), i), "image");
      if (oimg)
        json_object_set((json_t *)t, "image", oimg);
      else
        json_object_del((json_t *)t, "image");
    }
  }
  static const char *const restored[] = {"activeDeadlineSeconds", "schedulingGates", "tolerations"};
  for (size_t r = 0; r < ARRAY_SIZE(restored); r++) {
    json_t *ov = json_object_get(ospec, restored[r]);
    if (ov)
      json_object_set(munged, restored[r], ov);
    else
      json_object_del(munged, restored[r]);
  }
  json_t *otg = json_object_get(ospec, "terminationGracePeriodSeconds");
  if (json_integer_value(otg) < 0 &&
      json_integer_value(json_object_get(munged, "terminationGracePeriodSeconds")) == 1)
    json_object_set(munged, "terminationGracePeriodSeconds", otg);
  if (!json_equal(munged, (json_t *)ospec))
    field_errors_forbidden(errs, "spec", POD_UPDATE_FORBIDDEN);
}

static void pod_validate(const json_t *obj, const json_t *old, struct field_errors *errs) {
  if (old) {
    pod_update_validate(obj, old, errs);
    return;
  }
  strategy_pod_spec_validate(json_object_get(obj, "spec"), "spec", errs);
}

/* An update body is defaulted like a create body (kube defaults every decoded object);
 * nothing is carried over from the stored pod, so a changed manifest is judged as sent. */
static void pod_prepare_update(json_t *obj, const json_t *old) {
  (void)old;
  json_t *spec = json_object_get(obj, "spec");
  strategy_pod_spec_default(spec);
  if (!json_is_object(spec))
    return;
  requests_from_limits(json_object_get(spec, "containers"));
  requests_from_limits(json_object_get(spec, "initContainers"));
  if (!json_is_boolean(json_object_get(spec, "enableServiceLinks")))
    json_object_set_new(spec, "enableServiceLinks", json_true());
}

static const char *pod_field_label(const json_t *obj, const char *label) {
  static const char *const paths[] = {
      "spec.nodeName", "spec.restartPolicy", "spec.schedulerName",       "spec.serviceAccountName",
      "status.phase",  "status.podIP",       "status.nominatedNodeName", NULL};
  for (size_t i = 0; paths[i]; i++)
    if (streq(label, paths[i])) {
      const char *s = json_path_str((json_t *)obj, paths[i]);
      return s ? s : "";
    }
  if (streq(label, "spec.hostNetwork")) {
    json_t *v = json_path((json_t *)obj, "spec.hostNetwork");
    return json_is_true(v) ? "true" : "false";
  }
  return NULL;
}

const struct api_strategy strategy_pods = {
    .prepare_create = pod_prepare_create,
    .prepare_update = pod_prepare_update,
    .validate = pod_validate,
    .field_label = pod_field_label,
};

/* ---- PodTemplate ---- */

static void podtemplate_default(json_t *obj) {
  strategy_pod_spec_default(json_path(obj, "template.spec"));
}
STRATEGY_DEFAULT_ON_WRITE(podtemplate, podtemplate_default)

static void podtemplate_validate(const json_t *obj, const json_t *old, struct field_errors *errs) {
  (void)old;
  strategy_pod_template_validate(json_object_get(obj, "template"), "template", errs);
}

const struct api_strategy strategy_podtemplates = {
    .prepare_create = podtemplate_prepare_create,
    .prepare_update = podtemplate_prepare_update,
    .validate = podtemplate_validate,
};
