/* protobuf.c — decodes Kubernetes protobuf request bodies by walking the schema.
 *
 * kube-apiserver's Go types marshal with gogo-protobuf in proto2 style: every non-pointer
 * field is written even when it holds its zero value, and a pointer field is written
 * exactly when it is set. The JSON form of the same object omits most of those zero
 * values (`omitempty`), so the decoder keeps a zero value only where Go would: for
 * pointer fields (listed in pb_pointer_fields below, taken from the Go types) and for
 * fields the schema marks required (serialised without omitempty). Everything else that
 * decodes to "", false, 0, an empty struct or the zero time is left out. */
#include "api/protobuf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/base64.h"
#include "lib/json.h"
#include "lib/macro.h"

#define PB_MAX_DEPTH 64

/* gogo-protobuf's wording, which kube-apiserver passes on to clients. */
#define PB_ERR_EOF "unexpected EOF"
#define PB_ERR_OVERFLOW "proto: integer overflow"
#define PB_ERR_NEGATIVE "proto: negative length found during unmarshaling"

static const uint8_t pb_magic[4] = {'k', '8', 's', 0};

enum {
  WIRE_VARINT = 0,
  WIRE_FIXED64 = 1,
  WIRE_LEN = 2,
  WIRE_FIXED32 = 5,
};

/* Fields whose Go type is a pointer, per struct type: on the wire they appear only when
 * set, so a zero value there is meaningful (`replicas: 0`, `suspend: false`, an empty
 * `emptyDir: {}`) and is kept. Sorted by type name for bsearch. */
struct pb_pointers {
  const char *type;
  const char *fields; /* space-separated JSON names */
};

