#include "lib/base64.h"

#include "lib/macro.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *base64_encode(const void *data, size_t len) {
  const unsigned char *s = data;
  char *out = xmalloc(4 * ((len + 2) / 3) + 1);
  size_t o = 0;
  for (size_t i = 0; i < len; i += 3) {
    unsigned b = (unsigned)s[i] << 16;
    if (i + 1 < len)
      b |= (unsigned)s[i + 1] << 8;
    if (i + 2 < len)
      b |= s[i + 2];
    out[o++] = alphabet[(b >> 18) & 63];
    out[o++] = alphabet[(b >> 12) & 63];
    out[o++] = i + 1 < len ? alphabet[(b >> 6) & 63] : '=';
    out[o++] = i + 2 < len ? alphabet[b & 63] : '=';
  }
  out[o] = 0;
  return out;
}

static int value_of(char c, bool url_safe) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+' || (url_safe && c == '-'))
    return 62;
  if (c == '/' || (url_safe && c == '_'))
    return 63;
  return -1;
}

long base64_decode(const char *s, size_t len, char **ret) {
  if (len % 4 != 0)
    return -EINVAL;
  char *out = xmalloc(len / 4 * 3 + 1);
  size_t o = 0;
  for (size_t i = 0; i < len; i += 4) {
    int v[4];
    for (int j = 0; j < 4; j++) {
      char c = s[i + j];
      /* padding only in the last quantum, and only at its end */
      if (c == '=' && i + 4 == len && j >= 2 && (j == 3 || s[i + 3] == '=')) {
        v[j] = -2;
        continue;
      }
      v[j] = value_of(c, false);
      if (v[j] < 0) {
        free(out);
        return -EINVAL;
      }
    }
    unsigned b = (unsigned)v[0] << 18 | (unsigned)v[1] << 12;
    out[o++] = (char)(b >> 16);
    if (v[2] >= 0) {
      b |= (unsigned)v[2] << 6;
      out[o++] = (char)((b >> 8) & 0xff);
    }
    if (v[3] >= 0) {
      b |= (unsigned)v[3];
      out[o++] = (char)(b & 0xff);
    }
  }
  out[o] = 0;
  *ret = out;
  return (long)o;
}

long base64_decode_relaxed(const char *s, size_t len, char **ret) {
  char *out = xmalloc(len / 4 * 3 + 3);
  size_t o = 0;
  unsigned acc = 0;
  int bits = 0;
  for (size_t i = 0; i < len && s[i] != '='; i++) {
    int v = value_of(s[i], true);
    if (v < 0) {
      free(out);
      return -EINVAL;
    }
    acc = (acc << 6 | (unsigned)v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (char)((acc >> bits) & 0xff);
    }
  }
  out[o] = 0;
  *ret = out;
  return (long)o;
}
