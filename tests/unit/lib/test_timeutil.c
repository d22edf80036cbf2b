#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>

#include "lib/macro.h"
#include "lib/timeutil.h"

#define SEC 1000000000LL

static void hd(int64_t ns, const char *want) {
  char buf[32];
  const char *got = timeutil_human_duration(ns, buf, sizeof(buf));
  if (!streq(got, want))
    fail_msg("%lld ns: got %s, want %s", (long long)ns, got, want);
}

static void test_human_duration(void **state) {
  hd(-2 * SEC, "<invalid>");
  hd(-1 * SEC - 1, "0s");
  hd(-1, "0s");
  hd(0, "0s");
  hd(SEC - 1, "0s");
  hd(59 * SEC, "59s");
  hd(119 * SEC, "119s");
  hd(120 * SEC, "2m");
  hd(312 * SEC, "5m12s");
  hd(599 * SEC, "9m59s");
  hd(600 * SEC, "10m");
  hd(179 * 60 * SEC, "179m");
  hd(3 * 3600 * SEC, "3h");
  hd((3 * 3600 + 5 * 60) * SEC, "3h5m");
  hd((7 * 3600 + 59 * 60 + 59) * SEC, "7h59m");
  hd(8 * 3600 * SEC, "8h");
  hd(47 * 3600 * SEC, "47h");
  hd(48 * 3600 * SEC, "2d");
  hd((53 * 3600) * SEC, "2d5h");
  hd(7 * 24 * 3600 * SEC + 23 * 3600 * SEC, "7d23h");
  hd(8 * 24 * 3600 * SEC, "8d");
  hd(729LL * 24 * 3600 * SEC, "729d");
  hd(730LL * 24 * 3600 * SEC, "2y");
  hd((3 * 365 + 2) * 24LL * 3600 * SEC, "3y2d");
  hd(8 * 365 * 24LL * 3600 * SEC, "8y");
  hd(20 * 365 * 24LL * 3600 * SEC + 100 * 24LL * 3600 * SEC, "20y");
}

static void test_format_parse(void **state) {
  _cleanup_free_ char *s = timeutil_format(1704207845);
  assert_string_equal(s, "2024-01-02T15:04:05Z");
  struct timespec ts = {1704207845, 123456789};
  _cleanup_free_ char *m = timeutil_format_micro(&ts);
  assert_string_equal(m, "2024-01-02T15:04:05.123456Z");
  struct timespec out;
  assert_int_equal(timeutil_parse("2024-01-02T15:04:05Z", &out), 0);
  assert_int_equal(out.tv_sec, 1704207845);
  assert_int_equal(out.tv_nsec, 0);
  assert_int_equal(timeutil_parse("2024-01-02T15:04:05.123456Z", &out), 0);
  assert_int_equal(out.tv_nsec, 123456000);
  assert_int_equal(timeutil_parse("2024-01-02T17:04:05+02:00", &out), 0);
  assert_int_equal(out.tv_sec, 1704207845);
  assert_int_equal(timeutil_parse("2024-01-02T10:04:05.5-05:00", &out), 0);
  assert_int_equal(out.tv_sec, 1704207845);
  assert_int_equal(out.tv_nsec, 500000000);
  const char *bad[] = {"", "2024-01-02", "2024-01-02T15:04:05", "2024-13-02T15:04:05Z",
                       "2023-02-29T00:00:00Z", "2024-01-02T24:00:00Z", "2024-01-02 15:04:05Z",
                       "2024-01-02T15:04:05Zx", "2024-01-02T15:04:05.Z", "24-01-02T15:04:05Z"};
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
    if (timeutil_parse(bad[i], &out) == 0)
      fail_msg("accepted %s", bad[i]);
  assert_int_equal(timeutil_parse("2024-02-29T00:00:00Z", &out), 0);
  _cleanup_free_ char *now = timeutil_now();
  assert_int_equal(strlen(now), 20);
  _cleanup_free_ char *nowm = timeutil_now_micro();
  assert_int_equal(strlen(nowm), 27);
}

static void test_age(void **state) {
  struct timespec now = {1704207845 + 312, 0};
  _cleanup_free_ char *a = timeutil_age("2024-01-02T15:04:05Z", &now);
  assert_string_equal(a, "5m12s");
  _cleanup_free_ char *b = timeutil_age(NULL, &now);
  assert_string_equal(b, "<unknown>");
  _cleanup_free_ char *c = timeutil_age("garbage", &now);
  assert_string_equal(c, "<unknown>");
}

static void test_parse_duration(void **state) {
  (void)state;
  static const struct {
    const char *in;
    int64_t ns;
  } ok[] = {{"0", 0},           {"40s", 40000000000LL}, {"1m30s", 90000000000LL},
            {"300ms", 300000000}, {"1.5h", 5400000000000LL}, {"-2m", -120000000000LL},
            {"10us", 10000},    {"7ns", 7},              {"2h45m", 9900000000000LL}};
  for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    int64_t v = -1;
    assert_int_equal(timeutil_parse_duration(ok[i].in, &v), 0);
    assert_true(v == ok[i].ns);
  }
  static const char *bad[] = {"", "5", "s", "1x", "1m5", "--1s", "1.s.", " 1s"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    int64_t v;
    assert_int_equal(timeutil_parse_duration(bad[i], &v), -EINVAL);
  }
  int64_t v;
  assert_int_equal(timeutil_parse_duration("999999999h", &v), -ERANGE);
}

static void test_duration_messages(void **state) {
  (void)state;
  int64_t v;
  char *err = NULL;
  assert_int_equal(timeutil_parse_duration_msg("1x", &v, &err), -EINVAL);
  assert_string_equal(err, "time: unknown unit \"x\" in duration \"1x\"");
  free(err);
  err = NULL;
  assert_int_equal(timeutil_parse_duration_msg("5", &v, &err), -EINVAL);
  assert_string_equal(err, "time: missing unit in duration \"5\"");
  free(err);
  err = NULL;
  assert_int_equal(timeutil_parse_duration_msg("1.5s", &v, &err), 0);
  assert_true(v == 1500000000LL);
  assert_null(err);
}

static void test_deadline(void **state) {
  (void)state;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  struct timespec d = timeutil_deadline(CLOCK_MONOTONIC, 1500);
  long long diff = (d.tv_sec - now.tv_sec) * 1000LL + (d.tv_nsec - now.tv_nsec) / 1000000;
  assert_true(diff >= 1500 && diff < 1600);
  assert_true(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
  long long a = timeutil_now_ms(CLOCK_MONOTONIC), b = timeutil_now_ms(CLOCK_MONOTONIC);
  assert_true(b >= a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_human_duration),
      cmocka_unit_test(test_format_parse),
      cmocka_unit_test(test_age),
      cmocka_unit_test(test_parse_duration),
      cmocka_unit_test(test_duration_messages),
      cmocka_unit_test(test_deadline),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