static const struct pb_pointers pb_pointer_fields[] = {
    {"Affinity", "nodeAffinity podAffinity podAntiAffinity"},
    {"AppArmorProfile", "localhostProfile"},
    {"AzureDiskVolumeSource", "cachingMode fsType kind readOnly"},
    {"AzureFilePersistentVolumeSource", "secretNamespace"},
    {"CSIDriverSpec", "attachRequired fsGroupPolicy podInfoOnMount requiresRepublish "
                      "seLinuxMount storageCapacity"},
    {"CSINodeDriver", "allocatable"},
    {"CSIPersistentVolumeSource", "controllerExpandSecretRef controllerPublishSecretRef "
                                  "nodeExpandSecretRef nodePublishSecretRef nodeStageSecretRef"},
    {"CSIStorageCapacity", "capacity maximumVolumeSize nodeTopology"},
    {"CSIVolumeSource", "fsType nodePublishSecretRef readOnly"},
    {"CephFSPersistentVolumeSource", "secretRef"},
    {"CephFSVolumeSource", "secretRef"},
    {"CertificateSigningRequestSpec", "expirationSeconds"},
    {"CinderPersistentVolumeSource", "secretRef"},
    {"CinderVolumeSource", "secretRef"},
    {"ClientIPConfig", "timeoutSeconds"},
    {"ClusterRole", "aggregationRule"},
    {"ClusterTrustBundleProjection", "labelSelector name optional signerName"},
    {"ConfigMap", "immutable"},
    {"ConfigMapEnvSource", "optional"},
    {"ConfigMapKeySelector", "optional"},
    {"ConfigMapProjection", "optional"},
    {"ConfigMapVolumeSource", "defaultMode optional"},
    {"Container", "lifecycle livenessProbe readinessProbe restartPolicy securityContext "
                  "startupProbe"},
    {"ContainerState", "running terminated waiting"},
    {"ContainerStatus", "resources started user"},
    {"ContainerUser", "linux"},
    {"CronJobSpec", "failedJobsHistoryLimit startingDeadlineSeconds successfulJobsHistoryLimit "
                    "suspend timeZone"},
    {"CronJobStatus", "lastScheduleTime lastSuccessfulTime"},
    {"DaemonSetSpec", "revisionHistoryLimit selector"},
    {"DaemonSetStatus", "collisionCount"},
    {"DaemonSetUpdateStrategy", "rollingUpdate"},
    {"DeleteOptions", "gracePeriodSeconds ignoreStoreReadErrorWithClusterBreakingPotential "
                      "orphanDependents preconditions propagationPolicy"},
    {"DeploymentSpec", "progressDeadlineSeconds replicas revisionHistoryLimit selector"},
    {"DeploymentStatus", "collisionCount"},
    {"DeploymentStrategy", "rollingUpdate"},
    {"DownwardAPIVolumeFile", "fieldRef mode resourceFieldRef"},
    {"DownwardAPIVolumeSource", "defaultMode"},
    {"EmptyDirVolumeSource", "sizeLimit"},
    {"Endpoint", "hints hostname nodeName targetRef zone"},
    {"EndpointAddress", "nodeName targetRef"},
    {"EndpointConditions", "ready serving terminating"},
    {"EndpointPort", "appProtocol name port protocol"},
    {"EnvFromSource", "configMapRef secretRef"},
    {"EnvVar", "valueFrom"},
    {"EnvVarSource", "configMapKeyRef fieldRef resourceFieldRef secretKeyRef"},
    {"EphemeralVolumeSource", "volumeClaimTemplate"},
    {"Event", "related series"},
    {"Eviction", "deleteOptions"},
    {"FCVolumeSource", "lun"},
    {"FlexPersistentVolumeSource", "secretRef"},
    {"FlexVolumeSource", "secretRef"},
    {"GRPCAction", "service"},
    {"GlusterfsPersistentVolumeSource", "endpointsNamespace"},
    {"HPAScalingRules", "selectPolicy stabilizationWindowSeconds"},
    {"HTTPIngressPath", "pathType"},
    {"HorizontalPodAutoscalerBehavior", "scaleDown scaleUp"},
    {"HorizontalPodAutoscalerSpec", "behavior minReplicas targetCPUUtilizationPercentage"},
    {"HorizontalPodAutoscalerStatus", "currentCPUUtilizationPercentage lastScaleTime "
                                      "observedGeneration"},
    {"HostPathVolumeSource", "type"},
    {"ISCSIPersistentVolumeSource", "initiatorName secretRef"},
    {"ISCSIVolumeSource", "initiatorName secretRef"},
    {"IngressBackend", "resource service"},
    {"IngressClassParametersReference", "apiGroup namespace scope"},
    {"IngressClassSpec", "parameters"},
    {"IngressPortStatus", "error"},
    {"IngressSpec", "defaultBackend ingressClassName"},
    {"JobSpec",
     "activeDeadlineSeconds backoffLimit backoffLimitPerIndex completionMode "
     "completions managedBy manualSelector maxFailedIndexes parallelism podFailurePolicy "
     "podReplacementPolicy selector successPolicy suspend ttlSecondsAfterFinished"},
    {"JobStatus", "completionTime failedIndexes ready startTime terminating "
                  "uncountedTerminatedPods"},
    {"KeyToPath", "mode"},
    {"LeaseSpec", "acquireTime holderIdentity leaseDurationSeconds leaseTransitions "
                  "preferredHolder renewTime strategy"},
    {"Lifecycle", "postStart preStop"},
    {"LifecycleHandler", "exec httpGet sleep tcpSocket"},
    {"ListMeta", "remainingItemCount"},
    {"LoadBalancerIngress", "ipMode"},
    {"LocalVolumeSource", "fsType"},
    {"ManagedFieldsEntry", "fieldsV1 time"},
    {"MatchResources", "matchPolicy namespaceSelector objectSelector"},
    {"MetricIdentifier", "selector"},
    {"MetricSpec", "containerResource external object pods resource"},
    {"MetricStatus", "containerResource external object pods resource"},
    {"MetricTarget", "averageUtilization averageValue value"},
    {"MetricValueStatus", "averageUtilization averageValue value"},
    {"MutatingWebhook", "failurePolicy matchPolicy namespaceSelector objectSelector "
                        "reinvocationPolicy sideEffects timeoutSeconds"},
    {"NetworkPolicyPeer", "ipBlock namespaceSelector podSelector"},
    {"NetworkPolicyPort", "endPort port protocol"},
    {"NodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"},
    {"NodeConfigSource", "configMap"},
    {"NodeConfigStatus", "active assigned lastKnownGood"},
    {"NodeFeatures", "supplementalGroupsPolicy"},
    {"NodeRuntimeHandler", "features"},
    {"NodeRuntimeHandlerFeatures", "recursiveReadOnlyMounts userNamespaces"},
    {"NodeSpec", "configSource"},
    {"NodeStatus", "config features"},
    {"ObjectMeta", "deletionGracePeriodSeconds deletionTimestamp"},
    {"OwnerReference", "blockOwnerDeletion controller"},
    {"ParamRef", "parameterNotFoundAction selector"},
    {"PersistentVolumeClaimSpec", "dataSource dataSourceRef selector storageClassName "
                                  "volumeAttributesClassName volumeMode"},
    {"PersistentVolumeClaimStatus", "currentVolumeAttributesClassName modifyVolumeStatus"},
    {"PersistentVolumeSpec", "claimRef nodeAffinity volumeAttributesClassName volumeMode"},
    {"PersistentVolumeStatus", "lastPhaseTransitionTime"},
    {"PodAffinityTerm", "labelSelector namespaceSelector"},
    {"PodDNSConfigOption", "value"},
    {"PodDisruptionBudgetSpec", "maxUnavailable minAvailable selector unhealthyPodEvictionPolicy"},
    {"PodFailurePolicyOnExitCodesRequirement", "containerName"},
    {"PodFailurePolicyRule", "onExitCodes"},
    {"PodResourceClaim", "resourceClaimName resourceClaimTemplateName"},
    {"PodResourceClaimStatus", "resourceClaimName"},
    {"PodSecurityContext",
     "appArmorProfile fsGroup fsGroupChangePolicy runAsGroup runAsNonRoot "
     "runAsUser seLinuxChangePolicy seLinuxOptions seccompProfile supplementalGroupsPolicy "
     "windowsOptions"},
    {"PodSpec",
     "activeDeadlineSeconds affinity automountServiceAccountToken dnsConfig "
     "enableServiceLinks hostUsers os preemptionPolicy priority resources runtimeClassName "
     "securityContext setHostnameAsFQDN shareProcessNamespace terminationGracePeriodSeconds"},
    {"PodStatus", "startTime"},
    {"PortStatus", "error"},
    {"Preconditions", "resourceVersion uid"},
    {"PriorityClass", "preemptionPolicy"},
    {"Probe", "terminationGracePeriodSeconds"},
    {"ProjectedVolumeSource", "defaultMode"},
    {"RBDPersistentVolumeSource", "secretRef"},
    {"RBDVolumeSource", "secretRef"},
    {"ReplicaSetSpec", "replicas selector"},
    {"ReplicationControllerSpec", "replicas template"},
    {"ResourceAttributes", "fieldSelector labelSelector"},
    {"ResourceQuotaSpec", "scopeSelector"},
    {"RollingUpdateDaemonSet", "maxSurge maxUnavailable"},
    {"RollingUpdateDeployment", "maxSurge maxUnavailable"},
    {"RollingUpdateStatefulSetStrategy", "maxUnavailable partition"},
    {"RuntimeClass", "overhead scheduling"},
    {"ScaleIOPersistentVolumeSource", "secretRef"},
    {"ScaleIOVolumeSource", "secretRef"},
    {"SeccompProfile", "localhostProfile"},
    {"Secret", "immutable"},
    {"SecretEnvSource", "optional"},
    {"SecretKeySelector", "optional"},
    {"SecretProjection", "optional"},
    {"SecretVolumeSource", "defaultMode optional"},
    {"SecurityContext",
     "allowPrivilegeEscalation appArmorProfile capabilities privileged "
     "procMount readOnlyRootFilesystem runAsGroup runAsNonRoot runAsUser seLinuxOptions "
     "seccompProfile windowsOptions"},
    {"SelfSubjectAccessReviewSpec", "nonResourceAttributes resourceAttributes"},
    {"ServiceAccount", "automountServiceAccountToken"},
    {"ServiceAccountTokenProjection", "expirationSeconds"},
    {"ServicePort", "appProtocol"},
    {"ServiceReference", "path port"},
    {"ServiceSpec", "allocateLoadBalancerNodePorts internalTrafficPolicy ipFamilyPolicy "
                    "loadBalancerClass sessionAffinityConfig trafficDistribution"},
    {"SessionAffinityConfig", "clientIP"},
    {"StatefulSetSpec", "ordinals persistentVolumeClaimRetentionPolicy replicas "
                        "revisionHistoryLimit selector"},
    {"StatefulSetStatus", "collisionCount"},
    {"StatefulSetUpdateStrategy", "rollingUpdate"},
    {"StorageClass", "allowVolumeExpansion reclaimPolicy volumeBindingMode"},
    {"StorageOSPersistentVolumeSource", "secretRef"},
    {"StorageOSVolumeSource", "secretRef"},
    {"SubjectAccessReviewSpec", "nonResourceAttributes resourceAttributes"},
    {"SuccessPolicyRule", "succeededCount succeededIndexes"},
    {"Taint", "timeAdded"},
    {"TokenRequest", "expirationSeconds"},
    {"TokenRequestSpec", "boundObjectRef expirationSeconds"},
    {"Toleration", "tolerationSeconds"},
    {"TopologySpreadConstraint", "labelSelector minDomains nodeAffinityPolicy nodeTaintsPolicy"},
    {"TypedLocalObjectReference", "apiGroup"},
    {"TypedObjectReference", "apiGroup namespace"},
    {"ValidatingAdmissionPolicyBindingSpec", "matchResources paramRef"},
    {"ValidatingAdmissionPolicySpec", "failurePolicy matchConstraints paramKind"},
    {"ValidatingAdmissionPolicyStatus", "typeChecking"},
    {"ValidatingWebhook", "failurePolicy matchPolicy namespaceSelector objectSelector "
                          "sideEffects timeoutSeconds"},
    {"Validation", "reason"},
    {"VolumeAttachmentSource", "inlineVolumeSpec persistentVolumeName"},
    {"VolumeAttachmentStatus", "attachError detachError"},
    {"VolumeMount", "mountPropagation recursiveReadOnly"},
    {"VolumeMountStatus", "recursiveReadOnly"},
    {"VolumeNodeAffinity", "required"},
    {"VolumeNodeResources", "count"},
    {"VolumeProjection", "clusterTrustBundle configMap downwardAPI secret serviceAccountToken"},
    {"WebhookClientConfig", "service url"},
    {"WindowsSecurityContextOptions", "gmsaCredentialSpec gmsaCredentialSpecName hostProcess "
                                      "runAsUserName"},
};

