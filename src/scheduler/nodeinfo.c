/* nodeinfo.c — pod and node aggregates and the incrementally maintained snapshot. See
 * framework.h. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "lib/quantity.h"
#include "scheduler/framework.h"

/* kube's schedutil.DefaultMilliCPURequest / DefaultMemoryRequest. */
#define DEFAULT_MILLI_CPU_REQUEST 100
#define DEFAULT_MEMORY_REQUEST (200LL * 1024 * 1024)

/* ---- resources ---- */

void sched_resource_clear(struct sched_resource *r) {
  for (size_t i = 0; i < r->n_scalar; i++)
    free(r->scalar[i].name);
  free(r->scalar);
  *r = (struct sched_resource){0};
}

static int64_t *scalar_slot(struct sched_resource *r, const char *name, bool create) {
  for (size_t i = 0; i < r->n_scalar; i++)
    if (streq(r->scalar[i].name, name))
      return &r->scalar[i].value;
  if (!create)
    return NULL;
  r->scalar = xrealloc(r->scalar, (r->n_scalar + 1) * sizeof(*r->scalar));
  r->scalar[r->n_scalar] = (struct sched_scalar){xstrdup(name), 0};
  return &r->scalar[r->n_scalar++].value;
}

int64_t sched_resource_scalar(const struct sched_resource *r, const char *name) {
  int64_t *v = scalar_slot((struct sched_resource *)r, name, false);
  return v ? *v : 0;
}

/* schedutil.IsScalarResourceName: extended resources, hugepages and attachable volumes. */
static bool is_scalar_name(const char *name) {
  if (startswith(name, "hugepages-") || startswith(name, "attachable-volumes-"))
    return true;
  return strchr(name, '/') && !startswith(name, "kubernetes.io/") && !startswith(name, "requests.");
}

enum res_op { RES_ADD, RES_SUB, RES_MAX };

static int64_t apply(enum res_op op, int64_t a, int64_t b) {
  switch (op) {
  case RES_ADD:
    return a + b;
  case RES_SUB:
    return a - b;
  case RES_MAX:
    break;
  }
  return a > b ? a : b;
}

static void resource_apply(struct sched_resource *r, enum res_op op,
                           const struct sched_resource *o) {
  r->milli_cpu = apply(op, r->milli_cpu, o->milli_cpu);
  r->memory = apply(op, r->memory, o->memory);
  r->ephemeral_storage = apply(op, r->ephemeral_storage, o->ephemeral_storage);
  r->pods = apply(op, r->pods, o->pods);
  for (size_t i = 0; i < o->n_scalar; i++) {
    int64_t *v = scalar_slot(r, o->scalar[i].name, true);
    *v = apply(op, *v, o->scalar[i].value);
  }
}

static void resource_copy(struct sched_resource *dst, const struct sched_resource *src) {
  *dst = *src;
  dst->scalar = NULL;
  dst->n_scalar = 0;
  for (size_t i = 0; i < src->n_scalar; i++)
    *scalar_slot(dst, src->scalar[i].name, true) = src->scalar[i].value;
}

/* Reads a ResourceList object; returns which of cpu/memory it named (bit 0/1), so callers
 * can apply the non-zero defaults only where a request is missing. */
static unsigned resource_from_list(struct sched_resource *r, const json_t *list) {
  unsigned named = 0;
  const char *name;
  json_t *v;
  *r = (struct sched_resource){0};
  if (!json_is_object(list))
    return 0;
  json_object_foreach((json_t *)list, name, v) {
    quantity_t q;
    if (!json_is_string(v) || quantity_parse(json_string_value(v), &q, NULL) < 0)
      continue;
    if (streq(name, "cpu")) {
      r->milli_cpu = quantity_milli_value(&q);
      named |= 1;
    } else if (streq(name, "memory")) {
      r->memory = quantity_value(&q);
      named |= 2;
    } else if (streq(name, "ephemeral-storage")) {
      r->ephemeral_storage = quantity_value(&q);
    } else if (streq(name, "pods")) {
      r->pods = quantity_value(&q);
    } else if (is_scalar_name(name)) {
      *scalar_slot(r, name, true) = quantity_value(&q);
    }
  }
  return named;
}

