#!/bin/sh
# tests/cli/cert_test.sh — signing in with a client certificate (issue 11:
# how NATO staff sign in, with smart cards), TAP.
#
# usage: cert_test.sh LIAISON
#
# The test makes its own certificates with the openssl command: a CA (the
# smart cards' issuer), the node's server certificate, a user's certificate
# from that CA, another from that CA bound to nobody, and a self-signed one
# bound to a user but chained to no trusted CA. A node serves TLS with
# --tls-client-ca; `liaison user set-certificate` binds users offline while
# it runs; curl presents each certificate. Only the bound certificate from
# the trusted CA signs its user in; a disabled user's certificate stops at
# once (certificate sign-ins are not cached).
#
# Binding by subject under a CA: two CAs are trusted; a user bound to a
# subject under the first is signed in by any certificate with that subject
# the first CA issued (a reissued card, a new key), never by one with the
# same subject from the second CA or from an untrusted one.
set -u
LIAISON=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") # we cd below
TMP=$(mktemp -d "${TMPDIR:-/tmp}/liaison-cert.XXXXXX")
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

if ! command -v openssl >/dev/null || ! command -v curl >/dev/null; then
    echo "1..0 # SKIP openssl or curl missing"
    exit 0
fi

cd "$TMP" || exit 1
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
key ca.key && openssl req -x509 -new -key ca.key -out ca.pem -days 2 \
    -subj "/CN=Test Smart Card CA" 2>/dev/null
key server.key && openssl req -x509 -new -key server.key -out server.pem -days 2 \
    -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
for who in kenji other; do
    key "$who.key"
    openssl req -new -key "$who.key" -out "$who.csr" -subj "/CN=$who" 2>/dev/null
    openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
        -out "$who.pem" -days 2 2>/dev/null
done
key rogue.key && openssl req -x509 -new -key rogue.key -out rogue.pem -days 2 \
    -subj "/CN=rogue" 2>/dev/null
# A second trusted CA, an untrusted one, and cards with one subject from each.
for c in ca2 ca3; do
    key "$c.key" && openssl req -x509 -new -key "$c.key" -out "$c.pem" -days 2 \
        -subj "/CN=Smart Card CA $c" 2>/dev/null
done
card() { # card NAME CA
    key "$1.key"
    openssl req -new -key "$1.key" -out "$1.csr" -subj "/C=JP/O=MOFA/CN=Yui Nakamura" 2>/dev/null
    openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial \
        -out "$1.pem" -days 2 2>/dev/null
}
card card1 ca && card card2 ca && card impostor ca2 && card stranger ca3
cat ca.pem ca2.pem >trusted.pem
[ -s ca.pem ] && [ -s server.pem ] && [ -s kenji.pem ] && [ -s other.pem ] && [ -s rogue.pem ] &&
    [ -s card1.pem ] && [ -s card2.pem ] && [ -s impostor.pem ] && [ -s stranger.pem ]
ok $? "the_test_makes_its_certificates"

"$LIAISON" serve --demo --data-dir "$TMP/d" --listen 127.0.0.1:0 --metrics-listen none \
    --tls-cert server.pem --tls-key server.key --tls-client-ca trusted.pem >"$TMP/log" 2>&1 &
PID=$!
URL=
for _ in $(seq 1 600); do
    URL=$(sed -n 's/.*listening on \(https:\/\/[^ ]*\).*/\1/p' "$TMP/log" | head -n 1)
    [ -n "$URL" ] && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.2
done
[ -n "$URL" ]
ok $? "node_serves_tls_with_a_client_ca" "$(cat "$TMP/log")"

out=$("$LIAISON" user set-certificate kenji.watanabe --certificate kenji.pem --data-dir "$TMP/d" 2>&1)
fp=$(openssl x509 -in kenji.pem -outform DER | sha256sum | cut -d' ' -f1)
[ "$out" = "kenji.watanabe: certificate SHA-256 $fp" ]
ok $? "set_certificate_binds_by_the_sha256_of_the_der" "$out / $fp"
"$LIAISON" user set-certificate lars.jensen --certificate rogue.pem --data-dir "$TMP/d" >/dev/null 2>&1
out=$("$LIAISON" user set-certificate yui.nakamura --certificate kenji.pem --data-dir "$TMP/d" 2>&1)
[ $? -eq 2 ] && case "$out" in *"bound to another user"*) true ;; *) false ;; esac
ok $? "a_certificate_signs_in_one_user_only" "$out"

