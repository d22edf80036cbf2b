/* cronjob.c — the CronJob controller (kube's CronJobControllerV2 of 1.32): makes a Job
 * named "<cronjob>-<scheduled time in minutes since the epoch>" at each schedule time,
 * honouring timeZone, startingDeadlineSeconds, concurrencyPolicy and suspend, keeps
 * status.active / lastScheduleTime / lastSuccessfulTime, prunes finished Jobs beyond the
 * history limits, and re-queues itself for the next schedule time.
 *
 * The deterministic Job name is the lock that keeps a schedule time from starting two
 * Jobs, whatever the informers lag. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controllers/controller.h"
#include "lib/cron.h"
#include "lib/timeutil.h"
#include "lib/tzfile.h"

#define CRONJOBS_PATH "/apis/batch/v1/cronjobs"
#define JOBS_PATH "/apis/batch/v1/jobs"
#define JOB_OWNER_INDEX "cronjob-owner"
#define SCHEDULED_ANNOTATION "batch.kubernetes.io/cronjob-scheduled-timestamp"
/* kube: nextScheduleDelta, so the requeue lands just after the schedule time. */
#define NEXT_SCHEDULE_DELTA_MS 100

struct cj_state {
  struct informer *cronjobs, *jobs;
};

static const char *jstr(const json_t *o, const char *k) {
  const char *s = json_string_value(json_object_get(o, k));
  return s ? s : "";
}

static const json_t *meta(const json_t *o) { return json_object_get(o, "metadata"); }
static const char *obj_name(const json_t *o) { return jstr(meta(o), "name"); }
static const char *obj_ns(const json_t *o) { return jstr(meta(o), "namespace"); }
static const char *obj_uid(const json_t *o) { return jstr(meta(o), "uid"); }

static bool obj_deleting(const json_t *o) {
  const json_t *d = json_object_get(meta(o), "deletionTimestamp");
  return d && !json_is_null(d);
}

static time_t parse_time(const char *s, bool *ok) {
  struct timespec ts = {0};
  *ok = s && timeutil_parse(s, &ts) == 0;
  return ts.tv_sec;
}

/* "Complete" or "Failed" when the Job finished, else NULL. */
static const char *job_finished_type(const json_t *job) {
  const json_t *c;
  size_t i;
  json_array_foreach(json_path((json_t *)job, "status.conditions"), i, c) {
    const char *t = jstr(c, "type");
    if ((streq(t, "Complete") || streq(t, "Failed")) && streq(jstr(c, "status"), "True"))
      return streq(t, "Complete") ? "Complete" : "Failed";
  }
  return NULL;
}

/* Jobs by the uid of their controlling CronJob (kube scans the namespace instead). */
static size_t job_owner_index(const json_t *obj, const char **ret, size_t max) {
  const json_t *ref = controller_owner_ref(obj);
  const char *uid = json_string_value(json_object_get(ref, "uid"));
  if (!ref || !uid || max == 0 || !streq(jstr(ref, "kind"), "CronJob"))
    return 0;
  ret[0] = uid;
  return 1;
}

/* ---- schedule arithmetic (kube's mostRecentScheduleTime) ---- */

enum missed { NONE_MISSED, FEW_MISSED, MANY_MISSED };

struct sched {
  struct cron_schedule *cron;
  struct tzfile *tz;
};

static bool next_after(const struct sched *s, time_t after, time_t *ret) {
  return cron_next(s->cron, s->tz, after, ret) == 0;
}

/* *ret_recent: the latest schedule time not after now (-1: none); *ret_earliest: the
 * time schedules are counted from. -EINVAL for schedules that never fire twice a second
 * apart (kube: "time difference between two schedules is less than 1 second"). */
