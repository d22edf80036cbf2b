#include "api/fieldpath.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/strbuf.h"

struct fieldpath_child {
  struct fieldpath_pe pe;
  struct fieldpath_set *set;
};

struct fieldpath_set {
  struct fieldpath_pe *members;
  size_t n_members, cap_members;
  struct fieldpath_child *children;
  size_t n_children, cap_children;
};

/* ---- UTF-8 as Go decodes it ---- */

/* Decodes one rune at s (n bytes left). Returns its length, and -1 in *ret_rune for an
 * invalid sequence (length 1), as Go's utf8.DecodeRuneInString reports RuneError. */
static size_t utf8_decode(const unsigned char *s, size_t n, long *ret_rune) {
  unsigned char c = s[0];
  if (c < 0x80) {
    *ret_rune = c;
    return 1;
  }
  size_t len;
  long r, min;
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2, r = c & 0x1f, min = 0x80;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3, r = c & 0x0f, min = 0x800;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4, r = c & 0x07, min = 0x10000;
  } else {
    *ret_rune = -1;
    return 1;
  }
  if (n < len) {
    *ret_rune = -1;
    return 1;
  }
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80) {
      *ret_rune = -1;
      return 1;
    }
    r = (r << 6) | (s[i] & 0x3f);
  }
  if (r < min || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) {
    *ret_rune = -1;
    return 1;
  }
  *ret_rune = r;
  return len;
}

/* A JSON string as Go's encoder writes it with HTML escaping on (kube's FieldsV1
 * writer): <, > and & become \u003c.., U+2028/9 are escaped, invalid UTF-8 becomes
 * \ufffd. */
static void buf_put_json_string(struct strbuf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  strbuf_appendc(b, '"');
  size_t i = 0;
  while (i < n) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80) {
      switch (c) {
      case '"':
        strbuf_appends(b, "\\\"");
        break;
      case '\\':
        strbuf_appends(b, "\\\\");
        break;
      case '\n':
        strbuf_appends(b, "\\n");
        break;
      case '\r':
        strbuf_appends(b, "\\r");
        break;
      case '\t':
        strbuf_appends(b, "\\t");
        break;
      default:
        if (c < 0x20 || c == '<' || c == '>' || c == '&') {
          char e[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf], 0};
          strbuf_appends(b, e);
        } else {
          strbuf_appendc(b, (char)c);
        }
      }
      i++;
      continue;
    }
    long r;
    size_t len = utf8_decode((const unsigned char *)s + i, n - i, &r);
    if (r < 0)
      strbuf_appends(b, "\\ufffd");
    else if (r == 0x2028 || r == 0x2029)
      strbuf_appendf(b, "\\u%04lx", r);
    else
      strbuf_append(b, s + i, len);
    i += len;
  }
  strbuf_appendc(b, '"');
}

/* Shortest round-trip digits of f: digits in ret_digits (no dot), decimal exponent of
 * the first digit in *ret_exp. */
static void float_digits(double f, char ret_digits[32], int *ret_exp) {
  char tmp[64];
  for (int p = 1; p <= 17; p++) {
    snprintf(tmp, sizeof(tmp), "%.*e", p - 1, f);
    if (strtod(tmp, NULL) == f)
      break;
  }
  /* tmp is [-]D[.DDD]e[+-]XX */
  const char *s = tmp;
  if (*s == '-')
    s++;
  size_t n = 0;
  for (; *s && *s != 'e'; s++)
    if (*s != '.')
      ret_digits[n++] = *s;
  while (n > 1 && ret_digits[n - 1] == '0')
    n--;
  ret_digits[n] = '\0';
  *ret_exp = *s == 'e' ? atoi(s + 1) : 0;
}

/* A float64 as Go's encoding/json writes it: 'f' format with the shortest digits,
 * 'e' below 1e-6 or from 1e21, exponent without a leading zero. */
static void buf_put_go_float(struct strbuf *b, double f) {
  if (f == 0) {
    strbuf_appends(b, signbit(f) ? "-0" : "0");
    return;
  }
  char d[32];
  int e;
  float_digits(f, d, &e);
  if (f < 0)
    strbuf_appendc(b, '-');
  double a = fabs(f);
  size_t nd = strlen(d);
  if (a < 1e-6 || a >= 1e21) {
    strbuf_appendc(b, d[0]);
    if (nd > 1) {
      strbuf_appendc(b, '.');
      strbuf_appends(b, d + 1);
    }
    strbuf_appendf(b, "e%c%s%d", e < 0 ? '-' : '+', (e > -10 && e < 10 && e >= 0) ? "0" : "",
                   abs(e));
    return;
  }
  if (e >= 0) {
    for (int i = 0; i <= e; i++)
      strbuf_appendc(b, (size_t)i < nd ? d[i] : '0');
    if ((size_t)e + 1 < nd) {
      strbuf_appendc(b, '.');
      strbuf_appends(b, d + e + 1);
    }
  } else {
    strbuf_appends(b, "0.");
    for (int i = 0; i < -e - 1; i++)
      strbuf_appendc(b, '0');
    strbuf_appends(b, d);
  }
}

