/* validate.c — decode checks, defaulting and validation driven by the schema.
 *
 * Messages are worded as kube-apiserver words them (k8s.io/apimachinery validation and
 * the Go JSON decoder behind its typed decoding), because kubectl and users match on
 * them. */
#include "api/validate.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/quantity.h"
#include "lib/validation.h"

/* ---- small helpers -------------------------------------------------------------- */

struct path {
  char *buf;
  size_t len, cap;
};

static void path_reserve(struct path *p, size_t extra) {
  if (p->len + extra + 1 > p->cap) {
    p->cap = (p->len + extra + 1) * 2;
    p->buf = xrealloc(p->buf, p->cap);
  }
}

static size_t path_append(struct path *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static size_t path_append(struct path *p, const char *fmt, ...) {
  size_t old = p->len;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  path_reserve(p, (size_t)n);
  va_start(ap, fmt);
  vsnprintf(p->buf + p->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  p->len += (size_t)n;
  return old;
}

static size_t path_field(struct path *p, const char *name) {
  return path_append(p, p->len ? ".%s" : "%s", name);
}

static void path_restore(struct path *p, size_t len) {
  p->len = len;
  if (p->buf)
    p->buf[len] = 0;
}

static const char *path_str(const struct path *p) { return p->buf && p->len ? p->buf : ""; }

/* Shortest text that reads back as the same double, as Go prints floats. */
static char *number_text(const json_t *v) {
  if (json_is_integer(v))
    return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
  double d = json_number_value(v);
  if (d == floor(d) && fabs(d) < 1e15)
    return xasprintf("%.0f", d);
  for (int prec = 1; prec <= 17; prec++) {
    char *s = xasprintf("%.*g", prec, d);
    if (strtod(s, NULL) == d)
      return s;
    free(s);
  }
  return xasprintf("%.17g", d);
}

/* The JSON type names Go's decoder uses in "cannot unmarshal X". */
static const char *go_json_kind(const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_OBJECT: return "object";
  case JSON_ARRAY: return "array";
  case JSON_STRING: return "string";
  case JSON_INTEGER:
  case JSON_REAL: return "number";
  case JSON_TRUE:
  case JSON_FALSE: return "bool";
  case JSON_NULL: return "null";
  }
  return "value";
}

/* "io.k8s.api.apps.v1" + "DeploymentSpec" → "v1.DeploymentSpec", the Go type name. */
static char *go_named(const struct schema_type *t) {
  size_t name_len = strlen(t->name), full_len = strlen(t->full_name);
  if (full_len <= name_len + 1)
    return xstrdup(t->name);
  const char *pkg_end = t->full_name + full_len - name_len - 1;
  const char *pkg = pkg_end;
  while (pkg > t->full_name && pkg[-1] != '.')
    pkg--;
  return xasprintf("%.*s.%s", (int)(pkg_end - pkg), pkg, t->name);
}

static char *go_type_name(const struct schema_ref *ref) {
  switch (ref->kind) {
  case SCHEMA_STRING: return ref->type ? go_named(ref->type) : xstrdup("string");
  case SCHEMA_INTEGER: return xstrdup("int64");
  case SCHEMA_INT32: return xstrdup("int32");
  case SCHEMA_NUMBER: return xstrdup("float64");
  case SCHEMA_BOOLEAN: return xstrdup("bool");
  case SCHEMA_BYTES: return xstrdup("[]uint8");
  case SCHEMA_QUANTITY: return xstrdup("resource.Quantity");
  case SCHEMA_INTSTR: return xstrdup("intstr.IntOrString");
  case SCHEMA_TIME: return xstrdup("v1.Time");
  case SCHEMA_MICROTIME: return xstrdup("v1.MicroTime");
  case SCHEMA_ANY: return xstrdup("interface {}");
  case SCHEMA_STRUCT: return go_named(ref->type);
  case SCHEMA_LIST: {
    _cleanup_free_ char *e = go_type_name(ref->elem);
    return xasprintf("[]%s", e);
  }
  case SCHEMA_MAP: {
    _cleanup_free_ char *e = go_type_name(ref->elem);
    return xasprintf("map[string]%s", e);
  }
  }
  return xstrdup("?");
}

/* ---- fieldValidation and warnings ----------------------------------------------- */

const char *const validate_unknown_values[] = {"Ignore", "Warn", "Strict", NULL};

int validate_unknown_parse(const char *value, enum validate_unknown *ret) {
  if (!value || !*value || streq(value, "Warn"))
    *ret = VALIDATE_UNKNOWN_WARN;
  else if (streq(value, "Strict"))
    *ret = VALIDATE_UNKNOWN_STRICT;
  else if (streq(value, "Ignore"))
    *ret = VALIDATE_UNKNOWN_IGNORE;
  else
    return -EINVAL;
  return 0;
}

void validate_warnings_clear(struct validate_warnings *w) {
  if (!w)
    return;
  for (size_t i = 0; i < w->n; i++)
    free(w->items[i]);
  free(w->items);
  w->items = NULL;
  w->n = 0;
}

static void warnings_add(struct validate_warnings *w, char *msg) {
  w->items = xrealloc(w->items, (w->n + 1) * sizeof(*w->items));
  w->items[w->n++] = msg;
}

/* ---- scalar syntax checks ------------------------------------------------------- */

static const char quantity_format_error[] = QUANTITY_ERR_FORMAT;

/* resource.ParseQuantity's verdict: NULL when s parses, else Kubernetes' error text. */
static const char *quantity_check(const char *s) {
  quantity_t q;
  const char *msg = NULL;
  if (quantity_parse(s, &q, &msg) < 0)
    return msg ? msg : quantity_format_error;
  return NULL;
}

/* Go's base64.StdEncoding: returns -1 when valid, else the offset of the first bad byte. */
static long base64_bad_offset(const char *s) {
  size_t n = 0, pad = 0, i;
  for (i = 0; s[i]; i++) {
    char c = s[i];
    if (c == '\r' || c == '\n')
      continue;
    bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '+' || c == '/';
    if (c == '=') {
      if (n % 4 < 2)
        return (long)i;
      pad++;
    } else if (!alpha || pad) {
      return (long)i;
    }
    n++;
  }
  if (n % 4)
    return (long)(i - n % 4);
  return -1;
}

static int take_digits(const char **s, int n, int *ret) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if ((*s)[i] < '0' || (*s)[i] > '9')
      return -EINVAL;
    v = v * 10 + ((*s)[i] - '0');
  }
  *s += n;
  *ret = v;
  return 0;
}

static bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* time.Parse(RFC3339 or RFC3339Micro): NULL when s parses, else Go's error text. */
static char *time_check(const char *s, bool micro) {
  const char *layout = micro ? "2006-01-02T15:04:05.000000Z07:00" : "2006-01-02T15:04:05Z07:00";
  const char *v = s;
  int year, month, day, hour, min, sec;
  const char *elem;
#define ELEM(name, expr)                                                                   \
  do {                                                                                     \
    elem = name;                                                                           \
    if (!(expr))                                                                           \
      goto bad;                                                                            \
  } while (0)
#define LIT(c, name) ELEM(name, *v == (c) && (v++, true))
  ELEM("2006", take_digits(&v, 4, &year) == 0);
  LIT('-', "-");
  ELEM("01", take_digits(&v, 2, &month) == 0);
  if (month < 1 || month > 12)
    return xasprintf("parsing time \"%s\": month out of range", s);
  LIT('-', "-");
  ELEM("02", take_digits(&v, 2, &day) == 0);
  LIT('T', "T");
  elem = "15";
  if (take_digits(&v, 2, &hour) < 0 && take_digits(&v, 1, &hour) < 0)
    goto bad;
  if (hour > 23)
    return xasprintf("parsing time \"%s\": hour out of range", s);
  LIT(':', ":");
  ELEM("04", take_digits(&v, 2, &min) == 0);
  if (min > 59)
    return xasprintf("parsing time \"%s\": minute out of range", s);
  LIT(':', ":");
  ELEM("05", take_digits(&v, 2, &sec) == 0);
  if (sec > 59)
    return xasprintf("parsing time \"%s\": second out of range", s);
  if (micro) {
    int frac;
    elem = ".000000";
    if (*v != '.' || take_digits(&(const char *){v + 1}, 6, &frac) < 0)
      goto bad;
    v += 7;
  } else if ((*v == '.' || *v == ',') && v[1] >= '0' && v[1] <= '9') {
    v++;
    while (*v >= '0' && *v <= '9')
      v++;
  }
  elem = "Z07:00";
  if (*v == 'Z') {
    v++;
  } else {
    const char *t = v + 1;
    int th, tm;
    if ((*v != '+' && *v != '-') || take_digits(&t, 2, &th) < 0 || *t != ':' ||
        (t++, take_digits(&t, 2, &tm)) < 0)
      goto bad;
    v = t;
  }
  if (*v)
    return xasprintf("parsing time \"%s\": extra text: \"%s\"", s, v);
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (day < 1 || day > mdays[month - 1] + (month == 2 && leap(year)))
    return xasprintf("parsing time \"%s\": day out of range", s);
  return NULL;
bad:
  return xasprintf("parsing time \"%s\" as \"%s\": cannot parse \"%s\" as \"%s\"", s, layout, v,
                   elem);
#undef LIT
#undef ELEM
}

/* ---- decode check --------------------------------------------------------------- */