/* Structs that JSON flattens into their parent (Go embedding, `json:",inline"`) but the
 * protobuf encoding keeps as a nested message in field `wire` of the parent. The schema
 * language describes only the JSON shape and marks those fields pb=-, so their numbers
 * inside the nested message are given here: either as "name=N" items (a leading '*'
 * marks a Go pointer field) or as "@Type", meaning the nested message is numbered like
 * the schema type of that full name (EphemeralContainerCommon is numbered like Container). */
struct pb_inline {
  const char *type;
  int wire;
  const char *fields;
};

static const struct pb_inline pb_inlines[] = {
    {"io.k8s.api.core.v1.ConfigMapEnvSource", 1, "name=1"},
    {"io.k8s.api.core.v1.ConfigMapKeySelector", 1, "name=1"},
    {"io.k8s.api.core.v1.ConfigMapProjection", 1, "name=1"},
    {"io.k8s.api.core.v1.ConfigMapVolumeSource", 1, "name=1"},
    {"io.k8s.api.core.v1.EphemeralContainer", 1, "@io.k8s.api.core.v1.Container"},
    {"io.k8s.api.networking.v1.IngressRule", 2, "*http=1"},
    {"io.k8s.api.admissionregistration.v1.NamedRuleWithOperations", 2,
     "@io.k8s.api.admissionregistration.v1.RuleWithOperations"},
    {"io.k8s.api.core.v1.PersistentVolumeSpec", 2,
     "*gcePersistentDisk=1 *awsElasticBlockStore=2 *hostPath=3 *glusterfs=4 *nfs=5 *rbd=6 "
     "*iscsi=7 *cinder=8 *cephfs=9 *fc=10 *flocker=11 *flexVolume=12 *azureFile=13 "
     "*vsphereVolume=14 *quobyte=15 *azureDisk=16 *photonPersistentDisk=17 "
     "*portworxVolume=18 *scaleIO=19 *local=20 *storageos=21 *csi=22"},
    {"io.k8s.api.core.v1.Probe", 1, "*exec=1 *httpGet=2 *tcpSocket=3 *grpc=4"},
    {"io.k8s.api.admissionregistration.v1.RuleWithOperations", 2,
     "apiGroups=1 apiVersions=2 resources=3 *scope=4"},
    {"io.k8s.api.core.v1.SecretEnvSource", 1, "name=1"},
    {"io.k8s.api.core.v1.SecretKeySelector", 1, "name=1"},
    {"io.k8s.api.core.v1.SecretProjection", 1, "name=1"},
    {"io.k8s.api.core.v1.Volume", 2,
     "*hostPath=1 *emptyDir=2 *gcePersistentDisk=3 *awsElasticBlockStore=4 *gitRepo=5 "
     "*secret=6 *nfs=7 *iscsi=8 *glusterfs=9 *persistentVolumeClaim=10 *rbd=11 "
     "*flexVolume=12 *cinder=13 *cephfs=14 *flocker=15 *downwardAPI=16 *fc=17 "
     "*azureFile=18 *configMap=19 *vsphereVolume=20 *quobyte=21 *azureDisk=22 "
     "*photonPersistentDisk=23 *portworxVolume=24 *scaleIO=25 *projected=26 "
     "*storageos=27 *csi=28 *ephemeral=29 *image=30"},
};

/* ---- errors ------------------------------------------------------------------------ */

struct pb_ctx {
  int depth;
  char *error; /* the first error, malloc'd */
};

static int pb_fail(struct pb_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int pb_fail(struct pb_ctx *c, const char *fmt, ...) {
  if (!c->error) {
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&c->error, fmt, ap) < 0)
      abort();
    va_end(ap);
  }
  return -EINVAL;
}

/* ---- wire format ------------------------------------------------------------------- */

struct pb_buf {
  const uint8_t *p, *end;
};

/* One field as read from the wire: its number, wire type and payload. */
struct pb_field {
  uint64_t num;
  int wire;
  uint64_t u;        /* VARINT, FIXED64, FIXED32 */
  struct pb_buf sub; /* LEN */
};

static int pb_varint(struct pb_ctx *c, struct pb_buf *b, uint64_t *ret) {
  uint64_t v = 0;
  for (unsigned shift = 0;; shift += 7) {
    if (shift >= 64)
      return pb_fail(c, PB_ERR_OVERFLOW);
    if (b->p >= b->end)
      return pb_fail(c, PB_ERR_EOF);
    uint8_t byte = *b->p++;
    /* The tenth byte may carry only the top bit of a 64-bit value. */
    if (shift == 63 && byte > 1)
      return pb_fail(c, PB_ERR_OVERFLOW);
    v |= (uint64_t)(byte & 0x7f) << shift;
    if (!(byte & 0x80))
      break;
  }
  *ret = v;
  return 0;
}

