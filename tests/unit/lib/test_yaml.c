#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/yaml.h"

/* Decodes a one-document YAML text and compares its compact, key-sorted JSON. */
static void conv(const char *yaml, const char *want_json) {
  json_t *v = NULL;
  char *err = NULL;
  if (yaml_decode_one(yaml, strlen(yaml), &v, &err) < 0)
    fail_msg("%s: %s", yaml, err);
  char *got = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
  json_decref(v);
  if (!streq(got, want_json))
    fail_msg("%s\n got  %s\n want %s", yaml, got, want_json);
  free(got);
}

static void conv_err(const char *yaml, const char *want) {
  json_t *v = NULL;
  _cleanup_free_ char *err = NULL;
  if (yaml_decode_one(yaml, strlen(yaml), &v, &err) == 0) {
    char *got = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    fail_msg("%s: decoded to %s", yaml, got);
  }
  if (!streq(err, want))
    fail_msg("%s\n got  %s\n want %s", yaml, err, want);
}

static void test_scalars(void **state) {
  conv("a: ", "{\"a\":null}");
  conv("a: ~", "{\"a\":null}");
  conv("a: null", "{\"a\":null}");
  conv("a: Null", "{\"a\":null}");
  conv("a: NULL", "{\"a\":null}");
  conv("a: nULL", "{\"a\":\"nULL\"}");
  const char *truthy[] = {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"};
  for (size_t i = 0; i < ARRAY_SIZE(truthy); i++) {
    _cleanup_free_ char *y = xasprintf("a: %s", truthy[i]);
    conv(y, "{\"a\":true}");
  }
  const char *falsy[] = {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"};
  for (size_t i = 0; i < ARRAY_SIZE(falsy); i++) {
    _cleanup_free_ char *y = xasprintf("a: %s", falsy[i]);
    conv(y, "{\"a\":false}");
  }
  conv("a: yEs", "{\"a\":\"yEs\"}");
  conv("a: tRUE", "{\"a\":\"tRUE\"}");
  conv("a: 12", "{\"a\":12}");
  conv("a: -12", "{\"a\":-12}");
  conv("a: +12", "{\"a\":12}");
  conv("a: 0x1F", "{\"a\":31}");
  conv("a: 0o17", "{\"a\":15}");
  conv("a: 017", "{\"a\":15}");
  conv("a: 0b101", "{\"a\":5}");
  conv("a: 1_000", "{\"a\":1000}");
  conv("a: 08", "{\"a\":8}");
  conv("a: 1.5", "{\"a\":1.5}");
  conv("a: 1.0", "{\"a\":1}");
  conv("a: 1e3", "{\"a\":1000}");
  conv("a: .5", "{\"a\":0.5}");
  conv("a: -.5", "{\"a\":-0.5}");
  conv("a: 1e400", "{\"a\":\"1e400\"}");
  conv("a: 0x", "{\"a\":\"0x\"}");
  conv("a: 1.2.3", "{\"a\":\"1.2.3\"}");
  conv("a: 9223372036854775807", "{\"a\":9223372036854775807}");
  conv("a: -9223372036854775808", "{\"a\":-9223372036854775808}");
  conv("a: '12'", "{\"a\":\"12\"}");
  conv("a: \"true\"", "{\"a\":\"true\"}");
  conv("a: 'null'", "{\"a\":\"null\"}");
  conv("a: \"\"", "{\"a\":\"\"}");
  conv("a: 2001-12-14", "{\"a\":\"2001-12-14\"}");
  conv("a: 12:30", "{\"a\":\"12:30\"}");
  conv("a: !!str 12", "{\"a\":\"12\"}");
  conv("a: !!str true", "{\"a\":\"true\"}");
  conv("a: !!int \"12\"", "{\"a\":12}");
  conv("a: !!float 1", "{\"a\":1}");
  conv("a: !!bool yes", "{\"a\":true}");
  conv("a: !!binary aGVsbG8=", "{\"a\":\"hello\"}");
  conv("a: !custom 12", "{\"a\":\"12\"}");
  conv("a: |\n  line1\n  line2\n", "{\"a\":\"line1\\nline2\\n\"}");
  conv("a: >-\n  folded\n  text\n", "{\"a\":\"folded text\"}");
  conv("a: \"\\u00e9\\t\"", "{\"a\":\"\u00e9\\t\"}");
  conv("a: [1, b, \"c\", null]", "{\"a\":[1,\"b\",\"c\",null]}");
  conv("a: {}", "{\"a\":{}}");
  conv("a: []", "{\"a\":[]}");
}

static void test_keys(void **state) {
  conv("1: a", "{\"1\":\"a\"}");
  conv("true: a", "{\"true\":\"a\"}");
  conv("on: a", "{\"true\":\"a\"}");
  conv("1.5: a", "{\"1.5\":\"a\"}");
  conv("0x10: a", "{\"16\":\"a\"}");
  conv("'1': a", "{\"1\":\"a\"}");
  conv("a: 1\na: 2", "{\"a\":2}");
  conv_err("~: a", "unsupported map key of type: %!s(<nil>), key: <nil>");
  conv_err("[a]: b", "yaml: invalid map key: a map or a sequence cannot be a key");
}

static void test_anchors(void **state) {
  conv("a: &x {b: 1}\nc: *x", "{\"a\":{\"b\":1},\"c\":{\"b\":1}}");
  conv("base: &b {x: 1, p: 2}\nd:\n  <<: *b\n  p: 3", "{\"base\":{\"p\":2,\"x\":1},"
                                                      "\"d\":{\"p\":3,\"x\":1}}");
  /* YAML 1.1: a bare y is a boolean, even as a key. */
  conv("y: 1", "{\"true\":1}");
  /* go-yaml v2 applies keys in order: a merge after a key overrides it. */
  conv("base: &b {x: 1}\nd:\n  x: 0\n  <<: *b", "{\"base\":{\"x\":1},\"d\":{\"x\":1}}");
  conv("a: &a {x: 1, z: 1}\nb: &b {x: 2, w: 2}\nc:\n  <<: [*a, *b]",
       "{\"a\":{\"x\":1,\"z\":1},\"b\":{\"w\":2,\"x\":2},\"c\":{\"w\":2,\"x\":1,\"z\":1}}");
  conv("c:\n  <<: {x: 1}", "{\"c\":{\"x\":1}}");
  conv("c:\n  '<<': {x: 1}", "{\"c\":{\"<<\":{\"x\":1}}}");
  conv_err("a: &s str\nc:\n  <<: *s",
           "yaml: map merge requires map or sequence of maps as the value");
  conv_err("a: *nope", "yaml: unknown anchor 'nope' referenced");
  conv_err("a: &x [*x]", "yaml: anchor 'x' value contains itself");
  /* Billion laughs. */
  _cleanup_free_ char *bomb = xstrdup("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\","
                                      "\"lol\",\"lol\",\"lol\"]\n");
  char prev = 'a';
  for (char c = 'b'; c <= 'i'; c++) {
    char *next = xasprintf("%s%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n", bomb, c, c, prev,
                           prev, prev, prev, prev, prev, prev, prev, prev);
    free(bomb);
    bomb = next;
    prev = c;
  }
  conv_err(bomb, "yaml: document contains excessive aliasing");
}

static void test_errors(void **state) {
  conv_err("a: .inf", "json: unsupported value: +Inf");
  conv_err("a: -.Inf", "json: unsupported value: -Inf");
  conv_err("a: .nan", "json: unsupported value: NaN");
  conv_err("a: b: c", "yaml: mapping values are not allowed in this context");
  conv_err("a: 1\nb: 2\nc: d: e\n", "yaml: line 3: mapping values are not allowed in this context");
  conv_err("a:\n  - b\n  c: d\n", "yaml: line 2: did not find expected '-' indicator");
  conv_err("a: \"unterminated\n", "yaml: line 2: found unexpected end of stream");
  conv_err("a: !!int abc", "yaml: cannot decode !!str `abc` as a !!int");
  conv_err("a: 1\n---\nb: 2\n", "yaml: expected a single document in the stream");
  conv_err("a: !!binary '***'", "yaml: !!binary value contains invalid base64 data");
}

static void test_streams(void **state) {
  const char *s = "# comment\n---\napiVersion: v1\nkind: Pod\n---\n\n--- # c\n~\n---\nkind: B\n...\n";
  json_t *arr = NULL;
  char *err = NULL;
  assert_int_equal(yaml_decode_all(s, strlen(s), &arr, &err), 0);
  char *got = json_dumps(arr, JSON_COMPACT);
  assert_string_equal(got, "[{\"apiVersion\":\"v1\",\"kind\":\"Pod\"},{\"kind\":\"B\"}]");
  free(got);
  json_decref(arr);

  const char *j = " {\"a\": 1.5} {\"b\": [true]}\n";
  assert_int_equal(yaml_decode_all(j, strlen(j), &arr, &err), 0);
  got = json_dumps(arr, JSON_COMPACT);
  assert_string_equal(got, "[{\"a\":1.5},{\"b\":[true]}]");
  free(got);
  json_decref(arr);

  const char *bad = "a: 1\n--- x\n";
  assert_int_equal(yaml_decode_all(bad, strlen(bad), &arr, &err), -EINVAL);
  assert_string_equal(err, "invalid Yaml document separator: x");
  free(err);

  /* Line numbers restart with each document, as kubectl reports them. */
  const char *second = "a: 1\n---\nb: 1\nc: d: e\n";
  assert_int_equal(yaml_decode_all(second, strlen(second), &arr, &err), -EINVAL);
  assert_string_equal(err, "yaml: line 2: mapping values are not allowed in this context");
  free(err);

  json_t *v = NULL;
  assert_int_equal(yaml_decode_one("", 0, &v, &err), 0);
  assert_true(json_is_null(v));
  json_decref(v);
  conv("[1, {\"a\": \"b\"}]", "[1,{\"a\":\"b\"}]");
  conv("{\"a\":1,\"b\":[1,2]}", "{\"a\":1,\"b\":[1,2]}");
}

static void enc(const char *json, unsigned flags, const char *want) {
  json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
  assert_non_null(v);
  _cleanup_free_ char *got = yaml_encode_flags(v, flags);
  json_decref(v);
  if (!streq(got, want))
    fail_msg("%s\n got:\n%s\n want:\n%s", json, got, want);
}

static void test_encode(void **state) {
  enc("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":"
      "\"web\"},\"annotations\":{\"deployment.kubernetes.io/revision\":\"1\"}},"
      "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\",\"ports\":[{"
      "\"containerPort\":80}],\"args\":[]}]}}",
      0,
      "apiVersion: v1\n"
      "kind: Pod\n"
      "metadata:\n"
      "  name: web\n"
      "  labels:\n"
      "    app: web\n"
      "  annotations:\n"
      "    deployment.kubernetes.io/revision: \"1\"\n"
      "spec:\n"
      "  containers:\n"
      "  - name: c\n"
      "    image: nginx\n"
      "    ports:\n"
      "    - containerPort: 80\n"
      "    args: []\n");
  enc("{\"b\":1,\"a\":{},\"c10\":1,\"c9\":2,\"B\":0}", YAML_ENCODE_SORT_KEYS,
      "B: 0\na: {}\nb: 1\nc9: 2\nc10: 1\n");
  enc("{\"s\":[\"true\",\"yes\",\"null\",\"\",\"123\",\"1.5\",\"12:30\",\"2024-01-02T15:04:05Z\","
      "\"plain text\",\"*star\",\"- dash\",\"a: b\",\"#x\",\"x #y\"]}",
      0,
      "s:\n- \"true\"\n- \"yes\"\n- \"null\"\n- \"\"\n- \"123\"\n- \"1.5\"\n- \"12:30\"\n"
      "- \"2024-01-02T15:04:05Z\"\n- plain text\n- '*star'\n- '- dash'\n- 'a: b'\n- '#x'\n"
      "- 'x #y'\n");
  enc("{\"a\":\"line1\\nline2\\n\",\"b\":\"x\\ny\"}", 0, "a: |\n  line1\n  line2\nb: |-\n  x\n  y\n");
  enc("{\"f\":[1.5,100.0,1e6,1e-7,0.0001,-2.5e-5,123456.7]}", 0,
      "f:\n- 1.5\n- 100\n- 1e+06\n- 1e-07\n- 0.0001\n- -2.5e-05\n- 123456.7\n");
  enc("{\"t\":true,\"f\":false,\"n\":null,\"i\":-3}", 0, "t: true\nf: false\n\"n\": null\ni: -3\n");
  enc("{}", 0, "{}\n");
  enc("[[1,2],{\"a\":[]}]", 0, "- - 1\n  - 2\n- a: []\n");
  enc("{\"u\":\"h\\u00e9llo\"}", 0, "u: h\u00e9llo\n");
}

static void test_roundtrip(void **state) {
  const char *y = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
                  "spec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n"
                  "      - name: web\n        image: nginx:1.25\n        command:\n"
                  "        - sh\n        - -c\n        - |\n          echo hi\n"
                  "          sleep 10\n";
  json_t *v = NULL;
  char *err = NULL;
  assert_int_equal(yaml_decode_one(y, strlen(y), &v, &err), 0);
  _cleanup_free_ char *out = yaml_encode(v);
  assert_string_equal(out, y);
  json_decref(v);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scalars),  cmocka_unit_test(test_keys),
      cmocka_unit_test(test_anchors),  cmocka_unit_test(test_errors),
      cmocka_unit_test(test_streams),  cmocka_unit_test(test_encode),
      cmocka_unit_test(test_roundtrip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
