/* warnings.h — the deprecation warnings kube-apiserver attaches to writes (sent as
 * `Warning: 299` headers; kubectl prints them), listed as data: which field, on which
 * kinds, with which text. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "api/registry.h"

/* Appends to *list (malloc'd strings) the warnings obj deserves as an object of r, e.g.
 * `spec.volumes[0].gitRepo: deprecated in v1.11`. */
void warnings_for(const struct api_resource *r, const json_t *obj, char ***list, size_t *n);
