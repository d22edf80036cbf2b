/* Tests for schema-driven decode checks, defaulting and validation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/validate.h"
#include "lib/json.h"

extern const char ckube_schema_text[];

/* A small apps-like group, parsed together with the embedded text so ObjectMeta,
 * LabelSelector, Time and the scalar wrappers come from meta.schema. */
static const char test_text[] =
    "package io.k8s.api.testapps.v1\n"
    "type Deployment gvk=testapps/v1/Deployment\n"
    "  apiVersion string pb=-\n"
    "  kind string pb=-\n"
    "  metadata ObjectMeta pb=1\n"
    "  spec DeploymentSpec pb=2\n"
    "  status DeploymentStatus pb=3\n"
    "type DeploymentSpec\n"
    "  replicas int32 default=1 min=0 max=1000\n"
    "  paused boolean\n"
    "  ratio number\n"
    "  selector LabelSelector\n"
    "  template PodTemplateSpec\n"
    "  strategy Strategy default={}\n"
    "type Strategy\n"
    "  type string default=\"RollingUpdate\" enum=Recreate|RollingUpdate\n"
    "  maxSurge IntOrString default=\"25%\"\n"
    "type PodTemplateSpec\n"
    "  metadata ObjectMeta\n"
    "  spec PodSpec\n"
    "type PodSpec\n"
    "  containers []Container required merge=name\n"
    "  restartPolicy string default=\"Always\" enum=Always|OnFailure|Never\n"
    "  nodeSelector map[string]\n"
    "  volumes []Volume merge=name\n"
    "  overhead map[Quantity]\n"
    "  extra any\n"
    "type Container\n"
    "  name string required format=dns1123label\n"
    "  image string\n"
    "  ports []ContainerPort merge=containerPort\n"
    "  resources Resources\n"
    "  env []EnvVar merge=name\n"
    "type EnvVar\n"
    "  name string required\n"
    "  value string\n"
    "type Resources\n"
    "  limits map[Quantity]\n"
    "type ContainerPort\n"
    "  containerPort int32 required format=port\n"
    "  protocol string default=\"TCP\" enum=TCP|UDP|SCTP\n"
    "  hostIP string format=ip\n"
    "type Volume\n"
    "  name string required\n"
    "  configMap Source oneof=volume-type\n"
    "  secret Source oneof=volume-type\n"
    "  emptyDir EmptyDir oneof=volume-type\n"
    "type Source\n"
    "  name string\n"
    "type EmptyDir\n"
    "  medium string\n"
    "type DeploymentStatus\n"
    "  startTime Time\n"
    "  data bytes\n"
    "  observedGeneration integer format=nonneg\n"
    "  conditions []Condition\n";

static struct schema_set *set;
static struct api_resource deployment;
static struct api_resource cluster_thing;

static int setup(void **state) {
  char *text = NULL;
  if (asprintf(&text, "%s\n%s", ckube_schema_text, test_text) < 0)
    return -1;
  char *err = NULL;
  if (schema_set_parse(text, &set, &err) < 0) {
    fprintf(stderr, "parse: %s\n", err);
    free(text);
    return -1;
  }
  free(text);
  const struct schema_type *t = schema_find(set, "io.k8s.api.testapps.v1.Deployment");
  deployment = (struct api_resource){.group = "testapps", .version = "v1", .kind = "Deployment",
                                     .plural = "deployments", .namespaced = true, .schema = t};
  cluster_thing = deployment;
  cluster_thing.namespaced = false;
  return t ? 0 : -1;
}

static int teardown(void **state) {
  schema_set_free(set);
  return 0;
}

static json_t *parse(const char *s) {
  json_error_t e;
  json_t *v = json_loads(s, 0, &e);
  if (!v)
    fail_msg("bad test JSON: %s: %s", s, e.text);
  return v;
}

