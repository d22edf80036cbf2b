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

void *xgrow(void *p, size_t n, size_t *cap, size_t size) {
  if (n < *cap)
    return p;
  *cap = *cap ? *cap * 2 : 4;
  return xrealloc(p, *cap * size);
}

char *xstrdup(const char *s) {
  char *p = strdup(s);
  return p ? p : oom();
}

char *xstrndup(const char *s, size_t n) {
  char *p = strndup(s, n);
  return p ? p : oom();
}

char *xvasprintf(const char *fmt, va_list ap) {
  char *s;
  return vasprintf(&s, fmt, ap) < 0 ? oom() : s;
}

char *xasprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = xvasprintf(fmt, ap);
  va_end(ap);
  return s;
}

int set_error(char **ret_err, int r, const char *fmt, ...) {
  if (ret_err) {
    va_list ap;
    va_start(ap, fmt);
    *ret_err = xvasprintf(fmt, ap);
    va_end(ap);
  }
  return r;
}
