#!/bin/sh
# tests/cli/client_test.sh — the `liaison` command's client and
# administrative verbs (TAP).
#
# usage: client_test.sh LIAISON STORE_PROBE VECTORS_DIR FAKE_NODE
#
# Administrative verbs run on a fresh data directory: their output and exit
# codes, errors naming the problem, the token printed once and stored only
# as its hash (looked up through the store API by STORE_PROBE), every act in
# the audit log, and `audit verify` catching an altered, removed or
# reordered entry (the test edits the SQLite file behind the store's back
# with python3's sqlite3 module, dropping the append-only triggers first).
#
# Client verbs run against FAKE_NODE (fake_node.py), a tiny HTTP server on
# 127.0.0.1 serving canned answers and an SSE stream that drops the
# connection once, so these tests do not depend on the real node.

set -u
LIAISON=$1
PROBE=$2
VEC=$3
FAKE_NODE=$4

n=0
failed=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/liaison-client.XXXXXX")
FAKE_PID=
cleanup() {
    [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
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

run() { # run ARGS...: sets $out, $err, $rc
    "$LIAISON" "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    out=$(cat "$TMP/out")
    err=$(cat "$TMP/err")
}

expect() { # expect NAME RC OUT ARGS...: exact stdout and exit code
    e_name=$1 want_rc=$2 want_out=$3
    shift 3
    run "$@"
    [ "$rc" -eq "$want_rc" ] && [ "$out" = "$want_out" ]
    ok $? "$e_name" "got rc=$rc out='$out' err='$err'; want rc=$want_rc out='$want_out'"
}

expect_err() { # expect_err NAME RC TEXT ARGS...: exit code, stderr contains TEXT
    e_name=$1 want_rc=$2 want_text=$3
    shift 3
    run "$@"
    [ "$rc" -eq "$want_rc" ] && case "$err" in *"$want_text"*) true ;; *) false ;; esac
    ok $? "$e_name" "got rc=$rc out='$out' err='$err'; want rc=$want_rc, stderr with '$want_text'"
}

sql() { # sql DB STATEMENT: run SQL on the file behind the store's back
    python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executescript("DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete;" + sys.argv[2])
c.commit()
c.close()' "$1" "$2"
}

restore() { # restore: put the pristine copy of the store back
    rm -f "$DB-wal" "$DB-shm"
    cp "$TMP/pristine.db" "$DB"
}

# ---- administrative verbs ------------------------------------------------
D=$TMP/data
DB=$D/liaison.db
JPN="Mission of Japan to NATO"

expect "org_add_creates_the_data_directory_and_says_so" 0 "organisation $JPN added (JPN)" \
    org add "$JPN" --nation JPN --data-dir "$D"
[ -f "$DB" ] && [ "$(stat -c %a "$D")" = 700 ]
ok $? "org_add_makes_an_owner_only_data_directory_with_the_store"
expect_err "org_add_refuses_a_duplicate_name" 2 "organisation '$JPN': already exists" \
    org add "$JPN" --nation JPN --data-dir "$D"
expect_err "org_add_requires_nation" 2 "--nation is required" org add X --data-dir "$D"
expect "org_add_accepts_data_as_an_abbreviation" 0 "organisation NATO International Staff added (NATO)" \
    org add "NATO International Staff" --nation NATO --data "$D"

expect "channel_add_prints_the_channel" 0 "channel cyber-defence added" \
    channel add cyber-defence --purpose "Cyber defence cooperation" --data-dir "$D"
expect_err "channel_add_refuses_a_duplicate" 2 "channel 'cyber-defence': already exists" \
    channel add cyber-defence --data-dir "$D"
expect "channel_add_without_purpose_uses_the_name" 0 "channel space added" \
    channel add space --data-dir "$D"
expect_err "channel_add_refuses_an_empty_name" 2 "channel name: must not be empty" \
    channel add "" --data-dir "$D"