static bool is_sidecar(const json_t *container) {
  const char *policy = json_string_value(json_object_get(container, "restartPolicy"));
  return policy && streq(policy, "Always");
}

/* cpu and memory with the scheduler's non-zero defaults for containers requesting none. */
struct nonzero {
  int64_t cpu, memory;
};

static void nonzero_apply(struct nonzero *a, enum res_op op, const struct nonzero *b) {
  a->cpu = apply(op, a->cpu, b->cpu);
  a->memory = apply(op, a->memory, b->memory);
}

/* resourcehelper.PodRequests: regular containers and sidecars run together; each
 * ordinary init container runs alone next to the sidecars started before it. Computes the
 * plain requests and, in the same pass over the quantities, the non-zero cpu and memory
 * scoring uses. */
static void pod_requests(struct sched_resource *out, struct nonzero *ret_nz, const json_t *spec) {
  struct sched_resource sum = {0}, sidecars = {0}, init_max = {0}, c;
  struct nonzero sum_nz = {0}, sidecars_nz = {0}, init_max_nz = {0}, c_nz;
  size_t i;
  json_t *ctr;
  *out = (struct sched_resource){0};
  json_array_foreach(json_object_get(spec, "containers"), i, ctr) {
    unsigned named =
        resource_from_list(&c, json_object_get(json_object_get(ctr, "resources"), "requests"));
    c_nz = (struct nonzero){named & 1 ? c.milli_cpu : DEFAULT_MILLI_CPU_REQUEST,
                            named & 2 ? c.memory : DEFAULT_MEMORY_REQUEST};
    resource_apply(&sum, RES_ADD, &c);
    nonzero_apply(&sum_nz, RES_ADD, &c_nz);
    sched_resource_clear(&c);
  }
  json_array_foreach(json_object_get(spec, "initContainers"), i, ctr) {
    unsigned named =
        resource_from_list(&c, json_object_get(json_object_get(ctr, "resources"), "requests"));
    c_nz = (struct nonzero){named & 1 ? c.milli_cpu : DEFAULT_MILLI_CPU_REQUEST,
                            named & 2 ? c.memory : DEFAULT_MEMORY_REQUEST};
    if (is_sidecar(ctr)) {
      resource_apply(&sidecars, RES_ADD, &c);
      sched_resource_clear(&c);
      resource_copy(&c, &sidecars);
      nonzero_apply(&sidecars_nz, RES_ADD, &c_nz);
      c_nz = sidecars_nz;
    } else {
      resource_apply(&c, RES_ADD, &sidecars);
      nonzero_apply(&c_nz, RES_ADD, &sidecars_nz);
    }
    resource_apply(&init_max, RES_MAX, &c);
    nonzero_apply(&init_max_nz, RES_MAX, &c_nz);
    sched_resource_clear(&c);
  }
  resource_apply(&sum, RES_ADD, &sidecars);
  resource_apply(&sum, RES_MAX, &init_max);
  nonzero_apply(&sum_nz, RES_ADD, &sidecars_nz);
  nonzero_apply(&sum_nz, RES_MAX, &init_max_nz);
  struct sched_resource overhead;
  resource_from_list(&overhead, json_object_get(spec, "overhead"));
  resource_apply(&sum, RES_ADD, &overhead);
  nonzero_apply(&sum_nz, RES_ADD, &(struct nonzero){overhead.milli_cpu, overhead.memory});
  sched_resource_clear(&overhead);
  sched_resource_clear(&sidecars);
  sched_resource_clear(&init_max);
  *out = sum;
  *ret_nz = sum_nz;
}

/* ---- pods ---- */

static void terms_clear(struct sched_affinity_terms *t) {
  for (size_t i = 0; i < t->n; i++) {
    selector_free(t->v[i].selector);
    for (char **p = t->v[i].namespaces; p && *p; p++)
      free(*p);
    free(t->v[i].namespaces);
  }
  free(t->v);
  *t = (struct sched_affinity_terms){0};
}

