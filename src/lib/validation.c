#include "lib/validation.h"

#include <arpa/inet.h>
#include <stdio.h>

/* Format strings below are the regexes apimachinery prints in its messages; they are
 * part of the message text users see, so they must stay byte-identical. */
#define DNS1123_LABEL_FMT "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
#define DNS1123_LABEL_MSG                                                                  \
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', " \
  "and must start and end with an alphanumeric character"
#define DNS1123_SUBDOMAIN_FMT DNS1123_LABEL_FMT "(\\." DNS1123_LABEL_FMT ")*"
#define DNS1123_SUBDOMAIN_MSG                                                              \
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' " \
  "or '.', and must start and end with an alphanumeric character"
#define DNS1035_LABEL_FMT "[a-z]([-a-z0-9]*[a-z0-9])?"
#define DNS1035_LABEL_MSG                                                                  \
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with " \
  "an alphabetic character, and end with an alphanumeric character"
#define QNAME_FMT "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
#define QNAME_MSG                                                                          \
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with " \
  "an alphanumeric character"
#define LABEL_VALUE_FMT "(" QNAME_FMT ")?"
#define LABEL_VALUE_MSG                                                                    \
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' " \
  "or '.', and must start and end with an alphanumeric character"
#define C_IDENT_FMT "[A-Za-z_][A-Za-z0-9_]*"
#define C_IDENT_MSG                                                                        \
  "a valid C identifier must start with alphabetic character or '_', followed by a string " \
  "of alphanumeric characters or '_'"
#define ENV_VAR_FMT "[-._a-zA-Z][-._a-zA-Z0-9]*"
#define ENV_VAR_MSG                                                                        \
  "a valid environment variable name must consist of alphabetic characters, digits, '_', " \
  "'-', or '.', and must not start with a digit"
#define CONFIG_KEY_FMT "[-._a-zA-Z0-9]+"
#define CONFIG_KEY_MSG "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"

typedef struct {
  char **v;
  size_t n;
} msgs_t;

static void msgs_add(msgs_t *m, char *msg) {
  m->v = xrealloc(m->v, (m->n + 2) * sizeof(char *));
  m->v[m->n++] = msg;
  m->v[m->n] = NULL;
}

static int msgs_finish(msgs_t *m, char ***ret_msgs) {
  int n = (int)m->n;
  if (ret_msgs)
    *ret_msgs = m->v;
  else
    valid_msgs_free(m->v);
  return n;
}

void valid_msgs_free(char **msgs) {
  if (!msgs)
    return;
  for (char **p = msgs; *p; p++)
    free(*p);
  free(msgs);
}

size_t valid_msgs_count(char *const *msgs) {
  size_t n = 0;
  while (msgs && msgs[n])
    n++;
  return n;
}

char *valid_msgs_join(char *const *msgs, const char *sep) {
  size_t len = 1, seplen = strlen(sep);
  for (size_t i = 0; msgs && msgs[i]; i++)
    len += strlen(msgs[i]) + seplen;
  char *out = xmalloc(len), *p = out;
  *p = 0;
  for (size_t i = 0; msgs && msgs[i]; i++) {
    if (i) {
      memcpy(p, sep, seplen);
      p += seplen;
    }
    size_t l = strlen(msgs[i]);
    memcpy(p, msgs[i], l);
    p += l;
  }
  *p = 0;
  return out;
}

/* apimachinery's RegexError: "<msg> (e.g. 'a',  or 'b', regex used for validation is
 * '<fmt>')" — the doubled space after each comma is theirs. */
static char *regex_error(const char *msg, const char *fmt, const char *const *examples) {
  size_t cap = strlen(msg) + strlen(fmt) + 64;
  for (size_t i = 0; examples[i]; i++)
    cap += strlen(examples[i]) + 8;
  char *out = xmalloc(cap);
  int n = snprintf(out, cap, "%s", msg);
  if (!examples[0]) {
    snprintf(out + n, cap - n, " (regex used for validation is '%s')", fmt);
    return out;
  }
  n += snprintf(out + n, cap - n, " (e.g. ");
  for (size_t i = 0; examples[i]; i++)
    n += snprintf(out + n, cap - n, "%s'%s', ", i ? " or " : "", examples[i]);
  snprintf(out + n, cap - n, "regex used for validation is '%s')", fmt);
  return out;
}

