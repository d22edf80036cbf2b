#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "apiserver/httpd.h"
#include "client/conn.h"
#include "lib/pki.h"

static char *dir, *ca_pem, *srv_cert, *srv_key, *named_cert, *named_key, *cli_cert, *cli_key,
    *other_ca_pem;

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms) {
  nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
}

/* ---- a real ckube httpd over TLS ---- */

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
  if (streq(path, "/big")) {
    size_t n = 3 * 1024 * 1024 + 17;
    char *b = xmalloc(n);
    for (size_t i = 0; i < n; i++)
      b[i] = (char)('a' + i % 26);
    httpd_respond_take(req, 200, "text/plain", b, n);
    return;
  }
  size_t len;
  const char *body = httpd_req_body(req, &len);
  const struct httpd_client_cert *c = httpd_req_client_cert(req);
  const char *ua = httpd_req_header(req, "User-Agent");
  const char *q = httpd_req_query(req);
  char *out = xasprintf("%s %s?%s cn=%s ua=%s body=%zu:%s", httpd_req_method(req), path, q,
                        c->cn ? c->cn : "-", ua ? ua : "-", len, body);
  httpd_respond_take(req, streq(httpd_req_method(req), "POST") ? 201 : 200, "text/plain", out,
                     strlen(out));
}

static int setup_all(void **state) {
  dir = xstrdup("/tmp/ckube-conn-XXXXXX");
  assert_non_null(mkdtemp(dir));
  _cleanup_pki_ca_ struct pki_ca *ca = NULL, *other = NULL;
  assert_int_equal(pki_ca_ensure(dir, &ca, NULL), 0);
  const char *ips[] = {"127.0.0.1", "::1"};
  struct pki_subject s = {.cn = "kube-apiserver", .ips = ips, .n_ips = 2};
  assert_int_equal(pki_ca_issue(ca, &s, true, false, 1, &srv_cert, &srv_key, NULL), 0);
  /* A certificate naming only a DNS name, for tls_server_name. */
  const char *dns[] = {"kubernetes.default.svc"};
  struct pki_subject n = {.cn = "kube-apiserver", .dns = dns, .n_dns = 1};
  assert_int_equal(pki_ca_issue(ca, &n, true, false, 1, &named_cert, &named_key, NULL), 0);
  const char *orgs[] = {"system:masters"};
  struct pki_subject admin = {.cn = "conn-admin", .orgs = orgs, .n_orgs = 1};
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
  free(named_cert);
  free(named_key);
  free(cli_cert);
  free(cli_key);
  return 0;
}

static struct httpd *start_tls(const char *bind, const char *cert, const char *key, unsigned idle) {
  struct httpd_config cfg = {.bind_address = bind,
                             .cert_pem = cert,
                             .key_pem = key,
                             .client_ca_pem = ca_pem,
                             .idle_timeout = idle,
                             .threads = 1,
                             .handler = handler};
  struct httpd *srv = NULL;
  assert_int_equal(httpd_start(&cfg, &srv, NULL), 0);
  return srv;
}

static struct conn_target *target(const struct conn_target_config *cfg) {
  struct conn_target *t = NULL;
  char *err = NULL;
  int r = conn_target_new(cfg, &t, &err);
  if (r < 0)
    fail_msg("conn_target_new: %s", err);
  return t;
}

/* Runs one request; returns conn_do()'s result with the answer in *resp. */
static int do_req(struct conn_link *l, const char *method, const char *path, const char *body,
                  struct conn_response *resp, char **ret_err) {
  conn_response_clear(resp);
  struct conn_request req = {
      .method = method, .path = path, .body = body, .body_len = body ? strlen(body) : 0};
  return conn_do(l, &req, resp, ret_err);
}

