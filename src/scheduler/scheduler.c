#include "scheduler/scheduler.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/events.h"
#include "client/informer.h"
#include "lib/hmap.h"
#include "lib/timeutil.h"
#include "scheduler/framework.h"
#include "scheduler/queue.h"

#define SCHEDULER_NAME "default-scheduler"
/* kube-scheduler binds every pod in a goroutine of its own; a bind is one API round trip
 * (a commit on the server), so the bind rate is about BINDERS / that latency. */
#define BINDERS 64

enum job_kind { JOB_BIND, JOB_PREEMPT, JOB_UNSCHEDULABLE, JOB_GATED };

struct job {
  enum job_kind kind;
  json_t *pod;   /* reference */
  char *node;    /* bind target / nominated node */
  char **victims; /* JOB_PREEMPT: NULL-terminated keys */
  char *message; /* JOB_UNSCHEDULABLE */
  struct job *next;
};

struct scheduler {
  struct rest_client *client;
  struct informer_factory *informers;
  struct informer *pods, *nodes, *pvcs, *classes;
  struct event_recorder *events;
  struct sched_queue *queue;

  pthread_mutex_t mu; /* snapshot, assumed */
  struct sched_snapshot *snap;
  struct hmap assumed; /* pod key → malloc'd node name, while its binding is in flight */

  pthread_mutex_t job_mu;
  pthread_cond_t job_cond;
  struct job *jobs_head, *jobs_tail;
  bool stopping;

  pthread_t cycle_thread, binders[BINDERS];
  int n_binders;
  bool cycle_started;
  atomic_ulong bound;
};

/* ---- helpers ---- */

static bool pod_is_ours(const json_t *pod) {
  const char *sn = json_path_str((json_t *)pod, "spec.schedulerName");
  return !sn || strcmp(sn, SCHEDULER_NAME) == 0;
}

static bool pod_terminal(const json_t *pod) {
  const char *phase = json_path_str((json_t *)pod, "status.phase");
  return phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0);
}

static const char *pod_node(const json_t *pod) {
  const char *n = json_path_str((json_t *)pod, "spec.nodeName");
  return n && *n ? n : NULL;
}

static bool pod_deleting(const json_t *pod) {
  return json_path((json_t *)pod, "metadata.deletionTimestamp") != NULL;
}

static void push_job(struct scheduler *s, struct job *j) {
  pthread_mutex_lock(&s->job_mu);
  if (s->jobs_tail)
    s->jobs_tail->next = j;
  else
    s->jobs_head = j;
  s->jobs_tail = j;
  pthread_cond_signal(&s->job_cond);
  pthread_mutex_unlock(&s->job_mu);
}

static void job_free(struct job *j) {
  json_decref(j->pod);
  free(j->node);
  free(j->message);
  for (char **v = j->victims; v && *v; v++)
    free(*v);
  free(j->victims);
  free(j);
}

/* Whether the pod already says it is gated (PodScheduled=False, SchedulingGated). */
static bool pod_gated_condition(json_t *pod) {
  json_t *c;
  size_t i;
  json_array_foreach(json_path(pod, "status.conditions"), i, c) {
    if (streq(json_string_value(json_object_get(c, "type")) ?: "", "PodScheduled") &&
        streq(json_string_value(json_object_get(c, "reason")) ?: "", "SchedulingGated"))
      return true;
  }
  return false;
}

/* ---- informer handlers ---- */

/* Puts an assigned, live pod into the snapshot, or takes a finished one out. mu held. */
static void account_pod(struct scheduler *s, json_t *pod, const char *key) {
  if (pod_terminal(pod)) {
    sched_snapshot_remove_pod(s->snap, key);
    return;
  }
  sched_snapshot_add_pod(s->snap, pod);
  free(hmap_remove(&s->assumed, key));
}

