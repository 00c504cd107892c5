#!/usr/bin/env bash
# Proves the README's two commands on a fresh Debian 12. Builds a minimal Debian 12 root with
# debootstrap (--variant=minbase), and inside it, as root, does what a new user does:
# `apt-get install git make ca-certificates`, `git clone` of this checkout's HEAD, `make demo`,
# `make test`, and `make test` once more (the second run shows what a warm checkout costs).
# Each step is timed; the summary line says PASS or FAIL. Not run by CI: it needs root, mounts
# and about 20 minutes.
#
#   sudo scripts/fresh-debian.sh [--root DIR] [--keep] [--with-debian-node]
#
#   --root DIR          build the root in DIR (new or empty; default: a new folder in /var/tmp)
#   --keep              keep the root afterwards (by default it is removed when every step passed)
#   --with-debian-node  install Debian's nodejs (18) and npm before the first make, as on a
#                       machine that has them already; without it the root has no Node.js at all
#
# The root gets the host's Debian sources (apt-get indextargets) and resolv.conf. Where the
# host's outbound TLS is re-signed by a proxy, npm inside the root would reject the registry's
# certificate, so the host's CA bundle ($NODE_EXTRA_CA_CERTS, else the system bundle) is copied
# in and named by NODE_EXTRA_CA_CERTS there, as a user behind such a proxy would set it.
set -euo pipefail

root="" keep=0 debian_node=0
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=${2:?--root needs a folder}; shift 2 ;;
    --keep) keep=1; shift ;;
    --with-debian-node) debian_node=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "fresh-debian: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" -ne 0 ]; then echo "fresh-debian: run as root (debootstrap, chroot and mounts need it)" >&2; exit 2; fi

src=$(cd "$(dirname "$0")/.." && pwd -P)
head=$(git -C "$src" rev-parse --short HEAD)
if [ -n "$(git -C "$src" status --porcelain --untracked-files=no)" ]; then
  echo "fresh-debian: note: testing HEAD ($head); the uncommitted changes in $src are not in it"
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  echo "fresh-debian: installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

if [ -z "$root" ]; then root=$(mktemp -d /var/tmp/specwright-fresh.XXXXXX); fi
mkdir -p "$root"
root=$(cd "$root" && pwd -P)
# The root's own folder is the chroot's "/": mktemp made it 0700, which would close the whole
# system to every user but root inside (the test cluster's server runs as an unprivileged user).
chmod 755 "$root"
if [ "$root" = / ] || [ -n "$(ls -A "$root")" ]; then
  echo "fresh-debian: $root is not empty; give a new or empty folder with --root" >&2
  exit 2
fi
log=$root.log
exec > >(tee "$log") 2>&1

mounted() { grep -q " $root/" /proc/self/mounts; }
cleanup() {
  local rc=$?
  # Processes a test left behind inside the root keep its mounts busy.
  for p in /proc/[0-9]*; do
    if [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ]; then kill -9 "${p#/proc/}" 2>/dev/null || true; fi
  done
  for m in dev/shm dev/pts dev sys proc; do
    if grep -q " $root/$m " /proc/self/mounts; then umount "$root/$m" 2>/dev/null || umount -l "$root/$m" || true; fi
  done
  if [ "$rc" -eq 0 ] && [ "$keep" -eq 0 ]; then
    if mounted; then echo "fresh-debian: something is still mounted under $root; not removing it"
    else rm -rf --one-file-system "$root"; fi
  else
    echo "fresh-debian: the root is kept in $root (remove it with: rm -rf --one-file-system $root)"
  fi
  echo "fresh-debian: the log is $log"
}
trap cleanup EXIT

# The host's Debian archive sources (its mirror of bookworm, -updates and -security; not any
# third-party repository, whose keys the new root does not have), when it has a bookworm main
# archive over http; otherwise debootstrap's own default mirror.
sources=$(apt-get indextargets --format '$(TARGET_OF) $(REPO_URI) $(RELEASE) $(COMPONENT) $(ORIGIN)' 2>/dev/null |
  awk '$1 == "deb" && $2 ~ /^http:/ && $3 ~ /^bookworm(-updates|-security)?$/ && $5 == "Debian" {
         print "deb " $2 " " $3 " " $4 }' | sort -u || true)
mirror=$(awk '$3 == "bookworm" && $4 == "main" { print $2; exit }' <<<"$sources")

t0=$(date +%s)
echo "fresh-debian: debootstrap --variant=minbase bookworm $root ${mirror:-"(the default mirror)"}"
debootstrap --variant=minbase bookworm "$root" ${mirror:+"$mirror"} >"$root.debootstrap.log" 2>&1 || {
  tail -20 "$root.debootstrap.log"; echo "fresh-debian: FAIL: debootstrap (log: $root.debootstrap.log)"; exit 1; }
t_boot=$(( $(date +%s) - t0 ))
if [ -n "$mirror" ]; then printf '%s\n' "$sources" >"$root/etc/apt/sources.list"; fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
if [ ! -s "$root/etc/hosts" ]; then
  printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
fi
ca=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
ca_env=()
if [ -s "$ca" ]; then
  cp "$ca" "$root/usr/local/share/host-ca.crt"
  ca_env=(NODE_EXTRA_CA_CERTS=/usr/local/share/host-ca.crt)
fi
git clone -q --bare --no-local "$src" "$root/root/specwright.git"

mount -t proc proc "$root/proc"
mount -t sysfs sys "$root/sys"
mount --bind /dev "$root/dev"
mount --make-rslave "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
mount -t tmpfs -o mode=1777,nosuid,nodev shm "$root/dev/shm"

cat >"$root/root/fresh-steps.sh" <<EOF
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
step() {
  local name=\$1; shift
  echo; echo "fresh-debian: ==== \$name"
  local t=\$(date +%s) rc=0
  "\$@" || rc=\$?
  echo "fresh-debian: ==== \$name: \$([ \$rc -eq 0 ] && echo ok || echo "FAILED (exit \$rc)") in \$(( \$(date +%s) - t ))s"
  echo "\$name|\$rc|\$(( \$(date +%s) - t ))" >>/root/fresh-times
  return \$rc
}
step "apt-get install git make ca-certificates" bash -c 'apt-get update -qq && apt-get install -y -qq git make ca-certificates >/dev/null'
if [ $debian_node -eq 1 ]; then step "apt-get install nodejs npm" bash -c 'apt-get install -y -qq nodejs npm >/dev/null && node --version'; fi
step "git clone" git clone -q /root/specwright.git /root/specwright
cd /root/specwright
step "make demo" make demo
step "make test" make test
step "make test (second run)" make test
EOF

echo "fresh-debian: testing $head in $root (debootstrap took ${t_boot}s)"
rc=0
chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "${ca_env[@]}" \
  bash /root/fresh-steps.sh || rc=$?

echo
echo "fresh-debian: commit $head, Debian $(cat "$root/etc/debian_version"), $(nproc) cores"
printf '  %-44s %s\n' "debootstrap --variant=minbase" "ok in ${t_boot}s"
while IFS='|' read -r name code secs; do
  printf '  %-44s %s\n' "$name" "$([ "$code" -eq 0 ] && echo ok || echo "FAILED (exit $code)") in $((secs / 60))m$((secs % 60))s"
done < <(cat "$root/root/fresh-times" 2>/dev/null)
if [ "$rc" -eq 0 ]; then echo "fresh-debian: PASS"; else echo "fresh-debian: FAIL"; fi
exit "$rc"