static int strcmp_key(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A value as kube's value.WriteJSONStream writes it (map keys sorted). */
static void buf_put_value(struct strbuf *b, const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_STRING:
    buf_put_json_string(b, json_string_value(v), json_string_length(v));
    break;
  case JSON_INTEGER:
    strbuf_appendf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    break;
  case JSON_REAL:
    buf_put_go_float(b, json_real_value(v));
    break;
  case JSON_TRUE:
    strbuf_appends(b, "true");
    break;
  case JSON_FALSE:
    strbuf_appends(b, "false");
    break;
  case JSON_NULL:
    strbuf_appends(b, "null");
    break;
  case JSON_ARRAY: {
    strbuf_appendc(b, '[');
    for (size_t i = 0; i < json_array_size(v); i++) {
      if (i)
        strbuf_appendc(b, ',');
      buf_put_value(b, json_array_get(v, i));
    }
    strbuf_appendc(b, ']');
    break;
  }
  case JSON_OBJECT: {
    size_t n = json_object_size(v), i = 0;
    _cleanup_free_ const char **keys = xcalloc(n ? n : 1, sizeof(*keys));
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x) keys[i++] = k;
    qsort(keys, n, sizeof(*keys), strcmp_key);
    strbuf_appendc(b, '{');
    for (i = 0; i < n; i++) {
      if (i)
        strbuf_appendc(b, ',');
      buf_put_json_string(b, keys[i], strlen(keys[i]));
      strbuf_appendc(b, ':');
      buf_put_value(b, json_object_get(v, keys[i]));
    }
    strbuf_appendc(b, '}');
    break;
  }
  }
}

/* Go's %q, for the human path strings of conflict messages. */
static void buf_put_go_quoted(struct strbuf *b, const char *s, size_t n) {
  strbuf_appendc(b, '"');
  size_t i = 0;
  while (i < n) {
    unsigned char c = (unsigned char)s[i];
    long r;
    size_t len = utf8_decode((const unsigned char *)s + i, n - i, &r);
    if (r < 0) {
      strbuf_appendf(b, "\\x%02x", c);
    } else if (c == '"' || c == '\\') {
      strbuf_appendc(b, '\\');
      strbuf_appendc(b, (char)c);
    } else if (r < 0x20 || r == 0x7f) {
      static const char esc[] = "abtnvfr";
      if (r >= 7 && r <= 13)
        strbuf_appendf(b, "\\%c", esc[r - 7]);
      else
        strbuf_appendf(b, "\\x%02lx", r);
    } else {
      strbuf_append(b, s + i, len);
    }
    i += len;
  }
  strbuf_appendc(b, '"');
}

/* kube's value.ToString. */
static void buf_put_value_string(struct strbuf *b, const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_STRING:
    buf_put_go_quoted(b, json_string_value(v), json_string_length(v));
    break;
  case JSON_REAL: {
    char tmp[64];
    double f = json_real_value(v);
    for (int p = 1; p <= 17; p++) {
      snprintf(tmp, sizeof(tmp), "%.*g", p, f);
      if (strtod(tmp, NULL) == f)
        break;
    }
    strbuf_appends(b, tmp);
    break;
  }
  case JSON_ARRAY:
    strbuf_appendc(b, '[');
    for (size_t i = 0; i < json_array_size(v); i++) {
      if (i)
        strbuf_appendc(b, ',');
      buf_put_value_string(b, json_array_get(v, i));
    }
    strbuf_appendc(b, ']');
    break;
  case JSON_OBJECT: {
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x) {
      strbuf_appendf(b, "%s=", k);
      buf_put_value_string(b, x);
    }
    break;
  }
  default:
    buf_put_value(b, v);
  }
}

/* ---- values and path elements ---- */

static int cmp_int(long long a, long long b) { return a < b ? -1 : a > b; }
static int cmp_double(double a, double b) { return a < b ? -1 : a > b; }

static int map_compare(const json_t *a, const json_t *b);

int fieldpath_value_compare(const json_t *a, const json_t *b) {
  bool an = json_is_number(a), bn = json_is_number(b);
  if (an || bn) {
    if (!an)
      return 1;
    if (!bn)
      return -1;
    if (json_is_integer(a) && json_is_integer(b))
      return cmp_int(json_integer_value(a), json_integer_value(b));
    return cmp_double(json_number_value(a), json_number_value(b));
  }
  if (json_is_string(a) || json_is_string(b)) {
    if (!json_is_string(a))
      return 1;
    if (!json_is_string(b))
      return -1;
    size_t la = json_string_length(a), lb = json_string_length(b);
    int c = memcmp(json_string_value(a), json_string_value(b), la < lb ? la : lb);
    return c ? (c < 0 ? -1 : 1) : cmp_int((long long)la, (long long)lb);
  }
  if (json_is_boolean(a) || json_is_boolean(b)) {
    if (!json_is_boolean(a))
      return 1;
    if (!json_is_boolean(b))
      return -1;
    return cmp_int(json_is_true(a), json_is_true(b));
  }
  if (json_is_array(a) || json_is_array(b)) {
    if (!json_is_array(a))
      return 1;
    if (!json_is_array(b))
      return -1;
    size_t la = json_array_size(a), lb = json_array_size(b);
    for (size_t i = 0; i < la && i < lb; i++) {
      int c = fieldpath_value_compare(json_array_get(a, i), json_array_get(b, i));
      if (c)
        return c;
    }
    return cmp_int((long long)la, (long long)lb);
  }
  if (json_is_object(a) || json_is_object(b)) {
    if (!json_is_object(a))
      return 1;
    if (!json_is_object(b))
      return -1;
    return map_compare(a, b);
  }
  return 0; /* both null */
}

/* kube's MapCompare: keys walked in lexical order over both maps. */
static int map_compare(const json_t *a, const json_t *b) {
  size_t la = json_object_size(a), lb = json_object_size(b);
  if (la == 0 && lb == 0)
    return 0;
  size_t n = 0;
  _cleanup_free_ const char **keys = xcalloc(la + lb, sizeof(*keys));
  const char *k;
  json_t *x;
  json_object_foreach((json_t *)a, k, x) keys[n++] = k;
  json_object_foreach((json_t *)b, k, x) if (!json_object_get(a, k)) keys[n++] = k;
  qsort(keys, n, sizeof(*keys), strcmp_key);
  for (size_t i = 0; i < n; i++) {
    const json_t *va = json_object_get(a, keys[i]), *vb = json_object_get(b, keys[i]);
    int c;
    if (i == la)
      c = -1;
    else if (i == lb)
      c = 1;
    else if (!va)
      c = 1;
    else if (!vb)
      c = -1;
    else
      c = fieldpath_value_compare(va, vb);
    if (c)
      return c;
  }
  return 0;
}

