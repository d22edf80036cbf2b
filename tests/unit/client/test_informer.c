/* The client library against a real ckube API server started in this process on a
 * loopback port with a throw-away data directory: informers, leader election, events. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apiserver/apiserver.h"
#include "client/events.h"
#include "client/informer.h"
#include "client/kubeconfig.h"
#include "client/leaderelect.h"
#include "client/rest.h"

static struct apiserver *srv;
static struct rest_client *client;
static char dir[] = "/tmp/ckube-informer-XXXXXX";

static int setup(void **state) {
  (void)state;
  if (!mkdtemp(dir))
    return -1;
  _cleanup_free_ char *kc = xasprintf("%s/kubeconfig.yaml", dir);
  struct apiserver_config cfg = {.data_dir = dir, .bind_address = "127.0.0.1", .port = 0,
                                 .datastore_endpoint = "", .kubeconfig_path = kc};
  _cleanup_free_ char *err = NULL;
  if (apiserver_start(&cfg, &srv, &err) < 0) {
    fprintf(stderr, "apiserver_start: %s\n", err);
    return -1;
  }
  _cleanup_kubeconfig_creds_ struct kubeconfig_creds *creds = NULL;
  if (kubeconfig_load(kc, NULL, &creds, &err) < 0 ||
      rest_client_new_from_creds(creds, &client, &err) < 0) {
    fprintf(stderr, "client: %s\n", err);
    return -1;
  }
  return 0;
}

static int teardown(void **state) {
  (void)state;
  rest_client_free(client);
  apiserver_stop(srv);
  _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

static long do_json(const char *method, const char *path, const char *body_fmt, ...) {
  _cleanup_json_ json_t *body = NULL;
  if (body_fmt) {
    va_list ap;
    va_start(ap, body_fmt);
    _cleanup_free_ char *text = xvasprintf(body_fmt, ap);
    va_end(ap);
    assert_int_equal(json_decode(text, strlen(text), &body, NULL), 0);
  }
  long status = 0;
  assert_int_equal(rest_do_json(client, method, path, NULL, body, &status, NULL, NULL), 0);
  return status;
}

struct seen {
  pthread_mutex_t mu;
  int adds, updates, deletes;
  char last[128];
};

static void on_add(void *ud, json_t *obj) {
  struct seen *s = ud;
  pthread_mutex_lock(&s->mu);
  s->adds++;
  snprintf(s->last, sizeof(s->last), "add %s", json_path_str(obj, "metadata.name"));
  pthread_mutex_unlock(&s->mu);
}
static void on_update(void *ud, json_t *old, json_t *obj) {
  struct seen *s = ud;
  pthread_mutex_lock(&s->mu);
  s->updates++;
  snprintf(s->last, sizeof(s->last), "update %s %s->%s", json_path_str(obj, "metadata.name"),
           json_path_str(old, "data.v") ?: "", json_path_str(obj, "data.v") ?: "");
  pthread_mutex_unlock(&s->mu);
}
static void on_delete(void *ud, json_t *obj) {
  struct seen *s = ud;
  pthread_mutex_lock(&s->mu);
  s->deletes++;
  snprintf(s->last, sizeof(s->last), "delete %s", json_path_str(obj, "metadata.name"));
  pthread_mutex_unlock(&s->mu);
}

/* Polls for up to 10 s until the handler counts reach the expected ones. */
static void wait_counts(struct seen *s, int adds, int updates, int deletes) {
  for (int i = 0; i < 1000; i++) {
    pthread_mutex_lock(&s->mu);
    bool ok = s->adds == adds && s->updates == updates && s->deletes == deletes;
    pthread_mutex_unlock(&s->mu);
    if (ok)
      return;
    usleep(10000);
  }
  fail_msg("handler counts %d/%d/%d, want %d/%d/%d", s->adds, s->updates, s->deletes, adds,
           updates, deletes);
}

static size_t index_by_app(const json_t *obj, const char **ret, size_t max) {
  const char *app = json_path_str((json_t *)obj, "metadata.labels.app");
  if (!app || !max)
    return 0;
  ret[0] = app;
  return 1;
}

