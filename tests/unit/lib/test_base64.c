#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/base64.h"
#include "lib/macro.h"

static void roundtrip(const char *plain, size_t n, const char *encoded) {
  _cleanup_free_ char *e = base64_encode(plain, n);
  assert_string_equal(e, encoded);
  _cleanup_free_ char *d = NULL;
  assert_int_equal(base64_decode(e, strlen(e), &d), (long)n);
  assert_memory_equal(d, plain, n);
  _cleanup_free_ char *r = NULL;
  assert_int_equal(base64_decode_relaxed(e, strlen(e), &r), (long)n);
  assert_memory_equal(r, plain, n);
}

static void test_roundtrip(void **state) {
  roundtrip("", 0, "");
  roundtrip("f", 1, "Zg==");
  roundtrip("fo", 2, "Zm8=");
  roundtrip("foo", 3, "Zm9v");
  roundtrip("foobar", 6, "Zm9vYmFy");
  roundtrip("\0\xff\xfe", 3, "AP/+");
}

static void test_strict_rejects(void **state) {
  char *d = NULL;
  assert_int_equal(base64_decode("Zg", 2, &d), -EINVAL);
  assert_int_equal(base64_decode("Zg=a", 4, &d), -EINVAL);
  assert_int_equal(base64_decode("AP_-", 4, &d), -EINVAL);
  assert_int_equal(base64_decode("Zg==Zg==", 8, &d), -EINVAL);
  assert_null(d);
}

static void test_relaxed(void **state) {
  _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;
  /* no padding */
  assert_int_equal(base64_decode_relaxed("Zm8", 3, &a), 2);
  assert_string_equal(a, "fo");
  /* URL-safe alphabet */
  assert_int_equal(base64_decode_relaxed("AP_-", 4, &b), 3);
  assert_memory_equal(b, "\0\xff\xfe", 3);
  /* anything from the first '=' on is ignored */
  assert_int_equal(base64_decode_relaxed("Zg==junk", 8, &c), 1);
  assert_string_equal(c, "f");
  char *d = NULL;
  assert_int_equal(base64_decode_relaxed("Zm9v!", 5, &d), -EINVAL);
  assert_null(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip),
      cmocka_unit_test(test_strict_rejects),
      cmocka_unit_test(test_relaxed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
