#!/usr/bin/env bash
# The Deployment controller as a user sees it through kubectl: create and roll out, set
# image (a new ReplicaSet, revision 2), rollout history with change-cause, undo and undo
# --to-revision, pause/resume (no rollout while paused, scaling still works), rollout
# restart, proportional scaling in the middle of a rollout, a stuck rollout that exceeds
# its progress deadline, the Recreate strategy, and revisionHistoryLimit clean-up.
source "$(dirname "$0")/cluster-lib.sh"

N=dep
kn() { k -n "$N" "$@"; }
# ReplicaSets of a Deployment (by its app label): "name replicas revision image" lines,
# oldest revision first.
rs_lines() {
  kn get rs -l "app=$1" -o json | jq -r '.items[] |
    "\(.metadata.name) \(.spec.replicas) \(.metadata.annotations["deployment.kubernetes.io/revision"]) \(.spec.template.spec.containers[0].image)"' |
    sort -k3 -n
}
rs_count_is() { [ "$(kn get rs -l "app=$1" -o name | wc -l)" = "$2" ]; }
# The ReplicaSet name of a revision.
rs_of_rev() { rs_lines "$1" | awk -v r="$2" '$3 == r {print $1}'; }
observed() { # NAME: the controller has seen the latest spec
  [ "$(kn get deploy "$1" -o jsonpath='{.metadata.generation}')" = \
    "$(kn get deploy "$1" -o jsonpath='{.status.observedGeneration}')" ]
}
progressing_reason() { kn get deploy "$1" -o jsonpath='{.status.conditions[?(@.type=="Progressing")].reason}'; }
reason_is() { [ "$(progressing_reason "$1")" = "$2" ]; }
image_of() { kn get deploy "$1" -o jsonpath='{.spec.template.spec.containers[0].image}'; }
rolled_out() { kn rollout status "deploy/$1" --timeout=5s 2>&1 | grep -q "successfully rolled out"; }
rs_field_is() { # RS JSONPATH VALUE
  [ "$(kn get rs "$1" -o jsonpath="$2")" = "$3" ]
}
nodes_are() { [ "$(k get nodes -o name | wc -l)" = "$1" ]; }
deploy_rev_is() {
  [ "$(kn get deploy "$1" -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}')" = "$2" ]
}
restarted_rs_is() { # NAME REPLICAS: one ReplicaSet has the restartedAt template annotation
  kn get rs -l "app=$1" -o json | jq -e --argjson n "$2" '[.items[] |
    select(.spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"] != null
           and .spec.replicas == $n)] | length == 1' >/dev/null
}
rs_replicas_are() { # NAME "r1 r2 ..." (by revision)
  [ "$(rs_lines "$1" | awk '{print $2}' | xargs)" = "$2" ]
}

cluster_up
hollow_up nodes --count 3
k create namespace "$N" >/dev/null
wait_for "hollow nodes registered" 60 nodes_are 3

# --- create and roll out ---
out=$(kn create deployment web --image=nginx:1.25 --replicas=3)
check_eq "create deployment" "$out" "deployment.apps/web created"
out=$(kn rollout status deploy/web --timeout=90s 2>&1)
check_match "rollout status" "$out" '^deployment "web" successfully rolled out$'
verdict "kubectl rollout status waits for the first rollout"

