#include "lib/pki.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/fileio.h"

#define CA_DAYS 3650
#define LEAF_DAYS 365
#define RENEW_BEFORE_SECONDS (30L * 24 * 3600)
/* Certificates start an hour in the past so a peer whose clock lags a little still
 * accepts them right after generation. */
#define BACKDATE_SECONDS 3600
/* A PEM pair is a few KiB; anything far larger is not ours. */
#define PEM_FILE_MAX (1024 * 1024)

struct pki_ca {
  X509 *cert;
  EVP_PKEY *key;
  char *cert_pem;
};

DEFINE_TRIVIAL_CLEANUP_FUNC(X509 *, X509_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY *, EVP_PKEY_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(BIO *, BIO_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(X509_STORE *, X509_STORE_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(X509_STORE_CTX *, X509_STORE_CTX_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(X509_NAME *, X509_NAME_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(GENERAL_NAMES *, GENERAL_NAMES_free)

static int fail(char **ret_err, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char **ret_err, int r, const char *fmt, ...) {
  if (ret_err) {
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    unsigned long e = ERR_peek_last_error();
    if (e) {
      char buf[256];
      ERR_error_string_n(e, buf, sizeof(buf));
      char *m2 = xasprintf("%s: %s", msg, buf);
      free(msg);
      msg = m2;
    }
    *ret_err = msg;
  }
  ERR_clear_error();
  return r;
}

static char *pem_of_cert(X509 *cert) {
  _cleanup_(BIO_freep) BIO *b = BIO_new(BIO_s_mem());
  if (!b || PEM_write_bio_X509(b, cert) != 1)
    return NULL;
  char *p;
  long n = BIO_get_mem_data(b, &p);
  return xstrndup(p, (size_t)n);
}

static char *pem_of_key(EVP_PKEY *key) {
  _cleanup_(BIO_freep) BIO *b = BIO_new(BIO_s_mem());
  if (!b || PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) != 1)
    return NULL;
  char *p;
  long n = BIO_get_mem_data(b, &p);
  return xstrndup(p, (size_t)n);
}

static X509 *cert_of_pem(const char *pem) {
  _cleanup_(BIO_freep) BIO *b = BIO_new_mem_buf(pem, -1);
  return b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
}

static EVP_PKEY *key_of_pem(const char *pem) {
  _cleanup_(BIO_freep) BIO *b = BIO_new_mem_buf(pem, -1);
  return b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
}

static int random_serial(X509 *cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1)
    return -EIO;
  /* Positive and non-zero, as RFC 5280 requires of serial numbers. */
  bytes[0] &= 0x7f;
  bytes[0] |= 0x01;
  BIGNUM *bn = BN_bin2bn(bytes, sizeof(bytes), NULL);
  if (!bn)
    return -ENOMEM;
  ASN1_INTEGER *serial = BN_to_ASN1_INTEGER(bn, NULL);
  BN_free(bn);
  if (!serial)
    return -ENOMEM;
  int ok = X509_set_serialNumber(cert, serial);
  ASN1_INTEGER_free(serial);
  return ok == 1 ? 0 : -EIO;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
  if (!ext)
    return -EINVAL;
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok == 1 ? 0 : -EIO;
}

static int build_name(const struct pki_subject *subj, X509_NAME **ret) {
  _cleanup_(X509_NAME_freep) X509_NAME *name = X509_NAME_new();
  if (!name)
    return -ENOMEM;
  for (size_t i = 0; i < subj->n_orgs; i++)
    if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)subj->orgs[i],
                                   -1, -1, 0) != 1)
      return -EINVAL;
  if (subj->cn && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                             (const unsigned char *)subj->cn, -1, -1, 0) != 1)
    return -EINVAL;
  *ret = TAKE_PTR(name);
  return 0;
}