run user add taro --org "$JPN" --clearance "$VEC/jpn-desk-officer.xml" --data-dir "$D"
TOKEN=$out
[ "$rc" -eq 0 ] && printf '%s' "$TOKEN" | grep -Eq '^[A-Za-z0-9_-]{43}$'
ok $? "user_add_prints_a_43_character_token" "rc=$rc out='$out' err='$err'"
case "$err" in *"shown once"*) true ;; *) false ;; esac
ok $? "user_add_says_the_token_is_shown_once" "$err"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ]
ok $? "user_add_prints_only_the_token_on_stdout" "$out"
PROBE_OUT=$("$PROBE" "$DB" "$TOKEN"); PROBE_RC=$?
[ "$PROBE_RC" -eq 0 ] && [ "$PROBE_OUT" = "taro|$JPN|1" ]
ok $? "stored_token_hash_finds_the_user_through_the_store" "rc=$PROBE_RC out=$PROBE_OUT"
PROBE_OUT=$("$PROBE" "$DB" "x$TOKEN"); PROBE_RC=$?
[ "$PROBE_RC" -eq 1 ] && [ "$PROBE_OUT" = none ]
ok $? "another_token_finds_no_user" "rc=$PROBE_RC out=$PROBE_OUT"
! cat "$D"/* | grep -aq "$TOKEN"
ok $? "the_token_itself_is_nowhere_in_the_data_directory"
python3 -c 'import sqlite3, sys, hashlib
c = sqlite3.connect(sys.argv[1])
h = c.execute("select token_hash from users where name = ?", ("taro",)).fetchone()[0]
sys.exit(0 if h == hashlib.sha256(sys.argv[2].encode()).digest() else 1)' "$DB" "$TOKEN"
ok $? "the_store_holds_the_sha256_of_the_token"

run user add hanako --org "$JPN" --clearance "$VEC/jpn-desk-officer.xml" --data-dir "$D" \
    --role release-authority --role auditor
[ "$rc" -eq 0 ] && [ "$out" != "$TOKEN" ]
ok $? "each_user_gets_a_new_token" "rc=$rc err=$err"
PROBE_OUT=$("$PROBE" "$DB" "$out"); PROBE_RC=$?
[ "$PROBE_RC" -eq 0 ] && [ "$PROBE_OUT" = "hanako|$JPN|6" ]
ok $? "roles_are_stored_as_given" "rc=$PROBE_RC out=$PROBE_OUT"
run user add inline --org "NATO International Staff" --data-dir "$D" \
    --clearance '{"policy":"NATO","maxClassification":"SECRET","categories":[{"tagSet":"Context","values":["NATO","Releasable"]},{"tagSet":"Releasable To","values":["NATO"]}]}'
[ "$rc" -eq 0 ]; ok $? "user_add_accepts_an_inline_json_clearance" "$err"
expect_err "user_add_refuses_an_unknown_role" 2 "unknown role 'king'" \
    user add u1 --org "$JPN" --clearance "$VEC/jpn-desk-officer.xml" --role king --data-dir "$D"
expect_err "user_add_refuses_an_unknown_organisation" 2 "unknown organisation 'Atlantis'" \
    user add u2 --org Atlantis --clearance "$VEC/jpn-desk-officer.xml" --data-dir "$D"
expect_err "user_add_refuses_an_invalid_clearance_naming_the_value" 2 "BOGUS" \
    user add u3 --org "$JPN" --clearance '{"policy":"NATO","classifications":["BOGUS"]}' --data-dir "$D"
expect_err "user_add_refuses_a_missing_clearance_file" 2 "$TMP/nothing.xml" \
    user add u4 --org "$JPN" --clearance "$TMP/nothing.xml" --data-dir "$D"
expect_err "user_add_refuses_a_duplicate_user" 2 "user 'taro': already exists" \
    user add taro --org "$JPN" --clearance "$VEC/jpn-desk-officer.xml" --data-dir "$D"
expect_err "user_add_requires_org" 2 "--org is required" \
    user add u5 --clearance "$VEC/jpn-desk-officer.xml" --data-dir "$D"

# Every act so far, refusals included, is in the log.
acts=$(python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
for r in c.execute("select action, object, outcome from audit order by seq"): print("|".join(r))' "$DB")
want_acts="org.add|org:$JPN|ok
org.add|org:$JPN|refused
org.add|org:NATO International Staff|ok
channel.add|channel:cyber-defence|ok
channel.add|channel:cyber-defence|refused
channel.add|channel:space|ok
user.add|user:taro|ok
user.add|user:hanako|ok
user.add|user:inline|ok
user.add|user:u2|refused
user.add|user:taro|refused"
[ "$acts" = "$want_acts" ]
ok $? "every_administrative_act_and_refusal_is_audited" "$acts"

run audit verify --data-dir "$D"
[ "$rc" -eq 0 ] && printf '%s' "$out" | grep -Eq '^audit: 11 entries, chain intact, head [0-9a-f]{64}$'
ok $? "audit_verify_reports_an_intact_chain_with_its_head" "rc=$rc out='$out' err='$err'"
run audit verify --data-dir "$D"
case "$out" in "audit: 12 entries, chain intact, head "*) true ;; *) false ;; esac
ok $? "audit_verify_records_itself" "$out"
expect_err "audit_verify_names_a_missing_data_directory" 2 "$TMP/none: no such data directory" \
    audit verify --data-dir "$TMP/none"
[ ! -e "$TMP/none" ]; ok $? "audit_verify_creates_nothing"

[ ! -e "$DB-wal" ] || [ ! -s "$DB-wal" ]
ok $? "the_store_is_checkpointed_when_the_command_ends"
cp "$DB" "$TMP/pristine.db"
sql "$DB" "UPDATE audit SET detail = 'nation KOR' WHERE seq = 3;"
run audit verify --data-dir "$D"
[ "$rc" -eq 1 ] && case "$out" in "audit: entry 3 altered, chain broken"*) true ;; *) false ;; esac
ok $? "audit_verify_names_an_altered_entry" "rc=$rc out='$out'"
restore
sql "$DB" "DELETE FROM audit WHERE seq = 5;"
run audit verify --data-dir "$D"
[ "$rc" -eq 1 ] && case "$out" in "audit: entry 5 removed, chain broken"*) true ;; *) false ;; esac
ok $? "audit_verify_names_a_removed_entry" "rc=$rc out='$out'"
restore
sql "$DB" "UPDATE audit SET seq = -4 WHERE seq = 4; UPDATE audit SET seq = 4 WHERE seq = 5; UPDATE audit SET seq = 5 WHERE seq = -4;"
run audit verify --data-dir "$D"
[ "$rc" -eq 1 ] && case "$out" in "audit: entry 4 reordered, chain broken"*) true ;; *) false ;; esac
ok $? "audit_verify_names_reordered_entries" "rc=$rc out='$out'"
restore
sql "$DB" "UPDATE audit SET hash = zeroblob(32) WHERE seq = 7;"
run audit verify --data-dir "$D"
[ "$rc" -eq 1 ] && case "$out" in "audit: entry 7 altered"*) true ;; *) false ;; esac
ok $? "audit_verify_names_an_entry_whose_hash_was_replaced" "rc=$rc out='$out'"
restore
run audit verify --data-dir "$D"
[ "$rc" -eq 0 ]; ok $? "the_restored_copy_verifies_again" "rc=$rc out='$out'"

#@CLIENT@

echo "1..$n"
[ "$failed" -eq 0 ]
