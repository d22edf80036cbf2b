#include "lib/selector.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "lib/validation.h"

typedef struct {
  char *key;
  selector_op_t op;
  char **values; /* NULL-terminated, never NULL */
  size_t nvalues;
} requirement_t;

struct selector {
  requirement_t *reqs;
  size_t n;
  bool nothing;
};

/* ---- small string builder ---- */

typedef struct {
  char *s;
  size_t len, cap;
} buf_t;

static void buf_putn(buf_t *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    b->cap = (b->len + n + 1) * 2;
    b->s = xrealloc(b->s, b->cap);
  }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = 0;
}
static void buf_puts(buf_t *b, const char *s) { buf_putn(b, s, strlen(s)); }
static void buf_putc(buf_t *b, char c) { buf_putn(b, &c, 1); }
static char *buf_take(buf_t *b) { return b->s ? b->s : xstrdup(""); }

/* Go's %q, which field errors use for bad string values. */
static void buf_put_quoted(buf_t *b, const char *s) {
  buf_putc(b, '"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    char tmp[8];
    switch (*p) {
    case '"': buf_puts(b, "\\\""); break;
    case '\\': buf_puts(b, "\\\\"); break;
    case '\n': buf_puts(b, "\\n"); break;
    case '\t': buf_puts(b, "\\t"); break;
    case '\r': buf_puts(b, "\\r"); break;
    default:
      if (*p < 0x20 || *p == 0x7f) {
        snprintf(tmp, sizeof(tmp), "\\x%02x", *p);
        buf_puts(b, tmp);
      } else {
        buf_putc(b, (char)*p);
      }
    }
  }
  buf_putc(b, '"');
}

/* ---- requirements ---- */

static void requirement_clear(requirement_t *r) {
  free(r->key);
  for (size_t i = 0; i < r->nvalues; i++)
    free(r->values[i]);
  free(r->values);
}

void selector_free(selector_t *sel) {
  if (!sel)
    return;
  for (size_t i = 0; i < sel->n; i++)
    requirement_clear(&sel->reqs[i]);
  free(sel->reqs);
  free(sel);
}

selector_t *selector_everything(void) { return xcalloc(1, sizeof(selector_t)); }

