#include "cmd/bench_conn.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>

#include "apiserver/http1.h"
#include "lib/macro.h"
#include "lib/strbuf.h"

struct bench_conn {
  const struct kubeconfig_creds *creds;
  char *host, *port, *host_header;
  gnutls_certificate_credentials_t cred;
  bool cred_ready;
  int fd;
  gnutls_session_t tls;
  bool open;
  bool reused; /* at least one answer came over this connection */
  char *in;    /* received plaintext not consumed yet */
  size_t in_len, in_cap;
};

/* "https://host:port[/...]" or "https://[v6]:port"; the port defaults to 443. */
static int split_server(const char *url, char **ret_host, char **ret_port) {
  if (!startswith(url, "https://"))
    return -EINVAL;
  const char *h = url + strlen("https://");
  size_t n = strcspn(h, "/");
  _cleanup_free_ char *hp = xstrndup(h, n);
  char *host = hp, *port = NULL;
  if (host[0] == '[') {
    char *end = strchr(host, ']');
    if (!end)
      return -EINVAL;
    *end = '\0';
    host++;
    if (end[1] == ':')
      port = end + 2;
  } else if ((port = strrchr(host, ':'))) {
    *port++ = '\0';
  }
  *ret_host = xstrdup(host);
  *ret_port = xstrdup(port && *port ? port : "443");
  return 0;
}

struct bench_conn *bench_conn_new(const struct kubeconfig_creds *creds) {
  struct bench_conn *c = xcalloc(1, sizeof(*c));
  c->creds = creds;
  c->fd = -1;
  if (split_server(creds->server, &c->host, &c->port) < 0) {
    c->host = xstrdup("");
    c->port = xstrdup("");
  }
  c->host_header = strchr(c->host, ':') ? xasprintf("[%s]:%s", c->host, c->port)
                                        : xasprintf("%s:%s", c->host, c->port);
  return c;
}

static void conn_close(struct bench_conn *c) {
  if (c->tls)
    gnutls_deinit(c->tls);
  c->tls = NULL;
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
  c->open = false;
  c->reused = false;
  c->in_len = 0;
}

void bench_conn_free(struct bench_conn *c) {
  if (!c)
    return;
  conn_close(c);
  if (c->cred_ready)
    gnutls_certificate_free_credentials(c->cred);
  free(c->host);
  free(c->port);
  free(c->host_header);
  free(c->in);
  free(c);
}

static int creds_setup(struct bench_conn *c, char **ret_err) {
  if (c->cred_ready)
    return 0;
  if (gnutls_certificate_allocate_credentials(&c->cred) < 0)
    return set_error(ret_err, -ENOMEM, "TLS credentials");
  c->cred_ready = true;
  const struct kubeconfig_creds *k = c->creds;
  if (k->ca_pem) {
    gnutls_datum_t ca = {(unsigned char *)k->ca_pem, (unsigned)strlen(k->ca_pem)};
    if (gnutls_certificate_set_x509_trust_mem(c->cred, &ca, GNUTLS_X509_FMT_PEM) <= 0)
      return set_error(ret_err, -EINVAL, "unusable certificate-authority-data");
  } else if (gnutls_certificate_set_x509_system_trust(c->cred) < 0) {
    return set_error(ret_err, -EINVAL, "no system trust store");
  }
  if (k->cert_pem && k->key_pem) {
    gnutls_datum_t cert = {(unsigned char *)k->cert_pem, (unsigned)strlen(k->cert_pem)};
    gnutls_datum_t key = {(unsigned char *)k->key_pem, (unsigned)strlen(k->key_pem)};
    int r = gnutls_certificate_set_x509_key_mem(c->cred, &cert, &key, GNUTLS_X509_FMT_PEM);
    if (r < 0)
      return set_error(ret_err, -EINVAL, "client certificate: %s", gnutls_strerror(r));
  }
  return 0;
}

static int conn_open(struct bench_conn *c, char **ret_err) {
  int r = creds_setup(c, ret_err);
  if (r < 0)
    return r;
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
  if (!c->host[0] || getaddrinfo(c->host, c->port, &hints, &res) != 0)
    return set_error(ret_err, -EINVAL, "cannot resolve %s", c->creds->server);
  int fd = -1;
  for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd < 0)
    return set_error(ret_err, -ECONNREFUSED, "cannot connect to %s", c->creds->server);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  struct timeval tv = {60, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  c->fd = fd;
  if (gnutls_init(&c->tls, GNUTLS_CLIENT) < 0) {
    c->tls = NULL;
    conn_close(c);
    return set_error(ret_err, -ENOMEM, "TLS session");
  }
  gnutls_set_default_priority(c->tls);
  gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, c->cred);
  const char *name = c->creds->tls_server_name ? c->creds->tls_server_name : c->host;
  struct in6_addr probe;
  bool is_ip = inet_pton(AF_INET, name, &probe) == 1 || inet_pton(AF_INET6, name, &probe) == 1;
  if (!is_ip)
    gnutls_server_name_set(c->tls, GNUTLS_NAME_DNS, name, strlen(name));
  if (!c->creds->insecure_skip_tls_verify)
    gnutls_session_set_verify_cert(c->tls, name, 0);
  gnutls_transport_set_int(c->tls, fd);
  do
    r = gnutls_handshake(c->tls);
  while (r < 0 && !gnutls_error_is_fatal(r));
  if (r < 0) {
    conn_close(c);
    return set_error(ret_err, -EPROTO, "TLS handshake with %s: %s", c->creds->server,
                     gnutls_strerror(r));
  }
  c->open = true;
  return 0;
}

