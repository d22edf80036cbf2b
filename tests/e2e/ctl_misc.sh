#!/usr/bin/env bash
# The namespace, endpoints, endpointslice, serviceaccount, root-ca-cert-publisher,
# resourcequota and persistentvolume-binder controllers, as a user sees them: endpoints
# and slices of a Service over hollow-node pods (named targetPort, not-ready pods,
# headless), the default ServiceAccount and kube-root-ca.crt recreated after deletion,
# quota usage in `kubectl describe quota`, a claim bound to a hand-made volume,
# local-path provisioning for a pod, and a namespace emptied and removed on delete.
source "$(dirname "$0")/cluster-lib.sh"

# jp NS KIND/NAME JSONPATH: one field, empty when the object is missing.
jp() { k -n "$1" get "$2" -o jsonpath="$3" 2>/dev/null; }
is() { [ "$(jp "$1" "$2" "$3")" = "$4" ]; }
# Pod IPs of the ready pods with a label, sorted, as "ip:port,..." for PORT.
pod_eps() {
  k -n misc get pods -l "$1" -o json |
    jq -r --arg p "$2" '[.items[] | select(.status.podIP != null and .status.podIP != "") |
      "\(.status.podIP):\($p)"] | sort | join(",")'
}
eps_are() { # NAME EXPECTED ("ip:port,..." sorted)
  [ -n "$2" ] && [ "$(k -n misc get endpoints "$1" -o json 2>/dev/null |
    jq -r '[.subsets[]? | .ports[0].port as $p | .addresses[]? | "\(.ip):\($p)"] | sort | join(",")')" = "$2" ]
}
slice_ips() { # SERVICE: sorted addresses over its slices
  k -n misc get endpointslices -l kubernetes.io/service-name="$1" -o json |
    jq -r '[.items[].endpoints[]?.addresses[0]] | sort | join(",")'
}

export -f k jp is pod_eps eps_are slice_ips
export KUBECTL
cluster_up
hollow_up nodes --count 3
step "hollow nodes are ready" 60 bash -c '[ "$("$KUBECTL" get nodes --no-headers 2>/dev/null | grep -c " Ready ")" = 3 ]'
k create namespace misc >/dev/null

# --- endpoints and endpointslices ---
k -n misc apply -f - >/dev/null <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: c
        image: registry.k8s.io/pause:3.9
        ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web, labels: {tier: front}}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: web-headless}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{name: metrics, port: 9090}]
---
apiVersion: v1
kind: Service
metadata: {name: manual}
spec:
  ports: [{port: 80}]
EOF
step "3 web pods get IPs" 60 bash -c '[ "$(k -n misc get pods -l app=web -o jsonpath="{.items[*].status.podIP}" | wc -w)" = 3 ]'
want=$(pod_eps app=web 8080)
step "endpoints web list the pod IPs on the named targetPort" 60 eps_are web "$want"
out=$(k -n misc get endpoints web -o json)
check_eq "endpoints carry the service labels" "$(jq -r '.metadata.labels.tier' <<<"$out")" "front"
check_match "endpoints name the pods' nodes" "$(jq -r '.subsets[0].addresses[0].nodeName' <<<"$out")" '^hollow-[0-2]$'
check_eq "endpoints target pods" "$(jq -r '.subsets[0].addresses[0].targetRef.kind' <<<"$out")" "Pod"
check_eq "endpoints port" "$(jq -c '.subsets[0].ports' <<<"$out")" '[{"name":"http","port":8080,"protocol":"TCP"}]'
verdict "endpoints object shape"
step "headless endpoints use the service port" 60 eps_are web-headless "$(pod_eps app=web 9090)"
check_eq "headless label" "$(jp misc endpoints/web-headless '{.metadata.labels.service\.kubernetes\.io/headless}'; echo "|")" "|"
check_eq "headless label is present" "$(k -n misc get endpoints web-headless -o json | jq -r '.metadata.labels | has("service.kubernetes.io/headless")')" "true"
verdict "headless endpoints labelled"
check_eq "no endpoints for a service without selector" "$(kx -n misc get endpoints manual)" \
  $'Error from server (NotFound): endpoints "manual" not found\nrc=1'
verdict "selector-less service left alone"

