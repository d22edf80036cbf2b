/* filters.c — the cycle's PreFilter state, kube-scheduler's default filter plugins and the
 * FailedScheduling message. Reason texts are kube-scheduler 1.32's, word for word. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/strbuf.h"
#include "scheduler/framework.h"

#define ERR_NODE_NAME "node(s) didn't match the requested node name"
#define ERR_UNSCHEDULABLE "node(s) were unschedulable"
#define ERR_PORTS "node(s) didn't have free ports for the requested pod ports"
#define ERR_NODE_AFFINITY "node(s) didn't match Pod's node affinity/selector"
#define ERR_AFFINITY "node(s) didn't match pod affinity rules"
#define ERR_ANTI_AFFINITY "node(s) didn't match pod anti-affinity rules"
#define ERR_EXISTING_ANTI "node(s) didn't satisfy existing pods anti-affinity rules"
#define ERR_SPREAD "node(s) didn't match pod topology spread constraints"
#define ERR_SPREAD_LABEL ERR_SPREAD " (missing required label)"
#define ERR_UNBOUND_IMMEDIATE "pod has unbound immediate PersistentVolumeClaims"

/* ---- topology pair counters ---- */

static char *pair_key(const char *key, const char *value) {
  return xasprintf("%s\x1f%s", key, value);
}

static int64_t pair_get(const struct sched_map *m, const char *key, const char *value) {
  /* Looked up for every node of a cycle: spare the allocation for ordinary sizes. */
  char buf[512];
  int n = snprintf(buf, sizeof(buf), "%s\x1f%s", key, value);
  if (n >= 0 && (size_t)n < sizeof(buf))
    return (int64_t)(intptr_t)sched_map_getn(m, buf, (size_t)n);
  _cleanup_free_ char *k = pair_key(key, value);
  return (int64_t)(intptr_t)sched_map_get(m, k);
}

static void pair_add(struct sched_map *m, const char *key, const char *value, int64_t n) {
  _cleanup_free_ char *k = pair_key(key, value);
  int64_t cur = (int64_t)(intptr_t)sched_map_get(m, k);
  sched_map_put(m, k, (void *)(intptr_t)(cur + n));
}

/* ---- tolerations and node affinity ---- */

static const char *str_or_empty(const json_t *obj, const char *key) {
  const char *s = json_string_value(json_object_get(obj, key));
  return s ? s : "";
}

/* ToleratesTaint against a taint given by its parts ("" when absent). */
static bool tolerates_parts(const json_t *tol, const char *taint_key, const char *taint_value,
                            const char *taint_effect) {
  const char *effect = str_or_empty(tol, "effect"), *key = str_or_empty(tol, "key");
  if (*effect && !streq(effect, taint_effect))
    return false;
  if (*key && !streq(key, taint_key))
    return false;
  const char *op = str_or_empty(tol, "operator");
  if (!*op || streq(op, "Equal"))
    return streq(str_or_empty(tol, "value"), taint_value);
  return streq(op, "Exists");
}

bool sched_toleration_tolerates(const json_t *tol, const json_t *taint) {
  return tolerates_parts(tol, str_or_empty(taint, "key"), str_or_empty(taint, "value"),
                         str_or_empty(taint, "effect"));
}

bool sched_tolerates(const json_t *tolerations, const json_t *taint) {
  size_t i;
  json_t *tol;
  json_array_foreach(tolerations, i, tol) {
    if (sched_toleration_tolerates(tol, taint))
      return true;
  }
  return false;
}

static const json_t *pod_tolerations(const struct sched_cycle *c) {
  return c->pod->tolerations;
}

/* The first NoSchedule/NoExecute taint the tolerations do not tolerate, or NULL. */
static const json_t *untolerated_hard_taint(const json_t *tolerations,
                                            const struct sched_node_info *ni) {
  size_t i;
  json_t *taint;
  if (!ni->n_hard_taints)
    return NULL;
  json_array_foreach(ni->taints, i, taint) {
    const char *effect = str_or_empty(taint, "effect");
    if (!streq(effect, "NoSchedule") && !streq(effect, "NoExecute"))
      continue;
    if (!sched_tolerates(tolerations, taint))
      return taint;
  }
  return NULL;
}