static void test_tls_requests(void **state) {
  struct httpd *srv = start_tls(NULL, srv_cert, srv_key, 1);
  _cleanup_free_ char *url = xasprintf("https://127.0.0.1:%u/", httpd_port(srv));
  struct conn_target_config cfg = {.server = url,
                                   .ca_pem = ca_pem,
                                   .cert_pem = cli_cert,
                                   .key_pem = cli_key,
                                   .user_agent = "conn-test/1"};
  _cleanup_conn_target_ struct conn_target *t = target(&cfg);
  _cleanup_conn_link_ struct conn_link *l = conn_link_new(t);
  struct conn_response resp = {0};
  char *err = NULL;

  /* A body out and a Content-Length answer back, over the client certificate. */
  assert_int_equal(do_req(l, "POST", "/x", "{\"a\":1}", &resp, &err), 0);
  assert_int_equal(resp.status, 201);
  assert_string_equal(resp.body, "POST /x? cn=conn-admin ua=conn-test/1 body=7:{\"a\":1}");
  assert_int_equal(resp.body_len, strlen(resp.body));
  assert_string_equal(resp.content_type, "text/plain");

  /* Query strings, chunked framing, an answer without a body, HEAD: one connection. */
  struct conn_request q = {.path = "/q", .query = "a=1&b=x%20y"};
  conn_response_clear(&resp);
  assert_int_equal(conn_do(l, &q, &resp, &err), 0);
  assert_string_equal(resp.body, "GET /q?a=1&b=x%20y cn=conn-admin ua=conn-test/1 body=0:");
  assert_int_equal(do_req(l, "GET", "/chunked", NULL, &resp, &err), 0);
  assert_int_equal(resp.status, 200);
  assert_string_equal(resp.body, "abcdefg");
  assert_int_equal(resp.body_len, 7);
  assert_int_equal(do_req(l, "DELETE", "/empty", NULL, &resp, &err), 0);
  assert_int_equal(resp.status, 204);
  assert_string_equal(resp.body, "");
  assert_null(resp.content_type);
  assert_int_equal(do_req(l, "HEAD", "/x", NULL, &resp, &err), 0);
  assert_int_equal(resp.status, 200);
  assert_int_equal(resp.body_len, 0);

  /* A body larger than any read buffer. */
  assert_int_equal(do_req(l, "GET", "/big", NULL, &resp, &err), 0);
  assert_int_equal(resp.body_len, 3 * 1024 * 1024 + 17);
  assert_int_equal(strlen(resp.body), resp.body_len);
  assert_int_equal(resp.body[resp.body_len - 1], 'a' + (resp.body_len - 1) % 26);

  /* Keep-alive: many requests, still the one connection. */
  for (int i = 0; i < 200; i++) {
    assert_int_equal(do_req(l, "GET", "/k", NULL, &resp, &err), 0);
    assert_int_equal(resp.status, 200);
  }
  assert_int_equal(conn_link_connects(l), 1);

  /* The server drops the idle connection: the next request reconnects by itself. */
  sleep(3);
  assert_int_equal(do_req(l, "POST", "/again", "", &resp, &err), 0);
  assert_int_equal(resp.status, 201);
  assert_string_equal(resp.body, "POST /again? cn=conn-admin ua=conn-test/1 body=0:");
  assert_int_equal(conn_link_connects(l), 2);
  conn_response_clear(&resp);
  httpd_stop(srv);
}

