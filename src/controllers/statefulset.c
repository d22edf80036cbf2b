/* The StatefulSet controller (kube-controller-manager's StatefulSetController): pods with
 * stable names "<set>-<ordinal>", stable hostnames under the governing service, and
 * stable storage — a PersistentVolumeClaim "<claim>-<set>-<ordinal>" per
 * volumeClaimTemplate, made before its pod. OrderedReady sets start pods in ordinal order,
 * each Running and Ready before the next, and remove them from the highest ordinal down;
 * Parallel sets do both at once. Template changes roll out from the highest ordinal down
 * to the partition (RollingUpdate) or wait for deletions (OnDelete). The template history
 * lives in ControllerRevisions (history.h): status.currentRevision and updateRevision name
 * them and every pod carries its revision's name in controller-revision-hash.
 *
 * Differences from kube: pods and revisions are found by their controller owner
 * reference only (orphans are not adopted); persistentVolumeClaimRetentionPolicy is
 * honoured for its default (Retain) only — claims are never deleted; maxUnavailable (an
 * alpha field) is ignored. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controllers/controller.h"
#include "controllers/ctlutil.h"
#include "controllers/history.h"
#include "controllers/podutil.h"
#include "lib/selector.h"

#define STS_GROUP "/apis/apps/v1"
#define STS_POD_NAME_LABEL "statefulset.kubernetes.io/pod-name"
#define STS_POD_INDEX_LABEL "apps.kubernetes.io/pod-index"

struct sts_state {
  struct informer *sets, *pods, *revs, *pvcs;
};

static struct sts_state *st(struct controller *c) { return controller_state(c); }

static const char *str(const json_t *obj, const char *dotted) {
  return json_path_str((json_t *)obj, dotted);
}

static long long int_at(const json_t *obj, const char *dotted, long long dflt) {
  const json_t *v = json_path((json_t *)obj, dotted);
  return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

/* ---- pod state, as the StatefulSet controller's helpers judge it ---- */

/* The ordinal of a pod named "<set>-<n>" of this set, or -1. */
static long pod_ordinal(const json_t *set, const json_t *pod) {
  const char *name = str(pod, "metadata.name"), *sname = str(set, "metadata.name");
  if (!name || !sname)
    return -1;
  size_t sl = strlen(sname);
  if (strncmp(name, sname, sl) != 0 || name[sl] != '-' || !name[sl + 1])
    return -1;
  char *end;
  errno = 0;
  long n = strtol(name + sl + 1, &end, 10);
  if (errno || *end || n < 0 || name[sl + 1] < '0' || name[sl + 1] > '9')
    return -1;
  return n;
}

static const char *phase(const json_t *pod) {
  const char *p = str(pod, "status.phase");
  return p ? p : "";
}

static bool is_created(const json_t *pod) { return *phase(pod) != '\0'; }
static bool is_terminating(const json_t *pod) {
  return json_path((json_t *)pod, "metadata.deletionTimestamp") != NULL;
}
static bool is_running_ready(const json_t *pod) {
  return streq(phase(pod), "Running") && podutil_is_ready(pod);
}
static bool is_running_available(const json_t *pod, long min_ready, const struct timespec *now) {
  return streq(phase(pod), "Running") && podutil_is_available(pod, min_ready, now);
}
static bool is_unavailable(const json_t *pod, long min_ready, const struct timespec *now) {
  return !is_running_ready(pod) || is_terminating(pod) ||
         !is_running_available(pod, min_ready, now);
}

static const char *pod_revision(const json_t *pod) {
  const char *r =
      json_string_value(json_object_get(json_path((json_t *)pod, "metadata.labels"),
                                        HISTORY_HASH_LABEL));
  return r ? r : "";
}

/* ---- building pods and claims ---- */

static char *claim_name(const json_t *claim_tmpl, const json_t *set, long ord) {
  return xasprintf("%s-%s-%ld", str(claim_tmpl, "metadata.name"), str(set, "metadata.name"), ord);
}

/* newStatefulSetPod + setPodRevision: identity (name, hostname, subdomain, labels), the
 * volumes of its claims, and the revision label. */
