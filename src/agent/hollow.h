/* hollow.h — the hollow node agent: many simulated nodes in one process, each behaving
 * towards the API server as a kubelet with a fake runtime does, for scale tests and for
 * testing the control plane without containers.
 *
 * The agent registers nodes hollow-K … hollow-(K+N-1) (creating them, or reconciling
 * labels and annotations of ones that exist, as a restarted kubelet does), posts their
 * status (capacity, conditions, addresses, nodeInfo) at registration, every 5 minutes and
 * whenever the API shows a Ready condition other than the one it reports, and renews one
 * Lease per node in kube-node-lease every 10 s (leaseDurationSeconds 40), spread over the
 * period by a single thread.
 *
 * Pods bound to its nodes are watched by one informer shared by every node (field
 * selector spec.nodeName!=) and reconciled by a small worker pool: Pending with
 * ContainerCreating briefly, then Running with every container running and ready. Pods
 * with restartPolicy Never or OnFailure exit after the annotation
 * hollow.ckube.io/run-seconds (default 1) with exit code hollow.ckube.io/exit-code
 * (default 0): Succeeded, Failed (Never), or restarted (OnFailure, restartCount + 1,
 * running again). A pod being deleted is killed and, after min(grace period, 1 s),
 * deleted for good with gracePeriodSeconds 0 and a uid precondition. Pod IPs come from
 * the node's spec.podCIDR when set, else from 10.244.0.0/14 by node index. Status writes
 * are merge patches of pods/status and nodes/status, made only when something changed.
 * The agent records no kubelet events.
 *
 * Threads: the informers' threads, the worker pool, one lease thread. Nothing here logs
 * except hollow_start()'s progress lines when cfg->verbose is set. */
#pragma once

#include <stdbool.h>

#include "lib/json.h"

struct hollow_config {
  const char *kubeconfig;  /* required */
  unsigned first_index;    /* K */
  unsigned count;          /* N, at least 1 */
  const char *node_labels; /* "k=v,k2=v2" added to every node, or NULL */
  const char *node_taints; /* "k=v:NoSchedule,k2:NoExecute" registered with the nodes */
  const char *cpu;         /* capacity; NULL = "4" */
  const char *memory;      /* NULL = "16Gi" */
  const char *pods;        /* NULL = "110" */
  int workers;             /* pod workers; 0 = 4 */
};

struct hollow;

/* Validates the configuration, connects, registers every node and starts the threads.
 * Returns once every node is registered: 0, -EINVAL for a bad flag value (message in
 * *ret_err), or another -errno when the API refuses (message in *ret_err). */
int hollow_start(const struct hollow_config *cfg, struct hollow **ret, char **ret_err);

/* How many pod status writes and pod deletions the agent made (for benchmarks). */
unsigned long hollow_pod_writes(struct hollow *h);

/* Stops every thread and frees; the nodes and their Leases stay, as a stopped kubelet
 * leaves them. Accepts NULL. */
void hollow_stop(struct hollow *h);

/* Parses "k=v:Effect,k2:Effect" into a JSON array of taints (new reference): 0, or
 * -EINVAL with a message. Exposed for tests. */
int hollow_parse_taints(const char *s, json_t **ret, char **ret_err);
/* Parses "k=v,k2=v2" into a JSON object of labels: 0, or -EINVAL with a message. */
int hollow_parse_labels(const char *s, json_t **ret, char **ret_err);
