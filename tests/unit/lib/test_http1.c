#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "lib/http1.h"
#include "lib/macro.h"

#define MAX_HEAD 8192

/* The parser writes into its buffer and its strings point there, so each test keeps its
 * own copy alive for as long as it reads the result. */
static char bufs[8][16384];
static size_t buf_next;

static ssize_t parse_max(const char *s, size_t max_head, struct http1_head *h) {
  char *buf = bufs[buf_next++ % ARRAY_SIZE(bufs)];
  size_t len = strlen(s);
  assert_true(len < sizeof(bufs[0]));
  memcpy(buf, s, len + 1);
  return http1_parse_head(buf, len, max_head, h);
}

static ssize_t parse(const char *s, struct http1_head *h) {
  return parse_max(s, MAX_HEAD, h);
}

static void expect_rc(const char *s, ssize_t want) {
  struct http1_head h;
  ssize_t r = parse(s, &h);
  if (r != want)
    print_error("input %s: got %zd, want %zd\n", s, r, want);
  assert_int_equal(r, want);
}

static void expect_ok(const char *s) {
  expect_rc(s, (ssize_t)strlen(s));
}

static void test_get(void **state) {
  (void)state;
  struct http1_head h;
  const char *s = "GET /api/v1/pods?limit=1 HTTP/1.1\r\n"
                  "Host: 127.0.0.1:6443\r\n"
                  "User-Agent: kubectl/v1.32.0 (linux/amd64) kubernetes/abc\r\n"
                  "Accept:application/json\r\n"
                  "X-Empty:\r\n"
                  "X-Spaces: \t  padded value \t \r\n"
                  "\r\n";
  assert_int_equal(parse(s, &h), strlen(s));
  assert_string_equal(h.method, "GET");
  assert_string_equal(h.target, "/api/v1/pods?limit=1");
  assert_int_equal(h.minor, 1);
  assert_int_equal(h.n_headers, 5);
  assert_string_equal(h.headers[0].name, "Host");
  assert_string_equal(h.headers[0].value, "127.0.0.1:6443");
  assert_string_equal(h.headers[2].value, "application/json");
  assert_string_equal(h.headers[3].name, "X-Empty");
  assert_string_equal(h.headers[3].value, "");
  assert_string_equal(h.headers[4].value, "padded value");
  assert_true(h.keep_alive);
  assert_false(h.chunked);
  assert_false(h.has_length);
  assert_false(h.expect_continue);
  assert_string_equal(http1_header(&h, "user-agent"),
                      "kubectl/v1.32.0 (linux/amd64) kubernetes/abc");
  assert_string_equal(http1_header(&h, "HOST"), "127.0.0.1:6443");
  assert_null(http1_header(&h, "Content-Type"));
}

static void test_bare_lf_and_leading_empty_lines(void **state) {
  (void)state;
  struct http1_head h;
  const char *s = "\r\n\n\r\nDELETE /x HTTP/1.0\nHost: a\n\n";
  assert_int_equal(parse(s, &h), strlen(s));
  assert_string_equal(h.method, "DELETE");
  assert_string_equal(h.target, "/x");
  assert_int_equal(h.minor, 0);
  assert_int_equal(h.n_headers, 1);
  assert_string_equal(h.headers[0].value, "a");
  assert_false(h.keep_alive);

  /* Mixed line ends within one head. */
  expect_ok("GET / HTTP/1.1\r\nA: b\n\r\n");
  expect_ok("GET / HTTP/1.1\nA: b\r\n\n");
  /* No headers at all. */
  expect_ok("GET / HTTP/1.1\r\n\r\n");
}

