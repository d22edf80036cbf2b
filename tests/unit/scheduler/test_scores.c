#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sched_helpers.h"

/* Index of a plugin in sched_score_plugins. */
static size_t plugin_index(const char *name) {
  for (size_t i = 0; sched_score_plugins[i].name; i++)
    if (streq(sched_score_plugins[i].name, name))
      return i;
  fail_msg("no plugin %s", name);
  return 0;
}

/* Scores every node of s for pod (reference consumed); per-plugin scores go to out
 * (plugin-major), totals to totals; nodes in snapshot order. */
static void score_all(struct sched_snapshot *s, json_t *pod, int64_t *out, int64_t *totals) {
  struct sched_cycle *c = sched_cycle_new(s, pod, NULL);
  json_decref(pod);
  sched_score_nodes(c, s->nodes, s->n_nodes, totals, out);
  sched_cycle_free(c);
}

static int64_t plugin_score(struct sched_snapshot *s, const int64_t *per, const char *plugin,
                            const char *node) {
  struct sched_node_info *ni = sched_snapshot_get_node(s, node);
  return per[plugin_index(plugin) * s->n_nodes + ni->index];
}

static void test_resource_scores(void **state) {
  struct sched_snapshot *s = sched_snapshot_new();
  add_node(s, make_node("a", "4", "8Gi", "110", NULL, NULL));
  add_node(s, make_node("b", "4", "8Gi", "110", NULL, NULL));
  bind_pod(s, make_pod("d", "x", "1", NULL, NULL, NULL), "a");
  int64_t per[16 * 2], tot[2];
  score_all(s, make_pod("d", "p", "1", "2Gi", NULL, NULL), per, tot);
  /* a: cpu (4000-2000)/4000 → 50; memory: x has no request, so 200Mi counts for scoring:
   * (8192-2048-200)/8192 → 72; (50+72)/2 = 61. */
  assert_int_equal(plugin_score(s, per, "NodeResourcesFit", "a"), 61);
  /* b: cpu 75, memory 75. */
  assert_int_equal(plugin_score(s, per, "NodeResourcesFit", "b"), 75);
  /* Balanced uses real requests: a: cpu 0.5, memory 0.25 → 1 - 0.125 → 87. */
  assert_int_equal(plugin_score(s, per, "NodeResourcesBalancedAllocation", "a"), 87);
  assert_int_equal(plugin_score(s, per, "NodeResourcesBalancedAllocation", "b"), 100);
  sched_snapshot_free(s);
}

static void test_node_affinity_and_taints(void **state) {
  struct sched_snapshot *s = sched_snapshot_new();
  add_node(s, make_node("a", "4", "8Gi", "110", "{'zone':'z1','disk':'ssd'}", NULL));
  add_node(s, make_node("b", "4", "8Gi", "110", "{'zone':'z1'}",
                        "{'taints':[{'key':'k','value':'v','effect':'PreferNoSchedule'},"
                        "{'key':'j','effect':'PreferNoSchedule'}]}"));
  add_node(s, make_node("c", "4", "8Gi", "110", "{'zone':'z2'}",
                        "{'taints':[{'key':'k','value':'v','effect':'PreferNoSchedule'}]}"));
  int64_t per[16 * 3], tot[3];
  score_all(s,
            make_pod("d", "p", NULL, NULL, NULL,
                     "{'affinity':{'nodeAffinity':{'preferredDuringSchedulingIgnoredDuring"
                     "Execution':[{'weight':10,'preference':{'matchExpressions':[{'key':'zone',"
                     "'operator':'In','values':['z1']}]}},{'weight':30,'preference':"
                     "{'matchExpressions':[{'key':'disk','operator':'Exists'}]}}]}},"
                     "'tolerations':[{'key':'j','operator':'Exists'}]}"),
            per, tot);
  /* a: 40 of 40; b: 10 → 25; c: 0. */
  assert_int_equal(plugin_score(s, per, "NodeAffinity", "a"), 100);
  assert_int_equal(plugin_score(s, per, "NodeAffinity", "b"), 25);
  assert_int_equal(plugin_score(s, per, "NodeAffinity", "c"), 0);
  /* One untolerated PreferNoSchedule taint on b and on c (j is tolerated): reversed. */
  assert_int_equal(plugin_score(s, per, "TaintToleration", "a"), 100);
  assert_int_equal(plugin_score(s, per, "TaintToleration", "b"), 0);
  assert_int_equal(plugin_score(s, per, "TaintToleration", "c"), 0);
  score_all(s, make_pod("d", "p", NULL, NULL, NULL, NULL), per, tot);
  /* No preferences: node affinity scores 0 everywhere. b has two taints, c one. */
  assert_int_equal(plugin_score(s, per, "NodeAffinity", "a"), 0);
  assert_int_equal(plugin_score(s, per, "TaintToleration", "b"), 0);
  assert_int_equal(plugin_score(s, per, "TaintToleration", "c"), 50);
  sched_snapshot_free(s);
}

