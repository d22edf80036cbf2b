#include "client/conn.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <gnutls/gnutls.h>

/* Pure framing with no server state: the chunked decoder the server itself trusts. */
#include "lib/http1.h"
#include "lib/strbuf.h"

#define DEFAULT_TIMEOUT_MS 60000L
#define DEFAULT_CONNECT_TIMEOUT_MS 10000L
/* A connection idle for longer may have been closed by the server's idle timeout: peek
 * before reusing it rather than lose a non-replayable request to the race. */
#define STALE_CHECK_AFTER_MS 100L
/* How far past the deadline an armed socket timeout may let a read block before it is
 * re-armed: re-arming costs a system call, and most requests end far sooner. */
#define ARM_SLACK_MS 10L
#define MAX_HEAD (1024 * 1024)
/* One TLS record with its header and expansion: GnuTLS reads a record's header and its
 * body separately, and this buffer turns those two recv() calls into one. */
#define RAW_CAP (16384 + 2048 + 5)
#define IN_CHUNK 16384
/* A Content-Length body grows its buffer as bytes arrive, so a lying length costs no more
 * memory than the bytes actually sent. */
#define BODY_FIRST_ALLOC (1024 * 1024)

struct conn_target {
  bool tls;
  char *host; /* for getaddrinfo(), brackets removed */
  char *port;
  char *url_base;    /* "scheme://authority", for messages */
  char *prefix;      /* path prefix from the URL, without trailing '/' */
  char *server_name; /* checked in the server's certificate */
  bool sni;          /* server_name is a DNS name (RFC 6066 sends no IP literal) */
  bool verify;
  gnutls_certificate_credentials_t cred;
  char *fixed_headers; /* Host, User-Agent, Authorization: the same on every request */
  long connect_timeout_ms, timeout_ms;
};

struct conn_link {
  const struct conn_target *t;
  int fd;
  gnutls_session_t tls;
  bool reused; /* an answer already came over this connection */
  long idle_since;
  long armed_rcv, armed_snd; /* SO_RCVTIMEO / SO_SNDTIMEO in ms; 0 = not armed */
  unsigned long connects;
  char *in; /* received plaintext not consumed yet */
  size_t in_len, in_cap;
  char *raw; /* TLS: ciphertext received, not yet handed to GnuTLS */
  size_t raw_off, raw_len;
  struct strbuf req;
};

/* What an exchange achieved before failing, to judge whether to send it again. */
struct progress {
  bool sent_all;
  bool answer_started;
};

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* ---- target ---- */

static bool is_ip_literal(const char *s) {
  struct in6_addr a;
  return inet_pton(AF_INET, s, &a) == 1 || inet_pton(AF_INET6, s, &a) == 1;
}

static int parse_url(struct conn_target *t, const char *url, char **ret_err) {
  const char *p;
  if (startswith(url, "https://")) {
    t->tls = true;
    p = url + strlen("https://");
  } else if (startswith(url, "http://")) {
    p = url + strlen("http://");
  } else {
    return set_error(ret_err, -EINVAL, "server URL %s is not http(s)://", url);
  }
  size_t alen = strcspn(p, "/?#");
  _cleanup_free_ char *authority = xstrndup(p, alen);
  if (!*authority || strchr(authority, '@'))
    return set_error(ret_err, -EINVAL, "server URL %s has no usable host", url);
  char *host = authority, *port = NULL;
  if (host[0] == '[') {
    char *end = strchr(host, ']');
    if (!end || (end[1] && end[1] != ':'))
      return set_error(ret_err, -EINVAL, "server URL %s: malformed IPv6 address", url);
    *end = '\0';
    host++;
    struct in6_addr a;
    if (inet_pton(AF_INET6, host, &a) != 1)
      return set_error(ret_err, -EINVAL, "server URL %s: malformed IPv6 address", url);
    if (end[1] == ':')
      port = end + 2;
  } else if ((port = strchr(host, ':'))) {
    *port++ = '\0';
  }
  if (!*host)
    return set_error(ret_err, -EINVAL, "server URL %s has no host", url);
  if (port) {
    char *e;
    long n = strtol(port, &e, 10);
    if (!*port || *e || n < 1 || n > 65535)
      return set_error(ret_err, -EINVAL, "server URL %s: bad port", url);
  }
  t->host = xstrdup(host);
  t->port = xstrdup(port && *port ? port : t->tls ? "443" : "80");
  t->url_base = xstrndup(url, (size_t)(p - url) + alen);
  const char *path = p + alen;
  size_t plen = strcspn(path, "?#");
  while (plen > 0 && path[plen - 1] == '/')
    plen--;
  t->prefix = xstrndup(path, plen);
  return 0;
}

