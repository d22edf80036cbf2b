/* deployment.c — the Deployment controller, as kube-controller-manager's (1.32): it owns
 * ReplicaSets (never pods) and moves a Deployment from its old ReplicaSets to the one whose
 * template matches its own, by the RollingUpdate or Recreate strategy, and reports the
 * rollout in the Deployment's status and conditions.
 *
 * One sync of "ns/name" does, in kube's order: claim ReplicaSets (adopt matching orphans,
 * release owned ones that no longer match), then either only scale (paused Deployments,
 * and size changes noticed through the desired-replicas annotation) or roll out, then
 * write status when it changed. The new ReplicaSet is named "<deployment>-<hash>" after
 * its template (podtemplatehash.h); the rollout maths live in deployment_rollout.h.
 *
 * The Deployment's revision annotation is written with a merge patch of its metadata after
 * the status update, because ckube's /status subresource keeps metadata as it was (kube's
 * Deployment status strategy lets annotations through). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controllers/controller.h"
#include "controllers/ctlutil.h"
#include "controllers/deployment_rollout.h"
#include "controllers/podtemplatehash.h"
#include "controllers/podutil.h"
#include "lib/json.h"
#include "lib/macro.h"
#include "lib/selector.h"
#include "lib/timeutil.h"

#define ANN_REVISION "deployment.kubernetes.io/revision"
#define ANN_REVISION_HISTORY "deployment.kubernetes.io/revision-history"
#define ANN_DESIRED "deployment.kubernetes.io/desired-replicas"
#define ANN_MAX "deployment.kubernetes.io/max-replicas"
#define LABEL_HASH "pod-template-hash"
#define MAX_REV_HISTORY_CHARS 2000
#define INT32_UNSET INT32_MAX

#define REASON_NEW_RS "NewReplicaSetCreated"
#define REASON_FOUND_NEW_RS "FoundNewReplicaSet"
#define REASON_RS_UPDATED "ReplicaSetUpdated"
#define REASON_NEW_RS_AVAILABLE "NewReplicaSetAvailable"
#define REASON_TIMED_OUT "ProgressDeadlineExceeded"
#define REASON_PAUSED "DeploymentPaused"
#define REASON_RESUMED "DeploymentResumed"
#define REASON_FAILED_RS_CREATE "ReplicaSetCreateError"

struct deploy_state {
  struct informer *deploys;
  struct informer *rss;
  struct informer *pods;
};

/* One sync's working set. */
struct dsync {
  struct controller *c;
  struct deploy_state *st;
  const char *key;
  char *ns, *name;
  json_t *d;      /* our copy of the Deployment, refreshed from every write's answer */
  json_t *rss;    /* the ReplicaSets this Deployment owns */
  ssize_t newi;   /* index of the new ReplicaSet in rss, -1 when there is none */
  char *want_rev; /* revision annotation still to be written to the Deployment */
};

/* ---- small JSON readers ---- */

static json_int_t jint(const json_t *obj, const char *dotted, json_int_t def) {
  json_t *v = json_path((json_t *)obj, dotted);
  return json_is_integer(v) ? json_integer_value(v) : def;
}

static const char *jstr(const json_t *obj, const char *dotted) {
  return json_path_str((json_t *)obj, dotted);
}

static const char *annotation(const json_t *obj, const char *key) {
  return json_string_value(json_object_get(json_path((json_t *)obj, "metadata.annotations"), key));
}

static int d_replicas(const json_t *d) {
  return (int)jint(d, "spec.replicas", 1);
}

static bool d_rolling(const json_t *d) {
  const char *t = jstr(d, "spec.strategy.type");
  return !t || streq(t, "RollingUpdate");
}

static bool d_recreate(const json_t *d) {
  const char *t = jstr(d, "spec.strategy.type");
  return t && streq(t, "Recreate");
}

static struct deploy_spec d_spec(const json_t *d) {
  json_t *ru = json_path((json_t *)d, "spec.strategy.rollingUpdate");
  return (struct deploy_spec){
      .replicas = d_replicas(d),
      .rolling = d_rolling(d),
      .max_surge = json_object_get(ru, "maxSurge"),
      .max_unavailable = json_object_get(ru, "maxUnavailable"),
  };
}

/* HasProgressDeadline / HasRevisionHistoryLimit: set and not MaxInt32. */
static bool d_has_deadline(const json_t *d) {
  return jint(d, "spec.progressDeadlineSeconds", INT32_UNSET) != INT32_UNSET;
}

static int rs_replicas(const json_t *rs) {
  return (int)jint(rs, "spec.replicas", 1);
}

static int rs_status(const json_t *rs, const char *field) {
  json_t *st = json_object_get(rs, "status");
  json_t *v = json_object_get(st, field);
  return json_is_integer(v) ? (int)json_integer_value(v) : 0;
}

static long long created_at(const json_t *obj) {
  struct timespec ts;
  const char *s = jstr(obj, "metadata.creationTimestamp");
  if (!s || timeutil_parse(s, &ts) < 0)
    return 0;
  return (long long)ts.tv_sec;
}

/* A revision annotation as Revision() reads it: -1 when absent or not a number. */
static long long revision_of(const json_t *rs) {
  const char *v = annotation(rs, ANN_REVISION);
  if (!v || !*v)
    return -1;
  char *end;
  errno = 0;
  long long r = strtoll(v, &end, 10);
  if (errno || *end)
    return -1;
  return r;
}

static int annotation_int(const json_t *rs, const char *key, int *ret) {
  const char *v = annotation(rs, key);
  if (!v || !*v)
    return -EINVAL;
  char *end;
  errno = 0;
  long r = strtol(v, &end, 10);
  if (errno || *end || r < INT32_MIN || r > INT32_MAX)
    return -EINVAL;
  *ret = (int)r;
  return 0;
}

static const char *name_of(const json_t *obj) {
  const char *n = jstr(obj, "metadata.name");
  return n ? n : "";
}

static json_t *rs_at(struct dsync *s, size_t i) {
  return json_array_get(s->rss, i);
}

static json_t *new_rs(struct dsync *s) {
  return s->newi >= 0 ? rs_at(s, (size_t)s->newi) : NULL;
}

/* ---- paths and writes ---- */

static char *path_of(const char *ns, const char *plural, const char *name, const char *sub) {
  _cleanup_free_ char *coll = controller_path("/apis/apps/v1", ns, plural);
  if (!name)
    return TAKE_PTR(coll);
  return sub ? xasprintf("%s/%s/%s", coll, name, sub) : xasprintf("%s/%s", coll, name);
}

/* Conflicts are routine (the cache lags our own writes) and retried: not worth a line. */
static int write_failed(struct dsync *s, const char *what, int r, const char *err) {
  if (r != -ESTALE)
    controller_log(s->c, "%s %s: %s", what, s->key, err ? err : strerror(-r));
  return r;
}

