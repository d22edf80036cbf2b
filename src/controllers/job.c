/* job.c — the Job controller (kube's JobController of 1.32).
 *
 * Pods are counted with the batch.kubernetes.io/job-tracking finalizer, as kube counts
 * them: a finished pod's UID first goes to status.uncountedTerminatedPods, then its
 * finalizer is removed, then it moves into status.succeeded/failed. A crash between any
 * two steps neither loses nor double-counts a pod. Finalizer removals in flight are
 * remembered per Job (kube's finalizer expectations), so a stale informer never makes a
 * counted pod look new again.
 *
 * Terminal conditions are delayed as in 1.32 (JobPodReplacementPolicy and JobManagedBy
 * on): SuccessCriteriaMet / FailureTarget first, Complete / Failed once every pod is
 * counted and none is terminating.
 *
 * Left out: podFailurePolicy, backoffLimitPerIndex / maxFailedIndexes, successPolicy,
 * managedBy, and adoption of orphan pods that match a Job's selector. */
#include "controllers/job.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controllers/controller.h"
#include "controllers/ctlutil.h"
#include "lib/hmap.h"
#include "lib/timeutil.h"

#define TRACKING_FINALIZER "batch.kubernetes.io/job-tracking"
#define POD_OWNER_INDEX "job-controller-uid"
#define JOBS_PATH "/apis/batch/v1/jobs"
#define PODS_PATH "/api/v1/pods"
#define ORPHAN_PREFIX "pod:"

/* kube: syncJobBatchPeriod, MaxUncountedPods, MaxPodCreateDeletePerSync. */
#define BATCH_MS 1000
#define MAX_UNCOUNTED 500
#define MAX_CREATE_DELETE 500
#define PARALLEL_MAX 16

/* ---- small JSON and pod helpers ---- */

static long jint(const json_t *o, const char *k, long dflt) {
  const json_t *v = json_object_get(o, k);
  return json_is_integer(v) ? (long)json_integer_value(v) : dflt;
}

static const char *jstr(const json_t *o, const char *k) {
  const char *s = json_string_value(json_object_get(o, k));
  return s ? s : "";
}

static const json_t *meta(const json_t *o) { return json_object_get(o, "metadata"); }
static const char *obj_uid(const json_t *o) { return jstr(meta(o), "uid"); }
static const char *obj_name(const json_t *o) { return jstr(meta(o), "name"); }
static const char *obj_ns(const json_t *o) { return jstr(meta(o), "namespace"); }

static bool obj_deleting(const json_t *o) {
  const json_t *d = json_object_get(meta(o), "deletionTimestamp");
  return d && !json_is_null(d);
}

static const char *pod_phase(const json_t *p) {
  return jstr(json_object_get(p, "status"), "phase");
}

static bool pod_terminal(const json_t *p) {
  const char *ph = pod_phase(p);
  return streq(ph, "Succeeded") || streq(ph, "Failed");
}

static bool pod_active(const json_t *p) { return !pod_terminal(p) && !obj_deleting(p); }

static bool pod_terminating(const json_t *p) { return !pod_terminal(p) && obj_deleting(p); }

static bool pod_has_finalizer(const json_t *p) {
  const json_t *f;
  size_t i;
  json_array_foreach(json_object_get(meta(p), "finalizers"), i, f) {
    if (streq_ptr(json_string_value(f), TRACKING_FINALIZER))
      return true;
  }
  return false;
}

static bool pod_ready(const json_t *p) {
  const json_t *c = ctlutil_find_condition(json_object_get(p, "status"), "Ready");
  return c && streq(jstr(c, "status"), "True");
}

static bool condition_true(const json_t *obj_status, const char *type) {
  const json_t *c = ctlutil_find_condition(obj_status, type);
  return c && streq(jstr(c, "status"), "True");
}

bool job_finished(const json_t *job) {
  const json_t *st = json_object_get(job, "status");
  return condition_true(st, "Complete") || condition_true(st, "Failed");
}

static bool job_suspended(const json_t *job) {
  return json_is_true(json_path((json_t *)job, "spec.suspend"));
}

/* podReplacementPolicy: Failed — only failed pods are replaced, terminating ones wait. */
static bool only_replace_failed(const json_t *job) {
  return streq_ptr(json_path_str((json_t *)job, "spec.podReplacementPolicy"), "Failed");
}

static bool pod_failed(const json_t *p, const json_t *job) {
  if (streq(pod_phase(p), "Failed"))
    return true;
  if (only_replace_failed(job))
    return false;
  /* A deleted pod that never finished counts as failed: orphans may never reach Failed. */
  return obj_deleting(p) && !streq(pod_phase(p), "Succeeded");
}

