/* Unit tests of the Deployment rollout arithmetic and the pod-template-hash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/deployment_rollout.h"
#include "controllers/podtemplatehash.h"

static struct deploy_spec rolling(int replicas, json_t *surge, json_t *unavailable) {
  return (struct deploy_spec){
      .replicas = replicas, .rolling = true, .max_surge = surge, .max_unavailable = unavailable};
}

static void test_scaled_value(void **state) {
  (void)state;
  int v = -1;
  json_t *pct = json_string("25%");
  assert_int_equal(deploy_scaled_value(pct, 10, true, &v), 0);
  assert_int_equal(v, 3); /* 2.5 up */
  assert_int_equal(deploy_scaled_value(pct, 10, false, &v), 0);
  assert_int_equal(v, 2); /* 2.5 down */
  assert_int_equal(deploy_scaled_value(pct, 4, true, &v), 0);
  assert_int_equal(v, 1);
  json_t *abs = json_integer(7);
  assert_int_equal(deploy_scaled_value(abs, 100, true, &v), 0);
  assert_int_equal(v, 7);
  assert_int_equal(deploy_scaled_value(NULL, 100, true, &v), 0);
  assert_int_equal(v, 0);
  json_t *bad = json_string("3");
  assert_int_equal(deploy_scaled_value(bad, 10, true, &v), -EINVAL);
  json_t *bad2 = json_string("x%");
  assert_int_equal(deploy_scaled_value(bad2, 10, true, &v), -EINVAL);
  json_decref(pct);
  json_decref(abs);
  json_decref(bad);
  json_decref(bad2);
}

static void test_fenceposts(void **state) {
  (void)state;
  json_t *p25 = json_string("25%"), *zero = json_integer(0), *p10 = json_string("10%");
  int s, u;
  deploy_resolve_fenceposts(p25, p25, 10, &s, &u);
  assert_int_equal(s, 3);
  assert_int_equal(u, 2);
  deploy_resolve_fenceposts(p25, p25, 1, &s, &u);
  assert_int_equal(s, 1);
  assert_int_equal(u, 0);
  /* both resolve to 0: maxUnavailable becomes 1 */
  deploy_resolve_fenceposts(zero, p10, 5, &s, &u);
  assert_int_equal(s, 0);
  assert_int_equal(u, 1);
  deploy_resolve_fenceposts(NULL, NULL, 5, &s, &u);
  assert_int_equal(s, 0);
  assert_int_equal(u, 1);

  struct deploy_spec d = rolling(3, p25, p25);
  assert_int_equal(deploy_max_surge(&d), 1);
  assert_int_equal(deploy_max_unavailable(&d), 0);
  json_t *five = json_integer(5);
  d = rolling(3, p25, five);
  assert_int_equal(deploy_max_unavailable(&d), 3); /* capped at replicas */
  d.replicas = 0;
  assert_int_equal(deploy_max_unavailable(&d), 0);
  struct deploy_spec rec = {.replicas = 3, .rolling = false};
  assert_int_equal(deploy_max_surge(&rec), 0);
  assert_int_equal(deploy_max_unavailable(&rec), 0);
  json_decref(p25);
  json_decref(zero);
  json_decref(p10);
  json_decref(five);
}

static void test_new_rs_replicas(void **state) {
  (void)state;
  json_t *p25 = json_string("25%"), *one = json_integer(1);
  struct deploy_spec d = rolling(10, p25, p25); /* surge 3 */
  assert_int_equal(deploy_new_rs_replicas(&d, 10, 0), 3);
  assert_int_equal(deploy_new_rs_replicas(&d, 13, 3), 3); /* at the limit */
  assert_int_equal(deploy_new_rs_replicas(&d, 11, 3), 5);
  assert_int_equal(deploy_new_rs_replicas(&d, 9, 9), 10); /* never above desired */
  assert_int_equal(deploy_new_rs_replicas(&d, 0, 0), 10);
  d = rolling(3, one, NULL);
  assert_int_equal(deploy_new_rs_replicas(&d, 3, 0), 1);
  struct deploy_spec rec = {.replicas = 4, .rolling = false};
  assert_int_equal(deploy_new_rs_replicas(&rec, 100, 0), 4);
  json_decref(p25);
  json_decref(one);
}