/* PUT an updated ReplicaSet; the stored answer replaces rss[i]. */
static int rs_update(struct dsync *s, size_t i, json_t *rs) {
  _cleanup_free_ char *path = path_of(s->ns, "replicasets", jstr(rs, "metadata.name"), NULL);
  _cleanup_free_ char *err = NULL;
  json_t *ret = NULL;
  int r = controller_update(s->c, path, rs, &ret, &err);
  if (r < 0)
    return write_failed(s, "updating replica set for", r, err);
  json_array_set_new(s->rss, i, ret ? ret : json_incref(rs));
  return 0;
}

/* Writes the status in s->d through /status, then the revision annotation when it moved. */
static int d_update_status(struct dsync *s) {
  _cleanup_free_ char *path = path_of(s->ns, "deployments", s->name, "status");
  _cleanup_free_ char *err = NULL;
  json_t *ret = NULL;
  int r = controller_update(s->c, path, s->d, &ret, &err);
  if (r < 0)
    return write_failed(s, "updating status of", r, err);
  if (ret) {
    json_decref(s->d);
    s->d = ret;
  }
  if (s->want_rev && !streq_ptr(annotation(s->d, ANN_REVISION), s->want_rev)) {
    _cleanup_json_ json_t *patch =
        json_pack("{s:{s:{s:s}}}", "metadata", "annotations", ANN_REVISION, s->want_rev);
    _cleanup_free_ char *dpath = path_of(s->ns, "deployments", s->name, NULL);
    _cleanup_free_ char *perr = NULL;
    ret = NULL;
    r = controller_patch(s->c, dpath, patch, false, &ret, &perr);
    if (r < 0)
      return write_failed(s, "annotating revision of", r, perr);
    if (ret) {
      json_decref(s->d);
      s->d = ret;
    }
  }
  free(s->want_rev);
  s->want_rev = NULL;
  return 0;
}

/* SetDeploymentRevision: true when the Deployment's revision annotation must change. */
static bool set_deployment_revision(struct dsync *s, const char *rev) {
  if (streq_ptr(annotation(s->d, ANN_REVISION), rev))
    return false;
  json_t *ann = json_object_ensure(json_object_ensure(s->d, "metadata"), "annotations");
  json_object_set_new(ann, ANN_REVISION, json_string(rev));
  free(s->want_rev);
  s->want_rev = xstrdup(rev);
  return true;
}

/* ---- conditions ---- */

static json_t *cond_new(const char *type, const char *status, const char *reason, const char *msg) {
  _cleanup_free_ char *now = timeutil_now();
  return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type", type, "status", status, "lastUpdateTime",
                   now, "lastTransitionTime", now, "reason", reason, "message", msg);
}

static void cond_remove(json_t *status, const char *type) {
  json_t *conds = json_object_get(status, "conditions");
  for (size_t i = 0; i < json_array_size(conds);) {
    if (streq_ptr(json_string_value(json_object_get(json_array_get(conds, i), "type")), type))
      json_array_remove(conds, i);
    else
      i++;
  }
  if (conds && json_array_size(conds) == 0)
    json_object_del(status, "conditions");
}

static bool cond_is(const json_t *c, const char *field, const char *value) {
  return c && streq_ptr(json_string_value(json_object_get(c, field)), value);
}

/* SetDeploymentCondition (steals cond): same status and reason leaves the old one alone;
 * the same status keeps its lastTransitionTime; the condition moves to the end. */
static void cond_set(json_t *status, json_t *cond) {
  const char *type = json_string_value(json_object_get(cond, "type"));
  const char *st = json_string_value(json_object_get(cond, "status"));
  json_t *cur = ctlutil_find_condition(status, type);
  if (cur && cond_is(cur, "status", st) &&
      cond_is(cur, "reason", json_string_value(json_object_get(cond, "reason")))) {
    json_decref(cond);
    return;
  }
  if (cur && cond_is(cur, "status", st))
    json_object_set(cond, "lastTransitionTime", json_object_get(cur, "lastTransitionTime"));
  cond_remove(status, type);
  json_array_append_new(json_object_ensure_array(status, "conditions"), cond);
}

/* ---- status ---- */

static const char *const status_ints[] = {"observedGeneration", "replicas",
                                          "updatedReplicas",    "readyReplicas",
                                          "availableReplicas",  "unavailableReplicas"};

static void set_int_omitempty(json_t *obj, const char *key, json_int_t v) {
  if (v)
    json_object_set_new(obj, key, json_integer(v));
}

/* reflect.DeepEqual of two statuses as Go sees them: zero numbers and empty condition
 * lists equal absent ones. */
static bool status_equal(const json_t *a, const json_t *b) {
  for (size_t i = 0; i < ARRAY_SIZE(status_ints); i++)
    if (jint(a, status_ints[i], 0) != jint(b, status_ints[i], 0))
      return false;
  json_t *ca = json_object_get(a, "collisionCount"), *cb = json_object_get(b, "collisionCount");
  if (!!ca != !!cb || (ca && !json_equal(ca, cb)))
    return false;
  json_t *la = json_object_get(a, "conditions"), *lb = json_object_get(b, "conditions");
  if (json_array_size(la) == 0 && json_array_size(lb) == 0)
    return true;
  return la && lb && json_equal(la, lb);
}

/* calculateStatus: counts summed over the ReplicaSets, the old conditions, and Available. */
static json_t *calculate_status(struct dsync *s) {
  json_int_t avail = 0, total = 0, actual = 0, ready = 0;
  size_t i;
  json_t *rs;
  json_array_foreach(s->rss, i, rs) {
    avail += rs_status(rs, "availableReplicas");
    total += rs_replicas(rs);
    actual += rs_status(rs, "replicas");
    ready += rs_status(rs, "readyReplicas");
  }
  json_int_t unavailable = total - avail > 0 ? total - avail : 0;
  json_t *old = json_object_get(s->d, "status");
  json_t *st = json_object();
  set_int_omitempty(st, "observedGeneration", jint(s->d, "metadata.generation", 0));
  set_int_omitempty(st, "replicas", actual);
  set_int_omitempty(st, "updatedReplicas", new_rs(s) ? rs_status(new_rs(s), "replicas") : 0);
  set_int_omitempty(st, "readyReplicas", ready);
  set_int_omitempty(st, "availableReplicas", avail);
  set_int_omitempty(st, "unavailableReplicas", unavailable);
  json_t *conds = json_object_get(old, "conditions");
  if (json_array_size(conds))
    json_object_set_new(st, "conditions", json_deep_copy(conds));
  json_t *cc = json_object_get(old, "collisionCount");
  if (cc)
    json_object_set(st, "collisionCount", cc);

  struct deploy_spec spec = d_spec(s->d);
  if (avail >= spec.replicas - deploy_max_unavailable(&spec))
    cond_set(st, cond_new("Available", "True", "MinimumReplicasAvailable",
                          "Deployment has minimum availability."));
  else
    cond_set(st, cond_new("Available", "False", "MinimumReplicasUnavailable",
                          "Deployment does not have minimum availability."));
  return st;
}

