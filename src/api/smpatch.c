/* smpatch.c — strategic merge patch, applied as kube-apiserver applies it
 * (k8s.io/apimachinery strategicpatch with MergeParallelList and IgnoreUnmatchedNulls), with
 * the patch strategies and merge keys read from the ckube schema instead of Go struct tags.
 *
 * Where Kubernetes decodes the merged map into a typed object, and so silently drops what the
 * type has no field for (directive keys left in new values, null members), ckube cleans new
 * values explicitly (clean_value()), so the stored object looks the same. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "api/patch.h"
#include "lib/json.h"
#include "lib/macro.h"

#define DIRECTIVE_MARKER "$patch"
#define RETAIN_KEYS_DIRECTIVE "$retainKeys"
#define DELETE_FROM_PRIMITIVE_LIST_PREFIX "$deleteFromPrimitiveList"
#define SET_ELEMENT_ORDER_PREFIX "$setElementOrder"

struct smp {
  struct api_error *err;
};

/* ---- errors, worded as the Go code words them ---- */

static int fail_bad_request(struct smp *s, const char *message) {
  if (s->err)
    api_error_bad_request(s->err, "%s", message);
  return -EINVAL;
}

/* ErrNoListOfLists and ErrPatchContentNotMatchRetainKeys: the apiserver turns them into a
 * generic 422 without their text. */
static int fail_unprocessable(struct smp *s) {
  if (s->err) {
    api_error_set(s->err, -EINVAL, 422, "Invalid",
                  "the server rejected our request due to an error in our request");
    s->err->details = json_object();
  }
  return -EINVAL;
}

/* Every other error reaches the client as a plain Go error: 500, no reason, its own text. */
static int fail_internal(struct smp *s, char *message) {
  if (s->err)
    api_error_set(s->err, -EINVAL, 500, "", "%s", message);
  free(message);
  return -EINVAL;
}

static void go_print(FILE *f, const json_t *v);

static int compare_strings(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* float64 as fmt's %v prints it: the shortest digits that read back exactly, %e form when the
 * exponent is below -4 or at least 6. */
static void go_print_float(FILE *f, double d) {
  char buf[64];
  int prec;
  for (prec = 1; prec < 17; prec++) {
    snprintf(buf, sizeof(buf), "%.*e", prec - 1, d);
    if (strtod(buf, NULL) == d)
      break;
  }
  snprintf(buf, sizeof(buf), "%.*e", prec - 1, d);
  int exp = atoi(strchr(buf, 'e') + 1);
  if (exp < -4 || exp >= 6)
    fputs(buf, f);
  else
    fprintf(f, "%.*f", prec - 1 - exp > 0 ? prec - 1 - exp : 0, d);
}

/* A decoded JSON value as fmt's %v prints it: map[k:v ...] with sorted keys, [a b], <nil>. */
static void go_print(FILE *f, const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_OBJECT: {
    size_t n = json_object_size(v), i = 0;
    const char **keys = xcalloc(n ? n : 1, sizeof(*keys));
    const char *k;
    json_t *child;
    json_object_foreach((json_t *)v, k, child) keys[i++] = k;
    qsort(keys, n, sizeof(*keys), compare_strings);
    fputs("map[", f);
    for (i = 0; i < n; i++) {
      fprintf(f, "%s%s:", i ? " " : "", keys[i]);
      go_print(f, json_object_get(v, keys[i]));
    }
    fputc(']', f);
    free(keys);
    return;
  }
  case JSON_ARRAY: {
    size_t i;
    json_t *child;
    fputc('[', f);
    json_array_foreach(v, i, child) {
      if (i)
        fputc(' ', f);
      go_print(f, child);
    }
    fputc(']', f);
    return;
  }
  case JSON_STRING:
    fwrite(json_string_value(v), 1, json_string_length(v), f);
    return;
  case JSON_INTEGER:
    fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    return;
  case JSON_REAL:
    go_print_float(f, json_real_value(v));
    return;
  case JSON_TRUE:
    fputs("true", f);
    return;
  case JSON_FALSE:
    fputs("false", f);
    return;
  case JSON_NULL:
    break;
  }
  fputs("<nil>", f);
}

/* printf with an extra conversion: every "%v" takes a `const json_t *` printed as Go would;
 * the others are %s (const char *), %d (int) and %zu (size_t). Malloc'd result. */
static char *go_format(const char *fmt, ...) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f)
    abort();
  va_list ap;
  va_start(ap, fmt);
  for (const char *p = fmt; *p; p++) {
    if (*p != '%') {
      fputc(*p, f);
      continue;
    }
    p++;
    if (*p == 'v')
      go_print(f, va_arg(ap, const json_t *));
    else if (*p == 's')
      fputs(va_arg(ap, const char *), f);
    else if (*p == 'd')
      fprintf(f, "%d", va_arg(ap, int));
    else if (p[0] == 'z' && p[1] == 'u')
      fprintf(f, "%zu", va_arg(ap, size_t)), p++;
    else
      fputc(*p, f);
  }
  va_end(ap);
  if (fclose(f) != 0)
    abort();
  return buf;
}

