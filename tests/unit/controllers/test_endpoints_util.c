/* Unit tests of the endpoints rules: pod membership, port resolution, subset repacking
 * and truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/endpoints_util.h"

static json_t *parse(const char *text) {
  json_error_t e;
  json_t *v = json_loads(text, 0, &e);
  assert_non_null(v);
  return v;
}

static void assert_json(const json_t *actual, const char *expected) {
  json_t *want = parse(expected);
  char *got = json_dumps(actual, JSON_SORT_KEYS | JSON_COMPACT);
  char *exp = json_dumps(want, JSON_SORT_KEYS | JSON_COMPACT);
  assert_string_equal(got, exp);
  free(got);
  free(exp);
  json_decref(want);
}

static const char *pod_json =
    "{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"labels\":{\"app\":\"web\",\"x\":\"1\"}},"
    "\"spec\":{\"hostname\":\"h\",\"subdomain\":\"svc\",\"containers\":[{\"name\":\"c\",\"ports\":"
    "[{\"name\":\"http\",\"containerPort\":8080},{\"name\":\"dns\",\"containerPort\":53,"
    "\"protocol\":\"UDP\"}]}]},"
    "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.1\",\"podIPs\":[{\"ip\":\"fd00::1\"},"
    "{\"ip\":\"10.0.0.1\"}],\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}";

static void test_pod_membership(void **state) {
  (void)state;
  json_t *pod = parse(pod_json);
  assert_true(ep_pod_ready(pod));
  assert_true(ep_pod_in_endpoints(pod, false));
  assert_string_equal(ep_pod_ipv4(pod), "10.0.0.1");

  json_object_set_new(json_object_get(pod, "metadata"), "deletionTimestamp",
                      json_string("2024-01-01T00:00:00Z"));
  assert_false(ep_pod_in_endpoints(pod, false));
  assert_true(ep_pod_in_endpoints(pod, true));
  json_object_set_new(json_object_get(pod, "status"), "phase", json_string("Succeeded"));
  assert_false(ep_pod_in_endpoints(pod, true));
  json_decref(pod);

  json_t *noip = parse("{\"status\":{\"phase\":\"Pending\"}}");
  assert_false(ep_pod_in_endpoints(noip, true));
  assert_null(ep_pod_ipv4(noip));
  assert_false(ep_pod_ready(noip));
  json_decref(noip);
}

static void test_service_selects(void **state) {
  (void)state;
  json_t *pod = parse(pod_json);
  json_t *svc = parse("{\"metadata\":{\"name\":\"svc\",\"namespace\":\"ns\"},"
                      "\"spec\":{\"selector\":{\"app\":\"web\"},\"clusterIP\":\"None\"}}");
  assert_true(ep_service_selects(svc, pod));
  assert_true(ep_service_headless(svc));
  assert_true(ep_should_set_hostname(pod, svc));
  json_object_set_new(json_path(svc, "spec.selector"), "app", json_string("db"));
  assert_false(ep_service_selects(svc, pod));
  json_object_set_new(json_object_get(svc, "spec"), "selector", json_object());
  assert_false(ep_service_has_selector(svc));
  assert_false(ep_service_selects(svc, pod));
  json_t *other = parse("{\"metadata\":{\"name\":\"svc\",\"namespace\":\"other\"},"
                        "\"spec\":{\"selector\":{\"app\":\"web\"}}}");
  assert_false(ep_service_selects(other, pod));
  assert_false(ep_should_set_hostname(pod, other));
  json_decref(other);
  json_decref(svc);
  json_decref(pod);
}

static void test_find_port(void **state) {
  (void)state;
  json_t *pod = parse(pod_json);
  int port = 0;
  json_t *sp = parse("{\"port\":80,\"targetPort\":\"http\"}");
  assert_int_equal(ep_find_port(pod, sp, &port), 0);
  assert_int_equal(port, 8080);
  json_decref(sp);
  /* Named ports match on protocol too. */
  sp = parse("{\"port\":53,\"targetPort\":\"dns\",\"protocol\":\"TCP\"}");
  assert_int_equal(ep_find_port(pod, sp, &port), -ENOENT);
  json_decref(sp);
  sp = parse("{\"port\":53,\"targetPort\":\"dns\",\"protocol\":\"UDP\"}");
  assert_int_equal(ep_find_port(pod, sp, &port), 0);
  assert_int_equal(port, 53);
  json_decref(sp);
  sp = parse("{\"port\":80,\"targetPort\":9376}");
  assert_int_equal(ep_find_port(pod, sp, &port), 0);
  assert_int_equal(port, 9376);
  json_decref(sp);
  sp = parse("{\"port\":81}");
  assert_int_equal(ep_find_port(pod, sp, &port), 0);
  assert_int_equal(port, 81);
  json_decref(sp);
  json_decref(pod);
}