void fieldpath_pe_clear(struct fieldpath_pe *pe) {
  if (!pe)
    return;
  free(pe->field);
  json_decref(pe->value);
  *pe = (struct fieldpath_pe){0};
}

void fieldpath_pe_copy(const struct fieldpath_pe *pe, struct fieldpath_pe *ret) {
  *ret = (struct fieldpath_pe){.kind = pe->kind, .index = pe->index};
  if (pe->field)
    ret->field = xstrdup(pe->field);
  if (pe->value) {
    ret->value = json_deep_copy(pe->value);
    if (!ret->value)
      abort();
  }
}

static int key_compare(const json_t *a, const json_t *b) {
  size_t la = json_array_size(a), lb = json_array_size(b);
  for (size_t i = 0; i < la && i < lb; i++) {
    const json_t *pa = json_array_get(a, i), *pb = json_array_get(b, i);
    int c =
        strcmp(json_string_value(json_array_get(pa, 0)), json_string_value(json_array_get(pb, 0)));
    if (c)
      return c < 0 ? -1 : 1;
    c = fieldpath_value_compare(json_array_get(pa, 1), json_array_get(pb, 1));
    if (c)
      return c;
  }
  return cmp_int((long long)la, (long long)lb);
}

int fieldpath_pe_compare(const struct fieldpath_pe *a, const struct fieldpath_pe *b) {
  if (a->kind != b->kind)
    return a->kind < b->kind ? -1 : 1;
  switch (a->kind) {
  case FIELDPATH_FIELD: {
    int c = strcmp(a->field, b->field);
    return c < 0 ? -1 : c > 0;
  }
  case FIELDPATH_KEY:
    return key_compare(a->value, b->value);
  case FIELDPATH_VALUE:
    return fieldpath_value_compare(a->value, b->value);
  case FIELDPATH_INDEX:
    return cmp_int(a->index, b->index);
  }
  return 0;
}

static void buf_put_pe_string(struct strbuf *b, const struct fieldpath_pe *pe) {
  switch (pe->kind) {
  case FIELDPATH_FIELD:
    strbuf_appendc(b, '.');
    strbuf_appends(b, pe->field);
    break;
  case FIELDPATH_KEY:
    strbuf_appendc(b, '[');
    for (size_t i = 0; i < json_array_size(pe->value); i++) {
      const json_t *pair = json_array_get(pe->value, i);
      if (i)
        strbuf_appendc(b, ',');
      strbuf_appendf(b, "%s=", json_string_value(json_array_get(pair, 0)));
      buf_put_value_string(b, json_array_get(pair, 1));
    }
    strbuf_appendc(b, ']');
    break;
  case FIELDPATH_VALUE:
    strbuf_appends(b, "[=");
    buf_put_value_string(b, pe->value);
    strbuf_appendc(b, ']');
    break;
  case FIELDPATH_INDEX:
    strbuf_appendf(b, "[%lld]", pe->index);
    break;
  }
}

char *fieldpath_pe_string(const struct fieldpath_pe *pe) {
  struct strbuf b = {0};
  buf_put_pe_string(&b, pe);
  return strbuf_take(&b, NULL);
}

char *fieldpath_path_string(const struct fieldpath_pe *pes, size_t n) {
  struct strbuf b = {0};
  for (size_t i = 0; i < n; i++)
    buf_put_pe_string(&b, &pes[i]);
  return strbuf_take(&b, NULL);
}

/* The FieldsV1 key of a path element: the prefix, then the field name raw or the key
 * object / value as JSON. */
static void buf_put_pe_key(struct strbuf *b, const struct fieldpath_pe *pe) {
  switch (pe->kind) {
  case FIELDPATH_FIELD:
    strbuf_appends(b, "f:");
    strbuf_appends(b, pe->field);
    break;
  case FIELDPATH_KEY:
    strbuf_appends(b, "k:{");
    for (size_t i = 0; i < json_array_size(pe->value); i++) {
      const json_t *pair = json_array_get(pe->value, i);
      const char *name = json_string_value(json_array_get(pair, 0));
      if (i)
        strbuf_appendc(b, ',');
      buf_put_json_string(b, name, strlen(name));
      strbuf_appendc(b, ':');
      buf_put_value(b, json_array_get(pair, 1));
    }
    strbuf_appendc(b, '}');
    break;
  case FIELDPATH_VALUE:
    strbuf_appends(b, "v:");
    buf_put_value(b, pe->value);
    break;
  case FIELDPATH_INDEX:
    strbuf_appendf(b, "i:%lld", pe->index);
    break;
  }
}

/* ---- sets ---- */

struct fieldpath_set *fieldpath_set_new(void) {
  return xcalloc(1, sizeof(struct fieldpath_set));
}

void fieldpath_set_free(struct fieldpath_set *s) {
  if (!s)
    return;
  for (size_t i = 0; i < s->n_members; i++)
    fieldpath_pe_clear(&s->members[i]);
  for (size_t i = 0; i < s->n_children; i++) {
    fieldpath_pe_clear(&s->children[i].pe);
    fieldpath_set_free(s->children[i].set);
  }
  free(s->members);
  free(s->children);
  free(s);
}

