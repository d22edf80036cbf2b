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
