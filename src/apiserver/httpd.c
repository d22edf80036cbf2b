#include "apiserver/httpd.h"

#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "apiserver/httpd_internal.h"
#include "lib/coro.h"
#include "lib/macro.h"
#include "lib/strbuf.h"

#define DEFAULT_MAX_BODY (3 * 1024 * 1024)
#define DEFAULT_MAX_CONNECTIONS 4096
#define DEFAULT_IDLE_TIMEOUT 60
#define DEFAULT_STREAM_QUEUE_MAX (16 * 1024 * 1024)
/* A request's line and headers must fit in this. */
#define MAX_HEAD (64 * 1024)
/* One TLS record's worth: what a read asks for at once. */
#define READ_CHUNK (16 * 1024)
/* Bodies up to this size go out in the same TLS record as the headers. */
#define COALESCE_MAX (16 * 1024)
#define MAX_EVENTS 64
/* What one recv() asks for: a TLS record and its header. */
#define RAW_CHUNK (16 * 1024 + 64)

static const char *reason(unsigned status) {
  switch (status) {
  case 100: return "Continue";
  case 101: return "Switching Protocols";
  case 200: return "OK";
  case 201: return "Created";
  case 202: return "Accepted";
  case 204: return "No Content";
  case 206: return "Partial Content";
  case 301: return "Moved Permanently";
  case 302: return "Found";
  case 304: return "Not Modified";
  case 307: return "Temporary Redirect";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 406: return "Not Acceptable";
  case 408: return "Request Timeout";
  case 409: return "Conflict";
  case 410: return "Gone";
  case 411: return "Length Required";
  case 412: return "Precondition Failed";
  case 413: return "Request Entity Too Large";
  case 414: return "Request URI Too Long";
  case 415: return "Unsupported Media Type";
  case 422: return "Unprocessable Entity";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  case 505: return "HTTP Version Not Supported";
  }
  return "Unknown";
}