/* Binary search over n elements of `stride` bytes that each start with a path element
 * (members, and children whose first field is their pe): the index of pe, or the
 * insertion point with *found false. */
static size_t find_pe(const void *base, size_t n, size_t stride, const struct fieldpath_pe *pe,
                      bool *found) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c =
        fieldpath_pe_compare((const struct fieldpath_pe *)((const char *)base + mid * stride), pe);
    if (c == 0) {
      *found = true;
      return mid;
    }
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  *found = false;
  return lo;
}

static size_t find_member(const struct fieldpath_set *s, const struct fieldpath_pe *pe,
                          bool *found) {
  return find_pe(s->members, s->n_members, sizeof(*s->members), pe, found);
}

static size_t find_child(const struct fieldpath_set *s, const struct fieldpath_pe *pe,
                         bool *found) {
  return find_pe(s->children, s->n_children, sizeof(*s->children), pe, found);
}

/* Takes ownership of *pe (cleared on return either way). */
static void add_member(struct fieldpath_set *s, struct fieldpath_pe *pe) {
  bool found;
  size_t i = find_member(s, pe, &found);
  if (found) {
    fieldpath_pe_clear(pe);
    return;
  }
  s->members = xgrow(s->members, s->n_members, &s->cap_members, sizeof(*s->members));
  memmove(&s->members[i + 1], &s->members[i], (s->n_members - i) * sizeof(*s->members));
  s->members[i] = *pe;
  s->n_members++;
  *pe = (struct fieldpath_pe){0};
}

/* The child set under pe, created empty if absent. Copies pe when creating. */
static struct fieldpath_set *descend(struct fieldpath_set *s, const struct fieldpath_pe *pe) {
  bool found;
  size_t i = find_child(s, pe, &found);
  if (found)
    return s->children[i].set;
  s->children = xgrow(s->children, s->n_children, &s->cap_children, sizeof(*s->children));
  memmove(&s->children[i + 1], &s->children[i], (s->n_children - i) * sizeof(*s->children));
  fieldpath_pe_copy(pe, &s->children[i].pe);
  s->children[i].set = fieldpath_set_new();
  s->n_children++;
  return s->children[i].set;
}

/* Appends in order; callers guarantee pe sorts after every existing element. */
static void append_member_copy(struct fieldpath_set *s, const struct fieldpath_pe *pe) {
  struct fieldpath_pe c;
  fieldpath_pe_copy(pe, &c);
  add_member(s, &c);
}

static void append_child(struct fieldpath_set *s, const struct fieldpath_pe *pe,
                         struct fieldpath_set *child) {
  s->children = xgrow(s->children, s->n_children, &s->cap_children, sizeof(*s->children));
  fieldpath_pe_copy(pe, &s->children[s->n_children].pe);
  s->children[s->n_children].set = child;
  s->n_children++;
}

void fieldpath_set_insert(struct fieldpath_set *s, const struct fieldpath_pe *pes, size_t n) {
  if (n == 0)
    return;
  for (size_t i = 0; i + 1 < n; i++)
    s = descend(s, &pes[i]);
  append_member_copy(s, &pes[n - 1]);
}

bool fieldpath_set_has_member(const struct fieldpath_set *s, const struct fieldpath_pe *pe) {
  bool found = false;
  if (s)
    find_member(s, pe, &found);
  return found;
}

const struct fieldpath_set *fieldpath_set_child(const struct fieldpath_set *s,
                                                const struct fieldpath_pe *pe) {
  if (!s)
    return NULL;
  bool found;
  size_t i = find_child(s, pe, &found);
  return found ? s->children[i].set : NULL;
}

bool fieldpath_set_has(const struct fieldpath_set *s, const struct fieldpath_pe *pes, size_t n) {
  if (n == 0)
    return false;
  for (size_t i = 0; s && i + 1 < n; i++)
    s = fieldpath_set_child(s, &pes[i]);
  return fieldpath_set_has_member(s, &pes[n - 1]);
}

bool fieldpath_set_empty(const struct fieldpath_set *s) {
  if (!s)
    return true;
  if (s->n_members)
    return false;
  for (size_t i = 0; i < s->n_children; i++)
    if (!fieldpath_set_empty(s->children[i].set))
      return false;
  return true;
}

struct fieldpath_set *fieldpath_set_copy(const struct fieldpath_set *s) {
  struct fieldpath_set *out = fieldpath_set_new();
  if (!s)
    return out;
  for (size_t i = 0; i < s->n_members; i++)
    append_member_copy(out, &s->members[i]);
  for (size_t i = 0; i < s->n_children; i++)
    append_child(out, &s->children[i].pe, fieldpath_set_copy(s->children[i].set));
  return out;
}

bool fieldpath_set_equal(const struct fieldpath_set *a, const struct fieldpath_set *b) {
  _cleanup_fieldpath_set_ struct fieldpath_set *d1 = fieldpath_set_difference(a, b);
  _cleanup_fieldpath_set_ struct fieldpath_set *d2 = fieldpath_set_difference(b, a);
  return fieldpath_set_empty(d1) && fieldpath_set_empty(d2);
}

struct fieldpath_set *fieldpath_set_union(const struct fieldpath_set *a,
                                          const struct fieldpath_set *b) {
  struct fieldpath_set *out = fieldpath_set_copy(a);
  if (!b)
    return out;
  for (size_t i = 0; i < b->n_members; i++)
    append_member_copy(out, &b->members[i]);
  for (size_t i = 0; i < b->n_children; i++) {
    bool found;
    size_t j = find_child(out, &b->children[i].pe, &found);
    if (found) {
      struct fieldpath_set *u = fieldpath_set_union(out->children[j].set, b->children[i].set);
      fieldpath_set_free(out->children[j].set);
      out->children[j].set = u;
    } else {
      struct fieldpath_set *child = descend(out, &b->children[i].pe);
      struct fieldpath_set *u = fieldpath_set_copy(b->children[i].set);
      /* descend() created an empty node; swap the copy's content in. */
      struct fieldpath_set tmp = *child;
      *child = *u;
      *u = tmp;
      fieldpath_set_free(u);
    }
  }
  return out;
}

