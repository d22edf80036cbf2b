/* fileio.h — whole-file reads and atomic writes, for the small files ckube keeps: PEM
 * pairs, kubeconfigs, token files. Knows nothing of Kubernetes; never logs.
 *
 * Both functions are thread-safe (no shared state) and return 0 or a negative errno. */
#pragma once

#include <stddef.h>

/* Reads the whole of `path` into a malloc'd, NUL-terminated buffer (*ret; the NUL is not
 * counted in *ret_len, which may be NULL). Reading stops with -EFBIG once the file turns
 * out to hold more than `max_size` bytes, so a hostile path such as /dev/zero cannot
 * exhaust memory. Other failures are the -errno of open()/read(). The out-params are
 * written only on success. */
int fileio_read_all(const char *path, size_t max_size, char **ret, size_t *ret_len);

/* Writes `len` bytes to `path` atomically: a temporary file in the same directory with
 * permission `mode`, fsync, then rename over `path`, so readers see the old or the new
 * content, never a mix, and a crash leaves no partial file. Returns 0 or -errno (the
 * temporary file is removed on failure). */
int fileio_write_atomic(const char *path, const void *data, size_t len, unsigned mode);
