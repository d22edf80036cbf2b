#include "lib/timeutil.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "lib/macro.h"

char *timeutil_format(time_t t) {
  struct tm tm;
  gmtime_r(&t, &tm);
  return xasprintf("%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                   tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

char *timeutil_format_micro(const struct timespec *ts) {
  struct tm tm;
  gmtime_r(&ts->tv_sec, &tm);
  return xasprintf("%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                   tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(ts->tv_nsec / 1000));
}

char *timeutil_now(void) { return timeutil_format(time(NULL)); }

char *timeutil_now_micro(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return timeutil_format_micro(&ts);
}

static int digits(const char **pp, int n) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    char c = (*pp)[i];
    if (c < '0' || c > '9')
      return -1;
    v = v * 10 + (c - '0');
  }
  *pp += n;
  return v;
}

static int expect(const char **pp, char c) {
  if (**pp != c)
    return -1;
  (*pp)++;
  return 0;
}

static bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int timeutil_parse(const char *s, struct timespec *ret) {
  const char *p = s;
  int year = digits(&p, 4);
  if (year < 0 || expect(&p, '-') < 0)
    return -EINVAL;
  int mon = digits(&p, 2);
  if (mon < 1 || mon > 12 || expect(&p, '-') < 0)
    return -EINVAL;
  int day = digits(&p, 2);
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (day < 1 || day > mdays[mon - 1] + (mon == 2 && leap(year)) || expect(&p, 'T') < 0)
    return -EINVAL;
  int hour = digits(&p, 2);
  if (hour < 0 || hour > 23 || expect(&p, ':') < 0)
    return -EINVAL;
  int min = digits(&p, 2);
  if (min < 0 || min > 59 || expect(&p, ':') < 0)
    return -EINVAL;
  int sec = digits(&p, 2);
  if (sec < 0 || sec > 59)
    return -EINVAL;
  long nsec = 0;
  if (*p == '.' || *p == ',') {
    p++;
    int n = 0;
    long scale = 100000000;
    while (*p >= '0' && *p <= '9') {
      if (n < 9)
        nsec += (*p - '0') * scale;
      scale /= 10;
      n++;
      p++;
    }
    if (n == 0)
      return -EINVAL;
  }
  long offset = 0;
  if (*p == 'Z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int sign = *p++ == '-' ? -1 : 1;
    int oh = digits(&p, 2);
    if (oh < 0 || oh > 23 || expect(&p, ':') < 0)
      return -EINVAL;
    int om = digits(&p, 2);
    if (om < 0 || om > 59)
      return -EINVAL;
    offset = sign * (oh * 3600L + om * 60L);
  } else {
    return -EINVAL;
  }
  if (*p)
    return -EINVAL;
  struct tm tm = {.tm_year = year - 1900, .tm_mon = mon - 1, .tm_mday = day,
                  .tm_hour = hour, .tm_min = min, .tm_sec = sec};
  ret->tv_sec = timegm(&tm) - offset;
  ret->tv_nsec = nsec;
  return 0;
}

/* "<major><unit>" followed by "<minor><unit>" unless minor is 0: "5m12s", "3h", "2d5h". */
static const char *units(char *buf, size_t size, int64_t major, char major_unit, int64_t minor,
                         char minor_unit) {
  if (minor == 0)
    snprintf(buf, size, "%lld%c", (long long)major, major_unit);
  else
    snprintf(buf, size, "%lld%c%lld%c", (long long)major, major_unit, (long long)minor, minor_unit);
  return buf;
}

const char *timeutil_human_duration(int64_t ns, char *buf, size_t size) {
  /* Up to a second in the future reads as "now": clocks of machines disagree a little. */
  int64_t seconds = ns / 1000000000;
  if (seconds < -1) {
    snprintf(buf, size, "<invalid>");
    return buf;
  }
  if (seconds < 0)
    return units(buf, size, 0, 's', 0, 's');
  if (seconds < 60 * 2)
    return units(buf, size, seconds, 's', 0, 's');
  int64_t minutes = seconds / 60;
  if (minutes < 10)
    return units(buf, size, minutes, 'm', seconds % 60, 's');
  if (minutes < 60 * 3)
    return units(buf, size, minutes, 'm', 0, 's');
  int64_t hours = seconds / 3600;
  if (hours < 8)
    return units(buf, size, hours, 'h', minutes % 60, 'm');
  if (hours < 48)
    return units(buf, size, hours, 'h', 0, 'm');
  if (hours < 24 * 8)
    return units(buf, size, hours / 24, 'd', hours % 24, 'h');
  if (hours < 24 * 365 * 2)
    return units(buf, size, hours / 24, 'd', 0, 'h');
  if (hours < 24 * 365 * 8)
    return units(buf, size, hours / 24 / 365, 'y', (hours / 24) % 365, 'd');
  return units(buf, size, hours / 24 / 365, 'y', 0, 'd');
}

char *timeutil_age(const char *timestamp, const struct timespec *now) {
  struct timespec t;
  if (!timestamp || !*timestamp || timeutil_parse(timestamp, &t) < 0)
    return xstrdup("<unknown>");
  int64_t ns = ((int64_t)now->tv_sec - t.tv_sec) * 1000000000 + (now->tv_nsec - t.tv_nsec);
  char buf[32];
  return xstrdup(timeutil_human_duration(ns, buf, sizeof(buf)));
}

int timeutil_parse_duration(const char *s, int64_t *ret_ns) {
  static const struct {
    const char *unit;
    int64_t ns;
  } units[] = {{"ns", 1},           {"us", 1000},          {"\xc2\xb5s", 1000},
               {"\xce\xbcs", 1000}, {"ms", 1000000},       {"s", 1000000000LL},
               {"m", 60000000000LL}, {"h", 3600000000000LL}};
  if (!s || !*s)
    return -EINVAL;
  bool neg = false;
  if (*s == '-' || *s == '+')
    neg = *s++ == '-';
  if (strcmp(s, "0") == 0) {
    *ret_ns = 0;
    return 0;
  }
  if (!*s)
    return -EINVAL;
  double total = 0;
  while (*s) {
    if (!((*s >= '0' && *s <= '9') || *s == '.'))
      return -EINVAL;
    char *end;
    double v = strtod(s, &end);
    if (end == s)
      return -EINVAL;
    s = end;
    size_t best = 0, best_len = 0;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
      size_t l = strlen(units[i].unit);
      /* "ms" must win over "m": take the longest unit that matches. */
      if (strncmp(s, units[i].unit, l) == 0 && l > best_len) {
        best = i;
        best_len = l;
      }
    }
    if (!best_len)
      return -EINVAL;
    s += best_len;
    total += v * (double)units[best].ns;
    if (total > 9.2e18)
      return -ERANGE;
  }
  *ret_ns = (int64_t)(neg ? -total : total);
  return 0;
}
