#include "controllers/ctlutil.h"

#include <errno.h>
#include <string.h>

#include "lib/macro.h"

json_t *ctlutil_find_condition(const json_t *status, const char *type) {
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(status, "conditions"), i, c) {
    if (streq_ptr(json_string_value(json_object_get(c, "type")), type))
      return c;
  }
  return NULL;
}

json_t *ctlutil_int_or_null(long long v) {
  return v ? json_integer(v) : json_null();
}

int ctlutil_patch_status(struct controller *c, const char *group_version_prefix, const char *ns,
                         const char *plural, const char *name, const json_t *patch) {
  _cleanup_free_ char *coll = controller_path(group_version_prefix, ns, plural);
  _cleanup_free_ char *path = xasprintf("%s/%s/status", coll, name);
  _cleanup_free_ char *err = NULL;
  int r = controller_patch(c, path, patch, false, NULL, &err);
  if (r == -ENOENT)
    return 0;
  if (r < 0)
    controller_log(c, "updating status of %s/%s: %s", ns, name, err ? err : strerror(-r));
  return r;
}