static json_t *new_pod(const json_t *set, long ord, const char *revision) {
  _cleanup_json_ json_t *ref = podutil_controller_ref(set, "apps/v1", "StatefulSet");
  json_t *pod = podutil_from_template(json_path((json_t *)set, "spec.template"), set, ref);
  if (!pod)
    return NULL;
  _cleanup_free_ char *name = xasprintf("%s-%ld", str(set, "metadata.name"), ord);
  json_t *meta = json_object_ensure(pod, "metadata");
  json_object_set_new(meta, "name", json_string(name));
  json_t *labels = json_object_ensure(meta, "labels");
  json_object_set_new(labels, STS_POD_NAME_LABEL, json_string(name));
  _cleanup_free_ char *idx = xasprintf("%ld", ord);
  json_object_set_new(labels, STS_POD_INDEX_LABEL, json_string(idx));
  json_object_set_new(labels, HISTORY_HASH_LABEL, json_string(revision));
  json_t *spec = json_object_ensure(pod, "spec");
  json_object_set_new(spec, "hostname", json_string(name));
  const char *svc = str(set, "spec.serviceName");
  if (svc && *svc)
    json_object_set_new(spec, "subdomain", json_string(svc));

  /* updateStorage: claim volumes first, then the template's other volumes. */
  json_t *vols = json_array();
  const json_t *claims = json_path((json_t *)set, "spec.volumeClaimTemplates");
  size_t i;
  const json_t *ct, *v;
  json_array_foreach(claims, i, ct) {
    const char *cn = str(ct, "metadata.name");
    if (!cn)
      continue;
    _cleanup_free_ char *pvc = claim_name(ct, set, ord);
    json_array_append_new(vols, json_pack("{s:s, s:{s:s}}", "name", cn, "persistentVolumeClaim",
                                          "claimName", pvc));
  }
  json_array_foreach(json_object_get(spec, "volumes"), i, v) {
    const char *vn = json_string_value(json_object_get(v, "name"));
    bool is_claim = false;
    size_t j;
    json_array_foreach(claims, j, ct) is_claim |= streq_ptr(str(ct, "metadata.name"), vn);
    if (!is_claim)
      json_array_append(vols, (json_t *)v);
  }
  if (json_array_size(vols))
    json_object_set_new(spec, "volumes", vols);
  else
    json_decref(vols);
  return pod;
}

/* ---- the sync ---- */

struct sts_sync {
  struct controller *c;
  const json_t *set;
  const char *key, *ns, *name;
  json_t *current_set, *update_set;
  const char *current_rev, *update_rev;
  long min_ready;
  struct timespec now;
  bool monotonic;
  json_t **replicas; /* borrowed from the informer, or made here (see owned) */
  bool *owned;
  long n_replicas;
  long start;
  char *pods_path;
};

static void record(struct sts_sync *s, const char *type, const char *reason, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));
static void record(struct sts_sync *s, const char *type, const char *reason, const char *fmt,
                   ...) {
  va_list ap;
  va_start(ap, fmt);
  _cleanup_free_ char *msg = xvasprintf(fmt, ap);
  va_end(ap);
  event_record(controller_events(s->c), s->set, "StatefulSet", "apps/v1", type, reason, "%s",
               msg);
}

/* createPersistentVolumeClaims: every claim of the pod that does not exist yet. */
static int create_claims(struct sts_sync *s, const json_t *pod, long ord) {
  const json_t *set = s->set;
  size_t i;
  const json_t *ct;
  _cleanup_free_ char *path = controller_path("/api/v1", s->ns, "persistentvolumeclaims");
  json_array_foreach(json_path((json_t *)set, "spec.volumeClaimTemplates"), i, ct) {
    if (!str(ct, "metadata.name"))
      continue;
    _cleanup_free_ char *cn = claim_name(ct, set, ord);
    _cleanup_json_ json_t *have = informer_get_nn(st(s->c)->pvcs, s->ns, cn);
    if (have)
      continue;
    _cleanup_json_ json_t *claim = json_deep_copy(ct);
    json_t *meta = json_object_ensure(claim, "metadata");
    json_object_set_new(meta, "name", json_string(cn));
    json_object_set_new(meta, "namespace", json_string(s->ns));
    json_t *labels = json_object_ensure(meta, "labels");
    json_t *ml = json_path((json_t *)set, "spec.selector.matchLabels");
    if (json_is_object(ml))
      json_object_update(labels, ml);
    json_object_set_new(claim, "apiVersion", json_string("v1"));
    json_object_set_new(claim, "kind", json_string("PersistentVolumeClaim"));
    json_object_del(claim, "status");
    _cleanup_free_ char *err = NULL;
    int r = controller_create(s->c, path, claim, NULL, &err);
    if (r == -EEXIST)
      continue;
    if (r < 0) {
      record(s, "Warning", "FailedCreate",
             "create Claim %s for Pod %s in StatefulSet %s failed error: %s", cn,
             str(pod, "metadata.name"), s->name, err ? err : strerror(-r));
      return r;
    }
    record(s, "Normal", "SuccessfulCreate", "create Claim %s Pod %s in StatefulSet %s success",
           cn, str(pod, "metadata.name"), s->name);
  }
  return 0;
}

