/* Feeds arbitrary bytes to json_decode and re-encodes whatever it accepts. */
#include <stdint.h>
#include <stdlib.h>

#include "lib/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_t *v = NULL;
  char *err = NULL;
  if (json_decode((const char *)data, size, &v, &err) == 0) {
    free(json_encode(v));
    json_decref(v);
  } else {
    free(err);
  }
  return 0;
}