static int64_t parse_time_ms(const char *s) {
  struct timespec ts;
  if (!s || timeutil_parse(s, &ts) < 0)
    return -1;
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* kube's getFinishedTime: the last container termination, else when the pod stopped
 * being Ready, else its deletion, else its creation. */
static int64_t pod_finish_ms(const json_t *p) {
  const json_t *st = json_object_get(p, "status"), *cs;
  int64_t best = -1;
  size_t i;
  json_array_foreach(json_object_get(st, "containerStatuses"), i, cs) {
    int64_t t = parse_time_ms(json_path_str((json_t *)cs, "state.terminated.finishedAt"));
    if (t > best)
      best = t;
  }
  if (best >= 0)
    return best;
  const json_t *rc = ctlutil_find_condition(st, "Ready");
  if (rc && pod_terminal(p) && streq(jstr(rc, "status"), "False")) {
    int64_t t = parse_time_ms(jstr(rc, "lastTransitionTime"));
    if (t >= 0)
      return t;
  }
  int64_t t = parse_time_ms(json_string_value(json_object_get(meta(p), "deletionTimestamp")));
  if (t >= 0)
    return t;
  t = parse_time_ms(jstr(meta(p), "creationTimestamp"));
  return t >= 0 ? t : timeutil_now_ms(CLOCK_REALTIME);
}

/* The order of kube's controller.ActivePods: pods earlier in it are deleted first. */
static int phase_rank(const json_t *p) {
  const char *ph = pod_phase(p);
  if (streq(ph, "Pending"))
    return 0;
  if (streq(ph, "Running"))
    return 2;
  return 1;
}

static long restarts(const json_t *p) {
  long n = 0;
  const json_t *cs;
  size_t i;
  json_array_foreach(json_path((json_t *)p, "status.containerStatuses"), i, cs)
      n += jint(cs, "restartCount", 0);
  return n;
}

static int active_pods_cmp(const void *a, const void *b) {
  const json_t *p = *(json_t *const *)a, *q = *(json_t *const *)b;
  bool pa = *jstr(json_object_get(p, "spec"), "nodeName") != '\0';
  bool qa = *jstr(json_object_get(q, "spec"), "nodeName") != '\0';
  if (pa != qa)
    return pa ? 1 : -1;
  int pr = phase_rank(p), qr = phase_rank(q);
  if (pr != qr)
    return pr - qr;
  bool prd = pod_ready(p), qrd = pod_ready(q);
  if (prd != qrd)
    return prd ? 1 : -1;
  long pc = restarts(p), qc = restarts(q);
  if (pc != qc)
    return pc > qc ? -1 : 1;
  /* Newer pods first; kube compares creation timestamps. */
  return -strcmp(jstr(meta(p), "creationTimestamp"), jstr(meta(q), "creationTimestamp"));
}

/* ---- running a batch of API calls concurrently ---- */

struct parallel {
  size_t n;
  atomic_size_t next;
  void (*fn)(void *ctx, size_t i);
  void *ctx;
};

static void *parallel_main(void *arg) {
  struct parallel *p = arg;
  size_t i;
  while ((i = atomic_fetch_add(&p->next, 1)) < p->n)
    p->fn(p->ctx, i);
  return NULL;
}

static void run_parallel(size_t n, void (*fn)(void *ctx, size_t i), void *ctx) {
  struct parallel p = {.n = n, .fn = fn, .ctx = ctx};
  atomic_init(&p.next, 0);
  pthread_t th[PARALLEL_MAX];
  size_t started = 0, want = n < PARALLEL_MAX ? n : PARALLEL_MAX;
  for (size_t i = 1; i < want; i++)
    if (pthread_create(&th[started], NULL, parallel_main, &p) == 0)
      started++;
  parallel_main(&p);
  for (size_t i = 0; i < started; i++)
    pthread_join(th[i], NULL);
}

/* ---- controller state ---- */

struct backoff_rec {
  unsigned failures; /* after the last success */
  int64_t last_failure_ms;
};

struct job_state {
  struct informer *jobs, *pods;
  pthread_mutex_t lock;
  struct hmap backoff;  /* job key → struct backoff_rec * */
  struct hmap rm_fin;   /* job key → struct hmap * of pod uids whose finalizer removal is
                         * expected but not yet seen */
};

static void free_set(void *p) {
  struct hmap *m = p;
  if (m) {
    hmap_clear(m, NULL);
    free(m);
  }
}

static void rm_expect(struct job_state *st, const char *key, const char *uid) {
  pthread_mutex_lock(&st->lock);
  struct hmap *m = hmap_get(&st->rm_fin, key);
  if (!m) {
    m = xcalloc(1, sizeof(*m));
    hmap_put(&st->rm_fin, key, m);
  }
  hmap_put(m, uid, (void *)1);
  pthread_mutex_unlock(&st->lock);
}

static void rm_observed(struct job_state *st, const char *key, const char *uid) {
  pthread_mutex_lock(&st->lock);
  struct hmap *m = hmap_get(&st->rm_fin, key);
  if (m) {
    hmap_remove(m, uid);
    if (hmap_len(m) == 0)
      free_set(hmap_remove(&st->rm_fin, key));
  }
  pthread_mutex_unlock(&st->lock);
}

static void rm_snapshot(struct job_state *st, const char *key, struct hmap *out) {
  pthread_mutex_lock(&st->lock);
  struct hmap *m = hmap_get(&st->rm_fin, key);
  const char *k;
  void *v;
  for (size_t it = 0; m && hmap_next(m, &it, &k, &v);)
    hmap_put(out, k, (void *)1);
  pthread_mutex_unlock(&st->lock);
}

static void forget_job(struct job_state *st, const char *key) {
  pthread_mutex_lock(&st->lock);
  free_set(hmap_remove(&st->rm_fin, key));
  free(hmap_remove(&st->backoff, key));
  pthread_mutex_unlock(&st->lock);
}

static struct backoff_rec backoff_get(struct job_state *st, const char *key) {
  struct backoff_rec r = {0};
  pthread_mutex_lock(&st->lock);
  struct backoff_rec *b = hmap_get(&st->backoff, key);
  if (b)
    r = *b;
  pthread_mutex_unlock(&st->lock);
  return r;
}

static void backoff_put(struct job_state *st, const char *key, struct backoff_rec r) {
  pthread_mutex_lock(&st->lock);
  struct backoff_rec *b = hmap_get(&st->backoff, key);
  if (!b) {
    b = xcalloc(1, sizeof(*b));
    hmap_put(&st->backoff, key, b);
  }
  *b = r;
  pthread_mutex_unlock(&st->lock);
}

/* ---- informer handlers ---- */

static size_t pod_owner_index(const json_t *obj, const char **ret, size_t max) {
  const json_t *ref = controller_owner_ref(obj);
  if (!ref || max == 0 || !streq(jstr(ref, "kind"), "Job"))
    return 0;
  const char *uid = json_string_value(json_object_get(ref, "uid"));
  if (!uid)
    return 0;
  ret[0] = uid;
  return 1;
}

static char *job_key(const char *ns, const char *name) { return xasprintf("%s/%s", ns, name); }

/* The Job a controller reference names, when it is in the cache with that uid. */
static json_t *resolve_job(struct job_state *st, const json_t *pod, const json_t *ref) {
  if (!ref || !streq(jstr(ref, "kind"), "Job"))
    return NULL;
  json_t *job = informer_get_nn(st->jobs, obj_ns(pod), jstr(ref, "name"));
  if (job && !streq(obj_uid(job), jstr(ref, "uid"))) {
    json_decref(job);
    return NULL;
  }
  return job;
}

static void enqueue_orphan(struct controller *c, const json_t *pod) {
  _cleanup_free_ char *k = xasprintf(ORPHAN_PREFIX "%s/%s", obj_ns(pod), obj_name(pod));
  controller_enqueue(c, k);
}

static void pod_deleted(struct controller *c, const json_t *pod, bool final) {
  struct job_state *st = controller_state(c);
  const json_t *ref = controller_owner_ref(pod);
  bool fin = pod_has_finalizer(pod);
  if (!ref) {
    if (fin)
      enqueue_orphan(c, pod);
    return;
  }
  _cleanup_json_ json_t *job = resolve_job(st, pod, ref);
  if (!job || job_finished(job)) {
    if (fin)
      enqueue_orphan(c, pod);
    return;
  }
  _cleanup_free_ char *key = job_key(obj_ns(job), obj_name(job));
  controller_observe_del(c, key);
  if (final || !fin)
    rm_observed(st, key, obj_uid(pod));
  controller_enqueue_after(c, key, BATCH_MS);
}

static void pod_on_add(void *ud, json_t *pod) {
  struct controller *c = ud;
  struct job_state *st = controller_state(c);
  if (obj_deleting(pod)) {
    pod_deleted(c, pod, false);
    return;
  }
  const json_t *ref = controller_owner_ref(pod);
  if (ref) {
    _cleanup_json_ json_t *job = resolve_job(st, pod, ref);
    if (!job)
      return;
    _cleanup_free_ char *key = job_key(obj_ns(job), obj_name(job));
    controller_observe_add(c, key);
    controller_enqueue_after(c, key, BATCH_MS);
    return;
  }
  if (pod_has_finalizer(pod))
    enqueue_orphan(c, pod);
}

static void pod_on_update(void *ud, json_t *old, json_t *pod) {
  struct controller *c = ud;
  struct job_state *st = controller_state(c);
  if (old && streq(jstr(meta(old), "resourceVersion"), jstr(meta(pod), "resourceVersion")))
    return;
  if (obj_deleting(pod)) {
    pod_deleted(c, pod, false);
    return;
  }
  bool fin_removed = !pod_has_finalizer(pod);
  const json_t *ref = controller_owner_ref(pod);
  const json_t *oref = old ? controller_owner_ref(old) : NULL;
  if (oref && !json_equal((json_t *)ref, (json_t *)oref)) {
    _cleanup_json_ json_t *job = resolve_job(st, old, oref);
    if (job) {
      _cleanup_free_ char *key = job_key(obj_ns(job), obj_name(job));
      if (fin_removed)
        rm_observed(st, key, obj_uid(pod));
      controller_enqueue_after(c, key, BATCH_MS);
    }
  }
  if (ref) {
    _cleanup_json_ json_t *job = resolve_job(st, pod, ref);
    if (!job)
      return;
    _cleanup_free_ char *key = job_key(obj_ns(job), obj_name(job));
    if (fin_removed)
      rm_observed(st, key, obj_uid(pod));
    controller_enqueue_after(c, key, BATCH_MS);
    return;
  }
  if (pod_has_finalizer(pod))
    enqueue_orphan(c, pod);
}

static void pod_on_delete(void *ud, json_t *pod) { pod_deleted(ud, pod, true); }

/* A finished or deleted Job's pods keep no tracking finalizer: the orphan path removes
 * them. */
static void cleanup_pod_finalizers(struct controller *c, const json_t *job) {
  struct job_state *st = controller_state(c);
  _cleanup_json_ json_t *pods = informer_by_index(st->pods, POD_OWNER_INDEX, obj_uid(job));
  json_t *p;
  size_t i;
  json_array_foreach(pods, i, p) {
    if (pod_has_finalizer(p))
      enqueue_orphan(c, p);
  }
}

static void job_on_add(void *ud, json_t *job) { controller_enqueue_obj(ud, job); }

static void job_on_update(void *ud, json_t *old, json_t *job) {
  struct controller *c = ud;
  _cleanup_free_ char *key = job_key(obj_ns(job), obj_name(job));
  if (old && jint(meta(old), "generation", 0) == jint(meta(job), "generation", 0))
    controller_enqueue_after(c, key, BATCH_MS);
  else
    controller_enqueue(c, key);
  if (job_finished(job))
    cleanup_pod_finalizers(c, job);
  /* A changed activeDeadlineSeconds needs a sync when the new deadline passes. */
  const char *start = json_path_str(job, "status.startTime");
  const json_t *ads = json_path(job, "spec.activeDeadlineSeconds");
  const json_t *oads = old ? json_path(old, "spec.activeDeadlineSeconds") : NULL;
  if (start && json_is_integer(ads) &&
      (!json_is_integer(oads) || json_integer_value(oads) != json_integer_value(ads))) {
    int64_t left = parse_time_ms(start) + json_integer_value(ads) * 1000 - timeutil_now_ms(CLOCK_REALTIME);
    controller_enqueue_after(c, key, left > 0 ? (long)left : 0);
  }
}

static void job_on_delete(void *ud, json_t *job) {
  controller_enqueue_obj(ud, job);
  cleanup_pod_finalizers(ud, job);
}

/* ---- one sync ---- */

struct jctx {
  struct controller *c;
  struct job_state *st;
  const char *key;
  json_t *job; /* private copy; replaced by the API's answer after each status write */
  json_t *pods; /* the Job's pods (shared objects) */
  json_t **active;
  size_t nactive;
  long ready, terminating;
  struct hmap unc_s, unc_f; /* status.uncountedTerminatedPods at the start of the sync */
  struct hmap expected_rm;
  long succeeded, failed;
  bool indexed;
  long completions; /* -1: unset */
  struct job_indexes prev_succ, succ;
  /* the terminal condition to reach, when decided */
  const char *fin_type;
  char *fin_reason, *fin_message;
  struct backoff_rec new_backoff;
};

static json_t *jstatus(struct jctx *jc) { return json_object_ensure(jc->job, "status"); }
static const char *job_ns(struct jctx *jc) { return obj_ns(jc->job); }
static const char *job_name(struct jctx *jc) { return obj_name(jc->job); }

static void set_finished(struct jctx *jc, const char *type, const char *reason,
                         const char *message) {
  jc->fin_type = type;
  free(jc->fin_reason);
  free(jc->fin_message);
  jc->fin_reason = reason ? xstrdup(reason) : NULL;
  jc->fin_message = message ? xstrdup(message) : NULL;
}

static void job_event(struct jctx *jc, const char *type, const char *reason, const char *fmt,
                      ...) __attribute__((format(printf, 4, 5)));
static void job_event(struct jctx *jc, const char *type, const char *reason, const char *fmt,
                      ...) {
  va_list ap;
  va_start(ap, fmt);
  _cleanup_free_ char *msg = xvasprintf(fmt, ap);
  va_end(ap);
  event_record(controller_events(jc->c), jc->job, "Job", "batch/v1", type, reason, "%s", msg);
}

static json_t *new_condition(const char *type, const char *status, const char *reason,
                             const char *message) {
  _cleanup_free_ char *now = timeutil_now();
  json_t *c = json_pack("{s:s, s:s, s:s, s:s}", "type", type, "status", status, "lastProbeTime",
                        now, "lastTransitionTime", now);
  if (reason && *reason)
    json_object_set_new(c, "reason", json_string(reason));
  if (message && *message)
    json_object_set_new(c, "message", json_string(message));
  return c;
}

/* kube's ensureJobConditionStatus: true when the list changed. */
static bool ensure_condition(json_t *status, const char *type, const char *cstatus,
                             const char *reason, const char *message) {
  json_t *conds = json_object_get(status, "conditions"), *c;
  size_t i;
  json_array_foreach(conds, i, c) {
    if (!streq(jstr(c, "type"), type))
      continue;
    if (streq(jstr(c, "status"), cstatus) && streq(jstr(c, "reason"), reason ? reason : "") &&
        streq(jstr(c, "message"), message ? message : ""))
      return false;
    json_array_set_new(conds, i, new_condition(type, cstatus, reason, message));
    return true;
  }
  if (streq(cstatus, "False"))
    return false;
  json_array_append_new(json_object_ensure_array(status, "conditions"),
                        new_condition(type, cstatus, reason, message));
  return true;
}

/* Sets an omitempty counter. */
static void set_count(json_t *status, const char *k, long v) {
  if (v)
    json_object_set_new(status, k, json_integer(v));
  else
    json_object_del(status, k);
}

static void set_now(json_t *obj, const char *k) {
  _cleanup_free_ char *now = timeutil_now();
  json_object_set_new(obj, k, json_string(now));
}

static char *pods_path(const char *ns) { return controller_path("/api/v1", ns, "pods"); }

static int put_status(struct jctx *jc) {
  _cleanup_free_ char *coll = controller_path("/apis/batch/v1", job_ns(jc), "jobs");
  _cleanup_free_ char *path = xasprintf("%s/%s/status", coll, job_name(jc));
  _cleanup_free_ char *err = NULL;
  json_t *ret = NULL;
  int r = controller_update(jc->c, path, jc->job, &ret, &err);
  if (r < 0) {
    if (r != -ESTALE)
      controller_log(jc->c, "updating status of job %s: %s", jc->key, err ? err : strerror(-r));
    return r;
  }
  if (json_is_object(ret)) {
    json_decref(jc->job);
    jc->job = ret;
  } else {
    json_decref(ret);
  }
  return 0;
}

/* ---- pod writes ---- */

struct pod_batch {
  struct jctx *jc;
  json_t **pods;
  bool *ok;
  bool remove_finalizer, delete, expectations;
  atomic_long done, done_ready;
  atomic_int failures;
};

static int remove_finalizer(struct controller *c, const json_t *pod, char **ret_err) {
  if (!pod_has_finalizer(pod))
    return 0;
  _cleanup_json_ json_t *patch = json_pack("{s:{s:[s]}}", "metadata",
                                           "$deleteFromPrimitiveList/finalizers",
                                           TRACKING_FINALIZER);
  _cleanup_free_ char *coll = pods_path(obj_ns(pod));
  _cleanup_free_ char *path = xasprintf("%s/%s", coll, obj_name(pod));
  return controller_patch(c, path, patch, true, NULL, ret_err);
}

static void pod_batch_one(void *ctx, size_t i) {
  struct pod_batch *b = ctx;
  struct jctx *jc = b->jc;
  const json_t *pod = b->pods[i];
  _cleanup_free_ char *err = NULL;
  int r = 0;
  if (b->remove_finalizer) {
    r = remove_finalizer(jc->c, pod, &err);
    if (r == -ENOENT)
      r = 0;
  }
  if (r == 0 && b->delete) {
    _cleanup_free_ char *coll = pods_path(obj_ns(pod));
    _cleanup_free_ char *path = xasprintf("%s/%s", coll, obj_name(pod));
    r = controller_delete(jc->c, path, NULL, &err);
    if (r == 0)
      job_event(jc, "Normal", "SuccessfulDelete", "Deleted pod: %s", obj_name(pod));
    else
      job_event(jc, "Warning", "FailedDelete", "Error deleting: %s", err ? err : strerror(-r));
  }
  if (r < 0) {
    if (b->expectations)
      controller_observe_del(jc->c, jc->key);
    atomic_fetch_add(&b->failures, 1);
    return;
  }
  if (b->ok)
    b->ok[i] = true;
  atomic_fetch_add(&b->done, 1);
  if (pod_ready(pod))
    atomic_fetch_add(&b->done_ready, 1);
}

/* Deletes pods (removing the finalizer first when asked, as kube's deleteJobPods does);
 * *ret_done / *ret_ready: how many were deleted, and how many of those were ready. */
static int delete_pods(struct jctx *jc, json_t **pods, size_t n, bool remove_fin,
                       bool expectations, long *ret_done, long *ret_ready) {
  struct pod_batch b = {.jc = jc, .pods = pods, .remove_finalizer = remove_fin, .delete = true,
                        .expectations = expectations};
  atomic_init(&b.done, 0);
  atomic_init(&b.done_ready, 0);
  atomic_init(&b.failures, 0);
  if (expectations)
    controller_expect(jc->c, jc->key, 0, (int)n);
  run_parallel(n, pod_batch_one, &b);
  *ret_done = atomic_load(&b.done);
  *ret_ready = atomic_load(&b.done_ready);
  return atomic_load(&b.failures) ? -EIO : 0;
}


/* The pod kube's pod control builds from the Job's template: the template's labels,
 * annotations and finalizers plus the tracking finalizer, the Job as controller owner;
 * for Indexed Jobs the index as annotation and label, and the hostname "<job>-<index>". */
static json_t *pod_from_template(struct jctx *jc, const json_t *tmpl, int index) {
  const json_t *tmeta = json_object_get(tmpl, "metadata");
  json_t *pod = json_pack("{s:s, s:s}", "apiVersion", "v1", "kind", "Pod");
  json_t *md = json_object_ensure(pod, "metadata");
  char *gen = index >= 0 ? job_pod_generate_name(job_name(jc), index)
                         : xasprintf("%s-", job_name(jc));
  json_object_set_new(md, "generateName", json_string(gen));
  free(gen);
  json_object_set_new(md, "namespace", json_string(job_ns(jc)));
  const json_t *v;
  if (json_is_object(v = json_object_get(tmeta, "labels")))
    json_object_set_new(md, "labels", json_deep_copy(v));
  if (json_is_object(v = json_object_get(tmeta, "annotations")))
    json_object_set_new(md, "annotations", json_deep_copy(v));
  json_t *fins = json_object_ensure_array(md, "finalizers");
  size_t i;
  bool have = false;
  json_array_foreach(json_object_get(tmeta, "finalizers"), i, v) {
    json_array_append(fins, (json_t *)v);
    have = have || streq_ptr(json_string_value(v), TRACKING_FINALIZER);
  }
  if (!have)
    json_array_append_new(fins, json_string(TRACKING_FINALIZER));
  json_object_set_new(md, "ownerReferences",
                      json_pack("[{s:s, s:s, s:s, s:s, s:b, s:b}]", "apiVersion", "batch/v1",
                                "kind", "Job", "name", job_name(jc), "uid", obj_uid(jc->job),
                                "controller", 1, "blockOwnerDeletion", 1));
  json_t *spec = json_deep_copy(json_object_get(tmpl, "spec"));
  if (!json_is_object(spec)) {
    json_decref(spec);
    spec = json_object();
  }
  json_object_set_new(pod, "spec", spec);
  if (index >= 0) {
    char ixs[16];
    snprintf(ixs, sizeof(ixs), "%d", index);
    json_object_set_new(json_object_ensure(md, "annotations"), JOB_INDEX_KEY, json_string(ixs));
    json_object_set_new(json_object_ensure(md, "labels"), JOB_INDEX_KEY, json_string(ixs));
    json_object_set_new(spec, "hostname", json_sprintf("%s-%d", job_name(jc), index));
    /* JOB_COMPLETION_INDEX from the index label (PodIndexLabel is on in 1.32). */
    static const char *const lists[] = {"initContainers", "containers"};
    for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
      json_t *ctr;
      json_array_foreach(json_object_get(spec, lists[l]), i, ctr) {
        json_t *env = json_object_ensure_array(ctr, "env"), *e;
        size_t j;
        bool found = false;
        json_array_foreach(env, j, e) found = found || streq(jstr(e, "name"), "JOB_COMPLETION_INDEX");
        if (!found)
          json_array_append_new(
              env, json_pack("{s:s, s:{s:{s:s}}}", "name", "JOB_COMPLETION_INDEX", "valueFrom",
                             "fieldRef", "fieldPath",
                             "metadata.labels['" JOB_INDEX_KEY "']"));
      }
    }
  }
  return pod;
}

