#include "api/apply.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"

/* ---- managedFields entries ---- */

struct mf_entry {
  char *manager;
  char *api_version;
  char *subresource; /* NULL when none */
  char *time;        /* NULL when none */
  bool apply;
  struct fieldpath_set *set;
};

struct mf_list {
  struct mf_entry *v;
  size_t n, cap;
};

static void mf_entry_clear(struct mf_entry *e) {
  free(e->manager);
  free(e->api_version);
  free(e->subresource);
  free(e->time);
  fieldpath_set_free(e->set);
  *e = (struct mf_entry){0};
}

static void mf_list_clear(struct mf_list *l) {
  for (size_t i = 0; i < l->n; i++)
    mf_entry_clear(&l->v[i]);
  free(l->v);
  *l = (struct mf_list){0};
}
#define _cleanup_mf_list_ _cleanup_(mf_list_clear)

static void mf_list_remove(struct mf_list *l, size_t i) {
  mf_entry_clear(&l->v[i]);
  memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
  l->n--;
}

/* Kube keys entries by (manager, operation, subresource) plus the apiVersion for
 * updates: an applier keeps one entry whatever version it applies with. */
static bool mf_same_identity(const struct mf_entry *e, const char *manager, bool apply,
                             const char *api_version, const char *subresource) {
  if (!streq(e->manager, manager) || e->apply != apply)
    return false;
  if (!streq_ptr(e->subresource && *e->subresource ? e->subresource : NULL,
                 subresource && *subresource ? subresource : NULL))
    return false;
  return apply || streq(e->api_version, api_version);
}

static ssize_t mf_find(const struct mf_list *l, const char *manager, bool apply,
                       const char *api_version, const char *subresource) {
  for (size_t i = 0; i < l->n; i++)
    if (mf_same_identity(&l->v[i], manager, apply, api_version, subresource))
      return (ssize_t)i;
  return -1;
}

/* Adds an entry (taking set), or replaces the fields of the one with the same identity.
 * Returns its index. */
static size_t mf_put(struct mf_list *l, const char *manager, bool apply, const char *api_version,
                     const char *subresource, struct fieldpath_set *set) {
  ssize_t i = mf_find(l, manager, apply, api_version, subresource);
  if (i >= 0) {
    fieldpath_set_free(l->v[i].set);
    l->v[i].set = set;
    free(l->v[i].api_version);
    l->v[i].api_version = xstrdup(api_version);
    return (size_t)i;
  }
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 4;
    l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
  }
  l->v[l->n] = (struct mf_entry){
      .manager = xstrdup(manager),
      .api_version = xstrdup(api_version),
      .subresource = subresource && *subresource ? xstrdup(subresource) : NULL,
      .apply = apply,
      .set = set,
  };
  return l->n++;
}

static const json_t *object_managed_fields(const json_t *obj) {
  return json_object_get(json_object_get(obj, "metadata"), "managedFields");
}

/* kube's DecodeManagedFields: every entry must name its operation, apiVersion and
 * fieldsType; later entries with the same identity replace earlier ones. */
static int mf_decode(const json_t *arr, struct mf_list *ret, char **ret_err) {
  _cleanup_mf_list_ struct mf_list l = {0};
  if (arr && !json_is_null(arr) && !json_is_array(arr)) {
    *ret_err = xstrdup("managedFields must be a list");
    return -EINVAL;
  }
  for (size_t i = 0; i < json_array_size(arr); i++) {
    const json_t *e = json_array_get(arr, i);
    if (!json_is_object(e)) {
      *ret_err = xasprintf("managed fields entry %zu is not an object", i);
      return -EINVAL;
    }
    const char *op = json_string_value(json_object_get(e, "operation"));
    const char *av = json_string_value(json_object_get(e, "apiVersion"));
    const char *ft = json_string_value(json_object_get(e, "fieldsType"));
    const char *mgr = json_string_value(json_object_get(e, "manager"));
    const char *sub = json_string_value(json_object_get(e, "subresource"));
    const char *tm = json_string_value(json_object_get(e, "time"));
    if (!op || (!streq(op, "Apply") && !streq(op, "Update"))) {
      *ret_err = xstrdup("operation must be `Apply` or `Update`");
      return -EINVAL;
    }
    if (!av || !*av) {
      *ret_err = xstrdup("apiVersion must not be empty");
      return -EINVAL;
    }
    if (!ft || !*ft) {
      *ret_err = xasprintf("missing fieldsType in managed fields entry %zu", i);
      return -EINVAL;
    }
    if (!streq(ft, "FieldsV1")) {
      *ret_err = xasprintf("invalid fieldsType \"%s\" in managed fields entry %zu", ft, i);
      return -EINVAL;
    }
    struct fieldpath_set *set;
    if (fieldpath_set_from_json(json_object_get(e, "fieldsV1"), &set) < 0) {
      *ret_err = xasprintf("error decoding versioned set from managed fields entry %zu", i);
      return -EINVAL;
    }
    bool apply = streq(op, "Apply");
    size_t k = mf_put(&l, mgr ? mgr : "", apply, av, sub, set);
    free(l.v[k].time);
    l.v[k].time = tm ? xstrdup(tm) : NULL;
  }
  *ret = l;
  l = (struct mf_list){0};
  return 0;
}

