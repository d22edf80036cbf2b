#!/usr/bin/env bash
# Starts a single-node ckube server in the foreground (make run).
set -euo pipefail
bin=${1:-build/ckube}
data_dir=${CKUBE_DATA_DIR:-/var/lib/ckube}
exec "$bin" server --data-dir "$data_dir" "${@:2}"
