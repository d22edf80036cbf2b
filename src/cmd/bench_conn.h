/* bench_conn.h — one keep-alive HTTPS/1.1 connection for the API benchmark's load phases.
 *
 * The benchmark runs on the same cores as the server it measures, so its own cost per
 * request matters: this client blocks in send()/recv() on one socket (no poll, no
 * wake-up pipes, no per-request handle set-up) and parses only what a load generator
 * needs: the status, Content-Length or chunked framing, and Connection: close. TLS is
 * GnuTLS, with the kubeconfig's CA (or none when insecure-skip-tls-verify), client
 * certificate or bearer token. One connection serves one thread. */
#pragma once

#include <stddef.h>

#include "client/kubeconfig.h"

struct bench_conn;

/* A connection to creds->server (https://host:port); it connects on first use and again
 * after the server closed it. The creds must outlive the connection. */
struct bench_conn *bench_conn_new(const struct kubeconfig_creds *creds);
void bench_conn_free(struct bench_conn *c);

/* Sends one request (body may be NULL) and reads the whole answer: *ret_status and the
 * body (malloc'd, NUL-terminated) in *ret_body. A request that fails on a reused
 * connection is retried once on a new one. Returns 0 or a negative errno (-ECONNREFUSED,
 * -EPROTO for a TLS or framing failure, -EIO) with a message in *ret_err. */
int bench_conn_do(struct bench_conn *c, const char *method, const char *path, const char *body,
                  size_t body_len, long *ret_status, char **ret_body, char **ret_err);