static void test_repack_groups_by_ports(void **state) {
  (void)state;
  /* b and a offer ports p1 and p2, c only p1; a is also listed not-ready for p1 (ready
   * wins); subsets sort by first address, then first port. */
  json_t *in = parse(
      "[{\"addresses\":[{\"ip\":\"10.0.0.2\"}],\"ports\":[{\"name\":\"p1\",\"port\":1}]},"
      "{\"addresses\":[{\"ip\":\"10.0.0.1\"}],\"ports\":[{\"name\":\"p1\",\"port\":1}]},"
      "{\"notReadyAddresses\":[{\"ip\":\"10.0.0.1\"}],\"ports\":[{\"name\":\"p1\",\"port\":1}]},"
      "{\"addresses\":[{\"ip\":\"10.0.0.2\"}],\"ports\":[{\"name\":\"p2\",\"port\":2}]},"
      "{\"addresses\":[{\"ip\":\"10.0.0.1\"}],\"ports\":[{\"name\":\"p2\",\"port\":2}]},"
      "{\"addresses\":[{\"ip\":\"10.0.0.3\"}],\"ports\":[{\"name\":\"p1\",\"port\":1}]}]");
  json_t *out = ep_repack_subsets(in);
  assert_json(out,
              "[{\"addresses\":[{\"ip\":\"10.0.0.1\"},{\"ip\":\"10.0.0.2\"},{\"ip\":\"10.0.0.3\"}],"
              "\"ports\":[{\"name\":\"p1\",\"port\":1}]},"
              "{\"addresses\":[{\"ip\":\"10.0.0.1\"},{\"ip\":\"10.0.0.2\"}],"
              "\"ports\":[{\"name\":\"p2\",\"port\":2}]}]");
  json_decref(out);
  json_decref(in);
}

static void test_repack_ready_and_portless(void **state) {
  (void)state;
  json_t *in = parse("[{\"addresses\":[{\"ip\":\"10.0.0.9\"}]},"
                     "{\"notReadyAddresses\":[{\"ip\":\"10.0.0.10\"}]}]");
  json_t *out = ep_repack_subsets(in);
  assert_json(out, "[{\"addresses\":[{\"ip\":\"10.0.0.9\"}],"
                   "\"notReadyAddresses\":[{\"ip\":\"10.0.0.10\"}]}]");
  json_decref(out);
  json_decref(in);
  in = json_array();
  out = ep_repack_subsets(in);
  assert_int_equal(json_array_size(out), 0);
  json_decref(out);
  json_decref(in);
}

static void test_truncate(void **state) {
  (void)state;
  json_t *subsets = parse("[{\"addresses\":[{\"ip\":\"a\"},{\"ip\":\"b\"},{\"ip\":\"c\"}],"
                          "\"notReadyAddresses\":[{\"ip\":\"d\"}]},"
                          "{\"addresses\":[{\"ip\":\"e\"}],\"notReadyAddresses\":[{\"ip\":\"f\"}]}]");
  assert_false(ep_truncate_subsets(subsets, 6));
  /* 4 ready fit in 5: not-ready ones share the one place left. */
  assert_true(ep_truncate_subsets(subsets, 5));
  assert_json(subsets, "[{\"addresses\":[{\"ip\":\"a\"},{\"ip\":\"b\"},{\"ip\":\"c\"}],"
                       "\"notReadyAddresses\":[{\"ip\":\"d\"}]},{\"addresses\":[{\"ip\":\"e\"}]}]");
  /* Fewer places than ready addresses: ready ones are cut in proportion, not-ready
   * dropped. */
  assert_true(ep_truncate_subsets(subsets, 2));
  assert_json(subsets, "[{\"addresses\":[{\"ip\":\"a\"},{\"ip\":\"b\"}]},{}]");
  json_decref(subsets);
}

static void test_subsets_equal(void **state) {
  (void)state;
  json_t *a = parse("[{\"addresses\":[{\"ip\":\"1\",\"targetRef\":{\"uid\":\"u\","
                    "\"resourceVersion\":\"5\"}}]}]");
  json_t *b = parse("[{\"addresses\":[{\"ip\":\"1\",\"targetRef\":{\"uid\":\"u\"}}]}]");
  assert_true(ep_subsets_equal(a, b));
  json_t *empty = json_array();
  assert_false(ep_subsets_equal(a, empty));
  assert_true(ep_subsets_equal(empty, NULL));
  json_decref(empty);
  json_decref(a);
  json_decref(b);
}

static void test_pod_changes(void **state) {
  (void)state;
  json_t *old = parse(pod_json);
  json_t *pod = json_deep_copy(old);
  bool labels;
  assert_false(ep_pod_endpoints_changed(old, pod, &labels));
  assert_false(labels);
  json_object_set_new(json_path(pod, "metadata.labels"), "app", json_string("db"));
  assert_false(ep_pod_endpoints_changed(old, pod, &labels));
  assert_true(labels);
  json_object_set_new(json_object_get(pod, "status"), "podIP", json_string("10.0.0.2"));
  assert_true(ep_pod_endpoints_changed(old, pod, &labels));
  json_decref(pod);
  json_decref(old);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pod_membership),  cmocka_unit_test(test_service_selects),
      cmocka_unit_test(test_find_port),       cmocka_unit_test(test_repack_groups_by_ports),
      cmocka_unit_test(test_repack_ready_and_portless), cmocka_unit_test(test_truncate),
      cmocka_unit_test(test_subsets_equal),   cmocka_unit_test(test_pod_changes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
