#include "apiserver/request.h"

#include <stdio.h>

#include "lib/macro.h"

void request_info_clear(struct request_info *info) {
  free(info->group);
  free(info->version);
  free(info->namespace_);
  free(info->resource);
  free(info->name);
  free(info->subresource);
  memset(info, 0, sizeof(*info));
}

/* Splits a path into at most max segments (empty segments dropped). */
static size_t split(char *path, char **parts, size_t max) {
  size_t n = 0;
  char *save = NULL;
  for (char *s = strtok_r(path, "/", &save); s && n < max; s = strtok_r(NULL, "/", &save))
    parts[n++] = s;
  return n;
}

int request_info_parse(const char *method, const char *path, bool watch,
                       struct request_info *info) {
  memset(info, 0, sizeof(*info));
  _cleanup_free_ char *copy = xstrdup(path);
  char *p[12];
  size_t n = split(copy, p, ARRAY_SIZE(p));
  size_t i;
  if (n >= 2 && streq(p[0], "api")) {
    info->group = xstrdup("");
    info->version = xstrdup(p[1]);
    i = 2;
  } else if (n >= 3 && streq(p[0], "apis")) {
    info->group = xstrdup(p[1]);
    info->version = xstrdup(p[2]);
    i = 3;
  } else {
    return -ENOENT;
  }
  if (i == n) {
    request_info_clear(info);
    return -ENOENT; /* group-version discovery document */
  }
  info->is_resource = true;
  /* "namespaces/NS/<resource>..." is a namespaced request; "namespaces/NS" alone (or
   * with a subresource like status/finalize) is the namespace object itself. */
  if (streq(p[i], "namespaces") && n >= i + 3 && !streq(p[i + 2], "status") &&
      !streq(p[i + 2], "finalize")) {
    info->namespace_ = xstrdup(p[i + 1]);
    i += 2;
  }
  info->resource = xstrdup(p[i++]);
  if (i < n)
    info->name = xstrdup(p[i++]);
  if (i < n)
    info->subresource = xstrdup(p[i++]);
  if (i < n) {
    request_info_clear(info);
    return -EINVAL;
  }
  bool collection = info->name == NULL;
  if (streq(method, "GET") || streq(method, "HEAD"))
    info->verb = watch ? "watch" : collection ? "list" : "get";
  else if (streq(method, "POST"))
    info->verb = "create";
  else if (streq(method, "PUT"))
    info->verb = "update";
  else if (streq(method, "PATCH"))
    info->verb = "patch";
  else if (streq(method, "DELETE"))
    info->verb = collection ? "deletecollection" : "delete";
  else
    info->verb = "unknown";
  info->res = api_registry_find(info->group, info->version, info->resource);
  return 0;
}
