#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "api/patch.h"
#include "api/schema.h"
#include "lib/json.h"

/* ---- helpers ---- */

static json_t *parse(const char *text) {
  json_error_t e;
  json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
  if (!v)
    fail_msg("bad test JSON (%s): %s", e.text, text);
  return v;
}

static void assert_json(const json_t *got, const char *want_text) {
  _cleanup_json_ json_t *want = parse(want_text);
  if (!json_equal(got, want)) {
    _cleanup_free_ char *g = json_encode(got);
    fail_msg("got  %s\nwant %s", g, want_text);
  }
}

enum which { JSON_PATCH, MERGE_PATCH };

/* Applies a patch that must succeed and compares the result; checks the input is untouched. */
static void expect_ok(enum which w, const char *doc_text, const char *patch_text,
                      const char *want_text) {
  _cleanup_json_ json_t *doc = parse(doc_text), *patch = parse(patch_text), *out = NULL;
  _cleanup_free_ char *before = json_encode(doc);
  _cleanup_api_error_ struct api_error err = {0};
  int r =
      w == JSON_PATCH ? patch_json(doc, patch, &out, &err) : patch_merge(doc, patch, &out, &err);
  if (r < 0)
    fail_msg("patch %s failed: %d %s", patch_text, err.code, err.message);
  assert_json(out, want_text);
  _cleanup_free_ char *after = json_encode(doc);
  assert_string_equal(before, after);
}

static void expect_error(enum which w, const char *doc_text, const char *patch_text, int code,
                         const char *reason, const char *message) {
  _cleanup_json_ json_t *doc = parse(doc_text), *patch = parse(patch_text), *out = NULL;
  _cleanup_api_error_ struct api_error err = {0};
  int r =
      w == JSON_PATCH ? patch_json(doc, patch, &out, &err) : patch_merge(doc, patch, &out, &err);
  if (r >= 0) {
    _cleanup_free_ char *g = json_encode(out);
    fail_msg("patch %s should fail, gave %s", patch_text, g);
  }
  assert_null(out);
  assert_int_equal(err.code, code);
  assert_string_equal(err.reason, reason);
  assert_string_equal(err.message, message);
}

#define REJECTED "the server rejected our request due to an error in our request"

static void expect_json_rejected(const char *doc, const char *patch) {
  expect_error(JSON_PATCH, doc, patch, 422, "Invalid", REJECTED);
}

/* ---- JSON patch: RFC 6902 appendix A ---- */

static void test_rfc6902_appendix(void **state) {
  (void)state;
  /* A.1 */
  expect_ok(JSON_PATCH, "{\"foo\":\"bar\"}",
            "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\"}]",
            "{\"baz\":\"qux\",\"foo\":\"bar\"}");
  /* A.2 */
  expect_ok(JSON_PATCH, "{\"foo\":[\"bar\",\"baz\"]}",
            "[{\"op\":\"add\",\"path\":\"/foo/1\",\"value\":\"qux\"}]",
            "{\"foo\":[\"bar\",\"qux\",\"baz\"]}");
  /* A.3 */
  expect_ok(JSON_PATCH, "{\"baz\":\"qux\",\"foo\":\"bar\"}",
            "[{\"op\":\"remove\",\"path\":\"/baz\"}]", "{\"foo\":\"bar\"}");
  /* A.4 */
  expect_ok(JSON_PATCH, "{\"foo\":[\"bar\",\"qux\",\"baz\"]}",
            "[{\"op\":\"remove\",\"path\":\"/foo/1\"}]", "{\"foo\":[\"bar\",\"baz\"]}");
  /* A.5 */
  expect_ok(JSON_PATCH, "{\"baz\":\"qux\",\"foo\":\"bar\"}",
            "[{\"op\":\"replace\",\"path\":\"/baz\",\"value\":\"boo\"}]",
            "{\"baz\":\"boo\",\"foo\":\"bar\"}");
  /* A.6 */
  expect_ok(JSON_PATCH,
            "{\"foo\":{\"bar\":\"baz\",\"waldo\":\"fred\"},\"qux\":{\"corge\":\"grault\"}}",
            "[{\"op\":\"move\",\"from\":\"/foo/waldo\",\"path\":\"/qux/thud\"}]",
            "{\"foo\":{\"bar\":\"baz\"},\"qux\":{\"corge\":\"grault\",\"thud\":\"fred\"}}");
  /* A.7 */
  expect_ok(JSON_PATCH, "{\"foo\":[\"all\",\"grass\",\"cows\",\"eat\"]}",
            "[{\"op\":\"move\",\"from\":\"/foo/1\",\"path\":\"/foo/3\"}]",
            "{\"foo\":[\"all\",\"cows\",\"eat\",\"grass\"]}");
  /* A.8 */
  expect_ok(JSON_PATCH, "{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}",
            "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"qux\"},"
            "{\"op\":\"test\",\"path\":\"/foo/1\",\"value\":2}]",
            "{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}");
  /* A.9 */
  expect_json_rejected("{\"baz\":\"qux\"}",
                       "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"bar\"}]");
  /* A.10 */
  expect_ok(JSON_PATCH, "{\"foo\":\"bar\"}",
            "[{\"op\":\"add\",\"path\":\"/child\",\"value\":{\"grandchild\":{}}}]",
            "{\"foo\":\"bar\",\"child\":{\"grandchild\":{}}}");
  /* A.11 */
  expect_ok(JSON_PATCH, "{\"foo\":\"bar\"}",
            "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\",\"xyz\":123}]",
            "{\"foo\":\"bar\",\"baz\":\"qux\"}");
  /* A.12 */
  expect_json_rejected("{\"foo\":\"bar\"}",
                       "[{\"op\":\"add\",\"path\":\"/baz/bat\",\"value\":\"qux\"}]");
  /* A.14 */
  expect_ok(JSON_PATCH, "{\"/\":9,\"~1\":10}", "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":10}]",
            "{\"/\":9,\"~1\":10}");
  /* A.15 */
  expect_json_rejected("{\"/\":9,\"~1\":10}",
                       "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":\"10\"}]");
  /* A.16 */
  expect_ok(JSON_PATCH, "{\"foo\":[\"bar\"]}",
            "[{\"op\":\"add\",\"path\":\"/foo/-\",\"value\":[\"abc\",\"def\"]}]",
            "{\"foo\":[\"bar\",[\"abc\",\"def\"]]}");
}