#define REGEX_ERROR(msg, fmt, ...)                                                         \
  regex_error((msg), (fmt), (const char *const[]){__VA_ARGS__, NULL})

static char *max_len_error(size_t n) { return xasprintf("must be no more than %zu characters", n); }

static bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }

/* [a-z0-9]([-a-z0-9]*[a-z0-9])? over s[0..n) */
static bool match_dns1123_label(const char *s, size_t n) {
  if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
    return false;
  for (size_t i = 0; i < n; i++)
    if (!is_lower_alnum(s[i]) && s[i] != '-')
      return false;
  return true;
}

static bool match_dns1123_subdomain(const char *s) {
  for (;;) {
    const char *dot = strchr(s, '.');
    size_t n = dot ? (size_t)(dot - s) : strlen(s);
    if (!match_dns1123_label(s, n))
      return false;
    if (!dot)
      return true;
    s = dot + 1;
  }
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] */
static bool match_qname(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
    return false;
  for (size_t i = 0; i < n; i++)
    if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
      return false;
  return true;
}

int valid_dns1123_label(const char *value, char ***ret_msgs) {
  msgs_t m = {0};
  size_t n = strlen(value);
  if (n > VALID_DNS1123_LABEL_MAX)
    msgs_add(&m, max_len_error(VALID_DNS1123_LABEL_MAX));
  if (!match_dns1123_label(value, n)) {
    /* A valid subdomain that is not a valid label can only be wrong by its dots. */
    if (match_dns1123_subdomain(value))
      msgs_add(&m, xstrdup("must not contain dots"));
    else
      msgs_add(&m, REGEX_ERROR(DNS1123_LABEL_MSG, DNS1123_LABEL_FMT, "my-name", "123-abc"));
  }
  return msgs_finish(&m, ret_msgs);
}

int valid_dns1123_subdomain(const char *value, char ***ret_msgs) {
  msgs_t m = {0};
  if (strlen(value) > VALID_DNS1123_SUBDOMAIN_MAX)
    msgs_add(&m, max_len_error(VALID_DNS1123_SUBDOMAIN_MAX));
  if (!match_dns1123_subdomain(value))
    msgs_add(&m, REGEX_ERROR(DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, "example.com"));
  return msgs_finish(&m, ret_msgs);
}

int valid_dns1035_label(const char *value, char ***ret_msgs) {
  msgs_t m = {0};
  size_t n = strlen(value);
  if (n > VALID_DNS1035_LABEL_MAX)
    msgs_add(&m, max_len_error(VALID_DNS1035_LABEL_MAX));
  if (!match_dns1123_label(value, n) || !(value[0] >= 'a' && value[0] <= 'z'))
    msgs_add(&m, REGEX_ERROR(DNS1035_LABEL_MSG, DNS1035_LABEL_FMT, "my-name", "abc-123"));
  return msgs_finish(&m, ret_msgs);
}

int valid_qualified_name(const char *value, char ***ret_msgs) {
  msgs_t m = {0};
  const char *slash = strchr(value, '/');
  const char *name = value;
  if (slash && strchr(slash + 1, '/')) {
    char *e = REGEX_ERROR("a qualified name " QNAME_MSG, QNAME_FMT, "MyName", "my.name",
                          "123-abc");
    msgs_add(&m, xasprintf("%s with an optional DNS subdomain prefix and '/' (e.g. "
                           "'example.com/MyName')",
                           e));
    free(e);
    return msgs_finish(&m, ret_msgs);
  }
  if (slash) {
    _cleanup_free_ char *prefix = xstrndup(value, slash - value);
    name = slash + 1;
    if (!*prefix) {
      msgs_add(&m, xstrdup("prefix part must be non-empty"));
    } else {
      _cleanup_valid_msgs_ char **pm = NULL;
      if (valid_dns1123_subdomain(prefix, &pm) > 0)
        for (char **p = pm; *p; p++)
          msgs_add(&m, xasprintf("prefix part %s", *p));
    }
  }
  size_t n = strlen(name);
  if (n == 0)
    msgs_add(&m, xstrdup("name part must be non-empty"));
  else if (n > VALID_QUALIFIED_NAME_MAX)
    msgs_add(&m, xasprintf("name part must be no more than %d characters",
                           VALID_QUALIFIED_NAME_MAX));
  if (!match_qname(name)) {
    char *e = REGEX_ERROR(QNAME_MSG, QNAME_FMT, "MyName", "my.name", "123-abc");
    msgs_add(&m, xasprintf("name part %s", e));
    free(e);
  }
  return msgs_finish(&m, ret_msgs);
}

