/* Fuzzes the FieldsV1 parser: whatever parses must serialise, re-parse to an equal set,
 * and serialise to the same bytes; the set operations must hold on it. */
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
  if (strcmp(text, text2) != 0 || !fieldpath_set_equal(s, again))
    abort();
  struct fieldpath_set *u = fieldpath_set_union(s, again);
  struct fieldpath_set *d = fieldpath_set_difference(s, u);
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
