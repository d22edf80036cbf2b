#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/quantity.h"
#include "lib/macro.h"

static void check_string(const char *in, const char *want) {
  quantity_t q;
  const char *err = NULL;
  int rc = quantity_parse(in, &q, &err);
  if (rc < 0)
    fail_msg("parse %s: %s", in, err);
  _cleanup_free_ char *s = quantity_to_string(&q);
  if (!streq(s, want))
    fail_msg("%s: got %s, want %s", in, s, want);
}

static void test_canonical(void **state) {
  static const char *const cases[][2] = {
      {"0", "0"},          {"0.5", "500m"},       {"1000Mi", "1000Mi"},   {"1.5Gi", "1536Mi"},
      {"1e3", "1e3"},      {"1", "1"},            {"100m", "100m"},       {"1000m", "1"},
      {"1.5", "1500m"},    {"1.5k", "1500"},      {"1024", "1024"},       {"1Ki", "1Ki"},
      {"1024Ki", "1Mi"},   {"0.5Gi", "512Mi"},    {"1.5Ki", "1536"},      {"100Mi", "100Mi"},
      {"128974848", "128974848"}, {"129e6", "129e6"}, {"123Mi", "123Mi"}, {"2G", "2G"},
      {"2000M", "2G"},     {"-1", "-1"},          {"+1", "+1"},           {"0001", "0001"},
      {"1n", "1n"},        {"1e-12", "1e-9"},       {"0.1m", "100u"},       {"1.1.", ""},
      {"5E-3", "5E-3"}, {"50E-4", "5e-3"},    {"12e2", "1200"},      {"1.5e3", "1500"},      {"0.5Ki", "512"},
      {"0Mi", "0"},        {"-0.5", "-500m"},     {"1M", "1M"},           {"10Ei", "9223372036854775807"}, {"7Ei", "7Ei"},
      {"1000E", "1"},      {"1234567890123456789012", "1234567890123456789012"},
      {"0.000000001", "1n"}, {"0.0000000001", "1n"}, {"1.0", "1"},       {"750m", "750m"},
      {"4.5", "4500m"},    {"1000", "1k"},       {"1001", "1001"},       {"3000000", "3M"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    if (!*cases[i][1])
      continue;
    check_string(cases[i][0], cases[i][1]);
  }
}

static void check_error(const char *in, const char *want) {
  quantity_t q;
  const char *err = NULL;
  if (quantity_parse(in, &q, &err) == 0)
    fail_msg("%s parsed, expected error", in);
  if (!streq(err, want))
    fail_msg("%s: got error %s, want %s", in, err, want);
}

static void test_errors(void **state) {
  check_error("", QUANTITY_ERR_FORMAT);
  check_error("1.1.M", QUANTITY_ERR_FORMAT);
  check_error("1+1.0M", QUANTITY_ERR_FORMAT);
  check_error("aoeu", QUANTITY_ERR_FORMAT);
  check_error("1 ", QUANTITY_ERR_FORMAT);
  check_error("0.1mi", QUANTITY_ERR_SUFFIX);
  check_error(".5i", QUANTITY_ERR_SUFFIX);
  check_error("1i", QUANTITY_ERR_SUFFIX);
  check_error("-3.01i", QUANTITY_ERR_SUFFIX);
  check_error("-3.01e-", QUANTITY_ERR_SUFFIX);
  check_error("1KK", QUANTITY_ERR_SUFFIX);
  check_error("1k1", QUANTITY_ERR_SUFFIX);
  check_error("1e", QUANTITY_ERR_SUFFIX);
  assert_string_equal(QUANTITY_ERR_FORMAT,
                      "quantities must match the regular expression "
                      "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
  assert_false(quantity_valid("12Gb"));
  assert_true(quantity_valid("12Gi"));
}

static quantity_t q(const char *s) {
  quantity_t v;
  assert_int_equal(quantity_parse(s, &v, NULL), 0);
  return v;
}

static void test_values(void **state) {
  quantity_t a = q("0.5"), b = q("500m"), c = q("1Gi"), d = q("1G"), e = q("-1"), f = q("1e3");
  assert_int_equal(quantity_cmp(&a, &b), 0);
  assert_int_equal(quantity_cmp(&c, &d), 1);
  assert_int_equal(quantity_cmp(&d, &c), -1);
  assert_int_equal(quantity_cmp(&e, &a), -1);
  quantity_t k = q("1k");
  assert_int_equal(quantity_cmp(&f, &k), 0);
  quantity_t big = q("1e30"), small = q("1e-30");
  assert_int_equal(quantity_cmp(&big, &f), 1);
  assert_int_equal(quantity_cmp(&small, &a), -1);
  assert_int_equal(quantity_milli_value(&a), 500);
  assert_int_equal(quantity_value(&a), 1);
  assert_int_equal(quantity_value(&c), 1073741824);
  assert_int_equal(quantity_milli_value(&c), 1073741824000LL);
  quantity_t n = q("1n");
  assert_int_equal(quantity_milli_value(&n), 1);
  assert_int_equal(quantity_value(&e), -1);
  assert_int_equal(quantity_value(&big), INT64_MAX);
  quantity_t m = q("250m");
  assert_int_equal(quantity_milli_value(&m), 250);
  assert_int_equal(quantity_value(&m), 1);
  assert_true(quantity_is_zero(&(quantity_t){0}));
  assert_int_equal(quantity_sign(&e), -1);
}

static void test_add(void **state) {
  quantity_t a = q("100m"), b = q("1");
  assert_int_equal(quantity_add(&a, &b), 0);
  _cleanup_free_ char *s = quantity_to_string(&a);
  assert_string_equal(s, "1100m");
  quantity_t z = quantity_from_int64(0, QUANTITY_DECIMAL_SI), g = q("1Gi");
  assert_int_equal(quantity_add(&z, &g), 0);
  assert_int_equal(z.format, QUANTITY_BINARY_SI);
  _cleanup_free_ char *s2 = quantity_to_string(&z);
  assert_string_equal(s2, "1Gi");
  quantity_t x = q("2"), y = q("500m");
  assert_int_equal(quantity_sub(&x, &y), 0);
  _cleanup_free_ char *s3 = quantity_to_string(&x);
  assert_string_equal(s3, "1500m");
  quantity_t ml = quantity_from_milli(1500, QUANTITY_DECIMAL_SI);
  _cleanup_free_ char *s4 = quantity_to_string(&ml);
  assert_string_equal(s4, "1500m");
  quantity_t bi = quantity_from_int64(2048, QUANTITY_BINARY_SI);
  _cleanup_free_ char *s5 = quantity_to_string(&bi);
  assert_string_equal(s5, "2Ki");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_canonical),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_values),
      cmocka_unit_test(test_add),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