/* getNamespacesFromPodAffinityTerm: no namespaces and no namespaceSelector means the
 * declaring pod's namespace; an empty namespaceSelector selects every namespace. */
static void term_parse(struct sched_affinity_term *t, const json_t *term, const char *pod_ns) {
  *t = (struct sched_affinity_term){0};
  if (selector_from_json(json_object_get(term, "labelSelector"), &t->selector, NULL) < 0)
    t->selector = selector_nothing();
  t->topology_key = json_string_value(json_object_get(term, "topologyKey"));
  if (!t->topology_key)
    t->topology_key = "";
  const json_t *nss = json_object_get(term, "namespaces");
  const json_t *nssel = json_object_get(term, "namespaceSelector");
  size_t n = json_array_size(nss);
  t->namespaces = xcalloc(n + 2, sizeof(char *));
  if (n == 0 && (!nssel || json_is_null(nssel))) {
    t->namespaces[0] = xstrdup(pod_ns);
  } else {
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
      if (json_is_string(json_array_get(nss, i)))
        t->namespaces[k++] = xstrdup(json_string_value(json_array_get(nss, i)));
  }
  if (json_is_object(nssel)) {
    selector_t *sel = NULL;
    if (selector_from_json(nssel, &sel, NULL) == 0 && selector_is_empty(sel))
      t->all_namespaces = true;
    selector_free(sel);
  }
}

static void terms_parse(struct sched_affinity_terms *out, const json_t *arr, bool weighted,
                        const char *pod_ns) {
  size_t n = json_array_size(arr), i;
  json_t *e;
  *out = (struct sched_affinity_terms){0};
  if (n == 0)
    return;
  out->v = xcalloc(n, sizeof(*out->v));
  json_array_foreach(arr, i, e) {
    if (!json_is_object(e))
      continue;
    const json_t *term = weighted ? json_object_get(e, "podAffinityTerm") : e;
    if (!json_is_object(term))
      continue;
    struct sched_affinity_term *t = &out->v[out->n++];
    term_parse(t, term, pod_ns);
    if (weighted)
      t->weight = (int32_t)json_integer_value(json_object_get(e, "weight"));
  }
}

bool sched_affinity_term_matches(const struct sched_affinity_term *term,
                                 const struct sched_pod_info *pod) {
  bool ns_ok = term->all_namespaces;
  for (char **p = term->namespaces; !ns_ok && p && *p; p++)
    ns_ok = streq(*p, pod->ns);
  if (!ns_ok)
    return false;
  return selector_matches(term->selector, pod->labels);
}

static void ports_parse(struct sched_pod_info *pi, const json_t *spec) {
  static const char *const lists[] = {"containers", "initContainers"};
  for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
    size_t i, j;
    json_t *ctr, *port;
    json_array_foreach(json_object_get(spec, lists[l]), i, ctr) {
      if (l == 1 && !is_sidecar(ctr))
        continue;
      json_array_foreach(json_object_get(ctr, "ports"), j, port) {
        json_int_t hp = json_integer_value(json_object_get(port, "hostPort"));
        if (hp <= 0)
          continue;
        const char *ip = json_string_value(json_object_get(port, "hostIP"));
        const char *proto = json_string_value(json_object_get(port, "protocol"));
        pi->ports = xrealloc(pi->ports, (pi->n_ports + 1) * sizeof(*pi->ports));
        pi->ports[pi->n_ports++] = (struct sched_host_port){
            ip && *ip ? ip : "0.0.0.0", proto && *proto ? proto : "TCP", (int32_t)hp};
      }
    }
  }
}

