/* ttlafterfinished.c — the TTL-after-finished controller: deletes a finished Job (with
 * its pods, Foreground propagation) spec.ttlSecondsAfterFinished seconds after its
 * Complete or Failed condition, as kube's TTLAfterFinishedController does. */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "controllers/controller.h"
#include "controllers/job.h"
#include "lib/json.h"
#include "lib/timeutil.h"

#define JOBS_PATH "/apis/batch/v1/jobs"

static bool ttl_needs_cleanup(const json_t *job) {
  return json_is_integer(json_path((json_t *)job, "spec.ttlSecondsAfterFinished")) &&
         job_finished(job);
}

static void ttl_on_job(void *ud, json_t *job) {
  if (!json_path((json_t *)job, "metadata.deletionTimestamp") && ttl_needs_cleanup(job))
    controller_enqueue_obj(ud, job);
}

static void ttl_on_update(void *ud, json_t *old, json_t *job) {
  (void)old;
  ttl_on_job(ud, job);
}

/* Milliseconds until the Job expires (<= 0: expired); INT64_MAX when it never does. */
static int64_t ttl_left(const json_t *job) {
  if (!ttl_needs_cleanup(job))
    return INT64_MAX;
  int64_t fin = job_finish_ms(job);
  if (fin < 0)
    return INT64_MAX;
  return fin + json_integer_value(json_path((json_t *)job, "spec.ttlSecondsAfterFinished")) * 1000 -
         timeutil_now_ms(CLOCK_REALTIME);
}

static int ttl_sync(struct controller *c, const char *key) {
  struct informer *jobs = controller_state(c);
  _cleanup_json_ json_t *job = informer_get(jobs, key);
  if (!job || json_path((json_t *)job, "metadata.deletionTimestamp"))
    return 0;
  int64_t left = ttl_left(job);
  if (left == INT64_MAX)
    return 0;
  if (left > 0) {
    controller_enqueue_after(c, key, (long)left);
    return 0;
  }
  /* The cache may be stale (the TTL changed, the Job was recreated): check the live
   * object before deleting, as kube does. */
  _cleanup_free_ char *coll = controller_path("/apis/batch/v1", json_path_str(job, "metadata.namespace"), "jobs");
  _cleanup_free_ char *path = xasprintf("%s/%s", coll, json_path_str(job, "metadata.name"));
  long status = 0;
  _cleanup_json_ json_t *fresh = NULL;
  _cleanup_free_ char *err = NULL;
  int r = rest_do_json(controller_client(c), "GET", path, NULL, NULL, &status, &fresh, &err);
  if (r < 0)
    return r;
  if (status == 404)
    return 0;
  if (status != 200 || !json_is_object(fresh))
    return -EIO;
  if (json_path(fresh, "metadata.deletionTimestamp"))
    return 0;
  left = ttl_left(fresh);
  if (left == INT64_MAX)
    return 0;
  if (left > 0) {
    controller_enqueue_after(c, key, (long)left);
    return 0;
  }
  const char *uid = json_path_str(fresh, "metadata.uid");
  _cleanup_json_ json_t *opts =
      json_pack("{s:s, s:s, s:s, s:{s:s}}", "kind", "DeleteOptions", "apiVersion", "v1",
                "propagationPolicy", "Foreground", "preconditions", "uid", uid ? uid : "");
  free(err);
  err = NULL;
  r = controller_delete(c, path, opts, &err);
  if (r == -ESTALE)
    return 0; /* another Job of that name now: its own events bring it here */
  return r;
}

static int ttl_setup(struct controller *c) {
  struct informer *jobs = controller_informer(c, JOBS_PATH);
  if (!jobs)
    return -ENOMEM;
  controller_set_state(c, jobs);
  informer_add_handler(jobs, &(struct informer_handler){
                                 .on_add = ttl_on_job, .on_update = ttl_on_update, .userdata = c});
  return 0;
}

static const struct controller_def ttl_controller = {
    .name = "ttl-after-finished",
    .component = "ttlafterfinished-controller",
    .workers = 2,
    .setup = ttl_setup,
    .sync = ttl_sync,
};
CONTROLLER_REGISTER(ttl_controller);