static bool parse_int64(const char *s, int64_t *ret) {
  char *end;
  if (!s || !*s)
    return false;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || *end)
    return false;
  *ret = v;
  return true;
}

static bool values_contain(const json_t *values, const char *v) {
  size_t i;
  json_t *e;
  json_array_foreach(values, i, e) {
    if (json_is_string(e) && streq(json_string_value(e), v))
      return true;
  }
  return false;
}

/* A NodeSelectorRequirement against one value (NULL when the label is absent). */
static bool requirement_matches(const json_t *req, const char *value, bool fields) {
  const char *op = str_or_empty(req, "operator");
  const json_t *values = json_object_get(req, "values");
  if (streq(op, "In"))
    return value && values_contain(values, value);
  if (streq(op, "NotIn"))
    return !value || !values_contain(values, value);
  if (fields)
    return false;
  if (streq(op, "Exists"))
    return value != NULL;
  if (streq(op, "DoesNotExist"))
    return value == NULL;
  if (streq(op, "Gt") || streq(op, "Lt")) {
    int64_t have, want;
    if (json_array_size(values) != 1 || !value || !parse_int64(value, &have) ||
        !parse_int64(json_string_value(json_array_get(values, 0)), &want))
      return false;
    return streq(op, "Gt") ? have > want : have < want;
  }
  return false;
}

bool sched_node_selector_term_matches(const json_t *term, const struct sched_node_info *ni) {
  const json_t *exprs = json_object_get(term, "matchExpressions");
  const json_t *fields = json_object_get(term, "matchFields");
  /* An empty term selects no node. */
  if (json_array_size(exprs) == 0 && json_array_size(fields) == 0)
    return false;
  size_t i;
  json_t *req;
  json_array_foreach(exprs, i, req) {
    if (!requirement_matches(req, sched_node_label(ni, str_or_empty(req, "key")), false))
      return false;
  }
  json_array_foreach(fields, i, req) {
    if (!streq(str_or_empty(req, "key"), "metadata.name") ||
        !requirement_matches(req, ni->name, true))
      return false;
  }
  return true;
}

bool sched_node_matches_pod_affinity(const struct sched_pod_info *pod,
                                     const struct sched_node_info *ni) {
  const char *k;
  json_t *v;
  json_object_foreach(pod->node_selector, k, v) {
    const char *have = sched_node_label(ni, k);
    if (!have || !json_is_string(v) || !streq(have, json_string_value(v)))
      return false;
  }
  if (!pod->has_required_node_affinity)
    return true;
  size_t i;
  json_t *term;
  json_array_foreach(pod->required_node_terms, i, term) {
    if (sched_node_selector_term_matches(term, ni))
      return true;
  }
  return false;
}

/* ---- the cycle ---- */

static void volume_prefilter(struct sched_cycle *c, const struct sched_volume_lookup *vl) {
  bool unbound_immediate = false;
  size_t i;
  json_t *vol;
  json_array_foreach(json_path(c->pod->pod, "spec.volumes"), i, vol) {
    const char *claim = json_path_str(vol, "persistentVolumeClaim.claimName");
    if (!claim)
      continue;
    const json_t *pvc = vl->pvc ? vl->pvc(vl->ud, c->pod->ns, claim) : NULL;
    if (!pvc) {
      _cleanup_free_ char *msg = xasprintf("persistentvolumeclaim \"%s\" not found", claim);
      sched_status_add(&c->prefilter, SCHED_UNSCHEDULABLE_UNRESOLVABLE, msg);
      return;
    }
    const json_t *del = json_path((json_t *)pvc, "metadata.deletionTimestamp");
    if (del && !json_is_null(del)) {
      _cleanup_free_ char *msg = xasprintf("persistentvolumeclaim \"%s\" is being deleted", claim);
      sched_status_add(&c->prefilter, SCHED_UNSCHEDULABLE_UNRESOLVABLE, msg);
      return;
    }
    const char *volume = json_path_str((json_t *)pvc, "spec.volumeName");
    if (volume && *volume)
      continue;
    const char *cls = json_path_str((json_t *)pvc, "spec.storageClassName");
    bool wffc =
        cls && *cls && vl->wait_for_first_consumer && vl->wait_for_first_consumer(vl->ud, cls);
    if (!wffc)
      unbound_immediate = true;
  }
  if (unbound_immediate)
    sched_status_add(&c->prefilter, SCHED_UNSCHEDULABLE_UNRESOLVABLE, ERR_UNBOUND_IMMEDIATE);
}

