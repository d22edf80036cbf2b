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
#include <sys/socket.h>
#include <time.h>

#include "client/rest.h"

/* A small HTTP/1.1 server on a loopback port, one thread per connection, answering by
 * path:
 *   /echo          200, a JSON object describing the request, keep-alive
 *   /status/N      status N with a Status body
 *   /stream        lines sent in awkward fragments, then the connection closes
 *   /hold          one line, then holds the connection until the client leaves
 *   /slow          answers nothing for 3 s */
struct fake_server {
  int fd;
  int port;
  pthread_t thread;
  atomic_int connections;
  atomic_bool stopping;
};

static struct fake_server srv;

static void send_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0)
      return;
    p += w;
    n -= (size_t)w;
  }
}

static char *header_value(const char *head, const char *name) {
  size_t nl = strlen(name);
  for (const char *p = strstr(head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
    const char *h = p + 2;
    if (strncasecmp(h, name, nl) == 0 && h[nl] == ':') {
      const char *v = h + nl + 1;
      while (*v == ' ')
        v++;
      return xstrndup(v, strcspn(v, "\r\n"));
    }
  }
  return NULL;
}

/* Reads one request (headers and Content-Length body); returns false at EOF. */
static bool read_request(int fd, char **ret_head, char **ret_body) {
  static __thread char buf[65536];
  static __thread size_t have;
  for (;;) {
    char *end = memmem(buf, have, "\r\n\r\n", 4);
    if (end) {
      size_t head_len = (size_t)(end - buf) + 4;
      char *head = xstrndup(buf, head_len);
      _cleanup_free_ char *cl = header_value(head, "Content-Length");
      size_t body_len = cl ? (size_t)atol(cl) : 0;
      while (have < head_len + body_len) {
        ssize_t r = recv(fd, buf + have, sizeof(buf) - have, 0);
        if (r <= 0) {
          free(head);
          return false;
        }
        have += (size_t)r;
      }
      *ret_head = head;
      *ret_body = xstrndup(buf + head_len, body_len);
      memmove(buf, buf + head_len + body_len, have - head_len - body_len);
      have -= head_len + body_len;
      return true;
    }
    if (have == sizeof(buf))
      return false;
    ssize_t r = recv(fd, buf + have, sizeof(buf) - have, 0);
    if (r <= 0)
      return false;
    have += (size_t)r;
  }
}

static void respond(int fd, int status, const char *ctype, const char *body, bool close_after) {
  _cleanup_free_ char *head =
      xasprintf("HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s\r\n", status,
                ctype, strlen(body), close_after ? "Connection: close\r\n" : "");
  send_all(fd, head, strlen(head));
  send_all(fd, body, strlen(body));
}

static void *conn_main(void *p) {
  int fd = (int)(intptr_t)p;
  char *head, *body;
  while (read_request(fd, &head, &body)) {
    char method[16] = "", target[512] = "";
    sscanf(head, "%15s %511s", method, target);
    char *q = strchr(target, '?');
    if (q)
      *q++ = 0;
    bool keep = true;
    if (streq(target, "/echo")) {
      _cleanup_free_ char *ct = header_value(head, "Content-Type");
      _cleanup_free_ char *auth = header_value(head, "Authorization");
      _cleanup_free_ char *accept = header_value(head, "Accept");
      _cleanup_json_ json_t *o = json_pack("{s:s,s:s,s:s*,s:s,s:s*,s:s*,s:s*}", "method", method,
                                           "path", target, "query", q, "body", body,
                                           "contentType", ct, "auth", auth, "accept", accept);
      _cleanup_free_ char *enc = json_encode(o);
      respond(fd, 200, "application/json", enc, false);
    } else if (startswith(target, "/status/")) {
      _cleanup_free_ char *b = xasprintf(
          "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"code\":%s}",
          target + 8);
      respond(fd, atoi(target + 8), "application/json", b, false);
    } else if (streq(target, "/stream")) {
      static const char *const parts[] = {"{\"n\":1}\n{\"n\"", ":2}\n", "{\"n\":3}\n{\"n\":4}\n",
                                          "{\"n\":", "5}"};
      const char *h = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      "Connection: close\r\n\r\n";
      send_all(fd, h, strlen(h));
      for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
        send_all(fd, parts[i], strlen(parts[i]));
        nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
      }
      keep = false;
    } else if (streq(target, "/hold")) {
      const char *h = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      "Connection: close\r\n\r\n{\"type\":\"ADDED\"}\n";
      send_all(fd, h, strlen(h));
      struct pollfd pfd = {.fd = fd, .events = POLLIN};
      char sink[256];
      while (poll(&pfd, 1, 5000) > 0 && recv(fd, sink, sizeof(sink), 0) > 0)
        ;
      keep = false;
    } else if (streq(target, "/slow")) {
      struct pollfd pfd = {.fd = fd, .events = POLLIN};
      char sink[256];
      while (poll(&pfd, 1, 3000) > 0 && recv(fd, sink, sizeof(sink), 0) > 0)
        ;
      keep = false;
    } else {
      respond(fd, 404, "text/plain", "not found", false);
    }
    free(head);
    free(body);
    if (!keep)
      break;
  }
  close(fd);
  return NULL;
}

