#!/usr/bin/env bash
# with-node.sh — run the web page's tests against a real node: start
# `liaison serve --demo` on 127.0.0.1 (a port the kernel picks) with a fresh
# data directory, run web/run-tests.sh with LIAISON_URL and
# LIAISON_CREDENTIALS pointing at it, then stop the node (SIGTERM).
# With LIAISON_OPENAPI_PROXY and LIAISON_OPENAPI_SPEC set (meson sets them),
# the page talks to the node through the validating proxy (tests/api), and
# the test fails unless every exchange conforms to docs/api/openapi.yaml.
#
# Usage: web/test/with-node.sh LIAISON_BINARY [DEMO_FILE]
# (meson: test('web_browser', find_program('../web/test/with-node.sh'),
#          args : [liaison_exe, meson.project_source_root() / 'data' / 'demo.json'], ...))
set -euo pipefail
bin="${1:?usage: with-node.sh LIAISON_BINARY [DEMO_FILE]}"
demo="${2:-}"
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/../../tests/api/proxy-lib.sh"

data="$(mktemp -d "${TMPDIR:-/tmp}/liaison-web-node.XXXXXX")"
log="$data.log"
pid=
cleanup() {
  openapi_proxy_stop
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$data" "$log" "$data.openapi.txt" "$data.openapi.txt.out"
}
trap cleanup EXIT

args=(serve --demo --data-dir "$data/node" --listen 127.0.0.1:0 --metrics-listen none)
[ -n "$demo" ] && args+=(--demo-file "$demo")
"$bin" "${args[@]}" >"$log" 2>&1 &
pid=$!

url=
for _ in $(seq 1 100); do
  url="$(sed -n 's/.*listening on \(http[s]*:\/\/[^ ]*\).*/\1/p' "$log" | head -n 1)"
  [ -n "$url" ] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "with-node: the node did not start:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "with-node: the node did not say where it listens:" >&2
  cat "$log" >&2
  exit 1
fi

# A peer's certificate for the peers view's test (peers.test.mjs adds the
# peer through the API, as an administrator would).
"$bin" node init --data-dir "$data/peer-jpn" --name "JPN MOD" --nation JPN >/dev/null

openapi_proxy_start "$url" "$data.openapi.txt"
rc=0
LIAISON_PEER_CERT="$data/peer-jpn/node.crt" \
LIAISON_URL="$OPENAPI_URL" LIAISON_CREDENTIALS="$data/node/demo-credentials.json" \
  "$here/../run-tests.sh" || rc=$?
openapi_proxy_stop
[ "$rc" -eq 77 ] && exit 77 # skipped: no traffic to check
openapi_proxy_check "$data.openapi.txt" >&2 || rc=1
exit "$rc"
