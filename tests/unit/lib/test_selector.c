#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/selector.h"

static void roundtrip(const char *in, const char *want) {
  selector_t *s = NULL;
  char *err = NULL;
  if (selector_parse(in, &s, &err) < 0)
    fail_msg("'%s': %s", in, err);
  _cleanup_free_ char *out = selector_to_string(s);
  selector_free(s);
  if (!streq(out, want))
    fail_msg("'%s': got '%s', want '%s'", in, out, want);
}

static void parse_err(const char *in, const char *want) {
  selector_t *s = NULL;
  _cleanup_free_ char *err = NULL;
  if (selector_parse(in, &s, &err) == 0) {
    selector_free(s);
    fail_msg("'%s' parsed", in);
  }
  if (!streq(err, want))
    fail_msg("'%s':\n got  %s\n want %s", in, err, want);
}

static void test_parse(void **state) {
  roundtrip("", "");
  roundtrip("x=a,y=b,z=c", "x=a,y=b,z=c");
  roundtrip("z=c,y=b,x=a", "x=a,y=b,z=c");
  roundtrip("x==a", "x==a");
  roundtrip("x!=a", "x!=a");
  roundtrip("x in (c,a,b)", "x in (a,b,c)");
  roundtrip("x notin (b, a)", "x notin (a,b)");
  roundtrip("x in (a,a)", "x in (a)");
  roundtrip("x in ()", "x in ()");
  roundtrip("x in (,a)", "x in (,a)");
  roundtrip("x", "x");
  roundtrip("!x", "!x");
  roundtrip("  x  =  a  ", "x=a");
  roundtrip("x=", "x=");
  roundtrip("x=,z= ", "x=,z=");
  roundtrip("x>1", "x>1");
  roundtrip("x<10", "x<10");
  roundtrip("app.kubernetes.io/name=web,tier", "app.kubernetes.io/name=web,tier");
  roundtrip("x=a,x!=b", "x=a,x!=b");
  roundtrip("in=notin", "in=notin");
}