struct decode_ctx {
  enum validate_unknown mode;
  struct path path;   /* Kubernetes path, with [i] and [key] */
  struct path gopath; /* Go decoder's field stack: field names only */
  const struct schema_type *go_struct;
  char *error; /* first error: the text after "<Kind> in version ... as a <Kind>: " */
  char **unknown;
  size_t n_unknown;
};

static void type_error(struct decode_ctx *c, const json_t *v, const char *what,
                       const char *type_name) {
  if (c->error)
    return;
  _cleanup_free_ char *got = NULL;
  if (!what && json_is_number(v)) {
    _cleanup_free_ char *num = number_text(v);
    got = xasprintf("number %s", num);
  } else {
    got = xstrdup(what ? what : go_json_kind(v));
  }
  if (c->gopath.len && c->go_struct)
    c->error = xasprintf("json: cannot unmarshal %s into Go struct field %s.%s of type %s", got,
                         c->go_struct->name, path_str(&c->gopath), type_name);
  else
    c->error = xasprintf("json: cannot unmarshal %s into Go value of type %s", got, type_name);
}

static void type_error_ref(struct decode_ctx *c, const json_t *v, const struct schema_ref *ref) {
  _cleanup_free_ char *tn = go_type_name(ref);
  /* Go quotes the literal only for a number that doesn't fit a numeric field; anything
   * else is named by its JSON kind alone. */
  bool numeric = ref->kind == SCHEMA_INTEGER || ref->kind == SCHEMA_INT32;
  type_error(c, v, json_is_number(v) && numeric ? NULL : go_json_kind(v), tn);
}

static json_t *zero_value(const struct schema_ref *ref) {
  switch (ref->kind) {
  case SCHEMA_STRING:
  case SCHEMA_BYTES: return json_string("");
  case SCHEMA_INTEGER:
  case SCHEMA_INT32: return json_integer(0);
  case SCHEMA_NUMBER: return json_real(0);
  case SCHEMA_BOOLEAN: return json_false();
  case SCHEMA_STRUCT: return json_object();
  default: return NULL;
  }
}

static void decode_value(struct decode_ctx *c, const struct schema_ref *ref, json_t *v);

static void decode_struct(struct decode_ctx *c, const struct schema_type *t, json_t *obj) {
  const char *key;
  json_t *val;
  void *iter = json_object_iter(obj);
  while (iter && !c->error) {
    key = json_object_iter_key(iter);
    val = json_object_iter_value(iter);
    const struct schema_field *f = schema_field(t, key);
    if (!f) {
      size_t old = path_field(&c->path, key);
      if (c->mode != VALIDATE_UNKNOWN_IGNORE) {
        c->unknown = xrealloc(c->unknown, (c->n_unknown + 1) * sizeof(*c->unknown));
        c->unknown[c->n_unknown++] = xasprintf("unknown field \"%s\"", path_str(&c->path));
      }
      path_restore(&c->path, old);
      void *next = json_object_iter_next(obj, iter);
      json_object_del(obj, key);
      iter = next;
      continue;
    }
    if (json_is_null(val)) {
      void *next = json_object_iter_next(obj, iter);
      json_object_del(obj, key);
      iter = next;
      continue;
    }
    size_t old = path_field(&c->path, key);
    size_t old_go = path_field(&c->gopath, key);
    const struct schema_type *saved = c->go_struct;
    c->go_struct = t;
    decode_value(c, f->ref, val);
    c->go_struct = saved;
    path_restore(&c->gopath, old_go);
    path_restore(&c->path, old);
    /* Optional maps and lists are `omitempty` in the Go types: an empty one does not
     * survive kube-apiserver's decoding (a label map emptied by a patch disappears). */
    bool empty = (f->ref->kind == SCHEMA_MAP && json_is_object(val) && json_object_size(val) == 0) ||
                 (f->ref->kind == SCHEMA_LIST && json_is_array(val) && json_array_size(val) == 0);
    if (empty && !f->required) {
      void *next = json_object_iter_next(obj, iter);
      json_object_del(obj, key);
      iter = next;
      continue;
    }
    iter = json_object_iter_next(obj, iter);
  }
}

/* A null list item or map value decodes to the element's zero value. */
static void replace_null(json_t *container, size_t index, const char *key,
                         const struct schema_ref *elem) {
  json_t *z = zero_value(elem);
  if (!z)
    return;
  if (key)
    json_object_set_new(container, key, z);
  else
    json_array_set_new(container, index, z);
}

