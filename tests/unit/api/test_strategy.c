/* Tests for the per-kind strategies: each runs an object through what the API server
 * does (decode, prepare, schema defaulting and validation, strategy validation) and
 * checks kube-apiserver's defaults and exact error texts. */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include <stdio.h>
#include <string.h>

#include "api/registry.h"
#include "api/strategy.h"
#include "api/validate.h"
#include "lib/json.h"

static const struct api_resource *res_of(const char *group, const char *plural) {
  assert_int_equal(api_registry_init(NULL), 0);
  const struct api_resource *r = api_registry_find(group, "v1", plural);
  assert_non_null(r);
  return r;
}


static json_t *decode(const struct api_resource *r, const char *text) {
  json_error_t jerr;
  json_t *obj = json_loads(text, 0, &jerr);
  if (!obj)
    fail_msg("bad test JSON: %s: %s", jerr.text, text);
  _cleanup_api_error_ struct api_error err = {0};
  if (validate_decode(r, obj, VALIDATE_UNKNOWN_IGNORE, NULL, &err) < 0)
    fail_msg("decode: %s", err.message);
  return obj;
}

static void check(const struct api_resource *r, json_t *obj, const json_t *old,
                  struct field_errors *errs) {
  validate_default(r, obj);
  validate_object(r, obj, validate_name_rule(r), errs);
  if (r->strategy && r->strategy->validate)
    r->strategy->validate(obj, old, errs);
}

/* Create: returns the object as it would be stored; errors in *errs. */
static json_t *create(const char *group, const char *plural, const char *text,
                      struct field_errors *errs) {
  const struct api_resource *r = res_of(group, plural);
  json_t *obj = decode(r, text);
  json_t *md = json_object_ensure(obj, "metadata");
  if (r->namespaced && !json_object_get(md, "namespace"))
    json_object_set_new(md, "namespace", json_string("default"));
  json_object_set_new(md, "uid", json_string("0d5e5b1c-0000-4000-8000-000000000001"));
  if (r->has_status)
    json_object_del(obj, "status");
  if (r->strategy && r->strategy->prepare_create)
    r->strategy->prepare_create(obj);
  check(r, obj, NULL, errs);
  return obj;
}

static json_t *update(const char *group, const char *plural, const json_t *old, const char *text,
                      struct field_errors *errs) {
  const struct api_resource *r = res_of(group, plural);
  json_t *obj = decode(r, text);
  json_t *md = json_object_ensure(obj, "metadata");
  if (r->namespaced && !json_object_get(md, "namespace"))
    json_object_set_new(md, "namespace", json_string("default"));
  json_object_set(md, "uid", json_path((json_t *)old, "metadata.uid"));
  if (r->has_status) {
    json_t *st = json_object_get(old, "status");
    if (st)
      json_object_set(obj, "status", st);
  }
  if (r->strategy && r->strategy->prepare_update)
    r->strategy->prepare_update(obj, old);
  check(r, obj, old, errs);
  return obj;
}

static void check_create(const char *group, const char *plural, const char *text,
                         struct field_errors *errs) {
  json_decref(create(group, plural, text, errs));
}

static void check_update(const char *group, const char *plural, const json_t *old, const char *text,
                         struct field_errors *errs) {
  json_decref(update(group, plural, old, text, errs));
}

static void dump(const struct field_errors *errs) {
  for (size_t i = 0; i < errs->n; i++)
    print_message("  %s: %s\n", errs->items[i].field, errs->items[i].message);
}

static void expect_error(const struct field_errors *errs, const char *field, const char *message) {
  for (size_t i = 0; i < errs->n; i++)
    if (streq(errs->items[i].field, field) && streq(errs->items[i].message, message))
      return;
  dump(errs);
  fail_msg("missing error %s: %s", field, message);
}

static void expect_none(const struct field_errors *errs) {
  if (errs->n) {
    dump(errs);
    fail_msg("unexpected errors");
  }
}

static void expect_str(const json_t *obj, const char *path, const char *want) {
  const char *got = json_path_str((json_t *)obj, path);
  if (!got || !streq(got, want))
    fail_msg("%s: want \"%s\", got \"%s\"", path, want, got ? got : "(absent)");
}

static void expect_json(const json_t *obj, const char *path, const char *want) {
  json_t *v = json_path((json_t *)obj, path);
  _cleanup_free_ char *got = v ? json_encode(v) : xstrdup("(absent)");
  if (!streq(got, want))
    fail_msg("%s: want %s, got %s", path, want, got);
}

/* A path into a list element: "spec.containers", 0, "imagePullPolicy". */
static json_t *at(const json_t *obj, const char *list, size_t i) {
  return json_array_get(json_path((json_t *)obj, list), i);
}

#define POD(containers)                                                                            \
  "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{"               \
  "\"containers\":" containers "}}"
#define POD_SPEC(spec)                                                                             \
  "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":" spec "}"

/* ---- pods ---- */