static int add_sans(X509 *cert, const struct pki_subject *subj, char **ret_err) {
  if (subj->n_ips == 0 && subj->n_dns == 0)
    return 0;
  _cleanup_(GENERAL_NAMES_freep) GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
  if (!names)
    return -ENOMEM;
  for (size_t i = 0; i < subj->n_dns; i++) {
    if (!subj->dns[i] || !subj->dns[i][0])
      return fail(ret_err, -EINVAL, "empty DNS name in subject alternative names");
    ASN1_IA5STRING *s = ASN1_IA5STRING_new();
    GENERAL_NAME *gn = GENERAL_NAME_new();
    if (!s || !gn || ASN1_STRING_set(s, subj->dns[i], -1) != 1) {
      ASN1_IA5STRING_free(s);
      GENERAL_NAME_free(gn);
      return -ENOMEM;
    }
    GENERAL_NAME_set0_value(gn, GEN_DNS, s);
    sk_GENERAL_NAME_push(names, gn);
  }
  for (size_t i = 0; i < subj->n_ips; i++) {
    unsigned char addr[16];
    int alen;
    if (subj->ips[i] && inet_pton(AF_INET, subj->ips[i], addr) == 1)
      alen = 4;
    else if (subj->ips[i] && inet_pton(AF_INET6, subj->ips[i], addr) == 1)
      alen = 16;
    else
      return fail(ret_err, -EINVAL, "\"%s\" is not an IP address",
                  subj->ips[i] ? subj->ips[i] : "");
    ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();
    GENERAL_NAME *gn = GENERAL_NAME_new();
    if (!s || !gn || ASN1_OCTET_STRING_set(s, addr, alen) != 1) {
      ASN1_OCTET_STRING_free(s);
      GENERAL_NAME_free(gn);
      return -ENOMEM;
    }
    GENERAL_NAME_set0_value(gn, GEN_IPADD, s);
    sk_GENERAL_NAME_push(names, gn);
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT) != 1)
    return fail(ret_err, -EIO, "cannot add subject alternative names");
  return 0;
}

/* Builds and signs a certificate for `key`. With issuer == NULL it is a self-signed CA. */
static int make_cert(const struct pki_subject *subj, EVP_PKEY *key, X509 *issuer,
                     EVP_PKEY *issuer_key, bool server, bool client, int days, X509 **ret,
                     char **ret_err) {
  _cleanup_(X509_freep) X509 *cert = X509_new();
  _cleanup_(X509_NAME_freep) X509_NAME *name = NULL;
  if (!cert)
    return -ENOMEM;
  int r = build_name(subj, &name);
  if (r < 0)
    return fail(ret_err, r, "invalid certificate subject");
  if (X509_set_version(cert, 2) != 1 || random_serial(cert) < 0 ||
      X509_set_subject_name(cert, name) != 1 ||
      X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name) != 1 ||
      X509_set_pubkey(cert, key) != 1)
    return fail(ret_err, -EIO, "cannot fill certificate");
  time_t now = time(NULL);
  if (!X509_time_adj_ex(X509_getm_notBefore(cert), 0, -BACKDATE_SECONDS, &now) ||
      !X509_time_adj_ex(X509_getm_notAfter(cert), days, 0, &now))
    return fail(ret_err, -EIO, "cannot set validity");
  X509 *signer = issuer ? issuer : cert;
  if (!issuer) {
    if (add_ext(cert, signer, NID_basic_constraints, "critical,CA:TRUE") < 0 ||
        add_ext(cert, signer, NID_key_usage, "critical,digitalSignature,keyCertSign,cRLSign") < 0 ||
        add_ext(cert, signer, NID_subject_key_identifier, "hash") < 0)
      return fail(ret_err, -EIO, "cannot add CA extensions");
  } else {
    const char *eku = server && client ? "serverAuth,clientAuth"
                      : server         ? "serverAuth"
                                       : "clientAuth";
    if (add_ext(cert, signer, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
        add_ext(cert, signer, NID_key_usage, "critical,digitalSignature") < 0 ||
        add_ext(cert, signer, NID_ext_key_usage, eku) < 0 ||
        add_ext(cert, signer, NID_authority_key_identifier, "keyid:always") < 0)
      return fail(ret_err, -EIO, "cannot add certificate extensions");
    if (server) {
      r = add_sans(cert, subj, ret_err);
      if (r < 0)
        return r;
    }
  }
  if (X509_sign(cert, issuer_key ? issuer_key : key, EVP_sha256()) <= 0)
    return fail(ret_err, -EIO, "cannot sign certificate");
  *ret = TAKE_PTR(cert);
  return 0;
}

static EVP_PKEY *new_key(void) { return EVP_EC_gen("P-256"); }

void pki_ca_free(struct pki_ca *ca) {
  if (!ca)
    return;
  X509_free(ca->cert);
  EVP_PKEY_free(ca->key);
  free(ca->cert_pem);
  free(ca);
}

const char *pki_ca_cert_pem(const struct pki_ca *ca) { return ca->cert_pem; }

