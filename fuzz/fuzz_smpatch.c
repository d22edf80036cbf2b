/* Fuzzes patch_strategic(). Input: two JSON texts back to back, the object then the patch
 * (`{"spec":{"containers":[{"name":"a"}]}} {"spec":{"containers":[{"name":"b"}]}}`), applied
 * with the schema of a Pod-like type that has every kind of list strategy. Checks that neither
 * input is modified and that every failure carries a status code. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/patch.h"
#include "api/schema.h"
#include "lib/json.h"

/* clang-format off */
static const char schema_text[] =
    "package io.k8s.fuzz\n"
    "type Pod\n"
    "  metadata ObjectMeta\n"
    "  spec PodSpec\n"
    "type ObjectMeta\n"
    "  name string\n"
    "  labels map[string]\n"
    "  finalizers []string patch=merge list=set\n"
    "type PodSpec\n"
    "  containers []Container merge=name\n"
    "  volumes []Volume merge=name patch=merge,retainKeys\n"
    "  tolerations []Toleration\n"
    "  affinity Toleration patch=replace\n"
    "  byName map[Container]\n"
    "  extra any\n"
    "type Container\n"
    "  name string\n"
    "  args []string\n"
    "  env []Toleration merge=key\n"
    "  ports []Port merge=containerPort\n"
    "type Port\n"
    "  containerPort int32\n"
    "  protocol string\n"
    "type Volume\n"
    "  name string\n"
    "  emptyDir Toleration\n"
    "  hostPath Toleration\n"
    "type Toleration\n"
    "  key string\n"
    "  value string\n";
/* clang-format on */

static const struct schema_type *pod_type(void) {
  static struct schema_set *set;
  if (!set) {
    char *err = NULL;
    if (schema_set_parse(schema_text, &set, &err) < 0)
      abort();
  }
  return schema_find(set, "Pod");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const struct schema_type *t = pod_type();
  assert(t);
  json_error_t e;
  _cleanup_json_ json_t *doc =
      json_loadb((const char *)data, size, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, &e);
  if (!doc || e.position < 0 || (size_t)e.position > size)
    return 0;
  _cleanup_json_ json_t *patch =
      json_loadb((const char *)data + e.position, size - (size_t)e.position, JSON_DECODE_ANY, &e);
  if (!patch || !json_is_object(doc))
    return 0;
  _cleanup_free_ char *doc_before = json_encode(doc), *patch_before = json_encode(patch);
  /* both with the schema and without */
  for (int i = 0; i < 2; i++) {
    _cleanup_json_ json_t *out = NULL;
    _cleanup_api_error_ struct api_error err = {0};
    int r = patch_strategic(i ? NULL : t, doc, patch, &out, &err);
    if (r < 0)
      assert(!out && err.code >= 400 && err.message);
    else
      assert(json_is_object(out) && err.code == 0);
  }
  _cleanup_free_ char *doc_after = json_encode(doc), *patch_after = json_encode(patch);
  assert(strcmp(doc_before, doc_after) == 0);
  assert(strcmp(patch_before, patch_after) == 0);
  return 0;
}
