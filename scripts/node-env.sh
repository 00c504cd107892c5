# Sourced by the scripts that run Node.js. Puts the project's own Node.js first on PATH (it is in
# scripts/node/installed/bin only where scripts/node.sh had to install it), and says which
# versions the front-end tooling runs on: Vite 8 needs "^20.19.0 || >=22.12.0", vitest 4
# "^20.0.0 || ^22.0.0 || >=24.0.0", the MCP SDK's dependencies of the test servers ">=20"
# (@hono/node-server, lru-cache). Debian 12's own nodejs is 18.
SW_NODE_BIN="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/node/installed/bin"
# SW_SYSTEM_PATH is PATH without it: the system's own node and npm.
SW_SYSTEM_PATH=":$PATH:"
while [[ "$SW_SYSTEM_PATH" == *":$SW_NODE_BIN:"* ]]; do SW_SYSTEM_PATH=${SW_SYSTEM_PATH//":$SW_NODE_BIN:"/:}; done
SW_SYSTEM_PATH=${SW_SYSTEM_PATH#:}
SW_SYSTEM_PATH=${SW_SYSTEM_PATH%:}
export PATH="$SW_NODE_BIN:$SW_SYSTEM_PATH"
SW_NODE_NEED="Node.js 20.19 or later in 20.x, 22.12 or later in 22.x, or 24 and later"

# node_fits [NODE]: whether that node (the one on PATH by default) runs the tooling.
node_fits() {
  local v maj min
  v=$("${1:-node}" -p 'process.versions.node' 2>/dev/null) || return 1
  IFS=. read -r maj min _ <<<"$v"
  [[ "$maj" =~ ^[0-9]+$ && "$min" =~ ^[0-9]+$ ]] || return 1
  (( (maj == 20 && min >= 19) || (maj == 22 && min >= 12) || maj >= 24 ))
}

# require_node WHO: stops with a message naming the problem unless a fitting node and npm are on PATH.
require_node() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "$1: node and npm are needed (scripts/bootstrap.sh installs them)" >&2
    exit 2
  fi
  if ! node_fits; then
    echo "$1: $(command -v node) is Node.js $(node --version 2>/dev/null || echo '(does not run)');" \
      "the front-end tooling needs $SW_NODE_NEED: scripts/node.sh installs one from the npm registry" >&2
    exit 2
  fi
}
