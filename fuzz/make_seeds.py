#!/usr/bin/env python3
"""fuzz/make_seeds.py — write the hand-made seed inputs of the fuzz corpora.

Run from anywhere: it writes fuzz/corpus/<target>/seed-*.  The seeds are the
test vectors (../shared/vectors) plus edge cases a parser of untrusted input
must refuse cleanly: "billion laughs", external entities, deep nesting, huge
numbers, truncations.  libFuzzer grows the corpora from here; the committed
corpora are the result of -merge=1 runs (docs/FUZZING.md).
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VEC = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "vectors"))
SPIFFING = os.path.join(VEC, "spiffing")
NS4774 = "urn:nato:stanag:4774:confidentialitymetadatalabel:1:0"


def out(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def vec(name):
    with open(os.path.join(SPIFFING, name), "rb") as f:
        return f.read()


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
"""


def xml_attacks(target, body_with_entity, root_open, root_close):
    out(target, "billion-laughs.xml", BILLION_LAUGHS + body_with_entity("&lol9;"))
    out(target, "xxe.xml", XXE + body_with_entity("&xxe;"))
    out(target, "xxe-param.xml",
        '<?xml version="1.0"?>\n<!DOCTYPE foo [ <!ENTITY % p SYSTEM '
        '"http://127.0.0.1:1/x.dtd"> %p; ]>\n' + body_with_entity("x"))
    out(target, "deep-nesting.xml",
        root_open + "<a>" * 1000 + "</a>" * 1000 + root_close)
    out(target, "not-xml.xml", "\x00\xff\xfe<<<>>>")
    out(target, "empty.xml", "")
    out(target, "unclosed.xml", root_open)


def nato4774(policy, cls, cats, root="originatorConfidentialityLabel", ns=NS4774,
             extra=""):
    s = '<%s xmlns="%s">\n<ConfidentialityInformation>\n%s\n' % (root, ns, policy)
    if cls is not None:
        s += "<Classification>%s</Classification>\n" % cls
    for tag, typ, values in cats:
        s += '<Category TagName="%s" Type="%s">\n' % (tag, typ)
        for v in values:
            s += "<GenericValue>%s</GenericValue>\n" % v
        s += "</Category>\n"
    s += "</ConfidentialityInformation>\n%s</%s>\n" % (extra, root)
    return s


