/* Fuzzes patch_json() through the shared patch harness (patch_fuzz.h): an object and an
 * RFC 6902 patch back to back, e.g. `{"a":1} [{"op":"remove","path":"/a"}]`. */
#include "patch_fuzz.h"

static int apply(const void *ctx, const json_t *doc, const json_t *patch, json_t **ret,
                 struct api_error *err) {
  return patch_json(doc, patch, ret, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzz_patch_input(data, size, apply, NULL);
}
