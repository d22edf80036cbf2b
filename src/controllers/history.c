/* ControllerRevision helpers shared by the DaemonSet and StatefulSet controllers. */
#include "controllers/history.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "controllers/podutil.h"
#include "lib/macro.h"
#include "lib/strbuf.h"

json_t *history_patch(const json_t *owner) {
  json_t *tmpl = json_path((json_t *)owner, "spec.template");
  if (!json_is_object(tmpl))
    return NULL;
  json_t *copy = json_deep_copy(tmpl);
  json_object_set_new(copy, "$patch", json_string("replace"));
  return json_pack("{s:{s:o}}", "spec", "template", copy);
}

char *history_canonical(const json_t *v) {
  _cleanup_free_ char *raw = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
  if (!raw)
    return xstrdup("null");
  struct strbuf b = {0};
  /* '<', '>' and '&' can only occur inside strings, so escaping them everywhere is what
   * Go's HTML-safe encoder does. */
  for (const char *p = raw; *p; p++) {
    switch (*p) {
    case '<':
      strbuf_appends(&b, "\\u003c");
      break;
    case '>':
      strbuf_appends(&b, "\\u003e");
      break;
    case '&':
      strbuf_appends(&b, "\\u0026");
      break;
    default:
      strbuf_appendc(&b, *p);
    }
  }
  return strbuf_take(&b, NULL);
}

char *history_safe_encode(const char *s) {
  static const char alphanums[] = "bcdfghjklmnpqrstvwxz2456789";
  size_t n = strlen(s);
  char *r = xmalloc(n + 1);
  for (size_t i = 0; i < n; i++)
    r[i] = alphanums[(unsigned char)s[i] % (sizeof(alphanums) - 1)];
  r[n] = '\0';
  return r;
}

static uint32_t fnv1_32(uint32_t h, const char *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    h *= 16777619u;
    h ^= (unsigned char)p[i];
  }
  return h;
}

static uint32_t fnv1a_32(uint32_t h, const char *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)p[i];
    h *= 16777619u;
  }
  return h;
}

#define FNV32_OFFSET 2166136261u

static char *encode_sum(uint32_t sum) {
  char dec[16];
  snprintf(dec, sizeof(dec), "%" PRIu32, sum);
  return history_safe_encode(dec);
}

char *history_hash(const json_t *data, const int64_t *collision_count) {
  _cleanup_free_ char *bytes = history_canonical(data);
  uint32_t h = fnv1_32(FNV32_OFFSET, bytes, strlen(bytes));
  if (collision_count) {
    char num[24];
    int n = snprintf(num, sizeof(num), "%" PRId64, *collision_count);
    h = fnv1_32(h, num, (size_t)n);
  }
  return encode_sum(h);
}

char *history_template_hash(const json_t *template, const int64_t *collision_count) {
  _cleanup_free_ char *bytes = history_canonical(template);
  uint32_t h = fnv1a_32(FNV32_OFFSET, bytes, strlen(bytes));
  if (collision_count) {
    char num[24];
    int n = snprintf(num, sizeof(num), "%" PRId64, *collision_count);
    h = fnv1a_32(h, num, (size_t)n);
  }
  return encode_sum(h);
}

