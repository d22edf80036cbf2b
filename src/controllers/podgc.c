/* podgc — kube's PodGC controller, run every 20 s:
 *   - terminated pods (Succeeded/Failed) beyond --terminated-pod-gc-threshold (12500) are
 *     deleted, oldest first;
 *   - pods bound to a node that does not exist are deleted once the node has stayed absent
 *     for the 40 s quarantine (informer lag and node re-registration must not cost pods);
 *   - pods being deleted that were never scheduled are deleted for good (no kubelet will).
 * Pods that are not terminal yet are first marked Failed with the condition
 * DisruptionTarget (reason DeletionByPodGC), as kube does, then deleted with
 * gracePeriodSeconds 0 and a uid precondition. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controllers/controller.h"
#include "lib/hmap.h"
#include "lib/timeutil.h"

#define PODGC_KEY "podgc"
#define PODGC_PERIOD_MS 20000L
#define PODGC_THRESHOLD 12500
#define PODGC_QUARANTINE_MS 40000L

struct podgc {
  struct informer *pods, *nodes;
  pthread_mutex_t lock;
  struct hmap missing; /* node name → first time seen missing (ms, cast) */
};

static bool is_terminated(const json_t *pod) {
  const char *phase = json_path_str((json_t *)pod, "status.phase");
  return phase && (streq(phase, "Succeeded") || streq(phase, "Failed"));
}

static char *pod_path(const json_t *pod) {
  return xasprintf("/api/v1/namespaces/%s/pods/%s",
                   json_path_str((json_t *)pod, "metadata.namespace") ?: "",
                   json_path_str((json_t *)pod, "metadata.name") ?: "");
}

/* kube's markFailedAndDeletePodWithCondition. */
static int delete_pod(struct controller *c, const json_t *pod, const char *message) {
  _cleanup_free_ char *path = pod_path(pod);
  _cleanup_free_ char *err = NULL;
  int r;
  if (!is_terminated(pod) && message) {
    _cleanup_json_ json_t *conds = json_array();
    size_t i;
    json_t *cond;
    json_array_foreach(json_path((json_t *)pod, "status.conditions"), i, cond) {
      if (!streq_ptr(json_string_value(json_object_get(cond, "type")), "DisruptionTarget"))
        json_array_append(conds, cond);
    }
    _cleanup_free_ char *now = timeutil_now();
    json_array_append_new(conds, json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "DisruptionTarget",
                                           "status", "True", "lastTransitionTime", now, "reason",
                                           "DeletionByPodGC", "message", message));
    _cleanup_json_ json_t *patch =
        json_pack("{s:{s:s, s:O}}", "status", "phase", "Failed", "conditions", conds);
    _cleanup_free_ char *status_path = xasprintf("%s/status", path);
    r = controller_patch(c, status_path, patch, false, NULL, &err);
    if (r == -ENOENT)
      return 0;
    if (r < 0) {
      controller_log(c, "marking pod %s failed: %s", path, err ? err : strerror(-r));
      return r;
    }
  }
  _cleanup_json_ json_t *opts = json_pack("{s:s, s:s, s:i}", "kind", "DeleteOptions", "apiVersion",
                                          "v1", "gracePeriodSeconds", 0);
  const char *uid = json_path_str((json_t *)pod, "metadata.uid");
  if (uid)
    json_object_set_new(opts, "preconditions", json_pack("{s:s}", "uid", uid));
  free(err);
  err = NULL;
  r = controller_delete(c, path, opts, &err);
  /* A conflict means the pod was replaced by a new one of the same name. */
  if (r < 0 && r != -ESTALE && r != -EEXIST) {
    controller_log(c, "deleting pod %s: %s", path, err ? err : strerror(-r));
    return r;
  }
  return 0;
}

