/* scores.c — kube-scheduler's default score plugins, node selection and preemption. See
 * framework.h. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "scheduler/framework.h"

#define LABEL_HOSTNAME "kubernetes.io/hostname"

static uint64_t next_rand(struct sched_snapshot *s) {
  /* xorshift64*: cheap, and only tie-breaking and preemption offsets depend on it. */
  uint64_t x = s->rand_state ? s->rand_state : 0x9e3779b97f4a7c15ULL;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  s->rand_state = x;
  return x * 2685821657736338717ULL;
}

static const char *str_or_empty(const json_t *obj, const char *key) {
  const char *s = json_string_value(json_object_get(obj, key));
  return s ? s : "";
}

/* ---- NodeResourcesFit (LeastAllocated) and NodeResourcesBalancedAllocation ---- */

static int64_t least_requested(int64_t requested, int64_t capacity) {
  if (capacity == 0 || requested > capacity)
    return 0;
  return (capacity - requested) * SCHED_MAX_NODE_SCORE / capacity;
}

int64_t sched_score_least_allocated(const struct sched_cycle *c, const struct sched_node_info *ni) {
  /* cpu and memory, weight 1 each, with the non-zero request defaults. */
  int64_t cpu = least_requested(ni->nonzero_cpu + c->pod->nonzero_cpu, ni->allocatable.milli_cpu);
  int64_t mem =
      least_requested(ni->nonzero_memory + c->pod->nonzero_memory, ni->allocatable.memory);
  return (cpu + mem) / 2;
}

int64_t sched_score_balanced_allocation(const struct sched_cycle *c,
                                        const struct sched_node_info *ni) {
  const int64_t req[2] = {ni->requested.milli_cpu + c->pod->request.milli_cpu,
                          ni->requested.memory + c->pod->request.memory};
  const int64_t cap[2] = {ni->allocatable.milli_cpu, ni->allocatable.memory};
  double f[2];
  size_t n = 0;
  for (size_t i = 0; i < 2; i++) {
    if (cap[i] == 0)
      continue;
    double fr = (double)req[i] / (double)cap[i];
    f[n++] = fr > 1 ? 1 : fr;
  }
  double std = n == 2 ? fabs((f[0] - f[1]) / 2) : 0;
  return (int64_t)((1 - std) * SCHED_MAX_NODE_SCORE);
}

/* helper.DefaultNormalizeScore. */
static void default_normalize(int64_t *scores, size_t n, bool reverse) {
  int64_t max = 0;
  for (size_t i = 0; i < n; i++)
    if (scores[i] > max)
      max = scores[i];
  if (max == 0) {
    if (reverse)
      for (size_t i = 0; i < n; i++)
        scores[i] = SCHED_MAX_NODE_SCORE;
    return;
  }
  for (size_t i = 0; i < n; i++) {
    scores[i] = SCHED_MAX_NODE_SCORE * scores[i] / max;
    if (reverse)
      scores[i] = SCHED_MAX_NODE_SCORE - scores[i];
  }
}

/* ---- NodeAffinity ---- */

int64_t sched_score_node_affinity(const struct sched_cycle *c, const struct sched_node_info *ni) {
  int64_t score = 0;
  size_t i;
  json_t *term;
  json_array_foreach(c->pod->preferred_node_terms, i, term) {
    json_int_t w = json_integer_value(json_object_get(term, "weight"));
    if (w != 0 && sched_node_selector_term_matches(json_object_get(term, "preference"), ni))
      score += w;
  }
  return score;
}

static void normalize_node_affinity(const struct sched_cycle *c,
                                    struct sched_node_info *const *nodes, int64_t *scores,
                                    size_t n) {
  default_normalize(scores, n, false);
}

/* ---- TaintToleration ---- */

