/* The core/v1 tables: namespaces, config maps, secrets, service accounts, pods, pod
 * templates, services, endpoints, nodes, events (shared with events.k8s.io), replication
 * controllers, persistent volumes and claims, limit ranges, resource quotas and component
 * statuses. Shared helpers and macros are in columns_internal.h. */
#include "api/columns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/columns_internal.h"
#include "lib/json.h"
#include "lib/strbuf.h"
#include "lib/timeutil.h"

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
  json_array_foreach(col_at(pod, "spec.initContainers"), i, c) {
    if (streq_ptr(col_str_at(c, "name"), name))
      return streq_ptr(col_str_at(c, "restartPolicy"), "Always");
  }
  return false;
}

static void note_restart(const json_t *status, struct timespec *last) {
  struct timespec t;
  if (!col_time_set(col_str_at(status, "lastState.terminated.finishedAt"), &t))
    return;
  if (t.tv_sec > last->tv_sec || (t.tv_sec == last->tv_sec && t.tv_nsec > last->tv_nsec))
    *last = t;
}

/* printPod's walk over the container statuses: the READY count, the STATUS reason and
 * the RESTARTS count with the time of the last restart. */
static void pod_summarize(const json_t *pod, struct pod_summary *s) {
  memset(s, 0, sizeof(*s));
  const char *phase = col_str_or_empty(pod, "status.phase");
  const char *status_reason = col_str_at(pod, "status.reason");
  snprintf(s->reason, sizeof(s->reason), "%s", col_empty(status_reason) ? phase : status_reason);

  json_t *conditions = col_at(pod, "status.conditions");
  size_t i;
  json_t *c;
  json_array_foreach(conditions, i, c) {
    if (streq_ptr(col_str_at(c, "type"), "PodScheduled") &&
        streq_ptr(col_str_at(c, "reason"), "SchedulingGated"))
      snprintf(s->reason, sizeof(s->reason), "SchedulingGated");
  }

  json_t *inits = col_at(pod, "spec.initContainers");
  s->total = (long)json_array_size(col_at(pod, "spec.containers"));
  json_array_foreach(inits, i, c) {
    if (streq_ptr(col_str_at(c, "restartPolicy"), "Always"))
      s->total++;
  }

  /* Sidecars (restartable init containers) keep running, so their restarts count even
   * once the pod is initialized; plain init containers' restarts only while initializing. */
  long sidecar_restarts = 0;
  struct timespec sidecar_last = {0};
  bool initializing = false;
  json_array_foreach(col_at(pod, "status.initContainerStatuses"), i, c) {
    json_int_t rc = col_int_at(c, "restartCount");
    bool sidecar = restartable_init(pod, col_str_at(c, "name"));
    s->restarts += rc;
    note_restart(c, &s->last_restart);
    if (sidecar) {
      sidecar_restarts += rc;
      note_restart(c, &sidecar_last);
    }
    json_t *term = col_at(c, "state.terminated");
    const char *waiting = col_str_at(c, "state.waiting.reason");
    if (term && col_int_at(term, "exitCode") == 0)
      continue;
    if (sidecar && json_is_true(json_object_get(c, "started"))) {
      if (json_is_true(json_object_get(c, "ready")))
        s->ready++;
      continue;
    }
    if (term) {
      const char *r = col_str_at(term, "reason");
      if (!col_empty(r))
        snprintf(s->reason, sizeof(s->reason), "Init:%s", r);
      else if (col_int_at(term, "signal"))
        snprintf(s->reason, sizeof(s->reason), "Init:Signal:%lld",
                 (long long)col_int_at(term, "signal"));
      else
        snprintf(s->reason, sizeof(s->reason), "Init:ExitCode:%lld",
                 (long long)col_int_at(term, "exitCode"));
    } else if (!col_empty(waiting) && !streq(waiting, "PodInitializing")) {
      snprintf(s->reason, sizeof(s->reason), "Init:%s", waiting);
    } else {
      snprintf(s->reason, sizeof(s->reason), "Init:%zu/%zu", i, json_array_size(inits));
    }
    initializing = true;
    break;
  }

  if (!initializing || col_condition_true(conditions, "Initialized")) {
    s->restarts = sidecar_restarts;
    s->last_restart = sidecar_last;
    bool has_running = false;
    json_t *statuses = col_at(pod, "status.containerStatuses");
    /* Walked backwards so the first container's state wins, as kubectl users know it. */
    for (size_t k = json_array_size(statuses); k-- > 0;) {
      json_t *st = json_array_get(statuses, k);
      s->restarts += col_int_at(st, "restartCount");
      note_restart(st, &s->last_restart);
      const char *waiting = col_str_at(st, "state.waiting.reason");
      json_t *term = col_at(st, "state.terminated");
      if (!col_empty(waiting)) {
        snprintf(s->reason, sizeof(s->reason), "%s", waiting);
      } else if (term && !col_empty(col_str_at(term, "reason"))) {
        snprintf(s->reason, sizeof(s->reason), "%s", col_str_at(term, "reason"));
      } else if (term) {
        if (col_int_at(term, "signal"))
          snprintf(s->reason, sizeof(s->reason), "Signal:%lld",
                   (long long)col_int_at(term, "signal"));
        else
          snprintf(s->reason, sizeof(s->reason), "ExitCode:%lld",
                   (long long)col_int_at(term, "exitCode"));
      } else if (json_is_true(json_object_get(st, "ready")) && col_at(st, "state.running")) {
        has_running = true;
        s->ready++;
      }
    }
    /* A pod whose last container completed while another still runs is not done. */
    if (streq(s->reason, "Completed") && has_running)
      snprintf(s->reason, sizeof(s->reason), "%s",
               col_condition_true(conditions, "Ready") ? "Running" : "NotReady");
  }

  if (col_at(pod, "metadata.deletionTimestamp")) {
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
  struct timespec now = col_now_ts();
  char buf[32];
  timeutil_human_duration(col_ns_between(&s.last_restart, &now), buf, sizeof(buf));
  _cleanup_free_ char *v = xasprintf("%ld (%s ago)", s.restarts, buf);
  return json_string(v);
}

static json_t *pod_ip(const json_t *obj) {
  const char *ip = col_str_at(json_array_get(col_at(obj, "status.podIPs"), 0), "ip");
  if (col_empty(ip))
    ip = col_str_at(obj, "status.podIP");
  return col_empty(ip) ? NULL : json_string(ip);
}

static json_t *pod_node(const json_t *obj) {
  const char *n = col_str_at(obj, "spec.nodeName");
  return col_empty(n) ? NULL : json_string(n);
}

static json_t *pod_nominated(const json_t *obj) {
  const char *n = col_str_at(obj, "status.nominatedNodeName");
  return col_empty(n) ? NULL : json_string(n);
}

/* "1/2": readiness gates whose condition is True, over all gates. */
static json_t *pod_gates(const json_t *obj) {
  json_t *gates = col_at(obj, "spec.readinessGates"),
         *conditions = col_at(obj, "status.conditions");
  if (!json_array_size(gates))
    return NULL;
  size_t i, j, n = 0;
  json_t *g, *c;
  json_array_foreach(gates, i, g) {
    json_array_foreach(conditions, j, c) {
      if (streq_ptr(col_str_at(c, "type"), col_str_at(g, "conditionType"))) {
        if (streq_ptr(col_str_at(c, "status"), "True"))
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
  return col_containers_field(o, "template.spec", "name");
}
static json_t *podtemplate_images(const json_t *o) {
  return col_containers_field(o, "template.spec", "image");
}
static json_t *podtemplate_labels(const json_t *o) {
  return col_labels_cell(col_at(o, "template.metadata.labels"));
}
const struct api_column columns_podtemplates[] = {
    NAME_COL, COL("Containers", "string", D_CONTAINERS, 0, podtemplate_containers),
    COL("Images", "string", D_IMAGES, 0, podtemplate_images),
    COL("Pod Labels", "string", "The labels for the pod template.", 0, podtemplate_labels), END};

/* ---- services and endpoints ---- */

static const char *service_type(const json_t *obj) {
  const char *t = col_str_at(obj, "spec.type");
  return col_empty(t) ? "ClusterIP" : t;
}

static json_t *svc_type(const json_t *obj) { return json_string(service_type(obj)); }

static json_t *svc_cluster_ip(const json_t *obj) {
  const char *ip = json_string_value(json_array_get(col_at(obj, "spec.clusterIPs"), 0));
  if (col_empty(ip))
    ip = col_str_at(obj, "spec.clusterIP");
  return col_empty(ip) ? NULL : json_string(ip);
}

static json_t *svc_external_ip(const json_t *obj) {
  const char *type = service_type(obj);
  json_t *external = col_at(obj, "spec.externalIPs");
  struct strbuf b = {0};
  if (streq(type, "ClusterIP") || streq(type, "NodePort")) {
    col_join_strings(external, ",", &b);
    return b.len ? col_sb_cell(&b) : NULL;
  }
  if (streq(type, "LoadBalancer")) {
    col_lb_ingress(col_at(obj, "status.loadBalancer.ingress"), &b);
    col_join_strings(external, ",", &b);
    if (!b.len) {
      free(b.s);
      return json_string("<pending>");
    }
    return col_sb_cell(&b);
  }
  if (streq(type, "ExternalName"))
    return col_string_cell(col_str_at(obj, "spec.externalName"));
  return json_string("<unknown>");
}

/* "80/TCP", "80:30080/TCP" with a node port; joined with ",". */
static json_t *svc_ports(const json_t *obj) {
  struct strbuf b = {0};
  size_t i;
  json_t *p;
  json_array_foreach(col_at(obj, "spec.ports"), i, p) {
    const char *proto = col_str_at(p, "protocol");
    if (col_empty(proto))
      proto = "TCP";
    if (i)
      strbuf_appends(&b, ",");
    json_int_t node_port = col_int_at(p, "nodePort");
    if (node_port > 0)
      strbuf_appendf(&b, "%lld:%lld/%s", (long long)col_int_at(p, "port"), (long long)node_port,
                     proto);
    else
      strbuf_appendf(&b, "%lld/%s", (long long)col_int_at(p, "port"), proto);
  }
  if (!b.len) {
    free(b.s);
    return NULL;
  }
  return col_sb_cell(&b);
}

static json_t *svc_selector(const json_t *obj) {
  return col_labels_cell(col_at(obj, "spec.selector"));
}

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
  json_t *subsets = col_at(obj, "subsets");
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
        col_sb_join(&b, ",", col_str_or_empty(addr, "ip"));
        shown++;
      }
      continue;
    }
    json_array_foreach(ports, j, port) {
      count += json_array_size(addrs);
      json_array_foreach(addrs, k, addr) {
        if (shown == max)
          break;
        host_port(&b, col_str_or_empty(addr, "ip"), col_int_at(port, "port"));
        shown++;
      }
    }
  }
  return col_list_with_more(&b, count, max, NULL);
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
  json_array_foreach(col_at(obj, "status.conditions"), i, c) {
    if (streq_ptr(col_str_at(c, "type"), "Ready"))
      ready = col_str_or_empty(c, "status");
  }
  struct strbuf b = {0};
  strbuf_appends(&b, !ready ? "Unknown" : streq(ready, "True") ? "Ready" : "NotReady");
  if (json_is_true(col_at(obj, "spec.unschedulable")))
    strbuf_appends(&b, ",SchedulingDisabled");
  return col_sb_cell(&b);
}