static void pod_changed(struct scheduler *s, json_t *pod) {
  _cleanup_free_ char *key = informer_key(pod);
  if (!key)
    return;
  if (pod_node(pod)) {
    pthread_mutex_lock(&s->mu);
    bool was_terminal_removal = pod_terminal(pod) && sched_snapshot_get_pod(s->snap, key);
    account_pod(s, pod, key);
    pthread_mutex_unlock(&s->mu);
    sched_queue_delete(s->queue, key);
    if (was_terminal_removal)
      sched_queue_move_all(s->queue);
    return;
  }
  if (!pod_is_ours(pod) || pod_deleting(pod) || pod_terminal(pod)) {
    sched_queue_delete(s->queue, key);
    return;
  }
  /* Gated pods wait outside the queue until every scheduling gate is removed. */
  if (json_array_size(json_path(pod, "spec.schedulingGates")) > 0) {
    sched_queue_delete(s->queue, key);
    if (!pod_gated_condition(pod)) {
      struct job *j = xcalloc(1, sizeof(*j));
      j->kind = JOB_GATED;
      j->pod = json_incref(pod);
      push_job(s, j);
    }
    return;
  }
  sched_queue_update(s->queue, pod);
}

static void on_pod_add(void *ud, json_t *pod) { pod_changed(ud, pod); }
static void on_pod_update(void *ud, json_t *old, json_t *pod) {
  (void)old;
  pod_changed(ud, pod);
}
static void on_pod_delete(void *ud, json_t *pod) {
  struct scheduler *s = ud;
  _cleanup_free_ char *key = informer_key(pod);
  if (!key)
    return;
  pthread_mutex_lock(&s->mu);
  bool had = sched_snapshot_remove_pod(s->snap, key) == 0;
  free(hmap_remove(&s->assumed, key));
  pthread_mutex_unlock(&s->mu);
  sched_queue_delete(s->queue, key);
  /* Freed resources may make waiting pods fit. */
  if (had)
    sched_queue_move_all(s->queue);
}

static void on_node_add(void *ud, json_t *node) {
  struct scheduler *s = ud;
  pthread_mutex_lock(&s->mu);
  sched_snapshot_set_node(s->snap, node);
  pthread_mutex_unlock(&s->mu);
  sched_queue_move_all(s->queue);
}
static void on_node_update(void *ud, json_t *old, json_t *node) {
  struct scheduler *s = ud;
  pthread_mutex_lock(&s->mu);
  sched_snapshot_set_node(s->snap, node);
  pthread_mutex_unlock(&s->mu);
  /* Heartbeat-only changes (conditions' times) cannot make a pod fit. */
  if (!json_equal(json_object_get(old, "spec"), json_object_get(node, "spec")) ||
      !json_equal(json_path(old, "metadata.labels"), json_path(node, "metadata.labels")) ||
      !json_equal(json_path(old, "status.allocatable"), json_path(node, "status.allocatable")))
    sched_queue_move_all(s->queue);
}
static void on_node_delete(void *ud, json_t *node) {
  struct scheduler *s = ud;
  const char *name = json_path_str(node, "metadata.name");
  if (!name)
    return;
  pthread_mutex_lock(&s->mu);
  sched_snapshot_remove_node(s->snap, name);
  pthread_mutex_unlock(&s->mu);
}

static void on_other_change(void *ud, json_t *obj) {
  (void)obj;
  sched_queue_move_all(((struct scheduler *)ud)->queue);
}
static void on_other_update(void *ud, json_t *old, json_t *obj) {
  (void)old;
  on_other_change(ud, obj);
}

/* ---- volume look-ups for VolumeBinding ---- */

static const json_t *lookup_pvc(void *ud, const char *ns, const char *name) {
  struct scheduler *s = ud;
  json_t *pvc = informer_get_nn(s->pvcs, ns, name);
  /* The informer cache keeps its own reference for as long as the claim exists, and the
   * filter uses the claim only during this cycle. */
  json_decref(pvc);
  return pvc;
}

static bool class_wffc(void *ud, const char *name) {
  struct scheduler *s = ud;
  _cleanup_json_ json_t *sc = informer_get(s->classes, name);
  const char *mode = json_path_str(sc, "volumeBindingMode");
  return mode && strcmp(mode, "WaitForFirstConsumer") == 0;
}

/* ---- the scheduling cycle ---- */

