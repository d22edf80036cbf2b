#!/usr/bin/env bash
# Changing objects: label, annotate, edit, patch (merge, json, strategic), scale through the
# scale subresource, client- and server-side apply, replace, delete with propagation.
. "$(dirname "$0")/lib.sh"
setup_ns
n=(-n "$NS")
tmp=$(mktemp -d /tmp/e2e-write.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

k create configmap w1 "${n[@]}" --from-literal=k=v1 >/dev/null

# --- label / annotate ------------------------------------------------------------------
check_eq "label" "$(kx label cm w1 "${n[@]}" a=1)" "configmap/w1 labeled"
check_eq "label without --overwrite" "$(kx label cm w1 "${n[@]}" a=2)" \
"error: 'a' already has a value (1), and --overwrite is false
rc=1"
check_eq "label --overwrite" "$(kx label cm w1 "${n[@]}" a=2 --overwrite)" "configmap/w1 labeled"
check_eq "label value" "$(kx get cm w1 "${n[@]}" -o jsonpath='{.metadata.labels.a}')" "2"
check_eq "unlabel" "$(kx label cm w1 "${n[@]}" a-)" "configmap/w1 unlabeled"
check_eq "unlabel gone" "$(kx get cm w1 "${n[@]}" -o jsonpath='{.metadata.labels}')" ""
# kubectl 1.27 prints "annotate" where later versions print "annotated".
annotated=annotated
kubectl_at_least 1.28 || annotated=annotate
check_eq "annotate" "$(kx annotate cm w1 "${n[@]}" note=hi)" "configmap/w1 $annotated"
check_eq "annotate without --overwrite" "$(kx annotate cm w1 "${n[@]}" note=ho)" \
"error: --overwrite is false but found the following declared annotation(s): 'note' already has a value (hi)
rc=1"
check_eq "annotate --overwrite" "$(kx annotate cm w1 "${n[@]}" note=ho --overwrite)" "configmap/w1 $annotated"
check_eq "annotation value" "$(kx get cm w1 "${n[@]}" -o jsonpath='{.metadata.annotations.note}')" "ho"
check_eq "label managed field" "$(kx get cm w1 "${n[@]}" --show-managed-fields -o jsonpath='{range .metadata.managedFields[*]}{.manager}/{.operation} {end}')" \
  "kubectl-create/Update kubectl-annotate/Update "

# --- edit --------------------------------------------------------------------------------
check_eq "edit" "$(EDITOR="sed -i s/k:.v1/k:\ edited/" kx edit cm w1 "${n[@]}")" "configmap/w1 edited"
check_eq "edit value" "$(kx get cm w1 "${n[@]}" -o jsonpath='{.data.k}')" "edited"
check_eq "edit no change" "$(EDITOR=true kx edit cm w1 "${n[@]}")" "Edit cancelled, no changes made."

# --- patch -------------------------------------------------------------------------------
check_eq "patch merge" "$(kx patch cm w1 "${n[@]}" --type=merge -p '{"data":{"m":"1","k":null}}')" "configmap/w1 patched"
check_eq "patch merge result" "$(kx get cm w1 "${n[@]}" -o jsonpath='{.data}')" '{"m":"1"}'
check_eq "patch no change" "$(kx patch cm w1 "${n[@]}" --type=merge -p '{"data":{"m":"1"}}')" "configmap/w1 patched (no change)"
check_eq "patch json" "$(kx patch cm w1 "${n[@]}" --type=json -p '[{"op":"add","path":"/data/j","value":"2"},{"op":"replace","path":"/data/m","value":"3"}]')" \
  "configmap/w1 patched"
check_eq "patch json result" "$(kx get cm w1 "${n[@]}" -o jsonpath='{.data}')" '{"j":"2","m":"3"}'
check_eq "patch json test op fails" "$(kx patch cm w1 "${n[@]}" --type=json -p '[{"op":"test","path":"/data/j","value":"9"}]' | head -1)" \
  "The request is invalid: the server rejected our request due to an error in our request"
check_eq "patch resourceVersion precondition" "$(kx patch cm w1 "${n[@]}" --type=merge -p '{"metadata":{"resourceVersion":"1"},"data":{"x":"1"}}')" \
'Error from server (Conflict): Operation cannot be fulfilled on configmaps "w1": the object has been modified; please apply your changes to the latest version and try again
rc=1'

k create deployment d "${n[@]}" --image=nginx:alpine >/dev/null
check_eq "patch strategic (containers merge by name)" \
  "$(kx patch deploy d "${n[@]}" -p '{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"busybox"},{"name":"nginx","image":"nginx:1.17.1"}]}}}}')" \
  "deployment.apps/d patched"
check_eq "strategic result" "$(kx get deploy d "${n[@]}" -o jsonpath='{range .spec.template.spec.containers[*]}{.name}={.image} {end}')" \
  "side=busybox nginx=nginx:1.17.1 "
check_eq "strategic defaults new container" "$(kx get deploy d "${n[@]}" -o jsonpath='{.spec.template.spec.containers[0].imagePullPolicy} {.spec.template.spec.containers[0].terminationMessagePath}')" \
  "Always /dev/termination-log"
check_eq "strategic \$patch delete" \
  "$(kx patch deploy d "${n[@]}" -p '{"spec":{"template":{"spec":{"containers":[{"name":"side","$patch":"delete"}]}}}}')" \
  "deployment.apps/d patched"
check_eq "strategic delete result" "$(kx get deploy d "${n[@]}" -o jsonpath='{range .spec.template.spec.containers[*]}{.name} {end}')" "nginx "
check_eq "merge patch replaces lists" \
  "$(kx patch deploy d "${n[@]}" --type=merge -p '{"spec":{"template":{"spec":{"containers":[{"name":"only","image":"busybox"}]}}}}')" \
  "deployment.apps/d patched"
check_eq "merge list result" "$(kx get deploy d "${n[@]}" -o jsonpath='{range .spec.template.spec.containers[*]}{.name} {end}{.metadata.generation}')" "only 4"
check_eq "patch status ignored on main resource" \
  "$(kx patch deploy d "${n[@]}" --type=merge -p '{"status":{"replicas":7}}')" "deployment.apps/d patched (no change)"
check_eq "patch --subresource=status" \
  "$(kx patch deploy d "${n[@]}" --subresource=status --type=merge -p '{"status":{"observedGeneration":1}}')" "deployment.apps/d patched"
check_eq "status patch keeps generation" "$(kx get deploy d "${n[@]}" -o jsonpath='{.metadata.generation}')" "4"

# --- scale (the scale subresource) -------------------------------------------------------
cat <<YAML | k apply "${n[@]}" -f - >/dev/null
apiVersion: v1
kind: ReplicationController
metadata: {name: rc1}
spec:
  replicas: 1
  selector: {app: rc1}
  template:
    metadata: {labels: {app: rc1}}
    spec: {containers: [{name: c, image: busybox}]}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs1}
