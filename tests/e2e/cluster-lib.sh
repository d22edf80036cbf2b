# Helpers for the control-plane suites (tests/e2e/ctl_*.sh): each suite starts its own
# `ckube server` (SQLite in a temporary data dir on a free loopback port) and hollow
# nodes, drives them with the real kubectl, and stops everything it started on exit.
#   source "$(dirname "$0")/cluster-lib.sh"
#   cluster_up [server flags...]        # sets KUBECONFIG, CLUSTER_DIR, SERVER_PID
#   hollow_up NAME [agent flags...]     # one `ckube agent --hollow` process; PID in HOLLOW_PIDS[NAME]
#   hollow_down NAME                    # kill -9 that agent (its nodes stop heartbeating)
#   wait_for WHAT SECONDS CMD...        # poll CMD until it succeeds; a failed check otherwise
# CKUBE_BIN selects the binary (default build/ckube). Uses check_* and finish of lib.sh.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/lib.sh"
CKUBE_BIN=$(realpath "${CKUBE_BIN:-$here/../../build/ckube}")
KUBECTL=${KUBECTL:-$(command -v kubectl)}
declare -A HOLLOW_PIDS=()
CLUSTER_DIR=$(mktemp -d /tmp/ckube-ctl.XXXXXX)
SERVER_PID=
export HOME=$CLUSTER_DIR/home KUBECACHEDIR=$CLUSTER_DIR/kubecache
mkdir -p "$HOME"

cluster_cleanup() {
  local rc=$? p
  set +e
  for p in "${HOLLOW_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${HOLLOW_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null
  fi
  if grep -Eqs 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' "$CLUSTER_DIR"/*.log; then
    echo "FAIL: sanitizer report:" >&2
    rc=1
    grep -E -A30 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' "$CLUSTER_DIR"/*.log | head -80 >&2
  fi
  rm -rf "$CLUSTER_DIR"
  exit $rc
}
trap cluster_cleanup EXIT INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

cluster_up() {
  local port
  port=$(free_port)
  export KUBECONFIG=$CLUSTER_DIR/data/kubeconfig.yaml
  "$CKUBE_BIN" server --data-dir "$CLUSTER_DIR/data" --https-listen-port "$port" \
    --disable-agent "$@" >"$CLUSTER_DIR/server.log" 2>&1 &
  SERVER_PID=$!
  local _
  for _ in $(seq 1 200); do
    [ -f "$KUBECONFIG" ] && curl -sk "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "server did not start:" >&2; cat "$CLUSTER_DIR/server.log" >&2; exit 1
}

hollow_up() {
  local name=$1; shift
  "$CKUBE_BIN" agent --hollow --kubeconfig "$KUBECONFIG" "$@" >"$CLUSTER_DIR/hollow-$name.log" 2>&1 &
  HOLLOW_PIDS[$name]=$!
}

hollow_down() {
  kill -KILL "${HOLLOW_PIDS[$1]}" 2>/dev/null; wait "${HOLLOW_PIDS[$1]}" 2>/dev/null || true
  unset "HOLLOW_PIDS[$1]"
}

# wait_for WHAT SECONDS CMD...: polls CMD (every 0.3 s) until it succeeds; records a failed
# check naming WHAT when SECONDS pass. Returns CMD's last status.
wait_for() {
  local what=$1 secs=$2; shift 2
  local deadline=$((SECONDS + secs))
  while [ $SECONDS -lt $deadline ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.3
  done
  check_report "$what (waited ${secs}s)" "" "success of: $*" "$("$@" 2>&1 | tail -20)"
  return 1
}