static void decode_value(struct decode_ctx *c, const struct schema_ref *ref, json_t *v) {
  if (c->error || json_is_null(v))
    return;
  switch (ref->kind) {
  case SCHEMA_STRING:
    if (!json_is_string(v))
      type_error_ref(c, v, ref);
    return;
  case SCHEMA_INTEGER:
  case SCHEMA_INT32:
    if (!json_is_integer(v) ||
        (ref->kind == SCHEMA_INT32 &&
         (json_integer_value(v) > INT32_MAX || json_integer_value(v) < INT32_MIN)))
      type_error_ref(c, v, ref);
    return;
  case SCHEMA_NUMBER:
    if (!json_is_number(v))
      type_error_ref(c, v, ref);
    return;
  case SCHEMA_BOOLEAN:
    if (!json_is_boolean(v))
      type_error_ref(c, v, ref);
    return;
  case SCHEMA_QUANTITY: {
    _cleanup_free_ char *text = NULL;
    if (json_is_string(v))
      text = xstrdup(json_string_value(v));
    else if (json_is_number(v))
      text = number_text(v);
    const char *msg = text ? quantity_check(text) : quantity_format_error;
    if (msg && !c->error)
      c->error = xstrdup(msg);
    return;
  }
  case SCHEMA_INTSTR:
    /* IntOrString decodes a non-string through a plain int32. */
    if (json_is_string(v))
      return;
    if (!json_is_integer(v) || json_integer_value(v) > INT32_MAX ||
        json_integer_value(v) < INT32_MIN)
      type_error(c, v, json_is_number(v) ? NULL : go_json_kind(v), "int32");
    return;
  case SCHEMA_TIME:
  case SCHEMA_MICROTIME:
    if (!json_is_string(v)) {
      type_error(c, v, json_is_number(v) ? "number" : go_json_kind(v), "string");
      return;
    }
    if (!c->error)
      c->error = time_check(json_string_value(v), ref->kind == SCHEMA_MICROTIME);
    return;
  case SCHEMA_BYTES:
    if (!json_is_string(v)) {
      type_error_ref(c, v, ref);
      return;
    }
    long bad = base64_bad_offset(json_string_value(v));
    if (bad >= 0 && !c->error)
      c->error = xasprintf("illegal base64 data at input byte %ld", bad);
    return;
  case SCHEMA_ANY:
    return;
  case SCHEMA_STRUCT:
    if (!json_is_object(v)) {
      type_error_ref(c, v, ref);
      return;
    }
    decode_struct(c, ref->type, v);
    return;
  case SCHEMA_LIST: {
    if (!json_is_array(v)) {
      type_error_ref(c, v, ref);
      return;
    }
    for (size_t i = 0; i < json_array_size(v) && !c->error; i++) {
      json_t *item = json_array_get(v, i);
      if (json_is_null(item)) {
        replace_null(v, i, NULL, ref->elem);
        continue;
      }
      size_t old = path_append(&c->path, "[%zu]", i);
      decode_value(c, ref->elem, item);
      path_restore(&c->path, old);
    }
    return;
  }
  case SCHEMA_MAP: {
    if (!json_is_object(v)) {
      type_error_ref(c, v, ref);
      return;
    }
    const char *key;
    json_t *item;
    json_object_foreach(v, key, item) {
      if (c->error)
        break;
      if (json_is_null(item)) {
        replace_null(v, 0, key, ref->elem);
        continue;
      }
      size_t old = path_append(&c->path, "[%s]", key);
      decode_value(c, ref->elem, item);
      path_restore(&c->path, old);
    }
    return;
  }
  }
}

int validate_decode_type(const struct schema_type *type, const char *kind, const char *version,
                         json_t *obj, enum validate_unknown mode,
                         struct validate_warnings *warnings, struct api_error *err) {
  struct decode_ctx c = {.mode = mode};
  if (!json_is_object(obj)) {
    struct schema_ref root = {.kind = SCHEMA_STRUCT, .type = type};
    type_error_ref(&c, obj, &root);
  } else {
    decode_struct(&c, type, obj);
  }
  int r = 0;
  if (c.error) {
    r = api_error_set(err, -EINVAL, 400, "BadRequest",
                      "%s in version \"%s\" cannot be handled as a %s: %s", kind, version, kind,
                      c.error);
  } else if (c.n_unknown && mode == VALIDATE_UNKNOWN_STRICT) {
    size_t len = 0;
    for (size_t i = 0; i < c.n_unknown; i++)
      len += strlen(c.unknown[i]) + 2;
    _cleanup_free_ char *joined = xmalloc(len + 1);
    joined[0] = 0;
    for (size_t i = 0, at = 0; i < c.n_unknown; i++)
      at += (size_t)sprintf(joined + at, "%s%s", i ? ", " : "", c.unknown[i]);
    r = api_error_set(err, -EINVAL, 400, "BadRequest",
                      "%s in version \"%s\" cannot be handled as a %s: strict decoding error: %s",
                      kind, version, kind, joined);
  } else if (c.n_unknown && mode == VALIDATE_UNKNOWN_WARN && warnings) {
    for (size_t i = 0; i < c.n_unknown; i++)
      warnings_add(warnings, TAKE_PTR(c.unknown[i]));
  }
  for (size_t i = 0; i < c.n_unknown; i++)
    free(c.unknown[i]);
  free(c.unknown);
  free(c.error);
  free(c.path.buf);
  free(c.gopath.buf);
  return r;
}