static const char *loop_date(struct loop *l) {
  time_t now = time(NULL);
  if (now != l->date_at) {
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(l->date, sizeof(l->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    l->date_at = now;
  }
  return l->date;
}

/* ---- output ---- */

static void out_push(struct conn *c, char *data, size_t len, bool owned) {
  if (len == 0) {
    if (owned)
      free(data);
    return;
  }
  struct seg *s = xmalloc(sizeof(*s));
  *s = (struct seg){.len = len, .data = data, .owned = owned};
  *c->out_tail = s;
  c->out_tail = &s->next;
}

static void out_pop(struct conn *c) {
  struct seg *s = c->out;
  c->out = s->next;
  if (!c->out)
    c->out_tail = &c->out;
  if (s->owned)
    free(s->data);
  free(s);
}

static void out_clear(struct conn *c) {
  while (c->out)
    out_pop(c);
  c->tls_retry = 0;
}

/* Sends what it can. Returns 0 (all sent, or the socket is full: c->out stays), -EIO when
 * the connection failed. */
static int conn_flush(struct conn *c) {
  while (c->out) {
    struct seg *s = c->out;
    size_t n = c->tls_retry ? c->tls_retry : s->len - s->off;
    ssize_t r = gnutls_record_send(c->tls, s->data + s->off, n);
    if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
      c->tls_retry = n;
      return 0;
    }
    c->tls_retry = 0;
    if (r < 0)
      return -EIO;
    s->off += (size_t)r;
    /* A client reading a large answer slowly is busy, not idle. */
    if (c->waiting_since)
      c->waiting_since = time(NULL);
    if (s->off == s->len)
      out_pop(c);
  }
  return 0;
}

/* ---- streams ---- */

static void stream_free(struct httpd_stream *s) {
  pthread_mutex_destroy(&s->lock);
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

/* Called with l->lock held after queuing work for the loop: releases the lock and wakes
 * the loop unless a wake-up is already on its way. */
static void loop_wake_unlock(struct loop *l) {
  bool wake = !l->wake_pending;
  l->wake_pending = true;
  pthread_mutex_unlock(&l->lock);
  if (wake) {
    uint64_t one = 1;
    if (write(l->efd, &one, sizeof(one)) < 0) {
      /* the counter is already non-zero: the loop wakes anyway */
    }
  }
}

/* Puts s on its loop's list of streams to look at and wakes the loop. Called with
 * s->lock held, which keeps s->loop valid: a loop ends its streams (under this lock)
 * before it goes away. */
static void stream_notify_locked(struct httpd_stream *s) {
  struct loop *l = s->loop;
  if (!l || s->queued)
    return;
  s->queued = true;
  s->refs++;
  pthread_mutex_lock(&l->lock);
  s->dirty_next = l->dirty;
  l->dirty = s;
  loop_wake_unlock(l);
}

/* The connection is done with the stream: runs the close callback exactly once, on the
 * loop's thread. */
static void stream_finish(struct httpd_stream *s) {
  pthread_mutex_lock(&s->lock);
  if (s->finished) {
    pthread_mutex_unlock(&s->lock);
    return;
  }
  s->finished = true;
  s->gone = true;
  s->loop = NULL;
  void (*fn)(void *) = s->on_close;
  void *data = s->on_close_data;
  s->on_close = NULL;
  free(s->buf);
  s->buf = NULL;
  s->len = s->cap = 0;
  pthread_mutex_unlock(&s->lock);
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
  /* The limit counts the chunk the connection is still sending, so that what waits in
   * user space for a reader is bounded by `max`, not twice that. */
  size_t held = s->len + s->in_flight;
  if (len > s->max || held > s->max - len) {
    /* A reader this far behind will not catch up; cutting it off bounds memory and the
     * client relists/rewatches as it would after any dropped watch. */
    s->gone = true;
    free(s->buf);
    s->buf = NULL;
    s->len = s->cap = 0;
    stream_notify_locked(s);
    pthread_mutex_unlock(&s->lock);
    return -ENOBUFS;
  }
  if (s->len + len > s->cap) {
    size_t cap = s->cap ? s->cap : 1024;
    while (cap < s->len + len)
      cap *= 2;
    s->buf = xrealloc(s->buf, cap);
    s->cap = cap;
  }
  memcpy(s->buf + s->len, data, len);
  s->len += len;
  stream_notify_locked(s);
  pthread_mutex_unlock(&s->lock);
  return 0;
}

void httpd_stream_close(struct httpd_stream *s) {
  pthread_mutex_lock(&s->lock);
  s->closing = true;
  stream_notify_locked(s);
  pthread_mutex_unlock(&s->lock);
}

bool httpd_stream_closed(const struct httpd_stream *s) {
  struct httpd_stream *m = (struct httpd_stream *)s;
  pthread_mutex_lock(&m->lock);
  bool r = m->gone || m->closing;
  pthread_mutex_unlock(&m->lock);
  return r;
}

/* Moves the producer's bytes into the connection's output as one chunk, once what went
 * before has been sent (so unsent data is bounded by the stream's queue limit). Returns
 * false when the stream was cut off or failed and the connection must close. */
static bool stream_pump(struct conn *c) {
  struct httpd_stream *s = c->stream;
  pthread_mutex_lock(&s->lock);
  bool gone = s->gone;
  if (!gone && (c->out || s->ending)) {
    pthread_mutex_unlock(&s->lock);
    return true;
  }
  char *data = NULL;
  size_t len = 0;
  if (!gone && s->len > 0) {
    data = s->buf;
    len = s->len;
    s->buf = NULL;
    s->len = s->cap = 0;
  }
  s->in_flight = len;
  bool end = !gone && s->closing;
  pthread_mutex_unlock(&s->lock);
  if (gone)
    return false;
  if (len > 0) {
    char *head = xasprintf("%zx\r\n", len);
    out_push(c, head, strlen(head), true);
    out_push(c, data, len, true);
    out_push(c, (char *)"\r\n", 2, false);
  }
  if (end) {
    out_push(c, (char *)"0\r\n\r\n", 5, false);
    s->ending = true;
  }
  return true;
}

/* ---- responses ---- */

/* Status line and headers; the caller adds the framing header and the blank line. */
static void head_begin(struct strbuf *b, struct httpd_req *req, unsigned status,
                       const char *content_type) {
  struct conn *c = req->conn;
  strbuf_appendf(b, "HTTP/1.1 %u %s\r\nDate: %s\r\n", status, reason(status), loop_date(c->loop));
  if (content_type && header_ok(content_type))
    strbuf_appendf(b, "Content-Type: %s\r\n", content_type);
  for (size_t i = 0; i < req->n_headers; i++)
    strbuf_appendf(b, "%s: %s\r\n", req->headers[i].name, req->headers[i].value);
  if (!c->keep_alive)
    strbuf_appends(b, "Connection: close\r\n");
}

int httpd_respond_take(struct httpd_req *req, unsigned status, const char *content_type, void *body,
                       size_t len) {
  if (req->responded) {
    free(body);
    return -EALREADY;
  }
  req->responded = true;
  struct conn *c = req->conn;
  if (!body)
    len = 0;
  bool no_body = status == 204 || status == 304 || (status >= 100 && status < 200);
  struct strbuf b = {0};
  head_begin(&b, req, status, content_type);
  if (!no_body)
    strbuf_appendf(&b, "Content-Length: %zu\r\n", len);
  strbuf_appends(&b, "\r\n");
  bool send_body = !no_body && !c->is_head && len > 0;
  if (send_body && len <= COALESCE_MAX) {
    strbuf_append(&b, body, len);
    send_body = false;
  }
  size_t hl;
  char *h = strbuf_take(&b, &hl);
  out_push(c, h, hl, true);
  if (send_body)
    out_push(c, body, len, true);
  else
    free(body);
  return 0;
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
  req->responded = true;
  struct conn *c = req->conn;
  struct httpd_stream *s = xcalloc(1, sizeof(*s));
  pthread_mutex_init(&s->lock, NULL);
  s->max = req->srv->stream_queue_max;
  s->refs = 2; /* the caller's and the connection's */
  s->loop = c->loop;
  s->conn = c;
  c->stream = s;
  pthread_mutex_lock(&c->loop->lock);
  if (c->loop->stop)
    s->gone = true;
  pthread_mutex_unlock(&c->loop->lock);

  struct strbuf b = {0};
  head_begin(&b, req, status, content_type);
  strbuf_appends(&b, "Transfer-Encoding: chunked\r\n\r\n");
  size_t hl;
  char *h = strbuf_take(&b, &hl);
  out_push(c, h, hl, true);
  return s;
}

/* ---- connections ---- */

static void conn_free(struct conn *c) {
  struct loop *l = c->loop;
  if (c->stream) {
    c->stream->conn = NULL;
    stream_finish(c->stream);
    httpd_stream_unref(c->stream);
    c->stream = NULL;
  }
  httpd_req_free(c->req);
  out_clear(c);
  gnutls_deinit(c->tls);
  close(c->fd);
  free(c->in);
  free(c->raw);
  httpd_conn_cert_reset(c);
  if (c->prev)
    c->prev->next = c->next;
  else
    l->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  atomic_fetch_sub(&l->srv->n_conns, 1);
  atomic_fetch_add(&l->srv->closed_since_trim, 1);
  free(c);
}

/* Ends a connection; one whose handler still runs is freed when the handler returns. */
static void conn_close(struct conn *c) {
  if (c->state == CS_HANDLER) {
    c->dead = true;
    return;
  }
  conn_free(c);
}

static void queue_error(struct conn *c, unsigned status) {
  char *msg = xasprintf("HTTP/1.1 %u %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                        "Connection: close\r\nContent-Length: %zu\r\n\r\n%u %s",
                        status, reason(status), strlen(reason(status)) + 4, status,
                        reason(status));
  out_push(c, msg, strlen(msg), true);
  c->keep_alive = false;
  c->state = CS_CLOSING;
  c->waiting_since = time(NULL);
}

static void run_handler(void *arg) {
  struct conn *c = arg;
  struct httpd_req *req = c->req;
  struct httpd *srv = c->loop->srv;
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
}

/* The handler returned: back to reading, to the stream, or to closing. */
static void conn_handler_done(struct conn *c) {
  struct loop *l = c->loop;
  l->in_flight--;
  if (l->n_pool < CORO_POOL_MAX)
    l->pool[l->n_pool++] = c->co;
  else
    coro_free(c->co);
  c->co = NULL;
  httpd_req_free(c->req);
  c->req = NULL;
  pthread_mutex_lock(&l->lock);
  bool stopping = l->stop;
  pthread_mutex_unlock(&l->lock);
  if (c->stream)
    c->state = CS_STREAM;
  else
    c->state = c->keep_alive && !stopping ? CS_READ : CS_CLOSING;
  c->waiting_since = c->state == CS_STREAM ? 0 : time(NULL);
}

static void conn_dispatch(struct conn *c) {
  struct loop *l = c->loop;
  c->waiting_since = 0;
  if (c->in_len == 0) {
    /* Idle connections (watches above all) keep no input buffer. */
    free(c->in);
    c->in = NULL;
    c->in_cap = 0;
  }
  struct coro *co = l->n_pool ? l->pool[--l->n_pool] : coro_new(0);
  if (!co) {
    httpd_req_free(c->req);
    c->req = NULL;
    queue_error(c, 503);
    return;
  }
  c->co = co;
  c->state = CS_HANDLER;
  l->in_flight++;
  coro_start(co, run_handler, c, &l->sched);
  if (coro_resume(co))
    conn_handler_done(c);
}

static void in_consume(struct conn *c, size_t n) {
  memmove(c->in, c->in + n, c->in_len - n);
  c->in_len -= n;
  c->scanned = 0;
}

/* Whether the bytes that arrived since the last look could end a request head (an empty
 * line). The parser scans from the start each time; asking it only then keeps a client
 * that drips its head a byte at a time from costing a rescan per byte. */
static bool head_may_end(struct conn *c) {
  size_t from = c->scanned > 3 ? c->scanned - 3 : 0;
  c->scanned = c->in_len;
  for (size_t i = from; i + 1 < c->in_len; i++)
    if (c->in[i] == '\n' && (c->in[i + 1] == '\n' ||
                             (c->in[i + 1] == '\r' && i + 2 < c->in_len && c->in[i + 2] == '\n')))
      return true;
  return false;
}

/* Makes progress on the request in the input buffer. Returns 1 when it was dispatched
 * (or answered with an error: the state changed), 0 when more input is needed. */
static int conn_parse(struct conn *c) {
  struct httpd *srv = c->loop->srv;
  if (!c->req) {
    if (!head_may_end(c))
      return c->in_len >= MAX_HEAD ? (queue_error(c, 431), 1) : 0;
    struct http1_head h;
    ssize_t r = http1_parse_head(c->in, c->in_len, MAX_HEAD, &h);
    if (r == 0)
      return 0;
    if (r < 0) {
      queue_error(c, r == -E2BIG             ? 431
                     : r == -ENOSYS          ? 501
                     : r == -EPROTONOSUPPORT ? 505
                                             : 400);
      return 1;
    }
    c->req = httpd_req_new(c, &h);
    c->keep_alive = h.keep_alive;
    c->is_head = streq(h.method, "HEAD");
    c->chunked = h.chunked;
    c->body_left = h.has_length ? h.content_length : 0;
    bool expect = h.expect_continue;
    in_consume(c, (size_t)r);
    if (c->chunked)
      http1_chunked_init(&c->chunk);
    if (h.has_length && h.content_length > srv->max_body) {
      c->req->too_large = true;
      if (expect) {
        /* The client waits for our word before sending the body: answer now, never read
         * it, and end the connection. */
        c->keep_alive = false;
        c->body_left = 0;
        c->chunked = false;
        conn_dispatch(c);
        return 1;
      }
    }
    if (expect && (c->chunked || c->body_left > 0) && c->in_len == 0) {
      static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
      out_push(c, (char *)cont, sizeof(cont) - 1, false);
    }
  }
  if (c->chunked) {
    bool done = false;
    ssize_t r = http1_chunked_feed(&c->chunk, c->in, c->in_len, httpd_req_body_emit, c->req, &done);
    if (r < 0) {
      httpd_req_free(c->req);
      c->req = NULL;
      queue_error(c, 400);
      return 1;
    }
    in_consume(c, (size_t)r);
    if (!done)
      return 0;
    c->chunked = false;
  } else if (c->body_left > 0) {
    size_t n = c->in_len < c->body_left ? c->in_len : (size_t)c->body_left;
    httpd_req_body_append(c->req, c->in, n);
    in_consume(c, n);
    c->body_left -= n;
    if (c->body_left > 0)
      return 0;
  }
  conn_dispatch(c);
  return 1;
}

/* TLS reads through here: one recv() of up to a record's size serves the small reads TLS
 * makes (a record header, then its body). A read that comes back short means the socket
 * is empty; with edge-triggered events, more data brings a new event (which clears
 * `drained`), so no extra recv() is needed to hear EAGAIN. */
static ssize_t tls_pull(gnutls_transport_ptr_t ptr, void *data, size_t len) {
  struct conn *c = ptr;
  if (c->raw_off == c->raw_len) {
    if (c->drained) {
      gnutls_transport_set_errno(c->tls, EAGAIN);
      return -1;
    }
    if (!c->raw)
      c->raw = xmalloc(RAW_CHUNK);
    ssize_t n = recv(c->fd, c->raw, RAW_CHUNK, 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        c->drained = true;
      gnutls_transport_set_errno(c->tls, errno);
      return -1;
    }
    if (n == 0)
      return 0;
    if ((size_t)n < RAW_CHUNK)
      c->drained = true;
    c->raw_len = (size_t)n;
    c->raw_off = 0;
  }
  size_t k = c->raw_len - c->raw_off < len ? c->raw_len - c->raw_off : len;
  memcpy(data, c->raw + c->raw_off, k);
  c->raw_off += k;
  if (c->raw_off == c->raw_len) {
    /* Idle connections (watches above all) keep no read buffer. */
    free(c->raw);
    c->raw = NULL;
    c->raw_off = c->raw_len = 0;
  }
  return (ssize_t)k;
}

static int tls_pull_timeout(gnutls_transport_ptr_t ptr, unsigned ms) {
  struct conn *c = ptr;
  return c->raw_off < c->raw_len || !c->drained;
}

/* Reads what TLS has for us. Returns > 0 bytes, 0 at end of stream, -EAGAIN, -EIO. */
static ssize_t conn_recv(struct conn *c) {
  if (c->in_cap - c->in_len < READ_CHUNK) {
    c->in_cap = c->in_len + READ_CHUNK;
    c->in = xrealloc(c->in, c->in_cap);
  }
  ssize_t r = gnutls_record_recv(c->tls, c->in + c->in_len, c->in_cap - c->in_len);
  if (r > 0) {
    c->in_len += (size_t)r;
    return r;
  }
  if (r == 0)
    return 0;
  if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
    return -EAGAIN;
  return -EIO;
}

/* Drives a connection as far as it can go without waiting. Sockets are edge-triggered
 * for reading and writing at once: every state goes on until the socket says EAGAIN (or
 * leaves it for a later state, which then tries the socket itself first). */
static void conn_run(struct conn *c, unsigned events) {
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
    c->hup = true;
  if (events)
    c->drained = false;
  for (;;) {
    switch (c->state) {
    case CS_HANDSHAKE: {
      int r = gnutls_handshake(c->tls);
      if (r == GNUTLS_E_SUCCESS) {
        c->state = CS_READ;
        continue;
      }
      if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
        return;
      }
      if (!gnutls_error_is_fatal(r))
        continue;
      conn_free(c);
      return;
    }
    case CS_READ: {
      if (conn_flush(c) < 0) {
        conn_free(c);
        return;
      }
      if (c->out) {
        /* Read no further requests while answers are stuck: the client must read. */
        return;
      }
      /* Parsing may have queued an answer (or "100 Continue"): send it first. */
      if (conn_parse(c) > 0 || c->out)
        continue;
      if (c->in_len >= MAX_HEAD && !c->req) {
        queue_error(c, 431);
        continue;
      }
      ssize_t n = conn_recv(c);
      if (n > 0)
        continue;
      if (n == -EAGAIN)
        return;
      conn_free(c);
      return;
    }
    case CS_HANDLER:
      if (conn_flush(c) < 0) {
        conn_close(c);
        return;
      }
      return;
    case CS_STREAM: {
      if (c->hup) {
        conn_free(c);
        return;
      }
      if (!stream_pump(c) || conn_flush(c) < 0) {
        conn_free(c);
        return;
      }
      if (!c->out && c->stream->ending) {
        struct httpd_stream *s = TAKE_PTR(c->stream);
        s->conn = NULL;
        stream_finish(s);
        httpd_stream_unref(s);
        c->state = c->keep_alive ? CS_READ : CS_CLOSING;
        c->waiting_since = time(NULL);
        continue;
      }
      if (!c->out && stream_pump(c) && c->out)
        continue;
      return;
    }
    case CS_CLOSING:
      if (conn_flush(c) == 0 && c->out)
        return;
      gnutls_bye(c->tls, GNUTLS_SHUT_WR);
      conn_free(c);
      return;
    }
  }
}

static void conn_accept(struct loop *l, int fd, const struct sockaddr_storage *ss) {
  struct httpd *srv = l->srv;
  if (atomic_fetch_add(&srv->n_conns, 1) >= srv->max_connections) {
    atomic_fetch_sub(&srv->n_conns, 1);
    close(fd);
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  struct conn *c = xcalloc(1, sizeof(*c));
  c->loop = l;
  c->fd = fd;
  c->out_tail = &c->out;
  c->keep_alive = true;
  c->waiting_since = time(NULL);
  if (ss->ss_family == AF_INET)
    inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, c->remote, sizeof(c->remote));
  else if (ss->ss_family == AF_INET6)
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, c->remote,
              sizeof(c->remote));
  c->next = l->conns;
  if (c->next)
    c->next->prev = c;
  l->conns = c;
  if (gnutls_init(&c->tls, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL) < 0) {
    c->tls = NULL;
    conn_free(c);
    return;
  }
  gnutls_priority_set(c->tls, srv->prio);
  gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, srv->cred);
  if (srv->have_client_ca)
    gnutls_certificate_server_set_request(c->tls, GNUTLS_CERT_REQUEST);
  gnutls_transport_set_ptr2(c->tls, c, (gnutls_transport_ptr_t)(intptr_t)fd);
  gnutls_transport_set_pull_function(c->tls, tls_pull);
  gnutls_transport_set_pull_timeout_function(c->tls, tls_pull_timeout);
  c->state = CS_HANDSHAKE;
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
  if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
    conn_free(c);
    return;
  }
  conn_run(c, 0);
}

