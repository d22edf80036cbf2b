#include "apiserver/httpd.h"

#include <arpa/inet.h>
#include <malloc.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <time.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>

#include "lib/macro.h"
#include "lib/strbuf.h"

/* Connection threads only parse requests and run handlers; deep recursion belongs in
 * worker code, so a small stack keeps thousands of watch connections cheap. */
#define THREAD_STACK (256 * 1024)
#define DEFAULT_MAX_BODY (3 * 1024 * 1024)
#define DEFAULT_MAX_CONNECTIONS 4096
#define DEFAULT_IDLE_TIMEOUT 60
#define DEFAULT_STREAM_QUEUE_MAX (16 * 1024 * 1024)
/* Per-connection buffer for headers and outgoing chunks. */
#define CONNECTION_MEMORY (64 * 1024)

struct httpd {
  struct MHD_Daemon *daemon;
  httpd_handler_fn handler;
  void *userdata;
  size_t max_body;
  size_t stream_queue_max;
  unsigned idle_timeout;
  unsigned port;
  bool have_client_ca;
  char *cert_pem, *key_pem, *client_ca_pem;
  char *start_error; /* first libmicrohttpd message while starting */
  bool started;

  pthread_mutex_t lock; /* guards streams, conns and stopping */
  struct httpd_stream *streams;
  struct conn_ctx *conns;
  unsigned closed_since_trim;
  bool stopping;
  pthread_t watchdog;
  bool watchdog_started;
  pthread_cond_t watchdog_cond;
};

struct httpd_stream {
  pthread_mutex_t lock;
  unsigned refs;
  int efd;  /* wakes the connection thread: data queued, closed, or server stopping */
  int sock; /* the connection's socket, watched for the peer hanging up */
  char *buf;
  size_t off, len, cap, max;
  bool closing; /* producer ended the stream; drain then finish */
  bool gone;    /* no more data can be delivered */
  bool finished;
  void (*on_close)(void *);
  void *on_close_data;

  struct httpd *srv; /* only while linked */
  struct httpd_stream *prev, *next;
  bool linked;
};

struct conn_ctx {
  int fd;
  time_t waiting_since; /* waiting for a request's headers since; 0 while one is served */
  struct conn_ctx *next, *prev;
  bool cert_done;
  struct httpd_client_cert cert;
  char *cn;
  char **orgs;
  char *error;
};

static void conn_waiting(struct httpd *srv, struct MHD_Connection *conn, bool waiting);

struct param {
  char *name, *value;
};

struct header {
  char *name, *value;
};

struct httpd_req {
  struct httpd *srv;
  struct MHD_Connection *conn;
  char *raw_uri;
  char *method;
  char *path;
  char *query;
  struct param *params;
  size_t n_params;
  const char ***value_lists;
  size_t n_value_lists;
  struct strbuf body; /* s NULL until a body byte arrives */
  bool too_large, bad_target, started, handled, responded, queue_failed;
  char remote[INET6_ADDRSTRLEN];
  struct header *headers;
  size_t n_headers;
  struct httpd_stream *stream;
};

static const struct httpd_client_cert cert_none = {.state = HTTPD_CERT_NONE};

/* ---- helpers ---- */

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Percent-decodes `s` (n bytes) as Go's url package does: an invalid escape fails, and
 * in query mode '+' means a space. Decoded NULs are refused because C strings cannot
 * carry them. */
