#!/usr/bin/env bash
# Starts a 3-member etcd cluster on loopback ports in DIR and prints its client
# endpoints (comma-separated) once every member is healthy. Member PIDs are written to
# DIR/pids; stop them with `kill $(cat DIR/pids)`.
# Usage: etcd-cluster.sh DIR
set -euo pipefail
dir=$1
mkdir -p "$dir"
ports=($(python3 -c 'import socket
ss=[socket.socket() for _ in range(6)]
[s.bind(("127.0.0.1",0)) for s in ss]
print(" ".join(str(s.getsockname()[1]) for s in ss))
[s.close() for s in ss]'))
cluster=""
for i in 0 1 2; do cluster+="${cluster:+,}m$i=http://127.0.0.1:${ports[$((i*2+1))]}"; done
: >"$dir/pids"
endpoints=""
for i in 0 1 2; do
  c=${ports[$((i*2))]} p=${ports[$((i*2+1))]}
  ETCD_UNSUPPORTED_ARCH= etcd --name "m$i" --data-dir "$dir/m$i" \
    --listen-client-urls "http://127.0.0.1:$c" --advertise-client-urls "http://127.0.0.1:$c" \
    --listen-peer-urls "http://127.0.0.1:$p" --initial-advertise-peer-urls "http://127.0.0.1:$p" \
    --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token ckube-test \
    >"$dir/m$i.log" 2>&1 &
  echo $! >>"$dir/pids"
  endpoints+="${endpoints:+,}http://127.0.0.1:$c"
done
for _ in $(seq 1 100); do
  ok=0
  for e in ${endpoints//,/ }; do curl -sf "$e/health" | grep -q '"health":"true"' && ok=$((ok+1)); done
  [ $ok = 3 ] && { echo "$endpoints"; exit 0; }
  sleep 0.2
done
echo "etcd cluster did not become healthy" >&2
cat "$dir"/m*.log >&2
kill $(cat "$dir/pids") 2>/dev/null
exit 1