/* Reads more plaintext. Returns > 0, 0 when the server closed, < 0 on failure. */
static ssize_t conn_read(struct bench_conn *c) {
  if (c->in_cap - c->in_len < 16384) {
    c->in_cap = c->in_len + 32768;
    c->in = xrealloc(c->in, c->in_cap);
  }
  ssize_t n;
  do
    n = gnutls_record_recv(c->tls, c->in + c->in_len, c->in_cap - c->in_len - 1);
  while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
  if (n > 0)
    c->in_len += (size_t)n;
  if (n == GNUTLS_E_PREMATURE_TERMINATION)
    return 0;
  return n;
}

static void emit_body(void *userdata, const char *data, size_t n) {
  strbuf_append(userdata, data, n);
}

static const char *header_value(const char *head, const char *name) {
  size_t nl = strlen(name);
  for (const char *p = strstr(head, "\r\n"); p; p = strstr(p, "\r\n")) {
    p += 2;
    if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
      p += nl + 1;
      while (*p == ' ' || *p == '\t')
        p++;
      return p;
    }
  }
  return NULL;
}

/* One exchange on an open connection. -EAGAIN: the connection failed before any answer
 * (worth one retry on a fresh connection). */
static int exchange(struct bench_conn *c, const char *method, const char *path, const char *body,
                    size_t body_len, long *ret_status, char **ret_body, char **ret_err) {
  struct strbuf req = {0};
  strbuf_appendf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: ckube-bench\r\n"
                       "Accept: application/json\r\n",
                 method, path, c->host_header);
  if (c->creds->token)
    strbuf_appendf(&req, "Authorization: Bearer %s\r\n", c->creds->token);
  if (body)
    strbuf_appendf(&req, "Content-Type: application/json\r\nContent-Length: %zu\r\n", body_len);
  strbuf_appends(&req, "\r\n");
  if (body)
    strbuf_append(&req, body, body_len);
  size_t off = 0;
  while (off < req.len) {
    ssize_t n = gnutls_record_send(c->tls, req.s + off, req.len - off);
    if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
      continue;
    if (n < 0) {
      strbuf_clear(&req);
      return c->reused ? -EAGAIN : set_error(ret_err, -EIO, "send: %s", gnutls_strerror((int)n));
    }
    off += (size_t)n;
  }
  strbuf_clear(&req);

  /* The head. */
  char *end;
  for (;;) {
    c->in[c->in_len] = '\0';
    if (c->in_len && (end = strstr(c->in, "\r\n\r\n")))
      break;
    ssize_t n = conn_read(c);
    if (n <= 0) {
      if (c->reused && c->in_len == 0)
        return -EAGAIN;
      return set_error(ret_err, -EIO, "reading the answer: %s",
                       n == 0 ? "connection closed" : gnutls_strerror((int)n));
    }
  }
  size_t head_len = (size_t)(end - c->in) + 4;
  int minor, status;
  if (sscanf(c->in, "HTTP/1.%d %d", &minor, &status) != 2)
    return set_error(ret_err, -EPROTO, "malformed status line");
  *end = '\0';
  const char *cl = header_value(c->in, "Content-Length");
  const char *te = header_value(c->in, "Transfer-Encoding");
  const char *conn = header_value(c->in, "Connection");
  bool chunked = te && strncasecmp(te, "chunked", 7) == 0;
  bool close_after = (conn && strncasecmp(conn, "close", 5) == 0) || minor == 0;
  long long length = cl ? strtoll(cl, NULL, 10) : -1;
  bool no_body = streq(method, "HEAD") || status == 204 || status == 304 || status < 200;
  memmove(c->in, c->in + head_len, c->in_len - head_len);
  c->in_len -= head_len;

  struct strbuf out = {0};
  if (no_body) {
  } else if (chunked) {
    struct http1_chunked ch;
    http1_chunked_init(&ch);
    bool done = false;
    for (;;) {
      ssize_t used = http1_chunked_feed(&ch, c->in, c->in_len, emit_body, &out, &done);
      if (used < 0) {
        strbuf_clear(&out);
        return set_error(ret_err, -EPROTO, "malformed chunked body");
      }
      memmove(c->in, c->in + used, c->in_len - (size_t)used);
      c->in_len -= (size_t)used;
      if (done)
        break;
      if (conn_read(c) <= 0) {
        strbuf_clear(&out);
        return set_error(ret_err, -EIO, "connection lost in a chunked body");
      }
    }
  } else if (length >= 0) {
    while (c->in_len < (size_t)length)
      if (conn_read(c) <= 0) {
        strbuf_clear(&out);
        return set_error(ret_err, -EIO, "connection lost in the body");
      }
    strbuf_append(&out, c->in, (size_t)length);
    memmove(c->in, c->in + length, c->in_len - (size_t)length);
    c->in_len -= (size_t)length;
  } else {
    while (conn_read(c) > 0)
      ;
    strbuf_append(&out, c->in, c->in_len);
    c->in_len = 0;
    close_after = true;
  }
  *ret_status = status;
  *ret_body = strbuf_take(&out, NULL);
  if (close_after)
    conn_close(c);
  else
    c->reused = true;
  return 0;
}

int bench_conn_do(struct bench_conn *c, const char *method, const char *path, const char *body,
                  size_t body_len, long *ret_status, char **ret_body, char **ret_err) {
  for (int attempt = 0; attempt < 2; attempt++) {
    if (!c->open) {
      int r = conn_open(c, ret_err);
      if (r < 0)
        return r;
    }
    if (!c->in)
      c->in = xmalloc(c->in_cap = 32768);
    int r = exchange(c, method, path, body, body_len, ret_status, ret_body, ret_err);
    if (r != -EAGAIN) {
      if (r < 0)
        conn_close(c);
      return r;
    }
    conn_close(c);
  }
  return set_error(ret_err, -EIO, "the server keeps closing the connection");
}
