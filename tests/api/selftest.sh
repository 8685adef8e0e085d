#!/usr/bin/env bash
# tests/api/selftest.sh LIAISON_EXE — the validating proxy's self-test
# (selftest.test.mjs): it must pass the spec as it is and fail on each
# deliberately wrong fragment. TEST_REPORTER=tap gives TAP (meson).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
"$here/npm-ci.sh"
LIAISON_EXE="${1:?usage: selftest.sh LIAISON_EXE}" \
  exec node --test --test-reporter="${TEST_REPORTER:-spec}" "$here/selftest.test.mjs"
