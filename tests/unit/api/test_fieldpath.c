/* Unit tests for api/fieldpath: the FieldsV1 format, set algebra and object field sets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "api/fieldpath.h"
#include "api/schema.h"
#include "lib/json.h"

static struct fieldpath_set *parse(const char *text) {
  struct fieldpath_set *s = NULL;
  assert_int_equal(fieldpath_set_parse(text, strlen(text), &s), 0);
  return s;
}

static void assert_serializes(const struct fieldpath_set *s, const char *want) {
  _cleanup_free_ char *got = fieldpath_set_serialize(s);
  assert_string_equal(got, want);
}

static void assert_roundtrip(const char *in, const char *want) {
  _cleanup_fieldpath_set_ struct fieldpath_set *s = parse(in);
  assert_serializes(s, want);
}

static void test_roundtrip_kube_sample(void **state) {
  const char *kube = "{\"f:metadata\":{\"f:labels\":{\".\":{},\"f:app\":{}}},\"f:spec\":{\"f:"
                     "containers\":{\"k:{\\\"name\\\":\\\"nginx\\\"}\":{\".\":{},\"f:image\":{},"
                     "\"f:name\":{}}}}}";
  assert_roundtrip(kube, kube);
  assert_roundtrip("{}", "{}");
  assert_roundtrip("null", "{}");
}

static void test_sort_order(void **state) {
  /* field names, then keys, then values, then indices; indices numerically */
  assert_roundtrip("{\"i:10\":{},\"v:\\\"z\\\"\":{},\"i:2\":{},\"k:{\\\"x\\\":1}\":{},\"f:b\":{},"
                   "\"f:a\":{}}",
                   "{\"f:a\":{},\"f:b\":{},\"k:{\\\"x\\\":1}\":{},\"v:\\\"z\\\"\":{},\"i:2\":{},"
                   "\"i:10\":{}}");
  /* values: numbers before strings before booleans */
  assert_roundtrip("{\"v:true\":{},\"v:\\\"a\\\"\":{},\"v:2\":{},\"v:1.5\":{}}",
                   "{\"v:1.5\":{},\"v:2\":{},\"v:\\\"a\\\"\":{},\"v:true\":{}}");
  /* key fields are sorted by name inside the element */
  assert_roundtrip("{\"k:{\\\"protocol\\\":\\\"TCP\\\",\\\"containerPort\\\":80}\":{}}",
                   "{\"k:{\\\"containerPort\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":{}}");
  /* keys compare field by field: port 80 before 443? no: numbers compare numerically */
  assert_roundtrip("{\"k:{\\\"p\\\":443}\":{},\"k:{\\\"p\\\":80}\":{}}",
                   "{\"k:{\\\"p\\\":80}\":{},\"k:{\\\"p\\\":443}\":{}}");
}

static void test_self_marker(void **state) {
  /* "." alone is a member; "." with children is both */
  assert_roundtrip("{\"f:a\":{\".\":{}}}", "{\"f:a\":{}}");
  assert_roundtrip("{\"f:a\":{\"f:b\":{},\".\":{}}}", "{\"f:a\":{\".\":{},\"f:b\":{}}}");
  /* unknown prefixes are dropped, leaving a member */
  assert_roundtrip("{\"f:a\":{\"x:zz\":{}},\"qq\":{}}", "{\"f:a\":{}}");
  /* null is an empty node */
  assert_roundtrip("{\"f:a\":null}", "{\"f:a\":{}}");
}

static void test_escaping(void **state) {
  /* Go's encoder escapes HTML characters and U+2028 */
  assert_roundtrip("{\"f:a<b>&c\":{}}", "{\"f:a\\u003cb\\u003e\\u0026c\":{}}");
  assert_roundtrip("{\"f:x\\u2028y\":{}}", "{\"f:x\\u2028y\":{}}");
  assert_roundtrip("{\"f:tab\\t\\u0001\":{}}", "{\"f:tab\\t\\u0001\":{}}");
  assert_roundtrip("{\"v:\\\"<\\\"\":{}}", "{\"v:\\\"\\\\u003c\\\"\":{}}");
  /* floats as Go writes them */
  assert_roundtrip("{\"v:1.0\":{},\"v:0.5\":{},\"v:1e21\":{},\"v:1e-7\":{}}",
                   "{\"v:1e-7\":{},\"v:0.5\":{},\"v:1\":{},\"v:1e+21\":{}}");
}

static void test_parse_errors(void **state) {
  const char *bad[] = {
      "[]",                       /* not an object */
      "{\"f:a\":1}",              /* child not an object */
      "{\"k:[1]\":{}}",           /* key not an object */
      "{\"k:\":{}}",              /* empty key */
      "{\"i:x\":{}}",             /* index not a number */
      "{\"v:\":{}}",              /* empty value */
      "{\"a\":{}}",               /* too short */
      "{\"f:a\":{\"i:1.5\":{}}}", /* nested error */
      "{",
  };
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
    struct fieldpath_set *s = NULL;
    assert_int_equal(fieldpath_set_parse(bad[i], strlen(bad[i]), &s), -EINVAL);
    assert_null(s);
  }
}

