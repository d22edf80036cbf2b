#include "client/leaderelect.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/timeutil.h"

struct leader_elector {
  struct rest_client *client;
  struct leader_elector_config cfg;
  char *ns, *name, *identity, *path, *collection;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cond;
  bool stop;
  bool leader;
  /* What we last saw in the Lease and when (our monotonic clock): another holder's lease
   * expires lease_ms after we last saw it change, whatever its timestamps say, so clock
   * skew between machines does not matter. */
  char *observed_record;
  long long observed_at;
  long long last_renew; /* when we last renewed successfully, as leader */
};

static char *now_micro(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return timeutil_format_micro(&ts);
}

/* Writes the Lease with us as holder. -EEXIST/-ESTALE when another write won. */
static int write_lease(struct leader_elector *e, json_t *lease, bool create) {
  _cleanup_free_ char *body = json_encode(lease);
  _cleanup_rest_response_ struct rest_response resp = {0};
  struct rest_request req = {.method = create ? "POST" : "PUT",
                             .path = create ? e->collection : e->path, .body = body,
                             .body_len = strlen(body), .timeout_ms = e->cfg.retry_ms};
  int r = rest_do(e->client, &req, &resp, NULL);
  if (r < 0)
    return r;
  if (resp.status == 409)
    return create ? -EEXIST : -ESTALE;
  return resp.status / 100 == 2 ? 0 : -EIO;
}

static int try_acquire_or_renew(struct leader_elector *e) {
  _cleanup_rest_response_ struct rest_response resp = {0};
  struct rest_request req = {.path = e->path, .timeout_ms = e->cfg.retry_ms};
  int r = rest_do(e->client, &req, &resp, NULL);
  if (r < 0)
    return r;
  _cleanup_free_ char *now = now_micro();
  long dur_s = (e->cfg.lease_ms + 999) / 1000;
  if (resp.status == 404) {
    _cleanup_json_ json_t *lease = json_pack(
        "{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:I, s:s, s:s, s:i}}", "apiVersion",
        "coordination.k8s.io/v1", "kind", "Lease", "metadata", "name", e->name, "namespace",
        e->ns, "spec", "holderIdentity", e->identity, "leaseDurationSeconds", (json_int_t)dur_s,
        "acquireTime", now, "renewTime", now, "leaseTransitions", 0);
    return write_lease(e, lease, true);
  }
  if (resp.status != 200)
    return -EIO;
  _cleanup_json_ json_t *lease = NULL;
  if (json_decode(resp.body, resp.body_len, &lease, NULL) < 0)
    return -EIO;
  json_t *spec = json_object_ensure(lease, "spec");
  const char *holder = json_string_value(json_object_get(spec, "holderIdentity"));
  const char *renew = json_string_value(json_object_get(spec, "renewTime"));
  _cleanup_free_ char *record = xasprintf("%s|%s", holder ? holder : "", renew ? renew : "");
  long long now_ms = timeutil_now_ms(CLOCK_MONOTONIC);
  if (!e->observed_record || strcmp(record, e->observed_record) != 0) {
    free(e->observed_record);
    e->observed_record = xstrdup(record);
    e->observed_at = now_ms;
  }
  bool ours = holder && strcmp(holder, e->identity) == 0;
  bool free_lease = !holder || !*holder;
  json_int_t their_dur = json_integer_value(json_object_get(spec, "leaseDurationSeconds"));
  long long their_ms = their_dur > 0 ? their_dur * 1000 : e->cfg.lease_ms;
  if (!ours && !free_lease && now_ms < e->observed_at + their_ms)
    return -EBUSY;
  if (!ours) {
    json_int_t transitions = json_integer_value(json_object_get(spec, "leaseTransitions"));
    json_object_set_new(spec, "leaseTransitions", json_integer(transitions + 1));
    json_object_set_new(spec, "acquireTime", json_string(now));
  }
  json_object_set_new(spec, "holderIdentity", json_string(e->identity));
  json_object_set_new(spec, "leaseDurationSeconds", json_integer(dur_s));
  json_object_set_new(spec, "renewTime", json_string(now));
  return write_lease(e, lease, false);
}

