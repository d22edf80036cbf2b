#!/usr/bin/env bash
# The control-plane suites: every tests/e2e/ctl_*.sh (each starts its own server and
# hollow nodes, see cluster-lib.sh), CTL_JOBS at a time, with the binary given.
# Usage: controllers.sh [BIN] [ctl_NAME...]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export CKUBE_BIN=$(realpath "${1:-build/ckube}")
shift || true
only=("$@")
work=$(mktemp -d /tmp/ckube-ctlrun.XXXXXX)
trap 'rm -rf "$work"' EXIT
tests=()
for t in "$here"/ctl_*.sh; do
  name=$(basename "$t" .sh)
  if [ ${#only[@]} -gt 0 ] && [[ ! " ${only[*]} " =~ " $name " ]]; then continue; fi
  tests+=("$t")
done
run_one() {
  local t=$1 name log
  name=$(basename "$t" .sh)
  log=$work/$name.log
  local start=$SECONDS
  if timeout 900 bash "$t" "$CKUBE_BIN" >"$log" 2>&1; then
    echo "PASS $name ($((SECONDS - start))s)"
  else
    echo "FAIL $name ($((SECONDS - start))s)"; sed 's/^/    /' "$log" | tail -80
  fi
}
export -f run_one
export work
pass=0 fail=0
while IFS= read -r line; do
  echo "$line"
  case "$line" in PASS*) pass=$((pass+1));; FAIL*) fail=$((fail+1));; esac
done < <(printf '%s\n' "${tests[@]}" | xargs -P "${CTL_JOBS:-2}" -I{} bash -c 'run_one "$0"' {})
echo "controllers: $pass passed, $fail failed"
[ $fail = 0 ]