static void test_pod_defaults(void **state) {
  (void)state;
  _cleanup_field_errors_ struct field_errors errs = {0};
  _cleanup_json_ json_t *pod = create(
      "", "pods",
      POD("[{\"name\":\"a\",\"image\":\"nginx\",\"ports\":[{\"containerPort\":80}],"
          "\"resources\":{\"limits\":{\"cpu\":\"500m\",\"memory\":\"128Mi\"}}},"
          "{\"name\":\"b\",\"image\":\"nginx:1.25\"},{\"name\":\"c\",\"image\":\"busybox:latest\"},"
          "{\"name\":\"d\",\"image\":\"localhost:5000/"
          "x\"},{\"name\":\"e\",\"image\":\"x@sha256:abcd\"}]"),
      &errs);
  expect_none(&errs);
  expect_str(at(pod, "spec.containers", 0), "imagePullPolicy", "Always");
  expect_str(at(pod, "spec.containers", 1), "imagePullPolicy", "IfNotPresent");
  expect_str(at(pod, "spec.containers", 2), "imagePullPolicy", "Always");
  expect_str(at(pod, "spec.containers", 3), "imagePullPolicy", "Always");
  expect_str(at(pod, "spec.containers", 4), "imagePullPolicy", "IfNotPresent");
  expect_json(pod, "spec.enableServiceLinks", "true");
  expect_str(pod, "spec.restartPolicy", "Always");
  expect_str(pod, "spec.dnsPolicy", "ClusterFirst");
  expect_str(pod, "status.phase", "Pending");
  expect_str(pod, "status.qosClass", "Burstable");
  json_t *c0 = at(pod, "spec.containers", 0);
  expect_json(c0, "resources.requests", "{\"cpu\":\"500m\",\"memory\":\"128Mi\"}");
  expect_str(json_array_get(json_object_get(c0, "ports"), 0), "protocol", "TCP");
}

static void test_pod_qos_and_service_account(void **state) {
  (void)state;
  _cleanup_field_errors_ struct field_errors errs = {0};
  _cleanup_json_ json_t *pod = create(
      "", "pods",
      POD_SPEC(
          "{\"serviceAccount\":\"builder\",\"hostNetwork\":true,\"containers\":[{\"name\":\"a\","
          "\"image\":\"x:1\",\"ports\":[{\"containerPort\":8080}],\"resources\":{\"limits\":{"
          "\"cpu\":\"1\","
          "\"memory\":\"1Gi\"}}}]}"),
      &errs);
  expect_none(&errs);
  expect_str(pod, "status.qosClass", "Guaranteed");
  expect_str(pod, "spec.serviceAccountName", "builder");
  json_t *port = json_array_get(json_object_get(at(pod, "spec.containers", 0), "ports"), 0);
  expect_json(port, "hostPort", "8080");
}

static void test_pod_template_gets_no_pod_only_defaults(void **state) {
  (void)state;
  _cleanup_field_errors_ struct field_errors errs = {0};
  _cleanup_json_ json_t *d = create(
      "apps", "deployments",
      "{\"metadata\":{\"name\":\"d\"},\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"d\"}},"
      "\"template\":{\"metadata\":{\"labels\":{\"app\":\"d\"}},\"spec\":{\"containers\":[{\"name\":"
      "\"c\","
      "\"image\":\"nginx\",\"resources\":{\"limits\":{\"cpu\":\"1\"}}}]}}}}",
      &errs);
  expect_none(&errs);
  expect_str(at(d, "spec.template.spec.containers", 0), "imagePullPolicy", "Always");
  expect_json(d, "spec.template.spec.enableServiceLinks", "(absent)");
  expect_json(at(d, "spec.template.spec.containers", 0), "resources.requests", "(absent)");
}

static void test_pod_container_errors(void **state) {
  (void)state;
  _cleanup_field_errors_ struct field_errors errs = {0};
  check_create(
      "", "pods",
      POD_SPEC(
          "{\"initContainers\":[{\"name\":\"a\",\"image\":\"x\"}],"
          "\"containers\":[{\"name\":\"a\",\"ports\":[{\"containerPort\":80,\"name\":\"http\"},"
          "{\"containerPort\":81,\"name\":\"http\"},{\"containerPort\":82,\"name\":\"Bad_Name\"},"
          "{\"containerPort\":83,\"hostPort\":70000}],"
          "\"env\":[{\"name\":\"1BAD\"},{\"name\":\"OK\",\"value\":\"v\",\"valueFrom\":{"
          "\"fieldRef\":"
          "{\"fieldPath\":\"metadata.name\"}}},{\"name\":\"E\",\"valueFrom\":{}}],"
          "\"volumeMounts\":[{\"name\":\"nope\",\"mountPath\":\"/a\"}],"
          "\"resources\":{\"limits\":{\"cpu\":\"1\"},\"requests\":{\"cpu\":\"2\"}}}]}"),
      &errs);
  expect_error(&errs, "spec.containers[0].image", "Required value");
  expect_error(&errs, "spec.initContainers[0].name", "Duplicate value: \"a\"");
  expect_error(&errs, "spec.containers[0].ports[1].name", "Duplicate value: \"http\"");
  expect_error(
      &errs, "spec.containers[0].ports[2].name",
      "Invalid value: \"Bad_Name\": must contain only alpha-numeric characters (a-z, 0-9), "
      "and hyphens (-)");
  expect_error(&errs, "spec.containers[0].ports[3].hostPort",
               "Invalid value: 70000: must be between 1 and 65535, inclusive");
  expect_error(&errs, "spec.containers[0].env[0].name",
               "Invalid value: \"1BAD\": a valid environment variable name must consist of "
               "alphabetic characters, digits, '_', '-', or '.', and must not start with a digit "
               "(e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for "
               "validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')");
  expect_error(&errs, "spec.containers[0].env[1].valueFrom",
               "Invalid value: \"\": may not be specified when `value` is not empty");
  expect_error(&errs, "spec.containers[0].env[2].valueFrom",
               "Invalid value: \"\": must specify one of: `fieldRef`, `resourceFieldRef`, "
               "`configMapKeyRef` or `secretKeyRef`");
  expect_error(&errs, "spec.containers[0].volumeMounts[0].name", "Not found: \"nope\"");
  expect_error(&errs, "spec.containers[0].resources.requests",
               "Invalid value: \"2\": must be less than or equal to cpu limit of 1");
}

