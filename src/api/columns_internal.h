/* columns_internal.h — what the column tables of columns.c, columns_core.c (core/v1) and
 * columns_groups.c (every other API group) share: JSON accessors, cell builders and the
 * macros that spell out column definitions. Not for use outside src/api/columns*.c.
 *
 * Every function here takes objects it never modifies, tolerates any shape (missing or
 * ill-typed fields read as Go's zero values) and is thread-safe. Functions returning
 * json_t * return a new reference (or NULL where noted); char * results are the caller's
 * to free. Nothing here logs. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "api/columns.h"
#include "lib/strbuf.h"

/* ---- accessors ---- */

/* The value at a dotted path, borrowed; NULL when absent. */
json_t *col_at(const json_t *obj, const char *path);
/* The string at a dotted path, borrowed; NULL when absent or not a string. */
const char *col_str_at(const json_t *obj, const char *path);
/* As col_str_at, but "" (Go's zero value) when absent. */
const char *col_str_or_empty(const json_t *obj, const char *path);
/* The integer at a dotted path; 0 when absent or not an integer. */
json_int_t col_int_at(const json_t *obj, const char *path);
/* Whether s is NULL or "". */
bool col_empty(const char *s);
/* qsort comparator for an array of const char *. */
int col_strcmp_ptr(const void *a, const void *b);
/* Whether the condition of `type` in a conditions array has status "True". */
bool col_condition_true(const json_t *conditions, const char *type);

/* ---- strings and time ---- */

/* Appends s to b, after `sep` unless b is still empty. */
void col_sb_join(struct strbuf *b, const char *sep, const char *s);
/* b's contents as a string cell ("" when nothing was added); frees b's storage. */
json_t *col_sb_cell(struct strbuf *b);
/* s as a string cell, "" for NULL. */
json_t *col_string_cell(const char *s);
/* Appends the JSON strings of arr to b, joined with sep; other values are skipped. */
void col_join_strings(const json_t *arr, const char *sep, struct strbuf *b);
/* Load-balancer ingress points (IPs, else hostnames), sorted and de-duplicated, joined
 * to b with ",". */
void col_lb_ingress(const json_t *ingress, struct strbuf *b);
/* "X + N more...": takes b; when count > max appends the count of the rest, when b is
 * empty gives `when_empty` ("" for NULL). */
json_t *col_list_with_more(struct strbuf *b, size_t count, size_t max, const char *when_empty);
/* The wall clock now. */
struct timespec col_now_ts(void);
/* Nanoseconds from `from` to `to`. */
int64_t col_ns_between(const struct timespec *from, const struct timespec *to);
/* The human age of timestamp ts relative to now; "<unknown>" for a missing or bad one. */
json_t *col_since_cell(const char *ts);
/* Whether ts parses to a non-zero instant; writes it to *ret (if non-NULL) when it does. */
bool col_time_set(const char *ts, struct timespec *ret);
/* A quantity as Quantity.String() prints it; a copy of `missing` when v is absent.
 * Caller frees. */
char *col_quantity_text(const json_t *v, const char *missing);
/* intstr.IntOrString.String(). Caller frees. */
char *col_int_or_string_text(const json_t *v);

/* ---- shared cells ---- */

/* labels.FormatLabels of a label map: "k=v,k2=v2" sorted, "<none>" when empty. */
json_t *col_labels_cell(const json_t *map);
/* metav1.FormatLabelSelector of a LabelSelector object: "<none>" when empty or absent,
 * "<error>" when it does not parse. */
json_t *col_label_selector_cell(const json_t *sel);
/* The default table's "Created At": RFC 3339 UTC; NULL without a creation time. */
json_t *col_created_at(const json_t *obj);
/* metadata.name ("" when absent). */
json_t *col_name_cell(const json_t *obj);
/* The `field` ("name" or "image") of each container of the pod spec at `spec_path`,
 * joined with ",". */
json_t *col_containers_field(const json_t *obj, const char *spec_path, const char *field);

/* Replicated workloads (ReplicationController, ReplicaSet, Deployment, StatefulSet):
 * spec.replicas, defaulting to 1 as kube does on write. */
json_int_t col_desired_replicas(const json_t *obj);
json_t *col_desired_cell(const json_t *obj);
json_t *col_current_replicas(const json_t *obj); /* status.replicas */
json_t *col_ready_replicas(const json_t *obj);   /* status.readyReplicas */
/* Container names and images of the pod template at spec.template.spec. */
json_t *col_template_containers(const json_t *obj);
json_t *col_template_images(const json_t *obj);

/* ---- cell definitions ---- */

/* The CONTAINERS and IMAGES cells of a workload whose pod spec is at `spec`, and its
 * SELECTOR as a LabelSelector object at `sel`. */
#define TEMPLATE_CELLS(prefix, spec, sel)                                                          \
  static json_t *prefix##_containers(const json_t *o) {                                            \
    return col_containers_field(o, spec, "name");                                                  \
  }                                                                                                \
  static json_t *prefix##_images(const json_t *o) {                                                \
    return col_containers_field(o, spec, "image");                                                 \
  }                                                                                                \
  static json_t *prefix##_selector(const json_t *o) {                                              \
    return col_label_selector_cell(col_at(o, sel));                                                \
  }

/* Cells for one field: a string (Go's "" when absent), an integer (0 when absent). */
#define STR_CELL(fn, path)                                                                         \
  static json_t *fn(const json_t *o) { return col_string_cell(col_str_at(o, path)); }
#define INT_CELL(fn, path)                                                                         \
  static json_t *fn(const json_t *o) { return json_integer(col_int_at(o, path)); }
#define COUNT_CELL(fn, path)                                                                       \
  static json_t *fn(const json_t *o) {                                                             \
    json_t *v = col_at(o, path);                                                                   \
    return json_integer(                                                                           \
        (json_int_t)(json_is_object(v) ? json_object_size(v) : json_array_size(v)));               \
  }

/* ---- column definitions shared by every table ---- */

#define D_NAME                                                                                     \
  "Name must be unique within a namespace. Is required when creating resources, although "         \
  "some resources may allow a client to request the generation of an appropriate name "            \
  "automatically."
#define D_AGE                                                                                      \
  "CreationTimestamp is a timestamp representing the server time when this object was "            \
  "created. It is represented in RFC3339 form and is in UTC."
#define D_CONTAINERS "Names of each container in the template."
#define D_IMAGES "Images referenced by each container in the template."
#define D_SELECTOR "A label query over pods that should match the replica count."

#define NAME_COL                                                                                   \
  { "Name", "string", "name", D_NAME, 0, "metadata.name" }
#define AGE_COL                                                                                    \
  { "Age", "string", "", D_AGE, 0, NULL, column_age }
#define CREATED_AT_COL                                                                             \
  { "Created At", "date", "", D_AGE, 0, NULL, col_created_at }
#define COL(name, type, desc, prio, fn)                                                            \
  { name, type, "", desc, prio, NULL, fn }
#define WORKLOAD_WIDE(prefix)                                                                      \
  COL("Containers", "string", D_CONTAINERS, 1, prefix##_containers),                               \
      COL("Images", "string", D_IMAGES, 1, prefix##_images),                                       \
      COL("Selector", "string", D_SELECTOR, 1, prefix##_selector)
#define END                                                                                        \
  { NULL }
