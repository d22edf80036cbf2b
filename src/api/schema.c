/* schema.c — parser and lookups for the schema language (docs/schema-format.md).
 *
 * Everything a set owns (strings, refs, field arrays) lives in one arena freed with the
 * set, so pointers handed out stay valid for the set's lifetime and readers never
 * need to reference-count. Type references may point forward, so they are collected
 * while reading and resolved once the whole text is known. */
#include "api/schema.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/macro.h"

/* ---- arena ---------------------------------------------------------------------- */

struct arena_block {
  struct arena_block *next;
  size_t used, size;
  _Alignas(16) unsigned char data[];
};

struct arena {
  struct arena_block *head;
};

static void *arena_alloc(struct arena *a, size_t n) {
  n = (n + 15) & ~(size_t)15;
  struct arena_block *b = a->head;
  if (!b || b->size - b->used < n) {
    size_t size = n > 60000 ? n : 60000;
    b = xmalloc(sizeof(*b) + size);
    b->size = size;
    b->used = 0;
    b->next = a->head;
    a->head = b;
  }
  void *p = b->data + b->used;
  b->used += n;
  memset(p, 0, n);
  return p;
}

static char *arena_strndup(struct arena *a, const char *s, size_t n) {
  char *p = arena_alloc(a, n + 1);
  memcpy(p, s, n);
  p[n] = 0;
  return p;
}

static char *arena_strdup(struct arena *a, const char *s) {
  return arena_strndup(a, s, strlen(s));
}

static void arena_free(struct arena *a) {
  while (a->head) {
    struct arena_block *b = a->head;
    a->head = b->next;
    free(b);
  }
}

/* ---- set ------------------------------------------------------------------------ */

/* A type as parsed: the public part first, so &node->t converts back with a cast. */
struct type_node {
  struct schema_type t;
  const char *package;
  int line;
  struct schema_field *fields; /* malloc'd while parsing */
  int *field_lines;
  size_t cap_fields;
  struct schema_gvk *gvks; /* malloc'd while parsing */
  size_t cap_gvks;
};

struct name_slot {
  const char *key;
  struct type_node *node;
  bool ambiguous;
};

struct name_table {
  struct name_slot *slots;
  size_t cap; /* power of two */
};

struct schema_set {
  struct arena arena;
  struct type_node **types;
  size_t n_types, cap_types;
  struct name_table by_full, by_short;
  json_t **defaults; /* owned references, released with the set */
  size_t n_defaults, cap_defaults;
};

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

/* Returns the slot for key: the matching one, or the empty one where it belongs. */
static struct name_slot *table_slot(const struct name_table *t, const char *key) {
  size_t mask = t->cap - 1;
  for (size_t i = hash_str(key) & mask;; i = (i + 1) & mask) {
    struct name_slot *s = &t->slots[i];
    if (!s->key || streq(s->key, key))
      return s;
  }
}

static void table_init(struct name_table *t, size_t n) {
  t->cap = 16;
  while (t->cap < n * 2 + 1)
    t->cap *= 2;
  t->slots = xcalloc(t->cap, sizeof(*t->slots));
}

static const struct name_slot *table_get(const struct name_table *t, const char *key) {
  if (!t->cap)
    return NULL;
  const struct name_slot *s = table_slot(t, key);
  return s->key ? s : NULL;
}

void schema_set_free(struct schema_set *set) {
  if (!set)
    return;
  for (size_t i = 0; i < set->n_types; i++) {
    free(set->types[i]->fields);
    free(set->types[i]->field_lines);
    free(set->types[i]->gvks);
  }
  for (size_t i = 0; i < set->n_defaults; i++)
    json_decref(set->defaults[i]);
  free(set->defaults);
  free(set->types);
  free(set->by_full.slots);
  free(set->by_short.slots);
  arena_free(&set->arena);
  free(set);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct schema_set *, schema_set_free)

/* ---- scalars -------------------------------------------------------------------- */

