/* strategy.h — per-kind behaviour that the schema cannot express, referenced from the
 * registry: defaults that depend on other fields, cross-field validation with
 * kube-apiserver's field paths and messages, update rules (immutable fields) and
 * field-selector attributes.
 *
 * The API server runs, for a create: status reset, prepare_create, schema defaulting,
 * schema validation, validate(obj, NULL); for an update: prepare_update, schema
 * defaulting, schema validation, validate(obj, old). Hooks therefore treat a field the
 * schema defaults (a Service's type, a Deployment's strategy type) as holding its
 * default when it is absent.
 *
 * Generic behaviour (uid, timestamps, generation, status reset) and anything that needs
 * the store (ClusterIP and NodePort allocation, PriorityClass globalDefault uniqueness,
 * the ServiceAccount admission plugin) live in the API server, not here.
 *
 * Every hook works on the object it is given and keeps no state: all are safe to call
 * from any thread. Nothing here logs. Hooks never fail on malformed input: what the
 * schema rejects is left to it, and validate appends kube's field errors. */
#pragma once

#include <stdbool.h>

#include "api/registry.h"

/* Defines prefix_prepare_create and prefix_prepare_update for a kind whose create and
 * update both apply fn(obj) (defaults that depend on other fields), whatever the old
 * object held. */
#define STRATEGY_DEFAULT_ON_WRITE(prefix, fn)                                                      \
  static void prefix##_prepare_create(json_t *obj) {                                               \
    fn(obj);                                                                                       \
  }                                                                                                \
  static void prefix##_prepare_update(json_t *obj, const json_t *old) {                            \
    (void)old;                                                                                     \
    fn(obj);                                                                                       \
  }

/* core/v1 */
extern const struct api_strategy strategy_pods;
extern const struct api_strategy strategy_podtemplates;
extern const struct api_strategy strategy_namespaces;
extern const struct api_strategy strategy_nodes;
extern const struct api_strategy strategy_services;
extern const struct api_strategy strategy_configmaps;
extern const struct api_strategy strategy_secrets;
extern const struct api_strategy strategy_events;
extern const struct api_strategy strategy_persistentvolumeclaims;
extern const struct api_strategy strategy_replicationcontrollers;

/* apps/v1 */
extern const struct api_strategy strategy_deployments;
extern const struct api_strategy strategy_replicasets;
extern const struct api_strategy strategy_statefulsets;
extern const struct api_strategy strategy_daemonsets;

/* batch/v1 */
extern const struct api_strategy strategy_jobs;
extern const struct api_strategy strategy_cronjobs;

/* rbac.authorization.k8s.io/v1 */
extern const struct api_strategy strategy_roles;
extern const struct api_strategy strategy_clusterroles;
extern const struct api_strategy strategy_rolebindings;
extern const struct api_strategy strategy_clusterrolebindings;

/* networking.k8s.io/v1, scheduling.k8s.io/v1, coordination.k8s.io/v1 */
extern const struct api_strategy strategy_ingresses;
extern const struct api_strategy strategy_priorityclasses;
extern const struct api_strategy strategy_leases;

/* ---- Service allocation hooks, for the API server's allocators ----
 * Both take a Service after prepare_create/prepare_update and defaulting. */

/* Whether the Service needs a cluster IP allocated: it is not ExternalName, not headless
 * ("None") and spec.clusterIP is empty. */
bool strategy_service_needs_cluster_ip(const json_t *svc);

/* Whether the Service's ports need node ports: type NodePort, or LoadBalancer with
 * allocateLoadBalancerNodePorts not false. Ports whose nodePort is 0 or absent get one. */
bool strategy_service_needs_node_ports(const json_t *svc);

/* ---- shared by the strategy_*.c files; not for other modules ---- */

/* Pod spec defaults kube applies to every PodSpec (pods and templates alike): container
 * imagePullPolicy from the image tag, serviceAccountName from the deprecated
 * serviceAccount field, host ports for hostNetwork pods. spec may be NULL. */
void strategy_pod_spec_default(json_t *spec);

/* Validates a PodSpec at path ("spec", "spec.template.spec") as ValidatePodSpec does,
 * appending to errs. spec may be NULL (nothing is appended: the schema reports a missing
 * required spec). */
void strategy_pod_spec_validate(const json_t *spec, const char *path, struct field_errors *errs);

/* Validates a PodTemplateSpec at path ("spec.template"): its labels and its spec. */
void strategy_pod_template_validate(const json_t *tmpl, const char *path,
                                    struct field_errors *errs);

/* ValidateLabels: keys and values at path (errors name the path, not the key). */
void strategy_labels_validate(const json_t *labels, const char *path, struct field_errors *errs);

/* Go's %#v of a map[string]string, keys sorted: `map[string]string{"a":"b", "c":"d"}`,
 * or `map[string]string(nil)` for NULL / a non-object. Caller frees. */
char *strategy_go_string_map(const json_t *map);

/* Go's %#v of a metav1.LabelSelector value. Caller frees. */
char *strategy_go_label_selector(const json_t *sel);

/* Removes errors appended earlier (by the schema rules) at field with the given cause,
 * so that kube's own, more specific message replaces them. Returns how many went. */
size_t strategy_errors_drop(struct field_errors *errs, const char *field, const char *type);

/* Appends `field: Invalid value: <json>: field is immutable` when new and old differ
 * (absent and JSON null are the same). */
void strategy_immutable(const json_t *new_value, const json_t *old_value, const char *field,
                        struct field_errors *errs);

/* Appends `Not found: <json>` at field. */
void strategy_not_found(struct field_errors *errs, const char *field, const json_t *value);

/* Appends one `Invalid value` error per message of a lib/validation check. */
void strategy_invalid_msgs(struct field_errors *errs, const char *field, const json_t *value,
                           char **msgs);

/* Checks the name of ports[i] at field: its syntax with `valid` (a lib/validation check:
 * IANA service names for container ports, DNS-1123 labels for service ports), then that no
 * earlier port has the same name (`Duplicate value`). */
void strategy_port_name(const json_t *ports, size_t i, const json_t *name, const char *field,
                        int (*valid)(const char *value, char ***ret_msgs),
                        struct field_errors *errs);