static int setup_tls(struct conn_target *t, const struct conn_target_config *cfg, char **ret_err) {
  if (gnutls_certificate_allocate_credentials(&t->cred) < 0) {
    t->cred = NULL;
    return set_error(ret_err, -ENOMEM, "cannot allocate TLS credentials");
  }
  if (cfg->ca_pem) {
    gnutls_datum_t ca = {(unsigned char *)cfg->ca_pem, (unsigned)strlen(cfg->ca_pem)};
    if (gnutls_certificate_set_x509_trust_mem(t->cred, &ca, GNUTLS_X509_FMT_PEM) <= 0)
      return set_error(ret_err, -EINVAL, "certificate authority data holds no usable certificate");
  } else if (t->verify) {
    /* A missing system store is not fatal here: verification then fails at the handshake
     * with a message that says why. */
    (void)gnutls_certificate_set_x509_system_trust(t->cred);
  }
  if (cfg->cert_pem) {
    gnutls_datum_t cert = {(unsigned char *)cfg->cert_pem, (unsigned)strlen(cfg->cert_pem)};
    gnutls_datum_t key = {(unsigned char *)cfg->key_pem, (unsigned)strlen(cfg->key_pem)};
    int r = gnutls_certificate_set_x509_key_mem(t->cred, &cert, &key, GNUTLS_X509_FMT_PEM);
    if (r < 0)
      return set_error(ret_err, -EINVAL, "client certificate or key: %s", gnutls_strerror(r));
  }
  return 0;
}

static bool has_crlf(const char *s) {
  return s && strpbrk(s, "\r\n");
}

int conn_target_new(const struct conn_target_config *cfg, struct conn_target **ret,
                    char **ret_err) {
  if (!cfg->server)
    return set_error(ret_err, -EINVAL, "no server URL");
  if (!cfg->cert_pem != !cfg->key_pem)
    return set_error(ret_err, -EINVAL, "a client certificate needs its key and vice versa");
  /* Header values go into the request head verbatim. */
  if (has_crlf(cfg->server) || has_crlf(cfg->token) || has_crlf(cfg->user_agent))
    return set_error(ret_err, -EINVAL, "line break in the server URL, token or user agent");
  struct conn_target *t = xcalloc(1, sizeof(*t));
  int r = parse_url(t, cfg->server, ret_err);
  if (r < 0) {
    conn_target_free(t);
    return r;
  }
  t->verify = !cfg->insecure_skip_tls_verify;
  t->server_name =
      xstrdup(cfg->tls_server_name && *cfg->tls_server_name ? cfg->tls_server_name : t->host);
  t->sni = !is_ip_literal(t->server_name);
  if (t->tls && (r = setup_tls(t, cfg, ret_err)) < 0) {
    conn_target_free(t);
    return r;
  }
  struct strbuf h = {0};
  /* Go's net/http sends the URL's authority as written, so does kube-apiserver expect. */
  strbuf_appendf(&h, "Host: %s\r\nUser-Agent: %s\r\n", t->url_base + (t->tls ? 8 : 7),
                 cfg->user_agent ? cfg->user_agent : "ckube");
  if (cfg->token && *cfg->token)
    strbuf_appendf(&h, "Authorization: Bearer %s\r\n", cfg->token);
  t->fixed_headers = strbuf_take(&h, NULL);
  t->connect_timeout_ms =
      cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
  t->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
  *ret = t;
  return 0;
}

