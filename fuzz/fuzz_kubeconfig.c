/* Fuzzes the kubeconfig reader: YAML/JSON text resolved to a context's credentials. No
 * base directory is given, so file references are refused and nothing is read. */
#include <stdint.h>
#include <stdlib.h>

#include "client/kubeconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const contexts[] = {NULL, "default", "x"};
  for (size_t i = 0; i < ARRAY_SIZE(contexts); i++) {
    struct kubeconfig_creds *c = NULL;
    char *err = NULL;
    int r = kubeconfig_parse((const char *)data, size, NULL, contexts[i], &c, &err);
    if (r == 0 && (!c || !c->server || !c->context))
      abort();
    if (r < 0 && !err)
      abort();
    free(err);
    kubeconfig_creds_free(c);
  }
  return 0;
}
