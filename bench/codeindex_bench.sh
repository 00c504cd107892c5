#!/usr/bin/env bash
# The code index (src/codeindex) on the generated 1,000,000-line, 10,000-file project of
# bench/gen_tree.sh: full build, incremental update, Definitions / References / Search.
#   bash bench/codeindex_bench.sh [build/codeindex_bench]
set -euo pipefail
BIN=$(realpath "${1:-build/codeindex_bench}")
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=$(mktemp -d /tmp/sw-codeindex-bench-XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$DIR"' EXIT
bash "$HERE/gen_tree.sh" "$DIR"
# Files changed in the last 2 s are read again by the next update (the racy rule): let them age.
sleep 2
echo "tree: $(cat "$DIR"/src/*/*.cc | wc -l) lines in $(find "$DIR" -type f | wc -l) files ($(($(du -sb "$DIR" | cut -f1) / 1024 / 1024)) MiB)"
"$BIN" "$DIR"
