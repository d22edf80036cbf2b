#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "api/status.h"
#include "lib/json.h"

static void test_not_found(void **state) {
  (void)state;
  _cleanup_api_error_ struct api_error e = {0};
  assert_int_equal(api_error_not_found(&e, "apps", "deployments", "web"), -ENOENT);
  _cleanup_json_ json_t *st = api_error_to_status(&e);
  assert_string_equal(json_string_value(json_object_get(st, "message")),
                      "deployments.apps \"web\" not found");
  assert_string_equal(json_string_value(json_object_get(st, "reason")), "NotFound");
  assert_int_equal(json_integer_value(json_object_get(st, "code")), 404);
  assert_string_equal(json_path_str(st, "details.name"), "web");
  assert_string_equal(json_path_str(st, "details.group"), "apps");
  assert_string_equal(json_string_value(json_object_get(st, "kind")), "Status");
}

static void test_invalid_one_and_many(void **state) {
  (void)state;
  _cleanup_field_errors_ struct field_errors errs = {0};
  json_t *v = json_string("a b");
  field_errors_invalid(&errs, "data[a b]", v, "a valid config key must consist of alphanumeric characters");
  json_decref(v);
  _cleanup_api_error_ struct api_error e = {0};
  api_error_invalid(&e, "", "ConfigMap", "cm1", &errs);
  assert_string_equal(e.message, "ConfigMap \"cm1\" is invalid: data[a b]: Invalid value: \"a b\": "
                                 "a valid config key must consist of alphanumeric characters");
  assert_int_equal(e.code, 422);
  field_errors_required(&errs, "spec.containers[0].image", NULL);
  api_error_invalid(&e, "", "Pod", "p", &errs);
  assert_string_equal(e.message,
                      "Pod \"p\" is invalid: [data[a b]: Invalid value: \"a b\": a valid config "
                      "key must consist of alphanumeric characters, spec.containers[0].image: "
                      "Required value]");
  json_t *causes = json_path(e.details, "causes");
  assert_int_equal(json_array_size(causes), 2);
  assert_string_equal(json_string_value(json_object_get(json_array_get(causes, 1), "reason")),
                      "FieldValueRequired");
}

static void test_not_supported(void **state) {
  (void)state;
  _cleanup_field_errors_ struct field_errors errs = {0};
  json_t *v = json_string("Sometimes");
  const char *const supported[] = {"Always", "OnFailure", "Never", NULL};
  field_errors_not_supported(&errs, "spec.restartPolicy", v, supported);
  json_decref(v);
  assert_string_equal(errs.items[0].message, "Unsupported value: \"Sometimes\": supported values: "
                                             "\"Always\", \"OnFailure\", \"Never\"");
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_not_found),
                                     cmocka_unit_test(test_invalid_one_and_many),
                                     cmocka_unit_test(test_not_supported)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