static bool matches_all(const struct sched_affinity_terms *terms,
                        const struct sched_pod_info *pod) {
  for (size_t i = 0; i < terms->n; i++)
    if (!sched_affinity_term_matches(&terms->v[i], pod))
      return false;
  return true;
}

static void visit_affinity(void *ud, struct sched_pod_info *ep) {
  struct sched_cycle *c = ud;
  const struct sched_affinity_terms *terms = &c->pod->req_affinity;
  if (!matches_all(terms, ep))
    return;
  for (size_t t = 0; t < terms->n; t++) {
    const char *v = sched_node_label(ep->node, terms->v[t].topology_key);
    if (v) {
      pair_add(&c->affinity_counts, terms->v[t].topology_key, v, 1);
      c->affinity_counts_any = true;
    }
  }
}

struct term_visit {
  struct sched_cycle *c;
  const struct sched_affinity_term *term;
};

static void visit_anti_affinity(void *ud, struct sched_pod_info *ep) {
  struct term_visit *tv = ud;
  const char *v = sched_node_label(ep->node, tv->term->topology_key);
  if (v && sched_affinity_term_matches(tv->term, ep))
    pair_add(&tv->c->anti_counts, tv->term->topology_key, v, 1);
}

static void inter_pod_affinity_prefilter(struct sched_cycle *c) {
  const struct sched_snapshot *s = c->snap;
  struct sched_pod_info *pod = c->pod;
  /* Existing pods' required anti-affinity against the incoming pod: only pods with
   * affinity terms need a look. */
  for (size_t i = 0; i < s->n_affinity_pods; i++) {
    const struct sched_pod_info *ep = s->affinity_pods[i];
    if (!ep->node->node)
      continue;
    for (size_t t = 0; t < ep->req_anti_affinity.n; t++) {
      const struct sched_affinity_term *term = &ep->req_anti_affinity.v[t];
      const char *v = sched_node_label(ep->node, term->topology_key);
      if (v && sched_affinity_term_matches(term, pod))
        pair_add(&c->existing_anti, term->topology_key, v, 1);
    }
  }
  if (!pod->req_affinity.n && !pod->req_anti_affinity.n)
    return;
  c->pod_matches_own_affinity = matches_all(&pod->req_affinity, pod);
  if (pod->req_affinity.n) {
    /* Any one term's candidates include every pod that matches all terms. */
    const struct sched_affinity_term *t0 = &pod->req_affinity.v[0];
    sched_snapshot_visit_candidates(s, t0->selector, t0->namespaces, t0->all_namespaces,
                                    visit_affinity, c);
  }
  for (size_t t = 0; t < pod->req_anti_affinity.n; t++) {
    struct term_visit tv = {c, &pod->req_anti_affinity.v[t]};
    sched_snapshot_visit_candidates(s, tv.term->selector, tv.term->namespaces,
                                    tv.term->all_namespaces, visit_anti_affinity, &tv);
  }
}

