#!/usr/bin/env bash
# Runs every unit-test binary of a build folder, two at a time.
set -uo pipefail
build=${1:-build}
mapfile -t bins < <(find "$build/tests" -type f -executable -name 'test_*' | sort)
pass=0 fail=0 failed=()
run_one() {
  local b=$1 log
  log=$(mktemp)
  if timeout 600 "$b" >"$log" 2>&1; then echo "PASS $b"; else echo "FAIL $b"; cat "$log"; fi
  rm -f "$log"
}
export -f run_one
while read -r line; do
  echo "$line"
  case "$line" in PASS*) pass=$((pass+1));; FAIL*) fail=$((fail+1)); failed+=("${line#FAIL }");; esac
done < <(printf '%s\n' "${bins[@]}" | xargs -P 2 -I{} bash -c 'run_one {}')
echo "unit ($build): $pass passed, $fail failed"
[ "$fail" = 0 ]
