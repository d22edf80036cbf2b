#!/usr/bin/env bash
# What goes wrong, and exactly how kube-apiserver 1.32 words it through kubectl.
. "$(dirname "$0")/lib.sh"
setup_ns
n=(-n "$NS")
tmp=$(mktemp -d /tmp/e2e-errors.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mk() { kx create "${n[@]}" -f - "$@"; }

# --- names, labels, types ----------------------------------------------------------------
check_eq "invalid name (create -f)" "$(printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\n' | mk)" \
"The ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')
rc=1"
check_eq "invalid name (generator)" "$(kx create configmap Bad_Name "${n[@]}")" \
"error: failed to create configmap: ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')
rc=1"
check_eq "invalid label value" "$(printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lv, labels: {a: -bad-}}\n' | mk)" \
"The ConfigMap \"lv\" is invalid: metadata.labels: Invalid value: \"-bad-\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')
rc=1"
check_eq "invalid label key" "$(printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lk, labels: {"a b": x}}\n' | mk)" \
"The ConfigMap \"lk\" is invalid: metadata.labels: Invalid value: \"a b\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')
rc=1"
check_eq "invalid data key" "$(printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dk}\ndata: {"a b": x}\n' | mk)" \
"The ConfigMap \"dk\" is invalid: data[a b]: Invalid value: \"a b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')
rc=1"
check_eq "wrong type" "$(printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: wt}\ndata: {a: 1}\n' | mk)" \
'Error from server (BadRequest): error when creating "STDIN": ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type string
rc=1'
check_eq "wrong nested type" "$(printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: wt}\nspec:\n  containers: [{name: c, image: busybox, ports: [{containerPort: http}]}]\n' | mk)" \
'Error from server (BadRequest): error when creating "STDIN": Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32
rc=1'
check_eq "pod without containers" "$(printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: nc}\nspec: {}\n' | mk)" \
'The Pod "nc" is invalid: spec.containers: Required value
rc=1'
check_eq "several field errors" "$(printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: se}\nspec:\n  containers: [{name: Bad}]\n' | mk)" \
"The Pod \"se\" is invalid: 
* spec.containers[0].name: Invalid value: \"Bad\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')
* spec.containers[0].image: Required value
rc=1"
check_eq "deployment selector mismatch" \
  "$(printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: sm}\nspec:\n  selector: {matchLabels: {app: x}}\n  template:\n    metadata: {labels: {app: yy}}\n    spec: {containers: [{name: c, image: busybox}]}\n' | mk)" \
'The Deployment "sm" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"yy"}: `selector` does not match template `labels`
rc=1'
check_eq "service port out of range" "$(printf 'apiVersion: v1\nkind: Service\nmetadata: {name: sp}\nspec:\n  ports: [{port: 70000}]\n' | mk)" \
'The Service "sp" is invalid: 
* spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive
* spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive
rc=1'
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: im}\nimmutable: true\ndata: {a: "1"}\n' | k create "${n[@]}" -f - >/dev/null
check_eq "immutable configmap" "$(kx patch cm im "${n[@]}" -p '{"data":{"a":"2"}}')" \
'The ConfigMap "im" is invalid: data: Forbidden: field is immutable when `immutable` is set
rc=1'

# --- field validation --------------------------------------------------------------------
uf='apiVersion: v1\nkind: ConfigMap\nmetadata: {name: uf%s, foo: 1}\ndata: {a: "1"}\nspec: {}\n'
check_eq "unknown fields, --validate=strict" "$(printf "$uf" 1 | mk --validate=strict)" \
'Error from server (BadRequest): error when creating "STDIN": ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "metadata.foo", unknown field "spec"
rc=1'
check_eq "unknown fields, default is strict" "$(printf "$uf" 1 | mk)" \
'Error from server (BadRequest): error when creating "STDIN": ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "metadata.foo", unknown field "spec"
rc=1'
check_eq "unknown fields, --validate=warn" "$(printf "$uf" 2 | mk --validate=warn)" \
'Warning: unknown field "metadata.foo"
Warning: unknown field "spec"
configmap/uf2 created'
check_eq "unknown fields, --validate=ignore" "$(printf "$uf" 3 | mk --validate=ignore)" "configmap/uf3 created"
check_eq "unknown fields, --validate=false" "$(printf "$uf" 4 | mk --validate=false)" "configmap/uf4 created"
check_eq "unknown fields dropped" "$(kx get cm uf3 "${n[@]}" -o json | grep -c -E '"(foo|spec)"')" "0"
# kubectl patch sends no fieldValidation, so kube-apiserver's default (Warn) applies.
check_eq "unknown field in patch, warned" "$(kx patch cm uf3 "${n[@]}" --type=merge -p '{"spec":{"x":1}}')" \
'Warning: unknown field "spec"
configmap/uf3 patched (no change)'

# --- sizes -------------------------------------------------------------------------------
python3 - "$tmp" <<'PY'
import sys
d = sys.argv[1]
for name, size in (("big", 1536 * 1024), ("huge", 4 * 1024 * 1024)):
    with open(f"{d}/{name}.json", "w") as f:
        f.write('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"%s"},"data":{"k":"%s"}}' % (name, "x" * size))