static void test_scale_down_old(void **state) {
  (void)state;
  json_t *one = json_integer(1), *zero = json_integer(0);
  /* 3 replicas, surge 1, unavailable 0: new RS has 1 (not yet available), old has 3. */
  struct deploy_spec d = rolling(3, one, zero);
  struct deploy_rs old[2] = {{.name = "a", .created = 10, .replicas = 3, .available = 3}};
  int sizes[2];
  assert_int_equal(deploy_scale_down_old(&d, old, 1, 1, 0, sizes), 0);
  /* new replica became available: one old can go */
  assert_int_equal(deploy_scale_down_old(&d, old, 1, 1, 1, sizes), 1);
  assert_int_equal(sizes[0], 2);

  /* unhealthy old replicas go first, oldest ReplicaSet first */
  d = rolling(4, one, one);
  struct deploy_rs two[2] = {{.name = "newer", .created = 20, .replicas = 2, .available = 2},
                             {.name = "older", .created = 10, .replicas = 2, .available = 0}};
  /* all pods 4 + new 0; minAvailable 3; maxScaledDown = 4 - 3 - 0 = 1 */
  assert_int_equal(deploy_scale_down_old(&d, two, 2, 0, 0, sizes), 1);
  assert_string_equal(two[0].name, "older");
  assert_int_equal(sizes[0], 1);
  assert_int_equal(sizes[1], 2);

  /* enough availability: the oldest is scaled down first */
  d = rolling(4, one, one);
  struct deploy_rs av[2] = {{.name = "b", .created = 20, .replicas = 2, .available = 2},
                            {.name = "a", .created = 10, .replicas = 2, .available = 2}};
  /* new has 1 available: available 5, minAvailable 3 → 2 may go; maxScaledDown 5-3-0 */
  assert_int_equal(deploy_scale_down_old(&d, av, 2, 1, 1, sizes), 2);
  assert_string_equal(av[0].name, "a");
  assert_int_equal(sizes[0], 0);
  assert_int_equal(sizes[1], 2);

  /* nothing old: nothing to do */
  struct deploy_rs none[1] = {{.name = "x", .replicas = 0}};
  assert_int_equal(deploy_scale_down_old(&d, none, 1, 4, 4, sizes), 0);
  json_decref(one);
  json_decref(zero);
}

static void test_proportional(void **state) {
  (void)state;
  json_t *p25 = json_string("25%");
  /* Mid-rollout at 10 (max 13): old 8, new 5; scaled to 20 (max 25): 12 more to share. */
  struct deploy_spec d = rolling(20, p25, p25);
  struct deploy_rs rs[2] = {
      {.name = "old", .created = 10, .replicas = 8, .max_replicas = 13, .index = 0},
      {.name = "new", .created = 20, .replicas = 5, .max_replicas = 13, .index = 1}};
  int sizes[2];
  int add = deploy_proportional_scale(&d, 13, rs, 2, sizes);
  assert_int_equal(add, 12);
  assert_string_equal(rs[0].name, "old"); /* larger first */
  /* old: round(8*25/13)=15 → +7; new: round(5*25/13)=10 → +5 (min with 5 left) */
  assert_int_equal(sizes[0], 15);
  assert_int_equal(sizes[1], 10);
  assert_int_equal(sizes[0] + sizes[1], 25);

  /* scale down from 20 (max 25) to 10 (max 13): 12 to remove */
  d = rolling(10, p25, p25);
  struct deploy_rs down[2] = {
      {.name = "old", .created = 10, .replicas = 15, .max_replicas = 25, .index = 0},
      {.name = "new", .created = 20, .replicas = 10, .max_replicas = 25, .index = 1}};
  add = deploy_proportional_scale(&d, 25, down, 2, sizes);
  assert_int_equal(add, -12);
  assert_int_equal(sizes[0] + sizes[1], 13);
  assert_int_equal(sizes[0], 8);
  assert_int_equal(sizes[1], 5);

  /* equal sizes: growing favours the newer ReplicaSet with the leftover */
  d = rolling(5, json_integer(0), json_integer(1));
  struct deploy_rs eq[2] = {
      {.name = "a", .created = 10, .replicas = 2, .max_replicas = 4, .index = 0},
      {.name = "b", .created = 20, .replicas = 2, .max_replicas = 4, .index = 1}};
  add = deploy_proportional_scale(&d, 4, eq, 2, sizes);
  assert_int_equal(add, 1);
  assert_string_equal(eq[0].name, "b");
  assert_int_equal(sizes[0] + sizes[1], 5);
  json_decref((json_t *)d.max_surge);
  json_decref((json_t *)d.max_unavailable);

  /* to zero: everything goes */
  d = rolling(0, p25, p25);
  struct deploy_rs z[2] = {{.name = "a", .created = 1, .replicas = 3, .max_replicas = 5},
                           {.name = "b", .created = 2, .replicas = 2, .max_replicas = 5}};
  add = deploy_proportional_scale(&d, 5, z, 2, sizes);
  assert_int_equal(add, -5);
  assert_int_equal(sizes[0], 0);
  assert_int_equal(sizes[1], 0);

  /* a missing annotation falls back to status.replicas, 0 of which never divides */
  d = rolling(6, p25, p25);
  struct deploy_rs m[1] = {{.name = "a", .created = 1, .replicas = 3, .max_replicas = -1}};
  add = deploy_proportional_scale(&d, 0, m, 1, sizes);
  assert_int_equal(add, 5);
  assert_int_equal(sizes[0], 8); /* all of it as leftover */
  json_decref(p25);
}