struct create_batch {
  struct jctx *jc;
  const json_t *tmpl;
  const int *indexes; /* NULL for NonIndexed Jobs */
  size_t offset;
  atomic_int failures;
};

static void create_one(void *ctx, size_t i) {
  struct create_batch *b = ctx;
  struct jctx *jc = b->jc;
  _cleanup_json_ json_t *pod =
      pod_from_template(jc, b->tmpl, b->indexes ? b->indexes[b->offset + i] : -1);
  _cleanup_free_ char *path = pods_path(job_ns(jc));
  _cleanup_free_ char *err = NULL;
  _cleanup_json_ json_t *created = NULL;
  int r = controller_create(jc->c, path, pod, &created, &err);
  if (r < 0) {
    /* The informer will never see this pod. */
    controller_observe_add(jc->c, jc->key);
    atomic_fetch_add(&b->failures, 1);
    job_event(jc, "Warning", "FailedCreate", "Error creating: %s", err ? err : strerror(-r));
    return;
  }
  job_event(jc, "Normal", "SuccessfulCreate", "Created pod: %s", obj_name(created));
}

/* Creates n pods in slow-start batches of 1, 2, 4, ...; stops after a batch with
 * failures. Returns how many were created. */
static long create_pods(struct jctx *jc, const int *indexes, long n, int *ret_err) {
  controller_expect(jc->c, jc->key, (int)n, 0);
  _cleanup_json_ json_t *tmpl = json_deep_copy(json_path(jc->job, "spec.template"));
  struct create_batch b = {.jc = jc, .tmpl = tmpl, .indexes = indexes};
  atomic_init(&b.failures, 0);
  long created = 0, left = n;
  *ret_err = 0;
  for (long batch = 1; left > 0; batch *= 2) {
    long size = batch < left ? batch : left;
    int before = atomic_load(&b.failures);
    run_parallel((size_t)size, create_one, &b);
    int failed = atomic_load(&b.failures) - before;
    created += size - failed;
    b.offset += (size_t)size;
    left -= size;
    if (failed) {
      *ret_err = -EIO;
      for (long k = 0; k < left; k++)
        controller_observe_add(jc->c, jc->key);
      break;
    }
  }
  return created;
}

