/* timeutil.h — the time formats of the Kubernetes API: metav1.Time (RFC 3339, whole
 * seconds, UTC: "2024-01-02T15:04:05Z"), metav1.MicroTime ("2024-01-02T15:04:05.123456Z"),
 * and the human age the AGE column of `kubectl get` shows (apimachinery's
 * duration.HumanDuration: "0s", "59s", "5m12s", "3h", "2d5h", "3y2d").
 *
 * Also Go's duration syntax, and deadlines for timed waits.
 *
 * All functions are thread-safe (they use gmtime_r/timegm/clock_gettime only). Nothing here
 * logs. */
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

/* Parses a Go duration ("300ms", "1.5h", "2h45m", "-1m", "0") into nanoseconds, exactly as
 * time.ParseDuration: units ns, us (µs), ms, s, m, h; a unit on every number but a lone
 * "0". 0, or -EINVAL for bad syntax, -ERANGE on overflow. */
int timeutil_parse_duration(const char *s, int64_t *ret_ns);
/* The same, and on failure, when ret_err is non-NULL, Go's error text in *ret_err (caller
 * frees): `time: invalid duration "5x5"`, `time: missing unit in duration "10"`,
 * `time: unknown unit "x" in duration "1x"`. */
int timeutil_parse_duration_msg(const char *s, int64_t *ret_ns, char **ret_err);

/* The absolute time ms milliseconds from now on clock, for pthread_cond_timedwait with a
 * condition variable on that clock (CLOCK_REALTIME unless set with
 * pthread_condattr_setclock). ms may be negative (a deadline already past). */
struct timespec timeutil_deadline(clockid_t clock, long long ms);

/* clock's current time in milliseconds. */
long long timeutil_now_ms(clockid_t clock);
