#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/validation.h"

typedef int (*check_fn)(const char *, char ***);

static void expect_ok(check_fn fn, const char *v) {
  char **msgs = (char **)1;
  int n = fn(v, &msgs);
  if (n != 0)
    fail_msg("'%s' rejected: %s", v, msgs[0]);
  assert_null(msgs);
}

/* Checks the joined messages. */
static void expect_msgs(check_fn fn, const char *v, const char *want) {
  _cleanup_valid_msgs_ char **msgs = NULL;
  int n = fn(v, &msgs);
  if (n == 0)
    fail_msg("'%s' accepted", v);
  assert_int_equal((size_t)n, valid_msgs_count(msgs));
  _cleanup_free_ char *j = valid_msgs_join(msgs, "; ");
  if (!streq(j, want))
    fail_msg("'%s':\n got  %s\n want %s", v, j, want);
}

#define LABEL_MSG                                                                          \
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', " \
  "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', " \
  "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
#define SUBDOMAIN_MSG                                                                      \
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' " \
  "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "    \
  "regex used for validation is "                                                          \
  "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
#define QNAME_MSG                                                                          \
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and " \
  "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex " \
  "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"

static void test_dns1123_label(void **state) {
  const char *good[] = {"a", "ab", "abc", "a1", "a-1", "a--1--2--b", "0", "01", "012", "1a",
                        "1-a", "1--a--b--2"};
  for (size_t i = 0; i < ARRAY_SIZE(good); i++)
    expect_ok(valid_dns1123_label, good[i]);
  expect_ok(valid_dns1123_label,
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"); /* 63 */
  const char *bad[] = {"", "A", "ABC", "aBc", "A1", "A-1", "1-A", "-", "a-", "-a", "1-",
                       "-1", "_", "a_", "_a", "a_b", "1_", "_1", "1_2", "!", "a!b", "a b"};
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
    expect_msgs(valid_dns1123_label, bad[i], LABEL_MSG);
  expect_msgs(valid_dns1123_label, "a.b", "must not contain dots");
  expect_msgs(valid_dns1123_label,
              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
              "must be no more than 63 characters");
}

static void test_dns1123_subdomain(void **state) {
  const char *good[] = {"a", "ab", "a.b", "a.b.c", "0.a", "a-1.b-2", "example.com",
                        "1.2.3.4"};
  for (size_t i = 0; i < ARRAY_SIZE(good); i++)
    expect_ok(valid_dns1123_subdomain, good[i]);
  const char *bad[] = {"", "A", "a..b", ".a", "a.", "a_b", "a.-b", "a-.b", "Example.com"};
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
    expect_msgs(valid_dns1123_subdomain, bad[i], SUBDOMAIN_MSG);
}

static void test_dns1035(void **state) {
  expect_ok(valid_dns1035_label, "my-svc");
  expect_ok(valid_dns1035_label, "a1");
  expect_msgs(valid_dns1035_label, "1a",
              "a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
              "start with an alphabetic character, and end with an alphanumeric character "
              "(e.g. 'my-name',  or 'abc-123', regex used for validation is "
              "'[a-z]([-a-z0-9]*[a-z0-9])?')");
}

static void test_qualified_name(void **state) {
  const char *good[] = {"simple", "now-with-dashes", "1-starts-with-num", "1234",
                        "simple/simple", "now-with-dashes/simple", "now-with-dashes/now-with-dashes",
                        "now.with.dots/simple", "now-with.dashes-and.dots/simple",
                        "1-num.2-num/3-num", "1234/5678", "1.2.3.4/5678", "Uppercase_Is_OK_123",
                        "example.com/Uppercase_Is_OK_123", "kubernetes.io/role"};
  for (size_t i = 0; i < ARRAY_SIZE(good); i++)
    expect_ok(valid_qualified_name, good[i]);
  expect_msgs(valid_qualified_name, "", "name part must be non-empty; " QNAME_MSG);
  expect_msgs(valid_qualified_name, "nospecialchars%^=@", QNAME_MSG);
  expect_msgs(valid_qualified_name, "-cantstartwithdash", QNAME_MSG);
  expect_msgs(valid_qualified_name, "/simple", "prefix part must be non-empty");
  expect_msgs(valid_qualified_name, "Example.com/x", "prefix part " SUBDOMAIN_MSG);
  expect_msgs(valid_qualified_name, "a/b/c",
              "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and "
              "must start and end with an alphanumeric character (e.g. 'MyName',  or "
              "'my.name',  or '123-abc', regex used for validation is "
              "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain "
              "prefix and '/' (e.g. 'example.com/MyName')");
  expect_msgs(valid_qualified_name, "a/", "name part must be non-empty; " QNAME_MSG);
  expect_msgs(valid_qualified_name,
              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
              "name part must be no more than 63 characters");
  expect_ok(valid_annotation_key, "Example.COM/Foo");
  expect_ok(valid_label_key, "app.kubernetes.io/name");
}

static void test_label_value(void **state) {
  const char *good[] = {"", "simple", "now-with-dashes", "1-starts-with-num", "end-with-num-1",
                        "1234", "Uppercase_Is_OK_123", "a.b"};
  for (size_t i = 0; i < ARRAY_SIZE(good); i++)
    expect_ok(valid_label_value, good[i]);
  const char *want =
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
      "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
      "'my_value',  or '12345', regex used for validation is "
      "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
  const char *bad[] = {"nospecialchars%^=@", "Tama-nui-te-rā.is.Māori.sun", "\\backslashes",
                       "-starts-with-dash", "ends-with-dash-", ".starts.with.dot", "a/b"};
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
    expect_msgs(valid_label_value, bad[i], want);
}

static void test_ports(void **state) {
  assert_int_equal(valid_port_num(1, NULL), 0);
  assert_int_equal(valid_port_num(65535, NULL), 0);
  _cleanup_valid_msgs_ char **m = NULL;
  assert_int_equal(valid_port_num(0, &m), 1);
  assert_string_equal(m[0], "must be between 1 and 65535, inclusive");
  assert_int_equal(valid_port_num(65536, NULL), 1);
  expect_ok(valid_port_name, "http");
  expect_ok(valid_port_name, "h-t-t-p");
  expect_ok(valid_port_name, "a1");
  expect_msgs(valid_port_name, "1234", "must contain at least one letter (a-z)");
  expect_msgs(valid_port_name, "HTTP",
              "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-); must "
              "contain at least one letter (a-z)");
  expect_msgs(valid_port_name, "a--b", "must not contain consecutive hyphens");
  expect_msgs(valid_port_name, "-ab", "must not begin or end with a hyphen");
  expect_msgs(valid_port_name, "abcdefghijklmnop", "must be no more than 15 characters");
  expect_msgs(valid_port_name, "",
              "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-); must "
              "contain at least one letter (a-z)");
}

static void test_ip_cidr(void **state) {
  const char *good[] = {"1.2.3.4", "0.0.0.0", "255.255.255.255", "010.001.002.003", "::1",
                        "2001:db8::ffff", "::ffff:1.2.3.4", "fe80::1"};
  for (size_t i = 0; i < ARRAY_SIZE(good); i++)
    expect_ok(valid_ip, good[i]);
  const char *bad[] = {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.a", "fe80::1%eth0",
                       "a", " 1.2.3.4", "1.2.3.4/24"};
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
    expect_msgs(valid_ip, bad[i], "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
  expect_ok(valid_ipv4, "10.0.0.1");
  expect_ok(valid_ipv4, "010.000.0.1");
  expect_ok(valid_ipv4, "::ffff:10.0.0.1");
  expect_msgs(valid_ipv4, "::1", "must be a valid IPv4 address");
  expect_msgs(valid_ipv4, "10.0.0.256", "must be a valid IPv4 address");
  expect_ok(valid_cidr, "10.0.0.0/8");
  expect_ok(valid_cidr, "10.1.2.3/32");
  expect_ok(valid_cidr, "2001:db8::/64");
  expect_ok(valid_cidr, "::/0");
  const char *badc[] = {"10.0.0.0", "10.0.0.0/33", "10.0.0.0/", "/8", "::/129", "10.0.0.0/a"};
  for (size_t i = 0; i < ARRAY_SIZE(badc); i++)
    expect_msgs(valid_cidr, badc[i],
                "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)");
}

static void test_identifiers(void **state) {
  expect_ok(valid_c_identifier, "_a1");
  expect_ok(valid_c_identifier, "MY_NAME");
  expect_msgs(valid_c_identifier, "1a",
              "a valid C identifier must start with alphabetic character or '_', followed by a "
              "string of alphanumeric characters or '_' (e.g. 'my_name',  or 'MY_NAME',  or "
              "'MyName', regex used for validation is '[A-Za-z_][A-Za-z0-9_]*')");
  const char *env_good[] = {"A", "ABC", "AbC_123", "_123", "-", "a.b", ".a", "a-b"};
  for (size_t i = 0; i < ARRAY_SIZE(env_good); i++)
    expect_ok(valid_env_var_name, env_good[i]);
  const char *env_msg =
      "a valid environment variable name must consist of alphabetic characters, digits, '_', "
      "'-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  "
      "or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')";
  expect_msgs(valid_env_var_name, "1ABC", env_msg);
  expect_msgs(valid_env_var_name, "A B", env_msg);
  expect_msgs(valid_env_var_name, "", env_msg);
  expect_msgs(valid_env_var_name, ".", "must not be '.'");
  expect_msgs(valid_env_var_name, "..", "must not be '..'");
  expect_msgs(valid_env_var_name, "..a", "must not start with '..'");
  expect_ok(valid_config_map_key, "key.name");
  expect_ok(valid_config_map_key, "KEY_NAME-1");
  expect_ok(valid_config_map_key, "1key");
  const char *cm_msg = "a valid config key must consist of alphanumeric characters, '-', '_' "
                       "or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used "
                       "for validation is '[-._a-zA-Z0-9]+')";
  expect_msgs(valid_config_map_key, "a/b", cm_msg);
  expect_msgs(valid_config_map_key, "", cm_msg);
  expect_msgs(valid_config_map_key, "..", "must not be '..'");
}

static void test_annotations_size(void **state) {
  json_t *a = json_pack("{s:s,s:s}", "ab", "cde", "f", "");
  assert_int_equal(valid_annotations_size(a), 6);
  json_decref(a);
  assert_int_equal(valid_annotations_size(NULL), 0);
  assert_int_equal(VALID_ANNOTATIONS_TOTAL_MAX, 262144);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dns1123_label), cmocka_unit_test(test_dns1123_subdomain),
      cmocka_unit_test(test_dns1035),       cmocka_unit_test(test_qualified_name),
      cmocka_unit_test(test_label_value),   cmocka_unit_test(test_ports),
      cmocka_unit_test(test_ip_cidr),       cmocka_unit_test(test_identifiers),
      cmocka_unit_test(test_annotations_size),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
