/* framework.h — the scheduler's model of the cluster and its plugins, after kube-scheduler
 * 1.32's framework: per-node aggregates (sched_node_info), a cluster snapshot kept up to
 * date incrementally from informer events (sched_snapshot), one scheduling cycle's
 * pre-computed state (sched_cycle), the filter and score plugins of the default profile as
 * tables of hooks, node selection (sched_find_nodes), preemption (sched_preempt) and the
 * FailedScheduling message ("0/3 nodes are available: ...").
 *
 * Objects are v1 Pod / v1 Node JSON trees as the API returns them. The snapshot takes a
 * reference on each and never modifies them.
 *
 * Thread-safety: nothing here locks. The driver serialises snapshot updates and scheduling
 * cycles (one lock held across a cycle); a cycle only reads the snapshot, apart from its
 * rotation index, random state and scratch arrays, which sched_find_nodes and
 * sched_preempt advance and reuse. Nothing here logs, does I/O or starts threads.
 *
 * Differences from kube-scheduler, by design: namespaceSelector of pod affinity terms is
 * honoured only when empty ({} = all namespaces); a non-empty one selects no namespace
 * beyond the listed ones (namespace labels are not tracked). PodDisruptionBudgets are not
 * considered by preemption (every victim counts as non-violating). Preemption's dry run
 * updates resources, pod counts and host ports for removed victims, but not the
 * inter-pod-affinity and topology-spread counts. ImageLocality, VolumeRestrictions,
 * NodeVolumeLimits, VolumeZone and DynamicResources are not implemented; VolumeBinding only
 * checks that claims exist and that unbound claims wait for a consumer. PodTopologySpread
 * ignores matchLabelKeys and applies no cluster-level default constraints. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/json.h"
#include "lib/selector.h"
#include "scheduler/strmap.h"

/* ---- resources ---- */

struct sched_scalar {
  char *name;
  int64_t value;
};

/* A resource vector as kube's framework.Resource: cpu in millicores, memory and
 * ephemeral-storage in bytes, pods as a count, extended resources (any name with a '/'
 * outside kubernetes.io/, plus hugepages-*) by name. */
struct sched_resource {
  int64_t milli_cpu;
  int64_t memory;
  int64_t ephemeral_storage;
  int64_t pods;
  struct sched_scalar *scalar;
  size_t n_scalar;
};

void sched_resource_clear(struct sched_resource *r);
/* The value of an extended resource, 0 when absent. */
int64_t sched_resource_scalar(const struct sched_resource *r, const char *name);

/* ---- pods ---- */

/* A pod affinity term with its selector parsed once. */
struct sched_affinity_term {
  selector_t *selector;
  char **namespaces; /* NULL-terminated; ignored when all_namespaces */
  bool all_namespaces;
  const char *topology_key; /* borrowed from the pod */
  int32_t weight;           /* preferred terms only */
};

struct sched_affinity_terms {
  struct sched_affinity_term *v;
  size_t n;
};

struct sched_host_port {
  const char *ip;       /* "0.0.0.0" when unset; borrowed */
  const char *protocol; /* "TCP" when unset; borrowed */
  int32_t port;
};

struct sched_node_info;
struct sched_snapshot;
struct sched_cycle;

/* Everything the plugins need from a pod, parsed once: when it enters the snapshot, or
 * once per scheduling cycle for the pod being scheduled. */
struct sched_pod_info {
  json_t *pod; /* reference held */
  char *key;   /* "namespace/name" */
  const char *ns;
  const char *node_name; /* spec.nodeName or NULL; borrowed (or assumed_node) */
  char *assumed_node;    /* owned node name of a pod placed by sched_snapshot_assume */
  int32_t priority;
  const char *start_time; /* status.startTime (RFC 3339, compares as text) or NULL */
  bool terminating;       /* metadata.deletionTimestamp set */
  /* Borrowed parts of the pod looked at for every node (NULL when absent). */
  json_t *labels, *tolerations, *node_selector;
  json_t *required_node_terms;  /* nodeSelectorTerms of required node affinity */
  json_t *preferred_node_terms; /* preferredDuringScheduling... of node affinity */
  bool has_required_node_affinity;
  /* computePodResourceRequest: max(sum(containers)+sidecars, max(init containers)) +
   * overhead; `pods` is 1. */
  struct sched_resource request;
  /* The same with 100m cpu / 200Mi memory for containers that request none (scoring). */
  int64_t nonzero_cpu, nonzero_memory;
  struct sched_host_port *ports;
  size_t n_ports;
  struct sched_affinity_terms req_affinity, req_anti_affinity;
  struct sched_affinity_terms pref_affinity, pref_anti_affinity;

