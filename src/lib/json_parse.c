/* json_parse.c — the JSON decoder behind json_decode() and json_decode_select().
 *
 * It builds jansson trees, as jansson's own parser would, but reads the input in one pass
 * over a buffer: strings without escapes go straight from the input into the tree, and
 * nesting is an explicit stack, so a deep document never grows the C stack (handlers run
 * on small coroutine stacks). Decoding is most of what every component spends per watch
 * event, which is why it has its own code rather than jansson's character-by-character
 * lexer. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"

/* As jansson: deeper documents are refused rather than parsed. */
#define MAX_DEPTH 2048
#define MAX_SELECT 64

enum sel { SEL_ALL, SEL_SOME, SEL_NONE };

struct frame {
  json_t *c;         /* the object or array being filled */
  bool object;
  enum sel sel;      /* SEL_ALL, or SEL_SOME (objects only) */
  uint64_t mask;     /* SEL_SOME: paths still possible below this object */
  unsigned level;    /* SEL_SOME: path components matched to reach this object */
  const char *key;   /* the member whose value is being parsed */
  size_t key_len;
  char *key_buf;     /* owns `key` when it had escapes */
  size_t key_cap;
};

struct component {
  const char *s;
  size_t n;
};

struct parser {
  const char *start, *p, *end;
  const char *msg;
  const char *msg_at;
  char *scratch; /* unescaped string values */
  size_t scratch_cap;
  /* json_decode_select() */
  bool except;
  size_t n_paths;
  struct component *comp[MAX_SELECT];
  unsigned n_comp[MAX_SELECT];
};

static bool fail(struct parser *ps, const char *at, const char *msg) {
  ps->msg = msg;
  ps->msg_at = at;
  return false;
}

static inline void skip_ws(struct parser *ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
    ps->p++;
}

/* The length of the valid UTF-8 sequence at p, or 0: no overlong forms, no surrogates,
 * nothing above U+10FFFF. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end) {
  unsigned char c = p[0];
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c < 0x80)
    return 1;
  if (c < 0xC2)
    return 0;
  if (c < 0xE0)
    n = 2;
  else if (c < 0xF0) {
    n = 3;
    if (c == 0xE0)
      lo = 0xA0;
    else if (c == 0xED)
      hi = 0x9F;
  } else if (c < 0xF5) {
    n = 4;
    if (c == 0xF0)
      lo = 0x90;
    else if (c == 0xF4)
      hi = 0x8F;
  } else
    return 0;
  if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
    return 0;
  for (size_t i = 2; i < n; i++)
    if (p[i] < 0x80 || p[i] > 0xBF)
      return 0;
  return n;
}

static size_t utf8_put(char *out, uint32_t cp) {
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | (cp >> 18));
  out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

static int hex4(const char *p) {
  int v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0)
      return -1;
    v = v * 16 + d;
  }
  return v;
}

/* Reads a string whose opening quote is at ps->p. Its bytes end up either in the input
 * (no escapes: *ret points there) or in *buf, grown as needed. */
