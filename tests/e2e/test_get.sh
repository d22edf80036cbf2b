#!/usr/bin/env bash
# Reading: output formats, label and field selectors, sorting, all namespaces, watch,
# pagination and describe, as kubectl prints them against kube-apiserver 1.32.
. "$(dirname "$0")/lib.sh"
setup_ns
n=(-n "$NS")
mask_meta() {
  sed -E 's/(creationTimestamp: )"[^"]+"/\1<ts>/; s/(resourceVersion: )"[0-9]+"/\1<rv>/; s/(uid: )[0-9a-f-]{36}/\1<uid>/;
          s/("creationTimestamp": )"[^"]+"/\1<ts>/; s/("resourceVersion": )"[0-9]+"/\1<rv>/; s/("uid": )"[0-9a-f-]{36}"/\1<uid>/'
}

cat >"/tmp/e2e-get-$NS.yaml" <<YAML
apiVersion: v1
kind: ConfigMap
metadata: {name: a, labels: {set: s, app: web, tier: front, run: $NS}}
data: {num: "3"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: b, labels: {set: s, app: db, tier: back, run: $NS}}
data: {num: "1", m: "x"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c, labels: {set: s, app: web, run: $NS}}
data: {num: "2"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: d, labels: {set: s, run: $NS}}
YAML
trap 'rm -f /tmp/e2e-get-$NS.yaml /tmp/e2e-watch-$NS.out /tmp/e2e-watchev-$NS.out /tmp/e2e-bulk-$NS.yaml
      [ -z "${wpid:-}" ] || kill "$wpid" "${wpid2:-}" 2>/dev/null || true' EXIT
check_eq "create -f multi-doc" "$(kx create "${n[@]}" -f "/tmp/e2e-get-$NS.yaml")" \
"configmap/a created
configmap/b created
configmap/c created
configmap/d created"

# --- Output formats ----------------------------------------------------------------------
check_eq "get table" "$(kx get cm a b "${n[@]}" | mask_age)" \
"NAME DATA AGE
a 1 <age>
b 2 <age>"
check_eq "get -o wide" "$(kx get cm a "${n[@]}" -o wide | mask_age)" \
"NAME DATA AGE
a 1 <age>"
check_eq "get -o yaml" "$(kx get cm a "${n[@]}" -o yaml | mask_meta)" \
"apiVersion: v1
data:
  num: \"3\"
kind: ConfigMap
metadata:
  creationTimestamp: <ts>
  labels:
    app: web
    run: $NS
    set: s
    tier: front
  name: a
  namespace: $NS
  resourceVersion: <rv>
  uid: <uid>"
check_eq "get -o json" "$(kx get cm b "${n[@]}" -o json | mask_meta)" \
"{
    \"apiVersion\": \"v1\",
    \"data\": {
        \"m\": \"x\",
        \"num\": \"1\"
    },
    \"kind\": \"ConfigMap\",
    \"metadata\": {
        \"creationTimestamp\": <ts>,
        \"labels\": {
            \"app\": \"db\",
            \"run\": \"$NS\",
            \"set\": \"s\",
            \"tier\": \"back\"
        },
        \"name\": \"b\",
        \"namespace\": \"$NS\",
        \"resourceVersion\": <rv>,
        \"uid\": <uid>
    }
}"
check_eq "list -o yaml" "$(kx get cm -l app=db "${n[@]}" -o yaml | mask_meta | grep -vE '^    (creationTimestamp|resourceVersion|uid|labels|  [a-z]+):')" \
"apiVersion: v1
items:
- apiVersion: v1
  data:
    m: x
    num: \"1\"
  kind: ConfigMap
  metadata:
    name: b
    namespace: $NS
kind: List
metadata:
  resourceVersion: \"\""
check_eq "get -o name" "$(kx get cm -l set=s "${n[@]}" -o name)" \
"configmap/a
configmap/b
configmap/c
configmap/d"
check_eq "get -o jsonpath" \
  "$(kx get cm -l set=s "${n[@]}" -o jsonpath='{range .items[*]}{.metadata.name}={.data.num};{end}')" \
  "a=3;b=1;c=2;d=;"
check_eq "get -o jsonpath on one object" "$(kx get cm a "${n[@]}" -o jsonpath='{.kind} {.apiVersion} {.metadata.labels.tier}')" \
  "ConfigMap v1 front"