static uint64_t pb_le(const uint8_t *p, unsigned n) {
  uint64_t v = 0;
  for (unsigned i = 0; i < n; i++)
    v |= (uint64_t)p[i] << (8 * i);
  return v;
}

/* Reads the value of the given wire type (the tag already read) into f. */
static int pb_payload(struct pb_ctx *c, struct pb_buf *b, int wire, struct pb_field *f) {
  uint64_t len;
  int r;
  f->wire = wire;
  switch (wire) {
  case WIRE_VARINT:
    return pb_varint(c, b, &f->u);
  case WIRE_FIXED64:
  case WIRE_FIXED32: {
    unsigned n = wire == WIRE_FIXED64 ? 8 : 4;
    if ((size_t)(b->end - b->p) < n)
      return pb_fail(c, PB_ERR_EOF);
    f->u = pb_le(b->p, n);
    b->p += n;
    return 0;
  }
  case WIRE_LEN:
    if ((r = pb_varint(c, b, &len)) < 0)
      return r;
    if ((int64_t)len < 0)
      return pb_fail(c, PB_ERR_NEGATIVE);
    if (len > (uint64_t)(b->end - b->p))
      return pb_fail(c, PB_ERR_EOF);
    f->sub.p = b->p;
    f->sub.end = b->p + len;
    b->p += len;
    return 0;
  default:
    /* Groups (3, 4) are never produced by Kubernetes; 6 and 7 do not exist. */
    return pb_fail(c, "proto: illegal wireType %d", wire);
  }
}

/* Reads the next field of a message; 0 at its end, 1 when a field was read. */
static int pb_next(struct pb_ctx *c, struct pb_buf *b, const char *msg, struct pb_field *ret) {
  uint64_t tag;
  int r;
  if (b->p >= b->end)
    return 0;
  if ((r = pb_varint(c, b, &tag)) < 0)
    return r;
  if ((tag >> 3) == 0 || (tag >> 3) > INT32_MAX)
    return pb_fail(c, "proto: %s: illegal tag %" PRIu64 " (wire type %d)", msg, tag >> 3,
                   (int)(tag & 7));
  ret->num = tag >> 3;
  if ((r = pb_payload(c, b, (int)(tag & 7), ret)) < 0)
    return r;
  return 1;
}

static int pb_want(struct pb_ctx *c, const struct pb_field *f, int wire, const char *name) {
  if (f->wire != wire)
    return pb_fail(c, "proto: wrong wireType = %d for field %s", f->wire, name);
  return 0;
}

/* ---- scalar conversions ------------------------------------------------------------ */

/* Go's JSON encoder turns each byte of invalid UTF-8 into U+FFFD; jansson refuses such
 * strings, so they are repaired the same way. */
static size_t utf8_seq_len(const uint8_t *p, size_t n) {
  uint8_t b = p[0];
  size_t len;
  uint32_t cp;
  if (b < 0x80)
    return 1;
  if (b >= 0xc2 && b <= 0xdf) {
    len = 2;
    cp = b & 0x1f;
  } else if (b >= 0xe0 && b <= 0xef) {
    len = 3;
    cp = b & 0x0f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    len = 4;
    cp = b & 0x07;
  } else {
    return 0;
  }
  if (n < len)
    return 0;
  for (size_t i = 1; i < len; i++) {
    if ((p[i] & 0xc0) != 0x80)
      return 0;
    cp = (cp << 6) | (p[i] & 0x3f);
  }
  if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
      (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
    return 0;
  return len;
}

static json_t *pb_string(const uint8_t *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    size_t l = utf8_seq_len(p + i, n - i);
    if (!l)
      break;
    i += l;
  }
  if (i == n)
    return json_stringn((const char *)p, n);
  /* Worst case every byte becomes the 3-byte replacement character. */
  _cleanup_free_ char *fixed = xmalloc(n * 3 + 1);
  size_t o = 0;
  for (i = 0; i < n;) {
    size_t l = utf8_seq_len(p + i, n - i);
    if (l) {
      memcpy(fixed + o, p + i, l);
      o += l;
      i += l;
    } else {
      memcpy(fixed + o, "\xef\xbf\xbd", 3);
      o += 3;
      i++;
    }
  }
  return json_stringn(fixed, o);
}

/* Go's time.Duration.String(): "1h2m3.5s", "1.5s", "250ms", "0s". */
static void format_duration(int64_t d, char *buf, size_t size) {
  uint64_t u = d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d;
  const char *sign = d < 0 ? "-" : "";
  char frac[16] = "";
  if (u == 0) {
    snprintf(buf, size, "0s");
    return;
  }
  if (u < 1000000000ull) {
    static const struct {
      uint64_t scale;
      const char *unit;
      int digits;
    } units[] = {{1, "ns", 0}, {1000, "\xc2\xb5s", 3}, {1000000, "ms", 6}};
    int i = u < 1000 ? 0 : u < 1000000 ? 1 : 2;
    uint64_t whole = u / units[i].scale, rest = u % units[i].scale;
    if (rest) {
      snprintf(frac, sizeof(frac), ".%0*" PRIu64, units[i].digits, rest);
      for (size_t n = strlen(frac); frac[n - 1] == '0'; n--)
        frac[n - 1] = 0;
    }
    snprintf(buf, size, "%s%" PRIu64 "%s%s", sign, whole, frac, units[i].unit);
    return;
  }
  uint64_t secs = u / 1000000000ull, ns = u % 1000000000ull;
  if (ns) {
    snprintf(frac, sizeof(frac), ".%09" PRIu64, ns);
    for (size_t n = strlen(frac); frac[n - 1] == '0'; n--)
      frac[n - 1] = 0;
  }
  if (secs >= 3600)
    snprintf(buf, size, "%s%" PRIu64 "h%" PRIu64 "m%" PRIu64 "%ss", sign, secs / 3600,
             secs / 60 % 60, secs % 60, frac);
  else if (secs >= 60)
    snprintf(buf, size, "%s%" PRIu64 "m%" PRIu64 "%ss", sign, secs / 60, secs % 60, frac);
  else
    snprintf(buf, size, "%s%" PRIu64 "%ss", sign, secs, frac);
}

