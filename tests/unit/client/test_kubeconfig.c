#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <sys/stat.h>

#include "client/kubeconfig.h"
#include "lib/fileio.h"
#include "lib/pki.h"

static const char CA[] = "-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n";
static const char CERT[] = "-----BEGIN CERTIFICATE-----\nQ0VSVA==\n-----END CERTIFICATE-----\n";
static const char KEY[] = "-----BEGIN PRIVATE KEY-----\nS0VZ\n-----END PRIVATE KEY-----\n";

static char *make_tmpdir(void) {
  char *d = xstrdup("/tmp/ckube-kubeconfig-XXXXXX");
  assert_non_null(mkdtemp(d));
  return d;
}

static void rm_tree(const char *d) {
  _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", d);
  assert_int_equal(system(cmd), 0);
}

static void write_file(const char *path, const char *text) {
  assert_int_equal(fileio_write_atomic(path, text, strlen(text), 0600), 0);
}

static void test_write_and_read_admin(void **state) {
  _cleanup_free_ char *dir = make_tmpdir();
  _cleanup_free_ char *path = xasprintf("%s/k3s.yaml", dir);
  assert_int_equal(kubeconfig_write_admin(path, NULL, CA, CERT, KEY, NULL), 0);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);

  _cleanup_free_ char *text = kubeconfig_render_admin(NULL, CA, CERT, KEY);
  assert_non_null(strstr(text, "    server: https://127.0.0.1:6443\n  name: default\n"));
  assert_non_null(strstr(text, "current-context: default\n"));
  assert_non_null(strstr(text, "    certificate-authority-data: LS0tLS1CRUdJTi"));
  assert_non_null(strstr(text, "    client-key-data: "));

  _cleanup_kubeconfig_creds_ struct kubeconfig_creds *c = NULL;
  char *err = NULL;
  assert_int_equal(kubeconfig_load(path, NULL, &c, &err), 0);
  assert_string_equal(c->context, "default");
  assert_string_equal(c->server, "https://127.0.0.1:6443");
  assert_string_equal(c->ca_pem, CA);
  assert_string_equal(c->cert_pem, CERT);
  assert_string_equal(c->key_pem, KEY);
  assert_null(c->token);
  assert_false(c->insecure_skip_tls_verify);

  /* A server that needs quoting survives the round trip. */
  assert_int_equal(kubeconfig_write_admin(path, "https://[::1]:6443/a b", CA, CERT, KEY, NULL), 0);
  kubeconfig_creds_free(TAKE_PTR(c));
  assert_int_equal(kubeconfig_load(path, "default", &c, NULL), 0);
  assert_string_equal(c->server, "https://[::1]:6443/a b");
  assert_int_equal(kubeconfig_write_admin(path, "https://x\n", CA, CERT, KEY, NULL), -EINVAL);
  rm_tree(dir);
}

static const char MULTI[] = "apiVersion: v1\n"
                            "kind: Config\n"
                            "current-context: dev\n"
                            "clusters:\n"
                            "- name: prod\n"
                            "  cluster:\n"
                            "    server: https://10.0.0.1:6443\n"
                            "    insecure-skip-tls-verify: true\n"
                            "- name: dev\n"
                            "  cluster:\n"
                            "    server: https://dev.example:6443\n"
                            "    certificate-authority: ca.crt\n"
                            "    tls-server-name: kubernetes\n"
                            "contexts:\n"
                            "- name: prod\n"
                            "  context: {cluster: prod, user: robot}\n"
                            "- name: dev\n"
                            "  context:\n"
                            "    cluster: dev\n"
                            "    user: me\n"
                            "- name: nouser\n"
                            "  context: {cluster: prod}\n"
                            "- name: broken\n"
                            "  context: {cluster: nowhere, user: me}\n"
                            "users:\n"
                            "- name: me\n"
                            "  user:\n"
                            "    client-certificate: certs/me.crt\n"
                            "    client-key: certs/me.key\n"
                            "- name: robot\n"
                            "  user:\n"
                            "    tokenFile: token\n";

