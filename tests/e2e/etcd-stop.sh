#!/usr/bin/env bash
# Stops the etcd members etcd-cluster.sh started in DIR: SIGTERM, then SIGKILL for any
# member still running after 5 s (a member that lost its quorum can hang while stopping).
# Usage: etcd-stop.sh DIR
dir=$1
[ -f "$dir/pids" ] || exit 0
pids=$(cat "$dir/pids")
kill $pids 2>/dev/null
for _ in $(seq 1 50); do
  alive=0
  for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
  [ $alive = 0 ] && exit 0
  sleep 0.1
done
kill -9 $pids 2>/dev/null
exit 0