static void test_tls_names_and_trust(void **state) {
  struct httpd *srv = start_tls(NULL, named_cert, named_key, 0);
  _cleanup_free_ char *url = xasprintf("https://127.0.0.1:%u", httpd_port(srv));
  struct conn_response resp = {0};
  char *err = NULL;

  /* The certificate names kubernetes.default.svc, not the address dialled. */
  struct conn_target_config cfg = {.server = url, .ca_pem = ca_pem};
  _cleanup_conn_target_ struct conn_target *plain = target(&cfg);
  _cleanup_conn_link_ struct conn_link *l1 = conn_link_new(plain);
  assert_int_equal(do_req(l1, "GET", "/x", NULL, &resp, &err), -EPROTO);
  assert_non_null(strstr(err, url));
  free(TAKE_PTR(err));

  cfg.tls_server_name = "kubernetes.default.svc";
  _cleanup_conn_target_ struct conn_target *named = target(&cfg);
  _cleanup_conn_link_ struct conn_link *l2 = conn_link_new(named);
  assert_int_equal(do_req(l2, "GET", "/x", NULL, &resp, &err), 0);
  assert_int_equal(resp.status, 200);
  assert_string_equal(resp.body, "GET /x? cn=- ua=ckube body=0:");

  /* insecure-skip-tls-verify accepts the name mismatch. */
  cfg = (struct conn_target_config){.server = url, .insecure_skip_tls_verify = true};
  _cleanup_conn_target_ struct conn_target *insecure = target(&cfg);
  _cleanup_conn_link_ struct conn_link *l3 = conn_link_new(insecure);
  assert_int_equal(do_req(l3, "GET", "/x", NULL, &resp, &err), 0);
  assert_int_equal(resp.status, 200);

  /* A server certificate from another CA is refused. */
  cfg = (struct conn_target_config){
      .server = url, .ca_pem = other_ca_pem, .tls_server_name = "kubernetes.default.svc"};
  _cleanup_conn_target_ struct conn_target *wrong = target(&cfg);
  _cleanup_conn_link_ struct conn_link *l4 = conn_link_new(wrong);
  assert_int_equal(do_req(l4, "GET", "/x", NULL, &resp, &err), -EPROTO);
  assert_non_null(err);
  free(TAKE_PTR(err));
  conn_response_clear(&resp);
  httpd_stop(srv);
}

static void test_tls_ipv6(void **state) {
  struct httpd *srv = NULL;
  struct httpd_config hc = {.bind_address = "::1",
                            .cert_pem = srv_cert,
                            .key_pem = srv_key,
                            .threads = 1,
                            .handler = handler};
  if (httpd_start(&hc, &srv, NULL) < 0)
    skip(); /* no IPv6 loopback here */
  _cleanup_free_ char *url = xasprintf("https://[::1]:%u", httpd_port(srv));
  struct conn_target_config cfg = {.server = url, .ca_pem = ca_pem, .token = "tok"};
  _cleanup_conn_target_ struct conn_target *t = target(&cfg);
  _cleanup_conn_link_ struct conn_link *l = conn_link_new(t);
  struct conn_response resp = {0};
  assert_int_equal(do_req(l, "GET", "/six", NULL, &resp, NULL), 0);
  assert_int_equal(resp.status, 200);
  conn_response_clear(&resp);
  httpd_stop(srv);
}

static void test_bad_config(void **state) {
  struct conn_target *t = NULL;
  char *err = NULL;
  static const char *const bad[] = {"ftp://x",         "https://",     "https://h:0",
                                    "https://h:99999", "https://[::1", "https://u@h",
                                    "http://h:1\r\nX:"};
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
    assert_int_equal(conn_target_new(&(struct conn_target_config){.server = bad[i]}, &t, &err),
                     -EINVAL);
    free(TAKE_PTR(err));
  }
  assert_int_equal(
      conn_target_new(&(struct conn_target_config){.server = "https://h", .cert_pem = cli_cert}, &t,
                      NULL),
      -EINVAL);
  assert_int_equal(
      conn_target_new(&(struct conn_target_config){.server = "https://h", .ca_pem = "junk"}, &t,
                      &err),
      -EINVAL);
  free(TAKE_PTR(err));
  assert_null(t);
  /* TLS settings are ignored for http://. */
  assert_int_equal(
      conn_target_new(&(struct conn_target_config){.server = "http://h", .ca_pem = "junk"}, &t,
                      NULL),
      0);
  conn_target_free(t);
  conn_target_free(NULL);
  conn_link_free(NULL);
}

/* ---- a scripted plain-HTTP server for what a real server would not do ---- */

struct step {
  const char *answer; /* raw bytes; '~' marks a pause between two sends */
  bool close_after;   /* close once answered */
  bool silent;        /* read the request, answer nothing, wait for the client to leave */
};

static struct {
  int fd, port;
  pthread_t thread;
  const struct step *steps;
  size_t n_steps;
  atomic_int next;
  atomic_int accepted;
  atomic_bool stopping;
  char heads[8][1024]; /* the last requests' heads, for checks */
  atomic_int n_heads;
} raw;

