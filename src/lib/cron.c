/* cron.c — robfig/cron v3's standard parser and SpecSchedule.Next, in C. */
#include "lib/cron.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/strbuf.h"
#include "lib/timeutil.h"

/* robfig marks a field that started with "*" or "?" in its top bit; day matching reads it. */
#define STAR_BIT (UINT64_C(1) << 63)

struct cron_schedule {
  int64_t every; /* seconds between activations of "@every d"; 0 for a field schedule */
  uint64_t minute, hour, dom, month, dow;
  struct tzfile *tz; /* from a TZ= prefix; NULL to use cron_next's zone */
};

struct bounds {
  unsigned min, max;
  const char *const *names; /* names[i] is value min + i */
};

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                          "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const dow_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};
static const struct bounds b_minute = {0, 59, NULL}, b_hour = {0, 23, NULL}, b_dom = {1, 31, NULL},
                           b_month = {1, 12, month_names}, b_dow = {0, 6, dow_names};

/* ---- Go's text conventions, for byte-identical messages ---- */

/* Length of the Unicode white-space character at p (Go's unicode.IsSpace), or 0. */
static size_t space_len(const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  if (*p == ' ' || (*p >= '\t' && *p <= '\r'))
    return 1;
  if (p[0] == 0xc2 && (p[1] == 0x85 || p[1] == 0xa0))
    return 2;
  if (p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80)
    return 3;
  if (p[0] == 0xe2 && p[1] == 0x80 &&
      (p[2] <= 0x8a || p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf) && p[2] >= 0x80)
    return 3;
  if (p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f)
    return 3;
  if (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80)
    return 3;
  return 0;
}

/* strconv.Quote, close enough for error texts: printable ASCII and UTF-8 pass through. */
static void go_quote(struct strbuf *b, const char *s, size_t n) {
  strbuf_appendc(b, '"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\')
      strbuf_appendf(b, "\\%c", c);
    else if (c >= '\a' && c <= '\r')
      strbuf_appendf(b, "\\%c", "abtnvfr"[c - '\a']);
    else if (c < 0x20 || c == 0x7f)
      strbuf_appendf(b, "\\x%02x", c);
    else
      strbuf_appendc(b, (char)c);
  }
  strbuf_appendc(b, '"');
}

/* strconv.Atoi, then robfig's refusal of negatives (mustParseInt). */
static int parse_uint(const char *s, size_t n, uint64_t *ret, char **ret_err) {
  size_t i = 0;
  bool neg = false;
  const char *why = NULL;
  uint64_t v = 0;
  if (n > 0 && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    i = 1;
  }
  if (i == n)
    why = "invalid syntax";
  for (; i < n && !why; i++) {
    if (!isdigit((unsigned char)s[i]))
      why = "invalid syntax";
    else if (v > UINT64_MAX / 10 || v * 10 > UINT64_MAX - (uint64_t)(s[i] - '0'))
      why = "value out of range";
    else
      v = v * 10 + (uint64_t)(s[i] - '0');
  }
  if (!why && (neg ? v > (UINT64_C(1) << 63) : v >= (UINT64_C(1) << 63)))
    why = "value out of range";
  if (why) {
    struct strbuf b = {0};
    strbuf_appendf(&b, "failed to parse int from %.*s: strconv.Atoi: parsing ", (int)n, s);
    go_quote(&b, s, n);
    strbuf_appendf(&b, ": %s", why);
    if (ret_err)
      *ret_err = strbuf_take(&b, NULL);
    else
      strbuf_clear(&b);
    return -EINVAL;
  }
  if (neg && v != 0)
    return set_error(ret_err, -EINVAL, "negative number (-%llu) not allowed: %.*s",
                     (unsigned long long)v, (int)n, s);
  *ret = v;
  return 0;
}

static int parse_int_or_name(const char *s, size_t n, const struct bounds *r, uint64_t *ret,
                             char **ret_err) {
  for (size_t i = 0; r->names && r->names[i]; i++)
    if (n == strlen(r->names[i]) && strncasecmp(s, r->names[i], n) == 0) {
      *ret = r->min + i;
      return 0;
    }
  return parse_uint(s, n, ret, ret_err);
}

/* ---- the fields ---- */

