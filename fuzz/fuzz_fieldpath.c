/* Fuzzes the FieldsV1 parser: whatever parses must serialise and re-parse; from then on
 * serialisation is a fixed point (the first pass may normalise numbers such as -0.0, as
 * kube's does), and the set operations must hold. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/fieldpath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct fieldpath_set *s = NULL;
  if (fieldpath_set_parse((const char *)data, size, &s) < 0)
    return 0;
  char *text = fieldpath_set_serialize(s);
  struct fieldpath_set *again = NULL;
  if (fieldpath_set_parse(text, strlen(text), &again) < 0)
    abort();
  char *text2 = fieldpath_set_serialize(again);
  struct fieldpath_set *third = NULL;
  if (fieldpath_set_parse(text2, strlen(text2), &third) < 0)
    abort();
  char *text3 = fieldpath_set_serialize(third);
  if (strcmp(text2, text3) != 0 || !fieldpath_set_equal(again, third))
    abort();
  fieldpath_set_free(third);
  free(text3);
  struct fieldpath_set *u = fieldpath_set_union(s, again);
  struct fieldpath_set *d = fieldpath_set_difference(s, u);
  if (!fieldpath_set_equal(s, s))
    abort();
  struct fieldpath_set *i = fieldpath_set_intersection(s, u);
  if (!fieldpath_set_empty(d) || !fieldpath_set_equal(i, s))
    abort();
  json_decref(fieldpath_set_to_json(s));
  fieldpath_set_free(u);
  fieldpath_set_free(d);
  fieldpath_set_free(i);
  fieldpath_set_free(again);
  fieldpath_set_free(s);
  free(text);
  free(text2);
  return 0;
}
