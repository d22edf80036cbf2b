/* http1.h — HTTP/1.1 framing (RFC 9112): the request head and the chunked body coding,
 * parsed from bytes already read — by the API server's front end, and (the chunked decoder)
 * by the client transport of src/client/conn.c. Pure and allocation-free: no I/O, no
 * global state, no logging; every function is safe to call from any thread on data that
 * thread owns.
 *
 * The parser is deliberately strict where leniency lets two parsers disagree about where
 * one request ends and the next begins (request smuggling): conflicting lengths, unknown
 * transfer codings, obs-fold and stray CRs are refused rather than guessed at. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HTTP1_MAX_HEADERS 100

struct http1_header {
  const char *name;  /* NUL-terminated, points into the caller's buffer */
  const char *value; /* NUL-terminated, leading/trailing spaces and tabs removed */
};

struct http1_head {
  const char *method; /* e.g. "GET" (a token) */
  const char *target; /* request-target as sent, e.g. "/api/v1/pods?limit=1" */
  int minor;          /* HTTP/1.<minor>: 0 or 1 */
  struct http1_header headers[HTTP1_MAX_HEADERS];
  size_t n_headers;
  /* HTTP/1.1: unless a Connection header lists "close"; HTTP/1.0: only when one lists
   * "keep-alive" and none lists "close" (comma-separated tokens, case-insensitive). */
  bool keep_alive;
  bool chunked;    /* Transfer-Encoding: chunked */
  bool has_length; /* a Content-Length was given */
  uint64_t content_length;
  /* Expect: 100-continue (case-insensitive). Only for HTTP/1.1: RFC 9110 10.1.1 has a
   * server ignore that expectation in an HTTP/1.0 request. */
  bool expect_continue;
};

/* Parses one request head at the start of buf[0..len). The head ends with an empty line.
 *
 * Returns > 0: the bytes consumed through the empty line (never more than max_head). The
 *   head is complete, *ret is filled, and buf was modified in place (NULs written) so
 *   ret's strings point into it: buf must outlive their use. Bytes after the head (a
 *   body, the next pipelined request) are untouched.
 * Returns 0: incomplete (no empty line yet) and len < max_head: read more and call again
 *   with the same buffer start. buf is not modified; the head is scanned again from the
 *   start, so the result never depends on how the bytes were split across reads.
 * Errors (negative errno; the caller answers with the status in brackets and closes). buf
 * may have been modified and *ret is left untouched:
 *   -E2BIG           the head is not complete within max_head bytes             [431]
 *   -EBADMSG         malformed: bad request line, bad header syntax (space before ':',
 *                    non-token name, obs-fold continuation line, CTL chars in value),
 *                    more than HTTP1_MAX_HEADERS headers, invalid or conflicting
 *                    Content-Length (different values; "5, 5" with equal values is fine,
 *                    values over 2^62 are invalid), both Content-Length and
 *                    Transfer-Encoding, or Transfer-Encoding in an HTTP/1.0 request
 *                    (RFC 9112 6.1: such framing is to be treated as faulty)        [400]
 *   -ENOSYS          a Transfer-Encoding other than exactly "chunked" (one header,
 *                    case-insensitive, trimmed)                                     [501]
 *   -EPROTONOSUPPORT a well-formed version other than HTTP/1.0 or HTTP/1.1 (e.g.
 *                    "HTTP/2.0"; anything not of the form "HTTP/d.d" is -EBADMSG)  [505]
 * Leading empty lines (CRLF or LF) before the request line are skipped (RFC 9112 2.2) and
 * count toward max_head. Lines may end in CRLF or a bare LF. A bare CR elsewhere is
 * malformed. A Host header is not required here; that check belongs to the caller. */
ssize_t http1_parse_head(char *buf, size_t len, size_t max_head, struct http1_head *ret);

/* The value of a hexadecimal digit, or -1. */
int http1_hex_value(char c);

/* Case-insensitive lookup of a header name in a parsed head. Returns the value of the
 * first header of that name (pointing into the parsed buffer), or NULL. */
const char *http1_header(const struct http1_head *h, const char *name);

/* Incremental chunked-body decoder (RFC 9112 7.1). Zero-initialise it or call
 * http1_chunked_init(); one per body; no cleanup needed. The fields are private. */
struct http1_chunked {
  int state;
  uint64_t remaining; /* chunk-size being read, then data bytes left in the chunk */
  size_t line_len;    /* bytes of the current chunk-size or trailer line so far */
};

/* Resets c to the start of a body. */
void http1_chunked_init(struct http1_chunked *c);

/* Decodes chunked framing from in[0..len), continuing where the previous call stopped:
 * the input may be split anywhere. Payload bytes are passed to emit() as they are found
 * (several calls, never with n == 0, data pointing into `in`); emit may be NULL to
 * discard the body.
 *
 * Returns the bytes of `in` consumed (<= len): all of them unless the body ended inside
 * `in`, in which case the rest belongs to the next request. *ret_done is set to true once
 * the last chunk and its trailer section have been consumed, to false otherwise. Once
 * done, further calls return 0 with *ret_done true.
 * Errors: -EBADMSG for bad hex, a chunk-size over 2^62, a missing CRLF after a chunk-size
 * line, a chunk's data or a trailer line, control characters in a chunk extension, a
 * chunk-size or trailer line longer than 4096 bytes. Every line must end in CRLF: bare LF
 * is refused in the body, where lenient line ends are a known smuggling vector. The error
 * is sticky: later calls return it again. *ret_done is not written on error.
 * Chunk extensions (";name=value") are ignored; trailer fields are skipped unread. */
ssize_t http1_chunked_feed(struct http1_chunked *c, const char *in, size_t len,
                           void (*emit)(void *userdata, const char *data, size_t n), void *userdata,
                           bool *ret_done);

/* A response head, as a client reads it. Pointers are into the parsed buffer. */
struct http1_response {
  int minor;              /* HTTP/1.minor */
  int status;             /* 100..599 */
  bool chunked;           /* the body is in chunked coding (its last transfer coding) */
  bool close_delimited;   /* the body runs until the server closes the connection */
  bool has_length;        /* Content-Length framing, and no Transfer-Encoding */
  uint64_t length;
  bool close_after;       /* the server closes the connection after this answer */
  const char *content_type; /* the Content-Type value (trimmed), NULL when absent */
  size_t content_type_len;
};

/* Parses a response head: buf[0..len) holds the status line and the header lines up to
 * and including the empty line. A client is lenient where only the answer's own framing is
 * at stake (other transfer codings read to close; Transfer-Encoding outranks
 * Content-Length) and strict where a wrong guess would misread the body: a malformed
 * status line, a header line without a name, or a bad or conflicting Content-Length
 * give -EBADMSG. Whether a body is expected at all (HEAD, 1xx, 204, 304) is the caller's
 * to decide. */
int http1_parse_response_head(const char *buf, size_t len, struct http1_response *ret);