me() { # me CURL-ARGS...: status and body of GET /api/v1/me
    curl -s -o "$TMP/body" -w '%{http_code}' --cacert server.pem "$@" "$URL/api/v1/me"
}
st=$(me --cert kenji.pem --key kenji.key)
[ "$st" = 200 ] && grep -q '"name":"kenji.watanabe"' "$TMP/body"
ok $? "a_bound_certificate_from_the_trusted_ca_signs_its_user_in" "$st $(cat "$TMP/body")"
st=$(me)
[ "$st" = 401 ]; ok $? "no_certificate_no_token_is_401" "$st"
st=$(me --cert other.pem --key other.key)
[ "$st" = 401 ]; ok $? "a_trusted_certificate_bound_to_nobody_is_401" "$st"
st=$(me --cert rogue.pem --key rogue.key)
[ "$st" = 401 ]; ok $? "a_bound_certificate_from_an_untrusted_issuer_is_401" "$st"
TOKEN=$(python3 -c 'import json,sys
for u in json.load(open(sys.argv[1])):
    if u["user"] == "ingrid.halvorsen": print(u["token"])' "$TMP/d/demo-credentials.json")
st=$(me --cert kenji.pem --key kenji.key -H "Authorization: Bearer $TOKEN")
[ "$st" = 200 ] && grep -q '"name":"ingrid.halvorsen"' "$TMP/body"
ok $? "a_bearer_token_takes_precedence_over_the_certificate" "$st $(cat "$TMP/body")"
"$LIAISON" user disable kenji.watanabe --data-dir "$TMP/d" >/dev/null 2>&1
st=$(me --cert kenji.pem --key kenji.key)
[ "$st" = 401 ]; ok $? "a_disabled_users_certificate_stops_at_once" "$st"

# By subject under a CA. The DN is written as a person would (spaces).
"$LIAISON" user set-certificate yui.nakamura --subject "CN=Yui Nakamura, O=MOFA, C=JP" \
    --data-dir "$TMP/d" >"$TMP/out" 2>&1
[ $? -eq 2 ] && grep -q -- "--issuer" "$TMP/out"
ok $? "a_subject_without_its_issuer_is_refused" "$(cat "$TMP/out")"
"$LIAISON" user set-certificate yui.nakamura --subject "not a dn" --issuer ca.pem \
    --data-dir "$TMP/d" >"$TMP/out" 2>&1
[ $? -eq 2 ]; ok $? "a_subject_that_is_not_a_dn_is_refused" "$(cat "$TMP/out")"
out=$("$LIAISON" user set-certificate yui.nakamura --subject "CN=Yui Nakamura, O=MOFA, C=JP" \
    --issuer ca.pem --data-dir "$TMP/d" 2>&1)
cafp=$(openssl x509 -in ca.pem -outform DER | sha256sum | cut -d' ' -f1)
[ "$out" = "yui.nakamura: certificates with subject CN=Yui Nakamura,O=MOFA,C=JP issued by CA SHA-256 $cafp" ]
ok $? "set_certificate_binds_a_subject_under_a_ca" "$out / $cafp"
out=$("$LIAISON" user set-certificate lars.jensen --subject "CN=Yui Nakamura,O=MOFA,C=JP" \
    --issuer ca.pem --data-dir "$TMP/d" 2>&1)
[ $? -eq 2 ] && case "$out" in *"another user"*) true ;; *) false ;; esac
ok $? "a_subject_under_a_ca_signs_in_one_user_only" "$out"
st=$(me --cert card1.pem --key card1.key)
[ "$st" = 200 ] && grep -q '"name":"yui.nakamura"' "$TMP/body"
ok $? "a_certificate_with_the_bound_subject_from_its_ca_signs_in" "$st $(cat "$TMP/body")"
st=$(me --cert card2.pem --key card2.key)
[ "$st" = 200 ] && grep -q '"name":"yui.nakamura"' "$TMP/body"
ok $? "a_reissued_card_with_the_same_subject_signs_in" "$st $(cat "$TMP/body")"
st=$(me --cert impostor.pem --key impostor.key)
[ "$st" = 401 ]; ok $? "the_same_subject_from_another_trusted_ca_is_401" "$st $(cat "$TMP/body")"
st=$(me --cert stranger.pem --key stranger.key)
[ "$st" = 401 ]; ok $? "the_same_subject_from_an_untrusted_ca_is_401" "$st"
out=$("$LIAISON" user show yui.nakamura --data-dir "$TMP/d" 2>&1)
case "$out" in *"certificate subject: CN=Yui Nakamura,O=MOFA,C=JP"*"certificate issuer: CA SHA-256 $cafp"*) true ;; *) false ;; esac
ok $? "user_show_prints_the_subject_and_its_ca" "$out"
"$LIAISON" audit show --action user.set-certificate --data-dir "$TMP/d" >"$TMP/out" 2>&1
grep -q "Yui Nakamura" "$TMP/out"
ok $? "binding_a_subject_is_audited" "$(cat "$TMP/out")"
"$LIAISON" user set-certificate yui.nakamura --certificate none --data-dir "$TMP/d" >/dev/null 2>&1
st=$(me --cert card1.pem --key card1.key)
[ "$st" = 401 ]; ok $? "none_unbinds_the_subject_too" "$st"

echo "1..$n"
[ "$failed" -eq 0 ]