  /* Owned by the snapshot: where the pod sits. */
  struct sched_node_info *node;
  size_t node_index;     /* in node->pods */
  size_t affinity_index; /* in snapshot->affinity_pods, SIZE_MAX if absent */
  /* Its entries in the snapshot's label index: one (list, slot) per label. */
  struct sched_pod_list **label_lists;
  size_t *label_slots;
  size_t n_label_entries;
};

/* Parses a v1 Pod, taking its own reference (the caller keeps theirs). Never fails:
 * malformed parts (bad quantities, invalid selectors) are treated as absent, as kube's
 * scheduler tolerates objects the API server accepted. Caller frees with
 * sched_pod_info_free. */
struct sched_pod_info *sched_pod_info_new(json_t *pod);
void sched_pod_info_free(struct sched_pod_info *pi);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct sched_pod_info *, sched_pod_info_free);
#define _cleanup_pod_info_ _cleanup_(sched_pod_info_freep)

bool sched_pod_has_affinity(const struct sched_pod_info *pi);

/* Calls visit for every assigned pod on a listed node that selector may select in the
 * given namespaces (NULL-terminated; all_namespaces for every one). Uses the label index
 * when the selector pins a label value, so visit must still check the full match. */
void sched_snapshot_visit_candidates(const struct sched_snapshot *s, const selector_t *selector,
                                     char *const *namespaces, bool all_namespaces,
                                     void (*visit)(void *ud, struct sched_pod_info *pod), void *ud);

/* Whether term selects pod (namespace and labels). */
bool sched_affinity_term_matches(const struct sched_affinity_term *term,
                                 const struct sched_pod_info *pod);

/* ---- nodes ---- */

struct sched_used_port {
  char *ip, *protocol;
  int32_t port;
  int refs;
};

struct sched_node_info {
  /* What the filters and scores read for every node of every cycle comes first, so that
   * a node costs the fewest cache lines; these facts are derived from the node object
   * once per node update. */
  bool unschedulable;       /* spec.unschedulable */
  uint32_t n_hard_taints;   /* taints with effect NoSchedule or NoExecute */
  uint32_t n_prefer_taints; /* taints with effect PreferNoSchedule */
  size_t n_pods;
  struct sched_resource allocatable;
  struct sched_resource requested; /* sum over pods; requested.pods = n_pods */
  int64_t nonzero_cpu, nonzero_memory;

  json_t *node; /* reference held; NULL while only pods name this node */
  char *name;
  json_t *labels; /* borrowed from node, may be NULL */
  json_t *taints; /* spec.taints, borrowed, may be NULL */
  struct sched_pod_info **pods;
  size_t cap_pods;
  struct sched_used_port *ports;
  size_t n_ports, cap_ports;
  size_t n_with_affinity; /* pods with any pod (anti-)affinity */
  uint64_t generation;    /* bumped on every change */
  size_t index;           /* in snapshot->nodes, SIZE_MAX when not listed */
};

/* The label value of a node, NULL when absent. */
const char *sched_node_label(const struct sched_node_info *ni, const char *key);

/* A copy of ni's aggregates and pod list (pods are borrowed, not re-owned) for dry runs;
 * free with sched_node_info_free_copy. */
struct sched_node_info *sched_node_info_copy(const struct sched_node_info *ni);
/* Adds / removes pi on a copy only (pi stays where the snapshot put it). */
void sched_node_info_copy_add(struct sched_node_info *copy, struct sched_pod_info *pi);
void sched_node_info_copy_remove(struct sched_node_info *copy, const struct sched_pod_info *pi);
void sched_node_info_free_copy(struct sched_node_info *copy);