int valid_label_key(const char *value, char ***ret_msgs) {
  return valid_qualified_name(value, ret_msgs);
}

int valid_label_value(const char *value, char ***ret_msgs) {
  msgs_t m = {0};
  if (strlen(value) > VALID_LABEL_VALUE_MAX)
    msgs_add(&m, max_len_error(VALID_LABEL_VALUE_MAX));
  if (*value && !match_qname(value))
    msgs_add(&m, REGEX_ERROR(LABEL_VALUE_MSG, LABEL_VALUE_FMT, "MyValue", "my_value", "12345"));
  return msgs_finish(&m, ret_msgs);
}

int valid_annotation_key(const char *value, char ***ret_msgs) {
  /* Kubernetes checks annotation keys as qualified names after lower-casing them. */
  _cleanup_free_ char *lower = xstrdup(value);
  for (char *p = lower; *p; p++)
    if (*p >= 'A' && *p <= 'Z')
      *p += 'a' - 'A';
  return valid_qualified_name(lower, ret_msgs);
}

int valid_port_num(int64_t port, char ***ret_msgs) {
  msgs_t m = {0};
  if (port < 1 || port > 65535)
    msgs_add(&m, xstrdup("must be between 1 and 65535, inclusive"));
  return msgs_finish(&m, ret_msgs);
}

int valid_port_name(const char *value, char ***ret_msgs) {
  msgs_t m = {0};
  size_t n = strlen(value);
  bool charset = n > 0, letter = false;
  for (size_t i = 0; i < n; i++) {
    if (!is_lower_alnum(value[i]) && value[i] != '-')
      charset = false;
    if (value[i] >= 'a' && value[i] <= 'z')
      letter = true;
  }
  if (n > 15)
    msgs_add(&m, max_len_error(15));
  if (!charset)
    msgs_add(&m, xstrdup("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"));
  if (!letter)
    msgs_add(&m, xstrdup("must contain at least one letter (a-z)"));
  if (strstr(value, "--"))
    msgs_add(&m, xstrdup("must not contain consecutive hyphens"));
  if (n > 0 && (value[0] == '-' || value[n - 1] == '-'))
    msgs_add(&m, xstrdup("must not begin or end with a hyphen"));
  return msgs_finish(&m, ret_msgs);
}

/* Kubernetes parses IPv4 "sloppily": each of the four parts is a run of decimal digits
 * whose value is at most 255, leading zeros allowed (and read as decimal). */
static bool parse_ipv4_sloppy(const char *s, size_t n) {
  size_t i = 0;
  for (int part = 0; part < 4; part++) {
    if (part) {
      if (i >= n || s[i] != '.')
        return false;
      i++;
    }
    size_t start = i;
    unsigned v = 0;
    while (i < n && is_digit(s[i])) {
      v = v * 10 + (unsigned)(s[i] - '0');
      if (v > 255)
        return false;
      i++;
    }
    if (i == start)
      return false;
  }
  return i == n;
}

static bool parse_ip(const char *s, size_t n, int *ret_bits) {
  if (parse_ipv4_sloppy(s, n)) {
    *ret_bits = 32;
    return true;
  }
  char buf[INET6_ADDRSTRLEN + 1];
  unsigned char addr[16];
  if (n == 0 || n >= sizeof(buf) || memchr(s, '%', n))
    return false;
  memcpy(buf, s, n);
  buf[n] = 0;
  if (inet_pton(AF_INET6, buf, addr) != 1)
    return false;
  *ret_bits = 128;
  return true;
}