static void test_request_line(void **state) {
  (void)state;
  struct http1_head h;
  assert_int_equal(parse("M-SEARCH * HTTP/1.1\r\n\r\n", &h), 23);
  assert_string_equal(h.method, "M-SEARCH");
  assert_string_equal(h.target, "*");
  expect_ok("OPTIONS http://a.example/b?c=%20d#e HTTP/1.1\r\n\r\n");

  expect_rc("GET  / HTTP/1.1\r\n\r\n", -EBADMSG);
  expect_rc("GET /  HTTP/1.1\r\n\r\n", -EBADMSG);
  expect_rc("GET / HTTP/1.1 \r\n\r\n", -EBADMSG);
  expect_rc(" GET / HTTP/1.1\r\n\r\n", -EBADMSG);
  expect_rc("GET\t/ HTTP/1.1\r\n\r\n", -EBADMSG);
  expect_rc("GET / HTTP/1.1\tx\r\n\r\n", -EBADMSG);
  expect_rc("GET /\x7f HTTP/1.1\r\n\r\n", -EBADMSG);
  expect_rc("GET /\xc3\xa9 HTTP/1.1\r\n\r\n", -EBADMSG);
  expect_rc("G(T / HTTP/1.1\r\n\r\n", -EBADMSG);
  expect_rc("GET HTTP/1.1\r\n\r\n", -EBADMSG);
  expect_rc("GET /\r\n\r\n", -EBADMSG);
  expect_rc("GET / http/1.1\r\n\r\n", -EBADMSG);
  expect_rc("GET / HTTP/1.10\r\n\r\n", -EBADMSG);
  expect_rc("GET / HTTP/1\r\n\r\n", -EBADMSG);
  expect_rc("GET / HTTP/a.1\r\n\r\n", -EBADMSG);
  expect_rc("GET / HTTP/1.1\r\r\n\r\n", -EBADMSG);
  expect_rc("\rGET / HTTP/1.1\r\n\r\n", -EBADMSG);
  expect_rc("GET /a\rb HTTP/1.1\r\n\r\n", -EBADMSG);
}

static void test_version(void **state) {
  (void)state;
  expect_rc("GET / HTTP/2.0\r\n\r\n", -EPROTONOSUPPORT);
  expect_rc("GET / HTTP/1.2\r\n\r\n", -EPROTONOSUPPORT);
  expect_rc("GET / HTTP/0.9\r\n\r\n", -EPROTONOSUPPORT);
  expect_rc("GET / HTTP/3.1\r\n\r\n", -EPROTONOSUPPORT);
}

static void test_header_syntax(void **state) {
  (void)state;
  struct http1_head h;
  assert_true(parse("GET / HTTP/1.1\r\nX-Obs: caf\xc3\xa9\tok\r\n\r\n", &h) > 0);
  assert_string_equal(h.headers[0].value, "caf\xc3\xa9\tok");
  expect_ok("GET / HTTP/1.1\r\n!#$%&'*+-.^_`|~09az: v\r\n\r\n");
  expect_ok("GET / HTTP/1.1\r\nX: a \"quoted\" (comment) value, x=y\r\n\r\n");

  expect_rc("GET / HTTP/1.1\r\nHost : a\r\n\r\n", -EBADMSG);
  expect_rc("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", -EBADMSG);
  expect_rc("GET / HTTP/1.1\r\nHo st: a\r\n\r\n", -EBADMSG);
  expect_rc("GET / HTTP/1.1\r\nHo(st: a\r\n\r\n", -EBADMSG);
  expect_rc("GET / HTTP/1.1\r\n: a\r\n\r\n", -EBADMSG);
  expect_rc("GET / HTTP/1.1\r\nNoColon\r\n\r\n", -EBADMSG);
  expect_rc("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", -EBADMSG);
  expect_rc("GET / HTTP/1.1\r\nA: b\r\n\tfolded\r\n\r\n", -EBADMSG);
  expect_rc("GET / HTTP/1.1\r\n Leading: a\r\n\r\n", -EBADMSG);
  expect_rc("GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", -EBADMSG);
  expect_rc("GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n", -EBADMSG);
  expect_rc("GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", -EBADMSG);
  expect_rc("GET / HTTP/1.1\r\nA: b\r\r\n\r\n", -EBADMSG);
  expect_rc("GET / HTTP/1.1\r\nA\xc3\xa9: b\r\n\r\n", -EBADMSG);

  /* A NUL cannot be written with a C string literal; place one by hand. */
  char buf[] = "GET / HTTP/1.1\r\nA: bXc\r\n\r\n";
  *strchr(buf, 'X') = '\0';
  assert_int_equal(http1_parse_head(buf, sizeof(buf) - 1, MAX_HEAD, &h), -EBADMSG);
  char buf2[] = "GET /X HTTP/1.1\r\n\r\n";
  *strchr(buf2, 'X') = '\0';
  assert_int_equal(http1_parse_head(buf2, sizeof(buf2) - 1, MAX_HEAD, &h), -EBADMSG);
}