static const struct {
  const char *name;
  enum schema_kind kind;
} scalar_names[] = {
    {"string", SCHEMA_STRING},   {"integer", SCHEMA_INTEGER},     {"int64", SCHEMA_INTEGER},
    {"int32", SCHEMA_INT32},     {"number", SCHEMA_NUMBER},       {"boolean", SCHEMA_BOOLEAN},
    {"quantity", SCHEMA_QUANTITY}, {"intstr", SCHEMA_INTSTR},     {"time", SCHEMA_TIME},
    {"microtime", SCHEMA_MICROTIME}, {"bytes", SCHEMA_BYTES},     {"any", SCHEMA_ANY},
};

static const struct schema_ref scalar_refs[] = {
    [SCHEMA_STRING] = {SCHEMA_STRING, NULL, NULL},
    [SCHEMA_INTEGER] = {SCHEMA_INTEGER, NULL, NULL},
    [SCHEMA_INT32] = {SCHEMA_INT32, NULL, NULL},
    [SCHEMA_NUMBER] = {SCHEMA_NUMBER, NULL, NULL},
    [SCHEMA_BOOLEAN] = {SCHEMA_BOOLEAN, NULL, NULL},
    [SCHEMA_QUANTITY] = {SCHEMA_QUANTITY, NULL, NULL},
    [SCHEMA_INTSTR] = {SCHEMA_INTSTR, NULL, NULL},
    [SCHEMA_TIME] = {SCHEMA_TIME, NULL, NULL},
    [SCHEMA_MICROTIME] = {SCHEMA_MICROTIME, NULL, NULL},
    [SCHEMA_BYTES] = {SCHEMA_BYTES, NULL, NULL},
    [SCHEMA_ANY] = {SCHEMA_ANY, NULL, NULL},
};

static int scalar_lookup(const char *name, size_t n, enum schema_kind *ret) {
  for (size_t i = 0; i < ARRAY_SIZE(scalar_names); i++)
    if (strlen(scalar_names[i].name) == n && strncmp(scalar_names[i].name, name, n) == 0) {
      *ret = scalar_names[i].kind;
      return 0;
    }
  return -ENOENT;
}

const char *schema_kind_name(enum schema_kind kind) {
  switch (kind) {
  case SCHEMA_STRING: return "string";
  case SCHEMA_INTEGER: return "integer";
  case SCHEMA_INT32: return "int32";
  case SCHEMA_NUMBER: return "number";
  case SCHEMA_BOOLEAN: return "boolean";
  case SCHEMA_QUANTITY: return "quantity";
  case SCHEMA_INTSTR: return "intstr";
  case SCHEMA_TIME: return "time";
  case SCHEMA_MICROTIME: return "microtime";
  case SCHEMA_BYTES: return "bytes";
  case SCHEMA_ANY: return "any";
  case SCHEMA_STRUCT: return "struct";
  case SCHEMA_LIST: return "list";
  case SCHEMA_MAP: return "map";
  }
  return "?";
}

/* ---- parser --------------------------------------------------------------------- */

struct pending_ref {
  struct schema_ref *ref;
  const char *name;
  const char *package;
  int line;
};

struct parser {
  struct schema_set *set;
  const char *package;
  struct type_node *cur; /* type whose fields follow, or NULL */
  int line;
  char *err;
  struct pending_ref *pending;
  size_t n_pending, cap_pending;
};

static int fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct parser *p, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *msg = NULL;
  if (vasprintf(&msg, fmt, ap) < 0)
    abort();
  va_end(ap);
  free(p->err);
  p->err = xasprintf("line %d: %s", p->line, msg);
  free(msg);
  return -EINVAL;
}

static bool is_space(char c) { return c == ' ' || c == '\t'; }