int64_t sched_score_taint_toleration(const struct sched_cycle *c,
                                     const struct sched_node_info *ni) {
  const json_t *tols = c->pod->tolerations;
  int64_t count = 0;
  size_t i, j;
  json_t *taint, *tol;
  if (!ni->n_prefer_taints)
    return 0;
  json_array_foreach(ni->taints, i, taint) {
    if (!streq(str_or_empty(taint, "effect"), "PreferNoSchedule"))
      continue;
    bool tolerated = false;
    /* Only tolerations for PreferNoSchedule (or any effect) count here. */
    json_array_foreach(tols, j, tol) {
      const char *eff = str_or_empty(tol, "effect");
      if (*eff && !streq(eff, "PreferNoSchedule"))
        continue;
      if (sched_toleration_tolerates(tol, taint)) {
        tolerated = true;
        break;
      }
    }
    if (!tolerated)
      count++;
  }
  return count;
}

static void normalize_taint_toleration(const struct sched_cycle *c,
                                       struct sched_node_info *const *nodes, int64_t *scores,
                                       size_t n) {
  default_normalize(scores, n, true);
}

/* ---- InterPodAffinity ---- */

static void ipa_add(struct sched_cycle *c, const struct sched_affinity_term *term,
                    const struct sched_pod_info *target, const struct sched_node_info *node,
                    int64_t weight) {
  const char *v = sched_node_label(node, term->topology_key);
  if (!v || !sched_affinity_term_matches(term, target))
    return;
  char *k = xasprintf("%s\x1f%s", term->topology_key, v);
  int64_t cur = (int64_t)(intptr_t)sched_map_get(&c->ipa_scores, k);
  sched_map_put(&c->ipa_scores, k, (void *)(intptr_t)(cur + weight));
  free(k);
  c->ipa_any = true;
}

struct ipa_visit {
  struct sched_cycle *c;
  const struct sched_affinity_term *term;
  int64_t weight;
};

static void ipa_visit_incoming_term(void *ud, struct sched_pod_info *ep) {
  struct ipa_visit *v = ud;
  ipa_add(v->c, v->term, ep, ep->node, v->weight);
}

static void ipa_incoming_terms(struct sched_cycle *c, const struct sched_affinity_terms *terms,
                               int sign) {
  for (size_t i = 0; i < terms->n; i++) {
    struct ipa_visit v = {c, &terms->v[i], sign * (int64_t)terms->v[i].weight};
    sched_snapshot_visit_candidates(c->snap, v.term->selector, v.term->namespaces,
                                    v.term->all_namespaces, ipa_visit_incoming_term, &v);
  }
}

/* Existing pods' terms about the incoming pod; required affinity counts with kube's default
 * hardPodAffinityWeight of 1. */
static void ipa_existing_pod(struct sched_cycle *c, const struct sched_pod_info *ep) {
  const struct sched_pod_info *pod = c->pod;
  const struct sched_node_info *node = ep->node;
  for (size_t i = 0; i < ep->req_affinity.n; i++)
    ipa_add(c, &ep->req_affinity.v[i], pod, node, 1);
  for (size_t i = 0; i < ep->pref_affinity.n; i++)
    ipa_add(c, &ep->pref_affinity.v[i], pod, node, ep->pref_affinity.v[i].weight);
  for (size_t i = 0; i < ep->pref_anti_affinity.n; i++)
    ipa_add(c, &ep->pref_anti_affinity.v[i], pod, node, -ep->pref_anti_affinity.v[i].weight);
}

static void prescore_inter_pod_affinity(struct sched_cycle *c, struct sched_node_info *const *nodes,
                                        size_t n) {
  const struct sched_snapshot *s = c->snap;
  sched_map_clear(&c->ipa_scores);
  c->ipa_any = false;
  ipa_incoming_terms(c, &c->pod->pref_affinity, 1);
  ipa_incoming_terms(c, &c->pod->pref_anti_affinity, -1);
  for (size_t i = 0; i < s->n_affinity_pods; i++)
    if (s->affinity_pods[i]->node->node)
      ipa_existing_pod(c, s->affinity_pods[i]);
}

