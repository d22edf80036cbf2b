#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include <curl/curl.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "apiserver/authn.h"
#include "apiserver/httpd.h"
#include "lib/pki.h"

/* ---- fixtures: one CA, a serving pair, a client pair, a foreign client pair ---- */

static char *dir;
static char *ca_pem, *srv_cert, *srv_key, *cli_cert, *cli_key, *bad_cert, *bad_key;
static struct authn_tokens *tokens;

#define MAX_STREAMS 256

static struct {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  struct httpd_stream *streams[MAX_STREAMS];
  int n_streams;
  int closed;
  size_t last_body_len;
  bool last_too_large;
} st = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_stream_close(void *data) {
  pthread_mutex_lock(&st.lock);
  st.closed++;
  pthread_cond_broadcast(&st.cond);
  pthread_mutex_unlock(&st.lock);
}

static void handler(struct httpd_req *req, void *userdata) {
  const char *path = httpd_req_path(req);
  if (streq(path, "/stream")) {
    struct httpd_stream *s = httpd_respond_stream(req, 200, "application/json");
    assert_non_null(s);
    httpd_stream_on_close(s, on_stream_close, NULL);
    pthread_mutex_lock(&st.lock);
    assert_true(st.n_streams < MAX_STREAMS);
    st.streams[st.n_streams++] = s;
    pthread_cond_broadcast(&st.cond);
    pthread_mutex_unlock(&st.lock);
    return;
  }
  if (streq(path, "/noanswer"))
    return;
  if (streq(path, "/upload")) {
    size_t len;
    httpd_req_body(req, &len);
    pthread_mutex_lock(&st.lock);
    st.last_body_len = len;
    st.last_too_large = httpd_req_body_too_large(req);
    pthread_mutex_unlock(&st.lock);
    if (httpd_req_body_too_large(req))
      httpd_respond(req, 413, "text/plain", "too large", 9);
    else
      httpd_respond(req, 201, "text/plain", "ok", 2);
    return;
  }
  /* Echo what the request looked like, one fact per line. */
  const struct httpd_client_cert *c = httpd_req_client_cert(req);
  const char *const *cmds = NULL;
  size_t n_cmds = httpd_req_query_values(req, "command", &cmds);
  size_t blen;
  const char *body = httpd_req_body(req, &blen);
  struct authn_user *user = NULL;
  _cleanup_free_ char *uerr = NULL;
  int ar = authn_request(tokens, req, &user, &uerr);
  const char *a = httpd_req_query_value(req, "a");
  const char *hdr = httpd_req_header(req, "x-TEST");
  _cleanup_free_ char *out =
      xasprintf("method=%s\npath=%s\nquery=%s\na=%s\ncommands=%zu:%s,%s\nheader=%s\nbody=%zu:%s\n"
                "cert=%d:%s:%zu:%s\nremote=%s\nuser=%d:%s:%zu\n",
                httpd_req_method(req), path, httpd_req_query(req), a ? a : "(null)", n_cmds,
                n_cmds > 0 ? cmds[0] : "", n_cmds > 1 ? cmds[1] : "", hdr ? hdr : "(null)", blen,
                body, c->state, c->cn ? c->cn : "", c->n_orgs, c->n_orgs ? c->orgs[0] : "",
                httpd_req_remote_addr(req), ar, user ? user->name : (uerr ? uerr : ""),
                user ? user->n_groups : 0);
  authn_user_free(user);
  assert_int_equal(httpd_add_header(req, "X-Reply", "yes"), 0);
  assert_int_equal(httpd_add_header(req, "Bad", "a\r\nb"), -EINVAL);
  size_t out_len = strlen(out);
  assert_int_equal(httpd_respond_take(req, 200, "text/plain", TAKE_PTR(out), out_len), 0);
  assert_int_equal(httpd_respond(req, 500, NULL, "x", 1), -EALREADY);
  assert_int_equal(httpd_add_header(req, "Late", "x"), -EALREADY);
}