void conn_target_free(struct conn_target *t) {
  if (!t)
    return;
  if (t->cred)
    gnutls_certificate_free_credentials(t->cred);
  free(t->host);
  free(t->port);
  free(t->url_base);
  free(t->prefix);
  free(t->server_name);
  free(t->fixed_headers);
  free(t);
}

/* ---- link ---- */

struct conn_link *conn_link_new(const struct conn_target *t) {
  struct conn_link *l = xcalloc(1, sizeof(*l));
  l->t = t;
  l->fd = -1;
  return l;
}

static void link_close(struct conn_link *l) {
  if (l->tls)
    gnutls_deinit(l->tls);
  l->tls = NULL;
  if (l->fd >= 0)
    close(l->fd);
  l->fd = -1;
  l->reused = false;
  l->armed_rcv = l->armed_snd = 0;
  l->in_len = 0;
  l->raw_off = l->raw_len = 0;
}

void conn_link_free(struct conn_link *l) {
  if (!l)
    return;
  link_close(l);
  free(l->in);
  free(l->raw);
  strbuf_clear(&l->req);
  free(l);
}

unsigned long conn_link_connects(const struct conn_link *l) {
  return l->connects;
}

void conn_response_clear(struct conn_response *r) {
  free(r->body);
  free(r->content_type);
  *r = (struct conn_response){0};
}

/* Makes a blocking call on the socket return by `deadline` (give or take ARM_SLACK_MS).
 * An armed timeout that is shorter than the time left is kept: the call then returns
 * early with EAGAIN and the caller re-arms. */
static int arm(struct conn_link *l, int opt, long deadline) {
  long left = deadline - now_ms();
  if (left <= 0)
    return -ETIMEDOUT;
  long *armed = opt == SO_RCVTIMEO ? &l->armed_rcv : &l->armed_snd;
  if (*armed && *armed <= left + ARM_SLACK_MS && *armed >= left / 2)
    return 0;
  struct timeval tv = {left / 1000, (left % 1000) * 1000};
  if (setsockopt(l->fd, SOL_SOCKET, opt, &tv, sizeof(tv)) < 0)
    return -errno;
  *armed = left;
  return 0;
}

static int tcp_connect(struct conn_link *l, long deadline, char **ret_err) {
  const struct conn_target *t = l->t;
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
  struct addrinfo *res = NULL;
  int g = getaddrinfo(t->host, t->port, &hints, &res);
  if (g != 0)
    return set_error(ret_err, -ECONNREFUSED, "cannot resolve %s: %s", t->host, gai_strerror(g));
  int r = -ECONNREFUSED;
  int fd = -1;
  for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
      r = -errno;
      continue;
    }
    if (connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
      r = -errno;
      if (r == -EINPROGRESS) {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        long left;
        int n;
        do {
          left = deadline - now_ms();
          n = left > 0 ? poll(&pfd, 1, (int)left) : 0;
        } while (n < 0 && errno == EINTR);
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        if (n == 0)
          r = -ETIMEDOUT;
        else if (n < 0)
          r = -errno;
        else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
          r = -errno;
        else
          r = -soerr;
      }
      if (r < 0) {
        close(fd);
        fd = -1;
        if (r == -ETIMEDOUT)
          break;
      }
    }
  }
  freeaddrinfo(res);
  if (fd < 0) {
    int code = r == -ETIMEDOUT ? -ETIMEDOUT : -ECONNREFUSED;
    return set_error(ret_err, code, "cannot connect to %s:%s: %s", t->host, t->port,
                     r == -ETIMEDOUT ? "connect timeout" : strerror(-r));
  }
  /* Blocking from here on: reads and writes are bounded by SO_RCVTIMEO / SO_SNDTIMEO. */
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
    r = -errno;
    close(fd);
    return set_error(ret_err, -EIO, "socket: %s", strerror(-r));
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
  l->fd = fd;
  l->armed_rcv = l->armed_snd = 0;
  l->connects++;
  return 0;
}

