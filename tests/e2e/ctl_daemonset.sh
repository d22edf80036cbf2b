#!/usr/bin/env bash
# DaemonSet controller, end to end: a server of its own, nodes as plain Node objects, and
# pods marked Running/Ready through the status subresource where a kubelet would, so the
# controller's decisions are checked alone. Usage: ctl_daemonset.sh [path/to/ckube]
here=$(cd "$(dirname "$0")" && pwd)
bin=$(realpath "${1:-build/ckube}")
KUBECTL=${KUBECTL:-kubectl}
source "$here/lib.sh"
set +e

work=$(mktemp -d /tmp/ckube-ctl-ds.XXXXXX)
server_pid=
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
export KUBECONFIG=$work/data/kubeconfig.yaml HOME=$work KUBECACHEDIR=$work/cache
"$bin" server --data-dir "$work/data" --https-listen-port "$port" --disable-agent \
  --disable-scheduler >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  [ -f "$KUBECONFIG" ] && curl -sk "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done

ok() { echo "ok - $1"; }
# wait_eq WHAT EXPECTED CMD...: polls CMD (up to 60 s) until it prints EXPECTED.
wait_eq() {
  local what=$1 want=$2 got
  shift 2
  for _ in $(seq 1 300); do
    got=$("$@" 2>&1)
    [ "$got" = "$want" ] && { ok "$what"; return 0; }
    sleep 0.2
  done
  echo "not ok - $what"
  check_report "$what" "" "$want" "$got"
  return 1
}
# The node a daemon pod is pinned to, per pod: "name node".
placement() {
  k get pods -l app=ssd-monitor -o jsonpath='{range .items[?(@.metadata.deletionTimestamp)]}{end}{range .items[*]}{.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].values[0]}{"\n"}{end}' | sort | tr '\n' ' '
}
# Plays the kubelet: every pod not yet Running becomes Running and Ready.
make_ready() {
  local p
  for p in $(k get pods -l app=ssd-monitor -o jsonpath='{range .items[*]}{.metadata.name}{"="}{.status.phase}{" "}{end}'); do
    [ "${p#*=}" = Running ] && continue
    k patch pod "${p%%=*}" --subresource=status --type=merge -p \
      '{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2024-01-01T00:00:00Z"}]}}' >/dev/null 2>&1
  done
  true
}

for n in node-a node-b node-c; do
  printf 'apiVersion: v1\nkind: Node\nmetadata:\n  name: %s\n' "$n" | k create -f - >/dev/null
done
k label node node-a disk=ssd >/dev/null
k apply -f "$examples/ssd-monitor-daemonset.yaml" >/dev/null

wait_eq "one daemon pod, on the ssd node" "node-a " placement
pod=$(k get pods -l app=ssd-monitor -o jsonpath='{.items[0].metadata.name}')
check_match "pod named after the DaemonSet" "$pod" '^ssd-monitor-[a-z0-9]{5}$'
tols=$(k get pod "$pod" -o jsonpath='{range .spec.tolerations[*]}{.key}:{.effect}{" "}{end}')
check_eq "daemon tolerations" "$tols" "node.kubernetes.io/not-ready:NoExecute node.kubernetes.io/unreachable:NoExecute node.kubernetes.io/disk-pressure:NoSchedule node.kubernetes.io/memory-pressure:NoSchedule node.kubernetes.io/pid-pressure:NoSchedule node.kubernetes.io/unschedulable:NoSchedule "
owner=$(k get pod "$pod" -o jsonpath='{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {.metadata.ownerReferences[0].controller}')
check_eq "owner reference" "$owner" "DaemonSet/ssd-monitor true"

make_ready
wait_eq "status counts one ready pod" "1 1 1 1 1" \
  k get ds ssd-monitor -o jsonpath='{.status.desiredNumberScheduled} {.status.currentNumberScheduled} {.status.numberReady} {.status.updatedNumberScheduled} {.status.numberAvailable}'
out=$(k get ds ssd-monitor | mask_age)
check_eq "kubectl get ds" "$out" "NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE
ssd-monitor 1 1 1 1 1 disk=ssd <age>"

k label node node-b disk=ssd >/dev/null
wait_eq "labelling a node adds a pod" "node-a node-b " placement
k label node node-a disk- >/dev/null
wait_eq "unlabelling a node removes its pod" "node-b " placement
make_ready
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
make_ready
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