int64_t sched_score_inter_pod_affinity(const struct sched_cycle *c,
                                       const struct sched_node_info *ni) {
  if (!c->ipa_any)
    return 0;
  int64_t score = 0;
  const char *k;
  json_t *v;
  json_object_foreach(ni->labels, k, v) {
    if (!json_is_string(v))
      continue;
    char buf[512];
    int len = snprintf(buf, sizeof(buf), "%s\x1f%s", k, json_string_value(v));
    if (len >= 0 && (size_t)len < sizeof(buf)) {
      score += (int64_t)(intptr_t)sched_map_getn(&c->ipa_scores, buf, (size_t)len);
    } else {
      _cleanup_free_ char *key = xasprintf("%s\x1f%s", k, json_string_value(v));
      score += (int64_t)(intptr_t)sched_map_get(&c->ipa_scores, key);
    }
  }
  return score;
}

static void normalize_inter_pod_affinity(const struct sched_cycle *c,
                                         struct sched_node_info *const *nodes, int64_t *scores,
                                         size_t n) {
  if (!c->ipa_any)
    return;
  int64_t min = INT64_MAX, max = INT64_MIN;
  for (size_t i = 0; i < n; i++) {
    if (scores[i] < min)
      min = scores[i];
    if (scores[i] > max)
      max = scores[i];
  }
  for (size_t i = 0; i < n; i++)
    scores[i] =
        max > min
            ? (int64_t)(SCHED_MAX_NODE_SCORE * ((double)(scores[i] - min) / (double)(max - min)))
            : 0;
}

/* ---- PodTopologySpread (ScheduleAnyway) ---- */

static bool has_soft_keys(const struct sched_cycle *c, const struct sched_node_info *ni) {
  for (size_t k = 0; k < c->n_soft; k++)
    if (!sched_node_label(ni, c->soft[k].topology_key))
      return false;
  return true;
}

static int64_t count_matching(const struct sched_node_info *ni, const selector_t *sel,
                              const char *ns) {
  int64_t n = 0;
  for (size_t i = 0; i < ni->n_pods; i++) {
    const struct sched_pod_info *p = ni->pods[i];
    if (!p->terminating && streq(p->ns, ns) && selector_matches(sel, p->labels))
      n++;
  }
  return n;
}

/* Soft constraint counts are stored as count + 1, so that a domain seen among the
 * feasible nodes with no matching pod is told apart from an unknown one. */
static void prescore_topology_spread(struct sched_cycle *c, struct sched_node_info *const *nodes,
                                     size_t n) {
  if (!c->n_soft)
    return;
  for (size_t k = 0; k < c->n_soft; k++)
    sched_map_clear(&c->soft[k].counts);
  size_t considered = 0;
  for (size_t i = 0; i < n; i++) {
    if (!has_soft_keys(c, nodes[i]))
      continue;
    considered++;
    for (size_t k = 0; k < c->n_soft; k++) {
      struct sched_topology_constraint *tc = &c->soft[k];
      if (!streq(tc->topology_key, LABEL_HOSTNAME))
        sched_map_put(&tc->counts, sched_node_label(nodes[i], tc->topology_key), (void *)1);
    }
  }
  for (size_t k = 0; k < c->n_soft; k++) {
    struct sched_topology_constraint *tc = &c->soft[k];
    tc->n_domains = streq(tc->topology_key, LABEL_HOSTNAME) ? considered : tc->counts.len;
    tc->weight = log((double)tc->n_domains + 2);
  }
  /* Pods are counted over the whole cluster, but only in the domains of feasible nodes. */
  sched_spread_count(c, c->soft, c->n_soft);
}

int64_t sched_score_topology_spread(const struct sched_cycle *c, const struct sched_node_info *ni) {
  if (!c->n_soft || !has_soft_keys(c, ni))
    return 0;
  double score = 0;
  for (size_t k = 0; k < c->n_soft; k++) {
    const struct sched_topology_constraint *tc = &c->soft[k];
    int64_t cnt;
    if (streq(tc->topology_key, LABEL_HOSTNAME)) {
      cnt = count_matching(ni, tc->selector, c->pod->ns);
    } else {
      intptr_t v = (intptr_t)sched_map_get(&tc->counts, sched_node_label(ni, tc->topology_key));
      cnt = v > 0 ? v - 1 : 0;
    }
    score += (double)cnt * tc->weight + (double)(tc->max_skew - 1);
  }
  return (int64_t)llround(score);
}