static int setup_all(void **state) {
  dir = xstrdup("/tmp/ckube-httpd-XXXXXX");
  assert_non_null(mkdtemp(dir));
  _cleanup_pki_ca_ struct pki_ca *ca = NULL, *other = NULL;
  assert_int_equal(pki_ca_ensure(dir, &ca, NULL), 0);
  const char *ips[] = {"127.0.0.1"};
  const char *dns[] = {"localhost"};
  struct pki_subject s = {.cn = "kube-apiserver", .ips = ips, .n_ips = 1, .dns = dns, .n_dns = 1};
  assert_int_equal(pki_ca_issue(ca, &s, true, false, 1, &srv_cert, &srv_key, NULL), 0);
  const char *orgs[] = {"system:masters", "team-a"};
  struct pki_subject admin = {.cn = "system:admin", .orgs = orgs, .n_orgs = 2};
  assert_int_equal(pki_ca_issue(ca, &admin, false, true, 1, &cli_cert, &cli_key, NULL), 0);
  ca_pem = xstrdup(pki_ca_cert_pem(ca));
  _cleanup_free_ char *odir = xasprintf("%s/other", dir);
  assert_int_equal(pki_ca_ensure(odir, &other, NULL), 0);
  assert_int_equal(pki_ca_issue(other, &admin, false, true, 1, &bad_cert, &bad_key, NULL), 0);
  const char csv[] = "secret-token,alice,uid-1,\"dev,ops\"\n";
  assert_int_equal(authn_tokens_parse(csv, sizeof(csv) - 1, "tokens.csv", &tokens, NULL), 0);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  return 0;
}

static int teardown_all(void **state) {
  _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
  free(dir);
  free(ca_pem);
  free(srv_cert);
  free(srv_key);
  free(cli_cert);
  free(cli_key);
  free(bad_cert);
  free(bad_key);
  authn_tokens_free(tokens);
  curl_global_cleanup();
  return 0;
}

static struct httpd *start_idle(size_t max_body, size_t queue_max, unsigned idle) {
  struct httpd_config cfg = {.cert_pem = srv_cert,
                             .key_pem = srv_key,
                             .client_ca_pem = ca_pem,
                             .max_body = max_body,
                             .stream_queue_max = queue_max,
                             .idle_timeout = idle,
                             .handler = handler};
  struct httpd *srv = NULL;
  char *err = NULL;
  int r = httpd_start(&cfg, &srv, &err);
  if (r < 0)
    fail_msg("httpd_start: %s", err);
  pthread_mutex_lock(&st.lock);
  st.n_streams = 0;
  st.closed = 0;
  pthread_mutex_unlock(&st.lock);
  return srv;
}

static struct httpd *start(size_t max_body, size_t queue_max) {
  return start_idle(max_body, queue_max, 0);
}

static int count_fds(void) {
  int n = 0;
  for (int fd = 0; fd < 4096; fd++)
    n += fcntl(fd, F_GETFD) >= 0;
  return n;
}

struct buf {
  char *data;
  size_t len;
  int chunks;
  double first_at;
  size_t abort_after; /* return an error after this many bytes; 0 = never */
  pthread_mutex_t *lock;
  pthread_cond_t *cond;
};

static size_t on_data(char *p, size_t size, size_t n, void *userdata) {
  struct buf *b = userdata;
  if (b->lock)
    pthread_mutex_lock(b->lock);
  b->data = xrealloc(b->data, b->len + n + 1);
  memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  b->chunks++;
  if (b->lock) {
    pthread_cond_broadcast(b->cond);
    pthread_mutex_unlock(b->lock);
  }
  if (b->abort_after && b->len >= b->abort_after)
    return 0;
  return n;
}

static CURL *client(unsigned port, const char *path, const char *cert, const char *key,
                    struct buf *b) {
  CURL *c = curl_easy_init();
  _cleanup_free_ char *url = xasprintf("https://127.0.0.1:%u%s", port, path);
  curl_easy_setopt(c, CURLOPT_URL, url);
  struct curl_blob cab = {.data = ca_pem, .len = strlen(ca_pem), .flags = CURL_BLOB_COPY};
  curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &cab);
  if (cert) {
    struct curl_blob cb = {.data = (void *)cert, .len = strlen(cert), .flags = CURL_BLOB_COPY};
    struct curl_blob kb = {.data = (void *)key, .len = strlen(key), .flags = CURL_BLOB_COPY};
    curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &cb);
    curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &kb);
    curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
  }
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  return c;
}

static long status_of(CURL *c) {
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  return code;
}