static ssize_t tls_pull(gnutls_transport_ptr_t p, void *data, size_t n) {
  struct conn_link *l = p;
  if (l->raw_off == l->raw_len) {
    /* A large read goes straight to GnuTLS's buffer; no copy to save a call for. */
    bool direct = n >= RAW_CAP;
    ssize_t r = recv(l->fd, direct ? data : l->raw, direct ? n : RAW_CAP, 0);
    if (r < 0) {
      gnutls_transport_set_errno(l->tls, errno);
      return -1;
    }
    if (r == 0 || direct)
      return r;
    l->raw_off = 0;
    l->raw_len = (size_t)r;
  }
  size_t k = l->raw_len - l->raw_off < n ? l->raw_len - l->raw_off : n;
  memcpy(data, l->raw + l->raw_off, k);
  l->raw_off += k;
  return (ssize_t)k;
}

static int tls_pull_timeout(gnutls_transport_ptr_t p, unsigned ms) {
  struct conn_link *l = p;
  if (l->raw_off < l->raw_len)
    return 1;
  struct pollfd pfd = {.fd = l->fd, .events = POLLIN};
  int r = poll(&pfd, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)ms);
  if (r < 0)
    gnutls_transport_set_errno(l->tls, errno);
  return r;
}

static int tls_handshake(struct conn_link *l, long deadline, char **ret_err) {
  const struct conn_target *t = l->t;
  if (gnutls_init(&l->tls, GNUTLS_CLIENT | GNUTLS_NO_SIGNAL) < 0) {
    l->tls = NULL;
    return set_error(ret_err, -ENOMEM, "cannot make a TLS session");
  }
  gnutls_set_default_priority(l->tls);
  gnutls_credentials_set(l->tls, GNUTLS_CRD_CERTIFICATE, t->cred);
  if (t->sni)
    gnutls_server_name_set(l->tls, GNUTLS_NAME_DNS, t->server_name, strlen(t->server_name));
  if (t->verify)
    gnutls_session_set_verify_cert(l->tls, t->server_name, 0);
  if (!l->raw)
    l->raw = xmalloc(RAW_CAP);
  gnutls_transport_set_pull_function(l->tls, tls_pull);
  gnutls_transport_set_pull_timeout_function(l->tls, tls_pull_timeout);
  /* GnuTLS's own push function still writes to the fd. */
  gnutls_transport_set_ptr2(l->tls, l, (gnutls_transport_ptr_t)(intptr_t)l->fd);
  int r;
  for (;;) {
    int a = arm(l, SO_RCVTIMEO, deadline);
    if (a == 0)
      a = arm(l, SO_SNDTIMEO, deadline);
    if (a < 0)
      return set_error(ret_err, a == -ETIMEDOUT ? -ETIMEDOUT : -EIO, "TLS handshake with %s: %s",
                       t->url_base, a == -ETIMEDOUT ? "timeout" : strerror(-a));
    r = gnutls_handshake(l->tls);
    if (r >= 0)
      return 0;
    if (gnutls_error_is_fatal(r))
      break;
  }
  if (r == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
    unsigned status = gnutls_session_get_verify_cert_status(l->tls);
    gnutls_datum_t why = {0};
    gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &why, 0);
    int e = set_error(ret_err, -EPROTO, "TLS handshake with %s: %s", t->url_base,
                      why.data ? (const char *)why.data : gnutls_strerror(r));
    gnutls_free(why.data);
    return e;
  }
  return set_error(ret_err, -EPROTO, "TLS handshake with %s: %s", t->url_base, gnutls_strerror(r));
}

static int link_open(struct conn_link *l, long deadline, char **ret_err) {
  long cdl = now_ms() + l->t->connect_timeout_ms;
  if (cdl > deadline)
    cdl = deadline;
  int r = tcp_connect(l, cdl, ret_err);
  if (r < 0)
    return r;
  if (l->t->tls && (r = tls_handshake(l, cdl, ret_err)) < 0) {
    link_close(l);
    return r;
  }
  return 0;
}

