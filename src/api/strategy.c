/* Strategies of the small core kinds (Namespace, Node, ConfigMap, Secret, Event) and of
 * PriorityClass and Lease, plus the helpers every strategy_*.c file shares. */
#include "api/strategy.h"

#include <stdio.h>
#include <stdlib.h>

#include "lib/base64.h"
#include "lib/json.h"
#include "lib/validation.h"

/* ---- shared helpers ---- */

void strategy_invalid_msgs(struct field_errors *errs, const char *field, const json_t *value,
                           char **msgs) {
  for (size_t i = 0; msgs && msgs[i]; i++)
    field_errors_invalid(errs, field, value, msgs[i]);
}

void strategy_port_name(const json_t *ports, size_t i, const json_t *name, const char *field,
                        int (*valid)(const char *value, char ***ret_msgs),
                        struct field_errors *errs) {
  _cleanup_valid_msgs_ char **m = NULL;
  if (valid(json_string_value(name), &m)) {
    strategy_invalid_msgs(errs, field, name, m);
    return;
  }
  for (size_t j = 0; j < i; j++)
    if (streq_ptr(json_string_value(json_object_get(json_array_get(ports, j), "name")),
                  json_string_value(name))) {
      field_errors_duplicate(errs, field, name);
      return;
    }
}

void strategy_not_found(struct field_errors *errs, const char *field, const json_t *value) {
  _cleanup_free_ char *v = value ? json_encode(value) : xstrdup("null");
  field_errors_add(errs, CAUSE_NOT_FOUND, field, "Not found: %s", v);
}

size_t strategy_errors_drop(struct field_errors *errs, const char *field, const char *type) {
  size_t kept = 0, dropped = 0;
  for (size_t i = 0; i < errs->n; i++) {
    struct field_error *e = &errs->items[i];
    if (streq(e->field, field) && streq(e->type, type)) {
      free(e->type);
      free(e->field);
      free(e->message);
      dropped++;
      continue;
    }
    errs->items[kept++] = *e;
  }
  errs->n = kept;
  return dropped;
}

static bool json_same(const json_t *a, const json_t *b) {
  if (a && json_is_null(a))
    a = NULL;
  if (b && json_is_null(b))
    b = NULL;
  if (!a || !b)
    return a == b;
  return json_equal((json_t *)a, (json_t *)b);
}

void strategy_immutable(const json_t *new_value, const json_t *old_value, const char *field,
                        struct field_errors *errs) {
  if (!json_same(new_value, old_value))
    field_errors_invalid(errs, field, new_value, "field is immutable");
}

void strategy_labels_validate(const json_t *labels, const char *path, struct field_errors *errs) {
  const char *k;
  json_t *v;
  if (!json_is_object(labels))
    return;
  json_object_foreach((json_t *)labels, k, v) {
    _cleanup_valid_msgs_ char **km = NULL;
    if (valid_label_key(k, &km)) {
      _cleanup_json_ json_t *kv = json_string(k);
      strategy_invalid_msgs(errs, path, kv, km);
    }
    _cleanup_valid_msgs_ char **vm = NULL;
    if (json_is_string(v) && valid_label_value(json_string_value(v), &vm))
      strategy_invalid_msgs(errs, path, v, vm);
  }
}

static int cmp_strp(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Appends a Go %q-style quoted string; label syntax keeps these to plain ASCII, and JSON
 * quoting agrees with Go's for everything else that matters here. */
static void append_quoted(char **buf, size_t *len, const char *s) {
  _cleanup_json_ json_t *j = json_string(s ? s : "");
  _cleanup_free_ char *q = j ? json_encode(j) : xstrdup("\"\"");
  size_t n = strlen(q);
  *buf = xrealloc(*buf, *len + n + 1);
  memcpy(*buf + *len, q, n + 1);
  *len += n;
}

static void append_str(char **buf, size_t *len, const char *s) {
  size_t n = strlen(s);
  *buf = xrealloc(*buf, *len + n + 1);
  memcpy(*buf + *len, s, n + 1);
  *len += n;
}

char *strategy_go_string_map(const json_t *map) {
  if (!json_is_object(map))
    return xstrdup("map[string]string(nil)");
  size_t n = json_object_size(map), i = 0;
  const char **keys = xcalloc(n ? n : 1, sizeof(*keys));
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)map, k, v) keys[i++] = k;
  qsort(keys, n, sizeof(*keys), cmp_strp);
  char *buf = xstrdup("map[string]string{");
  size_t len = strlen(buf);
  for (i = 0; i < n; i++) {
    if (i)
      append_str(&buf, &len, ", ");
    append_quoted(&buf, &len, keys[i]);
    append_str(&buf, &len, ":");
    append_quoted(&buf, &len, json_string_value(json_object_get(map, keys[i])));
  }
  append_str(&buf, &len, "}");
  free(keys);
  return buf;
}