/* ---- the loop ---- */

static void loop_post(struct coro_sched *sched, struct coro *co) {
  struct loop *l = (struct loop *)sched;
  pthread_mutex_lock(&l->lock);
  l->ready = xgrow(l->ready, l->n_ready, &l->cap_ready, sizeof(*l->ready));
  l->ready[l->n_ready++] = co;
  loop_wake_unlock(l);
}

/* Resumes posted handlers and serves streams with news. */
static void loop_drain(struct loop *l) {
  uint64_t v;
  if (read(l->efd, &v, sizeof(v)) < 0) {
  }
  for (;;) {
    pthread_mutex_lock(&l->lock);
    struct coro **ready = l->ready;
    size_t n_ready = l->n_ready;
    l->ready = NULL;
    l->n_ready = l->cap_ready = 0;
    struct httpd_stream *dirty = l->dirty;
    l->dirty = NULL;
    struct incoming *incoming = l->incoming;
    l->incoming = NULL;
    bool stopping = l->stop;
    bool idle = n_ready == 0 && !dirty && !incoming;
    if (idle)
      l->wake_pending = false;
    pthread_mutex_unlock(&l->lock);
    if (idle) {
      free(ready);
      return;
    }
    while (incoming) {
      struct incoming *in = incoming;
      incoming = in->next;
      if (stopping)
        close(in->fd);
      else
        conn_accept(l, in->fd, &in->addr);
      free(in);
    }
    for (size_t i = 0; i < n_ready; i++) {
      struct conn *c = coro_arg(ready[i]);
      if (coro_resume(ready[i])) {
        conn_handler_done(c);
        if (c->dead)
          conn_free(c);
        else
          conn_run(c, 0);
      }
    }
    free(ready);
    while (dirty) {
      struct httpd_stream *s = dirty;
      dirty = s->dirty_next;
      pthread_mutex_lock(&s->lock);
      s->queued = false;
      pthread_mutex_unlock(&s->lock);
      /* The connection may be mid-handler (the handler wrote before returning): it
       * picks the data up once it reaches the stream state. */
      if (s->conn && s->conn->state == CS_STREAM)
        conn_run(s->conn, 0);
      httpd_stream_unref(s);
    }
  }
}