static bool parse_string(struct parser *ps, const char **ret, size_t *ret_len, char **buf,
                         size_t *cap) {
  const char *s = ++ps->p;
  const char *end = ps->end;
  const char *p = s;
  /* Fast path: printable ASCII up to the closing quote. */
  while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20 &&
         (unsigned char)*p < 0x80)
    p++;
  if (p < end && *p == '"') {
    *ret = s;
    *ret_len = (size_t)(p - s);
    ps->p = p + 1;
    return true;
  }
  /* General case: copy into buf, unescaping and checking UTF-8. The output is never longer
   * than the input up to the closing quote. */
  const char *q = p;
  while (q < end && *q != '"')
    q += *q == '\\' ? 2 : 1;
  if (q >= end)
    return fail(ps, end, "unterminated string");
  size_t need = (size_t)(q - s) + 1;
  if (*cap < need) {
    size_t c = *cap ? *cap : 256;
    while (c < need)
      c *= 2;
    *buf = xrealloc(*buf, c);
    *cap = c;
  }
  char *o = *buf;
  memcpy(o, s, (size_t)(p - s));
  o += p - s;
  while (p < end) {
    unsigned char c = (unsigned char)*p;
    if (c == '"') {
      *ret = *buf;
      *ret_len = (size_t)(o - *buf);
      ps->p = p + 1;
      return true;
    }
    if (c < 0x20)
      return fail(ps, p, "control character in a string");
    if (c >= 0x80) {
      size_t n = utf8_seq((const unsigned char *)p, (const unsigned char *)end);
      if (!n)
        return fail(ps, p, "invalid UTF-8 in a string");
      memcpy(o, p, n);
      o += n;
      p += n;
      continue;
    }
    if (c != '\\') {
      *o++ = (char)c;
      p++;
      continue;
    }
    if (end - p < 2)
      break;
    char e = p[1];
    p += 2;
    switch (e) {
    case '"': *o++ = '"'; continue;
    case '\\': *o++ = '\\'; continue;
    case '/': *o++ = '/'; continue;
    case 'b': *o++ = '\b'; continue;
    case 'f': *o++ = '\f'; continue;
    case 'n': *o++ = '\n'; continue;
    case 'r': *o++ = '\r'; continue;
    case 't': *o++ = '\t'; continue;
    case 'u': break;
    default: return fail(ps, p - 2, "invalid escape in a string");
    }
    int u = end - p >= 4 ? hex4(p) : -1;
    if (u < 0)
      return fail(ps, p - 2, "invalid \\u escape in a string");
    p += 4;
    uint32_t cp = (uint32_t)u;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
      return fail(ps, p - 6, "invalid Unicode escape (lone low surrogate)");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      int lo = end - p >= 6 && p[0] == '\\' && p[1] == 'u' ? hex4(p + 2) : -1;
      if (lo < 0xDC00 || lo > 0xDFFF)
        return fail(ps, p - 6, "invalid Unicode escape (lone high surrogate)");
      cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
      p += 6;
    }
    o += utf8_put(o, cp);
  }
  return fail(ps, end, "unterminated string");
}

static json_t *parse_number(struct parser *ps) {
  const char *s = ps->p, *p = s, *end = ps->end;
  bool real = false;
  if (p < end && *p == '-')
    p++;
  if (p < end && *p == '0')
    p++;
  else if (p < end && *p >= '1' && *p <= '9')
    while (p < end && *p >= '0' && *p <= '9')
      p++;
  else
    return fail(ps, s, "invalid number"), NULL;
  if (p < end && *p == '.') {
    real = true;
    p++;
    if (p >= end || *p < '0' || *p > '9')
      return fail(ps, s, "invalid number"), NULL;
    while (p < end && *p >= '0' && *p <= '9')
      p++;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    real = true;
    p++;
    if (p < end && (*p == '+' || *p == '-'))
      p++;
    if (p >= end || *p < '0' || *p > '9')
      return fail(ps, s, "invalid number"), NULL;
    while (p < end && *p >= '0' && *p <= '9')
      p++;
  }
  size_t n = (size_t)(p - s);
  char small[64];
  _cleanup_free_ char *big = n >= sizeof(small) ? xstrndup(s, n) : NULL;
  char *txt = big ? big : small;
  if (!big) {
    memcpy(small, s, n);
    small[n] = '\0';
  }
  errno = 0;
  json_t *v;
  if (!real) {
    long long i = strtoll(txt, NULL, 10);
    if (errno == ERANGE)
      return fail(ps, s, s[0] == '-' ? "too big negative integer" : "too big integer"), NULL;
    v = json_integer(i);
  } else {
    double d = strtod(txt, NULL);
    if (errno == ERANGE && (d > 1.0 || d < -1.0))
      return fail(ps, s, "real number overflow"), NULL;
    v = json_real(d);
  }
  if (!v)
    abort();
  ps->p = p;
  return v;
}

/* Steps over one value without building it (json_decode_select()'s unwanted parts): only
 * bracket nesting and string ends are checked. */
static inline bool is_scalar_byte(char c) {
  return c != '"' && c != '{' && c != '}' && c != '[' && c != ']';
}

