#!/usr/bin/env bash
# End-to-end tests: one real `ckube server` per run (SQLite in a temporary data dir, a
# free loopback port), driven by the real kubectl. Every tests/e2e/test_*.sh runs
# against it with each kubectl version in KUBECTL_VERSIONS (default: the dispatcher's
# 1.32, plus 1.27 and 1.33 when installed).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(realpath "${1:-build/ckube}")
shift || true
only=("$@")

work=$(mktemp -d /tmp/ckube-e2e.XXXXXX)
server_pid=
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

port=$(free_port)
export CKUBE_BIN=$bin CKUBE_DATA_DIR=$work/data CKUBE_PORT=$port
export KUBECONFIG=$work/data/kubeconfig.yaml KUBECACHEDIR=$work/kubecache HOME=$work/home
mkdir -p "$HOME"
# Under tests/e2e/with-etcd.sh the server stores in that etcd cluster instead of SQLite.
"$bin" server --data-dir "$CKUBE_DATA_DIR" --https-listen-port "$port" \
  ${ETCD_ENDPOINTS:+--datastore-endpoint "$ETCD_ENDPOINTS"} >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  [ -f "$KUBECONFIG" ] && curl -sk "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
if ! curl -sk "https://127.0.0.1:$port/readyz" >/dev/null 2>&1; then
  echo "server did not start:"; cat "$work/server.log"; echo "e2e: 0 passed, 1 failed"; exit 1
fi

versions=${KUBECTL_VERSIONS:-"1.32 1.27 1.33"}
# Every (kubectl version, test) pair runs as its own job, E2E_JOBS at a time; each uses
# its own namespace, so they share the one server safely.
jobs=()
for v in $versions; do
  if [ "$v" = 1.32 ]; then kc=$(command -v kubectl); else kc=/usr/lib/google-cloud-sdk/bin/kubectl.$v; fi
  [ -x "$kc" ] || { echo "skip kubectl $v: not installed"; continue; }
  for t in "$here"/test_*.sh; do
    name=$(basename "$t" .sh)
    if [ ${#only[@]} -gt 0 ] && [[ ! " ${only[*]} " =~ " $name " ]]; then continue; fi
    jobs+=("$v $kc $t")
  done
done
run_job() {
  local v=$1 kc=$2 t=$3 name log
  name=$(basename "$t" .sh)
  log=$work/$name-$v.log
  if KUBECTL=$kc KUBECTL_VERSION=$v NS="e2e-${name#test_}-${v/./-}" \
     KUBECACHEDIR=$work/kubecache-$v-$name timeout 300 bash "$t" >"$log" 2>&1; then
    echo "PASS $name (kubectl $v)"
  else
    echo "FAIL $name (kubectl $v)"; sed 's/^/    /' "$log" | tail -60
  fi
}
export -f run_job
export work
pass=0 fail=0
while IFS= read -r line; do
  echo "$line"
  case "$line" in PASS*) pass=$((pass+1));; FAIL*) fail=$((fail+1));; esac
done < <(printf '%s\n' "${jobs[@]}" | xargs -P "${E2E_JOBS:-3}" -L 1 bash -c 'run_job "$0" "$1" "$2"')
if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "FAIL: the server died during the tests"; tail -50 "$work/server.log"; fail=$((fail+1))
else
  kill -TERM "$server_pid"
  if ! wait "$server_pid"; then echo "FAIL: server exited non-zero on SIGTERM"; tail -50 "$work/server.log"; fail=$((fail+1)); fi
  server_pid=
fi
grep -E 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' "$work/server.log" && { echo "FAIL: sanitizer report in server log"; fail=$((fail+1)); }
echo "e2e ($(basename "$(dirname "$bin")")${ETCD_ENDPOINTS:+, etcd}): $pass passed, $fail failed"
[ "$fail" = 0 ]
