/* Unit tests for api/apply: server-side apply and managedFields, following the flows
 * kubectl drives (apply --server-side, create, edit, client-side apply, /status). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "api/apply.h"
#include "api/schema.h"
#include "api/status.h"
#include "lib/json.h"

static const char *schema_text = "package test.v1\n"
                                 "type ConfigMap gvk=/v1/ConfigMap\n"
                                 "  apiVersion string\n"
                                 "  kind string\n"
                                 "  metadata ObjectMeta\n"
                                 "  data map[string]\n"
                                 "type Pod gvk=/v1/Pod\n"
                                 "  apiVersion string\n"
                                 "  kind string\n"
                                 "  metadata ObjectMeta\n"
                                 "  spec PodSpec\n"
                                 "  status PodStatus\n"
                                 "type ObjectMeta\n"
                                 "  name string\n"
                                 "  namespace string\n"
                                 "  uid string\n"
                                 "  resourceVersion string\n"
                                 "  labels map[string]\n"
                                 "  finalizers []string list=set\n"
                                 "  managedFields []ManagedFieldsEntry\n"
                                 "type ManagedFieldsEntry\n"
                                 "  manager string\n"
                                 "  operation string\n"
                                 "  apiVersion string\n"
                                 "  time string\n"
                                 "  fieldsType string\n"
                                 "  fieldsV1 any\n"
                                 "  subresource string\n"
                                 "type PodSpec\n"
                                 "  containers []Container required merge=name keys=name\n"
                                 "  nodeName string\n"
                                 "type Container\n"
                                 "  name string required\n"
                                 "  image string\n"
                                 "  args []string\n"
                                 "  ports []ContainerPort keys=containerPort,protocol\n"
                                 "type ContainerPort\n"
                                 "  containerPort int32\n"
                                 "  protocol string default=\"TCP\"\n"
                                 "type PodStatus\n"
                                 "  phase string\n";

static struct schema_set *schemas;

static int setup(void **state) {
  _cleanup_free_ char *err = NULL;
  if (schema_set_parse(schema_text, &schemas, &err) < 0) {
    fprintf(stderr, "schema: %s\n", err);
    return -1;
  }
  return 0;
}

static int teardown(void **state) {
  schema_set_free(schemas);
  return 0;
}

static json_t *J(const char *text) {
  json_error_t e;
  json_t *v = json_loads(text, 0, &e);
  if (!v)
    fail_msg("bad test JSON: %s: %s", e.text, text);
  return v;
}

static struct apply_request req_for(const char *type, const char *manager, const char *now) {
  return (struct apply_request){
      .type = schema_find(schemas, type), .manager = manager, .api_version = "v1", .now = now};
}

/* Applies and expects success; returns the new object. */
static json_t *apply_ok(const char *type, const char *manager, bool force, const json_t *live,
                        const char *applied, const char *now) {
  struct apply_request req = req_for(type, manager, now);
  req.force = force;
  _cleanup_json_ json_t *a = J(applied);
  _cleanup_api_error_ struct api_error err = {0};
  json_t *out = NULL;
  int r = apply_patch(&req, live, a, &out, &err);
  if (r < 0)
    fail_msg("apply failed: %d %s", err.code, err.message);
  return out;
}

static json_t *update_ok(const char *type, const char *manager, const char *subresource,
                         const json_t *old, const json_t *new_obj, const char *now) {
  struct apply_request req = req_for(type, manager, now);
  req.subresource = subresource;
  _cleanup_api_error_ struct api_error err = {0};
  json_t *out = NULL;
  assert_int_equal(managed_fields_update(&req, old, new_obj, &out, &err), 0);
  return out;
}

static void assert_json(const json_t *v, const char *path, const char *want) {
  json_t *x = json_path((json_t *)v, path);
  _cleanup_free_ char *got = x ? json_encode(x) : xstrdup("<absent>");
  if (!streq(got, want))
    fail_msg("%s: got %s, want %s", path, got, want);
}

/* The managed fields in a compact, ordered form: manager/operation/subresource/time
 * and the FieldsV1 text. */