static void constraints_parse(struct sched_cycle *c) {
  size_t i, n = json_array_size(json_path(c->pod->pod, "spec.topologySpreadConstraints"));
  json_t *e;
  if (!n)
    return;
  c->hard = xcalloc(n, sizeof(*c->hard));
  c->soft = xcalloc(n, sizeof(*c->soft));
  json_array_foreach(json_path(c->pod->pod, "spec.topologySpreadConstraints"), i, e) {
    const char *when = str_or_empty(e, "whenUnsatisfiable");
    struct sched_topology_constraint *tc;
    if (streq(when, "DoNotSchedule"))
      tc = &c->hard[c->n_hard++];
    else if (streq(when, "ScheduleAnyway"))
      tc = &c->soft[c->n_soft++];
    else
      continue;
    tc->max_skew = (int32_t)json_integer_value(json_object_get(e, "maxSkew"));
    tc->topology_key = str_or_empty(e, "topologyKey");
    if (selector_from_json(json_object_get(e, "labelSelector"), &tc->selector, NULL) < 0)
      tc->selector = selector_nothing();
    json_t *md = json_object_get(e, "minDomains");
    tc->min_domains = json_is_integer(md) ? (int32_t)json_integer_value(md) : 1;
    tc->honor_affinity = !streq(str_or_empty(e, "nodeAffinityPolicy"), "Ignore");
    tc->honor_taints = streq(str_or_empty(e, "nodeTaintsPolicy"), "Honor");
    tc->self_match = selector_matches(tc->selector, c->pod->labels);
  }
}

static bool node_passes_policy(const struct sched_cycle *c,
                               const struct sched_topology_constraint *tc,
                               const struct sched_node_info *ni) {
  if (tc->honor_affinity && !sched_node_matches_pod_affinity(c->pod, ni))
    return false;
  if (tc->honor_taints && untolerated_hard_taint(pod_tolerations(c), ni))
    return false;
  return true;
}

static bool node_has_keys(const struct sched_topology_constraint *v, size_t n,
                          const struct sched_node_info *ni) {
  for (size_t i = 0; i < n; i++)
    if (!sched_node_label(ni, v[i].topology_key))
      return false;
  return true;
}

struct spread_visit {
  const struct sched_cycle *c;
  struct sched_topology_constraint *tc;
  const struct sched_topology_constraint *all;
  size_t n_all;
};

/* countPodsMatchSelector over the pods the label index offers: same namespace, not
 * terminating, selected; on a node that is a counted domain. */
static void visit_spread(void *ud, struct sched_pod_info *p) {
  struct spread_visit *sv = ud;
  if (p->terminating || !streq(p->ns, sv->c->pod->ns) ||
      !selector_matches(sv->tc->selector, p->labels))
    return;
  const char *v = sched_node_label(p->node, sv->tc->topology_key);
  if (!v)
    return;
  intptr_t cur = (intptr_t)sched_map_get(&sv->tc->counts, v);
  /* Domains exist only for nodes that pass the policies; stored as count + 1. */
  if (cur > 0 && node_has_keys(sv->all, sv->n_all, p->node) &&
      node_passes_policy(sv->c, sv->tc, p->node))
    sched_map_put(&sv->tc->counts, v, (void *)(cur + 1));
}

void sched_spread_count(const struct sched_cycle *c, struct sched_topology_constraint *all,
                        size_t n_all) {
  for (size_t k = 0; k < n_all; k++) {
    struct sched_topology_constraint *tc = &all[k];
    struct spread_visit sv = {c, tc, all, n_all};
    char *ns[] = {(char *)c->pod->ns, NULL};
    sched_snapshot_visit_candidates(c->snap, tc->selector, ns, false, visit_spread, &sv);
  }
}

