#!/usr/bin/env python3
"""Count every check of a meson test run: test-summary.py TESTLOG.json

Prints "N passed, N failed". A TAP test contributes one check per test point
("ok"/"not ok" lines); a test program that speaks no TAP counts as one check.
A TAP program that fails as a whole (a crash, a sanitizer report, a missing
plan) with no failing point adds one failure, so a crash is never hidden."""
import json
import re
import sys

passed = failed = 0
for line in open(sys.argv[1], encoding='utf-8', errors='replace'):
    t = json.loads(line)
    out = t.get('stdout') or ''
    oks = len(re.findall(r'^ok\b', out, re.M))
    # "not ok ... # TODO" is a known gap, not a failure (TAP's meaning).
    nots = len([l for l in re.findall(r'^not ok\b.*$', out, re.M)
                if not re.search(r'#\s*TODO', l, re.I)])
    good = t.get('result') in ('OK', 'EXPECTEDFAIL', 'SKIP')
    if t.get('result') == 'EXPECTEDFAIL':
        # A test that must fail (should_fail) and did: one passing check.
        passed += 1
        continue
    if oks or nots:
        passed += oks
        failed += nots
        if not good and nots == 0:
            failed += 1
    elif good:
        passed += 1
    else:
        failed += 1
print(f'{passed} passed, {failed} failed')
sys.exit(1 if failed else 0)