static void assert_managed(const json_t *obj, const char *want) {
  json_t *mf = json_path((json_t *)obj, "metadata.managedFields");
  char *acc = xstrdup("");
  size_t i;
  json_t *e;
  json_array_foreach(mf, i, e) {
    _cleanup_free_ char *fields = json_encode(json_object_get(e, "fieldsV1"));
    const char *sub = json_string_value(json_object_get(e, "subresource"));
    assert_string_equal(json_string_value(json_object_get(e, "fieldsType")), "FieldsV1");
    char *next = xasprintf("%s%s%s/%s%s%s@%s %s", acc, i ? "\n" : "",
                           json_string_value(json_object_get(e, "manager")),
                           json_string_value(json_object_get(e, "operation")), sub ? "/" : "",
                           sub ? sub : "", json_string_value(json_object_get(e, "time")), fields);
    free(acc);
    acc = next;
  }
  if (!streq(acc, want))
    fail_msg("managedFields:\n%s\nwant:\n%s", acc, want);
  free(acc);
}

#define CM_A1                                                                                      \
  "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"},\"data\":{\"a\":"   \
  "\"1\"}}"

static void test_create_via_apply(void **state) {
  _cleanup_json_ json_t *o = apply_ok("ConfigMap", "kubectl", false, NULL, CM_A1, "T1");
  assert_json(o, "data", "{\"a\":\"1\"}");
  assert_json(o, "metadata.name", "\"c\"");
  assert_managed(o, "kubectl/Apply@T1 {\"f:data\":{\"f:a\":{}}}");
  /* the full entry, in kube's field order */
  json_t *e = json_array_get(json_path(o, "metadata.managedFields"), 0);
  _cleanup_free_ char *enc = json_encode(e);
  assert_string_equal(enc, "{\"manager\":\"kubectl\",\"operation\":\"Apply\",\"apiVersion\":\"v1\","
                           "\"time\":\"T1\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:data\":{"
                           "\"f:a\":{}}}}");
}

static void test_reapply_unchanged(void **state) {
  _cleanup_json_ json_t *o1 = apply_ok("ConfigMap", "kubectl", false, NULL, CM_A1, "T1");
  _cleanup_json_ json_t *o2 = apply_ok("ConfigMap", "kubectl", false, o1, CM_A1, "T2");
  assert_true(json_equal(o1, o2)); /* nothing changed: not even the time */
}

static void test_apply_change_and_inputs_untouched(void **state) {
  _cleanup_json_ json_t *o1 = apply_ok("ConfigMap", "kubectl", false, NULL, CM_A1, "T1");
  _cleanup_free_ char *before = json_encode(o1);
  _cleanup_json_ json_t *o2 = apply_ok(
      "ConfigMap", "kubectl", false, o1,
      "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\",\"labels\":{"
      "\"app\":\"x\"}},\"data\":{\"a\":\"2\"}}",
      "T2");
  _cleanup_free_ char *after = json_encode(o1);
  assert_string_equal(before, after);
  assert_json(o2, "data.a", "\"2\"");
  assert_managed(o2, "kubectl/Apply@T2 {\"f:data\":{\"f:a\":{}},\"f:metadata\":{\"f:labels\":{"
                     "\"f:app\":{}}}}");
}