/* One comma-separated element: number | number "-" number [ "/" number ] | "*" ["/" n]. */
static int parse_range(const char *e, size_t n, const struct bounds *r, uint64_t *ret,
                       char **ret_err) {
  const char *slash = memchr(e, '/', n);
  size_t rlen = slash ? (size_t)(slash - e) : n;
  const char *dash = memchr(e, '-', rlen);
  size_t lowlen = dash ? (size_t)(dash - e) : rlen;
  uint64_t start, end, step = 1, extra = 0;
  int k;

  if ((lowlen == 1 && (e[0] == '*' || e[0] == '?'))) {
    start = r->min;
    end = r->max;
    extra = STAR_BIT;
  } else {
    k = parse_int_or_name(e, lowlen, r, &start, ret_err);
    if (k < 0)
      return k;
    end = start;
    if (dash) {
      const char *hi = dash + 1;
      size_t hilen = rlen - lowlen - 1;
      if (memchr(hi, '-', hilen))
        return set_error(ret_err, -EINVAL, "too many hyphens: %.*s", (int)n, e);
      k = parse_int_or_name(hi, hilen, r, &end, ret_err);
      if (k < 0)
        return k;
    }
  }
  if (slash) {
    const char *st = slash + 1;
    size_t stlen = n - rlen - 1;
    if (memchr(st, '/', stlen))
      return set_error(ret_err, -EINVAL, "too many slashes: %.*s", (int)n, e);
    k = parse_uint(st, stlen, &step, ret_err);
    if (k < 0)
      return k;
    /* "N/step" means "N-max/step". */
    if (!dash)
      end = r->max;
    if (step > 1)
      extra = 0;
  }
  if (start < r->min)
    return set_error(ret_err, -EINVAL, "beginning of range (%llu) below minimum (%u): %.*s",
                     (unsigned long long)start, r->min, (int)n, e);
  if (end > r->max)
    return set_error(ret_err, -EINVAL, "end of range (%llu) above maximum (%u): %.*s",
                     (unsigned long long)end, r->max, (int)n, e);
  if (start > end)
    return set_error(ret_err, -EINVAL, "beginning of range (%llu) beyond end of range (%llu): %.*s",
                     (unsigned long long)start, (unsigned long long)end, (int)n, e);
  if (step == 0)
    return set_error(ret_err, -EINVAL, "step of range should be a positive number: %.*s", (int)n,
                     e);
  uint64_t bits = 0;
  for (uint64_t i = start; i <= end; i += step)
    bits |= UINT64_C(1) << i;
  *ret = bits | extra;
  return 0;
}

static int parse_field(const char *f, const struct bounds *r, uint64_t *ret, char **ret_err) {
  uint64_t bits = 0;
  while (*f) {
    size_t n = strcspn(f, ",");
    if (n > 0) { /* empty elements vanish, as with strings.FieldsFunc */
      uint64_t b = 0;
      int k = parse_range(f, n, r, &b, ret_err);
      if (k < 0)
        return k;
      bits |= b;
    }
    f += n + (f[n] == ',');
  }
  *ret = bits;
  return 0;
}

static uint64_t all_bits(const struct bounds *r) {
  uint64_t bits = 0;
  for (unsigned i = r->min; i <= r->max; i++)
    bits |= UINT64_C(1) << i;
  return bits | STAR_BIT;
}

/* ---- parsing ---- */

static int parse_descriptor(const char *d, struct cron_schedule *s, char **ret_err) {
  struct tzfile *tz = s->tz;
  uint64_t min = UINT64_C(1) << 0, hour = UINT64_C(1) << 0, dom1 = UINT64_C(1) << 1;
  if (streq(d, "@yearly") || streq(d, "@annually")) {
    *s = (struct cron_schedule){0, min, hour, dom1, UINT64_C(1) << 1, all_bits(&b_dow)};
  } else if (streq(d, "@monthly")) {
    *s = (struct cron_schedule){0, min, hour, dom1, all_bits(&b_month), all_bits(&b_dow)};
  } else if (streq(d, "@weekly")) {
    *s = (struct cron_schedule){0, min, hour, all_bits(&b_dom), all_bits(&b_month), 1};
  } else if (streq(d, "@daily") || streq(d, "@midnight")) {
    *s = (struct cron_schedule){
        0, min, hour, all_bits(&b_dom), all_bits(&b_month), all_bits(&b_dow)};
  } else if (streq(d, "@hourly")) {
    *s = (struct cron_schedule){
        0, min, all_bits(&b_hour), all_bits(&b_dom), all_bits(&b_month), all_bits(&b_dow)};
  } else if (startswith(d, "@every ")) {
    int64_t ns;
    _cleanup_free_ char *why = NULL;
    if (timeutil_parse_duration_msg(d + strlen("@every "), &ns, ret_err ? &why : NULL) < 0)
      return set_error(ret_err, -EINVAL, "failed to parse duration %s: %s", d, why);
    /* Every(): at least a second, and whole seconds only. */
    s->every = ns < 1000000000 ? 1 : ns / 1000000000;
  } else {
    return set_error(ret_err, -EINVAL, "unrecognized descriptor: %s", d);
  }
  s->tz = tz;
  return 0;
}