/* metav1.Time and MicroTime: {1: seconds, 2: nanos}. An empty message is the zero time,
 * which JSON writes as null. */
static int decode_time(struct pb_ctx *c, struct pb_buf b, bool micro, const char *name,
                       json_t **ret) {
  int64_t secs = 0, nanos = 0;
  bool any = false;
  struct pb_field f;
  int r;
  while ((r = pb_next(c, &b, "Timestamp", &f)) > 0) {
    if (f.num != 1 && f.num != 2)
      continue;
    if ((r = pb_want(c, &f, WIRE_VARINT, f.num == 1 ? "Seconds" : "Nanos")) < 0)
      return r;
    if (f.num == 1)
      secs = (int64_t)f.u;
    else
      nanos = (int32_t)(uint32_t)f.u;
    any = true;
  }
  if (r < 0)
    return r;
  /* Go's zero time.Time (0001-01-01T00:00:00Z) is written as null too. */
  if (!any || (secs == -62135596800LL && nanos == 0)) {
    *ret = json_null();
    return 0;
  }
  /* Normalise like time.Unix: nanos outside [0, 1e9) carry into seconds. */
  secs += nanos / 1000000000;
  nanos %= 1000000000;
  if (nanos < 0) {
    nanos += 1000000000;
    secs--;
  }
  /* RFC 3339 has four-digit years. */
  if (secs < -62167219200LL || secs > 253402300799LL)
    return pb_fail(c, "proto: time out of range for field %s", name);
  time_t t = (time_t)secs;
  struct tm tm;
  if (!gmtime_r(&t, &tm))
    return pb_fail(c, "proto: time out of range for field %s", name);
  char buf[64];
  size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  if (micro)
    snprintf(buf + n, sizeof(buf) - n, ".%06dZ", (int)(nanos / 1000));
  else
    snprintf(buf + n, sizeof(buf) - n, "Z");
  *ret = json_string(buf);
  return 0;
}

/* Messages whose only interesting content is one length-delimited field 1:
 * resource.Quantity {1: string}, runtime.RawExtension and FieldsV1 {1: raw bytes}. */
static int decode_field1_bytes(struct pb_ctx *c, struct pb_buf b, const char *msg,
                               struct pb_buf *ret, bool *ret_present) {
  struct pb_field f;
  int r;
  bool present = false;
  struct pb_buf v = {b.p, b.p};
  while ((r = pb_next(c, &b, msg, &f)) > 0) {
    if (f.num != 1)
      continue;
    if ((r = pb_want(c, &f, WIRE_LEN, msg)) < 0)
      return r;
    v = f.sub;
    present = true;
  }
  if (r < 0)
    return r;
  *ret = v;
  *ret_present = present;
  return 0;
}

static int decode_intstr(struct pb_ctx *c, struct pb_buf b, json_t **ret) {
  struct pb_field f;
  int r;
  uint64_t type = 0;
  int32_t ival = 0;
  struct pb_buf sval = {b.p, b.p};
  while ((r = pb_next(c, &b, "IntOrString", &f)) > 0) {
    if (f.num == 1 || f.num == 2) {
      if ((r = pb_want(c, &f, WIRE_VARINT, f.num == 1 ? "Type" : "IntVal")) < 0)
        return r;
      if (f.num == 1)
        type = f.u;
      else
        ival = (int32_t)(uint32_t)f.u;
    } else if (f.num == 3) {
      if ((r = pb_want(c, &f, WIRE_LEN, "StrVal")) < 0)
        return r;
      sval = f.sub;
    }
  }
  if (r < 0)
    return r;
  *ret = type == 1 ? pb_string(sval.p, (size_t)(sval.end - sval.p)) : json_integer(ival);
  return 0;
}

static bool is_duration(const struct schema_ref *ref) {
  return ref->type && streq(ref->type->full_name, "io.k8s.apimachinery.pkg.apis.meta.v1.Duration");
}

/* metav1.Duration {1: nanoseconds}, written in JSON as a Go duration string. */
static int decode_duration(struct pb_ctx *c, struct pb_buf b, json_t **ret) {
  struct pb_field f;
  int r;
  int64_t d = 0;
  while ((r = pb_next(c, &b, "Duration", &f)) > 0) {
    if (f.num != 1)
      continue;
    if ((r = pb_want(c, &f, WIRE_VARINT, "Duration")) < 0)
      return r;
    d = (int64_t)f.u;
  }
  if (r < 0)
    return r;
  char buf[64];
  format_duration(d, buf, sizeof(buf));
  *ret = json_string(buf);
  return 0;
}

/* ---- schema-driven decoding -------------------------------------------------------- */

static int decode_message(struct pb_ctx *c, const struct schema_type *numbering,
                          const struct schema_type *target, struct pb_buf b, json_t *obj);
static int decode_value(struct pb_ctx *c, const struct schema_ref *ref, const struct pb_field *f,
                        const char *name, json_t **ret);

static int pointers_cmp(const void *key, const void *elem) {
  return strcmp(key, ((const struct pb_pointers *)elem)->type);
}

static bool word_in(const char *words, const char *word) {
  size_t n = strlen(word);
  for (const char *p = words; (p = strstr(p, word)); p += n)
    if ((p == words || p[-1] == ' ') && (p[n] == ' ' || p[n] == 0))
      return true;
  return false;
}

static bool is_pointer(const struct schema_type *t, const char *field) {
  const struct pb_pointers *e = bsearch(t->name, pb_pointer_fields, ARRAY_SIZE(pb_pointer_fields),
                                        sizeof(pb_pointer_fields[0]), pointers_cmp);
  return e && word_in(e->fields, field);
}

static const struct pb_inline *find_inline(const struct schema_type *t, uint64_t num) {
  for (size_t i = 0; i < ARRAY_SIZE(pb_inlines); i++)
    if ((uint64_t)pb_inlines[i].wire == num && streq(pb_inlines[i].type, t->full_name))
      return &pb_inlines[i];
  return NULL;
}

static const struct schema_field *field_by_pb(const struct schema_type *t, uint64_t num) {
  for (size_t i = 0; i < t->n_fields; i++)
    if (t->fields[i].pb > 0 && (uint64_t)t->fields[i].pb == num)
      return &t->fields[i];
  return NULL;
}

