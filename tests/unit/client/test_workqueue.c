#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/workqueue.h"

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *get(struct workqueue *q) {
  char *k = NULL;
  assert_int_equal(workqueue_get(q, &k), 0);
  return k;
}

static void test_dedup_and_order(void **state) {
  (void)state;
  struct workqueue *q = workqueue_new(0, 0);
  workqueue_add(q, "a");
  workqueue_add(q, "b");
  workqueue_add(q, "a");
  assert_int_equal(workqueue_len(q), 2);
  char *k = get(q);
  assert_string_equal(k, "a");
  /* Added while processing: not handed out again until done. */
  workqueue_add(q, "a");
  char *k2 = get(q);
  assert_string_equal(k2, "b");
  assert_int_equal(workqueue_len(q), 0);
  workqueue_done(q, "a");
  assert_int_equal(workqueue_len(q), 1);
  char *k3 = get(q);
  assert_string_equal(k3, "a");
  workqueue_done(q, "a");
  workqueue_done(q, "b");
  assert_int_equal(workqueue_len(q), 0);
  free(k);
  free(k2);
  free(k3);
  workqueue_shutdown(q);
  workqueue_free(q);
}

static void test_rate_limited_backoff(void **state) {
  (void)state;
  struct workqueue *q = workqueue_new(20, 100);
  for (unsigned i = 0; i < 4; i++) {
    long long t0 = now_ms();
    workqueue_add_rate_limited(q, "k");
    char *k = get(q);
    long long waited = now_ms() - t0;
    long expect = 20L << i;
    if (expect > 100)
      expect = 100;
    /* Never early; late is allowed (a loaded machine). */
    assert_true(waited >= expect - 2);
    workqueue_done(q, k);
    free(k);
  }
  assert_int_equal(workqueue_requeues(q, "k"), 4);
  workqueue_forget(q, "k");
  assert_int_equal(workqueue_requeues(q, "k"), 0);
  workqueue_shutdown(q);
  workqueue_free(q);
}

static void test_add_after_earliest_wins(void **state) {
  (void)state;
  struct workqueue *q = workqueue_new(0, 0);
  long long t0 = now_ms();
  workqueue_add_after(q, "x", 5000);
  workqueue_add_after(q, "x", 30);
  char *k = get(q);
  assert_string_equal(k, "x");
  assert_true(now_ms() - t0 < 4000);
  workqueue_done(q, k);
  free(k);
  assert_int_equal(workqueue_len(q), 0);
  workqueue_shutdown(q);
  workqueue_free(q);
}

static void *blocked_get(void *p) {
  char *k = NULL;
  return (void *)(intptr_t)workqueue_get(p, &k);
}

static void test_shutdown_wakes(void **state) {
  (void)state;
  struct workqueue *q = workqueue_new(0, 0);
  pthread_t t;
  pthread_create(&t, NULL, blocked_get, q);
  workqueue_shutdown(q);
  void *rv;
  pthread_join(t, &rv);
  assert_int_equal((intptr_t)rv, -ESHUTDOWN);
  workqueue_add(q, "late");
  assert_int_equal(workqueue_len(q), 0);
  workqueue_free(q);
}

struct counter {
  struct workqueue *q;
  pthread_mutex_t mu;
  int processed, concurrent, max_concurrent;
};

static void *worker(void *p) {
  struct counter *c = p;
  char *k;
  while (workqueue_get(c->q, &k) == 0) {
    pthread_mutex_lock(&c->mu);
    c->processed++;
    if (++c->concurrent > c->max_concurrent)
      c->max_concurrent = c->concurrent;
    pthread_mutex_unlock(&c->mu);
    pthread_mutex_lock(&c->mu);
    c->concurrent--;
    pthread_mutex_unlock(&c->mu);
    workqueue_done(c->q, k);
    free(k);
  }
  return NULL;
}

/* One key hammered by producers while four workers run: never processed twice at once. */
static void test_one_key_never_parallel(void **state) {
  (void)state;
  struct counter c = {.q = workqueue_new(0, 0), .mu = PTHREAD_MUTEX_INITIALIZER};
  pthread_t w[4];
  for (int i = 0; i < 4; i++)
    pthread_create(&w[i], NULL, worker, &c);
  for (int i = 0; i < 20000; i++)
    workqueue_add(c.q, "same");
  while (workqueue_len(c.q) > 0)
    sched_yield();
  workqueue_shutdown(c.q);
  for (int i = 0; i < 4; i++)
    pthread_join(w[i], NULL);
  assert_int_equal(c.max_concurrent, 1);
  assert_true(c.processed >= 1);
  workqueue_free(c.q);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dedup_and_order),
      cmocka_unit_test(test_rate_limited_backoff),
      cmocka_unit_test(test_add_after_earliest_wins),
      cmocka_unit_test(test_shutdown_wakes),
      cmocka_unit_test(test_one_key_never_parallel),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
