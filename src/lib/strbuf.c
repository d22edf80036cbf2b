#include "lib/strbuf.h"

#include <stdarg.h>
#include <stdio.h>

#include "lib/macro.h"

static void reserve(struct strbuf *b, size_t more) {
  if (b->len + more + 1 <= b->cap)
    return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + more + 1)
    cap *= 2;
  b->s = xrealloc(b->s, cap);
  b->cap = cap;
}

void strbuf_append(struct strbuf *b, const void *data, size_t len) {
  reserve(b, len);
  memcpy(b->s + b->len, data, len);
  b->len += len;
  b->s[b->len] = 0;
}

void strbuf_appends(struct strbuf *b, const char *str) { strbuf_append(b, str, strlen(str)); }

void strbuf_appendc(struct strbuf *b, char c) {
  strbuf_append(b, &c, 1);
}

void strbuf_appendf(struct strbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  reserve(b, (size_t)n);
  va_start(ap, fmt);
  vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

char *strbuf_take(struct strbuf *b, size_t *ret_len) {
  if (!b->s)
    reserve(b, 0), b->s[0] = 0;
  char *s = b->s;
  if (ret_len)
    *ret_len = b->len;
  *b = (struct strbuf){0};
  return s;
}

void strbuf_clear(struct strbuf *b) {
  free(b->s);
  *b = (struct strbuf){0};
}