/* Ends connections that keep us waiting for a request too long (slow or silent
 * clients); streams and running handlers are exempt. */
static void loop_sweep(struct loop *l, time_t now) {
  struct httpd *srv = l->srv;
  for (struct conn *c = l->conns, *next; c; c = next) {
    next = c->next;
    if ((c->state == CS_READ || c->state == CS_HANDSHAKE || c->state == CS_CLOSING) &&
        c->waiting_since &&
        now - c->waiting_since > (time_t)srv->idle_timeout)
      conn_free(c);
  }
  /* Many connections gone (a herd of watchers leaving): hand their TLS sessions'
   * memory back now rather than keep the peak for good. */
  if (l == &srv->loops[0] && atomic_load(&srv->closed_since_trim) >= 32) {
    atomic_store(&srv->closed_since_trim, 0);
    malloc_trim(0);
  }
}

/* New connections go to the loops in turn, whichever loop the kernel woke: a busy loop
 * (or, with a blocking store, a loop waiting on it) does not collect them. */
static void loop_accept(struct loop *l) {
  struct httpd *srv = l->srv;
  for (int i = 0; i < 64; i++) {
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int fd = accept4(srv->listen_fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
      return;
    struct loop *to = &srv->loops[atomic_fetch_add(&srv->next_loop, 1) % srv->n_loops];
    if (to == l) {
      conn_accept(l, fd, &ss);
      continue;
    }
    struct incoming *in = xmalloc(sizeof(*in));
    *in = (struct incoming){.fd = fd, .addr = ss};
    pthread_mutex_lock(&to->lock);
    if (to->stop) {
      pthread_mutex_unlock(&to->lock);
      close(fd);
      free(in);
      continue;
    }
    in->next = to->incoming;
    to->incoming = in;
    loop_wake_unlock(to);
  }
}

static void loop_shutdown(struct loop *l) {
  epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->srv->listen_fd, NULL);
  /* Streams first, so their producers stop at once; handlers still running finish
   * (the store answers them) before their connections go. */
  for (struct conn *c = l->conns, *next; c; c = next) {
    next = c->next;
    if (c->state == CS_HANDLER)
      conn_close(c);
    else
      conn_free(c);
  }
}

