/* Columns as kube-apiserver's printers define them (pkg/printers/internalversion). */
#include "api/columns.h"

#include <stdio.h>
#include <time.h>

#include "lib/json.h"
#include "lib/timeutil.h"

#define NAME_COL {"Name", "string", "name", "Name must be unique within a namespace.", 0, "metadata.name"}
#define AGE_COL                                                                        \
  {"Age", "string", "",                                                                \
   "CreationTimestamp is a timestamp representing the server time when this object was created.", \
   0, NULL, column_age}
#define END {NULL}

json_t *column_age(const json_t *obj) {
  const char *ts = json_path_str((json_t *)obj, "metadata.creationTimestamp");
  if (!ts)
    return json_string("<unknown>");
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  _cleanup_free_ char *age = timeutil_age(ts, &now);
  return json_string(age ? age : "<invalid>");
}

static json_t *count_keys(const json_t *obj, const char *path) {
  json_t *m = json_path((json_t *)obj, path);
  size_t n = json_is_object(m) ? json_object_size(m) : 0;
  return json_integer((json_int_t)n);
}

const struct api_column columns_default[] = {NAME_COL, AGE_COL, END};

const struct api_column columns_namespaces[] = {
    NAME_COL,
    {"Status", "string", "", "The status of the namespace", 0, "status.phase"},
    AGE_COL,
    END};

static json_t *configmap_data(const json_t *obj) {
  json_t *d = json_object_get(obj, "data"), *b = json_object_get(obj, "binaryData");
  size_t n = (json_is_object(d) ? json_object_size(d) : 0) +
             (json_is_object(b) ? json_object_size(b) : 0);
  return json_integer((json_int_t)n);
}

const struct api_column columns_configmaps[] = {
    NAME_COL,
    {"Data", "string", "", "Data contains the configuration data.", 0, NULL, configmap_data},
    AGE_COL,
    END};

static json_t *secret_data(const json_t *obj) { return count_keys(obj, "data"); }

const struct api_column columns_secrets[] = {
    NAME_COL,
    {"Type", "string", "", "The type of the secret", 0, "type"},
    {"Data", "string", "", "The number of entries in the secret", 0, NULL, secret_data},
    AGE_COL,
    END};

/* The pod's READY column counts ready containers over all (regular) containers. */
static json_t *pod_ready(const json_t *obj) {
  json_t *containers = json_path((json_t *)obj, "spec.containers");
  json_t *statuses = json_path((json_t *)obj, "status.containerStatuses");
  size_t total = json_array_size(containers), ready = 0, i;
  json_t *st;
  json_array_foreach(statuses, i, st) if (json_is_true(json_object_get(st, "ready"))) ready++;
  char buf[48];
  snprintf(buf, sizeof(buf), "%zu/%zu", ready, total);
  return json_string(buf);
}

/* STATUS is the phase, overridden by the reason a container is waiting or terminated
 * for, and by "Terminating" once deletion started, as kubectl users know it. */
static json_t *pod_status(const json_t *obj) {
  const char *reason = json_path_str((json_t *)obj, "status.reason");
  if (!reason)
    reason = json_path_str((json_t *)obj, "status.phase");
  json_t *statuses = json_path((json_t *)obj, "status.containerStatuses");
  size_t i;
  json_t *st;
  json_array_foreach(statuses, i, st) {
    const char *w = json_path_str(st, "state.waiting.reason");
    const char *t = json_path_str(st, "state.terminated.reason");
    if (w && *w)
      reason = w;
    else if (t && *t)
      reason = t;
  }
  if (json_path((json_t *)obj, "metadata.deletionTimestamp"))
    reason = streq_ptr(reason, "NodeLost") ? "Unknown" : "Terminating";
  return json_string(reason ? reason : "Pending");
}

static json_t *pod_restarts(const json_t *obj) {
  json_t *statuses = json_path((json_t *)obj, "status.containerStatuses");
  json_int_t n = 0;
  size_t i;
  json_t *st;
  json_array_foreach(statuses, i, st) n += json_integer_value(json_object_get(st, "restartCount"));
  return json_integer(n);
}

