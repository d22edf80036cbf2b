/* Parses arbitrary bytes as a quantity; a parsed quantity must print, and its printed form
 * must parse back to an equal value. */
#include <stdint.h>
#include <stdlib.h>

#include "lib/macro.h"
#include "lib/quantity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = xstrndup((const char *)data, size);
  quantity_t q;
  if (quantity_parse(s, &q, NULL) == 0) {
    char *out = quantity_to_string(&q);
    quantity_t back;
    /* Kubernetes has no decimal-SI suffix beyond E (10^18), so from 10^21 up the printed
     * form loses its scale; below that the printed form must read back as the same value. */
    quantity_t hi, lo;
    quantity_parse("1000E", &hi, NULL);
    quantity_parse("-1000E", &lo, NULL);
    bool in_range = quantity_cmp(&q, &hi) < 0 && quantity_cmp(&q, &lo) > 0;
    /* ckube refuses exponents beyond ±100000; printing may move one a little further. */
    bool huge = q.scale > 99000 || q.scale < -99000;
    if (quantity_parse(out, &back, NULL) != 0) {
      if (!huge)
        abort();
      back = q;
    }
    if ((in_range || q.format == QUANTITY_DECIMAL_EXPONENT) && quantity_cmp(&q, &back) != 0)
      abort();
    quantity_value(&q);
    quantity_milli_value(&q);
    quantity_add(&back, &q);
    free(out);
  }
  free(s);
  return 0;
}
