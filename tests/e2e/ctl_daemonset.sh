#!/usr/bin/env bash
# DaemonSet controller, end to end: a server of its own (scheduler included, which binds
# the pods the controller pins to a node) and three hollow nodes, which run the daemon pods
# and report them Running/Ready. Usage: ctl_daemonset.sh [path/to/ckube]
source "$(dirname "$0")/cluster-lib.sh"
set +e
cluster_up
hollow_up nodes --count 3

# The node a daemon pod is pinned to, per pod: "name node".
placement() {
  k get pods -l app=ssd-monitor -o jsonpath='{range .items[?(@.metadata.deletionTimestamp)]}{end}{range .items[*]}{.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].values[0]}{"\n"}{end}' | sort | tr '\n' ' '
}
ready_nodes() {
  [ "$(k get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True)" = 3 ]
}
step "three hollow nodes register and are Ready" 60 ready_nodes
k label node hollow-0 disk=ssd >/dev/null
k apply -f "$examples/ssd-monitor-daemonset.yaml" >/dev/null

wait_eq "one daemon pod, on the ssd node" "hollow-0 " placement
pod=$(k get pods -l app=ssd-monitor -o jsonpath='{.items[0].metadata.name}')
check_match "pod named after the DaemonSet" "$pod" '^ssd-monitor-[a-z0-9]{5}$'
tols=$(k get pod "$pod" -o jsonpath='{range .spec.tolerations[*]}{.key}:{.effect}{" "}{end}')
check_eq "daemon tolerations" "$tols" "node.kubernetes.io/not-ready:NoExecute node.kubernetes.io/unreachable:NoExecute node.kubernetes.io/disk-pressure:NoSchedule node.kubernetes.io/memory-pressure:NoSchedule node.kubernetes.io/pid-pressure:NoSchedule node.kubernetes.io/unschedulable:NoSchedule "
owner=$(k get pod "$pod" -o jsonpath='{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {.metadata.ownerReferences[0].controller}')
check_eq "owner reference" "$owner" "DaemonSet/ssd-monitor true"

wait_eq "status counts one ready pod" "1 1 1 1 1" \
  k get ds ssd-monitor -o jsonpath='{.status.desiredNumberScheduled} {.status.currentNumberScheduled} {.status.numberReady} {.status.updatedNumberScheduled} {.status.numberAvailable}'
out=$(k get ds ssd-monitor | mask_age)
check_eq "kubectl get ds" "$out" "NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE
ssd-monitor 1 1 1 1 1 disk=ssd <age>"

k label node hollow-1 disk=ssd >/dev/null
wait_eq "labelling a node adds a pod" "hollow-0 hollow-1 " placement
k label node hollow-0 disk- >/dev/null
wait_eq "unlabelling a node removes its pod" "hollow-1 " placement
out=$(k rollout status ds/ssd-monitor --timeout=60s 2>&1)
check_eq "rollout status" "$out" 'daemon set "ssd-monitor" successfully rolled out'

# Rolling update: the new template replaces the pod, revision 2 is recorded.
old=$(k get pods -l app=ssd-monitor -o jsonpath='{.items[0].metadata.labels.controller-revision-hash}')
k set image ds/ssd-monitor main=luksa/ssd-monitor:v2 >/dev/null
newhash() {
  k get pods -l app=ssd-monitor -o jsonpath='{range .items[*]}{.metadata.labels.controller-revision-hash}{" "}{.spec.containers[0].image}{"\n"}{end}'
}
for _ in $(seq 1 300); do
  out=$(newhash)
  [ -n "$out" ] && ! grep -q "$old" <<<"$out" && break
  sleep 0.2
done
check_match "rolling update made a pod of the new template" "$out" '^[a-z0-9]+ luksa/ssd-monitor:v2$'
out=$(k rollout status ds/ssd-monitor --timeout=60s 2>&1)
check_eq "rollout status after the update" "$out" 'daemon set "ssd-monitor" successfully rolled out'
out=$(k rollout history ds/ssd-monitor | sed 's/ *$//')
check_eq "rollout history" "$out" "daemonset.apps/ssd-monitor
REVISION  CHANGE-CAUSE
1         <none>
2         <none>"
revs=$(k get controllerrevisions -o jsonpath='{range .items[*]}{.revision}{"\n"}{end}' | sort | tr '\n' ' ')
check_eq "two ControllerRevisions" "$revs" "1 2 "
ev=$(k get events --field-selector involvedObject.kind=DaemonSet -o jsonpath='{range .items[*]}{.reason}: {.message}{"\n"}{end}')
check_match "SuccessfulCreate event" "$ev" '^SuccessfulCreate: Created pod: ssd-monitor-[a-z0-9]{5}$'
check_match "SuccessfulDelete event" "$ev" '^SuccessfulDelete: Deleted pod: ssd-monitor-[a-z0-9]{5}$'

finish