static void test_inter_pod_affinity_score(void **state) {
  struct sched_snapshot *s = sched_snapshot_new();
  add_node(s, make_node("a", "4", "8Gi", "110", "{'zone':'z1'}", NULL));
  add_node(s, make_node("b", "4", "8Gi", "110", "{'zone':'z2'}", NULL));
  add_node(s, make_node("c", "4", "8Gi", "110", "{'zone':'z3'}", NULL));
  bind_pod(s, make_pod("d", "db", NULL, NULL, "{'app':'db'}", NULL), "a");
  bind_pod(s, make_pod("d", "noisy", NULL, NULL, "{'app':'noisy'}", NULL), "b");
  int64_t per[16 * 3], tot[3];
  score_all(s,
            make_pod("d", "p", NULL, NULL, NULL,
                     "{'affinity':{'podAffinity':{'preferredDuringSchedulingIgnoredDuring"
                     "Execution':[{'weight':50,'podAffinityTerm':{'labelSelector':{'matchLabels':"
                     "{'app':'db'}},'topologyKey':'zone'}}]},'podAntiAffinity':{'preferredDuring"
                     "SchedulingIgnoredDuringExecution':[{'weight':50,'podAffinityTerm':"
                     "{'labelSelector':{'matchLabels':{'app':'noisy'}},'topologyKey':'zone'}}]}}}"),
            per, tot);
  /* Raw: a +50, b -50, c 0 → min-max normalised. */
  assert_int_equal(plugin_score(s, per, "InterPodAffinity", "a"), 100);
  assert_int_equal(plugin_score(s, per, "InterPodAffinity", "b"), 0);
  assert_int_equal(plugin_score(s, per, "InterPodAffinity", "c"), 50);
  /* Existing pods' preferences about the incoming pod count too. */
  bind_pod(s,
           make_pod("d", "friend", NULL, NULL, NULL,
                    "{'affinity':{'podAffinity':{'preferredDuringSchedulingIgnoredDuring"
                    "Execution':[{'weight':5,'podAffinityTerm':{'labelSelector':{'matchLabels':"
                    "{'app':'web'}},'topologyKey':'zone'}}]}}}"),
           "c");
  score_all(s, make_pod("d", "w", NULL, NULL, "{'app':'web'}", NULL), per, tot);
  assert_int_equal(plugin_score(s, per, "InterPodAffinity", "c"), 100);
  assert_int_equal(plugin_score(s, per, "InterPodAffinity", "a"), 0);
  sched_snapshot_free(s);
}

static void test_topology_spread_score(void **state) {
  struct sched_snapshot *s = sched_snapshot_new();
  add_node(s, make_node("a", "4", "8Gi", "110", "{'zone':'z1'}", NULL));
  add_node(s, make_node("b", "4", "8Gi", "110", "{'zone':'z2'}", NULL));
  add_node(s, make_node("n", "4", "8Gi", "110", NULL, NULL));
  bind_pod(s, make_pod("d", "w1", NULL, NULL, "{'app':'w'}", NULL), "a");
  bind_pod(s, make_pod("d", "w2", NULL, NULL, "{'app':'w'}", NULL), "a");
  int64_t per[16 * 3], tot[3];
  score_all(s,
            make_pod("d", "p", NULL, NULL, "{'app':'w'}",
                     "{'topologySpreadConstraints':[{'maxSkew':1,'topologyKey':'zone',"
                     "'whenUnsatisfiable':'ScheduleAnyway','labelSelector':{'matchLabels':"
                     "{'app':'w'}}}]}"),
            per, tot);
  /* Weight log(2 + 2); a: round(2 × 1.386) = 3, b: 0; normalised 100 × (3 + 0 - s) / 3.
   * The node without the key is ignored and scores 0. */
  assert_int_equal(plugin_score(s, per, "PodTopologySpread", "a"), 0);
  assert_int_equal(plugin_score(s, per, "PodTopologySpread", "b"), 100);
  assert_int_equal(plugin_score(s, per, "PodTopologySpread", "n"), 0);
  sched_snapshot_free(s);
}