static void test_list_watch_cache(void **state) {
  (void)state;
  assert_int_equal(do_json("POST", "/api/v1/namespaces", "{\"metadata\":{\"name\":\"inf\"}}"),
                   201);
  for (int i = 0; i < 3; i++)
    assert_int_equal(do_json("POST", "/api/v1/namespaces/inf/configmaps",
                             "{\"metadata\":{\"name\":\"cm%d\",\"labels\":{\"app\":\"a%d\"}},"
                             "\"data\":{\"v\":\"1\"}}",
                             i, i % 2),
                     201);
  struct seen s = {.mu = PTHREAD_MUTEX_INITIALIZER};
  /* A page size of 2 makes the first list take two pages. */
  struct informer *inf = informer_new(
      client, &(struct informer_config){.path = "/api/v1/configmaps", .page_size = 2});
  informer_add_handler(inf, &(struct informer_handler){on_add, on_update, on_delete, &s});
  informer_add_index(inf, "app", index_by_app);
  assert_int_equal(informer_start(inf), 0);
  assert_int_equal(informer_wait_synced(inf, 10000), 0);
  /* Each namespace also holds kube-root-ca.crt. */
  _cleanup_json_ json_t *in_ns = informer_list(inf, "inf");
  assert_int_equal(json_array_size(in_ns), 4);
  _cleanup_json_ json_t *a1 = informer_by_index(inf, "app", "a1");
  assert_int_equal(json_array_size(a1), 1);
  assert_string_equal(json_path_str(json_array_get(a1, 0), "metadata.name"), "cm1");
  int base = s.adds;
  assert_true(base >= 4);

  assert_int_equal(do_json("POST", "/api/v1/namespaces/inf/configmaps",
                           "{\"metadata\":{\"name\":\"cm9\",\"labels\":{\"app\":\"a1\"}}}"),
                   201);
  wait_counts(&s, base + 1, 0, 0);
  assert_int_equal(do_json("PUT", "/api/v1/namespaces/inf/configmaps/cm0",
                           "{\"metadata\":{\"name\":\"cm0\",\"labels\":{\"app\":\"a1\"}},"
                           "\"data\":{\"v\":\"2\"}}"),
                   200);
  wait_counts(&s, base + 1, 1, 0);
  assert_string_equal(s.last, "update cm0 1->2");
  _cleanup_json_ json_t *a1b = informer_by_index(inf, "app", "a1");
  assert_int_equal(json_array_size(a1b), 3);
  assert_int_equal(do_json("DELETE", "/api/v1/namespaces/inf/configmaps/cm2", NULL), 200);
  wait_counts(&s, base + 1, 1, 1);
  assert_string_equal(s.last, "delete cm2");
  json_t *got = informer_get(inf, "inf/cm0");
  assert_non_null(got);
  assert_string_equal(json_path_str(got, "data.v"), "2");
  json_decref(got);
  assert_null(informer_get_nn(inf, "inf", "cm2"));
  _cleanup_free_ char *rv = informer_resource_version(inf);
  assert_true(strlen(rv) > 0);
  informer_free(inf);
}

static void test_selector_informer(void **state) {
  (void)state;
  struct seen s = {.mu = PTHREAD_MUTEX_INITIALIZER};
  struct informer *inf = informer_new(
      client, &(struct informer_config){.path = "/api/v1/namespaces/inf/configmaps",
                                        .label_selector = "app=a1"});
  informer_add_handler(inf, &(struct informer_handler){on_add, on_update, on_delete, &s});
  assert_int_equal(informer_start(inf), 0);
  assert_int_equal(informer_wait_synced(inf, 10000), 0);
  assert_int_equal(informer_len(inf), 3); /* cm1, cm0 (relabelled) and cm9 */
  informer_stop(inf);
  informer_stop(inf);
  informer_free(inf);
}