/* Runs validate_decode and returns the error message (or NULL when it passed). */
static char *decode_msg(const char *body, enum validate_unknown mode) {
  json_t *obj = parse(body);
  struct api_error err = {0};
  int r = validate_decode(&deployment, obj, mode, NULL, &err);
  json_decref(obj);
  if (r == 0)
    return NULL;
  assert_int_equal(r, -EINVAL);
  assert_int_equal(err.code, 400);
  assert_string_equal(err.reason, "BadRequest");
  char *m = strdup(err.message);
  api_error_clear(&err);
  return m;
}

static void expect_decode_error(const char *body, const char *want) {
  char *got = decode_msg(body, VALIDATE_UNKNOWN_STRICT);
  char *full = NULL;
  assert_true(asprintf(&full, "Deployment in version \"v1\" cannot be handled as a Deployment: %s",
                       want) > 0);
  if (!got || strcmp(got, full) != 0)
    fail_msg("body %s\n got: %s\nwant: %s", body, got ? got : "(ok)", full);
  free(got);
  free(full);
}

static void expect_decode_ok(const char *body) {
  char *got = decode_msg(body, VALIDATE_UNKNOWN_STRICT);
  if (got)
    fail_msg("body %s: unexpected error %s", body, got);
  free(got);
}

static void test_decode_type_errors(void **state) {
  expect_decode_error("{\"spec\":{\"replicas\":\"x\"}}",
                      "json: cannot unmarshal string into Go struct field "
                      "DeploymentSpec.spec.replicas of type int32");
  expect_decode_error("{\"spec\":{\"replicas\":1.5}}",
                      "json: cannot unmarshal number 1.5 into Go struct field "
                      "DeploymentSpec.spec.replicas of type int32");
  expect_decode_error("{\"spec\":{\"replicas\":3000000000}}",
                      "json: cannot unmarshal number 3000000000 into Go struct field "
                      "DeploymentSpec.spec.replicas of type int32");
  expect_decode_error("{\"spec\":{\"paused\":\"yes\"}}",
                      "json: cannot unmarshal string into Go struct field "
                      "DeploymentSpec.spec.paused of type bool");
  expect_decode_error("{\"spec\":{\"ratio\":[]}}",
                      "json: cannot unmarshal array into Go struct field "
                      "DeploymentSpec.spec.ratio of type float64");
  expect_decode_error("{\"spec\":\"x\"}", "json: cannot unmarshal string into Go struct field "
                                          "Deployment.spec of type v1.DeploymentSpec");
  expect_decode_error("{\"spec\":{\"template\":{\"spec\":{\"containers\":{}}}}}",
                      "json: cannot unmarshal object into Go struct field "
                      "PodSpec.spec.template.spec.containers of type []v1.Container");
  expect_decode_error(
      "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\"},"
      "{\"name\":\"b\",\"ports\":[{\"containerPort\":\"80\"}]}]}}}}",
      "json: cannot unmarshal string into Go struct field "
      "ContainerPort.spec.template.spec.containers.ports.containerPort of type int32");
  expect_decode_error("{\"spec\":{\"template\":{\"spec\":{\"nodeSelector\":{\"a\":1}}}}}",
                      "json: cannot unmarshal number into Go struct field "
                      "PodSpec.spec.template.spec.nodeSelector of type string");
  expect_decode_error("{\"metadata\":{\"labels\":[]}}",
                      "json: cannot unmarshal array into Go struct field "
                      "ObjectMeta.metadata.labels of type map[string]string");
  expect_decode_error("{\"spec\":{\"strategy\":{\"maxSurge\":true}}}",
                      "json: cannot unmarshal bool into Go struct field "
                      "Strategy.spec.strategy.maxSurge of type int32");
  expect_decode_ok("{\"spec\":{\"strategy\":{\"maxSurge\":3}}}");
  expect_decode_ok("{\"spec\":{\"strategy\":{\"maxSurge\":\"30%\"}}}");
}