PY
# The size error refers to the whole object, whose field path prints as "[]".
check_eq "1.5 MiB configmap" "$(kx create "${n[@]}" -f "$tmp/big.json")" \
'The ConfigMap "big" is invalid: []: Too long: may not be more than 1048576 bytes
rc=1'
check_eq "4 MiB configmap" "$(kx create "${n[@]}" -f "$tmp/huge.json")" \
"Error from server (RequestEntityTooLarge): error when creating \"$tmp/huge.json\": Request entity too large: limit is 3145728
rc=1"
check_eq "nothing stored" "$(kx get cm big huge "${n[@]}" -o name --ignore-not-found)" ""

# --- malformed input ---------------------------------------------------------------------
out=$(printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [\n' | mk)
check_match "malformed YAML" "$out" '^error: error parsing STDIN: error converting YAML to JSON: yaml: line '
out=$(printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"mj"},' >"$tmp/bad.json"; kx create --raw "/api/v1/namespaces/$NS/configmaps" -f "$tmp/bad.json")
check_match "malformed JSON body" "$out" '^Error from server \(BadRequest\): '
out=$(printf '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"km"}}' >"$tmp/km.json"; kx create --raw "/api/v1/namespaces/$NS/configmaps" -f "$tmp/km.json")
check_match "kind mismatch in body" "$out" '^Error from server \(BadRequest\): '
check_no_match "kind mismatch in body is a Status" "$out" 'unknown reason'
check_eq "namespace mismatch" "$(printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: nm, namespace: other}\n' | mk)" \
"error: the namespace from the provided object \"other\" does not match the namespace \"$NS\". You must pass '--namespace=other' to perform this operation.
rc=1"

# --- not found, already exists, conflicts ------------------------------------------------
check_eq "missing namespace" "$(kx create configmap x -n "$NS-missing")" \
"error: failed to create configmap: namespaces \"$NS-missing\" not found
rc=1"
check_eq "missing namespace (create -f)" "$(printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n' | kx create -n "$NS-missing" -f -)" \
"Error from server (NotFound): error when creating \"STDIN\": namespaces \"$NS-missing\" not found
rc=1"
check_eq "list in missing namespace" "$(kx get cm -n "$NS-missing")" "No resources found in $NS-missing namespace."
check_eq "get missing" "$(kx get cm nope "${n[@]}")" \
'Error from server (NotFound): configmaps "nope" not found
rc=1'
check_eq "get missing deployment" "$(kx get deploy nope "${n[@]}")" \
'Error from server (NotFound): deployments.apps "nope" not found
rc=1'
check_eq "get missing namespace" "$(kx get ns "$NS-missing")" \
"Error from server (NotFound): namespaces \"$NS-missing\" not found
rc=1"
check_eq "unknown resource type" "$(kx get foos)" \
'error: the server doesn'"'"'t have a resource type "foos"
rc=1'
check_eq "unknown path" "$(kx get --raw /api/v1/nope)" \
'Error from server (NotFound): the server could not find the requested resource
rc=1'
check_eq "already exists (create -f)" "$(printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: im}\n' | mk)" \
'Error from server (AlreadyExists): error when creating "STDIN": configmaps "im" already exists
rc=1'
check_eq "stale --resource-version" "$(kx label cm im "${n[@]}" x=y --resource-version=1)" \
'Error from server (Conflict): Operation cannot be fulfilled on configmaps "im": the object has been modified; please apply your changes to the latest version and try again
rc=1'
check_eq "generateName" "$(printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: gen-}\n' | mk -o name | sed -E 's/gen-[a-z0-9]{5}$/gen-XXXXX/')" "configmap/gen-XXXXX"
check_eq "neither name nor generateName" "$(printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {labels: {a: b}}\n' | mk)" \
'The ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required
rc=1'

# --- a namespace being deleted -----------------------------------------------------------
term="$NS-term"
k create namespace "$term" >/dev/null
# A finalizer that nothing removes keeps the namespace Terminating even once a namespace
# controller empties it.
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: hold, finalizers: [e2e.ckube.io/hold]}\n' | k create -n "$term" -f - >/dev/null
check_eq "delete namespace" "$(kx delete namespace "$term" --wait=false)" "namespace \"$term\" deleted"
check_eq "namespace Terminating" "$(kx get ns "$term" | mask_age)" \
"NAME STATUS AGE
$term Terminating <age>"
check_eq "create in Terminating namespace" "$(kx create configmap y -n "$term")" \
"error: failed to create configmap: configmaps \"y\" is forbidden: unable to create new content in namespace $term because it is being terminated
rc=1"
check_eq "create -f in Terminating namespace" "$(printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: yy}\n' | kx create -n "$term" -f -)" \
"Error from server (Forbidden): error when creating \"STDIN\": configmaps \"yy\" is forbidden: unable to create new content in namespace $term because it is being terminated
rc=1"
check_eq "delete Terminating namespace again" "$(kx delete namespace "$term" --wait=false)" \
"Error from server (Conflict): Operation cannot be fulfilled on namespaces \"$term\": The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.
rc=1"
check_eq "updates still allowed in Terminating namespace" "$(kx label cm hold -n "$term" a=b)" "configmap/hold labeled"
check_eq "delete default namespace" "$(kx delete namespace default --dry-run=server)" \
'Error from server (Forbidden): namespaces "default" is forbidden: this namespace may not be deleted
rc=1'

finish
