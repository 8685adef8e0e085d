#!/usr/bin/env bash
# Build liaison and run its main job. Until the node exists this is the
# label tool on the bundled NATO policy: it validates, marks (English and
# French) and checks a demo label, then leaves `build/liaison` ready to use.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=release
fi
ninja -C build

bin=build/src/cli/liaison
demo=tests/vectors/liaison
echo "== liaison $($bin --version)"
echo "== the bundled policy"
$bin policy show || true
for label in "$demo"/*.nato; do
  [ -e "$label" ] || continue
  echo "== $label"
  $bin label validate "$label" || true
  $bin label mark "$label" || true
  $bin label mark --lang fr "$label" || true
done
echo
echo "The tool is at $bin; try: $bin --help"
