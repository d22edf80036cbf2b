#!/usr/bin/env bash
# Replays every fuzz target's committed corpus through its replay binary.
set -uo pipefail
build=${1:-build}
pass=0 fail=0
for b in "$build"/fuzz-replay/fuzz_*; do
  [ -x "$b" ] || continue
  name=$(basename "$b"); name=${name#fuzz_}
  corpus=fuzz/corpus/$name
  [ -d "$corpus" ] || { echo "FAIL $b: no corpus at $corpus"; fail=$((fail+1)); continue; }
  if timeout 600 "$b" "$corpus" >/dev/null 2>&1; then pass=$((pass+1)); else echo "FAIL $b"; fail=$((fail+1)); fi
done
echo "fuzz replay ($build): $pass passed, $fail failed"
[ "$fail" = 0 ]
