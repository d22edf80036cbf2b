#include "lib/quantity.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/macro.h"

typedef unsigned __int128 u128;
typedef __int128 i128;

#define U128_MAX (~(u128)0)
#define NANO_SCALE (-9)
/* Kubernetes' int64 fast path takes at most this many digits (maxInt64Factors). */
#define MAX_INT64_FACTORS 18
#define MAX_DIGITS 38
/* Exponents far beyond any real quantity; refusing them keeps scale arithmetic in range. */
#define MAX_EXPONENT 100000

static u128 pow10_u128(int n) {
  u128 r = 1;
  while (n-- > 0)
    r *= 10;
  return r;
}

static u128 abs_u128(i128 v) { return v < 0 ? -(u128)v : (u128)v; }

static int digits_u128(u128 v) {
  int n = 1;
  while (v >= 10) {
    v /= 10;
    n++;
  }
  return n;
}

static void u128_to_str(u128 v, char *out) {
  char tmp[48];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + (int)(v % 10));
    v /= 10;
  } while (v);
  for (int i = 0; i < n; i++)
    out[i] = tmp[n - 1 - i];
  out[n] = 0;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

typedef struct {
  bool positive;
  const char *value; /* sign + digits + '.' + digits, as written */
  size_t value_len;
  const char *num; /* integer digits without leading zeros ("0" if none) */
  size_t num_len;
  const char *denom; /* fractional digits */
  size_t denom_len;
  const char *suffix;
  size_t suffix_len;
} scan_t;

/* parseQuantityString: splits "<sign><digits>.<digits><suffix>" the way Kubernetes does,
 * quirks included (a bare "Mi" has numerator "0"). */
static int scan(const char *str, scan_t *sc) {
  size_t pos = 0, end = strlen(str);
  *sc = (scan_t){.positive = true, .value = str, .suffix = str + end};
  if (pos < end && (str[0] == '-' || str[0] == '+')) {
    sc->positive = str[0] == '+';
    pos++;
  }
  while (pos < end && str[pos] == '0')
    pos++;
  if (pos >= end) {
    sc->num = "0";
    sc->num_len = 1;
    sc->value = "0";
    sc->value_len = 1;
    return 0;
  }
  size_t start = pos;
  while (pos < end && is_digit(str[pos]))
    pos++;
  sc->num = str + start;
  sc->num_len = pos - start;
  if (pos >= end) {
    sc->value_len = end;
    return 0;
  }
  if (sc->num_len == 0) {
    sc->num = "0";
    sc->num_len = 1;
  }
  if (str[pos] == '.') {
    pos++;
    start = pos;
    while (pos < end && is_digit(str[pos]))
      pos++;
    sc->denom = str + start;
    sc->denom_len = pos - start;
    if (pos >= end) {
      sc->value_len = end;
      return 0;
    }
  }
  sc->value_len = pos;
  size_t suffix_start = pos;
  while (pos < end && strchr("eEinumkKMGTP", str[pos]))
    pos++;
  if (pos < end && (str[pos] == '-' || str[pos] == '+'))
    pos++;
  while (pos < end && is_digit(str[pos]))
    pos++;
  if (pos < end)
    return -EINVAL;
  sc->suffix = str + suffix_start;
  sc->suffix_len = end - suffix_start;
  return 0;
}

static const struct {
  const char *s;
  int base, exp;
  quantity_format_t fmt;
} suffixes[] = {
    {"", 10, 0, QUANTITY_DECIMAL_SI},    {"n", 10, -9, QUANTITY_DECIMAL_SI},
    {"u", 10, -6, QUANTITY_DECIMAL_SI},  {"m", 10, -3, QUANTITY_DECIMAL_SI},
    {"k", 10, 3, QUANTITY_DECIMAL_SI},   {"M", 10, 6, QUANTITY_DECIMAL_SI},
    {"G", 10, 9, QUANTITY_DECIMAL_SI},   {"T", 10, 12, QUANTITY_DECIMAL_SI},
    {"P", 10, 15, QUANTITY_DECIMAL_SI},  {"E", 10, 18, QUANTITY_DECIMAL_SI},
    {"Ki", 2, 10, QUANTITY_BINARY_SI},   {"Mi", 2, 20, QUANTITY_BINARY_SI},
    {"Gi", 2, 30, QUANTITY_BINARY_SI},   {"Ti", 2, 40, QUANTITY_BINARY_SI},
    {"Pi", 2, 50, QUANTITY_BINARY_SI},   {"Ei", 2, 60, QUANTITY_BINARY_SI},
};