/* Parses a type expression ([]T, map[T], scalar or type name) into a ref. */
static int parse_type_expr(struct parser *p, const char *s, size_t n,
                           const struct schema_ref **ret) {
  struct arena *a = &p->set->arena;
  if (n == 0)
    return fail(p, "missing type");
  if (n >= 2 && s[0] == '[' && s[1] == ']') {
    const struct schema_ref *elem;
    int r = parse_type_expr(p, s + 2, n - 2, &elem);
    if (r < 0)
      return r;
    struct schema_ref *ref = arena_alloc(a, sizeof(*ref));
    ref->kind = SCHEMA_LIST;
    ref->elem = elem;
    *ret = ref;
    return 0;
  }
  if (n >= 4 && strncmp(s, "map[", 4) == 0) {
    if (s[n - 1] != ']')
      return fail(p, "malformed map type \"%.*s\": expected map[T]", (int)n, s);
    const struct schema_ref *elem;
    int r = parse_type_expr(p, s + 4, n - 5, &elem);
    if (r < 0)
      return r;
    struct schema_ref *ref = arena_alloc(a, sizeof(*ref));
    ref->kind = SCHEMA_MAP;
    ref->elem = elem;
    *ret = ref;
    return 0;
  }
  enum schema_kind kind;
  if (scalar_lookup(s, n, &kind) == 0) {
    *ret = &scalar_refs[kind];
    return 0;
  }
  for (size_t i = 0; i < n; i++)
    if (!(s[i] == '.' || s[i] == '_' || (s[i] >= '0' && s[i] <= '9') ||
          (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
      return fail(p, "malformed type \"%.*s\"", (int)n, s);
  struct schema_ref *ref = arena_alloc(a, sizeof(*ref));
  ref->kind = SCHEMA_STRUCT;
  if (p->n_pending == p->cap_pending) {
    p->cap_pending = p->cap_pending ? p->cap_pending * 2 : 256;
    p->pending = xrealloc(p->pending, p->cap_pending * sizeof(*p->pending));
  }
  p->pending[p->n_pending++] = (struct pending_ref){
      .ref = ref, .name = arena_strndup(a, s, n), .package = p->package, .line = p->line};
  *ret = ref;
  return 0;
}

/* Splits "a|b|c" (or "a,b") into a NULL-terminated arena array; rejects empty items. */
static int split_list(struct parser *p, const char *opt, const char *s, char sep,
                      const char *const **ret) {
  size_t n = 1;
  for (const char *c = s; *c; c++)
    n += *c == sep;
  const char **v = arena_alloc(&p->set->arena, (n + 1) * sizeof(*v));
  size_t i = 0;
  for (const char *c = s;;) {
    const char *end = strchr(c, sep);
    size_t len = end ? (size_t)(end - c) : strlen(c);
    if (len == 0)
      return fail(p, "%s: empty value in \"%s\"", opt, s);
    v[i++] = arena_strndup(&p->set->arena, c, len);
    if (!end)
      break;
    c = end + 1;
  }
  v[i] = NULL;
  *ret = v;
  return 0;
}

static int parse_number(const char *s, double *ret) {
  char *end;
  errno = 0;
  double d = strtod(s, &end);
  if (!*s || *end || errno)
    return -EINVAL;
  *ret = d;
  return 0;
}

static void add_default(struct schema_set *set, json_t *v) {
  if (set->n_defaults == set->cap_defaults) {
    set->cap_defaults = set->cap_defaults ? set->cap_defaults * 2 : 64;
    set->defaults = xrealloc(set->defaults, set->cap_defaults * sizeof(*set->defaults));
  }
  set->defaults[set->n_defaults++] = v;
}

/* Applies one field option. tok is NUL-terminated; for default= the JSON literal may
 * extend past the token (it can hold spaces), so *consumed reports how much of rest
 * (which starts at tok) was used. */
static int parse_field_option(struct parser *p, struct schema_field *f, const char *rest,
                              size_t tok_len, size_t *consumed, bool *list_set,
                              bool *keys_set) {
  struct arena *a = &p->set->arena;
  _cleanup_free_ char *tok = xstrndup(rest, tok_len);
  *consumed = tok_len;
  char *eq = strchr(tok, '=');
  const char *val = eq ? eq + 1 : NULL;
  if (eq)
    *eq = 0;
  const char *key = tok;

  if (streq(key, "required") || streq(key, "ro")) {
    if (val)
      return fail(p, "option %s takes no value", key);
    if (streq(key, "required"))
      f->required = true;
    else
      f->read_only = true;
    return 0;
  }
  if (!val)
    return fail(p, "unknown field option \"%s\"", key);
  if (streq(key, "default")) {
    json_error_t jerr;
    const char *json_start = rest + strlen("default=");
    json_t *v = json_loads(json_start, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &jerr);
    if (!v)
      return fail(p, "default: invalid JSON: %s", jerr.text);
    size_t used = (size_t)jerr.position;
    if (json_start[used] && !is_space(json_start[used])) {
      json_decref(v);
      return fail(p, "default: invalid JSON: trailing text after the value");
    }
    if (f->default_value) {
      json_decref(v);
      return fail(p, "default given twice");
    }
    add_default(p->set, v);
    f->default_value = v;
    *consumed = strlen("default=") + used;
    return 0;
  }
  if (!*val)
    return fail(p, "option %s needs a value", key);
  if (streq(key, "enum"))
    return split_list(p, "enum", val, '|', &f->enum_values);
  if (streq(key, "format")) {
    f->format = arena_strdup(a, val);
    return 0;
  }
  if (streq(key, "min") || streq(key, "max")) {
    double d;
    if (parse_number(val, &d) < 0)
      return fail(p, "%s: \"%s\" is not a number", key, val);
    if (streq(key, "min")) {
      f->has_min = true;
      f->min = d;
    } else {
      f->has_max = true;
      f->max = d;
    }
    return 0;
  }
  if (streq(key, "merge")) {
    f->merge_key = arena_strdup(a, val);
    f->patch_strategy |= SCHEMA_PATCH_MERGE;
    return 0;
  }
  if (streq(key, "patch")) {
    const char *const *parts;
    int r = split_list(p, "patch", val, ',', &parts);
    if (r < 0)
      return r;
    unsigned bits = 0;
    for (size_t i = 0; parts[i]; i++) {
      if (streq(parts[i], "merge"))
        bits |= SCHEMA_PATCH_MERGE;
      else if (streq(parts[i], "replace"))
        bits |= SCHEMA_PATCH_REPLACE;
      else if (streq(parts[i], "retainKeys"))
        bits |= SCHEMA_PATCH_RETAIN_KEYS;
      else
        return fail(p, "patch: unknown strategy \"%s\"", parts[i]);
    }
    f->patch_strategy |= bits;
    return 0;
  }
  if (streq(key, "list")) {
    if (streq(val, "atomic"))
      f->list_type = SCHEMA_LIST_ATOMIC;
    else if (streq(val, "set"))
      f->list_type = SCHEMA_LIST_SET;
    else if (streq(val, "map"))
      f->list_type = SCHEMA_LIST_MAP;
    else
      return fail(p, "list: unknown list type \"%s\"", val);
    *list_set = true;
    return 0;
  }
  if (streq(key, "keys")) {
    *keys_set = true;
    return split_list(p, "keys", val, ',', &f->list_keys);
  }
  if (streq(key, "map")) {
    if (streq(val, "atomic"))
      f->map_atomic = true;
    else if (streq(val, "granular"))
      f->map_atomic = false;
    else
      return fail(p, "map: unknown map type \"%s\"", val);
    return 0;
  }
  if (streq(key, "pb")) {
    if (streq(val, "-")) {
      f->pb = 0;
      return 0;
    }
    char *end;
    errno = 0;
    long n = strtol(val, &end, 10);
    if (end == val || errno || n <= 0 || n > 536870911)
      return fail(p, "pb: \"%s\" is not a protobuf field number", val);
    if (*end) {
      if (!streq(end, ",packed"))
        return fail(p, "pb: unexpected \"%s\"", end);
      f->pb_packed = true;
    }
    f->pb = (int)n;
    return 0;
  }
  if (streq(key, "oneof")) {
    f->oneof = arena_strdup(a, val);
    return 0;
  }
  return fail(p, "unknown field option \"%s\"", key);
}

/* Splits "text -- doc": returns the length of the part before the doc and sets *doc. */
static size_t split_doc(const char *line, size_t len, const char **doc, size_t *doc_len) {
  for (size_t i = 0; i + 3 <= len; i++) {
    if (line[i] == ' ' && line[i + 1] == '-' && line[i + 2] == '-' &&
        (i + 3 == len || line[i + 3] == ' ')) {
      size_t start = i + 3;
      while (start < len && is_space(line[start]))
        start++;
      *doc = line + start;
      *doc_len = len - start;
      return i;
    }
  }
  *doc = "";
  *doc_len = 0;
  return len;
}

static size_t token_len(const char *s, size_t n) {
  size_t i = 0;
  while (i < n && !is_space(s[i]))
    i++;
  return i;
}

static int parse_field(struct parser *p, const char *s, size_t len) {
  if (!p->cur)
    return fail(p, "field outside of a type");
  struct type_node *node = p->cur;
  if (node->t.scalar != SCHEMA_STRUCT)
    return fail(p, "scalar type %s cannot have fields", node->t.name);
  const char *doc;
  size_t doc_len;
  size_t n = split_doc(s, len, &doc, &doc_len);
  _cleanup_free_ char *head = xstrndup(s, n);
  n = strlen(head);

  struct schema_field f = {0};
  size_t i = 0, tl = token_len(head, n);
  const char *name = head;
  if (tl == 0)
    return fail(p, "missing field name");
  for (size_t k = 0; k < node->t.n_fields; k++)
    if (strlen(node->fields[k].name) == tl && strncmp(node->fields[k].name, name, tl) == 0)
      return fail(p, "duplicate field \"%.*s\" in type %s", (int)tl, name, node->t.name);
  f.name = arena_strndup(&p->set->arena, name, tl);
  i = tl;
  while (i < n && is_space(head[i]))
    i++;
  tl = token_len(head + i, n - i);
  if (tl == 0)
    return fail(p, "field %s: missing type", f.name);
  int r = parse_type_expr(p, head + i, tl, &f.ref);
  if (r < 0)
    return r;
  i += tl;
  bool list_set = false, keys_set = false;
  for (;;) {
    while (i < n && is_space(head[i]))
      i++;
    if (i >= n)
      break;
    size_t used;
    r = parse_field_option(p, &f, head + i, token_len(head + i, n - i), &used, &list_set,
                           &keys_set);
    if (r < 0)
      return r;
    i += used;
  }
  f.doc = arena_strndup(&p->set->arena, doc, doc_len);

  bool is_list = f.ref->kind == SCHEMA_LIST;
  if (!is_list && (list_set || keys_set || f.merge_key || f.pb_packed))
    return fail(p, "field %s: list options on a field that is not a list", f.name);
  if (is_list) {
    if (!keys_set && f.merge_key) {
      const char **k = arena_alloc(&p->set->arena, 2 * sizeof(*k));
      k[0] = f.merge_key;
      f.list_keys = k;
      keys_set = true;
    }
    if (!list_set)
      f.list_type = keys_set ? SCHEMA_LIST_MAP : SCHEMA_LIST_ATOMIC;
    if (f.list_type == SCHEMA_LIST_MAP && !f.list_keys)
      return fail(p, "field %s: list=map needs keys= or merge=", f.name);
    if (f.list_type != SCHEMA_LIST_MAP && keys_set && !f.merge_key)
      return fail(p, "field %s: keys= needs list=map", f.name);
    if (f.list_type != SCHEMA_LIST_MAP)
      f.list_keys = NULL;
  }
  if (f.map_atomic && f.ref->kind != SCHEMA_MAP && f.ref->kind != SCHEMA_STRUCT)
    return fail(p, "field %s: map= on a field that is not a map or struct", f.name);

  if (node->t.n_fields == node->cap_fields) {
    node->cap_fields = node->cap_fields ? node->cap_fields * 2 : 8;
    node->fields = xrealloc(node->fields, node->cap_fields * sizeof(*node->fields));
    node->field_lines = xrealloc(node->field_lines, node->cap_fields * sizeof(int));
  }
  node->field_lines[node->t.n_fields] = p->line;
  node->fields[node->t.n_fields++] = f;
  return 0;
}

static int parse_gvk(struct parser *p, struct type_node *node, const char *val) {
  const char *s1 = strchr(val, '/');
  const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
  if (!s1 || !s2 || strchr(s2 + 1, '/') || s2 == s1 + 1 || !s2[1])
    return fail(p, "gvk: \"%s\" is not GROUP/VERSION/KIND", val);
  struct arena *a = &p->set->arena;
  if (node->t.n_gvks == node->cap_gvks) {
    node->cap_gvks = node->cap_gvks ? node->cap_gvks * 2 : 2;
    node->gvks = xrealloc(node->gvks, node->cap_gvks * sizeof(*node->gvks));
  }
  node->gvks[node->t.n_gvks++] = (struct schema_gvk){
      .group = arena_strndup(a, val, (size_t)(s1 - val)),
      .version = arena_strndup(a, s1 + 1, (size_t)(s2 - s1 - 1)),
      .kind = arena_strdup(a, s2 + 1),
  };
  return 0;
}

static int parse_type(struct parser *p, const char *s, size_t len) {
  if (!p->package)
    return fail(p, "type before any package line");
  const char *doc;
  size_t doc_len;
  size_t n = split_doc(s, len, &doc, &doc_len);
  _cleanup_free_ char *head = xstrndup(s, n);
  struct arena *a = &p->set->arena;

  struct type_node *node = arena_alloc(a, sizeof(*node));
  node->package = p->package;
  node->line = p->line;
  node->t.scalar = SCHEMA_STRUCT;
  node->t.doc = arena_strndup(a, doc, doc_len);
  bool have_scalar = false;
  /* Listed at once so that the set releases its arrays even if a later option fails. */
  struct schema_set *set = p->set;
  if (set->n_types == set->cap_types) {
    set->cap_types = set->cap_types ? set->cap_types * 2 : 128;
    set->types = xrealloc(set->types, set->cap_types * sizeof(*set->types));
  }
  set->types[set->n_types++] = node;

  char *save = NULL;
  for (char *tok = strtok_r(head, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
    if (!node->t.name) {
      for (char *c = tok; *c; c++)
        if (!(*c == '_' || (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') ||
              (*c >= 'A' && *c <= 'Z')))
          return fail(p, "malformed type name \"%s\"", tok);
      enum schema_kind k;
      if (scalar_lookup(tok, strlen(tok), &k) == 0)
        return fail(p, "type name \"%s\" is a built-in scalar", tok);
      node->t.name = arena_strdup(a, tok);
      continue;
    }
    char *eq = strchr(tok, '=');
    if (!eq)
      return fail(p, "unknown type option \"%s\"", tok);
    *eq = 0;
    const char *val = eq + 1;
    int r;
    if (streq(tok, "gvk")) {
      r = parse_gvk(p, node, val);
      if (r < 0)
        return r;
    } else if (streq(tok, "scalar")) {
      enum schema_kind k;
      if (have_scalar)
        return fail(p, "scalar given twice");
      if (scalar_lookup(val, strlen(val), &k) < 0)
        return fail(p, "scalar: unknown scalar type \"%s\"", val);
      node->t.scalar = k;
      have_scalar = true;
    } else {
      return fail(p, "unknown type option \"%s\"", tok);
    }
  }
  if (!node->t.name)
    return fail(p, "missing type name");
  size_t pkg_len = strlen(p->package), name_len = strlen(node->t.name);
  char *full = arena_alloc(a, pkg_len + name_len + 2);
  memcpy(full, p->package, pkg_len);
  full[pkg_len] = '.';
  memcpy(full + pkg_len + 1, node->t.name, name_len + 1);
  node->t.full_name = full;

  p->cur = node;
  return 0;
}

static int parse_line(struct parser *p, const char *s, size_t len) {
  while (len > 0 && (is_space(s[len - 1]) || s[len - 1] == '\r'))
    len--;
  size_t indent = 0;
  while (indent < len && is_space(s[indent]))
    indent++;
  if (indent == len || s[indent] == '#')
    return 0;
  if (indent > 0) {
    if (indent != 2 || s[0] != ' ' || s[1] != ' ')
      return fail(p, "fields are indented by exactly two spaces");
    return parse_field(p, s + 2, len - 2);
  }
  if (len > 8 && strncmp(s, "package ", 8) == 0) {
    const char *name = s + 8;
    size_t n = len - 8;
    while (n && is_space(*name))
      name++, n--;
    if (n == 0 || token_len(name, n) != n)
      return fail(p, "package takes exactly one name");
    p->package = arena_strndup(&p->set->arena, name, n);
    p->cur = NULL;
    return 0;
  }
  if (len > 5 && strncmp(s, "type ", 5) == 0)
    return parse_type(p, s + 5, len - 5);
  if (len == 7 && strncmp(s, "package", 7) == 0)
    return fail(p, "package takes exactly one name");
  return fail(p, "expected \"package\", \"type\" or an indented field");
}

static bool default_matches(const struct schema_ref *ref, const json_t *v) {
  switch (ref->kind) {
  case SCHEMA_STRING:
  case SCHEMA_TIME:
  case SCHEMA_MICROTIME:
  case SCHEMA_BYTES:
    return json_is_string(v);
  case SCHEMA_INTEGER:
  case SCHEMA_INT32:
    return json_is_integer(v);
  case SCHEMA_NUMBER:
    return json_is_number(v);
  case SCHEMA_BOOLEAN:
    return json_is_boolean(v);
  case SCHEMA_QUANTITY:
    return json_is_string(v) || json_is_number(v);
  case SCHEMA_INTSTR:
    return json_is_string(v) || json_is_integer(v);
  case SCHEMA_ANY:
    return true;
  case SCHEMA_STRUCT:
  case SCHEMA_MAP:
    return json_is_object(v);
  case SCHEMA_LIST:
    return json_is_array(v);
  }
  return false;
}

static int resolve(struct parser *p) {
  struct schema_set *set = p->set;
  table_init(&set->by_full, set->n_types);
  table_init(&set->by_short, set->n_types);
  for (size_t i = 0; i < set->n_types; i++) {
    struct type_node *node = set->types[i];
    struct name_slot *s = table_slot(&set->by_full, node->t.full_name);
    if (s->key) {
      p->line = node->line;
      return fail(p, "duplicate type %s in package %s (first declared on line %d)",
                  node->t.name, node->package, s->node->line);
    }
    s->key = node->t.full_name;
    s->node = node;
    s = table_slot(&set->by_short, node->t.name);
    if (s->key) {
      s->ambiguous = true;
    } else {
      s->key = node->t.name;
      s->node = node;
    }
  }
  for (size_t i = 0; i < p->n_pending; i++) {
    struct pending_ref *pr = &p->pending[i];
    p->line = pr->line;
    const struct name_slot *s = NULL;
    if (strchr(pr->name, '.')) {
      s = table_get(&set->by_full, pr->name);
    } else {
      _cleanup_free_ char *full = xasprintf("%s.%s", pr->package, pr->name);
      s = table_get(&set->by_full, full);
      if (!s) {
        s = table_get(&set->by_short, pr->name);
        if (s && s->ambiguous)
          return fail(p, "type %s is ambiguous: name it with its package", pr->name);
      }
    }
    if (!s)
      return fail(p, "unknown type %s", pr->name);
    pr->ref->type = &s->node->t;
    pr->ref->kind = s->node->t.scalar;
  }
  /* Publish the field and gvk arrays, then check defaults against the resolved types. */
  for (size_t i = 0; i < set->n_types; i++) {
    struct type_node *node = set->types[i];
    node->t.fields = node->fields;
    node->t.gvks = node->gvks;
    for (size_t k = 0; k < node->t.n_fields; k++) {
      const struct schema_field *f = &node->fields[k];
      if (f->default_value && !default_matches(f->ref, f->default_value)) {
        p->line = node->field_lines[k];
        return fail(p, "field %s: default does not match its type", f->name);
      }
    }
  }
  return 0;
}

int schema_set_parse(const char *text, struct schema_set **ret, char **ret_err) {
  _cleanup_(schema_set_freep) struct schema_set *set = xcalloc(1, sizeof(*set));
  struct parser p = {.set = set};
  int r = 0;
  const char *s = text;
  while (*s) {
    p.line++;
    const char *nl = strchr(s, '\n');
    size_t len = nl ? (size_t)(nl - s) : strlen(s);
    r = parse_line(&p, s, len);
    if (r < 0)
      break;
    s += len;
    if (*s == '\n')
      s++;
  }
  if (r >= 0)
    r = resolve(&p);
  free(p.pending);
  if (r < 0) {
    if (ret_err)
      *ret_err = TAKE_PTR(p.err);
    free(p.err);
    return r;
  }
  *ret = TAKE_PTR(set);
  return 0;
}

/* ---- lookups -------------------------------------------------------------------- */

const struct schema_type *schema_find(const struct schema_set *set, const char *name) {
  if (!set || !name)
    return NULL;
  const struct name_slot *s = table_get(&set->by_full, name);
  if (s)
    return &s->node->t;
  s = table_get(&set->by_short, name);
  if (s && !s->ambiguous)
    return &s->node->t;
  return NULL;
}

const struct schema_type *schema_find_gvk(const struct schema_set *set, const char *group,
                                          const char *version, const char *kind) {
  if (!set)
    return NULL;
  for (size_t i = 0; i < set->n_types; i++) {
    const struct schema_type *t = &set->types[i]->t;
    for (size_t k = 0; k < t->n_gvks; k++)
      if (streq(t->gvks[k].kind, kind) && streq(t->gvks[k].version, version) &&
          streq(t->gvks[k].group, group ? group : ""))
        return t;
  }
  return NULL;
}

const struct schema_field *schema_field(const struct schema_type *t, const char *name) {
  if (!t)
    return NULL;
  for (size_t i = 0; i < t->n_fields; i++)
    if (streq(t->fields[i].name, name))
      return &t->fields[i];
  return NULL;
}

size_t schema_count(const struct schema_set *set) { return set ? set->n_types : 0; }

const struct schema_type *schema_at(const struct schema_set *set, size_t i) {
  if (!set || i >= set->n_types)
    return NULL;
  return &set->types[i]->t;
}

/* ---- built-in set --------------------------------------------------------------- */

extern const char ckube_schema_text[];

static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;
static struct schema_set *builtin_set;

static void builtin_init(void) {
  char *err = NULL;
  if (schema_set_parse(ckube_schema_text, &builtin_set, &err) < 0) {
    /* The embedded text is part of the binary: a bad one is a build defect, and no
     * request can be served without it. */
    fprintf(stderr, "ckube: embedded schema text is invalid: %s\n", err ? err : "?");
    abort();
  }
}

const struct schema_set *schema_builtin(void) {
  pthread_once(&builtin_once, builtin_init);
  return builtin_set;
}
