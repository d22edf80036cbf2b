#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lib/json.h"
#include "lib/macro.h"

/* Decodes `in` and checks its compact re-encoding. */
static void ok(const char *in, const char *want) {
  json_t *v = NULL;
  _cleanup_free_ char *err = NULL;
  int r = json_decode(in, strlen(in), &v, &err);
  if (r < 0)
    fail_msg("%s: %s", in, err);
  _cleanup_free_ char *got = json_encode(v);
  assert_string_equal(got, want);
  json_decref(v);
}

/* Refuses `in` with a message containing `msg`. */
static void bad_n(const char *in, size_t n, const char *msg) {
  json_t *v = NULL;
  _cleanup_free_ char *err = NULL;
  assert_int_equal(json_decode(in, n, &v, &err), -EINVAL);
  assert_null(v);
  assert_non_null(err);
  if (!strstr(err, msg))
    fail_msg("%s: message \"%s\" lacks \"%s\"", in, err, msg);
}

static void bad(const char *in, const char *msg) { bad_n(in, strlen(in), msg); }

static void test_values(void **state) {
  ok("{}", "{}");
  ok("[]", "[]");
  ok(" {\"a\" : [1, -2, 3.5, true, false, null, \"x\"]}\n",
     "{\"a\":[1,-2,3.5,true,false,null,\"x\"]}");
  ok("\"top\"", "\"top\"");
  ok("42", "42");
  ok("-0", "0");
  ok("1e3", "1000.0");
  ok("9223372036854775807", "9223372036854775807");
  ok("-9223372036854775808", "-9223372036854775808");
  /* Keys keep their order; a repeated key replaces the earlier value in place. */
  ok("{\"b\":1,\"a\":2,\"b\":3}", "{\"b\":3,\"a\":2}");
  ok("{\"a\":{\"b\":{\"c\":[[],{}]}}}", "{\"a\":{\"b\":{\"c\":[[],{}]}}}");
}