static void test_plain_query_headers(void **state) {
  struct httpd *srv = start(0, 0);
  struct buf b = {0};
  CURL *c = client(httpd_port(srv), "/echo/a%20b+c?x=1&a=hello+world%21&command=ls&command=-l&a=2",
                   NULL, NULL, &b);
  struct curl_slist *h = curl_slist_append(NULL, "X-Test: value 1");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  assert_int_equal(curl_easy_perform(c), CURLE_OK);
  assert_int_equal(status_of(c), 200);
  assert_non_null(strstr(b.data, "method=GET\n"));
  assert_non_null(strstr(b.data, "path=/echo/a b+c\n"));
  assert_non_null(strstr(b.data, "query=x=1&a=hello+world%21&command=ls&command=-l&a=2\n"));
  assert_non_null(strstr(b.data, "a=hello world!\n"));
  assert_non_null(strstr(b.data, "commands=2:ls,-l\n"));
  assert_non_null(strstr(b.data, "header=value 1\n"));
  assert_non_null(strstr(b.data, "cert=0::0:\n"));
  assert_non_null(strstr(b.data, "remote=127.0.0.1\n"));
  assert_non_null(strstr(b.data, "user=0:system:anonymous:1\n"));
  char *ct = NULL;
  curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
  assert_string_equal(ct, "text/plain");
  curl_slist_free_all(h);
  free(b.data);

  /* Second request on the same handle reuses the connection (keep-alive), with a body. */
  b = (struct buf){0};
  long port1 = 0, port2 = 0;
  curl_easy_getinfo(c, CURLINFO_LOCAL_PORT, &port1);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{\"kind\":\"Pod\"}");
  assert_int_equal(curl_easy_perform(c), CURLE_OK);
  long connects = -1;
  curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
  curl_easy_getinfo(c, CURLINFO_LOCAL_PORT, &port2);
  assert_int_equal(connects, 0);
  assert_int_equal(port1, port2);
  assert_non_null(strstr(b.data, "method=POST\n"));
  assert_non_null(strstr(b.data, "body=14:{\"kind\":\"Pod\"}\n"));
  free(b.data);

  /* HEAD: headers only. */
  b = (struct buf){0};
  curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  assert_int_equal(curl_easy_perform(c), CURLE_OK);
  assert_int_equal(status_of(c), 200);
  assert_int_equal(b.len, 0);
  curl_easy_cleanup(c);
  httpd_stop(srv);
}

static void test_errors(void **state) {
  int fds = count_fds();
  struct httpd *srv = start(0, 0);
  struct buf b = {0};
  CURL *c = client(httpd_port(srv), "/noanswer", NULL, NULL, &b);
  assert_int_equal(curl_easy_perform(c), CURLE_OK);
  assert_int_equal(status_of(c), 500);
  curl_easy_cleanup(c);
  free(b.data);
  b = (struct buf){0};
  c = client(httpd_port(srv), "/bad%zzescape", NULL, NULL, &b);
  assert_int_equal(curl_easy_perform(c), CURLE_OK);
  assert_int_equal(status_of(c), 400);
  curl_easy_cleanup(c);
  free(b.data);

  /* The port is taken: a second server there fails cleanly. */
  struct httpd_config cfg = {
      .cert_pem = srv_cert, .key_pem = srv_key, .port = httpd_port(srv), .handler = handler};
  struct httpd *srv2 = NULL;
  char *err = NULL;
  assert_int_equal(httpd_start(&cfg, &srv2, &err), -EADDRINUSE);
  free(err);
  err = NULL;
  cfg.port = 0;
  cfg.key_pem = "not a key";
  assert_int_equal(httpd_start(&cfg, &srv2, &err), -EINVAL);
  assert_non_null(err);
  free(err);
  cfg.key_pem = srv_key;
  cfg.bind_address = "nowhere";
  assert_int_equal(httpd_start(&cfg, &srv2, NULL), -EINVAL);
  httpd_stop(srv);
  assert_int_equal(count_fds(), fds);
}