/* The Go type a decoded JSON value has, as reflect prints it. */
static const char *go_type_name(const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_OBJECT:
    return "map[string]interface {}";
  case JSON_ARRAY:
    return "[]interface {}";
  case JSON_STRING:
    return "string";
  case JSON_INTEGER:
    return "int64";
  case JSON_REAL:
    return "float64";
  case JSON_TRUE:
  case JSON_FALSE:
    return "bool";
  case JSON_NULL:
    break;
  }
  return "%!s(<nil>)";
}

/* Go's dynamic types of decoded JSON: true and false share one, null has none. */
static int go_type(const json_t *v) {
  if (!v)
    return JSON_NULL;
  if (json_is_boolean(v))
    return JSON_TRUE;
  return (int)json_typeof(v);
}

/* Go's interface equality of decoded values, where a missing value and null are both nil. */
static bool go_equal(const json_t *a, const json_t *b) {
  bool a_nil = !a || json_is_null(a), b_nil = !b || json_is_null(b);
  if (a_nil || b_nil)
    return a_nil && b_nil;
  return json_equal(a, b);
}

static int fail_bad_arg_type(struct smp *s, const char *expected, const json_t *actual) {
  return fail_internal(
      s, go_format("expected a %s, but received a %s", expected, go_type_name(actual)));
}

static int fail_no_merge_key(struct smp *s, const json_t *item, const char *merge_key) {
  return fail_internal(
      s, go_format("map: %v does not contain declared merge key: %s", item, merge_key));
}

static int fail_bad_patch_type(struct smp *s, const json_t *directive, const json_t *map) {
  if (json_is_string(directive))
    return fail_internal(
        s, go_format("unknown patch type: %s in map: %v", json_string_value(directive), map));
  if (json_is_null(directive))
    return fail_internal(s, go_format("unknown patch type: %%!s(<nil>) in map: %v", map));
  return fail_internal(s, go_format("unknown patch type: %%!s(%s=%v) in map: %v",
                                    go_type_name(directive), directive, map));
}

/* ---- schema lookups ---- */

struct field_meta {
  const struct schema_ref *ref; /* the field's type; NULL = no schema below */
  unsigned strategy;            /* SCHEMA_PATCH_* */
  const char *merge_key;
};

/* The patch metadata of member `key` of an object typed `ref`. Map values carry none; a field
 * unknown to the schema, or anything inside an `any`, is merged without schema. */
static struct field_meta lookup_field(const struct schema_ref *ref, const char *key) {
  struct field_meta m = {0};
  if (!ref)
    return m;
  if (ref->kind == SCHEMA_MAP) {
    m.ref = ref->elem;
    return m;
  }
  if (ref->kind != SCHEMA_STRUCT || !ref->type)
    return m;
  const struct schema_field *f = schema_field(ref->type, key);
  if (f) {
    m.ref = f->ref;
    m.strategy = f->patch_strategy;
    m.merge_key = f->merge_key;
  }
  return m;
}

static const struct schema_ref *list_item_ref(const struct schema_ref *list) {
  return list && list->kind == SCHEMA_LIST ? list->elem : NULL;
}

/* What Go's reflect calls the kind of a list's element type, for one error text. */
static const char *item_kind_name(const struct schema_ref *item) {
  if (item && item->kind == SCHEMA_STRUCT)
    return "struct";
  if (item && item->kind == SCHEMA_MAP)
    return "map";
  return "interface";
}

/* ---- helpers over values ---- */

static bool is_directive_key(const char *k) {
  return streq(k, DIRECTIVE_MARKER) || streq(k, RETAIN_KEYS_DIRECTIVE) ||
         startswith(k, SET_ELEMENT_ORDER_PREFIX) ||
         startswith(k, DELETE_FROM_PRIMITIVE_LIST_PREFIX);
}

/* A patch value as it lands in the result where nothing is merged into: objects carrying
 * $patch vanish, null members and directive keys are dropped, at any depth. Returns a new
 * tree, or NULL when the value itself vanishes. */
static json_t *clean_value(const json_t *v) {
  if (json_is_object(v)) {
    if (json_object_get(v, DIRECTIVE_MARKER))
      return NULL;
    json_t *out = json_object();
    const char *k;
    json_t *child;
    json_object_foreach((json_t *)v, k, child) {
      if (json_is_null(child) || is_directive_key(k))
        continue;
      json_t *c = clean_value(child);
      if (c)
        json_object_set_new(out, k, c);
    }
    return out;
  }
  if (json_is_array(v)) {
    json_t *out = json_array();
    size_t i;
    json_t *child;
    json_array_foreach(v, i, child) {
      json_t *c = clean_value(child);
      if (c)
        json_array_append_new(out, c);
    }
    return out;
  }
  return json_deep_copy(v);
}