static void normalize_topology_spread(const struct sched_cycle *c,
                                      struct sched_node_info *const *nodes, int64_t *scores,
                                      size_t n) {
  if (!c->n_soft)
    return;
  int64_t min = INT64_MAX, max = 0;
  for (size_t i = 0; i < n; i++) {
    if (!has_soft_keys(c, nodes[i]))
      continue;
    if (scores[i] < min)
      min = scores[i];
    if (scores[i] > max)
      max = scores[i];
  }
  for (size_t i = 0; i < n; i++) {
    if (!has_soft_keys(c, nodes[i]))
      scores[i] = 0;
    else if (max == 0)
      scores[i] = SCHED_MAX_NODE_SCORE;
    else
      scores[i] = SCHED_MAX_NODE_SCORE * (max + min - scores[i]) / max;
  }
}

/* ---- the profile ---- */

/* ---- PreScore skips: every node would score 0 ---- */

static bool skip_node_affinity(const struct sched_cycle *c) {
  return json_array_size(c->pod->preferred_node_terms) == 0;
}

static bool skip_topology_spread(const struct sched_cycle *c) {
  return c->n_soft == 0;
}

static bool skip_inter_pod_affinity(const struct sched_cycle *c) {
  return !c->ipa_any;
}

const struct sched_score_plugin sched_score_plugins[] = {
    {"NodeResourcesFit", 1, NULL, NULL, sched_score_least_allocated, NULL},
    {"TaintToleration", 3, NULL, NULL, sched_score_taint_toleration, normalize_taint_toleration},
    {"NodeAffinity", 2, NULL, skip_node_affinity, sched_score_node_affinity,
     normalize_node_affinity},
    {"PodTopologySpread", 2, prescore_topology_spread, skip_topology_spread,
     sched_score_topology_spread, normalize_topology_spread},
    {"InterPodAffinity", 2, prescore_inter_pod_affinity, skip_inter_pod_affinity,
     sched_score_inter_pod_affinity, normalize_inter_pod_affinity},
    {"NodeResourcesBalancedAllocation", 1, NULL, NULL, sched_score_balanced_allocation, NULL},
    {NULL, 0, NULL, NULL, NULL, NULL},
};

/* Feasible sets up to this size (every cluster below 20,000 nodes under the adaptive
 * percentage) score without a heap allocation. */
#define SCORES_ON_STACK 1024

void sched_score_nodes(struct sched_cycle *c, struct sched_node_info *const *nodes, size_t n,
                       int64_t *ret_totals, int64_t *per_plugin) {
  int64_t stack_scores[SCORES_ON_STACK];
  _cleanup_free_ int64_t *heap_scores = n > SCORES_ON_STACK ? xcalloc(n, sizeof(int64_t)) : NULL;
  int64_t *scores = heap_scores ? heap_scores : stack_scores;
  memset(ret_totals, 0, n * sizeof(int64_t));
  size_t p = 0;
  for (const struct sched_score_plugin *pl = sched_score_plugins; pl->name; pl++, p++) {
    if (pl->prescore)
      pl->prescore(c, nodes, n);
    if (pl->skip && pl->skip(c)) {
      if (per_plugin)
        memset(per_plugin + p * n, 0, n * sizeof(int64_t));
      continue;
    }
    for (size_t i = 0; i < n; i++)
      scores[i] = pl->score(c, nodes[i]);
    if (pl->normalize)
      pl->normalize(c, nodes, scores, n);
    for (size_t i = 0; i < n; i++) {
      ret_totals[i] += pl->weight * scores[i];
      if (per_plugin)
        per_plugin[p * n + i] = scores[i];
    }
  }
}

/* ---- selection ---- */

size_t sched_num_feasible_to_find(size_t n_all) {
  /* kube's minFeasibleNodesToFind, minFeasibleNodesPercentageToFind and the adaptive
   * default percentage of 50 - nodes/125. */
  if (n_all < 100)
    return n_all;
  long pct = 50 - (long)(n_all / 125);
  if (pct < 5)
    pct = 5;
  size_t want = n_all * (size_t)pct / 100;
  return want < 100 ? 100 : want;
}

