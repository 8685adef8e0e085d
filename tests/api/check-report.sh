#!/usr/bin/env bash
# tests/api/check-report.sh REPORT — pass (exit 0) only when the validating
# proxy's report closes with "checked N exchanges, 0 violations", N > 0.
# Prints the violations (and the closing line) otherwise, and exits 1.
set -uo pipefail
report="${1:?usage: check-report.sh REPORT}"
last=$(tail -n 1 "$report" 2>/dev/null)
if [[ "$last" =~ ^checked\ ([0-9]+)\ exchanges,\ 0\ violations$ ]] && [ "${BASH_REMATCH[1]}" -gt 0 ]; then
  echo "openapi: $last"
  exit 0
fi
echo "openapi: the node's traffic does not conform to docs/api/openapi.yaml:" >&2
cat "$report" >&2 2>/dev/null || echo "(no report at $report)" >&2
exit 1
