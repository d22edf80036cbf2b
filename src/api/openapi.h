/* openapi.h — the OpenAPI v3 documents kubectl reads (/openapi/v3 and
 * /openapi/v3/<api|apis/group>/<version>), derived from the registry and the schemas.
 *
 * kubectl looks for a PATCH operation carrying x-kubernetes-group-version-kind and a
 * `fieldValidation` parameter to decide on server-side field validation, and reads
 * components.schemas for `kubectl explain`. Documents are immutable for the life of the
 * process; the encoded forms are built once and shared by every thread.
 */
#pragma once

#include <jansson.h>
#include <stddef.h>

/* {"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=H"},
 *            "apis/apps/v1": {...}, ...}} with H the hash of that document's encoding.
 * New reference; never NULL. Thread-safe. */
json_t *openapi_v3_root(void);

/* The OpenAPI 3.0 document of one group version (group "" = core): paths for every
 * resource and served subresource of it (list/create/deletecollection on the collection,
 * get/put/patch/delete on the item, list across namespaces), and components.schemas for
 * every type they reach. New reference, or NULL when the registry has no resource in
 * that group version. Thread-safe. */
json_t *openapi_v3_group_version(const char *group, const char *version);

/* An encoded, cached document. body is compact JSON (len bytes, NUL-terminated); hash is
 * the uppercase hex SHA-512 of body, for `?hash=` and as the ETag. Owned by the module,
 * valid until exit. */
struct openapi_doc {
  const char *body;
  size_t len;
  const char *hash;
};

/* The cached document for a request path below /openapi/v3: "" (or NULL) for the root,
 * "api/v1", "apis/apps/v1". Returns NULL for an unknown path. Built on first use
 * (thread-safe, lock-free afterwards). */
const struct openapi_doc *openapi_v3_document(const char *path);