void sched_result_clear(struct sched_result *r) {
  free(r->node_name);
  sched_diagnosis_clear(&r->diag);
  for (size_t i = 0; i < r->n_failed; i++)
    sched_status_clear(&r->failed[i].status);
  free(r->failed);
  *r = (struct sched_result){0};
}

static char *join_reasons(const struct sched_status *st) {
  size_t len = 1;
  for (size_t i = 0; i < st->n_reasons; i++)
    len += strlen(st->reasons[i]) + 2;
  char *out = xcalloc(1, len);
  for (size_t i = 0; i < st->n_reasons; i++) {
    if (i)
      strcat(out, ", ");
    strcat(out, st->reasons[i]);
  }
  return out;
}

static struct sched_status *add_failed(struct sched_result *r, struct sched_node_info *ni) {
  r->failed = xgrow(r->failed, r->n_failed, &r->cap_failed, sizeof(*r->failed));
  r->failed[r->n_failed] = (struct sched_node_status){ni, {0}};
  return &r->failed[r->n_failed++].status;
}

#define PREFETCH_DISTANCE 8

int sched_find_nodes(struct sched_snapshot *s, struct sched_cycle *c, struct sched_result *ret) {
  size_t n_all = s->n_nodes;
  *ret = (struct sched_result){0};
  ret->diag.n_all_nodes = n_all;
  if (n_all == 0)
    return -ENODEV;
  if (c->prefilter.code != SCHED_SUCCESS) {
    /* A PreFilter rejection applies to every node; the message carries it alone. */
    ret->diag.prefilter_msg = join_reasons(&c->prefilter);
    for (size_t i = 0; i < n_all; i++) {
      struct sched_status *st = add_failed(ret, s->nodes[i]);
      for (size_t r = 0; r < c->prefilter.n_reasons; r++)
        sched_status_add(st, c->prefilter.code, c->prefilter.reasons[r]);
      st->plugin = c->prefilter.plugin;
    }
    return -ENOSPC;
  }
  size_t want = sched_num_feasible_to_find(n_all), start = s->next_start % n_all, processed = 0;
  if (s->cap_scratch < want) {
    free(s->scratch_feasible);
    free(s->scratch_totals);
    s->scratch_feasible = xmalloc(want * sizeof(*s->scratch_feasible));
    s->scratch_totals = xmalloc(want * sizeof(*s->scratch_totals));
    s->cap_scratch = want;
  }
  struct sched_node_info **feasible = s->scratch_feasible;
  size_t n_feasible = 0;
  for (size_t i = 0; i < n_all && n_feasible < want; i++) {
    size_t idx = (start + i) % n_all;
    struct sched_node_info *ni = s->nodes[idx];
    /* Node infos lie scattered in the heap and a cycle reads a few hundred of them, each
     * once: ask for the hot fields of a node a few steps ahead while filtering this one. */
    const char *ahead = (const char *)s->nodes[(idx + PREFETCH_DISTANCE) % n_all];
    __builtin_prefetch(ahead);
    __builtin_prefetch(ahead + 64);
    __builtin_prefetch(ahead + offsetof(struct sched_node_info, nonzero_memory));
    processed++;
    struct sched_status st = {0};
    if (sched_run_filters(c, ni, &st) == SCHED_SUCCESS) {
      feasible[n_feasible++] = ni;
    } else {
      sched_diagnosis_add(&ret->diag, &st);
      *add_failed(ret, ni) = st;
    }
  }
  s->next_start = (start + processed) % n_all;
  ret->n_feasible = n_feasible;
  if (n_feasible == 0)
    return -ENOSPC;
  struct sched_node_info *best = feasible[0];
  if (n_feasible > 1) {
    int64_t *totals = s->scratch_totals;
    sched_score_nodes(c, feasible, n_feasible, totals, NULL);
    /* selectHost: the highest total, a uniformly random one among equals. */
    int64_t max = totals[0];
    size_t ties = 1;
    for (size_t i = 1; i < n_feasible; i++) {
      if (totals[i] > max) {
        max = totals[i];
        best = feasible[i];
        ties = 1;
      } else if (totals[i] == max && next_rand(s) % ++ties == 0) {
        best = feasible[i];
      }
    }
  }
  ret->node_name = xstrdup(best->name);
  return 0;
}