static int put_status(struct dsync *s, json_t *newst /* stolen */) {
  json_object_set_new(s->d, "status", newst);
  return d_update_status(s);
}

/* syncDeploymentStatus: status without progress estimation (scaling, paused). */
static int sync_deployment_status(struct dsync *s) {
  json_t *st = calculate_status(s);
  if (status_equal(json_object_get(s->d, "status"), st) && !s->want_rev) {
    json_decref(st);
    return 0;
  }
  return put_status(s, st);
}

static bool deployment_complete(const json_t *d, const json_t *st) {
  int n = d_replicas(d);
  return jint(st, "updatedReplicas", 0) == n && jint(st, "replicas", 0) == n &&
         jint(st, "availableReplicas", 0) == n &&
         jint(st, "observedGeneration", 0) >= jint(d, "metadata.generation", 0);
}

static bool deployment_progressing(const json_t *d, const json_t *st) {
  const json_t *old = json_object_get(d, "status");
  json_int_t old_old = jint(old, "replicas", 0) - jint(old, "updatedReplicas", 0);
  json_int_t new_old = jint(st, "replicas", 0) - jint(st, "updatedReplicas", 0);
  return jint(st, "updatedReplicas", 0) > jint(old, "updatedReplicas", 0) || new_old < old_old ||
         jint(st, "readyReplicas", 0) > jint(old, "readyReplicas", 0) ||
         jint(st, "availableReplicas", 0) > jint(old, "availableReplicas", 0);
}

static double cond_update_time(const json_t *cond) {
  struct timespec ts;
  const char *t = json_string_value(json_object_get(cond, "lastUpdateTime"));
  if (!t || timeutil_parse(t, &ts) < 0)
    return 0;
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool deployment_timed_out(const json_t *d, const json_t *st) {
  if (!d_has_deadline(d))
    return false;
  json_t *cond = ctlutil_find_condition(st, "Progressing");
  if (!cond || cond_is(cond, "reason", REASON_NEW_RS_AVAILABLE))
    return false;
  if (cond_is(cond, "reason", REASON_TIMED_OUT))
    return true;
  double deadline = (double)jint(d, "spec.progressDeadlineSeconds", 0);
  return cond_update_time(cond) + deadline < now_seconds();
}

/* requeueStuckDeployment: come back when the progress deadline would pass. */
static void requeue_stuck(struct dsync *s, const json_t *newst) {
  json_t *cur = ctlutil_find_condition(json_object_get(s->d, "status"), "Progressing");
  if (!d_has_deadline(s->d) || !cur)
    return;
  if (deployment_complete(s->d, newst) || cond_is(cur, "reason", REASON_TIMED_OUT))
    return;
  double after =
      cond_update_time(cur) + (double)jint(s->d, "spec.progressDeadlineSeconds", 0) - now_seconds();
  if (after < 1.0) {
    controller_enqueue_after(s->c, s->key, 1000);
    return;
  }
  /* One second more so that the deadline has surely passed when the key comes back. */
  controller_enqueue_after(s->c, s->key, (long)(after * 1000.0) + 1000);
}

/* syncRolloutStatus: status with the Progressing condition estimated. */
static int sync_rollout_status(struct dsync *s) {
  json_t *st = calculate_status(s);
  json_t *d = s->d;
  if (!d_has_deadline(d))
    cond_remove(st, "Progressing");
  json_t *cur = ctlutil_find_condition(json_object_get(d, "status"), "Progressing");
  bool complete_before = jint(st, "replicas", 0) == jint(st, "updatedReplicas", 0) &&
                         cond_is(cur, "reason", REASON_NEW_RS_AVAILABLE);
  json_t *nrs = new_rs(s);
  const char *nrs_name = nrs ? jstr(nrs, "metadata.name") : NULL;
  if (d_has_deadline(d) && !complete_before) {
    if (deployment_complete(d, st)) {
      _cleanup_free_ char *msg =
          nrs_name ? xasprintf("ReplicaSet \"%s\" has successfully progressed.", nrs_name)
                   : xasprintf("Deployment \"%s\" has successfully progressed.", s->name);
      cond_set(st, cond_new("Progressing", "True", REASON_NEW_RS_AVAILABLE, msg));
    } else if (deployment_progressing(d, st)) {
      _cleanup_free_ char *msg = nrs_name ? xasprintf("ReplicaSet \"%s\" is progressing.", nrs_name)
                                          : xasprintf("Deployment \"%s\" is progressing.", s->name);
      json_t *cond = cond_new("Progressing", "True", REASON_RS_UPDATED, msg);
      /* Progress refreshes lastUpdateTime even with an unchanged reason, which
       * cond_set() would not do; only a change of status moves lastTransitionTime. */
      if (cur) {
        if (cond_is(cur, "status", "True"))
          json_object_set(cond, "lastTransitionTime", json_object_get(cur, "lastTransitionTime"));
        cond_remove(st, "Progressing");
      }
      cond_set(st, cond);
    } else if (deployment_timed_out(d, st)) {
      _cleanup_free_ char *msg =
          nrs_name ? xasprintf("ReplicaSet \"%s\" has timed out progressing.", nrs_name)
                   : xasprintf("Deployment \"%s\" has timed out progressing.", s->name);
      cond_set(st, cond_new("Progressing", "False", REASON_TIMED_OUT, msg));
    }
  }

  /* A ReplicaFailure of the new ReplicaSet (else of any) becomes the Deployment's. */
  json_t *failure = nrs ? ctlutil_find_condition(json_object_get(nrs, "status"), "ReplicaFailure") : NULL;
  for (size_t i = 0; !failure && i < json_array_size(s->rss); i++)
    failure = ctlutil_find_condition(json_object_get(rs_at(s, i), "status"), "ReplicaFailure");
  if (failure) {
    json_t *c = json_object();
    json_object_set_new(c, "type", json_string("ReplicaFailure"));
    const char *keys[] = {"status", "lastTransitionTime", "reason", "message"};
    for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
      json_t *v = json_object_get(failure, keys[k]);
      if (v)
        json_object_set(c, keys[k], v);
    }
    json_object_set(c, "lastUpdateTime", json_object_get(failure, "lastTransitionTime"));
    cond_set(st, c);
  } else {
    cond_remove(st, "ReplicaFailure");
  }

  if (status_equal(json_object_get(d, "status"), st) && !s->want_rev) {
    requeue_stuck(s, st);
    json_decref(st);
    return 0;
  }
  return put_status(s, st);
}

/* ---- templates and ReplicaSets ---- */

/* A template's normal form without the pod-template-hash label, for EqualIgnoreHash. */
static json_t *template_key(const json_t *tmpl) {
  json_t *t = podtemplatehash_normalize(tmpl);
  json_t *md = json_object_get(t, "metadata");
  json_t *labels = json_object_get(md, "labels");
  if (json_is_object(labels)) {
    json_object_del(labels, LABEL_HASH);
    if (json_object_size(labels) == 0)
      json_object_del(md, "labels");
    if (json_object_size(md) == 0)
      json_object_del(t, "metadata");
  }
  return t;
}