static void test_pod_volumes_and_probes(void **state) {
  (void)state;
  _cleanup_field_errors_ struct field_errors errs = {0};
  check_create(
      "", "pods",
      POD_SPEC("{\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}},{\"name\":\"v\",\"emptyDir\":{}},"
               "{\"name\":\"w\"},{\"name\":\"x\",\"emptyDir\":{},\"hostPath\":{\"path\":\"/x\"}}],"
               "\"containers\":[{\"name\":\"c\",\"image\":\"i\","
               "\"volumeMounts\":[{\"name\":\"v\",\"mountPath\":\"/"
               "a\"},{\"name\":\"v\",\"mountPath\":\"/a\"}],"
               "\"livenessProbe\":{\"successThreshold\":2,\"exec\":{\"command\":[\"true\"]}},"
               "\"readinessProbe\":{},"
               "\"startupProbe\":{\"httpGet\":{\"port\":0}}}]}"),
      &errs);
  expect_error(&errs, "spec.volumes[1].name", "Duplicate value: \"v\"");
  expect_error(&errs, "spec.volumes[2]", "Required value: must specify a volume type");
  expect_error(&errs, "spec.volumes[3].hostPath",
               "Forbidden: may not specify more than 1 volume type");
  expect_error(&errs, "spec.containers[0].volumeMounts[1].mountPath",
               "Invalid value: \"/a\": must be unique");
  expect_error(&errs, "spec.containers[0].livenessProbe.successThreshold",
               "Invalid value: 2: must be 1");
  expect_error(&errs, "spec.containers[0].readinessProbe",
               "Required value: must specify a handler type");
  expect_error(&errs, "spec.containers[0].startupProbe.httpGet.port",
               "Invalid value: 0: must be between 1 and 65535, inclusive");
}

