/* apply.h — server-side apply and metadata.managedFields, as kube-apiserver 1.32 keeps
 * them (structured-merge-diff v4).
 *
 * Every write records who owns which fields: an entry per (manager, operation,
 * apiVersion for updates, subresource) in metadata.managedFields, its fields a FieldsV1
 * set (fieldpath.h). apply_patch() merges an applied configuration into the live object
 * by the schema (list-maps by key, sets by value, atomic values replaced whole, maps and
 * structs field by field), removes what the same manager applied before but no longer
 * applies (unless another manager owns it), and refuses to change a value another
 * manager owns (409 Conflict) unless forced, in which case ownership moves.
 * managed_fields_update() records a create/update/patch that is not an apply: the
 * manager gains the fields it added or changed and everyone else loses them.
 *
 * Inputs are never mutated (they may be shared read-only); results are new trees.
 * Functions are reentrant; nothing here logs.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "api/fieldpath.h"
#include "api/schema.h"
#include "api/status.h"

/* Kube keeps at most this many "Update" entries; the oldest are merged into one entry
 * named "ancient-changes" per apiVersion. */
#define APPLY_MAX_UPDATE_MANAGERS 10

struct apply_request {
  const struct schema_type *type; /* the resource's top-level type (Pod, ConfigMap) */
  const char *manager;            /* fieldManager; required */
  const char *subresource;        /* "status", "scale", ... or NULL for the main resource */
  const char *api_version;        /* the request's group/version: "v1", "apps/v1" */
  const char *now;                /* RFC 3339 UTC seconds, "2024-05-01T10:00:00Z" */
  bool force;                     /* apply: ?force=true */
  /* Fields this endpoint resets (status on the main resource, everything but status on
   * /status): never owned, never taken from the applied config. NULL for none. */
  const struct fieldpath_set *ignored;
};

/* Server-side apply of `applied` (the decoded apply-patch body) onto `live` (NULL when
 * the object does not exist yet: the result is then the object to create, before the
 * server fills name defaults, uid and timestamps).
 *
 * On success *ret is the new object (new reference) with metadata.managedFields set;
 * when nothing but ownership changed it equals live apart from managedFields, and
 * when nothing changed at all it equals live (the manager's time is then not bumped).
 *
 * Errors (api_error filled, negative errno returned):
 *   -ESTALE  409 Conflict: `Apply failed with 1 conflict: conflict with "m" using v1:
 *            .data.a`, details.causes[{type:"FieldManagerConflict", message, field}]
 *   -EINVAL  422 Invalid: no manager (`PatchOptions.meta.k8s.io "" is invalid:
 *            fieldManager: Required value: is required for apply patch`)
 *   -EINVAL  400 BadRequest: `metadata.managedFields must be nil`, or the applied
 *            object is not an object
 *   -EINVAL  500 InternalError: the applied or live object cannot be typed (a list-map
 *            item without its key, duplicate keys in the applied config)
 *   -EINVAL  500 InternalError: the live managedFields cannot be decoded */
int apply_patch(const struct apply_request *req, const json_t *live, const json_t *applied,
                json_t **ret, struct api_error *err);

/* Records a non-apply write (create when old is NULL, update, patch, and writes to a
 * subresource when req->subresource is set) in the managedFields of new_obj.
 *
 * Incoming managedFields are honoured as kube does: a valid non-empty list in new_obj
 * replaces the live one (clients may edit ownership), `[]` or `[{}]` resets ownership
 * to nothing before this write is recorded, anything else (absent, invalid) keeps the
 * live entries. Writes through a subresource always keep the live entries.
 *
 * On success *ret is a copy of new_obj with metadata.managedFields rewritten (new
 * reference). Errors: -EINVAL (400 BadRequest) when the manager is missing (kube defaults
 * it from the User-Agent before this point; callers must do the same). An object
 * that cannot be typed gets no managedFields rather than an error, as kube does. */
int managed_fields_update(const struct apply_request *req, const json_t *old, const json_t *new_obj,
                          json_t **ret, struct api_error *err);
