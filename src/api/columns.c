/* Columns as kube-apiserver 1.32's printers define them (pkg/printers/internalversion).
 *
 * The API server always renders tables in wide mode (kubectl hides priority-1 columns
 * itself), so every cell here is the wide form: nothing is clipped. Where Kubernetes
 * defaults a field on write (replicas, protocol, reclaim policy...), a cell applies the
 * same default when the field is absent, so an object stored without it still prints as
 * kube-apiserver prints it. */
#include "api/columns.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/json.h"
#include "lib/quantity.h"
#include "lib/selector.h"
#include "lib/strbuf.h"
#include "lib/timeutil.h"

/* ---- small helpers ---- */

/* Adds s after a separator unless the buffer is empty. */
static void sb_join(struct strbuf *b, const char *sep, const char *s) {
  if (b->len)
    strbuf_appends(b, sep);
  strbuf_appends(b, s);
}

/* The buffer as a string cell ("" when nothing was added); frees the buffer. */
static json_t *sb_cell(struct strbuf *b) {
  json_t *v = json_string(b->s ? b->s : "");
  free(b->s);
  b->s = NULL;
  b->len = b->cap = 0;
  return v;
}

static json_t *at(const json_t *obj, const char *path) { return json_path((json_t *)obj, path); }

static const char *str_at(const json_t *obj, const char *path) {
  return json_path_str((json_t *)obj, path);
}

/* Go's zero value for an absent string is "". */
static const char *str_or_empty(const json_t *obj, const char *path) {
  const char *s = str_at(obj, path);
  return s ? s : "";
}

static json_int_t int_at(const json_t *obj, const char *path) {
  return json_integer_value(at(obj, path));
}

static bool empty(const char *s) { return !s || !*s; }

static json_t *string_cell(const char *s) { return json_string(s ? s : ""); }

static struct timespec now_ts(void) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return now;
}

/* translateTimestampSince: HumanDuration(now - ts), "<unknown>" for a missing time. */
static json_t *since_cell(const char *ts) {
  struct timespec now = now_ts();
  _cleanup_free_ char *age = timeutil_age(ts, &now);
  return json_string(age);
}

/* Whether ts parses to a non-zero instant. */
static bool time_set(const char *ts, struct timespec *ret) {
  struct timespec t;
  if (empty(ts) || timeutil_parse(ts, &t) < 0)
    return false;
  if (ret)
    *ret = t;
  return true;
}

static int64_t ns_between(const struct timespec *from, const struct timespec *to) {
  return ((int64_t)to->tv_sec - from->tv_sec) * 1000000000 + (to->tv_nsec - from->tv_nsec);
}

static int strcmp_ptr(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* labels.FormatLabels: "k=v,k2=v2" sorted by key, "<none>" when empty. */
static json_t *labels_cell(const json_t *map) {
  size_t n = json_is_object(map) ? json_object_size(map) : 0;
  if (!n)
    return json_string("<none>");
  const char **keys = xcalloc(n, sizeof(*keys));
  size_t i = 0;
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)map, k, v) keys[i++] = k;
  qsort(keys, n, sizeof(*keys), strcmp_ptr);
  struct strbuf b = {0};
  for (i = 0; i < n; i++) {
    const char *val = json_string_value(json_object_get(map, keys[i]));
    sb_join(&b, ",", keys[i]);
    strbuf_appends(&b, "=");
    strbuf_appends(&b, val ? val : "");
  }
  free(keys);
  return sb_cell(&b);
}

/* metav1.FormatLabelSelector: the selector string, "<none>" for an empty one (and for a
 * missing one, which selects nothing), "<error>" when it does not parse. */
static json_t *label_selector_cell(const json_t *sel) {
  _cleanup_selector_ selector_t *s = NULL;
  if (selector_from_json(sel, &s, NULL) < 0)
    return json_string("<error>");
  _cleanup_free_ char *str = selector_to_string(s);
  return json_string(*str ? str : "<none>");
}

/* A quantity as Quantity.String() prints it; `missing` when absent. */
static char *quantity_text(const json_t *v, const char *missing) {
  quantity_t q;
  if (json_is_string(v) && quantity_parse(json_string_value(v), &q, NULL) == 0)
    return quantity_to_string(&q);
  if (json_is_integer(v)) {
    q = quantity_from_int64(json_integer_value(v), QUANTITY_DECIMAL_SI);
    return quantity_to_string(&q);
  }
  if (json_is_string(v))
    return xstrdup(json_string_value(v));
  return xstrdup(missing);
}

/* intstr.IntOrString.String(). */
static char *int_or_string_text(const json_t *v) {
  if (json_is_integer(v))
    return xasprintf("%lld", (long long)json_integer_value(v));
  return xstrdup(json_is_string(v) ? json_string_value(v) : "");
}

/* "X + N more..." lists of kube's printers: at most `max` items, then a count. */
static json_t *list_with_more(struct strbuf *b, size_t count, size_t max, const char *when_empty) {
  if (count > max) {
    strbuf_appendf(b, " + %zu more...", count - max);
    return sb_cell(b);
  }
  if (!b->len) {
    free(b->s);
    b->s = NULL;
    return when_empty ? json_string(when_empty) : json_string("");
  }
  return sb_cell(b);
}

static bool condition_true(const json_t *conditions, const char *type) {
  size_t i;
  json_t *c;
  json_array_foreach(conditions, i, c) {
    if (streq_ptr(json_string_value(json_object_get(c, "type")), type))
      return streq_ptr(json_string_value(json_object_get(c, "status")), "True");
  }
  return false;
}

/* ---- shared cells ---- */

json_t *column_age(const json_t *obj) {
  return since_cell(str_at(obj, "metadata.creationTimestamp"));
}

/* The default table convertor's "Created At": the creation time in RFC 3339, UTC. */
static json_t *created_at(const json_t *obj) {
  struct timespec t;
  if (!time_set(str_at(obj, "metadata.creationTimestamp"), &t))
    return NULL;
  _cleanup_free_ char *s = timeutil_format(t.tv_sec);
  return json_string(s);
}

static json_t *name_cell(const json_t *obj) { return string_cell(str_at(obj, "metadata.name")); }

/* layoutContainerCells: container names, or images, joined with ",". */
static json_t *containers_field(const json_t *obj, const char *spec_path, const char *field) {
  _cleanup_free_ char *path = xasprintf("%s.containers", spec_path);
  json_t *containers = at(obj, path);
  struct strbuf b = {0};
  size_t i;
  json_t *c;
  json_array_foreach(containers, i, c) {
    if (i)
      strbuf_appends(&b, ",");
    strbuf_appends(&b, str_or_empty(c, field));
  }
  return sb_cell(&b);
}

/* The CONTAINERS and IMAGES cells of a workload whose pod spec is at `spec`, and its
 * SELECTOR as a LabelSelector object at `sel`. */
#define TEMPLATE_CELLS(prefix, spec, sel)                                                          \
  static json_t *prefix##_containers(const json_t *o) {                                            \
    return containers_field(o, spec, "name");                                                      \
  }                                                                                                \
  static json_t *prefix##_images(const json_t *o) { return containers_field(o, spec, "image"); }   \
  static json_t *prefix##_selector(const json_t *o) { return label_selector_cell(at(o, sel)); }

/* Cells for one field: a string (Go's "" when absent), an integer (0 when absent). */
#define STR_CELL(fn, path)                                                                         \
  static json_t *fn(const json_t *o) { return string_cell(str_at(o, path)); }
#define INT_CELL(fn, path)                                                                         \
  static json_t *fn(const json_t *o) { return json_integer(int_at(o, path)); }
#define COUNT_CELL(fn, path)                                                                       \
  static json_t *fn(const json_t *o) {                                                             \
    json_t *v = at(o, path);                                                                       \
    return json_integer(                                                                           \
        (json_int_t)(json_is_object(v) ? json_object_size(v) : json_array_size(v)));               \
  }

/* ---- column definitions shared by every table ---- */

#define D_NAME                                                                                     \
  "Name must be unique within a namespace. Is required when creating resources, although "         \
  "some resources may allow a client to request the generation of an appropriate name "            \
  "automatically."
#define D_AGE                                                                                      \
  "CreationTimestamp is a timestamp representing the server time when this object was "            \
  "created. It is represented in RFC3339 form and is in UTC."
#define D_CONTAINERS "Names of each container in the template."
#define D_IMAGES "Images referenced by each container in the template."
#define D_SELECTOR "A label query over pods that should match the replica count."

#define NAME_COL                                                                                   \
  { "Name", "string", "name", D_NAME, 0, "metadata.name" }
#define AGE_COL                                                                                    \
  { "Age", "string", "", D_AGE, 0, NULL, column_age }
#define CREATED_AT_COL                                                                             \
  { "Created At", "date", "", D_AGE, 0, NULL, created_at }
#define COL(name, type, desc, prio, fn)                                                            \
  { name, type, "", desc, prio, NULL, fn }
