#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "agent/podstatus.h"
#include "lib/macro.h"

#define T0 1700000000

static json_t *pod_of(const char *text) {
  json_error_t e;
  json_t *p = json_loads(text, 0, &e);
  if (!p)
    fail_msg("bad fixture: %s", e.text);
  return p;
}

static json_t *condition(json_t *status, const char *type) {
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(status, "conditions"), i, c) {
    if (streq(json_string_value(json_object_get(c, "type")), type))
      return c;
  }
  fail_msg("no condition %s", type);
  return NULL;
}

static void assert_cond(json_t *status, const char *type, const char *want_status,
                        const char *want_reason, const char *want_message) {
  json_t *c = condition(status, type);
  assert_string_equal(json_string_value(json_object_get(c, "status")), want_status);
  const char *reason = json_string_value(json_object_get(c, "reason"));
  const char *message = json_string_value(json_object_get(c, "message"));
  if (!streq_ptr(reason, want_reason))
    fail_msg("%s reason: got %s, want %s", type, reason ? reason : "(none)",
             want_reason ? want_reason : "(none)");
  if (!streq_ptr(message, want_message))
    fail_msg("%s message: got %s, want %s", type, message ? message : "(none)",
             want_message ? want_message : "(none)");
}

static const char *two_containers =
    "{\"spec\":{\"restartPolicy\":\"%s\",\"containers\":[{\"name\":\"a\",\"image\":\"nginx\"},"
    "{\"name\":\"b\",\"image\":\"registry.k8s.io/pause:3.9\"}]}}";

static json_t *pod_with_policy(const char *policy) {
  _cleanup_free_ char *t = xasprintf(two_containers, policy);
  return pod_of(t);
}

static void test_creating(void **state) {
  _cleanup_json_ json_t *pod = pod_with_policy("Always");
  struct podstatus_container cs[2] = {
      {.name = "a", .state = PODSTATUS_WAITING, .waiting_reason = "ContainerCreating"},
      {.name = "b", .state = PODSTATUS_WAITING, .waiting_reason = "ContainerCreating"},
  };
  struct podstatus_input in = {.pod = pod,
                               .containers = cs,
                               .n_containers = 2,
                               .host_ip = "10.240.0.2",
                               .start_time = T0,
                               .now = T0};
  _cleanup_json_ json_t *st = NULL;
  assert_int_equal(podstatus_compute(&in, &st), 0);
  assert_string_equal(json_string_value(json_object_get(st, "phase")), "Pending");
  assert_cond(st, "PodReadyToStartContainers", "False", NULL, NULL);
  assert_cond(st, "Initialized", "True", NULL, NULL);
  assert_cond(st, "ContainersReady", "False", "ContainersNotReady",
              "containers with unready status: [a b]");
  assert_cond(st, "Ready", "False", "ContainersNotReady", "containers with unready status: [a b]");
  assert_cond(st, "PodScheduled", "True", NULL, NULL);
  assert_string_equal(json_string_value(json_object_get(st, "hostIP")), "10.240.0.2");
  assert_null(json_object_get(st, "podIP"));
  assert_string_equal(json_string_value(json_object_get(st, "startTime")), "2023-11-14T22:13:20Z");
  json_t *a = json_array_get(json_object_get(st, "containerStatuses"), 0);
  assert_string_equal(json_string_value(json_path(a, "state.waiting.reason")), "ContainerCreating");
  assert_string_equal(json_string_value(json_object_get(a, "image")),
                      "docker.io/library/nginx:latest");
  json_t *b = json_array_get(json_object_get(st, "containerStatuses"), 1);
  assert_string_equal(json_string_value(json_object_get(b, "image")), "registry.k8s.io/pause:3.9");
  assert_string_equal(json_string_value(json_object_get(st, "qosClass")), "BestEffort");
}