static char *unescape(const char *s, size_t n, bool query) {
  char *out = xmalloc(n + 1), *o = out;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%') {
      int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
      int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
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

static void cert_reset(struct conn_ctx *c) {
  if (c->orgs)
    for (size_t i = 0; i < c->cert.n_orgs; i++)
      free(c->orgs[i]);
  free(c->orgs);
  free(c->cn);
  free(c->error);
}

/* ---- streams ---- */

static void stream_wake(struct httpd_stream *s) {
  uint64_t one = 1;
  /* The counter cannot overflow in practice; a failed write still leaves it readable. */
  if (write(s->efd, &one, sizeof(one)) < 0) {
  }
}

static void stream_free(struct httpd_stream *s) {
  pthread_mutex_destroy(&s->lock);
  if (s->efd >= 0)
    close(s->efd);
  free(s->buf);
  free(s);
}

struct httpd_stream *httpd_stream_ref(struct httpd_stream *s) {
  pthread_mutex_lock(&s->lock);
  s->refs++;
  pthread_mutex_unlock(&s->lock);
  return s;
}

void httpd_stream_unref(struct httpd_stream *s) {
  if (!s)
    return;
  pthread_mutex_lock(&s->lock);
  bool last = --s->refs == 0;
  pthread_mutex_unlock(&s->lock);
  if (last)
    stream_free(s);
}

static void stream_unlink(struct httpd_stream *s) {
  struct httpd *srv = s->srv;
  if (!srv)
    return;
  pthread_mutex_lock(&srv->lock);
  if (s->linked) {
    if (s->prev)
      s->prev->next = s->next;
    else
      srv->streams = s->next;
    if (s->next)
      s->next->prev = s->prev;
    s->linked = false;
  }
  pthread_mutex_unlock(&srv->lock);
  s->srv = NULL;
}

/* Runs when the connection is done with the stream, on the connection's thread (or the
 * stopping thread). The callback is taken under the lock so it runs exactly once even if
 * httpd_stream_on_close() races with the end. */
static void stream_finish(struct httpd_stream *s) {
  pthread_mutex_lock(&s->lock);
  if (s->finished) {
    pthread_mutex_unlock(&s->lock);
    return;
  }
  s->finished = true;
  s->gone = true;
  void (*fn)(void *) = s->on_close;
  void *data = s->on_close_data;
  s->on_close = NULL;
  free(s->buf);
  s->buf = NULL;
  s->off = s->len = s->cap = 0;
  pthread_mutex_unlock(&s->lock);
  stream_unlink(s);
  if (fn)
    fn(data);
}

void httpd_stream_on_close(struct httpd_stream *s, void (*fn)(void *), void *userdata) {
  pthread_mutex_lock(&s->lock);
  bool now = s->finished;
  if (!now) {
    s->on_close = fn;
    s->on_close_data = userdata;
  }
  pthread_mutex_unlock(&s->lock);
  if (now && fn)
    fn(userdata);
}

int httpd_stream_write(struct httpd_stream *s, const void *data, size_t len) {
  pthread_mutex_lock(&s->lock);
  if (s->gone || s->closing) {
    pthread_mutex_unlock(&s->lock);
    return -EPIPE;
  }
  size_t pending = s->len - s->off;
  if (len > s->max || pending > s->max - len) {
    /* A reader this far behind will not catch up; cutting it off bounds memory and the
     * client relists/rewatches as it would after any dropped watch. */
    s->gone = true;
    free(s->buf);
    s->buf = NULL;
    s->off = s->len = s->cap = 0;
    pthread_mutex_unlock(&s->lock);
    stream_wake(s);
    return -ENOBUFS;
  }
  if (s->off > 0 && s->len + len > s->cap) {
    memmove(s->buf, s->buf + s->off, pending);
    s->len = pending;
    s->off = 0;
  }
  if (s->len + len > s->cap) {
    size_t cap = s->cap ? s->cap : 4096;
    while (cap < s->len + len)
      cap *= 2;
    s->buf = xrealloc(s->buf, cap);
    s->cap = cap;
  }
  memcpy(s->buf + s->len, data, len);
  s->len += len;
  pthread_mutex_unlock(&s->lock);
  stream_wake(s);
  return 0;
}

void httpd_stream_close(struct httpd_stream *s) {
  pthread_mutex_lock(&s->lock);
  s->closing = true;
  pthread_mutex_unlock(&s->lock);
  stream_wake(s);
}

bool httpd_stream_closed(const struct httpd_stream *s) {
  struct httpd_stream *m = (struct httpd_stream *)s;
  pthread_mutex_lock(&m->lock);
  bool r = m->gone || m->closing;
  pthread_mutex_unlock(&m->lock);
  return r;
}

/* libmicrohttpd asks for the next chunk on the connection's own thread, so blocking here
 * is the thread-per-connection way to wait: for the producer (eventfd) or for the peer
 * hanging up (POLLRDHUP), whichever comes first. A disconnected watcher is thus noticed
 * at once, not at the next event. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
  struct httpd_stream *s = cls;
  pthread_mutex_lock(&s->lock);
  for (;;) {
    if (s->gone)
      break;
    if (s->len > s->off) {
      size_t n = s->len - s->off;
      if (n > max)
        n = max;
      memcpy(buf, s->buf + s->off, n);
      s->off += n;
      if (s->off == s->len)
        s->off = s->len = 0;
      pthread_mutex_unlock(&s->lock);
      return (ssize_t)n;
    }
    if (s->closing) {
      pthread_mutex_unlock(&s->lock);
      return MHD_CONTENT_READER_END_OF_STREAM;
    }
    pthread_mutex_unlock(&s->lock);

    struct pollfd p[2] = {{.fd = s->efd, .events = POLLIN}, {.fd = s->sock, .events = POLLRDHUP}};
    int n = poll(p, s->sock >= 0 ? 2 : 1, -1);
    bool hangup = false;
    if (n < 0 && errno != EINTR)
      hangup = true;
    if (n > 0 && (p[0].revents & POLLIN)) {
      uint64_t v;
      if (read(s->efd, &v, sizeof(v)) < 0) {
      }
    }
    if (n > 0 && s->sock >= 0 && (p[1].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)))
      hangup = true;
    pthread_mutex_lock(&s->lock);
    if (hangup)
      s->gone = true;
  }
  pthread_mutex_unlock(&s->lock);
  return MHD_CONTENT_READER_END_WITH_ERROR;
}

/* The response owns one reference; libmicrohttpd drops the response when the
 * connection is done with it, whichever way it ended. */
static void stream_response_free(void *cls) {
  struct httpd_stream *s = cls;
  stream_finish(s);
  httpd_stream_unref(s);
}

/* ---- requests ---- */

static void req_free(struct httpd_req *req) {
  if (!req)
    return;
  free(req->raw_uri);
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
const char *httpd_req_remote_addr(const struct httpd_req *req) { return req->remote; }

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
  return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *httpd_req_body(const struct httpd_req *req, size_t *ret_len) {
  if (ret_len)
    *ret_len = req->body.len;
  return req->body.s ? req->body.s : "";
}

static void cert_load(struct httpd *srv, struct MHD_Connection *conn, struct conn_ctx *c) {
  c->cert_done = true;
  c->cert = cert_none;
  if (!srv->have_client_ca)
    return;
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
  if (!ci || !ci->tls_session)
    return;
  gnutls_session_t sess = ci->tls_session;
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
      c->error = xstrdup(gnutls_strerror(r));
    else if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) == 0) {
      c->error = xstrndup((const char *)out.data, out.size);
      gnutls_free(out.data);
    } else
      c->error = xstrdup("certificate verification failed");
    c->cert.error = c->error;
    return;
  }

  gnutls_x509_crt_t crt;
  if (gnutls_x509_crt_init(&crt) < 0)
    return;
  if (gnutls_x509_crt_import(crt, &peers[0], GNUTLS_X509_FMT_DER) < 0) {
    gnutls_x509_crt_deinit(crt);
    c->error = xstrdup("unparsable client certificate");
    c->cert.error = c->error;
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
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  struct conn_ctx *c = ci ? ci->socket_context : NULL;
  if (!c)
    return &cert_none;
  /* A TLS session's peer certificate never changes, so keep-alive requests share it. */
  if (!c->cert_done)
    cert_load(req->srv, req->conn, c);
  return &c->cert;
}