static bool raw_read_request(int fd) {
  char buf[8192];
  size_t have = 0;
  for (;;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 5000) <= 0)
      return false;
    ssize_t n = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);
    if (n <= 0)
      return false;
    have += (size_t)n;
    buf[have] = '\0';
    char *end = strstr(buf, "\r\n\r\n");
    if (!end)
      continue;
    size_t head_len = (size_t)(end - buf) + 4;
    const char *cl = strcasestr(buf, "\r\nContent-Length:");
    size_t body = cl && cl < end ? (size_t)atol(cl + 17) : 0;
    while (have < head_len + body) {
      n = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);
      if (n <= 0)
        return false;
      have += (size_t)n;
    }
    int i = atomic_fetch_add(&raw.n_heads, 1) % 8;
    snprintf(raw.heads[i], sizeof(raw.heads[i]), "%.*s", (int)head_len, buf);
    return true;
  }
}

static void raw_send(int fd, const char *answer) {
  for (const char *p = answer; *p;) {
    size_t n = strcspn(p, "~");
    if (n)
      send(fd, p, n, MSG_NOSIGNAL);
    p += n;
    if (*p == '~') {
      sleep_ms(5);
      p++;
    }
  }
}

static void *raw_main(void *arg) {
  for (;;) {
    int fd = accept4(raw.fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0 || atomic_load(&raw.stopping)) {
      if (fd >= 0)
        close(fd);
      return NULL;
    }
    atomic_fetch_add(&raw.accepted, 1);
    while (raw_read_request(fd)) {
      int i = atomic_fetch_add(&raw.next, 1);
      if ((size_t)i >= raw.n_steps)
        break;
      const struct step *s = &raw.steps[i];
      if (s->silent) {
        char sink[256];
        struct pollfd p = {.fd = fd, .events = POLLIN};
        while (poll(&p, 1, 5000) > 0 && recv(fd, sink, sizeof(sink), 0) > 0)
          ;
        break;
      }
      raw_send(fd, s->answer);
      if (s->close_after)
        break;
    }
    close(fd);
  }
}

static void raw_start(const struct step *steps, size_t n) {
  raw.steps = steps;
  raw.n_steps = n;
  atomic_store(&raw.next, 0);
  atomic_store(&raw.accepted, 0);
  atomic_store(&raw.n_heads, 0);
  atomic_store(&raw.stopping, false);
  raw.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  assert_int_equal(bind(raw.fd, (struct sockaddr *)&a, sizeof(a)), 0);
  assert_int_equal(listen(raw.fd, 16), 0);
  socklen_t len = sizeof(a);
  getsockname(raw.fd, (struct sockaddr *)&a, &len);
  raw.port = ntohs(a.sin_port);
  assert_int_equal(pthread_create(&raw.thread, NULL, raw_main, NULL), 0);
}

static void raw_stop(void) {
  atomic_store(&raw.stopping, true);
  /* Wake accept() with a last connection. */
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                          .sin_port = htons((uint16_t)raw.port)};
  connect(fd, (struct sockaddr *)&a, sizeof(a));
  pthread_join(raw.thread, NULL);
  close(fd);
  close(raw.fd);
}

static const char *raw_head(int i) {
  return raw.heads[i % 8];
}

static struct conn_target *raw_target(const char *suffix, long timeout_ms) {
  _cleanup_free_ char *url = xasprintf("http://127.0.0.1:%d%s", raw.port, suffix);
  struct conn_target_config cfg = {.server = url, .token = "sekret", .timeout_ms = timeout_ms};
  return target(&cfg);
}

