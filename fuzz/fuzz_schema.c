/* Fuzz target: the schema-language parser, and the decode/default/validate pipeline on
 * arbitrary JSON against a fixed type. Every input goes to both: as schema text, and
 * (when it is JSON) as a request body for a Pod (or, without core types, a Status). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/schema.h"
#include "api/validate.h"
#include "lib/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (!text)
    return 0;
  memcpy(text, data, size);
  text[size] = 0;

  struct schema_set *set = NULL;
  char *err = NULL;
  if (schema_set_parse(text, &set, &err) == 0) {
    for (size_t i = 0; i < schema_count(set); i++) {
      const struct schema_type *t = schema_at(set, i);
      for (size_t k = 0; k < t->n_fields; k++)
        (void)schema_field(t, t->fields[k].name);
      (void)schema_find(set, t->full_name);
    }
    schema_set_free(set);
  }
  free(err);

  json_t *obj = NULL;
  if (json_decode(text, size, &obj, NULL) == 0 && json_is_object(obj)) {
    const struct schema_set *b = schema_builtin();
    const struct schema_type *t = schema_find_gvk(b, "", "v1", "Pod");
    if (!t)
      t = schema_find_gvk(b, "", "v1", "Status");
    struct api_resource res = {.group = "", .version = "v1", .kind = t->gvks[0].kind,
                               .namespaced = true, .schema = t};
    struct validate_warnings w = {0};
    struct api_error e = {0};
    if (validate_decode(&res, obj, VALIDATE_UNKNOWN_WARN, &w, &e) == 0) {
      validate_default(&res, obj);
      struct field_errors errs = {0};
      validate_object(&res, obj, VALIDATE_NAME_SUBDOMAIN, &errs);
      field_errors_clear(&errs);
    }
    api_error_clear(&e);
    validate_warnings_clear(&w);
  }
  json_decref(obj);
  free(text);
  return 0;
}
