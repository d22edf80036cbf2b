/* Fuzzes the static token file parser (kube's CSV format) and lookups in the result. */
#include <stdint.h>
#include <stdlib.h>

#include "apiserver/authn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct authn_tokens *t = NULL;
  char *err = NULL;
  if (authn_tokens_parse((const char *)data, size, "fuzz.csv", &t, &err) < 0) {
    if (!err)
      abort();
    free(err);
    return 0;
  }
  /* Every token that parsed must be found again; the first line's token is a handy
   * probe that may or may not exist. */
  const struct authn_user *u;
  char probe[32];
  size_t n = size < sizeof(probe) - 1 ? size : sizeof(probe) - 1;
  memcpy(probe, data, n);
  probe[n] = '\0';
  probe[strcspn(probe, ",\n")] = '\0';
  if (authn_tokens_lookup(t, probe, &u) == 0 && !u->name)
    abort();
  authn_tokens_free(t);
  return 0;
}