static void release(struct leader_elector *e) {
  _cleanup_rest_response_ struct rest_response resp = {0};
  if (rest_do(e->client, &(struct rest_request){.path = e->path, .timeout_ms = 2000}, &resp,
              NULL) < 0 ||
      resp.status != 200)
    return;
  _cleanup_json_ json_t *lease = NULL;
  if (json_decode(resp.body, resp.body_len, &lease, NULL) < 0)
    return;
  json_t *spec = json_object_ensure(lease, "spec");
  if (!json_path_str(lease, "spec.holderIdentity") ||
      strcmp(json_path_str(lease, "spec.holderIdentity"), e->identity) != 0)
    return;
  /* As client-go's ReleaseOnCancel: an empty holder with a 1 s lease lets the next
   * candidate take over on its next try. */
  json_object_set_new(spec, "holderIdentity", json_string(""));
  json_object_set_new(spec, "leaseDurationSeconds", json_integer(1));
  write_lease(e, lease, false);
}

static void set_leader(struct leader_elector *e, bool leader) {
  pthread_mutex_lock(&e->mu);
  bool was = e->leader;
  e->leader = leader;
  pthread_mutex_unlock(&e->mu);
  if (leader && !was && e->cfg.on_started)
    e->cfg.on_started(e->cfg.userdata);
  else if (!leader && was && e->cfg.on_stopped)
    e->cfg.on_stopped(e->cfg.userdata);
}

/* Sleeps up to ms; false once stopping. */
static bool wait_ms(struct leader_elector *e, long ms) {
  struct timespec ts = timeutil_deadline(CLOCK_REALTIME, ms);
  pthread_mutex_lock(&e->mu);
  while (!e->stop)
    if (pthread_cond_timedwait(&e->cond, &e->mu, &ts) == ETIMEDOUT)
      break;
  bool go_on = !e->stop;
  pthread_mutex_unlock(&e->mu);
  return go_on;
}

static void *elector_main(void *p) {
  struct leader_elector *e = p;
  do {
    int r = try_acquire_or_renew(e);
    long long now = timeutil_now_ms(CLOCK_MONOTONIC);
    if (r == 0) {
      e->last_renew = now;
      set_leader(e, true);
    } else if (leader_elector_is_leader(e) && now - e->last_renew >= e->cfg.renew_deadline_ms) {
      set_leader(e, false);
    }
  } while (wait_ms(e, e->cfg.retry_ms));
  if (leader_elector_is_leader(e)) {
    set_leader(e, false);
    release(e);
  }
  return NULL;
}

int leader_elector_start(struct rest_client *client, const struct leader_elector_config *cfg,
                         struct leader_elector **ret) {
  if (!cfg->name || !cfg->identity)
    return -EINVAL;
  struct leader_elector *e = xcalloc(1, sizeof(*e));
  e->client = client;
  e->cfg = *cfg;
  if (e->cfg.lease_ms <= 0)
    e->cfg.lease_ms = 15000;
  if (e->cfg.renew_deadline_ms <= 0)
    e->cfg.renew_deadline_ms = 10000;
  if (e->cfg.retry_ms <= 0)
    e->cfg.retry_ms = 2000;
  e->ns = xstrdup(cfg->ns ? cfg->ns : "kube-system");
  e->name = xstrdup(cfg->name);
  e->identity = xstrdup(cfg->identity);
  e->collection = xasprintf("/apis/coordination.k8s.io/v1/namespaces/%s/leases", e->ns);
  e->path = xasprintf("%s/%s", e->collection, e->name);
  pthread_mutex_init(&e->mu, NULL);
  pthread_cond_init(&e->cond, NULL);
  int r = pthread_create(&e->thread, NULL, elector_main, e);
  if (r) {
    e->stop = true;
    leader_elector_free(e);
    return -r;
  }
  *ret = e;
  return 0;
}

bool leader_elector_is_leader(struct leader_elector *e) {
  pthread_mutex_lock(&e->mu);
  bool l = e->leader;
  pthread_mutex_unlock(&e->mu);
  return l;
}

void leader_elector_free(struct leader_elector *e) {
  if (!e)
    return;
  pthread_mutex_lock(&e->mu);
  bool running = !e->stop;
  e->stop = true;
  pthread_cond_broadcast(&e->cond);
  pthread_mutex_unlock(&e->mu);
  if (running)
    pthread_join(e->thread, NULL);
  pthread_cond_destroy(&e->cond);
  pthread_mutex_destroy(&e->mu);
  free(e->observed_record);
  free(e->ns);
  free(e->name);
  free(e->identity);
  free(e->path);
  free(e->collection);
  free(e);
}
