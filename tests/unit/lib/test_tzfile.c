#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/fileio.h"
#include "lib/macro.h"
#include "lib/tzfile.h"

static const char *const zones[] = {
    "Europe/Berlin",     "America/New_York", "Australia/Sydney",    "Asia/Kolkata",
    "America/Sao_Paulo", "Europe/London",    "America/Santiago",    "Pacific/Chatham",
    "Asia/Tehran",       "Europe/Dublin",    "Australia/Lord_Howe", "America/St_Johns",
};

/* glibc's answer, from the TZ variable: fine in this single-threaded test. */
static void glibc_localtime(const char *zone, time_t t, struct tm *tm) {
  setenv("TZ", zone, 1);
  tzset();
  localtime_r(&t, tm);
}

static void check_zone_against_glibc(const char *zone) {
  _cleanup_tzfile_ struct tzfile *tz = NULL;
  _cleanup_free_ char *err = NULL;
  assert_int_equal(tzfile_load(zone, &tz, &err), 0);
  assert_string_equal(tzfile_name(tz), zone);
  /* 1890 to 2110, in steps that are not a multiple of any hour or day, so every DST edge
   * is passed at a different time of day; beyond 2037 the footer rule decides. */
  for (int64_t t = -2524521600LL; t < 4417977600LL; t += 86400 * 3 + 3607) {
    struct tm want, got;
    glibc_localtime(zone, (time_t)t, &want);
    assert_int_equal(tzfile_localtime(tz, (time_t)t, &got), 0);
    if (got.tm_gmtoff != want.tm_gmtoff || got.tm_hour != want.tm_hour ||
        got.tm_mday != want.tm_mday || got.tm_mon != want.tm_mon || got.tm_year != want.tm_year ||
        got.tm_wday != want.tm_wday || got.tm_yday != want.tm_yday || got.tm_min != want.tm_min ||
        got.tm_sec != want.tm_sec || got.tm_isdst != want.tm_isdst ||
        !streq(got.tm_zone, want.tm_zone))
      fail_msg("%s at %lld: got %d-%02d-%02d %02d:%02d:%02d %s %ld, want %d-%02d-%02d "
               "%02d:%02d:%02d %s %ld",
               zone, (long long)t, got.tm_year + 1900, got.tm_mon + 1, got.tm_mday, got.tm_hour,
               got.tm_min, got.tm_sec, got.tm_zone, got.tm_gmtoff, want.tm_year + 1900,
               want.tm_mon + 1, want.tm_mday, want.tm_hour, want.tm_min, want.tm_sec, want.tm_zone,
               want.tm_gmtoff);
    assert_int_equal(tzfile_offset(tz, (time_t)t), want.tm_gmtoff);
    /* A local reading that is neither skipped nor repeated maps back to the same instant. */
    struct tm before, after;
    glibc_localtime(zone, (time_t)t - 86400, &before);
    glibc_localtime(zone, (time_t)t + 86400, &after);
    if (before.tm_gmtoff == want.tm_gmtoff && after.tm_gmtoff == want.tm_gmtoff) {
      time_t back;
      assert_int_equal(tzfile_mktime(tz, &got, &back), 0);
      assert_int_equal(back, t);
    }
  }
}

static void test_against_glibc(void **state) {
  for (size_t i = 0; i < ARRAY_SIZE(zones); i++)
    check_zone_against_glibc(zones[i]);
  unsetenv("TZ");
  tzset();
}

static time_t mk(const struct tzfile *tz, int y, int mon, int d, int h, int mi, int s) {
  struct tm tm = {.tm_year = y - 1900,
                  .tm_mon = mon - 1,
                  .tm_mday = d,
                  .tm_hour = h,
                  .tm_min = mi,
                  .tm_sec = s};
  time_t t;
  assert_int_equal(tzfile_mktime(tz, &tm, &t), 0);
  return t;
}