json_t *history_new_revision(const json_t *owner, const char *api_version, const char *kind,
                             const char *hash, const json_t *data, int64_t revision) {
  const char *oname = json_path_str((json_t *)owner, "metadata.name");
  const char *ns = json_path_str((json_t *)owner, "metadata.namespace");
  if (!oname)
    oname = "";
  /* ControllerRevisionName keeps names within the 253 bytes of a DNS subdomain. */
  int plen = (int)strnlen(oname, 223);
  _cleanup_free_ char *name = xasprintf("%.*s-%s", plen, oname, hash);

  json_t *labels = json_object();
  json_t *tl = json_path((json_t *)owner, "spec.template.metadata.labels");
  if (json_is_object(tl))
    json_object_update(labels, tl);
  json_object_set_new(labels, HISTORY_HASH_LABEL, json_string(hash));

  json_t *meta = json_pack("{s:s, s:o}", "name", name, "labels", labels);
  if (ns)
    json_object_set_new(meta, "namespace", json_string(ns));
  json_t *ann = json_path((json_t *)owner, "metadata.annotations");
  if (json_is_object(ann) && json_object_size(ann))
    json_object_set_new(meta, "annotations", json_deep_copy(ann));
  json_t *refs = json_array();
  json_array_append_new(refs, podutil_controller_ref(owner, api_version, kind));
  json_object_set_new(meta, "ownerReferences", refs);

  return json_pack("{s:s, s:s, s:o, s:O, s:I}", "apiVersion", "apps/v1", "kind",
                   "ControllerRevision", "metadata", meta, "data", (json_t *)data, "revision",
                   (json_int_t)revision);
}

static int revision_cmp(const void *pa, const void *pb) {
  json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
  json_int_t ra = json_integer_value(json_object_get(a, "revision"));
  json_int_t rb = json_integer_value(json_object_get(b, "revision"));
  if (ra != rb)
    return ra < rb ? -1 : 1;
  /* RFC 3339 timestamps in UTC with whole seconds sort as strings. */
  const char *ta = json_path_str(a, "metadata.creationTimestamp");
  const char *tb = json_path_str(b, "metadata.creationTimestamp");
  int c = strcmp(ta ? ta : "", tb ? tb : "");
  if (c)
    return c;
  const char *na = json_path_str(a, "metadata.name");
  const char *nb = json_path_str(b, "metadata.name");
  return strcmp(na ? na : "", nb ? nb : "");
}

void history_sort(json_t *revisions) {
  size_t n = json_array_size(revisions);
  if (n < 2)
    return;
  json_t **v = xmalloc(n * sizeof(*v));
  for (size_t i = 0; i < n; i++)
    v[i] = json_incref(json_array_get(revisions, i));
  qsort(v, n, sizeof(*v), revision_cmp);
  json_array_clear(revisions);
  for (size_t i = 0; i < n; i++)
    json_array_append_new(revisions, v[i]);
  free(v);
}

int64_t history_next_revision(const json_t *sorted) {
  size_t n = json_array_size(sorted);
  if (n == 0)
    return 1;
  return (int64_t)json_integer_value(json_object_get(json_array_get(sorted, n - 1), "revision")) +
         1;
}

bool history_equal_data(const json_t *a, const json_t *b) {
  const json_t *da = json_object_get(a, "data"), *db = json_object_get(b, "data");
  if (!da || !db)
    return false;
  return json_equal((json_t *)da, (json_t *)db);
}

json_t *history_apply(const json_t *owner, const json_t *revision) {
  json_t *tmpl = json_path((json_t *)json_object_get(revision, "data"), "spec.template");
  if (!json_is_object(tmpl))
    return NULL;
  json_t *copy = json_deep_copy(owner);
  json_t *t = json_deep_copy(tmpl);
  json_object_del(t, "$patch");
  json_object_set_new(json_object_ensure(copy, "spec"), "template", t);
  return copy;
}

json_t *history_to_prune(const json_t *sorted, const char *const *live, size_t n_live,
                         long limit) {
  json_t *old = json_array();
  size_t i;
  json_t *rev;
  json_array_foreach(sorted, i, rev) {
    const char *name = json_path_str(rev, "metadata.name");
    bool is_live = false;
    for (size_t j = 0; j < n_live && !is_live; j++)
      is_live = live[j] && name && streq(live[j], name);
    if (!is_live)
      json_array_append(old, rev);
  }
  if (limit < 0 || json_array_size(old) <= (size_t)limit)
    return json_array_clear(old), old;
  size_t surplus = json_array_size(old) - (size_t)limit;
  while (json_array_size(old) > surplus)
    json_array_remove(old, json_array_size(old) - 1);
  return old;
}
