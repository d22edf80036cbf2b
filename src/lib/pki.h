/* pki.h — the cluster's certificate authority and the certificates it signs (OpenSSL 3).
 *
 * A PKI directory holds PEM files in pairs, `<name>.crt` and `<name>.key`:
 *   ca          the cluster CA, self-signed, valid 10 years;
 *   serving     the API server's serving certificate, valid 1 year, SANs chosen by caller;
 *   <any>       client certificates (e.g. admin: CN=system:admin, O=system:masters).
 * Keys are ECDSA P-256 (PKCS#8 PEM); serial numbers are random; every file is written
 * atomically (fileio_write_atomic) with mode 0600.
 *
 * Errors: functions return 0 or a negative errno; when `ret_err` is non-NULL a failing
 * call stores a malloc'd message there (the caller frees it). Nothing here logs.
 * Thread-safety: a `struct pki_ca` is immutable once loaded and may be shared by threads;
 * two processes ensuring the same directory at once may both generate, the last rename
 * wins (each result is complete and valid on its own). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "lib/macro.h"

struct pki_ca;

/* What a leaf certificate says about its subject. `orgs`, `ips` and `dns` are arrays of
 * `n_*` strings (may be NULL when the count is 0). IPs are textual IPv4/IPv6 addresses. */
struct pki_subject {
  const char *cn;
  const char *const *orgs;
  size_t n_orgs;
  const char *const *ips;
  size_t n_ips;
  const char *const *dns;
  size_t n_dns;
};

/* Loads `dir`/ca.{crt,key}, creating the directory (0700) and a new CA when either file
 * is missing. On success *ret owns the CA (free with pki_ca_free).
 * -EINVAL: existing files are unreadable as a CA pair; other -errno from the filesystem. */
int pki_ca_ensure(const char *dir, struct pki_ca **ret, char **ret_err);

/* Loads an existing CA from PEM text (no files). -EINVAL on malformed or mismatched
 * input. */
int pki_ca_from_pem(const char *cert_pem, const char *key_pem, struct pki_ca **ret, char **ret_err);

void pki_ca_free(struct pki_ca *ca);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pki_ca *, pki_ca_free)
#define _cleanup_pki_ca_ _cleanup_(pki_ca_freep)

/* The CA certificate as PEM text; borrowed, valid as long as the CA. */
const char *pki_ca_cert_pem(const struct pki_ca *ca);

/* Issues a fresh key and a certificate for `subj`, signed by the CA, valid `days` days.
 * `server` adds the serverAuth usage (and the SANs), `client` the clientAuth usage.
 * On success *ret_cert_pem and *ret_key_pem are malloc'd PEM text.
 * -EINVAL: an IP SAN is not an address, or a name is empty. */
int pki_ca_issue(const struct pki_ca *ca, const struct pki_subject *subj, bool server, bool client,
                 int days, char **ret_cert_pem, char **ret_key_pem, char **ret_err);

/* Makes sure `dir`/serving.{crt,key} exist, are signed by `ca`, cover every IP and DNS
 * name of `subj` and stay valid for 30 more days; otherwise writes a new pair (1 year).
 * Returns 1 when it (re)generated the pair, 0 when the existing one was kept. */
int pki_ensure_serving(const struct pki_ca *ca, const char *dir, const struct pki_subject *subj,
                       char **ret_err);

/* Makes sure `dir`/`name`.{crt,key} hold a client certificate (1 year) for exactly
 * subj->cn and subj->orgs, signed by `ca` and valid for 30 more days; otherwise writes a
 * new pair. Returns 1 when generated, 0 when kept. `name` must be a plain file stem. */
int pki_ensure_client(const struct pki_ca *ca, const char *dir, const char *name,
                      const struct pki_subject *subj, char **ret_err);

/* Reads `dir`/`name`.crt and `dir`/`name`.key as malloc'd PEM text. Either out-param
 * may be NULL when not wanted. -ENOENT when a file is missing. */
int pki_read_pair(const char *dir, const char *name, char **ret_cert_pem, char **ret_key_pem);

/* Checks that `cert_pem` (first certificate of the text) chains to `ca_pem` and is
 * within its validity period. 0 when it verifies, -EKEYREJECTED when it does not,
 * -EINVAL on unparsable input; *ret_err says why. */
int pki_verify(const char *ca_pem, const char *cert_pem, char **ret_err);
