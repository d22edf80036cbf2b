/* Fuzzes HTTP/1.1 framing: the input is a connection's byte stream of pipelined
 * requests (and, once whole, a response head as a client parses it). Each head is parsed one-shot and again as it would arrive in pieces (every
 * prefix length, as a byte-by-byte reader would see it); both must agree. Chunked bodies
 * are decoded whole, byte by byte and in pseudo-random pieces; all three must agree.
 * Invariants: consumed <= len, strings point inside the buffer, an incomplete head
 * leaves the buffer untouched, decoded output is never longer than its input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/http1.h"

#define FUZZ_MAX_HEAD 2048

#define check(cond)                                                                                \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      __builtin_trap();                                                                            \
  } while (0)

static uint64_t rng_next(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static void check_in(const char *p, const char *buf, size_t len) {
  check(p >= buf && p < buf + len);
  check(memchr(p, '\0', (size_t)(buf + len - p)) != NULL);
}

/* The same head parsed from two buffers holding the same bytes. */
static void check_same_head(const struct http1_head *a, const char *abuf,
                            const struct http1_head *b, const char *bbuf) {
  check(a->method - abuf == b->method - bbuf);
  check(strcmp(a->method, b->method) == 0);
  check(strcmp(a->target, b->target) == 0);
  check(a->minor == b->minor && a->n_headers == b->n_headers);
  for (size_t k = 0; k < a->n_headers; k++) {
    check(strcmp(a->headers[k].name, b->headers[k].name) == 0);
    check(strcmp(a->headers[k].value, b->headers[k].value) == 0);
  }
  check(a->keep_alive == b->keep_alive && a->chunked == b->chunked);
  check(a->has_length == b->has_length && a->content_length == b->content_length);
  check(a->expect_continue == b->expect_continue);
}

static void check_head(const struct http1_head *h, const char *buf, size_t consumed) {
  check(h->minor == 0 || h->minor == 1);
  check(h->n_headers <= HTTP1_MAX_HEADERS);
  check_in(h->method, buf, consumed);
  check_in(h->target, buf, consumed);
  check(h->method[0] != '\0' && h->target[0] != '\0');
  for (size_t k = 0; k < h->n_headers; k++) {
    check_in(h->headers[k].name, buf, consumed);
    check_in(h->headers[k].value, buf, consumed);
    check(http1_header(h, h->headers[k].name) != NULL);
  }
  check(!(h->chunked && h->has_length));
}

/* Parses the head at data[0..len) both ways; returns the one-shot result. */
static ssize_t parse_both(const uint8_t *data, size_t len, char *one, char *inc,
                          struct http1_head *ret) {
  memcpy(one, data, len);
  ssize_t r = http1_parse_head(one, len, FUZZ_MAX_HEAD, ret);
  check(r <= (ssize_t)len && r <= FUZZ_MAX_HEAD);
  if (r > 0)
    check_head(ret, one, (size_t)r);

  /* Arrival in pieces: the first non-zero answer over growing prefixes is final. */
  ssize_t r2 = 0;
  struct http1_head h2;
  for (size_t n = 0; n <= len; n++) {
    if (n > 0)
      inc[n - 1] = (char)data[n - 1];
    r2 = http1_parse_head(inc, n, FUZZ_MAX_HEAD, &h2);
    if (r2 != 0)
      break;
    check(memcmp(inc, data, n) == 0);
  }
  check(r2 == r);
  if (r > 0)
    check_same_head(ret, one, &h2, inc);
  return r;
}

struct sink {
  char *out;
  size_t len, cap;
  const char *in;
  size_t in_len;
};

static void sink_emit(void *userdata, const char *data, size_t n) {
  struct sink *s = userdata;
  check(n > 0);
  check(data >= s->in && data + n <= s->in + s->in_len);
  check(s->len + n <= s->cap);
  memcpy(s->out + s->len, data, n);
  s->len += n;
}

struct decoded {
  ssize_t r; /* error, or bytes consumed */
  bool done;
  size_t out_len;
};

/* Decodes in[0..len): mode 0 whole, 1 byte by byte, 2 in pseudo-random pieces. */
static struct decoded decode(const char *in, size_t len, char *out, uint64_t *rng, int mode) {
  struct http1_chunked c;
  struct sink s = {.out = out, .cap = len};
  struct decoded d = {0};
  size_t off = 0;

  http1_chunked_init(&c);
  while (off < len) {
    size_t n = len - off;
    if (mode == 1)
      n = 1;
    else if (mode == 2)
      n = 1 + (size_t)(rng_next(rng) % (n < 64 ? n : 64));
    s.in = in + off;
    s.in_len = n;
    bool done = false;
    ssize_t r = http1_chunked_feed(&c, in + off, n, sink_emit, &s, &done);
    if (r < 0) {
      d.r = r;
      d.out_len = s.len;
      check(http1_chunked_feed(&c, in, len, sink_emit, &s, &done) == r);
      return d;
    }
    check((size_t)r <= n);
    off += (size_t)r;
    if (done) {
      d.done = true;
      bool again = false;
      check(http1_chunked_feed(&c, in, len, sink_emit, &s, &again) == 0 && again);
      break;
    }
    check((size_t)r == n);
  }
  check(s.len <= off);
  d.r = (ssize_t)off;
  d.out_len = s.len;
  return d;
}

/* The same bytes read as a response head (a client's view): the parser must stay inside
 * the buffer, and what it reports must be consistent. The copy has no terminator, so a
 * read past the end is caught by AddressSanitizer. */
static void fuzz_response(const uint8_t *data, size_t size) {
  char *buf = malloc(size ? size : 1);
  memcpy(buf, data, size);
  struct http1_response r;
  if (http1_parse_response_head(buf, size, &r) == 0) {
    check(r.status >= 100 && r.status <= 599 && (r.minor == 0 || r.minor == 1));
    check(!(r.chunked && r.has_length) && !(r.close_delimited && (r.chunked || r.has_length)));
    if (r.content_type)
      check(r.content_type >= buf && r.content_type + r.content_type_len <= buf + size);
  }
  free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_response(data, size);
  char *one = malloc(size + 1), *inc = malloc(size + 1), *out[3];
  uint64_t rng = 0x9e3779b97f4a7c15ULL ^ size;
  size_t off = 0;

  for (int k = 0; k < 3; k++)
    out[k] = malloc(size + 1);
  for (size_t i = 0; i < size && i < 16; i++)
    rng = rng * 31 + data[i] + 1;

  while (off < size) {
    struct http1_head h;
    ssize_t r = parse_both(data + off, size - off, one, inc, &h);
    if (r <= 0)
      break;
    off += (size_t)r;

    if (h.chunked) {
      const char *in = (const char *)data + off;
      size_t len = size - off;
      struct decoded d[3];
      for (int mode = 0; mode < 3; mode++)
        d[mode] = decode(in, len, out[mode], &rng, mode);
      for (int mode = 1; mode < 3; mode++) {
        check(d[mode].r == d[0].r && d[mode].done == d[0].done);
        /* Payload before an error is the same however the input was split. */
        check(d[mode].out_len == d[0].out_len);
        check(memcmp(out[mode], out[0], d[0].out_len) == 0);
      }
      if (d[0].r < 0 || !d[0].done)
        break;
      off += (size_t)d[0].r;
    } else if (h.has_length) {
      if (h.content_length > size - off)
        break;
      off += (size_t)h.content_length;
    }
  }

  for (int k = 0; k < 3; k++)
    free(out[k]);
  free(one);
  free(inc);
  return 0;
}