static void topology_spread_prefilter(struct sched_cycle *c) {
  const struct sched_snapshot *s = c->snap;
  if (!c->n_hard)
    return;
  for (size_t n = 0; n < s->n_nodes; n++) {
    const struct sched_node_info *ni = s->nodes[n];
    if (!node_has_keys(c->hard, c->n_hard, ni))
      continue;
    for (size_t k = 0; k < c->n_hard; k++) {
      struct sched_topology_constraint *tc = &c->hard[k];
      const char *v = sched_node_label(ni, tc->topology_key);
      if (!sched_map_get(&tc->counts, v) && node_passes_policy(c, tc, ni))
        sched_map_put(&tc->counts, v, (void *)1);
    }
  }
  sched_spread_count(c, c->hard, c->n_hard);
  for (size_t k = 0; k < c->n_hard; k++) {
    struct sched_topology_constraint *tc = &c->hard[k];
    tc->n_domains = tc->counts.len;
    tc->critical_min = INT64_MAX;
    const char *key;
    void *v;
    for (size_t it = 0; sched_map_next(&tc->counts, &it, &key, &v);)
      if ((int64_t)(intptr_t)v - 1 < tc->critical_min)
        tc->critical_min = (int64_t)(intptr_t)v - 1;
    if (tc->critical_min == INT64_MAX || (int64_t)tc->n_domains < tc->min_domains)
      tc->critical_min = 0;
  }
}

/* The node lifecycle controller's taint for cordoned nodes: a pod tolerating it may go. */
static bool pod_tolerates_unschedulable(const struct sched_pod_info *pod) {
  size_t i;
  json_t *tol;
  json_array_foreach(pod->tolerations, i, tol) {
    if (tolerates_parts(tol, "node.kubernetes.io/unschedulable", "", "NoSchedule"))
      return true;
  }
  return false;
}

static uint32_t filters_to_skip(const struct sched_cycle *c) {
  uint32_t mask = 0;
  for (size_t i = 0; sched_filter_plugins[i].name; i++)
    if (sched_filter_plugins[i].skip && sched_filter_plugins[i].skip(c))
      mask |= UINT32_C(1) << i;
  return mask;
}

struct sched_cycle *sched_cycle_new(const struct sched_snapshot *snap, json_t *pod,
                                    const struct sched_volume_lookup *volumes) {
  struct sched_cycle *c = xcalloc(1, sizeof(*c));
  c->snap = snap;
  c->pod = sched_pod_info_new(pod);
  c->tolerates_unschedulable = pod_tolerates_unschedulable(c->pod);
  if (volumes)
    volume_prefilter(c, volumes);
  if (c->prefilter.code != SCHED_SUCCESS) {
    c->prefilter.plugin = "VolumeBinding";
    return c;
  }
  inter_pod_affinity_prefilter(c);
  constraints_parse(c);
  topology_spread_prefilter(c);
  c->skip_filters = filters_to_skip(c);
  return c;
}

static void constraints_free(struct sched_topology_constraint *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    selector_free(v[i].selector);
    sched_map_clear(&v[i].counts);
  }
  free(v);
}

void sched_cycle_free(struct sched_cycle *c) {
  if (!c)
    return;
  sched_pod_info_free(c->pod);
  sched_status_clear(&c->prefilter);
  sched_map_clear(&c->existing_anti);
  sched_map_clear(&c->affinity_counts);
  sched_map_clear(&c->anti_counts);
  sched_map_clear(&c->ipa_scores);
  constraints_free(c->hard, c->n_hard);
  constraints_free(c->soft, c->n_soft);
  free(c);
}

/* ---- filters ---- */

static enum sched_code fail(struct sched_status *st, enum sched_code code, const char *plugin,
                            const char *reason) {
  sched_status_add(st, code, reason);
  st->plugin = plugin;
  return code;
}

enum sched_code sched_filter_node_name(const struct sched_cycle *c,
                                       const struct sched_node_info *ni, struct sched_status *st) {
  const char *want = c->pod->node_name;
  if (want && !streq(want, ni->name))
    return fail(st, SCHED_UNSCHEDULABLE_UNRESOLVABLE, "NodeName", ERR_NODE_NAME);
  return SCHED_SUCCESS;
}