char *strategy_go_label_selector(const json_t *sel) {
  _cleanup_free_ char *ml = strategy_go_string_map(json_object_get(sel, "matchLabels"));
  const json_t *exprs = json_object_get(sel, "matchExpressions");
  char *buf = xasprintf("v1.LabelSelector{MatchLabels:%s, MatchExpressions:", ml);
  size_t len = strlen(buf);
  if (!json_is_array(exprs)) {
    append_str(&buf, &len, "[]v1.LabelSelectorRequirement(nil)}");
    return buf;
  }
  append_str(&buf, &len, "[]v1.LabelSelectorRequirement{");
  size_t i;
  const json_t *e;
  json_array_foreach(exprs, i, e) {
    if (i)
      append_str(&buf, &len, ", ");
    append_str(&buf, &len, "v1.LabelSelectorRequirement{Key:");
    append_quoted(&buf, &len, json_string_value(json_object_get(e, "key")));
    append_str(&buf, &len, ", Operator:");
    append_quoted(&buf, &len, json_string_value(json_object_get(e, "operator")));
    append_str(&buf, &len, ", Values:");
    const json_t *vals = json_object_get(e, "values");
    if (!json_is_array(vals)) {
      append_str(&buf, &len, "[]string(nil)");
    } else {
      append_str(&buf, &len, "[]string{");
      size_t j;
      const json_t *s;
      json_array_foreach(vals, j, s) {
        if (j)
          append_str(&buf, &len, ", ");
        append_quoted(&buf, &len, json_string_value(s));
      }
      append_str(&buf, &len, "}");
    }
    append_str(&buf, &len, "}");
  }
  append_str(&buf, &len, "}}");
  return buf;
}

static const char *str_or_empty(const json_t *obj, const char *path) {
  const char *s = json_path_str((json_t *)obj, path);
  return s ? s : "";
}

static bool bool_at(const json_t *obj, const char *key) {
  return json_is_true(json_object_get(obj, key));
}

/* ---- Namespace ---- */

static const char *namespace_field_label(const json_t *obj, const char *label) {
  if (streq(label, "status.phase"))
    return str_or_empty(obj, "status.phase");
  return NULL;
}

/* Every namespace carries kubernetes.io/metadata.name = its name, so selectors can pick
 * namespaces by name; the label cannot be removed or changed. */
static void namespace_name_label(json_t *obj) {
  const char *name = json_path_str(obj, "metadata.name");
  if (!name || !*name)
    return;
  json_t *labels = json_object_ensure(json_object_ensure(obj, "metadata"), "labels");
  json_object_set_new(labels, "kubernetes.io/metadata.name", json_string(name));
}

/* A new namespace is Active and always carries the "kubernetes" finalizer (added to any
 * the client asked for), which the namespace controller removes once it is empty. */
static void namespace_prepare_create(json_t *obj) {
  json_t *spec = json_object_ensure(obj, "spec");
  json_t *fin = json_object_ensure_array(spec, "finalizers");
  bool has = false;
  size_t i;
  json_t *f;
  json_array_foreach(fin, i, f) has |=
      json_is_string(f) && streq(json_string_value(f), "kubernetes");
  if (!has)
    json_array_append_new(fin, json_string("kubernetes"));
  json_t *status = json_object_ensure(obj, "status");
  json_object_set_new(status, "phase", json_string("Active"));
  namespace_name_label(obj);
}

