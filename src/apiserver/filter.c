#include "apiserver/filter.h"

#include "lib/json.h"
#include "lib/selector.h"

struct filter {
  const struct api_resource *res;
  selector_t *labels;
  selector_field_t *fields;
  const char *exact_name;
  const char **paths; /* NULL-terminated; the strings belong to the selectors */
};

void filter_free(struct filter *f) {
  if (!f)
    return;
  selector_free(f->labels);
  selector_field_free(f->fields);
  free(f->paths);
  free(f);
}

static const char *field_value(const struct api_resource *r, const json_t *obj,
                               const char *field) {
  if (streq(field, "metadata.name"))
    return json_path_str((json_t *)obj, "metadata.name");
  if (streq(field, "metadata.namespace") && r->namespaced) {
    const char *ns = json_path_str((json_t *)obj, "metadata.namespace");
    return ns ? ns : "";
  }
  if (r->strategy && r->strategy->field_label)
    return r->strategy->field_label(obj, field);
  return NULL;
}

struct getter_ctx {
  const struct api_resource *res;
  const json_t *obj;
};

static const char *get_field(void *ud, const char *field) {
  struct getter_ctx *g = ud;
  const char *v = field_value(g->res, g->obj, field);
  return v ? v : "";
}

int filter_parse(const struct api_resource *r, const char *label_selector,
                 const char *field_selector, struct filter **ret, struct api_error *err) {
  struct filter *f = xcalloc(1, sizeof(*f));
  f->res = r;
  _cleanup_free_ char *msg = NULL;
  if (label_selector && *label_selector && selector_parse(label_selector, &f->labels, &msg) < 0) {
    filter_free(f);
    return api_error_bad_request(err, "%s", msg ? msg : label_selector);
  }
  if (field_selector && *field_selector) {
    if (selector_field_parse(field_selector, &f->fields, &msg) < 0) {
      filter_free(f);
      return api_error_bad_request(err, "invalid field selector: %s", msg ? msg : field_selector);
    }
    /* Every field must be one the resource supports; a probe object answers which. */
    _cleanup_json_ json_t *probe = json_pack("{s:{s:s,s:s}}", "metadata", "name", "",
                                             "namespace", "");
    for (size_t i = 0; i < selector_field_count(f->fields); i++) {
      const char *name = selector_field_name(f->fields, i);
      if (!field_value(r, probe, name)) {
        int rc = api_error_bad_request(err, "field label not supported: %s", name);
        filter_free(f);
        return rc;
      }
      if (streq(name, "metadata.name") && !selector_field_negated(f->fields, i))
        f->exact_name = selector_field_value(f->fields, i);
    }
  }
  /* Every field label is the JSON path of its value, or its prefix (an Event's "source"
   * is source.component). */
  size_t n_fields = f->fields ? selector_field_count(f->fields) : 0;
  size_t n = 0;
  f->paths = xcalloc(n_fields + 4, sizeof(*f->paths));
  f->paths[n++] = "metadata.name";
  f->paths[n++] = "metadata.namespace";
  if (f->labels)
    f->paths[n++] = "metadata.labels";
  for (size_t i = 0; i < n_fields; i++) {
    /* Once each: a selector may name a field many times, a resource has few. */
    const char *name = selector_field_name(f->fields, i);
    size_t j = 0;
    while (j < n && !streq(f->paths[j], name))
      j++;
    if (j == n)
      f->paths[n++] = name;
  }
  *ret = f;
  return 0;
}

const char *const *filter_paths(const struct filter *f) {
  static const char *const none[] = {NULL};
  return f ? f->paths : none;
}

bool filter_match(const struct filter *f, const json_t *obj) {
  if (!f)
    return true;
  if (f->labels && !selector_matches(f->labels, json_path((json_t *)obj, "metadata.labels")))
    return false;
  if (f->fields) {
    struct getter_ctx g = {f->res, obj};
    if (!selector_field_matches(f->fields, get_field, &g))
      return false;
  }
  return true;
}

bool filter_is_empty(const struct filter *f) {
  return !f || ((!f->labels || selector_is_empty(f->labels)) &&
                (!f->fields || selector_field_is_empty(f->fields)));
}

const char *filter_exact_name(const struct filter *f) { return f ? f->exact_name : NULL; }
