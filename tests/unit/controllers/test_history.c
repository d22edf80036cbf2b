#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "controllers/history.h"
#include "lib/macro.h"

static json_t *parse(const char *s) {
  json_error_t e;
  json_t *v = json_loads(s, 0, &e);
  assert_non_null(v);
  return v;
}

static const char *const WEB_SET =
    "{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"uid\":\"u-1\","
    "\"annotations\":{\"kubernetes.io/change-cause\":\"v1\"}},"
    "\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
    "\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.25\"}]}}}}";

static void test_patch_and_canonical(void **state) {
  (void)state;
  _cleanup_json_ json_t *set = parse(WEB_SET);
  _cleanup_json_ json_t *patch = history_patch(set);
  assert_non_null(patch);
  _cleanup_free_ char *bytes = history_canonical(patch);
  assert_string_equal(bytes, "{\"spec\":{\"template\":{\"$patch\":\"replace\",\"metadata\":{"
                             "\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{"
                             "\"image\":\"nginx:1.25\",\"name\":\"nginx\"}]}}}}");
  /* the owner is not changed */
  assert_null(json_path(set, "spec.template.$patch"));

  _cleanup_json_ json_t *html = parse("{\"b\":\"<a&b>\",\"a\":1}");
  _cleanup_free_ char *h = history_canonical(html);
  assert_string_equal(h, "{\"a\":1,\"b\":\"\\u003ca\\u0026b\\u003e\"}");

  _cleanup_json_ json_t *none = parse("{\"spec\":{}}");
  assert_null(history_patch(none));
}

static void test_hashes(void **state) {
  (void)state;
  _cleanup_free_ char *e = history_safe_encode("0123456789");
  assert_string_equal(e, "456789bcdf");

  _cleanup_json_ json_t *set = parse(WEB_SET);
  _cleanup_json_ json_t *patch = history_patch(set);
  _cleanup_free_ char *h0 = history_hash(patch, NULL);
  assert_string_equal(h0, "64d694f6b4");
  int64_t zero = 0;
  _cleanup_free_ char *h1 = history_hash(patch, &zero);
  assert_string_equal(h1, "db45f7d56");

  json_t *tmpl = json_path(set, "spec.template");
  _cleanup_free_ char *t0 = history_template_hash(tmpl, NULL);
  assert_string_equal(t0, "5b9cc8f5fc");
  int64_t one = 1;
  _cleanup_free_ char *t1 = history_template_hash(tmpl, &one);
  assert_string_equal(t1, "66d9f499dd");
}

static void test_new_revision(void **state) {
  (void)state;
  _cleanup_json_ json_t *set = parse(WEB_SET);
  _cleanup_json_ json_t *patch = history_patch(set);
  _cleanup_json_ json_t *rev = history_new_revision(set, "apps/v1", "StatefulSet", "abc", patch, 3);
  assert_string_equal(json_path_str(rev, "metadata.name"), "web-abc");
  assert_string_equal(json_path_str(rev, "metadata.namespace"), "default");
  assert_string_equal(json_path_str(rev, "kind"), "ControllerRevision");
  assert_string_equal(json_path_str(rev, "metadata.labels.app"), "web");
  assert_string_equal(json_path_str(rev, "metadata.labels.controller-revision-hash"), "abc");
  assert_string_equal(json_string_value(json_object_get(json_path(rev, "metadata.annotations"),
                                                        "kubernetes.io/change-cause")),
                      "v1");
  assert_int_equal(json_integer_value(json_object_get(rev, "revision")), 3);
  json_t *ref = json_array_get(json_path(rev, "metadata.ownerReferences"), 0);
  assert_string_equal(json_string_value(json_object_get(ref, "kind")), "StatefulSet");
  assert_string_equal(json_string_value(json_object_get(ref, "uid")), "u-1");
  assert_true(json_is_true(json_object_get(ref, "controller")));
  assert_true(json_is_true(json_object_get(ref, "blockOwnerDeletion")));
  assert_true(json_equal(json_object_get(rev, "data"), patch));

  /* apply gives back the template without the directive */
  _cleanup_json_ json_t *other = parse("{\"metadata\":{\"name\":\"web\"},\"spec\":{\"replicas\":3,"
                                       "\"template\":{\"metadata\":{}}}}");
  _cleanup_json_ json_t *applied = history_apply(other, rev);
  assert_non_null(applied);
  assert_string_equal(json_path_str(applied, "spec.template.metadata.labels.app"), "web");
  assert_null(json_path(applied, "spec.template.$patch"));
  assert_int_equal(json_integer_value(json_path(applied, "spec.replicas")), 3);
  assert_true(history_equal_data(rev, rev));

  /* long owner names are cut at 223 bytes */
  char longname[300];
  memset(longname, 'a', sizeof(longname) - 1);
  longname[sizeof(longname) - 1] = '\0';
  json_object_set_new(json_path(set, "metadata"), "name", json_string(longname));
  _cleanup_json_ json_t *rl = history_new_revision(set, "apps/v1", "DaemonSet", "h", patch, 1);
  assert_int_equal(strlen(json_path_str(rl, "metadata.name")), 225);
}

static json_t *rev(const char *name, int n, const char *ts) {
  return json_pack("{s:{s:s, s:s}, s:i}", "metadata", "name", name, "creationTimestamp", ts,
                   "revision", n);
}

static void test_sort_and_prune(void **state) {
  (void)state;
  _cleanup_json_ json_t *a = json_array();
  json_array_append_new(a, rev("r3", 3, "2024-01-01T00:00:03Z"));
  json_array_append_new(a, rev("r1b", 1, "2024-01-01T00:00:02Z"));
  json_array_append_new(a, rev("r1a", 1, "2024-01-01T00:00:02Z"));
  json_array_append_new(a, rev("r2", 2, "2024-01-01T00:00:01Z"));
  json_array_append_new(a, rev("r0", 1, "2024-01-01T00:00:00Z"));
  history_sort(a);
  static const char *const order[] = {"r0", "r1a", "r1b", "r2", "r3"};
  for (size_t i = 0; i < ARRAY_SIZE(order); i++)
    assert_string_equal(json_path_str(json_array_get(a, i), "metadata.name"), order[i]);
  assert_int_equal(history_next_revision(a), 4);
  _cleanup_json_ json_t *empty = json_array();
  assert_int_equal(history_next_revision(empty), 1);

  const char *live[] = {"r3", NULL, "r1a"};
  _cleanup_json_ json_t *p = history_to_prune(a, live, ARRAY_SIZE(live), 1);
  /* history is r0, r1b, r2: two over the limit, oldest first */
  assert_int_equal(json_array_size(p), 2);
  assert_string_equal(json_path_str(json_array_get(p, 0), "metadata.name"), "r0");
  assert_string_equal(json_path_str(json_array_get(p, 1), "metadata.name"), "r1b");
  _cleanup_json_ json_t *q = history_to_prune(a, live, ARRAY_SIZE(live), 10);
  assert_int_equal(json_array_size(q), 0);
  _cleanup_json_ json_t *r = history_to_prune(a, live, ARRAY_SIZE(live), 0);
  assert_int_equal(json_array_size(r), 3);
  _cleanup_json_ json_t *s = history_to_prune(a, live, ARRAY_SIZE(live), -1);
  assert_int_equal(json_array_size(s), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_patch_and_canonical),
      cmocka_unit_test(test_hashes),
      cmocka_unit_test(test_new_revision),
      cmocka_unit_test(test_sort_and_prune),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