/* kube's order: appliers first, then by time, manager, apiVersion, subresource. Times
 * are RFC 3339 UTC seconds, so they sort as text; an entry without one sorts first. */
static int mf_entry_order(const void *pa, const void *pb) {
  const struct mf_entry *a = pa, *b = pb;
  if (a->apply != b->apply)
    return a->apply ? -1 : 1;
  int c;
  if (!a->time || !b->time)
    c = (a->time != NULL) - (b->time != NULL);
  else
    c = strcmp(a->time, b->time);
  if (c)
    return c;
  if ((c = strcmp(a->manager, b->manager)))
    return c;
  if ((c = strcmp(a->api_version, b->api_version)))
    return c;
  return strcmp(a->subresource ? a->subresource : "", b->subresource ? b->subresource : "");
}

static json_t *mf_encode(struct mf_list *l) {
  qsort(l->v, l->n, sizeof(*l->v), mf_entry_order);
  json_t *arr = json_array();
  for (size_t i = 0; i < l->n; i++) {
    const struct mf_entry *e = &l->v[i];
    json_t *o = json_object();
    if (*e->manager)
      json_object_set_new(o, "manager", json_string(e->manager));
    json_object_set_new(o, "operation", json_string(e->apply ? "Apply" : "Update"));
    json_object_set_new(o, "apiVersion", json_string(e->api_version));
    if (e->time)
      json_object_set_new(o, "time", json_string(e->time));
    json_object_set_new(o, "fieldsType", json_string("FieldsV1"));
    json_object_set_new(o, "fieldsV1", fieldpath_set_to_json(e->set));
    if (e->subresource)
      json_object_set_new(o, "subresource", json_string(e->subresource));
    json_array_append_new(arr, o);
  }
  return arr;
}

static void mf_drop_empty(struct mf_list *l) {
  for (size_t i = l->n; i-- > 0;)
    if (fieldpath_set_empty(l->v[i].set))
      mf_list_remove(l, i);
}

/* kube keeps at most APPLY_MAX_UPDATE_MANAGERS update entries: the oldest are folded,
 * per apiVersion, into an "ancient-changes" entry carrying the newest folded time. */
static void mf_cap_updaters(struct mf_list *l) {
  size_t n_upd = 0;
  for (size_t i = 0; i < l->n; i++)
    n_upd += !l->v[i].apply;
  if (n_upd <= APPLY_MAX_UPDATE_MANAGERS)
    return;
  qsort(l->v, l->n, sizeof(*l->v), mf_entry_order); /* updaters end up oldest first */
  size_t first_upd = 0;
  while (first_upd < l->n && l->v[first_upd].apply)
    first_upd++;
  _cleanup_free_ char **seen_versions = xcalloc(n_upd, sizeof(char *));
  _cleanup_free_ size_t *first_idx = xcalloc(n_upd, sizeof(size_t));
  size_t n_seen = 0;
  for (size_t i = first_upd; i < l->n && n_upd > APPLY_MAX_UPDATE_MANAGERS;) {
    struct mf_entry *e = &l->v[i];
    size_t k = 0;
    while (k < n_seen && !streq(seen_versions[k], e->api_version))
      k++;
    if (k == n_seen) {
      seen_versions[n_seen] = e->api_version;
      first_idx[n_seen++] = i;
      i++;
      continue;
    }
    struct mf_entry *bucket = &l->v[first_idx[k]];
    if (!streq(bucket->manager, "ancient-changes") || bucket->subresource) {
      free(bucket->manager);
      bucket->manager = xstrdup("ancient-changes");
      free(bucket->subresource);
      bucket->subresource = NULL;
    }
    struct fieldpath_set *u = fieldpath_set_union(e->set, bucket->set);
    fieldpath_set_free(bucket->set);
    bucket->set = u;
    free(bucket->time);
    bucket->time = e->time ? xstrdup(e->time) : NULL;
    mf_list_remove(l, i);
    n_upd--;
  }
}

/* ---- path stack for the walkers ---- */

struct stack {
  struct fieldpath_pe *pes;
  size_t n, cap;
};

static void stack_push(struct stack *s, const struct fieldpath_pe *pe) {
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 8;
    s->pes = xrealloc(s->pes, s->cap * sizeof(*s->pes));
  }
  s->pes[s->n++] = *pe;
}

static bool is_empty_container(const json_t *v) {
  return !v || json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0) ||
         (json_is_object(v) && json_object_size(v) == 0);
}

static bool values_equal(const json_t *a, const json_t *b) {
  return fieldpath_value_compare(a, b) == 0;
}

/* Whether a value of type t is merged as one piece ("leaf"), given both sides. */
static bool is_leaf(const struct fieldpath_type *t, const json_t *l, const json_t *r) {
  switch (t->kind) {
  case FIELDPATH_T_SCALAR:
    return true;
  case FIELDPATH_T_LIST:
    if (t->atomic || !fieldpath_type_associative(t))
      return true;
    if ((l && !json_is_array(l) && !json_is_null(l)) ||
        (r && !json_is_array(r) && !json_is_null(r)))
      return true;
    /* Both empty: a leaf, which keeps the empty/null distinction. */
    return is_empty_container(l) && is_empty_container(r);
  case FIELDPATH_T_DEDUCED:
    if ((l && !json_is_object(l)) || (r && !json_is_object(r)))
      return true;
    return is_empty_container(l) && is_empty_container(r);
  case FIELDPATH_T_MAP:
  case FIELDPATH_T_STRUCT:
    if (t->atomic)
      return true;
    if ((l && !json_is_object(l) && !json_is_null(l)) ||
        (r && !json_is_object(r) && !json_is_null(r)))
      return true;
    return is_empty_container(l) && is_empty_container(r);
  }
  return true;
}