static int create_pod(struct sts_sync *s, const json_t *pod, long ord) {
  int r = create_claims(s, pod, ord);
  _cleanup_free_ char *err = NULL;
  if (r < 0) {
    record(s, "Warning", "FailedCreate", "create Pod %s in StatefulSet %s failed error: %s",
           str(pod, "metadata.name"), s->name, "failed to create claims");
    return r;
  }
  r = controller_create(s->c, s->pods_path, pod, NULL, &err);
  if (r == -EEXIST)
    return r; /* the informer has not seen it yet: retry later, quietly */
  if (r < 0) {
    record(s, "Warning", "FailedCreate", "create Pod %s in StatefulSet %s failed error: %s",
           str(pod, "metadata.name"), s->name, err ? err : strerror(-r));
    return r;
  }
  record(s, "Normal", "SuccessfulCreate", "create Pod %s in StatefulSet %s successful",
         str(pod, "metadata.name"), s->name);
  return 0;
}

static int delete_pod(struct sts_sync *s, const json_t *pod) {
  const char *name = str(pod, "metadata.name");
  _cleanup_free_ char *path = xasprintf("%s/%s", s->pods_path, name);
  _cleanup_free_ char *err = NULL;
  int r = controller_delete(s->c, path, NULL, &err);
  if (r < 0) {
    record(s, "Warning", "FailedDelete", "delete Pod %s in StatefulSet %s failed error: %s", name,
           s->name, err ? err : strerror(-r));
    return r;
  }
  record(s, "Normal", "SuccessfulDelete", "delete Pod %s in StatefulSet %s successful", name,
         s->name);
  return 0;
}

/* identityMatches/storageMatches, repaired in place by updateStatefulPod: the identity
 * labels a pod must carry. */
static int fix_identity(struct sts_sync *s, const json_t *pod, long ord) {
  const json_t *labels = json_path((json_t *)pod, "metadata.labels");
  const char *name = str(pod, "metadata.name");
  _cleanup_free_ char *idx = xasprintf("%ld", ord);
  if (streq_ptr(json_string_value(json_object_get(labels, STS_POD_NAME_LABEL)), name) &&
      streq_ptr(json_string_value(json_object_get(labels, STS_POD_INDEX_LABEL)), idx))
    return 0;
  _cleanup_json_ json_t *patch = json_pack("{s:{s:{s:s, s:s}}}", "metadata", "labels",
                                           STS_POD_NAME_LABEL, name, STS_POD_INDEX_LABEL, idx);
  _cleanup_free_ char *path = xasprintf("%s/%s", s->pods_path, name);
  _cleanup_free_ char *err = NULL;
  int r = controller_patch(s->c, path, patch, false, NULL, &err);
  if (r < 0) {
    record(s, "Warning", "FailedUpdate", "update Pod %s in StatefulSet %s failed error: %s", name,
           s->name, err ? err : strerror(-r));
    return r;
  }
  record(s, "Normal", "SuccessfulUpdate", "update Pod %s in StatefulSet %s successful", name,
         s->name);
  return 0;
}

