/* rest.h — a REST client for the Kubernetes API: the base every ckube component uses to
 * talk to an API server.
 *
 * One `struct rest_client` holds the server URL and credentials (cluster CA, client
 * certificate and key from memory, or a bearer token). Two transports serve it:
 *  - rest_do() and its helpers run over client/conn.h: a blocking keep-alive HTTP/1.1
 *    connection (GnuTLS for https://) that costs the caller little CPU per request. The
 *    client keeps a pool of them: a call borrows an idle one (or makes one) and returns
 *    it afterwards, so each concurrent caller has its own connection and sequential calls
 *    reuse it. The TLS credentials are parsed once, when the client is made.
 *  - the streaming calls (rest_stream*, rest_streams_*) run over libcurl, whose multi
 *    interface lets one thread drive many long-lived watches.
 *
 * Errors: functions return 0 or a negative errno. An HTTP error status (404, 409, 500...)
 * is not an error of the call: it is returned in the response for the caller to judge.
 * Transport failures map to -ECONNREFUSED (cannot connect), -ETIMEDOUT (timeout),
 * -EPROTO (TLS or HTTP protocol failure), -ECANCELED (a callback asked to stop), -EIO
 * (anything else); with a non-NULL ret_err the call then stores a malloc'd message.
 * Nothing here logs. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "client/kubeconfig.h"
#include "lib/json.h"
#include "lib/macro.h"

struct rest_client;

struct rest_client_config {
  const char *server;           /* "https://host:port", required */
  const char *ca_pem;           /* trust anchor for the server; NULL = system store */
  const char *tls_server_name;  /* name checked in the server certificate; NULL = host */
  bool insecure_skip_tls_verify;
  const char *cert_pem;         /* client certificate and key (PEM), both or neither */
  const char *key_pem;
  const char *token;            /* bearer token, used when set */
  const char *user_agent;       /* NULL = "ckube" */
  long timeout_ms;              /* whole-request limit for rest_do(); 0 = 60 s */
  long connect_timeout_ms;      /* 0 = 10 s */
};

/* Makes a client; the strings in `cfg` are copied. -EINVAL when server is missing or not
 * an http(s) URL, only one of cert/key is given, the CA, certificate or key PEM is
 * unusable, or the token or user agent holds a line break. Thread-safe. */
int rest_client_new(const struct rest_client_config *cfg, struct rest_client **ret,
                    char **ret_err);

/* Same, from a kubeconfig context (see kubeconfig_load()). */
int rest_client_new_from_creds(const struct kubeconfig_creds *creds, struct rest_client **ret,
                               char **ret_err);

/* Closes pooled connections and frees the client. No call may be running on it.
 * Accepts NULL. */
void rest_client_free(struct rest_client *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rest_client *, rest_client_free)
#define _cleanup_rest_client_ _cleanup_(rest_client_freep)

/* The server URL the client talks to (borrowed). */
const char *rest_client_server(const struct rest_client *c);

struct rest_request {
  const char *method;       /* "GET", "POST", "PUT", "PATCH", "DELETE"; NULL = GET */
  const char *path;         /* "/api/v1/namespaces/x/pods", required, starts with '/' */
  const char *query;        /* "labelSelector=a%3Db&limit=500" (already escaped) or NULL */
  const char *body;         /* request body or NULL */
  size_t body_len;
  const char *content_type; /* of the body; NULL = "application/json" */
  const char *accept;       /* NULL = "application/json" */
  long timeout_ms;          /* overrides the client's timeout when > 0 */
};

struct rest_response {
  long status;        /* HTTP status code */
  char *body;         /* NUL-terminated, malloc'd; "" for an empty body */
  size_t body_len;
  char *content_type; /* malloc'd, NULL when the server sent none */
};

/* Frees the response's contents (not the struct). Accepts a zeroed response. */
void rest_response_clear(struct rest_response *r);
#define _cleanup_rest_response_ _cleanup_(rest_response_clear)

/* Parses the response body as JSON: new reference in *ret. -EINVAL (with ret_err) if the
 * body is not JSON. */
int rest_response_json(const struct rest_response *r, json_t **ret, char **ret_err);

/* Performs one request and waits for the whole response. *ret is written only on
 * success (any HTTP status). Thread-safe: concurrent calls use separate connections. */
int rest_do(struct rest_client *c, const struct rest_request *req, struct rest_response *ret,
            char **ret_err);

/* Convenience over rest_do(): sends `body` (may be NULL) encoded as JSON, and parses a
 * JSON response body into *ret_obj (NULL when the body is empty or not JSON). Writes the
 * status to *ret_status. Thread-safe. */
int rest_do_json(struct rest_client *c, const char *method, const char *path, const char *query,
                 const json_t *body, long *ret_status, json_t **ret_obj, char **ret_err);

/* Called for each complete line of a streamed response body (without the '\n'; `line` is
 * NUL-terminated and valid only during the call), and first once with line == NULL when
 * the response headers are in, so the caller learns the status. A non-zero return ends
 * the stream. */
typedef int (*rest_line_fn)(void *userdata, long status, const char *line, size_t len);

/* Streams a GET (a watch: `query` typically holds "watch=1&resourceVersion=..."),
 * calling `fn` per line, until the server ends the response, `fn` returns non-zero
 * (-ECANCELED), or `timeout_ms` passes (0 = no limit; then -ETIMEDOUT). Returns 0 when the
 * server ended the stream. Blocks the calling thread; uses its own connection.
 * Thread-safe. */
int rest_stream(struct rest_client *c, const char *path, const char *query, long timeout_ms,
                rest_line_fn fn, void *userdata, char **ret_err);

/* Same, and also ends (-ECANCELED) within about a second once *cancel becomes true, even
 * when the server sends nothing: for watches another thread must be able to stop. */
int rest_stream_cancellable(struct rest_client *c, const char *path, const char *query,
                            long timeout_ms, const atomic_bool *cancel, rest_line_fn fn,
                            void *userdata, char **ret_err);

/* Many concurrent streams driven by one thread (curl multi): a thousand watches need no
 * thousand threads. Add streams, then rest_streams_run() on one thread; rest_streams_stop()
 * from any thread makes it return. Not thread-safe apart from rest_streams_stop(). */
struct rest_streams;

int rest_streams_new(struct rest_client *c, struct rest_streams **ret);

/* Queues a streaming GET; it starts at the next rest_streams_run(). `fn` as for
 * rest_stream(). 0, or -ENOMEM when curl refuses the handle. */
int rest_streams_add(struct rest_streams *s, const char *path, const char *query,
                     rest_line_fn fn, void *userdata);

/* Drives every stream until all have ended, rest_streams_stop() is called, or
 * `timeout_ms` passes (0 = no limit). Returns how many streams ended with a transport
 * error (0 when none). */
int rest_streams_run(struct rest_streams *s, long timeout_ms);

/* Makes a running rest_streams_run() return soon. Thread-safe, async-signal-unsafe. */
void rest_streams_stop(struct rest_streams *s);

/* Ends all streams and frees the set. Not while rest_streams_run() runs. Accepts NULL. */
void rest_streams_free(struct rest_streams *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rest_streams *, rest_streams_free)
#define _cleanup_rest_streams_ _cleanup_(rest_streams_freep)