/* spec.finalizers only change through the finalize subresource. */
static void namespace_prepare_update(json_t *obj, const json_t *old) {
  json_t *old_spec = json_object_get(old, "spec");
  if (old_spec)
    json_object_set_new(obj, "spec", json_deep_copy(old_spec));
  else
    json_object_del(obj, "spec");
  namespace_name_label(obj);
}

static bool is_standard_finalizer(const char *s) {
  return streq(s, "kubernetes") || streq(s, "orphan") || streq(s, "foregroundDeletion");
}

static void namespace_validate(const json_t *obj, const json_t *old, struct field_errors *errs) {
  size_t i;
  const json_t *f;
  json_array_foreach(json_path((json_t *)obj, "spec.finalizers"), i, f) {
    const char *s = json_string_value(f);
    if (!s)
      continue;
    _cleanup_valid_msgs_ char **m = NULL;
    valid_qualified_name(s, &m);
    strategy_invalid_msgs(errs, "spec.finalizers", f, m);
    if (!strchr(s, '/') && !is_standard_finalizer(s))
      field_errors_invalid(errs, "spec.finalizers", f,
                           "name is neither a standard finalizer name nor is it fully qualified");
  }
}

const struct api_strategy strategy_namespaces = {
    .prepare_create = namespace_prepare_create,
    .prepare_update = namespace_prepare_update,
    .validate = namespace_validate,
    .field_label = namespace_field_label,
};

/* ---- Node ---- */

static const char *node_field_label(const json_t *obj, const char *label) {
  if (streq(label, "spec.unschedulable")) {
    json_t *v = json_path((json_t *)obj, "spec.unschedulable");
    return json_is_true(v) ? "true" : "false";
  }
  return NULL;
}

static void node_validate(const json_t *obj, const json_t *old, struct field_errors *errs) {
  const json_t *spec = json_object_get(obj, "spec");
  const json_t *cidr = json_object_get(spec, "podCIDR");
  if (json_is_string(cidr) && *json_string_value(cidr)) {
    _cleanup_valid_msgs_ char **m = NULL;
    valid_cidr(json_string_value(cidr), &m);
    strategy_invalid_msgs(errs, "spec.podCIDR", cidr, m);
  }
  size_t i;
  const json_t *t;
  json_array_foreach(json_object_get(spec, "taints"), i, t) {
    _cleanup_free_ char *p = xasprintf("spec.taints[%zu]", i);
    const json_t *key = json_object_get(t, "key");
    if (json_is_string(key) && *json_string_value(key)) {
      _cleanup_valid_msgs_ char **m = NULL;
      valid_label_key(json_string_value(key), &m);
      _cleanup_free_ char *kp = xasprintf("%s.key", p);
      strategy_invalid_msgs(errs, kp, key, m);
    }
    const json_t *value = json_object_get(t, "value");
    if (json_is_string(value) && *json_string_value(value)) {
      _cleanup_valid_msgs_ char **m = NULL;
      valid_label_value(json_string_value(value), &m);
      _cleanup_free_ char *vp = xasprintf("%s.value", p);
      strategy_invalid_msgs(errs, vp, value, m);
    }
    /* A key may carry each effect once. */
    for (size_t j = 0; j < i; j++) {
      const json_t *u = json_array_get(json_object_get(spec, "taints"), j);
      if (streq(str_or_empty(t, "key"), str_or_empty(u, "key")) &&
          streq(str_or_empty(t, "effect"), str_or_empty(u, "effect"))) {
        field_errors_add(errs, CAUSE_DUPLICATE, p,
                         "Duplicate value: core.Taint{Key:\"%s\", Value:\"%s\", Effect:\"%s\", "
                         "TimeAdded:<nil>}: taints must be unique by key and effect pair",
                         str_or_empty(t, "key"), str_or_empty(t, "value"),
                         str_or_empty(t, "effect"));
        break;
      }
    }
  }
}

const struct api_strategy strategy_nodes = {
    .validate = node_validate,
    .field_label = node_field_label,
};

/* ---- ConfigMap and Secret ---- */

/* The limit kube-apiserver puts on the summed size of a ConfigMap's or Secret's data. */
#define STRATEGY_MAX_DATA_SIZE (1024 * 1024)

