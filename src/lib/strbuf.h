/* strbuf.h — a growable byte buffer for building responses. Always NUL-terminated once
 * anything was appended; aborts on out-of-memory like xmalloc. Not thread-safe. */
#pragma once

#include <stddef.h>

struct strbuf {
  char *s;
  size_t len, cap;
};

void strbuf_append(struct strbuf *b, const void *data, size_t len);
void strbuf_appends(struct strbuf *b, const char *str);
void strbuf_appendc(struct strbuf *b, char c);
void strbuf_appendf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the bytes over (caller frees; never NULL) and empties b. */
char *strbuf_take(struct strbuf *b, size_t *ret_len);
void strbuf_clear(struct strbuf *b);