struct sched_pod_info *sched_pod_info_new(json_t *pod) {
  struct sched_pod_info *pi = xcalloc(1, sizeof(*pi));
  pi->pod = json_incref(pod);
  pi->ns = json_path_str(pod, "metadata.namespace");
  if (!pi->ns)
    pi->ns = "default";
  const char *name = json_path_str(pod, "metadata.name");
  pi->key = xasprintf("%s/%s", pi->ns, name ? name : "");
  json_t *spec = json_object_get(pod, "spec");
  pi->node_name = json_string_value(json_object_get(spec, "nodeName"));
  if (pi->node_name && !*pi->node_name)
    pi->node_name = NULL;
  pi->priority = (int32_t)json_integer_value(json_object_get(spec, "priority"));
  pi->start_time = json_path_str(pod, "status.startTime");
  pi->terminating = json_path(pod, "metadata.deletionTimestamp") &&
                    !json_is_null(json_path(pod, "metadata.deletionTimestamp"));
  pi->labels = json_path(pod, "metadata.labels");
  pi->tolerations = json_object_get(spec, "tolerations");
  pi->node_selector = json_object_get(spec, "nodeSelector");
  json_t *na = json_path(pod, "spec.affinity.nodeAffinity");
  json_t *req = json_object_get(na, "requiredDuringSchedulingIgnoredDuringExecution");
  pi->has_required_node_affinity = json_is_object(req);
  pi->required_node_terms = json_object_get(req, "nodeSelectorTerms");
  pi->preferred_node_terms = json_object_get(na, "preferredDuringSchedulingIgnoredDuringExecution");
  struct nonzero nz;
  pod_requests(&pi->request, &nz, spec);
  pi->request.pods = 1;
  pi->nonzero_cpu = nz.cpu;
  pi->nonzero_memory = nz.memory;
  ports_parse(pi, spec);
  json_t *aff = json_object_get(spec, "affinity");
  json_t *pa = json_object_get(aff, "podAffinity");
  json_t *paa = json_object_get(aff, "podAntiAffinity");
  terms_parse(&pi->req_affinity,
              json_object_get(pa, "requiredDuringSchedulingIgnoredDuringExecution"), false, pi->ns);
  terms_parse(&pi->pref_affinity,
              json_object_get(pa, "preferredDuringSchedulingIgnoredDuringExecution"), true, pi->ns);
  terms_parse(&pi->req_anti_affinity,
              json_object_get(paa, "requiredDuringSchedulingIgnoredDuringExecution"), false,
              pi->ns);
  terms_parse(&pi->pref_anti_affinity,
              json_object_get(paa, "preferredDuringSchedulingIgnoredDuringExecution"), true,
              pi->ns);
  pi->affinity_index = SIZE_MAX;
  return pi;
}

void sched_pod_info_free(struct sched_pod_info *pi) {
  if (!pi)
    return;
  terms_clear(&pi->req_affinity);
  terms_clear(&pi->req_anti_affinity);
  terms_clear(&pi->pref_affinity);
  terms_clear(&pi->pref_anti_affinity);
  sched_resource_clear(&pi->request);
  free(pi->ports);
  free(pi->label_lists);
  free(pi->label_slots);
  free(pi->key);
  free(pi->assumed_node);
  json_decref(pi->pod);
  free(pi);
}

bool sched_pod_has_affinity(const struct sched_pod_info *pi) {
  return pi->req_affinity.n || pi->req_anti_affinity.n || pi->pref_affinity.n ||
         pi->pref_anti_affinity.n;
}

/* ---- nodes ---- */

const char *sched_node_label(const struct sched_node_info *ni, const char *key) {
  return json_string_value(json_object_get(ni->labels, key));
}

static void port_add(struct sched_node_info *ni, const struct sched_host_port *p) {
  for (size_t i = 0; i < ni->n_ports; i++) {
    struct sched_used_port *u = &ni->ports[i];
    if (u->port == p->port && streq(u->ip, p->ip) && streq(u->protocol, p->protocol)) {
      u->refs++;
      return;
    }
  }
  ni->ports = xgrow(ni->ports, ni->n_ports, &ni->cap_ports, sizeof(*ni->ports));
  ni->ports[ni->n_ports++] =
      (struct sched_used_port){xstrdup(p->ip), xstrdup(p->protocol), p->port, 1};
}

