#!/usr/bin/env bash
# StatefulSet controller, end to end: a server of its own, no nodes and no scheduler; each
# pod is marked Running/Ready through the status subresource where a kubelet would, at the
# moment the test chooses, because OrderedReady and the partitioned rolling update are
# about what the controller does while a pod is not yet Ready (hollow nodes would make
# every pod Ready at once). Usage: ctl_statefulset.sh [path/to/ckube]
source "$(dirname "$0")/cluster-lib.sh"
set +e
cluster_up --disable-scheduler

# Plays the kubelet for one pod: Running and Ready.
make_ready() {
  k patch pod "$1" --subresource=status --type=merge -p \
    '{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2024-01-01T00:00:00Z"}]}}' >/dev/null 2>&1
}
pods() { k get pods -l app=nginx -o jsonpath='{range .items[*]}{.metadata.name}{" "}{end}'; }
revision_of() { k get pod "$1" -o jsonpath='{.metadata.labels.controller-revision-hash}'; }

k apply -f - >/dev/null <<'YAML'
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: nginx
  replicas: 3
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
  volumeClaimTemplates:
  - metadata:
      name: www
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests:
          storage: 1Gi
YAML

# OrderedReady: web-1 does not exist before web-0 is Ready.
wait_eq "web-0 created first" "web-0 " pods
sleep 1
check_eq "no web-1 while web-0 is not ready" "$(pods)" "web-0 "
check_eq "claim www-web-0 made with the pod" \
  "$(k get pvc www-web-0 -o jsonpath='{.metadata.name} {.metadata.labels.app}' 2>&1)" "www-web-0 nginx"
ident=$(k get pod web-0 -o jsonpath='{.spec.hostname} {.spec.subdomain} {.metadata.labels.statefulset\.kubernetes\.io/pod-name} {.metadata.labels.apps\.kubernetes\.io/pod-index} {.spec.volumes[0].persistentVolumeClaim.claimName}')
check_eq "pod identity" "$ident" "web-0 nginx web-0 0 www-web-0"
make_ready web-0
wait_eq "web-1 after web-0 is ready" "web-0 web-1 " pods
make_ready web-1
wait_eq "web-2 after web-1 is ready" "web-0 web-1 web-2 " pods
make_ready web-2
wait_eq "status: 3 ready" "3 3 3 3" \
  k get sts web -o jsonpath='{.status.replicas} {.status.readyReplicas} {.status.currentReplicas} {.status.updatedReplicas}'
check_eq "three claims" "$(k get pvc -o jsonpath='{range .items[*]}{.metadata.name}{" "}{end}')" \
  "www-web-0 www-web-1 www-web-2 "
out=$(k get sts web | mask_age)
check_eq "kubectl get sts" "$out" "NAME READY AGE
web 3/3 <age>"
ev=$(k get events --field-selector involvedObject.kind=StatefulSet -o jsonpath='{range .items[*]}{.reason}: {.message}{"\n"}{end}')
check_match "pod event" "$ev" '^SuccessfulCreate: create Pod web-0 in StatefulSet web successful$'
check_match "claim event" "$ev" '^SuccessfulCreate: create Claim www-web-0 Pod web-0 in StatefulSet web success$'

# Rolling update with partition 1: web-2 then web-1 move to the new revision, web-0 stays.
old=$(revision_of web-0)
k patch sts web --type=merge -p '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":1}}}}' >/dev/null
k set image sts/web nginx=nginx:1.26 >/dev/null
new=
for _ in $(seq 1 300); do
  new=$(k get sts web -o jsonpath='{.status.updateRevision}')
  [ -n "$new" ] && [ "$new" != "$old" ] && break
  sleep 0.2
done
check_match "new update revision" "$new" '^web-[a-z0-9]+$'
wait_eq "web-2 recreated at the new revision" "$new" revision_of web-2
check_eq "web-1 waits for web-2" "$(revision_of web-1)" "$old"
make_ready web-2
wait_eq "web-1 recreated at the new revision" "$new" revision_of web-1
make_ready web-1
sleep 1
check_eq "web-0 stays below the partition" "$(revision_of web-0)" "$old"
wait_eq "status after the partitioned update" "3 1 2 $old" \
  k get sts web -o jsonpath='{.status.readyReplicas} {.status.currentReplicas} {.status.updatedReplicas} {.status.currentRevision}'
out=$(k rollout status sts/web --timeout=30s 2>&1)
check_eq "rollout status" "$out" "partitioned roll out complete: 2 new pods have been updated..."

# Scale down removes the highest ordinal; claims stay (Retain).
k scale sts web --replicas=2 >/dev/null
wait_eq "scale down removes web-2" "web-0 web-1 " pods
check_eq "claims retained" "$(k get pvc -o jsonpath='{range .items[*]}{.metadata.name}{" "}{end}')" \
  "www-web-0 www-web-1 www-web-2 "
wait_eq "status after scale down" "2 2" k get sts web -o jsonpath='{.status.replicas} {.status.readyReplicas}'

finish
