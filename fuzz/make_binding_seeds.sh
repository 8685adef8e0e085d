#!/bin/sh
# fuzz/make_binding_seeds.sh — write the seed inputs of fuzz_binding_verify:
# bindings signed by the test node of fuzz/binding-node/ (a key made for
# this and nothing else), and altered copies that must be refused (a flipped
# label byte, a second binding, a wrapper, a KeyInfo, an external reference,
# xml:id, a DTD, another algorithm, truncation).
#
# usage: fuzz/make_binding_seeds.sh LIAISON   (the built command)
set -eu
LIAISON=$1
HERE=$(cd "$(dirname "$0")" && pwd)
VEC=$HERE/../tests/vectors/liaison
OUT=$HERE/corpus/fuzz_binding_verify
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$OUT"
# The key must be owner-only to be used; git keeps it 0644.
cp "$HERE/binding-node/node.crt" "$HERE/binding-node/node.key" "$TMP/"
chmod 600 "$TMP/node.key"

printf 'Exercise briefing, Tokyo, 14:00.\n' >"$TMP/body"
i=0
for l in nr-rel-jpn.nato nr-rel-kor.nato cts.nato nu-rel-che-jpn-ukr.nato ns-rel-ap4.nato; do
    i=$((i + 1))
    "$LIAISON" binding sign --data-dir "$TMP" --label "$VEC/$l" --content "$TMP/body" --channel cyber-defence \
        --uuid "0f8e2a52-6c1b-4d0e-9a7c-3b5d1e2f4a6$i" >"$OUT/seed-valid-$l.xml"
done
V=$OUT/seed-valid-nr-rel-jpn.nato.xml
sed 's/<GenericValue>JPN</<GenericValue>KOR</' "$V" >"$OUT/seed-flipped-label.xml"
sed 's#</ds:SignatureValue>#</ds:SignatureValue><ds:KeyInfo><ds:KeyName>x</ds:KeyName></ds:KeyInfo>#' \
    "$V" >"$OUT/seed-keyinfo.xml"
sed 's#URI="\#binding-[^"]*"#URI="file:///etc/hostname"#' "$V" >"$OUT/seed-external-uri.xml"
sed 's#URI="\#binding-[^"]*"#URI="\#xpointer(/)"#' "$V" >"$OUT/seed-xpointer.xml"
sed 's#<mb:Metadata>#<mb:Metadata xml:id="x">#' "$V" >"$OUT/seed-xml-id.xml"
sed 's#xmldsig-more\#ecdsa-sha256#xmldsig-more\#hmac-sha256#' "$V" >"$OUT/seed-hmac.xml"
sed 's#<mb:MetadataBinding #<mb:Wrapper><mb:MetadataBinding #; s#</mb:MetadataBinding>#</mb:MetadataBinding></mb:Wrapper>#' \
    "$V" >"$OUT/seed-wrapper.xml"
{ printf '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "JPN">]>\n'; tail -n +2 "$V"; } \
    >"$OUT/seed-dtd.xml"
head -c 1200 "$V" >"$OUT/seed-truncated.xml"