/* processReplica: 1 = stop here (monotonic wait or work done), 0 = go on, < 0 = error. */
static int process_replica(struct sts_sync *s, long i) {
  json_t *pod = s->replicas[i];
  long ord = s->start + i;
  const char *ph = phase(pod);
  if (streq(ph, "Failed") || streq(ph, "Succeeded")) {
    if (!is_terminating(pod)) {
      int r = delete_pod(s, pod);
      if (r < 0)
        return r;
    }
    return 1;
  }
  if (!is_created(pod)) {
    int r = create_pod(s, pod, ord);
    if (r < 0)
      return r;
    if (s->monotonic)
      return 1;
    return 0;
  }
  if (streq(ph, "Pending")) {
    int r = create_claims(s, pod, ord);
    if (r < 0)
      return r;
  }
  if (s->monotonic && (is_terminating(pod) || !is_running_ready(pod) ||
                       !is_running_available(pod, s->min_ready, &s->now)))
    return 1;
  int r = fix_identity(s, pod, ord);
  return r < 0 ? r : 0;
}

static int parallel_replica(void *ud, int i) {
  int r = process_replica(ud, i);
  return r < 0 ? r : 0;
}

struct status_counts {
  long replicas, ready, available, current, updated;
};

static void count(struct sts_sync *s, json_t *const *pods, long n, struct status_counts *sc) {
  for (long i = 0; i < n; i++) {
    const json_t *pod = pods[i];
    if (is_created(pod))
      sc->replicas++;
    if (is_running_ready(pod)) {
      sc->ready++;
      if (is_running_available(pod, s->min_ready, &s->now))
        sc->available++;
    }
    if (is_created(pod) && !is_terminating(pod)) {
      const char *rev = pod_revision(pod);
      if (streq(rev, s->current_rev))
        sc->current++;
      if (streq(rev, s->update_rev))
        sc->updated++;
    }
  }
}

static bool owned_by(const json_t *obj, const json_t *owner) {
  const json_t *ref = controller_owner_ref(obj);
  return ref && streq_ptr(json_string_value(json_object_get(ref, "uid")), str(owner, "metadata.uid"));
}

/* getStatefulSetRevisions: the revision of the set's template (made, or renumbered when
 * an older one matches — a rollback), and the current one status names. */
static int revisions(struct sts_sync *s, json_t *sorted, json_t **ret_current,
                     json_t **ret_update, int64_t *ret_collisions) {
  struct controller *c = s->c;
  int64_t collisions = int_at(s->set, "status.collisionCount", 0);
  _cleanup_json_ json_t *patch = history_patch(s->set);
  if (!patch)
    return -EINVAL;
  int64_t next = history_next_revision(sorted);
  _cleanup_json_ json_t *probe = json_pack("{s:O}", "data", patch);
  json_t *equal = NULL, *rev;
  size_t i, n = json_array_size(sorted);
  json_array_foreach(sorted, i, rev) {
    if (history_equal_data(rev, probe))
      equal = rev;
  }
  _cleanup_free_ char *path = controller_path(STS_GROUP, s->ns, "controllerrevisions");
  _cleanup_free_ char *err = NULL;
  json_t *update = NULL;
  if (equal && equal == json_array_get(sorted, n - 1)) {
    update = json_incref(equal);
  } else if (equal) {
    _cleanup_json_ json_t *upd = json_deep_copy(equal);
    json_object_set_new(upd, "revision", json_integer(next));
    _cleanup_free_ char *rp = xasprintf("%s/%s", path, str(upd, "metadata.name"));
    int r = controller_update(c, rp, upd, &update, &err);
    if (r < 0)
      return r;
  } else {
    /* CreateControllerRevision: a name taken by other data is a hash collision; count it
     * and hash again. */
    for (int attempt = 0; attempt < 5 && !update; attempt++) {
      _cleanup_free_ char *hash = history_hash(patch, &collisions);
      _cleanup_json_ json_t *obj =
          history_new_revision(s->set, "apps/v1", "StatefulSet", hash, patch, next);
      free(err);
      err = NULL;
      int r = controller_create(c, path, obj, &update, &err);
      if (r == -EEXIST) {
        _cleanup_json_ json_t *have = informer_get_nn(st(c)->revs, s->ns, str(obj, "metadata.name"));
        if (have && history_equal_data(have, obj) && owned_by(have, s->set))
          update = json_incref(have);
        else if (have || attempt > 0)
          collisions++;
        else
          return -EAGAIN; /* not in the cache yet: look again later */
        continue;
      }
      if (r < 0) {
        controller_log(c, "creating revision for %s: %s", s->key, err ? err : strerror(-r));
        return r;
      }
    }
    if (!update)
      return -EAGAIN;
  }
  const char *cur_name = str(s->set, "status.currentRevision");
  json_t *current = NULL;
  json_array_foreach(sorted, i, rev) {
    if (cur_name && streq_ptr(str(rev, "metadata.name"), cur_name)) {
      current = json_incref(rev);
      break;
    }
  }
  *ret_current = current ? current : json_incref(update);
  *ret_update = update;
  *ret_collisions = collisions;
  return 0;
}

