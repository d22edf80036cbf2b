#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <sys/stat.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/fileio.h"
#include "lib/pki.h"

static char *make_tmpdir(void) {
  char *d = xstrdup("/tmp/ckube-pki-XXXXXX");
  assert_non_null(mkdtemp(d));
  return d;
}

static void rm_tree(const char *d) {
  _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", d);
  assert_int_equal(system(cmd), 0);
}

static X509 *parse(const char *pem) {
  BIO *b = BIO_new_mem_buf(pem, -1);
  X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
  BIO_free(b);
  assert_non_null(x);
  return x;
}

static void file_mode_is_0600(const char *dir, const char *file) {
  _cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
  struct stat st;
  assert_int_equal(stat(p, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_ca_serving_client(void **state) {
  _cleanup_free_ char *dir = make_tmpdir();
  _cleanup_free_ char *sub = xasprintf("%s/tls", dir);
  _cleanup_pki_ca_ struct pki_ca *ca = NULL;
  char *err = NULL;
  assert_int_equal(pki_ca_ensure(sub, &ca, &err), 0);
  file_mode_is_0600(sub, "ca.crt");
  file_mode_is_0600(sub, "ca.key");

  const char *ips[] = {"127.0.0.1", "::1", "10.43.0.1"};
  const char *dns[] = {"localhost", "kubernetes.default.svc"};
  struct pki_subject s = {.cn = "kube-apiserver", .ips = ips, .n_ips = 3, .dns = dns, .n_dns = 2};
  assert_int_equal(pki_ensure_serving(ca, sub, &s, &err), 1);
  file_mode_is_0600(sub, "serving.key");

  _cleanup_free_ char *crt = NULL, *key = NULL;
  assert_int_equal(pki_read_pair(sub, "serving", &crt, &key), 0);
  assert_int_equal(pki_verify(pki_ca_cert_pem(ca), crt, &err), 0);
  X509 *x = parse(crt);
  assert_int_equal(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
  assert_int_equal(X509_check_ip_asc(x, "::1", 0), 1);
  assert_int_equal(X509_check_ip_asc(x, "10.43.0.1", 0), 1);
  assert_int_equal(X509_check_host(x, "kubernetes.default.svc", 0, 0, NULL), 1);
  assert_int_equal(X509_check_purpose(x, X509_PURPOSE_SSL_SERVER, 0), 1);
  X509_free(x);

  const char *orgs[] = {"system:masters"};
  struct pki_subject admin = {.cn = "system:admin", .orgs = orgs, .n_orgs = 1};
  assert_int_equal(pki_ensure_client(ca, sub, "admin", &admin, &err), 1);
  _cleanup_free_ char *acrt = NULL;
  assert_int_equal(pki_read_pair(sub, "admin", &acrt, NULL), 0);
  assert_int_equal(pki_verify(pki_ca_cert_pem(ca), acrt, &err), 0);
  x = parse(acrt);
  char buf[256];
  assert_true(
      X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, sizeof(buf)) > 0);
  assert_string_equal(buf, "system:admin");
  assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_organizationName, buf,
                                        sizeof(buf)) > 0);
  assert_string_equal(buf, "system:masters");
  assert_int_equal(X509_check_purpose(x, X509_PURPOSE_SSL_CLIENT, 0), 1);
  X509_free(x);

  /* Reload: everything is reused. */
  _cleanup_pki_ca_ struct pki_ca *ca2 = NULL;
  assert_int_equal(pki_ca_ensure(sub, &ca2, &err), 0);
  assert_string_equal(pki_ca_cert_pem(ca), pki_ca_cert_pem(ca2));
  assert_int_equal(pki_ensure_serving(ca2, sub, &s, &err), 0);
  struct pki_subject fewer = {.ips = ips, .n_ips = 1, .dns = dns, .n_dns = 1};
  assert_int_equal(pki_ensure_serving(ca2, sub, &fewer, &err), 0);
  assert_int_equal(pki_ensure_client(ca2, sub, "admin", &admin, &err), 0);
  _cleanup_free_ char *crt2 = NULL;
  assert_int_equal(pki_read_pair(sub, "serving", &crt2, NULL), 0);
  assert_string_equal(crt, crt2);

  /* A new SAN regenerates; a different subject regenerates the client cert. */
  const char *ips2[] = {"127.0.0.1", "192.168.7.7"};
  struct pki_subject more = {.ips = ips2, .n_ips = 2};
  assert_int_equal(pki_ensure_serving(ca2, sub, &more, &err), 1);
  struct pki_subject other = {.cn = "system:kube-scheduler"};
  assert_int_equal(pki_ensure_client(ca2, sub, "admin", &other, &err), 1);

  rm_tree(dir);
}

static void test_foreign_ca_rejected(void **state) {
  _cleanup_free_ char *d1 = make_tmpdir();
  _cleanup_free_ char *d2 = make_tmpdir();
  _cleanup_pki_ca_ struct pki_ca *a = NULL, *b = NULL;
  assert_int_equal(pki_ca_ensure(d1, &a, NULL), 0);
  assert_int_equal(pki_ca_ensure(d2, &b, NULL), 0);
  struct pki_subject s = {.cn = "x"};
  _cleanup_free_ char *c = NULL, *k = NULL;
  assert_int_equal(pki_ca_issue(a, &s, false, true, 1, &c, &k, NULL), 0);
  char *err = NULL;
  assert_int_equal(pki_verify(pki_ca_cert_pem(b), c, &err), -EKEYREJECTED);
  assert_non_null(err);
  free(err);
  assert_int_equal(pki_verify(pki_ca_cert_pem(a), "garbage", NULL), -EINVAL);
  /* A serving pair signed by another CA is replaced. */
  assert_int_equal(pki_ensure_serving(a, d2, &s, NULL), 1);
  assert_int_equal(pki_ensure_serving(b, d2, &s, NULL), 1);
  assert_int_equal(pki_ensure_serving(b, d2, &s, NULL), 0);
  rm_tree(d1);
  rm_tree(d2);
}

static void test_bad_input(void **state) {
  _cleanup_free_ char *d = make_tmpdir();
  _cleanup_pki_ca_ struct pki_ca *ca = NULL;
  assert_int_equal(pki_ca_ensure(d, &ca, NULL), 0);
  const char *ips[] = {"not-an-ip"};
  struct pki_subject s = {.ips = ips, .n_ips = 1};
  char *err = NULL;
  assert_int_equal(pki_ensure_serving(ca, d, &s, &err), -EINVAL);
  assert_non_null(strstr(err, "not-an-ip"));
  free(err);
  assert_int_equal(pki_ensure_client(ca, d, "../x", &s, NULL), -EINVAL);
  assert_int_equal(pki_ensure_client(ca, d, "ca", &s, NULL), -EINVAL);
  _cleanup_free_ char *p = xasprintf("%s/ca.key", d);
  assert_int_equal(fileio_write_atomic(p, "junk", 4, 0600), 0);
  _cleanup_pki_ca_ struct pki_ca *ca2 = NULL;
  assert_int_equal(pki_ca_ensure(d, &ca2, NULL), -EINVAL);
  assert_int_equal(pki_ca_from_pem("x", "y", &ca2, NULL), -EINVAL);
  rm_tree(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ca_serving_client),
      cmocka_unit_test(test_foreign_ca_rejected),
      cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
