/* tzfile.c — TZif reader and Go-compatible local-time conversions. */
#include "lib/tzfile.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fileio.h"
#include "lib/macro.h"

#define DAY 86400
#define TZFILE_MAX_SIZE (1 << 20)

struct tz_type {
  int32_t utoff;
  bool isdst;
  uint32_t abbr; /* index into chars */
};

/* One end of the DST season of a POSIX TZ string: "Jn", "n" or "Mm.w.d", then "/time". */
struct tz_rule_day {
  char kind; /* 'J', 'D' or 'M' */
  int day, week, mon;
  int32_t time; /* seconds after local midnight; may be negative or beyond 24h */
};

struct tz_rule {
  bool present, has_dst;
  int32_t std_off, dst_off; /* seconds east of UTC */
  char std_name[32], dst_name[32];
  struct tz_rule_day start, end;
};

struct tzfile {
  char *name;
  size_t ntrans;
  int64_t *when;
  uint8_t *idx;
  size_t ntypes;
  struct tz_type *types;
  char *chars; /* charcnt bytes plus a NUL, so every abbreviation ends */
  size_t nchars;
  struct tz_rule rule;
};

/* ---- calendar arithmetic on the proleptic Gregorian calendar, in 64 bits ---- */

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = floor_div(y, 400);
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  z += 719468;
  int64_t era = floor_div(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y) {
  return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static int days_in_month(int64_t y, int m) {
  static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* ---- POSIX TZ strings, parsed with the limits Go's tzset applies ---- */

static bool tz_num(const char **s, int min, int max, int *ret) {
  const char *p = *s;
  int n = 0;
  if (!isdigit((unsigned char)*p))
    return false;
  for (; isdigit((unsigned char)*p); p++) {
    n = n * 10 + (*p - '0');
    if (n > max)
      return false;
  }
  if (n < min)
    return false;
  *s = p;
  *ret = n;
  return true;
}

/* [+-]hh[:mm[:ss]], hours up to 167 (RFC 8536 version 3). West-positive as written. */
static bool tz_offset(const char **s, int32_t *ret) {
  const char *p = *s;
  bool neg = false;
  int h, m = 0, sec = 0;
  if (*p == '+' || *p == '-')
    neg = *p++ == '-';
  if (!tz_num(&p, 0, 24 * 7, &h))
    return false;
  if (*p == ':') {
    p++;
    if (!tz_num(&p, 0, 59, &m))
      return false;
    if (*p == ':') {
      p++;
      if (!tz_num(&p, 0, 59, &sec))
        return false;
    }
  }
  int32_t off = h * 3600 + m * 60 + sec;
  *ret = neg ? -off : off;
  *s = p;
  return true;
}

static bool tz_name(const char **s, char *buf, size_t size) {
  const char *p = *s, *b, *e;
  if (*p == '<') {
    b = ++p;
    while (*p && *p != '>')
      p++;
    if (*p != '>')
      return false;
    e = p++;
  } else {
    b = p;
    while (*p && !isdigit((unsigned char)*p) && *p != ',' && *p != '-' && *p != '+')
      p++;
    e = p;
    if (e - b < 3)
      return false;
  }
  if ((size_t)(e - b) >= size)
    return false;
  memcpy(buf, b, e - b);
  buf[e - b] = 0;
  *s = p;
  return true;
}

static bool tz_rule_day(const char **s, struct tz_rule_day *r) {
  const char *p = *s;
  *r = (struct tz_rule_day){.time = 2 * 3600};
  if (*p == 'J') {
    p++;
    r->kind = 'J';
    if (!tz_num(&p, 1, 365, &r->day))
      return false;
  } else if (*p == 'M') {
    p++;
    r->kind = 'M';
    if (!tz_num(&p, 1, 12, &r->mon) || *p++ != '.' || !tz_num(&p, 1, 5, &r->week) || *p++ != '.' ||
        !tz_num(&p, 0, 6, &r->day))
      return false;
  } else {
    r->kind = 'D';
    if (!tz_num(&p, 0, 365, &r->day))
      return false;
  }
  if (*p == '/') {
    p++;
    if (!tz_offset(&p, &r->time))
      return false;
  }
  *s = p;
  return true;
}

static bool tz_rule_parse(const char *s, struct tz_rule *r) {
  *r = (struct tz_rule){0};
  int32_t off;
  if (!tz_name(&s, r->std_name, sizeof(r->std_name)) || !tz_offset(&s, &off))
    return false;
  r->std_off = -off;
  if (*s == 0 || *s == ',') {
    r->present = true;
    return true; /* no daylight saving time; trailing rules are ignored, as in Go */
  }
  if (!tz_name(&s, r->dst_name, sizeof(r->dst_name)))
    return false;
  r->dst_off = r->std_off + 3600;
  if (*s != 0 && *s != ',' && *s != ';') {
    if (!tz_offset(&s, &off))
      return false;
    r->dst_off = -off;
  }
  /* POSIX leaves the default rules to the implementation; Go (and glibc) use the US ones. */
  if (*s == 0)
    s = ",M3.2.0,M11.1.0";
  if (*s != ',' && *s != ';')
    return false;
  s++;
  if (!tz_rule_day(&s, &r->start) || (*s != ',' && *s != ';'))
    return false;
  s++;
  if (!tz_rule_day(&s, &r->end) || *s != 0)
    return false;
  r->has_dst = r->present = true;
  return true;
}

/* Seconds from the start of `year` (UTC) to the instant rule day r falls, with `off` the
 * offset in force just before it. */
static int64_t tz_rule_time(int64_t year, const struct tz_rule_day *r, int32_t off) {
  int64_t d;
  if (r->kind == 'J') {
    d = r->day - 1 + (is_leap(year) && r->day >= 60);
  } else if (r->kind == 'D') {
    d = r->day;
  } else {
    int64_t first = days_from_civil(year, r->mon, 1);
    int wday_first = (int)(((first + 4) % 7 + 7) % 7);
    int dom = (r->day - wday_first + 7) % 7; /* zero-based day of the first such weekday */
    for (int i = 1; i < r->week && dom + 7 < days_in_month(year, r->mon); i++)
      dom += 7;
    d = first - days_from_civil(year, 1, 1) + dom;
  }
  return d * DAY + r->time - off;
}

static void tz_rule_lookup(const struct tzfile *tz, int64_t last_tx, int64_t t,
                           struct tzfile_period *ret) {
  const struct tz_rule *r = &tz->rule;
  if (!r->has_dst) {
    *ret = (struct tzfile_period){r->std_off, false, r->std_name, last_tx, INT64_MAX};
    return;
  }
  /* Keeps the year arithmetic below far from overflow; no calendar matters out there. */
  const int64_t limit = INT64_C(1) << 52;
  t = t < -limit ? -limit : t > limit ? limit : t;
  int64_t y;
  int m, d;
  civil_from_days(floor_div(t, DAY), &y, &m, &d);
  int64_t ystart = days_from_civil(y, 1, 1) * DAY;
  int64_t ysec = t - ystart;
  int64_t s = tz_rule_time(y, &r->start, r->std_off);
  int64_t e = tz_rule_time(y, &r->end, r->dst_off);
  struct tzfile_period std = {r->std_off, false, r->std_name};
  struct tzfile_period dst = {r->dst_off, true, r->dst_name};
  if (e < s) { /* southern hemisphere: the season given as "DST" spans the new year */
    int64_t x = s;
    s = e;
    e = x;
    struct tzfile_period p = std;
    std = dst;
    dst = p;
  }
  /* As in Go, the bounds are exact next to a transition and otherwise the year's ends; the
   * only consumer, tzfile_mktime, needs no more. */
  if (ysec < s) {
    *ret = std;
    ret->start = ystart;
    ret->end = ystart + s;
  } else if (ysec >= e) {
    *ret = std;
    ret->start = ystart + e;
    ret->end = ystart + 365 * DAY;
  } else {
    *ret = dst;
    ret->start = ystart + s;
    ret->end = ystart + e;
  }
}

/* ---- TZif ---- */

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p) {
  return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_header {
  char version;
  uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static int tzif_header(const uint8_t *p, size_t len, struct tzif_header *h, char **ret_err) {
  if (len < 44 || memcmp(p, "TZif", 4) != 0)
    return set_error(ret_err, -EINVAL, "malformed time zone information: bad header");
  *h = (struct tzif_header){(char)p[4],   be32(p + 20), be32(p + 24), be32(p + 28),
                            be32(p + 32), be32(p + 36), be32(p + 40)};
  if (h->typecnt == 0 || h->typecnt > 256)
    return set_error(ret_err, -EINVAL, "malformed time zone information: %u time types",
                     h->typecnt);
  return 0;
}

static size_t tzif_block_size(const struct tzif_header *h, size_t tsize) {
  return (size_t)h->timecnt * (tsize + 1) + (size_t)h->typecnt * 6 + h->charcnt +
         (size_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

/* Reads one data block (after its header) with `tsize`-byte transition times. */
static int tzif_block(struct tzfile *tz, const struct tzif_header *h, const uint8_t *p,
                      size_t tsize, char **ret_err) {
  tz->ntrans = h->timecnt;
  tz->when = xcalloc(h->timecnt + 1, sizeof(int64_t));
  tz->idx = xcalloc(h->timecnt + 1, 1);
  for (size_t i = 0; i < h->timecnt; i++, p += tsize) {
    tz->when[i] = tsize == 8 ? be64(p) : (int32_t)be32(p);
    if (i > 0 && tz->when[i] <= tz->when[i - 1])
      return set_error(ret_err, -EINVAL,
                       "malformed time zone information: transitions out of order");
  }
  for (size_t i = 0; i < h->timecnt; i++, p++) {
    if (*p >= h->typecnt)
      return set_error(ret_err, -EINVAL,
                       "malformed time zone information: transition to type %u of %u", *p,
                       h->typecnt);
    tz->idx[i] = *p;
  }
  tz->ntypes = h->typecnt;
  tz->types = xcalloc(h->typecnt, sizeof(*tz->types));
  for (size_t i = 0; i < h->typecnt; i++, p += 6) {
    tz->types[i] = (struct tz_type){(int32_t)be32(p), p[4] != 0, p[5]};
    if (p[5] >= h->charcnt)
      return set_error(ret_err, -EINVAL,
                       "malformed time zone information: abbreviation index out of range");
  }
  tz->nchars = h->charcnt;
  tz->chars = xcalloc(h->charcnt + 1, 1);
  memcpy(tz->chars, p, h->charcnt);
  /* A file without transitions describes all time with type 0 (or its footer), as though
   * it had one transition at the beginning of time. */
  if (tz->ntrans == 0) {
    tz->ntrans = 1;
    tz->when[0] = INT64_MIN;
    tz->idx[0] = 0;
  }
  return 0;
}

static struct tzfile *tzfile_utc(const char *name, const char *abbr) {
  struct tzfile *tz = xcalloc(1, sizeof(*tz));
  tz->name = xstrdup(name);
  tz->ntrans = 1;
  tz->when = xmalloc(sizeof(int64_t));
  tz->when[0] = INT64_MIN;
  tz->idx = xcalloc(1, 1);
  tz->ntypes = 1;
  tz->types = xcalloc(1, sizeof(*tz->types));
  tz->chars = xstrdup(abbr);
  tz->nchars = strlen(abbr) + 1;
  return tz;
}

int tzfile_parse(const void *buf, size_t len, struct tzfile **ret, char **ret_err) {
  const uint8_t *p = buf;
  struct tzif_header h;
  int r = tzif_header(p, len, &h, ret_err);
  if (r < 0)
    return r;
  size_t tsize = 4, v1size = tzif_block_size(&h, 4);
  if (v1size > len - 44)
    return set_error(ret_err, -EINVAL, "malformed time zone information: truncated");
  p += 44;
  len -= 44;
  bool v2 = h.version >= '2';
  if (v2) {
    p += v1size;
    len -= v1size;
    r = tzif_header(p, len, &h, ret_err);
    if (r < 0)
      return r;
    p += 44;
    len -= 44;
    tsize = 8;
    if (tzif_block_size(&h, 8) > len)
      return set_error(ret_err, -EINVAL, "malformed time zone information: truncated");
  }
  _cleanup_tzfile_ struct tzfile *tz = xcalloc(1, sizeof(*tz));
  tz->name = xstrdup("");
  r = tzif_block(tz, &h, p, tsize, ret_err);
  if (r < 0)
    return r;
  if (v2) {
    size_t bsize = tzif_block_size(&h, 8);
    const char *f = (const char *)p + bsize;
    size_t flen = len - bsize;
    const char *nl = flen > 1 && f[0] == '\n' ? memchr(f + 1, '\n', flen - 1) : NULL;
    if (nl && nl > f + 1) {
      _cleanup_free_ char *footer = xstrndup(f + 1, nl - f - 1);
      if (strlen(footer) == (size_t)(nl - f - 1) && !tz_rule_parse(footer, &tz->rule))
        tz->rule = (struct tz_rule){0};
    }
  }
  *ret = TAKE_PTR(tz);
  return 0;
}

void tzfile_free(struct tzfile *tz) {
  if (!tz)
    return;
  free(tz->name);
  free(tz->when);
  free(tz->idx);
  free(tz->types);
  free(tz->chars);
  free(tz);
}

const char *tzfile_name(const struct tzfile *tz) {
  return tz ? tz->name : "UTC";
}

bool tzfile_name_valid(const char *name) {
  const char *p = name;
  for (;;) {
    size_t n = strcspn(p, "/");
    if (n == 0 || n > 14 || p[0] == '-' || (n == 1 && p[0] == '.') ||
        (n == 2 && p[0] == '.' && p[1] == '.'))
      return false;
    for (size_t i = 0; i < n; i++)
      if (!isalnum((unsigned char)p[i]) && !strchr("._-+", p[i]))
        return false;
    if (!p[n])
      return true;
    p += n + 1;
  }
}

static const char *utc_alias_abbr(const char *name) {
  static const char *const utc[] = {"Etc/UTC",   "Etc/UCT",  "UCT", "Etc/Universal",
                                    "Universal", "Etc/Zulu", "Zulu"};
  static const char *const gmt[] = {"Etc/GMT",       "GMT",      "Etc/GMT0",  "GMT0",
                                    "Etc/GMT+0",     "GMT+0",    "Etc/GMT-0", "GMT-0",
                                    "Etc/Greenwich", "Greenwich"};
  for (size_t i = 0; i < ARRAY_SIZE(utc); i++)
    if (streq(name, utc[i]))
      return "UTC";
  for (size_t i = 0; i < ARRAY_SIZE(gmt); i++)
    if (streq(name, gmt[i]))
      return "GMT";
  return NULL;
}

int tzfile_load(const char *name, struct tzfile **ret, char **ret_err) {
  if (streq(name, "") || streq(name, "UTC") || streq(name, "Local")) {
    *ret = tzfile_utc(name, "UTC");
    return 0;
  }
  if (name[0] == '/' || !tzfile_name_valid(name))
    return set_error(ret_err, -ENOENT, "unknown time zone %s", name);

  const char *env = secure_getenv("ZONEINFO");
  const char *dirs[] = {env && *env ? env : NULL, "/usr/share/zoneinfo", "/usr/share/lib/zoneinfo",
                        "/usr/lib/locale/TZ"};
  int r = -ENOENT;
  for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
    if (!dirs[i])
      continue;
    _cleanup_free_ char *path = xasprintf("%s/%s", dirs[i], name);
    _cleanup_free_ char *data = NULL;
    size_t len;
    if (fileio_read_all(path, TZFILE_MAX_SIZE, &data, &len) < 0)
      continue;
    struct tzfile *tz;
    r = tzfile_parse(data, len, &tz, NULL);
    if (r == 0) {
      free(tz->name);
      tz->name = xstrdup(name);
      *ret = tz;
      return 0;
    }
  }
  const char *abbr = utc_alias_abbr(name);
  if (abbr && r == -ENOENT) {
    *ret = tzfile_utc(name, abbr);
    return 0;
  }
  return set_error(ret_err, r, "unknown time zone %s", name);
}

/* ---- conversions ---- */

void tzfile_lookup(const struct tzfile *tz, int64_t t, struct tzfile_period *ret) {
  if (!tz) {
    *ret = (struct tzfile_period){0, false, "UTC", INT64_MIN, INT64_MAX};
    return;
  }
  if (t < tz->when[0]) {
    const struct tz_type *ty = &tz->types[0];
    *ret =
        (struct tzfile_period){ty->utoff, ty->isdst, tz->chars + ty->abbr, INT64_MIN, tz->when[0]};
    return;
  }
  size_t lo = 0, hi = tz->ntrans;
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (t < tz->when[mid])
      hi = mid;
    else
      lo = mid;
  }
  if (lo == tz->ntrans - 1 && tz->rule.present) {
    tz_rule_lookup(tz, tz->when[lo], t, ret);
    return;
  }
  const struct tz_type *ty = &tz->types[tz->idx[lo]];
  *ret = (struct tzfile_period){ty->utoff, ty->isdst, tz->chars + ty->abbr, tz->when[lo],
                                hi < tz->ntrans ? tz->when[hi] : INT64_MAX};
}

long tzfile_offset(const struct tzfile *tz, time_t t) {
  struct tzfile_period p;
  tzfile_lookup(tz, t, &p);
  return p.offset;
}

int tzfile_localtime(const struct tzfile *tz, time_t t, struct tm *ret) {
  struct tzfile_period p;
  tzfile_lookup(tz, t, &p);
  int64_t local;
  if (__builtin_add_overflow((int64_t)t, (int64_t)p.offset, &local))
    return -EOVERFLOW;
  int64_t days = floor_div(local, DAY), secs = ((local % DAY) + DAY) % DAY, y;
  int m, d;
  civil_from_days(days, &y, &m, &d);
  if (y - 1900 > INT_MAX || y - 1900 < INT_MIN)
    return -EOVERFLOW;
  *ret = (struct tm){
      .tm_sec = (int)(secs % 60),
      .tm_min = (int)(secs / 60 % 60),
      .tm_hour = (int)(secs / 3600),
      .tm_mday = d,
      .tm_mon = m - 1,
      .tm_year = (int)(y - 1900),
      .tm_wday = (int)(((days + 4) % 7 + 7) % 7),
      .tm_yday = (int)(days - days_from_civil(y, 1, 1)),
      .tm_isdst = p.isdst,
      .tm_gmtoff = p.offset,
      .tm_zone = p.abbr,
  };
  return 0;
}

int tzfile_mktime(const struct tzfile *tz, const struct tm *tm, time_t *ret) {
  int64_t y = (int64_t)tm->tm_year + 1900 + floor_div(tm->tm_mon, 12);
  int m = (int)(tm->tm_mon - floor_div(tm->tm_mon, 12) * 12) + 1;
  int64_t days = days_from_civil(y, m, 1) + (int64_t)tm->tm_mday - 1;
  int64_t local_secs =
      days * DAY + (int64_t)tm->tm_hour * 3600 + (int64_t)tm->tm_min * 60 + tm->tm_sec;
  struct tzfile_period p;
  tzfile_lookup(tz, local_secs, &p);
  if (p.offset != 0) {
    int64_t utc = local_secs - p.offset;
    if (utc < p.start || utc >= p.end)
      tzfile_lookup(tz, utc, &p);
    local_secs -= p.offset;
  }
  if ((time_t)local_secs != local_secs)
    return -EOVERFLOW;
  *ret = (time_t)local_secs;
  return 0;
}