static bool is_zero(const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_STRING:
    return json_string_length(v) == 0;
  case JSON_FALSE:
  case JSON_NULL:
    return true;
  case JSON_INTEGER:
    return json_integer_value(v) == 0;
  case JSON_REAL:
    return json_real_value(v) == 0;
  case JSON_OBJECT:
    return json_object_size(v) == 0;
  case JSON_ARRAY:
    return json_array_size(v) == 0;
  default:
    return false;
  }
}

/* The value Go's map decoding leaves when an entry carries no value. */
static json_t *zero_value(const struct schema_ref *ref) {
  switch (ref->kind) {
  case SCHEMA_STRING:
    return json_string(is_duration(ref) ? "0s" : "");
  case SCHEMA_BYTES:
    return json_string("");
  case SCHEMA_QUANTITY:
    return json_string("0");
  case SCHEMA_INTEGER:
  case SCHEMA_INT32:
  case SCHEMA_INTSTR:
    return json_integer(0);
  case SCHEMA_NUMBER:
    return json_real(0);
  case SCHEMA_BOOLEAN:
    return json_false();
  case SCHEMA_STRUCT:
  case SCHEMA_MAP:
    return json_object();
  case SCHEMA_LIST:
    return json_array();
  default:
    return json_null();
  }
}

static bool is_packable(enum schema_kind k) {
  return k == SCHEMA_INTEGER || k == SCHEMA_INT32 || k == SCHEMA_BOOLEAN || k == SCHEMA_NUMBER;
}

/* Appends the items one wire field of a repeated field carries: one item, or a packed
 * run of scalars. */
static int append_items(struct pb_ctx *c, const struct schema_ref *elem, const struct pb_field *f,
                        const char *name, json_t *arr) {
  int r;
  if (is_packable(elem->kind) && f->wire == WIRE_LEN) {
    struct pb_buf b = f->sub;
    int wire = elem->kind == SCHEMA_NUMBER ? WIRE_FIXED64 : WIRE_VARINT;
    while (b.p < b.end) {
      struct pb_field item = {.num = f->num};
      json_t *v = NULL;
      if ((r = pb_payload(c, &b, wire, &item)) < 0 ||
          (r = decode_value(c, elem, &item, name, &v)) < 0)
        return r;
      json_array_append_new(arr, v);
    }
    return 0;
  }
  json_t *v = NULL;
  if ((r = decode_value(c, elem, f, name, &v)) < 0)
    return r;
  json_array_append_new(arr, v);
  return 0;
}

/* A map entry message {1: key, 2: value}. */
static int add_entry(struct pb_ctx *c, const struct schema_ref *elem, const struct pb_field *f,
                     const char *name, json_t *map) {
  int r;
  if ((r = pb_want(c, f, WIRE_LEN, name)) < 0)
    return r;
  if (++c->depth > PB_MAX_DEPTH)
    return pb_fail(c, "proto: message nested deeper than %d levels", PB_MAX_DEPTH);
  struct pb_buf b = f->sub;
  struct pb_field e;
  _cleanup_json_ json_t *key = NULL;
  _cleanup_json_ json_t *value = NULL;
  while ((r = pb_next(c, &b, name, &e)) > 0) {
    if (e.num == 1) {
      if ((r = pb_want(c, &e, WIRE_LEN, name)) < 0)
        return r;
      json_decref(key);
      key = pb_string(e.sub.p, (size_t)(e.sub.end - e.sub.p));
    } else if (e.num == 2) {
      json_decref(value);
      value = NULL;
      if ((r = decode_value(c, elem, &e, name, &value)) < 0)
        return r;
    }
  }
  if (r < 0)
    return r;
  c->depth--;
  json_object_setn_new(map, key ? json_string_value(key) : "", key ? json_string_length(key) : 0,
                       value ? TAKE_PTR(value) : zero_value(elem));
  return 0;
}

/* Decodes one wire field into obj[tf->name]: items append to a list, entries add to a
 * map, a repeated message merges into the struct already there, a scalar replaces. */
static int set_field(struct pb_ctx *c, const struct schema_field *tf, bool keep,
                     const struct pb_field *f, json_t *obj) {
  const struct schema_ref *ref = tf->ref;
  const char *name = tf->name;
  json_t *cur = json_object_get(obj, name);
  int r;

  if (ref->kind == SCHEMA_LIST || ref->kind == SCHEMA_MAP) {
    bool list = ref->kind == SCHEMA_LIST;
    if (list ? !json_is_array(cur) : !json_is_object(cur)) {
      cur = list ? json_array() : json_object();
      json_object_set_new(obj, name, cur);
    }
    r = list ? append_items(c, ref->elem, f, name, cur) : add_entry(c, ref->elem, f, name, cur);
    if (r >= 0 && is_zero(cur))
      json_object_del(obj, name);
    return r;
  }

  if (ref->kind == SCHEMA_STRUCT) {
    if ((r = pb_want(c, f, WIRE_LEN, name)) < 0)
      return r;
    if (!json_is_object(cur)) {
      cur = json_object();
      json_object_set_new(obj, name, cur);
    }
    if ((r = decode_message(c, ref->type, ref->type, f->sub, cur)) < 0)
      return r;
    if (!keep && json_object_size(cur) == 0)
      json_object_del(obj, name);
    return 0;
  }

  json_t *v = NULL;
  if ((r = decode_value(c, ref, f, name, &v)) < 0)
    return r;
  if (json_is_null(v) || (!keep && is_zero(v))) {
    json_decref(v);
    json_object_del(obj, name);
    return 0;
  }
  json_object_set_new(obj, name, v);
  return 0;
}

