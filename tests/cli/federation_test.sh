#!/bin/sh
# tests/cli/federation_test.sh — the federation verbs of the `liaison`
# command (TAP): node init / node show, binding sign / binding verify.
#
# usage: federation_test.sh LIAISON LIAISON_VECTORS_DIR DATA_DIR (the repository's data/)
#
# Pins outputs and exit codes: the identity's files and modes, the
# fingerprint against openssl's, refusal to overwrite, a nation the policy
# does not know, a sign -> verify round trip, and refusals (another node's
# certificate, an altered label, altered content, an invalid label).

set -u
LIAISON=$1
VEC=$2
DATA=$3

n=0
failed=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/liaison-fed-cli.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

ok() { # ok COND-EXIT-STATUS NAME [DIAGNOSTIC]
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $n - $2"
    else
        echo "not ok $n - $2"
        failed=$((failed + 1))
        [ $# -ge 3 ] && printf '%s\n' "$3" | sed 's/^/#   /'
    fi
}

# run ARGS...: runs liaison; sets $out, $err, $rc.
run() {
    "$LIAISON" "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    out=$(cat "$TMP/out")
    err=$(cat "$TMP/err")
}
diag() { echo "rc=$rc out='$out' err='$err'"; }

HQ=$TMP/hq
run node init --data-dir "$HQ" --name "NATO HQ" --nation nato
[ "$rc" -eq 0 ] && [ -f "$HQ/node.crt" ] && [ -f "$HQ/node.key" ]
ok $? node_init_makes_certificate_and_key "$(diag)"
echo "$out" | grep -qx "nation: NATO"
ok $? node_init_takes_the_policys_spelling_of_the_nation "$(diag)"
mode=$(stat -c %a "$HQ/node.key")
[ "$mode" = 600 ]
ok $? node_key_is_mode_0600 "mode $mode"
want=$(openssl x509 -in "$HQ/node.crt" -noout -fingerprint -sha256 | sed 's/^.*=//')
echo "$out" | grep -qx "fingerprint: SHA-256 $want"
ok $? node_init_prints_the_certificates_sha256_fingerprint "$(diag); openssl: $want"
subject=$(openssl x509 -in "$HQ/node.crt" -noout -subject -nameopt RFC2253)
[ "$subject" = "subject=OU=NATO,CN=NATO HQ" ]
ok $? certificate_subject_holds_name_and_nation "$subject"
openssl x509 -in "$HQ/node.crt" -noout -text | grep -q "ASN1 OID: prime256v1"
ok $? certificate_key_is_p256

before=$(cat "$HQ/node.crt" "$HQ/node.key" | sha256sum)
run node init --data-dir "$HQ" --name "Other" --nation JPN
after=$(cat "$HQ/node.crt" "$HQ/node.key" | sha256sum)
[ "$rc" -eq 2 ] && [ "$before" = "$after" ] && echo "$err" | grep -q "never overwritten"
ok $? node_init_never_overwrites_an_identity "$(diag)"

run node init --data-dir "$TMP/x" --name "X" --nation ATLANTIS
[ "$rc" -eq 2 ] && [ ! -e "$TMP/x/node.key" ] && echo "$err" | grep -q "not a category value"
ok $? node_init_refuses_a_nation_the_policy_does_not_know "$(diag)"

run node show --data-dir "$HQ"
[ "$rc" -eq 0 ] && [ "$(echo "$out" | head -1)" = "name: NATO HQ" ] &&
    echo "$out" | grep -qx "fingerprint: SHA-256 $want"
ok $? node_show_prints_name_nation_fingerprint "$(diag)"
run node show --data-dir "$TMP/none"
[ "$rc" -eq 2 ] && echo "$err" | grep -q "no node identity"
ok $? node_show_without_identity_is_an_error "$(diag)"

printf 'Exercise briefing, Tokyo, 14:00.\n' >"$TMP/body"
UUID=0f8e2a52-6c1b-4d0e-9a7c-3b5d1e2f4a6b
run binding sign --data-dir "$HQ" --label "$VEC/nr-rel-jpn.nato" --content "$TMP/body" --uuid $UUID --channel cyber-defence
cp "$TMP/out" "$TMP/b.xml"
[ "$rc" -eq 0 ] && grep -q "urn:nato:stanag:4778:bindinginformation:1:0" "$TMP/b.xml"
ok $? binding_sign_writes_a_4778_binding "$(diag)"

run binding verify "$TMP/b.xml" --certificate "$HQ/node.crt" --content "$TMP/body"
[ "$rc" -eq 0 ] && [ "$(echo "$out" | head -5)" = "verified
origin: NATO HQ
uuid: $UUID
channel: cyber-defence
marking: NATO RESTRICTED Releasable to JPN" ] && echo "$out" | grep -q "^content: matches"
ok $? binding_verify_prints_origin_uuid_channel_marking "$(diag)"
# binding translate: the originator's bytes unchanged, the equivalent
# label beside them; one with no equivalent there is refused.
JPOL="--policy $DATA/liaison-policy.xml --policy $DATA/jpn-illustrative-policy.xml"
printf '%s' '{"policy":"NATO","classification":"RESTRICTED","categories":[{"tagSet":"Context","values":["Releasable"]},{"tagSet":"Releasable To","values":["JPN","NATO"]}]}' >"$TMP/rel.json"
"$LIAISON" binding sign --data-dir "$HQ" --label "$TMP/rel.json" --content "$TMP/body" --channel cyber-defence >"$TMP/rel.xml"
run binding translate "$TMP/rel.xml" --data-dir "$HQ" --to-policy JPN-ILLUSTRATIVE $JPOL
cp "$TMP/out" "$TMP/tr.xml"
# everything of the originator's document up to its root's end tag
head -c $(($(wc -c <"$TMP/rel.xml") - 26)) "$TMP/rel.xml" >"$TMP/prefix"
[ "$rc" -eq 0 ] && grep -q "alternativeConfidentialityLabel" "$TMP/tr.xml" &&
    cmp -s "$TMP/prefix" "$TMP/tr.xml" -n $(wc -c <"$TMP/prefix")
ok $? binding_translate_adds_the_equivalent_beside_the_originators_bytes "$(diag)"
run binding translate "$TMP/b.xml" --data-dir "$HQ" --to-policy JPN-ILLUSTRATIVE $JPOL
[ "$rc" -eq 1 ] && echo "$out" | grep -q "^refused:"
ok $? binding_translate_refuses_a_label_with_no_equivalent "$(diag)"

run binding verify "$TMP/b.xml" --certificate "$HQ/node.crt" --lang fr
echo "$out" | grep -q "^marking: NATO DIFFUSION RESTREINTE"
ok $? binding_verify_marks_in_french "$(diag)"

"$LIAISON" node init --data-dir "$TMP/other" --name "NATO HQ" --nation NATO >/dev/null
run binding verify "$TMP/b.xml" --certificate "$TMP/other/node.crt"
[ "$rc" -eq 1 ] && echo "$out" | grep -q "^refused: the signature does not verify"
ok $? binding_verify_refuses_another_nodes_certificate "$(diag)"

sed 's/<GenericValue>JPN</<GenericValue>KOR</' "$TMP/b.xml" >"$TMP/t.xml"
run binding verify "$TMP/t.xml" --certificate "$HQ/node.crt"
! cmp -s "$TMP/b.xml" "$TMP/t.xml" && [ "$rc" -eq 1 ] && echo "$out" | grep -q "^refused:"
ok $? binding_verify_refuses_an_altered_label "$(diag)"

printf 'Exercise briefing, Tokyo, 15:00.\n' >"$TMP/body2"
run binding verify "$TMP/b.xml" --certificate "$HQ/node.crt" --content "$TMP/body2"
[ "$rc" -eq 1 ] && [ "$out" = "refused: the content does not match the signed digest" ]
ok $? binding_verify_refuses_altered_content "$(diag)"

run binding sign --data-dir "$HQ" --label "$VEC/invalid-nr-rel-jpn-no-nato.nato" --content "$TMP/body" --channel cyber-defence
[ "$rc" -eq 1 ] && echo "$out" | grep -q "^invalid:"
ok $? binding_sign_refuses_an_invalid_label "$(diag)"

run binding verify "$TMP/b.xml"
[ "$rc" -eq 2 ] && echo "$err" | grep -q -- "--certificate is required"
ok $? binding_verify_needs_a_certificate "$(diag)"

run binding verify "$TMP/b.xml" --certificate "$TMP/body"
[ "$rc" -eq 2 ] && echo "$err" | grep -q "not a PEM certificate"
ok $? binding_verify_refuses_a_certificate_that_is_not_one "$(diag)"

# The content digest is the one docs/FEDERATION.md defines, computed here
# apart from the C code.
want_digest=$(python3 -c '
import base64, hashlib, struct, sys
b = open(sys.argv[1], "rb").read()
m = b"liaison-content/1\0" + struct.pack(">Q", len(b)) + b + b"\0"
print(base64.b64encode(hashlib.sha384(m).digest()).decode())' "$TMP/body")
grep -q "<mb:DataReference URI=\"urn:uuid:$UUID\">" "$TMP/b.xml" &&
    grep -q "<ds:DigestValue>$want_digest</ds:DigestValue>" "$TMP/b.xml"
ok $? content_digest_is_sha384_of_the_documented_encoding "want $want_digest"

# Peers (the service layer's registry, offline).
JPN=$TMP/jpn
KOR=$TMP/kor
run node init --data-dir "$JPN" --name "JPN MOD" --nation JPN
run node init --data-dir "$KOR" --name "KOR MND" --nation KOR
run peer add "JPN MOD" --data-dir "$HQ" --url https://127.0.0.1:9001 --nation jpn \
    --certificate "$JPN/node.crt" --max-classification SECRET
[ "$rc" -eq 0 ] && echo "$out" | grep -q "^peer JPN MOD added"
ok $? peer_add_registers_a_peer "$(diag)"
run peer add "KOR MND" --data-dir "$HQ" --url https://127.0.0.1:9002 --nation KOR \
    --certificate "$KOR/node.crt" --via "JPN MOD" --max-classification CONFIDENTIAL
[ "$rc" -eq 0 ]
ok $? peer_add_registers_a_relayed_peer "$(diag)"
run peer add "KOR MND" --data-dir "$HQ" --url https://127.0.0.1:9002 --nation KOR \
    --certificate "$JPN/node.crt"
[ "$rc" -eq 2 ] && echo "$err" | grep -q 'The certificate is node "JPN MOD" of JPN'
ok $? peer_add_refuses_another_nodes_certificate "$(diag)"
run node init --data-dir "$TMP/aus" --name "AUS DFAT" --nation AUS
run peer add "AUS DFAT" --data-dir "$HQ" --url https://127.0.0.1:9003 --nation AUS \
    --certificate "$TMP/aus/node.crt" --via "Nobody"
[ "$rc" -eq 2 ] && echo "$err" | grep -q 'No peer named "Nobody" to relay'
ok $? peer_add_refuses_an_unknown_relay "$(diag)"
run peer list --data-dir "$HQ"
[ "$rc" -eq 0 ] && [ "$(echo "$out" | wc -l)" -eq 2 ] &&
    echo "$out" | grep -q "^JPN MOD	nation JPN	https://127.0.0.1:9001	policy NATO	state new	last contact never	waiting 0	acknowledged 0	last error none$" &&
    echo "$out" | grep -q "^KOR MND	nation KOR	https://127.0.0.1:9002 via JPN MOD	policy NATO	state new"
ok $? peer_list_prints_state_contact_waiting_acknowledged_error "$(diag)"

# A peer whose node decides under another policy, equivalent to ours both
# ways (--to-policy, by name or OID); one the node does not hold is refused.
POLICIES="--policy $DATA/liaison-policy.xml --policy $DATA/jpn-illustrative-policy.xml"
run node init --data-dir "$TMP/tokyo" --name "TOKYO" --nation JPN
run peer add "TOKYO" --data-dir "$HQ" --url https://127.0.0.1:9004 --nation JPN \
    --certificate "$TMP/tokyo/node.crt" --to-policy 1.2.3.4 $POLICIES
[ "$rc" -eq 2 ] && echo "$err" | grep -q 'The policy 1.2.3.4 is not one this node holds'
ok $? peer_add_refuses_a_policy_the_node_does_not_hold "$(diag)"
run peer add "TOKYO" --data-dir "$HQ" --url https://127.0.0.1:9004 --nation JPN \
    --certificate "$TMP/tokyo/node.crt" --to-policy JPN-ILLUSTRATIVE $POLICIES
[ "$rc" -eq 0 ]
ok $? peer_add_takes_an_equivalent_policy "$(diag)"
run peer list --data-dir "$HQ" $POLICIES
[ "$rc" -eq 0 ] && echo "$out" | grep -q "^TOKYO	nation JPN	https://127.0.0.1:9004	policy JPN-ILLUSTRATIVE	state new"
ok $? peer_list_prints_the_peers_policy "$(diag)"

run audit verify --data-dir "$HQ"
[ "$rc" -eq 0 ]
ok $? peer_acts_keep_the_audit_chain_intact "$(diag)"

# serve never overwrites an identity: a name or nation it does not have stops it.
run serve --data-dir "$HQ" --node-name "Someone Else" --listen 127.0.0.1:0 --metrics-listen none
[ "$rc" -eq 2 ] && echo "$err" | grep -q 'the data directory.s node is "NATO HQ" (NATO)'
ok $? serve_refuses_a_node_name_its_identity_does_not_have "$(diag)"
run serve --data-dir "$TMP/fresh" --node-nation ATLANTIS --listen 127.0.0.1:0 --metrics-listen none
[ "$rc" -eq 2 ] && echo "$err" | grep -q "ATLANTIS: not a category value" && [ ! -e "$TMP/fresh/node.key" ]
ok $? serve_refuses_a_new_identity_for_a_nation_the_policy_does_not_know "$(diag)"

echo "1..$n"
[ "$failed" -eq 0 ]