static void test_body_limit(void **state) {
  struct httpd *srv = start(1024 * 1024, 0);
  size_t big = 3 * 1024 * 1024 + 512 * 1024;
  char *payload = xmalloc(big + 1);
  memset(payload, 'x', big);
  payload[big] = '\0';
  struct buf b = {0};
  CURL *c = client(httpd_port(srv), "/upload", NULL, NULL, &b);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload);
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)big);
  assert_int_equal(curl_easy_perform(c), CURLE_OK);
  assert_int_equal(status_of(c), 413);
  pthread_mutex_lock(&st.lock);
  assert_true(st.last_too_large);
  assert_int_equal(st.last_body_len, 0);
  pthread_mutex_unlock(&st.lock);

  /* Chunked upload without a Content-Length: caught while streaming in. */
  struct curl_slist *h = curl_slist_append(NULL, "Transfer-Encoding: chunked");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  assert_int_equal(curl_easy_perform(c), CURLE_OK);
  assert_int_equal(status_of(c), 413);

  /* The connection survives and a small body still fits. */
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)1000);
  assert_int_equal(curl_easy_perform(c), CURLE_OK);
  assert_int_equal(status_of(c), 201);
  pthread_mutex_lock(&st.lock);
  assert_false(st.last_too_large);
  assert_int_equal(st.last_body_len, 1000);
  pthread_mutex_unlock(&st.lock);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  free(payload);
  free(b.data);
  httpd_stop(srv);
}

static void test_client_cert_and_token(void **state) {
  struct httpd *srv = start(0, 0);
  struct buf b = {0};
  CURL *c = client(httpd_port(srv), "/who", cli_cert, cli_key, &b);
  assert_int_equal(curl_easy_perform(c), CURLE_OK);
  assert_non_null(strstr(b.data, "cert=1:system:admin:2:system:masters\n"));
  assert_non_null(strstr(b.data, "user=0:system:admin:3\n"));
  curl_easy_cleanup(c);
  free(b.data);

  b = (struct buf){0};
  c = client(httpd_port(srv), "/who", bad_cert, bad_key, &b);
  assert_int_equal(curl_easy_perform(c), CURLE_OK);
  assert_non_null(strstr(b.data, "cert=2::0:\n"));
  assert_non_null(strstr(b.data, "user=-13:"));
  curl_easy_cleanup(c);
  free(b.data);

  b = (struct buf){0};
  c = client(httpd_port(srv), "/who", NULL, NULL, &b);
  struct curl_slist *h = curl_slist_append(NULL, "Authorization: Bearer secret-token");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  assert_int_equal(curl_easy_perform(c), CURLE_OK);
  assert_non_null(strstr(b.data, "cert=0::0:\n"));
  assert_non_null(strstr(b.data, "user=0:alice:3\n"));
  free(b.data);
  b = (struct buf){0};
  curl_slist_free_all(h);
  h = curl_slist_append(NULL, "Authorization: Bearer wrong");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  assert_int_equal(curl_easy_perform(c), CURLE_OK);
  assert_non_null(strstr(b.data, "user=-13:invalid bearer token:0\n"));
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  free(b.data);
  httpd_stop(srv);
}

/* ---- streams ---- */

struct stream_client {
  pthread_t thread;
  CURL *c;
  struct buf b;
  CURLcode rc;
  long status;
  pthread_mutex_t lock;
  pthread_cond_t cond;
};

static void *stream_client_main(void *arg) {
  struct stream_client *sc = arg;
  sc->rc = curl_easy_perform(sc->c);
  curl_easy_getinfo(sc->c, CURLINFO_RESPONSE_CODE, &sc->status);
  return NULL;
}

static void stream_client_start(struct stream_client *sc, unsigned port, size_t abort_after) {
  pthread_mutex_init(&sc->lock, NULL);
  pthread_cond_init(&sc->cond, NULL);
  sc->b = (struct buf){.abort_after = abort_after, .lock = &sc->lock, .cond = &sc->cond};
  sc->c = client(port, "/stream", NULL, NULL, &sc->b);
  assert_int_equal(pthread_create(&sc->thread, NULL, stream_client_main, sc), 0);
}

static void stream_client_join(struct stream_client *sc) {
  pthread_join(sc->thread, NULL);
  curl_easy_cleanup(sc->c);
  free(sc->b.data);
  pthread_mutex_destroy(&sc->lock);
  pthread_cond_destroy(&sc->cond);
}

