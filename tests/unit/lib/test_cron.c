#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/cron.h"
#include "lib/macro.h"
#include "lib/tzfile.h"

/* "2012-03-11T01:00:00-0500" or "...Z" to an instant. */
static time_t ts(const char *s) {
  int y, mo, d, h, mi, sec;
  char zone[8] = "";
  if (sscanf(s, "%d-%d-%dT%d:%d:%d%7s", &y, &mo, &d, &h, &mi, &sec, zone) != 7)
    fail_msg("bad time %s", s);
  struct tm tm = {.tm_year = y - 1900,
                  .tm_mon = mo - 1,
                  .tm_mday = d,
                  .tm_hour = h,
                  .tm_min = mi,
                  .tm_sec = sec};
  time_t t = timegm(&tm);
  if (zone[0] != 'Z') {
    int hh = (zone[1] - '0') * 10 + (zone[2] - '0'), mm = (zone[3] - '0') * 10 + (zone[4] - '0');
    int off = hh * 3600 + mm * 60;
    t -= zone[0] == '-' ? -off : off;
  }
  return t;
}

static void fmt(time_t t, char *buf, size_t size) {
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Checks cron_next(spec) in zone (NULL = UTC) from `from`; want NULL means -ERANGE. */
static void check_next(const char *spec, const char *zone, const char *from, const char *want) {
  _cleanup_cron_ struct cron_schedule *s = NULL;
  _cleanup_tzfile_ struct tzfile *tz = NULL;
  _cleanup_free_ char *err = NULL;
  if (cron_parse(spec, &s, &err) < 0)
    fail_msg("%s: %s", spec, err);
  if (zone)
    assert_int_equal(tzfile_load(zone, &tz, NULL), 0);
  time_t got;
  int r = cron_next(s, tz, ts(from), &got);
  if (!want) {
    if (r != -ERANGE)
      fail_msg("%s from %s: got %d, want -ERANGE", spec, from, r);
    return;
  }
  char g[32], w[32];
  if (r < 0)
    fail_msg("%s from %s: got error %d, want %s", spec, from, r, want);
  fmt(got, g, sizeof(g));
  fmt(ts(want), w, sizeof(w));
  if (!streq(g, w))
    fail_msg("%s in %s from %s: got %s, want %s (%s)", spec, zone ? zone : "UTC", from, g, w, want);
}

static void test_robfig_next(void **state) {
  static const char *const c[][3] = {
      {"0/15 * * * *", "2012-07-09T14:45:00Z", "2012-07-09T15:00:00Z"},
      {"0/15 * * * *", "2012-07-09T14:59:00Z", "2012-07-09T15:00:00Z"},
      {"0/15 * * * *", "2012-07-09T14:59:59Z", "2012-07-09T15:00:00Z"},
      {"20-35/15 * * * *", "2012-07-09T15:45:00Z", "2012-07-09T16:20:00Z"},
      {"*/15 * * * *", "2012-07-09T23:46:00Z", "2012-07-10T00:00:00Z"},
      {"20-35/15 * * * *", "2012-07-09T23:45:00Z", "2012-07-10T00:20:00Z"},
      {"0 0 9 Apr-Oct ?", "2012-07-09T23:35:00Z", "2012-08-09T00:00:00Z"},
      /* A step above 1 takes the star away: either day field may match. */
      {"0 0 */5 Apr,Aug,Oct Mon", "2012-07-09T23:35:00Z", "2012-08-01T00:00:00Z"},
      {"0 0 */5 Oct Mon", "2012-07-09T23:35:00Z", "2012-10-01T00:00:00Z"},
      {"0 0 * Feb Mon", "2012-07-09T23:35:00Z", "2013-02-04T00:00:00Z"},
      {"0 0 * Feb Mon/2", "2012-07-09T23:35:00Z", "2013-02-01T00:00:00Z"},
      {"* * * * *", "2012-12-31T23:59:45Z", "2013-01-01T00:00:00Z"},
      {"0 0 29 Feb ?", "2012-07-09T23:35:00Z", "2016-02-29T00:00:00Z"},
      {"0 0 30 Feb ?", "2012-07-09T23:35:00Z", NULL},
      {"0 0 31 Apr ?", "2012-07-09T23:35:00Z", NULL},
      /* Daylight saving time in New York: the gap (2012-03-11) and the overlap (11-04). */
      {"TZ=America/New_York 30 2 11 Mar ?", "2012-03-11T00:00:00-0500", "2013-03-11T02:30:00-0400"},
      {"TZ=America/New_York 0 * * * ?", "2012-03-11T00:00:00-0500", "2012-03-11T01:00:00-0500"},
      {"TZ=America/New_York 0 * * * ?", "2012-03-11T01:00:00-0500", "2012-03-11T03:00:00-0400"},
      {"TZ=America/New_York 0 * * * ?", "2012-03-11T03:00:00-0400", "2012-03-11T04:00:00-0400"},
      {"CRON_TZ=America/New_York 0 * * * ?", "2012-03-11T01:00:00-0500",
       "2012-03-11T03:00:00-0400"},
      {"TZ=America/New_York 0 1 * * ?", "2012-03-11T00:00:00-0500", "2012-03-11T01:00:00-0500"},
      {"TZ=America/New_York 0 1 * * ?", "2012-03-11T01:00:00-0500", "2012-03-12T01:00:00-0400"},
      {"TZ=America/New_York 0 2 * * ?", "2012-03-11T00:00:00-0500", "2012-03-12T02:00:00-0400"},
      {"TZ=America/New_York 30 2 04 Nov ?", "2012-11-04T00:00:00-0400", "2012-11-04T02:30:00-0500"},
      {"TZ=America/New_York 30 1 04 Nov ?", "2012-11-04T01:45:00-0400", "2012-11-04T01:30:00-0500"},
      {"TZ=America/New_York 0 * * * ?", "2012-11-04T00:00:00-0400", "2012-11-04T01:00:00-0400"},
      {"TZ=America/New_York 0 * * * ?", "2012-11-04T01:00:00-0400", "2012-11-04T01:00:00-0500"},
      {"TZ=America/New_York 0 * * * ?", "2012-11-04T01:00:00-0500", "2012-11-04T02:00:00-0500"},
      {"TZ=America/New_York 0 1 * * ?", "2012-11-04T00:00:00-0400", "2012-11-04T01:00:00-0400"},
      {"TZ=America/New_York 0 1 * * ?", "2012-11-04T01:00:00-0400", "2012-11-04T01:00:00-0500"},
      {"TZ=America/New_York 0 1 * * ?", "2012-11-04T01:00:00-0500", "2012-11-05T01:00:00-0500"},
      {"TZ=America/New_York 0 2 * * ?", "2012-11-04T00:00:00-0400", "2012-11-04T02:00:00-0500"},
      {"TZ=America/New_York 0 2 * * ?", "2012-11-04T02:00:00-0500", "2012-11-05T02:00:00-0500"},
      {"TZ=America/New_York 0 3 * * ?", "2012-11-04T00:00:00-0400", "2012-11-04T03:00:00-0500"},
      {"TZ=America/New_York 0 3 * * ?", "2012-11-04T03:00:00-0500", "2012-11-05T03:00:00-0500"},
      /* Sao Paulo moved midnight itself in 2018. */
      {"TZ=America/Sao_Paulo 0 9 10 * ?", "2018-10-17T05:00:00-0400", "2018-11-10T06:00:00-0500"},
      {"TZ=America/Sao_Paulo 0 9 22 * ?", "2018-02-14T05:00:00-0500", "2018-02-22T07:00:00-0500"},
      {"TZ=Asia/Kolkata 14 14 * * *", "2016-01-03T13:09:03+0530", "2016-01-03T14:14:00+0530"},
      {"TZ=Asia/Kolkata 14 14 * * ?", "2016-01-03T04:09:03+0530", "2016-01-03T14:14:00+0530"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(c); i++)
    check_next(c[i][0], NULL, c[i][1], c[i][2]);
}

/* robfig's activation table: does `spec` fire exactly at `at`? */
static void test_robfig_activation(void **state) {
  static const struct {
    const char *at, *spec;
    bool fires;
  } c[] = {
      {"2012-07-09T15:00:00Z", "0/15 * * * *", true},
      {"2012-07-09T15:45:00Z", "0/15 * * * *", true},
      {"2012-07-09T15:40:00Z", "0/15 * * * *", false},
      {"2012-07-09T15:05:00Z", "5/15 * * * *", true},
      {"2012-07-09T15:20:00Z", "5/15 * * * *", true},
      {"2012-07-09T15:50:00Z", "5/15 * * * *", true},
      {"2012-07-15T15:00:00Z", "0/15 * * Jul *", true},
      {"2012-07-15T15:00:00Z", "0/15 * * Jun *", false},
      {"2012-07-15T08:30:00Z", "30 08 ? Jul Sun", true},
      {"2012-07-15T08:30:00Z", "30 08 15 Jul ?", true},
      {"2012-07-16T08:30:00Z", "30 08 ? Jul Sun", false},
      {"2012-07-16T08:30:00Z", "30 08 15 Jul ?", false},
      {"2012-07-09T15:00:00Z", "@hourly", true},
      {"2012-07-09T15:04:00Z", "@hourly", false},
      {"2012-07-09T15:00:00Z", "@daily", false},
      {"2012-07-09T00:00:00Z", "@daily", true},
      {"2012-07-09T00:00:00Z", "@midnight", true},
      {"2012-07-09T00:00:00Z", "@weekly", false},
      {"2012-07-08T00:00:00Z", "@weekly", true},
      {"2012-07-08T01:00:00Z", "@weekly", false},
      {"2012-07-08T00:00:00Z", "@monthly", false},
      {"2012-07-01T00:00:00Z", "@monthly", true},
      {"2012-01-01T00:00:00Z", "@yearly", true},
      {"2012-01-01T00:00:00Z", "@annually", true},
      {"2012-07-01T00:00:00Z", "@yearly", false},
      /* Both day fields restricted: either matches. */
      {"2012-07-15T00:00:00Z", "* * 1,15 * Sun", true},
      {"2012-06-15T00:00:00Z", "* * 1,15 * Sun", true},
      {"2012-08-01T00:00:00Z", "* * 1,15 * Sun", true},
      {"2012-07-22T00:00:00Z", "* * 1,15 * Sun", true},
      {"2012-07-23T00:00:00Z", "* * 1,15 * Sun", false},
      {"2012-07-15T00:00:00Z", "* * */10 * Sun", true},
      /* One of them starts with a star: both must match. */
      {"2012-07-15T00:00:00Z", "* * * * Mon", false},
      {"2012-07-09T00:00:00Z", "* * 1,15 * *", false},
      {"2012-07-15T00:00:00Z", "* * 1,15 * *", true},
      {"2012-07-15T00:00:00Z", "* * */2 * Sun", true},
      /* "*" with a step of 1 keeps its star; a larger step drops it. */
      {"2012-07-10T00:00:00Z", "0 0 */1 * Mon", false},
      {"2012-07-09T00:00:00Z", "0 0 */1 * Mon", true},
      {"2012-07-11T00:00:00Z", "0 0 */2 * Mon", true},
      {"2012-07-10T00:00:00Z", "0 0 */2 * Mon", false},
      /* Names in any case; "?" anywhere; "*-..." is still "*". */
      {"2012-07-15T00:00:00Z", "0 0 * jul-AUG sUn", true},
      {"2012-07-15T00:00:00Z", "? ? ? ? ?", true},
      {"2012-07-15T00:07:00Z", "*-5 * * * *", true},
      {"2012-07-15T00:00:00Z", ",,0,, 0 * * *", true},
  };
  for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
    _cleanup_cron_ struct cron_schedule *s = NULL;
    _cleanup_free_ char *err = NULL;
    if (cron_parse(c[i].spec, &s, &err) < 0)
      fail_msg("%s: %s", c[i].spec, err);
    time_t at = ts(c[i].at), got;
    assert_int_equal(cron_next(s, NULL, at - 1, &got), 0);
    if ((got == at) != c[i].fires)
      fail_msg("%s at %s: fires=%d, want %d", c[i].spec, c[i].at, got == at, c[i].fires);
  }
}

static void test_kubernetes_schedules(void **state) {
  static const char *const c[][3] = {
      {"*/5 * * * *", "2024-05-01T10:02:30Z", "2024-05-01T10:05:00Z"},
      {"*/5 * * * *", "2024-05-01T10:05:00Z", "2024-05-01T10:10:00Z"},
      {"*/1 * * * *", "2024-05-01T10:05:59Z", "2024-05-01T10:06:00Z"},
      {"0 0 13 * 5", "2024-09-01T00:00:00Z", "2024-09-06T00:00:00Z"},
      {"0 0 13 * 5", "2024-09-06T00:00:00Z", "2024-09-13T00:00:00Z"},
      {"0 0 13 * 5", "2024-10-11T00:00:00Z", "2024-10-13T00:00:00Z"},
      {"0 0 13 * 5", "2024-10-13T00:00:00Z", "2024-10-18T00:00:00Z"},
      {"10-50/20 * * * *", "2024-05-01T10:10:00Z", "2024-05-01T10:30:00Z"},
      {"10-50/20 * * * *", "2024-05-01T10:50:00Z", "2024-05-01T11:10:00Z"},
      {"5/20 * * * *", "2024-05-01T10:45:00Z", "2024-05-01T11:05:00Z"},
      {"0 9-17/4 * * MON-FRI", "2024-05-03T17:00:00Z", "2024-05-06T09:00:00Z"},
      {"0 0 31 * *", "2024-01-31T00:00:00Z", "2024-03-31T00:00:00Z"},
      {"0 0 31 * *", "2024-08-31T00:00:00Z", "2024-10-31T00:00:00Z"},
      {"0 12 L * *", "2024-01-01T00:00:00Z", "error"},
      {"0 0 29 2 *", "2024-03-01T00:00:00Z", "2028-02-29T00:00:00Z"},
      /* 2100 is no leap year, and 2104 is beyond robfig's five years. */
      {"0 0 29 2 *", "2096-03-01T00:00:00Z", NULL},
      {"0 0 1 1 *", "2023-12-31T23:59:59Z", "2024-01-01T00:00:00Z"},
      {"@hourly", "2024-05-01T10:00:00Z", "2024-05-01T11:00:00Z"},
      {"@daily", "2024-02-28T23:00:00Z", "2024-02-29T00:00:00Z"},
      {"@weekly", "2024-05-01T10:00:00Z", "2024-05-05T00:00:00Z"},
      {"@monthly", "2024-12-15T00:00:00Z", "2025-01-01T00:00:00Z"},
      {"@yearly", "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"},
      {"@every 1h30m", "2024-05-01T10:00:00Z", "2024-05-01T11:30:00Z"},
      {"@every 90s", "2024-05-01T10:00:00Z", "2024-05-01T10:01:30Z"},
      {"@every 1.9s", "2024-05-01T10:00:00Z", "2024-05-01T10:00:01Z"},
      {"@every 500ms", "2024-05-01T10:00:00Z", "2024-05-01T10:00:01Z"},
      {"@every -5m", "2024-05-01T10:00:00Z", "2024-05-01T10:00:01Z"},
      {"@every 0", "2024-05-01T10:00:00Z", "2024-05-01T10:00:01Z"},
      {"@every 2.5h", "2024-05-01T10:00:00Z", "2024-05-01T12:30:00Z"},
      {"@every 1\xc2\xb5s", "2024-05-01T10:00:00Z", "2024-05-01T10:00:01Z"},
      {"  0   0 * * *  ", "2024-05-01T10:00:00Z", "2024-05-02T00:00:00Z"},
      {"0\t0 * *\xc2\xa0*", "2024-05-01T10:00:00Z", "2024-05-02T00:00:00Z"},
      {"CRON_TZ=UTC   @daily  ", "2024-05-01T10:00:00Z", "2024-05-02T00:00:00Z"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
    if (c[i][2] && streq(c[i][2], "error")) {
      struct cron_schedule *s = NULL;
      assert_int_equal(cron_parse(c[i][0], &s, NULL), -EINVAL);
      assert_null(s);
      continue;
    }
    check_next(c[i][0], NULL, c[i][1], c[i][2]);
  }
}

static void test_zones(void **state) {
  /* Europe/Berlin: 02:30 does not exist on 2024-03-31 and happens twice on 2024-10-27. */
  check_next("30 2 * * *", "Europe/Berlin", "2024-03-30T12:00:00+0100", "2024-04-01T02:30:00+0200");
  check_next("30 2 * * *", "Europe/Berlin", "2024-10-27T00:00:00+0200", "2024-10-27T02:30:00+0200");
  check_next("30 2 * * *", "Europe/Berlin", "2024-10-27T02:30:00+0200", "2024-10-27T02:30:00+0100");
  check_next("30 2 * * *", "Europe/Berlin", "2024-10-27T02:30:00+0100", "2024-10-28T02:30:00+0100");
  check_next("0 * * * *", "Europe/Berlin", "2024-03-31T01:00:00+0100", "2024-03-31T03:00:00+0200");
  check_next("0 3 * * *", "Europe/Berlin", "2024-03-30T12:00:00+0100", "2024-03-31T03:00:00+0200");
  check_next("0 0 * * *", "Europe/Berlin", "2024-06-01T00:00:00+0200", "2024-06-02T00:00:00+0200");
  /* The monthly job in New York, zone given as the argument rather than a prefix. */
  check_next("0 3 3 * ?", "America/New_York", "2012-11-04T00:00:00-0400",
             "2012-12-03T03:00:00-0500");
  check_next("0 2 * * *", "America/New_York", "2024-03-09T12:00:00-0500",
             "2024-03-11T02:00:00-0400");
  /* After the last transition of the file the footer rule decides (2040 here). */
  check_next("30 2 * * *", "Europe/Berlin", "2040-03-24T12:00:00+0100", "2040-03-26T02:30:00+0200");
  check_next("0 9 * * *", "Australia/Sydney", "2024-04-06T10:00:00+1100",
             "2024-04-07T09:00:00+1000");
  /* Half-hour and 45-minute offsets. */
  check_next("0 0 * * *", "Asia/Kolkata", "2024-05-01T10:00:00Z", "2024-05-02T00:00:00+0530");
  check_next("0 * * * *", "Asia/Kathmandu", "2024-05-01T10:00:00Z", "2024-05-01T16:00:00+0545");
  /* A TZ= prefix wins over the zone argument. */
  check_next("TZ=UTC 0 0 * * *", "Europe/Berlin", "2024-05-01T10:00:00Z", "2024-05-02T00:00:00Z");
}

static void check_error(const char *spec, const char *want) {
  struct cron_schedule *s = NULL;
  _cleanup_free_ char *err = NULL;
  assert_int_equal(cron_parse(spec, &s, &err), -EINVAL);
  assert_null(s);
  if (!err || !streq(err, want))
    fail_msg("%s: got \"%s\", want \"%s\"", spec, err, want);
}

static void test_errors(void **state) {
  check_error("", "empty spec string");
  check_error("* * * *", "expected exactly 5 fields, found 4: [* * * *]");
  check_error("0 * * * * *", "expected exactly 5 fields, found 6: [0 * * * * *]");
  check_error(" ", "expected exactly 5 fields, found 0: []");
  check_error(" @daily", "expected exactly 5 fields, found 1: [@daily]");
  check_error("0-60 * * * *", "end of range (60) above maximum (59): 0-60");
  check_error("61 * * * *", "end of range (61) above maximum (59): 61");
  check_error("* 24 * * *", "end of range (24) above maximum (23): 24");
  check_error("* * 32 * *", "end of range (32) above maximum (31): 32");
  check_error("* * * 13 *", "end of range (13) above maximum (12): 13");
  check_error("* * * * 7", "end of range (7) above maximum (6): 7");
  check_error("* * * * 1-7", "end of range (7) above maximum (6): 1-7");
  check_error("* * 0 * *", "beginning of range (0) below minimum (1): 0");
  check_error("* * * 0 *", "beginning of range (0) below minimum (1): 0");
  check_error("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1");
  check_error("*/0 * * * *", "step of range should be a positive number: */0");
  check_error("15/0 * * * *", "step of range should be a positive number: 15/0");
  check_error("1-2-3 * * * *", "too many hyphens: 1-2-3");
  check_error("1/2/3 * * * *", "too many slashes: 1/2/3");
  check_error("*/-5 * * * *", "negative number (-5) not allowed: -5");
  check_error("x * * * *",
              "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax");
  check_error("-5 * * * *",
              "failed to parse int from : strconv.Atoi: parsing \"\": invalid syntax");
  check_error("* * * * FOO",
              "failed to parse int from FOO: strconv.Atoi: parsing \"FOO\": invalid syntax");
  check_error("* * * JANUARY *", "failed to parse int from JANUARY: strconv.Atoi: parsing "
                                 "\"JANUARY\": invalid syntax");
  check_error("* * * * jan",
              "failed to parse int from jan: strconv.Atoi: parsing \"jan\": invalid syntax");
  check_error("99999999999999999999 * * * *",
              "failed to parse int from 99999999999999999999: strconv.Atoi: parsing "
              "\"99999999999999999999\": value out of range");
  check_error("*/1.5 * * * *",
              "failed to parse int from 1.5: strconv.Atoi: parsing \"1.5\": invalid syntax");
  check_error("@foo", "unrecognized descriptor: @foo");
  check_error("@Daily", "unrecognized descriptor: @Daily");
  check_error("@daily ", "unrecognized descriptor: @daily ");
  check_error("@every", "unrecognized descriptor: @every");
  check_error("@every ", "failed to parse duration @every : time: invalid duration \"\"");
  check_error("@every 1x",
              "failed to parse duration @every 1x: time: unknown unit \"x\" in duration \"1x\"");
  check_error("@every 10", "failed to parse duration @every 10: time: missing unit in "
                           "duration \"10\"");
  check_error("@every 1h ", "failed to parse duration @every 1h : time: unknown unit \"h \" "
                            "in duration \"1h \"");
  check_error("@every .s", "failed to parse duration @every .s: time: invalid duration \".s\"");
  check_error("@every 9999999999h", "failed to parse duration @every 9999999999h: time: "
                                    "invalid duration \"9999999999h\"");
  check_error("TZ=Mars/Base * * * * *",
              "provided bad location Mars/Base: unknown time zone Mars/Base");
  check_error("TZ=UTC", "expected exactly 5 fields, found 0: []");
}

static void test_mentions_tz(void **state) {
  assert_true(cron_mentions_tz("TZ=UTC * * * * *"));
  assert_true(cron_mentions_tz("CRON_TZ=Europe/Berlin 0 0 * * *"));
  assert_true(cron_mentions_tz("0 0 * * * TZ"));
  assert_false(cron_mentions_tz("0 0 * * *"));
  assert_false(cron_mentions_tz("tz=UTC 0 0 * * *"));
  assert_int_equal(strlen(CRON_TZ_IN_SCHEDULE_MESSAGE), 64);

  /* The parser itself accepts the prefix, as robfig does. */
  _cleanup_cron_ struct cron_schedule *s = NULL;
  assert_int_equal(cron_parse("CRON_TZ=Europe/Berlin 0 0 * * *", &s, NULL), 0);
}

/* Walking a whole year of an every-5-minutes schedule gives every 5th minute, in order. */
static void test_walk(void **state) {
  _cleanup_cron_ struct cron_schedule *s = NULL;
  assert_int_equal(cron_parse("*/5 * * * *", &s, NULL), 0);
  time_t t = ts("2024-01-01T00:00:00Z"), end = ts("2025-01-01T00:00:00Z");
  long n = 0;
  while (t < end) {
    time_t next;
    assert_int_equal(cron_next(s, NULL, t, &next), 0);
    assert_int_equal(next - t, 300);
    t = next;
    n++;
  }
  assert_int_equal(n, 366 * 288);

  /* In Berlin a daily 02:30 fires 366 times in 2024: skipped once in March, twice in October. */
  _cleanup_cron_ struct cron_schedule *d = NULL;
  _cleanup_tzfile_ struct tzfile *tz = NULL;
  assert_int_equal(cron_parse("30 2 * * *", &d, NULL), 0);
  assert_int_equal(tzfile_load("Europe/Berlin", &tz, NULL), 0);
  t = ts("2024-01-01T00:00:00+0100");
  end = ts("2025-01-01T00:00:00+0100");
  n = 0;
  for (;;) {
    time_t next;
    assert_int_equal(cron_next(d, tz, t, &next), 0);
    if (next >= end)
      break;
    assert_true(next > t);
    t = next;
    n++;
  }
  assert_int_equal(n, 366);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_robfig_next),
      cmocka_unit_test(test_robfig_activation),
      cmocka_unit_test(test_kubernetes_schedules),
      cmocka_unit_test(test_zones),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_mentions_tz),
      cmocka_unit_test(test_walk),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