check_eq "get -o custom-columns" \
  "$(kx get cm -l set=s "${n[@]}" -o custom-columns=NAME:.metadata.name,APP:.metadata.labels.app,N:.data.num)" \
"NAME   APP      N
a      web      3
b      db       1
c      web      2
d      <none>   <none>"
check_eq "--show-labels" "$(kx get cm a d "${n[@]}" --show-labels | mask_age)" \
"NAME DATA AGE LABELS
a 1 <age> app=web,run=$NS,set=s,tier=front
d 0 <age> run=$NS,set=s"
check_eq "-L" "$(kx get cm -l set=s "${n[@]}" -L app,tier | mask_age)" \
"NAME DATA AGE APP TIER
a 1 <age> web front
b 2 <age> db back
c 1 <age> web
d 0 <age>"
check_eq "get missing among present" "$(kx get cm a nope "${n[@]}" | mask_age)" \
"NAME DATA AGE
a 1 <age>
Error from server (NotFound): configmaps \"nope\" not found
rc=1"

# --- Selectors ---------------------------------------------------------------------------
sel() { kx get cm "${n[@]}" -l "$1" -o jsonpath='{range .items[*]}{.metadata.name} {end}'; }
check_eq "-l equality" "$(sel set=s,app=web)" "a c "
check_eq "-l inequality" "$(sel 'set=s,app!=web')" "b d "
check_eq "-l in" "$(sel 'set=s,app in (web,db)')" "a b c "
check_eq "-l notin" "$(sel 'set=s,app notin (web)')" "b d "
check_eq "-l !key" "$(sel 'set=s,!tier')" "c d "
check_eq "-l key" "$(sel 'set=s,tier')" "a b "
check_eq "-l no match" "$(kx get cm "${n[@]}" -l 'app in (none)')" "No resources found in $NS namespace."
fsel() { kx get cm "${n[@]}" -l set=s --field-selector "$1" -o name; }
check_eq "--field-selector name" "$(fsel metadata.name=b)" "configmap/b"
check_eq "--field-selector name!=" "$(fsel 'metadata.name!=b,metadata.name!=c')" "configmap/a
configmap/d"
check_eq "--field-selector namespace" "$(fsel "metadata.namespace=$NS,metadata.name=a")" "configmap/a"
check_eq "raw labelSelector invalid" "$(kx get --raw "/api/v1/namespaces/$NS/configmaps?labelSelector=a%20b")" \
'Error from server (BadRequest): unable to parse requirement: found '"'"'b'"'"', expected: in, notin, =, ==, !=, gt, lt
rc=1'

# --- Sorting and all namespaces ----------------------------------------------------------
check_eq "--sort-by data" "$(kx get cm -l set=s,app "${n[@]}" --sort-by=.data.num -o name)" \
"configmap/b
configmap/c
configmap/a"
check_eq "--sort-by table" "$(kx get cm -l set=s,app "${n[@]}" --sort-by=.metadata.labels.tier | mask_age)" \
"NAME DATA AGE
c 1 <age>
b 2 <age>
a 1 <age>"
check_eq "-A" "$(kx get cm -A -l "run=$NS,tier" | mask_age)" \
"NAMESPACE NAME DATA AGE
$NS a 1 <age>
$NS b 2 <age>"
check_eq "-A -o name" "$(kx get cm -A -l "run=$NS,app=db" -o name)" "configmap/b"
check_eq "-A -o jsonpath" "$(kx get cm -A -l "run=$NS,app=db" -o jsonpath='{.items[0].metadata.namespace}')" "$NS"

