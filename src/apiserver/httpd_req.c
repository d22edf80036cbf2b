#include "apiserver/httpd_internal.h"

#include <gnutls/x509.h>

#include "lib/macro.h"

static const struct httpd_client_cert cert_none = {.state = HTTPD_CERT_NONE};

/* ---- helpers ---- */

/* Percent-decodes `s` (n bytes) as Go's url package does: an invalid escape fails, and
 * in query mode '+' means a space. Decoded NULs are refused because C strings cannot
 * carry them. */
static char *unescape(const char *s, size_t n, bool query) {
  char *out = xmalloc(n + 1), *o = out;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%') {
      int hi = i + 2 < n ? http1_hex_value(s[i + 1]) : -1;
      int lo = i + 2 < n ? http1_hex_value(s[i + 2]) : -1;
      if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
        free(out);
        return NULL;
      }
      *o++ = (char)(hi * 16 + lo);
      i += 2;
    } else if (query && s[i] == '+') {
      *o++ = ' ';
    } else {
      *o++ = s[i];
    }
  }
  *o = '\0';
  return out;
}

static void parse_query(struct httpd_req *req) {
  const char *p = req->query;
  while (*p) {
    size_t n = strcspn(p, "&");
    const char *eq = memchr(p, '=', n);
    /* Go refuses ';' as a separator and drops such pairs; so does kube-apiserver. */
    if (n > 0 && !memchr(p, ';', n)) {
      size_t kn = eq ? (size_t)(eq - p) : n;
      char *k = unescape(p, kn, true);
      char *v = eq ? unescape(eq + 1, n - kn - 1, true) : xstrdup("");
      if (k && v) {
        req->params = xrealloc(req->params, (req->n_params + 1) * sizeof(*req->params));
        req->params[req->n_params++] = (struct param){k, v};
      } else {
        free(k);
        free(v);
      }
    }
    p += n;
    if (*p == '&')
      p++;
  }
}

/* ---- requests ---- */

void httpd_req_free(struct httpd_req *req) {
  if (!req)
    return;
  free(req->method);
  free(req->path);
  free(req->query);
  for (size_t i = 0; i < req->n_params; i++) {
    free(req->params[i].name);
    free(req->params[i].value);
  }
  free(req->params);
  for (size_t i = 0; i < req->n_value_lists; i++)
    free(req->value_lists[i]);
  free(req->value_lists);
  free(req->head_copy);
  free(req->req_headers);
  strbuf_clear(&req->body);
  for (size_t i = 0; i < req->n_headers; i++) {
    free(req->headers[i].name);
    free(req->headers[i].value);
  }
  free(req->headers);
  free(req);
}

const char *httpd_req_method(const struct httpd_req *req) { return req->method; }
const char *httpd_req_path(const struct httpd_req *req) { return req->path; }
const char *httpd_req_query(const struct httpd_req *req) { return req->query; }
bool httpd_req_body_too_large(const struct httpd_req *req) { return req->too_large; }
const char *httpd_req_remote_addr(const struct httpd_req *req) { return req->conn->remote; }

const char *httpd_req_query_value(const struct httpd_req *req, const char *name) {
  for (size_t i = 0; i < req->n_params; i++)
    if (streq(req->params[i].name, name))
      return req->params[i].value;
  return NULL;
}

size_t httpd_req_query_values(const struct httpd_req *req, const char *name,
                              const char *const **ret_values) {
  struct httpd_req *m = (struct httpd_req *)req;
  size_t n = 0;
  for (size_t i = 0; i < req->n_params; i++)
    n += streq(req->params[i].name, name);
  if (ret_values) {
    const char **list = xcalloc(n + 1, sizeof(*list));
    for (size_t i = 0, j = 0; i < req->n_params; i++)
      if (streq(req->params[i].name, name))
        list[j++] = req->params[i].value;
    m->value_lists = xrealloc(m->value_lists, (m->n_value_lists + 1) * sizeof(*m->value_lists));
    m->value_lists[m->n_value_lists++] = list;
    *ret_values = list;
  }
  return n;
}

const char *httpd_req_header(const struct httpd_req *req, const char *name) {
  for (size_t i = 0; i < req->n_req_headers; i++)
    if (strcasecmp(req->req_headers[i].name, name) == 0)
      return req->req_headers[i].value;
  return NULL;
}

const char *httpd_req_body(const struct httpd_req *req, size_t *ret_len) {
  if (ret_len)
    *ret_len = req->body.len;
  return req->body.s ? req->body.s : "";
}

/* Builds the request from a parsed head, copying what it needs: the head lives in the
 * connection's input buffer, which moves on. */
struct httpd_req *httpd_req_new(struct conn *c, const struct http1_head *h) {
  struct httpd_req *req = xcalloc(1, sizeof(*req));
  req->srv = c->loop->srv;
  req->conn = c;
  req->method = xstrdup(h->method);
  const char *raw = h->target;
  const char *q = strchr(raw, '?');
  size_t plen = q ? (size_t)(q - raw) : strlen(raw);
  req->query = xstrdup(q ? q + 1 : "");
  /* Only origin-form targets name a resource on this server. */
  req->path = raw[0] == '/' ? unescape(raw, plen, false) : NULL;
  if (!req->path) {
    req->bad_target = true;
    req->path = xstrdup("");
  }
  parse_query(req);