int validate_decode(const struct api_resource *res, json_t *obj, enum validate_unknown mode,
                    struct validate_warnings *warnings, struct api_error *err) {
  return validate_decode_type(res->schema, res->kind, res->version, obj, mode, warnings, err);
}

/* ---- defaulting ----------------------------------------------------------------- */

static void default_value(const struct schema_ref *ref, json_t *v) {
  switch (ref->kind) {
  case SCHEMA_STRUCT:
    if (json_is_object(v))
      validate_default_type(ref->type, v);
    return;
  case SCHEMA_LIST:
    if (json_is_array(v) && ref->elem->kind >= SCHEMA_STRUCT)
      for (size_t i = 0; i < json_array_size(v); i++)
        default_value(ref->elem, json_array_get(v, i));
    return;
  case SCHEMA_MAP:
    if (json_is_object(v) && ref->elem->kind >= SCHEMA_STRUCT) {
      const char *key;
      json_t *item;
      json_object_foreach(v, key, item) default_value(ref->elem, item);
    }
    return;
  default:
    return;
  }
}

void validate_default_type(const struct schema_type *type, json_t *obj) {
  if (!type || !json_is_object(obj))
    return;
  for (size_t i = 0; i < type->n_fields; i++) {
    const struct schema_field *f = &type->fields[i];
    json_t *v = json_object_get(obj, f->name);
    if (!v && f->default_value) {
      v = json_deep_copy(f->default_value);
      if (!v)
        abort();
      json_object_set_new(obj, f->name, v);
    }
    if (v)
      default_value(f->ref, v);
  }
}

void validate_default(const struct api_resource *res, json_t *obj) {
  validate_default_type(res->schema, obj);
}

/* ---- name and format checks ----------------------------------------------------- */

/* Up to a few messages from one check, as k8s.io/apimachinery's Is* functions return. */
struct msgs {
  char *items[6];
  size_t n;
};

static void msgs_add(struct msgs *m, char *s) {
  if (m->n < ARRAY_SIZE(m->items))
    m->items[m->n++] = s;
  else
    free(s);
}

static void msgs_clear(struct msgs *m) {
  for (size_t i = 0; i < m->n; i++)
    free(m->items[i]);
  m->n = 0;
}

/* Moves the messages of a lib/validation check (apimachinery's wording) into m. */
static void check_with(int (*check)(const char *value, char ***ret_msgs), const char *value,
                       struct msgs *m) {
  char **v = NULL;
  check(value, &v);
  for (char **p = v; p && *p; p++)
    msgs_add(m, *p);
  free(v);
}

static void check_path_segment(const char *s, bool prefix, struct msgs *m) {
  if (!prefix) {
    if (streq(s, ".") || streq(s, ".."))
      msgs_add(m, xasprintf("may not be '%s'", s));
  }
  if (strchr(s, '/'))
    msgs_add(m, xstrdup("may not contain '/'"));
  if (strchr(s, '%'))
    msgs_add(m, xstrdup("may not contain '%'"));
}

/* Format checks by name: what applies to strings and what to numbers. */
struct format_rule {
  const char *name;
  int (*string_check)(const char *value, char ***ret_msgs);
  int (*number_check)(int64_t value, char ***ret_msgs);
};

/* apimachinery's ValidateNonnegativeField, in lib/validation's calling convention. */
static int check_nonneg(int64_t n, char ***ret_msgs) {
  *ret_msgs = NULL;
  if (n >= 0)
    return 0;
  *ret_msgs = xcalloc(2, sizeof(char *));
  (*ret_msgs)[0] = xstrdup("must be greater than or equal to 0");
  return 1;
}

static const struct format_rule format_rules[] = {
    {"dns1123label", valid_dns1123_label, NULL},
    {"dns1123subdomain", valid_dns1123_subdomain, NULL},
    {"dns1035label", valid_dns1035_label, NULL},
    {"qualifiedname", valid_qualified_name, NULL},
    {"labelvalue", valid_label_value, NULL},
    {"port", valid_port_name, valid_port_num},
    {"portname", valid_port_name, NULL},
    {"nonneg", NULL, check_nonneg},
    {"ipv4", valid_ipv4, NULL},
    {"ip", valid_ip, NULL},
    {"cidr", valid_cidr, NULL},
};

static void add_invalid_msgs(struct field_errors *errs, const char *path, const json_t *value,
                             struct msgs *m) {
  for (size_t i = 0; i < m->n; i++)
    field_errors_invalid(errs, path, value, m->items[i]);
  msgs_clear(m);
}

