/* robust_client — misbehaving and massed HTTPS clients for tests/e2e/robustness.sh.
 *
 * Usage: robust_client MODE PORT TLSDIR ARGS...   (always 127.0.0.1; TLSDIR holds ca.crt,
 * admin.crt and admin.key)
 *
 *   watch N PATH MARKER COUNT TIMEOUT
 *       Opens N watches on PATH, prints "connected K" (K = answered 200), then reads every
 *       stream until each has carried COUNT occurrences of MARKER in its de-chunked body,
 *       or TIMEOUT seconds pass; prints "events K/N min=A max=B". Then keeps reading until
 *       stdin says "close" (or ends), resets every connection at once and exits.
 *   stuck N PATH
 *       Opens N watches with a tiny receive buffer and never reads them. Prints
 *       "connected K". When stdin says "drain", reads each stream until it ends or stays
 *       silent for 10 s and prints one line per stream:
 *       "stream I bytes=B end=cut|complete|open" (cut: closed without the final chunk).
 *   slowloris N INTERVAL_MS DURATION
 *       Opens N connections and sends a request header one byte per INTERVAL_MS per
 *       connection (0: send a partial header once, then stay silent) for up to DURATION
 *       seconds. Prints "connected K", then "closed C/N first=T1 last=T2" (seconds after
 *       start at which the server closed connections; -1 when none).
 *   midbody N HOLD
 *       N times: sends a POST whose Content-Length promises 1 MiB, sends 1000 bytes of
 *       it, waits HOLD seconds, and resets the connection. Prints "midbody N".
 *   midstream N PATH
 *       N times: opens a watch, reads its first bytes, and resets the connection.
 *       Prints "midstream K" (K = streams that answered 200).
 *
 * Every connection has 10 s send/receive timeouts while connecting, so the tool never
 * hangs on a dead server; exit status 0 unless setup failed. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

struct conn {
  int fd;
  SSL *ssl;
  bool ok;       /* connected and request sent */
  bool headers;  /* response headers parsed */
  int status;    /* HTTP status */
  bool closed;   /* server ended the connection */
  bool complete; /* final chunk seen */
  char hbuf[8192];
  size_t hlen;
  /* chunked decoding */
  int cstate; /* 0 size line, 1 data, 2 CRLF after data, 3 done */
  char sizeline[32];
  size_t slen;
  size_t remaining;
  size_t body_bytes;
  /* marker counting across chunk boundaries */
  char carry[128];
  size_t carry_len;
  long markers;
  /* slowloris */
  size_t sent;
  double closed_at;
};

static SSL_CTX *ctx;
static unsigned short port;
static struct conn *conns;
static size_t n_conns;
static const char *req_text;
static int rcvbuf;
static const char *marker = "";
static size_t marker_len;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *msg) {
  fprintf(stderr, "robust_client: %s\n", msg);
  exit(2);
}

static void reset_close(struct conn *c) {
  if (c->fd < 0)
    return;
  struct linger l = {.l_onoff = 1, .l_linger = 0};
  setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  SSL_free(c->ssl);
  c->ssl = NULL;
  close(c->fd);
  c->fd = -1;
}

/* Blocking connect + handshake; sends `len` bytes of `text` (all when len = -1). */
static bool open_conn(struct conn *c, const char *text, ssize_t len) {
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->fd < 0)
    return false;
  if (rcvbuf > 0)
    setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  struct timeval tv = {.tv_sec = 10};
  setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
    goto fail;
  c->ssl = SSL_new(ctx);
  if (!c->ssl)
    goto fail;
  SSL_set_fd(c->ssl, c->fd);
  if (SSL_connect(c->ssl) != 1)
    goto fail;
  size_t n = len < 0 ? strlen(text) : (size_t)len;
  if (n > 0 && SSL_write(c->ssl, text, (int)n) != (int)n)
    goto fail;
  c->sent = n;
  c->ok = true;
  return true;
fail:
  reset_close(c);
  return false;
}

static void set_nonblock(struct conn *c) {
  if (c->fd >= 0)
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
}

struct slice {
  size_t from, to;
  ssize_t len;
};

static void *open_slice(void *arg) {
  struct slice *s = arg;
  for (size_t i = s->from; i < s->to; i++)
    open_conn(&conns[i], req_text, s->len);
  return NULL;
}

/* Opens every connection with a few threads: the server does one handshake per
 * connection thread, so parallel clients keep both cores busy. */
