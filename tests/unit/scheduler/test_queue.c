#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>

#include "lib/json.h"
#include "scheduler/queue.h"

static int64_t fake_now;
static int64_t fake_clock(void *ud) {
  return fake_now;
}

static json_t *pod(const char *name, int prio) {
  return json_pack("{s:{s:s,s:s},s:{s:i}}", "metadata", "name", name, "namespace", "ns", "spec",
                   "priority", prio);
}

static void add(struct sched_queue *q, const char *name, int prio) {
  json_t *p = pod(name, prio);
  assert_int_equal(sched_queue_add(q, p), 0);
  json_decref(p);
}

/* Pops without waiting; returns the pod name (static buffer) or NULL. */
static const char *pop_name(struct sched_queue *q) {
  static char buf[64];
  json_t *p = NULL;
  int r = sched_queue_pop(q, 0, &p, NULL);
  if (r == -ETIMEDOUT)
    return NULL;
  assert_int_equal(r, 0);
  snprintf(buf, sizeof(buf), "%s",
           json_string_value(json_object_get(json_object_get(p, "metadata"), "name")));
  json_decref(p);
  return buf;
}

static void test_order(void **state) {
  fake_now = 1000;
  struct sched_queue *q = sched_queue_new(fake_clock, NULL);
  add(q, "low", 0);
  fake_now++;
  add(q, "high", 100);
  fake_now++;
  add(q, "low2", 0);
  fake_now++;
  add(q, "mid", 50);
  assert_string_equal(pop_name(q), "high");
  assert_string_equal(pop_name(q), "mid");
  assert_string_equal(pop_name(q), "low");
  assert_string_equal(pop_name(q), "low2");
  assert_null(pop_name(q));
  size_t a, b, u, f;
  sched_queue_stats(q, &a, &b, &u, &f);
  assert_int_equal(a + b + u, 0);
  assert_int_equal(f, 4);
  assert_int_equal(sched_queue_done(q, "ns/high"), 0);
  assert_int_equal(sched_queue_done(q, "ns/high"), -ENOENT);
  sched_queue_free(q);
}

static void test_backoff(void **state) {
  assert_int_equal(sched_queue_backoff_ms(1), 1000);
  assert_int_equal(sched_queue_backoff_ms(2), 2000);
  assert_int_equal(sched_queue_backoff_ms(4), 8000);
  assert_int_equal(sched_queue_backoff_ms(5), 10000);
  assert_int_equal(sched_queue_backoff_ms(50), 10000);

  fake_now = 0;
  struct sched_queue *q = sched_queue_new(fake_clock, NULL);
  add(q, "p", 0);
  assert_string_equal(pop_name(q), "p");
  /* An error requeues into backoffQ: 1 s after the first attempt. */
  assert_int_equal(sched_queue_requeue(q, "ns/p", false), 0);
  assert_null(pop_name(q));
  fake_now = 999;
  assert_null(pop_name(q));
  fake_now = 1000;
  assert_string_equal(pop_name(q), "p");
  /* Second failure: 2 s. */
  assert_int_equal(sched_queue_requeue(q, "ns/p", false), 0);
  fake_now = 2999;
  assert_null(pop_name(q));
  fake_now = 3000;
  assert_string_equal(pop_name(q), "p");
  assert_int_equal(sched_queue_requeue(q, "ns/nope", false), -ENOENT);
  sched_queue_free(q);
}

static void test_unschedulable(void **state) {
  fake_now = 0;
  struct sched_queue *q = sched_queue_new(fake_clock, NULL);
  add(q, "p", 0);
  add(q, "r", 0);
  assert_string_equal(pop_name(q), "p");
  assert_int_equal(sched_queue_requeue(q, "ns/p", true), 0);
  size_t u;
  sched_queue_stats(q, NULL, NULL, &u, NULL);
  assert_int_equal(u, 1);
  assert_string_equal(pop_name(q), "r");
  fake_now = 60000;
  assert_null(pop_name(q));
  /* A cluster event moves it; back-off is long over, so straight to activeQ. */
  sched_queue_move_all(q);
  assert_string_equal(pop_name(q), "p");
  assert_int_equal(sched_queue_requeue(q, "ns/p", true), 0);
  /* Moved right after failing: still backing off (2 s after its second attempt). */
  fake_now += 10;
  sched_queue_move_all(q);
  assert_null(pop_name(q));
  fake_now += 2000;
  assert_string_equal(pop_name(q), "p");
  /* Left alone, it comes back after 5 minutes. */
  assert_int_equal(sched_queue_requeue(q, "ns/p", true), 0);
  fake_now += SCHED_QUEUE_UNSCHEDULABLE_TIMEOUT_MS - 1;
  assert_null(pop_name(q));
  fake_now += 1;
  assert_string_equal(pop_name(q), "p");
  sched_queue_free(q);
}