static void *loop_main(void *arg) {
  struct loop *l = arg;
  struct epoll_event evs[MAX_EVENTS];
  bool shut = false;
  for (;;) {
    pthread_mutex_lock(&l->lock);
    bool stop = l->stop;
    pthread_mutex_unlock(&l->lock);
    if (stop && !shut) {
      loop_shutdown(l);
      shut = true;
    }
    if (shut && l->in_flight == 0 && !l->conns)
      break;
    coro_run_deferred();
    int n = epoll_wait(l->epfd, evs, MAX_EVENTS, 1000);
    bool woken = false;
    for (int i = 0; i < n; i++) {
      void *p = evs[i].data.ptr;
      if (p == &l->srv->listen_fd) {
        if (!shut)
          loop_accept(l);
      } else if (p == &l->efd) {
        woken = true;
      } else {
        /* Only a connection's own processing frees it, so the rest of the batch is
         * still valid; wake-ups (which may free any connection) come after. */
        struct conn *c = p;
        if (shut && c->state != CS_HANDLER)
          conn_free(c);
        else
          conn_run(c, evs[i].events);
      }
    }
    if (woken)
      loop_drain(l);
    time_t now = time(NULL);
    if (now != l->last_sweep) {
      l->last_sweep = now;
      loop_sweep(l, now);
    }
  }
  for (size_t i = 0; i < l->n_pool; i++)
    coro_free(l->pool[i]);
  l->n_pool = 0;
  /* Streams queued after their connection ended hold a reference each; connections
   * handed over by another loop after this one stopped were never served. */
  pthread_mutex_lock(&l->lock);
  struct httpd_stream *dirty = TAKE_PTR(l->dirty);
  struct incoming *incoming = TAKE_PTR(l->incoming);
  pthread_mutex_unlock(&l->lock);
  while (incoming) {
    struct incoming *in = incoming;
    incoming = in->next;
    close(in->fd);
    free(in);
  }
  while (dirty) {
    struct httpd_stream *s = dirty;
    dirty = s->dirty_next;
    httpd_stream_unref(s);
  }
  return NULL;
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
  for (unsigned i = 0; i < srv->n_loops; i++) {
    struct loop *l = &srv->loops[i];
    if (l->epfd >= 0)
      close(l->epfd);
    if (l->efd >= 0)
      close(l->efd);
    free(l->ready);
    pthread_mutex_destroy(&l->lock);
  }
  free(srv->loops);
  if (srv->listen_fd >= 0)
    close(srv->listen_fd);
  if (srv->prio)
    gnutls_priority_deinit(srv->prio);
  if (srv->cred)
    gnutls_certificate_free_credentials(srv->cred);
  free(srv);
}

