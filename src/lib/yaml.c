#include "lib/yaml.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <yaml.h>

#include "lib/base64.h"

#define TAG_STR "tag:yaml.org,2002:str"
#define TAG_INT "tag:yaml.org,2002:int"
#define TAG_FLOAT "tag:yaml.org,2002:float"
#define TAG_BOOL "tag:yaml.org,2002:bool"
#define TAG_NULL "tag:yaml.org,2002:null"
#define TAG_TIMESTAMP "tag:yaml.org,2002:timestamp"
#define TAG_BINARY "tag:yaml.org,2002:binary"
#define TAG_MERGE "tag:yaml.org,2002:merge"
#define TAG_PREFIX "tag:yaml.org,2002:"

/* Nesting deeper than this is refused: real manifests never come close, and the decoder
 * recurses. */
#define MAX_DEPTH 1000

/* ---------------------------------------------------------------------------------- */
/* Node tree of one document                                                           */

enum { NODE_SCALAR, NODE_SEQ, NODE_MAP, NODE_ALIAS };

typedef struct node node_t;
struct node {
  int kind;
  char *tag;
  char *value; /* scalar text or alias name */
  size_t len;
  bool implicit; /* plain scalar without a tag */
  node_t **kids;
  size_t n, cap;
  node_t *target; /* alias */
  bool expanding;
};

typedef struct {
  node_t **all;
  size_t n, cap;
  struct {
    char *name;
    node_t *node;
  } *anchors;
  size_t nanchors;
} doc_t;

static node_t *doc_node(doc_t *d, int kind) {
  node_t *n = xcalloc(1, sizeof(node_t));
  n->kind = kind;
  if (d->n == d->cap) {
    d->cap = d->cap ? d->cap * 2 : 64;
    d->all = xrealloc(d->all, d->cap * sizeof(node_t *));
  }
  d->all[d->n++] = n;
  return n;
}

static void doc_free(doc_t *d) {
  for (size_t i = 0; i < d->n; i++) {
    free(d->all[i]->tag);
    free(d->all[i]->value);
    free(d->all[i]->kids);
    free(d->all[i]);
  }
  free(d->all);
  for (size_t i = 0; i < d->nanchors; i++)
    free(d->anchors[i].name);
  free(d->anchors);
}

static void doc_anchor(doc_t *d, const unsigned char *name, node_t *n) {
  if (!name)
    return;
  d->anchors = xrealloc(d->anchors, (d->nanchors + 1) * sizeof(*d->anchors));
  d->anchors[d->nanchors].name = xstrdup((const char *)name);
  d->anchors[d->nanchors].node = n;
  d->nanchors++;
}

static node_t *doc_lookup(doc_t *d, const char *name) {
  /* The latest definition of a name wins. */
  for (size_t i = d->nanchors; i > 0; i--)
    if (streq(d->anchors[i - 1].name, name))
      return d->anchors[i - 1].node;
  return NULL;
}

static void node_add(node_t *parent, node_t *kid) {
  if (parent->n == parent->cap) {
    parent->cap = parent->cap ? parent->cap * 2 : 4;
    parent->kids = xrealloc(parent->kids, parent->cap * sizeof(node_t *));
  }
  parent->kids[parent->n++] = kid;
}

/* go-yaml's placement of the line number: parser errors report the 0-based line of the
 * problem, scanner errors the 1-based one; no line at all when it would be 0. */
static char *parser_error(const yaml_parser_t *p) {
  size_t line = 0;
  if (p->problem_mark.line != 0) {
    line = p->problem_mark.line;
    if (p->error == YAML_SCANNER_ERROR)
      line++;
  } else if (p->context_mark.line != 0) {
    line = p->context_mark.line;
  }
  const char *msg = p->problem ? p->problem : "unknown problem parsing YAML content";
  if (line)
    return xasprintf("yaml: line %zu: %s", line, msg);
  return xasprintf("yaml: %s", msg);
}

/* Parses the first document of buf into d. Returns 1 with *ret_root set, 0 when the
 * stream holds no document, -EINVAL with *ret_err on error. */