/* ---- manageJob ---- */

/* For Indexed Jobs, active pods with a bad or duplicated index go first (of pods sharing
 * an index the most advanced one stays), then the ActivePods order. */
static size_t pods_for_removal(struct jctx *jc, long at_least, json_t ***ret) {
  size_t n = jc->nactive, nrm = 0, nleft = 0;
  json_t **rm = xcalloc(n + 1, sizeof(*rm)), **left = xcalloc(n + 1, sizeof(*left));
  if (jc->indexed) {
    json_t **sorted = xcalloc(n + 1, sizeof(*sorted));
    memcpy(sorted, jc->active, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), active_pods_cmp);
    /* Walk from the most advanced pod down: the first pod of each index stays. */
    struct job_indexes seen = {0};
    for (size_t i = n; i-- > 0;) {
      int ix = job_pod_completion_index(sorted[i]);
      if (ix < 0 || ix >= jc->completions || job_indexes_has(&seen, ix)) {
        rm[nrm++] = sorted[i];
      } else {
        job_indexes_add(&seen, ix);
        left[nleft++] = sorted[i];
      }
    }
    job_indexes_clear(&seen);
    free(sorted);
  } else {
    memcpy(left, jc->active, n * sizeof(*left));
    nleft = n;
  }
  if ((long)nrm < at_least) {
    qsort(left, nleft, sizeof(*left), active_pods_cmp);
    for (size_t i = 0; (long)nrm < at_least && i < nleft; i++)
      rm[nrm++] = left[i];
  }
  free(left);
  *ret = rm;
  return nrm;
}