/* kube's objects come from Go structs: a struct-valued field is always present (as
 * {}) and a required list or map without omitempty is present as null. Comparing our
 * JSON the same way keeps ownership records identical to kube's ("f:spec" is never
 * "added"). Only applies where the parent object exists on that side. */
static const json_t *zero_value(const struct fieldpath_type *ct) {
  static json_t *empty_obj, *null_v;
  if (!empty_obj) {
    /* jansson's singletons and a never-freed empty object; created once, never mutated */
    json_t *o = json_object();
    if (!__sync_bool_compare_and_swap(&empty_obj, NULL, o))
      json_decref(o);
    null_v = json_null();
  }
  if (ct->kind == FIELDPATH_T_STRUCT && !ct->atomic)
    return empty_obj;
  if ((ct->kind == FIELDPATH_T_LIST || ct->kind == FIELDPATH_T_MAP) && ct->required)
    return null_v;
  return NULL;
}

/* ---- item indexing for granular lists ---- */

struct items {
  struct fieldpath_pe *pes;
  const json_t **vals;
  size_t n;
};

static void items_clear(struct items *it) {
  for (size_t i = 0; i < it->n; i++)
    fieldpath_pe_clear(&it->pes[i]);
  free(it->pes);
  free(it->vals);
  *it = (struct items){0};
}

static int items_index(const struct fieldpath_type *t, const json_t *list, struct items *ret,
                       char **ret_err) {
  size_t n = json_array_size(list);
  struct items it = {.pes = xcalloc(n + 1, sizeof(*it.pes)),
                     .vals = xcalloc(n + 1, sizeof(*it.vals))};
  for (size_t i = 0; i < n; i++) {
    _cleanup_free_ char *msg = NULL;
    if (fieldpath_item_pe(t, json_array_get(list, i), &it.pes[i], &msg) < 0) {
      if (ret_err)
        *ret_err = xasprintf("element %zu: %s", i, msg);
      items_clear(&it);
      return -EINVAL;
    }
    it.vals[i] = json_array_get(list, i);
    it.n++;
  }
  *ret = it;
  return 0;
}

static ssize_t items_find(const struct items *it, const struct fieldpath_pe *pe) {
  for (size_t i = 0; i < it->n; i++)
    if (fieldpath_pe_compare(&it->pes[i], pe) == 0)
      return (ssize_t)i;
  return -1;
}

/* ---- comparison: what a write added, modified and removed ---- */

struct cmp {
  struct stack path;
  struct fieldpath_set *added, *modified, *removed;
};

static void cmp_value(struct cmp *c, const struct fieldpath_type *t, const json_t *l,
                      const json_t *r);

static void cmp_mark(struct cmp *c, struct fieldpath_set *s) {
  fieldpath_set_insert(s, c->path.pes, c->path.n);
}

static void cmp_map(struct cmp *c, const struct fieldpath_type *t, const json_t *l,
                    const json_t *r) {
  const char *key;
  json_t *v;
  for (int side = 0; side < 2; side++) {
    const json_t *obj = side ? r : l;
    if (!json_is_object(obj))
      continue;
    json_object_foreach((json_t *)obj, key, v) {
      if (side && json_is_object(l) && json_object_get(l, key))
        continue;
      struct fieldpath_type ct;
      fieldpath_type_child(t, key, &ct);
      const json_t *lv = json_is_object(l) ? json_object_get(l, key) : NULL;
      const json_t *rv = json_is_object(r) ? json_object_get(r, key) : NULL;
      if (!lv && json_is_object(l))
        lv = zero_value(&ct);
      if (!rv && json_is_object(r))
        rv = zero_value(&ct);
      struct fieldpath_pe pe = fieldpath_pe_field(key);
      stack_push(&c->path, &pe);
      cmp_value(c, &ct, lv, rv);
      c->path.n--;
    }
  }
}

static void cmp_list(struct cmp *c, const struct fieldpath_type *t, const json_t *l,
                     const json_t *r) {
  struct fieldpath_type et;
  fieldpath_type_elem(t, &et);
  struct items li = {0}, ri = {0};
  if (items_index(t, l, &li, NULL) < 0 || items_index(t, r, &ri, NULL) < 0) {
    /* Lists that cannot be typed are compared whole. */
    items_clear(&li);
    if (!values_equal(l ? l : json_null(), r ? r : json_null()))
      cmp_mark(c, c->modified);
    return;
  }
  for (size_t i = 0; i < li.n; i++) {
    if (items_find(&li, &li.pes[i]) != (ssize_t)i)
      continue; /* duplicates in a live object: the first one counts */
    ssize_t j = items_find(&ri, &li.pes[i]);
    stack_push(&c->path, &li.pes[i]);
    cmp_value(c, &et, li.vals[i], j >= 0 ? ri.vals[j] : NULL);
    c->path.n--;
  }
  for (size_t j = 0; j < ri.n; j++) {
    if (items_find(&li, &ri.pes[j]) >= 0 || items_find(&ri, &ri.pes[j]) != (ssize_t)j)
      continue;
    stack_push(&c->path, &ri.pes[j]);
    cmp_value(c, &et, NULL, ri.vals[j]);
    c->path.n--;
  }
  items_clear(&li);
  items_clear(&ri);
}