static inline bool is_delimiter(char c) {
  return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool skip_value(struct parser *ps) {
  uint8_t open[MAX_DEPTH / 8] = {0}; /* bit set: that level is an object */
  size_t depth = 0;
  const char *p = ps->p, *end = ps->end;
  do {
    if (p >= end)
      return fail(ps, end, "unexpected end of input");
    char c = *p;
    if (c == '"') {
      p++;
      while (p < end && *p != '"')
        p += *p == '\\' ? 2 : 1;
      if (p >= end)
        return fail(ps, end, "unterminated string");
      p++;
    } else if (c == '{' || c == '[') {
      if (depth == MAX_DEPTH)
        return fail(ps, p, "maximum parsing depth reached");
      if (c == '{')
        open[depth / 8] |= (uint8_t)(1u << (depth % 8));
      else
        open[depth / 8] &= (uint8_t)~(1u << (depth % 8));
      depth++;
      p++;
    } else if (c == '}' || c == ']') {
      bool obj = depth && (open[(depth - 1) / 8] >> ((depth - 1) % 8) & 1);
      if (!depth || obj != (c == '}'))
        return fail(ps, p, "unbalanced brackets");
      depth--;
      p++;
    } else {
      /* A scalar, a separator or white space. */
      const char *s = p;
      while (p < end && is_scalar_byte(*p))
        p++;
      if (depth == 0) {
        /* A top-level scalar ends at its delimiter. */
        p = s;
        while (p < end && !is_delimiter(*p))
          p++;
        if (p == s)
          return fail(ps, s, "value expected");
      }
    }
  } while (depth > 0);
  ps->p = p;
  return true;
}

/* What json_decode_select() does with the value of member `key` of a SEL_SOME object. */
static enum sel member_sel(const struct parser *ps, const struct frame *f, const char *key,
                           size_t key_len, uint64_t *ret_mask) {
  uint64_t mask = 0;
  bool whole = false;
  for (size_t i = 0; i < ps->n_paths; i++) {
    if (!(f->mask >> i & 1))
      continue;
    const struct component *c = &ps->comp[i][f->level];
    if (c->n != key_len || memcmp(c->s, key, key_len) != 0)
      continue;
    if (ps->n_comp[i] == f->level + 1)
      whole = true;
    else
      mask |= UINT64_C(1) << i;
  }
  *ret_mask = mask;
  if (ps->except)
    return whole ? SEL_NONE : mask ? SEL_SOME : SEL_ALL;
  return whole ? SEL_ALL : mask ? SEL_SOME : SEL_NONE;
}

/* Drops the containers of the n open frames and the key buffers of all `used` ones. */
static void free_frames(struct frame *st, size_t n, size_t used) {
  for (size_t i = 0; i < used; i++) {
    if (i < n)
      json_decref(st[i].c);
    free(st[i].key_buf);
  }
  free(st);
}

static json_t *parse_document(struct parser *ps) {
  struct frame *st = NULL;
  size_t n = 0, cap = 0, used = 0; /* open frames; frames ever opened (own key buffers) */
  json_t *root = NULL, *v;
  enum sel sel = ps->n_paths ? SEL_SOME : SEL_ALL;
  uint64_t mask = ps->n_paths >= 64 ? UINT64_MAX : (UINT64_C(1) << ps->n_paths) - 1;
  unsigned level = 0;

value:
  skip_ws(ps);
  if (ps->p >= ps->end) {
    fail(ps, ps->end, "unexpected end of input");
    goto error;
  }
  if (sel == SEL_SOME && *ps->p != '{') {
    /* Selected paths go through objects only: anything else at a path's prefix is not
     * selected (and not excluded either). A document that is no object is kept whole. */
    sel = ps->except || n == 0 ? SEL_ALL : SEL_NONE;
  }
  if (sel == SEL_NONE) {
    if (!skip_value(ps))
      goto error;
    v = NULL;
    goto done;
  }
  switch (*ps->p) {
  case '{':
  case '[': {
    bool object = *ps->p == '{';
    if (n == MAX_DEPTH) {
      fail(ps, ps->p, "maximum parsing depth reached");
      goto error;
    }
    if (n == cap) {
      cap = cap ? cap * 2 : 16;
      st = xrealloc(st, cap * sizeof(*st));
    }
    if (n == used) /* a level first reached: its key buffer starts empty */
      st[used++] = (struct frame){0};
    json_t *c = object ? json_object() : json_array();
    if (!c)
      abort();
    struct frame *nf = &st[n++];
    nf->c = c;
    nf->object = object;
    nf->sel = sel;
    nf->mask = mask;
    nf->level = level;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == (object ? '}' : ']')) {
      ps->p++;
      v = st[--n].c;
      goto done;
    }
    if (object)
      goto key;
    sel = SEL_ALL;
    goto value;
  }
  case '"': {
    const char *s;
    size_t len;
    if (!parse_string(ps, &s, &len, &ps->scratch, &ps->scratch_cap))
      goto error;
    v = json_stringn_nocheck(s, len);
    break;
  }
  case 't':
    if (ps->end - ps->p < 4 || memcmp(ps->p, "true", 4) != 0)
      goto invalid;
    ps->p += 4;
    v = json_true();
    break;
  case 'f':
    if (ps->end - ps->p < 5 || memcmp(ps->p, "false", 5) != 0)
      goto invalid;
    ps->p += 5;
    v = json_false();
    break;
  case 'n':
    if (ps->end - ps->p < 4 || memcmp(ps->p, "null", 4) != 0)
      goto invalid;
    ps->p += 4;
    v = json_null();
    break;
  default:
    if (*ps->p != '-' && (*ps->p < '0' || *ps->p > '9'))
      goto invalid;
    v = parse_number(ps);
    if (!v)
      goto error;
    break;
  }
  if (!v)
    abort();

done:
  /* v is a complete value (NULL: skipped); hand it to its container. */
  if (n == 0) {
    root = v;
    skip_ws(ps);
    if (ps->p != ps->end) {
      json_decref(root);
      fail(ps, ps->p, "end of input expected after the value");
      goto error;
    }
    free_frames(st, 0, used);
    return root;
  }
  struct frame *f = &st[n - 1];
  if (v) {
    if (f->object)
      json_object_setn_new_nocheck(f->c, f->key, f->key_len, v);
    else
      json_array_append_new(f->c, v);
  }
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == ',') {
    ps->p++;
    if (f->object)
      goto key;
    sel = SEL_ALL;
    goto value;
  }
  if (ps->p < ps->end && *ps->p == (f->object ? '}' : ']')) {
    ps->p++;
    v = f->c;
    n--;
    goto done;
  }
  fail(ps, ps->p, f->object ? "',' or '}' expected" : "',' or ']' expected");
  goto error;