static void test_json_patch_pointers(void **state) {
  (void)state;
  /* "~1" is "/" inside a token: the usual way to address an annotation */
  expect_ok(JSON_PATCH, "{\"metadata\":{\"annotations\":{\"a/b\":\"1\"}}}",
            "[{\"op\":\"replace\",\"path\":\"/metadata/annotations/a~1b\",\"value\":\"2\"}]",
            "{\"metadata\":{\"annotations\":{\"a/b\":\"2\"}}}");
  /* negative indices count from the end (json-patch v4) */
  expect_ok(JSON_PATCH, "{\"a\":[1,2,3]}", "[{\"op\":\"remove\",\"path\":\"/a/-1\"}]",
            "{\"a\":[1,2]}");
  expect_ok(JSON_PATCH, "{\"a\":[1,2,3]}", "[{\"op\":\"add\",\"path\":\"/a/3\",\"value\":4}]",
            "{\"a\":[1,2,3,4]}");
  expect_json_rejected("{\"a\":[1,2,3]}", "[{\"op\":\"add\",\"path\":\"/a/5\",\"value\":4}]");
  expect_json_rejected("{\"a\":[1,2,3]}", "[{\"op\":\"remove\",\"path\":\"/a/3\"}]");
  expect_json_rejected("{\"a\":[1,2,3]}", "[{\"op\":\"remove\",\"path\":\"/a/-4\"}]");
  expect_json_rejected("{\"a\":[1,2,3]}", "[{\"op\":\"replace\",\"path\":\"/a/x\",\"value\":0}]");
  expect_json_rejected("{\"a\":[1]}", "[{\"op\":\"replace\",\"path\":\"/a/-\",\"value\":0}]");
  /* missing members */
  expect_json_rejected("{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/b\"}]");
  expect_json_rejected("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/a/b\",\"value\":1}]");
  expect_json_rejected("{\"a\":null}", "[{\"op\":\"add\",\"path\":\"/a/b\",\"value\":1}]");
  /* json-patch v4: replace of a missing member adds it; test of a missing member
   * against null passes; a missing "value" means null */
  expect_ok(JSON_PATCH, "{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":2}]",
            "{\"a\":1,\"b\":2}");
  expect_ok(JSON_PATCH, "{\"a\":1}", "[{\"op\":\"test\",\"path\":\"/b\",\"value\":null}]",
            "{\"a\":1}");
  expect_ok(JSON_PATCH, "{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/b\"}]", "{\"a\":1,\"b\":null}");
  /* replacing the root */
  expect_ok(JSON_PATCH, "{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":{\"b\":2}}]",
            "{\"b\":2}");
  expect_json_rejected("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":[1]}]");
  expect_json_rejected("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"\",\"value\":{}}]");
  /* copy, and move into its own child */
  expect_ok(JSON_PATCH, "{\"a\":{\"x\":1}}", "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/b\"}]",
            "{\"a\":{\"x\":1},\"b\":{\"x\":1}}");
  expect_json_rejected("{\"a\":{\"x\":1}}",
                       "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/y\"}]");
  /* operations run in order and all-or-nothing */
  expect_json_rejected("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/b\",\"value\":2},"
                                    "{\"op\":\"test\",\"path\":\"/b\",\"value\":3}]");
  expect_json_rejected("{\"a\":1}", "[{\"op\":\"frob\",\"path\":\"/a\"}]");
  expect_json_rejected("{\"a\":1}", "[{\"path\":\"/a\"}]");
  expect_json_rejected("{\"a\":1}", "[{\"op\":\"remove\"}]");
  expect_json_rejected("{\"a\":1}", "[null]");
}

static void test_json_patch_errors(void **state) {
  (void)state;
  expect_error(JSON_PATCH, "{}", "{\"op\":\"add\"}", 400, "BadRequest",
               "json: cannot unmarshal object into Go value of type jsonpatch.Patch");
  expect_error(JSON_PATCH, "{}", "[{\"op\":\"add\",\"path\":\"/a\"}, 3]", 400, "BadRequest",
               "json: cannot unmarshal number into Go value of type jsonpatch.Operation");
  /* a null patch is an empty one */
  expect_ok(JSON_PATCH, "{\"a\":1}", "null", "{\"a\":1}");
  expect_ok(JSON_PATCH, "{\"a\":1}", "[]", "{\"a\":1}");

  /* the 422 carries an empty details object, as kube-apiserver's does */
  _cleanup_json_ json_t *doc = parse("{}"), *bad = parse("[{\"op\":\"remove\",\"path\":\"/x\"}]");
  _cleanup_json_ json_t *out = NULL;
  _cleanup_api_error_ struct api_error err = {0};
  assert_int_equal(patch_json(doc, bad, &out, &err), -EINVAL);
  assert_true(json_is_object(err.details));
  assert_int_equal(json_object_size(err.details), 0);
  /* no error object wanted */
  assert_int_equal(patch_json(doc, bad, &out, NULL), -EINVAL);

  _cleanup_json_ json_t *many = json_array();
  for (int i = 0; i <= PATCH_MAX_JSON_OPERATIONS; i++)
    json_array_append_new(many, parse("{\"op\":\"test\",\"path\":\"/a\",\"value\":null}"));
  _cleanup_api_error_ struct api_error err2 = {0};
  assert_int_equal(patch_json(doc, many, &out, &err2), -E2BIG);
  assert_int_equal(err2.code, 413);
  assert_string_equal(err2.reason, "RequestEntityTooLarge");
  assert_string_equal(err2.message, "Request entity too large: The allowed maximum operations "
                                    "in a JSON patch is 10000, got 10001");
  assert_null(out);
  json_array_remove(many, 0);
  assert_int_equal(patch_json(doc, many, &out, NULL), 0);
  assert_json(out, "{}");
}