enum sched_code sched_filter_node_unschedulable(const struct sched_cycle *c,
                                                const struct sched_node_info *ni,
                                                struct sched_status *st) {
  if (!ni->unschedulable || c->tolerates_unschedulable)
    return SCHED_SUCCESS;
  return fail(st, SCHED_UNSCHEDULABLE_UNRESOLVABLE, "NodeUnschedulable", ERR_UNSCHEDULABLE);
}

enum sched_code sched_filter_taint_toleration(const struct sched_cycle *c,
                                              const struct sched_node_info *ni,
                                              struct sched_status *st) {
  const json_t *taint = untolerated_hard_taint(pod_tolerations(c), ni);
  if (!taint)
    return SCHED_SUCCESS;
  _cleanup_free_ char *msg = xasprintf("node(s) had untolerated taint {%s: %s}",
                                       str_or_empty(taint, "key"), str_or_empty(taint, "value"));
  return fail(st, SCHED_UNSCHEDULABLE_UNRESOLVABLE, "TaintToleration", msg);
}

enum sched_code sched_filter_node_affinity(const struct sched_cycle *c,
                                           const struct sched_node_info *ni,
                                           struct sched_status *st) {
  if (sched_node_matches_pod_affinity(c->pod, ni))
    return SCHED_SUCCESS;
  return fail(st, SCHED_UNSCHEDULABLE_UNRESOLVABLE, "NodeAffinity", ERR_NODE_AFFINITY);
}

/* HostPortInfo.CheckConflict: 0.0.0.0 on either side overlaps every address. */
static bool port_conflicts(const struct sched_node_info *ni, const struct sched_host_port *p) {
  bool any = streq(p->ip, "0.0.0.0");
  for (size_t i = 0; i < ni->n_ports; i++) {
    const struct sched_used_port *u = &ni->ports[i];
    if (u->port != p->port || !streq(u->protocol, p->protocol))
      continue;
    if (any || streq(u->ip, "0.0.0.0") || streq(u->ip, p->ip))
      return true;
  }
  return false;
}

enum sched_code sched_filter_node_ports(const struct sched_cycle *c,
                                        const struct sched_node_info *ni, struct sched_status *st) {
  for (size_t i = 0; i < c->pod->n_ports; i++)
    if (port_conflicts(ni, &c->pod->ports[i]))
      return fail(st, SCHED_UNSCHEDULABLE, "NodePorts", ERR_PORTS);
  return SCHED_SUCCESS;
}

enum sched_code sched_filter_node_resources_fit(const struct sched_cycle *c,
                                                const struct sched_node_info *ni,
                                                struct sched_status *st) {
  const struct sched_resource *req = &c->pod->request, *al = &ni->allocatable,
                              *used = &ni->requested;
  if ((int64_t)ni->n_pods + 1 > al->pods)
    sched_status_add(st, SCHED_UNSCHEDULABLE, "Too many pods");
  if (req->milli_cpu > 0 && req->milli_cpu > al->milli_cpu - used->milli_cpu)
    sched_status_add(st, SCHED_UNSCHEDULABLE, "Insufficient cpu");
  if (req->memory > 0 && req->memory > al->memory - used->memory)
    sched_status_add(st, SCHED_UNSCHEDULABLE, "Insufficient memory");
  if (req->ephemeral_storage > 0 &&
      req->ephemeral_storage > al->ephemeral_storage - used->ephemeral_storage)
    sched_status_add(st, SCHED_UNSCHEDULABLE, "Insufficient ephemeral-storage");
  for (size_t i = 0; i < req->n_scalar; i++) {
    const struct sched_scalar *r = &req->scalar[i];
    if (r->value == 0)
      continue;
    if (r->value > sched_resource_scalar(al, r->name) - sched_resource_scalar(used, r->name)) {
      _cleanup_free_ char *msg = xasprintf("Insufficient %s", r->name);
      sched_status_add(st, SCHED_UNSCHEDULABLE, msg);
    }
  }
  if (st->n_reasons)
    st->plugin = "NodeResourcesFit";
  return st->code;
}