static int tls_setup(struct httpd *srv, const struct httpd_config *cfg, char **ret_err) {
  if (gnutls_certificate_allocate_credentials(&srv->cred) < 0)
    return set_error(ret_err, -ENOMEM, "cannot allocate TLS credentials");
  gnutls_datum_t cert = {(unsigned char *)cfg->cert_pem, (unsigned)strlen(cfg->cert_pem)};
  gnutls_datum_t key = {(unsigned char *)cfg->key_pem, (unsigned)strlen(cfg->key_pem)};
  int r = gnutls_certificate_set_x509_key_mem(srv->cred, &cert, &key, GNUTLS_X509_FMT_PEM);
  if (r < 0)
    return set_error(ret_err, -EINVAL, "cannot start HTTPS server: invalid certificate or key: %s",
                     gnutls_strerror(r));
  if (cfg->client_ca_pem) {
    gnutls_datum_t ca = {(unsigned char *)cfg->client_ca_pem, (unsigned)strlen(cfg->client_ca_pem)};
    r = gnutls_certificate_set_x509_trust_mem(srv->cred, &ca, GNUTLS_X509_FMT_PEM);
    if (r <= 0)
      return set_error(ret_err, -EINVAL, "cannot start HTTPS server: invalid client CA: %s",
                       r < 0 ? gnutls_strerror(r) : "no certificate");
    srv->have_client_ca = true;
  }
  r = gnutls_priority_init(&srv->prio, NULL, NULL);
  if (r < 0) {
    srv->prio = NULL;
    return set_error(ret_err, -EINVAL, "TLS priorities: %s", gnutls_strerror(r));
  }
  return 0;
}

