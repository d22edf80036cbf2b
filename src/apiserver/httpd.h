/* httpd.h — the API server's HTTPS front end: HTTP/1.1 over TLS (GnuTLS) on a few event
 * loops. Handlers see only this interface: a request (method, path, query, headers, body,
 * peer identity) and exactly one response, either a whole body or a chunked stream fed
 * later from any thread.
 *
 * Model: `threads` event loops (epoll), each owning the connections it accepted. Request
 * framing is src/lib/http1.h's. A handler runs on its connection's loop as a
 * coroutine (src/lib/coro.h) once the whole request has arrived, and must answer before
 * returning: httpd_respond(), httpd_respond_take() or httpd_respond_stream(). A handler
 * that answers nothing gets a 500. While a handler waits for something that suspends
 * coroutines (the store's commit), its loop serves other connections; anything else it
 * waits for blocks the loop, so handlers keep such waits short.
 *
 * Keep-alive and pipelining; `Expect: 100-continue`; chunked request bodies. A connection
 * that takes longer than `idle_timeout` seconds to deliver a request (or to read what it
 * was sent) is closed (slow-loris protection); connections carrying a stream are exempt,
 * since a watch may be silent for minutes. Malformed framing gets 400 (431 for an
 * oversized head, 501 for an unknown transfer coding, 505 for another HTTP version) and
 * the connection is closed.
 *
 * Upgrades (WebSocket / SPDY for exec, attach, port-forward) are not served yet; they
 * will come as an httpd_respond_upgrade() answering 101 and handing the handler the
 * connection's byte stream. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct httpd;
struct httpd_req;
struct httpd_stream;

typedef void (*httpd_handler_fn)(struct httpd_req *req, void *userdata);

struct httpd_config {
  const char *bind_address;  /* IPv4 or IPv6 literal; NULL = 127.0.0.1 */
  unsigned port;             /* 0 = any free port, see httpd_port() */
  const char *cert_pem;      /* serving certificate chain, PEM */
  const char *key_pem;       /* its private key, PEM */
  const char *client_ca_pem; /* CA for client certificates; NULL = none checked */
  size_t max_body;           /* larger bodies are discarded, see httpd_req_body_too_large */
  unsigned max_connections;  /* 0 = 4096 */
  unsigned idle_timeout;     /* seconds; 0 = 60 */
  size_t stream_queue_max;   /* bytes queued per stream before it is cut off; 0 = 16 MiB */
  unsigned threads;          /* event loops; 0 = one per online CPU */
  httpd_handler_fn handler;
  void *userdata;
};

/* Starts serving. The config strings are copied; the config itself need not outlive the
 * call. On success *ret owns the server. On failure returns a negative errno (-EINVAL
 * for a bad address or unusable certificate/key, -EADDRINUSE, ...) and, if ret_err is
 * non-NULL, a malloc'd message. */
int httpd_start(const struct httpd_config *cfg, struct httpd **ret, char **ret_err);

/* The TCP port actually bound (useful with port 0). */
unsigned httpd_port(const struct httpd *srv);

/* Stops accepting, ends every connection and stream (their close callbacks run, writes
 * then fail with -EPIPE), lets running handlers finish and joins every thread. Streams still referenced by producers
 * stay valid memory until their last httpd_stream_unref(). Must not be called from a
 * handler or a close callback. Accepts NULL. */
void httpd_stop(struct httpd *srv);

/* ---- Request. Strings are borrowed and valid until the handler returns. ---- */

const char *httpd_req_method(const struct httpd_req *req);
/* Percent-decoded path without the query, e.g. "/api/v1/namespaces/a b/pods". */
const char *httpd_req_path(const struct httpd_req *req);
/* The raw query string after '?', not decoded; "" when there is none. */
const char *httpd_req_query(const struct httpd_req *req);
/* First value of query parameter `name` (decoded as Go's url.ParseQuery does: '+' is a
 * space), "" for a parameter without '=', NULL when absent. */
const char *httpd_req_query_value(const struct httpd_req *req, const char *name);
/* Every value of `name` in order of appearance (exec's repeated command=). Returns the
 * count; *ret_values (may be NULL) points at an internal array valid as the strings. */
