#!/usr/bin/env bash
# run-tests.sh — the web page's tests: unit tests of the picker and markings
# (node only) and the browser tests (Debian's chromium via playwright-core;
# never a browser download).
#
#   web/run-tests.sh                      # against the mock node
#   LIAISON_URL=http://127.0.0.1:8470 LIAISON_CREDENTIALS=DATA/demo-credentials.json \
#     web/run-tests.sh                    # against a real `liaison serve --demo`
#
# TEST_REPORTER=tap gives TAP (for meson's protocol 'tap'). Exit 77 (meson's
# "skipped") when node or chromium is missing.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "web tests: node/npm not installed; skipped" >&2
  exit 77
fi
chromium_bin="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium_bin" ]; then
  echo "web tests: $chromium_bin not installed (scripts/deps.sh installs chromium); skipped" >&2
  exit 77
fi

# npm ci only when node_modules does not match the committed lock file.
current=$(node -e '
  const fs = require("fs");
  try {
    const want = JSON.parse(fs.readFileSync("package-lock.json", "utf8")).packages;
    const have = JSON.parse(fs.readFileSync("node_modules/.package-lock.json", "utf8")).packages;
    delete want[""];
    console.log(JSON.stringify(want) === JSON.stringify(have) ? "yes" : "no");
  } catch { console.log("no"); }')
if [ "$current" != yes ]; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >&2
fi

mkdir -p test-output
exec node --test --test-reporter="${TEST_REPORTER:-spec}" --test-concurrency=1 \
  test/picker.test.mjs test/release-unit.test.mjs test/attachment.test.mjs test/browser.test.mjs test/page.test.mjs test/people.test.mjs test/audit.test.mjs test/peers.test.mjs test/release.test.mjs test/release-live.test.mjs test/correct.test.mjs test/origin.test.mjs