static void test_max_headers(void **state) {
  (void)state;
  char s[8192];
  size_t n = (size_t)snprintf(s, sizeof(s), "GET / HTTP/1.1\r\n");
  for (int k = 0; k < HTTP1_MAX_HEADERS; k++)
    n += (size_t)snprintf(s + n, sizeof(s) - n, "H%d: %d\r\n", k, k);
  snprintf(s + n, sizeof(s) - n, "\r\n");

  struct http1_head h;
  assert_int_equal(parse(s, &h), strlen(s));
  assert_int_equal(h.n_headers, HTTP1_MAX_HEADERS);
  assert_string_equal(h.headers[99].name, "H99");
  assert_string_equal(http1_header(&h, "h42"), "42");

  snprintf(s + n, sizeof(s) - n, "One-Too-Many: x\r\n\r\n");
  expect_rc(s, -EBADMSG);
}

static void test_content_length(void **state) {
  (void)state;
  struct http1_head h;
  assert_true(parse("POST /p HTTP/1.1\r\nContent-Length: 42\r\n\r\n", &h) > 0);
  assert_true(h.has_length);
  assert_int_equal(h.content_length, 42);
  assert_false(h.chunked);

  assert_true(parse("POST /p HTTP/1.1\r\ncontent-length: 0\r\n\r\n", &h) > 0);
  assert_true(h.has_length);
  assert_int_equal(h.content_length, 0);

  assert_true(parse("POST /p HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n", &h) > 0);
  assert_int_equal(h.content_length, 5);
  assert_true(parse("POST /p HTTP/1.1\r\nContent-Length: 7\r\nContent-Length:7,07\r\n\r\n", &h) >
              0);
  assert_int_equal(h.content_length, 7);
  assert_true(parse("POST /p HTTP/1.1\r\nContent-Length: 4611686018427387904\r\n\r\n", &h) > 0);
  assert_int_equal(h.content_length, UINT64_C(1) << 62);

  expect_rc("POST /p HTTP/1.1\r\nContent-Length: 4611686018427387905\r\n\r\n", -EBADMSG);
  expect_rc("POST /p HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", -EBADMSG);
  expect_rc("POST /p HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n", -EBADMSG);
  expect_rc("POST /p HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", -EBADMSG);
  expect_rc("POST /p HTTP/1.1\r\nContent-Length: 5,\r\n\r\n", -EBADMSG);
  expect_rc("POST /p HTTP/1.1\r\nContent-Length:\r\n\r\n", -EBADMSG);
  expect_rc("POST /p HTTP/1.1\r\nContent-Length: -1\r\n\r\n", -EBADMSG);
  expect_rc("POST /p HTTP/1.1\r\nContent-Length: +1\r\n\r\n", -EBADMSG);
  expect_rc("POST /p HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", -EBADMSG);
  expect_rc("POST /p HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", -EBADMSG);
}

