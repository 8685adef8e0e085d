#!/usr/bin/env bash
# Five liaison nodes federated on loopback (issue 10, "The demo"):
#
#   HQ      NATO HQ, Brussels                  (nation NATO)
#   TOKYO   the NATO liaison office in Tokyo   (nation NATO)
#   JPN     Japan                              (nation JPN)
#   DNK     Denmark's embassy in Tokyo         (nation DNK)
#   KOR     Korea, no direct link: reached only through DNK (--via DNK),
#           agreed up to CONFIDENTIAL
#
# HQ is each direct node's peer and each is HQ's; DNK and KOR are each
# other's; HQ and KOR know each other through DNK. Every certificate is
# pinned (`liaison peer add --certificate`). Each node serves its web page
# with the demo users (--demo); the script prints the addresses and where
# the sign-in details are (DIR/NODE/demo-credentials.json), and stops every
# node on Ctrl-C or exit.
#
# usage: scripts/federation-demo.sh [--check] [--dir DIR]
#   --check  start, post one item at HQ through the API (NATO RESTRICTED,
#            Context Releasable, Releasable to NATO DNK KOR), wait until it
#            is at TOKYO, DNK and KOR and check it is not at JPN, stop.
#            Exit status 0 when it did (the test `federation_demo`).
#   --dir    where the nodes' data directories go (default: a new
#            temporary directory; kept only without --check)
# Environment: LIAISON_EXE, a built `liaison` (default: build it as
# scripts/run.sh does); LIAISON_DEMO_PORT, the first of ten ports
# (default 8470 interactively, a random one with --check); LIAISON_DEMO_KEEP=1
# keeps the data directory after --check (to read the logs).
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
dir=
while [ $# -gt 0 ]; do
  case $1 in
    --check) check=1 ;;
    --dir) dir=$2; shift ;;
    *) echo "usage: $0 [--check] [--dir DIR]" >&2; exit 2 ;;
  esac
  shift
done

exe=${LIAISON_EXE:-}
if [ -z "$exe" ]; then
  scripts/deps.sh
  if [ ! -f build/build.ninja ]; then
    meson setup build --buildtype=release
  fi
  ninja -C build
  exe=build/src/cli/liaison
fi
exe=$(realpath "$exe")

if [ -z "$dir" ]; then
  dir=$(mktemp -d "${TMPDIR:-/tmp}/liaison-fed-demo.XXXXXX")
fi
mkdir -p "$dir"
dir=$(realpath "$dir")

# Ports: the web page of node i on BASE+i, its federation listener on
# BASE+5+i.
if [ $check = 1 ]; then
  base=${LIAISON_DEMO_PORT:-$((20000 + RANDOM % 10000))}
else
  base=${LIAISON_DEMO_PORT:-8470}
fi
names=(HQ TOKYO JPN DNK KOR)
nations=(NATO NATO JPN DNK KOR)
titles=("NATO HQ" "NATO liaison office, Tokyo" "Japan" "Embassy of Denmark, Tokyo"
        "Korea (through DNK)")
declare -A web fed nation
for i in 0 1 2 3 4; do
  web[${names[$i]}]=$((base + i))
  fed[${names[$i]}]=$((base + 5 + i))
  nation[${names[$i]}]=${nations[$i]}
done

pids=()
stop() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
  if [ $check = 1 ] && [ -z "${LIAISON_DEMO_KEEP:-}" ]; then rm -rf "$dir"; fi
}
trap stop EXIT
trap 'exit 130' INT TERM

for n in "${names[@]}"; do
  if [ ! -e "$dir/$n/node.crt" ]; then
    "$exe" node init --data-dir "$dir/$n" --name "$n" --nation "${nation[$n]}" >/dev/null
  fi
done

# peer AT NAME [OPTIONS...]: register NAME at AT with NAME's pinned
# certificate (once: a second run keeps the registry).
peer() {
  local at=$1 name=$2
  shift 2
  if ! "$exe" peer list --data-dir "$dir/$at" 2>/dev/null | grep -q "^$name	"; then
    "$exe" peer add "$name" --data-dir "$dir/$at" --url "https://127.0.0.1:${fed[$name]}" \
      --nation "${nation[$name]}" --certificate "$dir/$name/node.crt" "$@" >/dev/null
  fi
}
for n in TOKYO JPN DNK; do
  peer HQ "$n"
  peer "$n" HQ
