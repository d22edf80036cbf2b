#!/usr/bin/env bash
# `kubectl create <generator>` (protobuf request bodies), dry runs, wait, discovery, explain
# and auth can-i.
. "$(dirname "$0")/lib.sh"
setup_ns
n=(-n "$NS")
tmp=$(mktemp -d /tmp/e2e-create.XXXXXX)
trap 'rm -rf "$tmp"; k delete priorityclass "pc-$NS" --ignore-not-found >/dev/null 2>&1 || true' EXIT

# --- generators --------------------------------------------------------------------------
check_eq "create configmap" "$(kx create configmap c1 "${n[@]}" --from-literal=a=1 --from-literal=b=2)" "configmap/c1 created"
check_eq "create secret generic" "$(kx create secret generic s1 "${n[@]}" --from-literal=user=admin)" "secret/s1 created"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/tls.key" -out "$tmp/tls.crt" -days 1 -subj /CN=e2e >/dev/null 2>&1
check_eq "create secret tls" "$(kx create secret tls t1 "${n[@]}" --cert="$tmp/tls.crt" --key="$tmp/tls.key")" "secret/t1 created"
check_eq "create secret docker-registry" \
  "$(kx create secret docker-registry r1 "${n[@]}" --docker-server=registry.local --docker-username=u --docker-password=p)" "secret/r1 created"
check_eq "get secrets" "$(kx get secrets "${n[@]}" s1 t1 r1 | mask_age)" \
"NAME TYPE DATA AGE
s1 Opaque 1 <age>
t1 kubernetes.io/tls 2 <age>
r1 kubernetes.io/dockerconfigjson 1 <age>"
check_eq "secret data is base64" "$(kx get secret s1 "${n[@]}" -o jsonpath='{.data.user}')" "YWRtaW4="
check_eq "create namespace" "$(kx create namespace "$NS-x")" "namespace/$NS-x created"
check_eq "namespace finalizers" "$(kx get ns "$NS-x" -o jsonpath='{.spec.finalizers} {.status.phase} {.metadata.labels.kubernetes\.io/metadata\.name}')" \
  "[\"kubernetes\"] Active $NS-x"
check_eq "create deployment" "$(kx create deployment d1 "${n[@]}" --image=busybox --replicas=2 -- sleep 3600)" "deployment.apps/d1 created"
check_eq "deployment defaults" \
  "$(kx get deploy d1 "${n[@]}" -o jsonpath='{.spec.strategy.type} {.spec.strategy.rollingUpdate.maxSurge} {.spec.strategy.rollingUpdate.maxUnavailable} {.spec.revisionHistoryLimit} {.spec.progressDeadlineSeconds} {.spec.selector.matchLabels.app} {.spec.template.spec.containers[0].command}')" \
  'RollingUpdate 25% 25% 10 600 d1 ["sleep","3600"]'
check_eq "create service clusterip" "$(kx create service clusterip cs1 "${n[@]}" --tcp=80:8080)" "service/cs1 created"
check_eq "create service nodeport" "$(kx create service nodeport np1 "${n[@]}" --tcp=81:8081)" "service/np1 created"
check_lines "get services" "$(kx get svc cs1 np1 "${n[@]}" | mask_age)" \
"NAME TYPE CLUSTER-IP EXTERNAL-IP PORT\\(S\\) AGE
cs1 ClusterIP [0-9.]+ <none> 80/TCP <age>
np1 NodePort [0-9.]+ <none> 81:3[0-9]{4}/TCP <age>"
check_eq "service selector" "$(kx get svc cs1 "${n[@]}" -o jsonpath='{.spec.selector.app} {.spec.ports[0].name} {.spec.ports[0].targetPort}')" "cs1 80-8080 8080"
k delete svc np1 "${n[@]}" >/dev/null 2>&1 || true
check_eq "create job" "$(kx create job j1 "${n[@]}" --image=busybox -- echo hi)" "job.batch/j1 created"
check_eq "create cronjob" "$(kx create cronjob cj1 "${n[@]}" --image=busybox --schedule='*/5 * * * *' -- echo hi)" "cronjob.batch/cj1 created"
check_eq "create job --from=cronjob" "$(kx create job j2 "${n[@]}" --from=cronjob/cj1)" "job.batch/j2 created"
check_eq "job from cronjob annotation" "$(kx get job j2 "${n[@]}" -o jsonpath='{.metadata.annotations.cronjob\.kubernetes\.io/instantiate} {.metadata.ownerReferences[0].kind}')" "manual CronJob"
check_eq "create role" "$(kx create role r1 "${n[@]}" --verb=get,list --resource=pods,deployments.apps)" "role.rbac.authorization.k8s.io/r1 created"
check_eq "role rules" "$(kx get role r1 "${n[@]}" -o jsonpath='{range .rules[*]}{.apiGroups}{.resources}{.verbs};{end}')" \
  '[""]["pods"]["get","list"];["apps"]["deployments"]["get","list"];'
