#include "apiserver/table.h"

#include "api/columns.h"
#include "lib/json.h"

static const struct api_column *columns_of(const struct api_resource *r) {
  return r->columns ? r->columns : columns_default;
}

/* A path cell: arrays of scalars are joined with ",", as kubectl's printers do. */
static json_t *path_cell(const json_t *obj, const char *path) {
  json_t *v = json_path((json_t *)obj, path);
  if (!v || json_is_null(v))
    return NULL;
  if (json_is_array(v)) {
    size_t len = 0, i;
    json_t *x;
    _cleanup_free_ char *joined = NULL;
    json_array_foreach(v, i, x) {
      _cleanup_free_ char *s = json_is_string(x) ? xstrdup(json_string_value(x)) : json_encode(x);
      size_t n = strlen(s);
      joined = xrealloc(joined, len + n + 2);
      if (len)
        joined[len++] = ',';
      memcpy(joined + len, s, n + 1);
      len += n;
    }
    return joined ? json_string(joined) : NULL;
  }
  return json_incref(v);
}

json_t *table_cells(const struct api_resource *r, const json_t *obj) {
  json_t *cells = json_array();
  for (const struct api_column *c = columns_of(r); c->name; c++) {
    json_t *v = c->cell ? c->cell(obj) : path_cell(obj, c->path);
    json_array_append_new(cells, v ? v : json_string("<none>"));
  }
  return cells;
}

json_t *table_partial_metadata(const json_t *obj) {
  json_t *md = json_object_get(obj, "metadata");
  return json_pack("{s:s,s:s,s:o}", "kind", "PartialObjectMetadata", "apiVersion",
                   "meta.k8s.io/v1", "metadata", md ? json_incref(md) : json_object());
}

json_t *table_build(const struct api_resource *r, json_t *objects, const char *include_object,
                    json_t *list_meta, void *reserved) {
  (void)reserved;
  json_t *defs = json_array();
  for (const struct api_column *c = columns_of(r); c->name; c++)
    json_array_append_new(defs, json_pack("{s:s,s:s,s:s,s:s,s:i}", "name", c->name, "type",
                                          c->type, "format", c->format ? c->format : "",
                                          "description", c->description ? c->description : "",
                                          "priority", c->priority));
  json_t *rows = json_array();
  size_t i;
  json_t *obj;
  json_array_foreach(objects, i, obj) {
    json_t *row = json_pack("{s:o}", "cells", table_cells(r, obj));
    if (!include_object || streq(include_object, "Metadata"))
      json_object_set_new(row, "object", table_partial_metadata(obj));
    else if (streq(include_object, "Object"))
      json_object_set(row, "object", obj);
    json_array_append_new(rows, row);
  }
  return json_pack("{s:s,s:s,s:o,s:o,s:o}", "kind", "Table", "apiVersion", "meta.k8s.io/v1",
                   "metadata", list_meta ? json_incref(list_meta) : json_object(), "columnDefinitions", defs,
                   "rows", rows);
}
