#!/usr/bin/env bash
# Every tutorial manifest in shared/examples, applied the way the tutorials apply them,
# then listed with `get`: the columns and cells a kube-apiserver 1.32 prints for them.
# Cells that controllers, the scheduler or allocators fill in are matched by pattern.
. "$(dirname "$0")/lib.sh"
cd "$examples" || exit 1
# The manifests name cluster-wide things (node port 30123, namespace dev): runs with
# several kubectl versions against one server take turns.
lockdir=/tmp
[ -z "${CKUBE_DATA_DIR:-}" ] || lockdir=$(dirname "$CKUBE_DATA_DIR")
exec 9>"$lockdir/ckube-e2e-examples.lock"
flock -w 200 9
setup_ns
n=(-n "$NS")
# Node ports are cluster-wide: free 30123 for the next run.
trap 'k delete svc kubia-nodeport -n "$NS" --ignore-not-found >/dev/null 2>&1 || true' EXIT

# --- ReplicationController, then the ReplicaSet that replaces it -----------------------
check_eq "create rc" "$(kx create "${n[@]}" -f kubia-rc.yaml)" "replicationcontroller/kubia created"
check_lines "get rc" "$(kx get rc "${n[@]}" | mask_age)" \
"NAME DESIRED CURRENT READY AGE
kubia 3 [0-3] [0-3] <age>"
check_lines "get rc -o wide" "$(kx get rc kubia "${n[@]}" -o wide | mask_age)" \
"NAME DESIRED CURRENT READY AGE CONTAINERS IMAGES SELECTOR
kubia 3 [0-3] [0-3] <age> kubia luksa/kubia app=kubia"
check_eq "rc defaults" "$(kx get rc kubia "${n[@]}" -o jsonpath='{.spec.template.spec.restartPolicy} {.spec.template.spec.containers[0].ports[0].protocol} {.spec.template.spec.containers[0].terminationMessagePath} {.spec.template.spec.dnsPolicy} {.metadata.generation}')" \
  "Always TCP /dev/termination-log ClusterFirst 1"
check_eq "delete rc" "$(kx delete rc kubia "${n[@]}" --cascade=orphan --wait=false)" 'replicationcontroller "kubia" deleted'

check_eq "create rs" "$(kx create "${n[@]}" -f kubia-replicaset.yaml)" "replicaset.apps/kubia created"
check_lines "get rs" "$(kx get rs "${n[@]}" | mask_age)" \
"NAME DESIRED CURRENT READY AGE
kubia 3 [0-3] [0-3] <age>"
check_lines "get rs -o wide" "$(kx get rs kubia "${n[@]}" -o wide | mask_age)" \
"NAME DESIRED CURRENT READY AGE CONTAINERS IMAGES SELECTOR
kubia 3 [0-3] [0-3] <age> kubia luksa/kubia app in \\(kubia\\)"

# --- Services --------------------------------------------------------------------------
check_eq "create svc" "$(kx create "${n[@]}" -f kubia-svc.yaml)" "service/kubia created"
check_eq "create svc nodeport" "$(kx apply "${n[@]}" -f kubia-svc-nodeport.yaml)" "service/kubia-nodeport created"
check_eq "create svc lb" "$(kx apply "${n[@]}" -f kubia-svc-loadbalancer.yaml)" "service/kubia-loadbalancer created"
ip='[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+'
check_lines "get svc" "$(kx get svc "${n[@]}" | mask_age)" \
"NAME TYPE CLUSTER-IP EXTERNAL-IP PORT\\(S\\) AGE
kubia ClusterIP $ip <none> 80/TCP <age>
kubia-loadbalancer LoadBalancer $ip (<pending>|$ip) 80:3[0-9]{4}/TCP <age>
kubia-nodeport NodePort $ip <none> 80:30123/TCP <age>"
check_lines "get svc -o wide" "$(kx get svc kubia "${n[@]}" -o wide | mask_age)" \
"NAME TYPE CLUSTER-IP EXTERNAL-IP PORT\\(S\\) AGE SELECTOR
kubia ClusterIP $ip <none> 80/TCP <age> app=kubia"
check_eq "svc defaults" "$(kx get svc kubia "${n[@]}" -o jsonpath='{.spec.type} {.spec.sessionAffinity} {.spec.ports[0].protocol} {.spec.ports[0].targetPort} {.spec.ipFamilies} {.spec.ipFamilyPolicy} {.spec.internalTrafficPolicy}')" \
  'ClusterIP None TCP 8080 ["IPv4"] SingleStack Cluster'
