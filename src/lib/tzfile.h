/* tzfile.h — the IANA time-zone database without the TZ environment variable: TZif files
 * (RFC 8536, versions 1 to 4) read from the zoneinfo directory, including the POSIX TZ
 * string of the footer ("CET-1CEST,M3.5.0,M10.5.0/3") that governs times after the last
 * transition. Conversions follow Go's time package, because Kubernetes computes CronJob
 * schedules with it: the same offsets, and the same answers for local times that fall in
 * a DST gap or overlap (see tzfile_mktime).
 *
 * A zone is immutable once loaded: share it freely between threads. Every function that
 * takes a zone accepts NULL for UTC. Leap-second records are ignored, as Go ignores them.
 * Nothing here logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/macro.h"

struct tzfile;

/* The span of time during which one UTC offset is in force. */
struct tzfile_period {
  long offset; /* seconds east of UTC */
  bool isdst;
  const char *abbr; /* "CEST"; owned by the zone (or static), valid while it lives */
  int64_t start;    /* first instant of the span; INT64_MIN when unbounded */
  int64_t end;      /* first instant after it; INT64_MAX when unbounded */
};

/* True when `name` passes Kubernetes' CronJob spec.timeZone name rule: every '/'-separated
 * part is 1-14 of [A-Za-z0-9._+-], is not "." or "..", and does not start with '-'. (It
 * says nothing of whether the zone exists; "Local" passes.) Thread-safe. */
bool tzfile_name_valid(const char *name);

/* Loads the zone `name` ("Europe/Berlin") as Go's time.LoadLocation does. "" and "UTC" are
 * UTC without reading any file, and so is "Local" (ckube's servers keep their clocks in UTC;
 * Kubernetes' validation refuses "Local" before it gets here). Other names are read from
 * $ZONEINFO when that is set, else from /usr/share/zoneinfo (then /usr/share/lib/zoneinfo,
 * /usr/lib/locale/TZ); "Etc/UTC" and the other UTC aliases fall back to built-in UTC when
 * tzdata is absent. Names that fail tzfile_name_valid() or start with '/', and names that do
 * not resolve to a valid TZif file, fail with -ENOENT (-EINVAL for a corrupt file) and the
 * message "unknown time zone <name>" in *ret_err (malloc'd; ret_err may be NULL). On success
 * *ret is the zone; free it with tzfile_free(). Thread-safe. */
int tzfile_load(const char *name, struct tzfile **ret, char **ret_err);

/* Parses the bytes of a TZif file. Returns 0 and the zone in *ret, or -EINVAL with a
 * message in *ret_err (malloc'd; may be NULL) naming what is malformed. A footer TZ string
 * that cannot be parsed is ignored, as Go ignores it: the last transition's offset then
 * holds for ever. Never reads beyond len. Thread-safe. */
int tzfile_parse(const void *buf, size_t len, struct tzfile **ret, char **ret_err);

/* Frees a zone; NULL is fine. */
void tzfile_free(struct tzfile *tz);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct tzfile *, tzfile_free)
#define _cleanup_tzfile_ _cleanup_(tzfile_freep)

/* The zone's name as given to tzfile_load ("UTC" for NULL, "" for a parsed buffer). */
const char *tzfile_name(const struct tzfile *tz);

/* The offset period in force at instant t (Go's Location.lookup). Times before the first
 * transition use the file's first time type (RFC 8536). Always succeeds. */
void tzfile_lookup(const struct tzfile *tz, int64_t t, struct tzfile_period *ret);

/* The UTC offset, in seconds east of UTC, in force at instant t. */
long tzfile_offset(const struct tzfile *tz, time_t t);

/* Breaks instant t down into local time in zone tz, like localtime_r: every field of *ret
 * including tm_wday, tm_yday, tm_isdst, tm_gmtoff and tm_zone (a pointer owned by tz).
 * Returns 0, or -EOVERFLOW (nothing written) when the year does not fit an int. */
int tzfile_localtime(const struct tzfile *tz, time_t t, struct tm *ret);

/* The instant of local time *tm in zone tz, with Go's time.Date semantics: out-of-range
 * fields are normalized (month 13 is January of the next year, day 0 the last day of the
 * previous month, minute 60 the next hour …); tm_isdst, tm_wday and tm_yday are ignored
 * and *tm is not modified. For a local time that occurs twice or not at all, Go's rule
 * decides: take the offset in force at the instant whose UTC reading equals the local
 * reading; if that offset's period does not contain the resulting instant, use the offset
 * in force at the resulting instant instead. In Europe/Berlin 02:30 on a spring-forward day
 * becomes 03:30 CEST and on a fall-back day 02:30 CET (the later); in America/New_York the
 * gap's 02:30 becomes 01:30 EST and the overlap's 01:30 is 01:30 EDT (the earlier).
 * Returns 0, or -EOVERFLOW when the result does not fit time_t. */
int tzfile_mktime(const struct tzfile *tz, const struct tm *tm, time_t *ret);