static void test_pod_spec_fields(void **state) {
  (void)state;
  _cleanup_field_errors_ struct field_errors errs = {0};
  check_create(
      "", "pods",
      POD_SPEC(
          "{\"restartPolicy\":\"Sometimes\",\"dnsPolicy\":\"None\",\"activeDeadlineSeconds\":0,"
          "\"nodeSelector\":{\"bad key\":\"v\"},"
          "\"tolerations\":[{\"key\":\"k\",\"operator\":\"Exists\",\"value\":\"v\"},"
          "{\"operator\":\"Equal\",\"value\":\"x\"},"
          "{\"key\":\"k\",\"effect\":\"NoSchedule\",\"tolerationSeconds\":5}],"
          "\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}"),
      &errs);
  expect_error(
      &errs, "spec.restartPolicy",
      "Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"");
  expect_error(&errs, "spec.dnsConfig",
               "Required value: must provide `dnsConfig` when `dnsPolicy` is None");
  expect_error(&errs, "spec.activeDeadlineSeconds",
               "Invalid value: 0: must be between 1 and 2147483647, inclusive");
  expect_error(
      &errs, "spec.nodeSelector",
      "Invalid value: \"bad key\": name part must consist of alphanumeric characters, '-', '_' "
      "or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or "
      "'my.name',  or '123-abc', regex used for validation is "
      "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
  expect_error(&errs, "spec.tolerations[0].operator",
               "Invalid value: \"v\": value must be empty when `operator` is 'Exists'");
  expect_error(&errs, "spec.tolerations[1].operator",
               "Invalid value: \"Equal\": operator must be Exists when `key` is empty, which means "
               "\"match all values and all keys\"");
  expect_error(
      &errs, "spec.tolerations[2].effect",
      "Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set");
}

static void test_pod_update(void **state) {
  (void)state;
  _cleanup_field_errors_ struct field_errors errs = {0};
  _cleanup_json_ json_t *old = create(
      "", "pods",
      POD("[{\"name\":\"c\",\"image\":\"nginx:1\",\"ports\":[{\"containerPort\":80}]}]"), &errs);
  expect_none(&errs);

  check_update("", "pods", old,
               POD("[{\"name\":\"c\",\"image\":\"nginx:2\",\"ports\":[{\"containerPort\":80}]}]"),
               &errs);
  expect_none(&errs);

  check_update("", "pods", old,
               POD("[{\"name\":\"c\",\"image\":\"nginx:1\",\"ports\":[{\"containerPort\":81}]}]"),
               &errs);
  expect_error(
      &errs, "spec",
      "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
      "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
      "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to "
      "be set to 1 if it was previously negative)");
  field_errors_clear(&errs);

  check_update("", "pods", old,
               POD("[{\"name\":\"c\",\"image\":\"nginx:1\"},{\"name\":\"d\",\"image\":\"x\"}]"),
               &errs);
  expect_error(&errs, "spec.containers", "Forbidden: pod updates may not add or remove containers");
}

/* ---- services ---- */

#define SVC(spec)                                                                                  \
  "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"s\"},\"spec\":" spec "}"

static void test_service_defaults(void **state) {
  (void)state;
  _cleanup_field_errors_ struct field_errors errs = {0};
  _cleanup_json_ json_t *svc = create(
      "", "services", SVC("{\"selector\":{\"app\":\"a\"},\"ports\":[{\"port\":80}]}"), &errs);
  expect_none(&errs);
  expect_json(at(svc, "spec.ports", 0), "targetPort", "80");
  expect_str(at(svc, "spec.ports", 0), "protocol", "TCP");
  expect_str(svc, "spec.type", "ClusterIP");
  expect_str(svc, "spec.sessionAffinity", "None");
  expect_str(svc, "spec.internalTrafficPolicy", "Cluster");
  expect_str(svc, "spec.ipFamilyPolicy", "SingleStack");
  expect_json(svc, "spec.ipFamilies", "[\"IPv4\"]");
  expect_json(svc, "spec.externalTrafficPolicy", "(absent)");
  assert_true(strategy_service_needs_cluster_ip(svc));
  assert_false(strategy_service_needs_node_ports(svc));

  _cleanup_json_ json_t *lb =
      create("", "services",
             SVC("{\"type\":\"LoadBalancer\",\"sessionAffinity\":\"ClientIP\",\"ports\":[{\"port\":"
                 "80,\"targetPort\":\"http\"}]}"),
             &errs);
  expect_none(&errs);
  expect_str(lb, "spec.externalTrafficPolicy", "Cluster");
  expect_json(lb, "spec.allocateLoadBalancerNodePorts", "true");
  expect_json(lb, "spec.sessionAffinityConfig", "{\"clientIP\":{\"timeoutSeconds\":10800}}");
  expect_json(at(lb, "spec.ports", 0), "targetPort", "\"http\"");
  assert_true(strategy_service_needs_node_ports(lb));

  _cleanup_json_ json_t *headless = create("", "services", SVC("{\"clusterIP\":\"None\"}"), &errs);
  expect_none(&errs);
  expect_str(headless, "spec.ipFamilyPolicy", "RequireDualStack");
  expect_json(headless, "spec.clusterIPs", "[\"None\"]");
  assert_false(strategy_service_needs_cluster_ip(headless));
}

static void test_service_errors(void **state) {
  (void)state;
  _cleanup_field_errors_ struct field_errors errs = {0};
  check_create("", "services", SVC("{\"selector\":{\"app\":\"a\"}}"), &errs);
  expect_error(&errs, "spec.ports", "Required value");
  field_errors_clear(&errs);

  check_create(
      "", "services",
      SVC("{\"ports\":[{\"port\":80,\"name\":\"web\"},{\"port\":81},{\"port\":82,\"name\":\"web\"},"
          "{\"port\":83,\"name\":\"x\",\"nodePort\":30000}],\"clusterIP\":\"1.2.3\"}"),
      &errs);
  expect_error(&errs, "spec.ports[1].name", "Required value");
  expect_error(&errs, "spec.ports[2].name", "Duplicate value: \"web\"");
  expect_error(&errs, "spec.ports[3].nodePort",
               "Forbidden: may not be used when `type` is 'ClusterIP'");
  expect_error(&errs, "spec.clusterIPs[0]",
               "Invalid value: \"1.2.3\": must be empty, 'None', or a valid IP address");
  field_errors_clear(&errs);

  check_create("", "services", SVC("{\"type\":\"ExternalName\"}"), &errs);
  expect_error(&errs, "spec.externalName", "Required value");
  field_errors_clear(&errs);

  check_create("", "services",
               SVC("{\"type\":\"Bogus\",\"ports\":[{\"port\":80,\"protocol\":\"ICMP\"}]}"), &errs);
  expect_error(&errs, "spec.type",
               "Unsupported value: \"Bogus\": supported values: \"ClusterIP\", \"NodePort\", "
               "\"LoadBalancer\", \"ExternalName\"");
  expect_error(&errs, "spec.ports[0].protocol",
               "Unsupported value: \"ICMP\": supported values: \"TCP\", \"UDP\", \"SCTP\"");
}

static void test_service_update(void **state) {
  (void)state;
  _cleanup_field_errors_ struct field_errors errs = {0};
  _cleanup_json_ json_t *old =
      create("", "services", SVC("{\"type\":\"NodePort\",\"ports\":[{\"port\":80}]}"), &errs);
  expect_none(&errs);
  /* What the allocator would have done. */
  json_object_set_new(json_object_get(old, "spec"), "clusterIP", json_string("10.0.0.5"));
  json_object_set_new(json_object_get(old, "spec"), "clusterIPs", json_pack("[s]", "10.0.0.5"));
  json_object_set_new(at(old, "spec.ports", 0), "nodePort", json_integer(30080));

  _cleanup_json_ json_t *kept =
      update("", "services", old, SVC("{\"type\":\"NodePort\",\"ports\":[{\"port\":80}]}"), &errs);
  expect_none(&errs);
  expect_str(kept, "spec.clusterIP", "10.0.0.5");
  expect_json(at(kept, "spec.ports", 0), "nodePort", "30080");

  check_update("", "services", old,
               SVC("{\"type\":\"NodePort\",\"clusterIP\":\"10.0.0.6\",\"ports\":[{\"port\":80}]}"),
               &errs);
  expect_error(&errs, "spec.clusterIPs[0]",
               "Invalid value: []string{\"10.0.0.6\"}: may not change once set");
}

/* ---- workloads ---- */

static void test_deployment_defaults(void **state) {
  (void)state;
  _cleanup_field_errors_ struct field_errors errs = {0};
  /* kubectl create deployment sends strategy: {} */
  _cleanup_json_ json_t *d = create("apps", "deployments",
                                    "{\"metadata\":{\"name\":\"d\"},\"spec\":{\"strategy\":{},"
                                    "\"selector\":{\"matchLabels\":{\"app\":\"d\"}},"
                                    "\"template\":{\"metadata\":{\"labels\":{\"app\":\"d\"}},"
                                    "\"spec\":{\"containers\":[{\"name\":\"c\","
                                    "\"image\":\"nginx\"}]}}}}",
                                    &errs);
  expect_none(&errs);
  expect_json(d, "spec.strategy",
              "{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxUnavailable\":\"25%\","
              "\"maxSurge\":\"25%\"}}");
  expect_json(d, "spec.replicas", "1");
  expect_json(d, "spec.revisionHistoryLimit", "10");
  expect_json(d, "spec.progressDeadlineSeconds", "600");
}

static void test_deployment_errors(void **state) {
  (void)state;
  _cleanup_field_errors_ struct field_errors errs = {0};
  check_create("apps", "deployments",
               "{\"metadata\":{\"name\":\"d\"},\"spec\":{\"replicas\":-1,\"strategy\":{\"type\":"
               "\"Recreate\","
               "\"rollingUpdate\":{}},\"selector\":{\"matchLabels\":{\"app\":\"x\"}},"
               "\"template\":{\"metadata\":{\"labels\":{\"app\":\"d\",\"tier\":\"web\"}},\"spec\":{"
               "\"restartPolicy\":\"Never\","
               "\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}}}",
               &errs);
  expect_error(&errs, "spec.replicas", "Invalid value: -1: must be greater than or equal to 0");
  expect_error(
      &errs, "spec.template.metadata.labels",
      "Invalid value: map[string]string{\"app\":\"d\", \"tier\":\"web\"}: `selector` does not "
      "match template `labels`");
  expect_error(&errs, "spec.template.spec.restartPolicy",
               "Unsupported value: \"Never\": supported values: \"Always\"");
  expect_error(&errs, "spec.strategy.rollingUpdate",
               "Forbidden: may not be specified when strategy `type` is 'Recreate'");
  field_errors_clear(&errs);

  check_create("apps", "deployments",
               "{\"metadata\":{\"name\":\"d\"},\"spec\":{\"selector\":{},"
               "\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}}}",
               &errs);
  expect_error(
      &errs, "spec.selector",
      "Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
      "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for "
      "deployment");
}

static void test_deployment_selector_immutable(void **state) {
  (void)state;
  _cleanup_field_errors_ struct field_errors errs = {0};
#define DEPLOY(app)                                                                                \
  "{\"metadata\":{\"name\":\"d\"},\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"" app "\"}}," \
  "\"template\":{\"metadata\":{\"labels\":{\"app\":\"" app                                         \
  "\"}},\"spec\":{\"containers\":[{\"name\":"                                                      \
  "\"c\",\"image\":\"nginx\"}]}}}}"
  _cleanup_json_ json_t *old = create("apps", "deployments", DEPLOY("a"), &errs);
  expect_none(&errs);
  check_update("apps", "deployments", old, DEPLOY("a"), &errs);
  expect_none(&errs);
  check_update("apps", "deployments", old, DEPLOY("b"), &errs);
  expect_error(&errs, "spec.selector",
               "Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"b\"}, "
               "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable");
}

static void test_statefulset_daemonset_defaults(void **state) {
  (void)state;
  _cleanup_field_errors_ struct field_errors errs = {0};
  _cleanup_json_ json_t *ss =
      create("apps", "statefulsets",
             "{\"metadata\":{\"name\":\"s\"},\"spec\":{\"serviceName\":\"s\",\"updateStrategy\":{},"
             "\"selector\":{\"matchLabels\":{\"app\":\"s\"}},\"template\":{\"metadata\":{"
             "\"labels\":{\"app\":\"s\"}},"
             "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}}}",
             &errs);
  expect_none(&errs);
  expect_json(ss, "spec.updateStrategy",
              "{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"partition\":0}}");
  expect_str(ss, "spec.podManagementPolicy", "OrderedReady");

  _cleanup_json_ json_t *ds = create(
      "apps", "daemonsets",
      "{\"metadata\":{\"name\":\"d\"},\"spec\":{\"updateStrategy\":{\"type\":\"RollingUpdate\"},"
      "\"selector\":{\"matchLabels\":{\"app\":\"d\"}},\"template\":{\"metadata\":{\"labels\":{"
      "\"app\":\"d\"}},"
      "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}}}",
      &errs);
  expect_none(&errs);
  expect_json(ds, "spec.updateStrategy.rollingUpdate", "{\"maxUnavailable\":1,\"maxSurge\":0}");
}

static void test_replicationcontroller_defaults(void **state) {
  (void)state;
  _cleanup_field_errors_ struct field_errors errs = {0};
  _cleanup_json_ json_t *rc =
      create("", "replicationcontrollers",
             "{\"metadata\":{\"name\":\"r\"},\"spec\":{\"template\":{\"metadata\":{\"labels\":{"
             "\"app\":\"r\"}},"
             "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}}}",
             &errs);
  expect_none(&errs);
  expect_json(rc, "spec.selector", "{\"app\":\"r\"}");
  expect_json(rc, "metadata.labels", "{\"app\":\"r\"}");
  expect_json(rc, "spec.replicas", "1");
}

static void test_job(void **state) {
  (void)state;
  _cleanup_field_errors_ struct field_errors errs = {0};
  _cleanup_json_ json_t *job = create("batch", "jobs",
                                      "{\"metadata\":{\"name\":\"j\"},\"spec\":{\"template\":{"
                                      "\"spec\":{\"restartPolicy\":\"Never\","
                                      "\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}}}",
                                      &errs);
  expect_none(&errs);
  expect_json(job, "spec.completions", "1");
  expect_json(job, "spec.parallelism", "1");
  expect_json(job, "spec.backoffLimit", "6");
  expect_str(job, "spec.completionMode", "NonIndexed");
  expect_str(job, "spec.podReplacementPolicy", "TerminatingOrFailed");
  expect_json(job, "spec.selector",
              "{\"matchLabels\":{\"batch.kubernetes.io/"
              "controller-uid\":\"0d5e5b1c-0000-4000-8000-000000000001\"}}");
  expect_str(job, "spec.template.metadata.labels.job-name", "j");
  expect_str(job, "metadata.labels.controller-uid", "0d5e5b1c-0000-4000-8000-000000000001");

  check_create("batch", "jobs",
               "{\"metadata\":{\"name\":\"j\"},\"spec\":{\"template\":{\"spec\":{"
               "\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}}}",
               &errs);
  expect_error(&errs, "spec.template.spec.restartPolicy",
               "Required value: valid values: \"OnFailure\", \"Never\"");
}

static void test_cronjob(void **state) {
  (void)state;
  _cleanup_field_errors_ struct field_errors errs = {0};
#define CRON(schedule, extra)                                                                      \
  "{\"metadata\":{\"name\":\"c\"},\"spec\":{\"schedule\":\"" schedule "\"" extra                   \
  ",\"jobTemplate\":"                                                                              \
  "{\"spec\":{\"template\":{\"spec\":{\"restartPolicy\":\"OnFailure\",\"containers\":[{\"name\":"  \
  "\"c\","                                                                                         \
  "\"image\":\"busybox\"}]}}}}}}"
  _cleanup_json_ json_t *ok = create("batch", "cronjobs", CRON("*/5 * * * *", ""), &errs);
  expect_none(&errs);
  expect_str(ok, "spec.concurrencyPolicy", "Allow");
  expect_str(at(ok, "spec.jobTemplate.spec.template.spec.containers", 0), "imagePullPolicy",
             "Always");
  check_create("batch", "cronjobs", CRON("@hourly", ",\"timeZone\":\"Etc/UTC\""), &errs);
  expect_none(&errs);
  check_create("batch", "cronjobs", CRON("0 9 * jan-mar MON-FRI", ""), &errs);
  expect_none(&errs);

  check_create("batch", "cronjobs", CRON("* * *", ""), &errs);
  expect_error(&errs, "spec.schedule",
               "Invalid value: \"* * *\": expected exactly 5 fields, found 3: [* * *]");
  field_errors_clear(&errs);
  check_create("batch", "cronjobs", CRON("61 * * * *", ""), &errs);
  expect_error(&errs, "spec.schedule",
               "Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61");
  field_errors_clear(&errs);
  check_create("batch", "cronjobs", CRON("@sometimes", ""), &errs);
  expect_error(&errs, "spec.schedule",
               "Invalid value: \"@sometimes\": unrecognized descriptor: @sometimes");
  field_errors_clear(&errs);
  check_create("batch", "cronjobs", CRON("x * * * *", ""), &errs);
  expect_error(
      &errs, "spec.schedule",
      "Invalid value: \"x * * * *\": failed to parse int from x: strconv.Atoi: parsing \"x\": "
      "invalid syntax");
  field_errors_clear(&errs);
  check_create("batch", "cronjobs", CRON("* * * * *", ",\"timeZone\":\"Mars/Olympus\""), &errs);
  expect_error(&errs, "spec.timeZone",
               "Invalid value: \"Mars/Olympus\": unknown time zone Mars/Olympus");
  field_errors_clear(&errs);
  check_create("batch", "cronjobs", CRON("TZ=UTC * * * * *", ""), &errs);
  expect_error(
      &errs, "spec.schedule",
      "Invalid value: \"TZ=UTC * * * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone "
      "field instead");
}

/* ---- small core kinds ---- */

static void test_namespace(void **state) {
  (void)state;
  _cleanup_field_errors_ struct field_errors errs = {0};
  _cleanup_json_ json_t *ns = create(
      "", "namespaces",
      "{\"metadata\":{\"name\":\"dev\"},\"spec\":{\"finalizers\":[\"example.com/x\"]}}", &errs);
  expect_none(&errs);
  expect_json(ns, "spec.finalizers", "[\"example.com/x\",\"kubernetes\"]");
  assert_string_equal(json_string_value(json_object_get(json_path(ns, "metadata.labels"),
                                                        "kubernetes.io/metadata.name")),
                      "dev");
  expect_str(ns, "status.phase", "Active");
  check_create("", "namespaces",
               "{\"metadata\":{\"name\":\"dev\"},\"spec\":{\"finalizers\":[\"custom\"]}}", &errs);
  expect_error(&errs, "spec.finalizers",
               "Invalid value: \"custom\": name is neither a standard finalizer name nor is it "
               "fully qualified");
}

static void test_configmap(void **state) {
  (void)state;
  _cleanup_field_errors_ struct field_errors errs = {0};
  check_create("", "configmaps",
               "{\"metadata\":{\"name\":\"c\"},\"data\":{\"a "
               "b\":\"1\",\"k\":\"v\"},\"binaryData\":{\"k\":\"AA==\"}}",
               &errs);
  expect_error(
      &errs, "data[a b]",
      "Invalid value: \"a b\": a valid config key must consist of alphanumeric characters, "
      "'-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for "
      "validation is '[-._a-zA-Z0-9]+')");
  expect_error(&errs, "data[k]", "Invalid value: \"k\": duplicate of key present in binaryData");
  field_errors_clear(&errs);

  _cleanup_json_ json_t *old =
      create("", "configmaps",
             "{\"metadata\":{\"name\":\"c\"},\"immutable\":true,\"data\":{\"k\":\"v\"}}", &errs);
  expect_none(&errs);
  check_update("", "configmaps", old, "{\"metadata\":{\"name\":\"c\"},\"data\":{\"k\":\"w\"}}",
               &errs);
  expect_error(&errs, "immutable", "Forbidden: field is immutable when `immutable` is set");
  expect_error(&errs, "data", "Forbidden: field is immutable when `immutable` is set");
}

static void test_configmap_too_big(void **state) {
  (void)state;
  _cleanup_field_errors_ struct field_errors errs = {0};
  size_t n = 1024 * 1024 + 1;
  char *big = xmalloc(n + 1);
  memset(big, 'x', n);
  big[n] = 0;
  _cleanup_free_ char *text =
      xasprintf("{\"metadata\":{\"name\":\"c\"},\"data\":{\"k\":\"%s\"}}", big);
  free(big);
  check_create("", "configmaps", text, &errs);
  expect_error(&errs, "[]", "Too long: may not be more than 1048576 bytes");
}

static void test_secret(void **state) {
  (void)state;
  _cleanup_field_errors_ struct field_errors errs = {0};
  check_create("", "secrets",
               "{\"metadata\":{\"name\":\"s\"},\"type\":\"kubernetes.io/"
               "tls\",\"data\":{\"tls.crt\":\"AA==\"}}",
               &errs);
  expect_error(&errs, "data[tls.key]", "Required value");
  field_errors_clear(&errs);
  check_create("", "secrets",
               "{\"metadata\":{\"name\":\"s\"},\"type\":\"kubernetes.io/"
               "dockerconfigjson\",\"stringData\":{\".dockerconfigjson\":\"[]\"}}",
               &errs);
  expect_error(
      &errs, "data[.dockerconfigjson]",
      "Invalid value: \"<secret contents redacted>\": json: cannot unmarshal array into Go value "
      "of type map[string]interface {}");
  field_errors_clear(&errs);
  _cleanup_json_ json_t *old =
      create("", "secrets", "{\"metadata\":{\"name\":\"s\"},\"stringData\":{\"a\":\"b\"}}", &errs);
  expect_none(&errs);
  expect_str(old, "data.a", "Yg==");
  expect_json(old, "stringData", "(absent)");
  check_update("", "secrets", old,
               "{\"metadata\":{\"name\":\"s\"},\"type\":\"kubernetes.io/"
               "basic-auth\",\"data\":{\"username\":\"YQ==\"}}",
               &errs);
  expect_error(&errs, "type", "Invalid value: \"kubernetes.io/basic-auth\": field is immutable");
}

static void test_pvc(void **state) {
  (void)state;
  _cleanup_field_errors_ struct field_errors errs = {0};
  check_create(
      "", "persistentvolumeclaims",
      "{\"metadata\":{\"name\":\"c\"},\"spec\":{\"accessModes\":[\"ReadWriteSometimes\"]}}", &errs);
  expect_error(&errs, "spec.accessModes",
               "Unsupported value: \"ReadWriteSometimes\": supported values: \"ReadOnlyMany\", "
               "\"ReadWriteMany\", \"ReadWriteOnce\", \"ReadWriteOncePod\"");
  expect_error(&errs, "spec.resources[storage]", "Required value");
  field_errors_clear(&errs);
  check_create("", "persistentvolumeclaims",
               "{\"metadata\":{\"name\":\"c\"},\"spec\":{\"resources\":{\"requests\":{\"storage\":"
               "\"1Gi\"}}}}",
               &errs);
  expect_error(&errs, "spec.accessModes", "Required value: at least 1 access mode is required");
}

static void test_rbac(void **state) {
  (void)state;
  _cleanup_field_errors_ struct field_errors errs = {0};
  check_create("rbac.authorization.k8s.io", "roles",
               "{\"metadata\":{\"name\":\"r\"},\"rules\":[{\"verbs\":[],\"apiGroups\":[\"\"]},"
               "{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/healthz\"]}]}",
               &errs);
  expect_error(&errs, "rules[0].verbs", "Required value: verbs must contain at least one value");
  expect_error(&errs, "rules[0].resources",
               "Required value: resource rules must supply at least one resource");
  expect_error(&errs, "rules[1].nonResourceURLs",
               "Invalid value: [\"/healthz\"]: namespaced rules cannot apply to non-resource URLs");
}

static void test_ingress(void **state) {
  (void)state;
  _cleanup_field_errors_ struct field_errors errs = {0};
  check_create(
      "networking.k8s.io", "ingresses",
      "{\"metadata\":{\"name\":\"i\"},\"spec\":{\"rules\":[{\"host\":\"foo.example.com\",\"http\":{"
      "\"paths\":["
      "{\"path\":\"/\",\"backend\":{\"service\":{\"name\":\"s\",\"port\":{\"number\":80}}}},"
      "{\"path\":\"rel\",\"pathType\":\"Prefix\",\"backend\":{\"service\":{\"name\":\"s\",\"port\":"
      "{}}}},"
      "{\"path\":\"/x\",\"pathType\":\"Exact\",\"backend\":{}},"
      "{\"path\":\"/"
      "y\",\"pathType\":\"Exact\",\"backend\":{\"service\":{\"name\":\"s\",\"port\":{\"number\":1}}"
      ","
      "\"resource\":{\"kind\":\"K\",\"name\":\"n\"}}}]}}]}}",
      &errs);
  expect_error(&errs, "spec.rules[0].http.paths[0].pathType",
               "Required value: pathType must be specified");
  expect_error(&errs, "spec.rules[0].http.paths[1].path",
               "Invalid value: \"rel\": must be an absolute path");
  expect_error(&errs, "spec.rules[0].http.paths[1].backend",
               "Required value: port name or number is required");
  expect_error(&errs, "spec.rules[0].http.paths[2].backend",
               "Invalid value: \"\": resource or service backend is required");
  expect_error(&errs, "spec.rules[0].http.paths[3].backend",
               "Invalid value: \"\": cannot set both resource and service backends");
  field_errors_clear(&errs);
  check_create("networking.k8s.io", "ingresses", "{\"metadata\":{\"name\":\"i\"},\"spec\":{}}",
               &errs);
  expect_error(&errs, "spec",
               "Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` "
               "must be specified");
}

static void test_priorityclass_and_lease(void **state) {
  (void)state;
  _cleanup_field_errors_ struct field_errors errs = {0};
  check_create("scheduling.k8s.io", "priorityclasses",
               "{\"metadata\":{\"name\":\"high\"},\"value\":1000000001}", &errs);
  expect_error(&errs, "value",
               "Forbidden: maximum allowed value of a user defined priority is 1000000000");
  field_errors_clear(&errs);
  check_create("scheduling.k8s.io", "priorityclasses",
               "{\"metadata\":{\"name\":\"system-foo\"},\"value\":1}", &errs);
  expect_error(
      &errs, "metadata.name",
      "Forbidden: priority class names with 'system-' prefix are reserved for system use only. "
      "error: system-foo is not a known system priority class");
  field_errors_clear(&errs);
  _cleanup_json_ json_t *old = create("scheduling.k8s.io", "priorityclasses",
                                      "{\"metadata\":{\"name\":\"p\"},\"value\":5}", &errs);
  expect_none(&errs);
  check_update("scheduling.k8s.io", "priorityclasses", old,
               "{\"metadata\":{\"name\":\"p\"},\"value\":6}", &errs);
  expect_error(&errs, "value", "Forbidden: may not be changed in an update.");
  field_errors_clear(&errs);
  check_create("coordination.k8s.io", "leases",
               "{\"metadata\":{\"name\":\"l\"},\"spec\":{\"leaseDurationSeconds\":0}}", &errs);
  expect_error(&errs, "spec.leaseDurationSeconds", "Invalid value: 0: must be greater than 0");
}

static void test_event(void **state) {
  (void)state;
  _cleanup_field_errors_ struct field_errors errs = {0};
  check_create("", "events",
               "{\"metadata\":{\"name\":\"e\",\"namespace\":\"default\"},\"involvedObject\":{"
               "\"kind\":\"Pod\","
               "\"name\":\"p\",\"namespace\":\"other\"}}",
               &errs);
  expect_error(&errs, "involvedObject.namespace",
               "Invalid value: \"other\": does not match event.namespace");
}

static void test_go_formatting(void **state) {
  (void)state;
  _cleanup_json_ json_t *sel = json_loads(
      "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[\"x\",\"y\"]}]}", 0,
      NULL);
  _cleanup_free_ char *s = strategy_go_label_selector(sel);
  assert_string_equal(s,
                      "v1.LabelSelector{MatchLabels:map[string]string(nil), "
                      "MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{"
                      "Key:\"a\", Operator:\"In\", Values:[]string{\"x\", \"y\"}}}}");
  _cleanup_json_ json_t *m = json_pack("{s:s,s:s}", "z", "1", "a", "2");
  _cleanup_free_ char *ms = strategy_go_string_map(m);
  assert_string_equal(ms, "map[string]string{\"a\":\"2\", \"z\":\"1\"}");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pod_defaults),
      cmocka_unit_test(test_pod_qos_and_service_account),
      cmocka_unit_test(test_pod_template_gets_no_pod_only_defaults),
      cmocka_unit_test(test_pod_container_errors),
      cmocka_unit_test(test_pod_volumes_and_probes),
      cmocka_unit_test(test_pod_spec_fields),
      cmocka_unit_test(test_pod_update),
      cmocka_unit_test(test_service_defaults),
      cmocka_unit_test(test_service_errors),
      cmocka_unit_test(test_service_update),
      cmocka_unit_test(test_deployment_defaults),
      cmocka_unit_test(test_deployment_errors),
      cmocka_unit_test(test_deployment_selector_immutable),
      cmocka_unit_test(test_statefulset_daemonset_defaults),
      cmocka_unit_test(test_replicationcontroller_defaults),
      cmocka_unit_test(test_job),
      cmocka_unit_test(test_cronjob),
      cmocka_unit_test(test_namespace),
      cmocka_unit_test(test_configmap),
      cmocka_unit_test(test_configmap_too_big),
      cmocka_unit_test(test_secret),
      cmocka_unit_test(test_pvc),
      cmocka_unit_test(test_rbac),
      cmocka_unit_test(test_ingress),
      cmocka_unit_test(test_priorityclass_and_lease),
      cmocka_unit_test(test_event),
      cmocka_unit_test(test_go_formatting),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