static void test_num_feasible(void **state) {
  assert_int_equal(sched_num_feasible_to_find(0), 0);
  assert_int_equal(sched_num_feasible_to_find(50), 50);
  assert_int_equal(sched_num_feasible_to_find(100), 100);
  assert_int_equal(sched_num_feasible_to_find(150), 100);
  assert_int_equal(sched_num_feasible_to_find(1000), 420);
  assert_int_equal(sched_num_feasible_to_find(5000), 500);
  assert_int_equal(sched_num_feasible_to_find(6000), 300);
}

static void test_find_nodes(void **state) {
  struct sched_snapshot *s = sched_snapshot_new();
  assert_int_equal(s->n_nodes, 0);
  json_t *pod = make_pod("d", "p", "1", "1Gi", NULL, NULL);
  struct sched_cycle *c = sched_cycle_new(s, pod, NULL);
  struct sched_result r;
  assert_int_equal(sched_find_nodes(s, c, &r), -ENODEV);
  sched_result_clear(&r);
  sched_cycle_free(c);

  add_node(s, make_node("small", "1", "1Gi", "110", NULL, NULL));
  add_node(s, make_node("big", "8", "16Gi", "110", NULL, NULL));
  add_node(s, make_node("busy", "8", "16Gi", "110", NULL, NULL));
  add_node(s, make_node("tainted", "8", "16Gi", "110", NULL,
                        "{'taints':[{'key':'node-role.kubernetes.io/control-plane',"
                        "'effect':'NoSchedule'}]}"));
  bind_pod(s, make_pod("d", "x", "4", "8Gi", NULL, NULL), "busy");
  for (int i = 0; i < 10; i++) {
    c = sched_cycle_new(s, pod, NULL);
    assert_int_equal(sched_find_nodes(s, c, &r), 0);
    assert_string_equal(r.node_name, "big");
    assert_int_equal(r.n_feasible, 3);
    sched_result_clear(&r);
    sched_cycle_free(c);
  }
  json_decref(pod);
  pod = make_pod("d", "p", "6", "1Gi", NULL, NULL);
  c = sched_cycle_new(s, pod, NULL);
  assert_int_equal(sched_find_nodes(s, c, &r), 0);
  assert_string_equal(r.node_name, "big");
  sched_result_clear(&r);
  sched_cycle_free(c);
  json_decref(pod);

  pod = make_pod("d", "p", "10", "1Gi", NULL, NULL);
  c = sched_cycle_new(s, pod, NULL);
  assert_int_equal(sched_find_nodes(s, c, &r), -ENOSPC);
  _cleanup_free_ char *msg = sched_format_fit_error(&r.diag, NULL);
  assert_string_equal(msg, "0/4 nodes are available: 1 node(s) had untolerated taint "
                           "{node-role.kubernetes.io/control-plane: }, 3 Insufficient cpu.");
  struct sched_preemption pre;
  assert_int_equal(sched_preempt(s, c, &r, &pre), -ENOSPC);
  _cleanup_free_ char *full = sched_format_fit_error(&r.diag, pre.message);
  assert_string_equal(full, "0/4 nodes are available: 1 node(s) had untolerated taint "
                            "{node-role.kubernetes.io/control-plane: }, 3 Insufficient cpu. "
                            "preemption: 0/4 nodes are available: 1 Preemption is not "
                            "helpful for scheduling, 3 No preemption victims found for "
                            "incoming pod..");
  sched_preemption_clear(&pre);
  sched_result_clear(&r);
  sched_cycle_free(c);
  json_decref(pod);
  sched_snapshot_free(s);
}