struct fieldpath_set *fieldpath_set_intersection(const struct fieldpath_set *a,
                                                 const struct fieldpath_set *b) {
  struct fieldpath_set *out = fieldpath_set_new();
  if (!a || !b)
    return out;
  for (size_t i = 0; i < a->n_members; i++)
    if (fieldpath_set_has_member(b, &a->members[i]))
      append_member_copy(out, &a->members[i]);
  for (size_t i = 0; i < a->n_children; i++) {
    const struct fieldpath_set *bc = fieldpath_set_child(b, &a->children[i].pe);
    if (!bc)
      continue;
    struct fieldpath_set *r = fieldpath_set_intersection(a->children[i].set, bc);
    if (fieldpath_set_empty(r))
      fieldpath_set_free(r);
    else
      append_child(out, &a->children[i].pe, r);
  }
  return out;
}

static struct fieldpath_set *difference(const struct fieldpath_set *a,
                                        const struct fieldpath_set *b, bool recursive) {
  struct fieldpath_set *out = fieldpath_set_new();
  if (!a)
    return out;
  for (size_t i = 0; i < a->n_members; i++)
    if (!fieldpath_set_has_member(b, &a->members[i]))
      append_member_copy(out, &a->members[i]);
  for (size_t i = 0; i < a->n_children; i++) {
    const struct fieldpath_pe *pe = &a->children[i].pe;
    if (recursive && fieldpath_set_has_member(b, pe))
      continue;
    const struct fieldpath_set *bc = fieldpath_set_child(b, pe);
    struct fieldpath_set *r =
        bc ? difference(a->children[i].set, bc, recursive) : fieldpath_set_copy(a->children[i].set);
    if (fieldpath_set_empty(r))
      fieldpath_set_free(r);
    else
      append_child(out, pe, r);
  }
  return out;
}

struct fieldpath_set *fieldpath_set_difference(const struct fieldpath_set *a,
                                               const struct fieldpath_set *b) {
  return difference(a, b, false);
}

struct fieldpath_set *fieldpath_set_recursive_difference(const struct fieldpath_set *a,
                                                         const struct fieldpath_set *b) {
  return difference(a, b, true);
}

struct path_stack {
  struct fieldpath_pe *pes;
  size_t n, cap;
};

static void stack_push(struct path_stack *st, const struct fieldpath_pe *pe) {
  if (st->n == st->cap) {
    st->cap = st->cap ? st->cap * 2 : 8;
    st->pes = xrealloc(st->pes, st->cap * sizeof(*st->pes));
  }
  st->pes[st->n++] = *pe; /* shallow: borrowed for the walk */
}

static void iterate(const struct fieldpath_set *s, struct path_stack *st,
                    void (*fn)(const struct fieldpath_pe *, size_t, void *), void *userdata) {
  for (size_t i = 0; i < s->n_members; i++) {
    stack_push(st, &s->members[i]);
    fn(st->pes, st->n, userdata);
    st->n--;
  }
  for (size_t i = 0; i < s->n_children; i++) {
    stack_push(st, &s->children[i].pe);
    iterate(s->children[i].set, st, fn, userdata);
    st->n--;
  }
}

void fieldpath_set_iterate(const struct fieldpath_set *s,
                           void (*fn)(const struct fieldpath_pe *pes, size_t n, void *userdata),
                           void *userdata) {
  if (!s)
    return;
  struct path_stack st = {0};
  iterate(s, &st, fn, userdata);
  free(st.pes);
}

/* ---- FieldsV1 ---- */

static void emit(struct strbuf *b, const struct fieldpath_set *s, bool include_self) {
  bool first = true;
#define SEP()                                                                                      \
  do {                                                                                             \
    if (!first)                                                                                    \
      strbuf_appendc(b, ',');                                                                      \
    first = false;                                                                                 \
  } while (0)
  if (include_self && (s->n_members || s->n_children)) {
    SEP();
    strbuf_appends(b, "\".\":{}");
  }
  size_t mi = 0, ci = 0;
  struct strbuf key = {0};
  while (mi < s->n_members || ci < s->n_children) {
    int c;
    if (mi == s->n_members)
      c = 1;
    else if (ci == s->n_children)
      c = -1;
    else
      c = fieldpath_pe_compare(&s->members[mi], &s->children[ci].pe);
    SEP();
    key.len = 0;
    buf_put_pe_key(&key, c < 0 ? &s->members[mi] : &s->children[ci].pe);
    buf_put_json_string(b, key.s, key.len);
    strbuf_appendc(b, ':');
    if (c < 0) {
      strbuf_appends(b, "{}");
      mi++;
      continue;
    }
    strbuf_appendc(b, '{');
    emit(b, s->children[ci].set, c == 0);
    strbuf_appendc(b, '}');
    if (c == 0)
      mi++;
    ci++;
  }
  free(key.s);
#undef SEP
}

char *fieldpath_set_serialize(const struct fieldpath_set *s) {
  struct strbuf b = {0};
  strbuf_appendc(&b, '{');
  if (s)
    emit(&b, s, false);
  strbuf_appendc(&b, '}');
  return strbuf_take(&b, NULL);
}