static void cmp_value(struct cmp *c, const struct fieldpath_type *t, const json_t *l,
                      const json_t *r) {
  if (is_leaf(t, l, r)) {
    if (!l)
      cmp_mark(c, c->added);
    else if (!r)
      cmp_mark(c, c->removed);
    else if (!values_equal(l, r))
      cmp_mark(c, c->modified);
    return;
  }
  if (t->kind == FIELDPATH_T_LIST)
    cmp_list(c, t, json_is_array(l) ? l : NULL, json_is_array(r) ? r : NULL);
  else
    cmp_map(c, t, l, r);
  if (!l)
    cmp_mark(c, c->added);
  else if (!r)
    cmp_mark(c, c->removed);
}

struct comparison {
  struct fieldpath_set *added, *modified, *removed;
};

static void comparison_clear(struct comparison *c) {
  fieldpath_set_free(c->added);
  fieldpath_set_free(c->modified);
  fieldpath_set_free(c->removed);
}

static void compare_objects(const struct fieldpath_type *t, const json_t *l, const json_t *r,
                            const struct fieldpath_set *ignored, struct comparison *ret) {
  struct cmp c = {.added = fieldpath_set_new(),
                  .modified = fieldpath_set_new(),
                  .removed = fieldpath_set_new()};
  cmp_value(&c, t, l, r);
  free(c.path.pes);
  ret->added = c.added;
  ret->modified = c.modified;
  ret->removed = c.removed;
  if (ignored) {
    struct fieldpath_set **sets[] = {&ret->added, &ret->modified, &ret->removed};
    for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
      struct fieldpath_set *f = fieldpath_set_recursive_difference(*sets[i], ignored);
      fieldpath_set_free(*sets[i]);
      *sets[i] = f;
    }
  }
}

/* ---- merging an applied configuration into the live object ---- */

static json_t *copy(const json_t *v) {
  json_t *c = json_deep_copy(v);
  if (!c)
    abort();
  return c;
}

static json_t *merge_value(const struct fieldpath_type *t, const json_t *l, const json_t *r,
                           struct stack *path, char **err);

static json_t *merge_map(const struct fieldpath_type *t, const json_t *l, const json_t *r,
                         struct stack *path, char **err) {
  json_t *out = json_object();
  const char *key;
  json_t *v;
  if (json_is_object(l)) {
    json_object_foreach((json_t *)l, key, v) {
      struct fieldpath_type ct;
      fieldpath_type_child(t, key, &ct);
      struct fieldpath_pe pe = fieldpath_pe_field(key);
      stack_push(path, &pe);
      json_t *m = merge_value(&ct, v, json_object_get(r, key), path, err);
      path->n--;
      if (!m) {
        json_decref(out);
        return NULL;
      }
      json_object_set_new(out, key, m);
    }
  }
  json_object_foreach((json_t *)r, key, v) {
    if (json_object_get(out, key))
      continue;
    json_object_set_new(out, key, copy(v));
  }
  return out;
}

static json_t *merge_list(const struct fieldpath_type *t, const json_t *l, const json_t *r,
                          struct stack *path, char **err) {
  struct fieldpath_type et;
  fieldpath_type_elem(t, &et);
  struct items li = {0}, ri = {0};
  char *msg = NULL;
  if (items_index(t, r, &ri, &msg) < 0 || items_index(t, l, &li, &msg) < 0) {
    _cleanup_free_ char *p = fieldpath_path_string(path->pes, path->n);
    *err = xasprintf("%s: %s", p, msg);
    free(msg);
    items_clear(&ri);
    return NULL;
  }
  json_t *out = json_array();
  /* Items both sides hold keep the applied order; live-only items stay where they were
   * relative to them (kube's merge order). */
  _cleanup_free_ size_t *shared = xcalloc(ri.n + 1, sizeof(size_t));
  size_t n_shared = 0, next = 0;
  for (size_t i = 0; i < ri.n; i++)
    if (items_find(&li, &ri.pes[i]) >= 0)
      shared[n_shared++] = i;
  _cleanup_free_ bool *merged_r = xcalloc(ri.n + 1, sizeof(bool));
  size_t lI = 0, rI = 0;
#define NEXT_SHARED (next < n_shared ? &ri.pes[shared[next]] : NULL)
  while (lI < li.n || rI < ri.n) {
    json_t *m = NULL;
    bool took = false;
    if (lI < li.n && rI < ri.n) {
      if (fieldpath_pe_compare(&li.pes[lI], &ri.pes[rI]) == 0) {
        merged_r[rI] = true;
        ssize_t lfirst = items_find(&li, &li.pes[lI]);
        stack_push(path, &ri.pes[rI]);
        m = merge_value(&et, li.vals[lfirst], ri.vals[rI], path, err);
        path->n--;
        lI++, rI++, next++;
        took = true;
      } else {
        ssize_t in_r = items_find(&ri, &li.pes[lI]);
        const struct fieldpath_pe *ns = NEXT_SHARED;
        if (in_r >= 0 && ns && fieldpath_pe_compare(ns, &li.pes[lI]) != 0) {
          lI++;
          continue;
        }
      }
    }
    if (!took && lI < li.n) {
      ssize_t in_r = items_find(&ri, &li.pes[lI]);
      if (in_r < 0) {
        m = copy(li.vals[lI]);
        lI++;
        took = true;
      } else if (merged_r[in_r]) {
        lI++;
        continue;
      }
    }
    if (!took && rI < ri.n) {
      merged_r[rI] = true;
      ssize_t lfirst = items_find(&li, &ri.pes[rI]);
      stack_push(path, &ri.pes[rI]);
      m = merge_value(&et, lfirst >= 0 ? li.vals[lfirst] : NULL, ri.vals[rI], path, err);
      path->n--;
      const struct fieldpath_pe *ns = NEXT_SHARED;
      if (ns && fieldpath_pe_compare(ns, &ri.pes[rI]) == 0)
        next++;
      rI++;
      took = true;
    }
    if (!took) {
      lI++; /* cannot happen with distinct applied keys; never loop forever */
      continue;
    }
    if (!m) {
      json_decref(out);
      out = NULL;
      break;
    }
    json_array_append_new(out, m);
  }
#undef NEXT_SHARED
  items_clear(&li);
  items_clear(&ri);
  return out;
}