/* The answers Go's time.Date gives in gaps and overlaps. */
static void test_mktime_gaps_and_overlaps(void **state) {
  _cleanup_tzfile_ struct tzfile *berlin = NULL, *ny = NULL;
  assert_int_equal(tzfile_load("Europe/Berlin", &berlin, NULL), 0);
  assert_int_equal(tzfile_load("America/New_York", &ny, NULL), 0);
  /* 2024-03-31 02:30 does not exist in Berlin: 03:30 CEST = 01:30Z. */
  assert_int_equal(mk(berlin, 2024, 3, 31, 2, 30, 0), 1711848600);
  /* 2024-10-27 02:30 happens twice: Go picks CET, 01:30Z. */
  assert_int_equal(mk(berlin, 2024, 10, 27, 2, 30, 0), 1729992600);
  /* 2024-03-10 02:30 does not exist in New York: 01:30 EST = 06:30Z. */
  assert_int_equal(mk(ny, 2024, 3, 10, 2, 30, 0), 1710052200);
  /* 2024-11-03 01:30 happens twice: Go picks EDT, 05:30Z. */
  assert_int_equal(mk(ny, 2024, 11, 3, 1, 30, 0), 1730611800);
  /* Normalization of out-of-range fields. */
  assert_int_equal(mk(NULL, 2024, 13, 1, 0, 0, 0), mk(NULL, 2025, 1, 1, 0, 0, 0));
  assert_int_equal(mk(NULL, 2024, 3, 0, 0, 0, 0), mk(NULL, 2024, 2, 29, 0, 0, 0));
  assert_int_equal(mk(NULL, 2023, 2, 29, 0, 0, 0), mk(NULL, 2023, 3, 1, 0, 0, 0));
  assert_int_equal(mk(NULL, 2024, 1, 1, 24, 60, 60), mk(NULL, 2024, 1, 2, 1, 1, 0));
  assert_int_equal(mk(NULL, 2024, -1, 1, 0, 0, 0), mk(NULL, 2023, 11, 1, 0, 0, 0));
  assert_int_equal(mk(NULL, 1970, 1, 1, 0, 0, 0), 0);
  assert_int_equal(mk(NULL, 1969, 12, 31, 23, 59, 59), -1);
}

static void test_utc(void **state) {
  struct tm tm;
  assert_int_equal(tzfile_localtime(NULL, 951782400, &tm), 0); /* 2000-02-29 */
  assert_int_equal(tm.tm_year, 100);
  assert_int_equal(tm.tm_mon, 1);
  assert_int_equal(tm.tm_mday, 29);
  assert_int_equal(tm.tm_wday, 2);
  assert_int_equal(tm.tm_yday, 59);
  assert_string_equal(tm.tm_zone, "UTC");
  assert_int_equal(tzfile_offset(NULL, 0), 0);
  assert_string_equal(tzfile_name(NULL), "UTC");

  const char *names[] = {"UTC", "", "Local", "Etc/UTC"};
  for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
    _cleanup_tzfile_ struct tzfile *tz = NULL;
    assert_int_equal(tzfile_load(names[i], &tz, NULL), 0);
    assert_int_equal(tzfile_offset(tz, 1700000000), 0);
    assert_int_equal(tzfile_localtime(tz, 1700000000, &tm), 0);
    assert_string_equal(tm.tm_zone, "UTC");
  }

  /* Without tzdata the UTC aliases still load. */
  setenv("ZONEINFO", "/nonexistent", 1);
  _cleanup_tzfile_ struct tzfile *tz = NULL;
  assert_int_equal(tzfile_load("Etc/UTC", &tz, NULL), 0);
  assert_int_equal(tzfile_offset(tz, 1700000000), 0);
  unsetenv("ZONEINFO");
}

static void test_load_errors(void **state) {
  const char *bad[] = {"Europe/Pariss",
                       "../etc/passwd",
                       "/etc/localtime",
                       "Europe/../UTC",
                       "Europe//Berlin",
                       "Europe/",
                       "-x",
                       "Europe/VeryLongCityName1",
                       "Europe",
                       "zone.tab",
                       "a b",
                       "local"};
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
    struct tzfile *tz = NULL;
    _cleanup_free_ char *err = NULL;
    assert_true(tzfile_load(bad[i], &tz, &err) < 0);
    assert_null(tz);
    _cleanup_free_ char *want = xasprintf("unknown time zone %s", bad[i]);
    assert_string_equal(err, want);
  }
  assert_true(tzfile_name_valid("America/Argentina/Buenos_Aires"));
  assert_true(tzfile_name_valid("Etc/GMT+5"));
  assert_true(tzfile_name_valid("Local"));
  assert_false(tzfile_name_valid(""));
  assert_false(tzfile_name_valid("a/./b"));
  assert_false(tzfile_name_valid("a/-b"));
  assert_false(tzfile_name_valid("abcdefghijklmno"));
}

/* Builds a version-2 TZif file with no transitions, one time type and the given footer. */
static size_t footer_only(const char *footer, int32_t utoff, uint8_t *buf) {
  uint8_t hdr[44] = {'T', 'Z', 'i', 'f', '2'};
  hdr[39] = 1; /* typecnt */
  hdr[43] = 4; /* charcnt */
  uint8_t data[10] = {(uint8_t)(utoff >> 24),
                      (uint8_t)(utoff >> 16),
                      (uint8_t)(utoff >> 8),
                      (uint8_t)utoff,
                      0,
                      0,
                      'X',
                      'X',
                      'X',
                      0};
  size_t n = 0;
  for (int i = 0; i < 2; i++) {
    memcpy(buf + n, hdr, 44);
    memcpy(buf + n + 44, data, 10);
    n += 54;
  }
  n += (size_t)sprintf((char *)buf + n, "\n%s\n", footer);
  return n;
}