static int load_document(const char *buf, size_t len, doc_t *d, node_t **ret_root,
                         char **ret_err) {
  yaml_parser_t p;
  if (!yaml_parser_initialize(&p))
    abort();
  yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
  node_t *stack[MAX_DEPTH + 1];
  size_t depth = 0;
  node_t *root = NULL;
  int rc = 0;
  bool done = false;
  while (!done) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&p, &ev)) {
      *ret_err = parser_error(&p);
      rc = -EINVAL;
      break;
    }
    node_t *n = NULL;
    switch (ev.type) {
    case YAML_SCALAR_EVENT:
      n = doc_node(d, NODE_SCALAR);
      /* Scalars may hold NUL characters ("\0" escapes): copy by length. */
      n->len = ev.data.scalar.length;
      n->value = xmalloc(n->len + 1);
      memcpy(n->value, ev.data.scalar.value, n->len);
      n->value[n->len] = 0;
      n->tag = ev.data.scalar.tag ? xstrdup((const char *)ev.data.scalar.tag) : NULL;
      n->implicit = ev.data.scalar.plain_implicit;
      doc_anchor(d, ev.data.scalar.anchor, n);
      break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
      bool seq = ev.type == YAML_SEQUENCE_START_EVENT;
      n = doc_node(d, seq ? NODE_SEQ : NODE_MAP);
      yaml_char_t *tag = seq ? ev.data.sequence_start.tag : ev.data.mapping_start.tag;
      n->tag = tag ? xstrdup((const char *)tag) : NULL;
      doc_anchor(d, seq ? ev.data.sequence_start.anchor : ev.data.mapping_start.anchor, n);
      break;
    }
    case YAML_ALIAS_EVENT:
      n = doc_node(d, NODE_ALIAS);
      n->value = xstrdup((const char *)ev.data.alias.anchor);
      n->target = doc_lookup(d, n->value);
      if (!n->target) {
        *ret_err = xasprintf("yaml: unknown anchor '%s' referenced", n->value);
        rc = -EINVAL;
      }
      break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
      if (depth > 0)
        depth--;
      break;
    case YAML_DOCUMENT_END_EVENT:
    case YAML_STREAM_END_EVENT:
      done = true;
      break;
    default:
      break;
    }
    if (n && rc == 0) {
      if (depth == 0)
        root = n;
      else
        node_add(stack[depth - 1], n);
      if (n->kind == NODE_SEQ || n->kind == NODE_MAP) {
        if (depth >= MAX_DEPTH) {
          *ret_err = xasprintf("yaml: exceeded max depth of %d", MAX_DEPTH);
          rc = -EINVAL;
        } else {
          stack[depth++] = n;
        }
      }
    }
    yaml_event_delete(&ev);
    if (rc < 0)
      break;
  }
  yaml_parser_delete(&p);
  if (rc < 0)
    return rc;
  *ret_root = root;
  return root ? 1 : 0;
}

/* ---------------------------------------------------------------------------------- */
/* Scalar resolution (go-yaml v2 resolve.go)                                            */

typedef enum { R_NULL, R_BOOL, R_INT, R_UINT, R_FLOAT, R_STR } rkind_t;

typedef struct {
  rkind_t kind;
  bool b;
  int64_t i;
  uint64_t u;
  double f;
} rval_t;

static const struct {
  const char *s;
  rkind_t kind;
  int v; /* bool value, or float: 1 = +inf, -1 = -inf, 0 = nan */
} resolve_map[] = {
    {"y", R_BOOL, 1},       {"Y", R_BOOL, 1},       {"yes", R_BOOL, 1},
    {"Yes", R_BOOL, 1},     {"YES", R_BOOL, 1},     {"true", R_BOOL, 1},
    {"True", R_BOOL, 1},    {"TRUE", R_BOOL, 1},    {"on", R_BOOL, 1},
    {"On", R_BOOL, 1},      {"ON", R_BOOL, 1},      {"n", R_BOOL, 0},
    {"N", R_BOOL, 0},       {"no", R_BOOL, 0},      {"No", R_BOOL, 0},
    {"NO", R_BOOL, 0},      {"false", R_BOOL, 0},   {"False", R_BOOL, 0},
    {"FALSE", R_BOOL, 0},   {"off", R_BOOL, 0},     {"Off", R_BOOL, 0},
    {"OFF", R_BOOL, 0},     {"", R_NULL, 0},        {"~", R_NULL, 0},
    {"null", R_NULL, 0},    {"Null", R_NULL, 0},    {"NULL", R_NULL, 0},
    {".nan", R_FLOAT, 0},   {".NaN", R_FLOAT, 0},   {".NAN", R_FLOAT, 0},
    {".inf", R_FLOAT, 1},   {".Inf", R_FLOAT, 1},   {".INF", R_FLOAT, 1},
    {"+.inf", R_FLOAT, 1},  {"+.Inf", R_FLOAT, 1},  {"+.INF", R_FLOAT, 1},
    {"-.inf", R_FLOAT, -1}, {"-.Inf", R_FLOAT, -1}, {"-.INF", R_FLOAT, -1},
};

static char hint_of(const char *s) {
  if (!*s)
    return 'N';
  char c = s[0];
  if (c == '+' || c == '-')
    return 'S';
  if (c >= '0' && c <= '9')
    return 'D';
  if (strchr("yYnNtTfFoO~", c))
    return 'M';
  if (c == '.')
    return '.';
  return 0;
}

static int digit_val(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z')
    return c - 'A' + 10;
  return 99;
}

