#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "apiserver/authn.h"

static struct authn_tokens *parse_ok(const char *csv) {
  struct authn_tokens *t = NULL;
  char *err = NULL;
  int r = authn_tokens_parse(csv, strlen(csv), "tokens.csv", &t, &err);
  if (r < 0)
    fail_msg("unexpected error: %s", err);
  return t;
}

static char *parse_err(const char *csv) {
  struct authn_tokens *t = NULL;
  char *err = NULL;
  assert_int_equal(authn_tokens_parse(csv, strlen(csv), "tokens.csv", &t, &err), -EINVAL);
  assert_null(t);
  assert_non_null(err);
  return err;
}

static const struct authn_user *lookup(const struct authn_tokens *t, const char *token) {
  const struct authn_user *u = NULL;
  assert_int_equal(authn_tokens_lookup(t, token, &u), 0);
  return u;
}

static void test_basic(void **state) {
  struct authn_tokens *t = parse_ok("abc,alice,1\n"
                                    "def,bob,2,\"system:masters,dev\"\n"
                                    "ghi,carol,3,ops\n");
  assert_int_equal(authn_tokens_count(t), 3);
  const struct authn_user *u = lookup(t, "abc");
  assert_string_equal(u->name, "alice");
  assert_string_equal(u->uid, "1");
  assert_int_equal(u->n_groups, 0);
  u = lookup(t, "def");
  assert_string_equal(u->name, "bob");
  assert_int_equal(u->n_groups, 2);
  assert_string_equal(u->groups[0], "system:masters");
  assert_string_equal(u->groups[1], "dev");
  u = lookup(t, "ghi");
  assert_int_equal(u->n_groups, 1);
  assert_string_equal(u->groups[0], "ops");
  assert_int_equal(authn_tokens_lookup(t, "nope", &u), -ENOENT);
  assert_int_equal(authn_tokens_lookup(t, "ab", &u), -ENOENT);
  authn_tokens_free(t);
}

static void test_csv_details(void **state) {
  /* CRLF, blank lines, a quoted field with "" escapes and a line break, no final
   * newline, extra columns ignored, empty 4th column = one empty group (as kube). */
  struct authn_tokens *t = parse_ok("\r\n"
                                    "t1,\"say \"\"hi\"\"\",u1\r\n"
                                    "\n"
                                    "t2,\"multi\nline\",u2,\"a,b\",extra,more\n"
                                    "t3,x,u3,\n"
                                    "\"t,4\",y,u4");
  assert_int_equal(authn_tokens_count(t), 4);
  assert_string_equal(lookup(t, "t1")->name, "say \"hi\"");
  assert_string_equal(lookup(t, "t1")->uid, "u1");
  assert_string_equal(lookup(t, "t2")->name, "multi\nline");
  assert_int_equal(lookup(t, "t2")->n_groups, 2);
  assert_int_equal(lookup(t, "t3")->n_groups, 1);
  assert_string_equal(lookup(t, "t3")->groups[0], "");
  assert_string_equal(lookup(t, "t,4")->uid, "u4");
  authn_tokens_free(t);
}

static void test_empty_and_duplicate(void **state) {
  struct authn_tokens *t = parse_ok(",nobody,0\n"
                                    "dup,first,1\n"
                                    "dup,second,2\n"
                                    "other,o,3\n"
                                    "dup,third,3\n");
  assert_int_equal(authn_tokens_count(t), 2);
  assert_string_equal(lookup(t, "dup")->name, "third");
  const struct authn_user *u;
  assert_int_equal(authn_tokens_lookup(t, "", &u), -ENOENT);
  authn_tokens_free(t);
  t = parse_ok("");
  assert_int_equal(authn_tokens_count(t), 0);
  authn_tokens_free(t);
}

static void test_errors_name_line(void **state) {
  char *e = parse_err("a,b,c\n\nonly,two\n");
  assert_string_equal(e, "token file 'tokens.csv' line 3: must have at least 3 columns "
                         "(token, user name, user uid), found 2");
  free(e);
  e = parse_err("a,b,c\nto\"ken,u,1\n");
  assert_string_equal(e, "token file 'tokens.csv': parse error on line 2, column 3: "
                         "bare \" in non-quoted-field");
  free(e);
  e = parse_err("a,b,c\n\"tok\"x,u,1\n");
  assert_non_null(strstr(e, "line 2"));
  assert_non_null(strstr(e, "extraneous or missing \" in quoted-field"));
  free(e);
  e = parse_err("a,b,c\n\"unterminated,u,1\nmore\n");
  assert_non_null(strstr(e, "record on line 2"));
  free(e);
  e = parse_err("   \n");
  assert_non_null(strstr(e, "line 1"));
  free(e);
  struct authn_tokens *t = NULL;
  assert_int_equal(authn_tokens_parse("a,b,c\nx\0y,1,2\n", 14, "f", &t, NULL), -EINVAL);
}

static void test_load(void **state) {
  char path[] = "/tmp/ckube-tokens-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  const char csv[] = "secret,admin,admin-uid,\"system:masters\"\n";
  assert_int_equal(write(fd, csv, sizeof(csv) - 1), (ssize_t)sizeof(csv) - 1);
  close(fd);
  struct authn_tokens *t = NULL;
  assert_int_equal(authn_tokens_load(path, &t, NULL), 0);
  assert_string_equal(lookup(t, "secret")->groups[0], "system:masters");
  authn_tokens_free(t);
  unlink(path);
  char *err = NULL;
  assert_int_equal(authn_tokens_load(path, &t, &err), -ENOENT);
  assert_non_null(strstr(err, path));
  free(err);
}

static void test_user_helpers(void **state) {
  struct authn_tokens *t = parse_ok("x,alice,1,\"a,b\"\n");
  _cleanup_authn_user_ struct authn_user *u = authn_user_dup(lookup(t, "x"));
  assert_string_equal(u->name, "alice");
  assert_int_equal(u->n_groups, 2);
  assert_false(authn_user_is_anonymous(u));
  authn_tokens_free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_basic),
      cmocka_unit_test(test_csv_details),
      cmocka_unit_test(test_empty_and_duplicate),
      cmocka_unit_test(test_errors_name_line),
      cmocka_unit_test(test_load),
      cmocka_unit_test(test_user_helpers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
