#!/usr/bin/env bash
# Makes sure a Node.js that the front-end tooling and the MCP test servers run on is at hand
# (scripts/node-env.sh says which versions). The system's own is kept when it fits. Otherwise,
# as on Debian 12 (Node.js 18), Node.js 24 LTS and npm 11 are installed into scripts/node from
# the npm registry: the official Linux build ships inside the registry package
# node-linux-<arch>, pinned with its integrity by scripts/node/package-lock.json, and the
# system's own npm (any version since 7) fetches it. Nothing outside scripts/node changes.
# Idempotent: once a fitting node is there and the lock file has not changed, it does nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/node-env.sh"
dir=$here/node
stamp=$dir/node_modules/.specwright-lock

if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp" && node_fits "$SW_NODE_BIN/node"; then exit 0; fi
if [ ! -e "$SW_NODE_BIN/node" ] && node_fits && command -v npm >/dev/null 2>&1; then exit 0; fi

# The system's npm fetches: a reinstall must not run the npm it deletes.
if ! PATH=$SW_SYSTEM_PATH command -v npm >/dev/null 2>&1; then
  echo "node: npm is needed to fetch Node.js from the npm registry (scripts/bootstrap.sh installs Debian's)" >&2
  exit 2
fi
if [ -e "$SW_NODE_BIN/node" ]; then
  echo "node: installing into scripts/node the Node.js and npm that its package-lock.json pins"
else
  echo "node: the system's Node.js ($(node --version 2>/dev/null || echo 'none')) is too old for the" \
    "front-end tooling, which needs $SW_NODE_NEED; installing Node.js and npm from the npm registry into scripts/node"
fi
(cd "$dir" && PATH=$SW_SYSTEM_PATH npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
if ! node_fits "$SW_NODE_BIN/node"; then
  echo "node: the npm registry has no Node.js build for this machine ($(uname -s) $(uname -m)) in" \
    "scripts/node/package.json; install $SW_NODE_NEED and npm yourself" >&2
  exit 2
fi
"$SW_NODE_BIN/npm" --version >/dev/null
cp "$dir/package-lock.json" "$stamp"
echo "node: using Node.js $("$SW_NODE_BIN/node" --version) and npm $("$SW_NODE_BIN/npm" --version) from $SW_NODE_BIN"