static void test_plain_framing(void **state) {
  static const struct step steps[] = {
      /* Content-Length split across sends, with a prefix in the URL. */
      {"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
       "11\r\n\r~\n{\"a\"~:\"bcd\"}"},
      /* An interim 100 Continue, then chunked with an extension and a trailer. */
      {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ntransfer-encoding:  Chunked \r\n\r\n"
       "3;x=y\r\nabc\r~\n0000A\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n"},
      /* HEAD: a length but no body. */
      {"HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\n"},
      /* 304 without a body. */
      {"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"},
      /* A body that ends with the connection. */
      {"HTTP/1.1 500 Oops\r\nContent-Type: text/plain\r\n\r\nuntil~ the end", .close_after = true},
      /* HTTP/1.0 without keep-alive closes too. */
      {"HTTP/1.0 201 Created\r\nContent-Length: 2\r\n\r\nok"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive, Close\r\n\r\n"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"},
  };
  raw_start(steps, ARRAY_SIZE(steps));
  _cleanup_conn_target_ struct conn_target *t = raw_target("/prefix/", 5000);
  _cleanup_conn_link_ struct conn_link *l = conn_link_new(t);
  struct conn_response resp = {0};
  char *err = NULL;

  struct conn_request get = {.path = "/api/v1/x", .query = "watch=0", .accept = "a/b"};
  assert_int_equal(conn_do(l, &get, &resp, &err), 0);
  assert_int_equal(resp.status, 200);
  assert_string_equal(resp.body, "{\"a\":\"bcd\"}");
  assert_string_equal(resp.content_type, "application/json");
  _cleanup_free_ char *host = xasprintf("\r\nHost: 127.0.0.1:%d\r\n", raw.port);
  assert_true(startswith(raw_head(0), "GET /prefix/api/v1/x?watch=0 HTTP/1.1\r\n"));
  assert_non_null(strstr(raw_head(0), host));
  assert_non_null(strstr(raw_head(0), "\r\nUser-Agent: ckube\r\n"));
  assert_non_null(strstr(raw_head(0), "\r\nAccept: a/b\r\n"));
  assert_non_null(strstr(raw_head(0), "\r\nAuthorization: Bearer sekret\r\n"));
  assert_null(strcasestr(raw_head(0), "Content-Length"));
  assert_null(strcasestr(raw_head(0), "Expect"));

  struct conn_request patch = {.method = "PATCH",
                               .path = "/p",
                               .body = "{}",
                               .body_len = 2,
                               .content_type = "application/merge-patch+json"};
  conn_response_clear(&resp);
  assert_int_equal(conn_do(l, &patch, &resp, &err), 0);
  assert_int_equal(resp.status, 200);
  assert_string_equal(resp.body, "abc0123456789");
  assert_int_equal(resp.body_len, 13);
  assert_null(resp.content_type);
  assert_non_null(strstr(raw_head(1), "\r\nContent-Type: application/merge-patch+json\r\n"));
  assert_non_null(strstr(raw_head(1), "\r\nContent-Length: 2\r\n"));
  assert_non_null(strstr(raw_head(1), "\r\nAccept: application/json\r\n"));

  assert_int_equal(do_req(l, "HEAD", "/h", NULL, &resp, &err), 0);
  assert_int_equal(resp.status, 200);
  assert_int_equal(resp.body_len, 0);
  assert_int_equal(do_req(l, "GET", "/nm", NULL, &resp, &err), 0);
  assert_int_equal(resp.status, 304);
  assert_string_equal(resp.body, "");
  assert_int_equal(conn_link_connects(l), 1);

  assert_int_equal(do_req(l, "GET", "/close", NULL, &resp, &err), 0);
  assert_int_equal(resp.status, 500);
  assert_string_equal(resp.body, "until the end");
  assert_int_equal(conn_link_connects(l), 1);

  /* A POST without a body says so with a zero length. */
  assert_int_equal(do_req(l, "POST", "/old", NULL, &resp, &err), 0);
  assert_int_equal(resp.status, 201);
  assert_string_equal(resp.body, "ok");
  assert_non_null(strstr(raw_head(5), "\r\nContent-Length: 0\r\n"));
  assert_int_equal(conn_link_connects(l), 2);
  assert_int_equal(do_req(l, "GET", "/c", NULL, &resp, &err), 0);
  assert_int_equal(do_req(l, "GET", "/d", NULL, &resp, &err), 0);
  assert_int_equal(conn_link_connects(l), 4);
  assert_int_equal(atomic_load(&raw.accepted), 4);
  conn_response_clear(&resp);
  conn_link_free(TAKE_PTR(l)); /* the server thread then sees the client leave */
  raw_stop();
}