/* Roles from node-role.kubernetes.io/<role> label keys and the kubernetes.io/role label
 * value, sorted and de-duplicated. */
static json_t *node_roles(const json_t *obj) {
  static const char prefix[] = "node-role.kubernetes.io/";
  json_t *labels = col_at(obj, "metadata.labels");
  size_t n = json_is_object(labels) ? json_object_size(labels) : 0, k = 0;
  const char **roles = xcalloc(n ? n : 1, sizeof(*roles));
  const char *key;
  json_t *v;
  json_object_foreach(labels, key, v) {
    if (startswith(key, prefix) && key[sizeof(prefix) - 1])
      roles[k++] = key + sizeof(prefix) - 1;
    else if (streq(key, "kubernetes.io/role") && !col_empty(json_string_value(v)))
      roles[k++] = json_string_value(v);
  }
  qsort(roles, k, sizeof(*roles), col_strcmp_ptr);
  struct strbuf b = {0};
  for (size_t i = 0; i < k; i++)
    if (!i || !streq(roles[i], roles[i - 1]))
      col_sb_join(&b, ",", roles[i]);
  free(roles);
  if (!b.len)
    return NULL;
  return col_sb_cell(&b);
}

static json_t *node_address(const json_t *obj, const char *type) {
  size_t i;
  json_t *a;
  json_array_foreach(col_at(obj, "status.addresses"), i, a) {
    if (streq_ptr(col_str_at(a, "type"), type))
      return col_string_cell(col_str_at(a, "address"));
  }
  return NULL;
}

