#!/bin/sh
# tests/pg/migrate_test.sh — `liaison store migrate` from SQLite to
# PostgreSQL (issue 14), TAP.
#
# usage: migrate_test.sh LIAISON URI   (URI: an empty PostgreSQL database;
#                                       meson runs it under pg_cluster.sh)
#
# A node seeds a SQLite store with the demo data and stops; the store is
# migrated; the target's audit chain and every item's seal verify; the node
# then serves the same items from PostgreSQL; a run again resumes (nothing
# left to copy); a target that went on alone, and an unrelated source, are
# refused.
set -u
LIAISON=$1
URI=$2
TMP=$(mktemp -d "${TMPDIR:-/tmp}/liaison-migrate.XXXXXX")
PID=
n=0
failed=0
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

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

# serve DIR [ARGS]: start a node, wait for its URL in $URL.
serve() {
    dir=$1
    shift
    "$LIAISON" serve --demo --data-dir "$dir" --listen 127.0.0.1:0 --metrics-listen none \
        "$@" >"$TMP/log" 2>&1 &
    PID=$!
    URL=
    for _ in $(seq 1 600); do
        URL=$(sed -n 's/.*listening on \(http:\/\/[^ ]*\).*/\1/p' "$TMP/log" | head -n 1)
        [ -n "$URL" ] && break
        sleep 0.1
    done
    [ -n "$URL" ]
}
stop() {
    kill "$PID" && wait "$PID"
    PID=
}
items() { # items TOKEN: the JSON of the maritime-security channel's first page
    curl -s -H "Authorization: Bearer $1" "$URL/api/v1/channels/maritime-security/items?limit=100"
}

D=$TMP/d
serve "$D"
ok $? "a_node_seeds_a_sqlite_store" "$(cat "$TMP/log")"
TOKEN=$(python3 -c 'import json,sys; print([u["token"] for u in json.load(open(sys.argv[1])) if u["user"] == "ingrid.halvorsen"][0])' "$D/demo-credentials.json" 2>/dev/null)
items "$TOKEN" >"$TMP/before.json"
stop

out=$("$LIAISON" store migrate --data-dir "$D" --from "sqlite:$D/liaison.db" --to "$URI" 2>&1)
ok $? "the_store_migrates" "$out"
echo "$out" | grep -q "audit chain verified in both"
ok $? "the_migration_says_the_chain_verified_in_both" "$out"

out=$("$LIAISON" store migrate --data-dir "$D" --from "sqlite:$D/liaison.db" --to "$URI" 2>&1)
ok $? "a_second_run_resumes_with_nothing_left" "$out"
echo "$out" | grep -q "migrated: .* 0 items"
ok $? "it_copies_no_item_twice" "$out"

out=$("$LIAISON" verify --data-dir "$D" --store "$URI" 2>&1)
ok $? "the_target_verifies_every_item_seal_posts_and_chain" "$out"

serve "$D" --store "$URI"
ok $? "the_node_serves_from_postgresql" "$(cat "$TMP/log")"
items "$TOKEN" >"$TMP/after.json"
stop
[ -s "$TMP/before.json" ] && grep -q '"items"' "$TMP/before.json" && cmp -s "$TMP/before.json" "$TMP/after.json"
ok $? "the_same_items_are_served_byte_for_byte" "$(head -c 300 "$TMP/before.json"; echo; head -c 300 "$TMP/after.json")"

# verify and the node recorded themselves: the target went on alone.
out=$("$LIAISON" store migrate --data-dir "$D" --from "sqlite:$D/liaison.db" --to "$URI" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "not empty"
ok $? "a_target_that_went_on_alone_is_refused" "$out"

E=$TMP/e
"$LIAISON" org add "Other" --nation NATO --data-dir "$E" >/dev/null 2>&1
out=$("$LIAISON" store migrate --data-dir "$D" --from "sqlite:$E/liaison.db" --to "$URI" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "not empty"
ok $? "an_unrelated_source_into_a_non_empty_target_is_refused" "$out"

echo "1..$n"
[ "$failed" -eq 0 ]
