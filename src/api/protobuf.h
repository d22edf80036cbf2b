/* protobuf.h — Kubernetes protobuf request bodies (magic "k8s\0" + runtime.Unknown
 * wrapping the object's protobuf encoding), decoded into the JSON object the schema
 * describes, using the protobuf field numbers kept in the schema (pb=N). */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "api/registry.h"
#include "api/status.h"

/* Decodes a body for resource r (r->schema must be set; group/version/kind name it).
 *
 * On success *ret is a new JSON object (the caller owns the reference) holding
 * apiVersion and kind of r, then the object's fields. Zero values that Go's protobuf
 * encoding writes but its JSON form omits ("", false, 0, empty structs, the zero time)
 * are left out, except for Go pointer fields and fields the schema marks required, so
 * the result matches what kube-apiserver would hold after decoding the same body.
 * Quantities, IntOrString, Time/MicroTime (RFC 3339, UTC), Duration, bytes (base64) and
 * RawExtension/FieldsV1 (embedded JSON) take their JSON forms; unknown field numbers
 * are skipped; invalid UTF-8 in strings becomes U+FFFD.
 *
 * An empty typeMeta apiVersion/kind defaults to r's. Errors, in kube-apiserver's words,
 * with *err set and *ret untouched:
 *   415 UnsupportedMediaType  r's schema has no protobuf numbers (-EINVAL);
 *   400 BadRequest (-EINVAL)  no "k8s\0" magic; a malformed runtime.Unknown; an apiVersion
 *                             other than r's; a kind other than r's; a malformed object
 *                             (truncated varint, length past the end, wrong wire type,
 *                             messages nested deeper than 64, non-JSON raw bytes, a time
 *                             outside years 0-9999).
 * Never reads outside body[0..len). Thread-safe: uses only the immutable schema set. */
int protobuf_decode_object(const struct api_resource *r, const char *body, size_t len,
                           json_t **ret, struct api_error *err);