static void schedule_one(struct scheduler *s, json_t *queued) {
  _cleanup_free_ char *key = informer_key(queued);
  if (!key)
    return;
  /* The queue may hold a stale copy: schedule what the informer has now. */
  _cleanup_json_ json_t *pod = informer_get(s->pods, key);
  if (!pod || pod_node(pod) || pod_deleting(pod) || !pod_is_ours(pod)) {
    sched_queue_done(s->queue, key);
    return;
  }
  struct sched_volume_lookup vol = {lookup_pvc, class_wffc, s};
  struct sched_result res = {0};
  struct sched_preemption pre = {0};
  pthread_mutex_lock(&s->mu);
  if (hmap_contains(&s->assumed, key)) {
    pthread_mutex_unlock(&s->mu);
    sched_queue_done(s->queue, key);
    return;
  }
  struct sched_cycle *cycle = sched_cycle_new(s->snap, pod, &vol);
  int r = sched_find_nodes(s->snap, cycle, &res);
  if (r == 0) {
    /* Assume: the node's resources count the pod from now on, before the API says so. */
    sched_snapshot_assume(s->snap, cycle, res.node_name);
    free(hmap_put(&s->assumed, key, xstrdup(res.node_name)));
  } else if (r == -ENOSPC) {
    sched_preempt(s->snap, cycle, &res, &pre);
  }
  pthread_mutex_unlock(&s->mu);

  struct job *j = xcalloc(1, sizeof(*j));
  j->pod = json_incref(pod);
  if (r == 0) {
    j->kind = JOB_BIND;
    j->node = xstrdup(res.node_name);
  } else if (pre.node_name) {
    j->kind = JOB_PREEMPT;
    j->node = xstrdup(pre.node_name);
    j->victims = TAKE_PTR(pre.victims);
    _cleanup_free_ char *why = sched_format_fit_error(&res.diag, NULL);
    j->message = xstrdup(why);
    sched_queue_requeue(s->queue, key, true);
  } else {
    j->kind = JOB_UNSCHEDULABLE;
    /* kube's ErrNoNodesAvailable: no FitError (and no preemption) without nodes. */
    j->message = r == -ENODEV ? xstrdup("no nodes available to schedule pods")
                              : sched_format_fit_error(&res.diag, pre.message);
    sched_queue_requeue(s->queue, key, true);
  }
  push_job(s, j);
  sched_preemption_clear(&pre);
  sched_result_clear(&res);
  sched_cycle_free(cycle);
}

static void *cycle_main(void *p) {
  struct scheduler *s = p;
  for (;;) {
    json_t *pod = NULL;
    int r = sched_queue_pop(s->queue, -1, &pod, NULL);
    if (r == -ESHUTDOWN)
      return NULL;
    if (r < 0)
      continue;
    schedule_one(s, pod);
    json_decref(pod);
  }
}

/* ---- API writes, on the binder threads ---- */

static long post_json(struct scheduler *s, const char *method, const char *path,
                      const char *content_type, json_t *body) {
  _cleanup_free_ char *enc = json_encode(body);
  _cleanup_rest_response_ struct rest_response resp = {0};
  struct rest_request req = {.method = method, .path = path, .body = enc,
                             .body_len = strlen(enc), .content_type = content_type};
  if (rest_do(s->client, &req, &resp, NULL) < 0)
    return -1;
  return resp.status;
}

static void unassume(struct scheduler *s, const char *key) {
  pthread_mutex_lock(&s->mu);
  if (hmap_contains(&s->assumed, key)) {
    free(hmap_remove(&s->assumed, key));
    sched_snapshot_remove_pod(s->snap, key);
  }
  pthread_mutex_unlock(&s->mu);
}

