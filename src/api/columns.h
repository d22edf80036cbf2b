/* columns.h — the `kubectl get` columns of every type, as kube-apiserver 1.32's printers
 * define them (name, type, format, description, priority) and the cell functions that fill
 * them. The tables are referenced from the registry; the Table builder in the API server
 * walks them.
 *
 * Cells are always the wide (-o wide) form: kube-apiserver renders every column and
 * kubectl hides priority-1 ones itself. A cell function takes the full object (never
 * modified, any shape: missing or ill-typed fields give kube's defaults, never a crash)
 * and returns a new reference: a JSON string, integer or boolean exactly as kube sends
 * it, or NULL where kube prints "<none>". Fields kube defaults on write (replicas,
 * protocol, reclaim policy, minReplicas...) print with that default when absent. Time
 * cells ("5m", "3 (2m ago)") are relative to the wall clock at the call.
 *
 * The tables are immutable; all cell functions are thread-safe. Nothing here logs. */
#pragma once

#include "api/registry.h"

/* The AGE cell: "5m12s"-style age of metadata.creationTimestamp, "<unknown>" without
 * one. New reference. */
json_t *column_age(const json_t *obj);

/* Name and Age: for kinds without a table of their own (custom resources). */
extern const struct api_column columns_default[];
/* Kinds kube-apiserver has no printer for (Role, ClusterRole; LimitRange below) get its default
 * table: Name and "Created At" (type "date", RFC 3339). */
extern const struct api_column columns_roles[];
extern const struct api_column columns_namespaces[];
extern const struct api_column columns_pods[];
extern const struct api_column columns_services[];
extern const struct api_column columns_endpoints[];
extern const struct api_column columns_configmaps[];
extern const struct api_column columns_secrets[];
extern const struct api_column columns_serviceaccounts[];
extern const struct api_column columns_nodes[];
/* Shared by core/v1 and events.k8s.io/v1 Events (either field naming). */
extern const struct api_column columns_events[];
extern const struct api_column columns_replicationcontrollers[];
extern const struct api_column columns_persistentvolumes[];
extern const struct api_column columns_persistentvolumeclaims[];
extern const struct api_column columns_limitranges[];
extern const struct api_column columns_resourcequotas[];
extern const struct api_column columns_podtemplates[];
extern const struct api_column columns_componentstatuses[];
extern const struct api_column columns_deployments[];
extern const struct api_column columns_replicasets[];
extern const struct api_column columns_statefulsets[];
extern const struct api_column columns_daemonsets[];
extern const struct api_column columns_controllerrevisions[];
extern const struct api_column columns_jobs[];
extern const struct api_column columns_cronjobs[];
/* Shared by autoscaling/v2 and v1 (targetCPUUtilizationPercentage) objects. */
extern const struct api_column columns_hpa[];
extern const struct api_column columns_ingresses[];
extern const struct api_column columns_ingressclasses[];
extern const struct api_column columns_networkpolicies[];
extern const struct api_column columns_endpointslices[];
extern const struct api_column columns_leases[];
extern const struct api_column columns_pdb[];
/* RoleBinding and ClusterRoleBinding. */
extern const struct api_column columns_rolebindings[];
extern const struct api_column columns_storageclasses[];
extern const struct api_column columns_csidrivers[];
extern const struct api_column columns_csinodes[];
extern const struct api_column columns_volumeattachments[];
extern const struct api_column columns_priorityclasses[];
extern const struct api_column columns_runtimeclasses[];
extern const struct api_column columns_csr[];
/* Mutating and validating webhook configurations. */
extern const struct api_column columns_webhooks[];