json_t *fieldpath_set_to_json(const struct fieldpath_set *s) {
  _cleanup_free_ char *text = fieldpath_set_serialize(s);
  json_t *v = json_loads(text, JSON_ALLOW_NUL, NULL);
  if (!v)
    abort(); /* our own output is always valid JSON */
  return v;
}

/* Go reads integers beyond int64 as floats; jansson refuses them, so retry as reals. */
static json_t *load_value(const char *s, size_t len, size_t flags) {
  flags |= JSON_DISABLE_EOF_CHECK;
  json_t *v = json_loadb(s, len, flags, NULL);
  if (!v)
    v = json_loadb(s, len, flags | JSON_DECODE_INT_AS_REAL, NULL);
  return v;
}

static int parse_pe(const char *key, size_t len, struct fieldpath_pe *ret, bool *ret_unknown) {
  *ret_unknown = false;
  if (len < 2)
    return -EINVAL;
  if (key[1] != ':') {
    *ret_unknown = true;
    return 0;
  }
  const char *rest = key + 2;
  size_t rlen = len - 2;
  switch (key[0]) {
  case 'f':
    if (memchr(rest, '\0', rlen))
      return -EINVAL;
    *ret = (struct fieldpath_pe){.kind = FIELDPATH_FIELD, .field = xstrndup(rest, rlen)};
    return 0;
  case 'v': {
    json_t *v = load_value(rest, rlen, JSON_DECODE_ANY);
    if (!v)
      return -EINVAL;
    *ret = (struct fieldpath_pe){.kind = FIELDPATH_VALUE, .value = v};
    return 0;
  }
  case 'k': {
    _cleanup_json_ json_t *obj = load_value(rest, rlen, 0);
    if (!json_is_object(obj))
      return -EINVAL;
    size_t n = json_object_size(obj), i = 0;
    _cleanup_free_ const char **names = xcalloc(n ? n : 1, sizeof(*names));
    const char *k;
    json_t *x;
    json_object_foreach(obj, k, x) names[i++] = k;
    qsort(names, n, sizeof(*names), strcmp_key);
    json_t *pairs = json_array();
    for (i = 0; i < n; i++)
      json_array_append_new(pairs, json_pack("[sO]", names[i], json_object_get(obj, names[i])));
    *ret = (struct fieldpath_pe){.kind = FIELDPATH_KEY, .value = pairs};
    return 0;
  }
  case 'i': {
    /* strconv.Atoi: optional sign, decimal digits, no spaces. */
    char tmp[32];
    if (rlen == 0 || rlen >= sizeof(tmp))
      return -EINVAL;
    memcpy(tmp, rest, rlen);
    tmp[rlen] = '\0';
    const char *d = tmp + (tmp[0] == '+' || tmp[0] == '-');
    if (!*d || strspn(d, "0123456789") != strlen(d))
      return -EINVAL;
    errno = 0;
    long long v = strtoll(tmp, NULL, 10);
    if (errno)
      return -EINVAL;
    *ret = (struct fieldpath_pe){.kind = FIELDPATH_INDEX, .index = v};
    return 0;
  }
  default:
    *ret_unknown = true;
    return 0;
  }
}

/* Reads one FieldsV1 node. *ret_children is NULL when the node has no usable children;
 * a node without children is a member, as is one carrying ".". */
static int read_node(const json_t *node, unsigned depth, struct fieldpath_set **ret_children,
                     bool *ret_member) {
  *ret_children = NULL;
  *ret_member = false;
  if (json_is_null(node)) {
    *ret_member = true;
    return 0;
  }
  if (!json_is_object(node) || depth > 10000)
    return -EINVAL;
  _cleanup_fieldpath_set_ struct fieldpath_set *children = NULL;
  bool member = false;
  const char *key;
  size_t klen;
  json_t *v;
  void *tmp;
  json_object_keylen_foreach_safe((json_t *)node, tmp, key, klen, v) {
    if (klen == 1 && key[0] == '.') {
      member = true;
      continue;
    }
    struct fieldpath_pe pe = {0};
    bool unknown;
    int r = parse_pe(key, klen, &pe, &unknown);
    if (r < 0)
      return r;
    if (unknown)
      continue;
    struct fieldpath_set *grand = NULL;
    bool child_member;
    r = read_node(v, depth + 1, &grand, &child_member);
    if (r < 0) {
      fieldpath_pe_clear(&pe);
      return r;
    }
    if (!children && (child_member || grand))
      children = fieldpath_set_new();
    if (grand) {
      bool found;
      size_t i = find_child(children, &pe, &found);
      if (found) {
        fieldpath_set_free(children->children[i].set);
        children->children[i].set = grand;
      } else {
        struct fieldpath_set *slot = descend(children, &pe);
        struct fieldpath_set t = *slot;
        *slot = *grand;
        *grand = t;
        fieldpath_set_free(grand);
      }
    }
    if (child_member)
      add_member(children, &pe);
    else
      fieldpath_pe_clear(&pe);
  }
  if (!children)
    member = true;
  *ret_children = TAKE_PTR(children);
  *ret_member = member;
  return 0;
}

int fieldpath_set_from_json(const json_t *fields, struct fieldpath_set **ret) {
  struct fieldpath_set *children = NULL;
  bool member;
  if (fields && !json_is_null(fields)) {
    int r = read_node(fields, 0, &children, &member);
    if (r < 0)
      return r;
  }
  *ret = children ? children : fieldpath_set_new();
  return 0;
}

int fieldpath_set_parse(const char *buf, size_t len, struct fieldpath_set **ret) {
  _cleanup_json_ json_t *v = json_loadb(buf, len, JSON_DECODE_ANY, NULL);
  if (!v)
    return -EINVAL;
  return fieldpath_set_from_json(v, ret);
}

/* ---- schema-aware part ---- */