bool cron_mentions_tz(const char *spec) {
  return strstr(spec, "TZ") != NULL;
}

int cron_parse(const char *spec, struct cron_schedule **ret, char **ret_err) {
  if (!*spec)
    return set_error(ret_err, -EINVAL, "empty spec string");
  _cleanup_cron_ struct cron_schedule *s = xcalloc(1, sizeof(*s));
  _cleanup_free_ char *rest = NULL;

  if (startswith(spec, "TZ=") || startswith(spec, "CRON_TZ=")) {
    const char *eq = strchr(spec, '='), *sp = strchr(spec, ' ');
    /* robfig slices up to the first space and would crash without one; ckube reads the
     * whole text as the zone and finds no fields after it. */
    _cleanup_free_ char *name = sp ? xstrndup(eq + 1, sp - eq - 1) : xstrdup(eq + 1);
    _cleanup_free_ char *err = NULL;
    if (tzfile_load(name, &s->tz, &err) < 0)
      return set_error(ret_err, -EINVAL, "provided bad location %s: %s", name, err);
    const char *b = sp ? sp : spec + strlen(spec), *e;
    for (size_t n; (n = space_len(b)); b += n)
      ;
    e = b;
    for (const char *p = b; *p;) {
      size_t n = space_len(p);
      p += n ? n : 1;
      if (!n)
        e = p;
    }
    spec = rest = xstrndup(b, e - b);
  }

  if (spec[0] == '@') {
    int r = parse_descriptor(spec, s, ret_err);
    if (r < 0)
      return r;
    *ret = TAKE_PTR(s);
    return 0;
  }

  /* strings.Fields */
  const char *field[5];
  size_t flen[5], count = 0;
  struct strbuf all = {0};
  for (const char *p = spec; *p;) {
    size_t n = space_len(p);
    if (n) {
      p += n;
      continue;
    }
    const char *b = p;
    while (*p && !space_len(p))
      p++;
    if (count < 5) {
      field[count] = b;
      flen[count] = p - b;
    }
    strbuf_appendf(&all, "%s%.*s", count ? " " : "", (int)(p - b), b);
    count++;
  }
  if (count != 5) {
    int r = set_error(ret_err, -EINVAL, "expected exactly 5 fields, found %zu: [%s]", count,
                      all.s ? all.s : "");
    strbuf_clear(&all);
    return r;
  }
  strbuf_clear(&all);

  const struct bounds *bounds[5] = {&b_minute, &b_hour, &b_dom, &b_month, &b_dow};
  uint64_t *out[5] = {&s->minute, &s->hour, &s->dom, &s->month, &s->dow};
  for (size_t i = 0; i < 5; i++) {
    _cleanup_free_ char *f = xstrndup(field[i], flen[i]);
    int r = parse_field(f, bounds[i], out[i], ret_err);
    if (r < 0)
      return r;
  }
  *ret = TAKE_PTR(s);
  return 0;
}

void cron_free(struct cron_schedule *s) {
  if (!s)
    return;
  tzfile_free(s->tz);
  free(s);
}

/* ---- SpecSchedule.Next ---- */

/* A Go time.Time: an instant and its reading in the schedule's zone. */
struct moment {
  const struct tzfile *tz;
  time_t t;
  struct tm tm;
};

static int moment_set(struct moment *m, time_t t) {
  m->t = t;
  return tzfile_localtime(m->tz, t, &m->tm);
}

/* time.Date in the moment's zone. */
static int moment_date(struct moment *m, int year, int mon, int mday, int hour, int min, int sec) {
  struct tm tm = {.tm_year = year,
                  .tm_mon = mon,
                  .tm_mday = mday,
                  .tm_hour = hour,
                  .tm_min = min,
                  .tm_sec = sec};
  time_t t;
  int r = tzfile_mktime(m->tz, &tm, &t);
  return r < 0 ? r : moment_set(m, t);
}

static int moment_add(struct moment *m, int64_t secs) {
  time_t t;
  if (__builtin_add_overflow(m->t, secs, &t))
    return -EOVERFLOW;
  return moment_set(m, t);
}