static void port_remove(struct sched_node_info *ni, const struct sched_host_port *p) {
  for (size_t i = 0; i < ni->n_ports; i++) {
    struct sched_used_port *u = &ni->ports[i];
    if (u->port == p->port && streq(u->ip, p->ip) && streq(u->protocol, p->protocol)) {
      if (--u->refs > 0)
        return;
      free(u->ip);
      free(u->protocol);
      ni->ports[i] = ni->ports[--ni->n_ports];
      return;
    }
  }
}

static void node_account(struct sched_node_info *ni, const struct sched_pod_info *pi, int sign) {
  resource_apply(&ni->requested, sign > 0 ? RES_ADD : RES_SUB, &pi->request);
  ni->nonzero_cpu += sign * pi->nonzero_cpu;
  ni->nonzero_memory += sign * pi->nonzero_memory;
  for (size_t i = 0; i < pi->n_ports; i++)
    (sign > 0 ? port_add : port_remove)(ni, &pi->ports[i]);
  if (sched_pod_has_affinity(pi))
    ni->n_with_affinity += sign;
  ni->generation++;
}

static void node_push_pod(struct sched_node_info *ni, struct sched_pod_info *pi) {
  ni->pods = xgrow(ni->pods, ni->n_pods, &ni->cap_pods, sizeof(*ni->pods));
  ni->pods[ni->n_pods++] = pi;
  node_account(ni, pi, +1);
}

static void node_drop_pod_at(struct sched_node_info *ni, size_t i) {
  node_account(ni, ni->pods[i], -1);
  ni->pods[i] = ni->pods[--ni->n_pods];
}

static void node_set_allocatable(struct sched_node_info *ni) {
  sched_resource_clear(&ni->allocatable);
  resource_from_list(&ni->allocatable, json_path(ni->node, "status.allocatable"));
}

/* The filters and scores look at a node's taints only when it has some of the effect they
 * care about. */
static void node_count_taints(struct sched_node_info *ni) {
  size_t i;
  json_t *taint;
  ni->n_hard_taints = ni->n_prefer_taints = 0;
  json_array_foreach(ni->taints, i, taint) {
    const char *effect = json_string_value(json_object_get(taint, "effect"));
    if (!effect)
      continue;
    if (streq(effect, "NoSchedule") || streq(effect, "NoExecute"))
      ni->n_hard_taints++;
    else if (streq(effect, "PreferNoSchedule"))
      ni->n_prefer_taints++;
  }
}

struct sched_node_info *sched_node_info_copy(const struct sched_node_info *ni) {
  struct sched_node_info *c = xcalloc(1, sizeof(*c));
  c->node = ni->node;
  c->name = ni->name;
  c->labels = ni->labels;
  c->taints = ni->taints;
  c->unschedulable = ni->unschedulable;
  c->n_hard_taints = ni->n_hard_taints;
  c->n_prefer_taints = ni->n_prefer_taints;
  resource_copy(&c->allocatable, &ni->allocatable);
  resource_copy(&c->requested, &ni->requested);
  c->nonzero_cpu = ni->nonzero_cpu;
  c->nonzero_memory = ni->nonzero_memory;
  c->n_pods = c->cap_pods = ni->n_pods;
  c->pods = xmalloc((ni->n_pods + 1) * sizeof(*c->pods));
  if (ni->n_pods)
    memcpy(c->pods, ni->pods, ni->n_pods * sizeof(*c->pods));
  for (size_t i = 0; i < ni->n_ports; i++) {
    port_add(c,
             &(struct sched_host_port){ni->ports[i].ip, ni->ports[i].protocol, ni->ports[i].port});
    c->ports[c->n_ports - 1].refs = ni->ports[i].refs;
  }
  c->n_with_affinity = ni->n_with_affinity;
  c->generation = ni->generation;
  c->index = ni->index;
  return c;
}

void sched_node_info_copy_add(struct sched_node_info *copy, struct sched_pod_info *pi) {
  node_push_pod(copy, pi);
}

void sched_node_info_copy_remove(struct sched_node_info *copy, const struct sched_pod_info *pi) {
  for (size_t i = 0; i < copy->n_pods; i++)
    if (copy->pods[i] == pi) {
      node_drop_pod_at(copy, i);
      return;
    }
}

