/* body.h — request bodies into JSON objects: JSON, YAML and (for the kinds kubectl's
 * generators send) Kubernetes protobuf, chosen by Content-Type. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "api/registry.h"
#include "api/status.h"

/* Decodes an object body. A missing Content-Type is JSON (kubectl's scale PUT sends
 * none). Errors are 400 BadRequest (malformed) or 415 UnsupportedMediaType. */
int body_decode(const struct api_resource *r, const char *content_type, const char *body,
                size_t len, json_t **ret, struct api_error *err);

/* Decodes a patch body: JSON, or YAML when yaml is set (apply patches). */
int body_decode_patch(const char *body, size_t len, bool yaml, json_t **ret,
                      struct api_error *err);
