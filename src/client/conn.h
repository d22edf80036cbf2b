/* conn.h — a lean HTTP/1.1 client transport: one blocking keep-alive connection to an API
 * server, plain TCP or TLS (GnuTLS), for request/response calls.
 *
 * Why not libcurl: a client's own CPU per request matters when a thousand hollow nodes or
 * a load generator share the cores with the server they talk to. A link blocks in
 * send()/recv() on its socket (no poll around every read, no wake-up pipe), builds the
 * request head in one buffer, and parses only what a REST call needs from the answer:
 * the status, Content-Length or chunked framing, Connection: close and Content-Type.
 * Deadlines use SO_RCVTIMEO/SO_SNDTIMEO, re-armed only when the armed value no longer
 * fits the time left, and TLS records are read whole, so a small call normally costs one
 * send and one recv.
 *
 * Two objects:
 *  - a target: the server URL and credentials, with the TLS credentials parsed once. It
 *    is read-only after conn_target_new() and shared by any number of links on any
 *    threads.
 *  - a link: one connection to a target, used by one thread at a time. It connects on
 *    first use, keeps the connection open between calls, and reconnects when the server
 *    closed it.
 *
 * Errors: negative errno, with a malloc'd message in *ret_err when ret_err is non-NULL.
 * -ECONNREFUSED: cannot resolve or connect; -ETIMEDOUT: connect timeout or request
 * deadline passed; -EPROTO: TLS failure (handshake, certificate) or a malformed HTTP
 * answer; -EIO: anything else (the connection lost mid-answer). An HTTP error status is
 * not an error of the call. Nothing here logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "lib/macro.h"

struct conn_target;
struct conn_link;

struct conn_target_config {
  const char *server;          /* "http(s)://host[:port][/prefix]": names, IPv4, [IPv6] */
  const char *ca_pem;          /* trust anchors; NULL = the system store */
  const char *tls_server_name; /* sent as SNI and checked in the certificate; NULL = host */
  bool insecure_skip_tls_verify;
  const char *cert_pem; /* client certificate and key (PEM), both or neither */
  const char *key_pem;
  const char *token;       /* "Authorization: Bearer <token>" when set */
  const char *user_agent;  /* NULL = "ckube" */
  long connect_timeout_ms; /* TCP connect + TLS handshake; 0 = 10 s */
  long timeout_ms;         /* whole-request deadline by default; 0 = 60 s */
};

/* Parses the URL and, for https://, builds the TLS credentials. The strings are copied.
 * -EINVAL for a URL that is not http(s)://host..., a certificate without its key (or the
 * reverse), unusable PEM in ca_pem / cert_pem / key_pem. Thread-safe. */
int conn_target_new(const struct conn_target_config *cfg, struct conn_target **ret, char **ret_err);

/* Frees a target. Every link made from it must be freed first. Accepts NULL. */
void conn_target_free(struct conn_target *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct conn_target *, conn_target_free)
#define _cleanup_conn_target_ _cleanup_(conn_target_freep)

/* A link to `t` (borrowed: it must outlive the link). No I/O happens until conn_do().
 * Never fails. */
struct conn_link *conn_link_new(const struct conn_target *t);

/* Closes the connection and frees the link. Accepts NULL. */
void conn_link_free(struct conn_link *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct conn_link *, conn_link_free)
#define _cleanup_conn_link_ _cleanup_(conn_link_freep)

/* How many TCP connections the link has opened so far (reconnects included). */
unsigned long conn_link_connects(const struct conn_link *l);

struct conn_request {
  const char *method; /* NULL = "GET"; "HEAD" answers carry no body */
  const char *path;   /* starts with '/', appended to the URL's prefix; required */
  const char *query;  /* already escaped, without '?'; NULL or "" = none */
  const char *body;   /* NULL = no body (and no Content-Type / Content-Length) */
  size_t body_len;
  const char *content_type; /* of the body; NULL = "application/json" */
  const char *accept;       /* NULL = "application/json" */
  long timeout_ms;          /* whole-request deadline; 0 = the target's */
};

struct conn_response {
  long status; /* of the final answer: 1xx interim answers are skipped */
  char *body;  /* malloc'd, NUL-terminated; "" when there is none */
  size_t body_len;
  char *content_type; /* malloc'd value of Content-Type, NULL when absent */
};

/* Frees the response's contents (not the struct). Accepts a zeroed response. */
void conn_response_clear(struct conn_response *r);

/* Sends one request on `l` and reads the whole answer into *ret (written only on
 * success). Bodies framed by Content-Length, chunked coding, or the end of the connection
 * are read; answers to HEAD and 204 / 304 answers have none.
 *
 * A connection that sat idle is first checked for a close by the server. When a request
 * still fails on a reused connection before any byte of the answer arrived, it is sent
 * again once on a fresh connection if that cannot repeat its effect, as Go's net/http
 * decides: the request was not completely sent, or its method is GET, HEAD, OPTIONS or
 * TRACE.
 *
 * After a failure the connection is closed; the link stays usable. Errors as described
 * at the top; the message names the method and URL. Not thread-safe per link. */
int conn_do(struct conn_link *l, const struct conn_request *req, struct conn_response *ret,
            char **ret_err);