static void test_move_during_flight(void **state) {
  /* A move request while the pod was being scheduled sends it to backoffQ, not to
   * unschedulableQ, so the event is not lost. */
  fake_now = 0;
  struct sched_queue *q = sched_queue_new(fake_clock, NULL);
  add(q, "p", 0);
  assert_string_equal(pop_name(q), "p");
  sched_queue_move_all(q);
  assert_int_equal(sched_queue_requeue(q, "ns/p", true), 0);
  size_t b, u;
  sched_queue_stats(q, NULL, &b, &u, NULL);
  assert_int_equal(b, 1);
  assert_int_equal(u, 0);
  fake_now = 1000;
  assert_string_equal(pop_name(q), "p");
  sched_queue_free(q);
}

static void test_update_delete(void **state) {
  fake_now = 0;
  struct sched_queue *q = sched_queue_new(fake_clock, NULL);
  add(q, "a", 0);
  add(q, "b", 0);
  /* Raising b's priority reorders activeQ. */
  add(q, "b", 10);
  json_t *p = NULL;
  assert_int_equal(sched_queue_pop(q, 0, &p, NULL), 0);
  assert_string_equal(json_string_value(json_object_get(json_object_get(p, "metadata"), "name")),
                      "b");
  assert_int_equal(json_integer_value(json_object_get(json_object_get(p, "spec"), "priority")), 10);
  json_decref(p);
  /* Update of an unschedulable pod makes it active again. */
  assert_int_equal(sched_queue_requeue(q, "ns/b", true), 0);
  fake_now = 5000;
  /* A status-only change leaves it where it is. */
  json_t *st = pod("b", 10);
  json_object_set_new(st, "status", json_pack("{s:s}", "phase", "Pending"));
  json_object_set_new(json_object_get(st, "metadata"), "resourceVersion", json_string("9"));
  assert_int_equal(sched_queue_update(q, st), 0);
  json_decref(st);
  size_t un;
  sched_queue_stats(q, NULL, NULL, &un, NULL);
  assert_int_equal(un, 1);
  json_t *b2 = pod("b", 20);
  assert_int_equal(sched_queue_update(q, b2), 0);
  json_decref(b2);
  assert_string_equal(pop_name(q), "b");
  /* Deleting works wherever the pod is, in flight included. */
  assert_int_equal(sched_queue_delete(q, "ns/b"), 0);
  assert_int_equal(sched_queue_requeue(q, "ns/b", true), -ENOENT);
  assert_int_equal(sched_queue_delete(q, "ns/a"), 0);
  assert_int_equal(sched_queue_delete(q, "ns/a"), -ENOENT);
  assert_null(pop_name(q));
  json_t *bad = json_pack("{s:{}}", "metadata");
  assert_int_equal(sched_queue_add(q, bad), -EINVAL);
  json_decref(bad);
  size_t a, b, u, f;
  sched_queue_stats(q, &a, &b, &u, &f);
  assert_int_equal(a + b + u + f, 0);
  sched_queue_free(q);
}

struct popper {
  struct sched_queue *q;
  int rc;
  json_t *pod;
};

static void *pop_thread(void *arg) {
  struct popper *p = arg;
  p->rc = sched_queue_pop(p->q, -1, &p->pod, NULL);
  return NULL;
}

static void test_blocking(void **state) {
  struct sched_queue *q = sched_queue_new(NULL, NULL);
  struct popper p = {q, 1, NULL};
  pthread_t t;
  pthread_create(&t, NULL, pop_thread, &p);
  usleep(20000);
  add(q, "x", 0);
  pthread_join(t, NULL);
  assert_int_equal(p.rc, 0);
  json_decref(p.pod);
  /* A timed pop gives up; close wakes a blocked pop with -ESHUTDOWN. */
  json_t *none = NULL;
  assert_int_equal(sched_queue_pop(q, 30, &none, NULL), -ETIMEDOUT);
  p = (struct popper){q, 1, NULL};
  pthread_create(&t, NULL, pop_thread, &p);
  usleep(20000);
  sched_queue_close(q);
  pthread_join(t, NULL);
  assert_int_equal(p.rc, -ESHUTDOWN);
  sched_queue_free(q);
}

static void test_real_backoff_wakes(void **state) {
  /* A blocked pop wakes by itself when a back-off ends. */
  struct sched_queue *q = sched_queue_new(NULL, NULL);
  add(q, "x", 0);
  json_t *p = NULL;
  assert_int_equal(sched_queue_pop(q, 0, &p, NULL), 0);
  json_decref(p);
  assert_int_equal(sched_queue_requeue(q, "ns/x", false), 0);
  assert_int_equal(sched_queue_pop(q, 3000, &p, NULL), 0);
  json_decref(p);
  sched_queue_free(q);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_order),
      cmocka_unit_test(test_backoff),
      cmocka_unit_test(test_unschedulable),
      cmocka_unit_test(test_move_during_flight),
      cmocka_unit_test(test_update_delete),
      cmocka_unit_test(test_blocking),
      cmocka_unit_test(test_real_backoff_wakes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
