#!/usr/bin/env bash
# Build liaison and run a node with its embedded defaults: the SQLite store
# in ./liaison-data, the bundled NATO policy, and — on first run — the demo
# data set (organisations, users, channels, labelled items). Open
# http://127.0.0.1:8470/ and sign in with a token from
# liaison-data/demo-credentials.json. Extra arguments go to `liaison serve`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=release
fi
ninja -C build

data=${LIAISON_DATA:-./liaison-data}
demo=()
if [ ! -e "$data/liaison.db" ]; then
  demo=(--demo)
fi
echo "liaison: credentials of the demo users are in $data/demo-credentials.json" >&2
exec build/src/cli/liaison serve --data-dir "$data" "${demo[@]}" "$@"