static void test_conflict_and_force(void **state) {
  _cleanup_json_ json_t *o1 = apply_ok("ConfigMap", "kubectl", false, NULL, CM_A1, "T1");
  struct apply_request req = req_for("ConfigMap", "other", "T2");
  _cleanup_json_ json_t *a = J("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{"
                               "\"name\":\"c\"},\"data\":{\"a\":\"3\",\"b\":\"x\"}}");
  _cleanup_api_error_ struct api_error err = {0};
  json_t *out = NULL;
  assert_int_equal(apply_patch(&req, o1, a, &out, &err), -ESTALE);
  assert_null(out);
  assert_int_equal(err.code, 409);
  assert_string_equal(err.reason, "Conflict");
  assert_string_equal(err.message,
                      "Apply failed with 1 conflict: conflict with \"kubectl\": .data.a");
  _cleanup_free_ char *d = json_encode(err.details);
  assert_string_equal(d, "{\"causes\":[{\"type\":\"FieldManagerConflict\",\"message\":\"conflict "
                         "with \\\"kubectl\\\"\",\"field\":\".data.a\"}]}");

  /* the same value is shared, not a conflict */
  _cleanup_json_ json_t *shared = apply_ok("ConfigMap", "other", false, o1, CM_A1, "T2");
  assert_managed(shared, "other/Apply@(null) {\"f:data\":{\"f:a\":{}}}\n"
                         "kubectl/Apply@T1 {\"f:data\":{\"f:a\":{}}}");

  /* force moves the field; kubectl's now empty entry goes away */
  req.force = true;
  assert_int_equal(apply_patch(&req, o1, a, &out, &err), 0);
  assert_json(out, "data", "{\"a\":\"3\",\"b\":\"x\"}");
  assert_managed(out, "other/Apply@T2 {\"f:data\":{\"f:a\":{},\"f:b\":{}}}");
  json_decref(out);
}

static void test_remove_field_from_config(void **state) {
  _cleanup_json_ json_t *o1 = apply_ok(
      "ConfigMap", "kubectl", false, NULL,
      "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\",\"labels\":{"
      "\"app\":\"x\"}},\"data\":{\"a\":\"1\",\"b\":\"2\"}}",
      "T1");
  _cleanup_json_ json_t *o2 = apply_ok("ConfigMap", "kubectl", false, o1, CM_A1, "T2");
  assert_json(o2, "data", "{\"a\":\"1\"}");
  assert_json(o2, "metadata.labels", "<absent>");
  assert_managed(o2, "kubectl/Apply@T2 {\"f:data\":{\"f:a\":{}}}");

  /* a field another manager also owns stays */
  _cleanup_json_ json_t *s1 = apply_ok(
      "ConfigMap", "other", false, o1,
      "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"},\"data\":{"
      "\"b\":\"2\"}}",
      "T2");
  _cleanup_json_ json_t *s2 = apply_ok("ConfigMap", "kubectl", false, s1, CM_A1, "T3");
  assert_json(s2, "data", "{\"a\":\"1\",\"b\":\"2\"}");
  /* other changed nothing when it applied b, so its entry carries no time */
  assert_managed(s2, "other/Apply@(null) {\"f:data\":{\"f:b\":{}}}\n"
                     "kubectl/Apply@T3 {\"f:data\":{\"f:a\":{}}}");
}

static void test_update_then_apply_conflict(void **state) {
  /* kubectl create: an Update entry; the map itself becomes owned ("." marker) */
  _cleanup_json_ json_t *obj = J(CM_A1);
  _cleanup_json_ json_t *c = update_ok("ConfigMap", "kubectl-create", NULL, NULL, obj, "T1");
  assert_managed(c, "kubectl-create/Update@T1 {\"f:data\":{\".\":{},\"f:a\":{}}}");
  assert_string_equal(json_string_value(json_path(
                          json_array_get(json_path(c, "metadata.managedFields"), 0), "apiVersion")),
                      "v1");

  /* kubectl edit changes a and adds b */
  _cleanup_json_ json_t *edited = json_deep_copy(c);
  json_object_set_new(json_path(edited, "data"), "a", json_string("9"));
  json_object_set_new(json_path(edited, "data"), "b", json_string("z"));
  _cleanup_json_ json_t *e = update_ok("ConfigMap", "kubectl-edit", NULL, c, edited, "T2");
  assert_managed(e, "kubectl-create/Update@T1 {\"f:data\":{}}\n"
                    "kubectl-edit/Update@T2 {\"f:data\":{\"f:a\":{},\"f:b\":{}}}");

  /* an unchanged update records nothing new */
  _cleanup_json_ json_t *same = update_ok("ConfigMap", "kubectl-edit", NULL, e, e, "T3");
  assert_true(json_equal(same, e));

  /* apply with other values: one conflict per field, grouped by manager */
  struct apply_request req = req_for("ConfigMap", "kubectl", "T3");
  _cleanup_json_ json_t *a = J("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{"
                               "\"name\":\"c\"},\"data\":{\"a\":\"1\",\"b\":\"y\"}}");
  _cleanup_api_error_ struct api_error err = {0};
  json_t *out = NULL;
  assert_int_equal(apply_patch(&req, e, a, &out, &err), -ESTALE);
  assert_string_equal(err.message, "Apply failed with 2 conflicts: conflicts with "
                                   "\"kubectl-edit\" using v1:\n- .data.a\n- .data.b");
  assert_int_equal(json_array_size(json_object_get(err.details, "causes")), 2);
  _cleanup_json_ json_t *one = J("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{"
                                 "\"name\":\"c\"},\"data\":{\"a\":\"1\"}}");
  assert_int_equal(apply_patch(&req, e, one, &out, &err), -ESTALE);
  assert_string_equal(err.message, "Apply failed with 1 conflict: conflict with \"kubectl-edit\" "
                                   "using v1: .data.a");
}

