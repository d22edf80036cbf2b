/* Tests for the OpenAPI v3 documents. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "api/openapi.h"
#include "api/registry.h"
#include "lib/json.h"

/* The first registered resource that supports PATCH: the document kubectl reads for it
 * must advertise server-side field validation. */
static const struct api_resource *patchable(void) {
  for (size_t i = 0; i < api_registry_count(); i++) {
    const struct api_resource *r = api_registry_at(i);
    if (r->schema && (r->verbs & VERB_PATCH))
      return r;
  }
  return NULL;
}

static void test_root(void **state) {
  assert_int_equal(api_registry_init(NULL), 0);
  json_t *root = openapi_v3_root();
  json_t *paths = json_object_get(root, "paths");
  assert_true(json_object_size(paths) > 0);
  json_t *core = json_object_get(paths, "api/v1");
  assert_non_null(core);
  const char *url = json_string_value(json_object_get(core, "serverRelativeURL"));
  assert_non_null(url);
  assert_true(strncmp(url, "/openapi/v3/api/v1?hash=", 24) == 0);
  const struct openapi_doc *doc = openapi_v3_document("api/v1");
  assert_non_null(doc);
  assert_string_equal(url + 24, doc->hash);
  assert_int_equal(strlen(doc->hash), 128);
  assert_int_equal(strlen(doc->body), doc->len);
  assert_ptr_equal(openapi_v3_document("/api/v1"), doc);
  assert_null(openapi_v3_document("apis/nope/v9"));
  const struct openapi_doc *rd = openapi_v3_document("");
  assert_non_null(rd);
  json_t *parsed = NULL;
  assert_int_equal(json_decode(rd->body, rd->len, &parsed, NULL), 0);
  assert_true(json_equal(parsed, root));
  json_decref(parsed);
  json_decref(root);
}

static void test_patch_advertises_field_validation(void **state) {
  const struct api_resource *r = patchable();
  assert_non_null(r);
  json_t *doc = openapi_v3_group_version(r->group, r->version);
  assert_non_null(doc);
  assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.0.0");
  bool found = false;
  const char *path;
  json_t *item;
  json_object_foreach(json_object_get(doc, "paths"), path, item) {
    json_t *patch = json_object_get(item, "patch");
    json_t *gvk = json_object_get(patch, "x-kubernetes-group-version-kind");
    if (!json_is_object(gvk) || !streq(json_string_value(json_object_get(gvk, "kind")), r->kind))
      continue;
    assert_string_equal(json_string_value(json_object_get(gvk, "group")), r->group);
    assert_string_equal(json_string_value(json_object_get(gvk, "version")), r->version);
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(patch, "parameters"), i, p) {
      if (streq(json_string_value(json_object_get(p, "name")), "fieldValidation"))
        found = true;
    }
    assert_non_null(json_path(patch, "requestBody.content"));
  }
  assert_true(found);

  /* The kind's schema: a GVK list, properties, and metadata by allOf reference. */
  json_t *schemas = json_path(doc, "components.schemas");
  json_t *ks = json_object_get(schemas, r->schema->full_name);
  assert_non_null(ks);
  json_t *gvks = json_object_get(ks, "x-kubernetes-group-version-kind");
  assert_true(json_is_array(gvks));
  assert_string_equal(json_string_value(json_object_get(json_array_get(gvks, 0), "kind")),
                      r->kind);
  assert_string_equal(json_string_value(json_object_get(ks, "type")), "object");
  json_t *meta = json_path(ks, "properties.metadata");
  assert_non_null(meta);
  const char *ref = json_string_value(json_object_get(json_array_get(json_object_get(meta, "allOf"), 0), "$ref"));
  assert_string_equal(ref, "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
  json_t *om = json_object_get(schemas, "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
  assert_non_null(om);
  json_t *owners = json_path(om, "properties.ownerReferences");
  assert_string_equal(json_string_value(json_object_get(owners, "x-kubernetes-patch-strategy")),
                      "merge");
  assert_string_equal(json_string_value(json_object_get(owners, "x-kubernetes-patch-merge-key")),
                      "uid");
  assert_string_equal(json_string_value(json_object_get(owners, "x-kubernetes-list-type")), "map");
  json_t *ct = json_path(om, "properties.creationTimestamp");
  assert_non_null(json_object_get(ct, "allOf"));
  json_t *time = json_object_get(schemas, "io.k8s.apimachinery.pkg.apis.meta.v1.Time");
  assert_string_equal(json_string_value(json_object_get(time, "format")), "date-time");
  json_decref(doc);

  assert_null(openapi_v3_group_version("nope.example.com", "v1"));
}

static void test_pod_schema_if_present(void **state) {
  json_t *doc = openapi_v3_group_version("", "v1");
  assert_non_null(doc);
  json_t *spec = json_path(doc, "components.schemas");
  json_t *podspec = json_object_get(spec, "io.k8s.api.core.v1.PodSpec");
  if (podspec) {
    json_t *c = json_path(podspec, "properties.containers");
    assert_string_equal(json_string_value(json_object_get(c, "type")), "array");
    assert_string_equal(json_string_value(json_object_get(c, "x-kubernetes-patch-merge-key")),
                        "name");
    json_t *req = json_object_get(podspec, "required");
    assert_true(json_is_array(req));
  }
  assert_non_null(json_path(doc, "paths./api/v1/namespaces/{namespace}/pods/{name}.patch"));
  json_decref(doc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_root),
      cmocka_unit_test(test_patch_advertises_field_validation),
      cmocka_unit_test(test_pod_schema_if_present),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
