/* Fuzzes patch_merge() through the shared patch harness (patch_fuzz.h): an object and an
 * RFC 7386 patch back to back, e.g. `{"a":{"b":1}} {"a":{"b":null}}`. */
#include "patch_fuzz.h"

static int apply(const void *ctx, const json_t *doc, const json_t *patch, json_t **ret,
                 struct api_error *err) {
  return patch_merge(doc, patch, ret, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzz_patch_input(data, size, apply, NULL);
}