size_t httpd_req_query_values(const struct httpd_req *req, const char *name,
                              const char *const **ret_values);
/* Request header by name, case-insensitive; NULL when absent. */
const char *httpd_req_header(const struct httpd_req *req, const char *name);
/* The body, NUL-terminated (the NUL is not counted). "" with length 0 when none. */
const char *httpd_req_body(const struct httpd_req *req, size_t *ret_len);
/* True when the body exceeded max_body: it was discarded, never buffered, and the
 * handler is expected to answer 413. */
bool httpd_req_body_too_large(const struct httpd_req *req);
/* Client IP address as text ("127.0.0.1", "::1"). */
const char *httpd_req_remote_addr(const struct httpd_req *req);

enum httpd_cert_state {
  HTTPD_CERT_NONE,    /* no client certificate presented (or no client CA configured) */
  HTTPD_CERT_VALID,   /* presented and verified against the client CA for client use */
  HTTPD_CERT_INVALID, /* presented but did not verify (unknown CA, expired, wrong usage) */
};

struct httpd_client_cert {
  enum httpd_cert_state state;
  const char *cn;          /* subject CommonName, "" when absent; NULL unless VALID */
  const char *const *orgs; /* subject Organization values, in order */
  size_t n_orgs;
  const char *error; /* why it is INVALID, else NULL */
};

/* The verified client certificate's identity. Borrowed; computed once per connection. */
const struct httpd_client_cert *httpd_req_client_cert(struct httpd_req *req);

/* ---- Response: exactly one per request, from the handler. ---- */

/* Adds a response header (copied). Call before responding. -EALREADY after a response;
 * -EINVAL for a name or value holding CR/LF. */
int httpd_add_header(struct httpd_req *req, const char *name, const char *value);

/* Answers with a copy of `body` (len bytes). content_type may be NULL. Returns 0,
 * -EALREADY when the request was already answered, -EIO when the connection failed. */
int httpd_respond(struct httpd_req *req, unsigned status, const char *content_type,
                  const void *body, size_t len);

/* As httpd_respond() but takes ownership of the malloc'd `body`, on failure too. */
int httpd_respond_take(struct httpd_req *req, unsigned status, const char *content_type, void *body,
                       size_t len);

/* Answers with a chunked response whose body is written later by httpd_stream_write().
 * Headers go out as soon as the handler returns. Returns the stream with one reference
 * owned by the caller (drop it with httpd_stream_unref() in any order relative to the
 * connection ending), or NULL when the request was already answered. */
struct httpd_stream *httpd_respond_stream(struct httpd_req *req, unsigned status,
                                          const char *content_type);

/* ---- Streams: every function below is thread-safe. ---- */

/* Queues `len` bytes; they are sent promptly as one chunk or more. Returns 0; -EPIPE
 * when the client is gone, the server is stopping or the stream was closed; -ENOBUFS
 * when the queue would exceed stream_queue_max: the stream is then cut off (the client
 * sees a truncated response) so a slow reader never grows memory without bound. */
int httpd_stream_write(struct httpd_stream *s, const void *data, size_t len);

/* Ends the response once the queued bytes are sent. Later writes fail with -EPIPE.
 * Idempotent. */
void httpd_stream_close(struct httpd_stream *s);

/* True once the stream can take no more data (client gone, cut off, server stopping,
 * or closed by the producer). */
bool httpd_stream_closed(const struct httpd_stream *s);

/* Sets the callback run exactly once when the stream ends for any reason (client
 * disconnect, server stop, cut off, or after httpd_stream_close() drained). It runs on
 * the connection's loop thread, never inside httpd_stream_write/close, so
 * it may take the producer's locks. If the stream already ended, it runs at once on the
 * calling thread. Set it at most once, before handing the stream to other threads. */
void httpd_stream_on_close(struct httpd_stream *s, void (*fn)(void *userdata), void *userdata);

struct httpd_stream *httpd_stream_ref(struct httpd_stream *s);
/* Drops a reference; the last one frees the stream. Accepts NULL. */
void httpd_stream_unref(struct httpd_stream *s);