/* Waits until the client has received `len` bytes; returns the seconds it took. */
static double wait_bytes(struct stream_client *sc, size_t len) {
  double t0 = now_s();
  pthread_mutex_lock(&sc->lock);
  while (sc->b.len < len && now_s() - t0 < 5) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 10 * 1000 * 1000;
    if (ts.tv_nsec >= 1000000000) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&sc->cond, &sc->lock, &ts);
  }
  assert_true(sc->b.len >= len);
  pthread_mutex_unlock(&sc->lock);
  return now_s() - t0;
}

static void wait_streams(int n) {
  double t0 = now_s();
  pthread_mutex_lock(&st.lock);
  while (st.n_streams < n && now_s() - t0 < 20) {
    pthread_mutex_unlock(&st.lock);
    usleep(5000);
    pthread_mutex_lock(&st.lock);
  }
  assert_int_equal(st.n_streams, n);
  pthread_mutex_unlock(&st.lock);
}

static void wait_closed(int n) {
  double t0 = now_s();
  pthread_mutex_lock(&st.lock);
  while (st.closed < n && now_s() - t0 < 10) {
    pthread_mutex_unlock(&st.lock);
    usleep(5000);
    pthread_mutex_lock(&st.lock);
  }
  assert_int_equal(st.closed, n);
  pthread_mutex_unlock(&st.lock);
}

struct producer {
  struct httpd_stream *s;
  int n;
};

static void *produce(void *arg) {
  struct producer *p = arg;
  for (int i = 0; i < p->n; i++) {
    char ev[64];
    int len = snprintf(ev, sizeof(ev), "{\"type\":\"ADDED\",\"n\":%d}\n", i);
    assert_int_equal(httpd_stream_write(p->s, ev, (size_t)len), 0);
    usleep(20 * 1000);
  }
  return NULL;
}

static void test_stream_prompt(void **state) {
  struct httpd *srv = start(0, 0);
  struct stream_client sc;
  stream_client_start(&sc, httpd_port(srv), 0);
  wait_streams(1);
  struct httpd_stream *s = st.streams[0];

  /* Each event from another thread reaches the client at once, not batched. */
  struct producer p = {.s = s, .n = 1};
  pthread_t t;
  pthread_create(&t, NULL, produce, &p);
  pthread_join(t, NULL);
  size_t ev_len = strlen("{\"type\":\"ADDED\",\"n\":0}\n");
  assert_true(wait_bytes(&sc, ev_len) < 0.5);
  for (int i = 1; i <= 3; i++) {
    char ev[64];
    int len = snprintf(ev, sizeof(ev), "{\"type\":\"MODIFIED\",\"n\":%d}\n", i);
    size_t before = sc.b.len;
    assert_int_equal(httpd_stream_write(s, ev, (size_t)len), 0);
    assert_true(wait_bytes(&sc, before + (size_t)len) < 0.5);
  }
  assert_false(httpd_stream_closed(s));
  assert_int_equal(httpd_stream_write(s, "last\n", 5), 0);
  httpd_stream_close(s);
  assert_int_equal(httpd_stream_write(s, "x", 1), -EPIPE);
  pthread_join(sc.thread, NULL);
  sc.thread = 0;
  assert_int_equal(sc.rc, CURLE_OK);
  assert_int_equal(sc.status, 200);
  assert_non_null(strstr(sc.b.data, "\"n\":3}\nlast\n"));
  wait_closed(1);
  httpd_stream_unref(s);
  curl_easy_cleanup(sc.c);
  free(sc.b.data);
  httpd_stop(srv);
}