static json_t *pod_ip(const json_t *obj) {
  const char *ip = json_path_str((json_t *)obj, "status.podIP");
  return ip && *ip ? json_string(ip) : NULL;
}

static json_t *pod_node(const json_t *obj) {
  const char *n = json_path_str((json_t *)obj, "spec.nodeName");
  return n && *n ? json_string(n) : NULL;
}

static json_t *pod_nominated(const json_t *obj) {
  const char *n = json_path_str((json_t *)obj, "status.nominatedNodeName");
  return n && *n ? json_string(n) : NULL;
}

static json_t *pod_gates(const json_t *obj) {
  json_t *gates = json_path((json_t *)obj, "spec.readinessGates");
  if (!json_array_size(gates))
    return NULL;
  char buf[32];
  snprintf(buf, sizeof(buf), "0/%zu", json_array_size(gates));
  return json_string(buf);
}

const struct api_column columns_pods[] = {
    NAME_COL,
    {"Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.", 0,
     NULL, pod_ready},
    {"Status", "string", "", "The aggregate status of the containers in this pod.", 0, NULL,
     pod_status},
    {"Restarts", "string", "", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.", 0, NULL, pod_restarts},
    AGE_COL,
    {"IP", "string", "", "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.", 1, NULL, pod_ip},
    {"Node", "string", "", "NodeName is a request to schedule this pod onto a specific node.", 1,
     NULL, pod_node},
    {"Nominated Node", "string", "", "nominatedNodeName is set when this pod preempts other pods on the node.", 1, NULL, pod_nominated},
    {"Readiness Gates", "string", "", "If specified, all readiness gates will be evaluated for pod readiness.", 1, NULL, pod_gates},
    END};

#define DEFAULT_COLUMNS(name) const struct api_column name[] = {NAME_COL, AGE_COL, END}
DEFAULT_COLUMNS(columns_services);
DEFAULT_COLUMNS(columns_endpoints);
DEFAULT_COLUMNS(columns_serviceaccounts);
DEFAULT_COLUMNS(columns_nodes);
DEFAULT_COLUMNS(columns_events);
DEFAULT_COLUMNS(columns_replicationcontrollers);
DEFAULT_COLUMNS(columns_persistentvolumes);
DEFAULT_COLUMNS(columns_persistentvolumeclaims);
DEFAULT_COLUMNS(columns_limitranges);
DEFAULT_COLUMNS(columns_resourcequotas);
DEFAULT_COLUMNS(columns_podtemplates);
DEFAULT_COLUMNS(columns_componentstatuses);
DEFAULT_COLUMNS(columns_deployments);
DEFAULT_COLUMNS(columns_replicasets);
DEFAULT_COLUMNS(columns_statefulsets);
DEFAULT_COLUMNS(columns_daemonsets);
DEFAULT_COLUMNS(columns_controllerrevisions);
DEFAULT_COLUMNS(columns_jobs);
DEFAULT_COLUMNS(columns_cronjobs);
DEFAULT_COLUMNS(columns_hpa);
DEFAULT_COLUMNS(columns_ingresses);
DEFAULT_COLUMNS(columns_ingressclasses);
DEFAULT_COLUMNS(columns_networkpolicies);
DEFAULT_COLUMNS(columns_endpointslices);
DEFAULT_COLUMNS(columns_leases);
DEFAULT_COLUMNS(columns_pdb);
DEFAULT_COLUMNS(columns_roles);
DEFAULT_COLUMNS(columns_rolebindings);
DEFAULT_COLUMNS(columns_storageclasses);
DEFAULT_COLUMNS(columns_csidrivers);
DEFAULT_COLUMNS(columns_csinodes);
DEFAULT_COLUMNS(columns_volumeattachments);
DEFAULT_COLUMNS(columns_priorityclasses);
DEFAULT_COLUMNS(columns_runtimeclasses);
DEFAULT_COLUMNS(columns_csr);
DEFAULT_COLUMNS(columns_webhooks);
