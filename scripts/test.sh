#!/usr/bin/env bash
# Build liaison with AddressSanitizer and UndefinedBehaviorSanitizer and run
# every test. Prints the per-test results, then one closing line
# "N passed, N failed" counting every check (each TAP test point, each
# non-TAP test program). Exit status 0 only when nothing failed.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh --test || exit 2
# The validating proxy's npm packages (tests/api), once, before the tests
# that use it start side by side.
tests/api/npm-ci.sh || exit 2

dir=build-asan
if [ ! -f "$dir/build.ninja" ]; then
  meson setup "$dir" --buildtype=debug -Db_sanitize=address,undefined \
    -Db_lundef=false || exit 2
fi
ninja -C "$dir" || { echo "0 passed, 1 failed"; exit 1; }

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
meson test -C "$dir" --print-errorlogs --num-processes 2
status=$?

# Count every check (each TAP test point), not just test programs.
summary=$(python3 scripts/test-summary.py "$dir/meson-logs/testlog.json") || true
if [ "$status" -ne 0 ] && [[ "$summary" == *" 0 failed" ]]; then
  summary="${summary% 0 failed} 1 failed"
fi
echo "$summary"
exit "$status"
