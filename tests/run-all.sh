#!/usr/bin/env bash
# Everything `make test` runs after building: unit tests and corpus replays under the
# plain and the ASan+UBSan builds, then the end-to-end suites against the real kubectl.
set -uo pipefail
cd "$(dirname "$0")/.."
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
status=0
total_pass=0 total_fail=0
step() {
  local name=$1; shift
  echo "=== $name"
  local out
  out=$("$@" 2>&1); local rc=$?
  echo "$out"
  local line
  line=$(echo "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -1)
  if [ -n "$line" ]; then
    local p f
    p=$(echo "$line" | sed -E 's/.* ([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
  fi
  [ $rc = 0 ] || { status=1; [ -n "$line" ] || total_fail=$((total_fail + 1)); }
}
step "unit" tests/run-unit.sh build
step "fuzz replay" tests/run-fuzz-replay.sh build
step "unit (asan)" tests/run-unit.sh build-asan
step "fuzz replay (asan)" tests/run-fuzz-replay.sh build-asan
step "crash (sqlite)" tests/e2e/crash.sh build/ckube
step "crash (etcd)" tests/e2e/with-etcd.sh tests/e2e/crash.sh build/ckube ETCD
step "robustness" tests/e2e/robustness.sh build/ckube
# Leak checking at exit would scan the gigabytes this suite's watch rounds leave mapped;
# the other ASan runs check for leaks.
step "robustness (asan)" env ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 ROBUST_WATCHES=1000 \
  tests/e2e/robustness.sh build-asan/ckube
step "e2e" tests/e2e/run.sh build/ckube
step "e2e (asan)" tests/e2e/run.sh build-asan/ckube
step "e2e (etcd)" env KUBECTL_VERSIONS=1.32 tests/e2e/with-etcd.sh tests/e2e/run.sh build/ckube
step "controllers" tests/e2e/controllers.sh build/ckube
step "controllers (asan)" tests/e2e/controllers.sh build-asan/ckube
echo
echo "$total_pass passed, $total_fail failed"
exit $status
