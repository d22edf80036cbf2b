#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/httpd.h"
#include "cmd/bench_conn.h"
#include "lib/pki.h"

static char *dir, *ca_pem, *srv_cert, *srv_key, *cli_cert, *cli_key, *other_ca_pem;

static void handler(struct httpd_req *req, void *userdata) {
  const char *path = httpd_req_path(req);
  if (streq(path, "/chunked")) {
    struct httpd_stream *s = httpd_respond_stream(req, 200, "application/json");
    httpd_stream_write(s, "abc", 3);
    httpd_stream_write(s, "defg", 4);
    httpd_stream_close(s);
    httpd_stream_unref(s);
    return;
  }
  if (streq(path, "/empty")) {
    httpd_respond(req, 204, NULL, NULL, 0);
    return;
  }
  size_t len;
  const char *body = httpd_req_body(req, &len);
  const struct httpd_client_cert *c = httpd_req_client_cert(req);
  char *out = xasprintf("%s %s cn=%s body=%zu:%s", httpd_req_method(req), path,
                        c->cn ? c->cn : "-", len, body);
  httpd_respond_take(req, streq(httpd_req_method(req), "POST") ? 201 : 200, "text/plain", out,
                     strlen(out));
}

static int setup_all(void **state) {
  dir = xstrdup("/tmp/ckube-bench-conn-XXXXXX");
  assert_non_null(mkdtemp(dir));
  _cleanup_pki_ca_ struct pki_ca *ca = NULL, *other = NULL;
  assert_int_equal(pki_ca_ensure(dir, &ca, NULL), 0);
  const char *ips[] = {"127.0.0.1"};
  struct pki_subject s = {.cn = "kube-apiserver", .ips = ips, .n_ips = 1};
  assert_int_equal(pki_ca_issue(ca, &s, true, false, 1, &srv_cert, &srv_key, NULL), 0);
  const char *orgs[] = {"system:masters"};
  struct pki_subject admin = {.cn = "bench-admin", .orgs = orgs, .n_orgs = 1};
  assert_int_equal(pki_ca_issue(ca, &admin, false, true, 1, &cli_cert, &cli_key, NULL), 0);
  ca_pem = xstrdup(pki_ca_cert_pem(ca));
  _cleanup_free_ char *odir = xasprintf("%s/other", dir);
  assert_int_equal(pki_ca_ensure(odir, &other, NULL), 0);
  other_ca_pem = xstrdup(pki_ca_cert_pem(other));
  return 0;
}

static int teardown_all(void **state) {
  _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
  free(dir);
  free(ca_pem);
  free(other_ca_pem);
  free(srv_cert);
  free(srv_key);
  free(cli_cert);
  free(cli_key);
  return 0;
}

static struct httpd *start(unsigned idle) {
  struct httpd_config cfg = {.cert_pem = srv_cert,
                             .key_pem = srv_key,
                             .client_ca_pem = ca_pem,
                             .idle_timeout = idle,
                             .handler = handler};
  struct httpd *srv = NULL;
  assert_int_equal(httpd_start(&cfg, &srv, NULL), 0);
  return srv;
}

static void test_requests(void **state) {
  struct httpd *srv = start(1);
  _cleanup_free_ char *url = xasprintf("https://127.0.0.1:%u", httpd_port(srv));
  struct kubeconfig_creds creds = {
      .server = url, .ca_pem = ca_pem, .cert_pem = cli_cert, .key_pem = cli_key};
  struct bench_conn *c = bench_conn_new(&creds);
  long status = 0;
  char *body = NULL, *err = NULL;

  /* A body out and a Content-Length answer back, over the client certificate. */
  assert_int_equal(bench_conn_do(c, "POST", "/x", "{\"a\":1}", 7, &status, &body, &err), 0);
  assert_int_equal(status, 201);
  assert_string_equal(body, "POST /x cn=bench-admin body=7:{\"a\":1}");
  free(body);

  /* Chunked framing, then an answer without a body, on the same connection. */
  assert_int_equal(bench_conn_do(c, "GET", "/chunked", NULL, 0, &status, &body, &err), 0);
  assert_int_equal(status, 200);
  assert_string_equal(body, "abcdefg");
  free(body);
  assert_int_equal(bench_conn_do(c, "DELETE", "/empty", NULL, 0, &status, &body, &err), 0);
  assert_int_equal(status, 204);
  assert_string_equal(body, "");
  free(body);

  /* The server drops the idle connection: the next request reconnects by itself. */
  sleep(3);
  assert_int_equal(bench_conn_do(c, "GET", "/again", NULL, 0, &status, &body, &err), 0);
  assert_int_equal(status, 200);
  assert_string_equal(body, "GET /again cn=bench-admin body=0:");
  free(body);
  bench_conn_free(c);

  /* A server certificate from another CA is refused. */
  creds.ca_pem = other_ca_pem;
  c = bench_conn_new(&creds);
  assert_int_equal(bench_conn_do(c, "GET", "/x", NULL, 0, &status, &body, &err), -EPROTO);
  assert_non_null(err);
  free(err);
  err = NULL;
  bench_conn_free(c);

  unsigned port = httpd_port(srv);
  httpd_stop(srv);
  /* Nobody listening. */
  _cleanup_free_ char *gone = xasprintf("https://127.0.0.1:%u", port);
  creds.server = gone;
  creds.ca_pem = ca_pem;
  c = bench_conn_new(&creds);
  assert_int_equal(bench_conn_do(c, "GET", "/x", NULL, 0, &status, &body, &err), -ECONNREFUSED);
  free(err);
  bench_conn_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_requests)};
  return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