/* strconv.ParseUint(s, 0, 64) without sign handling; s has no '_' left. */
static bool parse_uint_base0(const char *s, uint64_t *ret) {
  int base = 10;
  if (s[0] == '0' && s[1]) {
    char c = s[1];
    if (c == 'x' || c == 'X')
      base = 16, s += 2;
    else if (c == 'o' || c == 'O')
      base = 8, s += 2;
    else if (c == 'b' || c == 'B')
      base = 2, s += 2;
    else
      base = 8, s += 1;
  }
  if (!*s)
    return false;
  uint64_t v = 0;
  for (; *s; s++) {
    int d = digit_val(*s);
    if (d >= base)
      return false;
    if (__builtin_mul_overflow(v, (uint64_t)base, &v) ||
        __builtin_add_overflow(v, (uint64_t)d, &v))
      return false;
  }
  *ret = v;
  return true;
}

/* strconv.ParseInt(s, 0, 64). */
static bool parse_int_base0(const char *s, int64_t *ret) {
  bool neg = false;
  if (*s == '+' || *s == '-')
    neg = *s++ == '-';
  uint64_t u;
  if (!parse_uint_base0(s, &u))
    return false;
  if (neg) {
    if (u > (uint64_t)INT64_MAX + 1)
      return false;
    *ret = (int64_t)(0 - u);
  } else {
    if (u > (uint64_t)INT64_MAX)
      return false;
    *ret = (int64_t)u;
  }
  return true;
}

/* ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool yaml_style_float(const char *s) {
  if (*s == '+' || *s == '-')
    s++;
  if (*s == '.') {
    s++;
    if (!(*s >= '0' && *s <= '9'))
      return false;
    while (*s >= '0' && *s <= '9')
      s++;
  } else {
    if (!(*s >= '0' && *s <= '9'))
      return false;
    while (*s >= '0' && *s <= '9')
      s++;
    if (*s == '.') {
      s++;
      while (*s >= '0' && *s <= '9')
        s++;
    }
  }
  if (*s == 'e' || *s == 'E') {
    s++;
    if (*s == '+' || *s == '-')
      s++;
    if (!(*s >= '0' && *s <= '9'))
      return false;
    while (*s >= '0' && *s <= '9')
      s++;
  }
  return *s == 0;
}

static bool parse_float(const char *s, double *ret) {
  errno = 0;
  char *end;
  double v = strtod(s, &end);
  if (*end || (errno == ERANGE && isinf(v)))
    return false;
  *ret = v;
  return true;
}

/* Resolves a plain scalar with no tag (or with a resolvable tag): go-yaml's resolve(). */
static rkind_t resolve_plain(const char *in, size_t len, const char *tag, rval_t *out) {
  *out = (rval_t){.kind = R_STR};
  char hint = hint_of(in);
  if (!hint || strlen(in) != len || streq_ptr(tag, TAG_STR) || streq_ptr(tag, TAG_BINARY))
    return R_STR;
  for (size_t i = 0; i < ARRAY_SIZE(resolve_map); i++)
    if (streq(resolve_map[i].s, in)) {
      out->kind = resolve_map[i].kind;
      if (out->kind == R_BOOL)
        out->b = resolve_map[i].v;
      else if (out->kind == R_FLOAT)
        out->f = resolve_map[i].v == 0 ? NAN : resolve_map[i].v * INFINITY;
      return out->kind;
    }
  if (hint == '.') {
    if (yaml_style_float(in) && parse_float(in, &out->f))
      return out->kind = R_FLOAT;
  } else if (hint == 'D' || hint == 'S') {
    _cleanup_free_ char *plain = xmalloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
      if (in[i] != '_')
        plain[n++] = in[i];
    plain[n] = 0;
    if (parse_int_base0(plain, &out->i))
      return out->kind = R_INT;
    if (plain[0] != '+' && plain[0] != '-' && parse_uint_base0(plain, &out->u))
      return out->kind = R_UINT;
    if (yaml_style_float(plain) && parse_float(plain, &out->f))
      return out->kind = R_FLOAT;
  }
  return R_STR;
}

static const char *short_tag(const char *tag) {
  static __thread char buf[64];
  if (tag && startswith(tag, TAG_PREFIX)) {
    snprintf(buf, sizeof(buf), "!!%s", tag + strlen(TAG_PREFIX));
    return buf;
  }
  return tag ? tag : "";
}

static const char *rkind_tag(rkind_t k) {
  switch (k) {
  case R_NULL: return TAG_NULL;
  case R_BOOL: return TAG_BOOL;
  case R_INT:
  case R_UINT: return TAG_INT;
  case R_FLOAT: return TAG_FLOAT;
  case R_STR: return TAG_STR;
  }
  return TAG_STR;
}

/* ---------------------------------------------------------------------------------- */
/* Decoding nodes into JSON                                                             */

typedef struct {
  int64_t decode_count, alias_count;
  int alias_depth, depth;
  char *err;
} dec_t;

/* go-yaml v2's defence against alias bombs: the share of decoded nodes that come from
 * alias expansion may be 99% for small documents, falling to 10% for very large ones. */