struct flag {
  pthread_mutex_t mu;
  int started, stopped;
};
static void le_started(void *ud) {
  struct flag *f = ud;
  pthread_mutex_lock(&f->mu);
  f->started++;
  pthread_mutex_unlock(&f->mu);
}
static void le_stopped(void *ud) {
  struct flag *f = ud;
  pthread_mutex_lock(&f->mu);
  f->stopped++;
  pthread_mutex_unlock(&f->mu);
}

static bool wait_leader(struct leader_elector *e) {
  for (int i = 0; i < 1000; i++) {
    if (leader_elector_is_leader(e))
      return true;
    usleep(10000);
  }
  return false;
}

static void test_leader_election(void **state) {
  (void)state;
  struct flag fa = {.mu = PTHREAD_MUTEX_INITIALIZER}, fb = {.mu = PTHREAD_MUTEX_INITIALIZER};
  struct leader_elector_config a = {.name = "test-lock", .identity = "a", .lease_ms = 3000,
                                    .renew_deadline_ms = 2000, .retry_ms = 100,
                                    .on_started = le_started, .on_stopped = le_stopped,
                                    .userdata = &fa};
  struct leader_elector_config b = a;
  b.identity = "b";
  b.userdata = &fb;
  struct leader_elector *ea = NULL, *eb = NULL;
  assert_int_equal(leader_elector_start(client, &a, &ea), 0);
  assert_true(wait_leader(ea));
  assert_int_equal(leader_elector_start(client, &b, &eb), 0);
  usleep(500000);
  /* b sees a renewing: it must not take the lease. */
  assert_false(leader_elector_is_leader(eb));
  leader_elector_free(ea); /* releases the Lease */
  assert_int_equal(fa.started, 1);
  assert_int_equal(fa.stopped, 1);
  assert_true(wait_leader(eb));
  assert_int_equal(fb.started, 1);
  _cleanup_json_ json_t *lease = NULL;
  long status;
  assert_int_equal(rest_do_json(client, "GET",
                                "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/"
                                "test-lock",
                                NULL, NULL, &status, &lease, NULL),
                   0);
  assert_string_equal(json_path_str(lease, "spec.holderIdentity"), "b");
  assert_int_equal(json_integer_value(json_path(lease, "spec.leaseTransitions")), 1);
  leader_elector_free(eb);
}

static void test_events_aggregate(void **state) {
  (void)state;
  struct event_recorder *r = event_recorder_new(client, "test-controller", NULL);
  _cleanup_json_ json_t *obj = json_pack("{s:{s:s, s:s, s:s}}", "metadata", "name", "cm0",
                                         "namespace", "inf", "uid", "u-1");
  event_record(r, obj, "ConfigMap", "v1", "Normal", "Tested", "tested %s", "cm0");
  event_record(r, obj, "ConfigMap", "v1", "Normal", "Tested", "tested %s", "cm0");
  event_record(r, obj, "ConfigMap", "v1", "Warning", "Other", "other");
  for (int i = 0; i < 1000 && event_recorder_written(r) < 3; i++)
    usleep(10000);
  assert_int_equal(event_recorder_written(r), 3);
  event_recorder_free(r);
  _cleanup_json_ json_t *list = NULL;
  long status;
  assert_int_equal(rest_do_json(client, "GET", "/api/v1/namespaces/inf/events", NULL, NULL,
                                &status, &list, NULL),
                   0);
  json_t *items = json_object_get(list, "items"), *ev;
  assert_int_equal(json_array_size(items), 2);
  size_t i;
  json_array_foreach(items, i, ev) {
    const char *reason = json_path_str(ev, "reason");
    if (strcmp(reason, "Tested") == 0) {
      assert_int_equal(json_integer_value(json_path(ev, "count")), 2);
      assert_string_equal(json_path_str(ev, "message"), "tested cm0");
      assert_string_equal(json_path_str(ev, "involvedObject.kind"), "ConfigMap");
      assert_string_equal(json_path_str(ev, "source.component"), "test-controller");
    } else {
      assert_string_equal(json_path_str(ev, "type"), "Warning");
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_list_watch_cache),
      cmocka_unit_test(test_selector_informer),
      cmocka_unit_test(test_leader_election),
      cmocka_unit_test(test_events_aggregate),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