static void do_bind(struct scheduler *s, struct job *j) {
  const char *ns = json_path_str(j->pod, "metadata.namespace");
  const char *name = json_path_str(j->pod, "metadata.name");
  const char *uid = json_path_str(j->pod, "metadata.uid");
  _cleanup_free_ char *key = informer_key(j->pod);
  _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/pods/%s/binding", ns, name);
  _cleanup_json_ json_t *binding = json_pack(
      "{s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}}", "apiVersion", "v1", "kind",
      "Binding", "metadata", "name", name, "namespace", ns, "uid", uid ? uid : "", "target",
      "apiVersion", "v1", "kind", "Node", "name", j->node);
  long status = post_json(s, "POST", path, NULL, binding);
  if (status == 201 || status == 200) {
    atomic_fetch_add(&s->bound, 1);
    sched_queue_done(s->queue, key);
    event_record(s->events, j->pod, "Pod", "v1", "Normal", "Scheduled",
                 "Successfully assigned %s/%s to %s", ns, name, j->node);
    return;
  }
  unassume(s, key);
  if (status == 404 || status == 409) {
    /* Deleted or already bound by someone else: the informer will tell. */
    sched_queue_done(s->queue, key);
    return;
  }
  fprintf(stderr, "ckube scheduler: binding %s to %s failed (HTTP %ld)\n", key, j->node, status);
  sched_queue_requeue(s->queue, key, false);
  sched_queue_move_all(s->queue);
}

/* PodScheduled=False as kube-scheduler writes it, only when reason or message changed. */
static void set_pod_scheduled_false(struct scheduler *s, json_t *pod, const char *reason,
                                    const char *message, const char *nominated) {
  json_t *conds = json_path(pod, "status.conditions"), *c;
  size_t i;
  json_array_foreach(conds, i, c) {
    const char *type = json_string_value(json_object_get(c, "type"));
    if (type && strcmp(type, "PodScheduled") == 0 &&
        strcmp(json_string_value(json_object_get(c, "status")) ?: "", "False") == 0 &&
        strcmp(json_string_value(json_object_get(c, "reason")) ?: "", reason) == 0 &&
        strcmp(json_string_value(json_object_get(c, "message")) ?: "", message) == 0 &&
        !nominated)
      return;
  }
  const char *ns = json_path_str(pod, "metadata.namespace");
  const char *name = json_path_str(pod, "metadata.name");
  _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/pods/%s/status", ns, name);
  _cleanup_free_ char *now = timeutil_now();
  json_t *status = json_pack("{s:[{s:s, s:s, s:s, s:s, s:n, s:s}]}", "conditions", "type",
                             "PodScheduled", "status", "False", "reason", reason, "message",
                             message, "lastProbeTime", "lastTransitionTime", now);
  if (nominated)
    json_object_set_new(status, "nominatedNodeName", json_string(nominated));
  _cleanup_json_ json_t *patch = json_pack("{s:o}", "status", status);
  post_json(s, "PATCH", path, "application/strategic-merge-patch+json", patch);
}

static void do_preempt(struct scheduler *s, struct job *j) {
  const char *name = json_path_str(j->pod, "metadata.name");
  for (char **v = j->victims; v && *v; v++) {
    _cleanup_free_ char *vns = NULL, *vname = NULL;
    informer_split_key(*v, &vns, &vname);
    _cleanup_json_ json_t *victim = informer_get(s->pods, *v);
    _cleanup_free_ char *path = xasprintf("/api/v1/namespaces/%s/pods/%s", vns, vname);
    _cleanup_rest_response_ struct rest_response resp = {0};
    rest_do(s->client, &(struct rest_request){.method = "DELETE", .path = path}, &resp, NULL);
    if (victim)
      event_record(s->events, victim, "Pod", "v1", "Normal", "Preempted",
                   "Preempted by pod %s on node %s",
                   json_path_str(j->pod, "metadata.uid") ?: name, j->node);
  }
  set_pod_scheduled_false(s, j->pod, "Unschedulable", j->message, j->node);
  event_record(s->events, j->pod, "Pod", "v1", "Warning", "FailedScheduling", "%s",
               j->message);
}