/* Sets obj[key] to the cleaned value, or removes the key when the value vanishes. */
static void set_cleaned(json_t *obj, const char *key, const json_t *v) {
  json_t *c = clean_value(v);
  if (c)
    json_object_set_new(obj, key, c);
  else
    json_object_del(obj, key);
}

/* The keys of an object, copied, NULL-terminated: the object may change while they are
 * walked. */
static char **object_keys(const json_t *obj) {
  char **keys = xcalloc(json_object_size(obj) + 1, sizeof(*keys));
  size_t i = 0;
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)obj, k, v) keys[i++] = xstrdup(k);
  return keys;
}

static void strv_freep(char ***p) {
  if (!*p)
    return;
  for (char **k = *p; *k; k++)
    free(*k);
  free(*p);
}
#define _cleanup_strv_ _cleanup_(strv_freep)

/* Splits "$prefix/field": 400 with the directive's own message when malformed. */
static int extract_key(struct smp *s, const char *key, const char *prefix, const char **ret) {
  const char *slash = strchr(key, '/');
  if (!slash || (size_t)(slash - key) != strlen(prefix) || strncmp(key, prefix, strlen(prefix)))
    return fail_bad_request(s, streq(prefix, DELETE_FROM_PRIMITIVE_LIST_PREFIX)
                                   ? "invalid patch format of primitive list"
                                   : "invalid patch format of setElementOrder list");
  *ret = slash + 1;
  return 0;
}

/* Checks that all items of the lists share one type, and returns it (a JSON_* value, true
 * and false counted as one). */
static int element_type(struct smp *s, const json_t *a, const json_t *b, int *ret) {
  const json_t *lists[] = {a, b};
  int type = -1;
  for (size_t l = 0; l < 2; l++) {
    size_t i;
    json_t *item;
    json_array_foreach(lists[l], i, item) {
      int t = go_type(item);
      if (type < 0) {
        if (t == JSON_ARRAY)
          return fail_unprocessable(s);
        type = t;
      } else if (t != type) {
        _cleanup_json_ json_t *empty = json_array();
        return fail_internal(s, go_format("list element types are not identical: [%v %v]",
                                          a ? a : empty, b ? b : empty));
      }
    }
  }
  if (type < 0)
    return fail_internal(s, xstrdup("no elements in any of the given slices"));
  *ret = type;
  return 0;
}

/* The first object of `list` whose merge key equals `value`: its index, or -1. A non-object
 * item is an error, as in findMapInSliceBasedOnKeyValue. */
static int find_by_merge_key(struct smp *s, const json_t *list, const char *merge_key,
                             const json_t *value, ssize_t *ret) {
  size_t i;
  json_t *item;
  json_array_foreach(list, i, item) {
    if (!json_is_object(item))
      return fail_internal(s, go_format("value for key %zu is not a map", i));
    json_t *have = json_object_get(item, merge_key);
    if (have && go_equal(have, value)) {
      *ret = (ssize_t)i;
      return 0;
    }
  }
  *ret = -1;
  return 0;
}

/* Position lookups in O(1): a map from a canonical encoding of each item's key (its merge key
 * value, or the item itself) to the first position holding it, so that large lists do not
 * make a patch quadratic. With `present`, items lacking the merge key are left out (the
 * findMapInSliceBasedOnKeyValue rule); without, they count as a nil key (the index() rule). */
struct pos_index {
  json_t *map;
  const char *merge_key;
  int type;
  bool present;
  size_t first_bad; /* position of the first item that is not an object, or SIZE_MAX */
};