static double allowed_alias_ratio(int64_t decode_count) {
  const double low = 400000, high = 4000000;
  if (decode_count <= low)
    return 0.99;
  if (decode_count >= high)
    return 0.10;
  return 0.99 - 0.89 * ((double)decode_count - low) / (high - low);
}

static json_t *dec_fail(dec_t *d, char *msg) {
  if (!d->err)
    d->err = msg;
  else
    free(msg);
  return NULL;
}

static json_t *decode(dec_t *d, node_t *n);

/* Go's strconv.FormatFloat(v, 'g', -1, bits): the shortest digits that read back as v,
 * in exponent form when the decimal exponent is below -4 or at least 6. */
static void format_go_float(double v, bool is32, char *out, size_t size) {
  char tmp[64];
  int prec;
  for (prec = 1; prec <= 17; prec++) {
    snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
    if (is32 ? strtof(tmp, NULL) == (float)v : strtod(tmp, NULL) == v)
      break;
  }
  /* tmp is "-d.ddde±XX": split into digits and exponent. */
  char digits[32];
  size_t nd = 0;
  const char *p = tmp;
  bool neg = *p == '-';
  if (neg)
    p++;
  for (; *p && *p != 'e'; p++)
    if (*p != '.')
      digits[nd++] = *p;
  digits[nd] = 0;
  int exp = atoi(p + 1);
  while (nd > 1 && digits[nd - 1] == '0')
    digits[--nd] = 0;
  if (exp < -4 || exp >= 6) {
    snprintf(out, size, "%s%c%s%se%c%02d", neg ? "-" : "", digits[0], nd > 1 ? "." : "",
             digits + 1, exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    return;
  }
  char *o = out, *end = out + size - 1;
  if (neg && o < end)
    *o++ = '-';
  int dp = exp + 1; /* digits before the decimal point */
  if (dp <= 0) {
    if (o < end)
      *o++ = '0';
    if (o < end)
      *o++ = '.';
    for (int i = 0; i < -dp && o < end; i++)
      *o++ = '0';
    for (size_t i = 0; i < nd && o < end; i++)
      *o++ = digits[i];
  } else {
    for (int i = 0; i < dp && o < end; i++)
      *o++ = (size_t)i < nd ? digits[i] : '0';
    if ((size_t)dp < nd) {
      if (o < end)
        *o++ = '.';
      for (size_t i = dp; i < nd && o < end; i++)
        *o++ = digits[i];
    }
  }
  *o = 0;
}

static json_t *float_json(dec_t *d, double f) {
  if (isnan(f))
    return dec_fail(d, xstrdup("json: unsupported value: NaN"));
  if (isinf(f))
    return dec_fail(d, xstrdup(f > 0 ? "json: unsupported value: +Inf"
                                     : "json: unsupported value: -Inf"));
  /* Go prints integral floats without a fraction, so JSON readers see an integer. */
  if (f == floor(f) && fabs(f) < 9.2e18)
    return json_integer((json_int_t)f);
  return json_real(f);
}

/* Go's json.Marshal replaces invalid UTF-8 with U+FFFD. */
static json_t *string_json(const char *s, size_t len) {
  json_t *j = json_stringn(s, len);
  if (j)
    return j;
  char *out = xmalloc(len * 3 + 1), *o = out;
  for (size_t i = 0; i < len;) {
    unsigned char c = (unsigned char)s[i];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = n > 0 && i + n <= len;
    for (size_t k = 1; ok && k < n; k++)
      ok = ((unsigned char)s[i + k] & 0xc0) == 0x80;
    if (ok && n > 1) {
      json_t *probe = json_stringn(s + i, n);
      ok = probe != NULL;
      json_decref(probe);
    }
    if (ok) {
      memcpy(o, s + i, n);
      o += n;
      i += n;
    } else {
      memcpy(o, "\xef\xbf\xbd", 3);
      o += 3;
      i++;
    }
  }
  j = json_stringn(out, o - out);
  free(out);
  return j ? j : json_string("");
}

static json_t *decode_scalar(dec_t *d, node_t *n) {
  const char *tag = n->tag;
  if (!tag && !n->implicit)
    return string_json(n->value, n->len);
  if (streq_ptr(tag, TAG_BINARY)) {
    /* Go's base64 decoder skips line breaks, which block scalars bring. */
    _cleanup_free_ char *clean = xmalloc(n->len + 1);
    size_t k = 0;
    for (size_t i = 0; i < n->len; i++)
      if (n->value[i] != '\n' && n->value[i] != '\r')
        clean[k++] = n->value[i];
    clean[k] = 0;
    _cleanup_free_ char *data = NULL;
    long dl = base64_decode(clean, k, &data);
    if (dl < 0)
      return dec_fail(d, xstrdup("yaml: !!binary value contains invalid base64 data"));
    return string_json(data, (size_t)dl);
  }
  bool resolvable = !tag || streq(tag, TAG_STR) || streq(tag, TAG_BOOL) ||
                    streq(tag, TAG_NULL) || streq(tag, TAG_INT) || streq(tag, TAG_FLOAT) ||
                    streq(tag, TAG_TIMESTAMP);
  if (!resolvable)
    return string_json(n->value, n->len);
  rval_t r;
  rkind_t k = resolve_plain(n->value, n->len, tag, &r);
  if (tag && !streq(tag, TAG_STR) && !streq(tag, rkind_tag(k))) {
    if (streq(tag, TAG_FLOAT) && k == R_INT) {
      k = R_FLOAT;
      r.f = (double)r.i;
    } else if (streq(tag, TAG_FLOAT) && k == R_UINT) {
      k = R_FLOAT;
      r.f = (double)r.u;
    } else if (!streq(tag, TAG_TIMESTAMP)) {
      char want[64];
      snprintf(want, sizeof(want), "%s", short_tag(tag));
      return dec_fail(d, xasprintf("yaml: cannot decode %s `%s` as a %s", short_tag(rkind_tag(k)),
                                   n->value, want));
    }
  }
  switch (k) {
  case R_NULL: return json_null();
  case R_BOOL: return json_boolean(r.b);
  case R_INT: return json_integer(r.i);
  case R_UINT: return json_real((double)r.u);
  case R_FLOAT: return float_json(d, r.f);
  case R_STR: break;
  }
  return string_json(n->value, n->len);
}

/* sigs.k8s.io/yaml turns non-string map keys into strings. */
static char *key_string(dec_t *d, json_t *k) {
  char buf[64];
  switch (json_typeof(k)) {
  case JSON_STRING: return xstrndup(json_string_value(k), json_string_length(k));
  case JSON_INTEGER: return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(k));
  case JSON_REAL:
    format_go_float(json_real_value(k), true, buf, sizeof(buf));
    return xstrdup(buf);
  case JSON_TRUE: return xstrdup("true");
  case JSON_FALSE: return xstrdup("false");
  case JSON_NULL:
    dec_fail(d, xstrdup("unsupported map key of type: %!s(<nil>), key: <nil>"));
    return NULL;
  default:
    dec_fail(d, xstrdup("yaml: invalid map key: a map or a sequence cannot be a key"));
    return NULL;
  }
}