static json_t *node_internal_ip(const json_t *o) { return node_address(o, "InternalIP"); }
static json_t *node_external_ip(const json_t *o) { return node_address(o, "ExternalIP"); }

static json_t *unknown_if_empty(const json_t *obj, const char *path) {
  const char *s = col_str_at(obj, path);
  return json_string(col_empty(s) ? "<unknown>" : s);
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
  json_t *v = col_at(obj, core);
  return v && !json_is_null(v) ? v : col_at(obj, events);
}

static const char *ev_str(const json_t *obj, const char *core, const char *events) {
  return json_string_value(ev_field(obj, core, events));
}

/* firstTimestamp, or eventTime for events that only carry the new API's time. */
static json_t *ev_first_seen(const json_t *obj) {
  const char *first = ev_str(obj, "firstTimestamp", "deprecatedFirstTimestamp");
  if (!col_time_set(first, NULL))
    first = col_str_at(obj, "eventTime");
  return col_since_cell(first);
}

static json_t *ev_last_seen(const json_t *obj) {
  const char *series = col_str_at(obj, "series.lastObservedTime");
  if (col_at(obj, "series"))
    return col_since_cell(series);
  const char *last = ev_str(obj, "lastTimestamp", "deprecatedLastTimestamp");
  if (!col_time_set(last, NULL))
    return ev_first_seen(obj);
  return col_since_cell(last);
}