static void test_decode_scalars(void **state) {
  const char *qre = "quantities must match the regular expression "
                    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
  expect_decode_error("{\"spec\":{\"template\":{\"spec\":{\"overhead\":{\"cpu\":\"1x\"}}}}}",
                      qre);
  expect_decode_error("{\"spec\":{\"template\":{\"spec\":{\"overhead\":{\"cpu\":\"\"}}}}}", qre);
  expect_decode_error("{\"spec\":{\"template\":{\"spec\":{\"overhead\":{\"cpu\":true}}}}}", qre);
  expect_decode_error("{\"spec\":{\"template\":{\"spec\":{\"overhead\":{\"cpu\":\"1KM\"}}}}}",
                      "unable to parse quantity's suffix");
  const char *good[] = {"100m", "1.5Gi", "2e3", "1E-3", "+5", "-1", "0.5", "1Ki", "3E", "7"};
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    char body[256];
    snprintf(body, sizeof(body),
             "{\"spec\":{\"template\":{\"spec\":{\"overhead\":{\"cpu\":\"%s\"}}}}}", good[i]);
    expect_decode_ok(body);
  }
  expect_decode_ok("{\"spec\":{\"template\":{\"spec\":{\"overhead\":{\"cpu\":0.25}}}}}");

  expect_decode_ok("{\"status\":{\"startTime\":\"2024-01-02T15:04:05Z\"}}");
  expect_decode_ok("{\"status\":{\"startTime\":\"2024-02-29T15:04:05.123+02:00\"}}");
  expect_decode_error("{\"status\":{\"startTime\":\"yesterday\"}}",
                      "parsing time \"yesterday\" as \"2006-01-02T15:04:05Z07:00\": cannot parse "
                      "\"yesterday\" as \"2006\"");
  expect_decode_error("{\"status\":{\"startTime\":\"2024-01-02 15:04:05Z\"}}",
                      "parsing time \"2024-01-02 15:04:05Z\" as \"2006-01-02T15:04:05Z07:00\": "
                      "cannot parse \" 15:04:05Z\" as \"T\"");
  expect_decode_error("{\"status\":{\"startTime\":\"2024-13-02T15:04:05Z\"}}",
                      "parsing time \"2024-13-02T15:04:05Z\": month out of range");
  expect_decode_error("{\"status\":{\"startTime\":\"2023-02-29T15:04:05Z\"}}",
                      "parsing time \"2023-02-29T15:04:05Z\": day out of range");
  expect_decode_error("{\"status\":{\"startTime\":5}}",
                      "json: cannot unmarshal number into Go struct field "
                      "DeploymentStatus.status.startTime of type string");

  expect_decode_ok("{\"status\":{\"data\":\"aGVsbG8=\"}}");
  expect_decode_error("{\"status\":{\"data\":\"a$bc\"}}", "illegal base64 data at input byte 1");
  expect_decode_ok("{\"spec\":{\"template\":{\"spec\":{\"extra\":{\"x\":[1,{\"y\":null}]}}}}}");
}

static void test_unknown_fields(void **state) {
  const char *body = "{\"apiVersion\":\"testapps/v1\",\"kind\":\"Deployment\","
                     "\"metadata\":{\"name\":\"a\",\"foo\":1},"
                     "\"spec\":{\"schedule\":\"x\",\"template\":{\"spec\":{\"containers\":"
                     "[{\"name\":\"c\",\"imagePullPolicyy\":\"Always\"}],"
                     "\"extra\":{\"anything\":{\"goes\":true}}}}}}";
  char *msg = decode_msg(body, VALIDATE_UNKNOWN_STRICT);
  assert_non_null(msg);
  assert_string_equal(msg, "Deployment in version \"v1\" cannot be handled as a Deployment: "
                           "strict decoding error: unknown field \"metadata.foo\", unknown field "
                           "\"spec.schedule\", unknown field "
                           "\"spec.template.spec.containers[0].imagePullPolicyy\"");
  free(msg);

  json_t *obj = parse(body);
  struct validate_warnings w = {0};
  struct api_error err = {0};
  assert_int_equal(validate_decode(&deployment, obj, VALIDATE_UNKNOWN_WARN, &w, &err), 0);
  assert_int_equal(w.n, 3);
  assert_string_equal(w.items[0], "unknown field \"metadata.foo\"");
  assert_string_equal(w.items[1], "unknown field \"spec.schedule\"");
  assert_string_equal(w.items[2], "unknown field \"spec.template.spec.containers[0].imagePullPolicyy\"");
  assert_null(json_path(obj, "metadata.foo"));
  assert_null(json_path(obj, "spec.schedule"));
  assert_non_null(json_path(obj, "spec.template.spec.extra.anything"));
  json_t *c0 = json_array_get(json_path(obj, "spec.template.spec.containers"), 0);
  assert_null(json_object_get(c0, "imagePullPolicyy"));
  assert_string_equal(json_string_value(json_object_get(c0, "name")), "c");
  validate_warnings_clear(&w);
  json_decref(obj);

  obj = parse(body);
  assert_int_equal(validate_decode(&deployment, obj, VALIDATE_UNKNOWN_IGNORE, &w, &err), 0);
  assert_int_equal(w.n, 0);
  assert_null(json_path(obj, "spec.schedule"));
  json_decref(obj);
  validate_warnings_clear(&w);
}