static void test_ties_are_random(void **state) {
  struct sched_snapshot *s = sched_snapshot_new();
  add_node(s, make_node("a", "4", "8Gi", "110", NULL, NULL));
  add_node(s, make_node("b", "4", "8Gi", "110", NULL, NULL));
  add_node(s, make_node("c", "4", "8Gi", "110", NULL, NULL));
  json_t *pod = make_pod("d", "p", "1", "1Gi", NULL, NULL);
  int seen[3] = {0};
  for (int i = 0; i < 300; i++) {
    struct sched_cycle *c = sched_cycle_new(s, pod, NULL);
    struct sched_result r;
    assert_int_equal(sched_find_nodes(s, c, &r), 0);
    seen[r.node_name[0] - 'a']++;
    sched_result_clear(&r);
    sched_cycle_free(c);
  }
  for (int i = 0; i < 3; i++)
    assert_true(seen[i] > 30);
  json_decref(pod);
  sched_snapshot_free(s);
}

static void test_rotation(void **state) {
  /* 1,000 identical nodes: 420 are looked at per cycle, starting where the last stopped. */
  struct sched_snapshot *s = sched_snapshot_new();
  for (int i = 0; i < 1000; i++) {
    char name[16];
    snprintf(name, sizeof(name), "n%d", i);
    add_node(s, make_node(name, "4", "8Gi", "110", NULL, NULL));
  }
  json_t *pod = make_pod("d", "p", "1", "1Gi", NULL, NULL);
  struct sched_cycle *c = sched_cycle_new(s, pod, NULL);
  struct sched_result r;
  assert_int_equal(sched_find_nodes(s, c, &r), 0);
  assert_int_equal(r.n_feasible, 420);
  assert_int_equal(s->next_start, 420);
  sched_result_clear(&r);
  assert_int_equal(sched_find_nodes(s, c, &r), 0);
  assert_int_equal(s->next_start, 840);
  sched_result_clear(&r);
  assert_int_equal(sched_find_nodes(s, c, &r), 0);
  assert_int_equal(s->next_start, 260);
  sched_result_clear(&r);
  sched_cycle_free(c);
  json_decref(pod);
  sched_snapshot_free(s);
}

static json_t *prio_pod(const char *name, const char *cpu, int prio, const char *start) {
  json_t *p = make_pod("d", name, cpu, NULL, NULL, NULL);
  json_object_set_new(json_object_get(p, "spec"), "priority", json_integer(prio));
  if (start)
    json_object_set_new(p, "status", json_pack("{s:s}", "startTime", start));
  return p;
}

static void test_preemption(void **state) {
  struct sched_snapshot *s = sched_snapshot_new();
  add_node(s, make_node("a", "4", "8Gi", "110", NULL, NULL));
  add_node(s, make_node("b", "4", "8Gi", "110", NULL, NULL));
  add_node(s, make_node("c", "4", "8Gi", "110", NULL, NULL));
  /* a: victims would include a priority-5 pod. */
  bind_pod(s, prio_pod("a-low", "2", 1, "2024-01-01T00:00:00Z"), "a");
  bind_pod(s, prio_pod("a-mid", "2", 5, "2024-01-01T00:00:00Z"), "a");
  /* b: two priority-1 pods, one of them is enough (the less important goes). */
  bind_pod(s, prio_pod("b-old", "2", 1, "2024-01-01T00:00:00Z"), "b");
  bind_pod(s, prio_pod("b-new", "2", 1, "2024-06-01T00:00:00Z"), "b");
  /* c: a higher-priority pod that cannot be evicted. */
  bind_pod(s, prio_pod("c-high", "4", 100, NULL), "c");

  json_t *pod = prio_pod("p", "2", 10, NULL);
  struct sched_cycle *c = sched_cycle_new(s, pod, NULL);
  struct sched_result r;
  assert_int_equal(sched_find_nodes(s, c, &r), -ENOSPC);
  struct sched_preemption pre;
  assert_int_equal(sched_preempt(s, c, &r, &pre), 0);
  assert_string_equal(pre.node_name, "b");
  assert_int_equal(pre.n_victims, 1);
  assert_string_equal(pre.victims[0], "d/b-new");
  assert_null(pre.victims[1]);
  sched_preemption_clear(&pre);
  sched_result_clear(&r);
  sched_cycle_free(c);
  json_decref(pod);

  /* preemptionPolicy Never. */
  pod = prio_pod("p", "2", 10, NULL);
  json_object_set_new(json_object_get(pod, "spec"), "preemptionPolicy", json_string("Never"));
  c = sched_cycle_new(s, pod, NULL);
  assert_int_equal(sched_find_nodes(s, c, &r), -ENOSPC);
  assert_int_equal(sched_preempt(s, c, &r, &pre), -ENOSPC);
  _cleanup_free_ char *msg = sched_format_fit_error(&r.diag, pre.message);
  assert_string_equal(msg, "0/3 nodes are available: 3 Insufficient cpu. preemption: not "
                           "eligible due to preemptionPolicy=Never..");
  sched_preemption_clear(&pre);
  sched_result_clear(&r);
  sched_cycle_free(c);
  json_decref(pod);

  /* Same priority as everyone: no victims anywhere. */
  pod = prio_pod("p", "2", 1, NULL);
  c = sched_cycle_new(s, pod, NULL);
  assert_int_equal(sched_find_nodes(s, c, &r), -ENOSPC);
  assert_int_equal(sched_preempt(s, c, &r, &pre), -ENOSPC);
  assert_string_equal(pre.message, "preemption: 0/3 nodes are available: 3 No preemption "
                                   "victims found for incoming pod.");
  sched_preemption_clear(&pre);
  sched_result_clear(&r);
  sched_cycle_free(c);
  json_decref(pod);
  sched_snapshot_free(s);
}

