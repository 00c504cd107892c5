#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, on 127.0.0.1 only. Installs nothing
# (scripts/bootstrap.sh does: Debian's postgresql).
#
#   scripts/pg-cluster.sh start DIR   initdb in DIR/data if needed, start it, print its URL
#   scripts/pg-cluster.sh stop DIR    stop it (the data stays for the next start)
#   scripts/pg-cluster.sh url DIR     print the URL of a running cluster
#
# The server refuses to run as root, so as root the cluster belongs to a system user
# `specwright-pg` (created if missing) that owns DIR. Nobody gets in without a password, not
# even from this machine: a superuser can run programs as the cluster's owner (COPY ... TO
# PROGRAM), which is the developer's own account when not run as root. The superuser
# `specwright` gets a random password at initdb (kept in DIR/password, mode 0600); every role
# authenticates with scram-sha-256, over TCP and over the unix socket (which is the owner's
# only, 0700). The URL, postgresql://specwright:PASSWORD@127.0.0.1:PORT/specwright, is written
# to DIR/url (mode 0600) and printed. A cluster made before passwords (no DIR/password) gets
# one at its next start. `start` is idempotent: a cluster already running only prints its URL.
set -euo pipefail
umask 077  # the password, the URL, the logs: this user's only

usage() { echo "usage: $0 start|stop|url DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
mkdir -p "$2"
dir=$(cd "$2" && pwd -P)
# DIR is written into shell commands and the server's configuration inside single quotes.
case "$dir" in
  *[\'\"\\]* | *$'\n'*)
    echo "pg-cluster: DIR $dir holds a quote, a backslash or a newline; choose another DIR" >&2
    exit 2
    ;;
esac
user=specwright-pg
# As root the server runs as $user, who must reach DIR. A checkout under /root (0700, where a
# root login clones by default) is closed to it: the cluster then lives in a folder of its own
# under /var/tmp, named after DIR, and DIR keeps only the url and password files.
req=$dir
if [ "$(id -u)" -eq 0 ]; then
  if [ "$cmd" = start ] && ! id -u "$user" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user"
  fi
  if id -u "$user" >/dev/null 2>&1 && ! runuser -u "$user" -- test -d "$dir" 2>/dev/null; then
    dir=/var/tmp/specwright-pg-$(printf '%s' "$req" | sha256sum | cut -c1-16)
    mkdir -p "$dir"
    # A predictable name in a folder everyone writes: use it only if root or $user made it.
    if [ -L "$dir" ] || ! owner=$(stat -c %U "$dir") || { [ "$owner" != root ] && [ "$owner" != "$user" ]; }; then
      echo "pg-cluster: $dir (the cluster's folder for $req) is not root's or $user's; remove it or choose another DIR" >&2
      exit 2
    fi
    chmod 700 "$dir"
  fi
fi
data=$dir/data

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

# new_password makes the superuser's password: 32 hex digits (nothing to escape in a URL or SQL).
new_password() {
  password=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
  [ ${#password} -eq 32 ] || { echo "pg-cluster: could not read /dev/urandom" >&2; exit 1; }
}
# save_password keeps it for the next start (this user's only).
save_password() {
  (umask 077 && printf '%s\n' "$password" >"$dir/password.new")
  mv -f "$dir/password.new" "$dir/password"
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
    if running; then
      if [ -s "$dir/password" ] && [ -f "$dir/url" ]; then
        if [ "$dir" != "$req" ]; then (umask 077 && cp "$dir/url" "$req/url" && cp "$dir/password" "$req/password"); fi
        print_url
        exit 0
      fi
      # Running as made before passwords (trusting every local user): restart it with one.
      as "$bindir/pg_ctl" stop -D "$data" -m fast -w -t 60 >/dev/null
    fi
    if [ "$(id -u)" -eq 0 ]; then
      chown "$user:" "$dir"
      if ! runuser -u "$user" -- test -w "$dir"; then
        echo "pg-cluster: user $user cannot reach $dir (a parent folder is closed to others); choose another DIR" >&2
        exit 2
      fi
    fi
    if [ ! -f "$data/PG_VERSION" ]; then
      # Only an empty folder (a failed initdb's) is replaced: DIR/data may be someone's files.
      if [ -e "$data" ] && ! rmdir "$data" 2>/dev/null; then
        echo "pg-cluster: $data exists and is not a PostgreSQL cluster; remove it or choose another DIR" >&2
        exit 2
      fi
      as mkdir -m 700 "$data"
      new_password
      # initdb reads the password from a file the cluster's owner can read (not a pipe: as root
      # initdb runs as another user, who may not reopen root's); gone right after.
      printf '%s\n' "$password" | as sh -c "umask 077 && cat > '$dir/.pwfile'"
      if ! as "$bindir/initdb" -D "$data" -U specwright --pwfile="$dir/.pwfile" --auth=scram-sha-256 \
        -E UTF8 --locale=C.UTF-8 --no-instructions >"$dir/initdb.log" 2>&1; then
        rm -f "$dir/.pwfile"
        cat "$dir/initdb.log" >&2
        echo "pg-cluster: initdb failed" >&2
        exit 1
      fi
      rm -f "$dir/.pwfile"
      save_password
    elif [ ! -s "$dir/password" ]; then
      # A cluster from before passwords: its superuser gets one now, in single-user mode
      # (the server is down here, and nothing authenticates in that mode).
      new_password
      if ! printf "ALTER ROLE specwright PASSWORD '%s';\n" "$password" |
          as "$bindir/postgres" --single -D "$data" postgres >/dev/null 2>"$dir/single.log"; then
        # The password as grep's pattern file (stdin), never on its command line.
        grep -v -F -f - "$dir/single.log" <<<"$password" >&2 || true
        echo "pg-cluster: could not set the password of specwright in $data" >&2
        exit 1
      fi
      rm -f "$dir/single.log"
      save_password
    fi
    password=$(cat "$dir/password")
    # Every role gives its password, over TCP and over the socket (rewritten at every start, so
    # a cluster from before passwords loses its trust lines).
    as sh -c "printf '%s\n' 'local all all scram-sha-256' 'host all all 127.0.0.1/32 scram-sha-256' \
      > '$data/pg_hba.conf'"
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
unix_socket_permissions = 0700
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
    # From here a failure stops the server again: no cluster is left running without its URL.
    trap 'as "$bindir/pg_ctl" stop -D "$data" -m fast -w -t 60 >/dev/null 2>&1 || true' EXIT
    # The password goes in the environment, never on a command line (which others may read).
    export PGPASSWORD=$password PGCONNECT_TIMEOUT=10
    if ! has=$("$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U specwright -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'specwright'"); then
      echo "pg-cluster: cannot connect to the server in $data as specwright" >&2
      exit 1
    fi
    if [ "$has" != 1 ] && ! "$bindir/createdb" -h 127.0.0.1 -p "$port" -U specwright specwright; then
      echo "pg-cluster: createdb specwright failed" >&2
      exit 1
    fi
    (umask 077 && echo "postgresql://specwright:$password@127.0.0.1:$port/specwright" >"$dir/url.new")
    mv -f "$dir/url.new" "$dir/url"
    if [ "$dir" != "$req" ]; then
      # The cluster lives elsewhere (above): DIR gets its url and password, readable by root only.
      (umask 077 && cp "$dir/url" "$req/url" && cp "$dir/password" "$req/password")
    fi
    trap - EXIT
    cat "$dir/url"
    ;;
  *) usage ;;
esac
