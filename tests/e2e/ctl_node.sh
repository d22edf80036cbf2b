#!/usr/bin/env bash
# Hollow nodes and the node controllers (nodeipam, nodelifecycle, podgc), end to end: a
# server of its own with a short node-monitor grace period, two `ckube agent --hollow`
# processes, driven by the real kubectl. Pods are bound by hand (spec.nodeName), so no
# scheduler runs. Usage: tests/e2e/ctl_node.sh [path/to/ckube] (CKUBE_AGENT, KEEP_LOGS: see
# cluster-lib.sh).
source "$(dirname "$0")/cluster-lib.sh"
set +e
# The hollow kubelets renew their Leases every 10 s, so the grace period must be longer.
cluster_up --disable-scheduler --node-monitor-grace-period 20s

# eq WHAT ACTUAL EXPECTED / like WHAT ACTUAL REGEX: test lines with the difference shown.
eq() {
  if [ "$2" = "$3" ]; then ok "$1"; else echo "not ok - $1"; check_report "$1" "" "$3" "$2"; fi
}
like() {
  if grep -Eq -- "$3" <<<"$2"; then ok "$1"; else echo "not ok - $1"; check_report "$1" " to match" "$3" "$2"; fi
}
jp() { k get "$@" 2>/dev/null; }
field_is() { [ "$(jp "${@:3}" -o jsonpath="$1")" = "$2" ]; } # field_is JSONPATH VALUE RES...

hollow_up a --count 3 --node-labels tier=hollow
hollow_up b --count 1 --first-index 3 --node-taints dedicated=e2e:NoSchedule

ready_nodes() { [ "$(jp nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True)" = 4 ]; }
check "four hollow nodes register and are Ready" poll 60 ready_nodes

# ---- what kubectl shows of a node ----
out=$(k get nodes | mask_age)
eq "kubectl get nodes" "$out" "NAME STATUS ROLES AGE VERSION
hollow-0 Ready <none> <age> v1.32.0
hollow-1 Ready <none> <age> v1.32.0
hollow-2 Ready <none> <age> v1.32.0
hollow-3 Ready <none> <age> v1.32.0"
out=$(k get nodes -o wide | mask_age)
like "get nodes -o wide: columns" "$out" \
  "^NAME STATUS ROLES AGE VERSION INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME$"
like "get nodes -o wide: hollow-0" "$out" \
  "^hollow-0 Ready <none> <age> v1.32.0 10\.240\.0\.2 <none> Debian GNU/Linux 12 \(bookworm\) 6\.1\.0-hollow hollow://1\.0$"
like "get nodes -o wide: distinct internal IPs" "$out" "^hollow-3 Ready .* 10\.240\.0\.5 "

cidrs_set() { [ "$(jp nodes -o jsonpath='{range .items[*]}{.spec.podCIDR}{"\n"}{end}' | grep -c '^10\.42\.[0-9]*\.0/24$')" = 4 ]; }
check "nodeipam assigns a /24 of 10.42.0.0/16 to every node" poll 60 cidrs_set
out=$(jp nodes -o jsonpath='{range .items[*]}{.spec.podCIDR}{"\n"}{end}' | sort -u | wc -l)
eq "pod CIDRs are distinct" "$out" 4
out=$(jp node hollow-0 -o jsonpath='{.spec.podCIDRs[0]}={.spec.podCIDR}')
like "podCIDRs mirrors podCIDR" "$out" '^(10\.42\.[0-9]+\.0/24)=\1$'

desc=$(k describe node hollow-0)
like "describe: labels" "$desc" "^Labels: +beta\.kubernetes\.io/arch=amd64$"
like "describe: hostname label" "$desc" "^ +kubernetes\.io/hostname=hollow-0$"
like "describe: --node-labels" "$desc" "^ +tier=hollow$"
like "describe: Ready condition" "$desc" \
  "^  Ready +True .* KubeletReady +kubelet is posting ready status$"
