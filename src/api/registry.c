/* The resources ckube serves, as kube-apiserver 1.32 serves them: names, scope, verbs,
 * short names, categories, subresources and columns. */
#include "api/registry.h"

#include <pthread.h>
#include <stdio.h>

#include "api/columns.h"
#include "api/strategy.h"
#include "lib/macro.h"

#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})
#define ALL NAMES("all")
#define SUB(...) ((const struct api_subresource[]){__VA_ARGS__, {NULL}})

#define STATUS_SUB(g, v, k) {"status", g, v, k, VERB_GET | VERB_UPDATE | VERB_PATCH}
#define SCALE_SUB {"scale", "autoscaling", "v1", "Scale", VERB_GET | VERB_UPDATE | VERB_PATCH}

#define READ_VERBS (VERB_GET | VERB_LIST | VERB_WATCH)

static struct api_resource resources[] = {
    /* core/v1 */
    {"", "v1", "Binding", "bindings", "binding", true, VERB_CREATE},
    {"", "v1", "ComponentStatus", "componentstatuses", "componentstatus", false,
     VERB_GET | VERB_LIST, NAMES("cs"), NULL, NULL, columns_componentstatuses},
    {"", "v1", "ConfigMap", "configmaps", "configmap", true, VERBS_ALL, NAMES("cm"), NULL, NULL,
     columns_configmaps, &strategy_configmaps},
    {"", "v1", "Endpoints", "endpoints", "endpoints", true, VERBS_ALL, NAMES("ep"), NULL, NULL,
     columns_endpoints},
    {"", "v1", "Event", "events", "event", true, VERBS_ALL, NAMES("ev"), NULL, NULL,
     columns_events, &strategy_events},
    {"", "v1", "LimitRange", "limitranges", "limitrange", true, VERBS_ALL, NAMES("limits"),
     NULL, NULL, columns_limitranges},
    {"", "v1", "Namespace", "namespaces", "namespace", false,
     VERB_GET | VERB_LIST | VERB_WATCH | VERB_CREATE | VERB_UPDATE | VERB_PATCH | VERB_DELETE,
     NAMES("ns"), NULL,
     SUB(STATUS_SUB("", "v1", "Namespace"),
         {"finalize", "", "v1", "Namespace", VERB_UPDATE}),
     columns_namespaces, &strategy_namespaces, NULL, true},
    {"", "v1", "Node", "nodes", "node", false, VERBS_ALL, NAMES("no"), NULL,
     SUB(STATUS_SUB("", "v1", "Node"), {"proxy", "", "v1", "NodeProxyOptions", VERB_GET}),
     columns_nodes, &strategy_nodes, NULL, true},
    {"", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", "persistentvolumeclaim",
     true, VERBS_ALL, NAMES("pvc"), NULL, SUB(STATUS_SUB("", "v1", "PersistentVolumeClaim")),
     columns_persistentvolumeclaims, &strategy_persistentvolumeclaims, NULL, true},
    {"", "v1", "PersistentVolume", "persistentvolumes", "persistentvolume", false, VERBS_ALL,
     NAMES("pv"), NULL, SUB(STATUS_SUB("", "v1", "PersistentVolume")),
     columns_persistentvolumes, NULL, NULL, true},
    {"", "v1", "Pod", "pods", "pod", true, VERBS_ALL, NAMES("po"), ALL,
     SUB({"attach", "", "v1", "PodAttachOptions", VERB_CREATE | VERB_GET},
         {"binding", "", "v1", "Binding", VERB_CREATE},
         {"ephemeralcontainers", "", "v1", "Pod", VERB_GET | VERB_UPDATE | VERB_PATCH},
         {"eviction", "policy", "v1", "Eviction", VERB_CREATE},
         {"exec", "", "v1", "PodExecOptions", VERB_CREATE | VERB_GET},
         {"log", "", "v1", "Pod", VERB_GET},
         {"portforward", "", "v1", "PodPortForwardOptions", VERB_CREATE | VERB_GET},
         {"proxy", "", "v1", "PodProxyOptions", VERB_GET},
         STATUS_SUB("", "v1", "Pod")),
     columns_pods, &strategy_pods, NULL, true},
    {"", "v1", "PodTemplate", "podtemplates", "podtemplate", true, VERBS_ALL, NULL, NULL,
     NULL, columns_podtemplates, &strategy_podtemplates},
    {"", "v1", "ReplicationController", "replicationcontrollers", "replicationcontroller",
     true, VERBS_ALL, NAMES("rc"), ALL, SUB(SCALE_SUB, STATUS_SUB("", "v1", "ReplicationController")),
     columns_replicationcontrollers, &strategy_replicationcontrollers, NULL, true},
    {"", "v1", "ResourceQuota", "resourcequotas", "resourcequota", true, VERBS_ALL,
     NAMES("quota"), NULL, SUB(STATUS_SUB("", "v1", "ResourceQuota")),
     columns_resourcequotas, NULL, NULL, true},
    {"", "v1", "Secret", "secrets", "secret", true, VERBS_ALL, NULL, NULL, NULL,
     columns_secrets, &strategy_secrets},
    {"", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount", true, VERBS_ALL,
     NAMES("sa"), NULL, SUB({"token", "authentication.k8s.io", "v1", "TokenRequest", VERB_CREATE}),
     columns_serviceaccounts},
    {"", "v1", "Service", "services", "service", true,
     VERB_GET | VERB_LIST | VERB_WATCH | VERB_CREATE | VERB_UPDATE | VERB_PATCH | VERB_DELETE |
         VERB_DELETECOLLECTION,
     NAMES("svc"), ALL,
     SUB({"proxy", "", "v1", "ServiceProxyOptions", VERB_GET}, STATUS_SUB("", "v1", "Service")),
     columns_services, &strategy_services, NULL, true},