static int decode_value(struct pb_ctx *c, const struct schema_ref *ref, const struct pb_field *f,
                        const char *name, json_t **ret) {
  int r;
  switch (ref->kind) {
  case SCHEMA_INTEGER:
  case SCHEMA_INT32:
  case SCHEMA_BOOLEAN:
    if ((r = pb_want(c, f, WIRE_VARINT, name)) < 0)
      return r;
    /* Negative int32 values travel as sign-extended 64-bit varints. */
    *ret = ref->kind == SCHEMA_BOOLEAN ? json_boolean(f->u != 0)
           : ref->kind == SCHEMA_INT32 ? json_integer((int32_t)(uint32_t)f->u)
                                       : json_integer((json_int_t)(int64_t)f->u);
    return 0;
  case SCHEMA_NUMBER: {
    double d;
    if (f->wire == WIRE_FIXED64) {
      memcpy(&d, &f->u, sizeof(d));
    } else if (f->wire == WIRE_FIXED32) {
      uint32_t bits = (uint32_t)f->u;
      float fl;
      memcpy(&fl, &bits, sizeof(fl));
      d = fl;
    } else {
      return pb_want(c, f, WIRE_FIXED64, name);
    }
    json_t *v = json_real(d);
    if (!v) /* NaN and infinities have no JSON form */
      return pb_fail(c, "proto: unsupported value %g for field %s", d, name);
    *ret = v;
    return 0;
  }
  default:
    break;
  }

  if ((r = pb_want(c, f, WIRE_LEN, name)) < 0)
    return r;
  const uint8_t *p = f->sub.p;
  size_t n = (size_t)(f->sub.end - f->sub.p);
  switch (ref->kind) {
  case SCHEMA_STRING:
    if (is_duration(ref))
      return decode_duration(c, f->sub, ret);
    *ret = pb_string(p, n);
    return 0;
  case SCHEMA_BYTES: {
    _cleanup_free_ char *s = base64_encode(p, n);
    *ret = json_string(s);
    return 0;
  }
  case SCHEMA_QUANTITY: {
    struct pb_buf s;
    bool present;
    if ((r = decode_field1_bytes(c, f->sub, "Quantity", &s, &present)) < 0)
      return r;
    *ret = pb_string(s.p, (size_t)(s.end - s.p));
    return 0;
  }
  case SCHEMA_INTSTR:
    return decode_intstr(c, f->sub, ret);
  case SCHEMA_TIME:
  case SCHEMA_MICROTIME:
    return decode_time(c, f->sub, ref->kind == SCHEMA_MICROTIME, name, ret);
  case SCHEMA_ANY: {
    struct pb_buf raw;
    bool present;
    if ((r = decode_field1_bytes(c, f->sub, "RawExtension", &raw, &present)) < 0)
      return r;
    if (!present || raw.p == raw.end) {
      *ret = json_null();
      return 0;
    }
    _cleanup_free_ char *msg = NULL;
    json_t *v = NULL;
    if (json_decode((const char *)raw.p, (size_t)(raw.end - raw.p), &v, &msg) < 0)
      return pb_fail(c, "field %s: raw value is not JSON: %s", name, msg ? msg : "invalid");
    *ret = v;
    return 0;
  }
  case SCHEMA_STRUCT: {
    _cleanup_json_ json_t *o = json_object();
    if ((r = decode_message(c, ref->type, ref->type, f->sub, o)) < 0)
      return r;
    *ret = TAKE_PTR(o);
    return 0;
  }
  case SCHEMA_LIST:
  case SCHEMA_MAP: {
    /* A list or map nested in a list or map travels wrapped in a message whose field 1
     * holds it (metav1.ExtraValue is {1: repeated string}). */
    bool list = ref->kind == SCHEMA_LIST;
    _cleanup_json_ json_t *v = list ? json_array() : json_object();
    struct pb_buf b = f->sub;
    struct pb_field item;
    if (++c->depth > PB_MAX_DEPTH)
      return pb_fail(c, "proto: message nested deeper than %d levels", PB_MAX_DEPTH);
    while ((r = pb_next(c, &b, name, &item)) > 0) {
      if (item.num != 1)
        continue;
      r = list ? append_items(c, ref->elem, &item, name, v)
               : add_entry(c, ref->elem, &item, name, v);
      if (r < 0)
        return r;
    }
    if (r < 0)
      return r;
    c->depth--;
    *ret = TAKE_PTR(v);
    return 0;
  }
  default:
    return pb_fail(c, "proto: field %s has a type protobuf cannot carry", name);
  }
}

/* Fields of an inlined struct, from its nested message (see pb_inlines). */
static int decode_inline(struct pb_ctx *c, const struct pb_inline *inl,
                         const struct schema_type *target, struct pb_buf b, json_t *obj) {
  int r;
  if (inl->fields[0] == '@') {
    const struct schema_type *numbering = schema_find(schema_builtin(), inl->fields + 1);
    if (!numbering)
      return 0;
    return decode_message(c, numbering, target, b, obj);
  }
  if (++c->depth > PB_MAX_DEPTH)
    return pb_fail(c, "proto: message nested deeper than %d levels", PB_MAX_DEPTH);
  struct pb_field f;
  while ((r = pb_next(c, &b, target->name, &f)) > 0) {
    char want[24];
    snprintf(want, sizeof(want), "=%" PRIu64, f.num);
    /* Find the "name=N" item for this number. */
    const char *hit = NULL;
    size_t wn = strlen(want);
    for (const char *p = inl->fields; (p = strstr(p, want)); p += wn)
      if (p[wn] == ' ' || p[wn] == 0) {
        hit = p;
        break;
      }
    if (!hit)
      continue;
    const char *start = hit;
    while (start > inl->fields && start[-1] != ' ')
      start--;
    bool pointer = *start == '*';
    if (pointer)
      start++;
    _cleanup_free_ char *fname = xstrndup(start, (size_t)(hit - start));
    const struct schema_field *tf = schema_field(target, fname);
    if (!tf)
      continue;
    if ((r = set_field(c, tf, pointer || tf->required, &f, obj)) < 0)
      return r;
  }
  if (r < 0)
    return r;
  c->depth--;
  return 0;
}

/* Decodes a message numbered like `numbering` into obj, whose fields are those of
 * `target` (the same type, except for inlined structs numbered like another type). */
static int decode_message(struct pb_ctx *c, const struct schema_type *numbering,
                          const struct schema_type *target, struct pb_buf b, json_t *obj) {
  int r;
  if (++c->depth > PB_MAX_DEPTH)
    return pb_fail(c, "proto: message nested deeper than %d levels", PB_MAX_DEPTH);
  struct pb_field f;
  while ((r = pb_next(c, &b, numbering->name, &f)) > 0) {
    const struct pb_inline *inl = find_inline(numbering, f.num);
    if (inl) {
      if ((r = pb_want(c, &f, WIRE_LEN, numbering->name)) < 0 ||
          (r = decode_inline(c, inl, target, f.sub, obj)) < 0)
        return r;
      continue;
    }
    const struct schema_field *sf = field_by_pb(numbering, f.num);
    if (!sf)
      continue; /* unknown field numbers are skipped, as Go does */
    const struct schema_field *tf = numbering == target ? sf : schema_field(target, sf->name);
    if (!tf)
      continue;
    if ((r = set_field(c, tf, tf->required || is_pointer(numbering, sf->name), &f, obj)) < 0)
      return r;
  }
  if (r < 0)
    return r;
  c->depth--;
  return 0;
}