/* ---- the snapshot ---- */

/* Pods carrying one label value in one namespace (the snapshot's label index). */
struct sched_pod_list {
  struct sched_pod_info **v;
  size_t n, cap;
};

struct sched_snapshot {
  struct sched_node_info **nodes; /* nodes that exist; order is arbitrary and changes */
  size_t n_nodes, cap_nodes;
  struct sched_map by_name;              /* name → sched_node_info (also pod-only placeholders) */
  struct sched_map pods;                 /* "ns/name" → sched_pod_info of assigned pods */
  struct sched_pod_info **affinity_pods; /* assigned pods with pod (anti-)affinity */
  size_t n_affinity_pods, cap_affinity_pods;
  struct sched_map label_index; /* "ns\x1fkey\x1fvalue" → sched_pod_list */
  uint64_t generation;
  size_t next_start; /* rotation point of sched_find_nodes */
  uint64_t rand_state;
  /* sched_find_nodes' per-cycle arrays, kept between cycles so that a cycle allocates
   * nothing per node. */
  struct sched_node_info **scratch_feasible;
  int64_t *scratch_totals;
  size_t cap_scratch;
};

struct sched_snapshot *sched_snapshot_new(void);
void sched_snapshot_free(struct sched_snapshot *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct sched_snapshot *, sched_snapshot_free);

/* Adds or replaces a node (from an informer add/update). The snapshot takes its own
 * reference; the caller keeps theirs. Returns 0, or -EINVAL when the object has no
 * metadata.name. O(1) plus the node's label count. */
int sched_snapshot_set_node(struct sched_snapshot *s, json_t *node);
/* Removes a node (informer delete); its pods stay accounted until they are removed.
 * Returns 0 or -ENOENT. */
int sched_snapshot_remove_node(struct sched_snapshot *s, const char *name);
/* Adds or replaces an assigned pod (spec.nodeName set; informer add/update or the
 * driver's assume after a successful cycle). The snapshot takes its own reference; the
 * caller keeps theirs. Returns 0, or -EINVAL when the pod has no name, namespace or
 * spec.nodeName. O(labels) amortised. */
int sched_snapshot_add_pod(struct sched_snapshot *s, json_t *pod);
/* The driver's assume after a successful cycle: the cycle's pod counts on node_name from
 * now on, as if bound, until an informer update or sched_snapshot_remove_pod replaces it.
 * The snapshot takes over the cycle's parsed pod, which is not parsed again; its object
 * stays the unassigned one (pod->pod has no spec.nodeName; pod->node_name says where it
 * is). The cycle is spent: only sched_cycle_free may follow. Returns 0, or -EINVAL when
 * the pod has no name or namespace (the cycle is then left as it was). */
int sched_snapshot_assume(struct sched_snapshot *s, struct sched_cycle *c, const char *node_name);
/* Removes the pod with key "namespace/name". Returns 0 or -ENOENT. O(1). */
int sched_snapshot_remove_pod(struct sched_snapshot *s, const char *key);
/* Node by name (NULL if absent or only a placeholder). Borrowed. */
struct sched_node_info *sched_snapshot_get_node(const struct sched_snapshot *s, const char *name);
/* Assigned pods of namespace ns whose label key is value (borrowed; NULL when none, with
 * *ret_n = 0). O(1): lets affinity and spread terms with an exact label requirement skip
 * the rest of the cluster. */
struct sched_pod_info *const *sched_snapshot_pods_with_label(const struct sched_snapshot *s,
                                                             const char *ns, const char *key,
                                                             const char *value, size_t *ret_n);

/* Assigned pod by key, NULL when absent. Borrowed. */
struct sched_pod_info *sched_snapshot_get_pod(const struct sched_snapshot *s, const char *key);

/* ---- statuses ---- */

enum sched_code {
  SCHED_SUCCESS = 0,
  SCHED_UNSCHEDULABLE = 1,              /* preemption may help */
  SCHED_UNSCHEDULABLE_UNRESOLVABLE = 2, /* preemption cannot help */
};

/* A filter verdict: code plus kube's reason strings (malloc'd, owned). */
struct sched_status {
  enum sched_code code;
  char **reasons;
  size_t n_reasons;
  const char *plugin; /* static name of the plugin that failed */
};

