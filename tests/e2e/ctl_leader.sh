#!/usr/bin/env bash
# Leader election: two `ckube server`s on one 3-member etcd share the cluster; only one
# runs the controller manager and the scheduler (it holds their Leases). Killing it with
# -9 hands both to the other, which then does the work (a ReplicaSet scaled up gets its
# pods). The failover time is printed, not asserted.
source "$(dirname "$0")/cluster-lib.sh"
etcd_dir=$CLUSTER_DIR/etcd
endpoints=$("$here/etcd-cluster.sh" "$etcd_dir") || exit 1
stop_etcd() { "$here/etcd-stop.sh" "$etcd_dir"; }
trap 'rc=$?; set +e; cluster_cleanup_both; stop_etcd; (exit $rc); cluster_cleanup' EXIT INT TERM
pids=()
cluster_cleanup_both() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  return 0
}

start_server() { # NAME
  local port
  port=$(free_port)
  "$CKUBE_BIN" server --data-dir "$CLUSTER_DIR/$1" --https-listen-port "$port" --disable-agent \
    --datastore-endpoint "$endpoints" >"$CLUSTER_DIR/$1.log" 2>&1 &
  pids+=($!)
  local _
  for _ in $(seq 1 200); do
    curl -sk "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 && [ -f "$CLUSTER_DIR/$1/kubeconfig.yaml" ] && return 0
    sleep 0.1
  done
  echo "server $1 did not start" >&2; cat "$CLUSTER_DIR/$1.log" >&2; exit 1
}
holder() { k -n kube-system get lease "$1" -o jsonpath='{.spec.holderIdentity}' 2>/dev/null; }

start_server a
# The second server shares the first one's certificate authority, as servers of one
# cluster do, so one kubeconfig is good for both.
mkdir -p "$CLUSTER_DIR/b" && cp -r "$CLUSTER_DIR/a/tls" "$CLUSTER_DIR/b/tls"
export KUBECONFIG=$CLUSTER_DIR/a/kubeconfig.yaml
wait_for "server a holds the controller-manager lease" 30 bash -c "[ -n \"\$($KUBECTL -n kube-system get lease kube-controller-manager -o jsonpath='{.spec.holderIdentity}')\" ]"
leader_cm=$(holder kube-controller-manager)
leader_sched=$(holder kube-scheduler)
start_server b
sleep 3
check_eq "the first server keeps the controller-manager lease" "$(holder kube-controller-manager)" "$leader_cm"
check_eq "the first server keeps the scheduler lease" "$(holder kube-scheduler)" "$leader_sched"
check_match "b only waits for the lease" "$(cat "$CLUSTER_DIR/b.log")" "serving on"
check_no_match "b runs no controllers while a leads" "$(cat "$CLUSTER_DIR/b.log")" "kube-controller-manager started"

k create namespace le >/dev/null
k -n le apply -f - >/dev/null <<'YAML'
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: busybox}]}
YAML
wait_for "the leader's ReplicaSet controller creates 2 pods" 60 bash -c "[ \$($KUBECTL -n le get pods -l app=web -o name | wc -l) = 2 ]"

# The leader dies without handing anything back.
kill -KILL "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true
t0=$SECONDS
b_kubeconfig=$CLUSTER_DIR/b/kubeconfig.yaml
export KUBECONFIG=$b_kubeconfig
wait_for "server b takes the controller-manager lease" 60 bash -c "h=\$($KUBECTL -n kube-system get lease kube-controller-manager -o jsonpath='{.spec.holderIdentity}'); [ -n \"\$h\" ] && [ \"\$h\" != '$leader_cm' ]"
echo "controller-manager failover after $((SECONDS - t0)) s (lease 12 s)"
wait_for "server b takes the scheduler lease" 60 bash -c "h=\$($KUBECTL -n kube-system get lease kube-scheduler -o jsonpath='{.spec.holderIdentity}'); [ -n \"\$h\" ] && [ \"\$h\" != '$leader_sched' ]"
check_match "b started the controllers" "$(cat "$CLUSTER_DIR/b.log")" "kube-controller-manager started"
transitions=$(k -n kube-system get lease kube-controller-manager -o jsonpath='{.spec.leaseTransitions}')
check_eq "one lease transition" "$transitions" "1"
k -n le scale rs web --replicas=4 >/dev/null
wait_for "the new leader's ReplicaSet controller scales to 4" 60 bash -c "[ \$($KUBECTL -n le get pods -l app=web -o name | wc -l) = 4 ]"
finish