check_eq "nodeport defaults" "$(kx get svc kubia-nodeport "${n[@]}" -o jsonpath='{.spec.externalTrafficPolicy} {.spec.ports[0].nodePort}')" \
  "Cluster 30123"
check_eq "lb defaults" "$(kx get svc kubia-loadbalancer "${n[@]}" -o jsonpath='{.spec.externalTrafficPolicy} {.spec.allocateLoadBalancerNodePorts}')" \
  "Cluster true"
check_lines "cluster ip allocated" "$(kx get svc kubia "${n[@]}" -o jsonpath='{.spec.clusterIP}={.spec.clusterIPs[0]}')" "($ip)=\\1"
check_eq "svc already exists" "$(kx create "${n[@]}" -f kubia-svc.yaml)" \
'Error from server (AlreadyExists): error when creating "kubia-svc.yaml": services "kubia" already exists
rc=1'
# The node port is allocated before the name is checked, so the port clash is reported.
check_eq "nodeport already allocated" "$(kx create "${n[@]}" -f kubia-svc-nodeport.yaml)" \
'The Service "kubia-nodeport" is invalid: spec.ports[0].nodePort: Invalid value: 30123: provided port is already allocated
rc=1'

# --- Pods ------------------------------------------------------------------------------
check_eq "create configmap" "$(kx create configmap fortune-config "${n[@]}" --from-literal=sleep-interval=25)" \
  "configmap/fortune-config created"
check_eq "create fortune" "$(kx create "${n[@]}" -f fortune-pod.yaml)" "pod/fortune created"
check_eq "create fortune-env" "$(kx apply "${n[@]}" -f fortune-pod-env-configmap.yaml)" "pod/fortune-env-from-configmap created"
check_eq "create curl-with-ambassador" "$(kx create "${n[@]}" -f curl-with-ambassador.yaml)" "pod/curl-with-ambassador created"
check_eq "create kubia-liveness" "$(kx create "${n[@]}" -f kubia-liveness.yaml)" "pod/kubia-liveness created"
check_eq "create gitrepo pod (deprecation warning)" "$(kx create "${n[@]}" -f gitrepo-volume-pod.yaml)" \
"Warning: spec.volumes[0].gitRepo: deprecated in v1.11
pod/gitrepo-volume-pod created"

check_eq "downward-api-env" "$(kx apply "${n[@]}" -f downward-api-env.yaml)" "pod/downward created"
check_eq "downward env resourceFieldRef" \
  "$(kx get pod downward "${n[@]}" -o jsonpath='{.spec.containers[0].env[5].valueFrom.resourceFieldRef.divisor} {.spec.containers[0].env[0].valueFrom.fieldRef.apiVersion} {.spec.containers[0].resources.limits.memory}')" \
  "1m v1 4Mi"
check_eq "delete downward" "$(kx delete pod downward "${n[@]}" --wait=true)" 'pod "downward" deleted'
check_eq "downward gone" "$(kx get pod downward "${n[@]}")" \
'Error from server (NotFound): pods "downward" not found
rc=1'
check_eq "downward-api-volume" "$(kx apply "${n[@]}" -f downward-api-volume.yaml)" "pod/downward created"
check_eq "downward volume defaults" \
  "$(kx get pod downward "${n[@]}" -o jsonpath='{.spec.volumes[0].downwardAPI.defaultMode} {.spec.volumes[0].downwardAPI.items[5].resourceFieldRef.divisor} {.metadata.annotations.key2}')" \
  "420 1 multi
line
value"

podstatus='(Pending|ContainerCreating|Running|Init:[0-9/]+|ErrImagePull|ImagePullBackOff|CrashLoopBackOff|Error)'
check_lines "get pods" \
  "$(kx get pods "${n[@]}" curl-with-ambassador downward fortune fortune-env-from-configmap gitrepo-volume-pod kubia-liveness | mask_age)" \