# --- Watch -------------------------------------------------------------------------------
wout=/tmp/e2e-watch-$NS.out
timeout 7 "$KUBECTL" get cm "${n[@]}" -l "set=s,app=db" -w >"$wout" 2>&1 &
wpid=$!
wev=/tmp/e2e-watchev-$NS.out
timeout 7 "$KUBECTL" get cm "${n[@]}" -l "set=s,app=db" -w --output-watch-events >"$wev" 2>&1 &
wpid2=$!
sleep 2.5
k create configmap e "${n[@]}" >/dev/null
k label cm e "${n[@]}" set=s app=db >/dev/null
k patch cm e "${n[@]}" -p '{"data":{"x":"1","y":"2"}}' >/dev/null
k label cm b "${n[@]}" app=other --overwrite >/dev/null
k delete cm e "${n[@]}" >/dev/null
wait "$wpid" "$wpid2" || true
wpid=
check_eq "get -w" "$(mask_age <"$wout")" \
"NAME DATA AGE
b 2 <age>
e 0 <age>
e 2 <age>
b 2 <age>
e 2 <age>"
# b leaves the selector when relabelled: a watch reports that as DELETED.
check_eq "get -w --output-watch-events" "$(mask_age <"$wev")" \
"EVENT NAME DATA AGE
ADDED b 2 <age>
ADDED e 0 <age>
MODIFIED e 2 <age>
DELETED b 2 <age>
DELETED e 2 <age>"
rm -f "$wout" "$wev"
k label cm b "${n[@]}" app=db --overwrite >/dev/null

# --- Pagination --------------------------------------------------------------------------
bulk=/tmp/e2e-bulk-$NS.yaml
for i in $(seq -w 1 40); do
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bulk-%s, labels: {bulk: "y"}}\ndata: {i: "%s"}\n---\n' "$i" "$i"
done >"$bulk"
k create "${n[@]}" -f "$bulk" >/dev/null
rm -f "$bulk"
expected_names=$(for i in $(seq -w 1 40); do echo "configmap/bulk-$i"; done)
check_eq "--chunk-size=7 -o name" "$(kx get cm "${n[@]}" -l bulk=y --chunk-size=7 -o name)" "$expected_names"
out=$(kx get cm "${n[@]}" -l bulk=y --chunk-size=7 -v=6)
check_eq "--chunk-size=7 requests" "$(grep -cE '(GET https://|url="https://)[^ ]*configmaps\?continue=' <<<"$out")" "5"
check_eq "--chunk-size=7 table" "$(grep -vE '^I[0-9]{4} ' <<<"$out" | mask_age | sed -n '1p;2p;41p;42p')" \
"NAME DATA AGE
bulk-01 1 <age>
bulk-40 1 <age>"
check_eq "--chunk-size=0" "$(kx get cm "${n[@]}" -l bulk=y --chunk-size=0 -o name)" "$expected_names"
page=$(kx get --raw "/api/v1/namespaces/$NS/configmaps?labelSelector=bulk%3Dy&limit=25")
cont=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["items"]), d["items"][-1]["metadata"]["name"]); print(d["metadata"]["continue"])' <<<"$page" 2>&1 || true)
check_eq "raw first page" "$(head -1 <<<"$cont")" "25 bulk-25"
page2=$(kx get --raw "/api/v1/namespaces/$NS/configmaps?labelSelector=bulk%3Dy&limit=25&continue=$(tail -1 <<<"$cont")")
check_eq "raw continued page" "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["items"]), d["items"][0]["metadata"]["name"], repr(d["metadata"].get("continue")), d["metadata"].get("remainingItemCount"))' <<<"$page2" 2>&1)" \
  "15 bulk-26 None None"
# Without selectors the server knows how many items remain.
check_match "raw page has remainingItemCount" "$(kx get --raw "/api/v1/namespaces/$NS/configmaps?limit=25")" '"remainingItemCount":[0-9]+'
check_match "raw bad continue" "$(kx get --raw "/api/v1/namespaces/$NS/configmaps?limit=5&continue=garbage")" \
  '^Error from server \(BadRequest\): .*continue'

# --- Workloads: wide output and describe -------------------------------------------------
check_eq "create deployment" "$(kx create deployment web "${n[@]}" --image=nginx:alpine --replicas=2)" \
  "deployment.apps/web created"
check_lines "get deploy" "$(kx get deploy web "${n[@]}" | mask_age)" \
"NAME READY UP-TO-DATE AVAILABLE AGE
web [0-2]/2 [0-2] [0-2] <age>"
check_lines "get deploy -o wide" "$(kx get deploy web "${n[@]}" -o wide | mask_age)" \
"NAME READY UP-TO-DATE AVAILABLE AGE CONTAINERS IMAGES SELECTOR
web [0-2]/2 [0-2] [0-2] <age> nginx nginx:alpine app=web"
cat <<YAML | k apply "${n[@]}" -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: p1, labels: {app: p}}
spec:
  containers:
  - {name: main, image: busybox, command: [sleep, "3600"]}
