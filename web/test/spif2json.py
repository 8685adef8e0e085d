#!/usr/bin/env python3
"""spif2json.py — the policy JSON of GET /api/v1/policy, made from a SPIF.

For the mock node only (web/test/mock-server.mjs): it gives the page the
bundled policy's real classifications, colours, nations and exclusions, plus
the optional marking fields the page uses for its live preview (see
docs/WEB.md, "Policy JSON"). The real node builds this from its compiled
policy. Usage: spif2json.py SPIF.xml > policy.json
"""
import json
import sys
import xml.etree.ElementTree as ET

NS = "{http://www.xmlspif.org/spif}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def marking_data(el):
    out = []
    for m in el.findall(NS + "markingData"):
        out.append({
            "lang": m.get(XML_LANG),
            "phrase": m.get("phrase"),
            "codes": [c.text.strip() for c in m.findall(NS + "code") if c.text],
        })
    return out


def tag_type(tag):
    t = tag.get("tagType")
    if t == "enumerated":
        return "enumeratedPermissive" if tag.get("enumType") == "permissive" else "enumeratedRestrictive"
    if t == "tagType7":
        return "informative"
    return t


def main(path):
    root = ET.parse(path).getroot()
    pid = root.find(NS + "securityPolicyId")
    policy = {"id": pid.get("id"), "name": pid.get("name"),
              "classifications": [], "categories": [], "tagSets": []}
    for c in root.iter(NS + "securityClassification"):
        policy["classifications"].append({
            "name": c.get("name"), "lacv": int(c.get("lacv")),
            "hierarchy": int(c.get("hierarchy")), "colour": c.get("color"),
            "markingData": marking_data(c),
        })
    for ts in root.iter(NS + "securityCategoryTagSet"):
        for tag in ts.findall(NS + "securityCategoryTag"):
            ttype = tag_type(tag)
            quals = []
            for mq in tag.findall(NS + "markingQualifier"):
                for q in mq.findall(NS + "qualifier"):
                    quals.append({"lang": q.get(XML_LANG), "kind": q.get("qualifierCode"),
                                  "text": q.get("markingQualifier"),
                                  "code": mq.get("markingCode")})
            policy["tagSets"].append({"name": ts.get("name"), "id": ts.get("id"),
                                      "type": ttype, "qualifiers": quals})
            for cat in tag.findall(NS + "tagCategory"):
                entry = {"tagSet": ts.get("name"), "type": ttype, "name": cat.get("name"),
                         "lacv": int(cat.get("lacv")),
                         "excludedBy": [e.text.strip() for e in cat.findall(NS + "excludedClass")],
                         "markingData": marking_data(cat)}
                if cat.get("obsolete") == "true":
                    entry["obsolete"] = True
                req = []
                for rule, rc in enumerate(cat.findall(NS + "requiredCategory")):
                    for g in rc.findall(NS + "categoryGroup"):
                        req.append({"rule": rule, "operation": rc.get("operation"),
                                    "tagSet": g.get("tagSetRef"),
                                    "lacv": int(g.get("lacv")) if g.get("lacv") else None})
                if req:
                    entry["requires"] = req
                policy["categories"].append(entry)
    json.dump(policy, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