/* EqualIgnoreHash: the templates are equal but for the pod-template-hash label. */
static bool template_equal_ignore_hash(const json_t *a, const json_t *b) {
  if (!a || !b)
    return a == b;
  _cleanup_json_ json_t *ka = template_key(a);
  _cleanup_json_ json_t *kb = template_key(b);
  return json_equal(ka, kb);
}

/* FindNewReplicaSet: the oldest ReplicaSet whose template is the Deployment's. */
static ssize_t find_new_rs(struct dsync *s) {
  _cleanup_json_ json_t *want = template_key(json_path(s->d, "spec.template"));
  ssize_t best = -1;
  long long best_t = 0;
  const char *best_name = NULL;
  size_t i;
  json_t *rs;
  json_array_foreach(s->rss, i, rs) {
    json_t *t = json_path(rs, "spec.template");
    if (!t || !want)
      continue;
    _cleanup_json_ json_t *have = template_key(t);
    if (!json_equal(have, want))
      continue;
    long long at = created_at(rs);
    const char *name = jstr(rs, "metadata.name");
    if (best < 0 || at < best_t || (at == best_t && strcmp(name ? name : "", best_name) < 0)) {
      best = (ssize_t)i;
      best_t = at;
      best_name = name ? name : "";
    }
  }
  return best;
}

static long long max_old_revision(struct dsync *s) {
  long long max = 0;
  for (size_t i = 0; i < json_array_size(s->rss); i++) {
    if ((ssize_t)i == s->newi)
      continue;
    long long r = revision_of(rs_at(s, i));
    if (r > max)
      max = r;
  }
  return max;
}

static bool skip_copy_annotation(const char *k) {
  static const char *const skip[] = {"kubectl.kubernetes.io/last-applied-configuration",
                                     ANN_REVISION,
                                     ANN_REVISION_HISTORY,
                                     ANN_DESIRED,
                                     ANN_MAX,
                                     "deprecated.deployment.rollback.to"};
  for (size_t i = 0; i < ARRAY_SIZE(skip); i++)
    if (streq(k, skip[i]))
      return true;
  return false;
}

/* SetReplicasAnnotations: true when desired/max changed. */
static bool set_replicas_annotations(json_t *rs, int desired, int max) {
  json_t *ann = json_object_ensure(json_object_ensure(rs, "metadata"), "annotations");
  char buf[2][16];
  snprintf(buf[0], sizeof(buf[0]), "%d", desired);
  snprintf(buf[1], sizeof(buf[1]), "%d", max);
  bool changed = false;
  if (!streq_ptr(json_string_value(json_object_get(ann, ANN_DESIRED)), buf[0])) {
    json_object_set_new(ann, ANN_DESIRED, json_string(buf[0]));
    changed = true;
  }
  if (!streq_ptr(json_string_value(json_object_get(ann, ANN_MAX)), buf[1])) {
    json_object_set_new(ann, ANN_MAX, json_string(buf[1]));
    changed = true;
  }
  return changed;
}

static bool replicas_annotations_need_update(const json_t *rs, int desired, int max) {
  char buf[2][16];
  snprintf(buf[0], sizeof(buf[0]), "%d", desired);
  snprintf(buf[1], sizeof(buf[1]), "%d", max);
  return !streq_ptr(annotation(rs, ANN_DESIRED), buf[0]) ||
         !streq_ptr(annotation(rs, ANN_MAX), buf[1]);
}

/* SetNewReplicaSetAnnotations: the Deployment's annotations, the revision (kept with its
 * history when an old ReplicaSet comes back), and for a ReplicaSet about to be created the
 * replica annotations. True when anything changed. */
static bool set_new_rs_annotations(struct dsync *s, json_t *rs, const char *new_rev, bool exists) {
  json_t *ann = json_object_ensure(json_object_ensure(rs, "metadata"), "annotations");
  bool changed = false;
  const char *k;
  json_t *v;
  json_object_foreach(json_path(s->d, "metadata.annotations"), k, v) {
    if (skip_copy_annotation(k) || json_equal(json_object_get(ann, k), v))
      continue;
    json_object_set(ann, k, v);
    changed = true;
  }
  const char *old_rev = json_string_value(json_object_get(ann, ANN_REVISION));
  bool had = old_rev != NULL;
  long long old_n = 0, new_n = strtoll(new_rev, NULL, 10);
  if (old_rev && *old_rev) {
    char *end;
    old_n = strtoll(old_rev, &end, 10);
    if (*end)
      return false;
  }
  if (old_n < new_n) {
    _cleanup_free_ char *saved = old_rev ? xstrdup(old_rev) : NULL;
    json_object_set_new(ann, ANN_REVISION, json_string(new_rev));
    changed = true;
    if (had) {
      char *hist = deploy_revision_history_push(
          json_string_value(json_object_get(ann, ANN_REVISION_HISTORY)), saved,
          MAX_REV_HISTORY_CHARS);
      if (hist)
        json_object_set_new(ann, ANN_REVISION_HISTORY, json_string(hist));
      free(hist);
    }
  }
  if (!exists) {
    struct deploy_spec spec = d_spec(s->d);
    if (set_replicas_annotations(rs, spec.replicas, spec.replicas + deploy_max_surge(&spec)))
      changed = true;
  }
  return changed;
}

static void record_scaling(struct dsync *s, const char *rs_name, int from, int to) {
  event_record(controller_events(s->c), s->d, "Deployment", "apps/v1", "Normal",
               "ScalingReplicaSet", "Scaled %s replica set %s from %d to %d",
               from < to ? "up" : "down", rs_name, from, to);
}

/* scaleReplicaSet: sets the size and the replica annotations when either differs. 1 when
 * the size changed, 0 when not, or -errno. */
static int scale_rs(struct dsync *s, size_t i, int new_scale) {
  json_t *rs = rs_at(s, i);
  struct deploy_spec spec = d_spec(s->d);
  int max = spec.replicas + deploy_max_surge(&spec);
  int old_scale = rs_replicas(rs);
  bool size_changes = old_scale != new_scale;
  if (!size_changes && !replicas_annotations_need_update(rs, spec.replicas, max))
    return 0;
  _cleanup_json_ json_t *copy = json_deep_copy(rs);
  json_object_set_new(json_object_ensure(copy, "spec"), "replicas", json_integer(new_scale));
  set_replicas_annotations(copy, spec.replicas, max);
  int r = rs_update(s, i, copy);
  if (r < 0)
    return r;
  if (!size_changes)
    return 0;
  record_scaling(s, jstr(rs_at(s, i), "metadata.name"), old_scale, new_scale);
  return 1;
}

static int scale_rs_and_record(struct dsync *s, size_t i, int new_scale) {
  if (rs_replicas(rs_at(s, i)) == new_scale)
    return 0;
  return scale_rs(s, i, new_scale);
}

