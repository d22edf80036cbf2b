#include "client/rest.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "client/conn.h"
#include "lib/strbuf.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 10000L
/* A watch line is one object; kube-apiserver caps objects at about 1.5 MB in etcd, so a
 * longer line means a broken stream, not data worth buffering. */
#define MAX_LINE (64L * 1024 * 1024)

struct rest_client {
  char *base;        /* URL prefix requests are appended to, without trailing '/' */
  char *connect_to;  /* CURLOPT_CONNECT_TO entry when tls_server_name differs, or NULL */
  char *ca_pem, *cert_pem, *key_pem;
  bool insecure;
  char *auth_header; /* "Authorization: Bearer ..." or NULL */
  char *user_agent;
  long connect_timeout_ms;

  struct conn_target *target; /* rest_do()'s transport, TLS credentials parsed once */
  pthread_mutex_t mu;
  struct conn_link **idle; /* links not in use, each keeping its keep-alive connection */
  size_t n_idle, cap_idle;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static void global_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static int map_curl_error(CURLcode rc) {
  switch (rc) {
  case CURLE_OK:
    return 0;
  case CURLE_COULDNT_CONNECT:
  case CURLE_COULDNT_RESOLVE_HOST:
    return -ECONNREFUSED;
  case CURLE_OPERATION_TIMEDOUT:
    return -ETIMEDOUT;
  case CURLE_WRITE_ERROR:
  case CURLE_ABORTED_BY_CALLBACK:
    return -ECANCELED;
  case CURLE_OUT_OF_MEMORY:
    return -ENOMEM;
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_WEIRD_SERVER_REPLY:
  case CURLE_HTTP2:
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_PARTIAL_FILE:
    return -EPROTO;
  default:
    return -EIO;
  }
}

static int set_err(char **ret_err, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int set_err(char **ret_err, int r, const char *fmt, ...) {
  if (ret_err) {
    va_list ap;
    va_start(ap, fmt);
    char *m = xvasprintf(fmt, ap);
    va_end(ap);
    free(*ret_err);
    *ret_err = m;
  }
  return r;
}

/* Splits "https://host:port/prefix" into host and port, for CURLOPT_CONNECT_TO. */
static int url_host_port(const char *url, char **ret_scheme, char **ret_host, char **ret_port) {
  CURLU *u = curl_url();
  if (!u)
    abort();
  char *scheme = NULL, *host = NULL, *port = NULL;
  int r = -EINVAL;
  if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
    *ret_scheme = xstrdup(scheme);
    *ret_host = xstrdup(host);
    *ret_port = xstrdup(port);
    r = 0;
  }
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_url_cleanup(u);
  return r;
}

int rest_client_new(const struct rest_client_config *cfg, struct rest_client **ret,
                    char **ret_err) {
  pthread_once(&global_once, global_init);
  const char *server = cfg->server;
  if (!server || !(startswith(server, "https://") || startswith(server, "http://")))
    return set_err(ret_err, -EINVAL, "server URL %s is not http(s)://", server ? server : "(none)");
  if (!cfg->cert_pem != !cfg->key_pem)
    return set_err(ret_err, -EINVAL, "a client certificate needs its key and vice versa");
  _cleanup_free_ char *scheme = NULL, *host = NULL, *port = NULL;
  if (url_host_port(server, &scheme, &host, &port) < 0)
    return set_err(ret_err, -EINVAL, "cannot parse server URL %s", server);
  struct conn_target_config tc = {
      .server = server,
      .ca_pem = cfg->ca_pem,
      .tls_server_name = cfg->tls_server_name,
      .insecure_skip_tls_verify = cfg->insecure_skip_tls_verify,
      .cert_pem = cfg->cert_pem,
      .key_pem = cfg->key_pem,
      .token = cfg->token,
      .user_agent = cfg->user_agent,
      .connect_timeout_ms = cfg->connect_timeout_ms,
      .timeout_ms = cfg->timeout_ms,
  };
  _cleanup_conn_target_ struct conn_target *target = NULL;
  _cleanup_free_ char *terr = NULL;
  int r = conn_target_new(&tc, &target, &terr);
  if (r < 0)
    return set_err(ret_err, r, "%s", terr);

  struct rest_client *c = xcalloc(1, sizeof(*c));
  c->target = TAKE_PTR(target);
  size_t n = strlen(server);
  while (n > 0 && server[n - 1] == '/')
    n--;
  c->base = xstrndup(server, n);
  if (cfg->tls_server_name && *cfg->tls_server_name && !streq(cfg->tls_server_name, host)) {
    /* curl checks the certificate against the URL's host, so the URL names the TLS server
     * name and the connection goes to the real address. */
    const char *rest = c->base + strlen(scheme) + 3;
    rest += strcspn(rest, "/");
    char *base = xasprintf("%s://%s:%s%s", scheme, cfg->tls_server_name, port, rest);
    free(c->base);
    c->base = base;
    c->connect_to = xasprintf("%s:%s:%s:%s", cfg->tls_server_name, port, host, port);
  }
  c->ca_pem = cfg->ca_pem ? xstrdup(cfg->ca_pem) : NULL;
  c->cert_pem = cfg->cert_pem ? xstrdup(cfg->cert_pem) : NULL;
  c->key_pem = cfg->key_pem ? xstrdup(cfg->key_pem) : NULL;
  c->insecure = cfg->insecure_skip_tls_verify;
  if (cfg->token && *cfg->token)
    c->auth_header = xasprintf("Authorization: Bearer %s", cfg->token);
  c->user_agent = xstrdup(cfg->user_agent ? cfg->user_agent : "ckube");
  c->connect_timeout_ms =
      cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
  pthread_mutex_init(&c->mu, NULL);
  *ret = c;
  return 0;
}

int rest_client_new_from_creds(const struct kubeconfig_creds *creds, struct rest_client **ret,
                               char **ret_err) {
  struct rest_client_config cfg = {
      .server = creds->server,
      .ca_pem = creds->ca_pem,
      .tls_server_name = creds->tls_server_name,
      .insecure_skip_tls_verify = creds->insecure_skip_tls_verify,
      .cert_pem = creds->cert_pem,
      .key_pem = creds->key_pem,
      .token = creds->token,
  };
  return rest_client_new(&cfg, ret, ret_err);
}

void rest_client_free(struct rest_client *c) {
  if (!c)
    return;
  for (size_t i = 0; i < c->n_idle; i++)
    conn_link_free(c->idle[i]);
  free(c->idle);
  conn_target_free(c->target);
  pthread_mutex_destroy(&c->mu);
  free(c->base);
  free(c->connect_to);
  free(c->ca_pem);
  free(c->cert_pem);
  free(c->key_pem);
  free(c->auth_header);
  free(c->user_agent);
  free(c);
}

const char *rest_client_server(const struct rest_client *c) { return c->base; }

static void set_blob(CURL *h, CURLoption opt, const char *pem) {
  struct curl_blob b = {.data = (void *)pem, .len = strlen(pem), .flags = CURL_BLOB_NOCOPY};
  curl_easy_setopt(h, opt, &b);
}

/* A curl handle for one stream, with the client's settings. The PEM blobs are
 * not copied: they live as long as the client. */
static CURL *handle_new(struct rest_client *c) {
  CURL *h = curl_easy_init();
  if (!h)
    abort();
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  /* One request per connection at a time, as kube-apiserver's HTTP/1.1 clients do;
   * HTTP/2 would fold a thousand watches into one connection. */
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  if (c->ca_pem)
    set_blob(h, CURLOPT_CAINFO_BLOB, c->ca_pem);
  if (c->cert_pem) {
    set_blob(h, CURLOPT_SSLCERT_BLOB, c->cert_pem);
    curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
    set_blob(h, CURLOPT_SSLKEY_BLOB, c->key_pem);
    curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
  }
  if (c->insecure) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  return h;
}

static struct conn_link *link_get(struct rest_client *c) {
  pthread_mutex_lock(&c->mu);
  struct conn_link *l = c->n_idle ? c->idle[--c->n_idle] : NULL;
  pthread_mutex_unlock(&c->mu);
  return l ? l : conn_link_new(c->target);
}

static void link_put(struct rest_client *c, struct conn_link *l) {
  pthread_mutex_lock(&c->mu);
  c->idle = xgrow(c->idle, c->n_idle, &c->cap_idle, sizeof(*c->idle));
  c->idle[c->n_idle++] = l;
  pthread_mutex_unlock(&c->mu);
}

static struct curl_slist *headers_for(struct rest_client *c, const char *content_type,
                                      const char *accept, bool has_body) {
  struct curl_slist *l = NULL;
  _cleanup_free_ char *a = xasprintf("Accept: %s", accept ? accept : "application/json");
  l = curl_slist_append(l, a);
  if (has_body) {
    _cleanup_free_ char *ct =
        xasprintf("Content-Type: %s", content_type ? content_type : "application/json");
    l = curl_slist_append(l, ct);
  }
  /* curl would otherwise wait for "100 Continue" before sending a large body. */
  l = curl_slist_append(l, "Expect:");
  if (c->auth_header)
    l = curl_slist_append(l, c->auth_header);
  if (!l)
    abort();
  return l;
}

static char *url_for(struct rest_client *c, const char *path, const char *query) {
  if (query && *query)
    return xasprintf("%s%s?%s", c->base, path, query);
  return xasprintf("%s%s", c->base, path);
}

static void set_connect_to(struct rest_client *c, CURL *h, struct curl_slist **l) {
  if (!c->connect_to)
    return;
  *l = curl_slist_append(NULL, c->connect_to);
  curl_easy_setopt(h, CURLOPT_CONNECT_TO, *l);
}

int rest_do(struct rest_client *c, const struct rest_request *req, struct rest_response *ret,
            char **ret_err) {
  if (!req->path || req->path[0] != '/')
    return set_err(ret_err, -EINVAL, "request path must start with '/'");
  struct conn_request creq = {
      .method = req->method,
      .path = req->path,
      .query = req->query,
      .body = req->body,
      .body_len = req->body_len,
      .content_type = req->content_type,
      .accept = req->accept,
      .timeout_ms = req->timeout_ms,
  };
  struct conn_response cresp = {0};
  _cleanup_free_ char *err = NULL;
  struct conn_link *l = link_get(c);
  int r = conn_do(l, &creq, &cresp, &err);
  /* A failed call leaves the link closed but reusable: it reconnects on its next use. */
  link_put(c, l);
  if (r < 0)
    return set_err(ret_err, r, "%s", err);
  *ret = (struct rest_response){.status = cresp.status,
                                .body = cresp.body,
                                .body_len = cresp.body_len,
                                .content_type = cresp.content_type};
  return 0;
}

void rest_response_clear(struct rest_response *r) {
  free(r->body);
  free(r->content_type);
  *r = (struct rest_response){0};
}

int rest_response_json(const struct rest_response *r, json_t **ret, char **ret_err) {
  if (!r->body)
    return set_err(ret_err, -EINVAL, "empty response body");
  return json_decode(r->body, r->body_len, ret, ret_err);
}

int rest_do_json(struct rest_client *c, const char *method, const char *path, const char *query,
                 const json_t *body, long *ret_status, json_t **ret_obj, char **ret_err) {
  _cleanup_free_ char *enc = body ? json_encode(body) : NULL;
  struct rest_request req = {.method = method, .path = path, .query = query, .body = enc,
                             .body_len = enc ? strlen(enc) : 0};
  _cleanup_rest_response_ struct rest_response resp = {0};
  int r = rest_do(c, &req, &resp, ret_err);
  if (r < 0)
    return r;
  *ret_status = resp.status;
  if (!ret_obj)
    return 0; /* a caller that wants only the status does not pay for decoding */
  json_t *obj = NULL;
  if (resp.body_len > 0 && json_decode(resp.body, resp.body_len, &obj, NULL) < 0)
    obj = NULL;
  *ret_obj = obj;
  return 0;
}

/* ---- streaming ---- */

struct stream {
  CURL *h;
  struct curl_slist *hdrs, *connect_to;
  char *url;
  rest_line_fn fn;
  void *userdata;
  struct strbuf line;
  long status;
  const atomic_bool *cancel; /* set by another thread to end the stream, or NULL */
  bool headers_done;
  bool stopped;  /* fn asked to stop */
  bool done;
};

static size_t stream_on_header(char *p, size_t size, size_t nmemb, void *ud) {
  struct stream *s = ud;
  size_t n = size * nmemb;
  /* The blank line ends a header block; 1xx blocks are followed by the real one. */
  if ((n == 2 && p[0] == '\r' && p[1] == '\n') || (n == 1 && p[0] == '\n')) {
    long status = 0;
    curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && !s->headers_done) {
      s->headers_done = true;
      s->status = status;
      if (s->fn(s->userdata, status, NULL, 0) != 0) {
        s->stopped = true;
        return 0;
      }
    }
  }
  return n;
}

