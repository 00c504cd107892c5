#!/usr/bin/env bash
# Installs what Specwright needs to build and test: Debian's packages, then (scripts/node.sh) a
# Node.js from the npm registry where the system's is too old for the front-end tooling. Extra
# package names given as arguments are installed the same way (scripts/browser.sh).
# Idempotent: packages already present are not reinstalled; apt is touched only when something is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/node-env.sh"

PKGS=("$@")
PKGS+=(
  build-essential cmake ninja-build pkg-config git
  libyaml-cpp-dev nlohmann-json3-dev libsqlite3-dev sqlite3 libre2-dev libxxhash-dev
  libfmt-dev libcurl4-openssl-dev libgtest-dev libgmock-dev libbenchmark-dev libgit2-dev
  libboost1.81-dev libcmark-dev libvalijson-dev
  # Webhook signatures (src/notify): HMAC-SHA256 from OpenSSL's libcrypto.
  libssl-dev
  # The code index (src/codeindex) runs ctags for definitions.
  universal-ctags
  # The command line (src/cli) is parsed by CLI11; the tests load the generated completion
  # scripts into bash, zsh and fish and render the generated man page with man -l.
  libcli11-dev zsh fish man-db groff-base
  # The secretdrop example's generated project (examples/develop/secretdrop) is Python with
  # AES-GCM from the cryptography package; its e2e test builds and tests it for real.
  python3 python3-cryptography
  # The PostgreSQL store (src/store/pg*.cc) links libpq; its tests start a throwaway cluster of
  # Debian's server (scripts/pg-cluster.sh; Debian 12 ships 15).
  libpq-dev postgresql
  # The scheduler (src/workflow/schedule.cc) reads the IANA time zones from /usr/share/zoneinfo.
  tzdata
)

# Node.js and npm build the web UI and run the real MCP servers of the tests. A machine that has
# them already (from anywhere) keeps its own; Debian's (18) is only old enough to fetch a newer
# one from the npm registry, which scripts/node.sh does below.
if ! PATH=$SW_SYSTEM_PATH command -v node >/dev/null 2>&1 || ! PATH=$SW_SYSTEM_PATH command -v npm >/dev/null 2>&1; then
  PKGS+=(nodejs npm)
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      echo "bootstrap: need root or sudo to install: ${missing[*]}" >&2; exit 2
    fi
  fi
  echo "bootstrap: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

bash "$here/node.sh"