void sched_status_clear(struct sched_status *st);
/* Sets code (the worse of old and new) and appends a copy of reason. */
void sched_status_add(struct sched_status *st, enum sched_code code, const char *reason);

/* ---- one scheduling cycle ---- */

/* Looks up a PersistentVolumeClaim; returns a borrowed object or NULL when absent. */
typedef const json_t *(*sched_pvc_lookup_t)(void *ud, const char *ns, const char *name);
/* Whether a StorageClass has volumeBindingMode WaitForFirstConsumer (false when unknown). */
typedef bool (*sched_class_wffc_t)(void *ud, const char *class_name);

struct sched_volume_lookup {
  sched_pvc_lookup_t pvc;
  sched_class_wffc_t wait_for_first_consumer;
  void *ud;
};

struct sched_topology_constraint {
  int32_t max_skew;
  const char *topology_key;
  selector_t *selector;
  int32_t min_domains;
  bool honor_affinity; /* nodeAffinityPolicy Honor (default) */
  bool honor_taints;   /* nodeTaintsPolicy Honor (default Ignore) */
  bool self_match;     /* the selector selects the incoming pod */
  int64_t critical_min;
  struct sched_map counts; /* topology value → matching pods (int64 via intptr) */
  size_t n_domains;
  double weight; /* score: log(domains + 2) */
};

struct sched_cycle {
  const struct sched_snapshot *snap;
  struct sched_pod_info *pod; /* the incoming pod; owned by the cycle */
  /* PreFilter verdict that applies to every node (VolumeBinding); code 0 when none. */
  struct sched_status prefilter;
  /* InterPodAffinity: "key\x1fvalue" → count. */
  struct sched_map existing_anti, affinity_counts, anti_counts;
  bool affinity_counts_any;
  bool pod_matches_own_affinity;
  /* PodTopologySpread DoNotSchedule and ScheduleAnyway constraints. */
  struct sched_topology_constraint *hard, *soft;
  size_t n_hard, n_soft;
  /* Scoring state. */
  struct sched_map ipa_scores; /* "key\x1fvalue" → score (int64 via intptr) */
  bool ipa_any;
  /* Per-pod facts read on every node. */
  bool tolerates_unschedulable; /* the cordon taint node.kubernetes.io/unschedulable */
  uint32_t skip_filters;        /* bit i: sched_filter_plugins[i] skipped (its skip hook) */
};

/* Builds the cycle state for pod over snap (the cycle takes its own reference; the caller
 * keeps theirs): runs the PreFilter parts (volume claims, inter-pod affinity counts,
 * topology spread counts). volumes may be NULL (claims are then not checked). Cost:
 * O(pods with affinity) for plain pods; for pods with pod affinity or topology spread
 * constraints, O(nodes) plus the pods the label index offers for each term (all assigned
 * pods when a term's selector pins no label value). Caller frees with sched_cycle_free. */
struct sched_cycle *sched_cycle_new(const struct sched_snapshot *snap, json_t *pod,
                                    const struct sched_volume_lookup *volumes);
void sched_cycle_free(struct sched_cycle *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct sched_cycle *, sched_cycle_free);

/* Adds the matching pods of the pod's namespace to each constraint's counts, whose
 * domains (topology values) must already be present with the value 1; a domain's stored
 * value is its count + 1. Nodes must carry every key of `all` and pass the constraint's
 * node inclusion policies. Shared by the PodTopologySpread filter and score. */
void sched_spread_count(const struct sched_cycle *c, struct sched_topology_constraint *all,
                        size_t n_all);

/* ---- filter plugins (filters.c) ---- */

/* Returns the code and fills st (clear on entry) on failure. Pure: reads only. */
typedef enum sched_code (*sched_filter_fn)(const struct sched_cycle *c,
                                           const struct sched_node_info *ni,
                                           struct sched_status *st);

struct sched_filter_plugin {
  const char *name;
  sched_filter_fn filter;
  /* Optional PreFilter "Skip": true when the filter passes every node for the cycle's pod,
   * so that the cycle does not run it at all. */
  bool (*skip)(const struct sched_cycle *c);
};