static size_t stream_on_body(char *p, size_t size, size_t nmemb, void *ud) {
  struct stream *s = ud;
  size_t n = size * nmemb;
  size_t start = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] != '\n')
      continue;
    const char *line = p + start;
    size_t len = i - start;
    /* Copied even when whole: the callback gets a NUL-terminated line. */
    strbuf_append(&s->line, line, len);
    line = s->line.s;
    len = s->line.len;
    int r = s->fn(s->userdata, s->status, line, len);
    s->line.len = 0;
    start = i + 1;
    if (r != 0) {
      s->stopped = true;
      return 0;
    }
  }
  if (start < n) {
    if (s->line.len + (n - start) > (size_t)MAX_LINE)
      return 0;
    strbuf_append(&s->line, p + start, n - start);
  }
  return n;
}

/* curl calls this about once a second even on an idle connection, so a watch that sees no
 * events still notices the cancel flag. */
static int stream_on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                              curl_off_t ulnow) {
  (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
  struct stream *s = ud;
  if (s->cancel && atomic_load(s->cancel)) {
    s->stopped = true;
    return 1;
  }
  return 0;
}

static struct stream *stream_new(struct rest_client *c, const char *path, const char *query,
                                 long timeout_ms, rest_line_fn fn, void *userdata) {
  struct stream *s = xcalloc(1, sizeof(*s));
  s->h = handle_new(c);
  s->fn = fn;
  s->userdata = userdata;
  s->url = url_for(c, path, query);
  s->hdrs = headers_for(c, NULL, NULL, false);
  set_connect_to(c, s->h, &s->connect_to);
  curl_easy_setopt(s->h, CURLOPT_URL, s->url);
  curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, s->hdrs);
  curl_easy_setopt(s->h, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 0L);
  curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, stream_on_body);
  curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
  curl_easy_setopt(s->h, CURLOPT_HEADERFUNCTION, stream_on_header);
  curl_easy_setopt(s->h, CURLOPT_HEADERDATA, s);
  curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
  return s;
}

