#!/usr/bin/env bash
# tests/api/npm-ci.sh — install the validating proxy's npm packages
# (package-lock.json) with `npm ci`, only when node_modules does not match
# the lock file already: once installed, the tests run offline. A lock keeps
# two tests that start at once from installing over each other.
set -euo pipefail
cd "$(dirname "$0")"
exec 9>.npm-ci.lock
flock 9
current=$(node -e '
  const fs = require("fs");
  try {
    const want = JSON.parse(fs.readFileSync("package-lock.json", "utf8")).packages;
    const have = JSON.parse(fs.readFileSync("node_modules/.package-lock.json", "utf8")).packages;
    delete want[""];
    console.log(JSON.stringify(want) === JSON.stringify(have) ? "yes" : "no");
  } catch { console.log("no"); }')
if [ "$current" != yes ]; then
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
