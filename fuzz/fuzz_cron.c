/* Parses arbitrary bytes as a CronJob schedule; a parsed schedule must walk forward: each
 * activation lies strictly after the previous one, in UTC and in a zone with DST. */
#include <stdint.h>
#include <stdlib.h>

#include "lib/cron.h"
#include "lib/macro.h"
#include "lib/tzfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static struct tzfile *berlin;
  static bool loaded;
  if (!loaded) {
    loaded = true;
    if (tzfile_load("Europe/Berlin", &berlin, NULL) < 0)
      berlin = NULL;
  }
  char *spec = xstrndup((const char *)data, size);
  struct cron_schedule *s = NULL;
  char *err = NULL;
  int r = cron_parse(spec, &s, &err);
  if (r == 0) {
    if (err)
      abort();
    cron_mentions_tz(spec);
    const struct tzfile *zones[] = {NULL, berlin};
    for (size_t z = 0; z < ARRAY_SIZE(zones); z++) {
      time_t t = 1711846800; /* 2024-03-31T01:00:00Z, a spring-forward instant in Berlin */
      for (int i = 0; i < 4; i++) {
        time_t next;
        if (cron_next(s, zones[z], t, &next) < 0)
          break;
        if (next <= t)
          abort();
        t = next;
      }
    }
    cron_free(s);
  } else if (!err || r != -EINVAL || s) {
    abort();
  }
  free(err);
  free(spec);
  return 0;
}