static void test_stream_client_disconnect(void **state) {
  struct httpd *srv = start(0, 0);
  for (int round = 0; round < 10; round++) {
    pthread_mutex_lock(&st.lock);
    st.n_streams = 0;
    st.closed = 0;
    pthread_mutex_unlock(&st.lock);
    struct stream_client sc;
    stream_client_start(&sc, httpd_port(srv), 10);
    wait_streams(1);
    struct httpd_stream *s = st.streams[0];
    /* The producer keeps writing while the client goes away under it. */
    int r = 0, writes = 0;
    double t0 = now_s();
    while (r == 0 && now_s() - t0 < 5) {
      r = httpd_stream_write(s, "0123456789abcdef\n", 17);
      writes++;
      if (round % 2)
        usleep(1000);
    }
    assert_int_equal(r, -EPIPE);
    assert_true(httpd_stream_closed(s));
    wait_closed(1);
    assert_int_equal(httpd_stream_write(s, "x", 1), -EPIPE);
    /* Late registration runs at once. */
    httpd_stream_on_close(s, on_stream_close, NULL);
    wait_closed(2);
    pthread_join(sc.thread, NULL);
    assert_int_not_equal(sc.rc, CURLE_OK);
    if (round % 2)
      httpd_stream_unref(s);
    else
      httpd_stream_unref(httpd_stream_ref(s)), httpd_stream_unref(s);
    curl_easy_cleanup(sc.c);
    free(sc.b.data);
    pthread_mutex_destroy(&sc.lock);
    pthread_cond_destroy(&sc.cond);
  }
  httpd_stop(srv);
}

static void test_stream_idle_disconnect_noticed(void **state) {
  /* No writes at all: the hang-up alone ends the stream. */
  struct httpd *srv = start(0, 0);
  struct stream_client sc;
  stream_client_start(&sc, httpd_port(srv), 1);
  wait_streams(1);
  struct httpd_stream *s = st.streams[0];
  assert_int_equal(httpd_stream_write(s, "hello\n", 6), 0);
  wait_closed(1);
  assert_true(httpd_stream_closed(s));
  assert_int_equal(httpd_stream_write(s, "x", 1), -EPIPE);
  httpd_stream_unref(s);
  stream_client_join(&sc);
  httpd_stop(srv);
}

static void test_stream_overflow(void **state) {
  struct httpd *srv = start(0, 64 * 1024);
  struct stream_client sc;
  stream_client_start(&sc, httpd_port(srv), 0);
  wait_streams(1);
  struct httpd_stream *s = st.streams[0];
  assert_int_equal(httpd_stream_write(s, "ok\n", 3), 0);
  wait_bytes(&sc, 3);
  char *big = xcalloc(1, 65 * 1024);
  assert_int_equal(httpd_stream_write(s, big, 65 * 1024), -ENOBUFS);
  assert_true(httpd_stream_closed(s));
  assert_int_equal(httpd_stream_write(s, "x", 1), -EPIPE);
  wait_closed(1);
  pthread_join(sc.thread, NULL);
  assert_int_not_equal(sc.rc, CURLE_OK);
  free(big);
  httpd_stream_unref(s);
  curl_easy_cleanup(sc.c);
  free(sc.b.data);
  httpd_stop(srv);
}

static void test_many_idle_streams_then_stop(void **state) {
  enum { N = 200 };
  struct httpd *srv = start(0, 0);
  CURLM *m = curl_multi_init();
  CURL *easy[N];
  struct buf bufs[N];
  for (int i = 0; i < N; i++) {
    bufs[i] = (struct buf){0};
    easy[i] = client(httpd_port(srv), "/stream", NULL, NULL, &bufs[i]);
    curl_easy_setopt(easy[i], CURLOPT_TIMEOUT, 60L);
    curl_multi_add_handle(m, easy[i]);
  }
  int running = 0;
  double t0 = now_s();
  for (;;) {
    curl_multi_perform(m, &running);
    pthread_mutex_lock(&st.lock);
    int n = st.n_streams;
    pthread_mutex_unlock(&st.lock);
    if (n == N || now_s() - t0 > 30)
      break;
    curl_multi_poll(m, NULL, 0, 20, NULL);
  }
  wait_streams(N);
  assert_int_equal(running, N);
  /* Every stream still delivers. */
  for (int i = 0; i < N; i++)
    assert_int_equal(httpd_stream_write(st.streams[i], "ev\n", 3), 0);
  t0 = now_s();
  for (;;) {
    curl_multi_perform(m, &running);
    int got = 0;
    for (int i = 0; i < N; i++)
      got += bufs[i].len == 3;
    if (got == N || now_s() - t0 > 10)
      break;
    curl_multi_poll(m, NULL, 0, 20, NULL);
  }
  for (int i = 0; i < N; i++)
    assert_int_equal(bufs[i].len, 3);

  /* Stop with all of them open: callbacks run, writes fail, stop returns. */
  t0 = now_s();
  httpd_stop(srv);
  assert_true(now_s() - t0 < 5);
  wait_closed(N);
  for (int i = 0; i < N; i++) {
    assert_true(httpd_stream_closed(st.streams[i]));
    assert_int_equal(httpd_stream_write(st.streams[i], "x", 1), -EPIPE);
    httpd_stream_unref(st.streams[i]);
  }
  t0 = now_s();
  while (running > 0 && now_s() - t0 < 10) {
    curl_multi_perform(m, &running);
    curl_multi_poll(m, NULL, 0, 20, NULL);
  }
  assert_int_equal(running, 0);
  for (int i = 0; i < N; i++) {
    curl_multi_remove_handle(m, easy[i]);
    curl_easy_cleanup(easy[i]);
    free(bufs[i].data);
  }
  curl_multi_cleanup(m);
}

