#!/usr/bin/env bash
# Install the Debian packages liaison needs to build, test and fuzz.
#   scripts/deps.sh          what building and running need
#   scripts/deps.sh --test   and what only the tests need (a PostgreSQL
#                            server for the throwaway clusters of tests/pg)
# Idempotent: packages already installed are not fetched again, and apt is
# not touched at all when everything is present.
set -euo pipefail

packages=(
  build-essential meson ninja-build pkg-config python3
  libxml2-dev libxml2-utils libjansson-dev libtasn1-6-dev libtasn1-bin
  clang libclang-rt-14-dev llvm valgrind
  libsqlite3-dev libsodium-dev
  libpq-dev  # src/store/pg_*.c: the PostgreSQL back-end (libpq 14 or later)
  libmicrohttpd-dev libcurl4-openssl-dev
  libgnutls28-dev  # src/server/client_cert.c: libmicrohttpd's TLS, client certificates
  curl  # tests/cli/cert_test.sh presents client certificates
  libssl-dev libxmlsec1-dev libxmlsec1-openssl  # src/federation: keys, XML-DSig
  openssl  # tests/cli/client_test.sh, cert_test.sh make certificates
  chromium nodejs
  fonts-ipafont-gothic  # the web page's Japanese markings in the browser test and screenshots
)

# Only the tests: the node talks to a PostgreSQL server it is given; the
# tests start their own (tests/pg/pg_cluster.sh). Its server package
# carries the contrib modules: search_cost_pg loads pg_stat_statements.
test_packages=(
  postgresql
)
if [ "${1:-}" = "--test" ]; then
  packages+=("${test_packages[@]}")
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Debian's nodejs ships npm apart; NodeSource's nodejs bundles it.
if ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
