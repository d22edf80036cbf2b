/* Fuzzes the parsing of request paths into resource requests (method + path). */
#include <stdint.h>
#include <string.h>

#include "apiserver/request.h"
#include "lib/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"};
  if (size < 1)
    return 0;
  const char *method = methods[data[0] % ARRAY_SIZE(methods)];
  bool watch = data[0] & 0x80;
  char *path = xstrndup((const char *)data + 1, size - 1);
  struct request_info info;
  if (request_info_parse(method, path, watch, &info) == 0)
    request_info_clear(&info);
  free(path);
  return 0;
}