selector_t *selector_nothing(void) {
  selector_t *s = xcalloc(1, sizeof(selector_t));
  s->nothing = true;
  return s;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Errors collected while building one requirement; Kubernetes aggregates them as
 * "[e1, e2]" when there is more than one. */
typedef struct {
  char **v;
  size_t n;
} errs_t;

static void errs_add(errs_t *e, char *msg) {
  e->v = xrealloc(e->v, (e->n + 1) * sizeof(char *));
  e->v[e->n++] = msg;
}

static char *errs_aggregate(errs_t *e) {
  buf_t b = {0};
  if (e->n > 1)
    buf_putc(&b, '[');
  for (size_t i = 0; i < e->n; i++) {
    if (i)
      buf_puts(&b, ", ");
    buf_puts(&b, e->v[i]);
    free(e->v[i]);
  }
  if (e->n > 1)
    buf_putc(&b, ']');
  free(e->v);
  e->v = NULL;
  e->n = 0;
  return buf_take(&b);
}

/* field.Invalid(path, stringValue, detail).Error() */
static char *invalid_str(const char *path, const char *value, const char *detail) {
  buf_t b = {0};
  buf_puts(&b, path);
  buf_puts(&b, ": Invalid value: ");
  buf_put_quoted(&b, value);
  buf_puts(&b, ": ");
  buf_puts(&b, detail);
  return buf_take(&b);
}

/* field.Invalid(path, []string, detail).Error(): Go prints the slice with %#v. */
static char *invalid_strs(const char *path, char *const *vals, size_t n, const char *detail) {
  buf_t b = {0};
  buf_puts(&b, path);
  buf_puts(&b, ": Invalid value: ");
  if (n == 0) {
    buf_puts(&b, "[]string(nil)");
  } else {
    buf_puts(&b, "[]string{");
    for (size_t i = 0; i < n; i++) {
      if (i)
        buf_puts(&b, ", ");
      buf_put_quoted(&b, vals[i]);
    }
    buf_putc(&b, '}');
  }
  buf_puts(&b, ": ");
  buf_puts(&b, detail);
  return buf_take(&b);
}

static char *label_key_error(const char *path, const char *key) {
  _cleanup_valid_msgs_ char **msgs = NULL;
  if (valid_label_key(key, &msgs) == 0)
    return NULL;
  _cleanup_free_ char *joined = valid_msgs_join(msgs, "; ");
  return invalid_str(path, key, joined);
}

/* strtoll with Go ParseInt(s, 10, 64) rules: optional sign, decimal digits only. */
static bool parse_int64(const char *s, int64_t *ret) {
  const char *p = s;
  if (*p == '+' || *p == '-')
    p++;
  if (!*p)
    return false;
  for (const char *q = p; *q; q++)
    if (*q < '0' || *q > '9')
      return false;
  errno = 0;
  char *end;
  long long v = strtoll(s, &end, 10);
  if (errno || *end)
    return false;
  *ret = v;
  return true;
}

/* labels.NewRequirement: validates and, on success, fills *r (taking the values). */
static int requirement_new(const char *key, selector_op_t op, char **vals, size_t n,
                           requirement_t *r, char **ret_err) {
  errs_t e = {0};
  char *msg = label_key_error("key", key);
  if (msg)
    errs_add(&e, msg);
  switch (op) {
  case SELECTOR_OP_IN:
  case SELECTOR_OP_NOT_IN:
    if (n == 0)
      errs_add(&e, invalid_strs("values", vals, n,
                                "for 'in', 'notin' operators, values set can't be empty"));
    break;
  case SELECTOR_OP_EQUALS:
  case SELECTOR_OP_DOUBLE_EQUALS:
  case SELECTOR_OP_NOT_EQUALS:
    if (n != 1)
      errs_add(&e, invalid_strs("values", vals, n,
                                "exact-match compatibility requires one single value"));
    break;
  case SELECTOR_OP_EXISTS:
  case SELECTOR_OP_DOES_NOT_EXIST:
    if (n != 0)
      errs_add(&e, invalid_strs("values", vals, n,
                                "values set must be empty for exists and does not exist"));
    break;
  case SELECTOR_OP_GT:
  case SELECTOR_OP_LT:
    if (n != 1)
      errs_add(&e, invalid_strs("values", vals, n,
                                "for 'Gt', 'Lt' operators, exactly one value is required"));
    for (size_t i = 0; i < n; i++) {
      int64_t v;
      if (!parse_int64(vals[i], &v)) {
        _cleanup_free_ char *path = xasprintf("values[%zu]", i);
        errs_add(&e, invalid_str(path, vals[i],
                                 "for 'Gt', 'Lt' operators, the value must be an integer"));
      }
    }
    break;
  }
  for (size_t i = 0; i < n; i++) {
    _cleanup_valid_msgs_ char **msgs = NULL;
    if (valid_label_value(vals[i], &msgs) > 0) {
      _cleanup_free_ char *joined = valid_msgs_join(msgs, "; ");
      _cleanup_free_ char *path = xasprintf("values[%zu][%s]", i, key);
      errs_add(&e, invalid_str(path, vals[i], joined));
    }
  }
  if (e.n) {
    char *agg = errs_aggregate(&e);
    if (ret_err)
      *ret_err = agg;
    else
      free(agg);
    return -EINVAL;
  }
  r->key = xstrdup(key);
  r->op = op;
  r->values = xrealloc(vals, (n + 1) * sizeof(char *));
  r->values[n] = NULL;
  r->nvalues = n;
  return 0;
}

static void selector_add(selector_t *sel, requirement_t *r) {
  sel->reqs = xrealloc(sel->reqs, (sel->n + 1) * sizeof(requirement_t));
  sel->reqs[sel->n++] = *r;
}

/* Kubernetes sorts requirements by key only; a stable insertion sort keeps equal keys in
 * the order they were written. */
static void selector_sort(selector_t *sel) {
  for (size_t i = 1; i < sel->n; i++) {
    requirement_t r = sel->reqs[i];
    size_t j = i;
    while (j > 0 && strcmp(sel->reqs[j - 1].key, r.key) > 0) {
      sel->reqs[j] = sel->reqs[j - 1];
      j--;
    }
    sel->reqs[j] = r;
  }
}

/* ---- lexer: labels/selector.go's tokens ---- */

typedef enum {
  TOK_ERROR = 1,
  TOK_END,
  TOK_CLOSE_PAR,
  TOK_COMMA,
  TOK_NOT,
  TOK_DOUBLE_EQUALS,
  TOK_EQUALS,
  TOK_GT,
  TOK_IDENT,
  TOK_IN,
  TOK_LT,
  TOK_NOT_EQUALS,
  TOK_NOT_IN,
  TOK_OPEN_PAR,
} tok_t;

typedef struct {
  tok_t tok;
  char *lit;
} item_t;

static const struct {
  const char *s;
  tok_t tok;
} keywords[] = {
    {")", TOK_CLOSE_PAR}, {",", TOK_COMMA}, {"!", TOK_NOT},   {"==", TOK_DOUBLE_EQUALS},
    {"=", TOK_EQUALS},    {">", TOK_GT},    {"in", TOK_IN},   {"<", TOK_LT},
    {"!=", TOK_NOT_EQUALS}, {"notin", TOK_NOT_IN}, {"(", TOK_OPEN_PAR},
};

static tok_t keyword(const char *s, size_t n) {
  for (size_t i = 0; i < ARRAY_SIZE(keywords); i++)
    if (strlen(keywords[i].s) == n && memcmp(keywords[i].s, s, n) == 0)
      return keywords[i].tok;
  return 0;
}

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
static bool is_special(char c) { return c && strchr("=!(),><", c) != NULL; }

static item_t lex(const char **pp) {
  const char *p = *pp;
  while (is_ws(*p))
    p++;
  item_t it = {0};
  if (!*p) {
    it.tok = TOK_END;
    it.lit = xstrdup("");
  } else if (is_special(*p)) {
    /* Longest run of special characters that still forms a token. */
    size_t n = 0, best = 0;
    tok_t t = 0;
    while (is_special(p[n])) {
      n++;
      tok_t k = keyword(p, n);
      if (k) {
        t = k;
        best = n;
      } else if (t) {
        break;
      }
    }
    it.tok = t;
    it.lit = xstrndup(p, best);
    p += best;
  } else {
    size_t n = 0;
    while (p[n] && !is_special(p[n]) && !is_ws(p[n]))
      n++;
    tok_t k = keyword(p, n);
    it.tok = k ? k : TOK_IDENT;
    it.lit = xstrndup(p, n);
    p += n;
  }
  *pp = p;
  return it;
}

typedef struct {
  item_t *items;
  size_t n, pos;
} parser_t;

/* In value context "in" and "notin" are ordinary identifiers. */
static tok_t as_value(tok_t t) { return (t == TOK_IN || t == TOK_NOT_IN) ? TOK_IDENT : t; }

static item_t *peek(parser_t *p) { return &p->items[p->pos]; }
static item_t *next(parser_t *p) {
  item_t *it = &p->items[p->pos];
  if (p->pos + 1 < p->n)
    p->pos++;
  return it;
}

typedef struct {
  char **v;
  size_t n;
} strset_t;

static void strset_add(strset_t *s, const char *v) {
  for (size_t i = 0; i < s->n; i++)
    if (streq(s->v[i], v))
      return;
  s->v = xrealloc(s->v, (s->n + 1) * sizeof(char *));
  s->v[s->n++] = xstrdup(v);
}

static void strset_clear(strset_t *s) {
  for (size_t i = 0; i < s->n; i++)
    free(s->v[i]);
  free(s->v);
  s->v = NULL;
  s->n = 0;
}

static int fail(char **ret_err, char *msg) {
  if (ret_err)
    *ret_err = msg;
  else
    free(msg);
  return -EINVAL;
}

static int parse_values(parser_t *p, strset_t *vals, char **ret_err) {
  item_t *it = next(p);
  if (as_value(it->tok) != TOK_OPEN_PAR)
    return fail(ret_err, xasprintf("found '%s' expected: '('", it->lit));
  item_t *la = peek(p);
  tok_t t = as_value(la->tok);
  if (t == TOK_CLOSE_PAR) {
    next(p);
    strset_add(vals, "");
    return 0;
  }
  if (t != TOK_IDENT && t != TOK_COMMA)
    return fail(ret_err, xasprintf("found '%s', expected: ',', ')' or identifier", la->lit));
  const char *first_lit = la->lit;
  for (;;) {
    item_t *c = next(p);
    tok_t ct = as_value(c->tok);
    if (ct == TOK_IDENT) {
      strset_add(vals, c->lit);
      item_t *l2 = peek(p);
      tok_t t2 = as_value(l2->tok);
      if (t2 == TOK_COMMA)
        continue;
      if (t2 == TOK_CLOSE_PAR)
        break;
      return fail(ret_err, xasprintf("found '%s', expected: ',' or ')'", l2->lit));
    } else if (ct == TOK_COMMA) {
      if (vals->n == 0)
        strset_add(vals, "");
      tok_t t2 = as_value(peek(p)->tok);
      if (t2 == TOK_CLOSE_PAR) {
        strset_add(vals, "");
        break;
      }
      if (t2 == TOK_COMMA) {
        next(p);
        strset_add(vals, "");
      }
    } else {
      return fail(ret_err, xasprintf("found '%s', expected: ',', or identifier", c->lit));
    }
  }
  /* Kubernetes reports the token seen before the list here, not the offending one. */
  if (as_value(next(p)->tok) != TOK_CLOSE_PAR)
    return fail(ret_err, xasprintf("found '%s', expected: ')'", first_lit));
  return 0;
}

static int parse_requirement(parser_t *p, requirement_t *r, char **ret_err) {
  bool not_exists = false;
  item_t *it = next(p);
  if (as_value(it->tok) == TOK_NOT) {
    not_exists = true;
    it = next(p);
  }
  if (as_value(it->tok) != TOK_IDENT)
    return fail(ret_err, xasprintf("found '%s', expected: identifier", it->lit));
  const char *key = it->lit;
  /* The string parser validates the key with a nil field path, hence Go's "<nil>". */
  char *msg = label_key_error("<nil>", key);
  if (msg)
    return fail(ret_err, msg);
  tok_t la = as_value(peek(p)->tok);
  if (not_exists || la == TOK_END || la == TOK_COMMA)
    return requirement_new(key, not_exists ? SELECTOR_OP_DOES_NOT_EXIST : SELECTOR_OP_EXISTS,
                           NULL, 0, r, ret_err);

  item_t *opi = next(p);
  selector_op_t op;
  switch (opi->tok) {
  case TOK_IN: op = SELECTOR_OP_IN; break;
  case TOK_EQUALS: op = SELECTOR_OP_EQUALS; break;
  case TOK_DOUBLE_EQUALS: op = SELECTOR_OP_DOUBLE_EQUALS; break;
  case TOK_GT: op = SELECTOR_OP_GT; break;
  case TOK_LT: op = SELECTOR_OP_LT; break;
  case TOK_NOT_IN: op = SELECTOR_OP_NOT_IN; break;
  case TOK_NOT_EQUALS: op = SELECTOR_OP_NOT_EQUALS; break;
  default:
    return fail(ret_err, xasprintf("found '%s', expected: in, notin, =, ==, !=, gt, lt",
                                   opi->lit));
  }

  strset_t vals = {0};
  int rc = 0;
  if (op == SELECTOR_OP_IN || op == SELECTOR_OP_NOT_IN) {
    rc = parse_values(p, &vals, ret_err);
  } else {
    tok_t t = as_value(peek(p)->tok);
    if (t == TOK_END || t == TOK_COMMA) {
      strset_add(&vals, "");
    } else {
      item_t *v = next(p);
      if (as_value(v->tok) == TOK_IDENT)
        strset_add(&vals, v->lit);
      else
        rc = fail(ret_err, xasprintf("found '%s', expected: identifier", v->lit));
    }
  }
  if (rc < 0) {
    strset_clear(&vals);
    return rc;
  }
  /* sets.String.List() hands values over sorted. */
  if (vals.n > 1)
    qsort(vals.v, vals.n, sizeof(char *), cmp_str);
  rc = requirement_new(key, op, vals.v, vals.n, r, ret_err);
  if (rc < 0)
    strset_clear(&vals);
  return rc;
}

int selector_parse(const char *str, selector_t **ret, char **ret_err) {
  parser_t p = {0};
  const char *s = str;
  for (;;) {
    item_t it = lex(&s);
    p.items = xrealloc(p.items, (p.n + 1) * sizeof(item_t));
    p.items[p.n++] = it;
    if (it.tok == TOK_END)
      break;
  }
  selector_t *sel = selector_everything();
  int rc = 0;
  for (;;) {
    item_t *la = peek(&p);
    tok_t t = as_value(la->tok);
    if (t == TOK_END)
      break;
    if (t != TOK_IDENT && t != TOK_NOT) {
      rc = fail(ret_err, xasprintf("found '%s', expected: !, identifier, or 'end of string'",
                                   la->lit));
      break;
    }
    requirement_t r;
    char *err = NULL;
    rc = parse_requirement(&p, &r, &err);
    if (rc < 0) {
      rc = fail(ret_err, xasprintf("unable to parse requirement: %s", err));
      free(err);
      break;
    }
    selector_add(sel, &r);
    item_t *c = next(&p);
    tok_t ct = as_value(c->tok);
    if (ct == TOK_END)
      break;
    if (ct != TOK_COMMA) {
      rc = fail(ret_err, xasprintf("found '%s', expected: ',' or 'end of string'", c->lit));
      break;
    }
    item_t *l2 = peek(&p);
    tok_t t2 = as_value(l2->tok);
    if (t2 != TOK_IDENT && t2 != TOK_NOT) {
      rc = fail(ret_err, xasprintf("found '%s', expected: identifier after ','", l2->lit));
      break;
    }
  }
  for (size_t i = 0; i < p.n; i++)
    free(p.items[i].lit);
  free(p.items);
  if (rc < 0) {
    selector_free(sel);
    return rc;
  }
  selector_sort(sel);
  *ret = sel;
  return 0;
}

int selector_from_json(const json_t *ls, selector_t **ret, char **ret_err) {
  if (!ls || json_is_null(ls)) {
    *ret = selector_nothing();
    return 0;
  }
  if (!json_is_object(ls))
    return fail(ret_err, xstrdup("label selector must be an object"));
  selector_t *sel = selector_everything();
  json_t *ml = json_object_get(ls, "matchLabels");
  json_t *me = json_object_get(ls, "matchExpressions");
  const char *k;
  json_t *v;
  int rc = 0;
  if (ml && !json_is_null(ml) && !json_is_object(ml))
    rc = fail(ret_err, xstrdup("matchLabels must be an object"));
  if (rc == 0 && me && !json_is_null(me) && !json_is_array(me))
    rc = fail(ret_err, xstrdup("matchExpressions must be an array"));
  if (rc == 0 && json_is_object(ml)) {
    json_object_foreach(ml, k, v) {
      if (!json_is_string(v)) {
        rc = fail(ret_err, xasprintf("matchLabels[%s] must be a string", k));
        break;
      }
      requirement_t r;
      char **vals = xmalloc(sizeof(char *));
      vals[0] = xstrdup(json_string_value(v));
      rc = requirement_new(k, SELECTOR_OP_EQUALS, vals, 1, &r, ret_err);
      if (rc < 0) {
        free(vals[0]);
        free(vals);
        break;
      }
      selector_add(sel, &r);
    }
  }
  size_t i;
  json_t *expr;
  if (rc == 0 && json_is_array(me)) {
    json_array_foreach(me, i, expr) {
      const char *key = json_string_value(json_object_get(expr, "key"));
      const char *opname = json_string_value(json_object_get(expr, "operator"));
      json_t *jv = json_object_get(expr, "values");
      selector_op_t op;
      if (!opname)
        opname = "";
      if (streq(opname, "In")) {
        op = SELECTOR_OP_IN;
      } else if (streq(opname, "NotIn")) {
        op = SELECTOR_OP_NOT_IN;
      } else if (streq(opname, "Exists")) {
        op = SELECTOR_OP_EXISTS;
      } else if (streq(opname, "DoesNotExist")) {
        op = SELECTOR_OP_DOES_NOT_EXIST;
      } else {
        buf_t b = {0};
        buf_put_quoted(&b, opname);
        buf_puts(&b, " is not a valid label selector operator");
        rc = fail(ret_err, buf_take(&b));
        break;
      }
      size_t n = json_is_array(jv) ? json_array_size(jv) : 0;
      char **vals = xmalloc((n + 1) * sizeof(char *));
      for (size_t j = 0; j < n; j++) {
        const char *s = json_string_value(json_array_get(jv, j));
        vals[j] = xstrdup(s ? s : "");
      }
      requirement_t r;
      rc = requirement_new(key ? key : "", op, vals, n, &r, ret_err);
      if (rc < 0) {
        for (size_t j = 0; j < n; j++)
          free(vals[j]);
        free(vals);
        break;
      }
      selector_add(sel, &r);
    }
  }
  if (rc < 0) {
    selector_free(sel);
    return rc;
  }
  selector_sort(sel);
  *ret = sel;
  return 0;
}

static const char *label_get(const json_t *labels, const char *key, bool *ret_has) {
  json_t *v = json_is_object(labels) ? json_object_get(labels, key) : NULL;
  *ret_has = v != NULL;
  const char *s = json_string_value(v);
  return s ? s : "";
}

static bool has_value(const requirement_t *r, const char *v) {
  for (size_t i = 0; i < r->nvalues; i++)
    if (streq(r->values[i], v))
      return true;
  return false;
}

static bool requirement_matches(const requirement_t *r, const json_t *labels) {
  bool has;
  const char *v = label_get(labels, r->key, &has);
  switch (r->op) {
  case SELECTOR_OP_IN:
  case SELECTOR_OP_EQUALS:
  case SELECTOR_OP_DOUBLE_EQUALS:
    return has && has_value(r, v);
  case SELECTOR_OP_NOT_IN:
  case SELECTOR_OP_NOT_EQUALS:
    return !has || !has_value(r, v);
  case SELECTOR_OP_EXISTS:
    return has;
  case SELECTOR_OP_DOES_NOT_EXIST:
    return !has;
  case SELECTOR_OP_GT:
  case SELECTOR_OP_LT: {
    int64_t lv, rv;
    if (!has || r->nvalues != 1 || !parse_int64(v, &lv) || !parse_int64(r->values[0], &rv))
      return false;
    return r->op == SELECTOR_OP_GT ? lv > rv : lv < rv;
  }
  }
  return false;
}

bool selector_matches(const selector_t *sel, const json_t *labels) {
  if (!sel)
    return true;
  if (sel->nothing)
    return false;
  for (size_t i = 0; i < sel->n; i++)
    if (!requirement_matches(&sel->reqs[i], labels))
      return false;
  return true;
}

bool selector_is_empty(const selector_t *sel) { return !sel || (!sel->nothing && sel->n == 0); }
bool selector_is_nothing(const selector_t *sel) { return sel && sel->nothing; }

static void requirement_print(buf_t *b, const requirement_t *r) {
  static const char *const ops[] = {
      [SELECTOR_OP_EXISTS] = "",      [SELECTOR_OP_DOES_NOT_EXIST] = "",
      [SELECTOR_OP_EQUALS] = "=",     [SELECTOR_OP_DOUBLE_EQUALS] = "==",
      [SELECTOR_OP_NOT_EQUALS] = "!=", [SELECTOR_OP_IN] = " in ",
      [SELECTOR_OP_NOT_IN] = " notin ", [SELECTOR_OP_GT] = ">",
      [SELECTOR_OP_LT] = "<",
  };
  if (r->op == SELECTOR_OP_DOES_NOT_EXIST)
    buf_putc(b, '!');
  buf_puts(b, r->key);
  buf_puts(b, ops[r->op]);
  if (r->op == SELECTOR_OP_EXISTS || r->op == SELECTOR_OP_DOES_NOT_EXIST)
    return;
  bool set = r->op == SELECTOR_OP_IN || r->op == SELECTOR_OP_NOT_IN;
  if (set)
    buf_putc(b, '(');
  _cleanup_free_ char **sorted = xmalloc((r->nvalues + 1) * sizeof(char *));
  memcpy(sorted, r->values, r->nvalues * sizeof(char *));
  qsort(sorted, r->nvalues, sizeof(char *), cmp_str);
  for (size_t i = 0; i < r->nvalues; i++) {
    if (i)
      buf_putc(b, ',');
    buf_puts(b, sorted[i]);
  }
  if (set)
    buf_putc(b, ')');
}

char *selector_to_string(const selector_t *sel) {
  buf_t b = {0};
  for (size_t i = 0; sel && !sel->nothing && i < sel->n; i++) {
    if (i)
      buf_putc(&b, ',');
    requirement_print(&b, &sel->reqs[i]);
  }
  return buf_take(&b);
}

int selector_requires_exact(const selector_t *sel, const char *key, const char **ret_value) {
  for (size_t i = 0; sel && !sel->nothing && i < sel->n; i++) {
    const requirement_t *r = &sel->reqs[i];
    if (!streq(r->key, key) || r->nvalues != 1)
      continue;
    if (r->op == SELECTOR_OP_EQUALS || r->op == SELECTOR_OP_DOUBLE_EQUALS ||
        r->op == SELECTOR_OP_IN) {
      *ret_value = r->values[0];
      return 1;
    }
  }
  return 0;
}

size_t selector_count(const selector_t *sel) { return sel && !sel->nothing ? sel->n : 0; }
const char *selector_key(const selector_t *sel, size_t i) { return sel->reqs[i].key; }
selector_op_t selector_op(const selector_t *sel, size_t i) { return sel->reqs[i].op; }
const char *const *selector_values(const selector_t *sel, size_t i) {
  return (const char *const *)sel->reqs[i].values;
}

/* ---- field selectors ---- */

typedef struct {
  char *field;
  char *value;
  bool neg;
} term_t;

struct selector_field {
  term_t *terms;
  size_t n;
};

void selector_field_free(selector_field_t *fs) {
  if (!fs)
    return;
  for (size_t i = 0; i < fs->n; i++) {
    free(fs->terms[i].field);
    free(fs->terms[i].value);
  }
  free(fs->terms);
  free(fs);
}

static int unescape_value(const char *s, char **ret, char **ret_err) {
  size_t n = strlen(s);
  char *out = xmalloc(n + 1), *o = out;
  bool slash = false;
  for (const char *p = s; *p; p++) {
    if (slash) {
      if (*p != '\\' && *p != ',' && *p != '=') {
        /* Go prints the escape sequence rune-wise; take the whole UTF-8 sequence. */
        size_t len = 1;
        while ((p[len] & 0xc0) == 0x80)
          len++;
        free(out);
        return fail(ret_err, xasprintf("invalid field selector: invalid escape sequence: \\%.*s",
                                       (int)len, p));
      }
      *o++ = *p;
      slash = false;
      continue;
    }
    if (*p == '\\') {
      slash = true;
    } else if (*p == ',' || *p == '=') {
      free(out);
      /* Go formats the rune with %v, which prints its code point. */
      return fail(ret_err,
                  xasprintf("invalid field selector: unescaped character in value: %d", *p));
    } else {
      *o++ = *p;
    }
  }
  if (slash) {
    free(out);
    return fail(ret_err, xstrdup("invalid field selector: invalid escape sequence: \\"));
  }
  *o = 0;
  *ret = out;
  return 0;
}

int selector_field_parse(const char *str, selector_field_t **ret, char **ret_err) {
  /* Split on unescaped commas, keeping escapes for the value unescaping below. */
  char **parts = NULL;
  size_t nparts = 0;
  if (*str) {
    const char *start = str;
    bool slash = false;
    for (const char *p = str;; p++) {
      if (!*p || (!slash && *p == ',')) {
        parts = xrealloc(parts, (nparts + 1) * sizeof(char *));
        parts[nparts++] = xstrndup(start, p - start);
        if (!*p)
          break;
        start = p + 1;
        continue;
      }
      slash = !slash && *p == '\\';
    }
  }
  if (nparts > 1)
    qsort(parts, nparts, sizeof(char *), cmp_str);
  selector_field_t *fs = xcalloc(1, sizeof(*fs));
  int rc = 0;
  for (size_t i = 0; i < nparts && rc == 0; i++) {
    const char *part = parts[i];
    if (!*part)
      continue;
    const char *op = NULL;
    size_t oplen = 0;
    /* The first operator occurrence splits; "!=" and "==" win over "=" at one position. */
    for (const char *p = part; *p && !op; p++) {
      if (startswith(p, "!="))
        op = p, oplen = 2;
      else if (startswith(p, "=="))
        op = p, oplen = 2;
      else if (*p == '=')
        op = p, oplen = 1;
    }
    if (!op) {
      rc = fail(ret_err, xasprintf("invalid selector: '%s'; can't understand '%s'", str, part));
      break;
    }
    char *value;
    rc = unescape_value(op + oplen, &value, ret_err);
    if (rc < 0)
      break;
    fs->terms = xrealloc(fs->terms, (fs->n + 1) * sizeof(term_t));
    fs->terms[fs->n++] = (term_t){
        .field = xstrndup(part, op - part),
        .value = value,
        .neg = op[0] == '!',
    };
  }
  for (size_t i = 0; i < nparts; i++)
    free(parts[i]);
  free(parts);
  if (rc < 0) {
    selector_field_free(fs);
    return rc;
  }
  *ret = fs;
  return 0;
}

bool selector_field_matches(const selector_field_t *fs, selector_field_getter_t get, void *ud) {
  for (size_t i = 0; fs && i < fs->n; i++) {
    const char *v = get(ud, fs->terms[i].field);
    bool eq = streq(v ? v : "", fs->terms[i].value);
    if (eq == fs->terms[i].neg)
      return false;
  }
  return true;
}

char *selector_field_to_string(const selector_field_t *fs) {
  buf_t b = {0};
  for (size_t i = 0; fs && i < fs->n; i++) {
    if (i)
      buf_putc(&b, ',');
    buf_puts(&b, fs->terms[i].field);
    buf_puts(&b, fs->terms[i].neg ? "!=" : "=");
    for (const char *p = fs->terms[i].value; *p; p++) {
      if (*p == '\\' || *p == ',' || *p == '=')
        buf_putc(&b, '\\');
      buf_putc(&b, *p);
    }
  }
  return buf_take(&b);
}

bool selector_field_is_empty(const selector_field_t *fs) { return !fs || fs->n == 0; }
size_t selector_field_count(const selector_field_t *fs) { return fs ? fs->n : 0; }
const char *selector_field_name(const selector_field_t *fs, size_t i) { return fs->terms[i].field; }
const char *selector_field_value(const selector_field_t *fs, size_t i) { return fs->terms[i].value; }
bool selector_field_negated(const selector_field_t *fs, size_t i) { return fs->terms[i].neg; }

int selector_field_requires_exact(const selector_field_t *fs, const char *field,
                                  const char **ret_value) {
  for (size_t i = 0; fs && i < fs->n; i++)
    if (!fs->terms[i].neg && streq(fs->terms[i].field, field)) {
      *ret_value = fs->terms[i].value;
      return 1;
    }
  return 0;
}
