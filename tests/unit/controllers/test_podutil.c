#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "controllers/podutil.h"
#include "lib/macro.h"

/* A pod: name, node ("" none), phase, ready (with lastTransitionTime `ready_at` or NULL),
 * creation time, restarts. */
static json_t *pod(const char *name, const char *node, const char *phase, bool ready,
                   const char *ready_at, const char *created, int restarts) {
  json_t *p = json_pack("{s:{s:s,s:s,s:s},s:{},s:{s:s,s:[],s:[{s:s,s:i}]}}", "metadata", "name",
                        name, "uid", name, "creationTimestamp", created, "spec", "status",
                        "phase", phase, "conditions", "containerStatuses", "name", "c",
                        "restartCount", restarts);
  if (*node)
    json_object_set_new(json_object_get(p, "spec"), "nodeName", json_string(node));
  json_t *cond = json_pack("{s:s,s:s}", "type", "Ready", "status", ready ? "True" : "False");
  if (ready_at)
    json_object_set_new(cond, "lastTransitionTime", json_string(ready_at));
  json_array_append_new(json_path(p, "status.conditions"), cond);
  return p;
}

static void test_ready_available_active(void **state) {
  _cleanup_json_ json_t *p = pod("a", "n1", "Running", true, "2024-01-01T00:00:00Z",
                                 "2024-01-01T00:00:00Z", 0);
  assert_true(podutil_is_ready(p));
  struct timespec now = {.tv_sec = 1704067200 + 10}; /* 10 s after turning ready */
  assert_true(podutil_is_available(p, 0, &now));
  assert_true(podutil_is_available(p, 9, &now));
  /* kube needs strictly more than minReadySeconds. */
  assert_false(podutil_is_available(p, 10, &now));
  assert_false(podutil_is_available(p, 11, &now));
  assert_true(podutil_is_active(p));

  _cleanup_json_ json_t *q = pod("b", "", "Pending", false, NULL, "2024-01-01T00:00:00Z", 0);
  assert_false(podutil_is_ready(q));
  assert_false(podutil_is_available(q, 0, &now));

  _cleanup_json_ json_t *done = pod("c", "n1", "Succeeded", false, NULL, "2024-01-01T00:00:00Z", 0);
  assert_false(podutil_is_active(done));
  json_object_set_new(json_object_get(p, "metadata"), "deletionTimestamp",
                      json_string("2024-01-01T00:01:00Z"));
  assert_false(podutil_is_active(p));
}

static void test_active_order(void **state) {
  json_t *v[] = {
      pod("running-ready-old", "n1", "Running", true, "2024-01-01T00:00:00Z",
          "2024-01-01T00:00:00Z", 0),
      pod("running-ready-new", "n1", "Running", true, "2024-01-01T01:00:00Z",
          "2024-01-01T00:00:00Z", 0),
      pod("running-notready", "n1", "Running", false, NULL, "2024-01-01T00:00:00Z", 0),
      pod("unknown", "n1", "Unknown", false, NULL, "2024-01-01T00:00:00Z", 0),
      pod("pending-assigned", "n1", "Pending", false, NULL, "2024-01-01T00:00:00Z", 0),
      pod("unassigned", "", "Running", true, "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", 0),
      pod("running-notready-restarts", "n1", "Running", false, NULL, "2024-01-01T00:00:00Z", 5),
      pod("running-notready-newer", "n1", "Running", false, NULL, "2024-01-02T00:00:00Z", 0),
  };
  size_t n = ARRAY_SIZE(v);
  podutil_sort_active(v, n);
  const char *want[] = {"unassigned",
                        "pending-assigned",
                        "unknown",
                        "running-notready-restarts",
                        "running-notready-newer",
                        "running-notready",
                        "running-ready-new",
                        "running-ready-old"};
  for (size_t i = 0; i < n; i++)
    assert_string_equal(json_path_str(v[i], "metadata.name"), want[i]);
  for (size_t i = 0; i < n; i++)
    json_decref(v[i]);
}