static void node_info_free_parts(struct sched_node_info *ni) {
  sched_resource_clear(&ni->allocatable);
  sched_resource_clear(&ni->requested);
  for (size_t i = 0; i < ni->n_ports; i++) {
    free(ni->ports[i].ip);
    free(ni->ports[i].protocol);
  }
  free(ni->ports);
  free(ni->pods);
}

void sched_node_info_free_copy(struct sched_node_info *copy) {
  if (!copy)
    return;
  node_info_free_parts(copy);
  free(copy);
}

static void node_info_free(struct sched_node_info *ni) {
  node_info_free_parts(ni);
  json_decref(ni->node);
  free(ni->name);
  free(ni);
}

/* ---- snapshot ---- */

struct sched_snapshot *sched_snapshot_new(void) {
  struct sched_snapshot *s = xcalloc(1, sizeof(*s));
  s->rand_state = (uint64_t)time(NULL) * 6364136223846793005ULL + 1442695040888963407ULL;
  return s;
}

void sched_snapshot_free(struct sched_snapshot *s) {
  if (!s)
    return;
  const char *k;
  void *v;
  for (size_t it = 0; sched_map_next(&s->pods, &it, &k, &v);)
    sched_pod_info_free(v);
  for (size_t it = 0; sched_map_next(&s->by_name, &it, &k, &v);)
    node_info_free(v);
  for (size_t it = 0; sched_map_next(&s->label_index, &it, &k, &v);) {
    free(((struct sched_pod_list *)v)->v);
    free(v);
  }
  sched_map_clear(&s->label_index);
  sched_map_clear(&s->pods);
  sched_map_clear(&s->by_name);
  free(s->nodes);
  free(s->affinity_pods);
  free(s->scratch_feasible);
  free(s->scratch_totals);
  free(s);
}

static struct sched_node_info *node_lookup_or_create(struct sched_snapshot *s, const char *name) {
  struct sched_node_info *ni = sched_map_get(&s->by_name, name);
  if (ni)
    return ni;
  ni = xcalloc(1, sizeof(*ni));
  ni->name = xstrdup(name);
  ni->index = SIZE_MAX;
  sched_map_put(&s->by_name, name, ni);
  return ni;
}

static void node_unlist(struct sched_snapshot *s, struct sched_node_info *ni) {
  if (ni->index == SIZE_MAX)
    return;
  struct sched_node_info *last = s->nodes[--s->n_nodes];
  s->nodes[ni->index] = last;
  last->index = ni->index;
  ni->index = SIZE_MAX;
}

/* A placeholder (pods naming a node the informer has not shown yet) goes once empty. */
static void node_maybe_drop(struct sched_snapshot *s, struct sched_node_info *ni) {
  if (ni->node || ni->n_pods)
    return;
  sched_map_remove(&s->by_name, ni->name);
  node_info_free(ni);
}

int sched_snapshot_set_node(struct sched_snapshot *s, json_t *node) {
  const char *name = json_path_str(node, "metadata.name");
  if (!name || !*name)
    return -EINVAL;
  struct sched_node_info *ni = node_lookup_or_create(s, name);
  json_incref(node);
  json_decref(ni->node);
  ni->node = node;
  ni->labels = json_path(node, "metadata.labels");
  ni->taints = json_path(node, "spec.taints");
  node_count_taints(ni);
  ni->unschedulable = json_is_true(json_path(node, "spec.unschedulable"));
  node_set_allocatable(ni);
  ni->generation++;
  if (ni->index == SIZE_MAX) {
    s->nodes = xgrow(s->nodes, s->n_nodes, &s->cap_nodes, sizeof(*s->nodes));
    ni->index = s->n_nodes;
    s->nodes[s->n_nodes++] = ni;
  }
  s->generation++;
  return 0;
}

int sched_snapshot_remove_node(struct sched_snapshot *s, const char *name) {
  struct sched_node_info *ni = sched_map_get(&s->by_name, name);
  if (!ni || !ni->node)
    return -ENOENT;
  node_unlist(s, ni);
  json_decref(ni->node);
  ni->node = NULL;
  ni->labels = NULL;
  ni->taints = NULL;
  ni->n_hard_taints = ni->n_prefer_taints = 0;
  ni->unschedulable = false;
  sched_resource_clear(&ni->allocatable);
  ni->generation++;
  s->generation++;
  node_maybe_drop(s, ni);
  return 0;
}