static json_t *owner_ref_to(const json_t *d) {
  return json_pack("{s:s,s:s,s:s,s:s,s:b,s:b}", "apiVersion", "apps/v1", "kind", "Deployment",
                   "name", jstr(d, "metadata.name"), "uid", jstr(d, "metadata.uid"), "controller",
                   1, "blockOwnerDeletion", 1);
}

/* The status update that bumps collisionCount, after a ReplicaSet of our name turned out
 * to hold another template. */
static int bump_collision_count(struct dsync *s) {
  json_t *st = json_object_ensure(s->d, "status");
  json_int_t cc = jint(st, "collisionCount", 0);
  json_object_set_new(st, "collisionCount", json_integer(cc + 1));
  d_update_status(s);
  return -EEXIST;
}

static int create_new_rs(struct dsync *s, const char *new_rev) {
  json_t *d = s->d;
  json_t *tmpl = json_path(d, "spec.template");
  json_t *cc = json_path(d, "status.collisionCount");
  _cleanup_free_ char *hash =
      podtemplatehash_compute(tmpl, json_is_integer(cc), (uint32_t)json_integer_value(cc));
  _cleanup_free_ char *rs_name = xasprintf("%s-%s", s->name, hash);

  json_t *new_tmpl = json_deep_copy(tmpl);
  json_t *labels = json_object_ensure(json_object_ensure(new_tmpl, "metadata"), "labels");
  json_object_set_new(labels, LABEL_HASH, json_string(hash));
  json_t *selector = json_deep_copy(json_path(d, "spec.selector"));
  if (!json_is_object(selector)) {
    json_decref(selector);
    selector = json_object();
  }
  json_object_set_new(json_object_ensure(selector, "matchLabels"), LABEL_HASH, json_string(hash));

  _cleanup_json_ json_t *rs =
      json_pack("{s:s,s:s,s:{s:s,s:s,s:[o],s:o},s:{s:i,s:o,s:o}}", "apiVersion", "apps/v1", "kind",
                "ReplicaSet", "metadata", "name", rs_name, "namespace", s->ns, "ownerReferences",
                owner_ref_to(d), "labels", json_deep_copy(labels), "spec", "replicas", 0,
                "selector", selector, "template", new_tmpl);
  json_int_t mrs = jint(d, "spec.minReadySeconds", 0);
  if (mrs)
    json_object_set_new(json_object_get(rs, "spec"), "minReadySeconds", json_integer(mrs));

  /* NewRSNewReplicas counts the new ReplicaSet (0 so far) with the old ones. */
  struct deploy_spec spec = d_spec(d);
  int total = 0;
  for (size_t i = 0; i < json_array_size(s->rss); i++)
    total += rs_replicas(rs_at(s, i));
  int count = deploy_new_rs_replicas(&spec, total, 0);
  json_object_set_new(json_object_get(rs, "spec"), "replicas", json_integer(count));
  set_new_rs_annotations(s, rs, new_rev, false);

  _cleanup_free_ char *coll = path_of(s->ns, "replicasets", NULL, NULL);
  _cleanup_free_ char *err = NULL;
  json_t *created = NULL;
  bool already = false;
  int r = controller_create(s->c, coll, rs, &created, &err);
  if (r == -EEXIST) {
    /* A slow cache, or a hash collision: ours if we own it and it holds our template. */
    already = true;
    _cleanup_free_ char *rkey = xasprintf("%s/%s", s->ns, rs_name);
    json_t *existing = informer_get(s->st->rss, rkey);
    if (!existing)
      return -EAGAIN;
    const json_t *ref = controller_owner_ref(existing);
    if (!ref ||
        !streq_ptr(json_string_value(json_object_get(ref, "uid")), jstr(d, "metadata.uid")) ||
        !template_equal_ignore_hash(tmpl, json_path(existing, "spec.template"))) {
      json_decref(existing);
      return bump_collision_count(s);
    }
    created = existing;
  } else if (r < 0) {
    _cleanup_free_ char *msg =
        xasprintf("Failed to create new replica set \"%s\": %s", rs_name, err ? err : strerror(-r));
    if (d_has_deadline(d)) {
      cond_set(json_object_ensure(s->d, "status"),
               cond_new("Progressing", "False", REASON_FAILED_RS_CREATE, msg));
      d_update_status(s);
    }
    event_record(controller_events(s->c), s->d, "Deployment", "apps/v1", "Warning",
                 REASON_FAILED_RS_CREATE, "%s", msg);
    return r;
  }
  if (!created)
    created = json_incref(rs);
  json_array_append_new(s->rss, created);
  s->newi = (ssize_t)json_array_size(s->rss) - 1;
  if (!already && count > 0)
    record_scaling(s, rs_name, 0, count);

  bool needs = set_deployment_revision(s, new_rev);
  if (!already && d_has_deadline(s->d)) {
    _cleanup_free_ char *msg = xasprintf("Created new replica set \"%s\"", rs_name);
    cond_set(json_object_ensure(s->d, "status"),
             cond_new("Progressing", "True", REASON_NEW_RS, msg));
    needs = true;
  }
  return needs ? d_update_status(s) : 0;
}

/* getAllReplicaSetsAndSyncRevision / getNewReplicaSet: finds the new ReplicaSet (bringing
 * its annotations and minReadySeconds up to date) or, with create, makes it. */
static int sync_revision(struct dsync *s, bool create) {
  s->newi = find_new_rs(s);
  long long max_old = max_old_revision(s);
  char new_rev[24];
  snprintf(new_rev, sizeof(new_rev), "%lld", max_old + 1);

  if (s->newi >= 0) {
    size_t i = (size_t)s->newi;
    _cleanup_json_ json_t *copy = json_deep_copy(rs_at(s, i));
    bool ann_changed = set_new_rs_annotations(s, copy, new_rev, true);
    json_int_t mrs = jint(s->d, "spec.minReadySeconds", 0);
    bool mrs_changed = jint(copy, "spec.minReadySeconds", 0) != mrs;
    if (ann_changed || mrs_changed) {
      if (mrs)
        json_object_set_new(json_object_ensure(copy, "spec"), "minReadySeconds", json_integer(mrs));
      else
        json_object_del(json_object_ensure(copy, "spec"), "minReadySeconds");
      return rs_update(s, i, copy);
    }
    const char *rev = annotation(copy, ANN_REVISION);
    bool needs = set_deployment_revision(s, rev ? rev : "");
    json_t *st = json_object_ensure(s->d, "status");
    if (d_has_deadline(s->d) && !ctlutil_find_condition(st, "Progressing")) {
      _cleanup_free_ char *msg =
          xasprintf("Found new replica set \"%s\"", jstr(copy, "metadata.name"));
      cond_set(st, cond_new("Progressing", "True", REASON_FOUND_NEW_RS, msg));
      needs = true;
    }
    return needs ? d_update_status(s) : 0;
  }
  if (!create)
    return 0;
  return create_new_rs(s, new_rev);
}

