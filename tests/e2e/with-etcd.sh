#!/usr/bin/env bash
# Runs a command with a fresh 3-member loopback etcd cluster; its endpoints are in
# $ETCD_ENDPOINTS and replace the word ETCD among the command's arguments.
set -uo pipefail
dir=$(mktemp -d /tmp/ckube-etcd.XXXXXX)
cleanup() { "$(dirname "$0")/etcd-stop.sh" "$dir"; rm -rf "$dir"; }
trap cleanup EXIT INT TERM
ETCD_ENDPOINTS=$("$(dirname "$0")/etcd-cluster.sh" "$dir") || { echo "with-etcd: 0 passed, 1 failed"; exit 1; }
export ETCD_ENDPOINTS
args=()
for a in "$@"; do [ "$a" = ETCD ] && args+=("$ETCD_ENDPOINTS") || args+=("$a"); done
"${args[@]}"