  size_t total = 0;
  for (size_t i = 0; i < h->n_headers; i++)
    total += strlen(h->headers[i].name) + strlen(h->headers[i].value) + 2;
  req->head_copy = xmalloc(total ? total : 1);
  req->req_headers = xcalloc(h->n_headers ? h->n_headers : 1, sizeof(*req->req_headers));
  char *p = req->head_copy;
  for (size_t i = 0; i < h->n_headers; i++) {
    size_t nl = strlen(h->headers[i].name) + 1, vl = strlen(h->headers[i].value) + 1;
    memcpy(p, h->headers[i].name, nl);
    req->req_headers[i].name = p;
    p += nl;
    memcpy(p, h->headers[i].value, vl);
    req->req_headers[i].value = p;
    p += vl;
  }
  req->n_req_headers = h->n_headers;
  return req;
}

void httpd_req_body_append(struct httpd_req *req, const char *data, size_t n) {
  if (req->too_large)
    return;
  if (n > req->srv->max_body || req->body.len > req->srv->max_body - n) {
    req->too_large = true;
    strbuf_clear(&req->body);
    return;
  }
  strbuf_append(&req->body, data, n);
}

void httpd_req_body_emit(void *userdata, const char *data, size_t n) {
  httpd_req_body_append(userdata, data, n);
}

/* ---- client certificates ---- */

void httpd_conn_cert_reset(struct conn *c) {
  if (c->orgs)
    for (size_t i = 0; i < c->cert.n_orgs; i++)
      free(c->orgs[i]);
  free(c->orgs);
  free(c->cn);
  free(c->cert_error);
}

static void cert_load(struct httpd *srv, struct conn *c) {
  c->cert_done = true;
  c->cert = cert_none;
  if (!srv->have_client_ca)
    return;
  gnutls_session_t sess = c->tls;
  unsigned n = 0;
  const gnutls_datum_t *peers = gnutls_certificate_get_peers(sess, &n);
  if (!peers || n == 0)
    return;

  c->cert.state = HTTPD_CERT_INVALID;
  /* kube-apiserver accepts client certificates only for client authentication use. */
  gnutls_typed_vdata_st purpose = {.type = GNUTLS_DT_KEY_PURPOSE_OID,
                                   .data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT};
  unsigned status = 0;
  int r = gnutls_certificate_verify_peers(sess, &purpose, 1, &status);
  if (r < 0 || status != 0) {
    gnutls_datum_t out = {0};
    if (r < 0)
      c->cert_error = xstrdup(gnutls_strerror(r));
    else if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) == 0) {
      c->cert_error = xstrndup((const char *)out.data, out.size);
      gnutls_free(out.data);
    } else
      c->cert_error = xstrdup("certificate verification failed");
    c->cert.error = c->cert_error;
    return;
  }

  gnutls_x509_crt_t crt;
  if (gnutls_x509_crt_init(&crt) < 0)
    return;
  if (gnutls_x509_crt_import(crt, &peers[0], GNUTLS_X509_FMT_DER) < 0) {
    gnutls_x509_crt_deinit(crt);
    c->cert_error = xstrdup("unparsable client certificate");
    c->cert.error = c->cert_error;
    return;
  }
  char buf[1024];
  size_t size = sizeof(buf);
  if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf, &size) == 0)
    c->cn = xstrndup(buf, size);
  else
    c->cn = xstrdup("");
  size_t n_orgs = 0;
  for (unsigned i = 0;; i++) {
    size = sizeof(buf);
    if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, i, 0, buf, &size) !=
        0)
      break;
    c->orgs = xrealloc(c->orgs, (n_orgs + 1) * sizeof(*c->orgs));
    c->orgs[n_orgs++] = xstrndup(buf, size);
  }
  gnutls_x509_crt_deinit(crt);
  c->cert.state = HTTPD_CERT_VALID;
  c->cert.cn = c->cn;
  c->cert.orgs = (const char *const *)c->orgs;
  c->cert.n_orgs = n_orgs;
}

const struct httpd_client_cert *httpd_req_client_cert(struct httpd_req *req) {
  struct conn *c = req->conn;
  /* A TLS session's peer certificate never changes, so keep-alive requests share it. */
  if (!c->cert_done)
    cert_load(req->srv, c);
  return &c->cert;
}


int httpd_add_header(struct httpd_req *req, const char *name, const char *value) {
  if (req->responded)
    return -EALREADY;
  if (!header_ok(name) || !name[0] || strchr(name, ':') || !header_ok(value))
    return -EINVAL;
  req->headers = xrealloc(req->headers, (req->n_headers + 1) * sizeof(*req->headers));
  req->headers[req->n_headers++] = (struct header){xstrdup(name), xstrdup(value)};
  return 0;
}