static void test_contexts_and_files(void **state) {
  _cleanup_free_ char *dir = make_tmpdir();
  _cleanup_free_ char *certs = xasprintf("%s/certs", dir);
  assert_int_equal(mkdir(certs, 0700), 0);
  _cleanup_free_ char *p1 = xasprintf("%s/ca.crt", dir);
  _cleanup_free_ char *p2 = xasprintf("%s/certs/me.crt", dir);
  _cleanup_free_ char *p3 = xasprintf("%s/certs/me.key", dir);
  _cleanup_free_ char *p4 = xasprintf("%s/token", dir);
  _cleanup_free_ char *cfg = xasprintf("%s/config", dir);
  write_file(p1, CA);
  write_file(p2, CERT);
  write_file(p3, KEY);
  write_file(p4, "s3cr3t\n");
  write_file(cfg, MULTI);

  _cleanup_kubeconfig_creds_ struct kubeconfig_creds *c = NULL;
  char *err = NULL;
  assert_int_equal(kubeconfig_load(cfg, NULL, &c, &err), 0);
  assert_string_equal(c->context, "dev");
  assert_string_equal(c->server, "https://dev.example:6443");
  assert_string_equal(c->ca_pem, CA);
  assert_string_equal(c->tls_server_name, "kubernetes");
  assert_string_equal(c->cert_pem, CERT);
  assert_string_equal(c->key_pem, KEY);
  kubeconfig_creds_free(TAKE_PTR(c));

  assert_int_equal(kubeconfig_load(cfg, "prod", &c, NULL), 0);
  assert_true(c->insecure_skip_tls_verify);
  assert_string_equal(c->token, "s3cr3t");
  assert_null(c->ca_pem);
  kubeconfig_creds_free(TAKE_PTR(c));

  assert_int_equal(kubeconfig_load(cfg, "nouser", &c, NULL), 0);
  assert_null(c->token);
  assert_null(c->cert_pem);
  kubeconfig_creds_free(TAKE_PTR(c));

  assert_int_equal(kubeconfig_load(cfg, "missing", &c, &err), -EINVAL);
  assert_string_equal(err, "context was not found for specified context: missing");
  free(err);
  assert_int_equal(kubeconfig_load(cfg, "broken", &c, &err), -EINVAL);
  assert_non_null(strstr(err, "nowhere"));
  free(err);

  /* Without a base directory, file references are refused. */
  assert_int_equal(kubeconfig_parse(MULTI, strlen(MULTI), NULL, NULL, &c, &err), -EINVAL);
  assert_non_null(strstr(err, "ca.crt"));
  free(err);

  unlink(p3);
  assert_int_equal(kubeconfig_load(cfg, NULL, &c, &err), -ENOENT);
  assert_non_null(strstr(err, "me.key"));
  free(err);
  rm_tree(dir);
}

static void test_malformed(void **state) {
  struct kubeconfig_creds *c = NULL;
  char *err = NULL;
  static const char *bad[] = {
      "",
      "- a\n- b\n",
      "clusters: [\n",
      "current-context: x\n",
      "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\nclusters:\n- name: c\n  "
      "cluster: {}\n",
      "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\nclusters:\n- name: c\n  "
      "cluster: {server: s, certificate-authority-data: '!!!'}\n",
      "{\"current-context\": \"x\", \"contexts\": [{\"name\": \"x\", \"context\": {\"cluster\": "
      "\"c\", \"user\": \"u\"}}], \"clusters\": [{\"name\": \"c\", \"cluster\": {\"server\": "
      "\"s\"}}]}",
  };
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
    assert_int_equal(kubeconfig_parse(bad[i], strlen(bad[i]), NULL, NULL, &c, &err), -EINVAL);
    assert_non_null(err);
    free(err);
    err = NULL;
  }
  /* JSON is YAML too. */
  const char json[] = "{\"current-context\": \"x\", \"contexts\": [{\"name\": \"x\", \"context\": "
                      "{\"cluster\": \"c\", \"user\": \"u\"}}], \"clusters\": [{\"name\": \"c\", "
                      "\"cluster\": {\"server\": \"s\"}}], \"users\": [{\"name\": \"u\", \"user\": "
                      "{\"token\": \"t\"}}]}";
  assert_int_equal(kubeconfig_parse(json, strlen(json), NULL, NULL, &c, NULL), 0);
  assert_string_equal(c->token, "t");
  kubeconfig_creds_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_write_and_read_admin),
      cmocka_unit_test(test_contexts_and_files),
      cmocka_unit_test(test_malformed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
