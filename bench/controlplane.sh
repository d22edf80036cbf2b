#!/usr/bin/env bash
# Control-plane benchmarks on one machine, SQLite store, every component its own process
# so each one's memory can be reported:
#   ckube server --disable-controller-manager --disable-scheduler   (the API server)
#   ckube controller-manager, ckube scheduler                        (with --kubeconfig)
#   ckube agent --hollow --count N                                   (hollow nodes)
# Phases (each on a fresh data directory):
#   1. scheduler: SCHED_PODS pods onto SCHED_NODES hollow nodes, pods/s first bind to last;
#   2. deployment: one Deployment of DEPLOY_REPLICAS replicas, create → all available;
#   3. hold: HOLD_NODES nodes and HOLD_PODS pods (Deployments of 1,000), then `ckube bench
#      api` against the loaded API server for its latencies.
# Prints each process's resident memory (now and peak) after each phase.
#
# Usage: bench/controlplane.sh [BUILD_DIR]   Environment: PHASES="scheduler deployment hold"
#   SCHED_NODES=5000 SCHED_PODS=10000 DEPLOY_NODES=1000 DEPLOY_REPLICAS=3000
#   HOLD_NODES=1000 HOLD_PODS=30000
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
ckube=$(realpath "${CKUBE:-$build/ckube}")
phases=${PHASES:-"scheduler deployment hold"}
tmp=$(mktemp -d /tmp/ckube-bench-cp-XXXXXX)
declare -A pids=()
stop_all() {
  local n
  for n in agent scheduler controller-manager server; do
    [ -n "${pids[$n]:-}" ] || continue
    kill "${pids[$n]}" 2>/dev/null || true; wait "${pids[$n]}" 2>/dev/null || true
    unset "pids[$n]"
  done
}
trap 'stop_all; rm -rf "$tmp"' EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
mem() { # PID → "RSS now / peak" in MiB, and CPU time used so far
  local cpu
  cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$1/stat")
  awk -v cpu="$cpu" '/^VmRSS/{r=$2} /^VmHWM/{h=$2} END{printf "%.0f MiB now, %.0f MiB peak, %s s CPU", r/1024, h/1024, cpu}' "/proc/$1/status"
}
report_mem() {
  local n
  for n in server controller-manager scheduler agent; do
    [ -n "${pids[$n]:-}" ] && printf '  %-19s %s\n' "$n" "$(mem "${pids[$n]}")"
  done
}

# cluster_up NODES [no-scheduler]: a fresh API server, controllers, scheduler and NODES
# hollow nodes.
cluster_up() {
  local dir=$tmp/$1-$RANDOM port
  port=$(free_port)
  mkdir -p "$dir"
  "$ckube" server --data-dir "$dir" --https-listen-port "$port" --disable-agent \
    --disable-controller-manager --disable-scheduler >"$dir/server.log" 2>&1 &
  pids[server]=$!
  kubeconfig=$dir/kubeconfig.yaml
  for _ in $(seq 1 100); do [ -f "$kubeconfig" ] && break; sleep 0.1; done
  "$ckube" controller-manager --kubeconfig "$kubeconfig" --data-dir "$dir" >"$dir/cm.log" 2>&1 &
  pids[controller-manager]=$!
  [ "${2:-}" = no-scheduler ] || start_scheduler
  "$ckube" agent --hollow --count "$1" --kubeconfig "$kubeconfig" >"$dir/agent.log" 2>&1 &
  pids[agent]=$!
}

start_scheduler() {
  "$ckube" scheduler --kubeconfig "$kubeconfig" >"$tmp/sched-$RANDOM.log" 2>&1 &
  pids[scheduler]=$!
}

for phase in $phases; do
  case $phase in
  scheduler)
    # As kube's scheduler_perf measures it: the pods exist before the scheduler starts,
    # and the figure is pods/s from the first bind to the last.
    cluster_up "${SCHED_NODES:-5000}" no-scheduler
    echo "== scheduler: ${SCHED_PODS:-10000} pods onto ${SCHED_NODES:-5000} hollow nodes"
    "$ckube" bench scheduler --kubeconfig "$kubeconfig" --nodes "${SCHED_NODES:-5000}" \
      --pods "${SCHED_PODS:-10000}" --clients 16 >"$tmp/sched.out" 2>&1 &
    bench_pid=$!
    until grep -q '^created' "$tmp/sched.out" || ! kill -0 $bench_pid 2>/dev/null; do sleep 0.2; done
    start_scheduler
    wait $bench_pid || true
    cat "$tmp/sched.out"
    report_mem
    stop_all
    ;;
  deployment)
    cluster_up "${DEPLOY_NODES:-1000}"
    echo "== deployment: ${DEPLOY_REPLICAS:-3000} replicas on ${DEPLOY_NODES:-1000} hollow nodes"
    "$ckube" bench deployment --kubeconfig "$kubeconfig" --nodes "${DEPLOY_NODES:-1000}" \
      --replicas "${DEPLOY_REPLICAS:-3000}" --namespace bench-deploy || true
    report_mem
    stop_all
    ;;
  hold)
    nodes=${HOLD_NODES:-1000} total=${HOLD_PODS:-30000}
    cluster_up "$nodes"
    echo "== hold: $nodes hollow nodes and $total pods"
    export KUBECONFIG=$kubeconfig
    for _ in $(seq 1 600); do
      [ "$(kubectl get nodes --no-headers 2>/dev/null | grep -c ' Ready')" -ge "$nodes" ] && break; sleep 1
    done
    kubectl create namespace hold >/dev/null
    t0=$SECONDS
    for i in $(seq 1 $((total / 1000))); do
      kubectl -n hold create deployment "d$i" --image=busybox --replicas=1000 >/dev/null
    done
    for _ in $(seq 1 1800); do
      running=$(kubectl get pods -n hold --field-selector status.phase=Running --no-headers 2>/dev/null | wc -l)
      [ "$running" -ge "$total" ] && break; sleep 2
    done
    echo "  $running pods Running after $((SECONDS - t0)) s"
    report_mem
    echo "  API latencies with the cluster loaded:"
    "$ckube" bench api --kubeconfig "$kubeconfig" --clients 8 --objects 2000 --pods 200 \
      --watchers 100 --server-pid "${pids[server]}" | sed 's/^/  /' || true
    report_mem
    stop_all
    ;;
  esac
done
