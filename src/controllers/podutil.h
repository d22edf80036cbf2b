/* podutil.h — pod helpers shared by the workload controllers (ReplicaSet, Deployment,
 * Job, DaemonSet, StatefulSet ...): readiness and availability as kube's pod utilities
 * judge them, the orders kube uses to choose which pods to delete first
 * (controller.ActivePods and controller.ActivePodsWithRanks), pods built from a template
 * (controller.GetPodFromTemplate), informer indexes of pods by controller owner, and
 * kube's slowStartBatch for bursts of API calls.
 *
 * Pods are JSON trees as the API serves them; every function here only reads them (they
 * may be shared informer objects). All functions are thread-safe. Nothing here logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "lib/json.h"

/* ---- pod state ---- */

/* The pod's condition of type "Ready" (borrowed), or NULL. */
const json_t *podutil_ready_condition(const json_t *pod);

/* Ready: the Ready condition has status "True" (podutil.IsPodReady). */
bool podutil_is_ready(const json_t *pod);

/* Available: ready, and ready for at least min_ready_seconds by `now` (strictly after
 * lastTransitionTime + minReadySeconds, as podutil.IsPodAvailable). now NULL = the clock. */
bool podutil_is_available(const json_t *pod, long min_ready_seconds, const struct timespec *now);

/* Active: not Succeeded/Failed and not being deleted (controller.IsPodActive). */
bool podutil_is_active(const json_t *pod);

/* The highest restartCount among the pod's containerStatuses. */
int podutil_max_restarts(const json_t *pod);

/* ---- deletion order ---- */

/* controller.ActivePods' order: negative when a should be deleted before b. Unassigned
 * before assigned; Pending < Unknown < Running; not ready before ready; ready for a
 * shorter time before longer; more container restarts first; newer before older. */
int podutil_compare_active(const json_t *a, const json_t *b);

/* Sorts pods (borrowed pointers) in ActivePods' order, most deletable first. */
void podutil_sort_active(json_t **pods, size_t n);

/* A pod with its rank: how many related active pods share its node (more = deleted
 * first), as ReplicaSet scale-down computes them. */
struct podutil_ranked {
  json_t *pod; /* borrowed */
  int rank;
};

/* controller.ActivePodsWithRanks' order against the time `now` (NULL: no logarithmic
 * bucketing, plain timestamps): unassigned first; Pending < Unknown < Running; not ready
 * first; lower controller.kubernetes.io/pod-deletion-cost first; higher rank first; ready
 * and created times compared in log2 buckets of their age (then by uid); more restarts
 * first. Negative when a goes first. */
int podutil_compare_ranked(const struct podutil_ranked *a, const struct podutil_ranked *b,
                           const struct timespec *now);
void podutil_sort_ranked(struct podutil_ranked *v, size_t n, const struct timespec *now);

/* The controller.kubernetes.io/pod-deletion-cost annotation as kube reads it (0 when
 * absent or invalid: signs other than '-', leading zeros, outside int32). */
int podutil_deletion_cost(const json_t *pod);

/* ---- building pods ---- */

/* An ownerReference naming `owner` as controller: {apiVersion, kind, name, uid,
 * controller: true, blockOwnerDeletion: true}. New reference. */
json_t *podutil_controller_ref(const json_t *owner, const char *api_version, const char *kind);

/* A pod from a PodTemplateSpec for `owner` (controller.GetPodFromTemplate): labels,
 * annotations and finalizers of the template, generateName "<owner>-" (the bare owner
 * name when that prefix is not a valid name), the owner's namespace, `controller_ref`
 * (may be NULL) as its only ownerReference, a copy of the template's spec. New reference;
 * NULL when the template has no labels (kube refuses: "unable to create pods, no
 * labels"). */
json_t *podutil_from_template(const json_t *template, const json_t *owner,
                              const json_t *controller_ref);

/* ---- informer indexes over pods (and any owned objects) ---- */

/* Index name and function: the uid of the object's controller ownerReference (none for
 * objects without a controller). */
#define PODUTIL_INDEX_CONTROLLER_UID "controller-uid"
size_t podutil_index_controller_uid(const json_t *obj, const char **ret_values, size_t max);

/* Index name and function: the namespace of objects that have no controller (orphans a
 * controller may adopt). */
#define PODUTIL_INDEX_ORPHANS "orphans-by-namespace"
size_t podutil_index_orphans(const json_t *obj, const char **ret_values, size_t max);

/* ---- bursts ---- */

/* kube's slowStartBatch: calls fn(userdata, i) for i in [0, count) in batches of 1, 2, 4,
 * ... (starting at `initial`), the calls of one batch in parallel (on up to 16 threads),
 * and stops after the first batch in which some call failed (returned < 0). Returns how
 * many calls succeeded; *ret_err (may be NULL) gets the first failure's code, or 0. fn
 * must be thread-safe. */
int podutil_slow_start_batch(int count, int initial, int (*fn)(void *userdata, int i),
                             void *userdata, int *ret_err);

/* Runs fn(userdata, i) for i in [0, count) on up to 16 threads and waits for all; returns
 * how many succeeded (for parallel deletes, which kube fires all at once). */
int podutil_parallel(int count, int (*fn)(void *userdata, int i), void *userdata);