static void test_preemption_pick(void **state) {
  /* Lowest highest-victim priority wins over fewer victims. */
  struct sched_snapshot *s = sched_snapshot_new();
  add_node(s, make_node("a", "4", "8Gi", "110", NULL, NULL));
  add_node(s, make_node("b", "4", "8Gi", "110", NULL, NULL));
  bind_pod(s, prio_pod("a1", "4", 5, NULL), "a");
  bind_pod(s, prio_pod("b1", "2", 2, NULL), "b");
  bind_pod(s, prio_pod("b2", "2", 2, NULL), "b");
  json_t *pod = prio_pod("p", "4", 10, NULL);
  struct sched_cycle *c = sched_cycle_new(s, pod, NULL);
  struct sched_result r;
  struct sched_preemption pre;
  assert_int_equal(sched_find_nodes(s, c, &r), -ENOSPC);
  assert_int_equal(sched_preempt(s, c, &r, &pre), 0);
  assert_string_equal(pre.node_name, "b");
  assert_int_equal(pre.n_victims, 2);
  sched_preemption_clear(&pre);
  sched_result_clear(&r);
  sched_cycle_free(c);
  json_decref(pod);
  sched_snapshot_free(s);
}

static void test_preemption_still_unfit(void **state) {
  /* Evicting every lower-priority pod is not enough: the node reports the filter's reason. */
  struct sched_snapshot *s = sched_snapshot_new();
  add_node(s, make_node("a", "4", "8Gi", "110", NULL, NULL));
  bind_pod(s, prio_pod("low", "1", 1, NULL), "a");
  bind_pod(s, prio_pod("high", "3", 100, NULL), "a");
  json_t *pod = prio_pod("p", "2", 10, NULL);
  struct sched_cycle *c = sched_cycle_new(s, pod, NULL);
  struct sched_result r;
  struct sched_preemption pre;
  assert_int_equal(sched_find_nodes(s, c, &r), -ENOSPC);
  assert_int_equal(sched_preempt(s, c, &r, &pre), -ENOSPC);
  assert_string_equal(pre.message, "preemption: 0/1 nodes are available: 1 Insufficient cpu.");
  sched_preemption_clear(&pre);
  sched_result_clear(&r);
  sched_cycle_free(c);
  json_decref(pod);
  sched_snapshot_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_resource_scores),
      cmocka_unit_test(test_node_affinity_and_taints),
      cmocka_unit_test(test_inter_pod_affinity_score),
      cmocka_unit_test(test_topology_spread_score),
      cmocka_unit_test(test_num_feasible),
      cmocka_unit_test(test_find_nodes),
      cmocka_unit_test(test_ties_are_random),
      cmocka_unit_test(test_rotation),
      cmocka_unit_test(test_preemption),
      cmocka_unit_test(test_preemption_pick),
      cmocka_unit_test(test_preemption_still_unfit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