static void *accept_main(void *p) {
  for (;;) {
    int fd = accept4(srv.fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0 || atomic_load(&srv.stopping)) {
      if (fd >= 0)
        close(fd);
      return NULL;
    }
    atomic_fetch_add(&srv.connections, 1);
    pthread_t t;
    pthread_create(&t, NULL, conn_main, (void *)(intptr_t)fd);
    pthread_detach(t);
  }
}

static int group_setup(void **state) {
  srv.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(srv.fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(srv.fd, 128) < 0)
    return -1;
  socklen_t len = sizeof(a);
  getsockname(srv.fd, (struct sockaddr *)&a, &len);
  srv.port = ntohs(a.sin_port);
  pthread_create(&srv.thread, NULL, accept_main, NULL);
  return 0;
}

static int group_teardown(void **state) {
  atomic_store(&srv.stopping, true);
  /* Wake accept() with a last connection, then join. */
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                          .sin_port = htons((uint16_t)srv.port)};
  connect(fd, (struct sockaddr *)&a, sizeof(a));
  pthread_join(srv.thread, NULL);
  close(fd);
  close(srv.fd);
  return 0;
}

static struct rest_client *client(const char *token) {
  _cleanup_free_ char *url = xasprintf("http://127.0.0.1:%d/", srv.port);
  struct rest_client_config cfg = {.server = url, .token = token, .timeout_ms = 5000};
  struct rest_client *c = NULL;
  assert_int_equal(rest_client_new(&cfg, &c, NULL), 0);
  return c;
}

static void test_config_errors(void **state) {
  struct rest_client *c = NULL;
  char *err = NULL;
  struct rest_client_config cfg = {.server = "ftp://x"};
  assert_int_equal(rest_client_new(&cfg, &c, &err), -EINVAL);
  assert_non_null(strstr(err, "ftp://x"));
  free(TAKE_PTR(err));
  cfg = (struct rest_client_config){.server = NULL};
  assert_int_equal(rest_client_new(&cfg, &c, NULL), -EINVAL);
  cfg = (struct rest_client_config){.server = "https://127.0.0.1:6443", .cert_pem = "x"};
  assert_int_equal(rest_client_new(&cfg, &c, &err), -EINVAL);
  free(TAKE_PTR(err));
  assert_null(c);

  cfg = (struct rest_client_config){.server = "https://127.0.0.1:6443///"};
  assert_int_equal(rest_client_new(&cfg, &c, NULL), 0);
  assert_string_equal(rest_client_server(c), "https://127.0.0.1:6443");
  rest_client_free(TAKE_PTR(c));

  /* A TLS server name different from the address: the URL carries the name. */
  cfg = (struct rest_client_config){.server = "https://127.0.0.1:6443/prefix",
                                    .tls_server_name = "kubernetes"};
  assert_int_equal(rest_client_new(&cfg, &c, NULL), 0);
  assert_string_equal(rest_client_server(c), "https://kubernetes:6443/prefix");
  rest_client_free(c);
  rest_client_free(NULL);
}