static int decode_mapping_into(dec_t *d, node_t *n, json_t *obj);

static bool count_decode(dec_t *d) {
  d->decode_count++;
  if (d->alias_depth > 0)
    d->alias_count++;
  if (d->alias_count > 100 && d->decode_count > 1000 &&
      (double)d->alias_count / (double)d->decode_count > allowed_alias_ratio(d->decode_count)) {
    dec_fail(d, xstrdup("yaml: document contains excessive aliasing"));
    return false;
  }
  return true;
}

/* Decodes an alias or mapping node into an existing object (merge keys). */
static int merge_one(dec_t *d, node_t *n, json_t *obj) {
  if (!count_decode(d))
    return -EINVAL;
  if (n->kind == NODE_MAP)
    return decode_mapping_into(d, n, obj);
  /* Alias: its target must be a mapping. */
  if (n->target->expanding) {
    dec_fail(d, xasprintf("yaml: anchor '%s' value contains itself", n->value));
    return -EINVAL;
  }
  n->target->expanding = true;
  d->alias_depth++;
  int rc = count_decode(d) ? decode_mapping_into(d, n->target, obj) : -EINVAL;
  d->alias_depth--;
  n->target->expanding = false;
  return rc;
}

static bool is_map_like(node_t *n) {
  return n->kind == NODE_MAP || (n->kind == NODE_ALIAS && n->target->kind == NODE_MAP);
}

static int merge(dec_t *d, node_t *v, json_t *obj) {
  if (is_map_like(v))
    return merge_one(d, v, obj);
  if (v->kind == NODE_SEQ) {
    /* Earlier maps take precedence, so apply them last. */
    for (size_t i = v->n; i > 0; i--)
      if (!is_map_like(v->kids[i - 1]))
        goto bad;
    for (size_t i = v->n; i > 0; i--)
      if (merge_one(d, v->kids[i - 1], obj) < 0)
        return -EINVAL;
    return 0;
  }
bad:
  dec_fail(d, xstrdup("yaml: map merge requires map or sequence of maps as the value"));
  return -EINVAL;
}

static int decode_mapping_into(dec_t *d, node_t *n, json_t *obj) {
  if (++d->depth > MAX_DEPTH) {
    dec_fail(d, xasprintf("yaml: exceeded max depth of %d", MAX_DEPTH));
    return -EINVAL;
  }
  int rc = 0;
  for (size_t i = 0; i + 1 < n->n && rc == 0; i += 2) {
    node_t *k = n->kids[i], *v = n->kids[i + 1];
    if (k->kind == NODE_SCALAR && streq(k->value, "<<") &&
        (k->implicit || streq_ptr(k->tag, TAG_MERGE))) {
      rc = merge(d, v, obj);
      continue;
    }
    json_t *kj = decode(d, k);
    if (!kj) {
      rc = -EINVAL;
      break;
    }
    _cleanup_free_ char *ks = key_string(d, kj);
    json_decref(kj);
    if (!ks) {
      rc = -EINVAL;
      break;
    }
    json_t *vj = decode(d, v);
    if (!vj) {
      rc = -EINVAL;
      break;
    }
    json_object_set_new(obj, ks, vj);
  }
  d->depth--;
  return rc;
}