static void test_plain_malformed(void **state) {
  static const struct step steps[] = {
      {"HTTP/2 200 OK\r\n\r\n", .close_after = true},
      {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
       .close_after = true},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", .close_after = true},
      {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", .close_after = true},
      {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
  };
  raw_start(steps, ARRAY_SIZE(steps));
  _cleanup_conn_target_ struct conn_target *t = raw_target("", 5000);
  _cleanup_conn_link_ struct conn_link *l = conn_link_new(t);
  struct conn_response resp = {.status = -7};
  char *err = NULL;
  assert_int_equal(do_req(l, "GET", "/a", NULL, &resp, &err), -EPROTO);
  assert_non_null(strstr(err, "GET http://127.0.0.1:"));
  assert_non_null(strstr(err, "/a: "));
  free(TAKE_PTR(err));
  assert_int_equal(do_req(l, "GET", "/b", NULL, &resp, &err), -EPROTO);
  free(TAKE_PTR(err));
  assert_int_equal(do_req(l, "GET", "/c", NULL, &resp, &err), -EPROTO);
  free(TAKE_PTR(err));
  /* Truncated: fresh connections are not retried. */
  assert_int_equal(do_req(l, "GET", "/d", NULL, &resp, &err), -EIO);
  free(TAKE_PTR(err));
  /* The link still works after failures. */
  assert_int_equal(do_req(l, "GET", "/e", NULL, &resp, &err), 0);
  assert_string_equal(resp.body, "ok");
  conn_response_clear(&resp);
  assert_int_equal(do_req(l, "GET", "bad", NULL, &resp, NULL), -EINVAL);
  assert_int_equal(do_req(l, "GET", "/a b", NULL, &resp, NULL), -EINVAL);
  conn_link_free(TAKE_PTR(l));
  raw_stop();
}

static void test_retry_on_reused(void **state) {
  /* Each answer claims keep-alive but the server closes right after it. */
  static const struct step steps[] = {
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1", .close_after = true},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n2", .close_after = true},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n3", .close_after = true},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n4", .close_after = true},
  };
  raw_start(steps, ARRAY_SIZE(steps));
  _cleanup_conn_target_ struct conn_target *t = raw_target("", 5000);
  _cleanup_conn_link_ struct conn_link *l = conn_link_new(t);
  struct conn_response resp = {0};
  char *err = NULL;
  assert_int_equal(do_req(l, "GET", "/1", NULL, &resp, &err), 0);
  assert_string_equal(resp.body, "1");
  /* Too soon for the idle check: the GET fails on the dead connection and is sent again. */
  sleep_ms(20);
  assert_int_equal(do_req(l, "GET", "/2", NULL, &resp, &err), 0);
  assert_string_equal(resp.body, "2");
  assert_int_equal(conn_link_connects(l), 2);
  /* A POST that may have reached the server is not repeated. */
  sleep_ms(20);
  assert_int_equal(do_req(l, "POST", "/3", "x", &resp, &err), -EIO);
  assert_non_null(err);
  free(TAKE_PTR(err));
  assert_int_equal(conn_link_connects(l), 2);
  /* After an idle pause the close is noticed before sending: the POST goes out fresh. */
  assert_int_equal(do_req(l, "POST", "/4", "y", &resp, &err), 0);
  assert_string_equal(resp.body, "3");
  sleep_ms(300);
  assert_int_equal(do_req(l, "POST", "/5", "z", &resp, &err), 0);
  assert_string_equal(resp.body, "4");
  assert_int_equal(conn_link_connects(l), 4);
  conn_response_clear(&resp);
  conn_link_free(TAKE_PTR(l)); /* the server thread then sees the client leave */
  raw_stop();
}