static void test_from_creds(void **state) {
  _cleanup_free_ char *url = xasprintf("http://127.0.0.1:%d", srv.port);
  struct kubeconfig_creds creds = {.server = url, .token = "abc"};
  _cleanup_rest_client_ struct rest_client *c = NULL;
  assert_int_equal(rest_client_new_from_creds(&creds, &c, NULL), 0);
  long status = 0;
  _cleanup_json_ json_t *o = NULL;
  assert_int_equal(rest_do_json(c, "GET", "/echo", NULL, NULL, &status, &o, NULL), 0);
  assert_string_equal(json_string_value(json_object_get(o, "auth")), "Bearer abc");
}

static void test_methods_and_body(void **state) {
  _cleanup_rest_client_ struct rest_client *c = client("tok");
  static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
  for (size_t i = 0; i < ARRAY_SIZE(methods); i++) {
    bool with_body = !streq(methods[i], "GET");
    struct rest_request req = {.method = methods[i],
                               .path = "/echo",
                               .query = "a=1&b=x%20y",
                               .body = with_body ? "{\"x\":1}" : NULL,
                               .body_len = with_body ? 7 : 0,
                               .content_type = streq(methods[i], "PATCH")
                                                   ? "application/merge-patch+json"
                                                   : NULL};
    _cleanup_rest_response_ struct rest_response resp = {0};
    assert_int_equal(rest_do(c, &req, &resp, NULL), 0);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.content_type, "application/json");
    _cleanup_json_ json_t *o = NULL;
    assert_int_equal(rest_response_json(&resp, &o, NULL), 0);
    assert_string_equal(json_string_value(json_object_get(o, "method")), methods[i]);
    assert_string_equal(json_string_value(json_object_get(o, "path")), "/echo");
    assert_string_equal(json_string_value(json_object_get(o, "query")), "a=1&b=x%20y");
    assert_string_equal(json_string_value(json_object_get(o, "auth")), "Bearer tok");
    assert_string_equal(json_string_value(json_object_get(o, "accept")), "application/json");
    if (with_body) {
      assert_string_equal(json_string_value(json_object_get(o, "body")), "{\"x\":1}");
      assert_string_equal(json_string_value(json_object_get(o, "contentType")),
                          streq(methods[i], "PATCH") ? "application/merge-patch+json"
                                                     : "application/json");
    } else {
      assert_string_equal(json_string_value(json_object_get(o, "body")), "");
      assert_null(json_object_get(o, "contentType"));
    }
  }
  /* A body-less DELETE after a PUT must not resend the old body. */
  long status = 0;
  _cleanup_json_ json_t *o = NULL;
  assert_int_equal(rest_do_json(c, "DELETE", "/echo", NULL, NULL, &status, &o, NULL), 0);
  assert_string_equal(json_string_value(json_object_get(o, "method")), "DELETE");
  assert_string_equal(json_string_value(json_object_get(o, "body")), "");
}