static json_t *decode(dec_t *d, node_t *n) {
  if (!count_decode(d))
    return NULL;
  switch (n->kind) {
  case NODE_SCALAR:
    return decode_scalar(d, n);
  case NODE_ALIAS: {
    if (n->target->expanding)
      return dec_fail(d, xasprintf("yaml: anchor '%s' value contains itself", n->value));
    n->target->expanding = true;
    d->alias_depth++;
    json_t *v = decode(d, n->target);
    d->alias_depth--;
    n->target->expanding = false;
    return v;
  }
  case NODE_SEQ: {
    if (++d->depth > MAX_DEPTH)
      return dec_fail(d, xasprintf("yaml: exceeded max depth of %d", MAX_DEPTH));
    json_t *arr = json_array();
    for (size_t i = 0; i < n->n; i++) {
      json_t *v = decode(d, n->kids[i]);
      if (!v) {
        json_decref(arr);
        return NULL;
      }
      json_array_append_new(arr, v);
    }
    d->depth--;
    return arr;
  }
  case NODE_MAP: {
    json_t *obj = json_object();
    if (decode_mapping_into(d, n, obj) < 0) {
      json_decref(obj);
      return NULL;
    }
    return obj;
  }
  }
  return NULL;
}

/* Decodes the first document of one chunk. Returns 0 with *ret (JSON null when the chunk
 * holds no document), or -EINVAL with *ret_err. */
static int decode_chunk(const char *buf, size_t len, json_t **ret, char **ret_err) {
  doc_t doc = {0};
  node_t *root = NULL;
  char *err = NULL;
  int rc = load_document(buf, len, &doc, &root, &err);
  if (rc < 0) {
    doc_free(&doc);
    *ret_err = err;
    return rc;
  }
  if (rc == 0) {
    doc_free(&doc);
    *ret = json_null();
    return 0;
  }
  dec_t d = {0};
  json_t *v = decode(&d, root);
  doc_free(&doc);
  if (!v) {
    *ret_err = d.err ? d.err : xstrdup("yaml: unknown error");
    return -EINVAL;
  }
  free(d.err);
  *ret = v;
  return 0;
}

/* ---------------------------------------------------------------------------------- */
/* Streams                                                                              */

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static int fail(char **ret_err, char *msg) {
  if (ret_err)
    *ret_err = msg;
  else
    free(msg);
  return -EINVAL;
}

/* kubectl reads a stream starting with '{' as JSON values, one after another. */
static int decode_json_stream(const char *buf, size_t len, json_t *out, char **ret_err) {
  size_t pos = 0;
  for (;;) {
    while (pos < len && is_space(buf[pos]))
      pos++;
    if (pos >= len)
      return 0;
    json_error_t e;
    json_t *v = json_loadb(buf + pos, len - pos, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &e);
    if (!v)
      return fail(ret_err, xasprintf("line %d, column %d: %s", e.line, e.column, e.text));
    pos += e.position;
    if (!json_is_null(v))
      json_array_append(out, v);
    json_decref(v);
  }
}

/* kubectl's YAMLReader: documents are separated by lines starting with "---"; only blanks
 * or a comment may follow the marker. */
static int split_documents(const char *buf, size_t len, json_t *out, char **ret_err) {
  size_t start = 0, pos = 0;
  for (;;) {
    bool at_end = pos >= len;
    bool sep = false;
    size_t eol = pos;
    if (!at_end) {
      const char *nl = memchr(buf + pos, '\n', len - pos);
      eol = nl ? (size_t)(nl - buf) : len;
      if (eol - pos >= 3 && memcmp(buf + pos, "---", 3) == 0) {
        size_t i = pos + 3;
        while (i < eol && is_space(buf[i]))
          i++;
        if (i < eol && buf[i] != '#') {
          _cleanup_free_ char *rest = xstrndup(buf + i, eol - i);
          size_t rl = strlen(rest);
          while (rl > 0 && is_space(rest[rl - 1]))
            rest[--rl] = 0;
          return fail(ret_err, xasprintf("invalid Yaml document separator: %s", rest));
        }
        sep = true;
      }
    }
    if (at_end || sep) {
      if (pos > start) {
        json_t *v = NULL;
        char *err = NULL;
        if (decode_chunk(buf + start, pos - start, &v, &err) < 0)
          return fail(ret_err, err);
        if (!json_is_null(v))
          json_array_append(out, v);
        json_decref(v);
      }
      if (at_end)
        return 0;
      start = eol < len ? eol + 1 : len;
    }
    pos = eol < len ? eol + 1 : len;
  }
}