/* Idle keep-alive connections are closed after the idle timeout; streams are exempt. */
static void test_idle_timeout(void **state) {
  struct httpd *srv = start_idle(0, 0, 1);
  struct buf b = {0};
  CURL *c = client(httpd_port(srv), "/echo", NULL, NULL, &b);
  assert_int_equal(curl_easy_perform(c), CURLE_OK);
  sleep(3);
  assert_int_equal(curl_easy_perform(c), CURLE_OK);
  long connects = 0;
  curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
  assert_int_equal(connects, 1);
  curl_easy_cleanup(c);
  free(b.data);

  struct stream_client sc;
  stream_client_start(&sc, httpd_port(srv), 0);
  wait_streams(1);
  sleep(3);
  assert_false(httpd_stream_closed(st.streams[0]));
  assert_int_equal(httpd_stream_write(st.streams[0], "late\n", 5), 0);
  wait_bytes(&sc, 5);
  httpd_stream_close(st.streams[0]);
  httpd_stream_unref(st.streams[0]);
  pthread_join(sc.thread, NULL);
  assert_int_equal(sc.rc, CURLE_OK);
  curl_easy_cleanup(sc.c);
  free(sc.b.data);
  httpd_stop(srv);
}


/* ---- raw framing: a TLS client that sends exactly the bytes given ---- */

struct raw {
  int fd;
  gnutls_session_t s;
  gnutls_certificate_credentials_t cred;
};