ips=$(k -n misc get pods -l app=web -o json | jq -r '[.items[].status.podIP] | sort | join(",")')
step "endpointslice of web holds the 3 pods" 60 bash -c "[ \"\$(slice_ips web)\" = '$ips' ]"
out=$(k -n misc get endpointslices -l kubernetes.io/service-name=web -o json)
check_eq "one slice" "$(jq '.items | length' <<<"$out")" "1"
check_match "slice name" "$(jq -r '.items[0].metadata.name' <<<"$out")" '^web-[a-z0-9]{5}$'
check_eq "managed-by label" "$(jq -r '.items[0].metadata.labels["endpointslice.kubernetes.io/managed-by"]' <<<"$out")" \
  "endpointslice-controller.k8s.io"
check_eq "owner" "$(jq -r '.items[0].metadata.ownerReferences[0] | "\(.kind)/\(.name) \(.controller)"' <<<"$out")" "Service/web true"
check_eq "address type" "$(jq -r '.items[0].addressType' <<<"$out")" "IPv4"
check_eq "slice ports" "$(jq -c '.items[0].ports | map({name,port,protocol})' <<<"$out")" '[{"name":"http","port":8080,"protocol":"TCP"}]'
check_eq "conditions" "$(jq -c '.items[0].endpoints[0].conditions' <<<"$out")" '{"ready":true,"serving":true,"terminating":false}'
out=$(k -n misc get endpointslices -l kubernetes.io/service-name=web)
check_lines "kubectl get endpointslices" "$out" $'NAME +ADDRESSTYPE +PORTS +ENDPOINTS +AGE\nweb-[a-z0-9]{5} +IPv4 +8080 +[0-9.]+,[0-9.]+,[0-9.]+ +[0-9]+s'
verdict "endpointslice shape"

# Scaling changes both.
k -n misc scale deployment web --replicas=5 >/dev/null
step "5 web pods get IPs" 60 bash -c '[ "$(k -n misc get pods -l app=web -o jsonpath="{.items[*].status.podIP}" | wc -w)" = 5 ]'
step "endpoints follow a scale-up" 60 bash -c 'eps_are web "$(pod_eps app=web 8080)"'
step "endpointslice follows a scale-up" 60 bash -c '[ "$(slice_ips web | tr , "\n" | grep -c .)" = 5 ]'