static int update_status(struct sts_sync *s, const struct status_counts *sc, int64_t collisions) {
  const json_t *status = json_object_get(s->set, "status");
  const char *strategy = str(s->set, "spec.updateStrategy.type");
  const char *cur_rev = s->current_rev;
  long current = sc->current;
  /* completeRollingUpdate */
  if ((!strategy || streq(strategy, "RollingUpdate")) && sc->updated == sc->replicas &&
      sc->ready == sc->replicas) {
    current = sc->updated;
    cur_rev = s->update_rev;
  }
  long long gen = int_at(s->set, "metadata.generation", 0);
  if (int_at(status, "observedGeneration", 0) == gen &&
      int_at(status, "replicas", -1) == sc->replicas &&
      int_at(status, "currentReplicas", 0) == current &&
      int_at(status, "readyReplicas", 0) == sc->ready &&
      int_at(status, "updatedReplicas", 0) == sc->updated &&
      int_at(status, "availableReplicas", 0) == sc->available &&
      streq_ptr(str(s->set, "status.currentRevision"), cur_rev) &&
      streq_ptr(str(s->set, "status.updateRevision"), s->update_rev) &&
      int_at(status, "collisionCount", -1) == collisions)
    return 0;
  _cleanup_json_ json_t *patch = json_pack(
      "{s:{s:I, s:o, s:o, s:o, s:I, s:s, s:s, s:I, s:o}}", "status", "replicas",
      (json_int_t)sc->replicas, "readyReplicas", ctlutil_int_or_null(sc->ready),
      "currentReplicas", ctlutil_int_or_null(current), "updatedReplicas",
      ctlutil_int_or_null(sc->updated), "availableReplicas", (json_int_t)sc->available,
      "currentRevision", cur_rev, "updateRevision", s->update_rev, "collisionCount",
      (json_int_t)collisions, "observedGeneration", ctlutil_int_or_null(gen));
  return ctlutil_patch_status(s->c, STS_GROUP, s->ns, "statefulsets", s->name, patch);
}

static int ord_desc(const void *pa, const void *pb, void *set) {
  long a = pod_ordinal(set, *(json_t *const *)pa), b = pod_ordinal(set, *(json_t *const *)pb);
  return a < b ? 1 : a > b ? -1 : 0;
}

/* updateStatefulSet: the core of the controller; returns 0 or -errno, with the status
 * counts in *sc either way. */
