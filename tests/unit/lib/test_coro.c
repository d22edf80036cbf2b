#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "lib/coro.h"

/* A scheduler that only records what was posted; the test resumes by hand. */
struct test_sched {
  struct coro_sched base;
  pthread_mutex_t mu;
  struct coro *posted[8];
  int n;
};

static void test_post(struct coro_sched *s, struct coro *co) {
  struct test_sched *t = (struct test_sched *)s;
  pthread_mutex_lock(&t->mu);
  t->posted[t->n++] = co;
  pthread_mutex_unlock(&t->mu);
}

static struct test_sched sched = {.base = {test_post}, .mu = PTHREAD_MUTEX_INITIALIZER};

static int steps;

static void counter(void *arg) {
  int *n = arg;
  for (int i = 0; i < 3; i++) {
    (*n)++;
    assert_non_null(coro_current());
    coro_suspend();
  }
  (*n) += 100;
}

static void test_suspend_resume(void **state) {
  (void)state;
  struct coro *co = coro_new(0);
  assert_non_null(co);
  assert_null(coro_current());
  int n = 0;
  coro_start(co, counter, &n, &sched.base);
  assert_false(coro_resume(co));
  assert_int_equal(n, 1);
  assert_null(coro_current());
  assert_false(coro_resume(co));
  assert_false(coro_resume(co));
  assert_int_equal(n, 3);
  assert_true(coro_resume(co));
  assert_int_equal(n, 103);
  /* Reuse for a fresh run. */
  n = 0;
  coro_start(co, counter, &n, &sched.base);
  while (!coro_resume(co))
    ;
  assert_int_equal(n, 103);
  coro_free(co);
}

/* Deep recursion with locals on the coroutine's stack, checked on the way back. */
static int recurse(int depth) {
  volatile char pad[512];
  memset((char *)pad, depth & 0xff, sizeof(pad));
  int r = depth == 0 ? 0 : recurse(depth - 1) + 1;
  if (depth % 50 == 0)
    coro_suspend();
  return pad[100] == (char)(depth & 0xff) ? r : -1000000;
}

static void deep(void *arg) { *(int *)arg = recurse(200); }

static void test_deep_stack(void **state) {
  (void)state;
  struct coro *co = coro_new(0);
  int r = -1;
  coro_start(co, deep, &r, &sched.base);
  int resumes = 0;
  while (!coro_resume(co))
    resumes++;
  assert_int_equal(resumes, 5);
  assert_int_equal(r, 200);
  coro_free(co);
}

struct waker {
  struct coro *co;
};

static void *wake_thread(void *arg) {
  struct waker *w = arg;
  coro_wake(w->co);
  return NULL;
}

static void waits_for_wake(void *arg) {
  struct waker *w = arg;
  pthread_t t;
  /* The wake may well arrive before the suspend; the scheduler still sees it. */
  assert_int_equal(pthread_create(&t, NULL, wake_thread, w), 0);
  pthread_join(t, NULL);
  coro_suspend();
  steps++;
}

static void test_wake_from_other_thread(void **state) {
  (void)state;
  struct coro *co = coro_new(64 * 1024);
  struct waker w = {co};
  sched.n = 0;
  steps = 0;
  coro_start(co, waits_for_wake, &w, &sched.base);
  assert_false(coro_resume(co));
  assert_int_equal(sched.n, 1);
  assert_ptr_equal(sched.posted[0], co);
  assert_true(coro_resume(co));
  assert_int_equal(steps, 1);
  coro_free(co);
}

static void check_nosuspend(void *arg) {
  assert_ptr_equal(coro_waitable(), coro_current());
  coro_nosuspend_begin();
  coro_nosuspend_begin();
  assert_null(coro_waitable());
  coro_nosuspend_end();
  assert_null(coro_waitable());
  coro_nosuspend_end();
  assert_non_null(coro_waitable());
}

static void test_nosuspend(void **state) {
  (void)state;
  assert_null(coro_waitable());
  struct coro *co = coro_new(0);
  coro_start(co, check_nosuspend, NULL, &sched.base);
  assert_true(coro_resume(co));
  coro_free(co);
}

/* Two coroutines interleaved on one thread keep their own stacks. */
static void ping(void *arg) {
  char *log = arg;
  for (int i = 0; i < 3; i++) {
    strcat(log, "p");
    coro_suspend();
  }
}

static void pong(void *arg) {
  char *log = arg;
  for (int i = 0; i < 3; i++) {
    strcat(log, "o");
    coro_suspend();
  }
}

static void test_interleave(void **state) {
  (void)state;
  char log[32] = "";
  struct coro *a = coro_new(0), *b = coro_new(0);
  coro_start(a, ping, log, &sched.base);
  coro_start(b, pong, log, &sched.base);
  bool da = false, db = false;
  while (!da || !db) {
    if (!da)
      da = coro_resume(a);
    if (!db)
      db = coro_resume(b);
  }
  assert_string_equal(log, "popopo");
  coro_free(a);
  coro_free(b);
  coro_free(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_suspend_resume), cmocka_unit_test(test_deep_stack),
      cmocka_unit_test(test_wake_from_other_thread), cmocka_unit_test(test_nosuspend),
      cmocka_unit_test(test_interleave),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