static bool ref_is_scalar(const struct schema_ref *r) {
  if (r->type && r->type->scalar != SCHEMA_STRUCT)
    return true;
  return r->kind != SCHEMA_STRUCT && r->kind != SCHEMA_LIST && r->kind != SCHEMA_MAP &&
         r->kind != SCHEMA_ANY;
}

void fieldpath_type_of_struct(const struct schema_type *t, struct fieldpath_type *ret) {
  *ret = (struct fieldpath_type){.kind = FIELDPATH_T_STRUCT, .st = t};
  if (!t)
    ret->kind = FIELDPATH_T_DEDUCED;
  else if (t->scalar != SCHEMA_STRUCT)
    ret->kind = FIELDPATH_T_SCALAR;
}

void fieldpath_type_of_ref(const struct schema_ref *r, struct fieldpath_type *ret) {
  *ret = (struct fieldpath_type){.kind = FIELDPATH_T_DEDUCED};
  if (!r)
    return;
  if (ref_is_scalar(r)) {
    ret->kind = FIELDPATH_T_SCALAR;
    return;
  }
  switch (r->kind) {
  case SCHEMA_STRUCT:
    fieldpath_type_of_struct(r->type, ret);
    break;
  case SCHEMA_LIST:
    *ret = (struct fieldpath_type){.kind = FIELDPATH_T_LIST, .atomic = true, .elem = r->elem};
    break;
  case SCHEMA_MAP:
    *ret = (struct fieldpath_type){.kind = FIELDPATH_T_MAP, .elem = r->elem};
    break;
  default:
    break;
  }
}

void fieldpath_type_of_field(const struct schema_field *f, struct fieldpath_type *ret) {
  fieldpath_type_of_ref(f->ref, ret);
  ret->required = f->required;
  switch (ret->kind) {
  case FIELDPATH_T_LIST:
    ret->atomic = false;
    if (f->list_type == SCHEMA_LIST_MAP && f->list_keys && f->list_keys[0]) {
      ret->keys = f->list_keys;
    } else if (f->list_type == SCHEMA_LIST_MAP && f->merge_key) {
      ret->key1 = f->merge_key;
    } else if (f->list_type == SCHEMA_LIST_SET) {
      ret->set = true;
    } else if (f->patch_strategy & SCHEMA_PATCH_MERGE) {
      /* Without x-kubernetes-list-type, kube derives the list's identity from its
       * strategic-merge metadata. */
      if (f->merge_key)
        ret->key1 = f->merge_key;
      else
        ret->set = true;
    } else {
      ret->atomic = true;
    }
    break;
  case FIELDPATH_T_MAP:
  case FIELDPATH_T_STRUCT:
    ret->atomic = f->map_atomic;
    break;
  default:
    break;
  }
}

bool fieldpath_type_child(const struct fieldpath_type *t, const char *key,
                          struct fieldpath_type *ret) {
  if (t->kind == FIELDPATH_T_STRUCT && t->st) {
    const struct schema_field *f = schema_field(t->st, key);
    if (f) {
      fieldpath_type_of_field(f, ret);
      return true;
    }
    *ret = (struct fieldpath_type){.kind = FIELDPATH_T_DEDUCED};
    return false;
  }
  if (t->kind == FIELDPATH_T_MAP) {
    fieldpath_type_of_ref(t->elem, ret);
    return false;
  }
  *ret = (struct fieldpath_type){.kind = FIELDPATH_T_DEDUCED};
  return false;
}

void fieldpath_type_elem(const struct fieldpath_type *t, struct fieldpath_type *ret) {
  fieldpath_type_of_ref(t->elem, ret);
}

static const json_t *key_default(const struct fieldpath_type *list, const char *key) {
  struct fieldpath_type et;
  fieldpath_type_elem(list, &et);
  if (et.kind != FIELDPATH_T_STRUCT || !et.st)
    return NULL;
  const struct schema_field *f = schema_field(et.st, key);
  return f ? f->default_value : NULL;
}

int fieldpath_item_pe(const struct fieldpath_type *list, const json_t *item,
                      struct fieldpath_pe *ret, char **ret_err) {
  if (!list->keys && !list->key1) {
    if (json_is_object(item))
      return set_error(ret_err, -EINVAL,
                       "associative list without keys has an element that's a map type");
    if (json_is_array(item))
      return set_error(ret_err, -EINVAL, "not supported: associative list with lists as elements");
    if (json_is_null(item))
      return set_error(ret_err, -EINVAL,
                       "associative list without keys has an element that's an explicit null");
    json_t *v = json_deep_copy(item);
    if (!v)
      abort();
    *ret = (struct fieldpath_pe){.kind = FIELDPATH_VALUE, .value = v};
    return 0;
  }
  if (json_is_null(item))
    return set_error(ret_err, -EINVAL, "associative list with keys may not have a null element");
  if (!json_is_object(item))
    return set_error(ret_err, -EINVAL, "associative list with keys may not have non-map elements");
  const char *one[2] = {list->key1, NULL};
  const char *const *keys = list->keys ? list->keys : one;
  size_t n = 0;
  while (keys[n])
    n++;
  _cleanup_free_ const char **sorted = xcalloc(n + 1, sizeof(*sorted));
  memcpy(sorted, keys, n * sizeof(*sorted));
  qsort(sorted, n, sizeof(*sorted), strcmp_key);
  _cleanup_json_ json_t *pairs = json_array();
  for (size_t i = 0; i < n; i++) {
    const json_t *v = json_object_get(item, sorted[i]);
    if (!v)
      v = key_default(list, sorted[i]);
    if (!v)
      return set_error(ret_err, -EINVAL,
                       "associative list with keys has an element that omits key field \"%s\" "
                       "(and doesn't have default value)",
                       sorted[i]);
    json_array_append_new(pairs, json_pack("[sO]", sorted[i], (json_t *)v));
  }
  *ret = (struct fieldpath_pe){.kind = FIELDPATH_KEY, .value = TAKE_PTR(pairs)};
  return 0;
}