static int update_set(struct sts_sync *s, const json_t *pods, struct status_counts *sc) {
  const json_t *set = s->set;
  long n = (long)int_at(set, "spec.replicas", 1);
  if (n < 0)
    n = 0;
  s->start = (long)int_at(set, "spec.ordinals.start", 0);
  s->n_replicas = n;
  s->replicas = xcalloc((size_t)n + 1, sizeof(*s->replicas));
  s->owned = xcalloc((size_t)n + 1, sizeof(*s->owned));
  size_t np = json_array_size(pods);
  json_t **condemned = xcalloc(np + 1, sizeof(*condemned));
  long n_condemned = 0;
  size_t i;
  json_t *pod;
  json_array_foreach(pods, i, pod) {
    long ord = pod_ordinal(set, pod);
    if (ord < 0)
      continue;
    if (ord >= s->start && ord < s->start + n)
      s->replicas[ord - s->start] = pod;
    else
      condemned[n_condemned++] = pod;
  }
  long partition = (long)int_at(s->current_set, "spec.updateStrategy.rollingUpdate.partition", 0);
  const char *strategy = str(set, "spec.updateStrategy.type");
  bool rolling = !strategy || streq(strategy, "RollingUpdate");
  bool has_ru = json_is_object(json_path((json_t *)s->current_set,
                                         "spec.updateStrategy.rollingUpdate"));
  long cur_replicas = (long)int_at(set, "status.currentReplicas", 0);
  int r = 0;
  for (long k = 0; k < n; k++) {
    if (s->replicas[k])
      continue;
    long ord = s->start + k;
    /* newVersionedStatefulSetPod: ordinals below the partition keep the current
     * revision. */
    bool keep_current = rolling && (has_ru ? ord < s->start + partition
                                           : ord < s->start + cur_replicas);
    s->replicas[k] = keep_current ? new_pod(s->current_set, ord, s->current_rev)
                                  : new_pod(s->update_set, ord, s->update_rev);
    if (!s->replicas[k]) {
      r = -EINVAL;
      goto out;
    }
    s->owned[k] = true;
  }
  qsort_r(condemned, (size_t)n_condemned, sizeof(*condemned), ord_desc, (void *)set);

  json_t *first_unhealthy = NULL;
  for (long k = 0; k < n && !first_unhealthy; k++)
    if (is_unavailable(s->replicas[k], s->min_ready, &s->now))
      first_unhealthy = s->replicas[k];
  for (long k = n_condemned - 1; k >= 0 && !first_unhealthy; k--)
    if (is_unavailable(condemned[k], s->min_ready, &s->now))
      first_unhealthy = condemned[k];

  if (is_terminating(set))
    goto out;
  if (s->monotonic) {
    for (long k = 0; k < n; k++) {
      r = process_replica(s, k);
      if (r != 0)
        goto out;
    }
  } else {
    int err = 0;
    podutil_slow_start_batch((int)n, 1, parallel_replica, s, &err);
    if ((r = err) < 0)
      goto out;
  }
  for (long k = 0; k < n_condemned; k++) {
    json_t *victim = condemned[k];
    if (is_terminating(victim)) {
      if (s->monotonic)
        goto out;
      continue;
    }
    if (s->monotonic && victim != first_unhealthy &&
        (!is_running_ready(victim) || !is_running_available(victim, s->min_ready, &s->now)))
      goto out;
    r = delete_pod(s, victim);
    if (r < 0 || s->monotonic)
      goto out;
  }
  if (!rolling)
    goto out;
  long update_min = has_ru ? (long)int_at(set, "spec.updateStrategy.rollingUpdate.partition", 0)
                           : 0;
  for (long k = n - 1; k >= update_min && k >= 0; k--) {
    json_t *target = s->replicas[k];
    if (!streq(pod_revision(target), s->update_rev) && !is_terminating(target)) {
      if (!s->owned[k])
        r = delete_pod(s, target);
      goto out;
    }
    if (is_unavailable(target, s->min_ready, &s->now))
      goto out;
  }
out:
  count(s, s->replicas, n, sc);
  count(s, condemned, n_condemned, sc);
  /* Pods made here were not created by this pass; their counts come with the informer. */
  for (long k = 0; k < n; k++)
    if (s->owned[k])
      json_decref(s->replicas[k]);
  free(condemned);
  return r;
}

static void truncate_history(struct sts_sync *s, const json_t *sorted, const json_t *pods) {
  size_t np = json_array_size(pods);
  const char **live = xcalloc(np + 2, sizeof(*live));
  live[0] = s->current_rev;
  live[1] = s->update_rev;
  for (size_t i = 0; i < np; i++)
    live[i + 2] = pod_revision(json_array_get(pods, i));
  long limit = (long)int_at(s->set, "spec.revisionHistoryLimit", 10);
  _cleanup_json_ json_t *prune = history_to_prune(sorted, live, np + 2, limit);
  _cleanup_free_ char *path = controller_path(STS_GROUP, s->ns, "controllerrevisions");
  size_t i;
  json_t *rev;
  json_array_foreach(prune, i, rev) {
    _cleanup_free_ char *rp = xasprintf("%s/%s", path, str(rev, "metadata.name"));
    controller_delete(s->c, rp, NULL, NULL);
  }
  free(live);
}

