# tests/api/proxy-lib.sh — for shell harnesses (sourced): put the validating
# proxy in front of a node when LIAISON_OPENAPI_PROXY (openapi-proxy.sh) and
# LIAISON_OPENAPI_SPEC are set, as node_util.c does for the C tests.
#
#   openapi_proxy_start URL REPORT   # sets OPENAPI_URL (URL itself without
#                                    # the proxy) and OPENAPI_PID; 1 on failure
#   openapi_proxy_stop               # closes REPORT (the proxy's last line)
#   openapi_proxy_check REPORT       # 0 only when it closes with no violation

openapi_proxy_start() {
  local target="$1" report="$2" i
  OPENAPI_URL="$target"
  OPENAPI_PID=
  [ -n "${LIAISON_OPENAPI_PROXY:-}" ] && [ -n "${LIAISON_OPENAPI_SPEC:-}" ] || return 0
  # The file exists before the first read: the background job may not have
  # opened it yet, and a failed sed would end a `set -e` caller (exit 2).
  : >"$report.out"
  "$LIAISON_OPENAPI_PROXY" --spec "$LIAISON_OPENAPI_SPEC" --target "$target" \
    --report "$report" >"$report.out" 2>&1 &
  OPENAPI_PID=$!
  for i in $(seq 1 1200); do
    OPENAPI_URL=$(sed -n 's/^openapi proxy listening on \(http:[^ ]*\)$/\1/p' "$report.out" || true)
    [ -n "$OPENAPI_URL" ] && return 0
    kill -0 "$OPENAPI_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "openapi: the validating proxy did not start:" >&2
  cat "$report.out" >&2
  return 1
}

openapi_proxy_stop() {
  if [ -n "${OPENAPI_PID:-}" ]; then
    kill -TERM "$OPENAPI_PID" 2>/dev/null || true
    wait "$OPENAPI_PID" 2>/dev/null || true
    OPENAPI_PID=
  fi
}

openapi_proxy_check() {
  [ -n "${LIAISON_OPENAPI_PROXY:-}" ] || return 0
  "$(dirname "$LIAISON_OPENAPI_PROXY")/check-report.sh" "$1"
}