static void config_keys_validate(const json_t *map, const char *base, const json_t *other,
                                 const char *other_name, struct field_errors *errs) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)map, k, v) {
    _cleanup_free_ char *p = xasprintf("%s[%s]", base, k);
    _cleanup_json_ json_t *kv = json_string(k);
    _cleanup_valid_msgs_ char **m = NULL;
    valid_config_map_key(k, &m);
    strategy_invalid_msgs(errs, p, kv, m);
    if (other && json_object_get(other, k)) {
      _cleanup_free_ char *msg = xasprintf("duplicate of key present in %s", other_name);
      field_errors_invalid(errs, p, kv, msg);
    }
  }
}

/* Decoded size of a base64 value (what kube counts for bytes fields). */
static size_t b64_size(const json_t *v) {
  const char *s = json_string_value(v);
  if (!s)
    return 0;
  size_t n = strlen(s), pad = 0;
  if (n >= 1 && s[n - 1] == '=')
    pad++;
  if (n >= 2 && s[n - 2] == '=')
    pad++;
  size_t total = n / 4 * 3 + (n % 4) * 3 / 4;
  return total > pad ? total - pad : 0;
}

static void immutable_data(const json_t *obj, const json_t *old, const char *const *fields,
                           struct field_errors *errs) {
  if (!old || !bool_at(old, "immutable"))
    return;
  if (!bool_at(obj, "immutable"))
    field_errors_forbidden(errs, "immutable", "field is immutable when `immutable` is set");
  for (size_t i = 0; fields[i]; i++) {
    const json_t *a = json_object_get(obj, fields[i]), *b = json_object_get(old, fields[i]);
    /* An empty map and an absent one are the same to Go's DeepEqual only when both are
     * nil; kube drops empty maps on decode, so treat them alike here. */
    if (a && json_is_object(a) && json_object_size(a) == 0)
      a = NULL;
    if (b && json_is_object(b) && json_object_size(b) == 0)
      b = NULL;
    if (!json_same(a, b))
      field_errors_forbidden(errs, fields[i], "field is immutable when `immutable` is set");
  }
}

static void configmap_validate(const json_t *obj, const json_t *old, struct field_errors *errs) {
  const json_t *data = json_object_get(obj, "data");
  const json_t *bin = json_object_get(obj, "binaryData");
  config_keys_validate(data, "data", bin, "binaryData", errs);
  config_keys_validate(bin, "binaryData", data, "data", errs);
  size_t total = 0;
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)data, k, v) total += json_is_string(v) ? json_string_length(v) : 0;
  json_object_foreach((json_t *)bin, k, v) total += b64_size(v);
  if (total > STRATEGY_MAX_DATA_SIZE)
    field_errors_too_long(errs, "[]", NULL, STRATEGY_MAX_DATA_SIZE);
  static const char *const fields[] = {"data", "binaryData", NULL};
  immutable_data(obj, old, fields, errs);
}

const struct api_strategy strategy_configmaps = {.validate = configmap_validate};

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

STRATEGY_DEFAULT_ON_WRITE(secret, secret_fold_string_data)

/* The JSON check kube makes of docker config secrets, with Go's encoding/json wording
 * for the common failures. */
static void secret_json_key(const json_t *data, const char *key, struct field_errors *errs) {
  _cleanup_free_ char *p = xasprintf("data[%s]", key);
  const json_t *v = json_object_get(data, key);
  if (!v) {
    field_errors_required(errs, p, NULL);
    return;
  }
  _cleanup_free_ char *raw = NULL;
  const char *s = json_string_value(v);
  long n = s ? base64_decode(s, strlen(s), &raw) : -EINVAL;
  if (n < 0)
    return; /* the schema reports bad base64 */
  _cleanup_json_ json_t *doc = NULL;
  const char *why = NULL;
  size_t at = 0;
  while (at < (size_t)n && strchr(" \t\r\n", raw[at]))
    at++;
  if (at == (size_t)n)
    why = "unexpected end of JSON input";
  else if (json_decode(raw, (size_t)n, &doc, NULL) < 0)
    why = "invalid JSON";
  else if (!json_is_object(doc))
    why = json_is_array(doc)
              ? "json: cannot unmarshal array into Go value of type map[string]interface {}"
          : json_is_string(doc)
              ? "json: cannot unmarshal string into Go value of type map[string]interface {}"
          : json_is_number(doc)
              ? "json: cannot unmarshal number into Go value of type map[string]interface {}"
          : json_is_boolean(doc)
              ? "json: cannot unmarshal bool into Go value of type map[string]interface {}"
              : NULL;
  if (why) {
    _cleanup_json_ json_t *redacted = json_string("<secret contents redacted>");
    field_errors_invalid(errs, p, redacted, why);
  }
}

