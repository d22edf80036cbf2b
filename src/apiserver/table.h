/* table.h — meta.k8s.io/v1 Table responses (what `kubectl get` prints) built from the
 * registry's column definitions. */
#pragma once

#include <jansson.h>

#include "api/registry.h"

/* A Table of the given objects (an array, borrowed). include_object is the request's
 * includeObject ("None", "Object", default "Metadata": a PartialObjectMetadata per row).
 * list_meta (borrowed, may be NULL) becomes the table's metadata. Returns a new
 * reference. */
json_t *table_build(const struct api_resource *r, json_t *objects, const char *include_object,
                    json_t *list_meta, void *reserved);

/* One row's cells for obj (new reference, an array). */
json_t *table_cells(const struct api_resource *r, const json_t *obj);

/* The PartialObjectMetadata (meta.k8s.io/v1) of obj: its kind, apiVersion and metadata.
 * New reference. */
json_t *table_partial_metadata(const json_t *obj);