static bool interpret(const char *s, size_t n, int *base, int64_t *exp, quantity_format_t *fmt) {
  for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++)
    if (strlen(suffixes[i].s) == n && memcmp(suffixes[i].s, s, n) == 0) {
      *base = suffixes[i].base;
      *exp = suffixes[i].exp;
      *fmt = suffixes[i].fmt;
      return true;
    }
  if (n > 1 && (s[0] == 'e' || s[0] == 'E')) {
    /* strconv.ParseInt(s[1:], 10, 64): optional sign then digits. */
    size_t i = 1;
    bool neg = false;
    if (s[i] == '+' || s[i] == '-')
      neg = s[i++] == '-';
    if (i >= n)
      return false;
    int64_t v = 0;
    for (; i < n; i++) {
      if (!is_digit(s[i]))
        return false;
      if (v > MAX_EXPONENT)
        continue;
      v = v * 10 + (s[i] - '0');
    }
    *base = 10;
    *exp = neg ? -v : v;
    *fmt = QUANTITY_DECIMAL_EXPONENT;
    return true;
  }
  return false;
}

static int fail(const char **ret_err, const char *msg) {
  if (ret_err)
    *ret_err = msg;
  return -EINVAL;
}

int quantity_parse(const char *str, quantity_t *ret, const char **ret_err) {
  quantity_t q = {0};
  if (!*str)
    return fail(ret_err, QUANTITY_ERR_FORMAT);
  if (streq(str, "0")) {
    q.format = QUANTITY_DECIMAL_SI;
    strcpy(q.str, "0");
    *ret = q;
    return 0;
  }
  scan_t sc;
  if (scan(str, &sc) < 0)
    return fail(ret_err, QUANTITY_ERR_FORMAT);
  int base;
  int64_t exponent;
  quantity_format_t format;
  if (!interpret(sc.suffix, sc.suffix_len, &base, &exponent, &format))
    return fail(ret_err, QUANTITY_ERR_SUFFIX);
  if (exponent > MAX_EXPONENT || exponent < -MAX_EXPONENT)
    return fail(ret_err, QUANTITY_ERR_NUMERIC);

  /* Kubernetes' int64 fast path: when it applies, the input text may be kept verbatim. */
  int64_t precision = 0, scale = 0;
  int64_t mantissa = 1;
  if (format == QUANTITY_BINARY_SI) {
    if (exponent >= 0 && sc.denom_len == 0) {
      mantissa = (int64_t)1 << exponent;
      precision = 15 - (int64_t)sc.num_len - (int64_t)((float)exponent * 3 / 10) - 1;
    } else {
      precision = -1;
    }
  } else {
    scale = exponent;
    precision = MAX_INT64_FACTORS - (int64_t)(sc.num_len + sc.denom_len);
  }
  if (precision >= 0) {
    scale -= (int64_t)sc.denom_len;
    if (scale >= NANO_SCALE) {
      int64_t value = 0;
      char first = sc.num[0];
      for (size_t i = 0; i < sc.num_len; i++)
        value = value * 10 + (sc.num[i] - '0');
      for (size_t i = 0; i < sc.denom_len; i++)
        value = value * 10 + (sc.denom[i] - '0');
      int64_t result;
      if (!__builtin_mul_overflow(value, mantissa, &result)) {
        if (!sc.positive)
          result = -result;
        bool keep;
        if (format == QUANTITY_BINARY_SI) {
          keep = exponent % 10 == 0 && (value & 0x07) != 0;
        } else {
          /* shifted = num + denom must not end in "000" nor start with '0'. */
          size_t zeros = 0;
          for (size_t i = sc.denom_len; i > 0 && zeros < 3 && sc.denom[i - 1] == '0'; i--)
            zeros++;
          if (zeros == sc.denom_len)
            for (size_t i = sc.num_len; i > 0 && zeros < 3 && sc.num[i - 1] == '0'; i--)
              zeros++;
          keep = scale % 3 == 0 && zeros < 3 && first != '0';
        }
        q.mant = result;
        q.scale = (int32_t)scale;
        q.format = format;
        if (keep && strlen(str) < sizeof(q.str))
          strcpy(q.str, str);
        *ret = q;
        return 0;
      }
    }
  }

  /* Exact decimal path: digits × 10^s (× 2^exponent for binary suffixes). */
  bool any_digit = false;
  for (size_t i = 0; i < sc.value_len; i++)
    any_digit |= is_digit(sc.value[i]);
  if (!any_digit)
    return fail(ret_err, QUANTITY_ERR_NUMERIC);
  const char *num = sc.num, *den = sc.denom;
  size_t nlen = sc.num_len, dlen = sc.denom_len;
  while (nlen > 1 && *num == '0')
    num++, nlen--;
  if (nlen == 1 && *num == '0')
    nlen = 0;
  int64_t s = -(int64_t)dlen;
  if (base == 10)
    s += exponent;
  /* Trailing zeros belong in the scale: they must not count against MAX_DIGITS. */
  if (dlen > 0) {
    while (dlen > 0 && den[dlen - 1] == '0')
      dlen--, s++;
  }
  if (dlen == 0)
    while (nlen > 0 && num[nlen - 1] == '0')
      nlen--, s++;
  /* Digits below nano only decide whether to round up; drop them, remembering that. */
  bool sticky = false;
  if (base == 10) {
    while (s < NANO_SCALE && dlen > 0) {
      sticky |= den[dlen - 1] != '0';
      dlen--;
      s++;
    }
    while (s < NANO_SCALE && nlen > 0) {
      sticky |= num[nlen - 1] != '0';
      nlen--;
      s++;
    }
    if (s < NANO_SCALE)
      s = NANO_SCALE;
  }
  /* Skip leading zeros of an all-fraction number before counting digits. */
  if (nlen == 0)
    while (dlen > 0 && *den == '0')
      den++, dlen--;
  if (nlen + dlen > MAX_DIGITS)
    return fail(ret_err, QUANTITY_ERR_NUMERIC);
  u128 m = 0;
  for (size_t i = 0; i < nlen; i++)
    m = m * 10 + (u128)(num[i] - '0');
  for (size_t i = 0; i < dlen; i++)
    m = m * 10 + (u128)(den[i] - '0');
  if (base == 2) {
    if (m > (U128_MAX >> exponent))
      return fail(ret_err, QUANTITY_ERR_NUMERIC);
    m <<= exponent;
    if (s < NANO_SCALE) {
      int64_t k = NANO_SCALE - s;
      if (k > MAX_DIGITS) {
        sticky = m != 0;
        m = 0;
      } else {
        u128 div = pow10_u128((int)k);
        sticky = m % div != 0;
        m /= div;
      }
      s = NANO_SCALE;
    }
  }
  if (sticky)
    m++;
  if (format == QUANTITY_BINARY_SI) {
    /* Binary quantities are capped at the largest int64. */
    u128 max = (u128)INT64_MAX;
    bool over = s >= 0 ? (s > 19 || m > max / pow10_u128((int)s)) : m > max * pow10_u128((int)-s);
    if (over) {
      m = max;
      s = 0;
    }
    /* Below one unit a binary suffix makes no sense: print as decimal. */
    if (m != 0 && s < 0 && m < pow10_u128((int)-s))
      format = QUANTITY_DECIMAL_SI;
  }
  q.mant = sc.positive ? (i128)m : -(i128)m;
  q.scale = (int32_t)s;
  q.format = format;
  *ret = q;
  return 0;
}

