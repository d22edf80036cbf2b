#!/usr/bin/env bash
# API server benchmark: starts `ckube server` on a temporary data directory and a free
# loopback port, drives it with `ckube bench api`, and in the same run measures the raw
# SQLite reference (one fsync'd insert per transaction, bench/store_bench.c) on the same
# disk. With ETCD=1 it repeats the API run against a 3-member etcd cluster.
#
# Usage: bench/api.sh [BUILD_DIR]          (default build; nothing is built but the small
#                                          store_bench reference, from BUILD_DIR/libckube.a)
# Environment:
#   CKUBE         the ckube binary (default BUILD_DIR/ckube)
#   CKUBE_BENCH   the binary that runs `bench api` (default CKUBE)
#   CLIENTS=16 OBJECTS=10000 PODS=1000 WATCHERS=1000 WATCH_RATE=20 WATCH_DURATION=10
#   DURATION=60   time limit of each load phase, seconds
#   ETCD=1        also run against etcd (needs the etcd binary)
#   SKIP_STORE=1  skip the raw SQLite reference
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
ckube=${CKUBE:-$build/ckube}
[ -x "$ckube" ] || { echo "bench/api.sh: $ckube not found (make $build/ckube first)" >&2; exit 2; }

ckube_bench=${CKUBE_BENCH:-$ckube}

tmp=$(mktemp -d /tmp/ckube-bench-api-XXXXXX)
server_pid=""
etcd_dir=""
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ -n "$etcd_dir" ] && [ -f "$etcd_dir/pids" ]; then
    while read -r p; do kill "$p" 2>/dev/null || true; done <"$etcd_dir/pids"
    while read -r p; do while kill -0 "$p" 2>/dev/null; do sleep 0.1; done; done <"$etcd_dir/pids"
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_server DATA_DIR [server flags...]: sets server_pid, kubeconfig
start_server() {
  local dir=$1; shift
  local port; port=$(free_port)
  mkdir -p "$dir"
  # The API server alone, as the reference measured kube-apiserver: the controller manager
  # and scheduler would otherwise cache every benchmark object in the same process.
  "$ckube" server --data-dir "$dir" --bind-address 127.0.0.1 --https-listen-port "$port" \
    --disable-agent --disable-controller-manager --disable-scheduler "$@" >"$dir/server.log" 2>&1 &
  server_pid=$!
  kubeconfig=$dir/kubeconfig.yaml
  for _ in $(seq 1 100); do
    grep -q 'serving on' "$dir/server.log" 2>/dev/null && [ -s "$kubeconfig" ] && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "bench/api.sh: server did not start" >&2
  cat "$dir/server.log" >&2
  exit 1
}

stop_server() {
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

run_bench() {
  # Let the server settle so "idle" is idle.
  sleep 2
  "$ckube_bench" bench api --kubeconfig "$kubeconfig" --server-pid "$server_pid" \
    --clients "${CLIENTS:-16}" --objects "${OBJECTS:-10000}" --pods "${PODS:-1000}" \
    --duration "${DURATION:-60}" --watchers "${WATCHERS:-1000}" \
    --watch-rate "${WATCH_RATE:-20}" --watch-duration "${WATCH_DURATION:-10}" || status=1
}

status=0
echo "== machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo)," \
  "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(uname -sr)"
echo "== data dir on: $(df -P "$tmp" | awk 'NR==2 {print $1}') ($(stat -f -c %T "$tmp"))"
echo
echo "== ckube server, SQLite"
start_server "$tmp/sqlite"
run_bench
stop_server

if [ "${SKIP_STORE:-0}" != 1 ]; then
  echo
  echo "== store reference, same disk (bench/store_bench.c)"
  if [ -f "$build/libckube.a" ]; then
    read -ra libs < <(pkg-config --libs sqlite3 libcurl jansson)
    cc -O2 -D_GNU_SOURCE -Isrc bench/store_bench.c "$build/libckube.a" "${libs[@]}" -lpthread \
      -o "$tmp/store_bench"
    "$tmp/store_bench" 64 20000 "$tmp" || status=1
  else
    echo "skipped: $build/libckube.a not found"
  fi
fi

if [ "${ETCD:-0}" = 1 ]; then
  echo
  echo "== ckube server, 3-member etcd ($(etcd --version 2>/dev/null | head -1))"
  etcd_dir=$tmp/etcd
  endpoints=$(tests/e2e/etcd-cluster.sh "$etcd_dir")
  start_server "$tmp/etcd-server" --datastore-endpoint "$endpoints"
  run_bench
  stop_server
fi
exit $status