/* The default profile's filters, in kube's order; NULL-name terminated. */
extern const struct sched_filter_plugin sched_filter_plugins[];

enum sched_code sched_filter_node_name(const struct sched_cycle *, const struct sched_node_info *,
                                       struct sched_status *);
enum sched_code sched_filter_node_unschedulable(const struct sched_cycle *,
                                                const struct sched_node_info *,
                                                struct sched_status *);
enum sched_code sched_filter_taint_toleration(const struct sched_cycle *,
                                              const struct sched_node_info *,
                                              struct sched_status *);
enum sched_code sched_filter_node_affinity(const struct sched_cycle *,
                                           const struct sched_node_info *, struct sched_status *);
enum sched_code sched_filter_node_ports(const struct sched_cycle *, const struct sched_node_info *,
                                        struct sched_status *);
enum sched_code sched_filter_node_resources_fit(const struct sched_cycle *,
                                                const struct sched_node_info *,
                                                struct sched_status *);
enum sched_code sched_filter_pod_topology_spread(const struct sched_cycle *,
                                                 const struct sched_node_info *,
                                                 struct sched_status *);
enum sched_code sched_filter_inter_pod_affinity(const struct sched_cycle *,
                                                const struct sched_node_info *,
                                                struct sched_status *);

/* Runs every filter the cycle does not skip on one node, stopping at the first failure as
 * kube does. st must be cleared by the caller afterwards. */
enum sched_code sched_run_filters(const struct sched_cycle *c, const struct sched_node_info *ni,
                                  struct sched_status *st);

/* Helpers shared with scoring. v1.Toleration.ToleratesTaint for one toleration, and
 * whether any toleration of the array tolerates the taint. */
bool sched_toleration_tolerates(const json_t *toleration, const json_t *taint);
bool sched_tolerates(const json_t *tolerations, const json_t *taint);
/* spec.nodeSelector and required node affinity of pod against node (labels and name). */
bool sched_node_matches_pod_affinity(const struct sched_pod_info *pod,
                                     const struct sched_node_info *ni);
/* nodeSelectorTerm matching (matchExpressions and matchFields). */
bool sched_node_selector_term_matches(const json_t *term, const struct sched_node_info *ni);

/* ---- failure messages ---- */

/* One reason and how many nodes gave it. */
struct sched_reason_count {
  char *reason;
  size_t count;
};

/* Per-reason node counts of a failed cycle. */
struct sched_diagnosis {
  size_t n_all_nodes;
  char *prefilter_msg; /* set when a PreFilter rejected the pod for every node */
  struct sched_reason_count *reasons;
  size_t n_reasons;
};

void sched_diagnosis_clear(struct sched_diagnosis *d);
/* Counts each reason of st once more. */
void sched_diagnosis_add(struct sched_diagnosis *d, const struct sched_status *st);

/* Kube's FitError text: "0/N nodes are available: <prefilter msg>." or "0/N nodes are
 * available: <count reason>, ... ." with the "count reason" strings sorted as strings;
 * then, when postfilter_msg is non-NULL, " " + postfilter_msg + "." (which the driver takes
 * from sched_preempt_message or sched_preempt's ineligibility text; both end in '.' already,
 * so kube's messages end in ".."). Caller frees. */
char *sched_format_fit_error(const struct sched_diagnosis *d, const char *postfilter_msg);

/* The preemption part: "preemption: " followed by the FitError text of the preemption
 * diagnosis, e.g. "preemption: 0/3 nodes are available: 1 Preemption is not helpful for
 * scheduling, 2 No preemption victims found for incoming pod.". Caller frees. */
char *sched_preempt_message(const struct sched_diagnosis *preemption);

/* ---- scoring and selection (scores.c) ---- */

#define SCHED_MAX_NODE_SCORE 100