static bool bit(uint64_t set, int i) {
  return (set >> i) & 1;
}

static bool day_matches(const struct cron_schedule *s, const struct tm *tm) {
  bool dom = bit(s->dom, tm->tm_mday), dow = bit(s->dow, tm->tm_wday);
  if ((s->dom & STAR_BIT) || (s->dow & STAR_BIT))
    return dom && dow;
  return dom || dow;
}

int cron_next(const struct cron_schedule *s, const struct tzfile *tz, time_t after, time_t *ret) {
  if (s->every) {
    time_t t;
    if (__builtin_add_overflow(after, s->every, &t))
      return -EOVERFLOW;
    *ret = t;
    return 0;
  }
  /* Fields that can never match would only make the walk below spin for five years. */
  if (!(s->minute & ~STAR_BIT) || !(s->hour & ~STAR_BIT) || !(s->month & ~STAR_BIT) ||
      (!(s->dom & ~STAR_BIT) && !(s->dow & ~STAR_BIT)))
    return -ERANGE;

  struct moment m = {.tz = s->tz ? s->tz : tz};
  int r = moment_set(&m, after);
  if (r < 0)
    return r;
  r = moment_add(&m, 1); /* the earliest candidate is the next second */
  if (r < 0)
    return r;
  int year_limit = m.tm.tm_year + 5;
  bool added = false;
  /* Each pass of the walk moves forward, so this bound is never reached by a sane zone; it
   * guards against a zone file whose offsets would send the walk backwards for ever. */
  long budget = 10 * 1000 * 1000;

#define STEP(expr)                                                                                 \
  do {                                                                                             \
    if (--budget < 0)                                                                              \
      return -ERANGE;                                                                              \
    r = (expr);                                                                                    \
    if (r < 0)                                                                                     \
      return r;                                                                                    \
  } while (0)

wrap:
  if (m.tm.tm_year > year_limit)
    return -ERANGE;

  while (!bit(s->month, m.tm.tm_mon + 1)) {
    if (!added) {
      added = true;
      STEP(moment_date(&m, m.tm.tm_year, m.tm.tm_mon, 1, 0, 0, 0));
    }
    STEP(moment_date(&m, m.tm.tm_year, m.tm.tm_mon + 1, m.tm.tm_mday, m.tm.tm_hour, m.tm.tm_min,
                     m.tm.tm_sec));
    if (m.tm.tm_mon == 0)
      goto wrap;
  }

  while (!day_matches(s, &m.tm)) {
    if (!added) {
      added = true;
      STEP(moment_date(&m, m.tm.tm_year, m.tm.tm_mon, m.tm.tm_mday, 0, 0, 0));
    }
    STEP(moment_date(&m, m.tm.tm_year, m.tm.tm_mon, m.tm.tm_mday + 1, m.tm.tm_hour, m.tm.tm_min,
                     m.tm.tm_sec));
    /* Where DST moves midnight, robfig steers back to the hour nearest midnight. */
    if (m.tm.tm_hour != 0) {
      if (m.tm.tm_hour > 12)
        STEP(moment_add(&m, (int64_t)(24 - m.tm.tm_hour) * 3600));
      else
        STEP(moment_add(&m, -(int64_t)m.tm.tm_hour * 3600));
    }
    if (m.tm.tm_mday == 1)
      goto wrap;
  }

  while (!bit(s->hour, m.tm.tm_hour)) {
    if (!added) {
      added = true;
      STEP(moment_date(&m, m.tm.tm_year, m.tm.tm_mon, m.tm.tm_mday, m.tm.tm_hour, 0, 0));
    }
    STEP(moment_add(&m, 3600));
    if (m.tm.tm_hour == 0)
      goto wrap;
  }

  while (!bit(s->minute, m.tm.tm_min)) {
    if (!added) {
      added = true;
      /* time.Truncate works on the instant, not on the local reading. */
      STEP(moment_set(&m, m.t - (time_t)(((m.t % 60) + 60) % 60)));
    }
    STEP(moment_add(&m, 60));
    if (m.tm.tm_min == 0)
      goto wrap;
  }

  /* The standard parser's seconds field is "0". */
  while (m.tm.tm_sec != 0) {
    added = true;
    STEP(moment_add(&m, 1));
    if (m.tm.tm_sec == 0)
      goto wrap;
  }
#undef STEP

  *ret = m.t;
  return 0;
}