    /* apps/v1 */
    {"apps", "v1", "ControllerRevision", "controllerrevisions", "controllerrevision", true,
     VERBS_ALL, NULL, NULL, NULL, columns_controllerrevisions},
    {"apps", "v1", "DaemonSet", "daemonsets", "daemonset", true, VERBS_ALL, NAMES("ds"), ALL,
     SUB(STATUS_SUB("apps", "v1", "DaemonSet")), columns_daemonsets, &strategy_daemonsets, NULL, true},
    {"apps", "v1", "Deployment", "deployments", "deployment", true, VERBS_ALL,
     NAMES("deploy"), ALL, SUB(SCALE_SUB, STATUS_SUB("apps", "v1", "Deployment")),
     columns_deployments, &strategy_deployments, NULL, true},
    {"apps", "v1", "ReplicaSet", "replicasets", "replicaset", true, VERBS_ALL, NAMES("rs"), ALL,
     SUB(SCALE_SUB, STATUS_SUB("apps", "v1", "ReplicaSet")), columns_replicasets, &strategy_replicasets, NULL,
     true},
    {"apps", "v1", "StatefulSet", "statefulsets", "statefulset", true, VERBS_ALL, NAMES("sts"),
     ALL, SUB(SCALE_SUB, STATUS_SUB("apps", "v1", "StatefulSet")), columns_statefulsets, &strategy_statefulsets,
     NULL, true},

    /* events.k8s.io/v1 */
    {"events.k8s.io", "v1", "Event", "events", "event", true, VERBS_ALL, NAMES("ev"), NULL,
     NULL, columns_events},

    /* authentication.k8s.io/v1 */
    {"authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews",
     "selfsubjectreview", false, VERB_CREATE},
    {"authentication.k8s.io", "v1", "TokenReview", "tokenreviews", "tokenreview", false,
     VERB_CREATE},

    /* authorization.k8s.io/v1 */
    {"authorization.k8s.io", "v1", "LocalSubjectAccessReview", "localsubjectaccessreviews",
     "localsubjectaccessreview", true, VERB_CREATE},
    {"authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews",
     "selfsubjectaccessreview", false, VERB_CREATE},
    {"authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews",
     "selfsubjectrulesreview", false, VERB_CREATE},
    {"authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews",
     "subjectaccessreview", false, VERB_CREATE},

