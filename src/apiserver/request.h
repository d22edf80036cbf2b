/* request.h — what a resource request is about, parsed from its path and query as
 * kube-apiserver's RequestInfo does:
 *   /api/v1/namespaces/NS/pods/NAME/status
 *   /apis/apps/v1/deployments?labelSelector=...
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "api/registry.h"

struct request_info {
  bool is_resource;       /* false for /version, /healthz, discovery, openapi */
  char *group;            /* "" for /api */
  char *version;
  char *namespace_;       /* NULL when not in a namespace path */
  char *resource;         /* plural */
  char *name;             /* NULL for collections */
  char *subresource;      /* NULL when none */
  const char *verb;       /* get list watch create update patch delete deletecollection */
  const struct api_resource *res; /* NULL when unknown */
};

/* Parses method + path. Returns 0 for resource paths (fills info), -ENOENT for paths that
 * are not resource requests (info->is_resource false), -EINVAL for malformed ones.
 * watch is whether ?watch=true/1 was given. */
int request_info_parse(const char *method, const char *path, bool watch,
                       struct request_info *info);
void request_info_clear(struct request_info *info);