static size_t open_all(ssize_t len) {
  enum { THREADS = 8 };
  pthread_t th[THREADS];
  struct slice sl[THREADS];
  size_t per = (n_conns + THREADS - 1) / THREADS;
  for (int t = 0; t < THREADS; t++) {
    sl[t].from = (size_t)t * per < n_conns ? (size_t)t * per : n_conns;
    sl[t].to = sl[t].from + per < n_conns ? sl[t].from + per : n_conns;
    sl[t].len = len;
    pthread_create(&th[t], NULL, open_slice, &sl[t]);
  }
  for (int t = 0; t < THREADS; t++)
    pthread_join(th[t], NULL);
  size_t ok = 0;
  for (size_t i = 0; i < n_conns; i++) {
    ok += conns[i].ok;
    set_nonblock(&conns[i]);
  }
  return ok;
}

static void count_markers(struct conn *c, const char *data, size_t n) {
  if (!marker_len)
    return;
  /* Search carry+data, keep the last marker_len-1 bytes for the next piece. */
  size_t total = c->carry_len + n;
  char *buf = malloc(total + 1);
  if (!buf)
    die("out of memory");
  memcpy(buf, c->carry, c->carry_len);
  memcpy(buf + c->carry_len, data, n);
  for (size_t i = 0; i + marker_len <= total; i++)
    if (memcmp(buf + i, marker, marker_len) == 0) {
      c->markers++;
      i += marker_len - 1;
    }
  size_t keep = marker_len - 1 < total ? marker_len - 1 : total;
  memcpy(c->carry, buf + total - keep, keep);
  c->carry_len = keep;
  free(buf);
}

static void body_feed(struct conn *c, const char *p, size_t n) {
  while (n > 0 && c->cstate != 3) {
    if (c->cstate == 0) {
      char ch = *p++;
      n--;
      if (ch == '\n') {
        c->sizeline[c->slen] = 0;
        c->remaining = strtoul(c->sizeline, NULL, 16);
        c->slen = 0;
        c->cstate = c->remaining ? 1 : 3;
        if (c->cstate == 3)
          c->complete = true;
      } else if (c->slen + 1 < sizeof(c->sizeline)) {
        c->sizeline[c->slen++] = ch;
      }
    } else if (c->cstate == 1) {
      size_t k = n < c->remaining ? n : c->remaining;
      count_markers(c, p, k);
      c->body_bytes += k;
      c->remaining -= k;
      p += k;
      n -= k;
      if (!c->remaining)
        c->cstate = 2;
    } else {
      /* skip the CRLF that ends a chunk */
      if (*p == '\n')
        c->cstate = 0;
      p++;
      n--;
    }
  }
}

static void feed(struct conn *c, const char *p, size_t n) {
  if (!c->headers) {
    size_t room = sizeof(c->hbuf) - 1 - c->hlen;
    size_t k = n < room ? n : room;
    memcpy(c->hbuf + c->hlen, p, k);
    c->hlen += k;
    c->hbuf[c->hlen] = 0;
    char *end = strstr(c->hbuf, "\r\n\r\n");
    if (!end) {
      if (c->hlen == sizeof(c->hbuf) - 1)
        c->closed = true;
      return;
    }
    c->headers = true;
    sscanf(c->hbuf, "HTTP/1.%*d %d", &c->status);
    size_t used = (size_t)(end + 4 - c->hbuf);
    /* bytes of this read that belong to the body */
    size_t before = c->hlen - k;
    size_t consumed = used - before;
    body_feed(c, p + consumed, n - consumed);
    return;
  }
  body_feed(c, p, n);
}

/* Reads whatever is available; false when the connection ended. */
static bool pump(struct conn *c) {
  char buf[16384];
  for (;;) {
    int r = SSL_read(c->ssl, buf, sizeof(buf));
    if (r > 0) {
      feed(c, buf, (size_t)r);
      continue;
    }
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
      return true;
    ERR_clear_error();
    c->closed = true;
    return false;
  }
}