"NAME READY STATUS RESTARTS AGE
curl-with-ambassador [0-2]/2 $podstatus [0-9]+ <age>
downward [01]/1 $podstatus [0-9]+ <age>
fortune [0-2]/2 $podstatus [0-9]+ <age>
fortune-env-from-configmap [01]/1 $podstatus [0-9]+ <age>
gitrepo-volume-pod [01]/1 $podstatus [0-9]+ <age>
kubia-liveness [01]/1 $podstatus [0-9]+ <age>"
check_lines "get pod -o wide" "$(kx get pod fortune "${n[@]}" -o wide | mask_age)" \
"NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES
fortune [0-2]/2 $podstatus [0-9]+ <age> (<none>|$ip) \\S+ <none> <none>"
check_eq "pod defaults" \
  "$(kx get pod fortune "${n[@]}" -o jsonpath='{.spec.restartPolicy} {.spec.schedulerName} {.spec.terminationGracePeriodSeconds} {.spec.enableServiceLinks} {.spec.preemptionPolicy} {.spec.priority} {.spec.containers[0].imagePullPolicy} {.spec.containers[1].imagePullPolicy} {.spec.containers[0].terminationMessagePolicy} {.status.qosClass}')" \
  "Always default-scheduler 30 true PreemptLowerPriority 0 Always IfNotPresent File BestEffort"
check_eq "pod tolerations defaulted" \
  "$(kx get pod fortune "${n[@]}" -o jsonpath='{range .spec.tolerations[*]}{.key}:{.operator}:{.effect}:{.tolerationSeconds} {end}')" \
  "node.kubernetes.io/not-ready:Exists:NoExecute:300 node.kubernetes.io/unreachable:Exists:NoExecute:300 "
check_eq "downward qos" "$(kx get pod downward "${n[@]}" -o jsonpath='{.status.qosClass}')" "Burstable"
check_eq "liveness probe defaults" \
  "$(kx get pod kubia-liveness "${n[@]}" -o jsonpath='{.spec.containers[0].livenessProbe.httpGet.scheme} {.spec.containers[0].livenessProbe.timeoutSeconds} {.spec.containers[0].livenessProbe.periodSeconds} {.spec.containers[0].livenessProbe.successThreshold} {.spec.containers[0].livenessProbe.failureThreshold}')" \
  "HTTP 1 10 1 3"

# pod-nodename names its own namespace and a node that does not exist.
k get ns dev >/dev/null 2>&1 || k create namespace dev >/dev/null 2>&1 || true
check_eq "pod-nodename" "$(kx apply -f pod-nodename.yaml)" "pod/pod-nodename created"
check_lines "pod-nodename -o wide" "$(kx get pod pod-nodename -n dev -o wide | mask_age)" \
"NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES
pod-nodename 0/1 Pending 0 <age> <none> kube-11 <none> <none>"
check_eq "pod-nodename force delete" "$(kx delete pod pod-nodename -n dev --grace-period=0 --force)" \
"Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.
pod \"pod-nodename\" force deleted"

# --- DaemonSet -------------------------------------------------------------------------
check_eq "create ds" "$(kx create "${n[@]}" -f ssd-monitor-daemonset.yaml)" "daemonset.apps/ssd-monitor created"
check_eq "get ds" "$(kx get ds "${n[@]}" | mask_age)" \
"NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE
ssd-monitor 0 0 0 0 0 disk=ssd <age>"
check_eq "get ds -o wide" "$(kx get ds "${n[@]}" -o wide | mask_age)" \
"NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE CONTAINERS IMAGES SELECTOR
ssd-monitor 0 0 0 0 0 disk=ssd <age> main luksa/ssd-monitor app=ssd-monitor"
check_eq "ds defaults" \
  "$(kx get ds ssd-monitor "${n[@]}" -o jsonpath='{.spec.updateStrategy.type} {.spec.updateStrategy.rollingUpdate.maxUnavailable} {.spec.updateStrategy.rollingUpdate.maxSurge} {.spec.revisionHistoryLimit}')" \
  "RollingUpdate 1 0 10"

