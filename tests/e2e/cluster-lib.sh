# Helpers for the control-plane suites (tests/e2e/ctl_*.sh): each suite starts its own
# `ckube server` (SQLite in a temporary data dir on a free loopback port) and hollow
# nodes, drives them with the real kubectl, and stops everything it started on exit.
#   source "$(dirname "$0")/cluster-lib.sh"
#   cluster_up [server flags...]        # sets KUBECONFIG, CLUSTER_DIR, SERVER_PID
#   hollow_up NAME [agent flags...]     # one `ckube agent --hollow` process; PID in HOLLOW_PIDS[NAME]
#   hollow_down NAME                    # kill -9 that agent (its nodes stop heartbeating)
#   hollow_stop NAME                    # SIGTERM that agent, wait; returns its exit status
#   wait_for WHAT SECONDS CMD...        # poll CMD until it succeeds; a failed check otherwise
# and the TAP-style lines the suites print ("ok - WHAT" / "not ok - WHAT"):
#   step WHAT SECONDS CMD...            # wait_for, then its verdict
#   verdict WHAT                        # the verdict of the check_* calls since the last one
#   check WHAT CMD...                   # the verdict of CMD's success (output discarded)
#   poll SECONDS CMD...                 # retry CMD until it succeeds; 1 when time runs out
#   wait_eq WHAT EXPECTED CMD...        # poll CMD (60 s) until it prints EXPECTED; verdict
# CKUBE_BIN selects the binary (default: the suite's first argument, else build/ckube);
# CKUBE_AGENT may name another command that takes the agent flags (default "$CKUBE_BIN
# agent"); KEEP_LOGS=DIR keeps the server and agent logs. Uses check_* and finish of lib.sh.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/lib.sh"
CKUBE_BIN=$(realpath "${CKUBE_BIN:-${1:-$here/../../build/ckube}}")
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
  [ -n "${KEEP_LOGS:-}" ] && cp "$CLUSTER_DIR"/*.log "$KEEP_LOGS"/ 2>/dev/null
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
  local -a agent
  read -r -a agent <<<"${CKUBE_AGENT:-$CKUBE_BIN agent}"
  "${agent[@]}" --hollow --kubeconfig "$KUBECONFIG" "$@" >"$CLUSTER_DIR/hollow-$name.log" 2>&1 &
  HOLLOW_PIDS[$name]=$!
}

hollow_down() {
  kill -KILL "${HOLLOW_PIDS[$1]}" 2>/dev/null; wait "${HOLLOW_PIDS[$1]}" 2>/dev/null || true
  unset "HOLLOW_PIDS[$1]"
}

hollow_stop() {
  local pid=${HOLLOW_PIDS[$1]} rc=0
  unset "HOLLOW_PIDS[$1]"
  kill -TERM "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || rc=$?
  return $rc
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

ok() { echo "ok - $*"; }

# A verdict covers the checks made since the previous verdict (or step), so a failure is
# reported once.
last_failed=0
verdict() {
  if [ "$checks_failed" -gt "$last_failed" ]; then echo "not ok - $1"; else echo "ok - $1"; fi
  last_failed=$checks_failed
}

step() {
  local what=$1
  if wait_for "$@"; then ok "$what"; else echo "not ok - $what"; fi
  last_failed=$checks_failed
}

poll() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.5
  done
}

check() {
  local what=$1; shift
  if "$@" >/dev/null 2>&1; then
    ok "$what"
  else
    echo "not ok - $what"
    checks_failed=$((checks_failed + 1))
  fi
  last_failed=$checks_failed
}

wait_eq() {
  local what=$1 want=$2 got _
  shift 2
  for _ in $(seq 1 300); do
    got=$("$@" 2>&1)
    [ "$got" = "$want" ] && { ok "$what"; return 0; }
    sleep 0.2
  done
  echo "not ok - $what"
  check_report "$what" "" "$want" "$got"
  last_failed=$checks_failed
  return 1
}
