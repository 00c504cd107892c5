#!/usr/bin/env bash
# Builds the web UI (ui/, React + Vite from the npm registry, pinned by package-lock.json) and
# installs it beside the binary as BUILD/ui, where `specwright ui` finds it from any directory.
# Idempotent: npm ci only when the lock file changed, vite build only when a source changed.
set -euo pipefail
BUILD=$(cd "${1:-build}" && pwd)
cd "$(dirname "$0")/../ui"
source ../scripts/node-env.sh
require_node ui
stamp=node_modules/.specwright-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "ui: installing the front end's packages from npm"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
built=dist/.specwright-built
if [ ! -f "$built" ] || [ -n "$(find src index.html public vite.config.ts tsconfig.json package-lock.json ../docs/workflow.schema.json -newer "$built" -print -quit 2>/dev/null)" ]; then
  echo "ui: building the front end"
  npm run --silent build >/dev/null
  touch "$built"
fi
if [ ! -f "$BUILD/ui/.specwright-built" ] || [ "$built" -nt "$BUILD/ui/.specwright-built" ]; then
  rm -rf "$BUILD/ui.tmp"
  cp -r dist "$BUILD/ui.tmp"
  rm -rf "$BUILD/ui"
  mv "$BUILD/ui.tmp" "$BUILD/ui"
fi