/* Returns a new value, or NULL with *err set. */
static json_t *merge_value(const struct fieldpath_type *t, const json_t *l, const json_t *r,
                           struct stack *path, char **err) {
  if (!r)
    return copy(l);
  if (!l || is_leaf(t, l, r))
    return copy(r);
  if (t->kind == FIELDPATH_T_LIST)
    return merge_list(t, json_is_array(l) ? l : NULL, json_is_array(r) ? r : NULL, path, err);
  return merge_map(t, l, r, path, err);
}

/* ---- removing items ---- */

/* A copy of v without the members of set (and what lies beneath them). NULL when
 * nothing is left: the caller drops the field or item. */
static json_t *remove_items(const struct fieldpath_type *t, const json_t *v,
                            const struct fieldpath_set *set) {
  if (!v)
    return NULL;
  if (fieldpath_set_empty(set))
    return copy(v);
  switch (t->kind) {
  case FIELDPATH_T_SCALAR:
    return copy(v);
  case FIELDPATH_T_LIST: {
    if (!json_is_array(v) || json_array_size(v) == 0)
      return copy(v);
    if (t->atomic || !fieldpath_type_associative(t))
      return NULL;
    struct fieldpath_type et;
    fieldpath_type_elem(t, &et);
    json_t *out = json_array();
    for (size_t i = 0; i < json_array_size(v); i++) {
      const json_t *item = json_array_get(v, i);
      struct fieldpath_pe pe;
      if (fieldpath_item_pe(t, item, &pe, NULL) < 0) {
        json_array_append_new(out, copy(item));
        continue;
      }
      if (!fieldpath_set_has_member(set, &pe)) {
        const struct fieldpath_set *sub = fieldpath_set_child(set, &pe);
        json_t *x = sub ? remove_items(&et, item, sub) : copy(item);
        if (x)
          json_array_append_new(out, x);
      }
      fieldpath_pe_clear(&pe);
    }
    if (json_array_size(out) == 0) {
      json_decref(out);
      return NULL;
    }
    return out;
  }
  case FIELDPATH_T_MAP:
  case FIELDPATH_T_STRUCT:
  case FIELDPATH_T_DEDUCED: {
    if (!json_is_object(v) || json_object_size(v) == 0)
      return copy(v);
    if (t->atomic)
      return NULL;
    json_t *out = json_object();
    const char *key;
    json_t *x;
    json_object_foreach((json_t *)v, key, x) {
      struct fieldpath_pe pe = fieldpath_pe_field(key);
      if (fieldpath_set_has_member(set, &pe))
        continue;
      struct fieldpath_type ct;
      fieldpath_type_child(t, key, &ct);
      const struct fieldpath_set *sub = fieldpath_set_child(set, &pe);
      json_t *y = sub ? remove_items(&ct, x, sub) : copy(x);
      if (y)
        json_object_set_new(out, key, y);
    }
    if (json_object_size(out) == 0) {
      json_decref(out);
      return NULL;
    }
    return out;
  }
  }
  return copy(v);
}

static json_t *remove_root(const struct fieldpath_type *t, const json_t *v,
                           const struct fieldpath_set *set) {
  json_t *out = remove_items(t, v, set);
  return out ? out : json_object();
}

/* ---- shared steps ---- */

static json_t *strip_managed_fields(const json_t *obj) {
  json_t *c = obj ? copy(obj) : json_object();
  json_t *md = json_object_get(c, "metadata");
  if (json_is_object(md))
    json_object_del(md, "managedFields");
  return c;
}