static json_t *ev_type(const json_t *o) { return col_string_cell(col_str_at(o, "type")); }
static json_t *ev_reason(const json_t *o) { return col_string_cell(col_str_at(o, "reason")); }

/* "pod/web-1": the involved object's kind in lower case, then its name. */
static json_t *ev_object(const json_t *obj) {
  json_t *ref = ev_field(obj, "involvedObject", "regarding");
  _cleanup_free_ char *kind = xstrdup(col_str_or_empty(ref, "kind"));
  for (char *p = kind; *p; p++)
    if (*p >= 'A' && *p <= 'Z')
      *p = (char)(*p - 'A' + 'a');
  const char *name = col_str_at(ref, "name");
  if (col_empty(name))
    return json_string(kind);
  _cleanup_free_ char *v = xasprintf("%s/%s", kind, name);
  return json_string(v);
}

static json_t *ev_subobject(const json_t *obj) {
  return col_string_cell(col_str_at(ev_field(obj, "involvedObject", "regarding"), "fieldPath"));
}

/* "kubelet, node-1": component and host, falling back to the reporting controller and
 * instance of events written through the new API. */
static json_t *ev_source(const json_t *obj) {
  json_t *src = ev_field(obj, "source", "deprecatedSource");
  const char *component = col_str_at(src, "component"), *host = col_str_at(src, "host");
  if (col_empty(component))
    component = col_str_at(obj, "reportingController");
  if (col_empty(host))
    host = col_str_at(obj, "reportingInstance");
  if (col_empty(host))
    return col_string_cell(component);
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
  if (col_at(obj, "series"))
    return json_integer(col_int_at(obj, "series.count"));
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
    {"Name", "string", "name", D_NAME, 1, NULL, col_name_cell},
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
        col_sb_join(b, ",", names[m][1]);
        break;
      }
    }
  }
}

/* The beta storage-class annotation still overrides spec.storageClassName. */
static json_t *storage_class_of(const json_t *obj) {
  const char *a = json_string_value(json_object_get(col_at(obj, "metadata.annotations"),
                                                    "volume.beta.kubernetes.io/storage-class"));
  if (a)
    return json_string(a);
  return col_string_cell(col_str_at(obj, "spec.storageClassName"));
}

static json_t *phase_or_terminating(const json_t *obj) {
  if (col_at(obj, "metadata.deletionTimestamp"))
    return json_string("Terminating");
  return col_string_cell(col_str_at(obj, "status.phase"));
}