enum sched_code sched_filter_pod_topology_spread(const struct sched_cycle *c,
                                                 const struct sched_node_info *ni,
                                                 struct sched_status *st) {
  for (size_t k = 0; k < c->n_hard; k++) {
    const struct sched_topology_constraint *tc = &c->hard[k];
    const char *v = sched_node_label(ni, tc->topology_key);
    if (!v)
      return fail(st, SCHED_UNSCHEDULABLE_UNRESOLVABLE, "PodTopologySpread", ERR_SPREAD_LABEL);
    intptr_t stored = (intptr_t)sched_map_get(&tc->counts, v);
    int64_t match = stored > 0 ? stored - 1 : 0;
    int64_t skew = match + (tc->self_match ? 1 : 0) - tc->critical_min;
    if (skew > tc->max_skew)
      return fail(st, SCHED_UNSCHEDULABLE, "PodTopologySpread", ERR_SPREAD);
  }
  return SCHED_SUCCESS;
}

static bool satisfies_affinity(const struct sched_cycle *c, const struct sched_node_info *ni) {
  const struct sched_affinity_terms *terms = &c->pod->req_affinity;
  bool pods_exist = true;
  for (size_t t = 0; t < terms->n; t++) {
    const char *v = sched_node_label(ni, terms->v[t].topology_key);
    if (!v || pair_get(&c->affinity_counts, terms->v[t].topology_key, v) <= 0) {
      pods_exist = false;
      break;
    }
  }
  if (pods_exist)
    return true;
  /* The first pod of a group that selects itself may go anywhere the topology exists. */
  if (c->affinity_counts_any || !c->pod_matches_own_affinity)
    return false;
  for (size_t t = 0; t < terms->n; t++)
    if (!sched_node_label(ni, terms->v[t].topology_key))
      return false;
  return true;
}

enum sched_code sched_filter_inter_pod_affinity(const struct sched_cycle *c,
                                                const struct sched_node_info *ni,
                                                struct sched_status *st) {
  if (c->pod->req_affinity.n && !satisfies_affinity(c, ni))
    return fail(st, SCHED_UNSCHEDULABLE_UNRESOLVABLE, "InterPodAffinity", ERR_AFFINITY);
  for (size_t t = 0; c->anti_counts.len && t < c->pod->req_anti_affinity.n; t++) {
    const char *key = c->pod->req_anti_affinity.v[t].topology_key;
    const char *v = sched_node_label(ni, key);
    if (v && pair_get(&c->anti_counts, key, v) > 0)
      return fail(st, SCHED_UNSCHEDULABLE, "InterPodAffinity", ERR_ANTI_AFFINITY);
  }
  if (c->existing_anti.len) {
    const char *k;
    json_t *v;
    json_object_foreach(ni->labels, k, v) {
      if (json_is_string(v) && pair_get(&c->existing_anti, k, json_string_value(v)) > 0)
        return fail(st, SCHED_UNSCHEDULABLE, "InterPodAffinity", ERR_EXISTING_ANTI);
    }
  }
  return SCHED_SUCCESS;
}

/* ---- PreFilter skips: the filter cannot fail on any node for this pod ---- */

static bool skip_node_unschedulable(const struct sched_cycle *c) {
  return c->tolerates_unschedulable;
}

static bool skip_node_name(const struct sched_cycle *c) {
  return !c->pod->node_name;
}

static bool skip_node_affinity(const struct sched_cycle *c) {
  return json_object_size(c->pod->node_selector) == 0 && !c->pod->has_required_node_affinity;
}

static bool skip_node_ports(const struct sched_cycle *c) {
  return c->pod->n_ports == 0;
}

static bool skip_pod_topology_spread(const struct sched_cycle *c) {
  return c->n_hard == 0;
}

static bool skip_inter_pod_affinity(const struct sched_cycle *c) {
  return c->pod->req_affinity.n == 0 && c->anti_counts.len == 0 && c->existing_anti.len == 0;
}

