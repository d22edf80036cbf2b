#!/usr/bin/env bash
# ReplicationController and ReplicaSet controllers, as a user sees them: the kubia RC of
# the examples (create, scale up and down, a deleted pod replaced, a relabelled pod
# released and replaced, --cascade=orphan), a ReplicaSet with matchExpressions adopting
# the orphans, status columns once pods are ready, and ReplicaFailure when creates fail.
source "$(dirname "$0")/cluster-lib.sh"

# Live (not terminating) pods of the namespace with a label selector: "name owner" lines.
live_pods() {
  k -n rs get pods -l "$1" -o json |
    jq -r '.items[] | select(.metadata.deletionTimestamp == null) |
           "\(.metadata.name) \(.metadata.ownerReferences[0].name // "-")"'
}
count_live() { live_pods "$1" | wc -l; }
# count_is SELECTOR N [OWNER]: N live pods match, each owned by OWNER ("-" = none).
count_is() {
  local out
  out=$(live_pods "$1")
  [ "$(printf '%s' "$out" | grep -c .)" = "$2" ] || return 1
  [ -z "${3:-}" ] || ! printf '%s\n' "$out" | awk '{print $2}' | grep -vqx -- "$3"
}
rc_status_is() { # NAME REPLICAS READY
  [ "$(k -n rs get rc "$1" -o jsonpath='{.status.replicas}/{.status.readyReplicas}')" = "$2/$3" ]
}

cluster_up
hollow=0
if "$CKUBE_BIN" agent --help 2>&1 | grep -q -- --hollow; then
  hollow_up nodes --count 3
  hollow=1
fi
# Without hollow nodes, pods are made ready by writing their status as a kubelet would.
make_ready() {
  [ $hollow = 1 ] && return 0
  local p now
  now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  for p in $(k -n rs get pods -l "$1" -o name); do
    k -n rs patch "$p" --subresource=status --type=merge -p \
      "{\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":\"$now\"}]}}" \
      >/dev/null 2>&1 || true
  done
}
k create namespace rs >/dev/null

# --- the kubia ReplicationController ---
out=$(k -n rs apply -f "$examples/kubia-rc.yaml")
check_eq "create rc" "$out" "replicationcontroller/kubia created"
step "rc kubia creates 3 pods it controls" 60 count_is app=kubia 3 kubia
out=$(k -n rs get events --field-selector reason=SuccessfulCreate -o jsonpath='{range .items[*]}{.source.component} {.message}{"\n"}{end}')
check_match "SuccessfulCreate events" "$out" '^replication-controller Created pod: kubia-[a-z0-9]{5}$'
verdict "SuccessfulCreate events name the pods"

make_ready app=kubia
step "rc status counts 3 ready pods" 90 rc_status_is kubia 3 3
out=$(k -n rs get rc kubia | mask_age)
check_eq "get rc" "$out" "NAME DESIRED CURRENT READY AGE
kubia 3 3 3 <age>"
out=$(k -n rs describe rc kubia)
check_match "describe rc replicas" "$out" '^Replicas: +3 current / 3 desired$'
check_match "describe rc pods status" "$out" '^Pods Status: +3 Running / 0 Waiting / 0 Succeeded / 0 Failed$'
check_match "describe rc events" "$out" 'Normal +SuccessfulCreate +[0-9a-z]+ +replication-controller +Created pod: kubia-'
verdict "get and describe rc show the status"

out=$(k -n rs scale rc kubia --replicas=10)
check_eq "scale up" "$out" "replicationcontroller/kubia scaled"
step "scaled to 10 pods" 60 count_is app=kubia 10 kubia
make_ready app=kubia
step "rc status reports 10 ready" 90 rc_status_is kubia 10 10
k -n rs scale rc kubia --replicas=3 >/dev/null
step "scaled back to 3 pods" 60 count_is app=kubia 3 kubia
step "rc status reports 3" 60 rc_status_is kubia 3 3
out=$(k -n rs get events --field-selector reason=SuccessfulDelete -o jsonpath='{range .items[*]}{.message}{"\n"}{end}')
check_eq "7 SuccessfulDelete events" "$(grep -c '^Deleted pod: kubia-' <<<"$out")" 7
verdict "scale-down records SuccessfulDelete events"
gen=$(k -n rs get rc kubia -o jsonpath='{.metadata.generation}/{.status.observedGeneration}')
check_eq "observedGeneration follows generation" "${gen#*/}" "${gen%/*}"
verdict "observedGeneration follows generation"

