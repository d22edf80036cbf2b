/* Parses arbitrary bytes as a label selector and as a field selector; whatever parses is
 * printed, re-parsed and matched. */
#include <stdint.h>
#include <stdlib.h>

#include "lib/selector.h"

static const char *get(void *ud, const char *field) { return ud; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = xstrndup((const char *)data, size);
  selector_t *sel = NULL;
  char *err = NULL;
  if (selector_parse(s, &sel, &err) == 0) {
    char *str = selector_to_string(sel);
    selector_t *again = NULL;
    char *err2 = NULL;
    if (selector_parse(str, &again, &err2) == 0)
      selector_free(again);
    else
      free(err2);
    json_t *labels = json_pack("{s:s,s:s}", "app", "web", "x", "1");
    selector_matches(sel, labels);
    selector_matches(sel, NULL);
    json_decref(labels);
    free(str);
    selector_free(sel);
  } else {
    free(err);
  }
  selector_field_t *fs = NULL;
  if (selector_field_parse(s, &fs, &err) == 0) {
    free(selector_field_to_string(fs));
    selector_field_matches(fs, get, "v");
    selector_field_free(fs);
  } else {
    free(err);
  }
  json_t *js = json_loadb((const char *)data, size, 0, NULL);
  if (js) {
    if (selector_from_json(js, &sel, &err) == 0)
      selector_free(sel);
    else
      free(err);
    json_decref(js);
  }
  free(s);
  return 0;
}
