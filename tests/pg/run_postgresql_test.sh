#!/usr/bin/env bash
# tests/pg/run_postgresql_test.sh — the demo on a PostgreSQL cluster of its
# own (`scripts/run.sh --postgresql`, whose core is
# scripts/serve-postgresql.sh), end to end, TAP.
#
# usage: run_postgresql_test.sh SERVE_POSTGRESQL_SH LIAISON
#
# The script starts its own cluster (a Unix socket in a new temporary
# directory) and the node on it; a demo user signs in with their password
# and lists a channel's items; on SIGTERM the node stops and the cluster
# with it. A second run starts the kept cluster again: the store is not
# seeded twice, the same user signs in and sees the same items.
set -u
SERVE=$1
LIAISON=$2
n=0
failed=0
ok() { # ok STATUS NAME [DIAGNOSTIC]
  n=$((n + 1))
  if [ "$1" -eq 0 ]; then
    echo "ok $n - $2"
  else
    echo "not ok $n - $2"
    failed=$((failed + 1))
    [ $# -ge 3 ] && printf '%s\n' "$3" | sed 's/^/#   /'
  fi
}
have_pg() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && return 0; done
  command -v initdb >/dev/null 2>&1
}
if ! have_pg; then
  echo "1..0 # SKIP PostgreSQL's server programs are not installed (scripts/deps.sh --test)"
  exit 0
fi
PG_CLUSTER=$(dirname "$0")/pg_cluster.sh
TMP=$(mktemp -d "${TMPDIR:-/tmp}/liaison-runpg.XXXXXX")
CLUSTER=$(mktemp -d /tmp/liaison-runpg-cluster.XXXXXX) # reachable by postgres when root
PID=
cleanup() {
  [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  "$PG_CLUSTER" stop "$CLUSTER" >/dev/null 2>&1
  rm -rf "$TMP" "$CLUSTER"
}
trap cleanup EXIT

# demo LOG: run the script, wait for the node's URL in $URL.
demo() {
  "$SERVE" "$LIAISON" "$TMP/data" "$CLUSTER" --listen 127.0.0.1:0 --metrics-listen none \
    >"$1" 2>&1 &
  PID=$!
  URL=
  for _ in $(seq 1 900); do
    URL=$(sed -n 's/.*listening on \(http:\/\/[^ ]*\).*/\1/p' "$1" | head -n 1)
    [ -n "$URL" ] && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$URL" ]
}
# stop: SIGTERM to the script; its status.
stop() {
  kill -TERM "$PID"
  wait "$PID"
  local rc=$?
  PID=
  return $rc
}
PW=
signin() { # the first demo user, by password (the web page's way)
  PW=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["password"])' \
    "$TMP/data/demo-credentials.json" 2>/dev/null)
  USER_NAME=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["user"])' \
    "$TMP/data/demo-credentials.json" 2>/dev/null)
  curl -s -o "$TMP/session.json" -w '%{http_code}' -c "$TMP/cookies" -X POST \
    -H 'Content-Type: application/json' \
    -d "{\"name\":\"$USER_NAME\",\"password\":\"$PW\"}" "$URL/api/v1/session"
}
count() { # the items of a channel the user may see, by their session
  curl -s -b "$TMP/cookies" "$URL/api/v1/channels/maritime-security/items?limit=100" |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))' 2>/dev/null
}

demo "$TMP/log1"
ok $? "the_node_starts_on_a_cluster_of_its_own" "$(cat "$TMP/log1")"
[ -S "$CLUSTER/.s.PGSQL.5432" ] && ! ss -ltn 2>/dev/null | grep -q ':5432 '
ok $? "the_cluster_listens_on_a_unix_socket_only"
grep -q "demo data seeded" "$TMP/log1"
ok $? "the_demo_data_is_seeded" "$(cat "$TMP/log1")"
code=$(signin)
[ "$code" = 201 ]
ok $? "a_demo_user_signs_in_with_their_password" "status $code: $(cat "$TMP/session.json")"
first=$(count)
[ -n "$first" ] && [ "$first" -gt 0 ]
ok $? "the_user_lists_a_channels_items (${first:-none})"
stop
ok $? "sigterm_stops_the_node_cleanly" "$(tail -5 "$TMP/log1")"
[ ! -f "$CLUSTER/data/postmaster.pid" ]
ok $? "the_cluster_stops_with_the_node"

demo "$TMP/log2"
ok $? "a_second_run_starts_the_kept_cluster_again" "$(cat "$TMP/log2")"
grep -q "demo data not seeded" "$TMP/log2"
ok $? "the_store_is_not_seeded_twice" "$(cat "$TMP/log2")"
code=$(signin)
again=$(count)
[ "$code" = 201 ] && [ "$again" = "$first" ]
ok $? "the_same_user_signs_in_and_sees_the_same_items ($again)"
stop
ok $? "the_second_run_stops_cleanly" "$(tail -5 "$TMP/log2")"

echo "1..$n"
[ "$failed" -eq 0 ]
