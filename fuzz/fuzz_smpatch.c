/* Fuzzes patch_strategic() through the shared patch harness (patch_fuzz.h): an object and
 * a patch back to back (`{"spec":{"containers":[{"name":"a"}]}}
 * {"spec":{"containers":[{"name":"b"}]}}`), applied with the schema of a Pod-like type that
 * has every kind of list strategy, and without a schema. */
#include "api/schema.h"
#include "patch_fuzz.h"

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

static int apply(const void *ctx, const json_t *doc, const json_t *patch, json_t **ret,
                 struct api_error *err) {
  return patch_strategic(ctx, doc, patch, ret, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const struct schema_type *t = pod_type();
  assert(t);
  fuzz_patch_input(data, size, apply, t);
  return fuzz_patch_input(data, size, apply, NULL);
}
