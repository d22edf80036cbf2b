/* validate.h — schema-driven decoding checks, defaulting and validation, generic for
 * every type described in src/api/schemas/.
 *
 * The API server runs, for each object it receives, in this order (as kube-apiserver
 * does):
 *
 *   validate_decode()   JSON types against the schema, unknown fields per the request's
 *                       fieldValidation mode; drops unknown fields and nulls so the object
 *                       holds what a typed decode would keep.  Failure = 400 BadRequest.
 *   validate_default()  fills `default=` values.
 *   (strategy prepare_create / prepare_update)
 *   validate_object()   metadata (ValidateObjectMeta) + required/enum/format/min/max/oneof
 *                       rules from the schema, as field errors with Kubernetes paths.
 *                       Failure = 422 Invalid via api_error_invalid().
 *
 * Nothing here keeps state: every function is safe to call from any thread on objects
 * the caller owns. Nothing logs.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/registry.h"
#include "api/schema.h"
#include "api/status.h"
#include "lib/macro.h"

/* The fieldValidation query parameter. An absent parameter means Warn (as in
 * kube-apiserver since 1.27). */
enum validate_unknown {
  VALIDATE_UNKNOWN_WARN = 0,
  VALIDATE_UNKNOWN_STRICT,
  VALIDATE_UNKNOWN_IGNORE,
};

/* Parses a fieldValidation value ("Strict", "Warn", "Ignore"; NULL or "" = Warn).
 * Returns 0, or -EINVAL for anything else (kube-apiserver then answers 422 with
 * `fieldValidation: Unsupported value: "x": supported values: "Ignore", "Warn", "Strict"`;
 * validate_unknown_values lists them in that order). */
int validate_unknown_parse(const char *value, enum validate_unknown *ret);
extern const char *const validate_unknown_values[];

/* Warnings to send back as `Warning: 299 - "text"` headers. */
struct validate_warnings {
  char **items;
  size_t n;
};
void validate_warnings_clear(struct validate_warnings *w);
static inline void validate_warnings_clearp(struct validate_warnings *w) {
  validate_warnings_clear(w);
}
#define _cleanup_validate_warnings_ _cleanup_(validate_warnings_clearp)

/* Decode check of a request body for a resource, in place.
 *
 * - A JSON value of the wrong type fails with kube-apiserver's text, e.g.
 *   `Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal
 *   string into Go struct field DeploymentSpec.spec.replicas of type int32`; a quantity
 *   that does not parse fails with `... quantities must match the regular expression
 *   '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`.
 * - Unknown fields (paths like `spec.containers[0].foo`, map values as `data[key].foo`):
 *   STRICT fails with `... strict decoding error: unknown field "a", unknown field "b"`;
 *   WARN appends `unknown field "a"` to *warnings (which may be NULL); IGNORE is silent.
 *   In every mode they are removed from obj, as is any field whose value is null, so the
 *   stored object holds only what the schema knows. Fields typed `any` keep everything.
 *
 * obj must be a JSON object. Returns 0, or -EINVAL with *err set to a 400 BadRequest.
 * Warnings may be appended even on failure. */
int validate_decode(const struct api_resource *res, json_t *obj, enum validate_unknown mode,
                    struct validate_warnings *warnings, struct api_error *err);

/* The same for any struct type; kind and version word the error message (`<kind> in
 * version "<version>" cannot be handled as a <kind>: ...`). */
int validate_decode_type(const struct schema_type *type, const char *kind, const char *version,
                         json_t *obj, enum validate_unknown mode,
                         struct validate_warnings *warnings, struct api_error *err);

/* Sets `default=` values, in place: on every struct that is present (the object itself,
 * nested structs, list items and map values of struct type), for each absent field
 * with a default. A defaulted struct value (e.g. `default={}`) is itself defaulted.
 * Never creates a parent that is absent. Values of the wrong JSON type are left alone
 * (run validate_decode first). */
void validate_default(const struct api_resource *res, json_t *obj);
void validate_default_type(const struct schema_type *type, json_t *obj);

/* How metadata.name must look (kube-apiserver picks one per resource). */
enum validate_name {
  VALIDATE_NAME_SUBDOMAIN = 0, /* DNS-1123 subdomain: most resources */
  VALIDATE_NAME_LABEL,         /* DNS-1123 label: namespaces */
  VALIDATE_NAME_DNS1035,       /* DNS-1035 label: services */
  VALIDATE_NAME_PATH_SEGMENT,  /* anything but ".", "..", "/" or "%": RBAC, ... */
  VALIDATE_NAME_NONE,          /* the strategy checks the name itself */
};

/* The name rule kube-apiserver applies to a resource: DNS-1123 labels for namespaces,
 * DNS-1035 labels for services, path segments for RBAC objects, DNS-1123 subdomains for
 * the rest. */
enum validate_name validate_name_rule(const struct api_resource *res);

/* Validates a whole object of a resource: its metadata as ValidateObjectMeta does
 * (name or generateName, name format per name_kind, namespace present iff
 * res->namespaced, labels, annotations, ownerReferences, finalizers) and then every
 * schema rule of every field (required, enum, format, min/max, oneof), recursively.
 * Appends to errs, paths like `spec.containers[0].ports[1].containerPort`,
 * `metadata.labels`, `data[key]`. Expects a decoded (validate_decode) object.
 * Returns 0 when nothing was appended, else -EINVAL. */
int validate_object(const struct api_resource *res, const json_t *obj,
                    enum validate_name name_kind, struct field_errors *errs);

/* Schema rules only, for a value of a struct type at path ("" for the root, "spec").
 * Returns 0 when nothing was appended, else -EINVAL. */
int validate_type(const struct schema_type *type, const json_t *obj, const char *path,
                  struct field_errors *errs);

/* ObjectMeta rules only; meta may be NULL (treated as empty). path is "metadata". */
int validate_object_meta(const json_t *meta, bool namespaced, enum validate_name name_kind,
                         const char *path, struct field_errors *errs);

/* Runs a `format=` check by name on a value, appending errors at path. Formats:
 * dns1123label, dns1123subdomain, dns1035label, qualifiedname, labelvalue, port
 * (1-65535; an intstr string must then be an IANA service name), portname, nonneg,
 * ipv4, ip, cidr. Returns 0 when valid, -EINVAL when errors were appended, -ENOENT for
 * an unknown format (nothing appended). */
int validate_format(const char *format, const json_t *value, const char *path,
                    struct field_errors *errs);
