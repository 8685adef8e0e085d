#!/usr/bin/env bash
# Build liaison and run a node with its embedded defaults: the SQLite store
# in ./liaison-data, the bundled NATO policy, and — on first run — the demo
# data set (organisations, users, channels, labelled items). Open
# http://127.0.0.1:8470/ and sign in with a token from
# liaison-data/demo-credentials.json. Extra arguments go to `liaison serve`.
#
# scripts/run.sh --postgresql: the same node on a PostgreSQL cluster of its
# own in ./liaison-pg (initdb on first run, a Unix socket only, stopped when
# the node stops; tests/pg/pg_cluster.sh), its key and anchor in
# ./liaison-data-pg (scripts/serve-postgresql.sh). For a demo: a real
# deployment gives --store the operators' own server.
set -euo pipefail
cd "$(dirname "$0")/.."

pg=0
if [ "${1:-}" = "--postgresql" ]; then
  pg=1
  shift
  scripts/deps.sh --test # Debian's postgresql, for the cluster
else
  scripts/deps.sh
fi
if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=release
fi
ninja -C build

if [ "$pg" = 1 ]; then
  exec scripts/serve-postgresql.sh build/src/cli/liaison "${LIAISON_DATA:-./liaison-data-pg}" \
    "$(pwd)/liaison-pg" "$@"
fi

data=${LIAISON_DATA:-./liaison-data}
demo=()
if [ ! -e "$data/liaison.db" ]; then
  demo=(--demo)
fi
echo "liaison: credentials of the demo users are in $data/demo-credentials.json" >&2
exec build/src/cli/liaison serve --data-dir "$data" "${demo[@]}" "$@"
