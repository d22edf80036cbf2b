/* Columns as kube-apiserver 1.32's printers define them (pkg/printers/internalversion):
 * the helpers and cells every table shares, and the default table. The core/v1 tables
 * are in columns_core.c, every other group's in columns_groups.c.
 *
 * The API server always renders tables in wide mode (kubectl hides priority-1 columns
 * itself), so every cell here is the wide form: nothing is clipped. Where Kubernetes
 * defaults a field on write (replicas, protocol, reclaim policy...), a cell applies the
 * same default when the field is absent, so an object stored without it still prints as
 * kube-apiserver prints it. */
#include "api/columns.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/columns_internal.h"
#include "lib/json.h"
#include "lib/quantity.h"
#include "lib/selector.h"
#include "lib/strbuf.h"
#include "lib/timeutil.h"

/* ---- small helpers ---- */

/* Adds s after a separator unless the buffer is empty. */
void col_sb_join(struct strbuf *b, const char *sep, const char *s) {
  if (b->len)
    strbuf_appends(b, sep);
  strbuf_appends(b, s);
}

/* The buffer as a string cell ("" when nothing was added); frees the buffer. */
json_t *col_sb_cell(struct strbuf *b) {
  json_t *v = json_string(b->s ? b->s : "");
  free(b->s);
  b->s = NULL;
  b->len = b->cap = 0;
  return v;
}

json_t *col_at(const json_t *obj, const char *path) { return json_path((json_t *)obj, path); }

const char *col_str_at(const json_t *obj, const char *path) {
  return json_path_str((json_t *)obj, path);
}

/* Go's zero value for an absent string is "". */
const char *col_str_or_empty(const json_t *obj, const char *path) {
  const char *s = col_str_at(obj, path);
  return s ? s : "";
}

json_int_t col_int_at(const json_t *obj, const char *path) {
  return json_integer_value(col_at(obj, path));
}

bool col_empty(const char *s) { return !s || !*s; }

json_t *col_string_cell(const char *s) { return json_string(s ? s : ""); }

struct timespec col_now_ts(void) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return now;
}

/* translateTimestampSince: HumanDuration(now - ts), "<unknown>" for a missing time. */
json_t *col_since_cell(const char *ts) {
  struct timespec now = col_now_ts();
  _cleanup_free_ char *age = timeutil_age(ts, &now);
  return json_string(age);
}

/* Whether ts parses to a non-zero instant. */
bool col_time_set(const char *ts, struct timespec *ret) {
  struct timespec t;
  if (col_empty(ts) || timeutil_parse(ts, &t) < 0)
    return false;
  if (ret)
    *ret = t;
  return true;
}

int64_t col_ns_between(const struct timespec *from, const struct timespec *to) {
  return ((int64_t)to->tv_sec - from->tv_sec) * 1000000000 + (to->tv_nsec - from->tv_nsec);
}

int col_strcmp_ptr(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* labels.FormatLabels: "k=v,k2=v2" sorted by key, "<none>" when empty. */
json_t *col_labels_cell(const json_t *map) {
  size_t n = json_is_object(map) ? json_object_size(map) : 0;
  if (!n)
    return json_string("<none>");
  const char **keys = xcalloc(n, sizeof(*keys));
  size_t i = 0;
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)map, k, v) keys[i++] = k;
  qsort(keys, n, sizeof(*keys), col_strcmp_ptr);
  struct strbuf b = {0};
  for (i = 0; i < n; i++) {
    const char *val = json_string_value(json_object_get(map, keys[i]));
    col_sb_join(&b, ",", keys[i]);
    strbuf_appends(&b, "=");
    strbuf_appends(&b, val ? val : "");
  }
  free(keys);
  return col_sb_cell(&b);
}

/* metav1.FormatLabelSelector: the selector string, "<none>" for an empty one (and for a
 * missing one, which selects nothing), "<error>" when it does not parse. */
json_t *col_label_selector_cell(const json_t *sel) {
  _cleanup_selector_ selector_t *s = NULL;
  if (selector_from_json(sel, &s, NULL) < 0)
    return json_string("<error>");
  _cleanup_free_ char *str = selector_to_string(s);
  return json_string(*str ? str : "<none>");
}

/* A quantity as Quantity.String() prints it; `missing` when absent. */
char *col_quantity_text(const json_t *v, const char *missing) {
  quantity_t q;
  if (json_is_string(v) && quantity_parse(json_string_value(v), &q, NULL) == 0)
    return quantity_to_string(&q);
  if (json_is_integer(v)) {
    q = quantity_from_int64(json_integer_value(v), QUANTITY_DECIMAL_SI);
    return quantity_to_string(&q);
  }
  if (json_is_string(v))
    return xstrdup(json_string_value(v));
  return xstrdup(missing);
}