int yaml_decode_all(const char *buf, size_t len, json_t **ret_array, char **ret_err) {
  json_t *out = json_array();
  size_t i = 0;
  while (i < len && is_space(buf[i]))
    i++;
  int rc = (i < len && buf[i] == '{') ? decode_json_stream(buf, len, out, ret_err)
                                      : split_documents(buf, len, out, ret_err);
  if (rc < 0) {
    json_decref(out);
    return rc;
  }
  *ret_array = out;
  return 0;
}

int yaml_decode_one(const char *buf, size_t len, json_t **ret, char **ret_err) {
  json_t *all = NULL;
  int rc = yaml_decode_all(buf, len, &all, ret_err);
  if (rc < 0)
    return rc;
  size_t n = json_array_size(all);
  if (n > 1) {
    json_decref(all);
    return fail(ret_err, xstrdup("yaml: expected a single document in the stream"));
  }
  *ret = n ? json_incref(json_array_get(all, 0)) : json_null();
  json_decref(all);
  return 0;
}

/* ---------------------------------------------------------------------------------- */
/* Encoding                                                                             */

typedef struct {
  char *s;
  size_t len, cap;
} out_t;

static int write_handler(void *data, unsigned char *buffer, size_t size) {
  out_t *o = data;
  if (o->len + size + 1 > o->cap) {
    o->cap = (o->len + size + 1) * 2;
    o->s = xrealloc(o->s, o->cap);
  }
  memcpy(o->s + o->len, buffer, size);
  o->len += size;
  o->s[o->len] = 0;
  return 1;
}

/* ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$ — YAML 1.1 sexagesimal numbers,
 * which go-yaml quotes on output. */
static bool is_base60_float(const char *s) {
  if (*s == '+' || *s == '-')
    s++;
  if (!(*s >= '0' && *s <= '9'))
    return false;
  while ((*s >= '0' && *s <= '9') || *s == '_')
    s++;
  int groups = 0;
  while (*s == ':') {
    s++;
    int n = 0;
    const char *g = s;
    while (*s >= '0' && *s <= '9')
      s++, n++;
    if (n == 0 || n > 2 || (n == 2 && g[0] > '5'))
      return false;
    groups++;
  }
  if (!groups)
    return false;
  if (*s == '.') {
    s++;
    while ((*s >= '0' && *s <= '9') || *s == '_')
      s++;
  }
  return *s == 0;
}

static bool digits_run(const char **pp, int min, int max) {
  int n = 0;
  while (**pp >= '0' && **pp <= '9' && n < max)
    (*pp)++, n++;
  return n >= min;
}

/* go-yaml reads these as timestamps, so strings that look like them are quoted:
 * YYYY-M-D, optionally followed by [Tt ]h:m:s(.frac) and, after T, a zone. */
static bool looks_like_timestamp(const char *s) {
  const char *p = s;
  if (!digits_run(&p, 4, 4) || *p != '-' || p != s + 4)
    return false;
  p++;
  if (!digits_run(&p, 1, 2) || *p++ != '-' || !digits_run(&p, 1, 2))
    return false;
  if (!*p)
    return true;
  char sep = *p++;
  if (sep != 'T' && sep != 't' && sep != ' ')
    return false;
  if (!digits_run(&p, 1, 2) || *p++ != ':' || !digits_run(&p, 1, 2) || *p++ != ':' ||
      !digits_run(&p, 1, 2))
    return false;
  if (*p == '.') {
    p++;
    if (!digits_run(&p, 1, 9))
      return false;
  }
  if (sep == ' ')
    return !*p;
  if (*p == 'Z')
    return !p[1];
  if (*p == '+' || *p == '-') {
    p++;
    return digits_run(&p, 2, 2) && *p++ == ':' && digits_run(&p, 2, 2) && !*p;
  }
  return false;
}

static bool emit(yaml_emitter_t *e, yaml_event_t *ev) { return yaml_emitter_emit(e, ev) != 0; }

static bool emit_scalar(yaml_emitter_t *e, const char *s, size_t len, yaml_scalar_style_t st) {
  yaml_event_t ev;
  yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)len, 1, 1, st);
  return emit(e, &ev);
}

/* go-yaml's key order (keyList.Less) for string keys: letters sort before other
 * characters, and runs of digits compare as numbers. */
static bool is_letter(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}
static bool is_dig(unsigned char c) { return c >= '0' && c <= '9'; }

