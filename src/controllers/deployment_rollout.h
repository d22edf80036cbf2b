/* deployment_rollout.h — the arithmetic of Deployment rollouts, as kube-controller-manager's
 * deployment controller does it (pkg/controller/deployment and its util package): how far
 * a rolling update may surge above or dip below the desired count, how many replicas the
 * new ReplicaSet may have, how old ReplicaSets are scaled down, and how a scale change in
 * the middle of a rollout is spread over the ReplicaSets in proportion to their sizes.
 *
 * Everything here is pure: it works on plain numbers and the small structs below, never
 * on the API, so the controller (deployment.c) and the unit tests share one
 * implementation. All functions are thread-safe. Nothing here logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "lib/json.h"

/* What the maths needs of a Deployment. */
struct deploy_spec {
  int replicas;                  /* spec.replicas */
  bool rolling;                  /* spec.strategy.type == RollingUpdate */
  const json_t *max_surge;       /* spec.strategy.rollingUpdate.maxSurge (int or "N%"), or NULL */
  const json_t *max_unavailable; /* ... .maxUnavailable, or NULL */
};

/* What the maths needs of a ReplicaSet. */
struct deploy_rs {
  const char *name;
  long long created; /* metadata.creationTimestamp in seconds since the epoch */
  int replicas;      /* spec.replicas */
  int available;     /* status.availableReplicas */
  int max_replicas;  /* deployment.kubernetes.io/max-replicas; -1 when absent or invalid */
  size_t index;      /* the caller's own position of this ReplicaSet (kept by sorting) */
};

/* intstr.GetScaledValueFromIntOrPercent: an integer is taken as is; "N%" of total is
 * rounded up (round_up) or down. NULL counts as 0. 0, or -EINVAL for anything else
 * (a string that is not a percentage, a negative or non-numeric percent). */
int deploy_scaled_value(const json_t *int_or_percent, int total, bool round_up, int *ret);

/* ResolveFenceposts: maxSurge (rounded up) and maxUnavailable (rounded down) of desired;
 * when both come to 0, maxUnavailable is 1 (a surge might be blocked by quota). Invalid
 * values count as 0. */
void deploy_resolve_fenceposts(const json_t *max_surge, const json_t *max_unavailable, int desired,
                               int *ret_surge, int *ret_unavailable);

/* MaxSurge: 0 for Recreate. */
int deploy_max_surge(const struct deploy_spec *d);
/* MaxUnavailable: 0 for Recreate or 0 replicas; never more than replicas. */
int deploy_max_unavailable(const struct deploy_spec *d);

/* NewRSNewReplicas: the size the new ReplicaSet may grow to now. current_total: the sum of
 * spec.replicas over every ReplicaSet (the new one included); new_replicas: the new
 * ReplicaSet's spec.replicas. Recreate: the desired count at once. */
int deploy_new_rs_replicas(const struct deploy_spec *d, int current_total, int new_replicas);

/* Orders ReplicaSets oldest first (creation time, then name): ReplicaSetsByCreationTimestamp. */
void deploy_sort_by_creation(struct deploy_rs *rs, size_t n);

/* Rolling update, scaling old ReplicaSets down (reconcileOldReplicaSets): first the
 * replicas that are not available (cleanupUnhealthyReplicas), then available ones as far as
 * maxUnavailable allows (scaleDownOldReplicaSetsForRollingUpdate), oldest first.
 * old: the old ReplicaSets with replicas (any order; sorted oldest first on return);
 * ret_sizes[i]: the new size of old[i] after sorting. Returns how many replicas were
 * taken away in total (0: nothing to do). */
int deploy_scale_down_old(const struct deploy_spec *d, struct deploy_rs *old, size_t n,
                          int new_replicas, int new_available, int *ret_sizes);

/* Proportional scaling of a rolling Deployment whose size changed while more than one
 * ReplicaSet has replicas (DeploymentController.scale): the replicas to add (or remove, when
 * negative) up to replicas + maxSurge are shared out in proportion to each ReplicaSet's
 * size relative to its max-replicas annotation, the rounding leftover going to the first
 * after sorting (largest first; on ties the newest when growing, the oldest when shrinking).
 * rs: the ReplicaSets with replicas (sorted on return); status_replicas: the Deployment's
 * status.replicas (the fallback for a missing annotation); ret_sizes[i]: the new size of
 * rs[i]. Returns the replicas to add (negative: to remove; 0: sizes unchanged). */
int deploy_proportional_scale(const struct deploy_spec *d, int status_replicas,
                              struct deploy_rs *rs, size_t n, int *ret_sizes);

/* SetNewReplicaSetAnnotations' revision-history rule: the history annotation after old
 * revision `old_revision` is pushed onto `history` (comma list, may be NULL or ""), dropping
 * the oldest entries to stay within limit_chars (kube: 2000). Caller frees; NULL when the
 * revision cannot be kept within the limit (the history then stays as it was). */
char *deploy_revision_history_push(const char *history, const char *old_revision,
                                   size_t limit_chars);