/* Fields kube never records as owned: identity and server-maintained metadata. */
static struct fieldpath_set *strip_set(void) {
  static const char *const meta[] = {"name",       "namespace",     "creationTimestamp",
                                     "selfLink",   "uid",           "clusterName",
                                     "generation", "managedFields", "resourceVersion"};
  struct fieldpath_set *s = fieldpath_set_new();
  struct fieldpath_pe p[2] = {fieldpath_pe_field("apiVersion")};
  fieldpath_set_insert(s, p, 1);
  p[0] = fieldpath_pe_field("kind");
  fieldpath_set_insert(s, p, 1);
  p[0] = fieldpath_pe_field("metadata");
  fieldpath_set_insert(s, p, 1);
  for (size_t i = 0; i < ARRAY_SIZE(meta); i++) {
    p[1] = fieldpath_pe_field(meta[i]);
    fieldpath_set_insert(s, p, 2);
  }
  return s;
}

static void strip_meta(struct fieldpath_set **set) {
  _cleanup_fieldpath_set_ struct fieldpath_set *strip = strip_set();
  struct fieldpath_set *d = fieldpath_set_difference(*set, strip);
  fieldpath_set_free(*set);
  *set = d;
}

static void set_replace(struct fieldpath_set **dst, struct fieldpath_set *src) {
  fieldpath_set_free(*dst);
  *dst = src;
}

struct conflict_ctx {
  json_t *causes;
  const char *who;
  char **lines;
  size_t n_lines;
};

static void collect_conflict(const struct fieldpath_pe *pes, size_t n, void *userdata) {
  struct conflict_ctx *c = userdata;
  _cleanup_free_ char *p = fieldpath_path_string(pes, n);
  _cleanup_free_ char *msg = xasprintf("conflict with %s", c->who);
  json_array_append_new(c->causes, json_pack("{s:s,s:s,s:s}", "type", "FieldManagerConflict",
                                             "message", msg, "field", p));
  c->lines = xrealloc(c->lines, (c->n_lines + 1) * sizeof(char *));
  c->lines[c->n_lines++] = xstrdup(p);
}

/* kube's printManager: `"name"`, `"name" with subresource "status"`, then ` using v1`
 * for updaters. */
static char *manager_label(const struct mf_entry *e) {
  _cleanup_free_ char *base =
      e->subresource ? xasprintf("\"%s\" with subresource \"%s\"", e->manager, e->subresource)
                     : xasprintf("\"%s\"", e->manager);
  if (e->apply)
    return TAKE_PTR(base);
  return xasprintf("%s using %s", base, e->api_version);
}

/* kube orders conflicting managers by their identifier, a JSON text starting with the
 * manager name. */
static int conflict_order(const void *pa, const void *pb) {
  const struct mf_entry *a = *(const struct mf_entry *const *)pa;
  const struct mf_entry *b = *(const struct mf_entry *const *)pb;
  int c = strcmp(a->manager, b->manager);
  if (c)
    return c;
  if (a->apply != b->apply)
    return a->apply ? -1 : 1;
  return strcmp(a->api_version, b->api_version);
}

static int conflict_error(struct mf_list *l, struct fieldpath_set **conflicts,
                          struct api_error *err) {
  _cleanup_free_ const struct mf_entry **order = xcalloc(l->n + 1, sizeof(*order));
  _cleanup_free_ struct fieldpath_set **sets = xcalloc(l->n + 1, sizeof(*sets));
  size_t n = 0;
  for (size_t i = 0; i < l->n; i++)
    if (conflicts[i])
      order[n++] = &l->v[i];
  qsort(order, n, sizeof(*order), conflict_order);
  json_t *causes = json_array();
  size_t total = 0;
  char *text = NULL;
  size_t text_len = 0;
  FILE *f = open_memstream(&text, &text_len);
  if (!f)
    abort();
  const char *single = NULL;
  _cleanup_free_ char *single_who = NULL;
  for (size_t k = 0; k < n; k++) {
    size_t i = (size_t)(order[k] - l->v);
    _cleanup_free_ char *who = manager_label(&l->v[i]);
    struct conflict_ctx c = {.causes = causes, .who = who};
    fieldpath_set_iterate(conflicts[i], collect_conflict, &c);
    if (c.n_lines) {
      fprintf(f, "%sconflicts with %s:", total ? "\n" : "", who);
      for (size_t j = 0; j < c.n_lines; j++)
        fprintf(f, "\n- %s", c.lines[j]);
      if (total == 0 && c.n_lines == 1) {
        single = c.lines[0];
        c.lines[0] = NULL;
        single_who = xstrdup(who);
      }
    }
    total += c.n_lines;
    for (size_t j = 0; j < c.n_lines; j++)
      free(c.lines[j]);
    free(c.lines);
  }
  fclose(f);
  int r;
  if (total == 1)
    r = api_error_set(err, -ESTALE, 409, "Conflict",
                      "Apply failed with 1 conflict: conflict with %s: %s", single_who, single);
  else
    r = api_error_set(err, -ESTALE, 409, "Conflict", "Apply failed with %zu conflicts: %s", total,
                      text);
  free((char *)single);
  free(text);
  err->details = json_pack("{s:o}", "causes", causes);
  return r;
}

/* kube's Updater.update: other managers lose what this write changed (a conflict when
 * they did not agree and force is off) and what it removed. skip is the writer. */
