/* ctlutil.h — small helpers the controllers share that are not about pods (those are in
 * podutil.h): status conditions of any object, and writing a workload's status
 * subresource with a merge patch.
 *
 * The condition helpers only read their arguments and are thread-safe. */
#pragma once

#include "controllers/controller.h"
#include "lib/json.h"

/* The entry of status.conditions (status is an object's "status", may be NULL) whose type
 * is `type`, borrowed from status (callers that own status may change it); NULL when
 * there is none. */
json_t *ctlutil_find_condition(const json_t *status, const char *type);

/* For a status merge patch: the integer v, or JSON null for 0 — a merge patch deletes a
 * field set to null, which is how the fields kube marks omitempty stay absent at zero. A new
 * reference. */
json_t *ctlutil_int_or_null(long long v);

/* Applies `patch` (a JSON merge patch, borrowed) to the status subresource of the object
 * `name` in namespace `ns` under the collection group_version_prefix/plural (as
 * controller_path builds it). 0 when written or when the object is gone (-ENOENT: nothing
 * left to report on); otherwise the negative errno of controller_patch, after logging
 * "updating status of NS/NAME: why" through controller_log. Thread-safe. */
int ctlutil_patch_status(struct controller *c, const char *group_version_prefix, const char *ns,
                         const char *plural, const char *name, const json_t *patch);
