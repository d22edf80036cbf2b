/* httpd_internal.h — what the HTTPS front end's files share: the server, its loops,
 * connections, streams and requests. Not an interface: only src/apiserver/httpd*.c
 * include it. httpd.c runs the loops, connections, streams and responses;
 * httpd_req.c builds requests and answers the handler's questions about them. */
#pragma once

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <gnutls/gnutls.h>

#include "lib/http1.h"
#include "apiserver/httpd.h"
#include "lib/coro.h"
#include "lib/strbuf.h"

/* Finished coroutines (and their stacks) kept per loop for the next requests. */
#define CORO_POOL_MAX 32

struct conn;

struct incoming {
  struct incoming *next;
  int fd;
  struct sockaddr_storage addr;
};

/* One thread with its own epoll set. Connections stay on the loop that accepted them;
 * their handlers run there as coroutines, so a handler waiting for the store lets the
 * loop serve other connections meanwhile. */
struct loop {
  struct coro_sched sched; /* first: the scheduler callback finds the loop from it */
  struct httpd *srv;
  pthread_t thread;
  bool thread_started;
  int epfd, efd;

  pthread_mutex_t lock; /* guards the fields up to `stop` */
  struct coro **ready;  /* coroutines posted to be resumed */
  size_t n_ready, cap_ready;
  struct httpd_stream *dirty; /* streams with news for their connection */
  struct incoming *incoming;  /* accepted on another loop, to be served here */
  bool wake_pending;          /* efd written and not drained yet */
  bool stop;

  /* loop thread only */
  struct conn *conns;
  struct coro *pool[CORO_POOL_MAX];
  size_t n_pool;
  unsigned in_flight; /* handlers started and not finished */
  time_t last_sweep;
  time_t date_at;
  char date[40];
};

struct httpd {
  struct loop *loops;
  unsigned n_loops;
  int listen_fd;
  httpd_handler_fn handler;
  void *userdata;
  size_t max_body;
  size_t stream_queue_max;
  unsigned idle_timeout;
  unsigned max_connections;
  unsigned port;
  bool have_client_ca;
  gnutls_certificate_credentials_t cred;
  gnutls_priority_t prio;
  atomic_uint n_conns;
  atomic_uint closed_since_trim;
  atomic_uint next_loop; /* round-robin assignment of new connections */
};

struct httpd_stream {
  pthread_mutex_t lock;
  unsigned refs;
  char *buf; /* bytes written by the producer, not yet handed to the connection */
  size_t len, cap, max;
  size_t in_flight; /* the chunk handed to the connection, until its output drains */
  bool closing;  /* producer ended the stream; drain then finish */
  bool gone;     /* no more data can be delivered */
  bool finished; /* on_close has been taken */
  bool queued;   /* on its loop's dirty list */
  struct loop *loop; /* while the connection carries it; NULL after */
  void (*on_close)(void *);
  void *on_close_data;
  struct httpd_stream *dirty_next;

  struct conn *conn; /* loop thread only */
  bool ending;       /* the last chunk is queued */
};

/* Output waiting for the socket: owned bytes, sent in order. */
struct seg {
  struct seg *next;
  size_t len, off;
  char *data;
  bool owned;
};

enum conn_state {
  CS_HANDSHAKE,
  CS_READ,    /* reading a request's head or body */
  CS_HANDLER, /* its handler runs (possibly suspended) */
  CS_STREAM,  /* a streamed response is open */
  CS_CLOSING, /* flush what is queued, then close */
};

struct conn {
  struct loop *loop;
  int fd;
  gnutls_session_t tls;
  enum conn_state state;
  bool hup;          /* the peer hung up or the socket failed */
  bool dead;         /* closed while its handler was running: free when it ends */
  bool keep_alive;
  bool is_head;
  time_t waiting_since; /* waiting for a request to arrive since; 0 while one is served */
  char remote[INET6_ADDRSTRLEN];

  char *in;
  size_t in_len, in_cap;
  size_t scanned; /* bytes of `in` already known not to end a request head */
  char *raw; /* ciphertext read from the socket, not yet taken by TLS */
  size_t raw_len, raw_off;
  bool drained; /* the last read came back short: the socket is empty until the next event */
  struct seg *out, **out_tail;
  size_t tls_retry; /* a send of this many bytes of `out` returned EAGAIN: repeat it */

  struct httpd_req *req;
  bool chunked;
  struct http1_chunked chunk;
  uint64_t body_left;
  struct coro *co;
  struct httpd_stream *stream;

  bool cert_done;
  struct httpd_client_cert cert;
  char *cn;
  char **orgs;
  char *cert_error;

  struct conn *prev, *next;
};

struct param {
  char *name, *value;
};

struct header {
  char *name, *value;
};

struct httpd_req {
  struct httpd *srv;
  struct conn *conn;
  char *method;
  char *path;
  char *query;
  struct param *params;
  size_t n_params;
  const char ***value_lists;
  size_t n_value_lists;
  char *head_copy; /* the request's header names and values, NUL-separated */
  struct http1_header *req_headers;
  size_t n_req_headers;
  struct strbuf body; /* s NULL until a body byte arrives */
  bool too_large, bad_target, responded;
  struct header *headers; /* response headers */
  size_t n_headers;
};

static inline bool header_ok(const char *s) { return s && !strpbrk(s, "\r\n"); }

/* httpd_req.c */
struct httpd_req *httpd_req_new(struct conn *c, const struct http1_head *h);
void httpd_req_free(struct httpd_req *req);
/* Appends request body bytes, or only notes that the body is too large. */
void httpd_req_body_append(struct httpd_req *req, const char *data, size_t n);
/* The same as an http1_chunked_feed() emit callback (userdata: the request). */
void httpd_req_body_emit(void *userdata, const char *data, size_t n);
/* Frees the client certificate identity cached on the connection. */
void httpd_conn_cert_reset(struct conn *c);