static char *label_key(const char *ns, const char *key, const char *value) {
  return xasprintf("%s\x1f%s\x1f%s", ns, key, value);
}

static void index_pod(struct sched_snapshot *s, struct sched_pod_info *pi) {
  size_t n = json_object_size(pi->labels);
  if (!n)
    return;
  pi->label_lists = xcalloc(n, sizeof(*pi->label_lists));
  pi->label_slots = xcalloc(n, sizeof(*pi->label_slots));
  const char *k;
  json_t *v;
  json_object_foreach(pi->labels, k, v) {
    if (!json_is_string(v))
      continue;
    _cleanup_free_ char *key = label_key(pi->ns, k, json_string_value(v));
    struct sched_pod_list *l = sched_map_get(&s->label_index, key);
    if (!l) {
      l = xcalloc(1, sizeof(*l));
      sched_map_put(&s->label_index, key, l);
    }
    l->v = xgrow(l->v, l->n, &l->cap, sizeof(*l->v));
    pi->label_lists[pi->n_label_entries] = l;
    pi->label_slots[pi->n_label_entries++] = l->n;
    l->v[l->n++] = pi;
  }
}

static void unindex_pod(struct sched_snapshot *s, struct sched_pod_info *pi) {
  size_t e = 0;
  const char *k;
  json_t *v;
  json_object_foreach(pi->labels, k, v) {
    if (!json_is_string(v) || e >= pi->n_label_entries)
      continue;
    struct sched_pod_list *l = pi->label_lists[e];
    size_t slot = pi->label_slots[e++];
    struct sched_pod_info *moved = l->v[--l->n];
    l->v[slot] = moved;
    /* The pod moved into the hole must learn its new slot in this list. */
    for (size_t j = 0; moved != pi && j < moved->n_label_entries; j++)
      if (moved->label_lists[j] == l)
        moved->label_slots[j] = slot;
    if (l->n == 0) {
      _cleanup_free_ char *key = label_key(pi->ns, k, json_string_value(v));
      sched_map_remove(&s->label_index, key);
      free(l->v);
      free(l);
    }
  }
  free(pi->label_lists);
  free(pi->label_slots);
  pi->label_lists = NULL;
  pi->label_slots = NULL;
  pi->n_label_entries = 0;
}

struct sched_pod_info *const *sched_snapshot_pods_with_label(const struct sched_snapshot *s,
                                                             const char *ns, const char *key,
                                                             const char *value, size_t *ret_n) {
  _cleanup_free_ char *k = label_key(ns, key, value);
  struct sched_pod_list *l = sched_map_get(&s->label_index, k);
  *ret_n = l ? l->n : 0;
  return l ? l->v : NULL;
}

void sched_snapshot_visit_candidates(const struct sched_snapshot *s, const selector_t *selector,
                                     char *const *namespaces, bool all_namespaces,
                                     void (*visit)(void *ud, struct sched_pod_info *pod),
                                     void *ud) {
  if (!selector || selector_is_nothing(selector))
    return;
  const char *key = NULL, *value = NULL;
  for (size_t i = 0; !all_namespaces && i < selector_count(selector); i++)
    if (selector_requires_exact(selector, selector_key(selector, i), &value) == 1) {
      key = selector_key(selector, i);
      break;
    }
  if (!key) {
    for (size_t n = 0; n < s->n_nodes; n++)
      for (size_t p = 0; p < s->nodes[n]->n_pods; p++)
        visit(ud, s->nodes[n]->pods[p]);
    return;
  }
  for (char *const *ns = namespaces; ns && *ns; ns++) {
    size_t n;
    struct sched_pod_info *const *v = sched_snapshot_pods_with_label(s, *ns, key, value, &n);
    for (size_t i = 0; i < n; i++)
      if (v[i]->node->node)
        visit(ud, v[i]);
  }
}

