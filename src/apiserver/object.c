#include "apiserver/object.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>

#include <gnutls/crypto.h>

#include "lib/macro.h"

char *object_api_version(const struct api_resource *r) {
  return *r->group ? xasprintf("%s/%s", r->group, r->version) : xstrdup(r->version);
}

/* GnuTLS's generator is seeded from the kernel and runs in user space: a uid per create
 * then costs no system call. */
static void random_bytes(void *buf, size_t n) {
  if (gnutls_rnd(GNUTLS_RND_RANDOM, buf, n) == 0)
    return;
  uint8_t *p = buf;
  while (n > 0) {
    ssize_t k = getrandom(p, n, 0);
    if (k < 0) {
      if (errno == EINTR)
        continue;
      abort(); /* no entropy source: nothing sensible to fall back on */
    }
    p += k;
    n -= (size_t)k;
  }
}

void object_new_uid(char buf[static 37]) {
  uint8_t b[16];
  random_bytes(b, sizeof(b));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  snprintf(buf, 37,
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
           b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
           b[14], b[15]);
}

void object_now(char buf[static 32]) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

bool object_has_generation(const struct api_resource *r) {
  static const char *const with[] = {
      "deployments", "replicasets", "statefulsets", "daemonsets", "replicationcontrollers",
      "jobs", "cronjobs", "horizontalpodautoscalers", "poddisruptionbudgets", "ingresses",
      "networkpolicies", "ingressclasses", "priorityclasses", "storageclasses",
      "validatingwebhookconfigurations", "mutatingwebhookconfigurations", "csidrivers",
      "runtimeclasses"};
  for (size_t i = 0; i < ARRAY_SIZE(with); i++)
    if (streq(r->plural, with[i]))
      return true;
  return false;
}

bool object_spec_changed(const json_t *a, const json_t *b) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)a, k, v) {
    if (streq(k, "metadata") || streq(k, "status"))
      continue;
    if (!json_equal(v, json_object_get(b, k)))
      return true;
  }
  json_object_foreach((json_t *)b, k, v) {
    if (streq(k, "metadata") || streq(k, "status"))
      continue;
    if (!json_object_get(a, k))
      return true;
  }
  return false;
}

char *object_generate_name(const char *base) {
  static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  uint8_t b[5];
  random_bytes(b, sizeof(b));
  char suffix[6];
  for (size_t i = 0; i < 5; i++)
    suffix[i] = alphabet[b[i] % (sizeof(alphabet) - 1)];
  suffix[5] = 0;
  /* kube trims the base to 63-5 characters so the result stays a valid name. */
  size_t n = strlen(base);
  if (n > 58)
    n = 58;
  return xasprintf("%.*s%s", (int)n, base, suffix);
}