int validate_format(const char *format, const json_t *value, const char *path,
                    struct field_errors *errs) {
  const struct format_rule *rule = NULL;
  for (size_t i = 0; i < ARRAY_SIZE(format_rules); i++)
    if (streq(format_rules[i].name, format))
      rule = &format_rules[i];
  if (!rule)
    return -ENOENT;
  char **v = NULL;
  if (json_is_string(value) && rule->string_check)
    rule->string_check(json_string_value(value), &v);
  else if (json_is_integer(value) && rule->number_check)
    rule->number_check((int64_t)json_integer_value(value), &v);
  else if (json_is_real(value) && rule->number_check)
    rule->number_check((int64_t)floor(json_real_value(value)), &v);
  size_t n = valid_msgs_count(v);
  for (size_t i = 0; i < n; i++)
    field_errors_invalid(errs, path, value, v[i]);
  valid_msgs_free(v);
  return n ? -EINVAL : 0;
}

/* ---- schema rules --------------------------------------------------------------- */

struct validate_ctx {
  struct path path;
  struct field_errors *errs;
  size_t start;
};

static bool is_missing(const json_t *v) {
  return !v || json_is_null(v) || (json_is_string(v) && !*json_string_value(v)) ||
         (json_is_array(v) && json_array_size(v) == 0);
}

static void check_scalar_rules(struct validate_ctx *c, const struct schema_field *f,
                               const json_t *v) {
  const char *path = path_str(&c->path);
  if (f->enum_values && json_is_string(v)) {
    bool found = false;
    for (size_t i = 0; f->enum_values[i] && !found; i++)
      found = streq(f->enum_values[i], json_string_value(v));
    if (!found)
      field_errors_not_supported(c->errs, path, v, f->enum_values);
  }
  if (f->format)
    validate_format(f->format, v, path, c->errs);
  if (json_is_number(v) && (f->has_min || f->has_max)) {
    double d = json_number_value(v);
    json_t *bound = NULL;
    const char *what = NULL;
    if (f->has_min && d < f->min) {
      bound = json_real(f->min);
      what = "greater";
    } else if (f->has_max && d > f->max) {
      bound = json_real(f->max);
      what = "less";
    }
    if (bound) {
      _cleanup_free_ char *b = number_text(bound);
      _cleanup_free_ char *msg = xasprintf("must be %s than or equal to %s", what, b);
      field_errors_invalid(c->errs, path, v, msg);
      json_decref(bound);
    }
  }
}

static bool has_scalar_rules(const struct schema_field *f) {
  return f->enum_values || f->format || f->has_min || f->has_max;
}

static void validate_value(struct validate_ctx *c, const struct schema_field *f,
                           const struct schema_ref *ref, const json_t *v);

static void validate_struct(struct validate_ctx *c, const struct schema_type *t,
                            const json_t *obj, const char *skip) {
  /* oneof groups seen so far in this struct: group name → first field set. */
  const char *groups[16];
  size_t n_groups = 0;
  for (size_t i = 0; i < t->n_fields; i++) {
    const struct schema_field *f = &t->fields[i];
    if (skip && streq(f->name, skip))
      continue;
    const json_t *v = json_object_get(obj, f->name);
    size_t old = path_field(&c->path, f->name);
    if (f->required && is_missing(v))
      field_errors_required(c->errs, path_str(&c->path), NULL);
    if (v && !json_is_null(v)) {
      if (f->oneof) {
        bool seen = false;
        for (size_t g = 0; g < n_groups && !seen; g++)
          seen = streq(groups[g], f->oneof);
        if (seen) {
          _cleanup_free_ char *what = xstrdup(f->oneof);
          for (char *p = what; *p; p++)
            if (*p == '-' || *p == '_')
              *p = ' ';
          _cleanup_free_ char *msg = xasprintf("may not specify more than 1 %s", what);
          field_errors_forbidden(c->errs, path_str(&c->path), msg);
        } else if (n_groups < ARRAY_SIZE(groups)) {
          groups[n_groups++] = f->oneof;
        }
      }
      validate_value(c, f, f->ref, v);
    }
    path_restore(&c->path, old);
  }
}

static void validate_value(struct validate_ctx *c, const struct schema_field *f,
                           const struct schema_ref *ref, const json_t *v) {
  switch (ref->kind) {
  case SCHEMA_STRUCT:
    if (json_is_object(v))
      validate_struct(c, ref->type, v, NULL);
    return;
  case SCHEMA_LIST:
    if (!json_is_array(v))
      return;
    for (size_t i = 0; i < json_array_size(v); i++) {
      size_t old = path_append(&c->path, "[%zu]", i);
      validate_value(c, f, ref->elem, json_array_get(v, i));
      path_restore(&c->path, old);
    }
    return;
  case SCHEMA_MAP: {
    if (!json_is_object(v))
      return;
    const char *key;
    const json_t *item;
    json_object_foreach((json_t *)v, key, item) {
      size_t old = path_append(&c->path, "[%s]", key);
      validate_value(c, f, ref->elem, item);
      path_restore(&c->path, old);
    }
    return;
  }
  case SCHEMA_ANY:
    return;
  default:
    if (f && has_scalar_rules(f))
      check_scalar_rules(c, f, v);
    return;
  }
}