static int key_cmp(const void *pa, const void *pb) {
  const unsigned char *a = *(const unsigned char *const *)pa;
  const unsigned char *b = *(const unsigned char *const *)pb;
  size_t la = strlen((const char *)a), lb = strlen((const char *)b);
  for (size_t i = 0; i < la && i < lb; i++) {
    if (a[i] == b[i])
      continue;
    bool al = is_letter(a[i]), bl = is_letter(b[i]);
    if (al && bl)
      return a[i] < b[i] ? -1 : 1;
    if (al || bl)
      return bl ? -1 : 1;
    /* Go's int64 arithmetic wraps on absurdly long digit runs; so does ours. */
    uint64_t an = 0, bn = 0;
    if (a[i] == '0' || b[i] == '0') {
      for (size_t j = i; j > 0 && is_dig(a[j - 1]); j--)
        if (a[j - 1] != '0') {
          an = bn = 1;
          break;
        }
    }
    size_t ai = i, bi = i;
    for (; ai < la && is_dig(a[ai]); ai++)
      an = an * 10 + (uint64_t)(a[ai] - '0');
    for (; bi < lb && is_dig(b[bi]); bi++)
      bn = bn * 10 + (uint64_t)(b[bi] - '0');
    if (an != bn)
      return (int64_t)an < (int64_t)bn ? -1 : 1;
    if (ai != bi)
      return ai < bi ? -1 : 1;
    return a[i] < b[i] ? -1 : 1;
  }
  return la < lb ? -1 : la > lb;
}

static bool emit_value(yaml_emitter_t *e, const json_t *v, unsigned flags, int depth) {
  yaml_event_t ev;
  char buf[64];
  if (depth > MAX_DEPTH)
    return false;
  switch (json_typeof(v)) {
  case JSON_OBJECT: {
    yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
    if (!emit(e, &ev))
      return false;
    size_t n = json_object_size(v), i = 0;
    _cleanup_free_ const char **keys = xmalloc((n + 1) * sizeof(char *));
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)v, k, val) keys[i++] = k;
    if (flags & YAML_ENCODE_SORT_KEYS)
      qsort(keys, n, sizeof(char *), key_cmp);
    for (i = 0; i < n; i++) {
      json_t *kv = json_string(keys[i]);
      bool ok = emit_value(e, kv, flags, depth + 1);
      json_decref(kv);
      if (!ok || !emit_value(e, json_object_get(v, keys[i]), flags, depth + 1))
        return false;
    }
    yaml_mapping_end_event_initialize(&ev);
    return emit(e, &ev);
  }
  case JSON_ARRAY: {
    yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
    if (!emit(e, &ev))
      return false;
    for (size_t i = 0; i < json_array_size(v); i++)
      if (!emit_value(e, json_array_get(v, i), flags, depth + 1))
        return false;
    yaml_sequence_end_event_initialize(&ev);
    return emit(e, &ev);
  }
  case JSON_STRING: {
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    yaml_scalar_style_t st;
    rval_t r;
    bool plain_ok = resolve_plain(s, len, NULL, &r) == R_STR && !is_base60_float(s) &&
                    !looks_like_timestamp(s);
    if (memchr(s, '\n', len))
      st = YAML_LITERAL_SCALAR_STYLE;
    else if (plain_ok)
      st = YAML_PLAIN_SCALAR_STYLE;
    else
      st = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    return emit_scalar(e, s, len, st);
  }
  case JSON_INTEGER:
    snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    return emit_scalar(e, buf, strlen(buf), YAML_PLAIN_SCALAR_STYLE);
  case JSON_REAL:
    format_go_float(json_real_value(v), false, buf, sizeof(buf));
    return emit_scalar(e, buf, strlen(buf), YAML_PLAIN_SCALAR_STYLE);
  case JSON_TRUE:
    return emit_scalar(e, "true", 4, YAML_PLAIN_SCALAR_STYLE);
  case JSON_FALSE:
    return emit_scalar(e, "false", 5, YAML_PLAIN_SCALAR_STYLE);
  case JSON_NULL:
    return emit_scalar(e, "null", 4, YAML_PLAIN_SCALAR_STYLE);
  }
  return false;
}

char *yaml_encode_flags(const json_t *v, unsigned flags) {
  out_t o = {0};
  yaml_emitter_t e;
  yaml_event_t ev;
  if (!yaml_emitter_initialize(&e))
    abort();
  yaml_emitter_set_output(&e, write_handler, &o);
  yaml_emitter_set_unicode(&e, 1);
  yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
  bool ok = emit(&e, &ev);
  yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
  ok = ok && emit(&e, &ev);
  ok = ok && emit_value(&e, v ? v : json_null(), flags, 0);
  yaml_document_end_event_initialize(&ev, 1);
  ok = ok && emit(&e, &ev);
  yaml_stream_end_event_initialize(&ev);
  ok = ok && emit(&e, &ev);
  yaml_emitter_delete(&e);
  if (!ok) {
    /* Only absurd nesting gets here; the output would be unusable anyway. */
    free(o.s);
    return xstrdup("null\n");
  }
  return o.s ? o.s : xstrdup("");
}

char *yaml_encode(const json_t *v) { return yaml_encode_flags(v, 0); }
