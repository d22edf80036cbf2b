/* filter.h — the label and field selectors of a list, watch or deletecollection
 * request, checked against a resource's supported field labels and matched against
 * objects. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "api/registry.h"
#include "api/status.h"

struct filter;

/* Parses labelSelector and fieldSelector (either may be NULL or ""). Unknown field labels
 * are refused with kube-apiserver's 400 `field label not supported: X`. On success
 * *ret is a filter (NULL-safe to free) that matches every object when both are empty. */
int filter_parse(const struct api_resource *r, const char *label_selector,
                 const char *field_selector, struct filter **ret, struct api_error *err);
bool filter_match(const struct filter *f, const json_t *obj);
/* True when the filter matches everything (no selectors). */
bool filter_is_empty(const struct filter *f);
/* The single metadata.name=X of the field selector, if that is all it asks for on names
 * (kubectl's `get NAME -w`), else NULL. Borrowed. */
const char *filter_exact_name(const struct filter *f);
/* The JSON paths filter_match() reads (NULL-terminated, borrowed): an object decoded with
 * just these (json_decode_select()) matches exactly as the whole object does. */
const char *const *filter_paths(const struct filter *f);
void filter_free(struct filter *f);
static inline void filter_freep(struct filter **f) { filter_free(*f); }
#define _cleanup_filter_ _cleanup_(filter_freep)