/* ---- preemption ---- */

#define MSG_NOT_HELPFUL "Preemption is not helpful for scheduling"
#define MSG_NO_VICTIMS "No preemption victims found for incoming pod"

void sched_preemption_clear(struct sched_preemption *p) {
  free(p->node_name);
  /* The caller may have taken the victims vector (TAKE_PTR). */
  for (size_t i = 0; p->victims && i < p->n_victims; i++)
    free(p->victims[i]);
  free(p->victims);
  sched_diagnosis_clear(&p->diag);
  free(p->message);
  *p = (struct sched_preemption){0};
}

struct candidate {
  struct sched_node_info *node;
  struct sched_pod_info **victims; /* most important first */
  size_t n_victims;
};

/* MoreImportantPod: higher priority, then the earlier start. Pods without a start time
 * count as starting now. */
static int cmp_importance(const void *a, const void *b) {
  const struct sched_pod_info *x = *(struct sched_pod_info *const *)a;
  const struct sched_pod_info *y = *(struct sched_pod_info *const *)b;
  if (x->priority != y->priority)
    return x->priority > y->priority ? -1 : 1;
  const char *sx = x->start_time ? x->start_time : "~", *sy = y->start_time ? y->start_time : "~";
  return strcmp(sx, sy);
}

/* SelectVictimsOnNode: evict every lower-priority pod, check the pod fits, then reprieve
 * the most important victims one by one while it still fits. */
static enum sched_code select_victims(const struct sched_cycle *c, struct sched_node_info *ni,
                                      struct candidate *ret, struct sched_status *st) {
  struct sched_node_info *copy = sched_node_info_copy(ni);
  struct sched_pod_info **potential = xmalloc((ni->n_pods + 1) * sizeof(*potential));
  size_t n_potential = 0;
  for (size_t i = 0; i < ni->n_pods; i++)
    if (ni->pods[i]->priority < c->pod->priority) {
      potential[n_potential++] = ni->pods[i];
      sched_node_info_copy_remove(copy, ni->pods[i]);
    }
  enum sched_code code = SCHED_SUCCESS;
  if (n_potential == 0) {
    sched_status_add(st, SCHED_UNSCHEDULABLE_UNRESOLVABLE, MSG_NO_VICTIMS);
    code = SCHED_UNSCHEDULABLE_UNRESOLVABLE;
    goto out;
  }
  code = sched_run_filters(c, copy, st);
  if (code != SCHED_SUCCESS)
    goto out;
  qsort(potential, n_potential, sizeof(*potential), cmp_importance);
  ret->node = ni;
  ret->victims = xmalloc(n_potential * sizeof(*ret->victims));
  ret->n_victims = 0;
  for (size_t i = 0; i < n_potential; i++) {
    struct sched_status tmp = {0};
    sched_node_info_copy_add(copy, potential[i]);
    if (sched_run_filters(c, copy, &tmp) != SCHED_SUCCESS) {
      sched_node_info_copy_remove(copy, potential[i]);
      ret->victims[ret->n_victims++] = potential[i];
    }
    sched_status_clear(&tmp);
  }
  if (ret->n_victims == 0) {
    /* The pod fits without evicting anyone: preemption is not how it gets placed. */
    free(ret->victims);
    *ret = (struct candidate){0};
    _cleanup_free_ char *msg =
        xasprintf("expected at least one victim pod on node \"%s\"", ni->name);
    sched_status_add(st, SCHED_UNSCHEDULABLE, msg);
    code = SCHED_UNSCHEDULABLE;
  }
out:
  free(potential);
  sched_node_info_free_copy(copy);
  return code;
}