bool quantity_valid(const char *s) {
  quantity_t q;
  return quantity_parse(s, &q, NULL) == 0;
}

quantity_t quantity_from_int64(int64_t value, quantity_format_t format) {
  return (quantity_t){.mant = value, .scale = 0, .format = format};
}

quantity_t quantity_from_milli(int64_t milli, quantity_format_t format) {
  return (quantity_t){.mant = milli, .scale = -3, .format = format};
}

bool quantity_is_zero(const quantity_t *q) { return q->mant == 0; }
int quantity_sign(const quantity_t *q) { return q->mant < 0 ? -1 : q->mant > 0; }

/* Compares |a| and |b| given as magnitude × 10^scale. */
static int cmp_abs(u128 ma, int64_t sa, u128 mb, int64_t sb) {
  if (ma == 0 || mb == 0)
    return (ma != 0) - (mb != 0);
  int64_t oa = digits_u128(ma) + sa, ob = digits_u128(mb) + sb;
  if (oa != ob)
    return oa < ob ? -1 : 1;
  /* Same order of magnitude: aligning cannot exceed the longer mantissa's digits. */
  if (sa > sb)
    ma *= pow10_u128((int)(sa - sb));
  else if (sb > sa)
    mb *= pow10_u128((int)(sb - sa));
  return ma < mb ? -1 : ma > mb;
}

int quantity_cmp(const quantity_t *a, const quantity_t *b) {
  int sa = quantity_sign(a), sb = quantity_sign(b);
  if (sa != sb)
    return sa < sb ? -1 : 1;
  int c = cmp_abs(abs_u128(a->mant), a->scale, abs_u128(b->mant), b->scale);
  return sa < 0 ? -c : c;
}

