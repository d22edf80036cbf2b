/* podutil.c — see podutil.h. */
#include "controllers/podutil.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/macro.h"
#include "lib/timeutil.h"
#include "lib/validation.h"

#define DELETION_COST_ANNOTATION "controller.kubernetes.io/pod-deletion-cost"
#define MAX_BURST_THREADS 16

/* ---- pod state ---- */

const json_t *podutil_ready_condition(const json_t *pod) {
  size_t i;
  json_t *c;
  json_array_foreach(json_path((json_t *)pod, "status.conditions"), i, c) {
    if (streq_ptr(json_string_value(json_object_get(c, "type")), "Ready"))
      return c;
  }
  return NULL;
}

bool podutil_is_ready(const json_t *pod) {
  const json_t *c = podutil_ready_condition(pod);
  return c && streq_ptr(json_string_value(json_object_get(c, "status")), "True");
}

/* A metav1.Time field as an instant; false when absent or unparseable (Go's zero time). */
static bool time_field(const json_t *obj, const char *key, struct timespec *ret) {
  const char *s = json_string_value(json_object_get(obj, key));
  if (!s || !*s)
    return false;
  return timeutil_parse(s, ret) == 0;
}

static int64_t ts_ns(const struct timespec *t) {
  return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
}

bool podutil_is_available(const json_t *pod, long min_ready_seconds, const struct timespec *now) {
  if (!podutil_is_ready(pod))
    return false;
  if (min_ready_seconds == 0)
    return true;
  struct timespec since, clock;
  if (!time_field(podutil_ready_condition(pod), "lastTransitionTime", &since))
    return false;
  if (!now) {
    clock_gettime(CLOCK_REALTIME, &clock);
    now = &clock;
  }
  return ts_ns(&since) + (int64_t)min_ready_seconds * 1000000000LL < ts_ns(now);
}

bool podutil_is_active(const json_t *pod) {
  const char *phase = json_path_str((json_t *)pod, "status.phase");
  return !streq_ptr(phase, "Succeeded") && !streq_ptr(phase, "Failed") &&
         !json_path((json_t *)pod, "metadata.deletionTimestamp");
}

int podutil_max_restarts(const json_t *pod) {
  int max = 0;
  size_t i;
  json_t *s;
  json_array_foreach(json_path((json_t *)pod, "status.containerStatuses"), i, s) {
    json_int_t n = json_integer_value(json_object_get(s, "restartCount"));
    if (n > max)
      max = n > INT_MAX ? INT_MAX : (int)n;
  }
  return max;
}

/* ---- deletion order ---- */

/* kube's podPhaseToOrdinal; phases it does not list (Succeeded, Failed) count as 0. */
static int phase_ordinal(const json_t *pod) {
  const char *phase = json_path_str((json_t *)pod, "status.phase");
  if (streq_ptr(phase, "Unknown"))
    return 1;
  if (streq_ptr(phase, "Running"))
    return 2;
  return 0;
}

static const char *node_name(const json_t *pod) {
  const char *n = json_path_str((json_t *)pod, "spec.nodeName");
  return n ? n : "";
}

/* A Go time that may be zero. */
struct gotime {
  bool set;
  struct timespec t;
};

static struct gotime ready_time(const json_t *pod) {
  struct gotime g = {0};
  if (podutil_is_ready(pod))
    g.set = time_field(podutil_ready_condition(pod), "lastTransitionTime", &g.t);
  return g;
}

static struct gotime creation_time(const json_t *pod) {
  struct gotime g = {0};
  g.set = time_field(json_object_get(pod, "metadata"), "creationTimestamp", &g.t);
  return g;
}

static bool gotime_equal(const struct gotime *a, const struct gotime *b) {
  if (a->set != b->set)
    return false;
  return !a->set || ts_ns(&a->t) == ts_ns(&b->t);
}

/* kube's afterOrZero: a zero time sorts first, then the later time. True when a goes
 * before b. */
