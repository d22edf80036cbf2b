#include "api/status.h"

#include <stdarg.h>
#include <stdio.h>

#include "lib/json.h"

static char *vformat(const char *fmt, va_list ap) {
  char *s;
  if (vasprintf(&s, fmt, ap) < 0)
    abort();
  return s;
}

void field_errors_add(struct field_errors *errs, const char *type, const char *field,
                      const char *fmt, ...) {
  va_list ap;
  errs->items = xrealloc(errs->items, (errs->n + 1) * sizeof(*errs->items));
  struct field_error *fe = &errs->items[errs->n++];
  fe->type = xstrdup(type);
  fe->field = xstrdup(field ? field : "");
  va_start(ap, fmt);
  fe->message = vformat(fmt, ap);
  va_end(ap);
}

/* Values are quoted the way Go's %#v-ish printing in field.Error does: strings in double
 * quotes, numbers and booleans bare, objects as JSON. */
static char *value_text(const json_t *value) {
  if (!value)
    return xstrdup("null");
  return json_encode(value);
}

void field_errors_required(struct field_errors *errs, const char *field, const char *detail) {
  if (detail && *detail)
    field_errors_add(errs, CAUSE_REQUIRED, field, "Required value: %s", detail);
  else
    field_errors_add(errs, CAUSE_REQUIRED, field, "Required value");
}

void field_errors_invalid(struct field_errors *errs, const char *field, const json_t *value,
                          const char *detail) {
  _cleanup_free_ char *v = value_text(value);
  if (detail && *detail)
    field_errors_add(errs, CAUSE_INVALID, field, "Invalid value: %s: %s", v, detail);
  else
    field_errors_add(errs, CAUSE_INVALID, field, "Invalid value: %s", v);
}

void field_errors_not_supported(struct field_errors *errs, const char *field,
                                const json_t *value, const char *const *supported) {
  _cleanup_free_ char *v = value_text(value);
  size_t cap = 64, len = 0;
  _cleanup_free_ char *list = xmalloc(cap);
  list[0] = 0;
  for (size_t i = 0; supported && supported[i]; i++) {
    size_t need = len + strlen(supported[i]) + 5;
    if (need > cap)
      list = xrealloc(list, cap = need * 2);
    len += (size_t)sprintf(list + len, "%s\"%s\"", i ? ", " : "", supported[i]);
  }
  if (len)
    field_errors_add(errs, CAUSE_NOT_SUPPORTED, field,
                     "Unsupported value: %s: supported values: %s", v, list);
  else
    field_errors_add(errs, CAUSE_NOT_SUPPORTED, field, "Unsupported value: %s", v);
}

void field_errors_duplicate(struct field_errors *errs, const char *field, const json_t *value) {
  _cleanup_free_ char *v = value_text(value);
  field_errors_add(errs, CAUSE_DUPLICATE, field, "Duplicate value: %s", v);
}

void field_errors_forbidden(struct field_errors *errs, const char *field, const char *detail) {
  field_errors_add(errs, CAUSE_FORBIDDEN, field, "Forbidden: %s", detail);
}

void field_errors_too_long(struct field_errors *errs, const char *field, const json_t *value,
                           size_t max) {
  (void)value;
  field_errors_add(errs, CAUSE_TOO_LONG, field, "Too long: may not be more than %zu %s", max,
                   max == 1 ? "byte" : "bytes");
}

void field_errors_clear(struct field_errors *errs) {
  for (size_t i = 0; i < errs->n; i++) {
    free(errs->items[i].type);
    free(errs->items[i].field);
    free(errs->items[i].message);
  }
  free(errs->items);
  errs->items = NULL;
  errs->n = 0;
}

void api_error_clear(struct api_error *e) {
  free(e->reason);
  free(e->message);
  if (e->details)
    json_decref(e->details);
  memset(e, 0, sizeof(*e));
}

static int set_v(struct api_error *e, int errno_value, int code, const char *reason,
                 const char *fmt, va_list ap) {
  api_error_clear(e);
  e->code = code;
  e->reason = xstrdup(reason);
  e->message = vformat(fmt, ap);
  return errno_value;
}

int api_error_set(struct api_error *e, int errno_value, int code, const char *reason,
                  const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = set_v(e, errno_value, code, reason, fmt, ap);
  va_end(ap);
  return r;
}