static void unplace_pod(struct sched_snapshot *s, struct sched_pod_info *pi) {
  unindex_pod(s, pi);
  struct sched_node_info *ni = pi->node;
  size_t i = pi->node_index;
  node_drop_pod_at(ni, i);
  if (i < ni->n_pods)
    ni->pods[i]->node_index = i;
  if (pi->affinity_index != SIZE_MAX) {
    size_t a = pi->affinity_index;
    s->affinity_pods[a] = s->affinity_pods[--s->n_affinity_pods];
    if (a < s->n_affinity_pods)
      s->affinity_pods[a]->affinity_index = a;
    pi->affinity_index = SIZE_MAX;
  }
  pi->node = NULL;
  node_maybe_drop(s, ni);
}

/* Puts pi (owned from now on) on node `node`, replacing any pod with the same key. */
static void snapshot_place(struct sched_snapshot *s, struct sched_pod_info *pi, const char *node) {
  struct sched_pod_info *old = sched_map_put(&s->pods, pi->key, pi);
  if (old) {
    unplace_pod(s, old);
    sched_pod_info_free(old);
  }
  struct sched_node_info *ni = node_lookup_or_create(s, node);
  pi->node = ni;
  pi->node_index = ni->n_pods;
  node_push_pod(ni, pi);
  index_pod(s, pi);
  if (sched_pod_has_affinity(pi)) {
    s->affinity_pods =
        xgrow(s->affinity_pods, s->n_affinity_pods, &s->cap_affinity_pods, sizeof(pi));
    pi->affinity_index = s->n_affinity_pods;
    s->affinity_pods[s->n_affinity_pods++] = pi;
  }
  s->generation++;
}

int sched_snapshot_add_pod(struct sched_snapshot *s, json_t *pod) {
  const char *name = json_path_str(pod, "metadata.name");
  const char *ns = json_path_str(pod, "metadata.namespace");
  const char *node = json_path_str(pod, "spec.nodeName");
  if (!name || !*name || !ns || !*ns || !node || !*node)
    return -EINVAL;
  snapshot_place(s, sched_pod_info_new(pod), node);
  return 0;
}

int sched_snapshot_assume(struct sched_snapshot *s, struct sched_cycle *c, const char *node_name) {
  const char *name = json_path_str(c->pod->pod, "metadata.name");
  const char *ns = json_path_str(c->pod->pod, "metadata.namespace");
  if (!name || !*name || !ns || !*ns || !node_name || !*node_name)
    return -EINVAL;
  struct sched_pod_info *pi = TAKE_PTR(c->pod);
  free(pi->assumed_node);
  pi->assumed_node = xstrdup(node_name);
  pi->node_name = pi->assumed_node;
  snapshot_place(s, pi, node_name);
  return 0;
}

int sched_snapshot_remove_pod(struct sched_snapshot *s, const char *key) {
  struct sched_pod_info *pi = sched_map_remove(&s->pods, key);
  if (!pi)
    return -ENOENT;
  unplace_pod(s, pi);
  sched_pod_info_free(pi);
  s->generation++;
  return 0;
}

struct sched_node_info *sched_snapshot_get_node(const struct sched_snapshot *s, const char *name) {
  struct sched_node_info *ni = sched_map_get(&s->by_name, name);
  return ni && ni->node ? ni : NULL;
}

struct sched_pod_info *sched_snapshot_get_pod(const struct sched_snapshot *s, const char *key) {
  return sched_map_get(&s->pods, key);
}

/* ---- statuses ---- */

void sched_status_clear(struct sched_status *st) {
  for (size_t i = 0; i < st->n_reasons; i++)
    free(st->reasons[i]);
  free(st->reasons);
  *st = (struct sched_status){0};
}

void sched_status_add(struct sched_status *st, enum sched_code code, const char *reason) {
  if (code > st->code)
    st->code = code;
  st->reasons = xrealloc(st->reasons, (st->n_reasons + 1) * sizeof(char *));
  st->reasons[st->n_reasons++] = xstrdup(reason);
}