/* ---- claiming ReplicaSets ---- */

static bool has_deletion(const json_t *obj) {
  return json_path((json_t *)obj, "metadata.deletionTimestamp") != NULL &&
         !json_is_null(json_path((json_t *)obj, "metadata.deletionTimestamp"));
}

static int claim_update(struct dsync *s, json_t *rs /* stolen */, bool adopt) {
  _cleanup_json_ json_t *copy = json_deep_copy(rs);
  json_decref(rs);
  json_t *md = json_object_ensure(copy, "metadata");
  const char *uid = jstr(s->d, "metadata.uid");
  if (adopt) {
    json_array_append_new(json_object_ensure_array(md, "ownerReferences"), owner_ref_to(s->d));
  } else {
    json_t *refs = json_object_get(md, "ownerReferences");
    for (size_t i = 0; i < json_array_size(refs);) {
      if (streq_ptr(json_string_value(json_object_get(json_array_get(refs, i), "uid")), uid))
        json_array_remove(refs, i);
      else
        i++;
    }
    if (refs && json_array_size(refs) == 0)
      json_object_del(md, "ownerReferences");
  }
  _cleanup_free_ char *path = path_of(s->ns, "replicasets", jstr(copy, "metadata.name"), NULL);
  _cleanup_free_ char *err = NULL;
  json_t *ret = NULL;
  int r = controller_update(s->c, path, copy, &ret, &err);
  if (r == -ENOENT)
    return 0;
  if (r < 0)
    return write_failed(s, adopt ? "adopting replica set for" : "releasing replica set of", r, err);
  if (adopt)
    json_array_append_new(s->rss, ret ? ret : json_incref(copy));
  else
    json_decref(ret);
  return 0;
}

/* ClaimReplicaSets: ours are those we control whose labels still match; orphans that
 * match are adopted, and ours that stopped matching are released. */
static int claim_replicasets(struct dsync *s) {
  _cleanup_selector_ selector_t *sel = NULL;
  _cleanup_free_ char *serr = NULL;
  int r = selector_from_json(json_path(s->d, "spec.selector"), &sel, &serr);
  if (r < 0) {
    controller_log(s->c, "deployment %s has invalid label selector: %s", s->key, serr);
    return r;
  }
  /* Ours by controller uid and the namespace's orphans: everything a claim can touch,
   * without walking every ReplicaSet of the namespace. */
  const char *uid = jstr(s->d, "metadata.uid");
  if (!uid)
    return 0;
  _cleanup_json_ json_t *all = informer_by_index(s->st->rss, PODUTIL_INDEX_CONTROLLER_UID, uid);
  _cleanup_json_ json_t *orphans = informer_by_index(s->st->rss, PODUTIL_INDEX_ORPHANS, s->ns);
  json_array_extend(all, orphans);
  bool deleting = has_deletion(s->d);
  size_t i;
  json_t *rs;
  json_array_foreach(all, i, rs) {
    const json_t *ref = controller_owner_ref(rs);
    bool matches = selector_matches(sel, json_path(rs, "metadata.labels"));
    if (ref) {
      if (!streq_ptr(json_string_value(json_object_get(ref, "uid")), uid))
        continue;
      if (matches) {
        json_array_append(s->rss, rs);
        continue;
      }
      if (deleting)
        continue;
      r = claim_update(s, json_incref(rs), false);
    } else {
      if (deleting || !matches || has_deletion(rs))
        continue;
      r = claim_update(s, json_incref(rs), true);
    }
    if (r < 0)
      return r;
  }
  return 0;
}

/* ---- the sync steps ---- */

static bool is_active(const json_t *rs) {
  return rs && rs_replicas(rs) > 0;
}

/* DeploymentController.scale */
static int scale(struct dsync *s) {
  json_t *d = s->d;
  int want = d_replicas(d);
  size_t n = json_array_size(s->rss);
  if (n == 0)
    return 0;

  /* FindActiveOrLatest: one active ReplicaSet takes the whole count; none: the newest. */
  size_t active = 0, last_active = 0, newest = 0;
  for (size_t i = 0; i < n; i++) {
    json_t *rs = rs_at(s, i);
    if (is_active(rs)) {
      active++;
      last_active = i;
    }
    json_t *nb = rs_at(s, newest);
    long long t = created_at(rs), tb = created_at(nb);
    if (t > tb || (t == tb && strcmp(name_of(rs), name_of(nb)) > 0))
      newest = i;
  }
  if (active <= 1) {
    size_t target = active == 1 ? last_active : s->newi >= 0 ? (size_t)s->newi : newest;
    if (rs_replicas(rs_at(s, target)) == want)
      return 0;
    int r = scale_rs_and_record(s, target, want);
    return r < 0 ? r : 0;
  }

  /* IsSaturated: the new ReplicaSet holds everything; old ones go to zero. */
  json_t *nrs = new_rs(s);
  int desired;
  if (nrs && annotation_int(nrs, ANN_DESIRED, &desired) == 0 && rs_replicas(nrs) == want &&
      desired == want && rs_status(nrs, "availableReplicas") == want) {
    for (size_t i = 0; i < n; i++) {
      if ((ssize_t)i == s->newi || !is_active(rs_at(s, i)))
        continue;
      int r = scale_rs_and_record(s, i, 0);
      if (r < 0)
        return r;
    }
    return 0;
  }

  if (!d_rolling(d))
    return 0;
  struct deploy_spec spec = d_spec(d);
  _cleanup_free_ struct deploy_rs *v = xcalloc(n, sizeof(*v));
  _cleanup_free_ int *sizes = xcalloc(n, sizeof(*sizes));
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    json_t *rs = rs_at(s, i);
    if (!is_active(rs))
      continue;
    int maxr;
    v[m++] = (struct deploy_rs){
        .name = jstr(rs, "metadata.name"),
        .created = created_at(rs),
        .replicas = rs_replicas(rs),
        .available = rs_status(rs, "availableReplicas"),
        .max_replicas = annotation_int(rs, ANN_MAX, &maxr) == 0 ? maxr : -1,
        .index = i,
    };
  }
  deploy_proportional_scale(&spec, (int)jint(d, "status.replicas", 0), v, m, sizes);
  for (size_t k = 0; k < m; k++) {
    int r = scale_rs(s, v[k].index, sizes[k]);
    if (r < 0)
      return r;
  }
  return 0;
}

/* cleanupDeployment: old ReplicaSets beyond revisionHistoryLimit, fully scaled down,
 * lowest revision first. */