static void test_ranked_order(void **state) {
  /* now = 2024-01-01T01:00:00Z */
  struct timespec now = {.tv_sec = 1704070800};
  json_t *cheap = pod("cheap", "n1", "Running", true, "2024-01-01T00:00:00Z",
                      "2024-01-01T00:00:00Z", 0);
  json_object_set_new(json_object_get(cheap, "metadata"), "annotations",
                      json_pack("{s:s}", "controller.kubernetes.io/pod-deletion-cost", "-5"));
  struct podutil_ranked v[] = {
      {pod("alone", "n2", "Running", true, "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", 0), 1},
      {pod("crowded", "n1", "Running", true, "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", 0),
       3},
      {cheap, 1},
      /* Ready 30 min vs 60 min: different log2 buckets, the younger goes first. */
      {pod("young", "n3", "Running", true, "2024-01-01T00:30:00Z", "2024-01-01T00:00:00Z", 0), 1},
      {pod("notready", "n3", "Running", false, NULL, "2024-01-01T00:00:00Z", 0), 1},
  };
  podutil_sort_ranked(v, ARRAY_SIZE(v), &now);
  const char *want[] = {"notready", "cheap", "crowded", "young", "alone"};
  for (size_t i = 0; i < ARRAY_SIZE(v); i++)
    assert_string_equal(json_path_str(v[i].pod, "metadata.name"), want[i]);

  /* Ready times in the same log2 bucket tie on time and fall back to the uid. */
  struct podutil_ranked w[] = {
      {pod("b", "n1", "Running", true, "2024-01-01T00:00:01Z", "2024-01-01T00:00:00Z", 0), 0},
      {pod("a", "n1", "Running", true, "2024-01-01T00:00:02Z", "2024-01-01T00:00:00Z", 0), 0},
  };
  podutil_sort_ranked(w, 2, &now);
  assert_string_equal(json_path_str(w[0].pod, "metadata.name"), "a");
  /* Without a clock the later ready time goes first. */
  podutil_sort_ranked(w, 2, NULL);
  assert_string_equal(json_path_str(w[0].pod, "metadata.name"), "a");
  assert_true(podutil_compare_ranked(&w[1], &w[0], NULL) > 0);
  for (size_t i = 0; i < ARRAY_SIZE(v); i++)
    json_decref(v[i].pod);
  for (size_t i = 0; i < ARRAY_SIZE(w); i++)
    json_decref(w[i].pod);
}

static void test_deletion_cost(void **state) {
  static const struct {
    const char *v;
    int want;
  } cases[] = {{"10", 10},  {"-3", -3},        {"0", 0},          {"+1", 0},
               {"007", 0},  {"2147483647", 2147483647}, {"2147483648", 0}, {"x", 0},
               {"", 0},     {"-2147483648", -2147483647 - 1}};
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    _cleanup_json_ json_t *p = json_pack(
        "{s:{s:{s:s}}}", "metadata", "annotations", "controller.kubernetes.io/pod-deletion-cost",
        cases[i].v);
    assert_int_equal(podutil_deletion_cost(p), cases[i].want);
  }
  _cleanup_json_ json_t *none = json_object();
  assert_int_equal(podutil_deletion_cost(none), 0);
}

