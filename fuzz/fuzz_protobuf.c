/* Fuzz target for the protobuf request-body decoder. The first input byte picks the
 * resource the body is decoded for; the rest is the body ("k8s\0" + runtime.Unknown). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "api/protobuf.h"
#include "api/schema.h"
#include "lib/json.h"

static const struct {
  const char *group, *version, *kind;
} kinds[] = {
    {"", "v1", "ConfigMap"},
    {"", "v1", "Secret"},
    {"", "v1", "Namespace"},
    {"", "v1", "Service"},
    {"", "v1", "PodTemplate"},
    {"", "v1", "ResourceQuota"},
    {"apps", "v1", "Deployment"},
    {"batch", "v1", "Job"},
    {"batch", "v1", "CronJob"},
    {"rbac.authorization.k8s.io", "v1", "Role"},
    {"authorization.k8s.io", "v1", "SelfSubjectAccessReview"},
    {"networking.k8s.io", "v1", "Ingress"},
    {"policy", "v1", "PodDisruptionBudget"},
    {"scheduling.k8s.io", "v1", "PriorityClass"},
    {"admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy"},
    {"", "v1", "Pod"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  size_t i = data[0] % (sizeof(kinds) / sizeof(kinds[0]));
  struct api_resource r = {
      .group = kinds[i].group, .version = kinds[i].version, .kind = kinds[i].kind};
  r.schema = schema_find_gvk(schema_builtin(), r.group, r.version, r.kind);
  if (!r.schema)
    return 0;
  /* A copy of exactly the body, so any over-read lands outside the allocation. */
  char *body = malloc(size - 1 ? size - 1 : 1);
  if (!body)
    return 0;
  for (size_t k = 1; k < size; k++)
    body[k - 1] = (char)data[k];
  struct api_error err = {0};
  json_t *obj = NULL;
  if (protobuf_decode_object(&r, body, size - 1, &obj, &err) == 0) {
    char *s = json_encode(obj);
    free(s);
    json_decref(obj);
  } else if (err.code != 400 && err.code != 415) {
    abort();
  }
  api_error_clear(&err);
  free(body);
  return 0;
}