static int64_t victim_priority_sum(const struct candidate *cd) {
  /* Offsets keep negative priorities from lowering the sum below fewer victims'. */
  int64_t sum = 0;
  for (size_t i = 0; i < cd->n_victims; i++)
    sum += (int64_t)cd->victims[i]->priority + INT32_MAX + 1;
  return sum;
}

/* GetEarliestPodStartTime among the highest-priority victims. */
static const char *earliest_start(const struct candidate *cd) {
  const char *earliest = NULL;
  int32_t top = cd->victims[0]->priority;
  for (size_t i = 0; i < cd->n_victims && cd->victims[i]->priority == top; i++) {
    const char *t = cd->victims[i]->start_time ? cd->victims[i]->start_time : "~";
    if (!earliest || strcmp(t, earliest) < 0)
      earliest = t;
  }
  return earliest;
}

/* pickOneNodeForPreemption's criteria after PDB violations (none here). */
static bool better_candidate(const struct candidate *a, const struct candidate *b) {
  if (a->victims[0]->priority != b->victims[0]->priority)
    return a->victims[0]->priority < b->victims[0]->priority;
  int64_t sa = victim_priority_sum(a), sb = victim_priority_sum(b);
  if (sa != sb)
    return sa < sb;
  if (a->n_victims != b->n_victims)
    return a->n_victims < b->n_victims;
  return strcmp(earliest_start(a), earliest_start(b)) > 0;
}

int sched_preempt(struct sched_snapshot *s, struct sched_cycle *c, const struct sched_result *r,
                  struct sched_preemption *ret) {
  *ret = (struct sched_preemption){0};
  const char *policy = json_path_str(c->pod->pod, "spec.preemptionPolicy");
  if (policy && streq(policy, "Never")) {
    ret->message = xstrdup("preemption: not eligible due to preemptionPolicy=Never.");
    return -ENOSPC;
  }
  ret->diag.n_all_nodes = r->diag.n_all_nodes;
  struct sched_node_info **potential = xmalloc((r->n_failed + 1) * sizeof(*potential));
  size_t n_potential = 0;
  struct sched_status not_helpful = {0};
  sched_status_add(&not_helpful, SCHED_UNSCHEDULABLE_UNRESOLVABLE, MSG_NOT_HELPFUL);
  for (size_t i = 0; i < r->n_failed; i++) {
    if (r->failed[i].status.code == SCHED_UNSCHEDULABLE)
      potential[n_potential++] = r->failed[i].node;
    else
      sched_diagnosis_add(&ret->diag, &not_helpful);
  }
  sched_status_clear(&not_helpful);

  /* kube dry-runs max(10 %, 100) of the potential nodes from a random offset. */
  size_t want = n_potential / 10;
  if (want < 100)
    want = 100;
  if (want > n_potential)
    want = n_potential;
  struct candidate *cands = xcalloc(want + 1, sizeof(*cands));
  size_t n_cands = 0, offset = n_potential ? next_rand(s) % n_potential : 0;
  for (size_t k = 0; k < n_potential && n_cands < want; k++) {
    struct sched_node_info *ni = potential[(offset + k) % n_potential];
    struct sched_status st = {0};
    if (select_victims(c, ni, &cands[n_cands], &st) == SCHED_SUCCESS)
      n_cands++;
    else
      sched_diagnosis_add(&ret->diag, &st);
    sched_status_clear(&st);
  }
  free(potential);
  int rc = -ENOSPC;
  if (n_cands == 0) {
    ret->message = sched_preempt_message(&ret->diag);
  } else {
    size_t best = 0;
    for (size_t i = 1; i < n_cands; i++)
      if (better_candidate(&cands[i], &cands[best]))
        best = i;
    ret->node_name = xstrdup(cands[best].node->name);
    ret->n_victims = cands[best].n_victims;
    ret->victims = xcalloc(ret->n_victims + 1, sizeof(char *));
    for (size_t i = 0; i < ret->n_victims; i++)
      ret->victims[i] = xstrdup(cands[best].victims[i]->key);
    sched_diagnosis_clear(&ret->diag);
    rc = 0;
  }
  for (size_t i = 0; i < n_cands; i++)
    free(cands[i].victims);
  free(cands);
  return rc;
}