static int update_owners(struct mf_list *l, ssize_t skip, const struct comparison *cmp, bool force,
                         struct api_error *err) {
  _cleanup_fieldpath_set_ struct fieldpath_set *changed =
      fieldpath_set_union(cmp->modified, cmp->added);
  _cleanup_free_ struct fieldpath_set **conflicts = xcalloc(l->n + 1, sizeof(*conflicts));
  bool any = false;
  for (size_t i = 0; i < l->n; i++) {
    if ((ssize_t)i == skip)
      continue;
    struct fieldpath_set *c = fieldpath_set_intersection(l->v[i].set, changed);
    if (fieldpath_set_empty(c)) {
      fieldpath_set_free(c);
      continue;
    }
    conflicts[i] = c;
    any = true;
  }
  int r = 0;
  if (any && !force) {
    r = conflict_error(l, conflicts, err);
  } else {
    for (size_t i = 0; i < l->n; i++) {
      if ((ssize_t)i == skip)
        continue;
      if (conflicts[i])
        set_replace(&l->v[i].set, fieldpath_set_difference(l->v[i].set, conflicts[i]));
      set_replace(&l->v[i].set, fieldpath_set_difference(l->v[i].set, cmp->removed));
    }
  }
  for (size_t i = 0; i < l->n; i++)
    fieldpath_set_free(conflicts[i]);
  return r;
}

static json_t *with_managed_fields(json_t *obj, struct mf_list *l) {
  json_t *md = json_object_get(obj, "metadata");
  if (!json_is_object(md)) {
    if (l->n == 0)
      return obj;
    md = json_object();
    json_object_set_new(obj, "metadata", md);
  }
  if (l->n == 0)
    json_object_del(md, "managedFields");
  else
    json_object_set_new(md, "managedFields", mf_encode(l));
  return obj;
}

static int check_request(const struct apply_request *req, struct api_error *err) {
  if (!req->manager || !*req->manager)
    return api_error_set(err, -EINVAL, 400, "BadRequest",
                         "PATCH, PUT or POST requests must include a fieldManager");
  return 0;
}

/* PatchOptions validation: kube requires fieldManager on apply and answers 422. */
static int check_apply_request(const struct apply_request *req, struct api_error *err) {
  if (req->manager && *req->manager)
    return 0;
  int r = api_error_set(err, -EINVAL, 422, "Invalid",
                        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: "
                        "is required for apply patch");
  err->details =
      json_pack("{s:s,s:s,s:s,s:[{s:s,s:s,s:s}]}", "name", "", "group", "meta.k8s.io", "kind",
                "PatchOptions", "causes", "reason", "FieldValueRequired", "message",
                "Required value: is required for apply patch", "field", "fieldManager");
  return r;
}

/* ---- apply ---- */

/* kube's Updater.prune: drop what this applier applied last time but not now, unless
 * another manager (or the new config) owns it. */
static json_t *prune(const struct fieldpath_type *t, json_t *merged, const struct mf_list *l,
                     const struct fieldpath_set *last) {
  if (fieldpath_set_empty(last))
    return merged;
  _cleanup_fieldpath_set_ struct fieldpath_set *last_n = fieldpath_set_named_members(last, t);
  _cleanup_fieldpath_set_ struct fieldpath_set *managed = fieldpath_set_new();
  for (size_t i = 0; i < l->n; i++)
    set_replace(&managed, fieldpath_set_union(managed, l->v[i].set));
  _cleanup_fieldpath_set_ struct fieldpath_set *managed_n = fieldpath_set_named_members(managed, t);

  _cleanup_json_ json_t *pruned1 = remove_root(t, merged, last_n);
  _cleanup_fieldpath_set_ struct fieldpath_set *ms = NULL, *ps = NULL, *ps2 = NULL;
  if (fieldpath_from_object(t, merged, true, &ms, NULL) < 0 ||
      fieldpath_from_object(t, pruned1, true, &ps, NULL) < 0)
    return merged;
  set_replace(&ms, fieldpath_set_named_members(ms, t));
  set_replace(&ps, fieldpath_set_named_members(ps, t));
  _cleanup_fieldpath_set_ struct fieldpath_set *keep = fieldpath_set_union(ps, managed_n);
  _cleanup_fieldpath_set_ struct fieldpath_set *drop = fieldpath_set_difference(ms, keep);
  _cleanup_json_ json_t *pruned2 = remove_root(t, merged, drop);
  if (fieldpath_from_object(t, pruned2, true, &ps2, NULL) < 0)
    return merged;
  set_replace(&ps2, fieldpath_set_named_members(ps2, t));
  _cleanup_fieldpath_set_ struct fieldpath_set *gone = fieldpath_set_difference(ms, ps2);
  _cleanup_fieldpath_set_ struct fieldpath_set *final_drop =
      fieldpath_set_intersection(gone, last_n);
  json_t *out = remove_root(t, merged, final_drop);
  json_decref(merged);
  return out;
}

