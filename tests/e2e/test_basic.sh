#!/usr/bin/env bash
# Discovery, namespaces, configmaps: the first things a user types.
. "$(dirname "$0")/lib.sh"

out=$(k version -o json)
expect_match "$out" '"gitVersion": "v1\.32\.' "server version"

out=$(k get ns default kube-system kube-public kube-node-lease -o name)
expect_eq "$out" "namespace/default
namespace/kube-system
namespace/kube-public
namespace/kube-node-lease" "built-in namespaces"

out=$(k get ns default | mask_age)
expect_eq "$out" "NAME STATUS AGE
default Active <age>" "get ns default"

out=$(k get svc kubernetes -n default -o jsonpath='{.spec.ports[0].port}')
expect_eq "$out" "443" "kubernetes service port"

setup_ns
out=$(k create configmap c1 -n "$NS" --from-literal=a=1 --from-literal=b=2)
expect_eq "$out" "configmap/c1 created"
out=$(k get cm c1 -n "$NS" -o jsonpath='{.data.a},{.data.b}')
expect_eq "$out" "1,2"
out=$(k get configmap -n "$NS" | mask_age)
expect_eq "$out" "NAME DATA AGE
c1 2 <age>
kube-root-ca.crt 1 <age>"

cat <<YAML | k apply -n "$NS" -f - >/dev/null
apiVersion: v1
kind: ConfigMap
metadata:
  name: c2
  labels: {tier: web}
data:
  k: v
YAML
out=$(cat <<YAML | k apply -n "$NS" -f -
apiVersion: v1
kind: ConfigMap
metadata:
  name: c2
  labels: {tier: web}
data:
  k: v
YAML
)
expect_eq "$out" "configmap/c2 unchanged" "apply unchanged"

out=$(k get cm -n "$NS" -l tier=web -o name)
expect_eq "$out" "configmap/c2" "label selector"
out=$(k get cm -n "$NS" -l 'tier in (web,db)' -o name)
expect_eq "$out" "configmap/c2" "set-based selector"
out=$(k get cm -n "$NS" --field-selector metadata.name=c1 -o name)
expect_eq "$out" "configmap/c1" "field selector"

out=$(expect_fail k get cm nope -n "$NS")
expect_eq "$out" 'Error from server (NotFound): configmaps "nope" not found'

out=$(expect_fail k create configmap c1 -n "$NS" --from-literal=a=1)
expect_eq "$out" 'error: failed to create configmap: configmaps "c1" already exists'

out=$(k label cm c1 -n "$NS" env=prod)
expect_eq "$out" "configmap/c1 labeled"
out=$(k get cm c1 -n "$NS" --show-labels | mask_age)
expect_eq "$out" "NAME DATA AGE LABELS
c1 2 <age> env=prod"

out=$(k delete cm c1 -n "$NS")
expect_eq "$out" 'configmap "c1" deleted'