spec:
  replicas: 1
  selector: {matchLabels: {app: rs1}}
  template:
    metadata: {labels: {app: rs1}}
    spec: {containers: [{name: c, image: busybox}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: sts1}
spec:
  serviceName: sts1
  selector: {matchLabels: {app: sts1}}
  template:
    metadata: {labels: {app: sts1}}
    spec: {containers: [{name: c, image: busybox}]}
YAML
check_eq "scale deployment" "$(kx scale deploy d "${n[@]}" --replicas=3)" "deployment.apps/d scaled"
check_eq "scale rc" "$(kx scale rc rc1 "${n[@]}" --replicas=2)" "replicationcontroller/rc1 scaled"
check_eq "scale rs" "$(kx scale rs rs1 "${n[@]}" --replicas=4)" "replicaset.apps/rs1 scaled"
check_eq "scale sts" "$(kx scale sts sts1 "${n[@]}" --replicas=5)" "statefulset.apps/sts1 scaled"
check_eq "scaled replicas" "$(for r in deploy/d rc/rc1 rs/rs1 sts/sts1; do kx get "$r" "${n[@]}" -o jsonpath='{.spec.replicas} '; done)" "3 2 4 5 "
check_eq "scale --current-replicas mismatch" "$(kx scale deploy d "${n[@]}" --current-replicas=1 --replicas=5)" \
"error: Expected replicas to be 1, was 3
rc=1"
check_eq "scale --current-replicas match" "$(kx scale deploy d "${n[@]}" --current-replicas=3 --replicas=2)" "deployment.apps/d scaled"
scale=$(kx get --raw "/apis/apps/v1/namespaces/$NS/deployments/d/scale")
check_eq "GET scale" "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["kind"], d["apiVersion"], d["metadata"]["name"], d["spec"]["replicas"], d["status"]["selector"])' <<<"$scale" 2>&1)" \
  "Scale autoscaling/v1 d 2 app=d"
check_eq "scale a configmap" "$(kx scale cm w1 "${n[@]}" --replicas=2)" \
'Error from server (NotFound): the server could not find the requested resource
rc=1'

# --- apply -------------------------------------------------------------------------------
cat >"$tmp/a.yaml" <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: ap
  labels: {tier: web}
data:
  a: "1"
  b: "2"
YAML
check_eq "apply create" "$(kx apply "${n[@]}" -f "$tmp/a.yaml")" "configmap/ap created"
check_eq "apply unchanged" "$(kx apply "${n[@]}" -f "$tmp/a.yaml")" "configmap/ap unchanged"
check_eq "last-applied" "$(kx get cm ap "${n[@]}" -o jsonpath='{.metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration}')" \
  "{\"apiVersion\":\"v1\",\"data\":{\"a\":\"1\",\"b\":\"2\"},\"kind\":\"ConfigMap\",\"metadata\":{\"annotations\":{},\"labels\":{\"tier\":\"web\"},\"name\":\"ap\",\"namespace\":\"$NS\"}}"
sed -i 's/b: "2"/c: "3"/' "$tmp/a.yaml"
check_eq "apply configured" "$(kx apply "${n[@]}" -f "$tmp/a.yaml")" "configmap/ap configured"
check_eq "apply removes dropped keys" "$(kx get cm ap "${n[@]}" -o jsonpath='{.data}')" '{"a":"1","c":"3"}'
check_eq "apply view-last-applied" "$(kx apply view-last-applied cm/ap "${n[@]}" -o json | tr -d ' \n')" \
  "{\"apiVersion\":\"v1\",\"data\":{\"a\":\"1\",\"c\":\"3\"},\"kind\":\"ConfigMap\",\"metadata\":{\"annotations\":{},\"labels\":{\"tier\":\"web\"},\"name\":\"ap\",\"namespace\":\"$NS\"}}"

# Server-side apply over a field that kubectl-create owns.
k create configmap ssa "${n[@]}" --from-literal=a=1 >/dev/null
cat >"$tmp/ssa.yaml" <<YAML
apiVersion: v1
kind: ConfigMap
metadata: {name: ssa}
data: {a: "2", b: "1"}
YAML
out=$(kx apply --server-side "${n[@]}" -f "$tmp/ssa.yaml")
check_eq "ssa conflict first line" "$(head -1 <<<"$out")" 'error: Apply failed with 1 conflict: conflict with "kubectl-create" using v1: .data.a'
check_match "ssa conflict help" "$out" '^  command with the `--force-conflicts` flag\.$'
check_match "ssa conflict rc" "$out" '^rc=1$'
check_eq "ssa conflict changed nothing" "$(kx get cm ssa "${n[@]}" -o jsonpath='{.data}')" '{"a":"1"}'
check_eq "ssa --force-conflicts" "$(kx apply --server-side --force-conflicts "${n[@]}" -f "$tmp/ssa.yaml")" "configmap/ssa serverside-applied"
check_eq "ssa result" "$(kx get cm ssa "${n[@]}" -o jsonpath='{.data}')" '{"a":"2","b":"1"}'
check_match "ssa managers" "$(kx get cm ssa "${n[@]}" --show-managed-fields -o jsonpath='{range .metadata.managedFields[*]}{.manager}/{.operation}/{.fieldsType} {end}')" \
  '^kubectl/Apply/FieldsV1 '
check_eq "ssa again" "$(kx apply --server-side "${n[@]}" -f "$tmp/ssa.yaml")" "configmap/ssa serverside-applied"
check_eq "ssa create" "$(sed 's/name: ssa/name: ssa2/' "$tmp/ssa.yaml" | kx apply --server-side --field-manager=alice "${n[@]}" -f -)" "configmap/ssa2 serverside-applied"
out=$(sed 's/a: "2"/a: "9"/; s/name: ssa/name: ssa2/' "$tmp/ssa.yaml" | kx apply --server-side --field-manager=bob "${n[@]}" -f -)
check_eq "ssa conflict between appliers" "$(head -1 <<<"$out")" 'error: Apply failed with 1 conflict: conflict with "alice": .data.a'

# --- replace -----------------------------------------------------------------------------
k get cm ap "${n[@]}" -o yaml >"$tmp/ap.yaml"
sed 's/a: "1"/a: "10"/' "$tmp/ap.yaml" >"$tmp/ap2.yaml"
check_eq "replace" "$(kx replace "${n[@]}" -f "$tmp/ap2.yaml")" "configmap/ap replaced"
check_eq "replace value" "$(kx get cm ap "${n[@]}" -o jsonpath='{.data.a}')" "10"
check_eq "replace stale resourceVersion" "$(kx replace "${n[@]}" -f "$tmp/ap.yaml")" \
'Error from server (Conflict): error when replacing "'"$tmp"'/ap.yaml": Operation cannot be fulfilled on configmaps "ap": the object has been modified; please apply your changes to the latest version and try again
rc=1'
grep -v resourceVersion "$tmp/ap.yaml" >"$tmp/ap3.yaml"
check_eq "replace without resourceVersion" "$(kx replace "${n[@]}" -f "$tmp/ap3.yaml")" "configmap/ap replaced"
check_eq "replace missing" "$(sed 's/name: ap$/name: nope/' "$tmp/ap3.yaml" | kx replace "${n[@]}" -f -)" \
'Error from server (NotFound): error when replacing "STDIN": configmaps "nope" not found
rc=1'
check_eq "replace --force" "$(kx replace --force "${n[@]}" -f "$tmp/ap3.yaml")" 'configmap "ap" deleted
configmap/ap replaced'

# --- delete and propagation --------------------------------------------------------------
check_eq "delete" "$(kx delete cm w1 "${n[@]}")" 'configmap "w1" deleted'
check_eq "delete missing" "$(kx delete cm w1 "${n[@]}")" \
'Error from server (NotFound): configmaps "w1" not found
rc=1'
check_eq "delete --ignore-not-found" "$(kx delete cm w1 "${n[@]}" --ignore-not-found)" ""
for p in orphan foreground; do
  cat <<YAML | k apply "${n[@]}" -f - >/dev/null
apiVersion: v1
kind: ConfigMap
metadata: {name: del-$p, finalizers: [e2e.ckube.io/hold]}
YAML
  check_eq "delete --cascade=$p" "$(kx delete cm "del-$p" "${n[@]}" --cascade=$p --wait=false)" "configmap \"del-$p\" deleted"
done
check_eq "orphan finalizer" "$(kx get cm del-orphan "${n[@]}" -o jsonpath='{.metadata.finalizers} {.metadata.deletionGracePeriodSeconds}')" \
  '["e2e.ckube.io/hold","orphan"] 0'
check_eq "foreground finalizer" "$(kx get cm del-foreground "${n[@]}" -o jsonpath='{.metadata.finalizers}')" \
  '["e2e.ckube.io/hold","foregroundDeletion"]'
check_match "deletionTimestamp set" "$(kx get cm del-orphan "${n[@]}" -o jsonpath='{.metadata.deletionTimestamp}')" '^20[0-9-]+T[0-9:]+Z$'
check_eq "update of a terminating object cannot add finalizers" \
  "$(kx patch cm del-foreground "${n[@]}" --type=merge -p '{"metadata":{"finalizers":["e2e.ckube.io/hold","foregroundDeletion","x.io/y"]}}')" \
'The ConfigMap "del-foreground" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"x.io/y"}
rc=1'
check_eq "finalizer removal completes deletion" \
  "$(kx patch cm del-foreground "${n[@]}" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null; kx get cm del-foreground "${n[@]}")" \
'Error from server (NotFound): configmaps "del-foreground" not found
rc=1'
check_eq "delete -l" "$(kx delete cm "${n[@]}" -l tier=web)" 'configmap "ap" deleted'
check_eq "delete --all dry-run" "$(kx delete cm "${n[@]}" --all --dry-run=server | grep -c 'deleted (server dry run)')" "$(kx get cm "${n[@]}" -o name | grep -c .)"

finish
