/* patch.h — the three PATCH body formats kube-apiserver accepts, applied to a stored object:
 *
 *   application/json-patch+json            RFC 6902 operations          patch_json()
 *   application/merge-patch+json           RFC 7386 merge               patch_merge()
 *   application/strategic-merge-patch+json schema-driven merge          patch_strategic()
 *
 * (application/apply-patch+yaml, server-side apply, is not a patch format of this module.)
 *
 * Every function takes the current object as a read-only jansson tree and returns a new tree
 * with the patch applied. The input object is never modified and the result shares no node
 * with it or with the patch, so the input may be shared read-only by other threads while a
 * patch runs. The functions keep no state: any thread may call them at any time.
 *
 * Errors are worded and coded as kube-apiserver answers them, so the caller turns `err` into a
 * Status unchanged (api_error_to_status()). `err` may be NULL when only the return code is
 * wanted. On failure *ret is left untouched.
 *
 * The caller parses the request body (json_decode()); a body that is not JSON at all is a 400
 * BadRequest the caller words itself. A parsed `null` body is accepted as kube-apiserver does:
 * a no-op for JSON patch and strategic merge patch, a 400 for merge patch.
 *
 * Precondition: kube-apiserver uses the patched object's metadata.resourceVersion as the
 * precondition of the write that stores it, so a patch that sets an old resourceVersion (kubectl
 * diff, --resource-version, rollout undo) fails with 409 Conflict. ckube callers do the same with
 * patch_requested_resource_version() after a successful patch.
 */
#pragma once

#include <jansson.h>

#include "api/schema.h"
#include "api/status.h"

/* kube-apiserver refuses JSON patches with more operations than this (413). */
#define PATCH_MAX_JSON_OPERATIONS 10000
/* ...and JSON patches whose "copy" operations add more than this many bytes in total (422):
 * the apiserver's default JSONPatchMaxCopyBytes. */
#define PATCH_MAX_JSON_COPY_BYTES (3 * 1024 * 1024)

enum patch_type {
  PATCH_TYPE_JSON,      /* application/json-patch+json */
  PATCH_TYPE_MERGE,     /* application/merge-patch+json */
  PATCH_TYPE_STRATEGIC, /* application/strategic-merge-patch+json */
  PATCH_TYPE_APPLY,     /* application/apply-patch+yaml (server-side apply, not applied here) */
};

/* Maps a request Content-Type (parameters after ';' and case of the media type ignored) to
 * its patch type. Returns the enum patch_type value (>= 0), or -EOPNOTSUPP for any other media
 * type: the caller answers 415 UnsupportedMediaType. Pure function. */
int patch_type_from_media_type(const char *content_type);

/* RFC 6902 JSON patch, with kube-apiserver's behaviour (json-patch v4 semantics): negative
 * array indices count from the end, "replace" of a missing object member adds it, "test" of a
 * missing member against null passes, a missing "value" means null.
 *   patch not an array, or an element not an object:
 *       400 BadRequest `json: cannot unmarshal <type> into Go value of type jsonpatch.Patch`
 *       (`... jsonpatch.Operation` for an element)
 *   more than PATCH_MAX_JSON_OPERATIONS operations:
 *       413 RequestEntityTooLarge `Request entity too large: The allowed maximum operations in
 *       a JSON patch is 10000, got N`, returns -E2BIG
 *   any operation failing (missing path, index out of range, failed test, unknown op, copy
 *       limit, result not an object):
 *       422 Invalid `the server rejected our request due to an error in our request`
 *       (kube-apiserver keeps no detail either), returns -EINVAL
 * Returns 0 and a new reference in *ret on success; -EINVAL otherwise unless noted. */
int patch_json(const json_t *doc, const json_t *patch, json_t **ret, struct api_error *err);

/* RFC 7386 JSON merge patch: a null member deletes, objects merge recursively, anything else
 * replaces (nulls inside a replacing object are dropped).
 *   patch not an object: 400 BadRequest `Invalid JSON Patch`, returns -EINVAL.
 * Returns 0 and a new reference in *ret on success. */
int patch_merge(const json_t *doc, const json_t *patch, json_t **ret, struct api_error *err);

/* Strategic merge patch driven by the schema of the object's type `t` (NULL: no schema, every
 * list replaces). Lists whose field has patch strategy merge (schema `merge=KEY` or
 * `patch=merge`) merge their items by merge key, or as a set for primitive lists; other lists
 * replace; objects merge recursively; null deletes. Directives: `$patch: replace|delete` in
 * objects and list items, `$retainKeys`, `$setElementOrder/<field>`,
 * `$deleteFromPrimitiveList/<field>`. Fields of type any, or unknown to the schema, merge
 * without schema (objects merge, lists replace). Directive keys never reach the result.
 * Merged lists are ordered exactly as kube-apiserver orders them: by $setElementOrder when
 * given, patch items in patch order otherwise, live-only items kept at their live places.
 * Errors, as kube-apiserver reports them:
 *   patch not an object: 400 BadRequest
 *       `json: cannot unmarshal <type> into Go value of type map[string]interface {}`
 *   malformed directives, or patch content outside $retainKeys: 400 BadRequest
 *       `invalid patch format of retainKeys` (also `... of primitive list`,
 *       `... of setElementOrder list`)
 *   a list of lists under a merge strategy: 422 Invalid
 *       `the server rejected our request due to an error in our request`
 *   anything else (a list item without its merge key, an unknown $patch value, mixed item
 *       types...): 500 with no reason and Go's own text, e.g.
 *       `map: map[image:nginx] does not contain declared merge key: name`
 * All return -EINVAL. Returns 0 and a new reference in *ret on success. */
int patch_strategic(const struct schema_type *t, const json_t *doc, const json_t *patch,
                    json_t **ret, struct api_error *err);

/* The resourceVersion the patched object demands: patched's metadata.resourceVersion when it
 * is a non-empty string that differs from current's, else NULL (no precondition, or it holds).
 * A non-NULL answer means the write must fail with 409 Conflict (api_error_conflict() with
 * `the object has been modified; please apply your changes to the latest version and try
 * again`). Borrowed from `patched`. Pure function. */
const char *patch_requested_resource_version(const json_t *current, const json_t *patched);
