#!/usr/bin/env bash
# Kill -9 under load: two writers create configmaps through the API while a watcher
# follows them; the server is killed with SIGKILL mid-load and restarted on the same
# data directory. Every create that got a 2xx must still be there, resourceVersions must
# keep increasing, and the watcher must resume from its last resourceVersion.
# Usage: crash.sh path/to/ckube [sqlite|etcd-endpoints]
set -uo pipefail
bin=$(realpath "${1:-build/ckube}")
endpoint=${2:-}
work=$(mktemp -d /tmp/ckube-crash.XXXXXX)
pids=()
server_pid=
cleanup() {
  for p in "${pids[@]}" $server_pid; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
start_server() {
  "$bin" server --data-dir "$work/data" --https-listen-port "$port" \
    ${endpoint:+--datastore-endpoint "$endpoint"} >>"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    curl -sk "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "server did not start"; cat "$work/server.log"; return 1
}
start_server || { echo "crash: 0 passed, 1 failed"; exit 1; }
tls=$work/data/tls
api=https://127.0.0.1:$port/api/v1/namespaces/default/configmaps
c() { curl -s --cacert "$tls/ca.crt" --cert "$tls/admin.crt" --key "$tls/admin.key" "$@"; }

writer() { # writer ID: creates configmaps w<ID>-<n>, logs each acknowledged name and rv
  local id=$1 n=0
  while :; do
    n=$((n+1))
    local out code
    out=$(c -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
      -d "{\"metadata\":{\"name\":\"w$id-$n\"},\"data\":{\"n\":\"$n\"}}" "$api" 2>/dev/null) || continue
    code=${out##*$'\n'}
    if [ "$code" = 201 ]; then
      rv=$(sed -n 's/.*"resourceVersion":"\([0-9]*\)".*/\1/p' <<<"${out%$'\n'*}")
      echo "w$id-$n $rv" >>"$work/acked-$id"
    fi
  done
}
watcher() { # follows the watch, resuming from the last resourceVersion it saw
  local rv=$1
  while :; do
    c -N "$api?watch=true&resourceVersion=$rv" 2>/dev/null | while read -r line; do
      r=$(sed -n 's/.*"resourceVersion":"\([0-9]*\)".*/\1/p' <<<"$line")
      [ -n "$r" ] && echo "$r" >>"$work/watched"
    done
    [ -s "$work/watched" ] && rv=$(tail -1 "$work/watched")
    sleep 0.2
  done
}
start_rv=$(c "$api" | sed -n 's/.*"resourceVersion":"\([0-9]*\)".*/\1/p' | head -1)
writer 1 & pids+=($!)
writer 2 & pids+=($!)
watcher "$start_rv" & pids+=($!)
sleep 3
kill -9 "$server_pid"; wait "$server_pid" 2>/dev/null
before=$(cat "$work"/acked-* | wc -l)
watched_before=$(wc -l <"$work/watched")
start_server || { echo "crash: 0 passed, 1 failed"; exit 1; }
sleep 2
for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
wait "${pids[@]}" 2>/dev/null; pids=()
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass+1)); else echo "FAIL: $1"; fail=$((fail+1)); fi; }
list=$(c "$api")
missing=0
while read -r name rv; do
  grep -q "\"name\":\"$name\"" <<<"$list" || { echo "lost acknowledged write: $name (rv $rv)"; missing=$((missing+1)); }
done < <(cat "$work"/acked-*)
check "every acknowledged write survives kill -9 ($before before the kill)" '[ "$missing" = 0 ] && [ "$before" -gt 0 ]'
for id in 1 2; do
  check "writer $id's resourceVersions increase" "awk '{print \$2}' '$work/acked-$id' | sort -n -c 2>/dev/null || awk 'NR>1 && \$2<=p{exit 1}{p=\$2}' '$work/acked-$id'"
done
check "the watcher resumed after the restart" "[ \$(wc -l <'$work/watched') -gt $watched_before ]"
check "watched resourceVersions never go back" "awk 'NR>1 && \$1<p{exit 1}{p=\$1}' '$work/watched'"
unseen=$(cat "$work"/acked-* | awk '{print $2}' | sort | comm -23 - <(sort -u "$work/watched") | wc -l)
check "the watcher saw every acknowledged write ($unseen missed)" '[ "$unseen" = 0 ]'
after_kill_acked=$(cat "$work"/acked-* | wc -l)
check "writes resumed after the restart" "[ $after_kill_acked -gt $before ]"
echo "crash ($([ -n "$endpoint" ] && echo etcd || echo sqlite)): $pass passed, $fail failed"
[ "$fail" = 0 ]
