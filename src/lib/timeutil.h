/* timeutil.h — the time formats of the Kubernetes API: metav1.Time (RFC 3339, whole
 * seconds, UTC: "2024-01-02T15:04:05Z"), metav1.MicroTime ("2024-01-02T15:04:05.123456Z"),
 * and the human age the AGE column of `kubectl get` shows (apimachinery's
 * duration.HumanDuration: "0s", "59s", "5m12s", "3h", "2d5h", "3y2d").
 *
 * All functions are thread-safe (they use gmtime_r/timegm only). Nothing here logs. */
#pragma once

#include <stdint.h>
#include <time.h>

/* Formats t (seconds since the epoch) as metav1.Time. Caller frees. */
char *timeutil_format(time_t t);
/* Formats ts as metav1.MicroTime (microseconds, truncated). Caller frees. */
char *timeutil_format_micro(const struct timespec *ts);

/* The current wall-clock time in either format. Caller frees. */
char *timeutil_now(void);
char *timeutil_now_micro(void);

/* Parses RFC 3339 as Go's time.Parse(time.RFC3339) does: "2006-01-02T15:04:05Z", with
 * optional fractional seconds (up to 9 digits) and a "Z" or "+hh:mm"/"-hh:mm" offset.
 * Returns 0 and the instant (UTC) in *ret, or -EINVAL. */
int timeutil_parse(const char *s, struct timespec *ret);

/* duration.HumanDuration of a duration in nanoseconds: "<invalid>" below -1s, "0s" for
 * [-1s, 0), then "59s", "119s", "2m", "5m12s", "10m", "3h", "7h59m", "47h", "2d5h", "7d",
 * "730d", "2y", "3y2d", "8y" … Writes into buf (32 bytes is always enough); returns buf. */
const char *timeutil_human_duration(int64_t ns, char *buf, size_t size);

/* The AGE cell for a creationTimestamp, relative to now: HumanDuration(now - t), or
 * "<unknown>" when the timestamp is NULL, empty or unparseable. Caller frees. */
char *timeutil_age(const char *timestamp, const struct timespec *now);

/* Parses a Go duration ("300ms", "1.5h", "2h45m", "-1m", "0") into nanoseconds, as
 * time.ParseDuration: units ns, us (µs), ms, s, m, h; a unit on every number but a lone
 * "0". 0, or -EINVAL for bad syntax, -ERANGE on overflow. */
int timeutil_parse_duration(const char *s, int64_t *ret_ns);