static void *binder_main(void *p) {
  struct scheduler *s = p;
  for (;;) {
    pthread_mutex_lock(&s->job_mu);
    while (!s->jobs_head && !s->stopping)
      pthread_cond_wait(&s->job_cond, &s->job_mu);
    struct job *j = s->jobs_head;
    if (!j) {
      pthread_mutex_unlock(&s->job_mu);
      return NULL;
    }
    s->jobs_head = j->next;
    if (!s->jobs_head)
      s->jobs_tail = NULL;
    pthread_mutex_unlock(&s->job_mu);
    switch (j->kind) {
    case JOB_BIND:
      do_bind(s, j);
      break;
    case JOB_PREEMPT:
      do_preempt(s, j);
      break;
    case JOB_GATED:
      set_pod_scheduled_false(s, j->pod, "SchedulingGated",
                              "Scheduling is blocked due to non-empty scheduling gates", NULL);
      break;
    case JOB_UNSCHEDULABLE:
      set_pod_scheduled_false(s, j->pod, "Unschedulable", j->message, NULL);
      event_record(s->events, j->pod, "Pod", "v1", "Warning", "FailedScheduling", "%s",
                   j->message);
      break;
    }
    job_free(j);
  }
}

/* ---- lifecycle ---- */

int scheduler_start(struct rest_client *client, struct scheduler **ret, char **ret_err) {
  struct scheduler *s = xcalloc(1, sizeof(*s));
  s->client = client;
  s->snap = sched_snapshot_new();
  s->queue = sched_queue_new(NULL, NULL);
  pthread_mutex_init(&s->mu, NULL);
  pthread_mutex_init(&s->job_mu, NULL);
  pthread_cond_init(&s->job_cond, NULL);
  s->events = event_recorder_new(client, SCHEDULER_NAME, NULL);
  s->informers = informer_factory_new(client);
  s->nodes = informer_factory_get(s->informers, "/api/v1/nodes");
  s->pods = informer_factory_get(s->informers, "/api/v1/pods");
  s->pvcs = informer_factory_get(s->informers, "/api/v1/persistentvolumeclaims");
  s->classes = informer_factory_get(s->informers, "/apis/storage.k8s.io/v1/storageclasses");
  informer_add_handler(s->nodes,
                       &(struct informer_handler){on_node_add, on_node_update, on_node_delete, s});
  informer_add_handler(s->pods,
                       &(struct informer_handler){on_pod_add, on_pod_update, on_pod_delete, s});
  informer_add_handler(s->pvcs, &(struct informer_handler){on_other_change, on_other_update,
                                                           NULL, s});
  int r = informer_factory_start(s->informers, 0);
  if (r < 0) {
    if (ret_err)
      *ret_err = xasprintf("scheduler informers: %s", strerror(-r));
    scheduler_stop(s);
    return r;
  }
  for (int i = 0; i < BINDERS; i++) {
    if (pthread_create(&s->binders[i], NULL, binder_main, s) != 0)
      break;
    s->n_binders++;
  }
  if (pthread_create(&s->cycle_thread, NULL, cycle_main, s) == 0)
    s->cycle_started = true;
  if (!s->cycle_started || !s->n_binders) {
    if (ret_err)
      *ret_err = xstrdup("starting scheduler threads failed");
    scheduler_stop(s);
    return -EAGAIN;
  }
  *ret = s;
  return 0;
}

unsigned long scheduler_bound(struct scheduler *s) { return atomic_load(&s->bound); }

void scheduler_stop(struct scheduler *s) {
  if (!s)
    return;
  sched_queue_close(s->queue);
  if (s->cycle_started)
    pthread_join(s->cycle_thread, NULL);
  pthread_mutex_lock(&s->job_mu);
  s->stopping = true;
  pthread_cond_broadcast(&s->job_cond);
  pthread_mutex_unlock(&s->job_mu);
  for (int i = 0; i < s->n_binders; i++)
    pthread_join(s->binders[i], NULL);
  for (struct job *j = s->jobs_head, *n; j; j = n) {
    n = j->next;
    job_free(j);
  }
  /* Informer threads call into the queue and snapshot: stop them first. */
  informer_factory_free(s->informers);
  event_recorder_free(s->events);
  sched_queue_free(s->queue);
  sched_snapshot_free(s->snap);
  hmap_clear(&s->assumed, free);
  pthread_cond_destroy(&s->job_cond);
  pthread_mutex_destroy(&s->job_mu);
  pthread_mutex_destroy(&s->mu);
  free(s);
}