# A pod that is not ready is listed under notReadyAddresses; a pod without the named
# port is skipped for that port. Node "ghost" has no agent, so the status written here
# as a kubelet would write it stays as written.
k apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Node
metadata: {name: ghost, labels: {topology.kubernetes.io/zone: zone-a}}
EOF
k -n misc apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: lone, labels: {app: lone}}
spec:
  nodeName: ghost
  containers: [{name: c, image: registry.k8s.io/pause:3.9, ports: [{name: http, containerPort: 7070}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: lone-noport, labels: {app: lone}}
spec:
  nodeName: ghost
  containers: [{name: c, image: registry.k8s.io/pause:3.9}]
---
apiVersion: v1
kind: Service
metadata: {name: lone}
spec:
  selector: {app: lone}
  ports: [{name: http, port: 80, targetPort: http}]
EOF
set_status() { # POD IP READY
  local now
  now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  k -n misc patch pod "$1" --subresource=status --type=merge -p \
    "{\"status\":{\"phase\":\"Running\",\"podIP\":\"$2\",\"podIPs\":[{\"ip\":\"$2\"}],\"conditions\":[{\"type\":\"Ready\",\"status\":\"$3\",\"lastTransitionTime\":\"$now\"}]}}" >/dev/null
}
lone_slice() { # JQ over the endpoints of the slices of service lone
  k -n misc get endpointslices -l kubernetes.io/service-name=lone -o json | jq -c "[.items[].endpoints[]? | $1]"
}
export -f lone_slice
set_status lone 10.99.0.7 True
set_status lone-noport 10.99.0.8 True
step "endpoints lone list the pod with the named port only" 30 eps_are lone "10.99.0.7:7070"
step "slice endpoint carries the node's zone" 30 bash -c '[ "$(lone_slice .zone)" = "[\"zone-a\"]" ]'
set_status lone 10.99.0.7 False
step "a not-ready pod moves to notReadyAddresses" 30 is misc endpoints/lone '{.subsets[0].notReadyAddresses[0].ip}' 10.99.0.7
check_eq "and leaves addresses" "$(jp misc endpoints/lone '{.subsets[0].addresses}')" ""
verdict "not-ready address"
step "its slice endpoint is not ready" 30 bash -c \
  '[ "$(lone_slice "[.conditions.ready, .conditions.serving, .conditions.terminating]")" = "[[false,false,false]]" ]'
k -n misc patch service lone --type=merge -p '{"spec":{"publishNotReadyAddresses":true}}' >/dev/null
step "publishNotReadyAddresses lists it as ready" 30 is misc endpoints/lone '{.subsets[0].addresses[0].ip}' 10.99.0.7

# A service whose pods are all gone has no endpoints left.
k -n misc delete pod lone lone-noport --grace-period=0 --force >/dev/null 2>&1
step "endpoints empty once the pods are gone" 60 bash -c \
  '[ "$(k -n misc get endpoints lone --no-headers | awk "{print \$2}")" = "<none>" ]'
step "no endpoints left in its slices" 60 bash -c \
  "[ \"\$(k -n misc get endpointslices -l kubernetes.io/service-name=lone -o json | jq -c '[.items[] | (.endpoints // [] | length)] | add // 0')\" = 0 ]"
k -n misc delete service lone >/dev/null
k delete node ghost >/dev/null
step "endpoints removed with their service" 30 bash -c '! k -n misc get endpoints lone >/dev/null 2>&1'
step "slices removed with their service" 30 bash -c \
  '[ -z "$(k -n misc get endpointslices -l kubernetes.io/service-name=lone -o name)" ]'

# --- serviceaccount and root-ca-cert-publisher ---
k -n misc delete serviceaccount default >/dev/null
step "default ServiceAccount recreated" 30 k -n misc get serviceaccount default
k -n misc delete configmap kube-root-ca.crt >/dev/null
step "kube-root-ca.crt recreated" 30 k -n misc get configmap kube-root-ca.crt
out=$(k -n misc get configmap kube-root-ca.crt -o json)
check_match "it holds the cluster CA" "$(jq -r '.data["ca.crt"]' <<<"$out")" 'BEGIN CERTIFICATE'
check_match "description annotation" "$(jq -r '.metadata.annotations["kubernetes.io/description"]' <<<"$out")" \
  '^Contains a CA bundle that can be used to verify the kube-apiserver'
k -n misc patch configmap kube-root-ca.crt --type=merge -p '{"data":{"ca.crt":"tampered"}}' >/dev/null
step "a tampered CA is put back" 30 bash -c \
  'k -n misc get configmap kube-root-ca.crt -o jsonpath="{.data.ca\.crt}" | grep -q "BEGIN CERTIFICATE"'

# --- resource quota ---
k -n misc apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: ResourceQuota
metadata: {name: q}
spec:
  hard: {pods: "20", services: "10", configmaps: "5", requests.cpu: "4", requests.memory: 8Gi,
         limits.memory: 16Gi, count/deployments.apps: "3", services.nodeports: "2"}
---
apiVersion: v1
kind: Pod
metadata: {name: sized}
spec:
  containers:
  - name: c
    image: registry.k8s.io/pause:3.9
    resources: {requests: {cpu: 250m, memory: 64Mi}, limits: {memory: 128Mi}}
EOF
step "quota counts the pods" 60 is misc resourcequota/q '{.status.used.pods}' 6
step "quota sums requests.cpu" 60 is misc resourcequota/q '{.status.used.requests\.cpu}' 250m
out=$(k -n misc describe quota q)
check_lines "kubectl describe quota" "$out" 'Name: +q
Namespace: +misc
Resource +Used +Hard
-------- +---- +----
configmaps +1 +5
count/deployments.apps +1 +3
limits.memory +128Mi +16Gi
pods +6 +20
requests.cpu +250m +4
requests.memory +64Mi +8Gi
services +3 +10
services.nodeports +0 +2'
verdict "quota status"
k -n misc delete pod sized >/dev/null
step "quota releases a deleted pod" 60 is misc resourcequota/q '{.status.used.requests\.cpu}' 0

# --- a claim bound to a hand-made volume ---
k apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-small, labels: {size: small}}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  storageClassName: manual
  persistentVolumeReclaimPolicy: Retain
  hostPath: {path: /tmp/ckube-pv-small}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-big}
spec:
  capacity: {storage: 5Gi}
  accessModes: [ReadWriteOnce]
  storageClassName: manual
  persistentVolumeReclaimPolicy: Retain
  hostPath: {path: /tmp/ckube-pv-big}
EOF
step "volumes are Available" 30 is default pv/pv-small '{.status.phase}' Available
k -n misc apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  storageClassName: manual
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 500Mi}}
EOF
step "claim Bound" 30 is misc pvc/data '{.status.phase}' Bound
check_eq "smallest fitting volume chosen" "$(jp misc pvc/data '{.spec.volumeName}')" "pv-small"
check_eq "claim annotations" \
  "$(jp misc pvc/data '{.metadata.annotations.pv\.kubernetes\.io/bind-completed}/{.metadata.annotations.pv\.kubernetes\.io/bound-by-controller}')" "yes/yes"