static bool after_or_zero(const struct gotime *a, const struct gotime *b) {
  if (!a->set || !b->set)
    return !a->set;
  return ts_ns(&a->t) > ts_ns(&b->t);
}

/* Ordering helper: -1 when the predicate for a holds, 1 otherwise. */
static int first_if(bool a_first) { return a_first ? -1 : 1; }

/* The criteria both orders begin with: unassigned before assigned, then by phase
 * (Pending, Unknown, Running), then not ready before ready. 0 when they tie. */
static int compare_assigned_phase_ready(const json_t *a, const json_t *b) {
  const char *na = node_name(a), *nb = node_name(b);
  if (!streq(na, nb) && (!*na || !*nb))
    return first_if(!*na);
  int pa = phase_ordinal(a), pb = phase_ordinal(b);
  if (pa != pb)
    return first_if(pa < pb);
  bool ra = podutil_is_ready(a), rb = podutil_is_ready(b);
  if (ra != rb)
    return first_if(!ra);
  return 0;
}

int podutil_compare_active(const json_t *a, const json_t *b) {
  int r = compare_assigned_phase_ready(a, b);
  if (r)
    return r;
  if (podutil_is_ready(a)) {
    struct gotime ta = ready_time(a), tb = ready_time(b);
    if (!gotime_equal(&ta, &tb))
      return first_if(after_or_zero(&ta, &tb));
  }
  int ca = podutil_max_restarts(a), cb = podutil_max_restarts(b);
  if (ca != cb)
    return first_if(ca > cb);
  struct gotime ta = creation_time(a), tb = creation_time(b);
  if (!gotime_equal(&ta, &tb))
    return first_if(after_or_zero(&ta, &tb));
  return 0;
}

static int cmp_active(const void *x, const void *y) {
  return podutil_compare_active(*(json_t *const *)x, *(json_t *const *)y);
}

void podutil_sort_active(json_t **pods, size_t n) {
  if (n > 1)
    qsort(pods, n, sizeof(*pods), cmp_active);
}

int podutil_deletion_cost(const json_t *pod) {
  const char *v =
      json_string_value(json_object_get(json_path((json_t *)pod, "metadata.annotations"),
                                        DELETION_COST_ANNOTATION));
  if (!v || !*v)
    return 0;
  /* kube accepts a leading '-', a lone "0" or a non-zero first digit; "+1" and "007" are
   * invalid and count as no cost. */
  if (!(v[0] == '-' || streq(v, "0") || (v[0] >= '1' && v[0] <= '9')))
    return 0;
  char *end;
  errno = 0;
  long long n = strtoll(v, &end, 10);
  if (errno || *end || end == v || n < INT32_MIN || n > INT32_MAX)
    return 0;
  return (int)n;
}

/* kube's logarithmicRankDiff: the difference of floor(log2(age in ns)) of two times. */
static int log_rank_diff(const struct timespec *a, const struct timespec *b,
                         const struct timespec *now) {
  int64_t da = ts_ns(now) - ts_ns(a), db = ts_ns(now) - ts_ns(b);
  int ra = da > 0 ? (int)log2((double)da) : -1;
  int rb = db > 0 ? (int)log2((double)db) : -1;
  return ra - rb;
}

static const char *uid_of(const json_t *pod) {
  const char *u = json_path_str((json_t *)pod, "metadata.uid");
  return u ? u : "";
}

/* Compares two differing times the way ActivePodsWithRanks does with
 * LogarithmicScaleDown (on by default since 1.22). */