int pki_ca_from_pem(const char *cert_pem, const char *key_pem, struct pki_ca **ret,
                    char **ret_err) {
  _cleanup_(X509_freep) X509 *cert = cert_of_pem(cert_pem);
  if (!cert)
    return fail(ret_err, -EINVAL, "CA certificate is not a PEM certificate");
  _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = key_of_pem(key_pem);
  if (!key)
    return fail(ret_err, -EINVAL, "CA key is not a PEM private key");
  if (X509_check_private_key(cert, key) != 1)
    return fail(ret_err, -EINVAL, "CA key does not match the CA certificate");
  if (X509_check_ca(cert) == 0)
    return fail(ret_err, -EINVAL, "CA certificate is not a CA");
  struct pki_ca *ca = xcalloc(1, sizeof(*ca));
  ca->cert_pem = pem_of_cert(cert);
  if (!ca->cert_pem) {
    free(ca);
    return fail(ret_err, -ENOMEM, "cannot encode CA certificate");
  }
  ca->cert = TAKE_PTR(cert);
  ca->key = TAKE_PTR(key);
  *ret = ca;
  return 0;
}

static int write_pair(const char *dir, const char *name, const char *cert_pem, const char *key_pem,
                      char **ret_err) {
  _cleanup_free_ char *kpath = xasprintf("%s/%s.key", dir, name);
  _cleanup_free_ char *cpath = xasprintf("%s/%s.crt", dir, name);
  /* Key first: a crash between the two renames leaves a key that no longer matches the
   * old certificate, which the next ensure call detects and replaces. */
  int r = fileio_write_atomic(kpath, key_pem, strlen(key_pem), 0600);
  if (r < 0)
    return fail(ret_err, r, "cannot write %s: %s", kpath, strerror(-r));
  r = fileio_write_atomic(cpath, cert_pem, strlen(cert_pem), 0600);
  if (r < 0)
    return fail(ret_err, r, "cannot write %s: %s", cpath, strerror(-r));
  return 0;
}

int pki_read_pair(const char *dir, const char *name, char **ret_cert_pem, char **ret_key_pem) {
  _cleanup_free_ char *cpath = xasprintf("%s/%s.crt", dir, name);
  _cleanup_free_ char *kpath = xasprintf("%s/%s.key", dir, name);
  _cleanup_free_ char *c = NULL, *k = NULL;
  int r = fileio_read_all(cpath, PEM_FILE_MAX, &c, NULL);
  if (r < 0)
    return r;
  r = fileio_read_all(kpath, PEM_FILE_MAX, &k, NULL);
  if (r < 0)
    return r;
  if (ret_cert_pem)
    *ret_cert_pem = TAKE_PTR(c);
  if (ret_key_pem)
    *ret_key_pem = TAKE_PTR(k);
  return 0;
}

int pki_ca_ensure(const char *dir, struct pki_ca **ret, char **ret_err) {
  if (mkdir(dir, 0700) < 0 && errno != EEXIST)
    return fail(ret_err, -errno, "cannot create %s: %s", dir, strerror(errno));
  _cleanup_free_ char *cert_pem = NULL, *key_pem = NULL;
  int r = pki_read_pair(dir, "ca", &cert_pem, &key_pem);
  if (r == 0)
    return pki_ca_from_pem(cert_pem, key_pem, ret, ret_err);
  if (r != -ENOENT)
    return fail(ret_err, r, "cannot read CA in %s: %s", dir, strerror(-r));

  _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = new_key();
  if (!key)
    return fail(ret_err, -EIO, "cannot generate CA key");
  _cleanup_free_ char *cn = xasprintf("ckube-ca@%lld", (long long)time(NULL));
  struct pki_subject subj = {.cn = cn};
  _cleanup_(X509_freep) X509 *cert = NULL;
  r = make_cert(&subj, key, NULL, NULL, false, false, CA_DAYS, &cert, ret_err);
  if (r < 0)
    return r;
  free(cert_pem);
  free(key_pem);
  cert_pem = pem_of_cert(cert);
  key_pem = pem_of_key(key);
  if (!cert_pem || !key_pem)
    return fail(ret_err, -ENOMEM, "cannot encode CA");
  r = write_pair(dir, "ca", cert_pem, key_pem, ret_err);
  if (r < 0)
    return r;
  return pki_ca_from_pem(cert_pem, key_pem, ret, ret_err);
}