static void test_from_template(void **state) {
  _cleanup_json_ json_t *owner = json_pack(
      "{s:{s:s,s:s,s:s}}", "metadata", "name", "kubia", "namespace", "ns1", "uid", "u-1");
  _cleanup_json_ json_t *tmpl = json_pack(
      "{s:{s:{s:s},s:{s:s},s:[s]},s:{s:[{s:s,s:s}]}}", "metadata", "labels", "app", "kubia",
      "annotations", "a", "b", "finalizers", "f/x", "spec", "containers", "name", "c", "image",
      "img");
  _cleanup_json_ json_t *ref = podutil_controller_ref(owner, "v1", "ReplicationController");
  _cleanup_json_ json_t *p = podutil_from_template(tmpl, owner, ref);
  assert_non_null(p);
  assert_string_equal(json_path_str(p, "metadata.generateName"), "kubia-");
  assert_string_equal(json_path_str(p, "metadata.namespace"), "ns1");
  assert_string_equal(json_path_str(p, "metadata.labels.app"), "kubia");
  assert_string_equal(json_path_str(p, "metadata.annotations.a"), "b");
  assert_int_equal(json_array_size(json_path(p, "metadata.finalizers")), 1);
  json_t *r0 = json_array_get(json_path(p, "metadata.ownerReferences"), 0);
  assert_string_equal(json_string_value(json_object_get(r0, "kind")), "ReplicationController");
  assert_string_equal(json_string_value(json_object_get(r0, "uid")), "u-1");
  assert_true(json_is_true(json_object_get(r0, "controller")));
  assert_true(json_is_true(json_object_get(r0, "blockOwnerDeletion")));
  assert_string_equal(json_string_value(json_object_get(
                          json_array_get(json_path(p, "spec.containers"), 0), "image")),
                      "img");
  /* The template is copied, not shared. */
  assert_ptr_not_equal(json_object_get(p, "spec"), json_object_get(tmpl, "spec"));

  /* No labels: kube refuses to create. */
  _cleanup_json_ json_t *bare = json_pack("{s:{},s:{}}", "metadata", "spec");
  assert_null(podutil_from_template(bare, owner, ref));

  /* A name whose "<name>-" prefix would be invalid is used bare. */
  _cleanup_json_ json_t *odd = json_pack("{s:{s:s}}", "metadata", "name", "Ab");
  _cleanup_json_ json_t *q = podutil_from_template(tmpl, odd, NULL);
  assert_string_equal(json_path_str(q, "metadata.generateName"), "Ab");
  assert_null(json_path(q, "metadata.ownerReferences"));
}

static void test_indexes(void **state) {
  _cleanup_json_ json_t *owned = json_pack(
      "{s:{s:s,s:[{s:s,s:b},{s:s,s:b}]}}", "metadata", "namespace", "ns", "ownerReferences",
      "uid", "other", "controller", 0, "uid", "boss", "controller", 1);
  _cleanup_json_ json_t *orphan = json_pack(
      "{s:{s:s,s:[{s:s}]}}", "metadata", "namespace", "ns", "ownerReferences", "uid", "x");
  const char *vals[4];
  assert_int_equal(podutil_index_controller_uid(owned, vals, 4), 1);
  assert_string_equal(vals[0], "boss");
  assert_int_equal(podutil_index_orphans(owned, vals, 4), 0);
  assert_int_equal(podutil_index_controller_uid(orphan, vals, 4), 0);
  assert_int_equal(podutil_index_orphans(orphan, vals, 4), 1);
  assert_string_equal(vals[0], "ns");
}

struct calls {
  atomic_int n;
  int fail_from; /* calls with i >= fail_from fail */
};

static int count_call(void *ud, int i) {
  struct calls *c = ud;
  atomic_fetch_add(&c->n, 1);
  return i >= c->fail_from ? -EPERM : 0;
}

static void test_slow_start(void **state) {
  struct calls c = {.fail_from = 1000};
  int err = 1;
  assert_int_equal(podutil_slow_start_batch(10, 1, count_call, &c, &err), 10);
  assert_int_equal(err, 0);
  assert_int_equal(atomic_load(&c.n), 10);

  /* Batches 1, 2, 4, 8: a failure at call 5 stops after the batch [3, 7), which runs
   * whole: 3 + 2 = 5 successes, 7 calls. */
  struct calls d = {.fail_from = 5};
  assert_int_equal(podutil_slow_start_batch(100, 1, count_call, &d, &err), 5);
  assert_int_equal(err, -EPERM);
  assert_int_equal(atomic_load(&d.n), 7);

  struct calls e = {.fail_from = 0};
  assert_int_equal(podutil_slow_start_batch(0, 1, count_call, &e, &err), 0);
  assert_int_equal(err, 0);

  struct calls f = {.fail_from = 40};
  assert_int_equal(podutil_parallel(50, count_call, &f), 40);
  assert_int_equal(atomic_load(&f.n), 50);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ready_available_active),
      cmocka_unit_test(test_active_order),
      cmocka_unit_test(test_ranked_order),
      cmocka_unit_test(test_deletion_cost),
      cmocka_unit_test(test_from_template),
      cmocka_unit_test(test_indexes),
      cmocka_unit_test(test_slow_start),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