out=$(kn get deploy web | mask_age)
check_eq "get deploy" "$out" "NAME READY UP-TO-DATE AVAILABLE AGE
web 3/3 3 3 <age>"
rs1=$(rs_of_rev web 1)
check_match "new ReplicaSet name" "$rs1" '^web-[bcdfghjklmnpqrstvwxz2456789]{1,10}$'
hash=${rs1#web-}
out=$(kn get rs "$rs1" -o json | jq -r '[.metadata.labels["pod-template-hash"],
  .spec.selector.matchLabels["pod-template-hash"], .spec.template.metadata.labels["pod-template-hash"],
  .metadata.annotations["deployment.kubernetes.io/desired-replicas"],
  .metadata.annotations["deployment.kubernetes.io/max-replicas"],
  (.metadata.ownerReferences[0] | "\(.kind)/\(.name) \(.controller) \(.blockOwnerDeletion)")] | join(" ")')
check_eq "ReplicaSet labels, annotations and owner" "$out" "$hash $hash $hash 3 4 Deployment/web true true"
out=$(kn get deploy web -o json | jq -r '.metadata.annotations["deployment.kubernetes.io/revision"],
  (.status | "\(.replicas) \(.updatedReplicas) \(.readyReplicas) \(.availableReplicas) \(.observedGeneration)"),
  (.status.conditions[] | "\(.type) \(.status) \(.reason) \(.message)")')
check_eq "deployment status" "$out" "1
3 3 3 3 1
Available True MinimumReplicasAvailable Deployment has minimum availability.
Progressing True NewReplicaSetAvailable ReplicaSet \"$rs1\" has successfully progressed."
out=$(kn get events --field-selector involvedObject.name=web -o jsonpath='{range .items[*]}{.source.component} {.reason} {.message}{"\n"}{end}')
check_match "scaling event" "$out" "^deployment-controller ScalingReplicaSet Scaled up replica set $rs1 from 0 to 3$"
verdict "the first ReplicaSet, its annotations, the status and the event"

# --- set image: a second revision, with change-cause ---
# The change-cause goes on after the template change: the controller copies the
# Deployment's annotations to whichever ReplicaSet is new at the time.
out=$(kn set image deploy/web nginx=nginx:1.26)
check_eq "set image" "$out" "deployment.apps/web image updated"
kn annotate deploy web kubernetes.io/change-cause="image 1.26" >/dev/null
out=$(kn rollout status deploy/web --timeout=90s 2>&1)
check_match "rollout status after set image" "$out" '^deployment "web" successfully rolled out$'
step "old ReplicaSet scaled to 0, new one to 3" 60 rs_replicas_are web "0 3"
rs2=$(rs_of_rev web 2)
check_match "second ReplicaSet" "$rs2" '^web-'
out=$(kn get events --field-selector involvedObject.name=web -o jsonpath='{range .items[*]}{.message}{"\n"}{end}')
check_match "scale up new" "$out" "^Scaled up replica set $rs2 from 0 to 1$"
check_match "scale down old" "$out" "^Scaled down replica set $rs1 from [0-9] to [0-9]$"
out=$(kn rollout history deploy/web | sed -E 's/ +/ /g; s/ $//')
check_eq "rollout history" "$out" "deployment.apps/web
REVISION CHANGE-CAUSE
1 <none>
2 image 1.26"
out=$(kn rollout history deploy/web --revision=2)
check_match "history of revision 2" "$out" 'Image:[[:space:]]+nginx:1.26'
verdict "set image rolls out a second revision; rollout history lists both"

# --- undo, and undo --to-revision ---
out=$(kn rollout undo deploy/web)
check_eq "undo" "$out" "deployment.apps/web rolled back"
kn rollout status deploy/web --timeout=90s >/dev/null 2>&1 || true
step "undo brings nginx:1.25 back as revision 3" 60 rs_field_is "$rs1" \
  '{.metadata.annotations.deployment\.kubernetes\.io/revision} {.spec.replicas}' "3 3"
check_eq "image after undo" "$(image_of web)" "nginx:1.25"
out=$(kn get rs "$rs1" -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision-history}')
check_eq "revision-history of the returning ReplicaSet" "$out" "1"
out=$(kn rollout history deploy/web | sed -E 's/ +/ /g; s/ $//' | tail -n +3)
check_eq "history after undo" "$out" "2 image 1.26
3 <none>"
out=$(kn rollout undo deploy/web --to-revision=2)
check_eq "undo --to-revision" "$out" "deployment.apps/web rolled back"
step "undo --to-revision=2 makes nginx:1.26 revision 4" 60 rs_field_is "$rs2" \
  '{.metadata.annotations.deployment\.kubernetes\.io/revision}' 4
check_eq "image after undo --to-revision" "$(image_of web)" "nginx:1.26"
step "rolled out after undo --to-revision" 90 rolled_out web
step "deployment revision annotation follows" 30 deploy_rev_is web 4
verdict "rollout undo and undo --to-revision"

# --- pause / resume ---
out=$(kn rollout pause deploy/web)
check_eq "pause" "$out" "deployment.apps/web paused"
step "Progressing reason DeploymentPaused" 30 reason_is web DeploymentPaused
kn set image deploy/web nginx=nginx:1.27 >/dev/null
step "paused spec change observed" 30 observed web
check_eq "no new ReplicaSet while paused" "$(rs_lines web | grep -c 'nginx:1.27')" "0"
kn scale deploy/web --replicas=5 >/dev/null
step "a paused deployment still scales" 60 rs_field_is "$rs2" '{.spec.replicas}' 5
out=$(kn rollout resume deploy/web)
check_eq "resume" "$out" "deployment.apps/web resumed"
step "rolled out after resume" 120 rolled_out web
check_eq "resumed rollout made nginx:1.27" "$(rs_lines web | awk '$4 == "nginx:1.27" {print $2}')" "5"
verdict "pause holds the rollout but not scaling; resume rolls out"

# --- restart ---
out=$(kn rollout restart deploy/web)
check_eq "restart" "$out" "deployment.apps/web restarted"
step "restart rolls out a new revision" 120 restarted_rs_is web 5
step "rolled out after restart" 120 rolled_out web
verdict "rollout restart makes a new ReplicaSet"

# --- a stuck rollout exceeds its deadline ---
cat <<EOF | kn apply -f - >/dev/null
apiVersion: apps/v1
kind: Deployment
metadata: {name: stuck}
spec:
  replicas: 2
  progressDeadlineSeconds: 10
  selector: {matchLabels: {app: stuck}}
  template:
    metadata: {labels: {app: stuck}}
    spec:
      nodeSelector: {no-such-node: "true"}
      containers: [{name: c, image: busybox}]
EOF
out=$(kx -n "$N" rollout status deploy/stuck --timeout=120s)
check_match "rollout status of a stuck rollout" "$out" '^error: deployment "stuck" exceeded its progress deadline$'
check_match "rollout status exit code" "$out" '^rc=1$'
out=$(kn get deploy stuck -o jsonpath='{range .status.conditions[*]}{.type} {.status} {.reason}{"\n"}{end}')
check_match "ProgressDeadlineExceeded" "$out" '^Progressing False ProgressDeadlineExceeded$'
check_match "unavailable" "$out" '^Available False MinimumReplicasUnavailable$'
verdict "a rollout whose pods never get ready exceeds its progress deadline"

# --- scaling in the middle of a rollout: shared in proportion ---
kn create deployment mid --image=nginx:1.25 --replicas=10 >/dev/null
step "mid rolled out" 120 rolled_out mid
kn patch deploy mid --type=merge -p '{"spec":{"template":{"spec":{"nodeSelector":{"no-such-node":"true"}}}}}' >/dev/null
step "mid: the new ReplicaSet surges and stalls" 60 rs_replicas_are mid "8 5"
kn scale deploy mid --replicas=20 >/dev/null
# 20 + 25% surge = 25 replicas over both: old 8 -> round(8*25/13)=15, new 5 -> 10.
step "mid: scaling mid-rollout is proportional" 60 rs_replicas_are mid "15 10"
verdict "proportional scaling during a rollout"

# --- Recreate ---
cat <<EOF | kn apply -f - >/dev/null
apiVersion: apps/v1
kind: Deployment
metadata: {name: rec}
spec:
  replicas: 2
  strategy: {type: Recreate}
  selector: {matchLabels: {app: rec}}
  template:
    metadata: {labels: {app: rec}}
    spec: {containers: [{name: c, image: nginx:1.25}]}
EOF
step "rec rolled out" 120 rolled_out rec
kn set image deploy/rec c=nginx:1.26 >/dev/null
step "rec rolled out again" 120 rolled_out rec
rec1=$(rs_of_rev rec 1)
rec2=$(rs_of_rev rec 2)
out=$(kn get events --field-selector involvedObject.name=rec -o json |
  jq -r '.items | sort_by(.metadata.resourceVersion | tonumber) | .[].message' |
  grep -E "$rec1 from 2|$rec2 from 0")
check_eq "Recreate scales the old down before the new up" "$out" "Scaled down replica set $rec1 from 2 to 0
Scaled up replica set $rec2 from 0 to 2"
verdict "Recreate replaces all pods at once"

# --- revisionHistoryLimit ---
cat <<EOF | kn apply -f - >/dev/null
apiVersion: apps/v1
kind: Deployment
metadata: {name: hist}
spec:
  replicas: 1
  revisionHistoryLimit: 1
  selector: {matchLabels: {app: hist}}
  template:
    metadata: {labels: {app: hist}}
    spec: {containers: [{name: c, image: nginx:1.1}]}
EOF
for v in 2 3 4; do
  step "hist rolled out" 120 rolled_out hist
  kn set image deploy/hist c=nginx:1.$v >/dev/null
done
step "hist rolled out last" 120 rolled_out hist
step "only the new and one old ReplicaSet remain" 60 rs_count_is hist 2
check_eq "the kept revisions" "$(rs_lines hist | awk '{print $3, $4}' | xargs)" "3 nginx:1.3 4 nginx:1.4"
verdict "revisionHistoryLimit removes the oldest ReplicaSets"

out=$(kn describe deploy web)
check_match "describe NewReplicaSet" "$out" '^NewReplicaSet: +web-[a-z0-9]+ \(5/5 replicas created\)$'
check_match "describe conditions" "$out" '^ +Progressing +True +NewReplicaSetAvailable$'
verdict "describe deployment"

finish