/* The lowest indexes that neither succeeded nor have an active pod. */
static size_t first_pending_indexes(struct jctx *jc, long count, int **ret) {
  struct job_indexes busy = {0};
  for (size_t i = 0; i < jc->succ.n; i++)
    job_indexes_append(&busy, jc->succ.iv[i].first, jc->succ.iv[i].last);
  for (size_t i = 0; i < jc->nactive; i++)
    job_indexes_add(&busy, job_pod_completion_index(jc->active[i]));
  if (only_replace_failed(jc->job)) {
    json_t *p;
    size_t i;
    json_array_foreach(jc->pods, i, p) {
      if (pod_terminating(p))
        job_indexes_add(&busy, job_pod_completion_index(p));
    }
  }
  int *out = xcalloc((size_t)count + 1, sizeof(*out));
  size_t n = 0;
  for (long ix = 0; ix < jc->completions && (long)n < count; ix++) {
    if (!job_indexes_has(&busy, (int)ix))
      out[n++] = (int)ix;
  }
  job_indexes_clear(&busy);
  *ret = out;
  return n;
}

/* Returns the new number of active pods; *ret_err the first failure. */
static long manage_job(struct jctx *jc, int *ret_err) {
  long active = (long)jc->nactive;
  long parallelism = jint(json_object_get(jc->job, "spec"), "parallelism", 1);
  *ret_err = 0;
  if (job_suspended(jc->job)) {
    _cleanup_free_ json_t **rm = NULL;
    size_t n = pods_for_removal(jc, active, &rm);
    long done = 0, ready = 0;
    *ret_err = delete_pods(jc, rm, n, true, true, &done, &ready);
    jc->terminating += done;
    jc->ready -= ready;
    return active - done;
  }
  long want;
  if (jc->completions < 0) {
    want = jc->succeeded > 0 ? active : parallelism;
  } else {
    want = jc->completions - jc->succeeded;
    if (want > parallelism)
      want = parallelism;
    if (want < 0)
      want = 0;
  }
  long rm_at_least = active - want > 0 ? active - want : 0;
  _cleanup_free_ json_t **rm = NULL;
  size_t nrm = pods_for_removal(jc, rm_at_least, &rm);
  if (nrm > MAX_CREATE_DELETE)
    nrm = MAX_CREATE_DELETE;
  if (nrm > 0) {
    long done = 0, ready = 0;
    *ret_err = delete_pods(jc, rm, nrm, true, true, &done, &ready);
    jc->terminating += done;
    jc->ready -= ready;
    return active - done;
  }
  long terminating = only_replace_failed(jc->job) ? jc->terminating : 0;
  long diff = want - terminating - active;
  if (diff <= 0)
    return active;
  long remaining =
      job_backoff_remaining_ms(jc->new_backoff.failures, jc->new_backoff.last_failure_ms, timeutil_now_ms(CLOCK_REALTIME));
  if (remaining > 0) {
    controller_enqueue_after(jc->c, jc->key, remaining > BATCH_MS ? remaining : BATCH_MS);
    return active;
  }
  if (diff > MAX_CREATE_DELETE)
    diff = MAX_CREATE_DELETE;
  _cleanup_free_ int *indexes = NULL;
  if (jc->indexed)
    diff = (long)first_pending_indexes(jc, diff, &indexes);
  if (diff == 0)
    return active;
  return active + create_pods(jc, indexes, diff, ret_err);
}

/* ---- counting finished pods (trackJobStatusAndRemoveFinalizers) ---- */

static bool uid_in(const struct hmap *m, const char *uid) { return hmap_contains(m, uid); }

/* Moves the UIDs of pods whose finalizer is gone from uncountedTerminatedPods into the
 * counters. True when the status changed. */