static void test_set_ops(void **state) {
  _cleanup_fieldpath_set_ struct fieldpath_set *a =
      parse("{\"f:data\":{\"f:a\":{},\"f:b\":{}},\"f:x\":{}}");
  _cleanup_fieldpath_set_ struct fieldpath_set *b =
      parse("{\"f:data\":{\"f:b\":{},\"f:c\":{}},\"f:y\":{}}");
  _cleanup_fieldpath_set_ struct fieldpath_set *u = fieldpath_set_union(a, b);
  assert_serializes(u, "{\"f:data\":{\"f:a\":{},\"f:b\":{},\"f:c\":{}},\"f:x\":{},\"f:y\":{}}");
  _cleanup_fieldpath_set_ struct fieldpath_set *i = fieldpath_set_intersection(a, b);
  assert_serializes(i, "{\"f:data\":{\"f:b\":{}}}");
  _cleanup_fieldpath_set_ struct fieldpath_set *d = fieldpath_set_difference(a, b);
  assert_serializes(d, "{\"f:data\":{\"f:a\":{}},\"f:x\":{}}");
  _cleanup_fieldpath_set_ struct fieldpath_set *none = fieldpath_set_difference(a, a);
  assert_true(fieldpath_set_empty(none));
  assert_serializes(none, "{}");
  assert_false(fieldpath_set_empty(a));
  assert_true(fieldpath_set_equal(u, u));
  assert_false(fieldpath_set_equal(a, b));

  /* a member in b removes only that member with difference, the subtree with the
   * recursive one */
  _cleanup_fieldpath_set_ struct fieldpath_set *m = parse("{\"f:data\":{}}");
  _cleanup_fieldpath_set_ struct fieldpath_set *d2 = fieldpath_set_difference(a, m);
  assert_serializes(d2, "{\"f:data\":{\"f:a\":{},\"f:b\":{}},\"f:x\":{}}");
  _cleanup_fieldpath_set_ struct fieldpath_set *d3 = fieldpath_set_recursive_difference(a, m);
  assert_serializes(d3, "{\"f:x\":{}}");

  struct fieldpath_pe p[2] = {fieldpath_pe_field("data"), fieldpath_pe_field("a")};
  assert_true(fieldpath_set_has(a, p, 2));
  p[1] = fieldpath_pe_field("zz");
  assert_false(fieldpath_set_has(a, p, 2));
  fieldpath_set_insert(a, p, 2);
  assert_true(fieldpath_set_has(a, p, 2));
}

static void collect(const struct fieldpath_pe *pes, size_t n, void *userdata) {
  char **acc = userdata;
  _cleanup_free_ char *p = fieldpath_path_string(pes, n);
  char *next = xasprintf("%s%s;", *acc ? *acc : "", p);
  free(*acc);
  *acc = next;
}

static void test_iterate_and_strings(void **state) {
  _cleanup_fieldpath_set_ struct fieldpath_set *s =
      parse("{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"nginx\\\"}\":{\".\":{},"
            "\"f:image\":{}}},\"f:finalizers\":{\"v:\\\"x\\\"\":{}},\"f:list\":{\"i:0\":{}}},"
            "\"f:a\":{}}");
  _cleanup_free_ char *acc = NULL;
  fieldpath_set_iterate(s, collect, &acc);
  assert_string_equal(acc, ".a;.spec.containers[name=\"nginx\"];"
                           ".spec.containers[name=\"nginx\"].image;.spec.finalizers[=\"x\"];"
                           ".spec.list[0];");
}

static const char *schema_text = "package test.v1\n"
                                 "type Pod gvk=/v1/Pod\n"
                                 "  apiVersion string\n"
                                 "  kind string\n"
                                 "  metadata ObjectMeta\n"
                                 "  spec PodSpec\n"
                                 "type ObjectMeta\n"
                                 "  name string\n"
                                 "  labels map[string]\n"
                                 "  finalizers []string list=set\n"
                                 "type PodSpec\n"
                                 "  containers []Container required merge=name keys=name\n"
                                 "  selector map[string] map=atomic\n"
                                 "  args []string\n"
                                 "  extra any\n"
                                 "type Container\n"
                                 "  name string required\n"
                                 "  image string\n"
                                 "  ports []ContainerPort keys=containerPort,protocol\n"
                                 "  resources Resources\n"
                                 "type ContainerPort\n"
                                 "  containerPort int32\n"
                                 "  protocol string default=\"TCP\"\n"
                                 "type Resources\n"
                                 "  limits map[quantity]\n";

