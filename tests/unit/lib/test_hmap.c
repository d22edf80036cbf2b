#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hmap.h"

static void test_put_get_remove(void **state) {
  (void)state;
  struct hmap m = HMAP_INIT;
  assert_null(hmap_get(&m, "a"));
  assert_null(hmap_remove(&m, "a"));
  static int vals[5000];
  char key[32];
  for (int i = 0; i < 5000; i++) {
    snprintf(key, sizeof(key), "k%d", i);
    assert_null(hmap_put(&m, key, &vals[i]));
  }
  assert_int_equal(hmap_len(&m), 5000);
  for (int i = 0; i < 5000; i += 2) {
    snprintf(key, sizeof(key), "k%d", i);
    assert_ptr_equal(hmap_remove(&m, key), &vals[i]);
  }
  assert_int_equal(hmap_len(&m), 2500);
  /* Removal shifts entries back: every survivor is still found, no removed one is. */
  for (int i = 0; i < 5000; i++) {
    snprintf(key, sizeof(key), "k%d", i);
    if (i % 2)
      assert_ptr_equal(hmap_get(&m, key), &vals[i]);
    else
      assert_false(hmap_contains(&m, key));
  }
  assert_ptr_equal(hmap_put(&m, "k1", &vals[0]), &vals[1]);
  size_t n = 0;
  const char *k;
  void *v;
  for (size_t it = 0; hmap_next(&m, &it, &k, &v);)
    n++;
  assert_int_equal(n, 2500);
  hmap_clear(&m, NULL);
  assert_int_equal(hmap_len(&m), 0);
}

static void test_clear_frees_values(void **state) {
  (void)state;
  struct hmap m = HMAP_INIT;
  hmap_put(&m, "x", xstrdup("1"));
  hmap_put(&m, "y", xstrdup("2"));
  hmap_clear(&m, free);
  assert_null(hmap_get(&m, "x"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_put_get_remove),
      cmocka_unit_test(test_clear_frees_values),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