struct walk {
  struct path_stack path;
  struct fieldpath_set *out;
  bool allow_dup;
  char *err;
};

static void walk_insert(struct walk *w) { fieldpath_set_insert(w->out, w->path.pes, w->path.n); }

static int walk_error(struct walk *w, const char *msg) {
  _cleanup_free_ char *p = fieldpath_path_string(w->path.pes, w->path.n);
  free(w->err);
  w->err = xasprintf("%s: %s", p, msg);
  return -EINVAL;
}

static int walk_value(struct walk *w, const struct fieldpath_type *t, const json_t *v);

static int walk_list(struct walk *w, const struct fieldpath_type *t, const json_t *v) {
  struct fieldpath_type et;
  fieldpath_type_elem(t, &et);
  _cleanup_fieldpath_set_ struct fieldpath_set *seen = w->allow_dup ? NULL : fieldpath_set_new();
  for (size_t i = 0; i < json_array_size(v); i++) {
    const json_t *item = json_array_get(v, i);
    struct fieldpath_pe pe;
    _cleanup_free_ char *msg = NULL;
    if (fieldpath_item_pe(t, item, &pe, &msg) < 0) {
      _cleanup_free_ char *m = xasprintf("element %zu: %s", i, msg);
      return walk_error(w, m);
    }
    if (seen) {
      if (fieldpath_set_has_member(seen, &pe)) {
        _cleanup_free_ char *s = fieldpath_pe_string(&pe);
        _cleanup_free_ char *m = xasprintf("duplicate entries for key %s", s);
        fieldpath_pe_clear(&pe);
        return walk_error(w, m);
      }
      append_member_copy(seen, &pe);
    }
    stack_push(&w->path, &pe);
    int r = walk_value(w, &et, item);
    if (r >= 0)
      walk_insert(w);
    w->path.n--;
    fieldpath_pe_clear(&pe);
    if (r < 0)
      return r;
  }
  return 0;
}

static int walk_map(struct walk *w, const struct fieldpath_type *t, const json_t *v) {
  const char *key;
  json_t *child;
  json_object_foreach((json_t *)v, key, child) {
    struct fieldpath_type ct;
    bool declared = fieldpath_type_child(t, key, &ct);
    struct fieldpath_pe pe = fieldpath_pe_field(key);
    stack_push(&w->path, &pe);
    int r = walk_value(w, &ct, child);
    if (r >= 0 && (json_is_null(child) || (json_is_object(child) && json_object_size(child) == 0) ||
                   !declared))
      walk_insert(w);
    w->path.n--;
    if (r < 0)
      return r;
  }
  return 0;
}

static int walk_value(struct walk *w, const struct fieldpath_type *t, const json_t *v) {
  switch (t->kind) {
  case FIELDPATH_T_SCALAR:
    walk_insert(w);
    return 0;
  case FIELDPATH_T_LIST:
    if (t->atomic || (!json_is_array(v) && !json_is_null(v))) {
      walk_insert(w);
      return 0;
    }
    return walk_list(w, t, v);
  case FIELDPATH_T_DEDUCED:
    if (!json_is_object(v)) {
      walk_insert(w);
      return 0;
    }
    return walk_map(w, t, v);
  case FIELDPATH_T_MAP:
  case FIELDPATH_T_STRUCT:
    if (t->atomic || (!json_is_object(v) && !json_is_null(v))) {
      walk_insert(w);
      return 0;
    }
    return json_is_object(v) ? walk_map(w, t, v) : 0;
  }
  return 0;
}

int fieldpath_from_object(const struct fieldpath_type *t, const json_t *obj, bool allow_duplicates,
                          struct fieldpath_set **ret, char **ret_err) {
  struct walk w = {.out = fieldpath_set_new(), .allow_dup = allow_duplicates};
  int r = obj ? walk_value(&w, t, obj) : 0;
  free(w.path.pes);
  if (r < 0) {
    fieldpath_set_free(w.out);
    if (ret_err)
      *ret_err = TAKE_PTR(w.err);
    free(w.err);
    return r;
  }
  free(w.err);
  *ret = w.out;
  return 0;
}

struct fieldpath_set *fieldpath_set_named_members(const struct fieldpath_set *s,
                                                  const struct fieldpath_type *t) {
  struct fieldpath_set *out = fieldpath_set_new();
  if (!s)
    return out;
  for (size_t i = 0; i < s->n_members; i++)
    append_member_copy(out, &s->members[i]);
  for (size_t i = 0; i < s->n_children; i++) {
    const struct fieldpath_pe *pe = &s->children[i].pe;
    struct fieldpath_type ct = {.kind = FIELDPATH_T_DEDUCED};
    bool declared = false;
    if (pe->kind == FIELDPATH_FIELD &&
        (t->kind == FIELDPATH_T_STRUCT || t->kind == FIELDPATH_T_MAP))
      declared = fieldpath_type_child(t, pe->field, &ct);
    else if (pe->kind == FIELDPATH_KEY && t->kind == FIELDPATH_T_LIST)
      fieldpath_type_elem(t, &ct);
    else
      ct = (struct fieldpath_type){.kind = FIELDPATH_T_SCALAR};
    if (declared && t->kind == FIELDPATH_T_STRUCT)
      append_member_copy(out, pe);
    append_child(out, pe, fieldpath_set_named_members(s->children[i].set, &ct));
  }
  return out;
}