static void test_transfer_encoding(void **state) {
  (void)state;
  struct http1_head h;
  assert_true(parse("POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &h) > 0);
  assert_true(h.chunked);
  assert_false(h.has_length);
  assert_true(parse("POST /p HTTP/1.1\r\ntransfer-encoding:  ChUnKeD \r\n\r\n", &h) > 0);
  assert_true(h.chunked);

  expect_rc("POST /p HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", -ENOSYS);
  expect_rc("POST /p HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", -ENOSYS);
  expect_rc("POST /p HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", -ENOSYS);
  expect_rc("POST /p HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n", -ENOSYS);
  expect_rc("POST /p HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
            -ENOSYS);
  expect_rc("POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
            -EBADMSG);
  expect_rc("POST /p HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: gzip\r\n\r\n", -EBADMSG);
  expect_rc("POST /p HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", -EBADMSG);
}

static void test_keep_alive(void **state) {
  (void)state;
  struct http1_head h;
  assert_true(parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", &h) > 0);
  assert_false(h.keep_alive);
  assert_true(parse("GET / HTTP/1.1\r\nConnection: Upgrade, CLOSE\r\n\r\n", &h) > 0);
  assert_false(h.keep_alive);
  assert_true(parse("GET / HTTP/1.1\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", &h) >
              0);
  assert_false(h.keep_alive);
  assert_true(parse("GET / HTTP/1.1\r\nConnection: closed, xclose\r\n\r\n", &h) > 0);
  assert_true(h.keep_alive);
  assert_true(parse("GET / HTTP/1.1\r\nConnection: Upgrade\r\n\r\n", &h) > 0);
  assert_true(h.keep_alive);

  assert_true(parse("GET / HTTP/1.0\r\n\r\n", &h) > 0);
  assert_false(h.keep_alive);
  assert_true(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &h) > 0);
  assert_true(h.keep_alive);
  assert_true(parse("GET / HTTP/1.0\r\nConnection: foo ,keep-alive\r\n\r\n", &h) > 0);
  assert_true(h.keep_alive);
  assert_true(parse("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", &h) > 0);
  assert_false(h.keep_alive);
}

static void test_expect(void **state) {
  (void)state;
  struct http1_head h;
  assert_true(parse("PUT /p HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n", &h) >
              0);
  assert_true(h.expect_continue);
  assert_true(parse("PUT /p HTTP/1.1\r\nexpect:   100-continue  \r\n\r\n", &h) > 0);
  assert_true(h.expect_continue);
  assert_true(parse("PUT /p HTTP/1.1\r\nExpect: 100-continuex\r\n\r\n", &h) > 0);
  assert_false(h.expect_continue);
  assert_true(parse("PUT /p HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", &h) > 0);
  assert_false(h.expect_continue);
}

static void test_pipelined(void **state) {
  (void)state;
  char buf[] = "POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
               "GET /b HTTP/1.1\r\n\r\n"
               "\r\nGET /c HTTP/1.1\nConnection: close\n\n";
  size_t len = sizeof(buf) - 1, off = 0;
  struct http1_head h;

  ssize_t r = http1_parse_head(buf, len, MAX_HEAD, &h);
  assert_int_equal(r, 39);
  assert_string_equal(h.target, "/a");
  assert_int_equal(h.content_length, 3);
  assert_memory_equal(buf + r, "abc", 3);
  off = (size_t)r + 3;

  r = http1_parse_head(buf + off, len - off, MAX_HEAD, &h);
  assert_int_equal(r, 19);
  assert_string_equal(h.target, "/b");
  off += (size_t)r;

  r = http1_parse_head(buf + off, len - off, MAX_HEAD, &h);
  assert_int_equal(off + (size_t)r, len);
  assert_string_equal(h.target, "/c");
  assert_false(h.keep_alive);
}

static void test_byte_by_byte(void **state) {
  (void)state;
  const char *s = "\r\nPUT /api/v1/namespaces/default/pods/p HTTP/1.1\r\n"
                  "Content-Type: application/json\r\n"
                  "Content-Length: 2\r\n\r\n{}";
  size_t head_len = strlen(s) - 2;
  char buf[256];
  struct http1_head h;

  for (size_t n = 0; n < head_len; n++) {
    memcpy(buf, s, n);
    assert_int_equal(http1_parse_head(buf, n, MAX_HEAD, &h), 0);
    /* An incomplete head must leave the buffer as it was. */
    assert_memory_equal(buf, s, n);
  }
  memcpy(buf, s, strlen(s));
  assert_int_equal(http1_parse_head(buf, head_len, MAX_HEAD, &h), head_len);
  assert_string_equal(h.target, "/api/v1/namespaces/default/pods/p");
  memcpy(buf, s, strlen(s));
  assert_int_equal(http1_parse_head(buf, strlen(s), MAX_HEAD, &h), head_len);
  assert_int_equal(h.content_length, 2);

  /* A trailing CR awaiting its LF is still incomplete. */
  memcpy(buf, "GET / HTTP/1.1\r\n\r", 17);
  assert_int_equal(http1_parse_head(buf, 17, MAX_HEAD, &h), 0);
  memcpy(buf, "\r", 1);
  assert_int_equal(http1_parse_head(buf, 1, MAX_HEAD, &h), 0);
  assert_int_equal(http1_parse_head(buf, 0, MAX_HEAD, &h), 0);
}

static void test_max_head(void **state) {
  (void)state;
  const char *s = "GET / HTTP/1.1\r\nA: b\r\n\r\n"; /* 24 bytes */
  struct http1_head h;

  assert_int_equal(parse_max(s, 24, &h), 24);
  assert_int_equal(parse_max(s, 23, &h), -E2BIG);
  assert_int_equal(parse_max(s, 0, &h), -E2BIG);

  char buf[64];
  memcpy(buf, s, 24);
  assert_int_equal(http1_parse_head(buf, 22, 23, &h), 0);
  assert_int_equal(http1_parse_head(buf, 23, 23, &h), -E2BIG);
  /* More bytes than max_head, with the head ending past it. */
  assert_int_equal(http1_parse_head(buf, 24, 10, &h), -E2BIG);

  /* Endless leading empty lines count toward the limit too. */
  memset(buf, '\n', sizeof(buf));
  assert_int_equal(http1_parse_head(buf, 63, 64, &h), 0);
  assert_int_equal(http1_parse_head(buf, 64, 64, &h), -E2BIG);
}

/* Chunked decoding. */

struct sink {
  char data[8192];
  size_t len;
  size_t calls;
};

static void sink_emit(void *userdata, const char *data, size_t n) {
  struct sink *s = userdata;
  assert_true(n > 0);
  assert_true(s->len + n <= sizeof(s->data));
  memcpy(s->data + s->len, data, n);
  s->len += n;
  s->calls++;
}

/* Feeds `in` in pieces of `piece` bytes (0 = whole) until done or an error; returns the
 * error, or the total consumed. */
static ssize_t decode(const char *in, size_t len, size_t piece, struct sink *out, bool *done) {
  struct http1_chunked c;
  size_t off = 0;

  http1_chunked_init(&c);
  *out = (struct sink){0};
  *done = false;
  while (off < len) {
    size_t n = piece && piece < len - off ? piece : len - off;
    ssize_t r = http1_chunked_feed(&c, in + off, n, sink_emit, out, done);
    if (r < 0)
      return r;
    assert_true((size_t)r <= n);
    off += (size_t)r;
    if (*done)
      break;
    assert_int_equal(r, n);
  }
  return (ssize_t)off;
}

static void expect_decoded(const char *in, size_t body_len, const char *want) {
  static const size_t pieces[] = {0, 1, 2, 3, 7};
  for (size_t k = 0; k < ARRAY_SIZE(pieces); k++) {
    struct sink out;
    bool done;
    ssize_t r = decode(in, strlen(in), pieces[k], &out, &done);
    assert_int_equal(r, body_len);
    assert_true(done);
    assert_int_equal(out.len, strlen(want));
    assert_memory_equal(out.data, want, out.len);
  }
}

/* The whole of `in` is the body. */
static void expect_decoded_all(const char *in, const char *want) {
  expect_decoded(in, strlen(in), want);
}

static void expect_bad(const char *in) {
  static const size_t pieces[] = {0, 1, 5};
  for (size_t k = 0; k < ARRAY_SIZE(pieces); k++) {
    struct sink out;
    bool done;
    assert_int_equal(decode(in, strlen(in), pieces[k], &out, &done), -EBADMSG);
  }
}

static void test_chunked_basic(void **state) {
  (void)state;
  const char *in = "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n";
  expect_decoded_all(in, "hello, world");
  expect_decoded_all("0\r\n\r\n", "");
  expect_decoded_all("A\r\n0123456789\r\n000\r\n\r\n", "0123456789");
  expect_decoded_all("1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n", "abcdefghijklmnopqrstuvwxyz");

  struct sink out;
  bool done;
  assert_int_equal(decode(in, strlen(in), 0, &out, &done), strlen(in));
  assert_int_equal(out.calls, 2);
}

static void test_chunked_extensions_trailers(void **state) {
  (void)state;
  expect_decoded_all("3;name=value\r\nabc\r\n0;last\r\n\r\n", "abc");
  expect_decoded_all("3 ;a=\"q;\\\"x\" ; b\r\nabc\r\n0\r\n\r\n", "abc");
  expect_decoded_all("3\t\r\nabc\r\n0\r\n\r\n", "abc");
  const char *t = "2\r\nhi\r\n0\r\nExpires: never\r\nX-Checksum: 1234\r\n\r\n";
  expect_decoded_all(t, "hi");
}

static void test_chunked_bytes_after_end(void **state) {
  (void)state;
  const char *in = "3\r\nabc\r\n0\r\nT: v\r\n\r\nGET / HTTP/1.1\r\n\r\n";
  size_t body = strlen("3\r\nabc\r\n0\r\nT: v\r\n\r\n");
  expect_decoded(in, body, "abc");

  struct http1_chunked c = {0};
  bool done = false;
  assert_int_equal(http1_chunked_feed(&c, in, strlen(in), NULL, NULL, &done), body);
  assert_true(done);
  done = false;
  assert_int_equal(http1_chunked_feed(&c, "more", 4, NULL, NULL, &done), 0);
  assert_true(done);
}

static void test_chunked_bad(void **state) {
  (void)state;
  expect_bad("g\r\n");
  expect_bad("\r\n");
  expect_bad(";ext\r\n");
  expect_bad("5x\r\nhello\r\n");
  expect_bad("5 x\r\nhello\r\n");
  expect_bad("-5\r\nhello\r\n");
  expect_bad("0x5\r\nhello\r\n");
  expect_bad("5\nhello\r\n0\r\n\r\n");
  expect_bad("5\r\nhelloX\r\n");
  expect_bad("5\r\nhello\n0\r\n\r\n");
  expect_bad("5\r\nhello\r\r\n");
  expect_bad("5\rX\n");
  expect_bad("5;a\x01\r\nhello\r\n");
  expect_bad("0\r\nT: v\nX");
  expect_bad("0\r\nT: v\rX");
  expect_bad("0\r\n\n");
  expect_bad("0\r\n\rX");
  /* 2^62 is the largest size accepted. */
  expect_bad("4000000000000001\r\n");
  expect_bad("10000000000000000\r\n");
  expect_bad("ffffffffffffffffffff\r\n");

  struct http1_chunked c = {0};
  bool done = false;
  assert_int_equal(http1_chunked_feed(&c, "4000000000000000\r\n", 18, NULL, NULL, &done), 18);
  assert_false(done);

  /* Errors are sticky. */
  http1_chunked_init(&c);
  assert_int_equal(http1_chunked_feed(&c, "z", 1, NULL, NULL, &done), -EBADMSG);
  assert_int_equal(http1_chunked_feed(&c, "0\r\n\r\n", 5, NULL, NULL, &done), -EBADMSG);
}

static void test_chunked_line_limit(void **state) {
  (void)state;
  static char in[10000];
  size_t n;

  /* A chunk-size line of exactly 4096 bytes (leading zeros and an extension) is fine. */
  memset(in, '0', 4000);
  in[4000] = '3';
  in[4001] = ';';
  memset(in + 4002, 'e', 4096 - 4002);
  n = 4096;
  n += (size_t)snprintf(in + n, sizeof(in) - n, "\r\nabc\r\n0\r\n\r\n");
  expect_decoded(in, n, "abc");

  in[4096] = 'e';
  snprintf(in + 4097, sizeof(in) - 4097, "\r\nabc\r\n0\r\n\r\n");
  expect_bad(in);

  /* Likewise a trailer line. */
  n = (size_t)snprintf(in, sizeof(in), "0\r\nX: ");
  memset(in + n, 'v', 4096 - 3);
  n += 4096 - 3;
  memcpy(in + n, "\r\n\r\n", 5);
  expect_decoded(in, n + 4, "");
  memcpy(in + n, "v\r\n\r\n", 6);
  expect_bad(in);
}

static int response(const char *head, struct http1_response *r) {
  return http1_parse_response_head(head, strlen(head), r);
}

static void test_response_head(void **state) {
  struct http1_response r;
  assert_int_equal(response("HTTP/1.1 200 OK\r\nContent-Type:  application/json \r\n"
                            "Content-Length: 12\r\n\r\n", &r), 0);
  assert_int_equal(r.status, 200);
  assert_true(r.has_length && r.length == 12 && !r.chunked && !r.close_delimited);
  assert_false(r.close_after);
  assert_int_equal(r.content_type_len, strlen("application/json"));
  assert_memory_equal(r.content_type, "application/json", r.content_type_len);
  /* Transfer-Encoding outranks Content-Length; chunked only counts as the last coding. */
  assert_int_equal(response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                            "Transfer-Encoding: gzip, Chunked\r\n\r\n", &r), 0);
  assert_true(r.chunked && !r.has_length && !r.close_delimited);
  assert_int_equal(response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
                            &r), 0);
  assert_true(!r.chunked && r.close_delimited);
  /* No framing: the body runs to the close. HTTP/1.0 closes unless kept alive. */
  assert_int_equal(response("HTTP/1.0 200 OK\r\n\r\n", &r), 0);
  assert_true(r.close_delimited && r.close_after && r.minor == 0);
  assert_int_equal(response("HTTP/1.0 204 No Content\r\nConnection: Keep-Alive\r\n\r\n",
                            &r), 0);
  assert_false(r.close_after);
  assert_int_equal(response("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\n"
                            "Content-Length: 0\r\n\r\n", &r), 0);
  assert_true(r.close_after);
  assert_int_equal(response("HTTP/1.1 100 Continue\r\n\r\n", &r), 0);
  assert_int_equal(r.status, 100);
  /* Malformed. */
  const char *bad[] = {"HTTP/1.1 20 OK\r\n\r\n", "HTTP/2.0 200 OK\r\n\r\n",
                       "HTTP/1.1 600 X\r\n\r\n", "HTTP/1.1 200OK\r\n\r\n",
                       "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
                       "HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
                       "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
                       "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                       NULL};
  for (size_t i = 0; bad[i]; i++)
    assert_int_equal(response(bad[i], &r), -EBADMSG);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_get),
      cmocka_unit_test(test_bare_lf_and_leading_empty_lines),
      cmocka_unit_test(test_request_line),
      cmocka_unit_test(test_version),
      cmocka_unit_test(test_header_syntax),
      cmocka_unit_test(test_max_headers),
      cmocka_unit_test(test_content_length),
      cmocka_unit_test(test_transfer_encoding),
      cmocka_unit_test(test_keep_alive),
      cmocka_unit_test(test_expect),
      cmocka_unit_test(test_pipelined),
      cmocka_unit_test(test_byte_by_byte),
      cmocka_unit_test(test_max_head),
      cmocka_unit_test(test_chunked_basic),
      cmocka_unit_test(test_chunked_extensions_trailers),
      cmocka_unit_test(test_chunked_bytes_after_end),
      cmocka_unit_test(test_chunked_bad),
      cmocka_unit_test(test_chunked_line_limit),
      cmocka_unit_test(test_response_head),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
