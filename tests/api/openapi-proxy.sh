#!/usr/bin/env bash
# tests/api/openapi-proxy.sh — start the validating proxy (openapi-proxy.mjs)
# with its npm packages installed: the one way every harness starts it.
#   openapi-proxy.sh --spec FILE --target URL --report FILE
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
"$here/npm-ci.sh"
exec node "$here/openapi-proxy.mjs" "$@"
