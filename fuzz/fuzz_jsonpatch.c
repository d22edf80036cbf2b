/* Fuzzes patch_json(). Input: two JSON texts back to back, the object then the patch
 * (`{"a":1} [{"op":"remove","path":"/a"}]`). Checks that the object is never modified and
 * that every failure carries a status code. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/patch.h"
#include "lib/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_error_t e;
  _cleanup_json_ json_t *doc =
      json_loadb((const char *)data, size, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, &e);
  if (!doc || e.position < 0 || (size_t)e.position > size)
    return 0;
  _cleanup_json_ json_t *patch =
      json_loadb((const char *)data + e.position, size - (size_t)e.position, JSON_DECODE_ANY, &e);
  if (!patch || !json_is_object(doc))
    return 0;
  _cleanup_free_ char *before = json_encode(doc);
  _cleanup_json_ json_t *out = NULL;
  _cleanup_api_error_ struct api_error err = {0};
  int r = patch_json(doc, patch, &out, &err);
  if (r < 0)
    assert(!out && err.code >= 400 && err.message);
  else
    assert(json_is_object(out) && err.code == 0);
  _cleanup_free_ char *after = json_encode(doc);
  assert(strcmp(before, after) == 0);
  return 0;
}