int valid_ip(const char *value, char ***ret_msgs) {
  msgs_t m = {0};
  int bits;
  if (!parse_ip(value, strlen(value), &bits))
    msgs_add(&m, xstrdup("must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"));
  return msgs_finish(&m, ret_msgs);
}

int valid_ipv4(const char *value, char ***ret_msgs) {
  msgs_t m = {0};
  bool ok = parse_ipv4_sloppy(value, strlen(value));
  if (!ok && strchr(value, ':')) {
    unsigned char addr[16];
    ok = inet_pton(AF_INET6, value, addr) == 1 &&
         IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)addr);
  }
  if (!ok)
    msgs_add(&m, xstrdup("must be a valid IPv4 address"));
  return msgs_finish(&m, ret_msgs);
}

int valid_cidr(const char *value, char ***ret_msgs) {
  msgs_t m = {0};
  const char *slash = strchr(value, '/');
  int bits = 0;
  bool ok = slash && parse_ip(value, slash - value, &bits);
  if (ok) {
    const char *p = slash + 1;
    unsigned v = 0;
    ok = *p != 0;
    for (; *p && ok; p++) {
      ok = is_digit(*p) && (v = v * 10 + (unsigned)(*p - '0')) <= (unsigned)bits;
    }
  }
  if (!ok)
    msgs_add(&m, xstrdup("must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"));
  return msgs_finish(&m, ret_msgs);
}

int valid_c_identifier(const char *value, char ***ret_msgs) {
  msgs_t m = {0};
  bool ok = (is_alpha(value[0]) || value[0] == '_');
  for (const char *p = value; *p && ok; p++)
    ok = is_alnum(*p) || *p == '_';
  if (!ok)
    msgs_add(&m, REGEX_ERROR(C_IDENT_MSG, C_IDENT_FMT, "my_name", "MY_NAME", "MyName"));
  return msgs_finish(&m, ret_msgs);
}

/* Keys become file names in volumes, so "." and ".." would escape the directory. */
static void add_chdir_prefix_errors(msgs_t *m, const char *value) {
  if (streq(value, "."))
    msgs_add(m, xstrdup("must not be '.'"));
  else if (streq(value, ".."))
    msgs_add(m, xstrdup("must not be '..'"));
  else if (startswith(value, ".."))
    msgs_add(m, xstrdup("must not start with '..'"));
}

static bool is_env_char(char c) { return is_alnum(c) || c == '-' || c == '.' || c == '_'; }

int valid_env_var_name(const char *value, char ***ret_msgs) {
  msgs_t m = {0};
  bool ok = *value && !is_digit(value[0]);
  for (const char *p = value; *p && ok; p++)
    ok = is_env_char(*p);
  if (!ok)
    msgs_add(&m, REGEX_ERROR(ENV_VAR_MSG, ENV_VAR_FMT, "my.env-name", "MY_ENV.NAME",
                             "MyEnvName1"));
  add_chdir_prefix_errors(&m, value);
  return msgs_finish(&m, ret_msgs);
}

int valid_config_map_key(const char *value, char ***ret_msgs) {
  msgs_t m = {0};
  if (strlen(value) > VALID_DNS1123_SUBDOMAIN_MAX)
    msgs_add(&m, max_len_error(VALID_DNS1123_SUBDOMAIN_MAX));
  bool ok = *value != 0;
  for (const char *p = value; *p && ok; p++)
    ok = is_env_char(*p);
  if (!ok)
    msgs_add(&m, REGEX_ERROR(CONFIG_KEY_MSG, CONFIG_KEY_FMT, "key.name", "KEY_NAME", "key-name"));
  add_chdir_prefix_errors(&m, value);
  return msgs_finish(&m, ret_msgs);
}

size_t valid_annotations_size(const json_t *annotations) {
  size_t total = 0;
  const char *key;
  json_t *v;
  if (!json_is_object(annotations))
    return 0;
  json_object_foreach((json_t *)annotations, key, v) {
    total += strlen(key);
    if (json_is_string(v))
      total += json_string_length(v);
  }
  return total;
}
