#include "lib/timeutil.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "lib/macro.h"
#include "lib/strbuf.h"

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

/* time's quote(): non-ASCII and control bytes as \xNN, as ParseDuration's errors show them. */
static void go_time_quote(struct strbuf *b, const char *s, size_t n) {
  strbuf_appendc(b, '"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x80 || c < 0x20)
      strbuf_appendf(b, "\\x%02x", c);
    else if (c == '"' || c == '\\')
      strbuf_appendf(b, "\\%c", c);
    else
      strbuf_appendc(b, (char)c);
  }
  strbuf_appendc(b, '"');
}

/* Go's texts: `time: <what>"<orig>"`, or `time: unknown unit "<u>" in duration "<orig>"`. */
static int duration_error(int r, char **ret_err, const char *what, const char *u, size_t ulen,
                          const char *orig) {
  if (!ret_err)
    return r;
  struct strbuf b = {0};
  strbuf_appendf(&b, "time: %s", what);
  if (u) {
    go_time_quote(&b, u, ulen);
    strbuf_appends(&b, " in duration ");
  }
  go_time_quote(&b, orig, strlen(orig));
  *ret_err = strbuf_take(&b, NULL);
  return r;
}

/* Integer arithmetic throughout, as time.ParseDuration, so that fractions round as Go's do
 * and every overflow is caught where Go catches it. */
int timeutil_parse_duration_msg(const char *orig, int64_t *ret_ns, char **ret_err) {
  static const struct {
    const char *name;
    uint64_t ns;
  } units[] = {{"ns", 1},       {"us", 1000},      {"\xc2\xb5s", 1000}, {"\xce\xbcs", 1000},
               {"ms", 1000000}, {"s", 1000000000}, {"m", 60000000000},  {"h", 3600000000000}};
  const uint64_t lim = UINT64_C(1) << 63;
  if (!orig)
    orig = "";
  const char *s = orig;
  bool neg = false;
  uint64_t d = 0;
  if (*s == '-' || *s == '+')
    neg = *s++ == '-';
  if (streq(s, "0")) {
    *ret_ns = 0;
    return 0;
  }
  if (!*s)
    return duration_error(-EINVAL, ret_err, "invalid duration ", NULL, 0, orig);
  while (*s) {
    uint64_t v = 0, f = 0;
    double scale = 1;
    if (!(*s == '.' || (*s >= '0' && *s <= '9')))
      return duration_error(-EINVAL, ret_err, "invalid duration ", NULL, 0, orig);
    const char *p = s;
    for (; *s >= '0' && *s <= '9'; s++) {
      if (v > lim / 10)
        return duration_error(-ERANGE, ret_err, "invalid duration ", NULL, 0, orig);
      v = v * 10 + (uint64_t)(*s - '0');
      if (v > lim)
        return duration_error(-ERANGE, ret_err, "invalid duration ", NULL, 0, orig);
    }
    bool pre = s != p, post = false;
    if (*s == '.') {
      p = ++s;
      bool overflow = false;
      /* Digits past what fits are dropped, not refused: Go keeps the precision it can. */
      for (; *s >= '0' && *s <= '9'; s++) {
        if (overflow)
          continue;
        if (f > (lim - 1) / 10) {
          overflow = true;
          continue;
        }
        uint64_t y = f * 10 + (uint64_t)(*s - '0');
        if (y > lim) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      post = s != p;
    }
    if (!pre && !post)
      return duration_error(-EINVAL, ret_err, "invalid duration ", NULL, 0, orig);
    p = s;
    while (*s && *s != '.' && !(*s >= '0' && *s <= '9'))
      s++;
    if (s == p)
      return duration_error(-EINVAL, ret_err, "missing unit in duration ", NULL, 0, orig);
    uint64_t unit = 0;
    for (size_t i = 0; i < ARRAY_SIZE(units); i++)
      if (strlen(units[i].name) == (size_t)(s - p) && memcmp(units[i].name, p, s - p) == 0)
        unit = units[i].ns;
    if (!unit)
      return duration_error(-EINVAL, ret_err, "unknown unit ", p, s - p, orig);
    if (v > lim / unit)
      return duration_error(-ERANGE, ret_err, "invalid duration ", NULL, 0, orig);
    v *= unit;
    if (f > 0) {
      v += (uint64_t)((double)f * ((double)unit / scale));
      if (v > lim)
        return duration_error(-ERANGE, ret_err, "invalid duration ", NULL, 0, orig);
    }
    d += v;
    if (d > lim)
      return duration_error(-ERANGE, ret_err, "invalid duration ", NULL, 0, orig);
  }
  if (!neg && d > lim - 1)
    return duration_error(-ERANGE, ret_err, "invalid duration ", NULL, 0, orig);
  *ret_ns = neg ? (int64_t)(0 - d) : (int64_t)d;
  return 0;
}

int timeutil_parse_duration(const char *s, int64_t *ret_ns) {
  return timeutil_parse_duration_msg(s, ret_ns, NULL);
}

struct timespec timeutil_deadline(clockid_t clock, long long ms) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  ts.tv_sec += (time_t)(ms / 1000);
  ts.tv_nsec += (long)(ms % 1000) * 1000000L;
  /* A negative ms leaves tv_nsec below zero, which pthread_cond_timedwait refuses. */
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  } else if (ts.tv_nsec < 0) {
    ts.tv_sec--;
    ts.tv_nsec += 1000000000L;
  }
  return ts;
}

long long timeutil_now_ms(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