static void raw_open(struct raw *r, unsigned port) {
  r->fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  assert_int_equal(connect(r->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
  assert_int_equal(gnutls_certificate_allocate_credentials(&r->cred), 0);
  assert_int_equal(gnutls_init(&r->s, GNUTLS_CLIENT), 0);
  gnutls_set_default_priority(r->s);
  gnutls_credentials_set(r->s, GNUTLS_CRD_CERTIFICATE, r->cred);
  gnutls_transport_set_int(r->s, r->fd);
  struct timeval tv = {10, 0};
  setsockopt(r->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  int rc;
  do
    rc = gnutls_handshake(r->s);
  while (rc < 0 && !gnutls_error_is_fatal(rc));
  assert_int_equal(rc, 0);
}

static void raw_send(struct raw *r, const char *data, size_t len) {
  while (len > 0) {
    ssize_t n = gnutls_record_send(r->s, data, len);
    assert_true(n > 0);
    data += n;
    len -= (size_t)n;
  }
}

/* Everything the server sends until it closes the connection or `until` appears
 * `count` times. */
static char *raw_read(struct raw *r, const char *until, int count) {
  size_t cap = 1 << 16, len = 0;
  char *out = xmalloc(cap);
  for (;;) {
    out[len] = '\0';
    if (until) {
      int seen = 0;
      for (const char *p = out; (p = strstr(p, until)); p++)
        seen++;
      if (seen >= count)
        break;
    }
    if (cap - len < 4096)
      out = xrealloc(out, cap *= 2);
    ssize_t n = gnutls_record_recv(r->s, out + len, cap - len - 1);
    if (n <= 0)
      break;
    len += (size_t)n;
  }
  return out;
}

static void raw_close(struct raw *r) {
  gnutls_deinit(r->s);
  gnutls_certificate_free_credentials(r->cred);
  close(r->fd);
}

/* One exchange on a fresh connection: the whole answer, up to the server's close. */
static char *raw_exchange(unsigned port, const char *req) {
  struct raw r;
  raw_open(&r, port);
  raw_send(&r, req, strlen(req));
  char *out = raw_read(&r, NULL, 0);
  raw_close(&r);
  return out;
}

static void test_framing(void **state) {
  struct httpd *srv = start(0, 0);
  unsigned port = httpd_port(srv);

  /* Pipelined requests are answered in order on one connection; HEAD has no body. */
  struct raw r;
  raw_open(&r, port);
  const char pipe[] = "GET /one?a=1 HTTP/1.1\r\nHost: x\r\n\r\n"
                      "POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                      "HEAD /three HTTP/1.1\r\nHost: x\r\n\r\n"
                      "POST /four HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: x\r\n\r\n";
  raw_send(&r, pipe, sizeof(pipe) - 1);
  _cleanup_free_ char *out = raw_read(&r, "HTTP/1.1 200 OK", 4);
  /* the fourth answer's body may still be on its way: read up to its last line */
  if (!strstr(out, "path=/four") || !strstr(strstr(out, "path=/four"), "user="))
    out = (free(out), raw_read(&r, "user=", 3));
  const char *one = strstr(out, "path=/one"), *two = strstr(out, "path=/two");
  const char *three = strstr(out, "Content-Length"), *four = strstr(out, "path=/four");
  assert_non_null(one);
  assert_non_null(two);
  assert_non_null(three);
  assert_non_null(four);
  assert_true(one < two && two < four);
  assert_non_null(strstr(two, "body=5:hello"));
  assert_non_null(strstr(four, "body=5:abcde"));
  /* the HEAD answer: headers only, so the third "method=" line is the chunked POST's */
  assert_null(strstr(out, "method=HEAD"));
  assert_non_null(strstr(out, "Date: "));
  raw_close(&r);

  /* 100-continue: the server invites the body, then answers. */
  raw_open(&r, port);
  const char cont[] = "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                      "Expect: 100-continue\r\n\r\n";
  raw_send(&r, cont, sizeof(cont) - 1);
  _cleanup_free_ char *c1 = raw_read(&r, "\r\n\r\n", 1);
  assert_true(startswith(c1, "HTTP/1.1 100 Continue\r\n\r\n"));
  raw_send(&r, "data", 4);
  _cleanup_free_ char *c2 = raw_read(&r, "ok", 1);
  assert_non_null(strstr(c2, "HTTP/1.1 201 Created"));
  raw_close(&r);

  /* Malformed framing: the status kube's Go server would give, and the connection ends. */
  static const struct {
    const char *req;
    const char *status;
  } bad[] = {
      {"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", "HTTP/1.1 400 "},
      {"GET / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", "HTTP/1.1 400 "},
      {"GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "HTTP/1.1 501 "},
      {"GET / HTTP/2.0\r\n\r\n", "HTTP/1.1 505 "},
      {"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "HTTP/1.1 400 "},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    _cleanup_free_ char *o = raw_exchange(port, bad[i].req);
    assert_true(startswith(o, bad[i].status));
    assert_non_null(strstr(o, "Connection: close"));
  }

  /* A head that never ends: 431 once it passes 64 KiB, sent a little at a time. */
  raw_open(&r, port);
  raw_send(&r, "GET / HTTP/1.1\r\n", 16);
  char line[1024];
  memset(line, 'a', sizeof(line));
  memcpy(line, "X-Fill: ", 8);
  line[sizeof(line) - 2] = '\r';
  line[sizeof(line) - 1] = '\n';
  for (int i = 0; i < 80; i++)
    raw_send(&r, line, sizeof(line));
  _cleanup_free_ char *big = raw_read(&r, NULL, 0);
  assert_true(startswith(big, "HTTP/1.1 431 "));
  raw_close(&r);
  httpd_stop(srv);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plain_query_headers),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_body_limit),
      cmocka_unit_test(test_client_cert_and_token),
      cmocka_unit_test(test_stream_prompt),
      cmocka_unit_test(test_stream_client_disconnect),
      cmocka_unit_test(test_stream_idle_disconnect_noticed),
      cmocka_unit_test(test_stream_overflow),
      cmocka_unit_test(test_many_idle_streams_then_stop),
      cmocka_unit_test(test_idle_timeout),
      cmocka_unit_test(test_framing),
  };
  return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