static void test_json_patch_copy_limit(void **state) {
  (void)state;
  /* doubling a 1 MiB string twice passes the 3 MiB copy budget on the third copy */
  size_t n = 1024 * 1024;
  char *big = xmalloc(n + 1);
  memset(big, 'x', n);
  big[n] = '\0';
  _cleanup_json_ json_t *doc = json_pack("{s:s}", "a", big);
  free(big);
  _cleanup_json_ json_t *two = parse("[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/b\"},"
                                     "{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/c\"}]");
  _cleanup_json_ json_t *three = parse("[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/b\"},"
                                       "{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/c\"},"
                                       "{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/d\"}]");
  _cleanup_json_ json_t *out = NULL;
  assert_int_equal(patch_json(doc, two, &out, NULL), 0);
  assert_int_equal(json_object_size(out), 3);
  json_t *out3 = NULL;
  _cleanup_api_error_ struct api_error err = {0};
  assert_int_equal(patch_json(doc, three, &out3, &err), -EINVAL);
  assert_int_equal(err.code, 422);
  assert_null(out3);
}

/* ---- JSON merge patch: RFC 7386 appendix A ---- */

static void test_rfc7386_appendix(void **state) {
  (void)state;
  expect_ok(MERGE_PATCH, "{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
  expect_ok(MERGE_PATCH, "{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}");
  expect_ok(MERGE_PATCH, "{\"a\":\"b\"}", "{\"a\":null}", "{}");
  expect_ok(MERGE_PATCH, "{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}");
  expect_ok(MERGE_PATCH, "{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
  expect_ok(MERGE_PATCH, "{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}");
  expect_ok(MERGE_PATCH, "{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}",
            "{\"a\":{\"b\":\"d\"}}");
  expect_ok(MERGE_PATCH, "{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}");
  expect_ok(MERGE_PATCH, "{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}");
  expect_ok(MERGE_PATCH, "{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}");
  /* the non-object patches of the appendix: kube-apiserver refuses them */
  expect_error(MERGE_PATCH, "{\"a\":\"foo\"}", "null", 400, "BadRequest", "Invalid JSON Patch");
  expect_error(MERGE_PATCH, "{\"a\":\"foo\"}", "\"bar\"", 400, "BadRequest", "Invalid JSON Patch");
  expect_error(MERGE_PATCH, "{\"a\":\"b\"}", "[\"c\"]", 400, "BadRequest", "Invalid JSON Patch");
}

static void test_merge_patch_kubectl(void **state) {
  (void)state;
  /* kubectl label / scale */
  expect_ok(MERGE_PATCH, "{\"metadata\":{\"name\":\"x\",\"labels\":{\"a\":\"1\",\"b\":\"2\"}}}",
            "{\"metadata\":{\"labels\":{\"a\":null,\"c\":\"3\"}}}",
            "{\"metadata\":{\"name\":\"x\",\"labels\":{\"b\":\"2\",\"c\":\"3\"}}}");
  expect_ok(MERGE_PATCH, "{\"spec\":{\"replicas\":1,\"template\":{}}}",
            "{\"spec\":{\"replicas\":3}}", "{\"spec\":{\"replicas\":3,\"template\":{}}}");
  /* lists replace whole, with nulls inside new objects dropped */
  expect_ok(MERGE_PATCH, "{\"l\":[1,2]}", "{\"l\":[{\"a\":null,\"b\":1},null]}",
            "{\"l\":[{\"b\":1},null]}");
}

/* ---- strategic merge patch ---- */

/* clang-format off */
static const char *test_schema =
    "package io.k8s.test\n"
    "type Pod gvk=/v1/Pod\n"
    "  apiVersion string\n"
    "  kind string\n"
    "  metadata ObjectMeta\n"
    "  spec PodSpec\n"
    "type Deployment gvk=apps/v1/Deployment\n"
    "  metadata ObjectMeta\n"
    "  spec DeploymentSpec\n"
    "type DeploymentSpec\n"
    "  replicas int32\n"
    "  paused boolean\n"
    "  template PodTemplateSpec\n"
    "type PodTemplateSpec\n"
    "  metadata ObjectMeta\n"
    "  spec PodSpec\n"
    "type ObjectMeta\n"
    "  name string\n"
    "  resourceVersion string\n"
    "  labels map[string]\n"
    "  annotations map[string]\n"
    "  finalizers []string patch=merge list=set\n"
    "type PodSpec\n"
    "  containers []Container merge=name\n"
    "  volumes []Volume merge=name patch=merge,retainKeys\n"
    "  tolerations []Toleration\n"
    "  nodeSelector map[string]\n"
    "  affinity Affinity patch=replace\n"
    "  extra any\n"
    "type Affinity\n"
    "  zone string\n"
    "  rack string\n"
    "type Container\n"
    "  name string\n"
    "  image string\n"
    "  args []string\n"
    "  env []EnvVar merge=name\n"
    "  ports []ContainerPort merge=containerPort\n"
    "type EnvVar\n"
    "  name string\n"
    "  value string\n"
    "type ContainerPort\n"
    "  containerPort int32\n"
    "  protocol string\n"
    "type Volume\n"
    "  name string\n"
    "  emptyDir EmptyDir\n"
    "  hostPath HostPath\n"
    "type EmptyDir\n"
    "  medium string\n"
    "type HostPath\n"
    "  path string\n"
    "type Toleration\n"
    "  key string\n"
    "  value string\n"
    "type MergeItemList\n"
    "  mergingList []MergeItem merge=name\n"
    "  mergingIntList []integer patch=merge\n"
    "type MergeItem\n"
    "  name integer\n"
    "  value integer\n"
    "  other string\n";
/* clang-format on */

static struct schema_set *schemas;

static int setup_schemas(void **state) {
  (void)state;
  _cleanup_free_ char *err = NULL;
  if (schema_set_parse(test_schema, &schemas, &err) < 0) {
    fprintf(stderr, "test schema: %s\n", err);
    return -1;
  }
  return 0;
}

static int teardown_schemas(void **state) {
  (void)state;
  schema_set_free(schemas);
  return 0;
}

static const struct schema_type *type_named(const char *name) {
  const struct schema_type *t = schema_find(schemas, name);
  assert_non_null(t);
  return t;
}

static void smp_ok(const char *type, const char *doc_text, const char *patch_text,
                   const char *want_text) {
  _cleanup_json_ json_t *doc = parse(doc_text), *patch = parse(patch_text), *out = NULL;
  _cleanup_free_ char *before = json_encode(doc), *patch_before = json_encode(patch);
  _cleanup_api_error_ struct api_error err = {0};
  if (patch_strategic(type ? type_named(type) : NULL, doc, patch, &out, &err) < 0)
    fail_msg("patch %s failed: %d %s", patch_text, err.code, err.message);
  assert_json(out, want_text);
  _cleanup_free_ char *after = json_encode(doc), *patch_after = json_encode(patch);
  assert_string_equal(before, after);
  assert_string_equal(patch_before, patch_after);
}

static void smp_error(const char *type, const char *doc_text, const char *patch_text, int code,
                      const char *reason, const char *message) {
  _cleanup_json_ json_t *doc = parse(doc_text), *patch = parse(patch_text), *out = NULL;
  _cleanup_api_error_ struct api_error err = {0};
  if (patch_strategic(type ? type_named(type) : NULL, doc, patch, &out, &err) >= 0) {
    _cleanup_free_ char *g = json_encode(out);
    fail_msg("patch %s should fail, gave %s", patch_text, g);
  }
  assert_null(out);
  assert_int_equal(err.code, code);
  assert_string_equal(err.reason, reason);
  assert_string_equal(err.message, message);
}

#define POD2                                                                                       \
  "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"nginx\"},{\"name\":\"b\",\"image\":"     \
  "\"busybox\"}]}}"

static void test_smp_containers(void **state) {
  (void)state;
  /* kubectl set image: one container changes, by name, in place */
  smp_ok("Pod", POD2, "{\"spec\":{\"containers\":[{\"name\":\"b\",\"image\":\"busybox:2\"}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"nginx\"},"
         "{\"name\":\"b\",\"image\":\"busybox:2\"}]}}");
  /* a new name is added; with no $setElementOrder the patch's items lead */
  smp_ok("Pod", POD2, "{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"redis\"}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"redis\"},"
         "{\"name\":\"a\",\"image\":\"nginx\"},{\"name\":\"b\",\"image\":\"busybox\"}]}}");
  /* $patch: delete removes an item by merge key */
  smp_ok("Pod", POD2, "{\"spec\":{\"containers\":[{\"name\":\"a\",\"$patch\":\"delete\"}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"b\",\"image\":\"busybox\"}]}}");
  /* $patch: replace makes the list exactly the other items */
  smp_ok("Pod", POD2,
         "{\"spec\":{\"containers\":[{\"name\":\"z\",\"image\":\"x\",\"env\":null},"
         "{\"$patch\":\"replace\"}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"z\",\"image\":\"x\"}]}}");
  /* a null member of an item deletes that member */
  smp_ok("Pod", POD2, "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":null}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\",\"image\":\"busybox\"}]}}");
  /* ports merge by an integer key */
  smp_ok("Pod",
         "{\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":[{\"containerPort\":80},"
         "{\"containerPort\":443}]}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":[{\"containerPort\":443,"
         "\"protocol\":\"TCP\"}]}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":[{\"containerPort\":80},"
         "{\"containerPort\":443,\"protocol\":\"TCP\"}]}]}}");
}

static void test_smp_env(void **state) {
  (void)state;
  smp_ok("Pod",
         "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"A\",\"value\":\"1\"},"
         "{\"name\":\"B\",\"value\":\"2\"}]}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"B\",\"value\":\"3\"},"
         "{\"name\":\"C\",\"value\":\"4\"}]}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"A\",\"value\":\"1\"},"
         "{\"name\":\"B\",\"value\":\"3\"},{\"name\":\"C\",\"value\":\"4\"}]}]}}");
  /* kubectl set env --env=A-: a delete directive inside a nested list */
  smp_ok("Pod",
         "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"A\",\"value\":\"1\"},"
         "{\"name\":\"B\",\"value\":\"2\"}]}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"$patch\":\"delete\","
         "\"name\":\"A\"}]}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"B\","
         "\"value\":\"2\"}]}]}}");
}

static void test_smp_lists_without_strategy(void **state) {
  (void)state;
  /* atomic lists replace */
  smp_ok("Pod", "{\"spec\":{\"containers\":[{\"name\":\"a\",\"args\":[\"x\",\"y\"]}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"a\",\"args\":[\"z\"]}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"a\",\"args\":[\"z\"]}]}}");
  smp_ok("Pod", "{\"spec\":{\"tolerations\":[{\"key\":\"a\"},{\"key\":\"b\"}]}}",
         "{\"spec\":{\"tolerations\":[{\"key\":\"c\",\"value\":null}]}}",
         "{\"spec\":{\"tolerations\":[{\"key\":\"c\"}]}}");
  /* without a schema every list replaces and maps merge */
  smp_ok(NULL, POD2, "{\"spec\":{\"containers\":[{\"name\":\"q\"}],\"x\":1}}",
         "{\"spec\":{\"containers\":[{\"name\":\"q\"}],\"x\":1}}");
}

static void test_smp_maps(void **state) {
  (void)state;
  /* null deletes, maps merge */
  smp_ok("Pod",
         "{\"metadata\":{\"name\":\"p\",\"labels\":{\"a\":\"1\",\"b\":\"2\"}},"
         "\"spec\":{\"nodeSelector\":{\"d\":\"1\"}}}",
         "{\"metadata\":{\"labels\":{\"a\":null,\"c\":\"3\"}},\"spec\":{\"nodeSelector\":null}}",
         "{\"metadata\":{\"name\":\"p\",\"labels\":{\"b\":\"2\",\"c\":\"3\"}},\"spec\":{}}");
  /* a null for something absent is no change */
  smp_ok("Pod", "{\"metadata\":{\"name\":\"p\"}}", "{\"metadata\":{\"labels\":null}}",
         "{\"metadata\":{\"name\":\"p\"}}");
  /* $patch in maps */
  smp_ok("Pod", "{\"spec\":{\"nodeSelector\":{\"a\":\"1\",\"b\":\"2\"}}}",
         "{\"spec\":{\"nodeSelector\":{\"$patch\":\"replace\",\"c\":\"3\"}}}",
         "{\"spec\":{\"nodeSelector\":{\"c\":\"3\"}}}");
  smp_ok("Pod", "{\"spec\":{\"nodeSelector\":{\"a\":\"1\"}}}",
         "{\"spec\":{\"nodeSelector\":{\"$patch\":\"delete\"}}}",
         "{\"spec\":{\"nodeSelector\":{}}}");
  /* a field with patch strategy replace is replaced whole */
  smp_ok("Pod", "{\"spec\":{\"affinity\":{\"zone\":\"a\",\"rack\":\"1\"}}}",
         "{\"spec\":{\"affinity\":{\"zone\":\"b\"}}}",
         "{\"spec\":{\"affinity\":{\"zone\":\"b\"}}}");
  /* fields of type any, or unknown to the schema, merge without schema */
  smp_ok(
      "Pod",
      "{\"spec\":{\"extra\":{\"a\":{\"b\":1,\"c\":[1,2]}},\"other\":{\"x\":[{\"name\":\"a\"}]}}}",
      "{\"spec\":{\"extra\":{\"a\":{\"c\":[3],\"d\":null}},\"other\":{\"x\":[{\"name\":\"b\"}],"
      "\"y\":2}}}",
      "{\"spec\":{\"extra\":{\"a\":{\"b\":1,\"c\":[3]}},\"other\":{\"x\":[{\"name\":\"b\"}],\"y\":"
      "2}}}");
  /* a null patch changes nothing */
  smp_ok("Pod", "{\"metadata\":{\"name\":\"p\"}}", "null", "{\"metadata\":{\"name\":\"p\"}}");
  smp_ok("Pod", "{\"metadata\":{\"name\":\"p\"}}", "{}", "{\"metadata\":{\"name\":\"p\"}}");
}

static void test_smp_rollout(void **state) {
  (void)state;
  /* kubectl rollout restart, pause */
  smp_ok("Deployment",
         "{\"metadata\":{\"name\":\"d\"},\"spec\":{\"replicas\":2,\"template\":{\"metadata\":"
         "{\"labels\":{\"app\":\"d\"}},\"spec\":{\"containers\":[{\"name\":\"a\"}]}}}}",
         "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{"
         "\"kubectl.kubernetes.io/restartedAt\":\"2024-05-01T10:00:00Z\"}}}}}",
         "{\"metadata\":{\"name\":\"d\"},\"spec\":{\"replicas\":2,\"template\":{\"metadata\":"
         "{\"labels\":{\"app\":\"d\"},\"annotations\":{\"kubectl.kubernetes.io/restartedAt\":"
         "\"2024-05-01T10:00:00Z\"}},\"spec\":{\"containers\":[{\"name\":\"a\"}]}}}}");
  smp_ok("Deployment", "{\"spec\":{\"replicas\":2}}", "{\"spec\":{\"paused\":true}}",
         "{\"spec\":{\"replicas\":2,\"paused\":true}}");
}

static void test_smp_element_order(void **state) {
  (void)state;
  const char *three =
      "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"c\"}]}}";
  /* reorder only */
  smp_ok("Pod", three,
         "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"c\"},{\"name\":\"a\"},"
         "{\"name\":\"b\"}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"c\"},{\"name\":\"a\"},{\"name\":\"b\"}]}}");
  /* kubectl apply adding a container in the middle */
  smp_ok("Pod", "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"c\"}]}}",
         "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"a\"},{\"name\":\"b\"},"
         "{\"name\":\"c\"}],\"containers\":[{\"name\":\"b\",\"image\":\"x\"}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\",\"image\":\"x\"},"
         "{\"name\":\"c\"}]}}");
  /* kubectl apply removing a container and changing another */
  smp_ok(
      "Pod", three,
      "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"a\"},{\"name\":\"c\"}],"
      "\"containers\":[{\"$patch\":\"delete\",\"name\":\"b\"},{\"name\":\"c\",\"image\":\"y\"}]}}",
      "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"c\",\"image\":\"y\"}]}}");
  /* an item the order does not name goes before the first named item that follows it in
   * the live list */
  smp_ok("Pod", three,
         "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"c\"},{\"name\":\"a\"}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"b\"},{\"name\":\"c\"},{\"name\":\"a\"}]}}");
  /* without an order, live items keep their places and lead the patch items that follow
   * them; new items follow the patch's order */
  smp_ok("Pod", "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"b\",\"image\":\"i\"},{\"name\":\"c\"}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\",\"image\":\"i\"},"
         "{\"name\":\"c\"}]}}");
  /* env inside a container, as kubectl apply sends it */
  smp_ok("Pod",
         "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"X\",\"value\":\"1\"},"
         "{\"name\":\"Y\",\"value\":\"2\"}]}]}}",
         "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"a\"}],\"containers\":[{"
         "\"$setElementOrder/env\":[{\"name\":\"Y\"},{\"name\":\"Z\"},{\"name\":\"X\"}],"
         "\"name\":\"a\",\"env\":[{\"name\":\"Z\",\"value\":\"3\"}]}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"Y\",\"value\":\"2\"},"
         "{\"name\":\"Z\",\"value\":\"3\"},{\"name\":\"X\",\"value\":\"1\"}]}]}}");
  /* a list the live object lacks: directives never reach the stored object */
  smp_ok(
      "Pod", "{\"spec\":{}}",
      "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"b\"},{\"name\":\"a\"}],"
      "\"containers\":[{\"name\":\"b\",\"$setElementOrder/env\":[{\"name\":\"E\"}],"
      "\"env\":[{\"name\":\"E\"}]},{\"name\":\"a\"}]}}",
      "{\"spec\":{\"containers\":[{\"name\":\"b\",\"env\":[{\"name\":\"E\"}]},{\"name\":\"a\"}]}}");
  /* a new container carrying directives is stored without them */
  smp_ok(
      "Pod", "{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}",
      "{\"spec\":{\"containers\":[{\"name\":\"n\",\"$setElementOrder/env\":[{\"name\":\"E\"}],"
      "\"env\":[{\"name\":\"E\",\"value\":null}]}]}}",
      "{\"spec\":{\"containers\":[{\"name\":\"n\",\"env\":[{\"name\":\"E\"}]},{\"name\":\"a\"}]}}");
  /* the order must list the patch's items in the patch's order */
  smp_error("Pod", three,
            "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"a\"}],"
            "\"containers\":[{\"name\":\"b\"}]}}",
            500, "",
            "The order in patch list:\n[map[name:b]]\n doesn't match $setElementOrder list:\n"
            "[map[name:a]]\n");
  smp_error("Pod", three, "{\"spec\":{\"$setElementOrderX\":[]}}", 400, "BadRequest",
            "invalid patch format of setElementOrder list");
}

static void test_smp_primitive_lists(void **state) {
  (void)state;
  const char *fin = "{\"metadata\":{\"finalizers\":[\"a\",\"b\",\"c\"]}}";
  smp_ok("Pod", fin, "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"b\",\"x\"]}}",
         "{\"metadata\":{\"finalizers\":[\"a\",\"c\"]}}");
  /* merge as a set: patch items in patch order, live-only items at their live place */
  smp_ok("Pod", "{\"metadata\":{\"finalizers\":[\"a\",\"b\"]}}",
         "{\"metadata\":{\"finalizers\":[\"c\",\"a\"]}}",
         "{\"metadata\":{\"finalizers\":[\"c\",\"a\",\"b\"]}}");
  smp_ok("Pod", "{\"metadata\":{\"finalizers\":[\"a\"]}}",
         "{\"metadata\":{\"finalizers\":[\"a\",\"a\",\"b\"]}}",
         "{\"metadata\":{\"finalizers\":[\"a\",\"b\"]}}");
  /* kubectl apply: delete list plus order */
  smp_ok("Pod", fin,
         "{\"metadata\":{\"$setElementOrder/finalizers\":[\"c\",\"a\"],"
         "\"$deleteFromPrimitiveList/finalizers\":[\"b\"]}}",
         "{\"metadata\":{\"finalizers\":[\"c\",\"a\"]}}");
  /* a delete list for an absent field changes nothing */
  smp_ok("Pod", "{\"metadata\":{}}",
         "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"b\"]}}", "{\"metadata\":{}}");
  smp_error("Pod", fin, "{\"metadata\":{\"$deleteFromPrimitiveListX\":[\"b\"]}}", 400, "BadRequest",
            "invalid patch format of primitive list");
}

static void test_smp_retain_keys(void **state) {
  (void)state;
  const char *vol =
      "{\"spec\":{\"volumes\":[{\"name\":\"v\",\"hostPath\":{\"path\":\"/x\"}},{\"name\":\"w\"}]}}";
  smp_ok("Pod", vol,
         "{\"spec\":{\"volumes\":[{\"name\":\"v\",\"emptyDir\":{},"
         "\"$retainKeys\":[\"emptyDir\",\"name\"]}]}}",
         "{\"spec\":{\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}},{\"name\":\"w\"}]}}");
  smp_error(
      "Pod", vol,
      "{\"spec\":{\"volumes\":[{\"name\":\"v\",\"emptyDir\":{},\"$retainKeys\":[\"name\"]}]}}", 400,
      "BadRequest", "invalid patch format of retainKeys");
  smp_error("Pod", vol, "{\"spec\":{\"volumes\":[{\"name\":\"v\",\"$retainKeys\":\"name\"}]}}", 400,
            "BadRequest", "invalid patch format of retainKeys");
}

static void test_smp_errors(void **state) {
  (void)state;
  smp_error("Pod", POD2, "{\"spec\":{\"containers\":[{\"image\":\"nginx\"}]}}", 500, "",
            "map: map[image:nginx] does not contain declared merge key: name");
  smp_error("Pod", POD2,
            "{\"spec\":{\"containers\":[{\"image\":\"nginx\",\"n\":1.5,\"m\":1000000,"
            "\"f\":2500000.0,\"b\":true,\"z\":null,\"l\":[1,\"x\"],\"o\":{}}]}}",
            500, "",
            "map: map[b:true f:2.5e+06 image:nginx l:[1 x] m:1000000 n:1.5 o:map[] z:<nil>] "
            "does not contain declared merge key: name");
  smp_error("Pod", POD2, "{\"spec\":{\"containers\":[{\"name\":\"a\",\"$patch\":\"merge\"}]}}", 500,
            "", "merging lists cannot yet be specified in the patch");
  smp_error("Pod", "{\"spec\":{\"nodeSelector\":{}}}",
            "{\"spec\":{\"nodeSelector\":{\"$patch\":\"foo\",\"a\":\"b\"}}}", 500, "",
            "unknown patch type: foo in map: map[$patch:foo a:b]");
  smp_error("Pod", POD2, "{\"spec\":{\"containers\":[{\"name\":\"a\",\"$patch\":7}]}}", 500, "",
            "unknown patch type: %!s(int64=7) in map: map[$patch:7 name:a]");
  smp_error("Pod", "{\"metadata\":{\"finalizers\":[\"a\"]}}", "{\"metadata\":{\"finalizers\":[1]}}",
            500, "", "list element types are not identical: [[a] [1]]");
  smp_error("Pod", "{\"metadata\":{\"finalizers\":[]}}",
            "{\"metadata\":{\"finalizers\":[[\"x\"]]}}", 422, "Invalid",
            "the server rejected our request due to an error in our request");
  smp_error("Pod", POD2, "[]", 400, "BadRequest",
            "json: cannot unmarshal array into Go value of type map[string]interface {}");
  smp_error("Pod", POD2, "\"x\"", 400, "BadRequest",
            "json: cannot unmarshal string into Go value of type map[string]interface {}");
}

/* Live object, patch and result of ordering cases from Kubernetes' own strategic merge patch
 * tests, restated in JSON: the result must match kube-apiserver's item for item. */
static void test_smp_kubernetes_order_cases(void **state) {
  (void)state;
  static const struct {
    const char *live, *patch, *want;
  } cases[] = {
      {"{\"mergingList\":[{\"name\":1,\"other\":\"a\"},{\"name\":2,\"value\":2,\"other\":\"b\"}]}",
       "{\"$setElementOrder/mergingList\":[{\"name\":4},{\"name\":1},{\"name\":2},{\"name\":3}],"
       "\"mergingList\":[{\"name\":4,\"value\":4},{\"name\":3,\"value\":3}]}",
       "{\"mergingList\":[{\"name\":4,\"value\":4},{\"name\":1,\"other\":\"a\"},"
       "{\"name\":2,\"value\":2,\"other\":\"b\"},{\"name\":3,\"value\":3}]}"},
      {"{\"mergingList\":[{\"name\":1},{\"name\":2,\"other\":\"b\"},{\"name\":4,\"other\":\"c\"}]}",
       "{\"$setElementOrder/mergingList\":[{\"name\":2},{\"name\":3}],"
       "\"mergingList\":[{\"name\":3},{\"name\":1,\"$patch\":\"delete\"}]}",
       "{\"mergingList\":[{\"name\":2,\"other\":\"b\"},{\"name\":4,\"other\":\"c\"},{\"name\":3}]"
       "}"},
      {"{\"mergingList\":[{\"name\":1,\"other\":\"a\"},{\"name\":2,\"value\":2,\"other\":\"b\"},"
       "{\"name\":3,\"value\":3}]}",
       "{\"$setElementOrder/mergingList\":[{\"name\":4},{\"name\":2},{\"name\":1}],"
       "\"mergingList\":[{\"name\":4,\"value\":4},{\"name\":3,\"$patch\":\"delete\"}]}",
       "{\"mergingList\":[{\"name\":4,\"value\":4},{\"name\":2,\"value\":2,\"other\":\"b\"},"
       "{\"name\":1,\"other\":\"a\"}]}"},
      {"{\"mergingList\":[{\"name\":1,\"other\":\"a\"},{\"name\":3,\"value\":3},"
       "{\"name\":4,\"value\":4},{\"name\":2,\"value\":2},{\"name\":9}]}",
       "{\"$setElementOrder/mergingList\":[{\"name\":4},{\"name\":2},{\"name\":3},{\"name\":1}]}",
       "{\"mergingList\":[{\"name\":4,\"value\":4},{\"name\":2,\"value\":2},"
       "{\"name\":3,\"value\":3},{\"name\":1,\"other\":\"a\"},{\"name\":9}]}"},
      {"{\"mergingList\":[{\"name\":1,\"other\":\"a\"},{\"name\":2,\"value\":2},{\"name\":9},"
       "{\"name\":3,\"value\":3},{\"name\":4,\"value\":4}]}",
       "{\"$setElementOrder/mergingList\":[{\"name\":2},{\"name\":1},{\"name\":4},{\"name\":3}]}",
       "{\"mergingList\":[{\"name\":2,\"value\":2},{\"name\":1,\"other\":\"a\"},{\"name\":9},"
       "{\"name\":4,\"value\":4},{\"name\":3,\"value\":3}]}"},
      {"{\"mergingList\":[{\"name\":1,\"other\":\"a\"},{\"name\":2,\"value\":2},{\"name\":7},"
       "{\"name\":9},{\"name\":8},{\"name\":3,\"value\":3},{\"name\":4,\"value\":4}]}",
       "{\"$setElementOrder/mergingList\":[{\"name\":2},{\"name\":1},{\"name\":4},{\"name\":3}]}",
       "{\"mergingList\":[{\"name\":2,\"value\":2},{\"name\":1,\"other\":\"a\"},{\"name\":7},"
       "{\"name\":9},{\"name\":8},{\"name\":4,\"value\":4},{\"name\":3,\"value\":3}]}"},
      {"{\"mergingList\":[{\"name\":1},{\"name\":2,\"value\":1},{\"name\":3},"
       "{\"name\":2,\"value\":2},{\"name\":4}]}",
       "{\"$setElementOrder/mergingList\":[{\"name\":2},{\"name\":1},{\"name\":4},{\"name\":3},"
       "{\"name\":2}]}",
       "{\"mergingList\":[{\"name\":2,\"value\":1},{\"name\":2,\"value\":2},{\"name\":1},"
       "{\"name\":4},{\"name\":3}]}"},
      {"{\"mergingIntList\":[1,3,4,2,9]}", "{\"$setElementOrder/mergingIntList\":[4,2,3,1]}",
       "{\"mergingIntList\":[4,2,3,1,9]}"},
      {"{\"mergingIntList\":[1,2,9,3,4]}", "{\"$setElementOrder/mergingIntList\":[2,1,4,3]}",
       "{\"mergingIntList\":[2,1,9,4,3]}"},
      {"{\"mergingIntList\":[1,2,7,9,8,3,4]}", "{\"$setElementOrder/mergingIntList\":[2,1,4,3]}",
       "{\"mergingIntList\":[2,1,7,9,8,4,3]}"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
    smp_ok("MergeItemList", cases[i].live, cases[i].patch, cases[i].want);
}

/* ---- the rest of the header ---- */

static void test_media_types(void **state) {
  (void)state;
  assert_int_equal(patch_type_from_media_type("application/json-patch+json"), PATCH_TYPE_JSON);
  assert_int_equal(patch_type_from_media_type("application/merge-patch+json; charset=utf-8"),
                   PATCH_TYPE_MERGE);
  assert_int_equal(patch_type_from_media_type("Application/Strategic-Merge-Patch+JSON"),
                   PATCH_TYPE_STRATEGIC);
  assert_int_equal(patch_type_from_media_type("application/apply-patch+yaml"), PATCH_TYPE_APPLY);
  assert_int_equal(patch_type_from_media_type("application/json"), -EOPNOTSUPP);
  assert_int_equal(patch_type_from_media_type(""), -EOPNOTSUPP);
  assert_int_equal(patch_type_from_media_type(NULL), -EOPNOTSUPP);
}

static void test_resource_version_precondition(void **state) {
  (void)state;
  _cleanup_json_ json_t *cur = parse("{\"metadata\":{\"resourceVersion\":\"5\"}}");
  _cleanup_json_ json_t *same = parse("{\"metadata\":{\"resourceVersion\":\"5\"}}");
  _cleanup_json_ json_t *old = parse("{\"metadata\":{\"resourceVersion\":\"3\"}}");
  _cleanup_json_ json_t *none = parse("{\"metadata\":{}}");
  _cleanup_json_ json_t *empty = parse("{\"metadata\":{\"resourceVersion\":\"\"}}");
  assert_null(patch_requested_resource_version(cur, same));
  assert_string_equal(patch_requested_resource_version(cur, old), "3");
  assert_null(patch_requested_resource_version(cur, none));
  assert_null(patch_requested_resource_version(cur, empty));

  /* end to end: a merge patch carrying an old resourceVersion */
  _cleanup_json_ json_t *patch = parse("{\"metadata\":{\"resourceVersion\":\"4\"},\"x\":1}");
  _cleanup_json_ json_t *out = NULL;
  assert_int_equal(patch_merge(cur, patch, &out, NULL), 0);
  assert_string_equal(patch_requested_resource_version(cur, out), "4");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rfc6902_appendix),
      cmocka_unit_test(test_json_patch_pointers),
      cmocka_unit_test(test_json_patch_errors),
      cmocka_unit_test(test_json_patch_copy_limit),
      cmocka_unit_test(test_rfc7386_appendix),
      cmocka_unit_test(test_merge_patch_kubectl),
      cmocka_unit_test(test_smp_containers),
      cmocka_unit_test(test_smp_env),
      cmocka_unit_test(test_smp_lists_without_strategy),
      cmocka_unit_test(test_smp_maps),
      cmocka_unit_test(test_smp_rollout),
      cmocka_unit_test(test_smp_element_order),
      cmocka_unit_test(test_smp_primitive_lists),
      cmocka_unit_test(test_smp_retain_keys),
      cmocka_unit_test(test_smp_errors),
      cmocka_unit_test(test_smp_kubernetes_order_cases),
      cmocka_unit_test(test_media_types),
      cmocka_unit_test(test_resource_version_precondition),
  };
  return cmocka_run_group_tests(tests, setup_schemas, teardown_schemas);
}