static bool header_ok(const char *s) { return s && !strpbrk(s, "\r\n"); }

int httpd_add_header(struct httpd_req *req, const char *name, const char *value) {
  if (req->responded)
    return -EALREADY;
  if (!header_ok(name) || !name[0] || strchr(name, ':') || !header_ok(value))
    return -EINVAL;
  req->headers = xrealloc(req->headers, (req->n_headers + 1) * sizeof(*req->headers));
  req->headers[req->n_headers++] = (struct header){xstrdup(name), xstrdup(value)};
  return 0;
}

static int queue(struct httpd_req *req, unsigned status, const char *content_type,
                 struct MHD_Response *resp) {
  req->responded = true;
  if (!resp) {
    req->queue_failed = true;
    return -EIO;
  }
  if (content_type && header_ok(content_type))
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
  for (size_t i = 0; i < req->n_headers; i++)
    MHD_add_response_header(resp, req->headers[i].name, req->headers[i].value);
  enum MHD_Result ok = MHD_queue_response(req->conn, status, resp);
  MHD_destroy_response(resp);
  if (ok != MHD_YES) {
    req->queue_failed = true;
    return -EIO;
  }
  return 0;
}

int httpd_respond_take(struct httpd_req *req, unsigned status, const char *content_type, void *body,
                       size_t len) {
  if (req->responded) {
    free(body);
    return -EALREADY;
  }
  if (!body)
    len = 0;
  struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback(
      len, body ? body : (void *)"", body ? free : NULL);
  if (!resp)
    free(body);
  return queue(req, status, content_type, resp);
}