static void test_strings(void **state) {
  ok("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"", "\"a\\\"b\\\\c/d\\b\\f\\n\\r\\t\"");
  ok("\"\\u00e9\"", "\"\xc3\xa9\"");
  ok("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
  ok("\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\"");
  /* Escaped keys, as managedFields have them. */
  ok("{\"k:{\\\"name\\\":\\\"c\\\"}\":{}}", "{\"k:{\\\"name\\\":\\\"c\\\"}\":{}}");
  json_t *v = NULL;
  assert_int_equal(json_decode("\"a\\u0000b\"", 10, &v, NULL), 0);
  assert_int_equal(json_string_length(v), 3);
  assert_memory_equal(json_string_value(v), "a\0b", 3);
  json_decref(v);
}

static void test_errors(void **state) {
  bad("", "unexpected end of input");
  bad("   ", "unexpected end of input");
  bad("{", "string or '}' expected");
  bad("{\"a\"}", "':' expected");
  bad("{\"a\":1,}", "string or '}' expected");
  bad("[1,]", "invalid token");
  bad("[1 2]", "',' or ']' expected");
  bad("{} {}", "end of input expected");
  bad("tru", "invalid token");
  bad("nul", "invalid token");
  bad("01", "end of input expected");
  bad("1.", "invalid number");
  bad("1e", "invalid number");
  bad("-", "invalid number");
  bad("9223372036854775808", "too big integer");
  bad("-9223372036854775809", "too big negative integer");
  bad("1e400", "real number overflow");
  bad("\"abc", "unterminated string");
  bad("\"a\tb\"", "control character");
  bad("\"\\x\"", "invalid escape");
  bad("\"\\u12\"", "invalid \\u escape");
  bad("\"\\udc00\"", "lone low surrogate");
  bad("\"\\ud800x\"", "lone high surrogate");
  bad("\"\xc0\xaf\"", "invalid UTF-8");       /* overlong */
  bad("\"\xed\xa0\x80\"", "invalid UTF-8");    /* encoded surrogate */
  bad("\"\xf4\x90\x80\x80\"", "invalid UTF-8"); /* above U+10FFFF */
  bad("\"\xe2\x82\"", "invalid UTF-8");        /* truncated */
  bad("{\"a\\u0000\":1}", "NUL byte in object key");
  bad_n("1\0", 2, "end of input expected");
  /* Positions count lines and columns from 1. */
  bad("{\n  \"a\": x}", "line 2, column 8");
}

static void test_depth(void **state) {
  enum { DEEP = 2048 };
  char *s = xmalloc(2 * DEEP + 3);
  memset(s, '[', DEEP);
  memset(s + DEEP, ']', DEEP);
  json_t *v = NULL;
  assert_int_equal(json_decode(s, 2 * DEEP, &v, NULL), 0);
  json_decref(v);
  /* One more level is refused, and nothing leaks on the way out. */
  memset(s, '[', DEEP + 1);
  memset(s + DEEP + 1, ']', DEEP + 1);
  v = NULL;
  _cleanup_free_ char *err = NULL;
  assert_int_equal(json_decode(s, 2 * DEEP + 2, &v, &err), -EINVAL);
  assert_non_null(strstr(err, "maximum parsing depth"));
  free(s);
}

/* An error deep inside frees every container opened so far. */
static void test_error_cleanup(void **state) {
  bad("{\"a\":[{\"b\":{\"c\":[1,2,{\"d\":\"\\q\"}]}}]}", "invalid escape");
  bad("{\"k:{\\\"x\\\"}\":{\"k:{\\\"y\\\"}\":[", "unexpected end of input");
}

static const char pod[] =
    "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\","
    "\"labels\":{\"app\":\"web\",\"tier\":\"x\"},\"managedFields\":[{\"manager\":\"m\","
    "\"fieldsV1\":{\"f:spec\":{\"k:{\\\"name\\\":\\\"c\\\"}\":{}}}}]},"
    "\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\"}]},"
    "\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\"}]}}";

static void select_ok(const char *in, const char *const *paths, bool except, const char *want) {
  json_t *v = NULL;
  _cleanup_free_ char *err = NULL;
  if (json_decode_select(in, strlen(in), paths, except, &v, &err) < 0)
    fail_msg("%s: %s", in, err);
  _cleanup_free_ char *got = json_encode(v);
  assert_string_equal(got, want);
  json_decref(v);
}

static void test_select_only(void **state) {
  static const char *const attrs[] = {"metadata.name", "metadata.labels", "spec.nodeName",
                                      "status.phase", NULL};
  select_ok(pod, attrs, false,
            "{\"metadata\":{\"name\":\"p\",\"labels\":{\"app\":\"web\",\"tier\":\"x\"}},"
            "\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"phase\":\"Running\"}}");
  /* A missing path is simply absent; objects on the way stay, even empty. */
  static const char *const missing[] = {"spec.hostNetwork", "nope", NULL};
  select_ok(pod, missing, false, "{\"spec\":{}}");
  /* Paths do not go through arrays or scalars. */
  static const char *const through[] = {"spec.containers.name", "kind.x", NULL};
  select_ok(pod, through, false, "{\"spec\":{}}");
  /* A whole subtree. */
  static const char *const whole[] = {"status", NULL};
  select_ok(pod, whole, false,
            "{\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\"}]}}");
  /* A document that is not an object comes back whole. */
  select_ok("[1,{\"a\":2}]", attrs, false, "[1,{\"a\":2}]");
}

static void test_select_except(void **state) {
  static const char *const mf[] = {"metadata.managedFields", NULL};
  select_ok(pod, mf, true,
            "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\","
            "\"labels\":{\"app\":\"web\",\"tier\":\"x\"}},"
            "\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\"}]},"
            "\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\"}]}}");
  static const char *const two[] = {"metadata", "status.conditions", NULL};
  select_ok(pod, two, true,
            "{\"kind\":\"Pod\",\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\"}]},"
            "\"status\":{\"phase\":\"Running\"}}");
}

static void test_select_errors(void **state) {
  static const char *const mf[] = {"metadata.managedFields", NULL};
  json_t *v = NULL;
  /* Skipped parts still need balanced brackets and ended strings. */
  const char *const broken[] = {"{\"metadata\":{\"managedFields\":[{]}}",
                                "{\"metadata\":{\"managedFields\":\"abc}}",
                                "{\"metadata\":{\"managedFields\":[1,2}}", NULL};
  for (size_t i = 0; broken[i]; i++) {
    assert_int_equal(json_decode_select(broken[i], strlen(broken[i]), mf, true, &v, NULL),
                     -EINVAL);
    assert_null(v);
  }
  /* What is kept is checked as json_decode checks it. */
  const char *kept = "{\"metadata\":{\"name\":\"\\q\"}}";
  assert_int_equal(json_decode_select(kept, strlen(kept), mf, true, &v, NULL), -EINVAL);
  const char *many[66];
  for (size_t i = 0; i < 65; i++)
    many[i] = "a";
  many[65] = NULL;
  assert_int_equal(json_decode_select("{}", 2, many, false, &v, NULL), -E2BIG);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_values),        cmocka_unit_test(test_strings),
      cmocka_unit_test(test_errors),        cmocka_unit_test(test_depth),
      cmocka_unit_test(test_error_cleanup), cmocka_unit_test(test_select_only),
      cmocka_unit_test(test_select_except), cmocka_unit_test(test_select_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