like "describe: MemoryPressure" "$desc" \
  "^  MemoryPressure +False .* KubeletHasSufficientMemory +kubelet has sufficient memory available$"
like "describe: address" "$desc" "^  InternalIP: +10\.240\.0\.2$"
like "describe: capacity" "$desc" "^  pods: +110$"
like "describe: runtime" "$desc" "^  Container Runtime Version: +hollow://1\.0$"
like "describe: PodCIDR" "$desc" "^PodCIDR: +10\.42\.[0-9]+\.0/24$"
like "describe: Lease holder" "$desc" "^  HolderIdentity: +hollow-0$"
desc=$(k describe node hollow-3)
like "describe: --node-taints" "$desc" "^Taints: +dedicated=e2e:NoSchedule$"
check "node Lease in kube-node-lease" poll 60 field_is '{.spec.holderIdentity} {.spec.leaseDurationSeconds} {.metadata.ownerReferences[0].kind}' "hollow-1 40 Node" lease -n kube-node-lease hollow-1

# ---- pods bound by hand ----
k create namespace nodes >/dev/null
k apply -n nodes -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  nodeName: hollow-0
  containers:
  - {name: nginx, image: nginx, readinessProbe: {httpGet: {path: /, port: 80}}}
---
apiVersion: v1
kind: Pod
metadata: {name: once}
spec:
  nodeName: hollow-1
  restartPolicy: Never
  containers: [{name: main, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: broken, annotations: {hollow.ckube.io/exit-code: "3"}}
spec:
  nodeName: hollow-2
  restartPolicy: Never
  containers: [{name: main, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: flaky, annotations: {hollow.ckube.io/exit-code: "2", hollow.ckube.io/run-seconds: "1"}}
spec:
  nodeName: hollow-2
  restartPolicy: OnFailure
  containers: [{name: main, image: busybox}]
YAML
check "an Always pod becomes Running and Ready" poll 60 field_is '{.status.phase}/{.status.conditions[?(@.type=="Ready")].status}' Running/True pod -n nodes web
out=$(k get pod -n nodes web | mask_age)
eq "get pod: 1/1 Running" "$out" "NAME READY STATUS RESTARTS AGE
web 1/1 Running 0 <age>"
ip=$(jp pod -n nodes web -o jsonpath='{.status.podIP}')
cidr=$(jp node hollow-0 -o jsonpath='{.spec.podCIDR}')
like "pod IP comes from the node's podCIDR ($cidr)" "$ip" "^${cidr%.0/24}\.[0-9]+$"
eq "hostIP is the node's InternalIP" "$(jp pod -n nodes web -o jsonpath='{.status.hostIP}')" 10.240.0.2
eq "container status" "$(jp pod -n nodes web -o jsonpath='{.status.containerStatuses[0].image} {.status.containerStatuses[0].ready} {.status.containerStatuses[0].started}')" \
  "docker.io/library/nginx:latest true true"
desc=$(k describe pod -n nodes web)
like "describe pod: conditions" "$desc" "^  ContainersReady +True *$"
like "describe pod: node" "$desc" "^Node: +hollow-0/10\.240\.0\.2$"
like "describe pod: QoS" "$desc" "^QoS Class: +BestEffort$"

check "a Never pod that exits 0 Succeeds" poll 60 field_is '{.status.phase}' Succeeded pod -n nodes once
like "get pod: Completed" "$(k get pod -n nodes once | mask_age)" "^once 0/1 Completed 0 <age>$"
check "a Never pod that exits 3 Fails" poll 60 field_is '{.status.phase}' Failed pod -n nodes broken
like "get pod: Error" "$(k get pod -n nodes broken | mask_age)" "^broken 0/1 Error 0 <age>$"
eq "exit code reported" "$(jp pod -n nodes broken -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode} {.status.containerStatuses[0].state.terminated.reason}')" "3 Error"
restarted() { [ "$(jp pod -n nodes flaky -o jsonpath='{.status.containerStatuses[0].restartCount}')" -ge 2 ]; }
check "an OnFailure pod that fails restarts" poll 60 restarted
eq "an OnFailure pod keeps Running" "$(jp pod -n nodes flaky -o jsonpath='{.status.phase} {.status.containerStatuses[0].lastState.terminated.exitCode}')" "Running 2"

del_web() { timeout 60 "$KUBECTL" delete pod -n nodes web >/dev/null; }
check "kubectl delete pod finishes (the agent finalizes it)" del_web
eq "the pod is gone" "$(kx get pod -n nodes web)" 'Error from server (NotFound): pods "web" not found
rc=1'

# ---- node failure ----
k apply -n nodes -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: victim}
spec:
  nodeName: hollow-3
  tolerations:
  - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 5}
  containers: [{name: main, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: survivor}
spec:
  nodeName: hollow-3
  tolerations:
  - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute}
  containers: [{name: main, image: busybox}]