static void test_json_helper(void **state) {
  _cleanup_rest_client_ struct rest_client *c = client(NULL);
  _cleanup_json_ json_t *body = json_pack("{s:s}", "kind", "ConfigMap");
  long status = 0;
  _cleanup_json_ json_t *o = NULL;
  assert_int_equal(rest_do_json(c, "POST", "/echo", NULL, body, &status, &o, NULL), 0);
  assert_int_equal(status, 200);
  assert_string_equal(json_string_value(json_object_get(o, "body")), "{\"kind\":\"ConfigMap\"}");
  assert_null(json_object_get(o, "auth"));

  /* HTTP errors are responses, not call failures. */
  _cleanup_json_ json_t *st = NULL;
  assert_int_equal(rest_do_json(c, "GET", "/status/409", NULL, NULL, &status, &st, NULL), 0);
  assert_int_equal(status, 409);
  assert_int_equal(json_integer_value(json_object_get(st, "code")), 409);
  _cleanup_json_ json_t *nf = NULL;
  assert_int_equal(rest_do_json(c, "GET", "/nothing", NULL, NULL, &status, &nf, NULL), 0);
  assert_int_equal(status, 404);
  assert_null(nf); /* "not found" is not JSON */

  _cleanup_rest_response_ struct rest_response resp = {0};
  assert_int_equal(rest_do(c, &(struct rest_request){.path = "/nothing"}, &resp, NULL), 0);
  json_t *bad = NULL;
  char *err = NULL;
  assert_int_equal(rest_response_json(&resp, &bad, &err), -EINVAL);
  assert_non_null(err);
  free(err);
  assert_int_equal(rest_do(c, &(struct rest_request){.path = "relative"}, &resp, NULL), -EINVAL);
}

static void test_keepalive_reuse(void **state) {
  _cleanup_rest_client_ struct rest_client *c = client(NULL);
  int before = atomic_load(&srv.connections);
  for (int i = 0; i < 20; i++) {
    long status = 0;
    assert_int_equal(rest_do_json(c, "GET", "/echo", NULL, NULL, &status, NULL, NULL), 0);
    assert_int_equal(status, 200);
  }
  assert_int_equal(atomic_load(&srv.connections) - before, 1);
}

struct par {
  struct rest_client *c;
  int ok;
};

static void *par_main(void *p) {
  struct par *w = p;
  for (int i = 0; i < 25; i++) {
    long status = 0;
    _cleanup_json_ json_t *o = NULL;
    if (rest_do_json(w->c, "GET", "/echo", NULL, NULL, &status, &o, NULL) == 0 && status == 200)
      w->ok++;
  }
  return NULL;
}

static void test_concurrent(void **state) {
  _cleanup_rest_client_ struct rest_client *c = client(NULL);
  int before = atomic_load(&srv.connections);
  struct par ws[4] = {{c, 0}, {c, 0}, {c, 0}, {c, 0}};
  pthread_t t[4];
  for (int i = 0; i < 4; i++)
    pthread_create(&t[i], NULL, par_main, &ws[i]);
  for (int i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(ws[i].ok, 25);
  }
  /* At most one connection per concurrent caller. */
  assert_in_range(atomic_load(&srv.connections) - before, 1, 4);
}

static void test_transport_errors(void **state) {
  /* A port nobody listens on: bind one, then close it. */
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bind(fd, (struct sockaddr *)&a, sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, (struct sockaddr *)&a, &len);
  close(fd);
  _cleanup_free_ char *url = xasprintf("http://127.0.0.1:%d", ntohs(a.sin_port));
  _cleanup_rest_client_ struct rest_client *c = NULL;
  assert_int_equal(rest_client_new(&(struct rest_client_config){.server = url}, &c, NULL), 0);
  struct rest_response resp = {.status = -7};
  char *err = NULL;
  assert_int_equal(rest_do(c, &(struct rest_request){.path = "/x"}, &resp, &err),
                   -ECONNREFUSED);
  assert_int_equal(resp.status, -7); /* untouched on failure */
  assert_non_null(strstr(err, "/x"));
  free(err);

  _cleanup_rest_client_ struct rest_client *c2 = client(NULL);
  assert_int_equal(
      rest_do(c2, &(struct rest_request){.path = "/slow", .timeout_ms = 200}, &resp, NULL),
      -ETIMEDOUT);
  /* The client is still usable after a failed call. */
  long status = 0;
  assert_int_equal(rest_do_json(c2, "GET", "/echo", NULL, NULL, &status, NULL, NULL), 0);
  assert_int_equal(status, 200);
}

struct lines {
  int opened;
  long status;
  int n;
  char got[8][32];
  int stop_after;
};