const struct sched_filter_plugin sched_filter_plugins[] = {
    {"NodeUnschedulable", sched_filter_node_unschedulable, skip_node_unschedulable},
    {"NodeName", sched_filter_node_name, skip_node_name},
    {"TaintToleration", sched_filter_taint_toleration, NULL},
    {"NodeAffinity", sched_filter_node_affinity, skip_node_affinity},
    {"NodePorts", sched_filter_node_ports, skip_node_ports},
    {"NodeResourcesFit", sched_filter_node_resources_fit, NULL},
    {"PodTopologySpread", sched_filter_pod_topology_spread, skip_pod_topology_spread},
    {"InterPodAffinity", sched_filter_inter_pod_affinity, skip_inter_pod_affinity},
    {NULL, NULL, NULL},
};

enum sched_code sched_run_filters(const struct sched_cycle *c, const struct sched_node_info *ni,
                                  struct sched_status *st) {
  uint32_t skip = c->skip_filters;
  for (const struct sched_filter_plugin *p = sched_filter_plugins; p->name; p++, skip >>= 1) {
    if (skip & 1)
      continue;
    enum sched_code code = p->filter(c, ni, st);
    if (code != SCHED_SUCCESS) {
      st->plugin = p->name;
      return code;
    }
  }
  return SCHED_SUCCESS;
}

/* ---- messages ---- */

void sched_diagnosis_clear(struct sched_diagnosis *d) {
  for (size_t i = 0; i < d->n_reasons; i++)
    free(d->reasons[i].reason);
  free(d->reasons);
  free(d->prefilter_msg);
  *d = (struct sched_diagnosis){0};
}

void sched_diagnosis_add(struct sched_diagnosis *d, const struct sched_status *st) {
  for (size_t r = 0; r < st->n_reasons; r++) {
    size_t i;
    for (i = 0; i < d->n_reasons; i++)
      if (streq(d->reasons[i].reason, st->reasons[r]))
        break;
    if (i == d->n_reasons) {
      d->reasons = xrealloc(d->reasons, (d->n_reasons + 1) * sizeof(*d->reasons));
      d->reasons[d->n_reasons++] = (struct sched_reason_count){xstrdup(st->reasons[r]), 0};
    }
    d->reasons[i].count++;
  }
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

char *sched_format_fit_error(const struct sched_diagnosis *d, const char *postfilter_msg) {
  struct strbuf b = {0};
  strbuf_appendf(&b, "0/%zu nodes are available:", d->n_all_nodes);
  if (d->prefilter_msg) {
    strbuf_appendf(&b, " %s.", d->prefilter_msg);
  } else if (d->n_reasons) {
    /* kube sorts the "<count> <reason>" strings themselves, count first. */
    char **items = xcalloc(d->n_reasons, sizeof(char *));
    for (size_t i = 0; i < d->n_reasons; i++)
      items[i] = xasprintf("%zu %s", d->reasons[i].count, d->reasons[i].reason);
    qsort(items, d->n_reasons, sizeof(char *), cmp_str);
    strbuf_appendc(&b, ' ');
    for (size_t i = 0; i < d->n_reasons; i++) {
      if (i)
        strbuf_appends(&b, ", ");
      strbuf_appends(&b, items[i]);
      free(items[i]);
    }
    free(items);
    strbuf_appendc(&b, '.');
  }
  /* kube appends the PostFilter message with the same " %v." separator, so a preemption
   * message (itself a FitError text ending in '.') ends in "..". */
  if (postfilter_msg && *postfilter_msg)
    strbuf_appendf(&b, " %s.", postfilter_msg);
  return strbuf_take(&b, NULL);
}

char *sched_preempt_message(const struct sched_diagnosis *preemption) {
  _cleanup_free_ char *inner = sched_format_fit_error(preemption, NULL);
  return xasprintf("preemption: %s", inner);
}