static void test_running_ready_keeps_transition_time(void **state) {
  _cleanup_json_ json_t *pod = pod_with_policy("Always");
  struct podstatus_container cs[2] = {
      {.name = "a",
       .state = PODSTATUS_RUNNING,
       .running_since = T0,
       .ready = true,
       .started = true,
       .container_id = "hollow://1"},
      {.name = "b",
       .state = PODSTATUS_RUNNING,
       .running_since = T0,
       .ready = true,
       .started = true,
       .container_id = "hollow://2"},
  };
  struct podstatus_input in = {.pod = pod,
                               .containers = cs,
                               .n_containers = 2,
                               .sandbox_ready = true,
                               .pod_ip = "10.42.0.5",
                               .now = T0};
  json_t *st = NULL;
  assert_int_equal(podstatus_compute(&in, &st), 0);
  assert_string_equal(json_string_value(json_object_get(st, "phase")), "Running");
  assert_cond(st, "Ready", "True", NULL, NULL);
  assert_cond(st, "ContainersReady", "True", NULL, NULL);
  assert_string_equal(
      json_string_value(json_path(json_array_get(json_object_get(st, "podIPs"), 0), "ip")),
      "10.42.0.5");
  json_object_set_new(pod, "status", st);

  /* A later computation of the same state writes nothing new. */
  in.now = T0 + 100;
  _cleanup_json_ json_t *again = NULL;
  assert_int_equal(podstatus_compute(&in, &again), 0);
  assert_false(podstatus_changed(st, again));
  assert_string_equal(
      json_string_value(json_object_get(condition(again, "Ready"), "lastTransitionTime")),
      "2023-11-14T22:13:20Z");

  /* One container turning unready changes Ready's transition time. */
  cs[1].ready = false;
  _cleanup_json_ json_t *unready = NULL;
  assert_int_equal(podstatus_compute(&in, &unready), 0);
  assert_true(podstatus_changed(st, unready));
  assert_cond(unready, "Ready", "False", "ContainersNotReady",
              "containers with unready status: [b]");
  assert_string_equal(
      json_string_value(json_object_get(condition(unready, "Ready"), "lastTransitionTime")),
      "2023-11-14T22:15:00Z");
  assert_cond(unready, "PodScheduled", "True", NULL, NULL);
}

