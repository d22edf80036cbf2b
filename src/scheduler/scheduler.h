/* scheduler.h — the scheduler: binds every pod that names no node (and whose
 * schedulerName is "default-scheduler") to a node, as kube-scheduler does.
 *
 * It keeps a snapshot of nodes and assigned pods from informers (framework.h), takes pods
 * from a priority queue (queue.h), runs the filter and score plugins, and binds through
 * pods/binding. Binding is asynchronous, as kube's: the cycle assumes the pod onto the
 * node in the snapshot and goes on; a pool of binder threads posts the bindings. A pod
 * that fits nowhere gets PodScheduled=False (reason Unschedulable) with kube's message, a
 * FailedScheduling event, and waits in the queue until the cluster changes; if a node
 * would fit after evicting lower-priority pods, those are preempted (deleted) and the pod
 * nominated to that node (status.nominatedNodeName).
 *
 * Thread-safe start/stop; everything else runs on the scheduler's threads. Logs
 * nothing except failures to bind or to write status, to stderr. */
#pragma once

#include "client/rest.h"

struct scheduler;

/* Starts the informers, waits for them to sync, and starts scheduling. The client must
 * outlive the scheduler. 0, or -errno with a malloc'd message. */
int scheduler_start(struct rest_client *client, struct scheduler **ret, char **ret_err);

/* Pods bound since start (for benchmarks). */
unsigned long scheduler_bound(struct scheduler *s);

/* Stops scheduling, waits for the threads, frees. Accepts NULL. */
void scheduler_stop(struct scheduler *s);