static int setup(void **state) {
  struct schema_set *set = NULL;
  _cleanup_free_ char *err = NULL;
  if (schema_set_parse(schema_text, &set, &err) < 0) {
    fprintf(stderr, "schema: %s\n", err);
    return -1;
  }
  *state = set;
  return 0;
}

static int teardown(void **state) {
  schema_set_free(*state);
  return 0;
}

static void test_object_field_set(void **state) {
  const struct schema_type *pod = schema_find(*state, "Pod");
  assert_non_null(pod);
  struct fieldpath_type t;
  fieldpath_type_of_struct(pod, &t);
  _cleanup_json_ json_t *obj = json_loads(
      "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"labels\":{\"app\":"
      "\"x\"},\"finalizers\":[\"a\",\"b\"]},\"spec\":{\"containers\":[{\"name\":\"nginx\","
      "\"image\":\"nginx\",\"ports\":[{\"containerPort\":80}],\"resources\":{}}],"
      "\"selector\":{\"a\":\"b\"},\"args\":[\"x\"],\"extra\":{\"k\":{\"z\":1}}}}",
      0, NULL);
  assert_non_null(obj);
  struct fieldpath_set *s = NULL;
  char *err = NULL;
  assert_int_equal(fieldpath_from_object(&t, obj, false, &s, &err), 0);
  assert_serializes(
      s, "{\"f:apiVersion\":{},\"f:kind\":{},\"f:metadata\":{\"f:finalizers\":{\"v:\\\"a\\\"\":"
         "{},\"v:\\\"b\\\"\":{}},\"f:labels\":{\"f:app\":{}},\"f:name\":{}},\"f:spec\":{\"f:"
         "args\":{},\"f:containers\":{\"k:{\\\"name\\\":\\\"nginx\\\"}\":{\".\":{},\"f:image\":"
         "{},\"f:name\":{},\"f:ports\":{\"k:{\\\"containerPort\\\":80,\\\"protocol\\\":"
         "\\\"TCP\\\"}\":{\".\":{},\"f:containerPort\":{}}},\"f:resources\":{}}},\"f:extra\":{"
         "\"f:k\":{\".\":{},\"f:z\":{}}},\"f:selector\":{}}}");
  fieldpath_set_free(s);

  /* duplicates and missing keys are refused */
  _cleanup_json_ json_t *dup =
      json_loads("{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"a\"}]}}", 0, NULL);
  assert_int_equal(fieldpath_from_object(&t, dup, false, &s, &err), -EINVAL);
  assert_string_equal(err, ".spec.containers: duplicate entries for key [name=\"a\"]");
  free(err);
  assert_int_equal(fieldpath_from_object(&t, dup, true, &s, &err), 0);
  fieldpath_set_free(s);
  _cleanup_json_ json_t *nokey =
      json_loads("{\"spec\":{\"containers\":[{\"image\":\"a\"}]}}", 0, NULL);
  assert_int_equal(fieldpath_from_object(&t, nokey, false, &s, &err), -EINVAL);
  assert_string_equal(err, ".spec.containers: element 0: associative list with keys has an "
                           "element that omits key field \"name\" (and doesn't have default "
                           "value)");
  free(err);
}

static void test_named_members(void **state) {
  const struct schema_type *pod = schema_find(*state, "Pod");
  struct fieldpath_type t;
  fieldpath_type_of_struct(pod, &t);
  _cleanup_fieldpath_set_ struct fieldpath_set *s =
      parse("{\"f:metadata\":{\"f:labels\":{\"f:app\":{}}},\"f:spec\":{\"f:containers\":{\"k:{"
            "\\\"name\\\":\\\"a\\\"}\":{\"f:resources\":{\"f:limits\":{\"f:cpu\":{}}}}}}}");
  _cleanup_fieldpath_set_ struct fieldpath_set *n = fieldpath_set_named_members(s, &t);
  assert_serializes(n, "{\"f:metadata\":{\".\":{},\"f:labels\":{\".\":{},\"f:app\":{}}},"
                       "\"f:spec\":{\".\":{},\"f:containers\":{\".\":{},\"k:{\\\"name\\\":"
                       "\\\"a\\\"}\":{\"f:resources\":{\".\":{},\"f:limits\":{\".\":{},\"f:cpu\":"
                       "{}}}}}}}");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip_kube_sample),
      cmocka_unit_test(test_sort_order),
      cmocka_unit_test(test_self_marker),
      cmocka_unit_test(test_escaping),
      cmocka_unit_test(test_parse_errors),
      cmocka_unit_test(test_set_ops),
      cmocka_unit_test(test_iterate_and_strings),
      cmocka_unit_test_setup_teardown(test_object_field_set, setup, teardown),
      cmocka_unit_test_setup_teardown(test_named_members, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