static void secret_validate(const json_t *obj, const json_t *old, struct field_errors *errs) {
  const json_t *data = json_object_get(obj, "data");
  config_keys_validate(data, "data", NULL, NULL, errs);
  size_t total = 0;
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)data, k, v) total += b64_size(v);
  if (total > STRATEGY_MAX_DATA_SIZE)
    field_errors_too_long(errs, "data", NULL, STRATEGY_MAX_DATA_SIZE);

  const char *type = str_or_empty(obj, "type");
  if (streq(type, "kubernetes.io/service-account-token")) {
    if (!*str_or_empty(json_path((json_t *)obj, "metadata.annotations"),
                       "kubernetes.io/service-account.name"))
      field_errors_required(errs, "metadata.annotations[kubernetes.io/service-account.name]", NULL);
  } else if (streq(type, "kubernetes.io/dockercfg")) {
    secret_json_key(data, ".dockercfg", errs);
  } else if (streq(type, "kubernetes.io/dockerconfigjson")) {
    secret_json_key(data, ".dockerconfigjson", errs);
  } else if (streq(type, "kubernetes.io/basic-auth")) {
    if (!json_object_get(data, "username") && !json_object_get(data, "password")) {
      field_errors_required(errs, "data[username]", NULL);
      field_errors_required(errs, "data[password]", NULL);
    }
  } else if (streq(type, "kubernetes.io/ssh-auth")) {
    if (b64_size(json_object_get(data, "ssh-privatekey")) == 0)
      field_errors_required(errs, "data[ssh-privatekey]", NULL);
  } else if (streq(type, "kubernetes.io/tls")) {
    if (!json_object_get(data, "tls.crt"))
      field_errors_required(errs, "data[tls.crt]", NULL);
    if (!json_object_get(data, "tls.key"))
      field_errors_required(errs, "data[tls.key]", NULL);
  }

  if (old) {
    strategy_immutable(json_object_get(obj, "type"), json_object_get(old, "type"), "type", errs);
    static const char *const fields[] = {"data", NULL};
    immutable_data(obj, old, fields, errs);
  }
}

const struct api_strategy strategy_secrets = {
    .prepare_create = secret_prepare_create,
    .prepare_update = secret_prepare_update,
    .validate = secret_validate,
    .field_label = secret_field_label,
};

/* ---- Event (core/v1) ---- */

static const char *event_field_label(const json_t *obj, const char *label) {
  static const char *const paths[] = {"involvedObject.kind",
                                      "involvedObject.namespace",
                                      "involvedObject.name",
                                      "involvedObject.uid",
                                      "involvedObject.apiVersion",
                                      "involvedObject.resourceVersion",
                                      "involvedObject.fieldPath",
                                      "reason",
                                      "reportingComponent",
                                      "source",
                                      "type",
                                      NULL};
  for (size_t i = 0; paths[i]; i++)
    if (streq(label, paths[i]))
      return str_or_empty(obj, streq(label, "source") ? "source.component" : paths[i]);
  return NULL;
}