int httpd_start(const struct httpd_config *cfg, struct httpd **ret, char **ret_err) {
  if (!cfg->handler)
    return set_error(ret_err, -EINVAL, "no request handler");
  if (!cfg->cert_pem || !cfg->key_pem)
    return set_error(ret_err, -EINVAL, "a serving certificate and key are required");
  struct httpd *srv = xcalloc(1, sizeof(*srv));
  srv->listen_fd = -1;
  srv->handler = cfg->handler;
  srv->userdata = cfg->userdata;
  srv->max_body = cfg->max_body ? cfg->max_body : DEFAULT_MAX_BODY;
  srv->stream_queue_max = cfg->stream_queue_max ? cfg->stream_queue_max : DEFAULT_STREAM_QUEUE_MAX;
  srv->idle_timeout = cfg->idle_timeout ? cfg->idle_timeout : DEFAULT_IDLE_TIMEOUT;
  srv->max_connections = cfg->max_connections ? cfg->max_connections : DEFAULT_MAX_CONNECTIONS;

  int r = tls_setup(srv, cfg, ret_err);
  if (r < 0) {
    srv_free(srv);
    return r;
  }
  r = listen_on(cfg->bind_address ? cfg->bind_address : "127.0.0.1", cfg->port, &srv->listen_fd,
                &srv->port, ret_err);
  if (r < 0) {
    srv_free(srv);
    return r;
  }

  unsigned n = cfg->threads;
  if (n == 0) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    n = cpus < 1 ? 1 : (unsigned)cpus;
  }
  srv->loops = xcalloc(n, sizeof(*srv->loops));
  srv->n_loops = n;
  for (unsigned i = 0; i < n; i++) {
    struct loop *l = &srv->loops[i];
    l->srv = srv;
    l->sched.post = loop_post;
    pthread_mutex_init(&l->lock, NULL);
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event lev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = &srv->listen_fd};
    struct epoll_event eev = {.events = EPOLLIN, .data.ptr = &l->efd};
    if (l->epfd < 0 || l->efd < 0 || epoll_ctl(l->epfd, EPOLL_CTL_ADD, srv->listen_fd, &lev) < 0 ||
        epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->efd, &eev) < 0) {
      r = set_error(ret_err, -errno, "epoll: %s", strerror(errno));
      httpd_stop(srv);
      return r;
    }
  }
  for (unsigned i = 0; i < n; i++) {
    struct loop *l = &srv->loops[i];
    if (pthread_create(&l->thread, NULL, loop_main, l) != 0) {
      httpd_stop(srv);
      return set_error(ret_err, -EAGAIN, "cannot start server threads");
    }
    l->thread_started = true;
  }
  *ret = srv;
  return 0;
}

unsigned httpd_port(const struct httpd *srv) { return srv->port; }

void httpd_stop(struct httpd *srv) {
  if (!srv)
    return;
  for (unsigned i = 0; i < srv->n_loops; i++) {
    struct loop *l = &srv->loops[i];
    pthread_mutex_lock(&l->lock);
    l->stop = true;
    pthread_mutex_unlock(&l->lock);
    uint64_t one = 1;
    if (l->efd >= 0 && write(l->efd, &one, sizeof(one)) < 0) {
    }
  }
  for (unsigned i = 0; i < srv->n_loops; i++)
    if (srv->loops[i].thread_started)
      pthread_join(srv->loops[i].thread, NULL);
  srv_free(srv);
}