/* intstr.IntOrString.String(). */
char *col_int_or_string_text(const json_t *v) {
  if (json_is_integer(v))
    return xasprintf("%lld", (long long)json_integer_value(v));
  return xstrdup(json_is_string(v) ? json_string_value(v) : "");
}

/* "X + N more..." lists of kube's printers: at most `max` items, then a count. */
json_t *col_list_with_more(struct strbuf *b, size_t count, size_t max, const char *when_empty) {
  if (count > max) {
    strbuf_appendf(b, " + %zu more...", count - max);
    return col_sb_cell(b);
  }
  if (!b->len) {
    free(b->s);
    b->s = NULL;
    return when_empty ? json_string(when_empty) : json_string("");
  }
  return col_sb_cell(b);
}

/* Load-balancer ingress points: IPs, else hostnames, sorted and de-duplicated. */
void col_lb_ingress(const json_t *ingress, struct strbuf *b) {
  size_t n = json_array_size(ingress), k = 0, i;
  const char **items = xcalloc(n ? n : 1, sizeof(*items));
  json_t *e;
  json_array_foreach(ingress, i, e) {
    const char *ip = col_str_at(e, "ip"), *host = col_str_at(e, "hostname");
    if (!col_empty(ip))
      items[k++] = ip;
    else if (!col_empty(host))
      items[k++] = host;
  }
  qsort(items, k, sizeof(*items), col_strcmp_ptr);
  for (i = 0; i < k; i++)
    if (!i || !streq(items[i], items[i - 1]))
      col_sb_join(b, ",", items[i]);
  free(items);
}

void col_join_strings(const json_t *arr, const char *sep, struct strbuf *b) {
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v) {
    if (json_is_string(v))
      col_sb_join(b, sep, json_string_value(v));
  }
}

bool col_condition_true(const json_t *conditions, const char *type) {
  size_t i;
  json_t *c;
  json_array_foreach(conditions, i, c) {
    if (streq_ptr(json_string_value(json_object_get(c, "type")), type))
      return streq_ptr(json_string_value(json_object_get(c, "status")), "True");
  }
  return false;
}

/* ---- shared cells ---- */

json_t *column_age(const json_t *obj) {
  return col_since_cell(col_str_at(obj, "metadata.creationTimestamp"));
}

/* The default table convertor's "Created At": the creation time in RFC 3339, UTC. */
json_t *col_created_at(const json_t *obj) {
  struct timespec t;
  if (!col_time_set(col_str_at(obj, "metadata.creationTimestamp"), &t))
    return NULL;
  _cleanup_free_ char *s = timeutil_format(t.tv_sec);
  return json_string(s);
}

json_t *col_name_cell(const json_t *obj) {
  return col_string_cell(col_str_at(obj, "metadata.name"));
}

/* layoutContainerCells: container names, or images, joined with ",". */
json_t *col_containers_field(const json_t *obj, const char *spec_path, const char *field) {
  _cleanup_free_ char *path = xasprintf("%s.containers", spec_path);
  json_t *containers = col_at(obj, path);
  struct strbuf b = {0};
  size_t i;
  json_t *c;
  json_array_foreach(containers, i, c) {
    if (i)
      strbuf_appends(&b, ",");
    strbuf_appends(&b, col_str_or_empty(c, field));
  }
  return col_sb_cell(&b);
}

/* ---- replicated workloads (core/v1 ReplicationController and apps/v1) ---- */

/* spec.replicas defaults to 1 for every replicated workload. */
json_int_t col_desired_replicas(const json_t *obj) {
  json_t *r = col_at(obj, "spec.replicas");
  return json_is_integer(r) ? json_integer_value(r) : 1;
}

json_t *col_desired_cell(const json_t *o) { return json_integer(col_desired_replicas(o)); }
json_t *col_current_replicas(const json_t *o) {
  return json_integer(col_int_at(o, "status.replicas"));
}
json_t *col_ready_replicas(const json_t *o) {
  return json_integer(col_int_at(o, "status.readyReplicas"));
}

json_t *col_template_containers(const json_t *o) {
  return col_containers_field(o, "spec.template.spec", "name");
}
json_t *col_template_images(const json_t *o) {
  return col_containers_field(o, "spec.template.spec", "image");
}

/* ---- tables ---- */

const struct api_column columns_default[] = {NAME_COL, AGE_COL, END};