static int on_line(void *ud, long status, const char *line, size_t len) {
  struct lines *l = ud;
  if (!line) {
    l->opened++;
    l->status = status;
    return 0;
  }
  assert_int_equal(strlen(line), len);
  if (l->n < 8)
    snprintf(l->got[l->n], sizeof(l->got[0]), "%s", line);
  l->n++;
  return l->stop_after && l->n >= l->stop_after;
}

static void test_stream_lines(void **state) {
  _cleanup_rest_client_ struct rest_client *c = client(NULL);
  struct lines l = {0};
  assert_int_equal(rest_stream(c, "/stream", "watch=1", 5000, on_line, &l, NULL), 0);
  assert_int_equal(l.opened, 1);
  assert_int_equal(l.status, 200);
  assert_int_equal(l.n, 5);
  assert_string_equal(l.got[0], "{\"n\":1}");
  assert_string_equal(l.got[1], "{\"n\":2}");
  assert_string_equal(l.got[3], "{\"n\":4}");
  assert_string_equal(l.got[4], "{\"n\":5}"); /* unterminated last line */

  struct lines s = {.stop_after = 2};
  assert_int_equal(rest_stream(c, "/stream", NULL, 5000, on_line, &s, NULL), -ECANCELED);
  assert_int_equal(s.n, 2);

  struct lines h = {0};
  assert_int_equal(rest_stream(c, "/hold", NULL, 300, on_line, &h, NULL), -ETIMEDOUT);
  assert_int_equal(h.n, 1);
  assert_string_equal(h.got[0], "{\"type\":\"ADDED\"}");
}

struct stopper {
  struct rest_streams *s;
  struct lines *ls;
  int n;
};

static void *stop_main(void *p) {
  struct stopper *st = p;
  /* Stop once every held stream has delivered its line. */
  for (int i = 0; i < 500; i++) {
    int done = 0;
    for (int j = 0; j < st->n; j++)
      done += __atomic_load_n(&st->ls[j].n, __ATOMIC_SEQ_CST) > 0;
    if (done == st->n)
      break;
    nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
  }
  rest_streams_stop(st->s);
  return NULL;
}

static void test_streams_many(void **state) {
  _cleanup_rest_client_ struct rest_client *c = client(NULL);
  _cleanup_rest_streams_ struct rest_streams *s = NULL;
  assert_int_equal(rest_streams_new(c, &s), 0);
  struct lines ls[6] = {0};
  for (int i = 0; i < 3; i++)
    assert_int_equal(rest_streams_add(s, "/stream", NULL, on_line, &ls[i]), 0);
  assert_int_equal(rest_streams_add(s, "bad", NULL, on_line, &ls[0]), -EINVAL);
  /* Streams that end by themselves: run returns when all are done. */
  assert_int_equal(rest_streams_run(s, 5000), 0);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(ls[i].opened, 1);
    assert_int_equal(ls[i].n, 5);
    assert_string_equal(ls[i].got[4], "{\"n\":5}");
  }

  /* Streams that never end: rest_streams_stop() from another thread. */
  for (int i = 3; i < 6; i++)
    assert_int_equal(rest_streams_add(s, "/hold", NULL, on_line, &ls[i]), 0);
  struct stopper st = {.s = s, .ls = &ls[3], .n = 3};
  pthread_t t;
  pthread_create(&t, NULL, stop_main, &st);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  assert_int_equal(rest_streams_run(s, 10000), 0);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  pthread_join(t, NULL);
  assert_true(t1.tv_sec - t0.tv_sec < 5);
  for (int i = 3; i < 6; i++)
    assert_int_equal(ls[i].n, 1);

  /* And the bounded run ends on its timeout. */
  assert_int_equal(rest_streams_run(s, 100), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_config_errors),   cmocka_unit_test(test_from_creds),
      cmocka_unit_test(test_methods_and_body), cmocka_unit_test(test_json_helper),
      cmocka_unit_test(test_keepalive_reuse), cmocka_unit_test(test_concurrent),
      cmocka_unit_test(test_transport_errors), cmocka_unit_test(test_stream_lines),
      cmocka_unit_test(test_streams_many),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