/* Value at the given scale, rounded away from zero, saturated to int64. Returns whether
 * the result is exact (and in range). */
static bool scaled_value(const quantity_t *q, int32_t scale, int64_t *ret) {
  u128 m = abs_u128(q->mant);
  bool neg = q->mant < 0, exact = true;
  int64_t d = (int64_t)q->scale - scale;
  if (m == 0) {
    *ret = 0;
    return true;
  }
  if (d > 0) {
    if (d > 38 || m > U128_MAX / pow10_u128((int)d)) {
      *ret = neg ? INT64_MIN : INT64_MAX;
      return false;
    }
    m *= pow10_u128((int)d);
  } else if (d < 0) {
    if (-d > 38) {
      m = 1;
      exact = false;
    } else {
      u128 div = pow10_u128((int)-d);
      exact = m % div == 0;
      m = m / div + !exact;
    }
  }
  if (m > (u128)INT64_MAX) {
    *ret = neg ? INT64_MIN : INT64_MAX;
    return false;
  }
  *ret = neg ? -(int64_t)m : (int64_t)m;
  return exact;
}

int64_t quantity_value(const quantity_t *q) {
  int64_t v;
  scaled_value(q, 0, &v);
  return v;
}

int64_t quantity_milli_value(const quantity_t *q) {
  int64_t v;
  scaled_value(q, -3, &v);
  return v;
}

static const char *decimal_suffix(int64_t exp) {
  switch (exp) {
  case -9: return "n";
  case -6: return "u";
  case -3: return "m";
  case 3: return "k";
  case 6: return "M";
  case 9: return "G";
  case 12: return "T";
  case 15: return "P";
  case 18: return "E";
  default: return "";
  }
}

char *quantity_to_string(const quantity_t *q) {
  if (q->str[0])
    return xstrdup(q->str);
  if (q->mant == 0)
    return xstrdup("0");
  quantity_format_t format = q->format;
  int64_t rounded = 0;
  if (format == QUANTITY_BINARY_SI) {
    quantity_t lo = quantity_from_int64(-1024, 0), hi = quantity_from_int64(1024, 0);
    if (quantity_cmp(q, &lo) > 0 && quantity_cmp(q, &hi) < 0)
      format = QUANTITY_DECIMAL_SI;
    else if (!scaled_value(q, 0, &rounded))
      format = QUANTITY_DECIMAL_SI;
  }
  char digits[64];
  const char *sign = q->mant < 0 ? "-" : "";
  if (format == QUANTITY_BINARY_SI) {
    static const char *const bin[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    uint64_t v = rounded < 0 ? -(uint64_t)rounded : (uint64_t)rounded;
    int times = 0;
    while (v >= 1024 && v % 1024 == 0 && times < 6) {
      v /= 1024;
      times++;
    }
    return xasprintf("%s%" PRIu64 "%s", sign, v, bin[times]);
  }
  /* Move factors of ten into the exponent, then lower it to a multiple of three. */
  u128 m = abs_u128(q->mant);
  int64_t exp = q->scale;
  while (m >= 10 && m % 10 == 0) {
    m /= 10;
    exp++;
  }
  u128_to_str(m, digits);
  while (exp % 3 != 0) {
    strcat(digits, "0");
    exp--;
  }
  if (format == QUANTITY_DECIMAL_EXPONENT) {
    if (exp == 0)
      return xasprintf("%s%s", sign, digits);
    return xasprintf("%s%se%" PRId64, sign, digits, exp);
  }
  return xasprintf("%s%s%s", sign, digits, decimal_suffix(exp));
}

static int add_scaled(quantity_t *a, const quantity_t *b, bool negate) {
  int64_t s = a->scale < b->scale ? a->scale : b->scale;
  i128 ma = a->mant, mb = negate ? -b->mant : b->mant, r;
  int64_t da = a->scale - s, db = b->scale - s;
  if (da > 38 || db > 38)
    return -ERANGE;
  if (__builtin_mul_overflow(ma, (i128)pow10_u128((int)da), &ma) ||
      __builtin_mul_overflow(mb, (i128)pow10_u128((int)db), &mb) ||
      __builtin_add_overflow(ma, mb, &r))
    return -ERANGE;
  if (a->mant == 0)
    a->format = b->format;
  a->mant = r;
  a->scale = (int32_t)s;
  a->str[0] = 0;
  return 0;
}

int quantity_add(quantity_t *a, const quantity_t *b) { return add_scaled(a, b, false); }
int quantity_sub(quantity_t *a, const quantity_t *b) { return add_scaled(a, b, true); }