/* ---- the request body -------------------------------------------------------------- */

/* kube-apiserver quotes the start of a body it cannot recognise, as hex for binary data. */
static char *summarize(const uint8_t *p, size_t n) {
  if (n == 0)
    return xstrdup("<empty>");
  size_t shown = n > 30 ? 30 : n;
  char *s = xmalloc(shown * 2 + 5);
  for (size_t i = 0; i < shown; i++)
    sprintf(s + 2 * i, "%02x", p[i]);
  strcpy(s + 2 * shown, n > 30 ? " ..." : "");
  return s;
}

static bool has_pb_numbers(const struct schema_type *t) {
  for (size_t i = 0; t && i < t->n_fields; i++)
    if (t->fields[i].pb > 0)
      return true;
  return false;
}

/* runtime.Unknown {1: typeMeta {1: apiVersion, 2: kind}, 2: raw, 3: contentEncoding,
 * 4: contentType}. */
struct pb_unknown {
  char *api_version, *kind;
  struct pb_buf raw;
};

static char *pb_cstring(struct pb_buf b) {
  return xstrndup((const char *)b.p, (size_t)(b.end - b.p));
}

static int parse_unknown(struct pb_ctx *c, struct pb_buf b, struct pb_unknown *u) {
  struct pb_field f, t;
  int r;
  while ((r = pb_next(c, &b, "Unknown", &f)) > 0) {
    if (f.num == 1) {
      if ((r = pb_want(c, &f, WIRE_LEN, "TypeMeta")) < 0)
        return r;
      struct pb_buf tb = f.sub;
      while ((r = pb_next(c, &tb, "TypeMeta", &t)) > 0) {
        if (t.num != 1 && t.num != 2)
          continue;
        if ((r = pb_want(c, &t, WIRE_LEN, t.num == 1 ? "APIVersion" : "Kind")) < 0)
          return r;
        char **dst = t.num == 1 ? &u->api_version : &u->kind;
        free(*dst);
        *dst = pb_cstring(t.sub);
      }
      if (r < 0)
        return r;
    } else if (f.num == 2) {
      if ((r = pb_want(c, &f, WIRE_LEN, "Raw")) < 0)
        return r;
      u->raw = f.sub;
    } else if (f.num == 3 || f.num == 4) {
      if ((r = pb_want(c, &f, WIRE_LEN, f.num == 3 ? "ContentEncoding" : "ContentType")) < 0)
        return r;
    }
  }
  return r;
}

/* Name of the internal API package kube-apiserver converts into ("core", "apps",
 * "rbac"), for its conversion error text. */
static char *internal_package(const char *group) {
  if (!*group)
    return xstrdup("core");
  const char *dot = strchr(group, '.');
  return dot ? xstrndup(group, (size_t)(dot - group)) : xstrdup(group);
}

int protobuf_decode_object(const struct api_resource *r, const char *body, size_t len, json_t **ret,
                           struct api_error *err) {
  const uint8_t *p = (const uint8_t *)body;
  if (!has_pb_numbers(r->schema))
    return api_error_set(err, -EINVAL, 415, "UnsupportedMediaType",
                         "the body of the request was in an unknown format - accepted media "
                         "types include: application/json, application/yaml");

  _cleanup_free_ char *summary = summarize(p, len);
  if (len < sizeof(pb_magic) || memcmp(p, pb_magic, sizeof(pb_magic)) != 0)
    return api_error_bad_request(
        err,
        "the object provided is unrecognized (must be of type %s): provided data does not "
        "appear to be a protobuf message, expected prefix [107 56 115 0] (%s)",
        r->kind, summary);

  /* The prefix alone carries no object: kube-apiserver refuses it as an empty body
   * rather than decoding nothing into an empty object. */
  if (len == sizeof(pb_magic))
    return api_error_bad_request(err, "Object 'Kind' is missing in '%s'", summary);

  struct pb_ctx c = {0};
  struct pb_unknown u = {0};
  struct pb_buf b = {p + sizeof(pb_magic), p + len};
  int rc = parse_unknown(&c, b, &u);
  _cleanup_free_ char *api_version = u.api_version, *kind = u.kind;
  _cleanup_free_ char *error = c.error;
  if (rc < 0)
    return api_error_bad_request(
        err, "the object provided is unrecognized (must be of type %s): %s (%s)", r->kind, error,
        summary);

  /* Like kube-apiserver, an empty apiVersion or kind defaults to the resource's. */
  _cleanup_free_ char *want_gv =
      *r->group ? xasprintf("%s/%s", r->group, r->version) : xstrdup(r->version);
  const char *gv = api_version && *api_version ? api_version : want_gv;
  const char *k = kind && *kind ? kind : r->kind;
  const char *slash = strrchr(gv, '/');
  const char *version = slash ? slash + 1 : gv;

  if (!streq(gv, want_gv))
    return api_error_bad_request(
        err, "the API version in the data (%s) does not match the expected API version (%s)", gv,
        want_gv);
  if (!streq(k, r->kind)) {
    if (!schema_find_gvk(schema_builtin(), r->group, r->version, k))
      return api_error_bad_request(err,
                                   "%s in version \"%s\" cannot be handled as a %s: no kind \"%s\" "
                                   "is registered for version \"%s\" in scheme "
                                   "\"pkg/api/legacyscheme/scheme.go:30\"",
                                   k, version, r->kind, k, gv);
    _cleanup_free_ char *pkg = internal_package(r->group);
    return api_error_bad_request(err,
                                 "%s in version \"%s\" cannot be handled as a %s: converting "
                                 "(%s.%s) to (%s.%s): unknown conversion",
                                 k, version, r->kind, version, k, pkg, r->kind);
  }

  _cleanup_json_ json_t *obj = json_object();
  json_object_set_new(obj, "apiVersion", json_string(want_gv));
  json_object_set_new(obj, "kind", json_string(r->kind));
  if (u.raw.p && decode_message(&c, r->schema, r->schema, u.raw, obj) < 0) {
    error = c.error;
    return api_error_bad_request(err, "%s in version \"%s\" cannot be handled as a %s: %s", k,
                                 version, r->kind, error);
  }
  *ret = TAKE_PTR(obj);
  return 0;
}
