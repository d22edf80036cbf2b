#!/usr/bin/env bash
# Garbage collector: kubectl delete --cascade=background|foreground|orphan on a ReplicaSet
# with 3 pods, a Deployment's ReplicaSets and pods going with it, an object whose owner
# never existed, and an ownership cycle deleted in foreground.
# The deployment controller is off, so the Deployment's ReplicaSet is made by hand and
# only the garbage collector and the ReplicaSet controller act.
source "$(dirname "$0")/cluster-lib.sh"

n_pods() { k -n gc get pods -l "$1" -o name | wc -l; }
pods_are() { [ "$(n_pods "$1")" = "$2" ]; }
gone() { ! k -n gc get "$1" >/dev/null 2>&1; }

# make_rs NAME [FINALIZER]: a ReplicaSet of 3 pods labelled app=NAME.
make_rs() {
  k -n gc apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: $1}
spec:
  replicas: 3
  selector: {matchLabels: {app: $1}}
  template:
    metadata:
      labels: {app: $1}
      finalizers: [${2:-}]
    spec: {containers: [{name: c, image: busybox}]}
YAML
}

cluster_up --controllers '*,-deployment'
if "$CKUBE_BIN" agent --help 2>&1 | grep -q -- --hollow; then hollow_up nodes --count 2; fi
k create namespace gc >/dev/null

# --- background (kubectl's default) ---
make_rs bg
step "background: the ReplicaSet has 3 pods" 60 pods_are app=bg 3
out=$(k -n gc delete rs bg)
check_eq "delete rs" "$out" 'replicaset.apps "bg" deleted'
step "background: the pods are deleted after their owner" 60 pods_are app=bg 0

# --- foreground: the owner waits for its dependents ---
# The pods carry a finalizer of their own, so they stay (being deleted) until it is
# removed, and the ReplicaSet visibly waits for them.
make_rs fg example.com/hold
step "foreground: the ReplicaSet has 3 pods" 60 pods_are app=fg 3
k -n gc delete rs fg --cascade=foreground --wait=false >/dev/null
pods_deleting() {
  [ "$(k -n gc get pods -l app=fg -o json | jq '[.items[] | select(.metadata.deletionTimestamp)] | length')" = 3 ]
}
step "foreground: the dependents are being deleted" 60 pods_deleting
out=$(k -n gc get rs fg -o jsonpath='{.metadata.finalizers} {.metadata.deletionTimestamp}')
check_match "the owner waits" "$out" '^\["foregroundDeletion"\] [0-9T:-]+Z$'
verdict "foreground: the ReplicaSet stays with deletionTimestamp while its pods exist"
for p in $(k -n gc get pods -l app=fg -o name); do
  k -n gc patch "$p" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null
done
step "foreground: the pods go" 60 pods_are app=fg 0
step "foreground: then the ReplicaSet goes" 60 gone rs/fg

# --- orphan ---
make_rs or
step "orphan: the ReplicaSet has 3 pods" 60 pods_are app=or 3
k -n gc delete rs or --cascade=orphan >/dev/null
step "orphan: the ReplicaSet goes" 60 gone rs/or
orphaned() {
  [ "$(k -n gc get pods -l app=or -o json | jq '[.items[] | select(.metadata.deletionTimestamp == null and (.metadata.ownerReferences // [] | length) == 0)] | length')" = 3 ]
}
step "orphan: the 3 pods stay, with no ownerReferences" 60 orphaned

# --- a Deployment takes its ReplicaSets and their pods along ---
k -n gc create deployment web --image=busybox --replicas=2 >/dev/null
duid=$(k -n gc get deployment web -o jsonpath='{.metadata.uid}')
k -n gc apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-1
  labels: {app: web}
  ownerReferences:
  - {apiVersion: apps/v1, kind: Deployment, name: web, uid: $duid, controller: true, blockOwnerDeletion: true}
spec:
  replicas: 2
  selector: {matchLabels: {app: web, rev: "1"}}
  template:
    metadata: {labels: {app: web, rev: "1"}}
    spec: {containers: [{name: c, image: busybox}]}
YAML
step "deployment: its ReplicaSet has 2 pods" 60 pods_are app=web 2
k -n gc delete deployment web >/dev/null
step "deployment: its ReplicaSet goes" 60 gone rs/web-1
step "deployment: and the ReplicaSet's pods" 60 pods_are app=web 0

# --- an owner that never existed ---
k -n gc apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: stray
  ownerReferences:
  - {apiVersion: apps/v1, kind: ReplicaSet, name: nobody, uid: 00000000-0000-0000-0000-000000000001}
spec: {containers: [{name: c, image: busybox}]}
YAML
step "a pod whose owner does not exist is deleted" 60 gone pod/stray

# --- an object with one live owner keeps living when the other goes ---
make_rs keep
keep_uid=$(k -n gc get rs keep -o jsonpath='{.metadata.uid}')
k -n gc apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: shared
  ownerReferences:
  - {apiVersion: apps/v1, kind: ReplicaSet, name: keep, uid: $keep_uid}
  - {apiVersion: apps/v1, kind: ReplicaSet, name: gone, uid: 00000000-0000-0000-0000-000000000002}
spec: {containers: [{name: c, image: busybox}]}
YAML
one_owner() { [ "$(k -n gc get pod shared -o jsonpath='{.metadata.ownerReferences[*].name}')" = keep ]; }
step "the reference to a missing owner is removed, the object kept" 60 one_owner

# --- a cycle: a owns b, b owns a, both blocking; foreground deletion ends with both gone ---
mk_empty_rs() {
  k -n gc apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: $1}
spec:
  replicas: 0
  selector: {matchLabels: {app: $1}}
  template:
    metadata: {labels: {app: $1}}
    spec: {containers: [{name: c, image: busybox}]}
YAML
}
mk_empty_rs cyc-a
mk_empty_rs cyc-b
auid=$(k -n gc get rs cyc-a -o jsonpath='{.metadata.uid}')
buid=$(k -n gc get rs cyc-b -o jsonpath='{.metadata.uid}')
k -n gc patch rs cyc-b --type=merge -p "{\"metadata\":{\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"cyc-a\",\"uid\":\"$auid\",\"blockOwnerDeletion\":true}]}}" >/dev/null
k -n gc patch rs cyc-a --type=merge -p "{\"metadata\":{\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"cyc-b\",\"uid\":\"$buid\",\"blockOwnerDeletion\":true}]}}" >/dev/null
k -n gc delete rs cyc-a --cascade=foreground --wait=false >/dev/null
both_gone() { gone rs/cyc-a && gone rs/cyc-b; }
step "a foreground deletion through an ownership cycle deletes both" 90 both_gone

finish