static json_t *unset_if_absent(const json_t *obj, const char *path) {
  const char *s = col_str_at(obj, path);
  return json_string(s ? s : "<unset>");
}

static json_t *pv_capacity(const json_t *obj) {
  _cleanup_free_ char *q = col_quantity_text(col_at(obj, "spec.capacity.storage"), "0");
  return json_string(q);
}

static json_t *pv_access(const json_t *obj) {
  struct strbuf b = {0};
  access_modes(col_at(obj, "spec.accessModes"), &b);
  return col_sb_cell(&b);
}

STR_CELL(pv_reclaim, "spec.persistentVolumeReclaimPolicy")
STR_CELL(pv_reason, "status.reason")

static json_t *pv_claim(const json_t *obj) {
  json_t *ref = col_at(obj, "spec.claimRef");
  if (!ref)
    return json_string("");
  _cleanup_free_ char *v =
      xasprintf("%s/%s", col_str_or_empty(ref, "namespace"), col_str_or_empty(ref, "name"));
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
  if (col_empty(col_str_at(obj, "spec.volumeName")))
    return json_string("");
  _cleanup_free_ char *q = col_quantity_text(col_at(obj, "status.capacity.storage"), "0");
  return json_string(q);
}

static json_t *pvc_access(const json_t *obj) {
  struct strbuf b = {0};
  if (!col_empty(col_str_at(obj, "spec.volumeName")))
    access_modes(col_at(obj, "status.accessModes"), &b);
  return col_sb_cell(&b);
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

/* ---- limit ranges, quotas and component statuses ---- */

/* kube-apiserver has no printer for LimitRange: the default table convertor. */
const struct api_column columns_limitranges[] = {NAME_COL, CREATED_AT_COL, END};

/* "cpu: 100m/1, memory: 0/1Gi": used over hard per resource, sorted by name; resources
 * named limits.* go to the LIMIT column, the rest to REQUEST. */
static json_t *quota_column(const json_t *obj, bool limits) {
  json_t *hard = col_at(obj, "status.hard"), *used = col_at(obj, "status.used");
  size_t n = json_is_object(hard) ? json_object_size(hard) : 0, i = 0;
  const char **keys = xcalloc(n ? n : 1, sizeof(*keys));
  const char *k;
  json_t *v;
  json_object_foreach(hard, k, v) keys[i++] = k;
  qsort(keys, n, sizeof(*keys), col_strcmp_ptr);
  struct strbuf b = {0};
  for (i = 0; i < n; i++) {
    if (startswith(keys[i], "limits.") != limits)
      continue;
    _cleanup_free_ char *u = col_quantity_text(json_object_get(used, keys[i]), "0");
    _cleanup_free_ char *h = col_quantity_text(json_object_get(hard, keys[i]), "0");
    if (b.len)
      strbuf_appends(&b, ", ");
    strbuf_appendf(&b, "%s: %s/%s", keys[i], u, h);
  }
  free(keys);
  return col_sb_cell(&b);
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
  json_array_foreach(col_at(obj, "conditions"), i, c) {
    if (!streq_ptr(col_str_at(c, "type"), "Healthy"))
      continue;
    if (which == 0)
      return json_string(streq_ptr(col_str_at(c, "status"), "True") ? "Healthy" : "Unhealthy");
    return col_string_cell(col_str_at(c, which == 1 ? "message" : "error"));
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

/* ---- replication controllers ---- */

/* A ReplicationController's selector is a plain label map. */
static json_t *rc_selector(const json_t *o) { return col_labels_cell(col_at(o, "spec.selector")); }

const struct api_column columns_replicationcontrollers[] = {
    NAME_COL,
    COL("Desired", "integer", "Replicas is the number of desired replicas.", 0, col_desired_cell),
    COL("Current", "integer", "Replicas is the most recently observed number of replicas.", 0,
        col_current_replicas),
    COL("Ready", "integer", "The number of ready replicas for this replication controller.", 0,
        col_ready_replicas),
    AGE_COL,
    COL("Containers", "string", D_CONTAINERS, 1, col_template_containers),
    COL("Images", "string", D_IMAGES, 1, col_template_images),
    COL("Selector", "string", D_SELECTOR, 1, rc_selector),
    END};