static void test_footer_rules(void **state) {
  struct {
    const char *footer;
    const char *glibc;
  } cases[] = {
      {"CET-1CEST,M3.5.0,M10.5.0/3", NULL},
      {"EST5EDT,M3.2.0,M11.1.0", NULL},
      {"AEST-10AEDT,M10.1.0,M4.1.0/3", NULL},
      {"<-03>3", NULL},
      {"<+0545>-5:45", NULL},
      {"IST-1GMT0,M10.5.0,M3.5.0/1", NULL},
      {"<-04>4<-03>,M9.1.6/24,M4.1.6/24", NULL},
      {"<+0330>-3:30<+0430>,J79/24,J263/24", NULL},
      {"XXX3YYY,J60,300", NULL},
      {"EST5EDT", "EST5EDT,M3.2.0,M11.1.0"},
      {"<-02>2<-01>,M3.5.0/-1,M10.5.0/0", NULL},
  };
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    uint8_t buf[256];
    size_t n = footer_only(cases[i].footer, 0, buf);
    _cleanup_tzfile_ struct tzfile *tz = NULL;
    _cleanup_free_ char *err = NULL;
    assert_int_equal(tzfile_parse(buf, n, &tz, &err), 0);
    for (int64_t t = 1500000000; t < 2500000000LL; t += 86400 + 1799) {
      struct tm want, got;
      glibc_localtime(cases[i].glibc ? cases[i].glibc : cases[i].footer, (time_t)t, &want);
      assert_int_equal(tzfile_localtime(tz, (time_t)t, &got), 0);
      if (got.tm_gmtoff != want.tm_gmtoff || !streq(got.tm_zone, want.tm_zone) ||
          got.tm_isdst != want.tm_isdst)
        fail_msg("%s at %lld: got %s %ld, want %s %ld", cases[i].footer, (long long)t, got.tm_zone,
                 got.tm_gmtoff, want.tm_zone, want.tm_gmtoff);
    }
  }
  unsetenv("TZ");
  tzset();

  /* A footer that does not parse is ignored: the last type holds for ever. */
  uint8_t buf[256];
  size_t n = footer_only("CET-1CEST,M3.5.0", 3600, buf);
  _cleanup_tzfile_ struct tzfile *tz = NULL;
  assert_int_equal(tzfile_parse(buf, n, &tz, NULL), 0);
  assert_int_equal(tzfile_offset(tz, 1720000000), 3600);
}

static void test_parse_errors(void **state) {
  _cleanup_free_ char *data = NULL;
  size_t len;
  assert_int_equal(fileio_read_all("/usr/share/zoneinfo/Europe/Berlin", 1 << 20, &data, &len), 0);
  /* Every truncation of a real file either fails cleanly or yields a usable zone. */
  for (size_t cut = 0; cut < len; cut++) {
    struct tzfile *tz = NULL;
    _cleanup_free_ char *err = NULL;
    int r = tzfile_parse(data, cut, &tz, &err);
    if (r < 0) {
      assert_int_equal(r, -EINVAL);
      assert_non_null(err);
      assert_true(startswith(err, "malformed time zone information"));
      assert_null(tz);
    } else {
      tzfile_offset(tz, 1700000000);
      tzfile_free(tz);
    }
  }
  struct tzfile *tz = NULL;
  _cleanup_free_ char *err = NULL;
  assert_int_equal(tzfile_parse("TZjf2", 5, &tz, &err), -EINVAL);
  assert_string_equal(err, "malformed time zone information: bad header");

  /* The v1 block alone (version byte 0) is a valid zone too. */
  _cleanup_free_ char *v1 = xmalloc(len);
  memcpy(v1, data, len);
  v1[4] = 0;
  assert_int_equal(tzfile_parse(v1, len, &tz, NULL), 0);
  assert_int_equal(tzfile_offset(tz, 1720000000), 7200);
  tzfile_free(tz);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_against_glibc), cmocka_unit_test(test_mktime_gaps_and_overlaps),
      cmocka_unit_test(test_utc),           cmocka_unit_test(test_load_errors),
      cmocka_unit_test(test_footer_rules),  cmocka_unit_test(test_parse_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