/* kube-apiserver names a resource "plural.group" in messages, or just the plural for the
 * core group. */
static char *qualified(const char *group, const char *resource) {
  if (group && *group)
    return xasprintf("%s.%s", resource, group);
  return xstrdup(resource);
}

static json_t *details_for(const char *group, const char *kind, const char *name) {
  json_t *d = json_object();
  if (name && *name)
    json_object_set_new(d, "name", json_string(name));
  if (group && *group)
    json_object_set_new(d, "group", json_string(group));
  if (kind && *kind)
    json_object_set_new(d, "kind", json_string(kind));
  return d;
}

int api_error_not_found(struct api_error *e, const char *group, const char *resource,
                        const char *name) {
  _cleanup_free_ char *q = qualified(group, resource);
  api_error_set(e, -ENOENT, 404, "NotFound", "%s \"%s\" not found", q, name);
  e->details = details_for(group, resource, name);
  return -ENOENT;
}

int api_error_already_exists(struct api_error *e, const char *group, const char *resource,
                             const char *name) {
  _cleanup_free_ char *q = qualified(group, resource);
  api_error_set(e, -EEXIST, 409, "AlreadyExists", "%s \"%s\" already exists", q, name);
  e->details = details_for(group, resource, name);
  return -EEXIST;
}

int api_error_conflict(struct api_error *e, const char *group, const char *resource,
                       const char *name, const char *detail) {
  _cleanup_free_ char *q = qualified(group, resource);
  api_error_set(e, -ESTALE, 409, "Conflict", "Operation cannot be fulfilled on %s \"%s\": %s",
                q, name, detail);
  e->details = details_for(group, resource, name);
  return -ESTALE;
}

int api_error_invalid(struct api_error *e, const char *group, const char *kind,
                      const char *name, const struct field_errors *errs) {
  /* One error prints as "field: message"; several as "[a: m1, b: m2]", as
   * utilerrors.NewAggregate does. */
  size_t cap = 256, len = 0;
  _cleanup_free_ char *agg = xmalloc(cap);
  agg[0] = 0;
  for (size_t i = 0; i < errs->n; i++) {
    const struct field_error *fe = &errs->items[i];
    size_t need = len + strlen(fe->field) + strlen(fe->message) + 8;
    if (need > cap)
      agg = xrealloc(agg, cap = need * 2);
    len += (size_t)sprintf(agg + len, "%s%s%s%s", i ? ", " : "", fe->field,
                           *fe->field ? ": " : "", fe->message);
  }
  if (errs->n > 1)
    api_error_set(e, -EINVAL, 422, "Invalid", "%s \"%s\" is invalid: [%s]", kind,
                  name ? name : "", agg);
  else
    api_error_set(e, -EINVAL, 422, "Invalid", "%s \"%s\" is invalid: %s", kind,
                  name ? name : "", agg);
  json_t *d = details_for(group, kind, name);
  json_t *causes = json_array();
  for (size_t i = 0; i < errs->n; i++) {
    const struct field_error *fe = &errs->items[i];
    json_array_append_new(causes, json_pack("{s:s,s:s,s:s}", "reason", fe->type, "message",
                                            fe->message, "field", fe->field));
  }
  json_object_set_new(d, "causes", causes);
  e->details = d;
  return -EINVAL;
}

int api_error_bad_request(struct api_error *e, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = set_v(e, -EINVAL, 400, "BadRequest", fmt, ap);
  va_end(ap);
  return r;
}

/* Messages quote what clients sent, which need not be UTF-8; JSON strings must be. */
static json_t *utf8_string(const char *s) {
  json_t *v = json_string(s);
  if (v)
    return v;
  _cleanup_free_ char *copy = xstrdup(s);
  for (char *p = copy; *p; p++)
    if ((unsigned char)*p >= 0x80)
      *p = '?';
  return json_string(copy);
}

json_t *api_error_to_status(const struct api_error *e) {
  json_t *st = json_pack("{s:s,s:s,s:{},s:s,s:o}", "kind", "Status", "apiVersion", "v1", "metadata",
                         "status", "Failure", "message", utf8_string(e->message ? e->message : ""));
  if (e->reason && *e->reason)
    json_object_set_new(st, "reason", utf8_string(e->reason));
  if (e->details)
    json_object_set(st, "details", e->details);
  json_object_set_new(st, "code", json_integer(e->code ? e->code : 500));
  return st;
}