int validate_type(const struct schema_type *type, const json_t *obj, const char *path,
                  struct field_errors *errs) {
  size_t before = errs->n;
  struct validate_ctx c = {.errs = errs};
  if (path && *path)
    path_append(&c.path, "%s", path);
  if (type && json_is_object(obj))
    validate_struct(&c, type, obj, NULL);
  free(c.path.buf);
  return errs->n > before ? -EINVAL : 0;
}

/* ---- ObjectMeta ----------------------------------------------------------------- */

static void name_messages(enum validate_name kind, const char *name, bool prefix,
                          struct msgs *m) {
  _cleanup_free_ char *masked = xstrdup(name);
  /* A generateName prefix is checked as if the random suffix followed it: a trailing
   * dash is fine there. */
  size_t n = strlen(masked);
  if (prefix && n > 0 && masked[n - 1] == '-' && kind != VALIDATE_NAME_PATH_SEGMENT)
    masked[n - 1] = 'a';
  switch (kind) {
  case VALIDATE_NAME_SUBDOMAIN:
    check_with(valid_dns1123_subdomain, masked, m);
    break;
  case VALIDATE_NAME_LABEL:
    check_with(valid_dns1123_label, masked, m);
    break;
  case VALIDATE_NAME_DNS1035:
    check_with(valid_dns1035_label, masked, m);
    break;
  case VALIDATE_NAME_PATH_SEGMENT: check_path_segment(masked, prefix, m); break;
  case VALIDATE_NAME_NONE: break;
  }
}

static const char *str_at(const json_t *obj, const char *key) {
  const json_t *v = json_object_get(obj, key);
  return json_is_string(v) ? json_string_value(v) : "";
}

static void validate_owner_references(const json_t *refs, const char *base,
                                      struct field_errors *errs) {
  size_t controllers = 0;
  size_t i;
  const json_t *ref;
  json_array_foreach(refs, i, ref) {
    const char *api_version = str_at(ref, "apiVersion");
    const char *slash = strrchr(api_version, '/');
    const char *version = slash ? slash + 1 : api_version;
    struct {
      const char *key;
      bool empty;
      const char *msg;
    } checks[] = {
        {"apiVersion", !*version, "version must not be empty"},
        {"kind", !*str_at(ref, "kind"), "must not be empty"},
        {"name", !*str_at(ref, "name"), "must not be empty"},
        {"uid", !*str_at(ref, "uid"), "must not be empty"},
    };
    for (size_t k = 0; k < ARRAY_SIZE(checks); k++) {
      if (!checks[k].empty)
        continue;
      _cleanup_free_ char *p = xasprintf("%s.%s", base, checks[k].key);
      _cleanup_json_ json_t *val = json_string(str_at(ref, checks[k].key));
      field_errors_invalid(errs, p, val, checks[k].msg);
    }
    if (json_is_true(json_object_get(ref, "controller")))
      controllers++;
  }
  if (controllers > 1) {
    /* kube-apiserver names the kinds and names of the controllers it found. */
    _cleanup_free_ char *detail = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&detail, &len);
    fputs("Only one reference can have Controller set to true. Found \"true\" in references for ",
          f);
    size_t seen = 0;
    json_array_foreach(refs, i, ref) {
      if (!json_is_true(json_object_get(ref, "controller")))
        continue;
      fprintf(f, "%s%s/%s", seen++ ? " and " : "", str_at(ref, "kind"), str_at(ref, "name"));
    }
    fclose(f);
    field_errors_invalid(errs, base, refs, detail);
  }
}