struct sched_score_plugin {
  const char *name;
  int64_t weight;
  /* Optional: pre-computes cycle state from the feasible nodes (PreScore). */
  void (*prescore)(struct sched_cycle *c, struct sched_node_info *const *nodes, size_t n);
  /* Optional PreScore "Skip", asked after prescore: true when every node's normalised
   * score would be 0, so that score and normalize are not run. */
  bool (*skip)(const struct sched_cycle *c);
  /* Score of one feasible node, before normalisation. */
  int64_t (*score)(const struct sched_cycle *c, const struct sched_node_info *ni);
  /* Optional: rewrites scores[i] (one per feasible node) into 0..100. */
  void (*normalize)(const struct sched_cycle *c, struct sched_node_info *const *nodes,
                    int64_t *scores, size_t n);
};

/* The default profile's scorers with kube's default weights; NULL-name terminated. */
extern const struct sched_score_plugin sched_score_plugins[];

int64_t sched_score_least_allocated(const struct sched_cycle *, const struct sched_node_info *);
int64_t sched_score_balanced_allocation(const struct sched_cycle *, const struct sched_node_info *);
int64_t sched_score_node_affinity(const struct sched_cycle *, const struct sched_node_info *);
int64_t sched_score_taint_toleration(const struct sched_cycle *, const struct sched_node_info *);
int64_t sched_score_inter_pod_affinity(const struct sched_cycle *, const struct sched_node_info *);
int64_t sched_score_topology_spread(const struct sched_cycle *, const struct sched_node_info *);

/* Scores the feasible nodes: ret_totals[i] = Σ weight × normalised score. Plugin-level
 * scores are written to per_plugin[p * n + i] when per_plugin is non-NULL (tests). */
void sched_score_nodes(struct sched_cycle *c, struct sched_node_info *const *nodes, size_t n,
                       int64_t *ret_totals, int64_t *per_plugin);

/* How many feasible nodes to look for among n_all (kube's percentageOfNodesToScore
 * adaptive rule: all below 100 nodes; else max(5, 50 - n/125) % of them, at least 100). */
size_t sched_num_feasible_to_find(size_t n_all);

/* The verdict on one node that failed the filters. */
struct sched_node_status {
  struct sched_node_info *node;
  struct sched_status status;
};

struct sched_result {
  char *node_name;                  /* chosen node (malloc'd), NULL when none fits */
  struct sched_diagnosis diag;      /* why nodes failed (when node_name is NULL) */
  struct sched_node_status *failed; /* every node that failed, in evaluation order */
  size_t n_failed, cap_failed;
  size_t n_feasible;
};

void sched_result_clear(struct sched_result *r);

/* Runs filters over the snapshot from its rotating start index, stopping once enough
 * feasible nodes are found, scores them and picks the best (ties broken at random, as kube
 * does). Returns 0 with ret->node_name set; or -ENOSPC when no node fits, with ret->diag
 * and ret->failed describing every node (for sched_format_fit_error and sched_preempt);
 * or -ENODEV when the snapshot holds no node (diag has 0 nodes). Advances s->next_start and
 * reuses s's scratch arrays (the snapshot is otherwise read-only). */
int sched_find_nodes(struct sched_snapshot *s, struct sched_cycle *c, struct sched_result *ret);

/* ---- preemption (scores.c) ---- */

struct sched_preemption {
  char *node_name;
  char **victims; /* NULL-terminated "namespace/name" keys; may be taken with TAKE_PTR */
  size_t n_victims;
  struct sched_diagnosis diag; /* when no candidate: per-node reasons */
  char *message;               /* when no candidate: the PostFilter message */
};

void sched_preemption_clear(struct sched_preemption *p);

/* After sched_find_nodes failed with -ENOSPC: looks for a node where evicting
 * lower-priority pods lets the pod fit, dry-running filters on node copies. Pods with
 * preemptionPolicy Never are not eligible. Picks the node as kube's
 * pickOneNodeForPreemption does (fewest PDB violations (always 0 here) → lowest
 * highest-victim priority → lowest priority sum → fewest victims → latest start of the
 * highest-priority victims → first). Returns 0 with ret->node_name and ret->victims set;
 * or -ENOSPC with ret->message set ("preemption: not eligible due to
 * preemptionPolicy=Never." or "preemption: 0/N nodes are available: ..."). */
int sched_preempt(struct sched_snapshot *s, struct sched_cycle *c, const struct sched_result *r,
                  struct sched_preemption *ret);