check_eq "create rolebinding" "$(kx create rolebinding rb1 "${n[@]}" --role=r1 --user=alice --serviceaccount="$NS:sa1")" \
  "rolebinding.rbac.authorization.k8s.io/rb1 created"
check_lines "get rolebinding -o wide" "$(kx get rolebinding rb1 "${n[@]}" -o wide | mask_age)" \
"NAME ROLE AGE USERS GROUPS SERVICEACCOUNTS
rb1 Role/r1 <age> alice $NS/sa1"
check_eq "create serviceaccount" "$(kx create serviceaccount sa1 "${n[@]}")" "serviceaccount/sa1 created"
check_eq "get serviceaccount" "$(kx get sa sa1 "${n[@]}" | mask_age)" \
"NAME SECRETS AGE
sa1 0 <age>"
check_eq "create priorityclass" "$(kx create priorityclass "pc-$NS" --value=1000 --description=e2e)" \
  "priorityclass.scheduling.k8s.io/pc-$NS created"
check_eq "get priorityclass" "$(kx get pc "pc-$NS" | mask_age)" \
"NAME VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY
pc-$NS 1000 false <age> PreemptLowerPriority"
check_eq "create quota" "$(kx create quota q1 "${n[@]}" --hard=pods=10,configmaps=20)" "resourcequota/q1 created"
check_lines "get quota" "$(kx get quota q1 "${n[@]}" | mask_age)" \
"NAME AGE REQUEST LIMIT
q1 <age>( configmaps: [0-9]+/20, pods: [0-9]+/10)?"
check_eq "create pdb" "$(kx create pdb pdb1 "${n[@]}" --selector=app=x --min-available=1)" "poddisruptionbudget.policy/pdb1 created"
check_lines "get pdb" "$(kx get pdb pdb1 "${n[@]}" | mask_age)" \
"NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE
pdb1 1 N/A 0 <age>"
check_eq "create ingress" "$(kx create ingress ing1 "${n[@]}" --rule='foo.example.com/bar=svc1:8080')" "ingress.networking.k8s.io/ing1 created"
check_eq "ingress rule" "$(kx get ing ing1 "${n[@]}" -o jsonpath='{.spec.rules[0].host} {.spec.rules[0].http.paths[0].path} {.spec.rules[0].http.paths[0].pathType} {.spec.rules[0].http.paths[0].backend.service.name}:{.spec.rules[0].http.paths[0].backend.service.port.number}')" \
  "foo.example.com /bar Exact svc1:8080"

# --- dry runs ----------------------------------------------------------------------------
check_eq "create --dry-run=server" "$(kx create configmap dry "${n[@]}" --from-literal=a=1 --dry-run=server)" "configmap/dry created (server dry run)"
check_eq "dry-run=server stored nothing" "$(kx get cm dry "${n[@]}")" \
'Error from server (NotFound): configmaps "dry" not found
rc=1'
check_match "create --dry-run=server -o yaml has uid" "$(kx create configmap dry "${n[@]}" --from-literal=a=1 --dry-run=server -o yaml)" '^  uid: [0-9a-f-]{36}$'
check_eq "create --dry-run=client" "$(kx create configmap dry "${n[@]}" --from-literal=a=1 --dry-run=client)" "configmap/dry created (dry run)"
check_eq "dry-run=server on existing name" "$(kx create configmap c1 "${n[@]}" --from-literal=a=1 --dry-run=server)" \
'error: failed to create configmap: configmaps "c1" already exists
rc=1'
rv_before=$(kx get cm c1 "${n[@]}" -o jsonpath='{.metadata.resourceVersion}')
check_eq "label --dry-run=server" "$(kx label cm c1 "${n[@]}" x=y --dry-run=server)" "configmap/c1 labeled (server dry run)"
check_eq "dry-run left the object alone" "$(kx get cm c1 "${n[@]}" -o jsonpath='{.metadata.resourceVersion} {.metadata.labels}')" "$rv_before "
check_eq "apply --dry-run=server" "$(kx create configmap c9 --from-literal=a=1 --dry-run=client -o yaml | kx apply "${n[@]}" --dry-run=server -f -)" \
  "configmap/c9 created (server dry run)"

# --- wait --------------------------------------------------------------------------------
cat <<YAML | k apply "${n[@]}" -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: wp}
spec:
  nodeName: e2e-no-such-node
  containers: [{name: c, image: busybox}]