static char *pos_key(const struct pos_index *x, const json_t *v, bool *ret_skip) {
  const json_t *k = v;
  *ret_skip = false;
  if (x->type == JSON_OBJECT && x->merge_key) {
    k = json_is_object(v) ? json_object_get(v, x->merge_key) : NULL;
    if (!k && x->present) {
      *ret_skip = true;
      return NULL;
    }
  }
  if (!k || json_is_null(k))
    return xstrdup("n");
  char *enc = json_dumps(k, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
  if (!enc)
    abort();
  char *key = xasprintf("%d:%s", go_type(k), enc);
  free(enc);
  return key;
}

static void pos_index_add(struct pos_index *x, const json_t *v, size_t pos) {
  if (!json_is_object(v) && pos < x->first_bad)
    x->first_bad = pos;
  bool skip;
  _cleanup_free_ char *key = pos_key(x, v, &skip);
  if (!skip && !json_object_get(x->map, key))
    json_object_set_new(x->map, key, json_integer((json_int_t)pos));
}

static ssize_t pos_index_find(const struct pos_index *x, const json_t *v) {
  bool skip;
  _cleanup_free_ char *key = pos_key(x, v, &skip);
  if (skip)
    return -1;
  json_t *at = json_object_get(x->map, key);
  return at ? (ssize_t)json_integer_value(at) : -1;
}

static struct pos_index pos_index_build(const json_t *list, const char *merge_key, int type,
                                        bool present) {
  struct pos_index x = {json_object(), merge_key, type, present, SIZE_MAX};
  size_t i;
  json_t *item;
  json_array_foreach(list, i, item) pos_index_add(&x, item, i);
  return x;
}

static void pos_index_done(struct pos_index *x) { json_decref(x->map); }
#define _cleanup_pos_index_ _cleanup_(pos_index_done)

/* find_by_merge_key() through an index: a non-object item before the match, or anywhere when
 * there is none, is the same error. */
static int find_indexed(struct smp *s, const struct pos_index *x, const json_t *value,
                        ssize_t *ret) {
  _cleanup_json_ json_t *probe = json_object();
  json_object_set(probe, x->merge_key, (json_t *)value);
  ssize_t idx = pos_index_find(x, probe);
  if (idx >= 0 && (size_t)idx < x->first_bad) {
    *ret = idx;
    return 0;
  }
  if (x->first_bad != SIZE_MAX)
    return fail_internal(s, go_format("value for key %zu is not a map", x->first_bad));
  *ret = -1;
  return 0;
}

static bool is_delete_item(const json_t *item) {
  json_t *d = json_object_get(item, DIRECTIVE_MARKER);
  return json_is_string(d) && streq(json_string_value(d), "delete");
}

/* Every item must be an object carrying the merge key ("" when the list has none, which no
 * object carries). */
static int check_merge_keys(struct smp *s, const char *merge_key, const json_t *list) {
  size_t i;
  json_t *item;
  json_array_foreach(list, i, item) {
    if (!json_is_object(item))
      return fail_bad_arg_type(s, "map[string]interface {}", item);
    if (!merge_key || !json_object_get(item, merge_key))
      return fail_no_merge_key(s, item, merge_key ? merge_key : "");
  }
  return 0;
}

struct sort_entry {
  ssize_t pos; /* in the order list; SSIZE_MAX when absent */
  size_t seq;  /* in the list being sorted: ties keep it, so the sort is stable */
  json_t *item;
};

static int compare_sort_entries(const void *a, const void *b) {
  const struct sort_entry *x = a, *y = b;
  if (x->pos != y->pos)
    return x->pos < y->pos ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sorts `to_sort` (stable) by position in `order`, items not found last; items marked
 * $patch: delete go after all others. New array in *ret. */
static int sort_by_order(struct smp *s, const json_t *to_sort, const json_t *order,
                         const char *merge_key, int type, json_t **ret) {
  if (type == JSON_OBJECT) {
    int r = check_merge_keys(s, merge_key, to_sort);
    if (r < 0)
      return r;
    r = check_merge_keys(s, merge_key, order);
    if (r < 0)
      return r;
  }
  _cleanup_pos_index_ struct pos_index x = pos_index_build(order, merge_key, type, false);
  size_t n = json_array_size(to_sort), kept = 0;
  struct sort_entry *entries = xcalloc(n ? n : 1, sizeof(*entries));
  _cleanup_json_ json_t *deleted = json_array();
  for (size_t i = 0; i < n; i++) {
    json_t *item = json_array_get(to_sort, i);
    if (type == JSON_OBJECT && is_delete_item(item)) {
      json_array_append(deleted, item);
      continue;
    }
    ssize_t p = pos_index_find(&x, item);
    entries[kept++] = (struct sort_entry){p < 0 ? SSIZE_MAX : p, i, item};
  }
  qsort(entries, kept, sizeof(*entries), compare_sort_entries);
  json_t *out = json_array();
  for (size_t i = 0; i < kept; i++)
    json_array_append(out, entries[i].item);
  json_array_extend(out, deleted);
  free(entries);
  *ret = out;
  return 0;
}

/* Interleaves the sorted server-only items (left) into the sorted patch items (right): each
 * left item goes before the first right item that follows it in the live list. */
static json_t *merge_sorted(const json_t *left, const json_t *right, const json_t *server_order,
                            const char *merge_key, int type) {
  size_t nl = json_array_size(left), nr = json_array_size(right), i = 0, j = 0;
  _cleanup_pos_index_ struct pos_index x = pos_index_build(server_order, merge_key, type, false);
  json_t *out = json_array();
  while (i < nl || j < nr) {
    if (i >= nl) {
      json_array_append(out, json_array_get(right, j++));
    } else if (j >= nr) {
      json_array_append(out, json_array_get(left, i++));
    } else {
      ssize_t li = pos_index_find(&x, json_array_get(left, i));
      ssize_t ri = pos_index_find(&x, json_array_get(right, j));
      if (li >= 0 && ri >= 0 && li < ri)
        json_array_append(out, json_array_get(left, i++));
      else
        json_array_append(out, json_array_get(right, j++));
    }
  }
  return out;
}

/* Splits `list` into the items present in `by` (by merge key, or by value) and the others. */
static int partition(struct smp *s, const json_t *list, const json_t *by, const char *merge_key,
                     json_t **ret_in, json_t **ret_out) {
  _cleanup_json_ json_t *in = json_array(), *out = json_array();
  _cleanup_pos_index_ struct pos_index x =
      pos_index_build(by, merge_key, merge_key ? JSON_OBJECT : JSON_STRING, merge_key != NULL);
  size_t i;
  json_t *item;
  json_array_foreach(list, i, item) {
    bool found;
    if (merge_key) {
      if (!json_is_object(item))
        return fail_bad_arg_type(s, "map[string]interface {}", item);
      json_t *value = json_object_get(item, merge_key);
      if (!value)
        return fail_no_merge_key(s, item, merge_key);
      ssize_t idx;
      int r = find_indexed(s, &x, value, &idx);
      if (r < 0)
        return r;
      found = idx >= 0;
    } else {
      found = pos_index_find(&x, item) >= 0;
    }
    json_array_append(found ? in : out, item);
  }
  *ret_in = TAKE_PTR(in);
  *ret_out = TAKE_PTR(out);
  return 0;
}

/* Orders the merged list: patch items in patch order, server-only items in live order,
 * interleaved by their live positions. */
static int normalize_order(struct smp *s, const json_t *merged, const json_t *patch_order,
                           const json_t *server_order, const char *merge_key, int type,
                           json_t **ret) {
  _cleanup_json_ json_t *patch_items = NULL, *server_items = NULL, *sorted_patch = NULL,
                        *sorted_server = NULL;
  int r = partition(s, merged, patch_order, merge_key, &patch_items, &server_items);
  if (r < 0)
    return r;
  r = sort_by_order(s, patch_items, patch_order, merge_key, type, &sorted_patch);
  if (r < 0)
    return r;
  r = sort_by_order(s, server_items, server_order, merge_key, type, &sorted_server);
  if (r < 0)
    return r;
  *ret = merge_sorted(sorted_server, sorted_patch, server_order, merge_key, type);
  return 0;
}

/* ---- the merge ---- */

static int merge_map(struct smp *s, json_t *orig, const json_t *patch, const struct schema_ref *ref,
                     json_t **ret);

/* What the Go code's caller still sees of the live list after merging into it: Go deletes
 * list items by shifting the same backing array left and appends new items into the room that
 * frees, so the caller's view of the live list (its length unchanged) ends with the first
 * appended items, then stale copies of the old last items. $setElementOrder orders server-only
 * items against that view, and Kubernetes' own tests pin the outcome, so it is reproduced
 * here: `window` holds that view, `len` the length the Go code's list has. */
struct live_view {
  json_t *window;
  size_t len;
};

static void view_delete(struct live_view *v, size_t idx) {
  for (size_t k = idx; k + 1 < v->len; k++)
    json_array_set(v->window, k, json_array_get(v->window, k + 1));
  v->len--;
}

static void view_append(struct live_view *v, json_t *item) {
  if (v->len < json_array_size(v->window))
    json_array_set(v->window, v->len, item);
  v->len++;
}

/* Lists of objects: $patch items first, then each item merged into the live item with the
 * same merge key or appended. `orig` borrowed; *ret_merged, *ret_patch (the patch items
 * without directives), *ret_live (the live list after deletions) and *ret_window (see
 * live_view) are new. */
static int merge_object_items(struct smp *s, const json_t *orig, const json_t *patch,
                              const struct schema_ref *item_ref, const char *merge_key,
                              json_t **ret_merged, json_t **ret_patch, json_t **ret_live,
                              json_t **ret_window) {
  _cleanup_json_ json_t *live = json_copy((json_t *)orig), *items = json_array();
  _cleanup_json_ json_t *window = json_copy((json_t *)orig);
  struct live_view view = {window, json_array_size(orig)};
  bool replace = false;
  size_t i;
  json_t *item;
  json_array_foreach(patch, i, item) {
    json_t *directive = json_object_get(item, DIRECTIVE_MARKER);
    if (!directive) {
      json_array_append(items, item);
      continue;
    }
    const char *d = json_string_value(directive);
    if (d && streq(d, "delete")) {
      json_t *value = json_object_get(item, merge_key);
      if (!value)
        return fail_no_merge_key(s, item, merge_key);
      for (;;) {
        ssize_t idx;
        int r = find_by_merge_key(s, live, merge_key, value, &idx);
        if (r < 0)
          return r;
        if (idx < 0)
          break;
        json_array_remove(live, (size_t)idx);
        view_delete(&view, (size_t)idx);
      }
    } else if (d && streq(d, "replace")) {
      /* the list becomes the other items; later $patch items are still honoured */
      replace = true;
    } else if (d && streq(d, "merge")) {
      return fail_internal(s, xstrdup("merging lists cannot yet be specified in the patch"));
    } else {
      return fail_bad_patch_type(s, directive, item);
    }
  }
  if (replace) {
    json_t *only = json_array();
    json_array_foreach(items, i, item) {
      json_t *c = clean_value(item);
      if (c)
        json_array_append_new(only, c);
    }
    *ret_merged = json_incref(only);
    *ret_live = only;
    *ret_patch = json_array();
    *ret_window = TAKE_PTR(window);
    return 0;
  }

  _cleanup_json_ json_t *merged = json_copy(live);
  _cleanup_pos_index_ struct pos_index x = pos_index_build(merged, merge_key, JSON_OBJECT, true);
  json_array_foreach(items, i, item) {
    json_t *value = json_object_get(item, merge_key);
    if (!value)
      return fail_no_merge_key(s, item, merge_key);
    ssize_t idx;
    int r = find_indexed(s, &x, value, &idx);
    if (r < 0)
      return r;
    if (idx >= 0) {
      json_t *m;
      r = merge_map(s, json_incref(json_array_get(merged, (size_t)idx)), item, item_ref, &m);
      if (r < 0)
        return r;
      json_array_set_new(merged, (size_t)idx, m);
    } else {
      json_t *c = clean_value(item);
      json_array_append_new(merged, c);
      pos_index_add(&x, c, json_array_size(merged) - 1);
      view_append(&view, c);
    }
  }
  *ret_merged = TAKE_PTR(merged);
  *ret_patch = TAKE_PTR(items);
  *ret_live = TAKE_PTR(live);
  *ret_window = TAKE_PTR(window);
  return 0;
}

/* A list under patch strategy merge (or a $deleteFromPrimitiveList list). `orig` borrowed.
 * With ret_window, also the caller's view of the live list (see live_view). */
static int merge_list(struct smp *s, const json_t *orig, const json_t *patch,
                      const struct schema_ref *item_ref, const char *merge_key, bool delete_list,
                      json_t **ret, json_t **ret_window) {
  if (json_array_size(orig) == 0 && json_array_size(patch) == 0) {
    *ret = json_copy((json_t *)orig);
    if (ret_window)
      *ret_window = json_copy((json_t *)orig);
    return 0;
  }
  int type, r = element_type(s, orig, patch, &type);
  if (r < 0)
    return r;

  _cleanup_json_ json_t *merged = NULL, *patch_items = NULL, *live = NULL, *window = NULL;
  size_t i;
  json_t *item;
  if (type != JSON_OBJECT) {
    if (delete_list) {
      _cleanup_pos_index_ struct pos_index x = pos_index_build(patch, NULL, type, false);
      json_t *out = json_array();
      json_array_foreach(orig, i, item) if (pos_index_find(&x, item) < 0)
          json_array_append(out, item);
      *ret = out;
      if (ret_window)
        *ret_window = json_copy((json_t *)orig);
      return 0;
    }
    /* a set: live items, then patch items not yet present */
    merged = json_array();
    _cleanup_pos_index_ struct pos_index x = {json_object(), NULL, type, false, SIZE_MAX};
    json_array_foreach(orig, i, item) if (pos_index_find(&x, item) < 0) {
      pos_index_add(&x, item, json_array_size(merged));
      json_array_append(merged, item);
    }
    json_array_foreach(patch, i, item) if (pos_index_find(&x, item) < 0) {
      pos_index_add(&x, item, json_array_size(merged));
      json_array_append_new(merged, json_deep_copy(item));
    }
    patch_items = json_incref((json_t *)patch);
    live = json_incref((json_t *)orig);
    window = json_copy((json_t *)orig);
  } else {
    if (!merge_key)
      return fail_internal(
          s, go_format("cannot merge lists without merge key for %s", item_kind_name(item_ref)));
    r = merge_object_items(s, orig, patch, item_ref, merge_key, &merged, &patch_items, &live,
                           &window);
    if (r < 0)
      return r;
  }
  r = normalize_order(s, merged, patch_items, live, merge_key, type, ret);
  if (r >= 0 && ret_window)
    *ret_window = TAKE_PTR(window);
  return r;
}

/* A list member present, as a list, in both the live object and the patch. */
static int merge_list_member(struct smp *s, const json_t *orig, const json_t *patch,
                             const struct field_meta *meta, bool delete_list, json_t **ret,
                             json_t **ret_window) {
  if ((meta->strategy & SCHEMA_PATCH_MERGE) || delete_list)
    return merge_list(s, orig, patch, list_item_ref(meta->ref), meta->merge_key, delete_list, ret,
                      ret_window);
  *ret = clean_value(patch);
  if (ret_window)
    *ret_window = json_copy((json_t *)orig);
  return 0;
}

/* Checks that the patch list's items (deletions aside) appear in the $setElementOrder list
 * in the same relative order. */
static int check_element_order(struct smp *s, const json_t *patch_list, const json_t *order,
                               const char *merge_key) {
  if (json_array_size(order) == 0 || json_array_size(patch_list) == 0)
    return 0;
  _cleanup_json_ json_t *items = json_array();
  size_t i;
  json_t *item;
  json_array_foreach(patch_list, i, item) {
    if (merge_key && !json_is_object(item))
      return fail_bad_arg_type(s, "map[string]interface {}", item);
    if (!merge_key || !is_delete_item(item))
      json_array_append(items, item);
  }
  size_t pi = 0, oi = 0, np = json_array_size(items), no = json_array_size(order);
  while (pi < np && oi < no) {
    json_t *p = json_array_get(items, pi), *o = json_array_get(order, oi);
    if (json_is_object(p) && json_object_get(p, DIRECTIVE_MARKER)) {
      pi++;
      continue;
    }
    bool equal;
    if (!merge_key) {
      equal = go_equal(p, o);
    } else {
      if (!json_is_object(p))
        return fail_bad_arg_type(s, "map[string]interface {}", p);
      if (!json_is_object(o))
        return fail_bad_arg_type(s, "map[string]interface {}", o);
      json_t *pk = json_object_get(p, merge_key), *ok = json_object_get(o, merge_key);
      if (!pk)
        return fail_no_merge_key(s, p, merge_key);
      if (!ok)
        return fail_no_merge_key(s, o, merge_key);
      equal = go_equal(pk, ok);
    }
    if (equal)
      pi++;
    oi++;
  }
  if (pi < np && oi >= no)
    return fail_internal(
        s, go_format("The order in patch list:\n%v\n doesn't match $setElementOrder list:\n%v\n",
                     patch_list, order));
  return 0;
}

/* $setElementOrder/<field>: merges the list named by the directive (if the patch has it) and
 * orders the result as the directive says. Removes both from the working patch `p`. */
static int apply_element_order(struct smp *s, json_t *o, json_t *p, const char *key,
                               const struct schema_ref *ref) {
  _cleanup_json_ json_t *order = json_incref(json_object_get(p, key));
  json_object_del(p, key);
  if (!json_is_array(order))
    return fail_bad_arg_type(s, "[]interface {}", order);
  const char *name;
  int r = extract_key(s, key, SET_ELEMENT_ORDER_PREFIX, &name);
  if (r < 0)
    return r;
  json_t *orig_list = json_object_get(o, name), *patch_list = json_object_get(p, name);
  if (orig_list && !json_is_array(orig_list))
    return fail_bad_arg_type(s, "[]interface {}", orig_list);
  if (patch_list && !json_is_array(patch_list))
    return fail_bad_arg_type(s, "[]interface {}", patch_list);
  struct field_meta meta = lookup_field(ref, name);
  r = check_element_order(s, patch_list, order, meta.merge_key);
  if (r < 0)
    return r;

  _cleanup_json_ json_t *merged = NULL, *live = NULL;
  if (orig_list && !patch_list)
    merged = json_incref(orig_list);
  else if (!orig_list && patch_list)
    merged = clean_value(patch_list);
  else if (orig_list && patch_list) {
    r = merge_list_member(s, orig_list, patch_list, &meta, false, &merged, &live);
    if (r < 0)
      return r;
  } else
    return 0;
  if (!live)
    live = orig_list ? json_copy(orig_list) : json_array();

  int type;
  r = element_type(s, orig_list, patch_list, &type);
  if (r < 0)
    return r;
  json_t *ordered;
  r = normalize_order(s, merged, order, live, meta.merge_key, type, &ordered);
  if (r < 0)
    return r;
  json_object_set_new(o, name, ordered);
  json_object_del(p, name);
  return 0;
}

/* $retainKeys: every member the patch sets must be listed; live members not listed go. */
static int apply_retain_keys(struct smp *s, json_t *o, json_t *p) {
  _cleanup_json_ json_t *keys = json_incref(json_object_get(p, RETAIN_KEYS_DIRECTIVE));
  if (!keys)
    return 0;
  json_object_del(p, RETAIN_KEYS_DIRECTIVE);
  if (!json_is_array(keys))
    return fail_bad_request(s, "invalid patch format of retainKeys");

  _cleanup_pos_index_ struct pos_index x = pos_index_build(keys, NULL, JSON_STRING, false);
  const char *k;
  json_t *v;
  json_object_foreach(p, k, v) {
    if (json_is_null(v) || startswith(k, DELETE_FROM_PRIMITIVE_LIST_PREFIX) ||
        startswith(k, SET_ELEMENT_ORDER_PREFIX))
      continue;
    _cleanup_json_ json_t *name = json_string(k);
    if (pos_index_find(&x, name) < 0)
      return fail_bad_request(s, "invalid patch format of retainKeys");
  }
  _cleanup_strv_ char **live = object_keys(o);
  for (char **key = live; *key; key++) {
    _cleanup_json_ json_t *name = json_string(*key);
    if (pos_index_find(&x, name) < 0)
      json_object_del(o, *key);
  }
  return 0;
}

/* Merges the patch object into `orig` (stolen; NULL = empty) typed by `ref` (NULL = no
 * schema). New reference in *ret. */
static int merge_map(struct smp *s, json_t *orig, const json_t *patch, const struct schema_ref *ref,
                     json_t **ret) {
  _cleanup_json_ json_t *o = orig;
  json_t *directive = json_object_get(patch, DIRECTIVE_MARKER);
  if (directive) {
    const char *d = json_string_value(directive);
    if (d && streq(d, "replace")) {
      /* the patch object is the new value, as written */
      json_t *out = json_object();
      const char *k;
      json_t *v;
      json_object_foreach((json_t *)patch, k, v) {
        if (!streq(k, DIRECTIVE_MARKER) && !json_is_null(v) && !is_directive_key(k)) {
          json_t *c = clean_value(v);
          if (c)
            json_object_set_new(out, k, c);
        }
      }
      *ret = out;
      return 0;
    }
    if (d && streq(d, "delete")) {
      *ret = json_object();
      return 0;
    }
    return fail_bad_patch_type(s, directive, patch);
  }
  if (!o)
    o = json_object();

  /* A shallow working copy: directives and lists already handled are removed from it, the
   * caller's patch stays untouched. */
  _cleanup_json_ json_t *p = json_copy((json_t *)patch);
  int r = apply_retain_keys(s, o, p);
  if (r < 0)
    return r;

  _cleanup_strv_ char **order_keys = object_keys(p);
  for (char **key = order_keys; *key; key++) {
    if (!startswith(*key, SET_ELEMENT_ORDER_PREFIX) || !json_object_get(p, *key))
      continue;
    r = apply_element_order(s, o, p, *key, ref);
    if (r < 0)
      return r;
  }

  _cleanup_strv_ char **keys = object_keys(p);
  for (char **key = keys; *key; key++) {
    const char *name = *key;
    json_t *pv = json_object_get(p, name);
    bool delete_list = false;
    if (startswith(name, DELETE_FROM_PRIMITIVE_LIST_PREFIX)) {
      r = extract_key(s, name, DELETE_FROM_PRIMITIVE_LIST_PREFIX, &name);
      if (r < 0)
        return r;
      delete_list = true;
    }
    if (json_is_null(pv)) {
      json_object_del(o, name);
      continue;
    }
    json_t *ov = json_object_get(o, name);
    if (!ov || go_type(ov) != go_type(pv)) {
      if (!delete_list)
        set_cleaned(o, name, pv);
      continue;
    }
    struct field_meta meta = lookup_field(ref, name);
    json_t *nv;
    if (json_is_object(pv)) {
      if (meta.strategy & SCHEMA_PATCH_REPLACE) {
        set_cleaned(o, name, pv);
        continue;
      }
      r = merge_map(s, json_incref(ov), pv, meta.ref, &nv);
    } else if (json_is_array(pv)) {
      r = merge_list_member(s, ov, pv, &meta, delete_list, &nv, NULL);
    } else {
      set_cleaned(o, name, pv);
      continue;
    }
    if (r < 0)
      return r;
    json_object_set_new(o, name, nv);
  }
  *ret = TAKE_PTR(o);
  return 0;
}

int patch_strategic(const struct schema_type *t, const json_t *doc, const json_t *patch,
                    json_t **ret, struct api_error *err) {
  struct smp s = {.err = err};
  if (!patch || json_is_null(patch)) {
    *ret = json_deep_copy(doc);
    return 0;
  }
  if (!json_is_object(patch)) {
    _cleanup_free_ char *msg =
        xasprintf("json: cannot unmarshal %s into Go value of type map[string]interface {}",
                  json_is_array(patch)     ? "array"
                  : json_is_string(patch)  ? "string"
                  : json_is_boolean(patch) ? "bool"
                                           : "number");
    return fail_bad_request(&s, msg);
  }
  if (!json_is_object(doc))
    return fail_bad_request(&s, "invalid JSON document");

  struct schema_ref root = {.kind = SCHEMA_STRUCT, .type = t};
  const struct schema_ref *ref = t && t->scalar == SCHEMA_STRUCT ? &root : NULL;
  json_t *out;
  int r = merge_map(&s, json_deep_copy(doc), patch, ref, &out);
  if (r < 0)
    return r;
  *ret = out;
  return 0;
}
