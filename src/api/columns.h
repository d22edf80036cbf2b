/* columns.h — the `kubectl get` columns of every type, as kube-apiserver's printers
 * define them (name, type, description, priority) and the cell functions that fill them.
 * The tables are referenced from the registry; the Table builder in the API server
 * walks them. Cell functions take the full object and return a new JSON value (string
 * or integer), or NULL for "<none>". */
#pragma once

#include "api/registry.h"

/* "5m12s"-style age of metadata.creationTimestamp, as a string cell. */
json_t *column_age(const json_t *obj);

extern const struct api_column columns_default[];
extern const struct api_column columns_namespaces[];
extern const struct api_column columns_pods[];
extern const struct api_column columns_services[];
extern const struct api_column columns_endpoints[];
extern const struct api_column columns_configmaps[];
extern const struct api_column columns_secrets[];
extern const struct api_column columns_serviceaccounts[];
extern const struct api_column columns_nodes[];
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
extern const struct api_column columns_hpa[];
extern const struct api_column columns_ingresses[];
extern const struct api_column columns_ingressclasses[];
extern const struct api_column columns_networkpolicies[];
extern const struct api_column columns_endpointslices[];
extern const struct api_column columns_leases[];
extern const struct api_column columns_pdb[];
extern const struct api_column columns_roles[];
extern const struct api_column columns_rolebindings[];
extern const struct api_column columns_storageclasses[];
extern const struct api_column columns_csidrivers[];
extern const struct api_column columns_csinodes[];
extern const struct api_column columns_volumeattachments[];
extern const struct api_column columns_priorityclasses[];
extern const struct api_column columns_runtimeclasses[];
extern const struct api_column columns_csr[];
extern const struct api_column columns_webhooks[];