def seeds_spif():
    t = "fuzz_spif"
    for f in sorted(os.listdir(SPIFFING)):
        if f.endswith(".xml") and (
                "policy" in f or f in ("tlp.xml", "tlp-plus.xml", "uk-demo.xml",
                                       "bsi-commercial.xml")):
            out(t, f, vec(f))
    with open(os.path.join(VEC, "nmbs", "public-policy-v1.spif"), "rb") as f:
        out(t, "public-policy-v1.spif", f.read())
    food = vec("food-policy.xml").decode()
    out(t, "huge-lacv.xml", food.replace('lacv="1"', 'lacv="99999999999999999999999"', 1))
    out(t, "leading-zero-lacv.xml", food.replace('lacv="1"', 'lacv="0000001"', 1))
    out(t, "negative-hierarchy.xml",
        food.replace('hierarchy="1"', 'hierarchy="-9223372036854775809"', 1))
    out(t, "truncated-food.xml", food[: len(food) // 2])
    out(t, "truncated-nato.xml", vec("nato-4774-policy.xml")[:3000])
    xml_attacks(t, lambda e: '<SPIF xmlns="http://www.xmlspif.org/spif">%s</SPIF>' % e,
                '<SPIF xmlns="http://www.xmlspif.org/spif">', "</SPIF>")


def seeds_4774():
    t = "fuzz_label_4774"
    for f in sorted(os.listdir(SPIFFING)):
        if f.endswith(".nato"):
            out(t, f, vec(f))
    pol = '<PolicyIdentifier URL="urn:oid:1.3.26.1.3.1">NATO</PolicyIdentifier>'
    rel = ("Releasable To", "PERMISSIVE", ["JPN", "KOR", "AUS", "NZL"])
    ctx = ("Context", "PERMISSIVE", ["NATO", "Releasable"])
    out(t, "partners.nato", nato4774(pol, "SECRET", [ctx, rel]))
    out(t, "alternative.nato", nato4774(pol, "RESTRICTED", [ctx, rel],
                                        root="alternativeConfidentialityLabel"))
    out(t, "capital-root.nato", nato4774(pol, "UNCLASSIFIED", [ctx],
                                         root="OriginatorConfidentialityLabel"))
    out(t, "bare-label.nato", nato4774(pol, "CONFIDENTIAL", [ctx],
                                       root="ConfidentialityLabel"))
    out(t, "by-oid.nato", nato4774('<PolicyIdentifier URL="urn:oid:1.3.26.1.3.1"/>',
                                   "TOP SECRET", [ctx]))
    out(t, "lower-case.nato", nato4774("<PolicyIdentifier>nato</PolicyIdentifier>",
                                       "unclassified",
                                       [("releasable to", "PERMISSIVE", ["isaf"])]))
    out(t, "no-classification.nato", nato4774(pol, None, [ctx]))
    out(t, "unknown-category.nato",
        nato4774(pol, "SECRET", [("Releasable To", "PERMISSIVE", ["XYZ"])]))
    out(t, "unknown-policy.nato",
        nato4774("<PolicyIdentifier>NOPE</PolicyIdentifier>", "SECRET", []))
    out(t, "restrictive.nato", nato4774(pol, "SECRET", [
        ("Additional Sensitivity", "RESTRICTIVE", ["ATOMAL", "CRYPTO"]),
        ("Only", "PERMISSIVE", ["DEU", "FRA"]), ctx]))
    out(t, "with-date.nato", nato4774(pol, "SECRET", [ctx],
                                      extra="<CreationDateTime>2026-11-23T10:00:00Z"
                                      "</CreationDateTime>\n"))
    out(t, "prefixed.nato",
        vec("nato-4774-17-1.nato").decode()
        .replace('xmlns="', 'xmlns:s="').replace("<", "<s:").replace("<s:/", "</s:"))
    out(t, "wrong-ns.nato", nato4774(pol, "SECRET", [], ns="urn:example:nope"))
    out(t, "many-values.nato", nato4774(pol, "SECRET", [
        ("Releasable To", "PERMISSIVE", ["JPN"] * 1100)]))
    out(t, "huge-value.nato", nato4774(pol, "A" * 20000, []))
    out(t, "bdo.xml", open(os.path.join(VEC, "nmbs", "test.1.bdo"), "rb").read())
    xml_attacks(t, lambda e: nato4774(pol, e, []),
                '<originatorConfidentialityLabel xmlns="%s">' % NS4774,
                "</originatorConfidentialityLabel>")


def seeds_spiffing():
    t = "fuzz_label_spiffing"
    for f in sorted(os.listdir(SPIFFING)):
        if f.endswith(".xml") and ("label" in f or f.startswith("nato-4774-17")
                                   or f.startswith("tlpx")):
            out(t, f, vec(f))
    out(t, "huge-lacv.xml",
        "<label xmlns='http://surevine.com/xmlns/spiffy'><policy id='1.3.26.1.3.1'/>"
        "<classification lacv='18446744073709551617'/></label>")
    out(t, "no-policy.xml",
        "<label xmlns='http://surevine.com/xmlns/spiffy'><classification lacv='1'/></label>")
    xml_attacks(t, lambda e: "<label xmlns='http://surevine.com/xmlns/spiffy'>"
                "<policy id='1.3.26.1.3.1'>%s</policy><classification lacv='1'/></label>" % e,
                "<label xmlns='http://surevine.com/xmlns/spiffy'>", "</label>")


# --- BER (DER) helpers for ESS security labels ------------------------------
def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, body):
    return bytes([tag]) + der_len(len(body)) + body


def oid(s):
    parts = [int(x) for x in s.split(".")]
    body = bytearray()
    for i, v in enumerate([parts[0] * 40 + parts[1]] + parts[2:]):
        enc = [v & 0x7F]
        v >>= 7
        while v:
            enc.insert(0, 0x80 | (v & 0x7F))
            v >>= 7
        body += bytes(enc)
    return tlv(0x06, bytes(body))


def integer(v):
    return tlv(0x02, v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big", signed=True))


def bitstring(bits):
    n = max(bits) + 1 if bits else 0
    nbytes = (n + 7) // 8
    b = bytearray(nbytes)
    for i in bits:
        b[i // 8] |= 0x80 >> (i % 8)
    unused = nbytes * 8 - n
    return tlv(0x03, bytes([unused]) + bytes(b))


ACP145 = "2.16.840.1.101.2.1.8.3."


def category(kind, tagset, values):
    if kind in (0, 2):  # restrictive / permissive: bit map
        value = tlv(0x30, oid(tagset) + bitstring(values))
    elif kind in (1, 4):  # enumerated permissive / restrictive: SET OF INTEGER
        value = tlv(0x30, oid(tagset) + tlv(0x31, b"".join(integer(v) for v in values)))
    else:  # informative: FreeFormField, bit set
        value = tlv(0x30, oid(tagset) + bitstring(values))
    return tlv(0x30, tlv(0x80, oid(ACP145 + str(kind))[2:]) + tlv(0xA1, value))


def ess(policy=None, cls=None, mark=None, cats=None):
    body = b""
    if policy:
        body += oid(policy)
    if cls is not None:
        body += integer(cls)
    if mark is not None:
        body += tlv(0x0C, mark.encode())
    if cats:
        body += tlv(0x31, b"".join(cats))
    return tlv(0x31, body)


def seeds_ber():
    t = "fuzz_label_ber"
    for f in sorted(os.listdir(SPIFFING)):
        if f.endswith(".ber"):
            out(t, f, vec(f))
    nato = "1.3.26.1.3.1"
    out(t, "nato-unclassified.ber", ess(nato, 1))
    out(t, "nato-secret-rel.ber", ess(nato, 4, "NATO SECRET", [
        category(1, "1.3.26.1.4.2", [1001, 1201, 1501]),
        category(2, "1.3.26.1.4.4", [1, 2])]))
    out(t, "nato-restrictive.ber", ess(nato, 5, None, [
        category(0, "1.3.26.1.4.1", [1, 2, 3]),
        category(3, "1.3.26.1.4.3", [1])]))
    out(t, "food.ber", ess("1.2.826.0.1.6726289.0.0", 51))
    big = ess(nato, 1)
    out(t, "truncated.ber", big[:-1])
    out(t, "huge-length.ber", b"\x31\x84\xff\xff\xff\xff\x06\x01\x29")
    out(t, "indefinite.ber", b"\x31\x80\x06\x05\x2b\x1a\x01\x03\x01\x02\x01\x01\x00\x00")
    out(t, "huge-class.ber", ess(nato, 2 ** 200))
    out(t, "negative-class.ber", ess(nato, -1))
    out(t, "deep.ber", b"\x31\x80" * 2000)
    out(t, "long-oid.ber", ess("1.3." + ".".join(["4294967296"] * 300), 1))
    out(t, "empty.ber", b"")


def seeds_json():
    t = "fuzz_label_json"
    out(t, "deep.json", "[" * 3000 + "]" * 3000)
    out(t, "huge-number.json", '{"policy":"1.3.26.1.3.1","classification":1e99999}')
    out(t, "nul.json", '{"policy":"1.3.26.1.3.1\\u0000x","classification":"SECRET"}')
    out(t, "not-json.json", "\xff\xfe{")
    out(t, "empty.json", "")
    out(t, "dup-keys.json", '{"policy":"1.3.26.1.3.1","policy":"1.1"}')
    rel = {"tagSet": "Releasable To", "type": "permissive",
           "values": ["JPN", "KOR", "AUS", "NZL"]}
    ctx = {"tagSet": "Context", "type": "permissive", "values": ["NATO", "Releasable"]}
    labels = {
        "nato-partners": {"policy": "1.3.26.1.3.1", "classification": "SECRET",
                          "categories": [ctx, rel], "privacyMark": "EXERCISE"},
        "nato-by-name-lacv": {"policy": "NATO", "classification": 2,
                              "categories": [{"tagSet": "1.3.26.1.4.2",
                                              "type": "enumeratedPermissive",
                                              "values": [1001, "ISAF"]}]},
        "nato-restrictive": {"policy": "1.3.26.1.3.1", "classification": "TOP SECRET",
                             "categories": [{"tagSet": "Additional Sensitivity",
                                             "type": "restrictive",
                                             "values": ["ATOMAL"]},
                                            {"tagSet": "Administrative",
                                             "type": "informative",
                                             "values": ["STAFF"]}]},
        "food": {"policy": "1.2.826.0.1.6726289.0.0", "classification": 51},
        "no-classification": {"policy": "1.3.26.1.3.1", "categories": [ctx]},
        "unknown-key": {"policy": "1.3.26.1.3.1", "classification": "SECRET",
                        "caveats": ["X"]},
        "negative-lacv": {"policy": "1.3.26.1.3.1", "classification": -1},
        "huge-lacv": {"policy": "1.3.26.1.3.1", "classification": 2 ** 62},
    }
    for name, obj in labels.items():
        out(t, name + ".json", json.dumps(obj))
    c = "fuzz_clearance_json"
    clearances = {
        "nato-secret-partners": {"policy": "1.3.26.1.3.1",
                                 "classifications": ["UNCLASSIFIED", "RESTRICTED",
                                                     "CONFIDENTIAL", "SECRET"],
                                 "categories": [ctx, rel]},
        "nato-max": {"policy": "NATO", "maxClassification": "SECRET",
                     "categories": [{"tagSet": "Releasable To", "type": "permissive",
                                     "values": ["ISAF", "KFOR", "RESOLUTE SUPPORT"]}]},
        "food-lacv": {"policy": "1.2.826.0.1.6726289.0.0", "classifications": [51, 52]},
        "tlp": {"policy": "TLP", "maxClassification": 4},
        "empty": {"policy": "1.3.26.1.3.1"},
        "unknown-key": {"policy": "1.3.26.1.3.1", "admin": True},
    }
    for name, obj in clearances.items():
        out(c, name + ".json", json.dumps(obj))
    out(c, "deep.json", "{\"a\":" * 3000 + "1" + "}" * 3000)
    out(c, "huge-number.json", '{"policy":"1.3.26.1.3.1","classifications":[1e400]}')
    out(c, "empty.json", "")


def seeds_clearance_spiffing():
    t = "fuzz_clearance_spiffing"
    for f in ("food-clearance-all-okay.xml", "food-clearance-lactose-intolerant.xml",
              "uk-demo-secret-uk.xml"):
        out(t, f, vec(f))
    out(t, "nato-partners.xml",
        "<clearance xmlns='http://surevine.com/xmlns/spiffy'>"
        "<policy id='1.3.26.1.3.1'/><classification lacv='1'/>"
        "<classification lacv='4'/>"
        "<tag type='enumeratedPermissive' id='1.3.26.1.4.2' lacv='1001'/>"
        "<tag type='permissive' id='1.3.26.1.4.4' lacv='1'/></clearance>")
    xml_attacks(t, lambda e: "<clearance xmlns='http://surevine.com/xmlns/spiffy'>"
                "<policy id='1.3.26.1.3.1'>%s</policy></clearance>" % e,
                "<clearance xmlns='http://surevine.com/xmlns/spiffy'>", "</clearance>")


def seeds_http():
    """Requests as the node gets them: every route, and the smuggling and
    framing tricks of issue 9 (white space before a colon, two
    Authorization or Host headers, NUL bytes, ambiguous lengths)."""
    t = "fuzz_http_request"
    tok = "Authorization: Bearer lsn_" + "A" * 43 + "\r\n"
    get = lambda path, extra="": ("GET %s HTTP/1.1\r\nHost: node\r\n%s%s\r\n" % (path, tok, extra))
    for name, path in [("root", "/"), ("file", "/app.css"), ("js", "/js/api.js"),
                       ("views", "/js/views/feed.js"), ("healthz", "/healthz"),
                       ("me", "/api/v1/me"), ("policy", "/api/v1/policy"),
                       ("channels", "/api/v1/channels"),
                       ("list", "/api/v1/channels/cyber-defence/items?after=42&limit=100"),
                       ("item", "/api/v1/items/17"), ("attachment", "/api/v1/items/17/attachment"),
                       ("search", "/api/v1/search?q=zebra&channel=space&limit=1000"),
                       ("stream", "/api/v1/stream"), ("metrics", "/metrics"),
                       ("unknown", "/nope/../../etc/passwd"),
                       ("limit-huge", "/api/v1/search?q=a&limit=99999999999999999999999"),
                       ("limit-sign", "/api/v1/channels/c/items?limit=-1&after=+5"),
                       ("empty-segment", "/api/v1/items//attachment")]:
        out(t, "get-" + name, get(path))
    body = '{"label":{"policy":"NATO","classification":"RESTRICTED"},"body":"hello"}'
    out(t, "post", "POST /api/v1/channels/space/items HTTP/1.1\r\nHost: node\r\n" + tok +
        "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    out(t, "post-deep", "POST /api/v1/labels/mark HTTP/1.1\r\nHost: n\r\n" + tok +
        "Content-Type: application/json\r\n\r\n" + "[" * 100 + '"]]"' + "]" * 100)
    out(t, "te-space-before-colon",
        "POST /api/v1/channels/space/items HTTP/1.1\r\nHost: n\r\nContent-Length: 5\r\n"
        "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\nGET /api/v1/me HTTP/1.1\r\n" + tok + "\r\n")
    out(t, "tab-before-colon", get("/healthz", "X-A\t: b\r\n"))
    out(t, "two-authorization", get("/api/v1/me", "Authorization: Bearer lsn_other\r\n"))
    out(t, "two-host", get("/healthz", "Host: other\r\n"))
    out(t, "nul-in-path", "GET /heal\0thz HTTP/1.1\r\nHost: n\r\n\r\n")
    out(t, "nul-in-value", get("/healthz", "Transfer-Encoding: chunked\0x\r\n"))
    out(t, "cl-and-te", "POST /api/v1/labels/mark HTTP/1.1\r\nHost: n\r\nContent-Length: 4\r\n"
        "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    out(t, "te-chunked-twice", get("/healthz", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"))
    out(t, "te-gzip", get("/healthz", "Transfer-Encoding: gzip, chunked\r\n"))
    out(t, "two-cl", get("/healthz", "Content-Length: 1\r\nContent-Length: 2\r\n"))
    out(t, "empty-name", get("/healthz", ": b\r\n"))
    out(t, "obs-fold", get("/healthz", "X-A: a\r\n b\r\n"))
    out(t, "bare-lf", "GET /healthz HTTP/1.1\nHost: n\nX-A: b\n\n")
    out(t, "bearer-odd", get("/api/v1/me", "").replace(tok, "Authorization: bearer  lsn_x y\r\n"))
    out(t, "bearer-long", get("/api/v1/me", "").replace(tok, "Authorization: Bearer lsn_" + "x" * 300 + "\r\n"))


def main():
    seeds_http()
    seeds_clearance_spiffing()
    seeds_spif()
    seeds_4774()
    seeds_spiffing()
    seeds_ber()
    seeds_json()
    return 0


if __name__ == "__main__":
    sys.exit(main())