static void stream_free(struct stream *s) {
  if (!s)
    return;
  curl_easy_cleanup(s->h);
  curl_slist_free_all(s->hdrs);
  curl_slist_free_all(s->connect_to);
  free(s->url);
  free(s->line.s);
  free(s);
}

/* Delivers a last line the server ended without '\n'. */
static void stream_flush(struct stream *s) {
  if (s->line.len && !s->stopped) {
    if (s->fn(s->userdata, s->status, s->line.s, s->line.len) != 0)
      s->stopped = true;
    s->line.len = 0;
  }
}

int rest_stream(struct rest_client *c, const char *path, const char *query, long timeout_ms,
                rest_line_fn fn, void *userdata, char **ret_err) {
  return rest_stream_cancellable(c, path, query, timeout_ms, NULL, fn, userdata, ret_err);
}

int rest_stream_cancellable(struct rest_client *c, const char *path, const char *query,
                            long timeout_ms, const atomic_bool *cancel, rest_line_fn fn,
                            void *userdata, char **ret_err) {
  if (!path || path[0] != '/')
    return set_err(ret_err, -EINVAL, "request path must start with '/'");
  struct stream *s = stream_new(c, path, query, timeout_ms, fn, userdata);
  if (cancel) {
    s->cancel = cancel;
    curl_easy_setopt(s->h, CURLOPT_XFERINFOFUNCTION, stream_on_progress);
    curl_easy_setopt(s->h, CURLOPT_XFERINFODATA, s);
    curl_easy_setopt(s->h, CURLOPT_NOPROGRESS, 0L);
  }
  CURLcode rc = curl_easy_perform(s->h);
  int r = 0;
  if (rc == CURLE_OK)
    stream_flush(s);
  if (s->stopped)
    r = set_err(ret_err, -ECANCELED, "GET %s: stopped by the caller", s->url);
  else if (rc != CURLE_OK)
    r = set_err(ret_err, map_curl_error(rc), "GET %s: %s", s->url, curl_easy_strerror(rc));
  stream_free(s);
  return r;
}