    /* autoscaling: v2 is preferred. There is no conversion between the two versions yet,
     * so each keeps its own objects rather than showing one version's objects in the
     * other's shape. */
    {"autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers",
     "horizontalpodautoscaler", true, VERBS_ALL, NAMES("hpa"), ALL,
     SUB(STATUS_SUB("autoscaling", "v2", "HorizontalPodAutoscaler")), columns_hpa, NULL, NULL,
     true},
    {"autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers",
     "horizontalpodautoscaler", true, VERBS_ALL, NAMES("hpa"), ALL,
     SUB(STATUS_SUB("autoscaling", "v1", "HorizontalPodAutoscaler")), columns_hpa, NULL,
     "autoscaling-v1", true},

    /* batch/v1 */
    {"batch", "v1", "CronJob", "cronjobs", "cronjob", true, VERBS_ALL, NAMES("cj"), ALL,
     SUB(STATUS_SUB("batch", "v1", "CronJob")), columns_cronjobs, &strategy_cronjobs, NULL, true},
    {"batch", "v1", "Job", "jobs", "job", true, VERBS_ALL, NULL, ALL,
     SUB(STATUS_SUB("batch", "v1", "Job")), columns_jobs, &strategy_jobs, NULL, true},

    /* certificates.k8s.io/v1 */
    {"certificates.k8s.io", "v1", "CertificateSigningRequest", "certificatesigningrequests",
     "certificatesigningrequest", false, VERBS_ALL, NAMES("csr"), NULL,
     SUB({"approval", "certificates.k8s.io", "v1", "CertificateSigningRequest",
          VERB_GET | VERB_UPDATE | VERB_PATCH},
         STATUS_SUB("certificates.k8s.io", "v1", "CertificateSigningRequest")),
     columns_csr, NULL, NULL, true},

    /* networking.k8s.io/v1 */
    {"networking.k8s.io", "v1", "IngressClass", "ingressclasses", "ingressclass", false,
     VERBS_ALL, NULL, NULL, NULL, columns_ingressclasses},
    {"networking.k8s.io", "v1", "Ingress", "ingresses", "ingress", true, VERBS_ALL,
     NAMES("ing"), NULL, SUB(STATUS_SUB("networking.k8s.io", "v1", "Ingress")),
     columns_ingresses, &strategy_ingresses, NULL, true},
    {"networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", "networkpolicy", true,
     VERBS_ALL, NAMES("netpol"), NULL, NULL, columns_networkpolicies},

    /* policy/v1 */
    {"policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", "poddisruptionbudget",
     true, VERBS_ALL, NAMES("pdb"), NULL,
     SUB(STATUS_SUB("policy", "v1", "PodDisruptionBudget")), columns_pdb, NULL, NULL, true},

    /* rbac.authorization.k8s.io/v1 */
    {"rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings",
     "clusterrolebinding", false, VERBS_ALL, NULL, NULL, NULL, columns_rolebindings,
     &strategy_clusterrolebindings},
    {"rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", "clusterrole", false,
     VERBS_ALL, NULL, NULL, NULL, columns_roles, &strategy_clusterroles},
    {"rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", "rolebinding", true,
     VERBS_ALL, NULL, NULL, NULL, columns_rolebindings, &strategy_rolebindings},
    {"rbac.authorization.k8s.io", "v1", "Role", "roles", "role", true, VERBS_ALL, NULL, NULL,
     NULL, columns_roles, &strategy_roles},

    /* storage.k8s.io/v1 */
    {"storage.k8s.io", "v1", "CSIDriver", "csidrivers", "csidriver", false, VERBS_ALL, NULL,
     NULL, NULL, columns_csidrivers},
    {"storage.k8s.io", "v1", "CSINode", "csinodes", "csinode", false, VERBS_ALL, NULL, NULL,
     NULL, columns_csinodes},
    {"storage.k8s.io", "v1", "StorageClass", "storageclasses", "storageclass", false,
     VERBS_ALL, NAMES("sc"), NULL, NULL, columns_storageclasses},
    {"storage.k8s.io", "v1", "VolumeAttachment", "volumeattachments", "volumeattachment",
     false, VERBS_ALL, NULL, NULL, SUB(STATUS_SUB("storage.k8s.io", "v1", "VolumeAttachment")),
     columns_volumeattachments, NULL, NULL, true},