static bool clean_uncounted(json_t *status, const struct hmap *with_finalizer) {
  json_t *unc = json_object_ensure(status, "uncountedTerminatedPods");
  static const char *const lists[] = {"succeeded", "failed"};
  bool changed = false;
  for (size_t l = 0; l < 2; l++) {
    json_t *arr = json_object_get(unc, lists[l]);
    if (!json_is_array(arr))
      continue;
    json_t *keep = json_array(), *u;
    size_t i;
    json_array_foreach(arr, i, u) {
      if (json_is_string(u) && uid_in(with_finalizer, json_string_value(u)))
        json_array_append(keep, u);
    }
    size_t moved = json_array_size(arr) - json_array_size(keep);
    if (moved) {
      changed = true;
      set_count(status, lists[l], jint(status, lists[l], 0) + (long)moved);
    }
    if (json_array_size(keep))
      json_object_set_new(unc, lists[l], keep);
    else {
      json_decref(keep);
      json_object_del(unc, lists[l]);
    }
  }
  return changed;
}

static int index_cmp(const void *a, const void *b) {
  int x = job_pod_completion_index(*(json_t *const *)a);
  int y = job_pod_completion_index(*(json_t *const *)b);
  return (x > y) - (x < y);
}

static long uncounted_len(json_t *status) {
  json_t *unc = json_object_get(status, "uncountedTerminatedPods");
  return (long)(json_array_size(json_object_get(unc, "succeeded")) +
                json_array_size(json_object_get(unc, "failed")));
}

static int track_status(struct jctx *jc, bool needs_flush) {
  struct job_state *st = jc->st;
  size_t np = json_array_size(jc->pods);
  _cleanup_free_ json_t **pods = xcalloc(np + 1, sizeof(*pods));
  for (size_t i = 0; i < np; i++)
    pods[i] = json_array_get(jc->pods, i);
  if (jc->indexed)
    qsort(pods, np, sizeof(*pods), index_cmp);

  struct hmap with_fin = HMAP_INIT;
  for (size_t i = 0; i < np; i++) {
    if (pod_has_finalizer(pods[i]) && !uid_in(&jc->expected_rm, obj_uid(pods[i])))
      hmap_put(&with_fin, obj_uid(pods[i]), (void *)1);
  }
  json_t *status = jstatus(jc);
  json_t *unc = json_object_ensure(status, "uncountedTerminatedPods");
  if (clean_uncounted(status, &with_fin))
    needs_flush = true;

  _cleanup_free_ json_t **to_rm = xcalloc(np + 1, sizeof(*to_rm));
  size_t nrm = 0;
  bool reached_max = false;
  long new_succ_idx = 0;
  for (size_t i = 0; i < np; i++) {
    json_t *p = pods[i];
    const char *uid = obj_uid(p);
    if (!pod_has_finalizer(p) || uid_in(&jc->expected_rm, uid))
      continue;
    bool failed = pod_failed(p, jc->job);
    bool can_rm = obj_deleting(jc->job) || jc->fin_type || streq(pod_phase(p), "Succeeded") ||
                  failed;
    if (!can_rm)
      continue;
    to_rm[nrm++] = p;
    int ix = job_pod_completion_index(p);
    bool ix_valid = ix >= 0 && ix < jc->completions;
    if (streq(pod_phase(p), "Succeeded") && !uid_in(&jc->unc_f, uid)) {
      if (jc->indexed) {
        if (ix_valid && !job_indexes_has(&jc->prev_succ, ix)) {
          job_indexes_add(&jc->succ, ix);
          new_succ_idx++;
          needs_flush = true;
        }
      } else if (!uid_in(&jc->unc_s, uid)) {
        json_array_append_new(json_object_ensure_array(unc, "succeeded"), json_string(uid));
        needs_flush = true;
      }
    } else if (failed || (jc->fin_type && !streq(jc->fin_type, "SuccessCriteriaMet"))) {
      /* Once the Job is finishing, every pod that did not succeed counts as failed. */
      if (!uid_in(&jc->unc_f, uid) && (!jc->indexed || ix_valid)) {
        json_array_append_new(json_object_ensure_array(unc, "failed"), json_string(uid));
        needs_flush = true;
      }
    }
    if (new_succ_idx + uncounted_len(status) >= MAX_UNCOUNTED) {
      /* Keeps status small and lets other Jobs sync; the writes below requeue this one. */
      reached_max = true;
      break;
    }
  }
  if (jc->indexed) {
    _cleanup_free_ char *s = job_indexes_format(&jc->succ);
    if (!streq(s, jstr(status, "completedIndexes")))
      needs_flush = true;
    set_count(status, "succeeded", job_indexes_total(&jc->succ));
    if (*s)
      json_object_set_new(status, "completedIndexes", json_string(s));
    else
      json_object_set_new(status, "completedIndexes", json_string(""));
  }
  /* The interim conditions are written before any finalizer is removed. */
  if (jc->fin_type && streq(jc->fin_type, "FailureTarget")) {
    json_array_append_new(json_object_ensure_array(status, "conditions"),
                          new_condition("FailureTarget", "True", jc->fin_reason, jc->fin_message));
    needs_flush = true;
    jc->fin_type = "Failed";
  }
  if (jc->fin_type && streq(jc->fin_type, "SuccessCriteriaMet")) {
    if (!ctlutil_find_condition(status, "SuccessCriteriaMet")) {
      json_array_append_new(
          json_object_ensure_array(status, "conditions"),
          new_condition("SuccessCriteriaMet", "True", jc->fin_reason, jc->fin_message));
      needs_flush = true;
    }
    jc->fin_type = "Complete";
  }

  /* flushUncountedAndRemoveFinalizers */
  int r = 0;
  if (needs_flush) {
    r = put_status(jc);
    if (r < 0)
      goto out;
    backoff_put(st, jc->key, jc->new_backoff);
    needs_flush = false;
  }
  int rm_err = 0;
  if (nrm > 0) {
    for (size_t i = 0; i < nrm; i++)
      rm_expect(st, jc->key, obj_uid(to_rm[i]));
    _cleanup_free_ bool *ok = xcalloc(nrm, sizeof(*ok));
    struct pod_batch b = {.jc = jc, .pods = to_rm, .ok = ok, .remove_finalizer = true};
    atomic_init(&b.done, 0);
    atomic_init(&b.done_ready, 0);
    atomic_init(&b.failures, 0);
    run_parallel(nrm, pod_batch_one, &b);
    for (size_t i = 0; i < nrm; i++) {
      if (ok[i])
        hmap_remove(&with_fin, obj_uid(to_rm[i]));
      else
        rm_observed(st, jc->key, obj_uid(to_rm[i]));
    }
    if (atomic_load(&b.failures))
      rm_err = -EIO;
  }
  status = jstatus(jc);
  if (clean_uncounted(status, &with_fin))
    needs_flush = true;
  if (rm_err < 0 && needs_flush) {
    r = put_status(jc);
    if (r == 0)
      r = rm_err;
    goto out;
  }

  /* enactJobFinished */
  bool finished = false;
  if (!reached_max && jc->fin_type && uncounted_len(status) == 0 && jc->terminating == 0) {
    ensure_condition(status, jc->fin_type, "True", jc->fin_reason, jc->fin_message);
    if (streq(jc->fin_type, "Complete")) {
      const json_t *c = ctlutil_find_condition(status, "Complete");
      json_object_set_new(status, "completionTime", json_string(jstr(c, "lastTransitionTime")));
    }
    finished = true;
    needs_flush = true;
  }
  if (needs_flush) {
    r = put_status(jc);
    if (r < 0)
      goto out;
    if (finished) {
      if (streq(jc->fin_type, "Complete")) {
        if (jc->completions >= 0 && jint(jstatus(jc), "succeeded", 0) > jc->completions)
          job_event(jc, "Warning", "TooManySucceededPods",
                    "Too many succeeded pods running after completion count reached");
        job_event(jc, "Normal", "Completed", "Job completed");
      } else {
        job_event(jc, "Warning", jc->fin_reason ? jc->fin_reason : "", "%s",
                  jc->fin_message ? jc->fin_message : "");
      }
    }
  }
  r = rm_err;
out:
  hmap_clear(&with_fin, NULL);
  return r;
}

