/* patch_fuzz.h — the harness the patch fuzz targets share. Input: two JSON texts back to
 * back, the object then the patch (`{"a":1} [{"op":"remove","path":"/a"}]`). Checks that
 * neither input is ever modified, that a failure carries a status code and no result, and
 * that a success returns an object and no error. Header-only: each target is its own
 * program. */
#pragma once

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/patch.h"
#include "lib/json.h"

/* One patch function under test; ctx is the target's own (a schema type, or NULL). */
typedef int (*fuzz_patch_fn)(const void *ctx, const json_t *doc, const json_t *patch, json_t **ret,
                             struct api_error *err);

/* Runs fn on the two documents of data; inputs that are not two JSON texts, or whose
 * first text is not an object, are skipped. Always returns 0, as libFuzzer wants. */
static inline int fuzz_patch_input(const uint8_t *data, size_t size, fuzz_patch_fn fn,
                                   const void *ctx) {
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
  _cleanup_json_ json_t *out = NULL;
  _cleanup_api_error_ struct api_error err = {0};
  int r = fn(ctx, doc, patch, &out, &err);
  if (r < 0)
    assert(!out && err.code >= 400 && err.message);
  else
    assert(json_is_object(out) && err.code == 0);
  _cleanup_free_ char *doc_after = json_encode(doc), *patch_after = json_encode(patch);
  assert(strcmp(doc_before, doc_after) == 0);
  assert(strcmp(patch_before, patch_after) == 0);
  return 0;
}