YAML
check "pods on hollow-3 run" poll 60 field_is '{.status.phase}' Running pod -n nodes victim
check "(survivor too)" poll 60 field_is '{.status.phase}' Running pod -n nodes survivor
hollow_stop b
not_ready() { k get node hollow-3 | grep -q ' NotReady '; }
check "a node whose agent stopped becomes NotReady" poll 90 not_ready
eq "Ready is Unknown: NodeStatusUnknown" "$(jp node hollow-3 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].reason} {.status.conditions[?(@.type=="Ready")].message}')" \
  "Unknown NodeStatusUnknown Kubelet stopped posting node status."
eq "every condition is Unknown" "$(jp node hollow-3 -o jsonpath='{range .status.conditions[*]}{.status} {end}')" "Unknown Unknown Unknown Unknown "
taint_present() { jp node hollow-3 -o jsonpath='{range .spec.taints[*]}{.key}:{.effect}{"\n"}{end}' | grep -qx "node.kubernetes.io/unreachable:NoExecute"; }
check "the unreachable NoExecute taint appears" poll 60 taint_present
like "describe node: taints" "$(k describe node hollow-3)" "^ +node\.kubernetes\.io/unreachable:NoSchedule$"
evicted() { [ -n "$(jp pod -n nodes victim -o jsonpath='{.metadata.deletionTimestamp}')" ] || ! k get pod -n nodes victim >/dev/null 2>&1; }
check "the pod tolerating it for 5 s is evicted" poll 60 evicted
like "TaintManagerEviction event" "$(k get events -n nodes --field-selector involvedObject.name=victim)" \
  "TaintManagerEviction +pod/victim +Marking for deletion Pod nodes/victim"
eq "the pod tolerating it forever stays" "$(jp pod -n nodes survivor -o jsonpath='{.metadata.deletionTimestamp}')" ""
eq "its pods are marked not Ready" "$(jp pod -n nodes survivor -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" False
like "NodeNotReady event" "$(k get events --field-selector involvedObject.name=hollow-3)" \
  "NodeNotReady +node/hollow-3 +Node hollow-3 status is now: NodeNotReady"

hollow_up b2 --count 1 --first-index 3 --node-taints dedicated=e2e:NoSchedule
back() { k get node hollow-3 | grep -q ' Ready '; }
check "a restarted agent brings the node back Ready" poll 60 back
no_taint() { ! jp node hollow-3 -o jsonpath='{.spec.taints[*].key}' | grep -q unreachable; }
check "the unreachable taints are removed" poll 60 no_taint
eq "the node's own taints stay" "$(jp node hollow-3 -o jsonpath='{.spec.taints[*].key}')" dedicated
gone() { ! k get pod -n nodes victim >/dev/null 2>&1; }
check "the evicted pod is finalized by the returning agent" poll 60 gone
check "the surviving pod is Ready again" poll 60 field_is '{.status.conditions[?(@.type=="Ready")].status}' True pod -n nodes survivor

# ---- a stopped agent leaves its nodes ----
hollow_stop a
eq "the agent exits 0 on SIGTERM" "$?" 0
eq "its nodes stay" "$(jp nodes -o name | wc -l)" 4

finish
