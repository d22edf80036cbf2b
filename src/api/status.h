/* status.h — API errors: field errors collected by validation, and the metav1.Status
 * objects that carry them to clients (kind: Status, reason, code, message, details).
 *
 * An api_error is the error out-parameter of the API layer: whoever knows the cause
 * fills it (which field, which value, what was expected) and the HTTP layer turns it
 * into a Status response. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "lib/macro.h"

/* metav1.CauseType values, as kube-apiserver words them. */
#define CAUSE_NOT_FOUND "FieldValueNotFound"
#define CAUSE_REQUIRED "FieldValueRequired"
#define CAUSE_DUPLICATE "FieldValueDuplicate"
#define CAUSE_INVALID "FieldValueInvalid"
#define CAUSE_NOT_SUPPORTED "FieldValueNotSupported"
#define CAUSE_FORBIDDEN "FieldValueForbidden"
#define CAUSE_TOO_LONG "FieldValueTooLong"
#define CAUSE_TOO_MANY "FieldValueTooMany"
#define CAUSE_TYPE_INVALID "FieldValueTypeInvalid"
#define CAUSE_UNKNOWN_FIELD "FieldValueUnknownField" /* not a k8s cause; used for strict decoding */

struct field_error {
  char *type;    /* one of CAUSE_* */
  char *field;   /* "spec.containers[0].name", "metadata.labels" */
  char *message; /* the full text kube-apiserver prints for it, e.g.
                    `Invalid value: "Foo": a lowercase RFC 1123 label must ...` */
};

struct field_errors {
  struct field_error *items;
  size_t n;
};

/* Appends an error. The message is printf-formatted; field is copied. */
void field_errors_add(struct field_errors *errs, const char *type, const char *field,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The standard messages (as k8s.io/apimachinery/pkg/util/validation/field words them):
 *   Required:      `Required value` [+ ": detail"]
 *   Invalid:       `Invalid value: <json of value>: detail`
 *   NotSupported:  `Unsupported value: <json>: supported values: "a", "b"`
 *   Duplicate:     `Duplicate value: <json>`
 *   Forbidden:     `Forbidden: detail`
 *   TooLong:       `Too long: may not be more than N bytes`
 * value may be NULL for Required/Forbidden. */
void field_errors_required(struct field_errors *errs, const char *field, const char *detail);
void field_errors_invalid(struct field_errors *errs, const char *field, const json_t *value,
                          const char *detail);
void field_errors_not_supported(struct field_errors *errs, const char *field,
                                const json_t *value, const char *const *supported);
void field_errors_duplicate(struct field_errors *errs, const char *field, const json_t *value);
void field_errors_forbidden(struct field_errors *errs, const char *field, const char *detail);
void field_errors_too_long(struct field_errors *errs, const char *field, const json_t *value,
                           size_t max);
void field_errors_clear(struct field_errors *errs);
static inline void field_errors_clearp(struct field_errors *e) { field_errors_clear(e); }
#define _cleanup_field_errors_ _cleanup_(field_errors_clearp)

/* The API error out-parameter. code 0 = no error. */
struct api_error {
  int code;       /* HTTP status */
  char *reason;   /* "NotFound", "Invalid", ... */
  char *message;
  json_t *details; /* owned; may be NULL */
};

void api_error_clear(struct api_error *e);
static inline void api_error_clearp(struct api_error *e) { api_error_clear(e); }
#define _cleanup_api_error_ _cleanup_(api_error_clearp)

/* Sets *e (clearing what it held) and returns -errno_value, so call sites can
 * `return api_error_set(err, -EINVAL, 400, "BadRequest", "...")`. */
int api_error_set(struct api_error *e, int errno_value, int code, const char *reason,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Common errors, worded as kube-apiserver words them. resource is the plural with its
 * group ("pods", "deployments.apps"); kind is used in details.kind.
 *   NotFound:      `pods "x" not found`                       404
 *   AlreadyExists: `pods "x" already exists`                  409
 *   Conflict:      `Operation cannot be fulfilled on pods "x": <detail>` 409
 *   Invalid:       `Pod "x" is invalid: <field>: <message>[, ...]` (or `[a, b]` for
 *                  several) 422, details.causes from errs
 *   BadRequest:    message as given                            400
 *   Expired:       message as given                            410
 * All return a negative errno (-ENOENT, -EEXIST, -ESTALE, -EINVAL, -EINVAL, -ERANGE). */
int api_error_not_found(struct api_error *e, const char *group, const char *resource,
                        const char *name);
int api_error_already_exists(struct api_error *e, const char *group, const char *resource,
                             const char *name);
int api_error_conflict(struct api_error *e, const char *group, const char *resource,
                       const char *name, const char *detail);
int api_error_invalid(struct api_error *e, const char *group, const char *kind,
                      const char *name, const struct field_errors *errs);
int api_error_bad_request(struct api_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The metav1.Status object for an error (new reference). */
json_t *api_error_to_status(const struct api_error *e);