static int compare_times_log(const struct gotime *ta, const struct gotime *tb, const json_t *a,
                             const json_t *b, const struct timespec *now) {
  if (!now || !ta->set || !tb->set)
    return first_if(after_or_zero(ta, tb));
  int d = log_rank_diff(&ta->t, &tb->t, now);
  if (d == 0) {
    int c = strcmp(uid_of(a), uid_of(b));
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  return first_if(d < 0);
}

int podutil_compare_ranked(const struct podutil_ranked *x, const struct podutil_ranked *y,
                           const struct timespec *now) {
  const json_t *a = x->pod, *b = y->pod;
  int r = compare_assigned_phase_ready(a, b);
  if (r)
    return r;
  int costa = podutil_deletion_cost(a), costb = podutil_deletion_cost(b);
  if (costa != costb)
    return first_if(costa < costb);
  if (x->rank != y->rank)
    return first_if(x->rank > y->rank);
  if (podutil_is_ready(a)) {
    struct gotime ta = ready_time(a), tb = ready_time(b);
    if (!gotime_equal(&ta, &tb))
      return compare_times_log(&ta, &tb, a, b, now);
  }
  int ca = podutil_max_restarts(a), cb = podutil_max_restarts(b);
  if (ca != cb)
    return first_if(ca > cb);
  struct gotime ta = creation_time(a), tb = creation_time(b);
  if (!gotime_equal(&ta, &tb))
    return compare_times_log(&ta, &tb, a, b, now);
  return 0;
}

static _Thread_local const struct timespec *sort_now;

static int cmp_ranked(const void *x, const void *y) {
  return podutil_compare_ranked(x, y, sort_now);
}

void podutil_sort_ranked(struct podutil_ranked *v, size_t n, const struct timespec *now) {
  if (n < 2)
    return;
  sort_now = now;
  qsort(v, n, sizeof(*v), cmp_ranked);
  sort_now = NULL;
}

/* ---- building pods ---- */

json_t *podutil_controller_ref(const json_t *owner, const char *api_version, const char *kind) {
  json_t *md = json_object_get(owner, "metadata");
  return json_pack("{s:s,s:s,s:s?,s:s?,s:b,s:b}", "apiVersion", api_version, "kind", kind, "name",
                   json_string_value(json_object_get(md, "name")), "uid",
                   json_string_value(json_object_get(md, "uid")), "controller", 1,
                   "blockOwnerDeletion", 1);
}

json_t *podutil_from_template(const json_t *template, const json_t *owner,
                              const json_t *controller_ref) {
  json_t *tmd = json_object_get(template, "metadata");
  json_t *labels = json_object_get(tmd, "labels");
  if (!json_is_object(labels) || json_object_size(labels) == 0)
    return NULL;
  const char *owner_name = json_path_str((json_t *)owner, "metadata.name");
  const char *owner_ns = json_path_str((json_t *)owner, "metadata.namespace");
  _cleanup_free_ char *prefix = xasprintf("%s-", owner_name ? owner_name : "");
  /* The prefix is checked as kube's NameIsDNSSubdomain(prefix, true) does: with its
   * trailing dash masked, since a random suffix follows. */
  _cleanup_free_ char *masked = xstrdup(prefix);
  masked[strlen(masked) - 1] = 'a';
  if (valid_dns1123_subdomain(masked, NULL) != 0)
    prefix[strlen(prefix) - 1] = '\0';

  json_t *pod = json_object();
  json_object_set_new(pod, "apiVersion", json_string("v1"));
  json_object_set_new(pod, "kind", json_string("Pod"));
  json_t *md = json_object_ensure(pod, "metadata");
  json_object_set_new(md, "generateName", json_string(prefix));
  if (owner_ns)
    json_object_set_new(md, "namespace", json_string(owner_ns));
  json_object_set_new(md, "labels", json_deep_copy(labels));
  json_t *ann = json_object_get(tmd, "annotations");
  if (json_is_object(ann) && json_object_size(ann) > 0)
    json_object_set_new(md, "annotations", json_deep_copy(ann));
  json_t *fin = json_object_get(tmd, "finalizers");
  if (json_is_array(fin) && json_array_size(fin) > 0)
    json_object_set_new(md, "finalizers", json_deep_copy(fin));
  if (controller_ref) {
    json_t *refs = json_array();
    json_array_append_new(refs, json_deep_copy(controller_ref));
    json_object_set_new(md, "ownerReferences", refs);
  }
  json_t *spec = json_object_get(template, "spec");
  json_object_set_new(pod, "spec", spec ? json_deep_copy(spec) : json_object());
  return pod;
}

/* ---- indexes ---- */

static const json_t *controller_ref_of(const json_t *obj) {
  size_t i;
  json_t *ref;
  json_array_foreach(json_path((json_t *)obj, "metadata.ownerReferences"), i, ref) {
    if (json_is_true(json_object_get(ref, "controller")))
      return ref;
  }
  return NULL;
}

size_t podutil_index_controller_uid(const json_t *obj, const char **ret_values, size_t max) {
  const char *uid = json_string_value(json_object_get(controller_ref_of(obj), "uid"));
  if (!uid || max == 0)
    return 0;
  ret_values[0] = uid;
  return 1;
}

size_t podutil_index_orphans(const json_t *obj, const char **ret_values, size_t max) {
  if (controller_ref_of(obj) || max == 0)
    return 0;
  const char *ns = json_path_str((json_t *)obj, "metadata.namespace");
  if (!ns)
    return 0;
  ret_values[0] = ns;
  return 1;
}

/* ---- bursts ---- */

struct burst {
  int (*fn)(void *, int);
  void *userdata;
  int base, count;
  atomic_int next, ok, first_err;
};

static void *burst_worker(void *arg) {
  struct burst *b = arg;
  for (;;) {
    int i = atomic_fetch_add(&b->next, 1);
    if (i >= b->count)
      break;
    int r = b->fn(b->userdata, b->base + i);
    if (r >= 0) {
      atomic_fetch_add(&b->ok, 1);
    } else {
      int zero = 0;
      atomic_compare_exchange_strong(&b->first_err, &zero, r);
    }
  }
  return NULL;
}

/* Runs calls base..base+count-1 in parallel; returns successes, *ret_err the first
 * failure. Without threads (creation failed) the calling thread does the work. */
static int run_burst(int base, int count, int (*fn)(void *, int), void *userdata, int *ret_err) {
  struct burst b = {.fn = fn, .userdata = userdata, .base = base, .count = count};
  atomic_init(&b.next, 0);
  atomic_init(&b.ok, 0);
  atomic_init(&b.first_err, 0);
  int nthreads = count < MAX_BURST_THREADS ? count : MAX_BURST_THREADS;
  pthread_t threads[MAX_BURST_THREADS];
  int started = 0;
  /* The caller is one of the workers, so one call needs no thread at all. */
  for (int t = 1; t < nthreads; t++) {
    if (pthread_create(&threads[started], NULL, burst_worker, &b) != 0)
      break;
    started++;
  }
  burst_worker(&b);
  for (int t = 0; t < started; t++)
    pthread_join(threads[t], NULL);
  *ret_err = atomic_load(&b.first_err);
  return atomic_load(&b.ok);
}

int podutil_slow_start_batch(int count, int initial, int (*fn)(void *userdata, int i),
                             void *userdata, int *ret_err) {
  int successes = 0, done = 0, err = 0;
  if (initial < 1)
    initial = 1;
  int remaining = count;
  for (int batch = remaining < initial ? remaining : initial; batch > 0;
       batch = remaining < 2 * batch ? remaining : 2 * batch) {
    int e = 0;
    int ok = run_burst(done, batch, fn, userdata, &e);
    successes += ok;
    if (ok < batch) {
      err = e ? e : -EIO;
      break;
    }
    done += batch;
    remaining -= batch;
  }
  if (ret_err)
    *ret_err = err;
  return successes;
}

int podutil_parallel(int count, int (*fn)(void *userdata, int i), void *userdata) {
  if (count <= 0)
    return 0;
  int e;
  return run_burst(0, count, fn, userdata, &e);
}