static void test_decode_nulls(void **state) {
  json_t *obj = parse("{\"spec\":{\"replicas\":null,\"template\":{\"spec\":{\"containers\":"
                      "[null],\"nodeSelector\":{\"a\":null}}}}}");
  struct api_error err = {0};
  assert_int_equal(validate_decode(&deployment, obj, VALIDATE_UNKNOWN_STRICT, NULL, &err), 0);
  assert_null(json_path(obj, "spec.replicas"));
  assert_true(json_is_object(json_array_get(json_path(obj, "spec.template.spec.containers"), 0)));
  assert_string_equal(json_path_str(obj, "spec.template.spec.nodeSelector.a"), "");
  json_decref(obj);
}

static void test_field_validation_parse(void **state) {
  enum validate_unknown m = VALIDATE_UNKNOWN_IGNORE;
  assert_int_equal(validate_unknown_parse(NULL, &m), 0);
  assert_int_equal(m, VALIDATE_UNKNOWN_WARN);
  assert_int_equal(validate_unknown_parse("Strict", &m), 0);
  assert_int_equal(m, VALIDATE_UNKNOWN_STRICT);
  assert_int_equal(validate_unknown_parse("Ignore", &m), 0);
  assert_int_equal(m, VALIDATE_UNKNOWN_IGNORE);
  assert_int_equal(validate_unknown_parse("", &m), 0);
  assert_int_equal(m, VALIDATE_UNKNOWN_WARN);
  assert_int_equal(validate_unknown_parse("strict", &m), -EINVAL);
  assert_string_equal(validate_unknown_values[2], "Strict");
}

static void test_defaulting(void **state) {
  json_t *obj = parse("{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\","
                      "\"ports\":[{\"containerPort\":80},{\"containerPort\":53,"
                      "\"protocol\":\"UDP\"}]}]}}}}");
  validate_default(&deployment, obj);
  assert_int_equal(json_integer_value(json_path(obj, "spec.replicas")), 1);
  assert_string_equal(json_path_str(obj, "spec.strategy.type"), "RollingUpdate");
  assert_string_equal(json_path_str(obj, "spec.strategy.maxSurge"), "25%");
  assert_string_equal(json_path_str(obj, "spec.template.spec.restartPolicy"), "Always");
  json_t *ports =
      json_object_get(json_array_get(json_path(obj, "spec.template.spec.containers"), 0), "ports");
  assert_string_equal(json_string_value(json_object_get(json_array_get(ports, 0), "protocol")),
                      "TCP");
  assert_string_equal(json_string_value(json_object_get(json_array_get(ports, 1), "protocol")),
                      "UDP");
  /* No parent is invented: status and spec.selector stay absent. */
  assert_null(json_object_get(obj, "status"));
  assert_null(json_path(obj, "spec.selector"));
  json_decref(obj);

  obj = parse("{\"spec\":{\"replicas\":0}}");
  validate_default(&deployment, obj);
  assert_int_equal(json_integer_value(json_path(obj, "spec.replicas")), 0);
  assert_null(json_path(obj, "spec.template"));
  json_decref(obj);

  obj = parse("{}");
  validate_default(&deployment, obj);
  assert_null(json_object_get(obj, "spec"));
  json_decref(obj);
}