static int cmp_created(const void *a, const void *b) {
  const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
  const char *tx = json_path_str((json_t *)x, "metadata.creationTimestamp") ?: "";
  const char *ty = json_path_str((json_t *)y, "metadata.creationTimestamp") ?: "";
  int r = strcmp(tx, ty);
  if (r)
    return r;
  return strcmp(json_path_str((json_t *)x, "metadata.name") ?: "",
                json_path_str((json_t *)y, "metadata.name") ?: "");
}

static int podgc_sync(struct controller *c, const char *key) {
  struct podgc *s = controller_state(c);
  if (!streq(key, PODGC_KEY))
    return 0;
  _cleanup_json_ json_t *pods = informer_list(s->pods, NULL);
  size_t n = json_array_size(pods), n_term = 0;
  _cleanup_free_ json_t **term = xcalloc(n + 1, sizeof(*term));
  long long now = timeutil_now_ms(CLOCK_MONOTONIC);
  int failures = 0;
  struct hmap seen = HMAP_INIT; /* missing nodes seen in this round */
  size_t i;
  json_t *pod;
  json_array_foreach(pods, i, pod) {
    if (is_terminated(pod))
      term[n_term++] = pod;
    const char *node = json_path_str(pod, "spec.nodeName");
    if (!node || !*node) {
      if (json_path_str(pod, "metadata.deletionTimestamp") && delete_pod(c, pod, NULL) < 0)
        failures++;
      continue;
    }
    _cleanup_json_ json_t *n_obj = informer_get(s->nodes, node);
    if (n_obj)
      continue;
    hmap_put(&seen, node, NULL);
    pthread_mutex_lock(&s->lock);
    void *since = hmap_get(&s->missing, node);
    if (!since)
      hmap_put(&s->missing, node, (void *)(uintptr_t)now);
    pthread_mutex_unlock(&s->lock);
    if (since && now - (long long)(uintptr_t)since >= PODGC_QUARANTINE_MS &&
        delete_pod(c, pod, "PodGC: node no longer exists") < 0)
      failures++;
  }
  /* Nodes that came back (or whose pods went) leave the quarantine. */
  pthread_mutex_lock(&s->lock);
  for (;;) {
    const char *name = NULL;
    void *v;
    size_t it = 0;
    bool found = false;
    while (hmap_next(&s->missing, &it, &name, &v)) {
      if (!hmap_contains(&seen, name)) {
        found = true;
        break;
      }
    }
    if (!found)
      break;
    _cleanup_free_ char *copy = xstrdup(name);
    hmap_remove(&s->missing, copy);
  }
  pthread_mutex_unlock(&s->lock);
  hmap_clear(&seen, NULL);

  if (n_term > PODGC_THRESHOLD) {
    qsort(term, n_term, sizeof(*term), cmp_created);
    for (size_t k = 0; k < n_term - PODGC_THRESHOLD; k++)
      if (delete_pod(c, term[k], NULL) < 0)
        failures++;
  }
  controller_enqueue_after(c, PODGC_KEY, PODGC_PERIOD_MS);
  return failures ? -EIO : 0;
}

static void podgc_started(struct controller *c) {
  controller_enqueue(c, PODGC_KEY);
}

static void podgc_teardown(struct controller *c) {
  struct podgc *s = controller_state(c);
  if (!s)
    return;
  hmap_clear(&s->missing, NULL);
  pthread_mutex_destroy(&s->lock);
  free(s);
  controller_set_state(c, NULL);
}

static int podgc_setup(struct controller *c) {
  struct podgc *s = xcalloc(1, sizeof(*s));
  pthread_mutex_init(&s->lock, NULL);
  s->missing = (struct hmap)HMAP_INIT;
  s->pods = controller_informer(c, "/api/v1/pods");
  s->nodes = controller_informer(c, "/api/v1/nodes");
  controller_set_state(c, s);
  return 0;
}

static const struct controller_def podgc_def = {
    .name = "podgc",
    .component = "pod-garbage-collector",
    .workers = 1,
    .setup = podgc_setup,
    .sync = podgc_sync,
    .teardown = podgc_teardown,
    .started = podgc_started,
};
CONTROLLER_REGISTER(podgc_def);
