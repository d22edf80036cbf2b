/* Decodes arbitrary bytes as a YAML stream, then encodes every document back to YAML and
 * decodes that again: what ckube prints must read back. */
#include <stdint.h>
#include <stdlib.h>

#include "lib/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_t *all = NULL;
  char *err = NULL;
  if (yaml_decode_all((const char *)data, size, &all, &err) < 0) {
    free(err);
    return 0;
  }
  size_t i;
  json_t *doc;
  json_array_foreach(all, i, doc) {
    char *y = yaml_encode_flags(doc, i % 2 ? YAML_ENCODE_SORT_KEYS : 0);
    json_t *back = NULL;
    char *err2 = NULL;
    if (yaml_decode_one(y, strlen(y), &back, &err2) == 0)
      json_decref(back);
    else
      free(err2);
    free(y);
  }
  json_decref(all);
  return 0;
}
