/* Parses arbitrary bytes as a TZif file; a parsed zone must answer every query, and local
 * readings must map back to instants without crashing, at ordinary and extreme times. */
#include <stdint.h>
#include <stdlib.h>

#include "lib/tzfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct tzfile *tz = NULL;
  char *err = NULL;
  int r = tzfile_parse(data, size, &tz, &err);
  if (r == 0) {
    if (err || !tz)
      abort();
    static const int64_t times[] = {INT64_MIN,     -4102444800LL, -1,           0,
                                    1711846800,    1729990800,    2147483647LL, 4102444800LL,
                                    INT64_MAX / 2, INT64_MAX};
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
      struct tzfile_period p;
      tzfile_lookup(tz, times[i], &p);
      if (!p.abbr)
        abort();
      tzfile_offset(tz, (time_t)times[i]);
      struct tm tm;
      if (tzfile_localtime(tz, (time_t)times[i], &tm) == 0) {
        time_t back;
        tzfile_mktime(tz, &tm, &back);
      }
    }
    tzfile_free(tz);
  } else if (!err || tz) {
    abort();
  }
  free(err);
  return 0;
}
