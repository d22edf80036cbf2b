#include "lib/macro.h"

#include <stdarg.h>
#include <stdio.h>

static void *oom(void) {
  fputs("ckube: out of memory\n", stderr);
  abort();
}

void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  return p ? p : oom();
}

void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  return p ? p : oom();
}

void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  return q ? q : oom();
}

char *xstrdup(const char *s) {
  char *p = strdup(s);
  return p ? p : oom();
}

char *xstrndup(const char *s, size_t n) {
  char *p = strndup(s, n);
  return p ? p : oom();
}

char *xasprintf(const char *fmt, ...) {
  va_list ap;
  char *s;
  va_start(ap, fmt);
  int r = vasprintf(&s, fmt, ap);
  va_end(ap);
  return r < 0 ? oom() : s;
}