int validate_object_meta(const json_t *meta, bool namespaced, enum validate_name name_kind,
                         const char *path, struct field_errors *errs) {
  size_t before = errs->n;
  const char *base = path && *path ? path : "metadata";
  _cleanup_free_ char *p_name = xasprintf("%s.name", base);
  _cleanup_free_ char *p_gen = xasprintf("%s.generateName", base);
  _cleanup_free_ char *p_ns = xasprintf("%s.namespace", base);
  _cleanup_free_ char *p_generation = xasprintf("%s.generation", base);
  _cleanup_free_ char *p_labels = xasprintf("%s.labels", base);
  _cleanup_free_ char *p_ann = xasprintf("%s.annotations", base);
  _cleanup_free_ char *p_owner = xasprintf("%s.ownerReferences", base);
  _cleanup_free_ char *p_fin = xasprintf("%s.finalizers", base);
  struct msgs m = {0};

  const char *name = str_at(meta, "name");
  const char *generate = str_at(meta, "generateName");
  if (*generate) {
    name_messages(name_kind, generate, true, &m);
    add_invalid_msgs(errs, p_gen, json_object_get(meta, "generateName"), &m);
  }
  if (!*name) {
    if (!*generate)
      field_errors_required(errs, p_name, "name or generateName is required");
  } else {
    name_messages(name_kind, name, false, &m);
    add_invalid_msgs(errs, p_name, json_object_get(meta, "name"), &m);
  }

  const char *ns = str_at(meta, "namespace");
  if (namespaced) {
    if (!*ns) {
      field_errors_required(errs, p_ns, NULL);
    } else {
      check_with(valid_dns1123_label, ns, &m);
      add_invalid_msgs(errs, p_ns, json_object_get(meta, "namespace"), &m);
    }
  } else if (*ns) {
    field_errors_forbidden(errs, p_ns, "not allowed on this type");
  }

  const json_t *generation = json_object_get(meta, "generation");
  if (json_is_integer(generation) && json_integer_value(generation) < 0)
    field_errors_invalid(errs, p_generation, generation, "must be greater than or equal to 0");

  const char *key;
  const json_t *val;
  const json_t *labels = json_object_get(meta, "labels");
  if (json_is_object(labels)) {
    json_object_foreach((json_t *)labels, key, val) {
      check_with(valid_label_key, key, &m);
      _cleanup_json_ json_t *k = json_string(key);
      add_invalid_msgs(errs, p_labels, k, &m);
      if (json_is_string(val)) {
        check_with(valid_label_value, json_string_value(val), &m);
        add_invalid_msgs(errs, p_labels, val, &m);
      }
    }
  }

  const json_t *annotations = json_object_get(meta, "annotations");
  if (json_is_object(annotations)) {
    json_object_foreach((json_t *)annotations, key, val) {
      check_with(valid_annotation_key, key, &m);
      _cleanup_json_ json_t *k = json_string(key);
      add_invalid_msgs(errs, p_ann, k, &m);
    }
    if (valid_annotations_size(annotations) > VALID_ANNOTATIONS_TOTAL_MAX)
      field_errors_too_long(errs, p_ann, NULL, VALID_ANNOTATIONS_TOTAL_MAX);
  }

  const json_t *owners = json_object_get(meta, "ownerReferences");
  if (json_is_array(owners))
    validate_owner_references(owners, p_owner, errs);

  const json_t *finalizers = json_object_get(meta, "finalizers");
  if (json_is_array(finalizers)) {
    size_t i;
    json_array_foreach(finalizers, i, val) {
      if (!json_is_string(val))
        continue;
      check_with(valid_qualified_name, json_string_value(val), &m);
      add_invalid_msgs(errs, p_fin, val, &m);
    }
  }

  const json_t *managed = json_object_get(meta, "managedFields");
  if (json_is_array(managed)) {
    size_t i;
    json_array_foreach(managed, i, val) {
      const char *op = str_at(val, "operation");
      if (!streq(op, "Apply") && !streq(op, "Update")) {
        _cleanup_free_ char *p = xasprintf("%s.managedFields[%zu].operation", base, i);
        _cleanup_json_ json_t *v = json_string(op);
        field_errors_invalid(errs, p, v, "must be `Apply` or `Update`");
      }
      const char *ft = str_at(val, "fieldsType");
      if (!streq(ft, "FieldsV1")) {
        _cleanup_free_ char *p = xasprintf("%s.managedFields[%zu].fieldsType", base, i);
        _cleanup_json_ json_t *v = json_string(ft);
        field_errors_invalid(errs, p, v, "must be `FieldsV1`");
      }
    }
  }
  return errs->n > before ? -EINVAL : 0;
}

int validate_object(const struct api_resource *res, const json_t *obj,
                    enum validate_name name_kind, struct field_errors *errs) {
  size_t before = errs->n;
  const json_t *meta = json_object_get(obj, "metadata");
  validate_object_meta(json_is_object(meta) ? meta : NULL, res->namespaced, name_kind,
                       "metadata", errs);
  /* metadata was checked above with kube-apiserver's own rules and paths; the schema's
   * rules for ObjectMeta would repeat them under other names. */
  struct validate_ctx c = {.errs = errs};
  if (res->schema && json_is_object(obj))
    validate_struct(&c, res->schema, obj, "metadata");
  free(c.path.buf);
  return errs->n > before ? -EINVAL : 0;
}

enum validate_name validate_name_rule(const struct api_resource *r) {
  if (streq(r->plural, "namespaces"))
    return VALIDATE_NAME_LABEL;
  if (streq(r->plural, "services"))
    return VALIDATE_NAME_DNS1035;
  if (streq(r->group, "rbac.authorization.k8s.io"))
    return VALIDATE_NAME_PATH_SEGMENT;
  return VALIDATE_NAME_SUBDOMAIN;
}