key:
  f = &st[n - 1];
  skip_ws(ps);
  if (ps->p >= ps->end || *ps->p != '"') {
    fail(ps, ps->p, "string or '}' expected");
    goto error;
  }
  if (!parse_string(ps, &f->key, &f->key_len, &f->key_buf, &f->key_cap))
    goto error;
  if (memchr(f->key, '\0', f->key_len)) {
    fail(ps, ps->p, "NUL byte in object key not supported");
    goto error;
  }
  skip_ws(ps);
  if (ps->p >= ps->end || *ps->p != ':') {
    fail(ps, ps->p, "':' expected");
    goto error;
  }
  ps->p++;
  if (f->sel == SEL_ALL) {
    sel = SEL_ALL;
  } else {
    sel = member_sel(ps, f, f->key, f->key_len, &mask);
    level = f->level + 1;
  }
  goto value;

invalid:
  fail(ps, ps->p, "invalid token");
error:
  free_frames(st, n, used);
  return NULL;
}

static int run(struct parser *ps, const char *buf, size_t len, json_t **ret, char **ret_err) {
  ps->start = ps->p = buf;
  ps->end = buf + len;
  json_t *v = parse_document(ps);
  free(ps->scratch);
  if (!v) {
    if (ret_err) {
      int line = 1, col = 1;
      for (const char *p = ps->start; p < ps->msg_at; p++) {
        if (*p == '\n')
          line++, col = 1;
        else
          col++;
      }
      *ret_err = xasprintf("line %d, column %d: %s", line, col, ps->msg);
    }
    return -EINVAL;
  }
  *ret = v;
  return 0;
}

int json_decode(const char *buf, size_t len, json_t **ret, char **ret_err) {
  struct parser ps = {0};
  return run(&ps, buf, len, ret, ret_err);
}

int json_decode_select(const char *buf, size_t len, const char *const *paths, bool except,
                       json_t **ret, char **ret_err) {
  struct parser ps = {.except = except};
  struct component storage[MAX_SELECT * 8];
  size_t used = 0;
  for (; paths && paths[ps.n_paths]; ps.n_paths++) {
    if (ps.n_paths == MAX_SELECT)
      return -E2BIG;
    const char *p = paths[ps.n_paths];
    ps.comp[ps.n_paths] = &storage[used];
    unsigned k = 0;
    for (;;) {
      if (used == ARRAY_SIZE(storage))
        return -E2BIG;
      size_t n = strcspn(p, ".");
      storage[used++] = (struct component){p, n};
      k++;
      if (!p[n])
        break;
      p += n + 1;
    }
    ps.n_comp[ps.n_paths] = k;
  }
  return run(&ps, buf, len, ret, ret_err);
}