int httpd_respond(struct httpd_req *req, unsigned status, const char *content_type,
                  const void *body, size_t len) {
  if (req->responded)
    return -EALREADY;
  void *copy = NULL;
  if (body && len) {
    copy = xmalloc(len);
    memcpy(copy, body, len);
  }
  return httpd_respond_take(req, status, content_type, copy, copy ? len : 0);
}

struct httpd_stream *httpd_respond_stream(struct httpd_req *req, unsigned status,
                                          const char *content_type) {
  if (req->responded)
    return NULL;
  struct httpd *srv = req->srv;
  struct httpd_stream *s = xcalloc(1, sizeof(*s));
  pthread_mutex_init(&s->lock, NULL);
  s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  s->max = srv->stream_queue_max;
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  s->sock = ci ? ci->connect_fd : -1;
  s->refs = 2; /* the caller's and the response's */
  if (s->efd < 0)
    s->gone = true;

  pthread_mutex_lock(&srv->lock);
  if (srv->stopping)
    s->gone = true;
  s->srv = srv;
  s->linked = true;
  s->next = srv->streams;
  if (s->next)
    s->next->prev = s;
  srv->streams = s;
  pthread_mutex_unlock(&srv->lock);

  struct MHD_Response *resp = MHD_create_response_from_callback(
      MHD_SIZE_UNKNOWN, 32 * 1024, stream_read, s, stream_response_free);
  if (!resp) {
    stream_finish(s);
    httpd_stream_unref(s);
  }
  if (queue(req, status, content_type, resp) < 0) {
    /* libmicrohttpd has already released the response and with it our reference. */
    stream_finish(s);
    return s;
  }
  req->stream = s;
  /* A watch may stay silent for many minutes; the idle timeout guards only idle
   * keep-alive connections and is restored when the stream ends. */
  MHD_set_connection_option(req->conn, MHD_CONNECTION_OPTION_TIMEOUT, 0);
  return s;
}

/* ---- libmicrohttpd callbacks ---- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn) {
  struct httpd_req *req = xcalloc(1, sizeof(*req));
  req->srv = cls;
  req->raw_uri = xstrdup(uri ? uri : "");
  return req;
}

static void req_init(struct httpd_req *req, struct MHD_Connection *conn, const char *method) {
  req->conn = conn;
  req->method = xstrdup(method);
  const char *raw = req->raw_uri;
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

  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (ci && ci->client_addr) {
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
      inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, req->remote,
                sizeof(req->remote));
    else if (sa->sa_family == AF_INET6)
      inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, req->remote,
                sizeof(req->remote));
  }

  const char *cl =
      MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
  if (cl) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(cl, &end, 10);
    if (errno == 0 && end != cl && v > req->srv->max_body)
      req->too_large = true;
  }
}

static void body_append(struct httpd_req *req, const char *data, size_t n) {
  if (req->too_large)
    return;
  if (n > req->srv->max_body || req->body.len > req->srv->max_body - n) {
    req->too_large = true;
    strbuf_clear(&req->body);
    return;
  }
  strbuf_append(&req->body, data, n);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls) {
  struct httpd *srv = cls;
  struct httpd_req *req = *con_cls;
  if (!req) {
    req = on_uri(srv, url, conn);
    *con_cls = req;
  }
  if (!req->started)
    conn_waiting(srv, conn, false);
  if (!req->started) {
    req->started = true;
    req_init(req, conn, method);
    return MHD_YES;
  }
  if (*upload_data_size > 0) {
    body_append(req, upload_data, *upload_data_size);
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (req->handled)
    return MHD_YES;
  req->handled = true;
  if (req->bad_target) {
    static const char msg[] = "400 Bad Request: malformed request target";
    httpd_respond(req, 400, "text/plain; charset=utf-8", msg, sizeof(msg) - 1);
  } else {
    srv->handler(req, srv->userdata);
  }
  if (!req->responded) {
    static const char msg[] = "500 Internal Server Error: no response";
    httpd_respond(req, 500, "text/plain; charset=utf-8", msg, sizeof(msg) - 1);
  }
  return req->queue_failed ? MHD_NO : MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  struct httpd *srv = cls;
  struct httpd_req *req = *con_cls;
  if (!req)
    return;
  if (req->stream) {
    stream_finish(req->stream);
    /* Only a cleanly finished stream leaves a keep-alive connection behind to guard. */
    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
      MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, srv->idle_timeout);
  }
  req_free(req);
  *con_cls = NULL;
  conn_waiting(srv, conn, true);
}

