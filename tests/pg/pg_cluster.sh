#!/usr/bin/env bash
# tests/pg/pg_cluster.sh — a throwaway PostgreSQL cluster for the tests.
#
#   pg_cluster.sh start DIR   initdb into DIR/data (UTF-8, C collation), start
#                             postgres listening only on a Unix socket in DIR
#                             (listen_addresses=''), create database "liaison"
#                             and each named in LIAISON_PG_DATABASES (space
#                             separated: a test of several nodes, each on a
#                             database of its own) (a DIR that holds a
#                             cluster already: started again)
#   pg_cluster.sh stop DIR    stop it (fast shutdown) and remove DIR
#   pg_cluster.sh halt DIR    stop it (fast shutdown), keeping DIR
#   pg_cluster.sh run CMD ARG...
#                             start a cluster in a new temporary directory,
#                             run CMD with "{pghost}" in its arguments replaced
#                             by the socket's directory, stop the cluster,
#                             exit with CMD's status. Without PostgreSQL's
#                             server programs: a TAP skip.
#
# No system service, no TCP, no password: local connections are trusted,
# and only the socket in DIR (mode 0700) reaches the server. initdb and
# postgres refuse to run as root; as root they run as the `postgres` user
# (Debian's package makes it), with DIR handed to that user.
set -euo pipefail

bindir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

# Run a server program as whoever may: ourselves, or `postgres` when root.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start() {
  local dir=$1 bin
  bin=$(bindir) || { echo "pg_cluster: PostgreSQL's server programs are not installed" >&2; return 3; }
  if [ -f "$dir/data/PG_VERSION" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses='' -k $dir" start >/dev/null
    return
  fi
  mkdir -p "$dir"
  chmod 0700 "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
  as_owner "$bin/initdb" -D "$dir/data" --encoding=UTF8 --locale=C --auth=trust \
    --username=liaison >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; return 1; }
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses='' -k $dir" \
    start >/dev/null ||
    { cat "$dir/server.log" >&2; return 1; }
  local db
  for db in liaison ${LIAISON_PG_DATABASES:-}; do
    as_owner "$bin/createdb" -h "$dir" -U liaison -E UTF8 --locale=C -T template0 "$db"
  done
}

stop() {
  local dir=$1 bin
  bin=$(bindir) || return 0
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

halt() {
  local dir=$1 bin
  bin=$(bindir) || return 0
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
}

run() {
  if ! bindir >/dev/null; then
    echo "1..0 # SKIP PostgreSQL's server programs are not installed (scripts/deps.sh --test)"
    return 0
  fi
  run_dir=$(mktemp -d /tmp/liaison-pg-XXXXXX)
  trap 'stop "$run_dir"' EXIT
  start "$run_dir" || return 1
  local args=() a
  for a in "$@"; do args+=("${a//\{pghost\}/$run_dir}"); done
  local rc=0
  "${args[@]}" || rc=$?
  return $rc
}

case "${1:-}" in
  start) start "$2" ;;
  stop) stop "$2" ;;
  halt) halt "$2" ;;
  run) shift; run "$@" ;;
  *) echo "usage: $0 start DIR | stop DIR | halt DIR | run CMD ARG..." >&2; exit 2 ;;
esac