static int sts_sync(struct controller *c, const char *key) {
  struct sts_state *state = st(c);
  _cleanup_json_ json_t *set = informer_get(state->sets, key);
  if (!set)
    return 0;
  _cleanup_selector_ selector_t *sel = NULL;
  if (selector_from_json(json_path(set, "spec.selector"), &sel, NULL) < 0 ||
      selector_is_empty(sel) || !json_is_object(json_path(set, "spec.template")))
    return 0;
  struct sts_sync s = {.c = c, .set = set, .key = key};
  s.ns = str(set, "metadata.namespace");
  s.name = str(set, "metadata.name");
  s.min_ready = (long)int_at(set, "spec.minReadySeconds", 0);
  const char *policy = str(set, "spec.podManagementPolicy");
  s.monotonic = !(policy && streq(policy, "Parallel"));
  clock_gettime(CLOCK_REALTIME, &s.now);

  const char *uid = str(set, "metadata.uid");
  _cleanup_json_ json_t *sorted = informer_by_index(state->revs, PODUTIL_INDEX_CONTROLLER_UID, uid);
  history_sort(sorted);
  _cleanup_json_ json_t *all_pods =
      informer_by_index(state->pods, PODUTIL_INDEX_CONTROLLER_UID, uid);
  _cleanup_json_ json_t *pods = json_array();
  size_t i;
  json_t *pod;
  json_array_foreach(all_pods, i, pod) {
    if (pod_ordinal(set, pod) >= 0)
      json_array_append(pods, pod);
  }

  _cleanup_json_ json_t *current = NULL, *update = NULL;
  int64_t collisions = 0;
  int r = revisions(&s, sorted, &current, &update, &collisions);
  if (r < 0)
    return r;
  s.current_rev = str(current, "metadata.name");
  s.update_rev = str(update, "metadata.name");
  s.current_set = history_apply(set, current);
  s.update_set = history_apply(set, update);
  if (!s.current_set || !s.update_set || !s.current_rev || !s.update_rev) {
    json_decref(s.current_set);
    json_decref(s.update_set);
    return -EINVAL;
  }
  s.pods_path = controller_path("/api/v1", s.ns, "pods");

  struct status_counts sc = {0};
  r = update_set(&s, pods, &sc);
  int sr = update_status(&s, &sc, collisions);
  if (r >= 0 && sr < 0)
    r = sr;
  /* A pod that turned available after minReadySeconds sends no event. */
  if (s.min_ready > 0 && sc.available != int_at(set, "spec.replicas", 1))
    controller_enqueue_after(c, key, s.min_ready * 1000);

  truncate_history(&s, sorted, pods);

  json_decref(s.current_set);
  json_decref(s.update_set);
  free(s.replicas);
  free(s.owned);
  free(s.pods_path);
  return r == -EEXIST ? -EAGAIN : r;
}

static int sts_setup(struct controller *c) {
  struct sts_state *state = xcalloc(1, sizeof(*state));
  controller_set_state(c, state);
  state->sets = controller_informer(c, STS_GROUP "/statefulsets");
  state->pods = controller_informer(c, "/api/v1/pods");
  state->revs = controller_informer(c, STS_GROUP "/controllerrevisions");
  state->pvcs = controller_informer(c, "/api/v1/persistentvolumeclaims");
  if (!state->sets || !state->pods || !state->revs || !state->pvcs)
    return -ENOMEM;
  informer_add_index(state->pods, PODUTIL_INDEX_CONTROLLER_UID, podutil_index_controller_uid);
  informer_add_index(state->revs, PODUTIL_INDEX_CONTROLLER_UID, podutil_index_controller_uid);
  controller_watch_objects(c, state->sets);
  controller_watch_owned(c, state->pods, "StatefulSet");
  controller_watch_owned(c, state->revs, "StatefulSet");
  return 0;
}

static void sts_teardown(struct controller *c) { free(controller_state(c)); }

static const struct controller_def statefulset_controller = {
    .name = "statefulset",
    .component = "statefulset-controller",
    .workers = 2,
    .setup = sts_setup,
    .sync = sts_sync,
    .teardown = sts_teardown,
};

CONTROLLER_REGISTER(statefulset_controller);
