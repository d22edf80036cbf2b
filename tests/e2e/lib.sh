# Helpers for end-to-end tests. Each test runs in its own namespace $NS with $KUBECTL.
set -euo pipefail
k() { "$KUBECTL" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
# expect_eq ACTUAL EXPECTED [what]
expect_eq() {
  if [ "$1" != "$2" ]; then
    printf 'FAIL: %s\n--- expected\n%s\n--- actual\n%s\n' "${3:-output}" "$2" "$1" >&2
    exit 1
  fi
}
# expect_match ACTUAL REGEX [what]
expect_match() {
  if ! grep -Eq -- "$2" <<<"$1"; then
    printf 'FAIL: %s\n--- expected to match\n%s\n--- actual\n%s\n' "${3:-output}" "$2" "$1" >&2
    exit 1
  fi
}
# expect_fail CMD... : the command must fail; its combined output is printed to stdout.
expect_fail() {
  local out
  if out=$("$@" 2>&1); then
    printf 'FAIL: expected failure from: %s\n%s\n' "$*" "$out" >&2
    exit 1
  fi
  printf '%s' "$out"
}
# Table output with ages replaced by <age> and runs of spaces squeezed to one (kubectl
# aligns columns by their widest cell, which varies with ages), for comparison.
mask_age() { sed -E 's/(^| )[0-9]+(s|m[0-9]*s?|h[0-9]*m?|d[0-9]*h?|y[0-9]*d?)( |$)/\1<age>\3/g; s/ +/ /g; s/ $//'; }
examples=${EXAMPLES:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/shared/examples}
setup_ns() {
  k create namespace "$NS" >/dev/null
}

# Soft checks: each records a failure and carries on, so one run lists every difference;
# call `finish` last, which fails the test if any check failed.
checks_failed=0
check_report() {
  checks_failed=$((checks_failed + 1))
  printf 'FAIL: %s\n--- expected%s\n%s\n--- actual\n%.3000s\n' "$1" "$2" "$3" "$4" >&2
}
# check_eq WHAT ACTUAL EXPECTED
check_eq() { [ "$2" = "$3" ] || check_report "$1" "" "$3" "$2"; }
# check_match WHAT ACTUAL REGEX: some line of ACTUAL matches the extended regex.
check_match() { grep -Eq -- "$3" <<<"$2" || check_report "$1" " to match" "$3" "$2"; }
# check_no_match WHAT ACTUAL REGEX: no line of ACTUAL matches.
check_no_match() { ! grep -Eq -- "$3" <<<"$2" || check_report "$1" " not to match" "$3" "$2"; }
# check_lines WHAT ACTUAL EXPECTED: line by line, each expected line is an extended regex
# that must match the whole actual line (it is anchored as given, so keep alternations in
# parentheses; \1 is the first group); the line counts must agree. For table output where
# a cell legitimately varies (cluster IPs, generated names, controller-driven counts).
check_lines() {
  local -a a e
  local i ok=1
  mapfile -t a <<<"$2"
  mapfile -t e <<<"$3"
  if [ ${#a[@]} -ne ${#e[@]} ]; then
    ok=0
  else
    for i in "${!e[@]}"; do
      grep -Eq -- "^${e[$i]}\$" <<<"${a[$i]}" || { ok=0; break; }
    done
  fi
  [ $ok = 1 ] || check_report "$1" " (line regexes)" "$3" "$2"
}
# kx ARGS...: kubectl with stderr folded into stdout and the exit status appended as a
# last line "rc=N" only when it is not 0, for checking an error and its text in one go.
kx() {
  local rc=0 out
  out=$("$KUBECTL" "$@" 2>&1) || rc=$?
  if [ $rc -ne 0 ]; then printf '%s\nrc=%d' "$out" "$rc"; else printf '%s' "$out"; fi
}
# Version-dependent expectations: kubectl_at_least 1.30
kubectl_at_least() {
  local want=$1 have=${KUBECTL_VERSION:-1.32}
  [ "${have#1.}" -ge "${want#1.}" ]
}
finish() {
  if [ "$checks_failed" -ne 0 ]; then
    echo "$checks_failed check(s) failed" >&2
    exit 1
  fi
  echo "all checks passed"
}
# Retry a command until it succeeds, for state that settles asynchronously.
eventually() {
  local i
  for i in $(seq 1 50); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}