static int cleanup_deployment(struct dsync *s) {
  json_int_t limit = jint(s->d, "spec.revisionHistoryLimit", INT32_UNSET);
  if (limit == INT32_UNSET)
    return 0;
  size_t n = json_array_size(s->rss);
  _cleanup_free_ size_t *idx = xcalloc(n ? n : 1, sizeof(*idx));
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if ((ssize_t)i != s->newi && !has_deletion(rs_at(s, i)))
      idx[m++] = i;
  json_int_t diff = (json_int_t)m - limit;
  if (diff <= 0)
    return 0;
  /* ReplicaSetsByRevision: by revision, then creation time (insertion sort: few). */
  for (size_t a = 1; a < m; a++) {
    size_t cur = idx[a], b = a;
    while (b > 0) {
      json_t *x = rs_at(s, idx[b - 1]), *y = rs_at(s, cur);
      long long rx = revision_of(x), ry = revision_of(y);
      bool greater = rx > ry || (rx == ry && created_at(x) > created_at(y));
      if (!greater)
        break;
      idx[b] = idx[b - 1];
      b--;
    }
    idx[b] = cur;
  }
  for (json_int_t k = 0; k < diff; k++) {
    json_t *rs = rs_at(s, idx[k]);
    if (rs_status(rs, "replicas") != 0 || rs_replicas(rs) != 0 ||
        jint(rs, "metadata.generation", 0) > jint(rs, "status.observedGeneration", 0) ||
        has_deletion(rs))
      continue;
    _cleanup_free_ char *path = path_of(s->ns, "replicasets", jstr(rs, "metadata.name"), NULL);
    _cleanup_free_ char *err = NULL;
    int r = controller_delete(s->c, path, NULL, &err);
    if (r < 0 && r != -ENOENT)
      return write_failed(s, "deleting old replica set of", r, err);
  }
  return 0;
}

/* sync: scale only (paused Deployments and scaling events). */
static int sync_scale(struct dsync *s) {
  int r = sync_revision(s, false);
  if (r < 0)
    return r;
  r = scale(s);
  if (r < 0)
    return r;
  if (json_is_true(json_path(s->d, "spec.paused"))) {
    r = cleanup_deployment(s);
    if (r < 0)
      return r;
  }
  return sync_deployment_status(s);
}

/* isScalingEvent: an active ReplicaSet was sized for another replica count. */
static int is_scaling_event(struct dsync *s, bool *ret) {
  int r = sync_revision(s, false);
  if (r < 0)
    return r;
  int want = d_replicas(s->d);
  *ret = false;
  for (size_t i = 0; i < json_array_size(s->rss); i++) {
    json_t *rs = rs_at(s, i);
    int desired;
    if (!is_active(rs) || annotation_int(rs, ANN_DESIRED, &desired) < 0)
      continue;
    if (desired != want) {
      *ret = true;
      break;
    }
  }
  return 0;
}

static int rollout_rolling(struct dsync *s) {
  int r = sync_revision(s, true);
  if (r < 0)
    return r;
  if (s->newi < 0)
    return -EAGAIN;
  json_t *d = s->d;
  struct deploy_spec spec = d_spec(d);
  size_t ni = (size_t)s->newi;

  /* reconcileNewReplicaSet */
  int new_replicas = rs_replicas(rs_at(s, ni));
  int scaled = 0;
  if (new_replicas > spec.replicas) {
    scaled = scale_rs_and_record(s, ni, spec.replicas);
  } else if (new_replicas < spec.replicas) {
    int total = 0;
    for (size_t i = 0; i < json_array_size(s->rss); i++)
      total += rs_replicas(rs_at(s, i));
    scaled = scale_rs_and_record(s, ni, deploy_new_rs_replicas(&spec, total, new_replicas));
  }
  if (scaled < 0)
    return scaled;
  if (scaled > 0)
    return sync_rollout_status(s);

  /* reconcileOldReplicaSets */
  size_t n = json_array_size(s->rss);
  _cleanup_free_ struct deploy_rs *old = xcalloc(n ? n : 1, sizeof(*old));
  _cleanup_free_ int *sizes = xcalloc(n ? n : 1, sizeof(*sizes));
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    json_t *rs = rs_at(s, i);
    if (i == ni || !is_active(rs))
      continue;
    old[m++] = (struct deploy_rs){.name = jstr(rs, "metadata.name"),
                                  .created = created_at(rs),
                                  .replicas = rs_replicas(rs),
                                  .available = rs_status(rs, "availableReplicas"),
                                  .max_replicas = -1,
                                  .index = i};
  }
  json_t *nrs = rs_at(s, ni);
  int down = deploy_scale_down_old(&spec, old, m, rs_replicas(nrs),
                                   rs_status(nrs, "availableReplicas"), sizes);
  if (down > 0) {
    for (size_t k = 0; k < m; k++) {
      r = scale_rs_and_record(s, old[k].index, sizes[k]);
      if (r < 0)
        return r;
    }
    return sync_rollout_status(s);
  }

  if (deployment_complete(d, json_object_get(d, "status"))) {
    r = cleanup_deployment(s);
    if (r < 0)
      return r;
  }
  return sync_rollout_status(s);
}

/* oldPodsRunning: old ReplicaSets still report pods, or own pods not yet terminal. */
static bool old_pods_running(struct dsync *s) {
  for (size_t i = 0; i < json_array_size(s->rss); i++)
    if ((ssize_t)i != s->newi && rs_status(rs_at(s, i), "replicas") > 0)
      return true;
  for (size_t i = 0; i < json_array_size(s->rss); i++) {
    if ((ssize_t)i == s->newi)
      continue;
    const char *uid = jstr(rs_at(s, i), "metadata.uid");
    if (!uid)
      continue;
    _cleanup_json_ json_t *pods = informer_by_index(s->st->pods, PODUTIL_INDEX_CONTROLLER_UID, uid);
    size_t k;
    json_t *pod;
    json_array_foreach(pods, k, pod) {
      const char *phase = jstr(pod, "status.phase");
      if (!phase || (!streq(phase, "Failed") && !streq(phase, "Succeeded")))
        return true;
    }
  }
  return false;
}

static int rollout_recreate(struct dsync *s) {
  int r = sync_revision(s, false);
  if (r < 0)
    return r;
  int scaled = 0;
  for (size_t i = 0; i < json_array_size(s->rss); i++) {
    if ((ssize_t)i == s->newi || !is_active(rs_at(s, i)))
      continue;
    r = scale_rs_and_record(s, i, 0);
    if (r < 0)
      return r;
    scaled |= r;
  }
  if (scaled)
    return sync_rollout_status(s);
  if (old_pods_running(s))
    return sync_rollout_status(s);
  if (s->newi < 0) {
    r = sync_revision(s, true);
    if (r < 0)
      return r;
    if (s->newi < 0)
      return -EAGAIN;
  }
  r = scale_rs_and_record(s, (size_t)s->newi, d_replicas(s->d));
  if (r < 0)
    return r;
  if (deployment_complete(s->d, json_object_get(s->d, "status"))) {
    r = cleanup_deployment(s);
    if (r < 0)
      return r;
  }
  return sync_rollout_status(s);
}

