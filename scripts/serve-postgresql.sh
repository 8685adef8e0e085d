#!/usr/bin/env bash
# scripts/serve-postgresql.sh — a node on a PostgreSQL cluster of its own:
# the core of `scripts/run.sh --postgresql`, and what its test runs
# (tests/pg/run_postgresql_test.sh).
#
#   serve-postgresql.sh LIAISON DATA_DIR CLUSTER_DIR [SERVE ARGS...]
#
# Starts the cluster in CLUSTER_DIR (initdb on first run, a Unix socket in
# CLUSTER_DIR only: tests/pg/pg_cluster.sh), runs `LIAISON serve --demo`
# on it (the demo data seeds only an empty store; the store's key and
# anchor in DATA_DIR), and when the node stops — by itself, or on SIGINT
# or SIGTERM to this script, passed on to the node — stops the cluster
# (kept, for the next run). Exits with the node's status.
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 LIAISON DATA_DIR CLUSTER_DIR [SERVE ARGS...]" >&2
  exit 2
fi
liaison=$1 data=$2 cluster=$3
shift 3
pg_cluster=$(cd "$(dirname "$0")/.." && pwd)/tests/pg/pg_cluster.sh

# As root, the server runs as `postgres`, which must reach the cluster's
# directory: say so rather than let initdb fail on a path it cannot see.
mkdir -p "$cluster"
cluster=$(cd "$cluster" && pwd)
if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$(dirname "$cluster")"; then
  echo "serve-postgresql: the user postgres cannot reach $(dirname "$cluster") (as root the" \
       "server runs as postgres): give a cluster directory it can reach, e.g. under /tmp" >&2
  exit 1
fi
"$pg_cluster" start "$cluster"
trap '"$pg_cluster" halt "$cluster"' EXIT

echo "liaison: credentials of the demo users are in $data/demo-credentials.json" >&2
"$liaison" serve --data-dir "$data" --demo \
  --store "postgresql://liaison@/liaison?host=$cluster" "$@" &
node=$!
# A background job ignores SIGINT in a script: the node is told here.
trap 'kill -TERM "$node" 2>/dev/null || true' INT TERM
rc=0
while :; do
  wait "$node" && rc=0 || rc=$?
  kill -0 "$node" 2>/dev/null || break # wait was only interrupted by a signal
done
exit "$rc"