# --- Jobs: the tutorial's Job with `schedule` is rejected, the valid one is not ---------
check_eq "job as written" "$(kx apply "${n[@]}" -f batch-job-as-written.yaml)" \
'Error from server (BadRequest): error when creating "batch-job-as-written.yaml": Job in version "v1" cannot be handled as a Job: strict decoding error: unknown field "spec.schedule"
rc=1'
check_eq "job as written created nothing" "$(kx get jobs "${n[@]}")" "No resources found in $NS namespace."
check_eq "create job" "$(kx create "${n[@]}" -f batch-job.yaml)" "job.batch/batch-job created"
check_lines "get job" "$(kx get job batch-job "${n[@]}" | mask_age)" \
"NAME STATUS COMPLETIONS DURATION AGE
batch-job Running [0-5]/5 (<age> )?<age>"
check_eq "job defaults" \
  "$(kx get job batch-job "${n[@]}" -o jsonpath='{.spec.backoffLimit} {.spec.completionMode} {.spec.suspend} {.spec.manualSelector} {.spec.podReplacementPolicy} {.spec.template.metadata.labels.job-name} {.spec.template.metadata.labels.batch\.kubernetes\.io/job-name}')" \
  "6 NonIndexed false  TerminatingOrFailed batch-job batch-job"
check_lines "job selector" \
  "$(kx get job batch-job "${n[@]}" -o jsonpath='{.spec.selector.matchLabels.batch\.kubernetes\.io/controller-uid}={.metadata.uid}')" \
  '([0-9a-f-]{36})=\1'
check_eq "create cronjob" "$(kx create "${n[@]}" -f cronjob.yaml)" "cronjob.batch/batch-job-every-fifteen-minutes created"
check_lines "get cronjob" "$(kx get cronjob "${n[@]}" | mask_age)" \
"NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE
batch-job-every-fifteen-minutes 0,15,30,45 \\* \\* \\* \\* <none> False [0-9] (<none>|<age>) <age>"
check_eq "cronjob defaults" \
  "$(kx get cronjob "${n[@]}" -o jsonpath='{.items[0].spec.concurrencyPolicy} {.items[0].spec.suspend} {.items[0].spec.successfulJobsHistoryLimit} {.items[0].spec.failedJobsHistoryLimit}')" \
  "Allow false 3 1"

# --- Ingress: extensions/v1beta1 is gone; networking.k8s.io/v1 works -------------------
out=$(kx apply "${n[@]}" -f kubia-ingress-legacy.yaml)
check_match "legacy ingress rejected" "$out" '(^|: )no matches for kind "Ingress" in version "extensions/v1beta1"$'
check_match "legacy ingress exit status" "$out" '^rc=1$'
check_eq "legacy ingress created nothing" "$(kx get ingress "${n[@]}")" "No resources found in $NS namespace."
check_eq "create ingress" "$(kx apply "${n[@]}" -f kubia-ingress.yaml)" "ingress.networking.k8s.io/kubia created"
check_lines "get ingress" "$(kx get ingress "${n[@]}" | mask_age)" \
"NAME CLASS HOSTS ADDRESS PORTS AGE
kubia \\S+ kubia.example.com (\\S+ )?80 <age>"
check_eq "get ingress cells" "$(kx get ing kubia "${n[@]}" -o jsonpath='{.spec.rules[0].http.paths[0].backend.service.name}:{.spec.rules[0].http.paths[0].backend.service.port.number}')" \
  "kubia-nodeport:80"

# --- Everything again, by short names and categories -----------------------------------
check_eq "get -o name" "$(kx get rs,ds,job,cj,svc,ing,cm "${n[@]}" -o name)" \
"replicaset.apps/kubia
daemonset.apps/ssd-monitor
job.batch/batch-job
cronjob.batch/batch-job-every-fifteen-minutes
service/kubia
service/kubia-loadbalancer
service/kubia-nodeport
ingress.networking.k8s.io/kubia
configmap/fortune-config
configmap/kube-root-ca.crt"
out=$(kx get all "${n[@]}" -o name)
for want in pod/fortune service/kubia daemonset.apps/ssd-monitor replicaset.apps/kubia \
  job.batch/batch-job cronjob.batch/batch-job-every-fifteen-minutes; do
  check_match "get all has $want" "$out" "^$want\$"
done
check_no_match "get all leaves out configmaps" "$out" '^configmap/'

finish