/* checkPausedConditions: DeploymentPaused / DeploymentResumed, unless timed out. */
static int check_paused_conditions(struct dsync *s) {
  if (!d_has_deadline(s->d))
    return 0;
  json_t *st = json_object_ensure(s->d, "status");
  json_t *cond = ctlutil_find_condition(st, "Progressing");
  if (cond_is(cond, "reason", REASON_TIMED_OUT))
    return 0;
  bool paused_cond = cond_is(cond, "reason", REASON_PAUSED);
  bool paused = json_is_true(json_path(s->d, "spec.paused"));
  if (paused && !paused_cond)
    cond_set(st, cond_new("Progressing", "Unknown", REASON_PAUSED, "Deployment is paused"));
  else if (!paused && paused_cond)
    cond_set(st, cond_new("Progressing", "Unknown", REASON_RESUMED, "Deployment is resumed"));
  else
    return 0;
  return d_update_status(s);
}

static int deploy_sync_one(struct dsync *s) {
  json_t *sel = json_path(s->d, "spec.selector");
  if (json_is_object(sel) && json_object_size(sel) == 0) {
    event_record(controller_events(s->c), s->d, "Deployment", "apps/v1", "Warning", "SelectingAll",
                 "This deployment is selecting all pods. A non-empty selector is required.");
    if (jint(s->d, "status.observedGeneration", 0) < jint(s->d, "metadata.generation", 0)) {
      json_object_set_new(json_object_ensure(s->d, "status"), "observedGeneration",
                          json_integer(jint(s->d, "metadata.generation", 0)));
      d_update_status(s);
    }
    return 0;
  }
  int r = claim_replicasets(s);
  if (r < 0)
    return r;
  if (has_deletion(s->d)) {
    r = sync_revision(s, false);
    return r < 0 ? r : sync_deployment_status(s);
  }
  r = check_paused_conditions(s);
  if (r < 0)
    return r;
  if (json_is_true(json_path(s->d, "spec.paused")))
    return sync_scale(s);
  bool scaling;
  r = is_scaling_event(s, &scaling);
  if (r < 0)
    return r;
  if (scaling)
    return sync_scale(s);
  if (d_recreate(s->d))
    return rollout_recreate(s);
  if (d_rolling(s->d))
    return rollout_rolling(s);
  return 0;
}

static int deploy_sync(struct controller *c, const char *key) {
  struct deploy_state *st = controller_state(c);
  _cleanup_json_ json_t *cached = informer_get(st->deploys, key);
  if (!cached)
    return 0;
  struct dsync s = {.c = c, .st = st, .key = key, .newi = -1};
  informer_split_key(key, &s.ns, &s.name);
  s.d = json_deep_copy(cached);
  s.rss = json_array();
  int r = deploy_sync_one(&s);
  json_decref(s.d);
  json_decref(s.rss);
  free(s.ns);
  free(s.name);
  free(s.want_rev);
  return r;
}

/* ---- event handlers: keep them to a lookup and an enqueue ---- */

/* getDeploymentsForReplicaSet: an orphan may be adopted by any Deployment selecting it. */
static void enqueue_selecting(struct controller *c, const json_t *rs) {
  struct deploy_state *st = controller_state(c);
  const char *ns = jstr(rs, "metadata.namespace");
  json_t *labels = json_path((json_t *)rs, "metadata.labels");
  if (!ns || !json_object_size(labels))
    return;
  _cleanup_json_ json_t *ds = informer_list(st->deploys, ns);
  size_t i;
  json_t *d;
  json_array_foreach(ds, i, d) {
    _cleanup_selector_ selector_t *sel = NULL;
    if (selector_from_json(json_path(d, "spec.selector"), &sel, NULL) < 0)
      continue;
    if (!selector_is_empty(sel) && selector_matches(sel, labels))
      controller_enqueue_obj(c, d);
  }
}

static void on_rs_add(void *ud, json_t *rs) {
  if (!controller_owner_ref(rs) && !has_deletion(rs))
    enqueue_selecting(ud, rs);
}

static void on_rs_update(void *ud, json_t *old, json_t *cur) {
  if (controller_owner_ref(cur))
    return;
  json_t *ol = json_path(old, "metadata.labels"), *cl = json_path(cur, "metadata.labels");
  bool labels_changed = !(ol == cl || (ol && cl && json_equal(ol, cl)));
  if (labels_changed || controller_owner_ref(old))
    enqueue_selecting(ud, cur);
}

/* A Recreate rollout waits for the old pods to be gone: their deletion is its cue. */
static void on_pod_delete(void *ud, json_t *pod) {
  struct controller *c = ud;
  struct deploy_state *st = controller_state(c);
  const json_t *ref = controller_owner_ref(pod);
  if (!ref || !streq_ptr(json_string_value(json_object_get(ref, "kind")), "ReplicaSet"))
    return;
  const char *ns = jstr(pod, "metadata.namespace");
  const char *rs_name = json_string_value(json_object_get(ref, "name"));
  if (!ns || !rs_name)
    return;
  _cleanup_json_ json_t *rs = informer_get_nn(st->rss, ns, rs_name);
  const json_t *dref = rs ? controller_owner_ref(rs) : NULL;
  if (!dref || !streq_ptr(json_string_value(json_object_get(dref, "kind")), "Deployment"))
    return;
  const char *d_name = json_string_value(json_object_get(dref, "name"));
  if (!d_name)
    return;
  _cleanup_json_ json_t *d = informer_get_nn(st->deploys, ns, d_name);
  if (d && d_recreate(d))
    controller_enqueue_obj(c, d);
}

static int deploy_setup(struct controller *c) {
  struct deploy_state *st = xcalloc(1, sizeof(*st));
  controller_set_state(c, st);
  st->deploys = controller_informer(c, "/apis/apps/v1/deployments");
  st->rss = controller_informer(c, "/apis/apps/v1/replicasets");
  st->pods = controller_informer(c, "/api/v1/pods");
  if (!st->deploys || !st->rss || !st->pods)
    return -ENOMEM;
  informer_add_index(st->pods, PODUTIL_INDEX_CONTROLLER_UID, podutil_index_controller_uid);
  informer_add_index(st->rss, PODUTIL_INDEX_CONTROLLER_UID, podutil_index_controller_uid);
  informer_add_index(st->rss, PODUTIL_INDEX_ORPHANS, podutil_index_orphans);
  controller_watch_objects(c, st->deploys);
  controller_watch_owned(c, st->rss, "Deployment");
  informer_add_handler(st->rss, &(struct informer_handler){
                                    .on_add = on_rs_add, .on_update = on_rs_update, .userdata = c});
  informer_add_handler(st->pods,
                       &(struct informer_handler){.on_delete = on_pod_delete, .userdata = c});
  return 0;
}

static void deploy_teardown(struct controller *c) {
  free(controller_state(c));
  controller_set_state(c, NULL);
}

static const struct controller_def deployment_controller = {
    .name = "deployment",
    .component = "deployment-controller",
    .workers = 2,
    .setup = deploy_setup,
    .sync = deploy_sync,
    .teardown = deploy_teardown,
};

CONTROLLER_REGISTER(deployment_controller);