/* True when an idle connection can no longer carry a request: the server closed it, or
 * sent something unasked (a close_notify alert, a 408 answer). */
static bool link_stale(struct conn_link *l) {
  if (l->in_len || l->raw_off < l->raw_len || (l->tls && gnutls_record_check_pending(l->tls)))
    return true;
  char b;
  ssize_t n = recv(l->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
  return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
}

/* Sends all of p[0..n). 0 or a negative errno; *ret_err says why. */
static int io_send(struct conn_link *l, const char *p, size_t n, long deadline, char **ret_err) {
  while (n > 0) {
    int a = arm(l, SO_SNDTIMEO, deadline);
    if (a < 0)
      return set_error(ret_err, a == -ETIMEDOUT ? -ETIMEDOUT : -EIO, "sending the request: %s",
                       a == -ETIMEDOUT ? "timeout" : strerror(-a));
    ssize_t w;
    if (l->tls) {
      w = gnutls_record_send(l->tls, p, n);
      if (w == GNUTLS_E_AGAIN || w == GNUTLS_E_INTERRUPTED)
        continue;
      if (w < 0)
        return set_error(ret_err, -EIO, "sending the request: %s", gnutls_strerror((int)w));
    } else {
      w = send(l->fd, p, n, MSG_NOSIGNAL);
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        continue;
      if (w < 0)
        return set_error(ret_err, -EIO, "sending the request: %s", strerror(errno));
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Reads what is available into buf (at most n bytes), waiting until the deadline.
 * Returns the bytes read, 0 when the server closed the connection, or a negative errno
 * with *ret_err set. */
static ssize_t io_recv(struct conn_link *l, char *buf, size_t n, long deadline, char **ret_err) {
  for (;;) {
    int a = arm(l, SO_RCVTIMEO, deadline);
    if (a < 0)
      return set_error(ret_err, a == -ETIMEDOUT ? -ETIMEDOUT : -EIO, "reading the answer: %s",
                       a == -ETIMEDOUT ? "timeout" : strerror(-a));
    ssize_t r;
    if (l->tls) {
      r = gnutls_record_recv(l->tls, buf, n);
      if (r >= 0)
        return r;
      if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
        continue;
      /* Servers commonly close without close_notify; the framing tells truncation. */
      if (r == GNUTLS_E_PREMATURE_TERMINATION)
        return 0;
      if (r == GNUTLS_E_PULL_ERROR)
        return set_error(ret_err, -EIO, "reading the answer: %s", gnutls_strerror((int)r));
      return set_error(ret_err, -EPROTO, "reading the answer: %s", gnutls_strerror((int)r));
    }
    r = recv(l->fd, buf, n, 0);
    if (r >= 0)
      return r;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
      continue;
    return set_error(ret_err, -EIO, "reading the answer: %s", strerror(errno));
  }
}

/* Reads more bytes into l->in. Same returns as io_recv(). */
static ssize_t fill(struct conn_link *l, long deadline, struct progress *pg, char **ret_err) {
  if (l->in_cap - l->in_len < IN_CHUNK / 2) {
    l->in_cap = l->in_cap ? l->in_cap * 2 : IN_CHUNK;
    l->in = xrealloc(l->in, l->in_cap);
  }
  /* One byte stays free for the NUL that ends a head. */
  ssize_t n = io_recv(l, l->in + l->in_len, l->in_cap - l->in_len - 1, deadline, ret_err);
  if (n > 0) {
    l->in_len += (size_t)n;
    pg->answer_started = true;
  }
  return n;
}

static void consume(struct conn_link *l, size_t n) {
  memmove(l->in, l->in + n, l->in_len - n);
  l->in_len -= n;
}

static void emit_body(void *userdata, const char *data, size_t n) {
  strbuf_append(userdata, data, n);
}

static void build_request(struct conn_link *l, const struct conn_request *req, const char *method,
                          bool inline_body) {
  struct strbuf *b = &l->req;
  b->len = 0;
  bool q = req->query && *req->query;
  strbuf_appendf(b, "%s %s%s%s%s HTTP/1.1\r\n%sAccept: %s\r\n", method, l->t->prefix, req->path,
                 q ? "?" : "", q ? req->query : "", l->t->fixed_headers,
                 req->accept ? req->accept : "application/json");
  if (req->body)
    strbuf_appendf(b, "Content-Type: %s\r\nContent-Length: %zu\r\n",
                   req->content_type ? req->content_type : "application/json", req->body_len);
  else if (streq(method, "POST") || streq(method, "PUT") || streq(method, "PATCH"))
    strbuf_appends(b, "Content-Length: 0\r\n");
  strbuf_appends(b, "\r\n");
  if (req->body && inline_body)
    strbuf_append(b, req->body, req->body_len);
}

/* Reads a Content-Length body of `len` bytes into a buffer of its own. */
static int read_sized(struct conn_link *l, unsigned long long len, long deadline, char **ret_body,
                      char **ret_err) {
  size_t have = l->in_len < len ? l->in_len : (size_t)len;
  size_t cap = len < BODY_FIRST_ALLOC ? (size_t)len : BODY_FIRST_ALLOC;
  if (cap < have)
    cap = have;
  _cleanup_free_ char *body = xmalloc(cap + 1);
  memcpy(body, l->in, have);
  consume(l, have);
  while (have < len) {
    if (have == cap) {
      cap = len - cap < cap ? (size_t)len : cap * 2;
      body = xrealloc(body, cap + 1);
    }
    ssize_t n = io_recv(l, body + have, cap - have, deadline, ret_err);
    if (n <= 0)
      return n < 0 ? (int)n : set_error(ret_err, -EIO, "connection closed in the body");
    have += (size_t)n;
  }
  body[have] = '\0';
  *ret_body = TAKE_PTR(body);
  return 0;
}

/* One request and its answer on an open connection. */
static int exchange(struct conn_link *l, const struct conn_request *req, const char *method,
                    long deadline, struct progress *pg, struct conn_response *ret, char **ret_err) {
  bool inline_body = !req->body || req->body_len <= 65536;
  build_request(l, req, method, inline_body);
  int r = io_send(l, l->req.s, l->req.len, deadline, ret_err);
  if (r == 0 && !inline_body)
    r = io_send(l, req->body, req->body_len, deadline, ret_err);
  if (r < 0)
    return r;
  pg->sent_all = true;

  struct http1_response h = {0};
  _cleanup_free_ char *content_type = NULL;
  size_t scanned = 0;
  for (;;) {
    char *end = NULL;
    if (l->in_len >= 4) {
      size_t from = scanned > 3 ? scanned - 3 : 0;
      end = memmem(l->in + from, l->in_len - from, "\r\n\r\n", 4);
    }
    if (end) {
      size_t head_len = (size_t)(end - l->in) + 4;
      if (http1_parse_response_head(l->in, head_len, &h) < 0)
        return set_error(ret_err, -EPROTO, "malformed answer head");
      if (h.status >= 200) {
        content_type = h.content_type ? xstrndup(h.content_type, h.content_type_len) : NULL;
        consume(l, head_len);
        break;
      }
      consume(l, head_len);
      scanned = 0;
      if (h.status == 101)
        return set_error(ret_err, -EPROTO, "unexpected protocol switch in the answer");
      continue; /* an interim 1xx answer: the real one follows */
    }
    scanned = l->in_len;
    if (l->in_len >= MAX_HEAD)
      return set_error(ret_err, -EPROTO, "answer head larger than %d bytes", MAX_HEAD);
    ssize_t n = fill(l, deadline, pg, ret_err);
    if (n <= 0)
      return n < 0 ? (int)n
                   : set_error(ret_err, -EIO, "connection closed before %s",
                               pg->answer_started ? "the end of the answer head" : "an answer");
  }

  char *body = NULL;
  size_t body_len = 0;
  bool no_body = streq(method, "HEAD") || h.status == 204 || h.status == 304;
  if (no_body) {
    body = xstrdup("");
  } else if (h.chunked) {
    struct strbuf out = {0};
    struct http1_chunked ch;
    http1_chunked_init(&ch);
    for (;;) {
      bool done = false;
      ssize_t used = http1_chunked_feed(&ch, l->in, l->in_len, emit_body, &out, &done);
      if (used < 0) {
        strbuf_clear(&out);
        return set_error(ret_err, -EPROTO, "malformed chunked body in the answer");
      }
      consume(l, (size_t)used);
      if (done)
        break;
      ssize_t n = fill(l, deadline, pg, ret_err);
      if (n <= 0) {
        strbuf_clear(&out);
        return n < 0 ? (int)n : set_error(ret_err, -EIO, "connection closed in a chunked body");
      }
    }
    if (!out.s)
      strbuf_append(&out, "", 0);
    body = strbuf_take(&out, &body_len);
  } else if (h.has_length) {
    r = read_sized(l, h.length, deadline, &body, ret_err);
    if (r < 0)
      return r;
    body_len = (size_t)h.length;
  } else {
    for (;;) {
      ssize_t n = fill(l, deadline, pg, ret_err);
      if (n < 0)
        return (int)n;
      if (n == 0)
        break;
    }
    /* The read buffer becomes the body: fill() always leaves room for the NUL. */
    body = TAKE_PTR(l->in);
    body[l->in_len] = '\0';
    body_len = l->in_len;
    l->in_len = l->in_cap = 0;
    h.close_after = true;
  }
  *ret = (struct conn_response){.status = h.status,
                                .body = body,
                                .body_len = body_len,
                                .content_type = TAKE_PTR(content_type)};
  if (h.close_after || l->in_len)
    link_close(l);
  else
    l->reused = true;
  return 0;
}

static bool replayable(const char *method) {
  return streq(method, "GET") || streq(method, "HEAD") || streq(method, "OPTIONS") ||
         streq(method, "TRACE");
}

int conn_do(struct conn_link *l, const struct conn_request *req, struct conn_response *ret,
            char **ret_err) {
  const struct conn_target *t = l->t;
  const char *method = req->method ? req->method : "GET";
  bool q = req->query && *req->query;
  if (!req->path || req->path[0] != '/' || has_crlf(req->path) || strchr(req->path, ' ') ||
      has_crlf(method) || strchr(method, ' ') || has_crlf(req->query) ||
      has_crlf(req->content_type) || has_crlf(req->accept))
    return set_error(ret_err, -EINVAL, "%s %s%s%s: malformed request", method, t->url_base,
                     t->prefix, req->path ? req->path : "");
  long start = now_ms();
  long deadline = start + (req->timeout_ms > 0 ? req->timeout_ms : t->timeout_ms);
  _cleanup_free_ char *why = NULL;
  int r = 0;
  for (int attempt = 0; attempt < 2; attempt++) {
    free(TAKE_PTR(why));
    if (l->fd >= 0 && start - l->idle_since >= STALE_CHECK_AFTER_MS && link_stale(l))
      link_close(l);
    if (l->fd < 0) {
      r = link_open(l, deadline, &why);
      if (r < 0)
        break;
    }
    bool reused = l->reused;
    struct progress pg = {0};
    r = exchange(l, req, method, deadline, &pg, ret, &why);
    if (r == 0) {
      l->idle_since = now_ms();
      return 0;
    }
    link_close(l);
    if (!reused || pg.answer_started || r == -ETIMEDOUT || (pg.sent_all && !replayable(method)))
      break;
  }
  return set_error(ret_err, r, "%s %s%s%s%s%s: %s", method, t->url_base, t->prefix, req->path,
                   q ? "?" : "", q ? req->query : "", why ? why : "failed");
}
