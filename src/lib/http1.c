/* http1.c — HTTP/1.1 request head and chunked body framing, see http1.h. */
#include "lib/http1.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

/* RFC 9110 5.6.2: a Content-Length or chunk-size beyond this is refused rather than risk
 * overflow in whoever adds offsets to it later. */
#define HTTP1_MAX_LENGTH (UINT64_C(1) << 62)
#define HTTP1_MAX_CHUNK_LINE 4096

static bool is_token_char(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
    return true;
  return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_ows(char c) {
  return c == ' ' || c == '\t';
}

/* field-value characters (RFC 9110 5.5): visible ASCII, SP, HTAB and obs-text. */
static bool is_field_char(unsigned char c) {
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

int http1_hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Returns the index of the next LF at or after i, or len. */
static size_t find_lf(const char *buf, size_t i, size_t len) {
  const char *p = memchr(buf + i, '\n', len - i);
  return p ? (size_t)(p - buf) : len;
}

/* Finds where the head ends within buf[0..len): sets *ret_start to the first byte of the
 * request line (after leading empty lines) and returns the offset just past the
 * terminating empty line, or 0 when it is not there yet. Reads only, so an incomplete
 * head leaves the buffer as the caller gave it. */
static size_t find_head_end(const char *buf, size_t len, size_t *ret_start) {
  size_t i = 0;

  for (;;) {
    if (i < len && buf[i] == '\n')
      i++;
    else if (i + 1 < len && buf[i] == '\r' && buf[i + 1] == '\n')
      i += 2;
    else
      break;
  }
  size_t start = i;
  if (i >= len)
    return 0;
  /* The request line itself is never the terminating empty line: it is non-empty here. */
  i = find_lf(buf, i, len);
  while (i < len) {
    size_t line = i + 1;
    size_t lf = find_lf(buf, line, len);
    if (lf == len)
      return 0;
    if (lf == line || (lf == line + 1 && buf[line] == '\r')) {
      *ret_start = start;
      return lf + 1;
    }
    i = lf;
  }
  return 0;
}

/* Returns the end of the line content beginning at `line`: the LF, or the CR before it. */
static size_t line_content_end(const char *buf, size_t lf, size_t line) {
  return lf > line && buf[lf - 1] == '\r' ? lf - 1 : lf;
}

static int parse_request_line(char *buf, size_t start, size_t end, struct http1_head *h) {
  size_t i = start;

  while (i < end && is_token_char((unsigned char)buf[i]))
    i++;
  if (i == start || i >= end || buf[i] != ' ')
    return -EBADMSG;
  h->method = buf + start;
  buf[i++] = '\0';

  size_t target = i;
  while (i < end && buf[i] >= 0x21 && buf[i] <= 0x7e)
    i++;
  if (i == target || i >= end || buf[i] != ' ')
    return -EBADMSG;
  h->target = buf + target;
  buf[i++] = '\0';

  const char *v = buf + i;
  if (end - i != 8 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' || v[6] != '.' ||
      v[7] < '0' || v[7] > '9')
    return -EBADMSG;
  if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
    return -EPROTONOSUPPORT;
  h->minor = v[7] - '0';
  return 0;
}

static int parse_header_line(char *buf, size_t line, size_t end, struct http1_header *ret) {
  size_t i = line;

  /* A leading SP/HTAB is obs-fold (or whitespace before the first field): RFC 9112 5.2
   * lets a server reject it, and it has to, since not every peer folds the same way. */
  while (i < end && is_token_char((unsigned char)buf[i]))
    i++;
  if (i == line || i >= end || buf[i] != ':')
    return -EBADMSG;
  buf[i++] = '\0';

  while (i < end && is_ows(buf[i]))
    i++;
  size_t value = i;
  for (size_t j = value; j < end; j++)
    if (!is_field_char((unsigned char)buf[j]))
      return -EBADMSG;
  size_t value_end = end;
  while (value_end > value && is_ows(buf[value_end - 1]))
    value_end--;
  buf[value_end] = '\0';

  ret->name = buf + line;
  ret->value = buf + value;
  return 0;
}

/* Iterates over the elements of a comma-separated list value, each trimmed of OWS (empty
 * elements included). Returns false when the list is exhausted. */
static bool list_next(const char **cursor, const char **ret_elem, size_t *ret_n) {
  const char *p = *cursor;
  if (!p)
    return false;
  while (is_ows(*p))
    p++;
  const char *comma = strchr(p, ',');
  const char *e = comma ? comma : p + strlen(p);
  *ret_elem = p;
  while (e > p && is_ows(e[-1]))
    e--;
  *ret_n = (size_t)(e - p);
  *cursor = comma ? comma + 1 : NULL;
  return true;
}

static bool elem_is(const char *elem, size_t n, const char *word) {
  return n == strlen(word) && strncasecmp(elem, word, n) == 0;
}

static int parse_length(const char *s, size_t n, uint64_t *ret) {
  uint64_t v = 0;

  if (n == 0)
    return -EBADMSG;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -EBADMSG;
    v = v * 10 + (uint64_t)(s[i] - '0');
    if (v > HTTP1_MAX_LENGTH)
      return -EBADMSG;
  }
  *ret = v;
  return 0;
}

/* Derives the framing and connection flags from the parsed headers. */
static int apply_headers(struct http1_head *h) {
  bool conn_close = false, conn_keep_alive = false;
  size_t n_te = 0;
  const char *te = NULL;

  for (size_t k = 0; k < h->n_headers; k++) {
    const char *name = h->headers[k].name, *value = h->headers[k].value;
    const char *cursor = value, *elem;
    size_t n;

    if (strcasecmp(name, "Content-Length") == 0) {
      /* A repeated length is tolerated only when every copy agrees (RFC 9110 8.6). */
      while (list_next(&cursor, &elem, &n)) {
        uint64_t v;
        int r = parse_length(elem, n, &v);
        if (r < 0)
          return r;
        if (h->has_length && v != h->content_length)
          return -EBADMSG;
        h->has_length = true;
        h->content_length = v;
      }
    } else if (strcasecmp(name, "Transfer-Encoding") == 0) {
      n_te++;
      te = value;
    } else if (strcasecmp(name, "Connection") == 0) {
      while (list_next(&cursor, &elem, &n)) {
        if (elem_is(elem, n, "close"))
          conn_close = true;
        else if (elem_is(elem, n, "keep-alive"))
          conn_keep_alive = true;
      }
    } else if (strcasecmp(name, "Expect") == 0) {
      if (h->minor >= 1 && strcasecmp(value, "100-continue") == 0)
        h->expect_continue = true;
    }
  }

  if (n_te > 0) {
    /* RFC 9112 6.1/6.3: with both, Transfer-Encoding would win, but a peer that believed
     * the Content-Length reads a different request boundary; refuse instead. */
    if (h->has_length || h->minor == 0)
      return -EBADMSG;
    if (n_te > 1 || strcasecmp(te, "chunked") != 0)
      return -ENOSYS;
    h->chunked = true;
  }
  h->keep_alive = h->minor >= 1 ? !conn_close : conn_keep_alive && !conn_close;
  return 0;
}

ssize_t http1_parse_head(char *buf, size_t len, size_t max_head, struct http1_head *ret) {
  size_t scan = len < max_head ? len : max_head, start = 0;
  size_t end = find_head_end(buf, scan, &start);

  if (end == 0)
    return len >= max_head ? -E2BIG : 0;

  struct http1_head h = {0};
  size_t lf = find_lf(buf, start, end);
  int r = parse_request_line(buf, start, line_content_end(buf, lf, start), &h);
  if (r < 0)
    return r;

  for (;;) {
    size_t line = lf + 1;
    lf = find_lf(buf, line, end);
    size_t content_end = line_content_end(buf, lf, line);
    if (content_end == line)
      break;
    if (h.n_headers == HTTP1_MAX_HEADERS)
      return -EBADMSG;
    r = parse_header_line(buf, line, content_end, &h.headers[h.n_headers]);
    if (r < 0)
      return r;
    h.n_headers++;
  }

  r = apply_headers(&h);
  if (r < 0)
    return r;
  *ret = h;
  return (ssize_t)end;
}

const char *http1_header(const struct http1_head *h, const char *name) {
  for (size_t k = 0; k < h->n_headers; k++)
    if (strcasecmp(h->headers[k].name, name) == 0)
      return h->headers[k].value;
  return NULL;
}

enum {
  CHUNK_SIZE_START, /* first hex digit of a chunk-size */
  CHUNK_SIZE,       /* further hex digits */
  CHUNK_SIZE_WS,    /* BWS after the size, before ';' or CR */
  CHUNK_EXT,        /* extensions, ignored up to CR */
  CHUNK_SIZE_LF,    /* the LF ending the chunk-size line */
  CHUNK_DATA,
  CHUNK_DATA_CR, /* the CRLF ending a chunk's data */
  CHUNK_DATA_LF,
  CHUNK_TRAILER_START, /* start of a trailer line, or of the final empty line */
  CHUNK_TRAILER,
  CHUNK_TRAILER_LF,
  CHUNK_END_LF, /* the LF of the final empty line */
  CHUNK_DONE,
  CHUNK_ERROR,
};

void http1_chunked_init(struct http1_chunked *c) {
  *c = (struct http1_chunked){0};
}

static ssize_t chunked_fail(struct http1_chunked *c) {
  c->state = CHUNK_ERROR;
  return -EBADMSG;
}

ssize_t http1_chunked_feed(struct http1_chunked *c, const char *in, size_t len,
                           void (*emit)(void *userdata, const char *data, size_t n), void *userdata,
                           bool *ret_done) {
  size_t i = 0;

  if (c->state == CHUNK_ERROR)
    return -EBADMSG;

  while (i < len && c->state != CHUNK_DONE) {
    unsigned char ch = (unsigned char)in[i];
    int d;

    switch (c->state) {
    case CHUNK_SIZE_START:
    case CHUNK_SIZE:
      d = http1_hex_value((char)ch);
      if (d >= 0) {
        if (c->remaining > (HTTP1_MAX_LENGTH - (uint64_t)d) / 16)
          return chunked_fail(c);
        c->remaining = c->remaining * 16 + (uint64_t)d;
        c->state = CHUNK_SIZE;
      } else if (c->state == CHUNK_SIZE_START) {
        return chunked_fail(c);
      } else if (is_ows((char)ch)) {
        c->state = CHUNK_SIZE_WS;
      } else if (ch == ';') {
        c->state = CHUNK_EXT;
      } else if (ch == '\r') {
        c->state = CHUNK_SIZE_LF;
      } else {
        return chunked_fail(c);
      }
      break;
    case CHUNK_SIZE_WS:
      if (ch == ';')
        c->state = CHUNK_EXT;
      else if (ch == '\r')
        c->state = CHUNK_SIZE_LF;
      else if (!is_ows((char)ch))
        return chunked_fail(c);
      break;
    case CHUNK_EXT:
      if (ch == '\r')
        c->state = CHUNK_SIZE_LF;
      else if (!is_field_char(ch))
        return chunked_fail(c);
      break;
    case CHUNK_SIZE_LF:
      if (ch != '\n')
        return chunked_fail(c);
      c->line_len = 0;
      c->state = c->remaining == 0 ? CHUNK_TRAILER_START : CHUNK_DATA;
      i++;
      continue;
    case CHUNK_DATA: {
      size_t n = len - i;
      if ((uint64_t)n > c->remaining)
        n = (size_t)c->remaining;
      if (emit)
        emit(userdata, in + i, n);
      c->remaining -= n;
      i += n;
      if (c->remaining == 0)
        c->state = CHUNK_DATA_CR;
      continue;
    }
    case CHUNK_DATA_CR:
      if (ch != '\r')
        return chunked_fail(c);
      c->state = CHUNK_DATA_LF;
      i++;
      continue;
    case CHUNK_DATA_LF:
      if (ch != '\n')
        return chunked_fail(c);
      c->state = CHUNK_SIZE_START;
      c->line_len = 0;
      i++;
      continue;
    case CHUNK_TRAILER_START:
      if (ch == '\r') {
        c->state = CHUNK_END_LF;
        i++;
        continue;
      }
      if (ch == '\n')
        return chunked_fail(c);
      c->state = CHUNK_TRAILER;
      break;
    case CHUNK_TRAILER:
      if (ch == '\r')
        c->state = CHUNK_TRAILER_LF;
      else if (ch == '\n')
        return chunked_fail(c);
      break;
    case CHUNK_TRAILER_LF:
      if (ch != '\n')
        return chunked_fail(c);
      c->state = CHUNK_TRAILER_START;
      c->line_len = 0;
      i++;
      continue;
    case CHUNK_END_LF:
      if (ch != '\n')
        return chunked_fail(c);
      c->state = CHUNK_DONE;
      i++;
      continue;
    default:
      return chunked_fail(c);
    }

    /* Only chunk-size and trailer line content reaches here; the CR ending it is not
     * counted. */
    if (ch != '\r' && ++c->line_len > HTTP1_MAX_CHUNK_LINE)
      return chunked_fail(c);
    i++;
  }

  *ret_done = c->state == CHUNK_DONE;
  return (ssize_t)i;
}

/* Does the comma-separated list v[0..vlen) hold `token` (case-insensitive)? */
static bool list_has(const char *v, size_t vlen, const char *token) {
  size_t tl = strlen(token);
  const char *end = v + vlen;
  while (v < end) {
    while (v < end && (*v == ' ' || *v == '\t' || *v == ','))
      v++;
    const char *s = v;
    while (v < end && *v != ',')
      v++;
    const char *e = v;
    while (e > s && is_ows(e[-1]))
      e--;
    if ((size_t)(e - s) == tl && strncasecmp(s, token, tl) == 0)
      return true;
  }
  return false;
}

int http1_parse_response_head(const char *p, size_t len, struct http1_response *ret) {
  const char *end = p + len;
  if (len < 16 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != ' ' ||
      p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9' ||
      (p[12] != ' ' && p[12] != '\r'))
    return -EBADMSG;
  struct http1_response h = {.minor = p[7] - '0',
                             .status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0')};
  bool keep_alive = false, close = false, te = false;
  const char *line = memmem(p, len, "\r\n", 2);
  if (!line)
    return -EBADMSG;
  line += 2;
  while (line < end) {
    const char *eol = memmem(line, (size_t)(end - line), "\r\n", 2);
    if (!eol || eol == line)
      break;
    const char *colon = memchr(line, ':', (size_t)(eol - line));
    if (!colon || colon == line)
      return -EBADMSG;
    size_t nl = (size_t)(colon - line);
    const char *v = colon + 1, *ve = eol;
    while (v < ve && is_ows(*v))
      v++;
    while (ve > v && is_ows(ve[-1]))
      ve--;
    size_t vl = (size_t)(ve - v);
#define IS(name) (nl == sizeof(name) - 1 && strncasecmp(line, name, nl) == 0)
    if (IS("Content-Length")) {
      uint64_t n;
      if (parse_length(v, vl, &n) < 0 || (h.has_length && h.length != n))
        return -EBADMSG;
      h.has_length = true;
      h.length = n;
    } else if (IS("Transfer-Encoding")) {
      te = true;
      /* RFC 9112 6.3: chunked must come last; any other final coding reads to close. */
      const char *last = v + vl;
      while (last > v && last[-1] != ',')
        last--;
      h.chunked = list_has(last, (size_t)(v + vl - last), "chunked");
    } else if (IS("Connection")) {
      close |= list_has(v, vl, "close");
      keep_alive |= list_has(v, vl, "keep-alive");
    } else if (IS("Content-Type")) {
      h.content_type = v;
      h.content_type_len = vl;
    }
#undef IS
    line = eol + 2;
  }
  /* Transfer-Encoding overrides Content-Length (RFC 9112 6.3). */
  if (te)
    h.has_length = false;
  h.close_delimited = te ? !h.chunked : !h.has_length;
  h.close_after = close || (h.minor == 0 && !keep_alive);
  *ret = h;
  return 0;
}