static void test_client_side_apply_conflict(void **state) {
  _cleanup_json_ json_t *obj = J(CM_A1);
  _cleanup_json_ json_t *c =
      update_ok("ConfigMap", "kubectl-client-side-apply", NULL, NULL, obj, "T1");
  struct apply_request req = req_for("ConfigMap", "kubectl", "T2");
  _cleanup_json_ json_t *a = J("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{"
                               "\"name\":\"c\"},\"data\":{\"a\":\"2\"}}");
  _cleanup_api_error_ struct api_error err = {0};
  json_t *out = NULL;
  assert_int_equal(apply_patch(&req, c, a, &out, &err), -ESTALE);
  assert_string_equal(err.message, "Apply failed with 1 conflict: conflict with "
                                   "\"kubectl-client-side-apply\" using v1: .data.a");
  json_t *cause = json_array_get(json_object_get(err.details, "causes"), 0);
  assert_string_equal(json_string_value(json_object_get(cause, "message")),
                      "conflict with \"kubectl-client-side-apply\" using v1");
}

#define POD(containers)                                                                            \
  "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{"               \
  "\"containers\":" containers "}}"

static void test_list_map_by_name(void **state) {
  _cleanup_json_ json_t *o1 = apply_ok(
      "Pod", "kubectl", false, NULL,
      POD("[{\"name\":\"nginx\",\"image\":\"nginx:1\",\"ports\":[{\"containerPort\":80}]}]"), "T1");
  assert_managed(o1,
                 "kubectl/Apply@T1 {\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"nginx\\\"}"
                 "\":{\".\":{},\"f:image\":{},\"f:name\":{},\"f:ports\":{\"k:{\\\"containerPort"
                 "\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":{\".\":{},\"f:containerPort\":{}}}}}}}");
  /* a sidecar applied by another manager merges by name */
  _cleanup_json_ json_t *o2 = apply_ok("Pod", "sidecar", false, o1,
                                       POD("[{\"name\":\"log\",\"image\":\"busybox\"}]"), "T2");
  assert_int_equal(json_array_size(json_path(o2, "spec.containers")), 2);
  assert_json(json_array_get(json_path(o2, "spec.containers"), 0), "name", "\"nginx\"");
  assert_json(json_array_get(json_path(o2, "spec.containers"), 1), "name", "\"log\"");
  /* changing the image of the first container leaves the sidecar alone */
  _cleanup_json_ json_t *o3 = apply_ok(
      "Pod", "kubectl", false, o2,
      POD("[{\"name\":\"nginx\",\"image\":\"nginx:2\",\"ports\":[{\"containerPort\":80}]}]"), "T3");
  assert_json(json_array_get(json_path(o3, "spec.containers"), 0), "image", "\"nginx:2\"");
  assert_json(json_array_get(json_path(o3, "spec.containers"), 1), "image", "\"busybox\"");
  /* the sidecar manager changing nginx's image conflicts, by key */
  struct apply_request req = req_for("Pod", "sidecar", "T4");
  _cleanup_json_ json_t *a = J(POD("[{\"name\":\"nginx\",\"image\":\"evil\"}]"));
  _cleanup_api_error_ struct api_error err = {0};
  json_t *out = NULL;
  assert_int_equal(apply_patch(&req, o3, a, &out, &err), -ESTALE);
  assert_string_equal(err.message, "Apply failed with 1 conflict: conflict with \"kubectl\": "
                                   ".spec.containers[name=\"nginx\"].image");
  /* kubectl dropping its container removes it, the sidecar stays */
  _cleanup_json_ json_t *o4 = apply_ok("Pod", "kubectl", false, o3, POD("[]"), "T5");
  assert_int_equal(json_array_size(json_path(o4, "spec.containers")), 1);
  assert_json(json_array_get(json_path(o4, "spec.containers"), 0), "name", "\"log\"");
  /* duplicate keys in an applied config are refused */
  _cleanup_json_ json_t *dup = J(POD("[{\"name\":\"a\"},{\"name\":\"a\"}]"));
  assert_int_equal(apply_patch(&req, o3, dup, &out, &err), -EINVAL);
  assert_int_equal(err.code, 500);
}

static void test_status_subresource(void **state) {
  _cleanup_json_ json_t *o1 = apply_ok("Pod", "kubectl", false, NULL,
                                       POD("[{\"name\":\"nginx\",\"image\":\"nginx\"}]"), "T1");
  _cleanup_json_ json_t *withstatus = json_deep_copy(o1);
  json_object_set_new(withstatus, "status", J("{\"phase\":\"Running\"}"));
  /* a status writer's managedFields in the body are ignored on /status */
  json_array_clear(json_path(withstatus, "metadata.managedFields"));
  _cleanup_json_ json_t *o2 = update_ok("Pod", "kubelet", "status", o1, withstatus, "T2");
  assert_managed(o2, "kubectl/Apply@T1 {\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"nginx"
                     "\\\"}\":{\".\":{},\"f:image\":{},\"f:name\":{}}}}}\n"
                     "kubelet/Update/status@T2 {\"f:status\":{\"f:phase\":{}}}");
  json_t *e = json_array_get(json_path(o2, "metadata.managedFields"), 1);
  _cleanup_free_ char *enc = json_encode(e);
  assert_string_equal(enc, "{\"manager\":\"kubelet\",\"operation\":\"Update\",\"apiVersion\":"
                           "\"v1\",\"time\":\"T2\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{"
                           "\"f:status\":{\"f:phase\":{}}},\"subresource\":\"status\"}");
  /* applying a phase conflicts with the status writer */
  struct apply_request req = req_for("Pod", "kubectl", "T3");
  _cleanup_json_ json_t *a = J("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
                               "\"p\"},\"status\":{\"phase\":\"Failed\"}}");
  _cleanup_api_error_ struct api_error err = {0};
  json_t *out = NULL;
  assert_int_equal(apply_patch(&req, o2, a, &out, &err), -ESTALE);
  assert_string_equal(err.message, "Apply failed with 1 conflict: conflict with \"kubelet\" with "
                                   "subresource \"status\" using v1: .status.phase");
}

static void test_managed_fields_reset_and_override(void **state) {
  _cleanup_json_ json_t *o1 = apply_ok("ConfigMap", "kubectl", false, NULL, CM_A1, "T1");
  /* [{}] resets ownership; the writer then owns only what it changed */
  _cleanup_json_ json_t *n = json_deep_copy(o1);
  json_object_set_new(json_path(n, "metadata"), "managedFields", J("[{}]"));
  json_object_set_new(json_path(n, "data"), "b", json_string("2"));
  _cleanup_json_ json_t *r = update_ok("ConfigMap", "kubectl-patch", NULL, o1, n, "T2");
  assert_managed(r, "kubectl-patch/Update@T2 {\"f:data\":{\"f:b\":{}}}");
  /* [{}] with no change: no managedFields at all */
  _cleanup_json_ json_t *n2 = json_deep_copy(o1);
  json_object_set_new(json_path(n2, "metadata"), "managedFields", J("[{}]"));
  _cleanup_json_ json_t *r2 = update_ok("ConfigMap", "kubectl-patch", NULL, o1, n2, "T2");
  assert_json(r2, "metadata.managedFields", "<absent>");
  /* invalid entries are ignored: the live ones are kept */
  _cleanup_json_ json_t *n3 = json_deep_copy(o1);
  json_object_set_new(json_path(n3, "metadata"), "managedFields",
                      J("[{\"manager\":\"x\",\"operation\":\"Bogus\"}]"));
  _cleanup_json_ json_t *r3 = update_ok("ConfigMap", "kubectl-patch", NULL, o1, n3, "T2");
  assert_managed(r3, "kubectl/Apply@T1 {\"f:data\":{\"f:a\":{}}}");
  /* a valid list replaces the live one */
  _cleanup_json_ json_t *n4 = json_deep_copy(o1);
  json_object_set_new(json_path(n4, "metadata"), "managedFields",
                      J("[{\"manager\":\"m\",\"operation\":\"Update\",\"apiVersion\":\"v1\","
                        "\"time\":\"T0\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:data\":{"
                        "\"f:a\":{}}}}]"));
  _cleanup_json_ json_t *r4 = update_ok("ConfigMap", "kubectl-patch", NULL, o1, n4, "T2");
  assert_managed(r4, "m/Update@T0 {\"f:data\":{\"f:a\":{}}}");
  /* apply refuses managedFields in the body */
  struct apply_request req = req_for("ConfigMap", "kubectl", "T3");
  _cleanup_api_error_ struct api_error err = {0};
  json_t *out = NULL;
  assert_int_equal(apply_patch(&req, o1, n4, &out, &err), -EINVAL);
  assert_int_equal(err.code, 400);
  assert_string_equal(err.message, "metadata.managedFields must be nil");
  req.manager = NULL;
  assert_int_equal(apply_patch(&req, o1, o1, &out, &err), -EINVAL);
  assert_int_equal(err.code, 422);
  assert_string_equal(err.message, "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: "
                                   "Required value: is required for apply patch");
}

static void test_cap_update_managers(void **state) {
  _cleanup_json_ json_t *cur = J(CM_A1);
  json_t *prev = NULL;
  for (int i = 0; i < 12; i++) {
    char key[8], mgr[16], now[8];
    snprintf(key, sizeof(key), "k%02d", i);
    snprintf(mgr, sizeof(mgr), "m%02d", i);
    snprintf(now, sizeof(now), "T%02d", i);
    json_t *next = json_deep_copy(cur);
    json_object_set_new(json_path(next, "data"), key, json_string("v"));
    json_t *out = update_ok("ConfigMap", mgr, NULL, prev, next, now);
    json_decref(next);
    json_decref(prev);
    prev = out;
    json_decref(cur);
    cur = json_incref(out);
  }
  json_t *mf = json_path(prev, "metadata.managedFields");
  assert_int_equal(json_array_size(mf), APPLY_MAX_UPDATE_MANAGERS);
  assert_string_equal(json_string_value(json_object_get(json_array_get(mf, 0), "manager")),
                      "ancient-changes");
  json_decref(prev);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_create_via_apply),
      cmocka_unit_test(test_reapply_unchanged),
      cmocka_unit_test(test_apply_change_and_inputs_untouched),
      cmocka_unit_test(test_conflict_and_force),
      cmocka_unit_test(test_remove_field_from_config),
      cmocka_unit_test(test_update_then_apply_conflict),
      cmocka_unit_test(test_client_side_apply_conflict),
      cmocka_unit_test(test_list_map_by_name),
      cmocka_unit_test(test_status_subresource),
      cmocka_unit_test(test_managed_fields_reset_and_override),
      cmocka_unit_test(test_cap_update_managers),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