static void test_phases(void **state) {
  struct {
    const char *policy;
    int code_a, code_b;
    const char *phase;
  } cases[] = {
      {"Never", 0, 0, "Succeeded"},   {"Never", 0, 3, "Failed"},   {"OnFailure", 0, 0, "Succeeded"},
      {"OnFailure", 1, 0, "Running"}, {"Always", 0, 0, "Running"}, {"Always", 2, 2, "Running"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    _cleanup_json_ json_t *pod = pod_with_policy(cases[i].policy);
    struct podstatus_container cs[2] = {
        {.name = "a", .state = PODSTATUS_TERMINATED, .terminated = {.exit_code = cases[i].code_a}},
        {.name = "b", .state = PODSTATUS_TERMINATED, .terminated = {.exit_code = cases[i].code_b}},
    };
    struct podstatus_input in = {.pod = pod, .containers = cs, .n_containers = 2, .now = T0};
    const char *phase = podstatus_phase(&in);
    if (!streq(phase, cases[i].phase))
      fail_msg("%s %d/%d: got %s, want %s", cases[i].policy, cases[i].code_a, cases[i].code_b,
               phase, cases[i].phase);
  }
  /* The pod is terminal: its containers never restart, so the phase is final. */
  _cleanup_json_ json_t *pod = pod_with_policy("Always");
  struct podstatus_container cs[2] = {
      {.name = "a", .state = PODSTATUS_TERMINATED, .terminated = {.exit_code = 0}},
      {.name = "b", .state = PODSTATUS_TERMINATED, .terminated = {.exit_code = 137}},
  };
  struct podstatus_input in = {.pod = pod, .containers = cs, .n_containers = 2, .terminal = true};
  assert_string_equal(podstatus_phase(&in), "Failed");
  /* A container missing from the runtime's report keeps the pod Pending. */
  in.n_containers = 1;
  in.terminal = false;
  cs[0].state = PODSTATUS_RUNNING;
  assert_string_equal(podstatus_phase(&in), "Pending");
}

static void test_completed_and_failed_conditions(void **state) {
  _cleanup_json_ json_t *pod = pod_with_policy("Never");
  struct podstatus_container cs[2] = {
      {.name = "a", .state = PODSTATUS_TERMINATED, .terminated = {0, NULL, T0, T0 + 1}},
      {.name = "b", .state = PODSTATUS_TERMINATED, .terminated = {0, NULL, T0, T0 + 1}},
  };
  struct podstatus_input in = {.pod = pod, .containers = cs, .n_containers = 2, .now = T0};
  _cleanup_json_ json_t *ok = NULL;
  assert_int_equal(podstatus_compute(&in, &ok), 0);
  assert_string_equal(json_string_value(json_object_get(ok, "phase")), "Succeeded");
  assert_cond(ok, "Ready", "False", "PodCompleted", NULL);
  assert_cond(ok, "ContainersReady", "False", "PodCompleted", NULL);
  assert_cond(ok, "Initialized", "True", "PodCompleted", NULL);
  json_t *a = json_array_get(json_object_get(ok, "containerStatuses"), 0);
  assert_string_equal(json_string_value(json_path(a, "state.terminated.reason")), "Completed");
  assert_string_equal(json_string_value(json_path(a, "state.terminated.finishedAt")),
                      "2023-11-14T22:13:21Z");

  cs[1].terminated.exit_code = 3;
  _cleanup_json_ json_t *bad = NULL;
  assert_int_equal(podstatus_compute(&in, &bad), 0);
  assert_string_equal(json_string_value(json_object_get(bad, "phase")), "Failed");
  assert_cond(bad, "Ready", "False", "PodFailed", NULL);
  json_t *b = json_array_get(json_object_get(bad, "containerStatuses"), 1);
  assert_string_equal(json_string_value(json_path(b, "state.terminated.reason")), "Error");
  assert_int_equal(json_integer_value(json_path(b, "state.terminated.exitCode")), 3);
}

static void test_init_containers(void **state) {
  _cleanup_json_ json_t *pod =
      pod_of("{\"spec\":{\"restartPolicy\":\"Always\",\"initContainers\":[{\"name\":\"setup\","
             "\"image\":\"busybox\"},{\"name\":\"side\",\"image\":\"busybox\",\"restartPolicy\":"
             "\"Always\"}],\"containers\":[{\"name\":\"app\",\"image\":\"busybox\"}]}}");
  struct podstatus_container init[2] = {
      {.name = "setup", .state = PODSTATUS_RUNNING, .running_since = T0, .started = true},
      {.name = "side", .state = PODSTATUS_WAITING},
  };
  struct podstatus_input in = {
      .pod = pod, .init_containers = init, .n_init = 2, .sandbox_ready = true, .now = T0};
  _cleanup_json_ json_t *st = NULL;
  assert_int_equal(podstatus_compute(&in, &st), 0);
  assert_string_equal(json_string_value(json_object_get(st, "phase")), "Pending");
  assert_cond(st, "Initialized", "False", "ContainersNotInitialized",
              "containers with incomplete status: [setup side]");
  assert_cond(st, "ContainersReady", "False", "ContainersNotReady",
              "containers with unknown status: [app], containers with unready status: [side]");
  json_t *app = json_array_get(json_object_get(st, "containerStatuses"), 0);
  assert_string_equal(json_string_value(json_path(app, "state.waiting.reason")), "PodInitializing");

  init[0] = (struct podstatus_container){
      .name = "setup", .state = PODSTATUS_TERMINATED, .terminated = {0, NULL, T0, T0}};
  init[1] = (struct podstatus_container){.name = "side",
                                         .state = PODSTATUS_RUNNING,
                                         .running_since = T0,
                                         .started = true,
                                         .ready = true};
  struct podstatus_container app_s = {.name = "app",
                                      .state = PODSTATUS_RUNNING,
                                      .running_since = T0,
                                      .started = true,
                                      .ready = true};
  in.containers = &app_s;
  in.n_containers = 1;
  _cleanup_json_ json_t *run = NULL;
  assert_int_equal(podstatus_compute(&in, &run), 0);
  assert_string_equal(json_string_value(json_object_get(run, "phase")), "Running");
  assert_cond(run, "Initialized", "True", NULL, NULL);
  assert_cond(run, "Ready", "True", NULL, NULL);
  assert_int_equal(json_array_size(json_object_get(run, "initContainerStatuses")), 2);

  /* A failed init container fails a Never pod. */
  json_object_set_new(json_object_get(pod, "spec"), "restartPolicy", json_string("Never"));
  init[0].terminated.exit_code = 1;
  in.n_containers = 0;
  assert_string_equal(podstatus_phase(&in), "Failed");
}

static void test_readiness_gates(void **state) {
  _cleanup_json_ json_t *pod = pod_of(
      "{\"spec\":{\"readinessGates\":[{\"conditionType\":\"example.com/lb\"},"
      "{\"conditionType\":\"example.com/dns\"}],\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]},"
      "\"status\":{\"conditions\":[{\"type\":\"example.com/lb\",\"status\":\"False\"}]}}");
  struct podstatus_container cs = {
      .name = "a", .state = PODSTATUS_RUNNING, .running_since = T0, .ready = true, .started = true};
  struct podstatus_input in = {.pod = pod, .containers = &cs, .n_containers = 1, .now = T0};
  _cleanup_json_ json_t *st = NULL;
  assert_int_equal(podstatus_compute(&in, &st), 0);
  assert_cond(st, "Ready", "False", "ReadinessGatesNotReady",
              "the status of pod readiness gate \"example.com/lb\" is not \"True\", but False, "
              "corresponding condition of pod readiness gate \"example.com/dns\" does not "
              "exist.");
  assert_cond(st, "ContainersReady", "True", NULL, NULL);
  /* Conditions owned by others are kept. */
  assert_cond(st, "example.com/lb", "False", NULL, NULL);
}

static void test_qos(void **state) {
  struct {
    const char *spec;
    const char *want;
  } cases[] = {
      {"{\"containers\":[{\"name\":\"a\"}]}", "BestEffort"},
      {"{\"containers\":[{\"name\":\"a\",\"resources\":{\"requests\":{\"cpu\":\"0\"}}}]}",
       "BestEffort"},
      {"{\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":"
       "\"1Gi\"},\"requests\":{\"cpu\":\"1000m\",\"memory\":\"1024Mi\"}}}]}",
       "Guaranteed"},
      {"{\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":"
       "\"1Gi\"},\"requests\":{\"cpu\":\"500m\",\"memory\":\"1Gi\"}}}]}",
       "Burstable"},
      {"{\"containers\":[{\"name\":\"a\",\"resources\":{\"requests\":{\"memory\":\"1Gi\"}}}]}",
       "Burstable"},
      {"{\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":"
       "\"1Gi\"},\"requests\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}},{\"name\":\"b\"}]}",
       "Burstable"},
      {"{\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":"
       "\"1Gi\"},\"requests\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}}],\"initContainers\":[{"
       "\"name\":\"i\",\"resources\":{\"limits\":{\"cpu\":\"2\",\"memory\":\"1Gi\"},"
       "\"requests\":{\"cpu\":\"2\",\"memory\":\"1Gi\"}}}]}",
       "Guaranteed"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    _cleanup_json_ json_t *spec = pod_of(cases[i].spec);
    const char *got = podstatus_qos_class(spec);
    if (!streq(got, cases[i].want))
      fail_msg("case %zu: got %s, want %s", i, got, cases[i].want);
  }
}

static void test_changed_ignores_nulls(void **state) {
  _cleanup_json_ json_t *a =
      pod_of("{\"conditions\":[{\"type\":\"Ready\",\"lastProbeTime\":null}]}");
  _cleanup_json_ json_t *b = pod_of("{\"conditions\":[{\"type\":\"Ready\"}]}");
  _cleanup_json_ json_t *c = pod_of("{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}");
  assert_false(podstatus_changed(a, b));
  assert_false(podstatus_changed(b, a));
  assert_true(podstatus_changed(a, c));
  assert_true(podstatus_changed(NULL, c));
  assert_false(podstatus_changed(NULL, NULL));
}

static void test_no_spec(void **state) {
  _cleanup_json_ json_t *pod = pod_of("{}");
  struct podstatus_input in = {.pod = pod};
  json_t *st = NULL;
  assert_int_equal(podstatus_compute(&in, &st), -EINVAL);
  assert_null(st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_creating),
      cmocka_unit_test(test_running_ready_keeps_transition_time),
      cmocka_unit_test(test_phases),
      cmocka_unit_test(test_completed_and_failed_conditions),
      cmocka_unit_test(test_init_containers),
      cmocka_unit_test(test_readiness_gates),
      cmocka_unit_test(test_qos),
      cmocka_unit_test(test_changed_ignores_nulls),
      cmocka_unit_test(test_no_spec),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
