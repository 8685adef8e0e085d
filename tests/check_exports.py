#!/usr/bin/env python3
"""tests/check_exports.py — libliaison.so exports the public API and nothing else.

usage: check_exports.py LIBLIAISON.so INCLUDE_DIR

The public API is every function declared LSN_API in INCLUDE_DIR/*.h (all
named lsn_*). The library's dynamic symbol table (nm -D --defined-only)
must hold exactly those: none missing (an API function not exported), none
extra (an internal helper leaking out, lsn_-named or not). Symbols the
linker or the sanitizers define themselves are ignored. Speaks TAP.
"""
import glob
import os
import re
import subprocess
import sys

LINKER = {"_init", "_fini", "_edata", "_end", "__bss_start"}


def declared(include_dir):
    names = set()
    for path in glob.glob(os.path.join(include_dir, "*.h")):
        text = open(path, encoding="utf-8").read()
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)  # comments out
        for stmt in text.split(";"):
            if re.search(r"\bLSN_API\b", stmt):
                m = re.search(r"\b(lsn_\w+)\s*\(", stmt)
                if m:
                    names.add(m.group(1))
    return names


def exported(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                         capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            names.add(parts[2].split("@")[0])
    return {n for n in names
            if n not in LINKER and not n.startswith(("__odr_asan", "__asan", "__ubsan"))}


def main():
    lib, include_dir = sys.argv[1], sys.argv[2]
    want, got = declared(include_dir), exported(lib)
    checks = [
        ("the_headers_declare_a_public_api", len(want) > 20, "%d LSN_API functions" % len(want)),
        ("every_public_function_is_exported", not (want - got), sorted(want - got)),
        ("nothing_but_the_public_api_is_exported", not (got - want), sorted(got - want)),
        ("every_exported_symbol_is_lsn_prefixed", all(n.startswith("lsn_") for n in got),
         sorted(n for n in got if not n.startswith("lsn_"))),
    ]
    failed = 0
    for i, (name, good, why) in enumerate(checks, 1):
        print("%s %d - %s" % ("ok" if good else "not ok", i, name))
        if not good:
            failed += 1
            print("#   %s" % (why,))
    print("1..%d" % len(checks))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