/* ---- syncJob ---- */

static bool past_backoff_limit_on_failure(const json_t *job, const json_t *pods, long limit) {
  if (!streq_ptr(json_path_str((json_t *)job, "spec.template.spec.restartPolicy"), "OnFailure"))
    return false;
  long n = 0;
  const json_t *p;
  size_t i;
  json_array_foreach(pods, i, p) {
    const char *ph = pod_phase(p);
    if (!streq(ph, "Running") && !streq(ph, "Pending"))
      continue;
    static const char *const lists[] = {"status.initContainerStatuses", "status.containerStatuses"};
    for (size_t l = 0; l < 2; l++) {
      const json_t *cs;
      size_t j;
      json_array_foreach(json_path((json_t *)p, lists[l]), j, cs) n += jint(cs, "restartCount", 0);
    }
  }
  return limit == 0 ? n > 0 : n >= limit;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* kube's newBackoffRecord: failures after the last success, and when the last one was. */
static struct backoff_rec next_backoff(struct backoff_rec rec, int64_t *succ, size_t ns,
                                       int64_t *fail, size_t nf) {
  if (ns == 0) {
    if (nf == 0)
      return rec;
    qsort(fail, nf, sizeof(*fail), cmp_i64);
    rec.failures += (unsigned)nf;
    rec.last_failure_ms = fail[nf - 1];
    return rec;
  }
  rec = (struct backoff_rec){0};
  if (nf == 0)
    return rec;
  qsort(succ, ns, sizeof(*succ), cmp_i64);
  qsort(fail, nf, sizeof(*fail), cmp_i64);
  for (size_t i = nf; i-- > 0;) {
    if (fail[i] <= succ[ns - 1])
      break;
    if (rec.failures == 0)
      rec.last_failure_ms = fail[i];
    rec.failures++;
  }
  return rec;
}

static void load_uncounted(const json_t *status, const char *list, struct hmap *out) {
  const json_t *u;
  size_t i;
  json_array_foreach(json_path((json_t *)status, list), i, u) {
    if (json_is_string(u))
      hmap_put(out, json_string_value(u), (void *)1);
  }
}

static int sync_job(struct controller *c, const char *key, json_t *shared) {
  struct job_state *st = controller_state(c);
  if (job_finished(shared)) {
    pthread_mutex_lock(&st->lock);
    free(hmap_remove(&st->backoff, key));
    pthread_mutex_unlock(&st->lock);
    return 0;
  }
  struct jctx jc_ = {.c = c, .st = st, .key = key}, *jc = &jc_;
  jc->job = json_deep_copy(shared);
  const json_t *spec = json_object_get(jc->job, "spec");
  const char *mode = jstr(spec, "completionMode");
  if (*mode && !streq(mode, "NonIndexed") && !streq(mode, "Indexed")) {
    job_event(jc, "Warning", "UnknownCompletionMode",
              "Skipped Job sync because completion mode is unknown");
    json_decref(jc->job);
    return 0;
  }
  jc->indexed = streq(mode, "Indexed");
  jc->completions = jint(spec, "completions", -1);
  long backoff_limit = jint(spec, "backoffLimit", 6);
  json_t *status = jstatus(jc);
  json_object_ensure(status, "uncountedTerminatedPods");

  /* Expectations first: a pod created after this point is seen in the next sync. */
  bool satisfied = controller_satisfied(c, key);
  jc->pods = informer_by_index(st->pods, POD_OWNER_INDEX, obj_uid(jc->job));
  size_t np = json_array_size(jc->pods);
  jc->active = xcalloc(np + 1, sizeof(*jc->active));
  json_t *p;
  size_t i;
  json_array_foreach(jc->pods, i, p) {
    if (pod_active(p)) {
      jc->active[jc->nactive++] = p;
      if (pod_ready(p))
        jc->ready++;
    } else if (pod_terminating(p)) {
      jc->terminating++;
    }
  }
  jc->unc_s = (struct hmap)HMAP_INIT;
  jc->unc_f = (struct hmap)HMAP_INIT;
  jc->expected_rm = (struct hmap)HMAP_INIT;
  load_uncounted(status, "uncountedTerminatedPods.succeeded", &jc->unc_s);
  load_uncounted(status, "uncountedTerminatedPods.failed", &jc->unc_f);
  rm_snapshot(st, key, &jc->expected_rm);

  long active = (long)jc->nactive;
  _cleanup_free_ int64_t *succ_t = xcalloc(np + 1, sizeof(int64_t));
  _cleanup_free_ int64_t *fail_t = xcalloc(np + 1, sizeof(int64_t));
  size_t nsucc = 0, nfail = 0;
  json_array_foreach(jc->pods, i, p) {
    const char *uid = obj_uid(p);
    if (!pod_has_finalizer(p) || uid_in(&jc->expected_rm, uid))
      continue;
    if (jc->indexed) {
      int ix = job_pod_completion_index(p);
      if (ix < 0 || ix >= jc->completions)
        continue;
    }
    if (streq(pod_phase(p), "Succeeded") && !uid_in(&jc->unc_s, uid))
      succ_t[nsucc++] = pod_finish_ms(p);
    else if (pod_failed(p, jc->job) && !uid_in(&jc->unc_f, uid))
      fail_t[nfail++] = pod_finish_ms(p);
  }
  jc->succeeded = jint(status, "succeeded", 0) + (long)nsucc + (long)hmap_len(&jc->unc_s);
  jc->failed = jint(status, "failed", 0) + (long)nfail + (long)hmap_len(&jc->unc_f);

  bool suspended = job_suspended(jc->job);
  if (!json_object_get(status, "startTime") && !suspended)
    set_now(status, "startTime");
  jc->new_backoff = next_backoff(backoff_get(st, key), succ_t, nsucc, fail_t, nfail);

  const json_t *scm = ctlutil_find_condition(status, "SuccessCriteriaMet");
  if (scm && streq(jstr(scm, "status"), "True"))
    set_finished(jc, "SuccessCriteriaMet", jstr(scm, "reason"), jstr(scm, "message"));
  if (!jc->fin_type) {
    const json_t *ft = ctlutil_find_condition(status, "FailureTarget");
    if (ft && streq(jstr(ft, "status"), "True"))
      set_finished(jc, "Failed", jstr(ft, "reason"), jstr(ft, "message"));
  }
  if (!jc->fin_type) {
    const json_t *ads = json_object_get(spec, "activeDeadlineSeconds");
    int64_t started = parse_time_ms(json_string_value(json_object_get(status, "startTime")));
    if (jc->failed > backoff_limit ||
        past_backoff_limit_on_failure(jc->job, jc->pods, backoff_limit)) {
      set_finished(jc, "FailureTarget", "BackoffLimitExceeded",
                   "Job has reached the specified backoff limit");
    } else if (json_is_integer(ads) && started >= 0 && !suspended) {
      int64_t left = started + json_integer_value(ads) * 1000 - timeutil_now_ms(CLOCK_REALTIME);
      if (left <= 0)
        set_finished(jc, "FailureTarget", "DeadlineExceeded",
                     "Job was active longer than specified deadline");
      else
        controller_enqueue_after(c, key, (long)left);
    }
  }
  if (jc->indexed) {
    job_indexes_parse(jstr(status, "completedIndexes"), (int)jc->completions, &jc->prev_succ);
    for (size_t k = 0; k < jc->prev_succ.n; k++)
      job_indexes_append(&jc->succ, jc->prev_succ.iv[k].first, jc->prev_succ.iv[k].last);
    json_array_foreach(jc->pods, i, p) {
      int ix = job_pod_completion_index(p);
      if (streq(pod_phase(p), "Succeeded") && pod_has_finalizer(p) && ix >= 0 &&
          ix < jc->completions)
        job_indexes_add(&jc->succ, ix);
    }
    jc->succeeded = job_indexes_total(&jc->succ);
  }

  int manage_err = 0;
  bool suspend_changed = false;
  if (jc->fin_type) {
    /* The Job is failing or succeeded: stop what still runs. */
    long done = 0, ready = 0;
    manage_err = delete_pods(jc, jc->active, jc->nactive, false, false, &done, &ready);
    if (done != active || !satisfied)
      set_finished(jc, NULL, NULL, NULL);
    active -= done;
    jc->terminating += done;
    jc->ready -= ready;
  } else {
    bool managed = false;
    if (satisfied && !obj_deleting(jc->job)) {
      active = manage_job(jc, &manage_err);
      managed = true;
    }
    bool complete = jc->completions < 0 ? jc->succeeded > 0 && active == 0
                                        : jc->succeeded >= jc->completions && active == 0;
    if (complete) {
      set_finished(jc, "SuccessCriteriaMet", NULL, NULL);
    } else if (managed) {
      status = jstatus(jc);
      if (suspended) {
        if (ensure_condition(status, "Suspended", "True", "JobSuspended", "Job suspended")) {
          suspend_changed = true;
          job_event(jc, "Normal", "Suspended", "Job suspended");
        }
      } else if (ensure_condition(status, "Suspended", "False", "JobResumed", "Job resumed")) {
        suspend_changed = true;
        job_event(jc, "Normal", "Resumed", "Job resumed");
        /* activeDeadlineSeconds counts from the resume. */
        set_now(status, "startTime");
      }
    }
  }

  status = jstatus(jc);
  bool needs = suspend_changed || active != jint(status, "active", 0) ||
               !json_is_integer(json_object_get(status, "ready")) ||
               jc->ready != jint(status, "ready", 0) ||
               !json_is_integer(json_object_get(status, "terminating")) ||
               jc->terminating != jint(status, "terminating", 0);
  set_count(status, "active", active);
  json_object_set_new(status, "ready", json_integer(jc->ready));
  json_object_set_new(status, "terminating", json_integer(jc->terminating));
  int r = track_status(jc, needs);

  set_finished(jc, NULL, NULL, NULL);
  job_indexes_clear(&jc->prev_succ);
  job_indexes_clear(&jc->succ);
  hmap_clear(&jc->unc_s, NULL);
  hmap_clear(&jc->unc_f, NULL);
  hmap_clear(&jc->expected_rm, NULL);
  free(jc->active);
  json_decref(jc->pods);
  json_decref(jc->job);
  return r < 0 ? r : manage_err;
}

/* kube's syncOrphanPod: a pod whose Job is gone or finished loses its finalizer. */
static int sync_orphan_pod(struct controller *c, const char *key) {
  struct job_state *st = controller_state(c);
  _cleanup_json_ json_t *pod = informer_get(st->pods, key);
  if (!pod)
    return 0;
  const json_t *ref = controller_owner_ref(pod);
  if (ref) {
    if (!streq(jstr(ref, "kind"), "Job") || !streq(jstr(ref, "apiVersion"), "batch/v1"))
      return 0;
    _cleanup_json_ json_t *job = resolve_job(st, pod, ref);
    if (job && !job_finished(job))
      return 0;
  }
  _cleanup_free_ char *err = NULL;
  int r = remove_finalizer(c, pod, &err);
  return r == -ENOENT ? 0 : r;
}

static int job_sync(struct controller *c, const char *key) {
  if (startswith(key, ORPHAN_PREFIX))
    return sync_orphan_pod(c, key + strlen(ORPHAN_PREFIX));
  struct job_state *st = controller_state(c);
  _cleanup_json_ json_t *job = informer_get(st->jobs, key);
  if (!job) {
    controller_forget_expectations(c, key);
    forget_job(st, key);
    return 0;
  }
  return sync_job(c, key, job);
}

static int job_setup(struct controller *c) {
  struct job_state *st = xcalloc(1, sizeof(*st));
  pthread_mutex_init(&st->lock, NULL);
  st->jobs = controller_informer(c, JOBS_PATH);
  st->pods = controller_informer(c, PODS_PATH);
  if (!st->jobs || !st->pods) {
    pthread_mutex_destroy(&st->lock);
    free(st);
    return -ENOMEM;
  }
  controller_set_state(c, st);
  informer_add_index(st->pods, POD_OWNER_INDEX, pod_owner_index);
  informer_add_handler(st->jobs, &(struct informer_handler){.on_add = job_on_add,
                                                            .on_update = job_on_update,
                                                            .on_delete = job_on_delete,
                                                            .userdata = c});
  informer_add_handler(st->pods, &(struct informer_handler){.on_add = pod_on_add,
                                                            .on_update = pod_on_update,
                                                            .on_delete = pod_on_delete,
                                                            .userdata = c});
  return 0;
}

static void job_teardown(struct controller *c) {
  struct job_state *st = controller_state(c);
  if (!st)
    return;
  hmap_clear(&st->backoff, free);
  hmap_clear(&st->rm_fin, free_set);
  pthread_mutex_destroy(&st->lock);
  free(st);
  controller_set_state(c, NULL);
}

static const struct controller_def job_controller = {
    .name = "job",
    .component = "job-controller",
    .workers = 5,
    .setup = job_setup,
    .sync = job_sync,
    .teardown = job_teardown,
};
CONTROLLER_REGISTER(job_controller);

int64_t job_finish_ms(const json_t *job) {
  const json_t *st = json_object_get(job, "status"), *c;
  size_t i;
  json_array_foreach(json_object_get(st, "conditions"), i, c) {
    const char *type = jstr(c, "type");
    if ((streq(type, "Complete") || streq(type, "Failed")) && streq(jstr(c, "status"), "True"))
      return parse_time_ms(jstr(c, "lastTransitionTime"));
  }
  return -1;
}
