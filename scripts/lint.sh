#!/usr/bin/env bash
# make lint: formatting (clang-format), static analysis (cppcheck) and shell scripts
# (shellcheck). Reports; exits non-zero when any check finds something.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
files=$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'fuzz/*.c' 'bench/*.c')
echo "== clang-format"
for f in $files; do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then echo "needs formatting: $f"; status=1; fi
done
echo "== cppcheck"
cppcheck --quiet --enable=warning,portability --inline-suppr --error-exitcode=1 \
  -Isrc --suppress=missingIncludeSystem src || status=1
echo "== shellcheck"
shellcheck -S warning $(git ls-files '*.sh' .ci/run) || status=1
exit $status