---
apiVersion: v1
kind: Service
metadata: {name: s1}
spec:
  selector: {app: p}
  ports: [{port: 80, targetPort: 8080, name: http}]
YAML
check_eq "field selector on pods" "$(kx get pods "${n[@]}" -l app=p --field-selector 'status.phase!=Failed,spec.restartPolicy=Always' -o name)" "pod/p1"
check_eq "field selector spec.nodeName" "$(kx get pods "${n[@]}" --field-selector 'spec.nodeName=nowhere' -o name)" ""

out=$(kx describe cm a "${n[@]}")
check_match "describe cm Name" "$out" '^Name: +a$'
check_match "describe cm Namespace" "$out" "^Namespace: +$NS\$"
check_match "describe cm Labels" "$out" '^Labels: +app=web$'
check_match "describe cm Labels cont." "$out" '^ +tier=front$'
check_match "describe cm Annotations" "$out" '^Annotations: +<none>$'
check_match "describe cm data" "$out" '^num:$'
check_match "describe cm Events" "$out" '^Events: +<none>$'

out=$(kx describe pod p1 "${n[@]}")
check_match "describe pod Name" "$out" '^Name: +p1$'
check_match "describe pod Priority" "$out" '^Priority: +0$'
check_match "describe pod Service Account" "$out" '^Service Account: +default$'
check_match "describe pod Labels" "$out" '^Labels: +app=p$'
check_match "describe pod Status" "$out" '^Status: +(Pending|Running)$'
check_match "describe pod container" "$out" '^  main:$'
check_match "describe pod Image" "$out" '^    Image: +busybox$'
check_match "describe pod Command" "$out" '^      sleep$'
check_match "describe pod QoS" "$out" '^QoS Class: +BestEffort$'
check_match "describe pod Tolerations" "$out" '^Tolerations: +node.kubernetes.io/not-ready:NoExecute op=Exists for 300s$'
check_match "describe pod mounts" "$out" '/var/run/secrets/kubernetes.io/serviceaccount from kube-api-access-[a-z0-9]{5} \(ro\)'

out=$(kx describe svc s1 "${n[@]}")
check_match "describe svc Selector" "$out" '^Selector: +app=p$'
check_match "describe svc Type" "$out" '^Type: +ClusterIP$'
check_match "describe svc IP Family Policy" "$out" '^IP Family Policy: +SingleStack$'
check_match "describe svc IP Families" "$out" '^IP Families: +IPv4$'
check_match "describe svc IP" "$out" '^IP: +[0-9.]+$'
check_match "describe svc Port" "$out" '^Port: +http +80/TCP$'
check_match "describe svc TargetPort" "$out" '^TargetPort: +8080/TCP$'
check_match "describe svc Session Affinity" "$out" '^Session Affinity: +None$'
# kubectl 1.27 does not print the traffic policy.
if kubectl_at_least 1.28; then
  check_match "describe svc Internal Traffic Policy" "$out" '^Internal Traffic Policy: +Cluster$'
fi

out=$(kx describe deploy web "${n[@]}")
check_match "describe deploy Selector" "$out" '^Selector: +app=web$'
check_match "describe deploy Replicas" "$out" '^Replicas: +2 desired \| [0-2] updated \| [0-2] total \| [0-2] available \| [0-2] unavailable$'
check_match "describe deploy StrategyType" "$out" '^StrategyType: +RollingUpdate$'
check_match "describe deploy MinReadySeconds" "$out" '^MinReadySeconds: +0$'
check_match "describe deploy RollingUpdateStrategy" "$out" '^RollingUpdateStrategy: +25% max unavailable, 25% max surge$'
check_match "describe deploy template image" "$out" '^    Image: +nginx:alpine$'

# Last, since a server that mishandles them may not survive: unsupported field labels.
check_eq "--field-selector unsupported" "$(kx get cm "${n[@]}" --field-selector foo=1)" \
"Error from server (BadRequest): Unable to find \"/v1, Resource=configmaps\" that match label selector \"\", field selector \"foo=1\": field label not supported: foo
rc=1"
check_eq "--field-selector unsupported dotted" "$(kx get cm "${n[@]}" --field-selector data.num=1)" \
"Error from server (BadRequest): Unable to find \"/v1, Resource=configmaps\" that match label selector \"\", field selector \"data.num=1\": field label not supported: data.num
rc=1"

finish