int apply_patch(const struct apply_request *req, const json_t *live, const json_t *applied,
                json_t **ret, struct api_error *err) {
  int r = check_apply_request(req, err);
  if (r < 0)
    return r;
  if (!json_is_object(applied))
    return api_error_set(err, -EINVAL, 400, "BadRequest",
                         "the applied configuration must be an object");
  const json_t *amf = object_managed_fields(applied);
  if (amf && !json_is_null(amf))
    return api_error_set(err, -EINVAL, 400, "BadRequest", "metadata.managedFields must be nil");

  struct fieldpath_type t;
  fieldpath_type_of_struct(req->type, &t);

  _cleanup_mf_list_ struct mf_list l = {0};
  _cleanup_free_ char *derr = NULL;
  if (live && mf_decode(object_managed_fields(live), &l, &derr) < 0)
    return api_error_set(err, -EINVAL, 500, "InternalError",
                         "Internal error occurred: failed to decode managed fields: %s", derr);

  _cleanup_fieldpath_set_ struct fieldpath_set *set = NULL;
  _cleanup_free_ char *terr = NULL;
  if (fieldpath_from_object(&t, applied, false, &set, &terr) < 0)
    return api_error_set(err, -EINVAL, 500, "InternalError",
                         "Internal error occurred: failed to create typed patch object: %s", terr);

  _cleanup_json_ json_t *live_s = strip_managed_fields(live);
  struct stack path = {0};
  _cleanup_free_ char *merr = NULL;
  json_t *merged = merge_value(&t, live_s, applied, &path, &merr);
  free(path.pes);
  if (!merged)
    return api_error_set(err, -EINVAL, 500, "InternalError",
                         "Internal error occurred: failed to create typed live object: %s", merr);
  if (req->ignored) {
    set_replace(&set, fieldpath_set_recursive_difference(set, req->ignored));
    json_t *m2 = remove_root(&t, merged, req->ignored);
    json_decref(merged);
    merged = m2;
  }

  ssize_t prev = mf_find(&l, req->manager, true, req->api_version, req->subresource);
  _cleanup_fieldpath_set_ struct fieldpath_set *last =
      prev >= 0 ? fieldpath_set_copy(l.v[prev].set) : NULL;
  size_t self = mf_put(&l, req->manager, true, req->api_version, req->subresource, TAKE_PTR(set));
  _cleanup_json_ json_t *result = prune(&t, merged, &l, last);

  struct comparison cmp;
  compare_objects(&t, live_s, result, req->ignored, &cmp);
  r = update_owners(&l, (ssize_t)self, &cmp, req->force, err);
  comparison_clear(&cmp);
  if (r < 0)
    return r;
  strip_meta(&l.v[self].set);

  bool changed = !values_equal(live_s, result);
  if (changed) {
    free(l.v[self].time);
    l.v[self].time = req->now ? xstrdup(req->now) : NULL;
  }
  mf_drop_empty(&l);
  mf_cap_updaters(&l);
  json_t *out = copy(changed ? result : live_s);
  *ret = with_managed_fields(out, &l);
  return 0;
}

/* ---- non-apply writes ---- */

static bool is_reset(const json_t *mf) {
  if (!json_is_array(mf))
    return false;
  if (json_array_size(mf) == 0)
    return true;
  return json_array_size(mf) == 1 && json_is_object(json_array_get(mf, 0)) &&
         json_object_size(json_array_get(mf, 0)) == 0;
}

int managed_fields_update(const struct apply_request *req, const json_t *old, const json_t *new_obj,
                          json_t **ret, struct api_error *err) {
  int r = check_request(req, err);
  if (r < 0)
    return r;
  if (!json_is_object(new_obj))
    return api_error_set(err, -EINVAL, 400, "BadRequest", "the object must be an object");

  _cleanup_mf_list_ struct mf_list l = {0};
  _cleanup_free_ char *derr = NULL;
  const json_t *incoming = object_managed_fields(new_obj);
  bool sub = req->subresource && *req->subresource;
  if (!sub && is_reset(incoming)) {
    /* ownership starts from nothing */
  } else if (sub || mf_decode(incoming, &l, &derr) < 0 || l.n == 0) {
    mf_list_clear(&l);
    free(TAKE_PTR(derr));
    if (old && mf_decode(object_managed_fields(old), &l, &derr) < 0)
      mf_list_clear(&l);
  }

  struct fieldpath_type t;
  fieldpath_type_of_struct(req->type, &t);
  _cleanup_json_ json_t *old_s = strip_managed_fields(old);
  json_t *out = strip_managed_fields(new_obj);

  struct comparison cmp;
  compare_objects(&t, old_s, out, req->ignored, &cmp);
  r = update_owners(&l, -1, &cmp, true, err);
  if (r < 0) {
    comparison_clear(&cmp);
    json_decref(out);
    return r;
  }
  struct fieldpath_set *mine = fieldpath_set_union(cmp.modified, cmp.added);
  comparison_clear(&cmp);
  if (req->ignored)
    set_replace(&mine, fieldpath_set_recursive_difference(mine, req->ignored));
  strip_meta(&mine);
  mf_drop_empty(&l);
  if (fieldpath_set_empty(mine)) {
    fieldpath_set_free(mine);
  } else {
    ssize_t i = mf_find(&l, req->manager, false, req->api_version, req->subresource);
    if (i >= 0) {
      set_replace(&l.v[i].set, fieldpath_set_union(mine, l.v[i].set));
      fieldpath_set_free(mine);
    } else {
      i = (ssize_t)mf_put(&l, req->manager, false, req->api_version, req->subresource, mine);
    }
    free(l.v[i].time);
    l.v[i].time = req->now ? xstrdup(req->now) : NULL;
  }
  mf_cap_updaters(&l);
  *ret = with_managed_fields(out, &l);
  return 0;
}