static int most_recent(const json_t *cj, const struct sched *s, int64_t now, bool with_deadline,
                       time_t *ret_earliest, time_t *ret_recent, enum missed *ret_missed) {
  bool ok;
  time_t earliest = parse_time(json_path_str((json_t *)cj, "metadata.creationTimestamp"), &ok);
  time_t last = parse_time(json_path_str((json_t *)cj, "status.lastScheduleTime"), &ok);
  if (ok)
    earliest = last;
  const json_t *sds = json_path((json_t *)cj, "spec.startingDeadlineSeconds");
  if (with_deadline && json_is_integer(sds)) {
    int64_t deadline_ms = now - json_integer_value(sds) * 1000;
    if (deadline_ms > (int64_t)earliest * 1000)
      earliest = (time_t)(deadline_ms / 1000);
  }
  *ret_earliest = earliest;
  *ret_recent = -1;
  *ret_missed = NONE_MISSED;
  time_t t1, t2;
  if (!next_after(s, earliest, &t1) || now < (int64_t)t1 * 1000)
    return 0;
  if (!next_after(s, t1, &t2) || now < (int64_t)t2 * 1000) {
    *ret_recent = t1;
    return 0;
  }
  int64_t between = (int64_t)(t2 - t1);
  if (between < 1)
    return -EINVAL;
  int64_t elapsed = (now - (int64_t)t1 * 1000) / 1000;
  int64_t missed = elapsed / between + 1;
  /* Start one interval before the estimate and let the schedule walk to the most recent
   * time, for schedules whose intervals vary. */
  time_t t = (time_t)(t1 + (missed - 2) * between), recent = -1, n;
  while (next_after(s, t, &n) && (int64_t)n * 1000 <= now) {
    recent = n;
    t = n;
  }
  *ret_missed = missed > 100 ? MANY_MISSED : FEW_MISSED;
  *ret_recent = recent;
  return 0;
}

/* How long until the next schedule time after the last one (kube's
 * nextScheduleTimeDuration), in ms. */
static long next_schedule_delay(const json_t *cj, const struct sched *s, int64_t now) {
  time_t earliest, recent;
  enum missed m;
  int64_t from;
  if (most_recent(cj, s, now, false, &earliest, &recent, &m) < 0)
    from = now / 1000;
  else if (recent < 0)
    from = m == NONE_MISSED ? earliest : now / 1000;
  else
    from = recent;
  time_t next;
  if (!next_after(s, (time_t)from, &next))
    return -1;
  int64_t d = (int64_t)next * 1000 + NEXT_SCHEDULE_DELTA_MS - now;
  return d > 0 ? (long)d : 0;
}

