/* Unit tests for the Job controller's pure helpers: the pod-failure back-off, the
 * compressed completed-index lists, and the naming of Indexed Jobs' pods. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "controllers/job.h"

static void test_backoff_delay(void **state) {
  (void)state;
  assert_int_equal(job_backoff_delay_ms(0), 0);
  assert_int_equal(job_backoff_delay_ms(1), 10000);
  assert_int_equal(job_backoff_delay_ms(2), 20000);
  assert_int_equal(job_backoff_delay_ms(3), 40000);
  assert_int_equal(job_backoff_delay_ms(5), 160000);
  assert_int_equal(job_backoff_delay_ms(6), 320000);
  assert_int_equal(job_backoff_delay_ms(7), 360000); /* capped at 6 minutes */
  assert_int_equal(job_backoff_delay_ms(100), 360000);
}

static void test_backoff_remaining(void **state) {
  (void)state;
  assert_int_equal(job_backoff_remaining_ms(0, 0, 5000), 0);
  assert_int_equal(job_backoff_remaining_ms(1, 1000, 4000), 7000);
  assert_int_equal(job_backoff_remaining_ms(1, 1000, 11000), 0);
  assert_int_equal(job_backoff_remaining_ms(2, 0, 19999), 1);
  assert_int_equal(job_backoff_remaining_ms(3, 0, 100000), 0);
}

static char *roundtrip(const char *in, int completions) {
  struct job_indexes s = {0};
  job_indexes_parse(in, completions, &s);
  char *out = job_indexes_format(&s);
  job_indexes_clear(&s);
  return out;
}

static void test_indexes_parse_format(void **state) {
  (void)state;
  static const struct {
    const char *in;
    int completions;
    const char *out;
    long total;
  } cases[] = {
      {"", 10, "", 0},
      {"0", 10, "0", 1},
      {"0-2,4", 10, "0-2,4", 4},
      {"1,3-5,7", 10, "1,3-5,7", 5},
      {"1,2", 10, "1,2", 2},
      {"1-2", 10, "1,2", 2},
      {"0-2,3,4", 10, "0-4", 5},  /* adjacent parts merge */
      {"0-9", 5, "0-4", 5},       /* cut at completions */
      {"3,8", 5, "3", 1},
      {"x,2,4-z,6", 10, "2,6", 2}, /* bad parts are skipped */
      {"5-3,7", 10, "7", 1},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char *out = roundtrip(cases[i].in, cases[i].completions);
    assert_string_equal(out, cases[i].out);
    free(out);
    struct job_indexes s = {0};
    job_indexes_parse(cases[i].in, cases[i].completions, &s);
    assert_int_equal(job_indexes_total(&s), cases[i].total);
    job_indexes_clear(&s);
  }
}

static void test_indexes_add(void **state) {
  (void)state;
  struct job_indexes s = {0};
  int order[] = {7, 1, 3, 5, 4, 0, 9, 8, 3, -1};
  for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
    job_indexes_add(&s, order[i]);
  char *out = job_indexes_format(&s);
  assert_string_equal(out, "0,1,3-5,7-9");
  free(out);
  assert_true(job_indexes_has(&s, 4));
  assert_false(job_indexes_has(&s, 2));
  assert_false(job_indexes_has(&s, 6));
  assert_true(job_indexes_has(&s, 9));
  assert_false(job_indexes_has(&s, 10));
  job_indexes_add(&s, 2);
  job_indexes_add(&s, 6);
  out = job_indexes_format(&s);
  assert_string_equal(out, "0-9");
  free(out);
  assert_int_equal(job_indexes_total(&s), 10);
  job_indexes_clear(&s);
}

static void test_pod_index(void **state) {
  (void)state;
  json_t *pod = json_pack("{s:{s:{s:s}}}", "metadata", "annotations",
                          "batch.kubernetes.io/job-completion-index", "12");
  assert_int_equal(job_pod_completion_index(pod), 12);
  json_object_set_new(json_path(pod, "metadata.annotations"),
                      "batch.kubernetes.io/job-completion-index", json_string("-1"));
  assert_int_equal(job_pod_completion_index(pod), -1);
  json_object_set_new(json_path(pod, "metadata.annotations"),
                      "batch.kubernetes.io/job-completion-index", json_string("1x"));
  assert_int_equal(job_pod_completion_index(pod), -1);
  json_decref(pod);
  pod = json_pack("{s:{}}", "metadata");
  assert_int_equal(job_pod_completion_index(pod), -1);
  json_decref(pod);
}

static void test_generate_name(void **state) {
  (void)state;
  char *n = job_pod_generate_name("indexed", 3);
  assert_string_equal(n, "indexed-3-");
  free(n);
  char long_name[64];
  memset(long_name, 'a', 63);
  long_name[63] = '\0';
  n = job_pod_generate_name(long_name, 12);
  assert_int_equal(strlen(n), 58);
  assert_string_equal(n + 54, "-12-");
  free(n);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_backoff_delay),        cmocka_unit_test(test_backoff_remaining),
      cmocka_unit_test(test_indexes_parse_format), cmocka_unit_test(test_indexes_add),
      cmocka_unit_test(test_pod_index),            cmocka_unit_test(test_generate_name),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