/* Connections are listed so the watchdog can end one whose client takes too long to send
 * a request's headers: libmicrohttpd's timeout only measures silence, so a client dripping
 * a byte a second (slow-loris) would otherwise hold a thread forever. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
  struct httpd *srv = cls;
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    struct conn_ctx *c = xcalloc(1, sizeof(*c));
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    c->fd = info ? info->connect_fd : -1;
    c->waiting_since = time(NULL);
    pthread_mutex_lock(&srv->lock);
    c->next = srv->conns;
    if (srv->conns)
      srv->conns->prev = c;
    srv->conns = c;
    pthread_mutex_unlock(&srv->lock);
    *socket_context = c;
  } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
    struct conn_ctx *c = *socket_context;
    pthread_mutex_lock(&srv->lock);
    if (c->prev)
      c->prev->next = c->next;
    else
      srv->conns = c->next;
    if (c->next)
      c->next->prev = c->prev;
    srv->closed_since_trim++;
    pthread_mutex_unlock(&srv->lock);
    cert_reset(c);
    free(c);
    *socket_context = NULL;
  }
}

static void conn_waiting(struct httpd *srv, struct MHD_Connection *conn, bool waiting) {
  const union MHD_ConnectionInfo *info =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  struct conn_ctx *c = info ? info->socket_context : NULL;
  if (!c)
    return;
  pthread_mutex_lock(&srv->lock);
  c->waiting_since = waiting ? time(NULL) : 0;
  pthread_mutex_unlock(&srv->lock);
}

static void *watchdog_main(void *arg) {
  struct httpd *srv = arg;
  pthread_mutex_lock(&srv->lock);
  while (!srv->stopping) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 1;
    pthread_cond_timedwait(&srv->watchdog_cond, &srv->lock, &ts);
    time_t now = time(NULL);
    for (struct conn_ctx *c = srv->conns; c; c = c->next)
      if (c->waiting_since && now - c->waiting_since > (time_t)srv->idle_timeout && c->fd >= 0) {
        /* the connection's thread sees end-of-file and closes it */
        shutdown(c->fd, SHUT_RDWR);
        c->waiting_since = 0;
      }
    /* Many connections gone (a herd of watchers leaving): hand their TLS sessions' and
     * stacks' memory back now rather than keep the peak for good. */
    if (srv->closed_since_trim >= 32) {
      srv->closed_since_trim = 0;
      pthread_mutex_unlock(&srv->lock);
      malloc_trim(0);
      pthread_mutex_lock(&srv->lock);
    }
  }
  pthread_mutex_unlock(&srv->lock);
  return NULL;
}

static void on_log(void *cls, const char *fmt, va_list ap) {
  struct httpd *srv = cls;
  /* Runtime messages (failed handshakes, resets) are routine for a server and have no
   * reader; only a start-up failure is reported, through httpd_start's ret_err. */
  pthread_mutex_lock(&srv->lock);
  bool wanted = !srv->started && !srv->start_error;
  pthread_mutex_unlock(&srv->lock);
  if (!wanted)
    return;
  char *msg = xvasprintf(fmt, ap);
  size_t n = strlen(msg);
  while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
    msg[--n] = '\0';
  pthread_mutex_lock(&srv->lock);
  if (!srv->start_error)
    srv->start_error = TAKE_PTR(msg);
  pthread_mutex_unlock(&srv->lock);
  free(msg);
}

/* ---- server ---- */

static int listen_on(const char *addr, unsigned port, int *ret_fd, unsigned *ret_port,
                     char **ret_err) {
  struct sockaddr_storage ss = {0};
  socklen_t sl;
  struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
  if (port > 65535)
    return set_error(ret_err, -EINVAL, "invalid port %u", port);
  if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)port);
    sl = sizeof(*s4);
  } else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons((uint16_t)port);
    sl = sizeof(*s6);
  } else {
    return set_error(ret_err, -EINVAL, "invalid bind address \"%s\"", addr);
  }
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return set_error(ret_err, -errno, "socket: %s", strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (ss.ss_family == AF_INET6)
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 1024) < 0) {
    int r = -errno;
    close(fd);
    return set_error(ret_err, r, "cannot listen on %s port %u: %s", addr, port, strerror(-r));
  }
  if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
    int r = -errno;
    close(fd);
    return set_error(ret_err, r, "getsockname: %s", strerror(-r));
  }
  *ret_port = ntohs(ss.ss_family == AF_INET ? s4->sin_port : s6->sin6_port);
  *ret_fd = fd;
  return 0;
}