/* RFC 3339 in the CronJob's zone, as Go's Format(time.RFC3339) writes it. */
static char *format_in_zone(time_t t, const struct tzfile *tz) {
  struct tm tm;
  if (!tz || tzfile_localtime(tz, t, &tm) < 0)
    return timeutil_format(t);
  long off = tm.tm_gmtoff;
  if (off == 0)
    return xasprintf("%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  char sign = off < 0 ? '-' : '+';
  if (off < 0)
    off = -off;
  return xasprintf("%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld", tm.tm_year + 1900,
                   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, sign, off / 3600,
                   (off % 3600) / 60);
}

/* Go's time.RFC1123Z in UTC: "Mon, 02 Jan 2006 15:04:05 +0000". */
static void format_rfc1123z(time_t t, char *buf, size_t size) {
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, size, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

/* ---- one sync ---- */

struct cjctx {
  struct controller *c;
  const char *key;
  json_t *cj; /* private copy */
};

static void cj_event(struct cjctx *x, const char *type, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void cj_event(struct cjctx *x, const char *type, const char *reason, const char *fmt,
                     ...) {
  va_list ap;
  va_start(ap, fmt);
  _cleanup_free_ char *msg = xvasprintf(fmt, ap);
  va_end(ap);
  event_record(controller_events(x->c), x->cj, "CronJob", "batch/v1", type, reason, "%s", msg);
}

static json_t *active_list(struct cjctx *x) {
  return json_object_ensure_array(json_object_ensure(x->cj, "status"), "active");
}

static bool in_active(const json_t *cj, const char *uid) {
  const json_t *r;
  size_t i;
  json_array_foreach(json_path((json_t *)cj, "status.active"), i, r) {
    if (streq(jstr(r, "uid"), uid))
      return true;
  }
  return false;
}

static bool in_active_by_name(const json_t *cj, const char *name) {
  const json_t *r;
  size_t i;
  json_array_foreach(json_path((json_t *)cj, "status.active"), i, r) {
    if (streq(jstr(r, "name"), name) && streq(jstr(r, "namespace"), obj_ns(cj)))
      return true;
  }
  return false;
}

static void remove_active(struct cjctx *x, const char *uid) {
  json_t *arr = active_list(x), *r;
  size_t i;
  json_array_foreach(arr, i, r) {
    if (streq(jstr(r, "uid"), uid)) {
      json_array_remove(arr, i);
      i--;
    }
  }
}

static char *job_path(const char *ns, const char *name) {
  _cleanup_free_ char *coll = controller_path("/apis/batch/v1", ns, "jobs");
  return xasprintf("%s/%s", coll, name);
}

/* A live GET: 0 and the object, -ENOENT, or another error. */
static int get_live(struct controller *c, const char *path, json_t **ret) {
  long status = 0;
  json_t *obj = NULL;
  int r = rest_do_json(controller_client(c), "GET", path, NULL, NULL, &status, &obj, NULL);
  if (r < 0)
    return r;
  if (status == 404 || status != 200 || !json_is_object(obj)) {
    json_decref(obj);
    return status == 404 ? -ENOENT : -EIO;
  }
  *ret = obj;
  return 0;
}

/* kube's deleteJob: the Job (background propagation) and its entry in status.active. */
static bool delete_job(struct cjctx *x, const json_t *job) {
  _cleanup_free_ char *path = job_path(obj_ns(job), obj_name(job));
  _cleanup_json_ json_t *opts = json_pack("{s:s, s:s, s:s}", "kind", "DeleteOptions",
                                          "apiVersion", "v1", "propagationPolicy", "Background");
  _cleanup_free_ char *err = NULL;
  int r = controller_delete(x->c, path, opts, &err);
  if (r < 0) {
    cj_event(x, "Warning", "FailedDelete", "Deleted job: %s", err ? err : strerror(-r));
    return false;
  }
  remove_active(x, obj_uid(job));
  cj_event(x, "Normal", "SuccessfulDelete", "Deleted job %s", obj_name(job));
  return true;
}

/* byJobStartTime: started Jobs oldest first, then unstarted ones; names break ties. */
static int job_start_cmp(const void *a, const void *b) {
  const json_t *p = *(json_t *const *)a, *q = *(json_t *const *)b;
  const char *ps = json_path_str((json_t *)p, "status.startTime");
  const char *qs = json_path_str((json_t *)q, "status.startTime");
  bool ok;
  if (!ps || !qs) {
    if (!ps && !qs)
      return 0;
    return ps ? -1 : 1;
  }
  time_t pt = parse_time(ps, &ok), qt = parse_time(qs, &ok);
  if (pt != qt)
    return pt < qt ? -1 : 1;
  return strcmp(obj_name(p), obj_name(q));
}

static bool remove_oldest(struct cjctx *x, json_t **jobs, size_t n, long keep) {
  if ((long)n <= keep)
    return false;
  qsort(jobs, n, sizeof(*jobs), job_start_cmp);
  bool changed = false;
  for (size_t i = 0; i < n - (size_t)keep; i++)
    changed = delete_job(x, jobs[i]) || changed;
  return changed;
}

static bool cleanup_finished(struct cjctx *x, json_t *jobs) {
  const json_t *spec = json_object_get(x->cj, "spec");
  const json_t *sl = json_object_get(spec, "successfulJobsHistoryLimit");
  const json_t *fl = json_object_get(spec, "failedJobsHistoryLimit");
  if (!json_is_integer(sl) && !json_is_integer(fl))
    return false;
  size_t n = json_array_size(jobs), ns = 0, nf = 0;
  _cleanup_free_ json_t **succ = xcalloc(n + 1, sizeof(*succ));
  _cleanup_free_ json_t **fail = xcalloc(n + 1, sizeof(*fail));
  json_t *j;
  size_t i;
  json_array_foreach(jobs, i, j) {
    const char *t = job_finished_type(j);
    if (t && streq(t, "Complete"))
      succ[ns++] = j;
    else if (t)
      fail[nf++] = j;
  }
  bool changed = false;
  if (json_is_integer(sl))
    changed = remove_oldest(x, succ, ns, (long)json_integer_value(sl)) || changed;
  if (json_is_integer(fl))
    changed = remove_oldest(x, fail, nf, (long)json_integer_value(fl)) || changed;
  return changed;
}

static json_t *job_from_template(struct cjctx *x, time_t scheduled, const struct tzfile *tz) {
  const json_t *tmpl = json_path(x->cj, "spec.jobTemplate");
  const json_t *tmeta = json_object_get(tmpl, "metadata");
  json_t *job = json_pack("{s:s, s:s}", "apiVersion", "batch/v1", "kind", "Job");
  json_t *md = json_object_ensure(job, "metadata");
  json_object_set_new(md, "name", json_sprintf("%s-%lld", obj_name(x->cj),
                                               (long long)(scheduled / 60)));
  json_object_set_new(md, "namespace", json_string(obj_ns(x->cj)));
  const json_t *v;
  if (json_is_object(v = json_object_get(tmeta, "labels")))
    json_object_set_new(md, "labels", json_deep_copy(v));
  json_t *ann = json_is_object(v = json_object_get(tmeta, "annotations")) ? json_deep_copy(v)
                                                                         : json_object();
  _cleanup_free_ char *ts = format_in_zone(scheduled, tz);
  json_object_set_new(ann, SCHEDULED_ANNOTATION, json_string(ts));
  json_object_set_new(md, "annotations", ann);
  json_object_set_new(md, "ownerReferences",
                      json_pack("[{s:s, s:s, s:s, s:s, s:b, s:b}]", "apiVersion", "batch/v1",
                                "kind", "CronJob", "name", obj_name(x->cj), "uid",
                                obj_uid(x->cj), "controller", 1, "blockOwnerDeletion", 1));
  json_t *spec = json_deep_copy(json_object_get(tmpl, "spec"));
  json_object_set_new(job, "spec", json_is_object(spec) ? spec : json_object());
  if (!json_is_object(spec))
    json_decref(spec);
  return job;
}

static json_t *job_ref(const json_t *job) {
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kind", "Job", "namespace", obj_ns(job),
                   "name", obj_name(job), "uid", obj_uid(job), "apiVersion", "batch/v1",
                   "resourceVersion", jstr(meta(job), "resourceVersion"));
}

/* syncCronJob: *ret_requeue_ms the delay until the next look (-1: none); *ret_update
 * whether the status changed. */
static int sync_cronjob(struct cjctx *x, json_t *jobs, long *ret_requeue_ms, bool *ret_update) {
  struct controller *c = x->c;
  *ret_requeue_ms = -1;
  json_t *j;
  size_t i;
  json_array_foreach(jobs, i, j) {
    bool found = in_active(x->cj, obj_uid(j));
    const char *fin = job_finished_type(j);
    if (!found && !fin) {
      /* Our status write may not have reached the cache yet: ask the API. */
      _cleanup_free_ char *coll = controller_path("/apis/batch/v1", obj_ns(x->cj), "cronjobs");
      _cleanup_free_ char *path = xasprintf("%s/%s", coll, obj_name(x->cj));
      json_t *fresh = NULL;
      int r = get_live(c, path, &fresh);
      if (r < 0)
        return r;
      if (in_active(fresh, obj_uid(j))) {
        json_decref(x->cj);
        x->cj = fresh;
        continue;
      }
      json_decref(fresh);
      cj_event(x, "Warning", "UnexpectedJob",
               "Saw a job that the controller did not create or forgot: %s", obj_name(j));
    } else if (fin) {
      if (found) {
        remove_active(x, obj_uid(j));
        cj_event(x, "Normal", "SawCompletedJob", "Saw completed job: %s, condition: %s",
                 obj_name(j), fin);
        *ret_update = true;
      }
      const char *ct = json_path_str(j, "status.completionTime");
      if (streq(fin, "Complete") && ct) {
        json_t *st = json_object_ensure(x->cj, "status");
        const char *last = json_string_value(json_object_get(st, "lastSuccessfulTime"));
        bool ok1, ok2;
        if (!last || parse_time(ct, &ok1) > parse_time(last, &ok2)) {
          json_object_set_new(st, "lastSuccessfulTime", json_string(ct));
          *ret_update = true;
        }
      }
    }
  }

  /* Active entries whose Job is gone (checked live: the cache may lag). */
  json_t *ref;
  for (size_t k = 0; k < json_array_size(active_list(x));) {
    ref = json_array_get(active_list(x), k);
    const char *uid = jstr(ref, "uid");
    bool child = false;
    json_array_foreach(jobs, i, j) child = child || streq(obj_uid(j), uid);
    if (child) {
      k++;
      continue;
    }
    _cleanup_free_ char *path = job_path(jstr(ref, "namespace"), jstr(ref, "name"));
    json_t *live = NULL;
    int r = get_live(c, path, &live);
    json_decref(live);
    if (r == -ENOENT) {
      cj_event(x, "Normal", "MissingJob", "Active job went missing: %s", jstr(ref, "name"));
      json_array_remove(active_list(x), k);
      *ret_update = true;
      continue;
    }
    if (r < 0)
      return r;
    k++;
  }

  if (obj_deleting(x->cj))
    return 0;
  const json_t *spec = json_object_get(x->cj, "spec");
  const char *tzname = json_string_value(json_object_get(spec, "timeZone"));
  struct sched s = {0};
  if (tzname) {
    _cleanup_free_ char *err = NULL;
    if (tzfile_load(tzname, &s.tz, &err) < 0) {
      cj_event(x, "Warning", "UnknownTimeZone", "invalid timeZone: \"%s\": %s", tzname,
               err ? err : "unknown time zone");
      return 0;
    }
  }
  _cleanup_tzfile_ struct tzfile *tz = s.tz;
  if (json_is_true(json_object_get(spec, "suspend")))
    return 0;
  const char *schedule = jstr(spec, "schedule");
  if (strstr(schedule, "TZ"))
    cj_event(x, "Warning", "UnsupportedSchedule",
             "CRON_TZ or TZ used in schedule \"%s\" is not officially supported, see "
             "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more "
             "details",
             schedule);
  _cleanup_free_ char *perr = NULL;
  if (cron_parse(schedule, &s.cron, &perr) < 0) {
    cj_event(x, "Warning", "UnparseableSchedule", "unparseable schedule: \"%s\" : %s", schedule,
             perr ? perr : "");
    return 0;
  }
  _cleanup_cron_ struct cron_schedule *sched = s.cron;
  (void)sched;
  int64_t now = timeutil_now_ms(CLOCK_REALTIME);
  time_t earliest, scheduled;
  enum missed missed;
  if (most_recent(x->cj, &s, now, true, &earliest, &scheduled, &missed) < 0) {
    cj_event(x, "Warning", "InvalidSchedule", "invalid schedule: %s : %s", schedule,
             "time difference between two schedules is less than 1 second");
    return 0;
  }
  if (scheduled >= 0 && missed == MANY_MISSED)
    cj_event(x, "Warning", "TooManyMissedTimes",
             "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or "
             "check clock skew");
  if (scheduled < 0) {
    *ret_requeue_ms = next_schedule_delay(x->cj, &s, now);
    return 0;
  }
  const json_t *sds = json_object_get(spec, "startingDeadlineSeconds");
  if (json_is_integer(sds) && ((int64_t)scheduled + json_integer_value(sds)) * 1000 < now) {
    char when[64];
    format_rfc1123z(scheduled, when, sizeof(when));
    cj_event(x, "Warning", "MissSchedule", "Missed scheduled time to start a job: %s", when);
    *ret_requeue_ms = next_schedule_delay(x->cj, &s, now);
    return 0;
  }
  _cleanup_free_ char *name =
      xasprintf("%s-%lld", obj_name(x->cj), (long long)(scheduled / 60));
  bool ok;
  time_t last = parse_time(json_path_str(x->cj, "status.lastScheduleTime"), &ok);
  if (in_active_by_name(x->cj, name) || (ok && last == scheduled)) {
    *ret_requeue_ms = next_schedule_delay(x->cj, &s, now);
    return 0;
  }
  const char *policy = jstr(spec, "concurrencyPolicy");
  if (streq(policy, "Forbid") && json_array_size(active_list(x)) > 0) {
    cj_event(x, "Normal", "JobAlreadyActive",
             "Not starting job because prior execution is running and concurrency policy is "
             "Forbid");
    *ret_requeue_ms = next_schedule_delay(x->cj, &s, now);
    return 0;
  }
  if (streq(policy, "Replace")) {
    while (json_array_size(active_list(x)) > 0) {
      ref = json_array_get(active_list(x), 0);
      _cleanup_free_ char *path = job_path(jstr(ref, "namespace"), jstr(ref, "name"));
      _cleanup_json_ json_t *job = NULL;
      int r = get_live(c, path, &job);
      if (r < 0) {
        cj_event(x, "Warning", "FailedGet", "Get job: %s",
                 r == -ENOENT ? "not found" : strerror(-r));
        return r;
      }
      if (!delete_job(x, job))
        return -EIO;
      *ret_update = true;
    }
  }

  _cleanup_json_ json_t *req = job_from_template(x, scheduled, tz);
  _cleanup_free_ char *coll = controller_path("/apis/batch/v1", obj_ns(x->cj), "jobs");
  _cleanup_free_ char *err = NULL;
  json_t *created = NULL;
  int r = controller_create(c, coll, req, &created, &err);
  if (r == -EEXIST) {
    /* Made earlier, but the status write was lost: adopt it into status.active. */
    json_decref(created);
    created = NULL;
    _cleanup_free_ char *path = job_path(obj_ns(x->cj), name);
    r = get_live(c, path, &created);
    if (r < 0)
      return r;
    const json_t *owner = controller_owner_ref(created);
    if (!owner || !streq(jstr(owner, "uid"), obj_uid(x->cj)) ||
        in_active(x->cj, obj_uid(created))) {
      json_decref(created);
      return 0;
    }
  } else if (r < 0) {
    cj_event(x, "Warning", "FailedCreate", "Error creating job: %s", err ? err : strerror(-r));
    return r;
  } else {
    cj_event(x, "Normal", "SuccessfulCreate", "Created job %s", obj_name(created));
  }
  json_array_append_new(active_list(x), job_ref(created));
  json_decref(created);
  _cleanup_free_ char *sts = timeutil_format(scheduled);
  json_object_set_new(json_object_ensure(x->cj, "status"), "lastScheduleTime", json_string(sts));
  *ret_update = true;
  *ret_requeue_ms = next_schedule_delay(x->cj, &s, now);
  return 0;
}

static int cj_sync(struct controller *c, const char *key) {
  struct cj_state *st = controller_state(c);
  _cleanup_json_ json_t *shared = informer_get(st->cronjobs, key);
  if (!shared)
    return 0;
  struct cjctx x = {.c = c, .key = key, .cj = json_deep_copy(shared)};
  _cleanup_json_ json_t *jobs = informer_by_index(st->jobs, JOB_OWNER_INDEX, obj_uid(shared));
  json_t *orig_status = json_deep_copy(json_object_get(shared, "status"));
  bool update = cleanup_finished(&x, jobs);
  long requeue = -1;
  int r = sync_cronjob(&x, jobs, &requeue, &update);
  /* An empty active list is omitted, as kube's omitempty does. */
  json_t *stj = json_object_get(x.cj, "status");
  if (json_is_object(stj) && json_array_size(json_object_get(stj, "active")) == 0)
    json_object_del(stj, "active");
  if (update && !json_equal(orig_status, json_object_get(x.cj, "status"))) {
    _cleanup_free_ char *coll = controller_path("/apis/batch/v1", obj_ns(x.cj), "cronjobs");
    _cleanup_free_ char *path = xasprintf("%s/%s/status", coll, obj_name(x.cj));
    _cleanup_free_ char *err = NULL;
    int ur = controller_update(c, path, x.cj, NULL, &err);
    if (ur < 0) {
      json_decref(orig_status);
      json_decref(x.cj);
      return ur;
    }
  }
  json_decref(orig_status);
  json_decref(x.cj);
  if (requeue >= 0) {
    controller_enqueue_after(c, key, requeue);
    return 0;
  }
  return r;
}

/* ---- handlers ---- */

static json_t *resolve_cronjob(struct cj_state *st, const json_t *job) {
  const json_t *ref = controller_owner_ref(job);
  if (!ref || !streq(jstr(ref, "kind"), "CronJob"))
    return NULL;
  json_t *cj = informer_get_nn(st->cronjobs, obj_ns(job), jstr(ref, "name"));
  if (cj && !streq(obj_uid(cj), jstr(ref, "uid"))) {
    json_decref(cj);
    return NULL;
  }
  return cj;
}

static void enqueue_owner(struct controller *c, const json_t *job) {
  struct cj_state *st = controller_state(c);
  _cleanup_json_ json_t *cj = resolve_cronjob(st, job);
  if (cj)
    controller_enqueue_obj(c, cj);
}

static void job_on_add(void *ud, json_t *job) { enqueue_owner(ud, job); }

static void job_on_update(void *ud, json_t *old, json_t *job) {
  if (old && streq(jstr(meta(old), "resourceVersion"), jstr(meta(job), "resourceVersion")))
    return;
  if (old && !json_equal((json_t *)controller_owner_ref(old), (json_t *)controller_owner_ref(job)))
    enqueue_owner(ud, old);
  enqueue_owner(ud, job);
}

static void cj_on_add(void *ud, json_t *cj) { controller_enqueue_obj(ud, cj); }

static void cj_on_update(void *ud, json_t *old, json_t *cj) {
  struct controller *c = ud;
  const json_t *spec = json_object_get(cj, "spec"), *ospec = json_object_get(old, "spec");
  if (old && (!streq(jstr(spec, "schedule"), jstr(ospec, "schedule")) ||
              !streq_ptr(json_string_value(json_object_get(spec, "timeZone")),
                         json_string_value(json_object_get(ospec, "timeZone"))))) {
    /* A new schedule: look again at its next time. */
    struct sched s = {0};
    const char *tzname = json_string_value(json_object_get(spec, "timeZone"));
    if (tzname && tzfile_load(tzname, &s.tz, NULL) < 0)
      return;
    _cleanup_tzfile_ struct tzfile *tz = s.tz;
    (void)tz;
    if (cron_parse(jstr(spec, "schedule"), &s.cron, NULL) < 0) {
      event_record(controller_events(c), cj, "CronJob", "batch/v1", "Warning",
                   "UnParseableCronJobSchedule", "unparseable schedule for cronjob: %s",
                   jstr(spec, "schedule"));
      return;
    }
    _cleanup_cron_ struct cron_schedule *sched = s.cron;
    (void)sched;
    long d = next_schedule_delay(cj, &s, timeutil_now_ms(CLOCK_REALTIME));
    _cleanup_free_ char *key = informer_key(cj);
    if (key && d >= 0)
      controller_enqueue_after(c, key, d);
    return;
  }
  controller_enqueue_obj(c, cj);
}

static int cj_setup(struct controller *c) {
  struct cj_state *st = xcalloc(1, sizeof(*st));
  st->cronjobs = controller_informer(c, CRONJOBS_PATH);
  st->jobs = controller_informer(c, JOBS_PATH);
  if (!st->cronjobs || !st->jobs) {
    free(st);
    return -ENOMEM;
  }
  controller_set_state(c, st);
  informer_add_index(st->jobs, JOB_OWNER_INDEX, job_owner_index);
  informer_add_handler(st->cronjobs,
                       &(struct informer_handler){.on_add = cj_on_add,
                                                  .on_update = cj_on_update,
                                                  .on_delete = cj_on_add,
                                                  .userdata = c});
  informer_add_handler(st->jobs, &(struct informer_handler){.on_add = job_on_add,
                                                            .on_update = job_on_update,
                                                            .on_delete = job_on_add,
                                                            .userdata = c});
  return 0;
}

static void cj_teardown(struct controller *c) {
  free(controller_state(c));
  controller_set_state(c, NULL);
}

static const struct controller_def cronjob_controller = {
    .name = "cronjob",
    .component = "cronjob-controller",
    .workers = 2,
    .setup = cj_setup,
    .sync = cj_sync,
    .teardown = cj_teardown,
};
CONTROLLER_REGISTER(cronjob_controller);
