/* protobuf.h — Kubernetes protobuf request bodies (magic "k8s\0" + runtime.Unknown
 * wrapping the object's protobuf encoding), decoded into the JSON object the schema
 * describes, using the protobuf field numbers kept in the schema (pb=N). */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "api/registry.h"
#include "api/status.h"

/* Decodes a body for resource r. Errors: 400 BadRequest for malformed input or a kind
 * that does not match the resource; 415 UnsupportedMediaType when the type has no
 * protobuf numbers. */
int protobuf_decode_object(const struct api_resource *r, const char *body, size_t len,
                           json_t **ret, struct api_error *err);