int pki_ca_issue(const struct pki_ca *ca, const struct pki_subject *subj, bool server, bool client,
                 int days, char **ret_cert_pem, char **ret_key_pem, char **ret_err) {
  _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = new_key();
  if (!key)
    return fail(ret_err, -EIO, "cannot generate key");
  _cleanup_(X509_freep) X509 *cert = NULL;
  int r = make_cert(subj, key, ca->cert, ca->key, server, client, days, &cert, ret_err);
  if (r < 0)
    return r;
  _cleanup_free_ char *c = pem_of_cert(cert);
  _cleanup_free_ char *k = pem_of_key(key);
  if (!c || !k)
    return fail(ret_err, -ENOMEM, "cannot encode certificate");
  *ret_cert_pem = TAKE_PTR(c);
  *ret_key_pem = TAKE_PTR(k);
  return 0;
}

/* Is the existing pair usable: matching key, signed by this CA, not expiring soon? */
static bool pair_usable(const struct pki_ca *ca, X509 *cert, const char *key_pem) {
  _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = key_of_pem(key_pem);
  if (!key || X509_check_private_key(cert, key) != 1)
    return false;
  EVP_PKEY *ca_pub = X509_get0_pubkey(ca->cert);
  if (!ca_pub || X509_verify(cert, ca_pub) != 1)
    return false;
  time_t soon = time(NULL) + RENEW_BEFORE_SECONDS;
  if (X509_cmp_time(X509_get0_notAfter(cert), &soon) <= 0)
    return false;
  ERR_clear_error();
  return true;
}

static bool sans_covered(X509 *cert, const struct pki_subject *subj) {
  for (size_t i = 0; i < subj->n_ips; i++)
    if (X509_check_ip_asc(cert, subj->ips[i], 0) != 1)
      return false;
  for (size_t i = 0; i < subj->n_dns; i++)
    if (X509_check_host(cert, subj->dns[i], 0, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, NULL) != 1)
      return false;
  return true;
}

static bool subject_matches(X509 *cert, const struct pki_subject *subj) {
  _cleanup_(X509_NAME_freep) X509_NAME *want = NULL;
  if (build_name(subj, &want) < 0)
    return false;
  return X509_NAME_cmp(X509_get_subject_name(cert), want) == 0;
}

static int ensure_leaf(const struct pki_ca *ca, const char *dir, const char *name,
                       const struct pki_subject *subj, bool server, char **ret_err) {
  if (!name[0] || strchr(name, '/') || streq(name, "ca") || streq(name, ".") || streq(name, ".."))
    return fail(ret_err, -EINVAL, "invalid certificate name \"%s\"", name);
  _cleanup_free_ char *cert_pem = NULL, *key_pem = NULL;
  if (pki_read_pair(dir, name, &cert_pem, &key_pem) == 0) {
    _cleanup_(X509_freep) X509 *cert = cert_of_pem(cert_pem);
    if (cert && pair_usable(ca, cert, key_pem) &&
        (server ? sans_covered(cert, subj) : subject_matches(cert, subj)))
      return 0;
    ERR_clear_error();
  }
  _cleanup_free_ char *c = NULL, *k = NULL;
  int r = pki_ca_issue(ca, subj, server, !server, LEAF_DAYS, &c, &k, ret_err);
  if (r < 0)
    return r;
  r = write_pair(dir, name, c, k, ret_err);
  return r < 0 ? r : 1;
}

int pki_ensure_serving(const struct pki_ca *ca, const char *dir, const struct pki_subject *subj,
                       char **ret_err) {
  return ensure_leaf(ca, dir, "serving", subj, true, ret_err);
}

int pki_ensure_client(const struct pki_ca *ca, const char *dir, const char *name,
                      const struct pki_subject *subj, char **ret_err) {
  return ensure_leaf(ca, dir, name, subj, false, ret_err);
}

int pki_verify(const char *ca_pem, const char *cert_pem, char **ret_err) {
  _cleanup_(X509_freep) X509 *ca = cert_of_pem(ca_pem);
  _cleanup_(X509_freep) X509 *cert = cert_of_pem(cert_pem);
  if (!ca || !cert)
    return fail(ret_err, -EINVAL, "not a PEM certificate");
  _cleanup_(X509_STORE_freep) X509_STORE *store = X509_STORE_new();
  _cleanup_(X509_STORE_CTX_freep) X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  if (!store || !ctx || X509_STORE_add_cert(store, ca) != 1 ||
      X509_STORE_CTX_init(ctx, store, cert, NULL) != 1)
    return fail(ret_err, -ENOMEM, "cannot set up verification");
  if (X509_verify_cert(ctx) != 1) {
    int e = X509_STORE_CTX_get_error(ctx);
    return fail(ret_err, -EKEYREJECTED, "certificate does not verify: %s",
                X509_verify_cert_error_string(e));
  }
  ERR_clear_error();
  return 0;
}
