/* queue.h — the scheduling queue, after kube-scheduler's PriorityQueue: pending pods wait
 * in one of three places.
 *   activeQ          ready to schedule; ordered by spec.priority (higher first), then by
 *                    the time the pod entered the queue (earlier first);
 *   backoffQ         failed recently; each pod waits 1 s × 2^(attempts-1), at most 10 s,
 *                    counted from its requeue;
 *   unschedulableQ   found no node; leaves on sched_queue_move_all() (a node was added or
 *                    updated, a pod deleted...) or after 5 minutes there.
 * A popped pod is "in flight" until the driver reports the outcome with
 * sched_queue_done() (bound, or given up) or sched_queue_requeue().
 *
 * Keys are "namespace/name"; values are v1 Pod JSON trees, of which the queue holds a
 * reference (and never modifies them).
 *
 * Thread-safety: every function may be called from any thread (one mutex inside); pop
 * blocks on a condition variable. The clock is injectable so tests never sleep. Nothing
 * here logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/json.h"

#define SCHED_QUEUE_INITIAL_BACKOFF_MS 1000
#define SCHED_QUEUE_MAX_BACKOFF_MS 10000
#define SCHED_QUEUE_UNSCHEDULABLE_TIMEOUT_MS (5 * 60 * 1000)

/* Milliseconds on a monotonic clock. */
typedef int64_t (*sched_queue_clock_fn)(void *ud);

struct sched_queue;

/* A new, open queue. clock NULL means CLOCK_MONOTONIC. Never NULL (aborts on OOM). */
struct sched_queue *sched_queue_new(sched_queue_clock_fn clock, void *clock_ud);
/* Frees the queue and drops its pod references. No thread may be inside it. */
void sched_queue_free(struct sched_queue *q);

/* A new pending pod (informer add): into activeQ. If the key is already queued this acts
 * as sched_queue_update. Returns 0, or -EINVAL when the pod has no name. */
int sched_queue_add(struct sched_queue *q, json_t *pod);

/* A queued pod changed (informer update): the queue keeps the new object. A pod waiting
 * in unschedulableQ moves to activeQ (or backoffQ while backing off) when more than its
 * status, resourceVersion, generation or managedFields changed, since that may make it
 * schedulable. Unknown keys are added. Returns 0 or -EINVAL. */
int sched_queue_update(struct sched_queue *q, json_t *pod);

/* The pod was deleted or got bound elsewhere: forgets it wherever it is (in flight
 * included). Returns 0 or -ENOENT. */
int sched_queue_delete(struct sched_queue *q, const char *key);

/* Takes the first pod of activeQ, first moving pods whose back-off or unschedulable time
 * is over. Waits up to timeout_ms (-1: forever, 0: not at all). Returns 0 with a new
 * reference in *ret_pod and the scheduling cycle number in *ret_cycle (may be NULL);
 * -ETIMEDOUT when nothing came in time; -ESHUTDOWN once the queue is closed. */
int sched_queue_pop(struct sched_queue *q, int64_t timeout_ms, json_t **ret_pod,
                    uint64_t *ret_cycle);

/* The in-flight pod failed. unschedulable: no node fitted, so it goes to unschedulableQ,
 * unless a move request came while it was in flight (then backoffQ, as kube does); an
 * error otherwise, so backoffQ. Returns 0, or -ENOENT when the key is not in flight (it
 * was deleted meanwhile). */
int sched_queue_requeue(struct sched_queue *q, const char *key, bool unschedulable);

/* The in-flight pod is finished with (bound). Returns 0 or -ENOENT. */
int sched_queue_done(struct sched_queue *q, const char *key);

/* A cluster event that may make unschedulable pods fit: all of unschedulableQ moves to
 * activeQ, or to backoffQ for pods still backing off. */
void sched_queue_move_all(struct sched_queue *q);

/* Wakes every pop; later pops return -ESHUTDOWN. */
void sched_queue_close(struct sched_queue *q);

/* Sizes of the three queues and the number in flight (any pointer may be NULL). */
void sched_queue_stats(struct sched_queue *q, size_t *ret_active, size_t *ret_backoff,
                       size_t *ret_unschedulable, size_t *ret_in_flight);

/* The back-off after `attempts` failed attempts, in ms. */
int64_t sched_queue_backoff_ms(unsigned attempts);
