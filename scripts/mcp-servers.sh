#!/usr/bin/env bash
# Installs the real MCP servers the tests and benchmarks run against (tests/mcp, pinned by
# package-lock.json) from the npm registry. Idempotent: does nothing when they are installed.
set -euo pipefail
cd "$(dirname "$0")/../tests/mcp"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "mcp-servers: node and npm are needed (scripts/bootstrap.sh installs them)" >&2
  exit 2
fi
stamp=node_modules/.specwright-lock
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then exit 0; fi
echo "mcp-servers: installing the MCP test servers from npm"
npm ci --no-audit --no-fund --loglevel=error
cp package-lock.json "$stamp"