#define WORKLOAD_WIDE(prefix)                                                                      \
  COL("Containers", "string", D_CONTAINERS, 1, prefix##_containers),                               \
      COL("Images", "string", D_IMAGES, 1, prefix##_images),                                       \
      COL("Selector", "string", D_SELECTOR, 1, prefix##_selector)
#define END                                                                                        \
  { NULL }

const struct api_column columns_default[] = {NAME_COL, AGE_COL, END};

/* Kinds kube-apiserver has no printer for use the default table convertor. */
const struct api_column columns_roles[] = {NAME_COL, CREATED_AT_COL, END};
const struct api_column columns_limitranges[] = {NAME_COL, CREATED_AT_COL, END};

/* ---- core/v1 ---- */

STR_CELL(namespace_status, "status.phase")
const struct api_column columns_namespaces[] = {
    NAME_COL, COL("Status", "string", "The status of the namespace", 0, namespace_status), AGE_COL,
    END};

static json_t *configmap_data(const json_t *obj) {
  json_t *d = json_object_get(obj, "data"), *b = json_object_get(obj, "binaryData");
  size_t n =
      (json_is_object(d) ? json_object_size(d) : 0) + (json_is_object(b) ? json_object_size(b) : 0);
  return json_integer((json_int_t)n);
}

const struct api_column columns_configmaps[] = {
    NAME_COL, COL("Data", "string", "Data contains the configuration data.", 0, configmap_data),
    AGE_COL, END};

STR_CELL(secret_type, "type")
COUNT_CELL(secret_data, "data")
const struct api_column columns_secrets[] = {
    NAME_COL,
    COL("Type", "string", "Used to facilitate programmatic handling of secret data.", 0,
        secret_type),
    COL("Data", "string", "Data contains the secret data.", 0, secret_data), AGE_COL, END};

COUNT_CELL(serviceaccount_secrets, "secrets")
const struct api_column columns_serviceaccounts[] = {
    NAME_COL,
    COL("Secrets", "string",
        "Secrets is a list of the secrets in the same namespace that pods running using this "
        "ServiceAccount are allowed to use.",
        0, serviceaccount_secrets),
    AGE_COL, END};

/* ---- pods ---- */

struct pod_summary {
  long ready, total, restarts;
  struct timespec last_restart; /* zero: none known */
  char reason[128];
};

static bool restartable_init(const json_t *pod, const char *name) {
  size_t i;
  json_t *c;
  json_array_foreach(at(pod, "spec.initContainers"), i, c) {
    if (streq_ptr(str_at(c, "name"), name))
      return streq_ptr(str_at(c, "restartPolicy"), "Always");
  }
  return false;
}

static void note_restart(const json_t *status, struct timespec *last) {
  struct timespec t;
  if (!time_set(str_at(status, "lastState.terminated.finishedAt"), &t))
    return;
  if (t.tv_sec > last->tv_sec || (t.tv_sec == last->tv_sec && t.tv_nsec > last->tv_nsec))
    *last = t;
}

/* printPod's walk over the container statuses: the READY count, the STATUS reason and
 * the RESTARTS count with the time of the last restart. */
static void pod_summarize(const json_t *pod, struct pod_summary *s) {
  memset(s, 0, sizeof(*s));
  const char *phase = str_or_empty(pod, "status.phase");
  const char *status_reason = str_at(pod, "status.reason");
  snprintf(s->reason, sizeof(s->reason), "%s", empty(status_reason) ? phase : status_reason);

  json_t *conditions = at(pod, "status.conditions");
  size_t i;
  json_t *c;
  json_array_foreach(conditions, i, c) {
    if (streq_ptr(str_at(c, "type"), "PodScheduled") &&
        streq_ptr(str_at(c, "reason"), "SchedulingGated"))
      snprintf(s->reason, sizeof(s->reason), "SchedulingGated");
  }

  json_t *inits = at(pod, "spec.initContainers");
  s->total = (long)json_array_size(at(pod, "spec.containers"));
  json_array_foreach(inits, i, c) {
    if (streq_ptr(str_at(c, "restartPolicy"), "Always"))
      s->total++;
  }

  /* Sidecars (restartable init containers) keep running, so their restarts count even
   * once the pod is initialized; plain init containers' restarts only while initializing. */
  long sidecar_restarts = 0;
  struct timespec sidecar_last = {0};
  bool initializing = false;
  json_array_foreach(at(pod, "status.initContainerStatuses"), i, c) {
    json_int_t rc = int_at(c, "restartCount");
    bool sidecar = restartable_init(pod, str_at(c, "name"));
    s->restarts += rc;
    note_restart(c, &s->last_restart);
    if (sidecar) {
      sidecar_restarts += rc;
      note_restart(c, &sidecar_last);
    }
    json_t *term = at(c, "state.terminated");
    const char *waiting = str_at(c, "state.waiting.reason");
    if (term && int_at(term, "exitCode") == 0)
      continue;
    if (sidecar && json_is_true(json_object_get(c, "started"))) {
      if (json_is_true(json_object_get(c, "ready")))
        s->ready++;
      continue;
    }
    if (term) {
      const char *r = str_at(term, "reason");
      if (!empty(r))
        snprintf(s->reason, sizeof(s->reason), "Init:%s", r);
      else if (int_at(term, "signal"))
        snprintf(s->reason, sizeof(s->reason), "Init:Signal:%lld",
                 (long long)int_at(term, "signal"));
      else
        snprintf(s->reason, sizeof(s->reason), "Init:ExitCode:%lld",
                 (long long)int_at(term, "exitCode"));
    } else if (!empty(waiting) && !streq(waiting, "PodInitializing")) {
      snprintf(s->reason, sizeof(s->reason), "Init:%s", waiting);
    } else {
      snprintf(s->reason, sizeof(s->reason), "Init:%zu/%zu", i, json_array_size(inits));
    }
    initializing = true;
    break;
  }

  if (!initializing || condition_true(conditions, "Initialized")) {
    s->restarts = sidecar_restarts;
    s->last_restart = sidecar_last;
    bool has_running = false;
    json_t *statuses = at(pod, "status.containerStatuses");
    /* Walked backwards so the first container's state wins, as kubectl users know it. */
    for (size_t k = json_array_size(statuses); k-- > 0;) {
      json_t *st = json_array_get(statuses, k);
      s->restarts += int_at(st, "restartCount");
      note_restart(st, &s->last_restart);
      const char *waiting = str_at(st, "state.waiting.reason");
      json_t *term = at(st, "state.terminated");
      if (!empty(waiting)) {
        snprintf(s->reason, sizeof(s->reason), "%s", waiting);
      } else if (term && !empty(str_at(term, "reason"))) {
        snprintf(s->reason, sizeof(s->reason), "%s", str_at(term, "reason"));
      } else if (term) {
        if (int_at(term, "signal"))
          snprintf(s->reason, sizeof(s->reason), "Signal:%lld", (long long)int_at(term, "signal"));
        else
          snprintf(s->reason, sizeof(s->reason), "ExitCode:%lld",
                   (long long)int_at(term, "exitCode"));
      } else if (json_is_true(json_object_get(st, "ready")) && at(st, "state.running")) {
        has_running = true;
        s->ready++;
      }
    }
    /* A pod whose last container completed while another still runs is not done. */
    if (streq(s->reason, "Completed") && has_running)
      snprintf(s->reason, sizeof(s->reason), "%s",
               condition_true(conditions, "Ready") ? "Running" : "NotReady");
  }

  if (at(pod, "metadata.deletionTimestamp")) {
    if (streq_ptr(status_reason, "NodeLost"))
      snprintf(s->reason, sizeof(s->reason), "Unknown");
    else if (!streq(phase, "Succeeded") && !streq(phase, "Failed"))
      snprintf(s->reason, sizeof(s->reason), "Terminating");
  }
}

static json_t *pod_ready(const json_t *obj) {
  struct pod_summary s;
  pod_summarize(obj, &s);
  _cleanup_free_ char *v = xasprintf("%ld/%ld", s.ready, s.total);
  return json_string(v);
}

static json_t *pod_status(const json_t *obj) {
  struct pod_summary s;
  pod_summarize(obj, &s);
  return json_string(s.reason);
}

/* "3" or, once a restart time is known, "3 (5m ago)". */
static json_t *pod_restarts(const json_t *obj) {
  struct pod_summary s;
  pod_summarize(obj, &s);
  if (!s.restarts || (!s.last_restart.tv_sec && !s.last_restart.tv_nsec)) {
    _cleanup_free_ char *v = xasprintf("%ld", s.restarts);
    return json_string(v);
  }
  struct timespec now = now_ts();
  char buf[32];
  timeutil_human_duration(ns_between(&s.last_restart, &now), buf, sizeof(buf));
  _cleanup_free_ char *v = xasprintf("%ld (%s ago)", s.restarts, buf);
  return json_string(v);
}

static json_t *pod_ip(const json_t *obj) {
  const char *ip = str_at(json_array_get(at(obj, "status.podIPs"), 0), "ip");
  if (empty(ip))
    ip = str_at(obj, "status.podIP");
  return empty(ip) ? NULL : json_string(ip);
}

static json_t *pod_node(const json_t *obj) {
  const char *n = str_at(obj, "spec.nodeName");
  return empty(n) ? NULL : json_string(n);
}

static json_t *pod_nominated(const json_t *obj) {
  const char *n = str_at(obj, "status.nominatedNodeName");
  return empty(n) ? NULL : json_string(n);
}

/* "1/2": readiness gates whose condition is True, over all gates. */
static json_t *pod_gates(const json_t *obj) {
  json_t *gates = at(obj, "spec.readinessGates"), *conditions = at(obj, "status.conditions");
  if (!json_array_size(gates))
    return NULL;
  size_t i, j, n = 0;
  json_t *g, *c;
  json_array_foreach(gates, i, g) {
    json_array_foreach(conditions, j, c) {
      if (streq_ptr(str_at(c, "type"), str_at(g, "conditionType"))) {
        if (streq_ptr(str_at(c, "status"), "True"))
          n++;
        break;
      }
    }
  }
  _cleanup_free_ char *v = xasprintf("%zu/%zu", n, json_array_size(gates));
  return json_string(v);
}

const struct api_column columns_pods[] = {
    NAME_COL,
    COL("Ready", "string", "The aggregate readiness state of this pod for accepting traffic.", 0,
        pod_ready),
    COL("Status", "string", "The aggregate status of the containers in this pod.", 0, pod_status),
    COL("Restarts", "string",
        "The number of times the containers in this pod have been restarted and when the last "
        "container in this pod has restarted.",
        0, pod_restarts),
    AGE_COL,
    COL("IP", "string", "IP address allocated to the pod. Routable at least within the cluster.", 1,
        pod_ip),
    COL("Node", "string", "NodeName indicates in which node this pod is scheduled.", 1, pod_node),
    COL("Nominated Node", "string",
        "nominatedNodeName is set only when this pod preempts other pods on the node.", 1,
        pod_nominated),
    COL("Readiness Gates", "string",
        "If specified, all readiness gates will be evaluated for pod readiness.", 1, pod_gates),
    END};

static json_t *podtemplate_containers(const json_t *o) {
  return containers_field(o, "template.spec", "name");
}
static json_t *podtemplate_images(const json_t *o) {
  return containers_field(o, "template.spec", "image");
}
static json_t *podtemplate_labels(const json_t *o) {
  return labels_cell(at(o, "template.metadata.labels"));
}
const struct api_column columns_podtemplates[] = {
    NAME_COL, COL("Containers", "string", D_CONTAINERS, 0, podtemplate_containers),
    COL("Images", "string", D_IMAGES, 0, podtemplate_images),
    COL("Pod Labels", "string", "The labels for the pod template.", 0, podtemplate_labels), END};

/* ---- services and endpoints ---- */

static const char *service_type(const json_t *obj) {
  const char *t = str_at(obj, "spec.type");
  return empty(t) ? "ClusterIP" : t;
}

static json_t *svc_type(const json_t *obj) { return json_string(service_type(obj)); }

static json_t *svc_cluster_ip(const json_t *obj) {
  const char *ip = json_string_value(json_array_get(at(obj, "spec.clusterIPs"), 0));
  if (empty(ip))
    ip = str_at(obj, "spec.clusterIP");
  return empty(ip) ? NULL : json_string(ip);
}

/* Load-balancer ingress points: IPs, else hostnames, sorted and de-duplicated. */
static void lb_ingress(const json_t *ingress, struct strbuf *b) {
  size_t n = json_array_size(ingress), k = 0, i;
  const char **items = xcalloc(n ? n : 1, sizeof(*items));
  json_t *e;
  json_array_foreach(ingress, i, e) {
    const char *ip = str_at(e, "ip"), *host = str_at(e, "hostname");
    if (!empty(ip))
      items[k++] = ip;
    else if (!empty(host))
      items[k++] = host;
  }
  qsort(items, k, sizeof(*items), strcmp_ptr);
  for (i = 0; i < k; i++)
    if (!i || !streq(items[i], items[i - 1]))
      sb_join(b, ",", items[i]);
  free(items);
}

static void join_strings(const json_t *arr, const char *sep, struct strbuf *b) {
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v) {
    if (json_is_string(v))
      sb_join(b, sep, json_string_value(v));
  }
}

static json_t *svc_external_ip(const json_t *obj) {
  const char *type = service_type(obj);
  json_t *external = at(obj, "spec.externalIPs");
  struct strbuf b = {0};
  if (streq(type, "ClusterIP") || streq(type, "NodePort")) {
    join_strings(external, ",", &b);
    return b.len ? sb_cell(&b) : NULL;
  }
  if (streq(type, "LoadBalancer")) {
    lb_ingress(at(obj, "status.loadBalancer.ingress"), &b);
    join_strings(external, ",", &b);
    if (!b.len) {
      free(b.s);
      return json_string("<pending>");
    }
    return sb_cell(&b);
  }
  if (streq(type, "ExternalName"))
    return string_cell(str_at(obj, "spec.externalName"));
  return json_string("<unknown>");
}

/* "80/TCP", "80:30080/TCP" with a node port; joined with ",". */
static json_t *svc_ports(const json_t *obj) {
  struct strbuf b = {0};
  size_t i;
  json_t *p;
  json_array_foreach(at(obj, "spec.ports"), i, p) {
    const char *proto = str_at(p, "protocol");
    if (empty(proto))
      proto = "TCP";
    if (i)
      strbuf_appends(&b, ",");
    json_int_t node_port = int_at(p, "nodePort");
    if (node_port > 0)
      strbuf_appendf(&b, "%lld:%lld/%s", (long long)int_at(p, "port"), (long long)node_port, proto);
    else
      strbuf_appendf(&b, "%lld/%s", (long long)int_at(p, "port"), proto);
  }
  if (!b.len) {
    free(b.s);
    return NULL;
  }
  return sb_cell(&b);
}

static json_t *svc_selector(const json_t *obj) { return labels_cell(at(obj, "spec.selector")); }

const struct api_column columns_services[] = {
    NAME_COL,
    COL("Type", "string", "type determines how the Service is exposed.", 0, svc_type),
    COL("Cluster-IP", "string", "clusterIP is the IP address of the service.", 0, svc_cluster_ip),
    COL("External-IP", "string",
        "externalIPs is a list of IP addresses for which nodes in the cluster will also accept "
        "traffic for this service.",
        0, svc_external_ip),
    COL("Port(s)", "string", "The list of ports that are exposed by this service.", 0, svc_ports),
    AGE_COL,
    COL("Selector", "string",
        "Route service traffic to pods with label keys and values matching this selector.", 1,
        svc_selector),
    END};

static void host_port(struct strbuf *b, const char *ip, json_int_t port) {
  if (b->len)
    strbuf_appends(b, ",");
  if (strchr(ip, ':'))
    strbuf_appendf(b, "[%s]:%lld", ip, (long long)port);
  else
    strbuf_appendf(b, "%s:%lld", ip, (long long)port);
}

/* "10.0.0.1:80,10.0.0.2:80 + 2 more...": at most three addresses, every port of each. */
static json_t *endpoints_cell(const json_t *obj) {
  json_t *subsets = at(obj, "subsets");
  if (!json_array_size(subsets))
    return NULL;
  const size_t max = 3;
  size_t count = 0, shown = 0, i, j, k;
  struct strbuf b = {0};
  json_t *ss, *port, *addr;
  json_array_foreach(subsets, i, ss) {
    json_t *addrs = json_object_get(ss, "addresses"), *ports = json_object_get(ss, "ports");
    if (!json_array_size(ports)) {
      /* Headless services may have no ports: the addresses alone. */
      count += json_array_size(addrs);
      json_array_foreach(addrs, k, addr) {
        if (shown == max)
          break;
        sb_join(&b, ",", str_or_empty(addr, "ip"));
        shown++;
      }
      continue;
    }
    json_array_foreach(ports, j, port) {
      count += json_array_size(addrs);
      json_array_foreach(addrs, k, addr) {
        if (shown == max)
          break;
        host_port(&b, str_or_empty(addr, "ip"), int_at(port, "port"));
        shown++;
      }
    }
  }
  return list_with_more(&b, count, max, NULL);
}

const struct api_column columns_endpoints[] = {
    NAME_COL,
    COL("Endpoints", "string", "The set of all endpoints is the union of all subsets.", 0,
        endpoints_cell),
    AGE_COL, END};

/* ---- nodes ---- */

/* Only the Ready condition shows, then SchedulingDisabled for a cordoned node. */
static json_t *node_status(const json_t *obj) {
  const char *ready = NULL;
  size_t i;
  json_t *c;
  json_array_foreach(at(obj, "status.conditions"), i, c) {
    if (streq_ptr(str_at(c, "type"), "Ready"))
      ready = str_or_empty(c, "status");
  }
  struct strbuf b = {0};
  strbuf_appends(&b, !ready ? "Unknown" : streq(ready, "True") ? "Ready" : "NotReady");
  if (json_is_true(at(obj, "spec.unschedulable")))
    strbuf_appends(&b, ",SchedulingDisabled");
  return sb_cell(&b);
}

/* Roles from node-role.kubernetes.io/<role> label keys and the kubernetes.io/role label
 * value, sorted and de-duplicated. */
static json_t *node_roles(const json_t *obj) {
  static const char prefix[] = "node-role.kubernetes.io/";
  json_t *labels = at(obj, "metadata.labels");
  size_t n = json_is_object(labels) ? json_object_size(labels) : 0, k = 0;
  const char **roles = xcalloc(n ? n : 1, sizeof(*roles));
  const char *key;
  json_t *v;
  json_object_foreach(labels, key, v) {
    if (startswith(key, prefix) && key[sizeof(prefix) - 1])
      roles[k++] = key + sizeof(prefix) - 1;
    else if (streq(key, "kubernetes.io/role") && !empty(json_string_value(v)))
      roles[k++] = json_string_value(v);
  }
  qsort(roles, k, sizeof(*roles), strcmp_ptr);
  struct strbuf b = {0};
  for (size_t i = 0; i < k; i++)
    if (!i || !streq(roles[i], roles[i - 1]))
      sb_join(&b, ",", roles[i]);
  free(roles);
  if (!b.len)
    return NULL;
  return sb_cell(&b);
}

static json_t *node_address(const json_t *obj, const char *type) {
  size_t i;
  json_t *a;
  json_array_foreach(at(obj, "status.addresses"), i, a) {
    if (streq_ptr(str_at(a, "type"), type))
      return string_cell(str_at(a, "address"));
  }
  return NULL;
}

static json_t *node_internal_ip(const json_t *o) { return node_address(o, "InternalIP"); }
static json_t *node_external_ip(const json_t *o) { return node_address(o, "ExternalIP"); }

static json_t *unknown_if_empty(const json_t *obj, const char *path) {
  const char *s = str_at(obj, path);
  return json_string(empty(s) ? "<unknown>" : s);
}

STR_CELL(node_version, "status.nodeInfo.kubeletVersion")
static json_t *node_os(const json_t *o) { return unknown_if_empty(o, "status.nodeInfo.osImage"); }
static json_t *node_kernel(const json_t *o) {
  return unknown_if_empty(o, "status.nodeInfo.kernelVersion");
}
static json_t *node_runtime(const json_t *o) {
  return unknown_if_empty(o, "status.nodeInfo.containerRuntimeVersion");
}

#define D_NODE_ADDR "List of addresses reachable to the node."
const struct api_column columns_nodes[] = {
    NAME_COL,
    COL("Status", "string", "The status of the node", 0, node_status),
    COL("Roles", "string", "The roles of the node", 0, node_roles),
    AGE_COL,
    COL("Version", "string", "Kubelet Version reported by the node.", 0, node_version),
    COL("Internal-IP", "string", D_NODE_ADDR, 1, node_internal_ip),
    COL("External-IP", "string", D_NODE_ADDR, 1, node_external_ip),
    COL("OS-Image", "string", "OS Image reported by the node from /etc/os-release.", 1, node_os),
    COL("Kernel-Version", "string", "Kernel Version reported by the node from 'uname -r'.", 1,
        node_kernel),
    COL("Container-Runtime", "string", "ContainerRuntime Version reported by the node.", 1,
        node_runtime),
    END};

/* ---- events (core/v1 and events.k8s.io/v1 share the table) ---- */

/* The field of a core/v1 Event, or its events.k8s.io/v1 name when the first is absent. */
static json_t *ev_field(const json_t *obj, const char *core, const char *events) {
  json_t *v = at(obj, core);
  return v && !json_is_null(v) ? v : at(obj, events);
}

static const char *ev_str(const json_t *obj, const char *core, const char *events) {
  return json_string_value(ev_field(obj, core, events));
}

/* firstTimestamp, or eventTime for events that only carry the new API's time. */
static json_t *ev_first_seen(const json_t *obj) {
  const char *first = ev_str(obj, "firstTimestamp", "deprecatedFirstTimestamp");
  if (!time_set(first, NULL))
    first = str_at(obj, "eventTime");
  return since_cell(first);
}

static json_t *ev_last_seen(const json_t *obj) {
  const char *series = str_at(obj, "series.lastObservedTime");
  if (at(obj, "series"))
    return since_cell(series);
  const char *last = ev_str(obj, "lastTimestamp", "deprecatedLastTimestamp");
  if (!time_set(last, NULL))
    return ev_first_seen(obj);
  return since_cell(last);
}

static json_t *ev_type(const json_t *o) { return string_cell(str_at(o, "type")); }
static json_t *ev_reason(const json_t *o) { return string_cell(str_at(o, "reason")); }

/* "pod/web-1": the involved object's kind in lower case, then its name. */
static json_t *ev_object(const json_t *obj) {
  json_t *ref = ev_field(obj, "involvedObject", "regarding");
  _cleanup_free_ char *kind = xstrdup(str_or_empty(ref, "kind"));
  for (char *p = kind; *p; p++)
    if (*p >= 'A' && *p <= 'Z')
      *p = (char)(*p - 'A' + 'a');
  const char *name = str_at(ref, "name");
  if (empty(name))
    return json_string(kind);
  _cleanup_free_ char *v = xasprintf("%s/%s", kind, name);
  return json_string(v);
}

static json_t *ev_subobject(const json_t *obj) {
  return string_cell(str_at(ev_field(obj, "involvedObject", "regarding"), "fieldPath"));
}

/* "kubelet, node-1": component and host, falling back to the reporting controller and
 * instance of events written through the new API. */
static json_t *ev_source(const json_t *obj) {
  json_t *src = ev_field(obj, "source", "deprecatedSource");
  const char *component = str_at(src, "component"), *host = str_at(src, "host");
  if (empty(component))
    component = str_at(obj, "reportingController");
  if (empty(host))
    host = str_at(obj, "reportingInstance");
  if (empty(host))
    return string_cell(component);
  _cleanup_free_ char *v = xasprintf("%s, %s", component ? component : "", host);
  return json_string(v);
}

static json_t *ev_message(const json_t *obj) {
  const char *m = ev_str(obj, "message", "note");
  if (!m)
    return json_string("");
  while (*m == ' ' || *m == '\t' || *m == '\n' || *m == '\r' || *m == '\v' || *m == '\f')
    m++;
  size_t n = strlen(m);
  while (n && strchr(" \t\n\r\v\f", m[n - 1]))
    n--;
  return json_stringn(m, n);
}

/* Singleton events of the new API carry no count: they happened once. */
static json_t *ev_count(const json_t *obj) {
  if (at(obj, "series"))
    return json_integer(int_at(obj, "series.count"));
  json_int_t n = json_integer_value(ev_field(obj, "count", "deprecatedCount"));
  return json_integer(n ? n : 1);
}

const struct api_column columns_events[] = {
    COL("Last Seen", "string",
        "The time at which the most recent occurrence of this event was recorded.", 0,
        ev_last_seen),
    COL("Type", "string",
        "Type of this event (Normal, Warning), new types could be added in the future", 0, ev_type),
    COL("Reason", "string",
        "This should be a short, machine understandable string that gives the reason for the "
        "transition into the object's current status.",
        0, ev_reason),
    COL("Object", "string", "The object that this event is about.", 0, ev_object),
    COL("Subobject", "string",
        "If referring to a piece of an object instead of an entire object, this string should "
        "contain a valid JSON/Go field access statement.",
        1, ev_subobject),
    COL("Source", "string", "The component reporting this event.", 1, ev_source),
    COL("Message", "string", "A human-readable description of the status of this operation.", 0,
        ev_message),
    COL("First Seen", "string", "The time at which the event was first recorded.", 1,
        ev_first_seen),
    COL("Count", "string", "The number of times this event has occurred.", 1, ev_count),
    {"Name", "string", "name", D_NAME, 1, NULL, name_cell},
    END};

/* ---- storage: persistent volumes and claims ---- */

/* "RWO,ROX,RWX,RWOP" in that fixed order, each once. */
static void access_modes(const json_t *modes, struct strbuf *b) {
  static const char *const names[][2] = {{"ReadWriteOnce", "RWO"},
                                         {"ReadOnlyMany", "ROX"},
                                         {"ReadWriteMany", "RWX"},
                                         {"ReadWriteOncePod", "RWOP"}};
  for (size_t m = 0; m < ARRAY_SIZE(names); m++) {
    size_t i;
    json_t *v;
    json_array_foreach(modes, i, v) {
      if (streq_ptr(json_string_value(v), names[m][0])) {
        sb_join(b, ",", names[m][1]);
        break;
      }
    }
  }
}

/* The beta storage-class annotation still overrides spec.storageClassName. */
static json_t *storage_class_of(const json_t *obj) {
  const char *a = json_string_value(
      json_object_get(at(obj, "metadata.annotations"), "volume.beta.kubernetes.io/storage-class"));
  if (a)
    return json_string(a);
  return string_cell(str_at(obj, "spec.storageClassName"));
}

static json_t *phase_or_terminating(const json_t *obj) {
  if (at(obj, "metadata.deletionTimestamp"))
    return json_string("Terminating");
  return string_cell(str_at(obj, "status.phase"));
}

static json_t *unset_if_absent(const json_t *obj, const char *path) {
  const char *s = str_at(obj, path);
  return json_string(s ? s : "<unset>");
}

static json_t *pv_capacity(const json_t *obj) {
  _cleanup_free_ char *q = quantity_text(at(obj, "spec.capacity.storage"), "0");
  return json_string(q);
}

static json_t *pv_access(const json_t *obj) {
  struct strbuf b = {0};
  access_modes(at(obj, "spec.accessModes"), &b);
  return sb_cell(&b);
}

STR_CELL(pv_reclaim, "spec.persistentVolumeReclaimPolicy")
STR_CELL(pv_reason, "status.reason")

static json_t *pv_claim(const json_t *obj) {
  json_t *ref = at(obj, "spec.claimRef");
  if (!ref)
    return json_string("");
  _cleanup_free_ char *v =
      xasprintf("%s/%s", str_or_empty(ref, "namespace"), str_or_empty(ref, "name"));
  return json_string(v);
}

static json_t *vac_name(const json_t *o) {
  return unset_if_absent(o, "spec.volumeAttributesClassName");
}
static json_t *volume_mode(const json_t *o) { return unset_if_absent(o, "spec.volumeMode"); }

const struct api_column columns_persistentvolumes[] = {
    NAME_COL,
    COL("Capacity", "string",
        "capacity is the description of the persistent volume's resources and capacity.", 0,
        pv_capacity),
    COL("Access Modes", "string", "accessModes contains all ways the volume can be mounted.", 0,
        pv_access),
    COL("Reclaim Policy", "string",
        "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released "
        "from its claim.",
        0, pv_reclaim),
    COL("Status", "string",
        "phase indicates if a volume is available, bound to a claim, or released by a claim.", 0,
        phase_or_terminating),
    COL("Claim", "string",
        "claimRef is part of a bi-directional binding between PersistentVolume and "
        "PersistentVolumeClaim.",
        0, pv_claim),
    COL("StorageClass", "string", "StorageClass of the pv", 0, storage_class_of),
    COL("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv", 0, vac_name),
    COL("Reason", "string", "reason is a brief CamelCase string that describes any failure.", 0,
        pv_reason),
    AGE_COL,
    COL("VolumeMode", "string",
        "volumeMode defines if a volume is intended to be used with a formatted filesystem or to "
        "remain in raw block state.",
        1, volume_mode),
    END};

STR_CELL(pvc_volume, "spec.volumeName")

/* Capacity and access modes show only once the claim is bound to a volume. */
static json_t *pvc_capacity(const json_t *obj) {
  if (empty(str_at(obj, "spec.volumeName")))
    return json_string("");
  _cleanup_free_ char *q = quantity_text(at(obj, "status.capacity.storage"), "0");
  return json_string(q);
}

static json_t *pvc_access(const json_t *obj) {
  struct strbuf b = {0};
  if (!empty(str_at(obj, "spec.volumeName")))
    access_modes(at(obj, "status.accessModes"), &b);
  return sb_cell(&b);
}

const struct api_column columns_persistentvolumeclaims[] = {
    NAME_COL,
    COL("Status", "string", "phase represents the current phase of PersistentVolumeClaim.", 0,
        phase_or_terminating),
    COL("Volume", "string",
        "volumeName is the binding reference to the PersistentVolume backing this claim.", 0,
        pvc_volume),
    COL("Capacity", "string", "capacity represents the actual resources of the underlying volume.",
        0, pvc_capacity),
    COL("Access Modes", "string",
        "accessModes contains the actual access modes the volume backing the PVC has.", 0,
        pvc_access),
    COL("StorageClass", "string", "StorageClass of the pvc", 0, storage_class_of),
    COL("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc", 0, vac_name),
    AGE_COL,
    COL("VolumeMode", "string", "volumeMode defines what type of volume is required by the claim.",
        1, volume_mode),
    END};

/* ---- quotas and component statuses ---- */

/* "cpu: 100m/1, memory: 0/1Gi": used over hard per resource, sorted by name; resources
 * named limits.* go to the LIMIT column, the rest to REQUEST. */
static json_t *quota_column(const json_t *obj, bool limits) {
  json_t *hard = at(obj, "status.hard"), *used = at(obj, "status.used");
  size_t n = json_is_object(hard) ? json_object_size(hard) : 0, i = 0;
  const char **keys = xcalloc(n ? n : 1, sizeof(*keys));
  const char *k;
  json_t *v;
  json_object_foreach(hard, k, v) keys[i++] = k;
  qsort(keys, n, sizeof(*keys), strcmp_ptr);
  struct strbuf b = {0};
  for (i = 0; i < n; i++) {
    if (startswith(keys[i], "limits.") != limits)
      continue;
    _cleanup_free_ char *u = quantity_text(json_object_get(used, keys[i]), "0");
    _cleanup_free_ char *h = quantity_text(json_object_get(hard, keys[i]), "0");
    if (b.len)
      strbuf_appends(&b, ", ");
    strbuf_appendf(&b, "%s: %s/%s", keys[i], u, h);
  }
  free(keys);
  return sb_cell(&b);
}

static json_t *quota_request(const json_t *o) { return quota_column(o, false); }
static json_t *quota_limit(const json_t *o) { return quota_column(o, true); }

const struct api_column columns_resourcequotas[] = {
    NAME_COL, AGE_COL,
    COL("Request", "string",
        "Request represents a minimum amount of cpu/memory that a container may consume.", 0,
        quota_request),
    COL("Limit", "string",
        "Limits control the maximum amount of cpu/memory that a container may use independent of "
        "contention on the node.",
        0, quota_limit),
    END};

/* The Healthy condition decides; without one the component is Unknown. */
static json_t *cs_field(const json_t *obj, int which) {
  size_t i;
  json_t *c;
  json_array_foreach(at(obj, "conditions"), i, c) {
    if (!streq_ptr(str_at(c, "type"), "Healthy"))
      continue;
    if (which == 0)
      return json_string(streq_ptr(str_at(c, "status"), "True") ? "Healthy" : "Unhealthy");
    return string_cell(str_at(c, which == 1 ? "message" : "error"));
  }
  return json_string(which == 0 ? "Unknown" : "");
}
static json_t *cs_status(const json_t *o) { return cs_field(o, 0); }
static json_t *cs_message(const json_t *o) { return cs_field(o, 1); }
static json_t *cs_error(const json_t *o) { return cs_field(o, 2); }

const struct api_column columns_componentstatuses[] = {
    NAME_COL, COL("Status", "string", "Status of the component conditions", 0, cs_status),
    COL("Message", "string", "Message of the component conditions", 0, cs_message),
    COL("Error", "string", "Error of the component conditions", 0, cs_error), END};

/* ---- workloads ---- */

/* spec.replicas defaults to 1 for every replicated workload. */
static json_int_t desired_replicas(const json_t *obj) {
  json_t *r = at(obj, "spec.replicas");
  return json_is_integer(r) ? json_integer_value(r) : 1;
}

static json_t *desired_cell(const json_t *o) { return json_integer(desired_replicas(o)); }
INT_CELL(current_replicas, "status.replicas")
INT_CELL(ready_replicas, "status.readyReplicas")
INT_CELL(updated_replicas, "status.updatedReplicas")
INT_CELL(available_replicas, "status.availableReplicas")

/* "2/3": ready over desired. */
static json_t *ready_of_desired(const json_t *obj) {
  _cleanup_free_ char *v = xasprintf("%lld/%lld", (long long)int_at(obj, "status.readyReplicas"),
                                     (long long)desired_replicas(obj));
  return json_string(v);
}

static json_t *rc_containers(const json_t *o) {
  return containers_field(o, "spec.template.spec", "name");
}
static json_t *rc_images(const json_t *o) {
  return containers_field(o, "spec.template.spec", "image");
}
/* A ReplicationController's selector is a plain label map. */
static json_t *rc_selector(const json_t *o) { return labels_cell(at(o, "spec.selector")); }

const struct api_column columns_replicationcontrollers[] = {
    NAME_COL,
    COL("Desired", "integer", "Replicas is the number of desired replicas.", 0, desired_cell),
    COL("Current", "integer", "Replicas is the most recently observed number of replicas.", 0,
        current_replicas),
    COL("Ready", "integer", "The number of ready replicas for this replication controller.", 0,
        ready_replicas),
    AGE_COL,
    WORKLOAD_WIDE(rc),
    END};

TEMPLATE_CELLS(rs, "spec.template.spec", "spec.selector")
const struct api_column columns_replicasets[] = {
    NAME_COL,
    COL("Desired", "integer", "Replicas is the number of desired replicas.", 0, desired_cell),
    COL("Current", "integer", "Replicas is the most recently observed number of replicas.", 0,
        current_replicas),
    COL("Ready", "integer", "The number of ready replicas for this replica set.", 0,
        ready_replicas),
    AGE_COL,
    WORKLOAD_WIDE(rs),
    END};

/* A deployment prints its selector as LabelSelectorAsSelector does: "" when empty,
 * "<invalid>" when it does not parse. */
static json_t *deploy_selector(const json_t *obj) {
  _cleanup_selector_ selector_t *s = NULL;
  if (selector_from_json(at(obj, "spec.selector"), &s, NULL) < 0)
    return json_string("<invalid>");
  _cleanup_free_ char *str = selector_to_string(s);
  return json_string(str);
}
static json_t *deploy_containers(const json_t *o) { return rc_containers(o); }
static json_t *deploy_images(const json_t *o) { return rc_images(o); }

const struct api_column columns_deployments[] = {
    NAME_COL,
    COL("Ready", "string", "Number of the pod with ready state", 0, ready_of_desired),
    COL("Up-to-date", "string",
        "Total number of non-terminated pods targeted by this deployment that have the desired "
        "template spec.",
        0, updated_replicas),
    COL("Available", "string",
        "Total number of available pods (ready for at least minReadySeconds) targeted by this "
        "deployment.",
        0, available_replicas),
    AGE_COL,
    WORKLOAD_WIDE(deploy),
    END};

const struct api_column columns_statefulsets[] = {
    NAME_COL,
    COL("Ready", "string", "Number of the pod with ready state", 0, ready_of_desired),
    AGE_COL,
    COL("Containers", "string", D_CONTAINERS, 1, rc_containers),
    COL("Images", "string", D_IMAGES, 1, rc_images),
    END};

INT_CELL(ds_desired, "status.desiredNumberScheduled")
INT_CELL(ds_current, "status.currentNumberScheduled")
INT_CELL(ds_ready, "status.numberReady")
INT_CELL(ds_updated, "status.updatedNumberScheduled")
INT_CELL(ds_available, "status.numberAvailable")
static json_t *ds_node_selector(const json_t *o) {
  return labels_cell(at(o, "spec.template.spec.nodeSelector"));
}
TEMPLATE_CELLS(ds, "spec.template.spec", "spec.selector")

const struct api_column columns_daemonsets[] = {
    NAME_COL,
    COL("Desired", "integer", "The total number of nodes that should be running the daemon pod.", 0,
        ds_desired),
    COL("Current", "integer",
        "The number of nodes that are running at least 1 daemon pod and are supposed to run the "
        "daemon pod.",
        0, ds_current),
    COL("Ready", "integer",
        "The number of nodes that should be running the daemon pod and have one or more of the "
        "daemon pod running and ready.",
        0, ds_ready),
    COL("Up-to-date", "integer", "The total number of nodes that are running updated daemon pod.",
        0, ds_updated),
    COL("Available", "integer",
        "The number of nodes that should be running the daemon pod and have one or more of the "
        "daemon pod running and available.",
        0, ds_available),
    COL("Node Selector", "string",
        "NodeSelector is a selector which must be true for the pod to fit on a node.", 0,
        ds_node_selector),
    AGE_COL,
    WORKLOAD_WIDE(ds),
    END};

/* "daemonset.apps/web": the controlling owner as lower-case kind.group/name. */
static json_t *cr_controller(const json_t *obj) {
  size_t i;
  json_t *ref;
  json_array_foreach(at(obj, "metadata.ownerReferences"), i, ref) {
    if (!json_is_true(json_object_get(ref, "controller")))
      continue;
    const char *api_version = str_or_empty(ref, "apiVersion");
    const char *slash = strchr(api_version, '/');
    if (slash && strchr(slash + 1, '/'))
      return NULL;
    _cleanup_free_ char *group =
        slash ? xstrndup(api_version, (size_t)(slash - api_version)) : xstrdup("");
    const char *kind = str_or_empty(ref, "kind"), *name = str_or_empty(ref, "name");
    if (!*kind && !*group)
      return json_string(name);
    _cleanup_free_ char *v =
        *group ? xasprintf("%s.%s/%s", kind, group, name) : xasprintf("%s/%s", kind, name);
    for (char *p = v; *p && *p != '/'; p++)
      if (*p >= 'A' && *p <= 'Z')
        *p = (char)(*p - 'A' + 'a');
    return json_string(v);
  }
  return NULL;
}
INT_CELL(cr_revision, "revision")

const struct api_column columns_controllerrevisions[] = {
    NAME_COL, COL("Controller", "string", "Controller of the object", 0, cr_controller),
    COL("Revision", "string", "Revision indicates the revision of the state represented by Data.",
        0, cr_revision),
    AGE_COL, END};

/* ---- batch ---- */

/* Status from the first condition of each type, in kube's order of precedence. */
static json_t *job_status(const json_t *obj) {
  json_t *conds = at(obj, "status.conditions");
  if (condition_true(conds, "Complete"))
    return json_string("Complete");
  if (condition_true(conds, "Failed"))
    return json_string("Failed");
  if (at(obj, "metadata.deletionTimestamp"))
    return json_string("Terminating");
  if (condition_true(conds, "Suspended"))
    return json_string("Suspended");
  if (condition_true(conds, "FailureTarget"))
    return json_string("FailureTarget");
  return json_string("Running");
}

/* "3/5" succeeded over completions; without completions "1/1", or "0/1 of 3" when
 * several pods run in parallel. */
static json_t *job_completions(const json_t *obj) {
  long long succeeded = (long long)int_at(obj, "status.succeeded");
  json_t *completions = at(obj, "spec.completions");
  _cleanup_free_ char *v = NULL;
  if (json_is_integer(completions)) {
    v = xasprintf("%lld/%lld", succeeded, (long long)json_integer_value(completions));
  } else {
    long long parallelism = (long long)int_at(obj, "spec.parallelism");
    v = parallelism > 1 ? xasprintf("%lld/1 of %lld", succeeded, parallelism)
                        : xasprintf("%lld/1", succeeded);
  }
  return json_string(v);
}

/* Completion minus start time; still running: time since start; not started: "". */
static json_t *job_duration(const json_t *obj) {
  struct timespec start, end;
  if (!time_set(str_at(obj, "status.startTime"), &start))
    return json_string("");
  if (!time_set(str_at(obj, "status.completionTime"), &end))
    end = now_ts();
  char buf[32];
  return json_string(timeutil_human_duration(ns_between(&start, &end), buf, sizeof(buf)));
}

TEMPLATE_CELLS(job, "spec.template.spec", "spec.selector")

const struct api_column columns_jobs[] = {
    NAME_COL,
    COL("Status", "string", "Status of the job.", 0, job_status),
    COL("Completions", "string", "The number of pods which reached phase Succeeded.", 0,
        job_completions),
    COL("Duration", "string", "Time required to complete the job.", 0, job_duration),
    AGE_COL,
    WORKLOAD_WIDE(job),
    END};

STR_CELL(cj_schedule, "spec.schedule")
static json_t *cj_timezone(const json_t *obj) {
  const char *tz = str_at(obj, "spec.timeZone");
  return tz ? json_string(tz) : NULL;
}
static json_t *cj_suspend(const json_t *obj) {
  json_t *s = at(obj, "spec.suspend");
  if (!json_is_boolean(s))
    return json_string("<unset>");
  return json_string(json_is_true(s) ? "True" : "False");
}
COUNT_CELL(cj_active, "status.active")
static json_t *cj_last_schedule(const json_t *obj) {
  const char *t = str_at(obj, "status.lastScheduleTime");
  return t ? since_cell(t) : NULL;
}
TEMPLATE_CELLS(cj, "spec.jobTemplate.spec.template.spec", "spec.jobTemplate.spec.selector")

const struct api_column columns_cronjobs[] = {
    NAME_COL,
    COL("Schedule", "string", "The schedule in Cron format.", 0, cj_schedule),
    COL("Timezone", "string", "The time zone name for the given schedule.", 0, cj_timezone),
    COL("Suspend", "boolean", "This flag tells the controller to suspend subsequent executions.", 0,
        cj_suspend),
    COL("Active", "integer", "A list of pointers to currently running jobs.", 0, cj_active),
    COL("Last Schedule", "string",
        "Information when was the last time the job was successfully scheduled.", 0,
        cj_last_schedule),
    AGE_COL,
    WORKLOAD_WIDE(cj),
    END};

/* ---- autoscaling ---- */

static json_t *hpa_reference(const json_t *obj) {
  _cleanup_free_ char *v = xasprintf("%s/%s", str_or_empty(obj, "spec.scaleTargetRef.kind"),
                                     str_or_empty(obj, "spec.scaleTargetRef.name"));
  return json_string(v);
}

/* current/target of a metric with a value or average-value target. */
static char *hpa_value_pair(const json_t *spec, const json_t *status) {
  json_t *avg = json_object_get(json_object_get(spec, "target"), "averageValue");
  json_t *cur = json_object_get(status, "current");
  if (avg) {
    json_t *cur_avg = json_object_get(cur, "averageValue");
    _cleanup_free_ char *c = cur_avg ? quantity_text(cur_avg, "") : xstrdup("<unknown>");
    _cleanup_free_ char *t = quantity_text(avg, "");
    return xasprintf("%s/%s (avg)", c, t);
  }
  _cleanup_free_ char *c =
      status ? quantity_text(json_object_get(cur, "value"), "<nil>") : xstrdup("<unknown>");
  _cleanup_free_ char *t =
      quantity_text(json_object_get(json_object_get(spec, "target"), "value"), "<nil>");
  return xasprintf("%s/%s", c, t);
}

/* "cpu: 40%/80%" for a (container) resource metric. */
static char *hpa_resource(const json_t *spec, const json_t *status) {
  const char *name = str_or_empty(spec, "name");
  json_t *target = json_object_get(spec, "target"), *cur = json_object_get(status, "current");
  json_t *avg = json_object_get(target, "averageValue");
  if (avg) {
    _cleanup_free_ char *c = status ? quantity_text(json_object_get(cur, "averageValue"), "<nil>")
                                    : xstrdup("<unknown>");
    _cleanup_free_ char *t = quantity_text(avg, "");
    return xasprintf("%s: %s/%s", name, c, t);
  }
  json_t *cu = json_object_get(cur, "averageUtilization");
  json_t *tu = json_object_get(target, "averageUtilization");
  _cleanup_free_ char *c = json_is_integer(cu)
                               ? xasprintf("%lld%%", (long long)json_integer_value(cu))
                               : xstrdup("<unknown>");
  _cleanup_free_ char *t = json_is_integer(tu)
                               ? xasprintf("%lld%%", (long long)json_integer_value(tu))
                               : xstrdup("<auto>");
  return xasprintf("%s: %s/%s", name, c, t);
}

/* The status entry i describes spec metric i only if it has the same source: kube's
 * printer pairs them by index and checks the source is set. */
static json_t *hpa_status_source(const json_t *statuses, size_t i, const char *source) {
  return json_object_get(json_array_get(statuses, i), source);
}

static char *hpa_metric(const json_t *spec, const json_t *statuses, size_t i) {
  const char *type = str_or_empty(spec, "type");
  if (streq(type, "External"))
    return hpa_value_pair(json_object_get(spec, "external"),
                          hpa_status_source(statuses, i, "external"));
  if (streq(type, "Object"))
    return hpa_value_pair(json_object_get(spec, "object"),
                          hpa_status_source(statuses, i, "object"));
  if (streq(type, "Pods")) {
    json_t *st = hpa_status_source(statuses, i, "pods");
    _cleanup_free_ char *c =
        st ? quantity_text(at(st, "current.averageValue"), "<nil>") : xstrdup("<unknown>");
    _cleanup_free_ char *t = quantity_text(at(spec, "pods.target.averageValue"), "<nil>");
    return xasprintf("%s/%s", c, t);
  }
  if (streq(type, "Resource"))
    return hpa_resource(json_object_get(spec, "resource"),
                        hpa_status_source(statuses, i, "resource"));
  if (streq(type, "ContainerResource"))
    return hpa_resource(json_object_get(spec, "containerResource"),
                        hpa_status_source(statuses, i, "containerResource"));
  return xstrdup("<unknown type>");
}

/* TARGETS: the first two metrics, then "+ N more...". autoscaling/v1 objects carry a CPU
 * percentage instead of metrics; an HPA with neither targets 80% CPU, the default kube
 * writes on storage. */
static json_t *hpa_targets(const json_t *obj) {
  json_t *specs = at(obj, "spec.metrics"), *statuses = at(obj, "status.currentMetrics");
  _cleanup_json_ json_t *v1_specs = NULL, *v1_statuses = NULL;
  if (!json_array_size(specs)) {
    json_t *pct = at(obj, "spec.targetCPUUtilizationPercentage");
    json_t *cur = at(obj, "status.currentCPUUtilizationPercentage");
    v1_specs = json_pack("[{s:s,s:{s:s,s:{s:s,s:I}}}]", "type", "Resource", "resource", "name",
                         "cpu", "target", "type", "Utilization", "averageUtilization",
                         (json_int_t)(json_is_integer(pct) ? json_integer_value(pct) : 80));
    specs = v1_specs;
    if (json_is_integer(cur)) {
      v1_statuses = json_pack("[{s:s,s:{s:s,s:{s:I}}}]", "type", "Resource", "resource", "name",
                              "cpu", "current", "averageUtilization", json_integer_value(cur));
      statuses = v1_statuses;
    }
  }
  const size_t max = 2;
  size_t count = json_array_size(specs), i;
  json_t *spec;
  struct strbuf b = {0};
  json_array_foreach(specs, i, spec) {
    if (i == max)
      break;
    _cleanup_free_ char *m = hpa_metric(spec, statuses, i);
    sb_join(&b, ", ", m);
  }
  return list_with_more(&b, count, max, NULL);
}

/* minReplicas defaults to 1 on write. */
static json_t *hpa_min(const json_t *obj) {
  json_t *m = at(obj, "spec.minReplicas");
  _cleanup_free_ char *v =
      xasprintf("%lld", json_is_integer(m) ? (long long)json_integer_value(m) : 1LL);
  return json_string(v);
}
INT_CELL(hpa_max, "spec.maxReplicas")
INT_CELL(hpa_replicas, "status.currentReplicas")

const struct api_column columns_hpa[] = {
    NAME_COL,
    COL("Reference", "string", "scaleTargetRef points to the target resource to scale.", 0,
        hpa_reference),
    COL("Targets", "string",
        "metrics contains the specifications for which to use to calculate the desired replica "
        "count.",
        0, hpa_targets),
    COL("MinPods", "string",
        "minReplicas is the lower limit for the number of replicas to which the autoscaler can "
        "scale down.",
        0, hpa_min),
    COL("MaxPods", "string",
        "maxReplicas is the upper limit for the number of replicas to which the autoscaler can "
        "scale up.",
        0, hpa_max),
    COL("Replicas", "string",
        "currentReplicas is current number of replicas of pods managed by this autoscaler.", 0,
        hpa_replicas),
    AGE_COL,
    END};

/* ---- networking ---- */

static json_t *ing_class(const json_t *obj) {
  const char *c = str_at(obj, "spec.ingressClassName");
  return c ? json_string(c) : NULL;
}

/* Up to three hosts; "*" when no rule names one. */
static json_t *ing_hosts(const json_t *obj) {
  json_t *rules = at(obj, "spec.rules");
  const size_t max = 3;
  size_t shown = 0, i;
  bool more = false;
  json_t *r;
  struct strbuf b = {0};
  json_array_foreach(rules, i, r) {
    if (shown == max)
      more = true;
    const char *host = str_at(r, "host");
    if (!more && !empty(host)) {
      sb_join(&b, ",", host);
      shown++;
    }
  }
  if (!shown) {
    free(b.s);
    return json_string("*");
  }
  if (more)
    strbuf_appendf(&b, " + %zu more...", json_array_size(rules) - max);
  return sb_cell(&b);
}

static json_t *ing_address(const json_t *obj) {
  struct strbuf b = {0};
  lb_ingress(at(obj, "status.loadBalancer.ingress"), &b);
  return sb_cell(&b);
}

static json_t *ing_ports(const json_t *obj) {
  return json_string(json_array_size(at(obj, "spec.tls")) ? "80, 443" : "80");
}

const struct api_column columns_ingresses[] = {
    NAME_COL,
    COL("Class", "string",
        "The name of the IngressClass resource that should be used for additional configuration", 0,
        ing_class),
    COL("Hosts", "string",
        "Hosts that incoming requests are matched against before the ingress rule", 0, ing_hosts),
    COL("Address", "string", "Address is a list containing ingress points for the load-balancer", 0,
        ing_address),
    COL("Ports", "string", "Ports of TLS configurations that open", 0, ing_ports),
    AGE_COL,
    END};

STR_CELL(ingclass_controller, "spec.controller")
/* "Kind.apiGroup/name" of the parameters reference. */
static json_t *ingclass_parameters(const json_t *obj) {
  json_t *p = at(obj, "spec.parameters");
  if (!p)
    return NULL;
  const char *group = str_at(p, "apiGroup");
  _cleanup_free_ char *v =
      group ? xasprintf("%s.%s/%s", str_or_empty(p, "kind"), group, str_or_empty(p, "name"))
            : xasprintf("%s/%s", str_or_empty(p, "kind"), str_or_empty(p, "name"));
  return json_string(v);
}

const struct api_column columns_ingressclasses[] = {
    NAME_COL,
    COL("Controller", "string", "Controller that is responsible for handling this class", 0,
        ingclass_controller),
    COL("Parameters", "string", "A reference to a resource with additional parameters", 0,
        ingclass_parameters),
    AGE_COL, END};

static json_t *netpol_selector(const json_t *obj) {
  /* podSelector is a value in kube's type: a missing one is the empty selector. */
  json_t *sel = at(obj, "spec.podSelector");
  _cleanup_json_ json_t *empty_sel = sel ? NULL : json_object();
  return label_selector_cell(sel ? sel : empty_sel);
}

const struct api_column columns_networkpolicies[] = {
    NAME_COL,
    COL("Pod-Selector", "string",
        "podSelector selects the pods to which this NetworkPolicy object applies.", 0,
        netpol_selector),
    AGE_COL, END};

STR_CELL(eps_address_type, "addressType")

static json_t *eps_ports(const json_t *obj) {
  const size_t max = 3;
  size_t count = 0, i;
  json_t *p;
  struct strbuf b = {0};
  json_array_foreach(at(obj, "ports"), i, p) {
    count++;
    if (i >= max)
      continue;
    json_t *port = json_object_get(p, "port");
    const char *name = str_at(p, "name");
    if (json_is_integer(port))
      strbuf_appendf(&b, "%s%lld", b.len ? "," : "", (long long)json_integer_value(port));
    else
      sb_join(&b, ",", name ? name : "*");
  }
  return list_with_more(&b, count, max, "<unset>");
}

static json_t *eps_endpoints(const json_t *obj) {
  const size_t max = 3;
  size_t count = 0, i, j;
  json_t *e, *a;
  struct strbuf b = {0};
  json_array_foreach(at(obj, "endpoints"), i, e) {
    json_array_foreach(json_object_get(e, "addresses"), j, a) {
      if (count < max && json_is_string(a))
        sb_join(&b, ",", json_string_value(a));
      count++;
    }
  }
  return list_with_more(&b, count, max, "<unset>");
}

const struct api_column columns_endpointslices[] = {
    NAME_COL,
    COL("AddressType", "string",
        "addressType specifies the type of address carried by this EndpointSlice.", 0,
        eps_address_type),
    COL("Ports", "string",
        "ports specifies the list of network ports exposed by each endpoint in this slice.", 0,
        eps_ports),
    COL("Endpoints", "string", "endpoints is a list of unique endpoints in this slice.", 0,
        eps_endpoints),
    AGE_COL,
    END};

/* ---- coordination, policy, rbac ---- */

STR_CELL(lease_holder, "spec.holderIdentity")
const struct api_column columns_leases[] = {
    NAME_COL,
    COL("Holder", "string",
        "holderIdentity contains the identity of the holder of a current lease.", 0, lease_holder),
    AGE_COL, END};

/* An IntOrString bound, "N/A" when unset. */
static json_t *pdb_bound(const json_t *obj, const char *path) {
  json_t *v = at(obj, path);
  if (!v || json_is_null(v))
    return json_string("N/A");
  _cleanup_free_ char *s = int_or_string_text(v);
  return json_string(s);
}
static json_t *pdb_min(const json_t *o) { return pdb_bound(o, "spec.minAvailable"); }
static json_t *pdb_max(const json_t *o) { return pdb_bound(o, "spec.maxUnavailable"); }
INT_CELL(pdb_allowed, "status.disruptionsAllowed")

const struct api_column columns_pdb[] = {
    NAME_COL,
    COL("Min Available", "string", "The minimum number of pods that must be available.", 0,
        pdb_min),
    COL("Max Unavailable", "string", "The maximum number of pods that may be unavailable.", 0,
        pdb_max),
    COL("Allowed Disruptions", "integer",
        "Calculated number of pods that may be disrupted at this time.", 0, pdb_allowed),
    AGE_COL,
    END};

static json_t *rb_role(const json_t *obj) {
  _cleanup_free_ char *v =
      xasprintf("%s/%s", str_or_empty(obj, "roleRef.kind"), str_or_empty(obj, "roleRef.name"));
  return json_string(v);
}

/* Subjects of one kind joined with ", "; service accounts as namespace/name. */
static json_t *rb_subjects(const json_t *obj, const char *kind) {
  struct strbuf b = {0};
  size_t i;
  json_t *s;
  json_array_foreach(at(obj, "subjects"), i, s) {
    if (!streq_ptr(str_at(s, "kind"), kind))
      continue;
    if (streq(kind, "ServiceAccount")) {
      _cleanup_free_ char *v =
          xasprintf("%s/%s", str_or_empty(s, "namespace"), str_or_empty(s, "name"));
      sb_join(&b, ", ", v);
    } else {
      sb_join(&b, ", ", str_or_empty(s, "name"));
    }
  }
  return sb_cell(&b);
}
static json_t *rb_users(const json_t *o) { return rb_subjects(o, "User"); }
static json_t *rb_groups(const json_t *o) { return rb_subjects(o, "Group"); }
static json_t *rb_sas(const json_t *o) { return rb_subjects(o, "ServiceAccount"); }

const struct api_column columns_rolebindings[] = {
    NAME_COL,
    COL("Role", "string",
        "RoleRef can reference a Role in the current namespace or a ClusterRole in the global "
        "namespace.",
        0, rb_role),
    AGE_COL,
    COL("Users", "string", "Users in the roleBinding", 1, rb_users),
    COL("Groups", "string", "Groups in the roleBinding", 1, rb_groups),
    COL("ServiceAccounts", "string", "ServiceAccounts in the roleBinding", 1, rb_sas),
    END};

/* ---- storage.k8s.io ---- */

/* The default class is marked in its name, as kubectl users know it. */
static json_t *sc_name(const json_t *obj) {
  json_t *ann = at(obj, "metadata.annotations");
  const char *name = str_or_empty(obj, "metadata.name");
  if (streq_ptr(
          json_string_value(json_object_get(ann, "storageclass.kubernetes.io/is-default-class")),
          "true") ||
      streq_ptr(json_string_value(
                    json_object_get(ann, "storageclass.beta.kubernetes.io/is-default-class")),
                "true")) {
    _cleanup_free_ char *v = xasprintf("%s (default)", name);
    return json_string(v);
  }
  return json_string(name);
}
STR_CELL(sc_provisioner, "provisioner")
static json_t *str_default(const json_t *obj, const char *path, const char *def) {
  const char *s = str_at(obj, path);
  return json_string(s ? s : def);
}
static json_t *sc_reclaim(const json_t *o) { return str_default(o, "reclaimPolicy", "Delete"); }
static json_t *sc_binding(const json_t *o) {
  return str_default(o, "volumeBindingMode", "Immediate");
}
static json_t *bool_default(const json_t *obj, const char *path, bool def) {
  json_t *v = at(obj, path);
  return json_boolean(json_is_boolean(v) ? json_is_true(v) : def);
}
static json_t *sc_expansion(const json_t *o) {
  return bool_default(o, "allowVolumeExpansion", false);
}

const struct api_column columns_storageclasses[] = {
    {"Name", "string", "name", D_NAME, 0, NULL, sc_name},
    COL("Provisioner", "string", "provisioner indicates the type of the provisioner.", 0,
        sc_provisioner),
    COL("ReclaimPolicy", "string",
        "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of "
        "this storage class.",
        0, sc_reclaim),
    COL("VolumeBindingMode", "string",
        "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.",
        0, sc_binding),
    COL("AllowVolumeExpansion", "string",
        "allowVolumeExpansion shows whether the storage class allow volume expand.", 0,
        sc_expansion),
    AGE_COL,
    END};

static json_t *csid_attach(const json_t *o) { return bool_default(o, "spec.attachRequired", true); }
static json_t *csid_podinfo(const json_t *o) {
  return bool_default(o, "spec.podInfoOnMount", false);
}
static json_t *csid_capacity(const json_t *o) {
  return bool_default(o, "spec.storageCapacity", false);
}
static json_t *csid_republish(const json_t *o) {
  return bool_default(o, "spec.requiresRepublish", false);
}
static json_t *csid_tokens(const json_t *obj) {
  json_t *t = at(obj, "spec.tokenRequests");
  if (!t || json_is_null(t))
    return json_string("<unset>");
  struct strbuf b = {0};
  size_t i;
  json_t *r;
  json_array_foreach(t, i, r) {
    if (i)
      strbuf_appends(&b, ",");
    strbuf_appends(&b, str_or_empty(r, "audience"));
  }
  return sb_cell(&b);
}
static json_t *csid_modes(const json_t *obj) {
  struct strbuf b = {0};
  join_strings(at(obj, "spec.volumeLifecycleModes"), ",", &b);
  if (!b.len) {
    free(b.s);
    return NULL;
  }
  return sb_cell(&b);
}

const struct api_column columns_csidrivers[] = {
    NAME_COL,
    COL("AttachRequired", "boolean",
        "attachRequired indicates this CSI volume driver requires an attach operation.", 0,
        csid_attach),
    COL("PodInfoOnMount", "boolean",
        "podInfoOnMount indicates this CSI volume driver requires additional pod information "
        "during mount operations.",
        0, csid_podinfo),
    COL("StorageCapacity", "boolean",
        "storageCapacity indicates that the CSI volume driver wants pod scheduling to consider the "
        "storage capacity that the driver deployment will report.",
        0, csid_capacity),
    COL("TokenRequests", "string",
        "tokenRequests indicates the CSI driver needs pods' service account tokens it is mounting "
        "volume for to do necessary authentication.",
        0, csid_tokens),
    COL("RequiresRepublish", "boolean",
        "requiresRepublish indicates the CSI driver wants NodePublishVolume being periodically "
        "called to reflect any possible change in the mounted volume.",
        0, csid_republish),
    COL("Modes", "string",
        "volumeLifecycleModes defines what kind of volumes this CSI volume driver supports.", 0,
        csid_modes),
    AGE_COL,
    END};

COUNT_CELL(csinode_drivers, "spec.drivers")
const struct api_column columns_csinodes[] = {
    NAME_COL,
    COL("Drivers", "integer", "Drivers indicates the number of CSI drivers registered on the node",
        0, csinode_drivers),
    AGE_COL, END};

STR_CELL(va_attacher, "spec.attacher")
STR_CELL(va_pv, "spec.source.persistentVolumeName")
STR_CELL(va_node, "spec.nodeName")
static json_t *va_attached(const json_t *o) { return bool_default(o, "status.attached", false); }

const struct api_column columns_volumeattachments[] = {
    NAME_COL,
    {"Attacher", "string", "name",
     "attacher indicates the name of the volume driver that MUST handle this request.", 0, NULL,
     va_attacher},
    COL("PV", "string",
        "persistentVolumeName represents the name of the persistent volume to attach.", 0, va_pv),
    COL("Node", "string", "nodeName represents the node that the volume should be attached to.", 0,
        va_node),
    COL("Attached", "boolean", "attached indicates the volume is successfully attached.", 0,
        va_attached),
    AGE_COL,
    END};

/* ---- scheduling, node, certificates, admission ---- */

INT_CELL(pc_value, "value")
static json_t *pc_default(const json_t *o) { return bool_default(o, "globalDefault", false); }
STR_CELL(pc_preemption, "preemptionPolicy")

const struct api_column columns_priorityclasses[] = {
    NAME_COL,
    COL("Value", "integer", "value represents the integer value of this priority class.", 0,
        pc_value),
    COL("Global-Default", "boolean",
        "globalDefault specifies whether this PriorityClass should be considered as the default "
        "priority for pods that do not have any priority class.",
        0, pc_default),
    AGE_COL,
    COL("PreemptionPolicy", "string",
        "preemptionPolicy is the Policy for preempting pods with lower priority.", 0,
        pc_preemption),
    END};

STR_CELL(rtc_handler, "handler")
const struct api_column columns_runtimeclasses[] = {
    NAME_COL,
    COL("Handler", "string",
        "handler specifies the underlying runtime and configuration that the CRI implementation "
        "will use to handle pods of this class.",
        0, rtc_handler),
    AGE_COL, END};

static json_t *csr_signer(const json_t *obj) {
  const char *s = str_at(obj, "spec.signerName");
  return empty(s) ? NULL : json_string(s);
}
STR_CELL(csr_requestor, "spec.username")
static json_t *csr_duration(const json_t *obj) {
  json_t *s = at(obj, "spec.expirationSeconds");
  if (!json_is_integer(s))
    return NULL;
  char buf[32];
  return json_string(
      timeutil_human_duration(json_integer_value(s) * 1000000000LL, buf, sizeof(buf)));
}

/* Denied over Approved over Pending, then ",Failed" and ",Issued". */
static json_t *csr_condition(const json_t *obj) {
  bool approved = false, denied = false, failed = false;
  size_t i;
  json_t *c;
  json_array_foreach(at(obj, "status.conditions"), i, c) {
    const char *t = str_or_empty(c, "type");
    approved |= streq(t, "Approved");
    denied |= streq(t, "Denied");
    failed |= streq(t, "Failed");
  }
  struct strbuf b = {0};
  strbuf_appends(&b, denied ? "Denied" : approved ? "Approved" : "Pending");
  if (failed)
    strbuf_appends(&b, ",Failed");
  if (!empty(str_at(obj, "status.certificate")))
    strbuf_appends(&b, ",Issued");
  return sb_cell(&b);
}

const struct api_column columns_csr[] = {
    NAME_COL,
    AGE_COL,
    COL("SignerName", "string", "signerName indicates the requested signer.", 0, csr_signer),
    COL("Requestor", "string",
        "username contains the name of the user that created the CertificateSigningRequest.", 0,
        csr_requestor),
    COL("RequestedDuration", "string",
        "expirationSeconds is the requested duration of validity of the issued certificate.", 0,
        csr_duration),
    COL("Condition", "string", "conditions applied to the request.", 0, csr_condition),
    END};

COUNT_CELL(webhook_count, "webhooks")
const struct api_column columns_webhooks[] = {
    NAME_COL,
    COL("Webhooks", "integer",
        "Webhooks indicates the number of webhooks registered in this configuration", 0,
        webhook_count),
    AGE_COL, END};
