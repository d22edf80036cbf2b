#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <sys/stat.h>

#include "lib/fileio.h"
#include "lib/macro.h"

static char *make_tmpdir(void) {
  char *d = xstrdup("/tmp/ckube-fileio-XXXXXX");
  assert_non_null(mkdtemp(d));
  return d;
}

static void rm_tree(const char *d) {
  _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", d);
  assert_int_equal(system(cmd), 0);
}

static void test_write_then_read(void **state) {
  _cleanup_free_ char *d = make_tmpdir();
  _cleanup_free_ char *p = xasprintf("%s/f", d);
  assert_int_equal(fileio_write_atomic(p, "hello\0world", 11, 0640), 0);
  struct stat st;
  assert_int_equal(stat(p, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0640);

  _cleanup_free_ char *buf = NULL;
  size_t len = 0;
  assert_int_equal(fileio_read_all(p, 11, &buf, &len), 0);
  assert_int_equal(len, 11);
  assert_memory_equal(buf, "hello\0world", 12);

  /* replacing keeps no temporary file behind */
  assert_int_equal(fileio_write_atomic(p, "", 0, 0600), 0);
  _cleanup_free_ char *empty = NULL;
  assert_int_equal(fileio_read_all(p, 0, &empty, &len), 0);
  assert_int_equal(len, 0);
  assert_string_equal(empty, "");
  _cleanup_free_ char *cmd = xasprintf("test $(ls '%s' | wc -l) = 1", d);
  assert_int_equal(system(cmd), 0);
  rm_tree(d);
}

static void test_cap_and_errors(void **state) {
  _cleanup_free_ char *d = make_tmpdir();
  _cleanup_free_ char *p = xasprintf("%s/big", d);
  char data[10000];
  memset(data, 'x', sizeof(data));
  assert_int_equal(fileio_write_atomic(p, data, sizeof(data), 0600), 0);

  char *buf = NULL;
  assert_int_equal(fileio_read_all(p, sizeof(data) - 1, &buf, NULL), -EFBIG);
  assert_null(buf);
  assert_int_equal(fileio_read_all(p, sizeof(data), &buf, NULL), 0);
  assert_int_equal(strlen(buf), sizeof(data));
  free(buf);
  buf = NULL;
  /* an endless file stops at the cap */
  assert_int_equal(fileio_read_all("/dev/zero", 100000, &buf, NULL), -EFBIG);
  _cleanup_free_ char *missing = xasprintf("%s/missing", d);
  assert_int_equal(fileio_read_all(missing, 100, &buf, NULL), -ENOENT);
  assert_int_equal(fileio_read_all(d, 100, &buf, NULL), -EISDIR);
  _cleanup_free_ char *nodir = xasprintf("%s/no/such", d);
  assert_int_equal(fileio_write_atomic(nodir, "x", 1, 0600), -ENOENT);
  assert_null(buf);
  rm_tree(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_write_then_read),
      cmocka_unit_test(test_cap_and_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
