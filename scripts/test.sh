#!/usr/bin/env bash
# Build liaison with AddressSanitizer and UndefinedBehaviorSanitizer and run
# every test. Prints the per-test results, then one closing line
# "N passed, N failed" counting every check (each TAP test point, each
# non-TAP test program). Exit status 0 only when nothing failed.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh || exit 2

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

# meson's summary ("Ok: N", "Fail: N", ...) counts TAP test points.
log="$dir/meson-logs/testlog.txt"
read -r passed failed < <(awk '
  /^Ok:/ {ok=$2} /^Expected Fail:/ {xf=$3} /^Fail:/ {f=$2}
  /^Unexpected Pass:/ {up=$3} /^Timeout:/ {t=$2}
  END {print ok+xf+0, f+up+t+0}' "$log")
if [ "$status" -ne 0 ] && [ "${failed:-0}" -eq 0 ]; then failed=1; fi
echo "${passed:-0} passed, ${failed:-0} failed"
exit "$status"
