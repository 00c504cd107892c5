#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, on 127.0.0.1 only. Installs nothing
# (scripts/bootstrap.sh does: Debian's postgresql).
#
#   scripts/pg-cluster.sh start DIR   initdb in DIR/data if needed, start it, print its URL
#   scripts/pg-cluster.sh stop DIR    stop it (the data stays for the next start)
#   scripts/pg-cluster.sh url DIR     print the URL of a running cluster
#
# The server refuses to run as root, so as root the cluster belongs to a system user
# `specwright-pg` (created if missing) that owns DIR. The superuser `specwright` may connect
# from 127.0.0.1 without a password (a test cluster: fsync is off); any other role must give
# its password (scram-sha-256), so the tests can check a wrong one is refused. The URL,
# postgresql://specwright@127.0.0.1:PORT/specwright, is written to DIR/url too.
# `start` is idempotent: a cluster already running only prints its URL.
set -euo pipefail

usage() { echo "usage: $0 start|stop|url DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
mkdir -p "$2"
dir=$(cd "$2" && pwd -P)
data=$dir/data
user=specwright-pg

bindir=""
for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
  if [ -x "$d/initdb" ]; then bindir=$d; break; fi
done
if [ -z "$bindir" ] && command -v initdb >/dev/null 2>&1; then bindir=$(dirname "$(command -v initdb)"); fi
if [ -z "$bindir" ]; then
  echo "pg-cluster: PostgreSQL's server is not installed (no initdb): run scripts/bootstrap.sh" >&2
  exit 2
fi

# as runs a command as the cluster's owner: root hands it to the unprivileged user.
as() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

running() { [ -f "$data/postmaster.pid" ] && as "$bindir/pg_ctl" status -D "$data" >/dev/null 2>&1; }

print_url() {
  if [ ! -f "$dir/url" ]; then echo "pg-cluster: no cluster in $dir (run: $0 start $dir)" >&2; exit 1; fi
  cat "$dir/url"
}

# free_port picks a port nobody listens on (the server's start is the real test: a race loses
# to another process, and start tries again).
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "pg-cluster: found no free port" >&2
  exit 1
}

case "$cmd" in
  url)
    running || { echo "pg-cluster: the cluster in $dir is not running" >&2; exit 1; }
    print_url
    ;;
  stop)
    if running; then as "$bindir/pg_ctl" stop -D "$data" -m fast -w -t 60 >/dev/null; fi
    ;;
  start)
    exec 9>"$dir/.lock"  # two starts at once: the second waits and finds it running
    flock 9
    if running && [ -f "$dir/url" ]; then print_url; exit 0; fi
    if [ "$(id -u)" -eq 0 ]; then
      if ! id -u "$user" >/dev/null 2>&1; then
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user"
      fi
      chown "$user:" "$dir"
      if ! runuser -u "$user" -- test -w "$dir"; then
        echo "pg-cluster: user $user cannot reach $dir (a parent folder is closed to others); choose another DIR" >&2
        exit 2
      fi
    fi
    if [ ! -f "$data/PG_VERSION" ]; then
      rm -rf "$data"
      as mkdir -m 700 "$data"
      as "$bindir/initdb" -D "$data" -U specwright --auth-local=trust --auth-host=scram-sha-256 \
        -E UTF8 --locale=C.UTF-8 --no-instructions >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; echo "pg-cluster: initdb failed" >&2; exit 1; }
      # The superuser from loopback without a password; everyone else with theirs.
      as sh -c "printf '%s\n' 'local all all trust' 'host all specwright 127.0.0.1/32 trust' \
        'host all all 127.0.0.1/32 scram-sha-256' > '$data/pg_hba.conf'"
    fi
    # A unix socket path is limited to 107 bytes: a deep DIR gets none (TCP only).
    sockdir=$dir
    if [ ${#dir} -gt 80 ]; then sockdir=""; fi
    started=0
    for _ in 1 2 3 4 5; do
      port=$(free_port)
      as sh -c "cat > '$data/specwright.conf'" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sockdir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
shared_buffers = 64MB
log_min_messages = warning
EOF
      as sh -c "grep -q '^include_if_exists = .specwright.conf.' '$data/postgresql.conf' ||
        echo \"include_if_exists = 'specwright.conf'\" >> '$data/postgresql.conf'"
      # 9>&-: the server must not inherit (and hold forever) the lock of this start.
      if as "$bindir/pg_ctl" start -D "$data" -l "$dir/server.log" -w -t 60 >/dev/null 2>&1 9>&-; then
        started=1
        break
      fi
    done
    if [ "$started" -ne 1 ]; then
      tail -n 20 "$dir/server.log" >&2 || true
      echo "pg-cluster: the server in $data did not start (log: $dir/server.log)" >&2
      exit 1
    fi
    if ! "$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U specwright -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'specwright'" | grep -q 1; then
      "$bindir/createdb" -h 127.0.0.1 -p "$port" -U specwright specwright
    fi
    echo "postgresql://specwright@127.0.0.1:$port/specwright" >"$dir/url"
    cat "$dir/url"
    ;;
  *) usage ;;
esac