static void srv_free(struct httpd *srv) {
  pthread_cond_destroy(&srv->watchdog_cond);
  pthread_mutex_destroy(&srv->lock);
  free(srv->cert_pem);
  free(srv->key_pem);
  free(srv->client_ca_pem);
  free(srv->start_error);
  free(srv);
}

int httpd_start(const struct httpd_config *cfg, struct httpd **ret, char **ret_err) {
  if (!cfg->handler)
    return set_error(ret_err, -EINVAL, "no request handler");
  if (!cfg->cert_pem || !cfg->key_pem)
    return set_error(ret_err, -EINVAL, "a serving certificate and key are required");
  struct httpd *srv = xcalloc(1, sizeof(*srv));
  pthread_mutex_init(&srv->lock, NULL);
  pthread_cond_init(&srv->watchdog_cond, NULL);
  srv->handler = cfg->handler;
  srv->userdata = cfg->userdata;
  srv->max_body = cfg->max_body ? cfg->max_body : DEFAULT_MAX_BODY;
  srv->stream_queue_max = cfg->stream_queue_max ? cfg->stream_queue_max : DEFAULT_STREAM_QUEUE_MAX;
  srv->idle_timeout = cfg->idle_timeout ? cfg->idle_timeout : DEFAULT_IDLE_TIMEOUT;
  srv->cert_pem = xstrdup(cfg->cert_pem);
  srv->key_pem = xstrdup(cfg->key_pem);
  srv->client_ca_pem = cfg->client_ca_pem ? xstrdup(cfg->client_ca_pem) : NULL;
  srv->have_client_ca = cfg->client_ca_pem != NULL;

  int fd = -1;
  int r = listen_on(cfg->bind_address ? cfg->bind_address : "127.0.0.1", cfg->port, &fd, &srv->port,
                    ret_err);
  if (r < 0) {
    srv_free(srv);
    return r;
  }

  struct MHD_OptionItem opts[16];
  size_t n = 0;
  opts[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_log, srv};
  opts[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, fd, NULL};
  opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, srv->cert_pem};
  opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, srv->key_pem};
  if (srv->client_ca_pem)
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, srv->client_ca_pem};
  opts[n++] = (struct MHD_OptionItem){
      MHD_OPTION_CONNECTION_LIMIT,
      cfg->max_connections ? cfg->max_connections : DEFAULT_MAX_CONNECTIONS, NULL};
  opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, srv->idle_timeout, NULL};
  opts[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_STACK_SIZE, THREAD_STACK, NULL};
  opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONNECTION_MEMORY, NULL};
  opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, srv};
  opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, srv};
  opts[n++] = (struct MHD_OptionItem){MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, srv};
  opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

  unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS |
                   MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
  srv->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_access, srv, MHD_OPTION_ARRAY, opts,
                                 MHD_OPTION_END);
  if (!srv->daemon) {
    close(fd);
    r = set_error(ret_err, -EINVAL, "cannot start HTTPS server: %s",
             srv->start_error ? srv->start_error : "invalid certificate or key");
    srv_free(srv);
    return r;
  }
  pthread_mutex_lock(&srv->lock);
  srv->started = true;
  pthread_mutex_unlock(&srv->lock);
  srv->watchdog_started = pthread_create(&srv->watchdog, NULL, watchdog_main, srv) == 0;
  *ret = srv;
  return 0;
}

unsigned httpd_port(const struct httpd *srv) { return srv->port; }

void httpd_stop(struct httpd *srv) {
  if (!srv)
    return;
  /* Wake every stream first: their connection threads are blocked waiting for data and
   * would otherwise hold up the joins in MHD_stop_daemon. */
  pthread_mutex_lock(&srv->lock);
  srv->stopping = true;
  for (struct httpd_stream *s = srv->streams; s; s = s->next) {
    pthread_mutex_lock(&s->lock);
    s->gone = true;
    pthread_mutex_unlock(&s->lock);
    stream_wake(s);
  }
  pthread_cond_broadcast(&srv->watchdog_cond);
  pthread_mutex_unlock(&srv->lock);
  if (srv->watchdog_started)
    pthread_join(srv->watchdog, NULL);
  MHD_stop_daemon(srv->daemon);
  srv_free(srv);
}
