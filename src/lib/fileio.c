#include "lib/fileio.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include "lib/macro.h"

int fileio_read_all(const char *path, size_t max_size, char **ret, size_t *ret_len) {
  _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  _cleanup_free_ char *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    /* One byte beyond the cap is read to tell "exactly max_size" from "more". */
    if (len + 1 >= cap) {
      size_t want = cap ? cap * 2 : 4096;
      if (max_size < SIZE_MAX - 2 && want > max_size + 2)
        want = max_size + 2;
      if (want <= len + 1)
        return -EFBIG;
      buf = xrealloc(buf, cap = want);
    }
    ssize_t n = read(fd, buf + len, cap - len - 1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -errno;
    if (n == 0)
      break;
    len += (size_t)n;
    if (len > max_size)
      return -EFBIG;
  }
  if (!buf)
    buf = xmalloc(1);
  buf[len] = '\0';
  *ret = TAKE_PTR(buf);
  if (ret_len)
    *ret_len = len;
  return 0;
}

int fileio_write_atomic(const char *path, const void *data, size_t len, unsigned mode) {
  _cleanup_free_ char *tmp = xasprintf("%s.tmp.XXXXXX", path);
  int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0)
    return -errno;
  int r = 0;
  if (fchmod(fd, mode) < 0)
    r = -errno;
  const char *p = data;
  size_t left = len;
  while (r == 0 && left > 0) {
    ssize_t n = write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      r = -errno;
      break;
    }
    p += n;
    left -= (size_t)n;
  }
  if (r == 0 && fsync(fd) < 0)
    r = -errno;
  if (close(fd) < 0 && r == 0)
    r = -errno;
  if (r == 0 && rename(tmp, path) < 0)
    r = -errno;
  if (r < 0)
    unlink(tmp);
  return r;
}