static void test_timeouts_and_refusal(void **state) {
  static const struct step steps[] = {
      {.silent = true},
      {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", .silent = false},
  };
  raw_start(steps, ARRAY_SIZE(steps));
  _cleanup_conn_target_ struct conn_target *t = raw_target("", 300);
  _cleanup_conn_link_ struct conn_link *l = conn_link_new(t);
  struct conn_response resp = {.status = -7};
  char *err = NULL;
  long t0 = now_ms();
  assert_int_equal(do_req(l, "GET", "/silent", NULL, &resp, &err), -ETIMEDOUT);
  long took = now_ms() - t0;
  assert_in_range(took, 250, 1500);
  assert_non_null(strstr(err, "/silent"));
  free(TAKE_PTR(err));
  assert_int_equal(do_req(l, "GET", "/ok", NULL, &resp, &err), 0);
  assert_string_equal(resp.body, "ok");
  /* A body that stops half-way: the deadline holds inside the body too. A per-request
   * timeout overrides the target's. */
  conn_response_clear(&resp);
  struct conn_request req = {.path = "/half", .timeout_ms = 200};
  t0 = now_ms();
  assert_int_equal(conn_do(l, &req, &resp, &err), -ETIMEDOUT);
  assert_in_range(now_ms() - t0, 150, 1500);
  free(TAKE_PTR(err));
  int port = raw.port;
  conn_link_free(TAKE_PTR(l));
  raw_stop();

  /* Nobody listening. */
  _cleanup_free_ char *url = xasprintf("http://127.0.0.1:%d", port);
  _cleanup_conn_target_ struct conn_target *gone =
      target(&(struct conn_target_config){.server = url});
  _cleanup_conn_link_ struct conn_link *l2 = conn_link_new(gone);
  assert_int_equal(do_req(l2, "GET", "/x", NULL, &resp, &err), -ECONNREFUSED);
  assert_non_null(strstr(err, "/x"));
  free(TAKE_PTR(err));
  /* A name that does not resolve. */
  _cleanup_conn_target_ struct conn_target *nx =
      target(&(struct conn_target_config){.server = "https://no-such-host.invalid:6443"});
  _cleanup_conn_link_ struct conn_link *l3 = conn_link_new(nx);
  resp.status = -7;
  assert_int_equal(conn_do(l3, &(struct conn_request){.path = "/x"}, &resp, &err), -ECONNREFUSED);
  free(TAKE_PTR(err));
  assert_int_equal(resp.status, -7); /* untouched on failure */
}

/* A listener whose accept queue is full drops new SYNs: connect() then hangs. */
static void test_connect_timeout(void **state) {
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
  assert_int_equal(listen(lfd, 0), 0);
  socklen_t len = sizeof(a);
  getsockname(lfd, (struct sockaddr *)&a, &len);
  int fill[4];
  for (int i = 0; i < 4; i++) {
    fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    connect(fill[i], (struct sockaddr *)&a, sizeof(a));
  }
  sleep_ms(50);
  _cleanup_free_ char *url = xasprintf("http://127.0.0.1:%d", ntohs(a.sin_port));
  _cleanup_conn_target_ struct conn_target *t =
      target(&(struct conn_target_config){.server = url, .connect_timeout_ms = 300});
  _cleanup_conn_link_ struct conn_link *l = conn_link_new(t);
  struct conn_response resp = {0};
  char *err = NULL;
  long t0 = now_ms();
  int r = do_req(l, "GET", "/x", NULL, &resp, &err);
  long took = now_ms() - t0;
  for (int i = 0; i < 4; i++)
    close(fill[i]);
  close(lfd);
  assert_int_equal(r, -ETIMEDOUT);
  assert_in_range(took, 250, 1500);
  free(err);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tls_requests),    cmocka_unit_test(test_tls_names_and_trust),
      cmocka_unit_test(test_tls_ipv6),        cmocka_unit_test(test_bad_config),
      cmocka_unit_test(test_plain_framing),   cmocka_unit_test(test_plain_malformed),
      cmocka_unit_test(test_retry_on_reused), cmocka_unit_test(test_timeouts_and_refusal),
      cmocka_unit_test(test_connect_timeout),
  };
  return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