victim=$(live_pods app=kubia | head -1 | cut -d' ' -f1)
k -n rs delete pod "$victim" --wait=false >/dev/null
replaced() { count_is app=kubia 3 kubia && ! live_pods app=kubia | grep -q "^$victim "; }
step "a deleted pod is replaced" 60 replaced

moved=$(live_pods app=kubia | head -1 | cut -d' ' -f1)
k -n rs label pod "$moved" app=foo --overwrite >/dev/null
released() {
  count_is app=kubia 3 kubia &&
    [ "$(k -n rs get pod "$moved" -o jsonpath='{.metadata.ownerReferences}')" = "" ]
}
step "a relabelled pod is released and replaced, and kept" 60 released
check_eq "the relabelled pod lives on" "$(k -n rs get pod "$moved" -o jsonpath='{.metadata.labels.app}')" foo
verdict "the relabelled pod keeps running"

out=$(k -n rs delete rc kubia --cascade=orphan)
check_eq "delete rc orphan" "$out" 'replicationcontroller "kubia" deleted'
rc_gone() { ! k -n rs get rc kubia >/dev/null 2>&1; }
step "rc deleted with --cascade=orphan goes" 60 rc_gone
step "its pods stay, owned by nobody" 60 count_is app=kubia 3 -

# --- a ReplicaSet with matchExpressions adopts the orphans ---
out=$(k -n rs apply -f "$examples/kubia-replicaset.yaml")
check_eq "create rs" "$out" "replicaset.apps/kubia created"
step "the ReplicaSet adopts the 3 orphans" 60 count_is app=kubia 3 kubia
check_eq "no pod created for adopted ones" \
  "$(k -n rs get events --field-selector involvedObject.kind=ReplicaSet,reason=SuccessfulCreate -o name | wc -l)" 0
verdict "adoption creates no pods"
owner_kind=$(k -n rs get pods -l app=kubia -o jsonpath='{.items[0].metadata.ownerReferences[0].kind}')
check_eq "adopted pods name the ReplicaSet" "$owner_kind" ReplicaSet
verdict "adopted pods carry the ReplicaSet's controller reference"
rs_ready() { [ "$(k -n rs get rs kubia -o jsonpath='{.status.replicas}/{.status.readyReplicas}/{.status.availableReplicas}')" = "$1" ]; }
k -n rs scale rs kubia --replicas=4 >/dev/null
step "scaled to 4" 60 count_is app=kubia 4 kubia
make_ready app=kubia
step "rs status: 4 ready and available" 90 rs_ready 4/4/4
out=$(k -n rs get rs kubia -o wide | mask_age)
check_eq "get rs -o wide" "$out" "NAME DESIRED CURRENT READY AGE CONTAINERS IMAGES SELECTOR
kubia 4 4 4 <age> kubia luksa/kubia app in (kubia)"
verdict "get rs shows DESIRED CURRENT READY"

# --- creates that fail: ReplicaFailure, FailedCreate, then recovery ---
k -n rs apply -f - >/dev/null <<'YAML'
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: nosa}
spec:
  replicas: 2
  selector: {matchLabels: {app: nosa}}
  template:
    metadata: {labels: {app: nosa}}
    spec:
      serviceAccountName: missing
      containers: [{name: c, image: busybox}]
YAML
failure() { [ "$(k -n rs get rs nosa -o jsonpath='{.status.conditions[?(@.type=="ReplicaFailure")].reason}')" = FailedCreate ]; }
step "failing creates set ReplicaFailure" 60 failure
out=$(k -n rs get rs nosa -o jsonpath='{.status.conditions[0].message}')
check_match "ReplicaFailure message" "$out" 'is forbidden: error looking up service account rs/missing: serviceaccount "missing" not found'
out=$(k -n rs describe rs nosa)
check_match "FailedCreate event" "$out" 'Warning +FailedCreate +.* +replicaset-controller +Error creating: pods "nosa-[a-z0-9]*" is forbidden: error looking up service account rs/missing'
verdict "FailedCreate events and condition carry the API's message"
k -n rs create serviceaccount missing >/dev/null
recovered() { count_is app=nosa 2 nosa && [ -z "$(k -n rs get rs nosa -o jsonpath='{.status.conditions}')" ]; }
step "creates succeed once the cause is gone, and the condition is removed" 120 recovered

# --- a quiet controller: nothing changes, nothing is written ---
rv1=$(k -n rs get rs kubia -o jsonpath='{.metadata.resourceVersion}')
sleep 2
rv2=$(k -n rs get rs kubia -o jsonpath='{.metadata.resourceVersion}')
check_eq "a settled ReplicaSet is not rewritten" "$rv2" "$rv1"
verdict "no status writes when nothing changed"

finish