done
peer DNK KOR --max-classification CONFIDENTIAL
peer KOR DNK
peer HQ KOR --max-classification CONFIDENTIAL --via DNK
peer KOR HQ --via DNK

retry=()
if [ $check = 1 ]; then
  retry=(--federation-retry-min 100 --federation-retry-max 1000 --federation-probe 300)
fi
for n in "${names[@]}"; do
  demo=()
  if [ ! -e "$dir/$n/demo-credentials.json" ]; then demo=(--demo); fi
  "$exe" serve --data-dir "$dir/$n" "${demo[@]}" --listen "127.0.0.1:${web[$n]}" \
    --metrics-listen 127.0.0.1:0 --federation-listen "127.0.0.1:${fed[$n]}" "${retry[@]}" \
    >"$dir/$n.log" 2>&1 &
  pids+=($!)
done
for i in 0 1 2 3 4; do
  n=${names[$i]}
  for _ in $(seq 600); do
    if grep -q "listening on" "$dir/$n.log"; then break; fi
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then break; fi
    sleep 0.2
  done
  if ! grep -q "listening on" "$dir/$n.log"; then
    echo "federation-demo: node $n did not start:" >&2
    cat "$dir/$n.log" >&2
    exit 1
  fi
done

# token NODE USER: a demo user's API token at NODE.
token() {
  python3 -c 'import json,sys
print(next(u["token"] for u in json.load(open(sys.argv[1])) if u["user"] == sys.argv[2]))' \
    "$dir/$1/demo-credentials.json" "$2"
}
# count NODE USER WORD: how many items a search for WORD finds.
count() {
  curl -sf -H "Authorization: Bearer $(token "$1" "$2")" \
    "http://127.0.0.1:${web[$1]}/api/v1/search?q=$3" |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))'
}

if [ $check = 1 ]; then
  word="fedcheck$RANDOM$RANDOM"
  label='{"policy":"NATO","classification":"RESTRICTED","categories":[
    {"tagSet":"Context","values":["NATO","Releasable"]},
    {"tagSet":"Releasable To","values":["NATO","DNK","KOR"]}]}'
  curl -sf -o /dev/null -H "Authorization: Bearer $(token HQ ingrid.halvorsen)" \
    -H 'Content-Type: application/json' \
    -d "{\"label\":$label,\"body\":\"The federation demo check: $word\"}" \
    "http://127.0.0.1:${web[HQ]}/api/v1/channels/cyber-defence/items"
  # Where the label releases it, read by a user of that nation (KOR's
  # clearance is CONFIDENTIAL: the item is RESTRICTED).
  for at in TOKYO:marco.bellini DNK:lars.jensen KOR:min-jun.park; do
    node=${at%%:*} user=${at#*:}
    got=0
    for _ in $(seq 600); do
      got=$(count "$node" "$user" "$word")
      if [ "$got" = 1 ]; then break; fi
      sleep 0.2
    done
    if [ "$got" != 1 ]; then
      echo "federation-demo: the item did not arrive at $node" >&2
      exit 1
    fi
    echo "federation-demo: the item arrived at $node"
  done
  # Not released to JPN: not there, not even for the most cleared user.
  for u in kenji.watanabe ingrid.halvorsen; do
    if [ "$(count JPN "$u" "$word")" != 0 ]; then
      echo "federation-demo: the item reached JPN" >&2
      exit 1
    fi
  done
  echo "federation-demo: not at JPN; check passed"
  exit 0
fi

echo
echo "Five federated liaison nodes (data in $dir):"
for i in 0 1 2 3 4; do
  n=${names[$i]}
  printf '  %-6s %-28s http://127.0.0.1:%s/   sign-in: %s/%s/demo-credentials.json\n' \
    "$n" "${titles[$i]}" "${web[$n]}" "$dir" "$n"
done
echo
echo "Sign in at any node as a demo user (user name and password, or the token) from"
echo "that node's demo-credentials.json. Post at HQ with a label releasable to"
echo "NATO, DNK and KOR: it appears at TOKYO, DNK and, through DNK, at KOR."
echo "Logs: $dir/NODE.log. Ctrl-C stops all five."
wait