static void test_revision_history(void **state) {
  (void)state;
  char *h = deploy_revision_history_push(NULL, "1", 2000);
  assert_string_equal(h, "1");
  free(h);
  h = deploy_revision_history_push("1,3", "4", 2000);
  assert_string_equal(h, "1,3,4");
  free(h);
  h = deploy_revision_history_push("10,11,12", "13", 9);
  assert_string_equal(h, "11,12,13");
  free(h);
  h = deploy_revision_history_push("1", "123456", 5);
  assert_null(h);
}

static void test_hash(void **state) {
  (void)state;
  /* FNV-32a reference vectors */
  assert_int_equal(podtemplatehash_fnv32a(PODTEMPLATEHASH_FNV32A_INIT, "", 0), 0x811c9dc5u);
  assert_int_equal(podtemplatehash_fnv32a(PODTEMPLATEHASH_FNV32A_INIT, "a", 1), 0xe40c292cu);
  assert_int_equal(podtemplatehash_fnv32a(PODTEMPLATEHASH_FNV32A_INIT, "foobar", 6), 0xbf9cf968u);
  char *e = podtemplatehash_safe_encode("0123456789");
  assert_string_equal(e, "456789bcdf");
  free(e);

  json_t *a = json_loads("{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":"
                         "[{\"name\":\"c\",\"image\":\"nginx:1.25\"}]}}",
                         0, NULL);
  json_t *a2 = json_loads("{\"spec\":{\"containers\":[{\"image\":\"nginx:1.25\",\"name\":\"c\"}]},"
                          "\"metadata\":{\"labels\":{\"app\":\"web\"}}}",
                          0, NULL);
  json_t *b = json_loads("{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":"
                         "[{\"name\":\"c\",\"image\":\"nginx:1.26\"}]}}",
                         0, NULL);
  char *ha = podtemplatehash_compute(a, false, 0);
  char *ha2 = podtemplatehash_compute(a2, false, 0);
  char *hb = podtemplatehash_compute(b, false, 0);
  char *hc = podtemplatehash_compute(a, true, 1);
  char *hc0 = podtemplatehash_compute(a, true, 0);
  assert_string_equal(ha, ha2); /* key order does not matter */
  assert_string_not_equal(ha, hb);
  assert_string_not_equal(ha, hc);
  assert_string_not_equal(ha, hc0); /* a collisionCount of 0 still counts */
  assert_true(strlen(ha) > 0 && strlen(ha) <= 10);
  assert_int_equal(strspn(ha, "bcdfghjklmnpqrstvwxz2456789"), strlen(ha));
  /* stable across releases: a fixed value for a fixed template */
  char *again = podtemplatehash_compute(a, false, 0);
  assert_string_equal(ha, again);
  free(again);
  free(ha);
  free(ha2);
  free(hb);
  free(hc);
  free(hc0);
  json_decref(a);
  json_decref(a2);
  json_decref(b);
}

static void test_normal_form(void **state) {
  (void)state;
  /* What clients send from Go zero values equals its absence, in equality and in hash. */
  json_t *plain = json_loads("{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{"
                             "\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}",
                             0, NULL);
  json_t *zeros = json_loads("{\"metadata\":{\"creationTimestamp\":null,\"labels\":{\"app\":"
                             "\"web\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":"
                             "\"i\",\"resources\":{},\"env\":[]}]}}",
                             0, NULL);
  json_t *other = json_loads("{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{"
                             "\"containers\":[{\"name\":\"c\",\"image\":\"j\"}]}}",
                             0, NULL);
  assert_true(podtemplatehash_equal(plain, zeros));
  assert_false(podtemplatehash_equal(plain, other));
  char *h1 = podtemplatehash_compute(plain, false, 0);
  char *h2 = podtemplatehash_compute(zeros, false, 0);
  assert_string_equal(h1, h2);
  free(h1);
  free(h2);
  json_t *n = podtemplatehash_normalize(zeros);
  assert_true(json_equal(n, plain));
  json_decref(n);
  assert_null(podtemplatehash_normalize(NULL));
  json_decref(plain);
  json_decref(zeros);
  json_decref(other);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scaled_value),
      cmocka_unit_test(test_fenceposts),
      cmocka_unit_test(test_new_rs_replicas),
      cmocka_unit_test(test_scale_down_old),
      cmocka_unit_test(test_proportional),
      cmocka_unit_test(test_revision_history),
      cmocka_unit_test(test_hash),
      cmocka_unit_test(test_normal_form),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