static void event_validate(const json_t *obj, const json_t *old, struct field_errors *errs) {
  const char *ns = str_or_empty(obj, "metadata.namespace");
  const json_t *ions = json_path((json_t *)obj, "involvedObject.namespace");
  const char *io_ns = json_is_string(ions) ? json_string_value(ions) : "";
  _cleanup_json_ json_t *io_val = json_string(io_ns);
  bool has_event_time = json_is_string(json_object_get(obj, "eventTime"));
  if (!has_event_time) {
    /* Old-style events: the namespaces must agree ("default" stands for cluster-scoped
     * objects, for old clients). */
    bool ok = *io_ns ? streq(ns, io_ns) : (!*ns || streq(ns, "default"));
    if (!ok)
      field_errors_invalid(errs, "involvedObject.namespace", io_val,
                           "does not match event.namespace");
  } else {
    if (!*io_ns && !streq(ns, "default") && !streq(ns, "kube-system"))
      field_errors_invalid(errs, "involvedObject.namespace", io_val,
                           "does not match event.namespace");
    const json_t *rc = json_object_get(obj, "reportingComponent");
    if (!json_is_string(rc) || !*json_string_value(rc)) {
      field_errors_required(errs, "reportingComponent", NULL);
    } else {
      _cleanup_valid_msgs_ char **m = NULL;
      valid_qualified_name(json_string_value(rc), &m);
      strategy_invalid_msgs(errs, "reportingComponent", rc, m);
    }
    if (!*str_or_empty(obj, "reportingInstance"))
      field_errors_required(errs, "reportingInstance", NULL);
    if (!*str_or_empty(obj, "action"))
      field_errors_required(errs, "action", NULL);
    if (!*str_or_empty(obj, "reason"))
      field_errors_required(errs, "reason", NULL);
  }
  (void)old;
}

const struct api_strategy strategy_events = {
    .validate = event_validate,
    .field_label = event_field_label,
};

/* ---- PriorityClass ---- */

#define HIGHEST_USER_PRIORITY 1000000000

static void priorityclass_validate(const json_t *obj, const json_t *old,
                                   struct field_errors *errs) {
  const char *name = str_or_empty(obj, "metadata.name");
  json_int_t value = json_integer_value(json_object_get(obj, "value"));
  bool global = bool_at(obj, "globalDefault");
  if (startswith(name, "system-")) {
    static const struct {
      const char *name;
      json_int_t value;
    } known[] = {{"system-node-critical", 2000001000}, {"system-cluster-critical", 2000000000}};
    _cleanup_free_ char *why = NULL;
    size_t i;
    for (i = 0; i < ARRAY_SIZE(known) && !streq(known[i].name, name); i++)
      ;
    if (i == ARRAY_SIZE(known))
      why = xasprintf("%s is not a known system priority class", name);
    else if (value != known[i].value)
      why = xasprintf("value of %s PriorityClass must be %lld", name, (long long)known[i].value);
    else if (global)
      why = xasprintf("globalDefault of %s PriorityClass must be false", name);
    if (why) {
      _cleanup_free_ char *msg = xasprintf(
          "priority class names with 'system-' prefix are reserved for system use only. error: %s",
          why);
      field_errors_forbidden(errs, "metadata.name", msg);
    }
  } else if (value > HIGHEST_USER_PRIORITY) {
    field_errors_forbidden(errs, "value",
                           "maximum allowed value of a user defined priority is 1000000000");
  }
  if (old) {
    if (!json_same(json_object_get(obj, "value"), json_object_get(old, "value")))
      field_errors_forbidden(errs, "value", "may not be changed in an update.");
    strategy_immutable(json_object_get(obj, "preemptionPolicy"),
                       json_object_get(old, "preemptionPolicy"), "preemptionPolicy", errs);
  }
}

const struct api_strategy strategy_priorityclasses = {.validate = priorityclass_validate};

/* ---- Lease ---- */

static void lease_validate(const json_t *obj, const json_t *old, struct field_errors *errs) {
  const json_t *spec = json_object_get(obj, "spec");
  const json_t *d = json_object_get(spec, "leaseDurationSeconds");
  if (json_is_integer(d) && json_integer_value(d) <= 0)
    field_errors_invalid(errs, "spec.leaseDurationSeconds", d, "must be greater than 0");
  const json_t *t = json_object_get(spec, "leaseTransitions");
  if (json_is_integer(t) && json_integer_value(t) < 0)
    field_errors_invalid(errs, "spec.leaseTransitions", t, "must be greater than or equal to 0");
  const json_t *strategy = json_object_get(spec, "strategy");
  const json_t *preferred = json_object_get(spec, "preferredHolder");
  if (json_is_string(preferred) && *json_string_value(preferred) &&
      !(json_is_string(strategy) && *json_string_value(strategy)))
    field_errors_forbidden(errs, "spec.preferredHolder",
                           "may only be specified if `strategy` is defined");
  (void)old;
}

const struct api_strategy strategy_leases = {.validate = lease_validate};