check_eq "claim capacity" "$(jp misc pvc/data '{.status.capacity.storage}')" "1Gi"
step "volume Bound" 30 is default pv/pv-small '{.status.phase}' Bound
check_eq "claimRef" "$(k get pv pv-small -o jsonpath='{.spec.claimRef.namespace}/{.spec.claimRef.name}')" "misc/data"
out=$(k -n misc get pvc data)
check_lines "kubectl get pvc" "$out" $'NAME +STATUS +VOLUME +CAPACITY +ACCESS MODES +STORAGECLASS +(VOLUMEATTRIBUTESCLASS +)?AGE\ndata +Bound +pv-small +1Gi +RWO +manual +(<unset> +)?[0-9]+s'
verdict "claim bound to a hand-made volume"
k -n misc delete pvc data >/dev/null
step "volume Released when its claim goes" 30 is default pv/pv-small '{.status.phase}' Released

# --- local-path provisioning ---
check_match "default StorageClass" "$(k get storageclass)" \
  '^local-path \(default\) +rancher.io/local-path +Delete +WaitForFirstConsumer'
# A claim that names no class gets the default one at admission; one that names "" keeps
# no class.
k -n misc apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: cache}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 2Gi}}
EOF
check_eq "default class given at admission" "$(jp misc pvc/cache '{.spec.storageClassName}')" "local-path"
out=$(k -n misc create --dry-run=server -o jsonpath='{.spec.storageClassName}/' -f - <<'EOF'
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: classless}
spec:
  storageClassName: ""
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
EOF
)
check_eq "an empty class is kept" "$out" "/"
step "WaitForFirstConsumer event" 30 bash -c \
  'k -n misc get events --field-selector involvedObject.name=cache | grep -q WaitForFirstConsumer'
check_eq "claim pending until a pod uses it" "$(jp misc pvc/cache '{.status.phase}')" "Pending"
k -n misc apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: user}
spec:
  containers: [{name: c, image: registry.k8s.io/pause:3.9, volumeMounts: [{name: d, mountPath: /data}]}]
  volumes: [{name: d, persistentVolumeClaim: {claimName: cache}}]
EOF
step "provisioned claim Bound" 60 is misc pvc/cache '{.status.phase}' Bound
pv=$(jp misc pvc/cache '{.spec.volumeName}')
uid=$(jp misc pvc/cache '{.metadata.uid}')
check_eq "volume named after the claim" "$pv" "pvc-$uid"
dir=$(k get pv "$pv" -o jsonpath='{.spec.hostPath.path}')
check_eq "volume directory" "$dir" "$CLUSTER_DIR/data/storage/pvc-${uid}_misc_cache"
[ -d "$dir" ] || check_report "volume directory exists" "" "$dir" "missing"
node=$(jp misc pod/user '{.spec.nodeName}')
check_eq "volume pinned to the pod's node" \
  "$(k get pv "$pv" -o jsonpath='{.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]}')" "$node"
check_match "ProvisioningSucceeded event" "$(k -n misc get events --field-selector involvedObject.name=cache)" \
  "ProvisioningSucceeded +persistentvolumeclaim/cache +Successfully provisioned volume $pv"
verdict "local-path provisioning"
k -n misc delete pod user --wait=false >/dev/null
k -n misc delete pvc cache --wait=false >/dev/null
step "provisioned volume deleted with its claim" 60 bash -c "! k get pv $pv >/dev/null 2>&1"
[ ! -d "$dir" ] || check_report "volume directory removed" "" "gone" "$dir"
verdict "volume directory removed"

# --- namespace deletion ---
k -n misc create configmap extra --from-literal=a=b >/dev/null
if timeout 120 "$KUBECTL" delete namespace misc >/dev/null 2>&1; then
  echo "ok - kubectl delete namespace returns once it is gone"
else
  check_report "kubectl delete namespace" "" "success" "failed or timed out"
  echo "not ok - kubectl delete namespace returns once it is gone"
fi
check_eq "namespace gone" "$(kx get namespace misc)" \
  $'Error from server (NotFound): namespaces "misc" not found\nrc=1'
check_eq "its pods gone" "$(k get pods -A --no-headers 2>/dev/null | grep -c '^misc ' || true)" "0"
verdict "namespace emptied and removed"

finish
