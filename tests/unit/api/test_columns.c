/* Tests for the kubectl get columns: each cell against what kube-apiserver prints for the
 * same object. */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/columns.h"
#include "lib/json.h"
#include "lib/timeutil.h"

/* An object from a JSON literal; printf-style so tests can place relative times. */
static json_t *obj(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *obj(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *text = NULL;
  assert_true(vasprintf(&text, fmt, ap) >= 0);
  va_end(ap);
  json_error_t err;
  json_t *o = json_loads(text, 0, &err);
  if (!o)
    fail_msg("bad test JSON (%s): %s", err.text, text);
  free(text);
  return o;
}

/* metav1.Time of `seconds` ago. Each call returns a fresh static slot (tests use few). */
static const char *ago(long seconds) {
  static char slots[8][32];
  static int next;
  char *s = timeutil_format(time(NULL) - seconds);
  char *slot = slots[next++ % 8];
  snprintf(slot, 32, "%s", s);
  free(s);
  return slot;
}

static const struct api_column *column(const struct api_column *cols, const char *name) {
  for (const struct api_column *c = cols; c->name; c++)
    if (streq(c->name, name))
      return c;
  fail_msg("no column %s", name);
  return NULL;
}

/* The cell as kubectl would print it: "<none>" for NULL, numbers and booleans as text. */
static char *cell_text(const struct api_column *cols, const char *name, const json_t *o,
                       int *ret_type) {
  const struct api_column *c = column(cols, name);
  json_t *v;
  if (c->cell) {
    v = c->cell(o);
  } else {
    v = json_path((json_t *)o, c->path);
    if (v)
      json_incref(v);
  }
  char *s;
  *ret_type = v ? (int)json_typeof(v) : -1;
  if (!v)
    s = strdup("<none>");
  else if (json_is_string(v))
    s = strdup(json_string_value(v));
  else if (json_is_integer(v))
    s = xasprintf("%lld", (long long)json_integer_value(v));
  else if (json_is_boolean(v))
    s = strdup(json_is_true(v) ? "true" : "false");
  else
    s = json_encode(v);
  json_decref(v);
  return s;
}

static void _fail_msg_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void check(const struct api_column *cols, const char *name, const json_t *o,
                  const char *want, int want_type, const char *file, int line) {
  int type;
  char *got = cell_text(cols, name, o, &type);
  if (strcmp(got, want) != 0)
    _fail_msg_at(file, line, "column %s: got \"%s\", want \"%s\"", name, got, want);
  if (want_type >= 0 && type != want_type)
    _fail_msg_at(file, line, "column %s: JSON type %d, want %d", name, type, want_type);
  free(got);
}

#define ASSERT_STR(cols, name, o, want) check(cols, name, o, want, JSON_STRING, __FILE__, __LINE__)
#define ASSERT_NONE(cols, name, o) check(cols, name, o, "<none>", -1, __FILE__, __LINE__)
#define ASSERT_INT(cols, name, o, want) check(cols, name, o, want, JSON_INTEGER, __FILE__, __LINE__)
#define ASSERT_TRUE_CELL(cols, name, o) check(cols, name, o, "true", JSON_TRUE, __FILE__, __LINE__)
#define ASSERT_FALSE_CELL(cols, name, o)                                                           \
  check(cols, name, o, "false", JSON_FALSE, __FILE__, __LINE__)

static void _fail_msg_at(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *msg = NULL;
  if (vasprintf(&msg, fmt, ap) < 0)
    msg = NULL;
  va_end(ap);
  fail_msg("%s:%d: %s", file, line, msg ? msg : fmt);
}

/* ---- pods ---- */

static void test_pod_running(void **state) {
  json_t *p =
      obj("{\"metadata\":{\"name\":\"web\",\"creationTimestamp\":\"%s\"},"
          "\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}],\"nodeName\":\"n1\"},"
          "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.9\","
          "\"podIPs\":[{\"ip\":\"10.0.0.7\"}],"
          "\"containerStatuses\":[{\"name\":\"a\",\"ready\":true,\"restartCount\":0,"
          "\"state\":{\"running\":{}}},{\"name\":\"b\",\"ready\":true,\"restartCount\":0,"
          "\"state\":{\"running\":{}}}]}}",
          ago(300));
  ASSERT_STR(columns_pods, "Name", p, "web");
  ASSERT_STR(columns_pods, "Ready", p, "2/2");
  ASSERT_STR(columns_pods, "Status", p, "Running");
  ASSERT_STR(columns_pods, "Restarts", p, "0");
  ASSERT_STR(columns_pods, "Age", p, "5m");
  ASSERT_STR(columns_pods, "IP", p, "10.0.0.7");
  ASSERT_STR(columns_pods, "Node", p, "n1");
  ASSERT_NONE(columns_pods, "Nominated Node", p);
  ASSERT_NONE(columns_pods, "Readiness Gates", p);
  json_decref(p);
}

static void test_pod_pending(void **state) {
  json_t *p = obj("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"a\"}]},"
                  "\"status\":{\"phase\":\"Pending\"}}");
  ASSERT_STR(columns_pods, "Ready", p, "0/1");
  ASSERT_STR(columns_pods, "Status", p, "Pending");
  ASSERT_STR(columns_pods, "Age", p, "<unknown>");
  ASSERT_NONE(columns_pods, "IP", p);
  ASSERT_NONE(columns_pods, "Node", p);
  json_decref(p);

  p = obj("{\"spec\":{\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Pending\","
          "\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"False\","
          "\"reason\":\"SchedulingGated\"}]}}");
  ASSERT_STR(columns_pods, "Status", p, "SchedulingGated");
  json_decref(p);

  p = obj("{\"spec\":{\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Pending\","
          "\"containerStatuses\":[{\"name\":\"a\",\"state\":{\"waiting\":"
          "{\"reason\":\"ContainerCreating\"}}}]}}");
  ASSERT_STR(columns_pods, "Status", p, "ContainerCreating");
  json_decref(p);
}

static void test_pod_crashloop(void **state) {
  json_t *p = obj("{\"spec\":{\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Running\","
                  "\"containerStatuses\":[{\"name\":\"a\",\"ready\":false,\"restartCount\":5,"
                  "\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}},"
                  "\"lastState\":{\"terminated\":{\"exitCode\":1,\"reason\":\"Error\","
                  "\"finishedAt\":\"%s\"}}}]}}",
                  ago(300));
  ASSERT_STR(columns_pods, "Ready", p, "0/1");
  ASSERT_STR(columns_pods, "Status", p, "CrashLoopBackOff");
  ASSERT_STR(columns_pods, "Restarts", p, "5 (5m ago)");
  json_decref(p);

  /* Restarts without a known time stay a plain number. */
  p = obj("{\"spec\":{\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Running\","
          "\"containerStatuses\":[{\"name\":\"a\",\"ready\":true,\"restartCount\":2,"
          "\"state\":{\"running\":{}}}]}}");
  ASSERT_STR(columns_pods, "Restarts", p, "2");
  ASSERT_STR(columns_pods, "Status", p, "Running");
  json_decref(p);
}

static void test_pod_terminated(void **state) {
  json_t *p =
      obj("{\"spec\":{\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Succeeded\","
          "\"containerStatuses\":[{\"name\":\"a\",\"state\":{\"terminated\":"
          "{\"exitCode\":0,\"reason\":\"Completed\"}}}]}}");
  ASSERT_STR(columns_pods, "Status", p, "Completed");
  ASSERT_STR(columns_pods, "Ready", p, "0/1");
  json_decref(p);

  p = obj("{\"spec\":{\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Failed\","
          "\"containerStatuses\":[{\"name\":\"a\",\"state\":{\"terminated\":{\"exitCode\":3}}}]}}");
  ASSERT_STR(columns_pods, "Status", p, "ExitCode:3");
  json_decref(p);

  p = obj("{\"spec\":{\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Failed\","
          "\"containerStatuses\":[{\"name\":\"a\",\"state\":{\"terminated\":"
          "{\"exitCode\":137,\"signal\":9}}}]}}");
  ASSERT_STR(columns_pods, "Status", p, "Signal:9");
  json_decref(p);

  /* The first container's state wins over later ones. */
  p = obj("{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]},"
          "\"status\":{\"phase\":\"Running\",\"containerStatuses\":["
          "{\"name\":\"a\",\"state\":{\"waiting\":{\"reason\":\"ImagePullBackOff\"}}},"
          "{\"name\":\"b\",\"state\":{\"waiting\":{\"reason\":\"ErrImagePull\"}}}]}}");
  ASSERT_STR(columns_pods, "Status", p, "ImagePullBackOff");
  json_decref(p);
}

static void test_pod_completed_with_running(void **state) {
  const char *fmt = "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]},"
                    "\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\","
                    "\"status\":\"%s\"}],\"containerStatuses\":["
                    "{\"name\":\"a\",\"ready\":true,\"state\":{\"running\":{}}},"
                    "{\"name\":\"b\",\"ready\":false,\"state\":{\"terminated\":"
                    "{\"exitCode\":0,\"reason\":\"Completed\"}}}]}}";
  json_t *p = obj(fmt, "False");
  ASSERT_STR(columns_pods, "Status", p, "NotReady");
  ASSERT_STR(columns_pods, "Ready", p, "1/2");
  json_decref(p);
  p = obj(fmt, "True");
  ASSERT_STR(columns_pods, "Status", p, "Running");
  json_decref(p);
}

static void test_pod_init(void **state) {
  const char *fmt =
      "{\"spec\":{\"initContainers\":[{\"name\":\"i1\"},{\"name\":\"i2\"},"
      "{\"name\":\"i3\"}],\"containers\":[{\"name\":\"a\"}]},"
      "\"status\":{\"phase\":\"Pending\",\"initContainerStatuses\":["
      "{\"name\":\"i1\",\"restartCount\":0,\"state\":{\"terminated\":{\"exitCode\":0,"
      "\"reason\":\"Completed\"}}},{\"name\":\"i2\",\"restartCount\":%d,\"state\":%s},"
      "{\"name\":\"i3\",\"state\":{\"waiting\":{\"reason\":\"PodInitializing\"}}}],"
      "\"containerStatuses\":[{\"name\":\"a\",\"restartCount\":7,\"state\":"
      "{\"waiting\":{\"reason\":\"PodInitializing\"}}}]}}";
  json_t *p = obj(fmt, 0, "{\"running\":{}}");
  ASSERT_STR(columns_pods, "Status", p, "Init:1/3");
  ASSERT_STR(columns_pods, "Ready", p, "0/1");
  /* While initializing, only the init containers' restarts count. */
  ASSERT_STR(columns_pods, "Restarts", p, "0");
  json_decref(p);

  p = obj(fmt, 3, "{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}}");
  ASSERT_STR(columns_pods, "Status", p, "Init:CrashLoopBackOff");
  ASSERT_STR(columns_pods, "Restarts", p, "3");
  json_decref(p);

  p = obj(fmt, 0, "{\"terminated\":{\"exitCode\":1,\"reason\":\"Error\"}}");
  ASSERT_STR(columns_pods, "Status", p, "Init:Error");
  json_decref(p);

  p = obj(fmt, 0, "{\"terminated\":{\"exitCode\":2}}");
  ASSERT_STR(columns_pods, "Status", p, "Init:ExitCode:2");
  json_decref(p);

  p = obj(fmt, 0, "{\"terminated\":{\"exitCode\":143,\"signal\":15}}");
  ASSERT_STR(columns_pods, "Status", p, "Init:Signal:15");
  json_decref(p);

  p = obj(fmt, 0, "{\"waiting\":{\"reason\":\"PodInitializing\"}}");
  ASSERT_STR(columns_pods, "Status", p, "Init:1/3");
  json_decref(p);
}

static void test_pod_sidecar(void **state) {
  json_t *p = obj("{\"spec\":{\"initContainers\":[{\"name\":\"log\",\"restartPolicy\":\"Always\"}],"
                  "\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Running\","
                  "\"conditions\":[{\"type\":\"Initialized\",\"status\":\"True\"}],"
                  "\"initContainerStatuses\":[{\"name\":\"log\",\"started\":true,\"ready\":true,"
                  "\"restartCount\":1,\"state\":{\"running\":{}},\"lastState\":{\"terminated\":"
                  "{\"exitCode\":1,\"finishedAt\":\"%s\"}}}],"
                  "\"containerStatuses\":[{\"name\":\"a\",\"ready\":true,\"restartCount\":1,"
                  "\"state\":{\"running\":{}},\"lastState\":{\"terminated\":{\"exitCode\":1,"
                  "\"finishedAt\":\"%s\"}}}]}}",
                  ago(3600), ago(120));
  ASSERT_STR(columns_pods, "Ready", p, "2/2");
  ASSERT_STR(columns_pods, "Status", p, "Running");
  ASSERT_STR(columns_pods, "Restarts", p, "2 (2m ago)");
  json_decref(p);
}

static void test_pod_terminating(void **state) {
  const char *fmt = "{\"metadata\":{\"deletionTimestamp\":\"2024-01-01T00:00:00Z\"},"
                    "\"spec\":{\"containers\":[{\"name\":\"a\"}]},"
                    "\"status\":{\"phase\":\"%s\"%s}}";
  json_t *p = obj(fmt, "Running", "");
  ASSERT_STR(columns_pods, "Status", p, "Terminating");
  json_decref(p);
  p = obj(fmt, "Running", ",\"reason\":\"NodeLost\"");
  ASSERT_STR(columns_pods, "Status", p, "Unknown");
  json_decref(p);
  /* A pod that already finished keeps its final status while it is deleted. */
  p = obj(fmt, "Succeeded", "");
  ASSERT_STR(columns_pods, "Status", p, "Succeeded");
  json_decref(p);
  p = obj(fmt, "Failed", ",\"reason\":\"Evicted\"");
  ASSERT_STR(columns_pods, "Status", p, "Evicted");
  json_decref(p);
}

static void test_pod_wide(void **state) {
  json_t *p = obj("{\"spec\":{\"containers\":[],\"readinessGates\":[{\"conditionType\":\"x/a\"},"
                  "{\"conditionType\":\"x/b\"}]},\"status\":{\"podIP\":\"10.1.1.1\","
                  "\"nominatedNodeName\":\"n2\",\"conditions\":[{\"type\":\"x/a\","
                  "\"status\":\"True\"},{\"type\":\"x/b\",\"status\":\"False\"}]}}");
  ASSERT_STR(columns_pods, "IP", p, "10.1.1.1");
  ASSERT_STR(columns_pods, "Nominated Node", p, "n2");
  ASSERT_STR(columns_pods, "Readiness Gates", p, "1/2");
  json_decref(p);
}

/* ---- services and endpoints ---- */

static void test_service_types(void **state) {
  json_t *s =
      obj("{\"spec\":{\"type\":\"ClusterIP\",\"clusterIP\":\"10.96.0.10\","
          "\"clusterIPs\":[\"10.96.0.10\"],\"ports\":[{\"port\":80,\"protocol\":\"TCP\"},"
          "{\"port\":53,\"protocol\":\"UDP\"}],\"selector\":{\"tier\":\"fe\",\"app\":\"web\"}}}");
  ASSERT_STR(columns_services, "Type", s, "ClusterIP");
  ASSERT_STR(columns_services, "Cluster-IP", s, "10.96.0.10");
  ASSERT_NONE(columns_services, "External-IP", s);
  ASSERT_STR(columns_services, "Port(s)", s, "80/TCP,53/UDP");
  ASSERT_STR(columns_services, "Selector", s, "app=web,tier=fe");
  json_decref(s);

  s = obj("{\"spec\":{\"type\":\"NodePort\",\"clusterIPs\":[\"10.96.1.1\"],\"externalIPs\":"
          "[\"1.1.1.1\",\"2.2.2.2\"],\"ports\":[{\"port\":80,\"nodePort\":30080},"
          "{\"port\":443,\"protocol\":\"TCP\"}]}}");
  ASSERT_STR(columns_services, "External-IP", s, "1.1.1.1,2.2.2.2");
  ASSERT_STR(columns_services, "Port(s)", s, "80:30080/TCP,443/TCP");
  ASSERT_NONE(columns_services, "Selector", s);
  json_decref(s);

  s = obj("{\"spec\":{\"type\":\"LoadBalancer\",\"clusterIPs\":[\"10.96.1.2\"],"
          "\"ports\":[{\"port\":80,\"nodePort\":31000,\"protocol\":\"TCP\"}]}}");
  ASSERT_STR(columns_services, "External-IP", s, "<pending>");
  json_decref(s);

  s = obj("{\"spec\":{\"type\":\"LoadBalancer\",\"externalIPs\":[\"9.9.9.9\"]},\"status\":"
          "{\"loadBalancer\":{\"ingress\":[{\"ip\":\"5.5.5.5\"},{\"hostname\":\"lb.example.com\"},"
          "{\"ip\":\"4.4.4.4\"},{\"ip\":\"5.5.5.5\"}]}}}");
  ASSERT_STR(columns_services, "External-IP", s, "4.4.4.4,5.5.5.5,lb.example.com,9.9.9.9");
  ASSERT_NONE(columns_services, "Cluster-IP", s);
  ASSERT_NONE(columns_services, "Port(s)", s);
  json_decref(s);

  s = obj("{\"spec\":{\"type\":\"ExternalName\",\"externalName\":\"db.example.com\"}}");
  ASSERT_STR(columns_services, "External-IP", s, "db.example.com");
  json_decref(s);

  s = obj("{\"spec\":{\"clusterIP\":\"None\",\"clusterIPs\":[\"None\"]}}");
  ASSERT_STR(columns_services, "Type", s, "ClusterIP");
  ASSERT_STR(columns_services, "Cluster-IP", s, "None");
  json_decref(s);
}

static void test_endpoints(void **state) {
  json_t *e = obj("{\"subsets\":[{\"addresses\":[{\"ip\":\"10.0.0.1\"},{\"ip\":\"10.0.0.2\"},"
                  "{\"ip\":\"10.0.0.3\"},{\"ip\":\"10.0.0.4\"},{\"ip\":\"10.0.0.5\"}],"
                  "\"ports\":[{\"port\":80}]}]}");
  ASSERT_STR(columns_endpoints, "Endpoints", e, "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 2 more...");
  json_decref(e);

  e = obj("{\"subsets\":[{\"addresses\":[{\"ip\":\"10.0.0.1\"}],\"ports\":[{\"port\":80},"
          "{\"port\":443}]},{\"addresses\":[{\"ip\":\"fd00::1\"}],\"ports\":[{\"port\":8080}]}]}");
  ASSERT_STR(columns_endpoints, "Endpoints", e, "10.0.0.1:80,10.0.0.1:443,[fd00::1]:8080");
  json_decref(e);

  e = obj("{\"subsets\":[{\"addresses\":[{\"ip\":\"10.0.0.1\"},{\"ip\":\"10.0.0.2\"}]}]}");
  ASSERT_STR(columns_endpoints, "Endpoints", e, "10.0.0.1,10.0.0.2");
  json_decref(e);

  e = obj("{\"metadata\":{\"name\":\"x\"}}");
  ASSERT_NONE(columns_endpoints, "Endpoints", e);
  json_decref(e);

  e = obj(
      "{\"subsets\":[{\"notReadyAddresses\":[{\"ip\":\"10.0.0.1\"}],\"ports\":[{\"port\":80}]}]}");
  ASSERT_STR(columns_endpoints, "Endpoints", e, "");
  json_decref(e);
}

static void test_endpointslices(void **state) {
  json_t *e = obj("{\"addressType\":\"IPv4\",\"ports\":[{\"port\":80},{\"name\":\"dns\"},{},"
                  "{\"port\":9}],\"endpoints\":[{\"addresses\":[\"10.0.0.1\"]},"
                  "{\"addresses\":[\"10.0.0.2\"]}]}");
  ASSERT_STR(columns_endpointslices, "AddressType", e, "IPv4");
  ASSERT_STR(columns_endpointslices, "Ports", e, "80,dns,* + 1 more...");
  ASSERT_STR(columns_endpointslices, "Endpoints", e, "10.0.0.1,10.0.0.2");
  json_decref(e);
  e = obj("{\"addressType\":\"IPv6\"}");
  ASSERT_STR(columns_endpointslices, "Ports", e, "<unset>");
  ASSERT_STR(columns_endpointslices, "Endpoints", e, "<unset>");
  json_decref(e);
}

/* ---- nodes ---- */

static void test_nodes(void **state) {
  json_t *n =
      obj("{\"metadata\":{\"labels\":{\"node-role.kubernetes.io/master\":\"\","
          "\"node-role.kubernetes.io/control-plane\":\"\",\"kubernetes.io/role\":\"etcd\","
          "\"node-role.kubernetes.io/\":\"\"}},\"spec\":{\"unschedulable\":true},"
          "\"status\":{\"conditions\":[{\"type\":\"MemoryPressure\",\"status\":\"False\"},"
          "{\"type\":\"Ready\",\"status\":\"True\"}],\"addresses\":[{\"type\":\"Hostname\","
          "\"address\":\"n1\"},{\"type\":\"InternalIP\",\"address\":\"192.168.1.5\"}],"
          "\"nodeInfo\":{\"kubeletVersion\":\"v1.32.0\",\"osImage\":\"Debian GNU/Linux 12\","
          "\"kernelVersion\":\"6.1.0\",\"containerRuntimeVersion\":\"runc://1.1.5\"}}}");
  ASSERT_STR(columns_nodes, "Status", n, "Ready,SchedulingDisabled");
  ASSERT_STR(columns_nodes, "Roles", n, "control-plane,etcd,master");
  ASSERT_STR(columns_nodes, "Version", n, "v1.32.0");
  ASSERT_STR(columns_nodes, "Internal-IP", n, "192.168.1.5");
  ASSERT_NONE(columns_nodes, "External-IP", n);
  ASSERT_STR(columns_nodes, "OS-Image", n, "Debian GNU/Linux 12");
  ASSERT_STR(columns_nodes, "Kernel-Version", n, "6.1.0");
  ASSERT_STR(columns_nodes, "Container-Runtime", n, "runc://1.1.5");
  json_decref(n);

  n = obj("{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"Unknown\"}]}}");
  ASSERT_STR(columns_nodes, "Status", n, "NotReady");
  ASSERT_NONE(columns_nodes, "Roles", n);
  ASSERT_STR(columns_nodes, "Version", n, "");
  ASSERT_STR(columns_nodes, "OS-Image", n, "<unknown>");
  json_decref(n);

  n = obj("{}");
  ASSERT_STR(columns_nodes, "Status", n, "Unknown");
  json_decref(n);
}

/* ---- events ---- */

static void test_events(void **state) {
  json_t *e =
      obj("{\"metadata\":{\"name\":\"web.17a\"},\"type\":\"Warning\",\"reason\":\"BackOff\","
          "\"message\":\"  Back-off restarting failed container\\n\",\"count\":4,"
          "\"firstTimestamp\":\"%s\",\"lastTimestamp\":\"%s\",\"involvedObject\":"
          "{\"kind\":\"Pod\",\"name\":\"web\",\"fieldPath\":\"spec.containers{a}\"},"
          "\"source\":{\"component\":\"kubelet\",\"host\":\"n1\"}}",
          ago(3600), ago(60));
  ASSERT_STR(columns_events, "Last Seen", e, "60s");
  ASSERT_STR(columns_events, "First Seen", e, "60m");
  ASSERT_STR(columns_events, "Type", e, "Warning");
  ASSERT_STR(columns_events, "Reason", e, "BackOff");
  ASSERT_STR(columns_events, "Object", e, "pod/web");
  ASSERT_STR(columns_events, "Subobject", e, "spec.containers{a}");
  ASSERT_STR(columns_events, "Source", e, "kubelet, n1");
  ASSERT_STR(columns_events, "Message", e, "Back-off restarting failed container");
  ASSERT_INT(columns_events, "Count", e, "4");
  ASSERT_STR(columns_events, "Name", e, "web.17a");
  json_decref(e);

  /* An events.k8s.io/v1 event: regarding/note, times from eventTime, count 1. */
  e = obj("{\"metadata\":{\"name\":\"x\"},\"type\":\"Normal\",\"reason\":\"Scheduled\","
          "\"note\":\"Successfully assigned\",\"eventTime\":\"2024-01-01T00:00:00.000000Z\","
          "\"regarding\":{\"kind\":\"Node\"},\"reportingController\":\"default-scheduler\"}");
  ASSERT_STR(columns_events, "Object", e, "node");
  ASSERT_STR(columns_events, "Message", e, "Successfully assigned");
  ASSERT_STR(columns_events, "Source", e, "default-scheduler");
  ASSERT_INT(columns_events, "Count", e, "1");
  int type;
  char *seen = cell_text(columns_events, "Last Seen", e, &type);
  assert_true(strcmp(seen, "<unknown>") != 0 && strcmp(seen, "<invalid>") != 0);
  free(seen);
  json_decref(e);

  e = obj("{\"series\":{\"count\":9,\"lastObservedTime\":\"%s\"},\"count\":2,"
          "\"lastTimestamp\":\"%s\"}",
          ago(10), ago(1000));
  ASSERT_STR(columns_events, "Last Seen", e, "10s");
  ASSERT_INT(columns_events, "Count", e, "9");
  ASSERT_STR(columns_events, "First Seen", e, "<unknown>");
  json_decref(e);
}

/* ---- workloads ---- */

static void test_deployments(void **state) {
  json_t *d =
      obj("{\"spec\":{\"replicas\":3,\"selector\":{\"matchLabels\":{\"app\":\"web\"},"
          "\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"In\",\"values\":"
          "[\"b\",\"a\"]}]},\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\","
          "\"image\":\"nginx:1.25\"},{\"name\":\"log\",\"image\":\"busybox\"}]}}},"
          "\"status\":{\"readyReplicas\":2,\"updatedReplicas\":3,\"availableReplicas\":2}}");
  ASSERT_STR(columns_deployments, "Ready", d, "2/3");
  ASSERT_INT(columns_deployments, "Up-to-date", d, "3");
  ASSERT_INT(columns_deployments, "Available", d, "2");
  ASSERT_STR(columns_deployments, "Containers", d, "web,log");
  ASSERT_STR(columns_deployments, "Images", d, "nginx:1.25,busybox");
  ASSERT_STR(columns_deployments, "Selector", d, "app=web,tier in (a,b)");
  json_decref(d);

  d = obj(
      "{\"spec\":{\"selector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Bad\"}]}}}");
  ASSERT_STR(columns_deployments, "Ready", d, "0/1");
  ASSERT_INT(columns_deployments, "Up-to-date", d, "0");
  ASSERT_STR(columns_deployments, "Selector", d, "<invalid>");
  ASSERT_STR(columns_deployments, "Containers", d, "");
  json_decref(d);
}

static void test_replicasets_and_friends(void **state) {
  json_t *r = obj("{\"spec\":{\"replicas\":2,\"selector\":{\"matchLabels\":{\"app\":\"a\"}},"
                  "\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}},"
                  "\"status\":{\"replicas\":2,\"readyReplicas\":1}}");
  ASSERT_INT(columns_replicasets, "Desired", r, "2");
  ASSERT_INT(columns_replicasets, "Current", r, "2");
  ASSERT_INT(columns_replicasets, "Ready", r, "1");
  ASSERT_STR(columns_replicasets, "Selector", r, "app=a");
  ASSERT_STR(columns_statefulsets, "Ready", r, "1/2");
  ASSERT_STR(columns_statefulsets, "Images", r, "i");
  json_decref(r);

  r = obj("{\"spec\":{\"replicas\":1,\"selector\":{\"app\":\"a\",\"env\":\"prod\"}}}");
  ASSERT_STR(columns_replicationcontrollers, "Selector", r, "app=a,env=prod");
  ASSERT_INT(columns_replicationcontrollers, "Current", r, "0");
  json_decref(r);

  r = obj("{\"spec\":{\"template\":{\"spec\":{\"nodeSelector\":{\"disktype\":\"ssd\"}}}},"
          "\"status\":{\"desiredNumberScheduled\":3,\"currentNumberScheduled\":3,"
          "\"numberReady\":2,\"updatedNumberScheduled\":3,\"numberAvailable\":2}}");
  ASSERT_INT(columns_daemonsets, "Desired", r, "3");
  ASSERT_INT(columns_daemonsets, "Ready", r, "2");
  ASSERT_INT(columns_daemonsets, "Up-to-date", r, "3");
  ASSERT_INT(columns_daemonsets, "Available", r, "2");
  ASSERT_STR(columns_daemonsets, "Node Selector", r, "disktype=ssd");
  /* No selector selects nothing, which prints as <none>. */
  ASSERT_STR(columns_daemonsets, "Selector", r, "<none>");
  json_decref(r);

  r = obj("{\"metadata\":{\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"Foo\","
          "\"name\":\"x\"},{\"apiVersion\":\"apps/v1\",\"kind\":\"DaemonSet\",\"name\":\"Fluentd\","
          "\"controller\":true}]},\"revision\":4}");
  ASSERT_STR(columns_controllerrevisions, "Controller", r, "daemonset.apps/Fluentd");
  ASSERT_INT(columns_controllerrevisions, "Revision", r, "4");
  json_decref(r);
  r = obj("{\"revision\":1}");
  ASSERT_NONE(columns_controllerrevisions, "Controller", r);
  json_decref(r);
}

static void test_jobs(void **state) {
  json_t *j =
      obj("{\"spec\":{\"completions\":5,\"parallelism\":2},\"status\":{\"succeeded\":3,"
          "\"startTime\":\"2024-01-01T00:00:00Z\",\"completionTime\":\"2024-01-01T00:00:42Z\","
          "\"conditions\":[{\"type\":\"Complete\",\"status\":\"True\"}]}}");
  ASSERT_STR(columns_jobs, "Status", j, "Complete");
  ASSERT_STR(columns_jobs, "Completions", j, "3/5");
  ASSERT_STR(columns_jobs, "Duration", j, "42s");
  json_decref(j);

  j = obj("{\"spec\":{\"parallelism\":3},\"status\":{\"startTime\":\"%s\"}}", ago(90));
  ASSERT_STR(columns_jobs, "Status", j, "Running");
  ASSERT_STR(columns_jobs, "Completions", j, "0/1 of 3");
  ASSERT_STR(columns_jobs, "Duration", j, "90s");
  json_decref(j);

  j = obj("{\"spec\":{\"parallelism\":1},\"status\":{\"conditions\":[{\"type\":\"Failed\","
          "\"status\":\"True\"}]}}");
  ASSERT_STR(columns_jobs, "Status", j, "Failed");
  ASSERT_STR(columns_jobs, "Completions", j, "0/1");
  ASSERT_STR(columns_jobs, "Duration", j, "");
  json_decref(j);

  j = obj("{\"status\":{\"conditions\":[{\"type\":\"Suspended\",\"status\":\"True\"}]}}");
  ASSERT_STR(columns_jobs, "Status", j, "Suspended");
  json_decref(j);

  j = obj("{\"metadata\":{\"deletionTimestamp\":\"2024-01-01T00:00:00Z\"},\"status\":"
          "{\"conditions\":[{\"type\":\"Suspended\",\"status\":\"True\"},"
          "{\"type\":\"Complete\",\"status\":\"False\"}]}}");
  ASSERT_STR(columns_jobs, "Status", j, "Terminating");
  json_decref(j);
}

static void test_cronjobs(void **state) {
  json_t *c = obj("{\"spec\":{\"schedule\":\"*/5 * * * *\",\"suspend\":false,\"jobTemplate\":"
                  "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"hello\","
                  "\"image\":\"busybox\"}]}}}}},\"status\":{\"active\":[{\"name\":\"a\"},"
                  "{\"name\":\"b\"}],\"lastScheduleTime\":\"%s\"}}",
                  ago(300));
  ASSERT_STR(columns_cronjobs, "Schedule", c, "*/5 * * * *");
  ASSERT_NONE(columns_cronjobs, "Timezone", c);
  ASSERT_STR(columns_cronjobs, "Suspend", c, "False");
  ASSERT_INT(columns_cronjobs, "Active", c, "2");
  ASSERT_STR(columns_cronjobs, "Last Schedule", c, "5m");
  ASSERT_STR(columns_cronjobs, "Containers", c, "hello");
  ASSERT_STR(columns_cronjobs, "Images", c, "busybox");
  ASSERT_STR(columns_cronjobs, "Selector", c, "<none>");
  json_decref(c);

  c = obj("{\"spec\":{\"schedule\":\"@hourly\",\"timeZone\":\"Etc/UTC\",\"suspend\":true}}");
  ASSERT_STR(columns_cronjobs, "Timezone", c, "Etc/UTC");
  ASSERT_STR(columns_cronjobs, "Suspend", c, "True");
  ASSERT_INT(columns_cronjobs, "Active", c, "0");
  ASSERT_NONE(columns_cronjobs, "Last Schedule", c);
  json_decref(c);

  c = obj("{\"spec\":{}}");
  ASSERT_STR(columns_cronjobs, "Suspend", c, "<unset>");
  json_decref(c);
}

static void test_hpa(void **state) {
  json_t *h = obj("{\"spec\":{\"scaleTargetRef\":{\"kind\":\"Deployment\",\"name\":\"web\"},"
                  "\"minReplicas\":2,\"maxReplicas\":10,\"metrics\":[{\"type\":\"Resource\","
                  "\"resource\":{\"name\":\"cpu\",\"target\":{\"type\":\"Utilization\","
                  "\"averageUtilization\":80}}}]},\"status\":{\"currentReplicas\":3}}");
  ASSERT_STR(columns_hpa, "Reference", h, "Deployment/web");
  ASSERT_STR(columns_hpa, "Targets", h, "cpu: <unknown>/80%");
  ASSERT_STR(columns_hpa, "MinPods", h, "2");
  ASSERT_INT(columns_hpa, "MaxPods", h, "10");
  ASSERT_INT(columns_hpa, "Replicas", h, "3");
  json_decref(h);

  h = obj("{\"spec\":{\"maxReplicas\":5,\"metrics\":[{\"type\":\"Resource\",\"resource\":"
          "{\"name\":\"cpu\",\"target\":{\"type\":\"Utilization\",\"averageUtilization\":50}}},"
          "{\"type\":\"Resource\",\"resource\":{\"name\":\"memory\",\"target\":{\"type\":"
          "\"AverageValue\",\"averageValue\":\"500Mi\"}}},{\"type\":\"Pods\",\"pods\":{\"target\":"
          "{\"averageValue\":\"1k\"}}}]},\"status\":{\"currentMetrics\":[{\"type\":\"Resource\","
          "\"resource\":{\"name\":\"cpu\",\"current\":{\"averageUtilization\":42}}},"
          "{\"type\":\"Resource\",\"resource\":{\"name\":\"memory\",\"current\":"
          "{\"averageValue\":\"300Mi\"}}}]}}");
  ASSERT_STR(columns_hpa, "Targets", h, "cpu: 42%/50%, memory: 300Mi/500Mi + 1 more...");
  ASSERT_STR(columns_hpa, "MinPods", h, "1");
  json_decref(h);

  h = obj("{\"spec\":{\"metrics\":[{\"type\":\"External\",\"external\":{\"target\":"
          "{\"type\":\"Value\",\"value\":\"100\"}}},{\"type\":\"Object\",\"object\":{\"target\":"
          "{\"type\":\"AverageValue\",\"averageValue\":\"2\"}}}]}}");
  ASSERT_STR(columns_hpa, "Targets", h, "<unknown>/100, <unknown>/2 (avg)");
  json_decref(h);

  /* autoscaling/v1 objects, and ones with no target at all (kube defaults 80% CPU). */
  h = obj("{\"spec\":{\"targetCPUUtilizationPercentage\":60},\"status\":"
          "{\"currentCPUUtilizationPercentage\":12}}");
  ASSERT_STR(columns_hpa, "Targets", h, "cpu: 12%/60%");
  json_decref(h);
  h = obj("{\"spec\":{}}");
  ASSERT_STR(columns_hpa, "Targets", h, "cpu: <unknown>/80%");
  json_decref(h);
}

/* ---- networking ---- */

static void test_ingress(void **state) {
  json_t *i =
      obj("{\"spec\":{\"ingressClassName\":\"nginx\",\"rules\":[{\"host\":\"a.com\"},"
          "{},{\"host\":\"b.com\"}],\"tls\":[{\"hosts\":[\"a.com\"]}]},\"status\":"
          "{\"loadBalancer\":{\"ingress\":[{\"ip\":\"10.0.0.2\"},{\"ip\":\"10.0.0.1\"}]}}}");
  ASSERT_STR(columns_ingresses, "Class", i, "nginx");
  ASSERT_STR(columns_ingresses, "Hosts", i, "a.com,b.com");
  ASSERT_STR(columns_ingresses, "Address", i, "10.0.0.1,10.0.0.2");
  ASSERT_STR(columns_ingresses, "Ports", i, "80, 443");
  json_decref(i);

  i = obj("{\"spec\":{\"rules\":[{\"host\":\"a\"},{\"host\":\"b\"},{\"host\":\"c\"},"
          "{\"host\":\"d\"},{\"host\":\"e\"}]}}");
  ASSERT_STR(columns_ingresses, "Hosts", i, "a,b,c + 2 more...");
  ASSERT_NONE(columns_ingresses, "Class", i);
  ASSERT_STR(columns_ingresses, "Address", i, "");
  ASSERT_STR(columns_ingresses, "Ports", i, "80");
  json_decref(i);

  i = obj("{\"spec\":{\"defaultBackend\":{}}}");
  ASSERT_STR(columns_ingresses, "Hosts", i, "*");
  json_decref(i);

  i = obj("{\"spec\":{\"controller\":\"k8s.io/ingress-nginx\",\"parameters\":{\"apiGroup\":"
          "\"k8s.example.com\",\"kind\":\"IngressParameters\",\"name\":\"external-lb\"}}}");
  ASSERT_STR(columns_ingressclasses, "Controller", i, "k8s.io/ingress-nginx");
  ASSERT_STR(columns_ingressclasses, "Parameters", i,
             "IngressParameters.k8s.example.com/external-lb");
  json_decref(i);
  i = obj("{\"spec\":{\"controller\":\"c\"}}");
  ASSERT_NONE(columns_ingressclasses, "Parameters", i);
  json_decref(i);

  i = obj("{\"spec\":{\"podSelector\":{}}}");
  ASSERT_STR(columns_networkpolicies, "Pod-Selector", i, "<none>");
  json_decref(i);
  i = obj("{\"spec\":{\"podSelector\":{\"matchLabels\":{\"role\":\"db\"}}}}");
  ASSERT_STR(columns_networkpolicies, "Pod-Selector", i, "role=db");
  json_decref(i);
}

/* ---- policy, rbac, coordination ---- */

static void test_pdb_rbac_lease(void **state) {
  json_t *p = obj("{\"spec\":{\"minAvailable\":2},\"status\":{\"disruptionsAllowed\":1}}");
  ASSERT_STR(columns_pdb, "Min Available", p, "2");
  ASSERT_STR(columns_pdb, "Max Unavailable", p, "N/A");
  ASSERT_INT(columns_pdb, "Allowed Disruptions", p, "1");
  json_decref(p);
  p = obj("{\"spec\":{\"maxUnavailable\":\"25%%\"}}");
  ASSERT_STR(columns_pdb, "Max Unavailable", p, "25%");
  ASSERT_STR(columns_pdb, "Min Available", p, "N/A");
  json_decref(p);

  p = obj("{\"metadata\":{\"creationTimestamp\":\"2024-03-04T05:06:07Z\"}}");
  ASSERT_STR(columns_roles, "Created At", p, "2024-03-04T05:06:07Z");
  ASSERT_STR(columns_limitranges, "Created At", p, "2024-03-04T05:06:07Z");
  assert_string_equal(column(columns_roles, "Created At")->type, "date");
  json_decref(p);

  p = obj("{\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"admin\"},\"subjects\":["
          "{\"kind\":\"User\",\"name\":\"alice\"},{\"kind\":\"Group\",\"name\":\"devs\"},"
          "{\"kind\":\"User\",\"name\":\"bob\"},{\"kind\":\"ServiceAccount\",\"name\":\"coredns\","
          "\"namespace\":\"kube-system\"}]}");
  ASSERT_STR(columns_rolebindings, "Role", p, "ClusterRole/admin");
  ASSERT_STR(columns_rolebindings, "Users", p, "alice, bob");
  ASSERT_STR(columns_rolebindings, "Groups", p, "devs");
  ASSERT_STR(columns_rolebindings, "ServiceAccounts", p, "kube-system/coredns");
  json_decref(p);

  p = obj("{\"spec\":{\"holderIdentity\":\"n1_1234\"}}");
  ASSERT_STR(columns_leases, "Holder", p, "n1_1234");
  json_decref(p);
  p = obj("{\"spec\":{}}");
  ASSERT_STR(columns_leases, "Holder", p, "");
  json_decref(p);
}

/* ---- storage ---- */

static void test_storage(void **state) {
  json_t *s = obj("{\"metadata\":{\"name\":\"standard\",\"annotations\":"
                  "{\"storageclass.kubernetes.io/is-default-class\":\"true\"}},"
                  "\"provisioner\":\"rancher.io/local-path\"}");
  ASSERT_STR(columns_storageclasses, "Name", s, "standard (default)");
  ASSERT_STR(columns_storageclasses, "Provisioner", s, "rancher.io/local-path");
  ASSERT_STR(columns_storageclasses, "ReclaimPolicy", s, "Delete");
  ASSERT_STR(columns_storageclasses, "VolumeBindingMode", s, "Immediate");
  ASSERT_FALSE_CELL(columns_storageclasses, "AllowVolumeExpansion", s);
  json_decref(s);
  s = obj("{\"metadata\":{\"name\":\"fast\"},\"reclaimPolicy\":\"Retain\","
          "\"volumeBindingMode\":\"WaitForFirstConsumer\",\"allowVolumeExpansion\":true}");
  ASSERT_STR(columns_storageclasses, "Name", s, "fast");
  ASSERT_STR(columns_storageclasses, "ReclaimPolicy", s, "Retain");
  ASSERT_TRUE_CELL(columns_storageclasses, "AllowVolumeExpansion", s);
  json_decref(s);

  s = obj("{\"spec\":{\"capacity\":{\"storage\":\"10Gi\"},\"accessModes\":[\"ReadWriteMany\","
          "\"ReadWriteOnce\",\"ReadWriteOnce\"],\"persistentVolumeReclaimPolicy\":\"Retain\","
          "\"claimRef\":{\"namespace\":\"default\",\"name\":\"data\"},\"storageClassName\":"
          "\"standard\",\"volumeMode\":\"Filesystem\"},\"status\":{\"phase\":\"Bound\"}}");
  ASSERT_STR(columns_persistentvolumes, "Capacity", s, "10Gi");
  ASSERT_STR(columns_persistentvolumes, "Access Modes", s, "RWO,RWX");
  ASSERT_STR(columns_persistentvolumes, "Reclaim Policy", s, "Retain");
  ASSERT_STR(columns_persistentvolumes, "Status", s, "Bound");
  ASSERT_STR(columns_persistentvolumes, "Claim", s, "default/data");
  ASSERT_STR(columns_persistentvolumes, "StorageClass", s, "standard");
  ASSERT_STR(columns_persistentvolumes, "VolumeAttributesClass", s, "<unset>");
  ASSERT_STR(columns_persistentvolumes, "Reason", s, "");
  ASSERT_STR(columns_persistentvolumes, "VolumeMode", s, "Filesystem");
  json_decref(s);

  s = obj("{\"metadata\":{\"deletionTimestamp\":\"2024-01-01T00:00:00Z\",\"annotations\":"
          "{\"volume.beta.kubernetes.io/storage-class\":\"old\"}},\"spec\":{\"storageClassName\":"
          "\"new\"},\"status\":{\"phase\":\"Released\"}}");
  ASSERT_STR(columns_persistentvolumes, "Status", s, "Terminating");
  ASSERT_STR(columns_persistentvolumes, "StorageClass", s, "old");
  ASSERT_STR(columns_persistentvolumes, "Capacity", s, "0");
  ASSERT_STR(columns_persistentvolumes, "Claim", s, "");
  json_decref(s);

  s = obj("{\"spec\":{\"volumeName\":\"pv-1\",\"resources\":{\"requests\":{\"storage\":\"1Gi\"}}},"
          "\"status\":{\"phase\":\"Bound\",\"capacity\":{\"storage\":\"2Gi\"},"
          "\"accessModes\":[\"ReadWriteOncePod\"]}}");
  ASSERT_STR(columns_persistentvolumeclaims, "Status", s, "Bound");
  ASSERT_STR(columns_persistentvolumeclaims, "Volume", s, "pv-1");
  ASSERT_STR(columns_persistentvolumeclaims, "Capacity", s, "2Gi");
  ASSERT_STR(columns_persistentvolumeclaims, "Access Modes", s, "RWOP");
  ASSERT_STR(columns_persistentvolumeclaims, "StorageClass", s, "");
  json_decref(s);
  s = obj("{\"spec\":{\"accessModes\":[\"ReadWriteOnce\"]},\"status\":{\"phase\":\"Pending\"}}");
  ASSERT_STR(columns_persistentvolumeclaims, "Volume", s, "");
  ASSERT_STR(columns_persistentvolumeclaims, "Capacity", s, "");
  ASSERT_STR(columns_persistentvolumeclaims, "Access Modes", s, "");
  ASSERT_STR(columns_persistentvolumeclaims, "VolumeMode", s, "<unset>");
  json_decref(s);

  s = obj("{\"spec\":{\"volumeLifecycleModes\":[\"Persistent\",\"Ephemeral\"],"
          "\"tokenRequests\":[{\"audience\":\"a\"},{\"audience\":\"b\"}]}}");
  ASSERT_TRUE_CELL(columns_csidrivers, "AttachRequired", s);
  ASSERT_FALSE_CELL(columns_csidrivers, "PodInfoOnMount", s);
  ASSERT_FALSE_CELL(columns_csidrivers, "StorageCapacity", s);
  ASSERT_STR(columns_csidrivers, "TokenRequests", s, "a,b");
  ASSERT_FALSE_CELL(columns_csidrivers, "RequiresRepublish", s);
  ASSERT_STR(columns_csidrivers, "Modes", s, "Persistent,Ephemeral");
  json_decref(s);
  s = obj("{\"spec\":{\"attachRequired\":false}}");
  ASSERT_FALSE_CELL(columns_csidrivers, "AttachRequired", s);
  ASSERT_STR(columns_csidrivers, "TokenRequests", s, "<unset>");
  ASSERT_NONE(columns_csidrivers, "Modes", s);
  json_decref(s);

  s = obj("{\"spec\":{\"drivers\":[{\"name\":\"a\"},{\"name\":\"b\"}]}}");
  ASSERT_INT(columns_csinodes, "Drivers", s, "2");
  json_decref(s);

  s = obj("{\"spec\":{\"attacher\":\"csi.example.com\",\"nodeName\":\"n1\",\"source\":"
          "{\"persistentVolumeName\":\"pv-1\"}},\"status\":{\"attached\":true}}");
  ASSERT_STR(columns_volumeattachments, "Attacher", s, "csi.example.com");
  ASSERT_STR(columns_volumeattachments, "PV", s, "pv-1");
  ASSERT_STR(columns_volumeattachments, "Node", s, "n1");
  ASSERT_TRUE_CELL(columns_volumeattachments, "Attached", s);
  json_decref(s);
}

/* ---- the rest of core and friends ---- */

static void test_core_misc(void **state) {
  json_t *o = obj("{\"status\":{\"hard\":{\"requests.cpu\":\"1\",\"limits.memory\":\"2Gi\","
                  "\"pods\":\"10\",\"limits.cpu\":\"2\"},\"used\":{\"requests.cpu\":\"500m\","
                  "\"pods\":\"3\"}}}");
  ASSERT_STR(columns_resourcequotas, "Request", o, "pods: 3/10, requests.cpu: 500m/1");
  ASSERT_STR(columns_resourcequotas, "Limit", o, "limits.cpu: 0/2, limits.memory: 0/2Gi");
  json_decref(o);

  o = obj("{\"conditions\":[{\"type\":\"Healthy\",\"status\":\"True\",\"message\":\"ok\"}]}");
  ASSERT_STR(columns_componentstatuses, "Status", o, "Healthy");
  ASSERT_STR(columns_componentstatuses, "Message", o, "ok");
  ASSERT_STR(columns_componentstatuses, "Error", o, "");
  json_decref(o);
  o = obj("{}");
  ASSERT_STR(columns_componentstatuses, "Status", o, "Unknown");
  json_decref(o);

  o = obj("{\"secrets\":[{\"name\":\"a\"}]}");
  ASSERT_INT(columns_serviceaccounts, "Secrets", o, "1");
  json_decref(o);
  o = obj("{\"data\":{\"a\":\"1\"},\"binaryData\":{\"b\":\"AA==\"}}");
  ASSERT_INT(columns_configmaps, "Data", o, "2");
  json_decref(o);
  o = obj("{\"type\":\"Opaque\",\"data\":{\"a\":\"MQ==\"}}");
  ASSERT_STR(columns_secrets, "Type", o, "Opaque");
  ASSERT_INT(columns_secrets, "Data", o, "1");
  json_decref(o);
  o = obj("{\"status\":{\"phase\":\"Active\"}}");
  ASSERT_STR(columns_namespaces, "Status", o, "Active");
  json_decref(o);

  o = obj("{\"template\":{\"metadata\":{\"labels\":{\"b\":\"2\",\"a\":\"1\"}},\"spec\":"
          "{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}");
  ASSERT_STR(columns_podtemplates, "Containers", o, "c");
  ASSERT_STR(columns_podtemplates, "Images", o, "i");
  ASSERT_STR(columns_podtemplates, "Pod Labels", o, "a=1,b=2");
  json_decref(o);

  o = obj("{\"value\":1000,\"globalDefault\":true,\"preemptionPolicy\":\"Never\"}");
  ASSERT_INT(columns_priorityclasses, "Value", o, "1000");
  ASSERT_TRUE_CELL(columns_priorityclasses, "Global-Default", o);
  ASSERT_STR(columns_priorityclasses, "PreemptionPolicy", o, "Never");
  json_decref(o);

  o = obj("{\"handler\":\"runc\"}");
  ASSERT_STR(columns_runtimeclasses, "Handler", o, "runc");
  json_decref(o);

  o = obj("{\"spec\":{\"signerName\":\"kubernetes.io/kube-apiserver-client\",\"username\":"
          "\"alice\",\"expirationSeconds\":3600},\"status\":{\"conditions\":[{\"type\":"
          "\"Approved\",\"status\":\"True\"}],\"certificate\":\"LS0t\"}}");
  ASSERT_STR(columns_csr, "SignerName", o, "kubernetes.io/kube-apiserver-client");
  ASSERT_STR(columns_csr, "Requestor", o, "alice");
  ASSERT_STR(columns_csr, "RequestedDuration", o, "60m");
  ASSERT_STR(columns_csr, "Condition", o, "Approved,Issued");
  json_decref(o);
  o = obj("{\"status\":{\"conditions\":[{\"type\":\"Approved\"},{\"type\":\"Denied\"},"
          "{\"type\":\"Failed\"}]}}");
  ASSERT_STR(columns_csr, "Condition", o, "Denied,Failed");
  ASSERT_NONE(columns_csr, "SignerName", o);
  ASSERT_NONE(columns_csr, "RequestedDuration", o);
  json_decref(o);
  o = obj("{}");
  ASSERT_STR(columns_csr, "Condition", o, "Pending");
  json_decref(o);

  o = obj("{\"webhooks\":[{},{},{}]}");
  ASSERT_INT(columns_webhooks, "Webhooks", o, "3");
  json_decref(o);
}

/* ---- every table ---- */

static bool type_ok(const char *t) {
  return streq(t, "string") || streq(t, "integer") || streq(t, "boolean") || streq(t, "date") ||
         streq(t, "number");
}

static const struct api_column *const all_tables[] = {
    columns_default,
    columns_namespaces,
    columns_pods,
    columns_services,
    columns_endpoints,
    columns_configmaps,
    columns_secrets,
    columns_serviceaccounts,
    columns_nodes,
    columns_events,
    columns_replicationcontrollers,
    columns_persistentvolumes,
    columns_persistentvolumeclaims,
    columns_limitranges,
    columns_resourcequotas,
    columns_podtemplates,
    columns_componentstatuses,
    columns_deployments,
    columns_replicasets,
    columns_statefulsets,
    columns_daemonsets,
    columns_controllerrevisions,
    columns_jobs,
    columns_cronjobs,
    columns_hpa,
    columns_ingresses,
    columns_ingressclasses,
    columns_networkpolicies,
    columns_endpointslices,
    columns_leases,
    columns_pdb,
    columns_roles,
    columns_rolebindings,
    columns_storageclasses,
    columns_csidrivers,
    columns_csinodes,
    columns_volumeattachments,
    columns_priorityclasses,
    columns_runtimeclasses,
    columns_csr,
    columns_webhooks,
};

/* Every table is well formed, and its cells survive empty and ill-typed objects. */
static void test_all_tables(void **state) {
  static const char *const odd[] = {
      "{}",
      "{\"metadata\":null,\"spec\":null,\"status\":null}",
      "{\"metadata\":{\"name\":7,\"labels\":[],\"annotations\":\"x\",\"ownerReferences\":{}},"
      "\"spec\":{\"containers\":{},\"initContainers\":[1],\"ports\":[\"x\"],\"rules\":[null],"
      "\"metrics\":[{\"type\":\"Resource\"}],\"selector\":\"app\",\"replicas\":\"3\"},"
      "\"status\":{\"containerStatuses\":[{\"state\":{\"terminated\":1}}],\"conditions\":[2],"
      "\"hard\":{\"cpu\":true},\"loadBalancer\":{\"ingress\":[{}]}},\"subsets\":[{}],"
      "\"endpoints\":[{\"addresses\":[1]}],\"ports\":[null],\"subjects\":[7]}",
  };
  for (size_t i = 0; i < ARRAY_SIZE(all_tables); i++) {
    const struct api_column *cols = all_tables[i];
    bool has_name = false;
    for (const struct api_column *c = cols; c->name; c++) {
      assert_true(type_ok(c->type));
      assert_true(c->priority == 0 || c->priority == 1);
      assert_true(c->path || c->cell);
      assert_non_null(c->description);
      assert_non_null(c->format);
      if (streq(c->name, "Name")) {
        assert_string_equal(c->format, "name");
        has_name = true;
      }
    }
    assert_true(has_name);
    for (size_t k = 0; k < ARRAY_SIZE(odd); k++) {
      json_t *o = json_loads(odd[k], 0, NULL);
      assert_non_null(o);
      for (const struct api_column *c = cols; c->name; c++) {
        json_t *v = c->cell ? c->cell(o) : json_path(o, c->path);
        if (c->cell)
          json_decref(v);
      }
      json_decref(o);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pod_running),
      cmocka_unit_test(test_pod_pending),
      cmocka_unit_test(test_pod_crashloop),
      cmocka_unit_test(test_pod_terminated),
      cmocka_unit_test(test_pod_completed_with_running),
      cmocka_unit_test(test_pod_init),
      cmocka_unit_test(test_pod_sidecar),
      cmocka_unit_test(test_pod_terminating),
      cmocka_unit_test(test_pod_wide),
      cmocka_unit_test(test_service_types),
      cmocka_unit_test(test_endpoints),
      cmocka_unit_test(test_endpointslices),
      cmocka_unit_test(test_nodes),
      cmocka_unit_test(test_events),
      cmocka_unit_test(test_deployments),
      cmocka_unit_test(test_replicasets_and_friends),
      cmocka_unit_test(test_jobs),
      cmocka_unit_test(test_cronjobs),
      cmocka_unit_test(test_hpa),
      cmocka_unit_test(test_ingress),
      cmocka_unit_test(test_pdb_rbac_lease),
      cmocka_unit_test(test_storage),
      cmocka_unit_test(test_core_misc),
      cmocka_unit_test(test_all_tables),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