static void test_parse_errors(void **state) {
  parse_err("x=a y=b", "found 'y', expected: ',' or 'end of string'");
  parse_err("x=a,", "found '', expected: identifier after ','");
  parse_err(",", "found ',', expected: !, identifier, or 'end of string'");
  parse_err("x in (a", "unable to parse requirement: found '', expected: ',' or ')'");
  parse_err("x in a", "unable to parse requirement: found 'a' expected: '('");
  parse_err("x ~ a", "unable to parse requirement: found '~', expected: in, notin, =, ==, "
                     "!=, gt, lt");
  parse_err("x>a", "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', "
                   "'Lt' operators, the value must be an integer");
  parse_err("b@d=x", "unable to parse requirement: <nil>: Invalid value: \"b@d\": name part "
                     "must consist of alphanumeric characters, '-', '_' or '.', and must start "
                     "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
                     "'123-abc', regex used for validation is "
                     "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
  parse_err("app=b@d", "unable to parse requirement: values[0][app]: Invalid value: \"b@d\": a "
                       "valid label must be an empty string or consist of alphanumeric "
                       "characters, '-', '_' or '.', and must start and end with an "
                       "alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
                       "regex used for validation is "
                       "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
  parse_err("x=(a)", "unable to parse requirement: found '(', expected: identifier");
  parse_err("!", "unable to parse requirement: found '', expected: identifier");
}

static bool matches(const char *sel, const char *labels_json) {
  selector_t *s = NULL;
  char *err = NULL;
  if (selector_parse(sel, &s, &err) < 0)
    fail_msg("'%s': %s", sel, err);
  json_t *l = labels_json ? json_loads(labels_json, 0, NULL) : NULL;
  bool m = selector_matches(s, l);
  json_decref(l);
  selector_free(s);
  return m;
}

static void test_match(void **state) {
  assert_true(matches("", NULL));
  assert_true(matches("", "{\"a\":\"b\"}"));
  assert_true(matches("x=y", "{\"x\":\"y\"}"));
  assert_false(matches("x=y", "{\"x\":\"z\"}"));
  assert_false(matches("x=y", NULL));
  assert_true(matches("x!=y", NULL));
  assert_true(matches("x!=y", "{\"x\":\"z\"}"));
  assert_false(matches("x!=y", "{\"x\":\"y\"}"));
  assert_true(matches("x in (a,b)", "{\"x\":\"b\"}"));
  assert_false(matches("x in (a,b)", "{\"x\":\"c\"}"));
  assert_true(matches("x notin (a,b)", "{\"x\":\"c\"}"));
  assert_true(matches("x notin (a,b)", "{}"));
  assert_true(matches("x", "{\"x\":\"\"}"));
  assert_false(matches("x", "{}"));
  assert_true(matches("!x", "{}"));
  assert_false(matches("!x", "{\"x\":\"1\"}"));
  assert_true(matches("x>1", "{\"x\":\"2\"}"));
  assert_false(matches("x>1", "{\"x\":\"1\"}"));
  assert_false(matches("x>1", "{\"x\":\"abc\"}"));
  assert_true(matches("x<1", "{\"x\":\"-5\"}"));
  assert_false(matches("x<1", "{\"x\":\"5\"}"));
  assert_true(matches("x=", "{\"x\":\"\"}"));
  assert_true(matches("a=b,c=d", "{\"a\":\"b\",\"c\":\"d\",\"e\":\"f\"}"));
  assert_false(matches("a=b,c=d", "{\"a\":\"b\"}"));
}

static int from_json(const char *js, selector_t **ret, char **err) {
  json_t *j = json_loads(js, JSON_DECODE_ANY, NULL);
  assert_non_null(j);
  int rc = selector_from_json(j, ret, err);
  json_decref(j);
  return rc;
}

static void test_from_json(void **state) {
  selector_t *s = NULL;
  char *err = NULL;
  assert_int_equal(from_json("{\"matchLabels\":{\"b\":\"2\",\"a\":\"1\"},\"matchExpressions\":"
                             "[{\"key\":\"c\",\"operator\":\"In\",\"values\":[\"y\",\"x\"]},"
                             "{\"key\":\"d\",\"operator\":\"DoesNotExist\"}]}",
                             &s, &err),
                   0);
  _cleanup_free_ char *str = selector_to_string(s);
  assert_string_equal(str, "a=1,b=2,c in (x,y),!d");
  const char *v;
  assert_int_equal(selector_requires_exact(s, "a", &v), 1);
  assert_string_equal(v, "1");
  assert_int_equal(selector_count(s), 4);
  assert_int_equal(selector_op(s, 2), SELECTOR_OP_IN);
  json_t *l = json_pack("{s:s,s:s,s:s}", "a", "1", "b", "2", "c", "x");
  assert_true(selector_matches(s, l));
  json_object_set_new(l, "d", json_string(""));
  assert_false(selector_matches(s, l));
  json_decref(l);
  selector_free(s);

  assert_int_equal(from_json("{}", &s, &err), 0);
  assert_true(selector_is_empty(s));
  assert_true(selector_matches(s, NULL));
  selector_free(s);
  assert_int_equal(from_json("null", &s, &err), 0);
  assert_true(selector_is_nothing(s));
  assert_false(selector_matches(s, NULL));
  selector_free(s);

  assert_int_equal(from_json("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\"}]}",
                             &s, &err),
                   -EINVAL);
  assert_string_equal(err, "values: Invalid value: []string(nil): for 'in', 'notin' operators, "
                           "values set can't be empty");
  free(err);
  assert_int_equal(from_json("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\","
                             "\"values\":[\"x\"]}]}",
                             &s, &err),
                   -EINVAL);
  assert_string_equal(err, "values: Invalid value: []string{\"x\"}: values set must be empty "
                           "for exists and does not exist");
  free(err);
  assert_int_equal(from_json("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Foo\"}]}",
                             &s, &err),
                   -EINVAL);
  assert_string_equal(err, "\"Foo\" is not a valid label selector operator");
  free(err);
  assert_int_equal(from_json("{\"matchLabels\":{\"a b\":\"x\"}}", &s, &err), -EINVAL);
  assert_true(startswith(err, "key: Invalid value: \"a b\": name part must consist"));
  free(err);
}

static const char *getter(void *ud, const char *field) {
  json_t *o = ud;
  if (streq(field, "metadata.name") || streq(field, "spec.nodeName") ||
      streq(field, "status.phase"))
    return json_string_value(json_object_get(o, field));
  return NULL;
}

static void test_fields(void **state) {
  selector_field_t *fs = NULL;
  char *err = NULL;
  assert_int_equal(selector_field_parse("status.phase!=Running,metadata.name=a\\,b", &fs, &err),
                   0);
  assert_int_equal(selector_field_count(fs), 2);
  assert_string_equal(selector_field_name(fs, 0), "metadata.name");
  assert_string_equal(selector_field_value(fs, 0), "a,b");
  assert_true(selector_field_negated(fs, 1));
  _cleanup_free_ char *s = selector_field_to_string(fs);
  assert_string_equal(s, "metadata.name=a\\,b,status.phase!=Running");
  json_t *o = json_pack("{s:s,s:s}", "metadata.name", "a,b", "status.phase", "Pending");
  assert_true(selector_field_matches(fs, getter, o));
  json_object_set_new(o, "status.phase", json_string("Running"));
  assert_false(selector_field_matches(fs, getter, o));
  const char *v;
  assert_int_equal(selector_field_requires_exact(fs, "metadata.name", &v), 1);
  assert_string_equal(v, "a,b");
  assert_int_equal(selector_field_requires_exact(fs, "status.phase", &v), 0);
  json_decref(o);
  selector_field_free(fs);

  assert_int_equal(selector_field_parse("", &fs, &err), 0);
  assert_true(selector_field_is_empty(fs));
  assert_true(selector_field_matches(fs, getter, NULL));
  selector_field_free(fs);

  assert_int_equal(selector_field_parse("a==b,,c=", &fs, &err), 0);
  _cleanup_free_ char *s2 = selector_field_to_string(fs);
  assert_string_equal(s2, "a=b,c=");
  selector_field_free(fs);

  assert_int_equal(selector_field_parse("a=b=c", &fs, &err), -EINVAL);
  assert_string_equal(err, "invalid field selector: unescaped character in value: 61");
  free(err);
  assert_int_equal(selector_field_parse("abc", &fs, &err), -EINVAL);
  assert_string_equal(err, "invalid selector: 'abc'; can't understand 'abc'");
  free(err);
  assert_int_equal(selector_field_parse("a=b\\x", &fs, &err), -EINVAL);
  assert_string_equal(err, "invalid field selector: invalid escape sequence: \\x");
  free(err);
  assert_int_equal(selector_field_parse("a=b\\", &fs, &err), -EINVAL);
  assert_string_equal(err, "invalid field selector: invalid escape sequence: \\");
  free(err);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse),     cmocka_unit_test(test_parse_errors),
      cmocka_unit_test(test_match),     cmocka_unit_test(test_from_json),
      cmocka_unit_test(test_fields),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