YAML
( sleep 1.5; k patch pod wp "${n[@]}" --subresource=status --type=merge \
    -p '{"status":{"conditions":[{"type":"Ready","status":"True"}]}}' >/dev/null 2>&1 ) &
check_eq "wait --for=condition" "$(kx wait --for=condition=Ready pod/wp "${n[@]}" --timeout=20s)" "pod/wp condition met"
check_eq "wait --for=jsonpath" "$(kx wait --for=jsonpath='{.spec.replicas}'=2 deploy/d1 "${n[@]}" --timeout=10s)" "deployment.apps/d1 condition met"
k create configmap gone "${n[@]}" >/dev/null
( sleep 1.5; k delete cm gone "${n[@]}" >/dev/null 2>&1 ) &
check_eq "wait --for=delete" "$(kx wait --for=delete cm/gone "${n[@]}" --timeout=20s)" "configmap/gone condition met"
check_eq "wait timeout" "$(kx wait --for=condition=Nope cm/c1 "${n[@]}" --timeout=1s)" \
'error: timed out waiting for the condition on configmaps/c1
rc=1'
wait
k delete pod wp "${n[@]}" --grace-period=0 --force >/dev/null 2>&1 || true

# --- discovery, explain, auth ------------------------------------------------------------
out=$(kx api-resources | mask_age)
check_match "api-resources header" "$out" '^NAME SHORTNAMES APIVERSION NAMESPACED KIND$'
for line in "pods po v1 true Pod" "namespaces ns v1 false Namespace" "deployments deploy apps/v1 true Deployment" \
  "cronjobs cj batch/v1 true CronJob" "ingresses ing networking.k8s.io/v1 true Ingress" \
  "customresourcedefinitions crd,crds apiextensions.k8s.io/v1 false CustomResourceDefinition" \
  "events ev events.k8s.io/v1 true Event" "leases coordination.k8s.io/v1 true Lease" \
  "bindings v1 true Binding" "roles rbac.authorization.k8s.io/v1 true Role"; do
  check_match "api-resources: $line" "$out" "^$line\$"
done
check_eq "api-resources --api-group=apps -o name" "$(kx api-resources --api-group=apps -o name)" \
"controllerrevisions.apps
daemonsets.apps
deployments.apps
replicasets.apps
statefulsets.apps"
check_match "api-resources --namespaced=false" "$(kx api-resources --namespaced=false -o name)" '^nodes$'
check_lines "api-resources -o wide" "$(kx api-resources -o wide | grep '^pods ' | tr -s ' ')" \
"pods po v1 true Pod create,delete,deletecollection,get,list,patch,update,watch all"
out=$(kx api-versions)
for v in v1 apps/v1 batch/v1 networking.k8s.io/v1 policy/v1 rbac.authorization.k8s.io/v1 autoscaling/v2 autoscaling/v1 \
  storage.k8s.io/v1 coordination.k8s.io/v1 discovery.k8s.io/v1 apiextensions.k8s.io/v1; do
  check_match "api-versions: $v" "$out" "^$v\$"
done
check_no_match "api-versions: no extensions/v1beta1" "$out" '^extensions/'

out=$(kx explain pod.spec.containers)
check_match "explain KIND" "$out" '^KIND: +Pod$'
check_match "explain VERSION" "$out" '^VERSION: +v1$'
check_match "explain description" "$(grep -A1 '^DESCRIPTION:$' <<<"$out")" '^    [A-Z]'
check_match "explain field image" "$out" '^  image	<string>$'
check_match "explain field name required" "$out" '^  name	<string> -required-$'
check_match "explain field ports" "$out" '^  ports	<\[\]ContainerPort>$'
out=$(kx explain deployment.spec.strategy)
check_match "explain deployment KIND" "$out" '^KIND: +Deployment$'
check_match "explain deployment GROUP" "$out" '^GROUP: +apps$'
check_match "explain deployment VERSION" "$out" '^VERSION: +v1$'
check_match "explain strategy rollingUpdate" "$out" '^  rollingUpdate	<RollingUpdateDeployment>$'
check_match "explain strategy type" "$out" '^  type	<string>$'
# kubectl prints the schema's enum values since 1.28 (older ones show only descriptions)
if kubectl_at_least 1.28; then
  check_match "explain strategy enum" "$out" 'Recreate, RollingUpdate'
fi
out=$(kx explain pod.spec.nope)
check_match "explain unknown field" "$out" '^error: field "nope" does not exist$'
check_match "explain unknown field rc" "$out" '^rc=1$'

check_eq "auth can-i create pods" "$(kx auth can-i create pods "${n[@]}")" "yes"
check_eq "auth can-i everything" "$(kx auth can-i '*' '*')" "yes"
check_eq "auth can-i subresource" "$(kx auth can-i get pods --subresource=log "${n[@]}")" "yes"

finish