    /* admissionregistration.k8s.io/v1 */
    {"admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration",
     "mutatingwebhookconfigurations", "mutatingwebhookconfiguration", false, VERBS_ALL, NULL,
     NAMES("api-extensions"), NULL, columns_webhooks},
    {"admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration",
     "validatingwebhookconfigurations", "validatingwebhookconfiguration", false, VERBS_ALL,
     NULL, NAMES("api-extensions"), NULL, columns_webhooks},

    /* apiextensions.k8s.io/v1 */
    {"apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions",
     "customresourcedefinition", false, VERBS_ALL, NAMES("crd", "crds"), NAMES("api-extensions"),
     SUB(STATUS_SUB("apiextensions.k8s.io", "v1", "CustomResourceDefinition")), columns_default,
     NULL, NULL, true},

    /* scheduling.k8s.io/v1 */
    {"scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", "priorityclass", false,
     VERBS_ALL, NAMES("pc"), NULL, NULL, columns_priorityclasses, &strategy_priorityclasses},

    /* coordination.k8s.io/v1 */
    {"coordination.k8s.io", "v1", "Lease", "leases", "lease", true, VERBS_ALL, NULL, NULL,
     NULL, columns_leases, &strategy_leases},

    /* node.k8s.io/v1 */
    {"node.k8s.io", "v1", "RuntimeClass", "runtimeclasses", "runtimeclass", false, VERBS_ALL,
     NULL, NULL, NULL, columns_runtimeclasses},

    /* discovery.k8s.io/v1 */
    {"discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", "endpointslice", true,
     VERBS_ALL, NULL, NULL, NULL, columns_endpointslices},
};

static const char *const verb_names[] = {"get",   "list",  "watch",  "create",
                                         "update", "patch", "delete", "deletecollection"};

json_t *api_verbs_json(unsigned verbs) {
  /* kube-apiserver lists verbs in this order in discovery. */
  static const int order[] = {3, 6, 7, 0, 1, 5, 4, 2};
  json_t *a = json_array();
  for (size_t i = 0; i < ARRAY_SIZE(order); i++)
    if (verbs & (1u << order[i]))
      json_array_append_new(a, json_string(verb_names[order[i]]));
  return a;
}

static char *init_error;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void registry_init_once(void) {
  const struct schema_set *set = schema_builtin();
  for (size_t i = 0; i < ARRAY_SIZE(resources); i++) {
    struct api_resource *r = &resources[i];
    r->schema = schema_find_gvk(set, r->group, r->version, r->kind);
    if (!r->schema && !init_error)
      init_error = xasprintf("no schema for %s/%s %s", *r->group ? r->group : "core",
                             r->version, r->kind);
  }
}

int api_registry_init(char **ret_err) {
  pthread_once(&init_once, registry_init_once);
  if (init_error) {
    if (ret_err)
      *ret_err = xstrdup(init_error);
    return -EINVAL;
  }
  return 0;
}

size_t api_registry_count(void) { return ARRAY_SIZE(resources); }

const struct api_resource *api_registry_at(size_t i) {
  return i < ARRAY_SIZE(resources) ? &resources[i] : NULL;
}

const struct api_resource *api_registry_find(const char *group, const char *version,
                                             const char *plural) {
  for (size_t i = 0; i < ARRAY_SIZE(resources); i++)
    if (streq(resources[i].group, group) && streq(resources[i].version, version) &&
        streq(resources[i].plural, plural))
      return &resources[i];
  return NULL;
}

const struct api_resource *api_registry_find_kind(const char *group, const char *version,
                                                  const char *kind) {
  for (size_t i = 0; i < ARRAY_SIZE(resources); i++)
    if (streq(resources[i].group, group) && streq(resources[i].version, version) &&
        streq(resources[i].kind, kind))
      return &resources[i];
  return NULL;
}