struct rest_streams {
  struct rest_client *c;
  CURLM *multi;
  struct stream **v;
  size_t n, cap;
  size_t started;
  atomic_bool stop;
};

int rest_streams_new(struct rest_client *c, struct rest_streams **ret) {
  pthread_once(&global_once, global_init);
  CURLM *m = curl_multi_init();
  if (!m)
    return -ENOMEM;
  struct rest_streams *s = xcalloc(1, sizeof(*s));
  s->c = c;
  s->multi = m;
  atomic_init(&s->stop, false);
  *ret = s;
  return 0;
}

int rest_streams_add(struct rest_streams *s, const char *path, const char *query,
                     rest_line_fn fn, void *userdata) {
  if (!path || path[0] != '/')
    return -EINVAL;
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 16;
    s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
  }
  s->v[s->n++] = stream_new(s->c, path, query, 0, fn, userdata);
  return 0;
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int rest_streams_run(struct rest_streams *s, long timeout_ms) {
  for (; s->started < s->n; s->started++)
    if (curl_multi_add_handle(s->multi, s->v[s->started]->h) != CURLM_OK)
      s->v[s->started]->done = true;
  long deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
  int failed = 0;
  int running = 1;
  while (running > 0 && !atomic_load(&s->stop)) {
    curl_multi_perform(s->multi, &running);
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(s->multi, &left))) {
      if (msg->msg != CURLMSG_DONE)
        continue;
      struct stream *st = NULL;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&st);
      if (!st)
        continue;
      if (msg->data.result == CURLE_OK)
        stream_flush(st);
      else if (!st->stopped)
        failed++;
      st->done = true;
      curl_multi_remove_handle(s->multi, st->h);
    }
    if (running <= 0)
      break;
    long wait = 200;
    if (deadline) {
      long left_ms = deadline - now_ms();
      if (left_ms <= 0)
        break;
      if (left_ms < wait)
        wait = left_ms;
    }
    curl_multi_poll(s->multi, NULL, 0, (int)wait, NULL);
  }
  atomic_store(&s->stop, false);
  return failed;
}

void rest_streams_stop(struct rest_streams *s) {
  atomic_store(&s->stop, true);
  curl_multi_wakeup(s->multi);
}

void rest_streams_free(struct rest_streams *s) {
  if (!s)
    return;
  for (size_t i = 0; i < s->n; i++) {
    if (i < s->started && !s->v[i]->done)
      curl_multi_remove_handle(s->multi, s->v[i]->h);
    stream_free(s->v[i]);
  }
  free(s->v);
  curl_multi_cleanup(s->multi);
  free(s);
}