static const struct field_error *find_error(const struct field_errors *errs, const char *field) {
  for (size_t i = 0; i < errs->n; i++)
    if (strcmp(errs->items[i].field, field) == 0)
      return &errs->items[i];
  return NULL;
}

static void expect_error(const struct field_errors *errs, const char *field, const char *type,
                         const char *message) {
  const struct field_error *e = find_error(errs, field);
  if (!e) {
    for (size_t i = 0; i < errs->n; i++)
      print_message("have %s: %s\n", errs->items[i].field, errs->items[i].message);
    fail_msg("no error at %s", field);
  }
  assert_string_equal(e->type, type);
  assert_string_equal(e->message, message);
}

static void test_schema_rules(void **state) {
  json_t *obj = parse(
      "{\"metadata\":{\"name\":\"d\",\"namespace\":\"default\"},"
      "\"spec\":{\"replicas\":-1,\"strategy\":{\"type\":\"Sideways\"},"
      "\"template\":{\"spec\":{\"restartPolicy\":\"Sometimes\","
      "\"containers\":[{\"name\":\"Web\",\"ports\":[{\"containerPort\":80},"
      "{\"containerPort\":0,\"hostIP\":\"1.2.3\"}],\"env\":[{\"name\":\"A\"},{\"value\":\"x\"}]}],"
      "\"volumes\":[{\"name\":\"v\",\"configMap\":{},\"secret\":{}},{\"name\":\"w\",\"emptyDir\":{}}]"
      "}}},\"status\":{\"observedGeneration\":-2}}");
  struct field_errors errs = {0};
  assert_int_equal(validate_object(&deployment, obj, VALIDATE_NAME_SUBDOMAIN, &errs), -EINVAL);
  expect_error(&errs, "spec.replicas", CAUSE_INVALID,
               "Invalid value: -1: must be greater than or equal to 0");
  expect_error(&errs, "spec.strategy.type", CAUSE_NOT_SUPPORTED,
               "Unsupported value: \"Sideways\": supported values: \"Recreate\", "
               "\"RollingUpdate\"");
  expect_error(&errs, "spec.template.spec.restartPolicy", CAUSE_NOT_SUPPORTED,
               "Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", "
               "\"Never\"");
  expect_error(&errs, "spec.template.spec.containers[0].name", CAUSE_INVALID,
               "Invalid value: \"Web\": a lowercase RFC 1123 label must consist of lower case "
               "alphanumeric characters or '-', and must start and end with an alphanumeric "
               "character (e.g. 'my-name',  or '123-abc', regex used for validation is "
               "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')");
  expect_error(&errs, "spec.template.spec.containers[0].ports[1].containerPort", CAUSE_INVALID,
               "Invalid value: 0: must be between 1 and 65535, inclusive");
  expect_error(&errs, "spec.template.spec.containers[0].ports[1].hostIP", CAUSE_INVALID,
               "Invalid value: \"1.2.3\": must be a valid IP address, (e.g. 10.9.8.7 or "
               "2001:db8::ffff)");
  expect_error(&errs, "spec.template.spec.containers[0].env[1].name", CAUSE_REQUIRED,
               "Required value");
  expect_error(&errs, "spec.template.spec.volumes[0].secret", CAUSE_FORBIDDEN,
               "Forbidden: may not specify more than 1 volume type");
  expect_error(&errs, "status.observedGeneration", CAUSE_INVALID,
               "Invalid value: -2: must be greater than or equal to 0");
  assert_null(find_error(&errs, "spec.template.spec.volumes[1].emptyDir"));
  assert_null(find_error(&errs, "spec.template.spec.containers[0].ports[0].containerPort"));
  assert_int_equal(errs.n, 9);
  field_errors_clear(&errs);
  json_decref(obj);

  obj = parse("{\"metadata\":{\"name\":\"d\",\"namespace\":\"default\"},"
              "\"spec\":{\"replicas\":2000,\"template\":{\"spec\":{\"containers\":[]}}}}");
  assert_int_equal(validate_object(&deployment, obj, VALIDATE_NAME_SUBDOMAIN, &errs), -EINVAL);
  expect_error(&errs, "spec.replicas", CAUSE_INVALID,
               "Invalid value: 2000: must be less than or equal to 1000");
  expect_error(&errs, "spec.template.spec.containers", CAUSE_REQUIRED, "Required value");
  assert_int_equal(errs.n, 2);
  field_errors_clear(&errs);
  json_decref(obj);

  obj = parse("{\"metadata\":{\"name\":\"d\",\"namespace\":\"default\"},"
              "\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\"}]}}}}");
  assert_int_equal(validate_object(&deployment, obj, VALIDATE_NAME_SUBDOMAIN, &errs), 0);
  assert_int_equal(errs.n, 0);
  json_decref(obj);
}

