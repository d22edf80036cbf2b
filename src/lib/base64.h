/* base64.h — standard base64 (RFC 4648 §4, with padding), as Kubernetes uses for Secret
 * data and continue tokens. */
#pragma once

#include <stddef.h>

/* Encodes len bytes; returns a malloc'd NUL-terminated string. */
char *base64_encode(const void *data, size_t len);

/* Decodes a padded base64 string. Returns the decoded length (≥ 0) and a malloc'd,
 * NUL-terminated buffer in *ret, or -EINVAL for malformed input. */
long base64_decode(const char *s, size_t len, char **ret);

/* Decodes base64 the lenient way peers such as etcd's JSON gateway may send it: the
 * standard or the URL-safe alphabet ('-', '_'), padding optional, everything from the
 * first '=' on ignored. Same returns as base64_decode(). */
long base64_decode_relaxed(const char *s, size_t len, char **ret);
