/* cron.h — CronJob schedules, as Kubernetes reads spec.schedule: the standard parser of
 * robfig/cron v3 (cron.ParseStandard) and its SpecSchedule.Next walk, reproduced so that
 * ckube accepts, refuses and fires exactly what kube-controller-manager does.
 *
 * Syntax: five fields "minute hour day-of-month month day-of-week" (0-59, 0-23, 1-31,
 * 1-12 or JAN-DEC, 0-6 or SUN-SAT; names case-insensitive; 7 is not Sunday), each a
 * comma-separated list of "*" or "?", "a", "a-b", with an optional "/step" ("a/n" means
 * a-max/n; "*" followed by anything but "/n" is still "*"). Descriptors: @yearly,
 * @annually, @monthly, @weekly, @daily, @midnight, @hourly and "@every <Go duration>"
 * (rounded down to whole seconds, at least one second). A "TZ=Zone " or "CRON_TZ=Zone "
 * prefix selects the schedule's zone (robfig syntax, which Kubernetes' validation refuses:
 * see cron_mentions_tz()).
 *
 * Day matching follows robfig: when day-of-month or day-of-week starts with "*" or "?"
 * (and has no step above 1), a day must match both fields; otherwise either suffices
 * ("0 0 13 * 5" is every 13th and every Friday).
 *
 * Schedules are immutable once parsed: share them between threads. Nothing here logs. */
#pragma once

#include <stdbool.h>
#include <time.h>

#include "lib/macro.h"
#include "lib/tzfile.h"

struct cron_schedule;

/* The message Kubernetes' CronJob validation gives for a schedule that names a zone. */
#define CRON_TZ_IN_SCHEDULE_MESSAGE                                                                \
  "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
/* ... and for one that names a zone while spec.timeZone is also set (updates of old
 * objects only). */
#define CRON_TZ_AND_TIMEZONE_MESSAGE "cannot use both timeZone field and TZ or CRON_TZ in schedule"

/* Kubernetes' test for a zone in spec.schedule: true when the text contains "TZ"
 * anywhere (case-sensitive), which is what validation checks before
 * CRON_TZ_IN_SCHEDULE_MESSAGE. Thread-safe. */
bool cron_mentions_tz(const char *spec);

/* Parses spec as cron.ParseStandard does. Returns 0 and the schedule in *ret (free with
 * cron_free()), or -EINVAL and robfig's message in *ret_err (malloc'd; ret_err may be
 * NULL), e.g. "expected exactly 5 fields, found 4: [* * * *]", "end of range (60) above
 * maximum (59): 0-60", "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid
 * syntax", "unrecognized descriptor: @foo", "provided bad location Mars/Base: unknown time
 * zone Mars/Base". A zone prefix is loaded with tzfile_load(). Thread-safe. */
int cron_parse(const char *spec, struct cron_schedule **ret, char **ret_err);

void cron_free(struct cron_schedule *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct cron_schedule *, cron_free)
#define _cleanup_cron_ _cleanup_(cron_freep)

/* The first activation strictly after instant `after`, in *ret. Times are those of zone
 * tz (NULL = UTC: Kubernetes uses the controller's local zone when spec.timeZone is unset,
 * and ckube's controllers keep UTC); a TZ= prefix in the schedule overrides tz. "@every d"
 * gives after + d. DST follows robfig's walk: a time inside a spring-forward gap does not
 * fire that day ("0 2 * * *" in America/New_York skips 2012-03-11), an hourly schedule
 * steps over the gap, and a time inside a fall-back overlap fires twice, once at each
 * offset ("0 1 * * *" fires at 01:00 EDT and 01:00 EST on 2012-11-04).
 * Returns 0, or -ERANGE when no activation exists within five years of `after` (robfig
 * gives up there too: "0 0 30 2 *"), or -EOVERFLOW at the ends of time_t. Thread-safe. */
int cron_next(const struct cron_schedule *s, const struct tzfile *tz, time_t after, time_t *ret);