static void init_tls(const char *dir) {
  char ca[4096], crt[4096], key[4096];
  snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
  snprintf(crt, sizeof(crt), "%s/admin.crt", dir);
  snprintf(key, sizeof(key), "%s/admin.key", dir);
  ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx || SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1 ||
      SSL_CTX_use_certificate_file(ctx, crt, SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
    die("cannot load the TLS files");
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
}

static char *watch_request(const char *path) {
  char *s;
  if (asprintf(&s, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n",
               path) < 0)
    die("out of memory");
  return s;
}

/* Waits up to timeout_ms for input on the connections still open (and stdin when
 * with_stdin); returns true when stdin has a line or ended. */
static bool poll_round(bool with_stdin, int timeout_ms, char *line, size_t line_size) {
  struct pollfd *p = calloc(n_conns + 1, sizeof(*p));
  if (!p)
    die("out of memory");
  size_t k = 0;
  for (size_t i = 0; i < n_conns; i++)
    if (conns[i].fd >= 0 && !conns[i].closed)
      p[k++] = (struct pollfd){.fd = conns[i].fd, .events = POLLIN};
  if (with_stdin)
    p[k++] = (struct pollfd){.fd = 0, .events = POLLIN};
  int r = poll(p, k, timeout_ms);
  bool got_stdin = false;
  if (r > 0) {
    size_t j = 0;
    for (size_t i = 0; i < n_conns; i++) {
      if (conns[i].fd < 0 || conns[i].closed)
        continue;
      if (p[j].revents || SSL_pending(conns[i].ssl))
        pump(&conns[i]);
      j++;
    }
    if (with_stdin && p[k - 1].revents) {
      if (!fgets(line, (int)line_size, stdin))
        line[0] = 0;
      got_stdin = true;
    }
  }
  free(p);
  return got_stdin;
}

static int mode_watch(int argc, char **argv) {
  if (argc < 5)
    die("watch N PATH MARKER COUNT TIMEOUT");
  n_conns = strtoul(argv[0], NULL, 10);
  req_text = watch_request(argv[1]);
  marker = argv[2];
  marker_len = strlen(marker);
  long want = strtol(argv[3], NULL, 10);
  double timeout = strtod(argv[4], NULL);
  conns = calloc(n_conns, sizeof(*conns));
  for (size_t i = 0; i < n_conns; i++)
    conns[i].fd = -1;
  open_all(-1);
  /* connected = answered 200 within 10 s */
  double t0 = now();
  for (;;) {
    size_t ready = 0, pending = 0;
    for (size_t i = 0; i < n_conns; i++) {
      ready += conns[i].headers && conns[i].status == 200;
      pending += conns[i].ok && !conns[i].headers && !conns[i].closed;
    }
    if (!pending || now() - t0 > 10) {
      printf("connected %zu\n", ready);
      fflush(stdout);
      break;
    }
    char line[64];
    poll_round(false, 200, line, sizeof(line));
  }
  t0 = now();
  bool reported = false;
  char line[64];
  for (;;) {
    if (!reported) {
      size_t done = 0;
      long mn = -1, mx = 0;
      for (size_t i = 0; i < n_conns; i++) {
        long m = conns[i].markers;
        done += m >= want;
        if (mn < 0 || m < mn)
          mn = m;
        if (m > mx)
          mx = m;
      }
      if (done == n_conns || now() - t0 > timeout) {
        printf("events %zu/%zu min=%ld max=%ld\n", done, n_conns, mn, mx);
        fflush(stdout);
        reported = true;
      }
    }
    if (poll_round(true, 100, line, sizeof(line)) && (!line[0] || strncmp(line, "close", 5) == 0))
      break;
  }
  for (size_t i = 0; i < n_conns; i++)
    reset_close(&conns[i]);
  printf("closed\n");
  fflush(stdout);
  return 0;
}

static int mode_stuck(int argc, char **argv) {
  if (argc < 2)
    die("stuck N PATH");
  n_conns = strtoul(argv[0], NULL, 10);
  req_text = watch_request(argv[1]);
  rcvbuf = 4096;
  conns = calloc(n_conns, sizeof(*conns));
  for (size_t i = 0; i < n_conns; i++)
    conns[i].fd = -1;
  size_t ok = open_all(-1);
  printf("connected %zu\n", ok);
  fflush(stdout);
  char line[64];
  while (fgets(line, sizeof(line), stdin) && strncmp(line, "drain", 5) != 0) {
  }
  for (size_t i = 0; i < n_conns; i++) {
    struct conn *c = &conns[i];
    double last = now();
    while (c->fd >= 0 && !c->closed && !c->complete && now() - last < 10) {
      struct pollfd p = {.fd = c->fd, .events = POLLIN};
      if (SSL_pending(c->ssl) || poll(&p, 1, 500) > 0) {
        size_t before = c->body_bytes + c->hlen;
        pump(c);
        if (c->body_bytes + c->hlen != before)
          last = now();
      }
    }
    printf("stream %zu bytes=%zu end=%s\n", i, c->body_bytes,
           c->complete ? "complete" : c->closed ? "cut" : "open");
    reset_close(c);
  }
  fflush(stdout);
  return 0;
}

static int mode_slowloris(int argc, char **argv) {
  if (argc < 3)
    die("slowloris N INTERVAL_MS DURATION");
  n_conns = strtoul(argv[0], NULL, 10);
  long interval = strtol(argv[1], NULL, 10);
  double duration = strtod(argv[2], NULL);
  static char text[4096];
  int len = snprintf(text, sizeof(text), "GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  /* a long header to dribble: far more bytes than any test waits for */
  memcpy(text + len, "X-Slow: ", 8);
  len += 8;
  memset(text + len, 'a', sizeof(text) - (size_t)len - 1);
  req_text = text;
  conns = calloc(n_conns, sizeof(*conns));
  for (size_t i = 0; i < n_conns; i++)
    conns[i].fd = -1;
  /* the partial first line goes out with the handshake */
  size_t ok = open_all(16);
  printf("connected %zu\n", ok);
  fflush(stdout);
  double t0 = now(), first = -1, last = -1;
  size_t closed = 0;
  double next_send = t0;
  while (now() - t0 < duration && closed < ok) {
    char line[8];
    poll_round(false, 50, line, sizeof(line));
    if (interval > 0 && now() >= next_send) {
      next_send += (double)interval / 1000;
      for (size_t i = 0; i < n_conns; i++) {
        struct conn *c = &conns[i];
        if (c->fd < 0 || c->closed || c->sent + 1 >= sizeof(text))
          continue;
        int r = SSL_write(c->ssl, text + c->sent, 1);
        if (r == 1)
          c->sent++;
        else if (SSL_get_error(c->ssl, r) != SSL_ERROR_WANT_WRITE) {
          ERR_clear_error();
          c->closed = true;
        }
      }
    }
    for (size_t i = 0; i < n_conns; i++) {
      struct conn *c = &conns[i];
      if (c->ok && c->closed && c->closed_at == 0) {
        c->closed_at = now() - t0;
        closed++;
        if (first < 0)
          first = c->closed_at;
        last = c->closed_at;
      }
    }
  }
  printf("closed %zu/%zu first=%.1f last=%.1f\n", closed, ok, first, last);
  fflush(stdout);
  for (size_t i = 0; i < n_conns; i++)
    reset_close(&conns[i]);
  return 0;
}

static int mode_midbody(int argc, char **argv) {
  if (argc < 2)
    die("midbody N HOLD");
  size_t n = strtoul(argv[0], NULL, 10);
  unsigned hold = (unsigned)strtoul(argv[1], NULL, 10);
  static char text[2048];
  int len = snprintf(text, sizeof(text),
                     "POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\n"
                     "Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     "Content-Length: 1048576\r\n\r\n"
                     "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                     "\"midbody\"},\"data\":{\"a\":\"");
  memset(text + len, 'x', 1000);
  len += 1000;
  conns = calloc(n, sizeof(*conns));
  n_conns = n;
  for (size_t i = 0; i < n; i++)
    conns[i].fd = -1;
  req_text = text;
  size_t ok = open_all(len);
  if (hold)
    sleep(hold);
  for (size_t i = 0; i < n; i++)
    reset_close(&conns[i]);
  printf("midbody %zu\n", ok);
  return 0;
}

static int mode_midstream(int argc, char **argv) {
  if (argc < 2)
    die("midstream N PATH");
  n_conns = strtoul(argv[0], NULL, 10);
  req_text = watch_request(argv[1]);
  conns = calloc(n_conns, sizeof(*conns));
  for (size_t i = 0; i < n_conns; i++)
    conns[i].fd = -1;
  open_all(-1);
  double t0 = now();
  for (;;) {
    size_t pending = 0;
    for (size_t i = 0; i < n_conns; i++)
      pending += conns[i].ok && !conns[i].headers && !conns[i].closed;
    if (!pending || now() - t0 > 10)
      break;
    char line[8];
    poll_round(false, 100, line, sizeof(line));
  }
  size_t ok = 0;
  for (size_t i = 0; i < n_conns; i++) {
    ok += conns[i].headers && conns[i].status == 200;
    reset_close(&conns[i]);
  }
  printf("midstream %zu\n", ok);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 4)
    die("usage: robust_client MODE PORT TLSDIR ARGS...");
  signal(SIGPIPE, SIG_IGN);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  port = (unsigned short)strtoul(argv[2], NULL, 10);
  init_tls(argv[3]);
  const char *mode = argv[1];
  argc -= 4;
  argv += 4;
  if (strcmp(mode, "watch") == 0)
    return mode_watch(argc, argv);
  if (strcmp(mode, "stuck") == 0)
    return mode_stuck(argc, argv);
  if (strcmp(mode, "slowloris") == 0)
    return mode_slowloris(argc, argv);
  if (strcmp(mode, "midbody") == 0)
    return mode_midbody(argc, argv);
  if (strcmp(mode, "midstream") == 0)
    return mode_midstream(argc, argv);
  die("unknown mode");
  return 2;
}
