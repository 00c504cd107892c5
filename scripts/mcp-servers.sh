#!/usr/bin/env bash
# Installs the real MCP servers the tests and benchmarks run against, and OpenTelemetry's generated
# OTLP protobuf types the OTLP export test decodes with (tests/mcp, pinned by
# package-lock.json) from the npm registry. Idempotent: does nothing when they are installed.
set -euo pipefail
cd "$(dirname "$0")/../tests/mcp"
source ../../scripts/node-env.sh
require_node mcp-servers
stamp=node_modules/.specwright-lock
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then exit 0; fi
echo "mcp-servers: installing the MCP test servers from npm"
npm ci --no-audit --no-fund --loglevel=error
cp package-lock.json "$stamp"