static void test_formats(void **state) {
  struct field_errors errs = {0};
  json_t *v = json_string("http-alt");
  assert_int_equal(validate_format("port", v, "p", &errs), 0);
  json_decref(v);
  v = json_string("-Http--");
  assert_int_equal(validate_format("port", v, "p", &errs), -EINVAL);
  assert_int_equal(errs.n, 3);
  assert_string_equal(errs.items[0].message,
                      "Invalid value: \"-Http--\": must contain only alpha-numeric characters "
                      "(a-z, 0-9), and hyphens (-)");
  assert_string_equal(errs.items[1].message,
                      "Invalid value: \"-Http--\": must not contain consecutive hyphens");
  assert_string_equal(errs.items[2].message,
                      "Invalid value: \"-Http--\": must not begin or end with a hyphen");
  field_errors_clear(&errs);
  json_decref(v);

  const struct {
    const char *format, *value;
    int want;
  } cases[] = {
      {"dns1123subdomain", "a.b-c.d", 0}, {"dns1123subdomain", "a..b", -EINVAL},
      {"dns1035label", "abc-1", 0},       {"dns1035label", "1abc", -EINVAL},
      {"qualifiedname", "example.com/My_Name", 0}, {"qualifiedname", "a/b/c", -EINVAL},
      {"labelvalue", "", 0},              {"labelvalue", "-x", -EINVAL},
      {"ipv4", "10.0.0.1", 0},            {"ipv4", "::1", -EINVAL},
      {"ip", "::1", 0},                   {"cidr", "10.0.0.0/8", 0},
      {"cidr", "10.0.0.0/33", -EINVAL},   {"cidr", "10.0.0.0", -EINVAL},
      {"nosuchformat", "x", -ENOENT},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    v = json_string(cases[i].value);
    int r = validate_format(cases[i].format, v, "f", &errs);
    if (r != cases[i].want)
      fail_msg("%s %s: got %d", cases[i].format, cases[i].value, r);
    json_decref(v);
    field_errors_clear(&errs);
  }
  v = json_integer(-1);
  assert_int_equal(validate_format("nonneg", v, "n", &errs), -EINVAL);
  assert_string_equal(errs.items[0].message, "Invalid value: -1: must be greater than or equal to 0");
  field_errors_clear(&errs);
  json_decref(v);

  v = json_string("a/b/c");
  validate_format("qualifiedname", v, "q", &errs);
  assert_string_equal(errs.items[0].message,
                      "Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric "
                      "characters, '-', '_' or '.', and must start and end with an alphanumeric "
                      "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
                      "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional "
                      "DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
  field_errors_clear(&errs);
  json_decref(v);
}

static void meta_errors(const char *meta_json, bool namespaced, enum validate_name kind,
                        struct field_errors *errs) {
  json_t *meta = parse(meta_json);
  validate_object_meta(meta, namespaced, kind, "metadata", errs);
  json_decref(meta);
}

static void test_object_meta(void **state) {
  struct field_errors errs = {0};
  meta_errors("{\"namespace\":\"default\"}", true, VALIDATE_NAME_SUBDOMAIN, &errs);
  expect_error(&errs, "metadata.name", CAUSE_REQUIRED,
               "Required value: name or generateName is required");
  assert_int_equal(errs.n, 1);
  field_errors_clear(&errs);

  meta_errors("{\"generateName\":\"web-\",\"namespace\":\"default\"}", true,
              VALIDATE_NAME_SUBDOMAIN, &errs);
  assert_int_equal(errs.n, 0);

  meta_errors("{\"generateName\":\"Web-\",\"namespace\":\"default\"}", true,
              VALIDATE_NAME_SUBDOMAIN, &errs);
  expect_error(&errs, "metadata.generateName", CAUSE_INVALID,
               "Invalid value: \"Web-\": a lowercase RFC 1123 subdomain must consist of lower "
               "case alphanumeric characters, '-' or '.', and must start and end with an "
               "alphanumeric character (e.g. 'example.com', regex used for validation is "
               "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
  field_errors_clear(&errs);

  meta_errors("{\"name\":\"x\"}", true, VALIDATE_NAME_SUBDOMAIN, &errs);
  expect_error(&errs, "metadata.namespace", CAUSE_REQUIRED, "Required value");
  field_errors_clear(&errs);

  meta_errors("{\"name\":\"x\",\"namespace\":\"Bad_ns\"}", true, VALIDATE_NAME_SUBDOMAIN, &errs);
  assert_non_null(find_error(&errs, "metadata.namespace"));
  field_errors_clear(&errs);

  meta_errors("{\"name\":\"x\",\"namespace\":\"default\"}", false, VALIDATE_NAME_SUBDOMAIN,
              &errs);
  expect_error(&errs, "metadata.namespace", CAUSE_FORBIDDEN, "Forbidden: not allowed on this type");
  field_errors_clear(&errs);

  meta_errors("{\"name\":\"a.b\"}", false, VALIDATE_NAME_LABEL, &errs);
  assert_non_null(find_error(&errs, "metadata.name"));
  field_errors_clear(&errs);
  meta_errors("{\"name\":\"a.b\"}", false, VALIDATE_NAME_SUBDOMAIN, &errs);
  assert_int_equal(errs.n, 0);
  meta_errors("{\"name\":\"1abc\"}", false, VALIDATE_NAME_DNS1035, &errs);
  assert_non_null(find_error(&errs, "metadata.name"));
  field_errors_clear(&errs);
  meta_errors("{\"name\":\"system:Node_x\"}", false, VALIDATE_NAME_PATH_SEGMENT, &errs);
  assert_int_equal(errs.n, 0);
  meta_errors("{\"name\":\"..\"}", false, VALIDATE_NAME_PATH_SEGMENT, &errs);
  expect_error(&errs, "metadata.name", CAUSE_INVALID, "Invalid value: \"..\": may not be '..'");
  field_errors_clear(&errs);
  meta_errors("{\"name\":\"a/b%\"}", false, VALIDATE_NAME_PATH_SEGMENT, &errs);
  assert_int_equal(errs.n, 2);
  field_errors_clear(&errs);
  meta_errors("{\"name\":\"ANY thing\"}", false, VALIDATE_NAME_NONE, &errs);
  assert_int_equal(errs.n, 0);

  meta_errors("{\"name\":\"x\",\"labels\":{\"app\":\"web\",\"bad key\":\"v\","
              "\"ok\":\"-bad-\"},\"generation\":-1}",
              false, VALIDATE_NAME_SUBDOMAIN, &errs);
  assert_int_equal(errs.n, 3);
  expect_error(&errs, "metadata.generation", CAUSE_INVALID,
               "Invalid value: -1: must be greater than or equal to 0");
  assert_string_equal(errs.items[1].field, "metadata.labels");
  assert_string_equal(errs.items[1].message,
                      "Invalid value: \"bad key\": name part must consist of alphanumeric "
                      "characters, '-', '_' or '.', and must start and end with an alphanumeric "
                      "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
                      "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
  assert_string_equal(errs.items[2].message,
                      "Invalid value: \"-bad-\": a valid label must be an empty string or consist "
                      "of alphanumeric characters, '-', '_' or '.', and must start and end with an "
                      "alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex "
                      "used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
  field_errors_clear(&errs);

  meta_errors("{\"name\":\"x\",\"labels\":{\"/a\":\"\"}}", false, VALIDATE_NAME_SUBDOMAIN,
              &errs);
  assert_int_equal(errs.n, 1);
  assert_string_equal(errs.items[0].message, "Invalid value: \"/a\": prefix part must be non-empty");
  field_errors_clear(&errs);

  /* Annotation keys are case-insensitive; the total size is capped at 256 KiB. */
  json_t *meta = parse("{\"name\":\"x\",\"annotations\":{\"Example.COM/Key\":\"v\"}}");
  validate_object_meta(meta, false, VALIDATE_NAME_SUBDOMAIN, "metadata", &errs);
  assert_int_equal(errs.n, 0);
  char *big = malloc(256 * 1024 + 1);
  memset(big, 'x', 256 * 1024);
  big[256 * 1024] = 0;
  json_object_set_new(json_object_get(meta, "annotations"), "big", json_string(big));
  free(big);
  validate_object_meta(meta, false, VALIDATE_NAME_SUBDOMAIN, "metadata", &errs);
  expect_error(&errs, "metadata.annotations", CAUSE_TOO_LONG,
               "Too long: may not be more than 262144 bytes");
  field_errors_clear(&errs);
  json_decref(meta);

  meta_errors("{\"name\":\"x\",\"ownerReferences\":[{\"apiVersion\":\"apps/\",\"kind\":\"A\","
              "\"name\":\"a\",\"uid\":\"1\",\"controller\":true},{\"apiVersion\":\"v1\","
              "\"kind\":\"B\",\"name\":\"b\",\"uid\":\"\",\"controller\":true}],"
              "\"finalizers\":[\"example.com/f\",\"bad/fin/x\"]}",
              false, VALIDATE_NAME_SUBDOMAIN, &errs);
  expect_error(&errs, "metadata.ownerReferences.apiVersion", CAUSE_INVALID,
               "Invalid value: \"apps/\": version must not be empty");
  expect_error(&errs, "metadata.ownerReferences.uid", CAUSE_INVALID,
               "Invalid value: \"\": must not be empty");
  const struct field_error *e = NULL;
  for (size_t i = 0; i < errs.n; i++)
    if (strcmp(errs.items[i].field, "metadata.ownerReferences") == 0)
      e = &errs.items[i];
  assert_non_null(e);
  assert_non_null(strstr(e->message, "Only one reference can have Controller set to true. Found "
                                     "\"true\" in references for A/a and B/b"));
  assert_non_null(find_error(&errs, "metadata.finalizers"));
  field_errors_clear(&errs);
}

static void test_validate_object_meta_paths(void **state) {
  /* Metadata rules run once, under kube-apiserver's paths, even though the
   * OwnerReference schema also marks those fields required. */
  json_t *obj = parse("{\"metadata\":{\"name\":\"d\",\"namespace\":\"ns\",\"ownerReferences\":"
                      "[{\"apiVersion\":\"v1\",\"kind\":\"K\",\"name\":\"\",\"uid\":\"u\"}]},"
                      "\"spec\":{}}");
  struct field_errors errs = {0};
  assert_int_equal(validate_object(&deployment, obj, VALIDATE_NAME_SUBDOMAIN, &errs), -EINVAL);
  assert_int_equal(errs.n, 1);
  assert_string_equal(errs.items[0].field, "metadata.ownerReferences.name");
  field_errors_clear(&errs);
  assert_int_equal(validate_object(&cluster_thing, obj, VALIDATE_NAME_SUBDOMAIN, &errs), -EINVAL);
  assert_non_null(find_error(&errs, "metadata.namespace"));
  field_errors_clear(&errs);
  json_decref(obj);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_decode_type_errors),
      cmocka_unit_test(test_decode_scalars),
      cmocka_unit_test(test_unknown_fields),
      cmocka_unit_test(test_decode_nulls),
      cmocka_unit_test(test_field_validation_parse),
      cmocka_unit_test(test_defaulting),
      cmocka_unit_test(test_schema_rules),
      cmocka_unit_test(test_formats),
      cmocka_unit_test(test_object_meta),
      cmocka_unit_test(test_validate_object_meta_paths),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
