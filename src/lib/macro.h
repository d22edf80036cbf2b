/* macro.h — small language helpers used everywhere: scope-bound cleanup, ownership
 * transfer, array sizes. Knows nothing of Kubernetes. */
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define _cleanup_(f) __attribute__((cleanup(f)))

/* Returns the pointer and sets the variable to NULL: hands ownership on. */
#define TAKE_PTR(p)                                                                    \
  ({                                                                                   \
    __typeof__(p) _tp = (p);                                                           \
    (p) = NULL;                                                                        \
    _tp;                                                                               \
  })

#define TAKE_FD(fd)                                                                    \
  ({                                                                                   \
    int _tf = (fd);                                                                    \
    (fd) = -1;                                                                         \
    _tf;                                                                               \
  })

static inline void freep(void *p) { free(*(void **)p); }
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd) {
  if (*fd >= 0) {
    int saved = errno;
    close(*fd);
    errno = saved;
  }
}
#define _cleanup_close_ _cleanup_(closep)


/* Declares a cleanup function `namep(type **)` that calls `func` on non-NULL values. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                        \
  static inline void func##p(type *p) {                                                \
    if (*p)                                                                            \
      func(*p);                                                                        \
  }

static inline bool streq_ptr(const char *a, const char *b) {
  if (!a || !b)
    return a == b;
  return strcmp(a, b) == 0;
}

#define streq(a, b) (strcmp((a), (b)) == 0)
#define startswith(s, prefix) (strncmp((s), (prefix), strlen(prefix)) == 0)

/* Aborts on allocation failure: out-of-memory is not an input error we can report. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Makes room for element n of a growable array of `size`-byte elements whose capacity is
 * *cap: doubles the capacity (from 4) when n has reached it. Returns the array, which may
 * have moved: `v = xgrow(v, n, &cap, sizeof(*v)); v[n++] = x;`. */
void *xgrow(void *p, size_t n, size_t *cap, size_t size);
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* For functions that report failures as a negative errno plus an optional message:
 * stores the formatted message in *ret_err (malloc'd, the caller frees) when ret_err is
 * non-NULL, and returns r, so a failure path reads `return set_error(ret_err, -EINVAL,
 * "bad port %u", port);`. Aborts on out-of-memory like xasprintf. */
int set_error(char **ret_err, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
