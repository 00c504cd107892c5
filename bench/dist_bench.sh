#!/usr/bin/env bash
# Distributed runs (issue 23): how many nodes a second 1, 2 and 4 `specwright worker`
# processes claim and complete against one PostgreSQL, next to the single-process SQLite run
# of the same workflow, and how long a dependent waits after its dependency completed.
#
#   bench/dist_bench.sh [BUILD]     (make bench runs it; starts its own throwaway cluster)
#
# The model is the scripted provider at zero latency, so the figures are the orchestration's
# own cost: claims, leases, commits, NOTIFY round trips. Each figure comes from the store's
# own timestamps (the run's first node_started to its last node end), not from process start.
set -euo pipefail
BUILD=${1:-build}
BIN=$(cd "$BUILD" && pwd)/specwright
SRC=$(cd "$(dirname "$0")/.." && pwd)
WIDE=${DIST_BENCH_NODES:-400}  # nodes of the wide workflow (20 layers)
CHAIN=${DIST_BENCH_CHAIN:-100} # nodes of the chain (the latency figure)
WORKERS=${DIST_BENCH_WORKERS:-"1 2 4"}
tmp=$(mktemp -d /tmp/sw-dist-bench.XXXXXX)
chmod 755 "$tmp"
cluster=$tmp/pg
cleanup() {
  pkill -f "specwright worker --store .*sw_bench_" 2>/dev/null || true
  bash "$SRC/scripts/pg-cluster.sh" stop "$cluster" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

url=$(bash "$SRC/scripts/pg-cluster.sh" start "$cluster")
base=${url%/*}   # postgresql://specwright:PASSWORD@127.0.0.1:PORT
PSQL=(psql -X -q -A -t -v ON_ERROR_STOP=1)

# The workflows: WIDE nodes in 20 layers, each node needing one node of the layer before
# (so layers overlap and up to WIDE/20 run at once); CHAIN nodes each needing the one before.
layers=20
per=$((WIDE / layers))
{
  echo "name: wide"
  echo "defaults: {model: scripted/fast, max_tokens: 50}"
  echo "concurrency: {global: 64, per_provider: {scripted: 64}}"
  echo "nodes:"
  for l in $(seq 0 $((layers - 1))); do
    for i in $(seq 0 $((per - 1))); do
      echo "  n${l}_$i:"
      [ "$l" -gt 0 ] && echo "    needs: [n$((l - 1))_$i]"
      echo "    prompt: \"step $l.$i\""
    done
  done
} >"$tmp/wide.yaml"
{
  echo "name: chain"
  echo "defaults: {model: scripted/fast, max_tokens: 50}"
  echo "nodes:"
  for i in $(seq 0 $((CHAIN - 1))); do
    echo "  c$i:"
    [ "$i" -gt 0 ] && echo "    needs: [c$((i - 1))]"
    echo "    prompt: \"link $i\""
  done
} >"$tmp/chain.yaml"
printf 'latency_ms: 0\nnodes:\n  "*":\n    - text: "ok"\n      usage: {input: 10, output: 2}\n' >"$tmp/script.yaml"

# span_sql: the run's nodes, and the seconds from its first node_started to its last node end.
span_sql="SELECT count(*) FILTER (WHERE type='node_succeeded'),
  max(ts) FILTER (WHERE type IN ('node_succeeded','node_failed')) - min(ts) FILTER (WHERE type='node_started')
  FROM events WHERE run_id='RUN'"
# gap_sql: for each edge of the chain, from the dependency's model call ending (its task done
# on a worker) to the dependent's model call starting (its task claimed by a worker), in ms —
# the whole path: NOTIFY to the orchestrator, its commit, the enqueue, NOTIFY, the claim.
gap_sql="WITH t AS (SELECT node, claimed_at, finished_at FROM tasks WHERE run_id='RUN' AND kind='llm' AND status='done'),
  g AS (SELECT (s.claimed_at - d.finished_at) * 1000 AS ms FROM t s JOIN t d ON s.node = 'c' || (substr(d.node, 2)::int + 1))
  SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2),
         round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 2), count(*) FROM g"
# many_sql: RUNS runs at once: all their nodes over the seconds from the first start to the last end.
many_sql="SELECT count(*) FILTER (WHERE type='node_succeeded'),
  max(ts) FILTER (WHERE type IN ('node_succeeded','node_failed')) - min(ts) FILTER (WHERE type='node_started')
  FROM events WHERE run_id IN (SELECT id FROM runs WHERE workflow_name='part')"

PARTS=${DIST_BENCH_PARTS:-4}  # runs at once, WIDE/PARTS nodes each
{
  echo "name: part"
  echo "defaults: {model: scripted/fast, max_tokens: 50}"
  echo "concurrency: {global: 64, per_provider: {scripted: 64}}"
  echo "nodes:"
  for l in $(seq 0 $((layers / PARTS - 1))); do
    for i in $(seq 0 $((per - 1))); do
      echo "  n${l}_$i:"
      [ "$l" -gt 0 ] && echo "    needs: [n$((l - 1))_$i]"
      echo "    prompt: \"step $l.$i\""
    done
  done
} >"$tmp/part.yaml"

printf '%-30s %10s %10s %16s %12s %12s\n' "store / workers" "1 run" "nodes/s" "$PARTS runs nodes/s" "dep p50 ms" "dep p99 ms"

# The single-process SQLite baseline: the same workflows in `specwright run` (the parts at once,
# each its own process on one store).
sq=$tmp/sqlite
for wf in wide chain; do
  "$BIN" run "$tmp/$wf.yaml" --script "$tmp/script.yaml" --store "$sq" --no-cache >/dev/null 2>&1
done
for i in $(seq 1 "$PARTS"); do
  "$BIN" run "$tmp/part.yaml" --script "$tmp/script.yaml" --store "$sq" --no-cache >/dev/null 2>&1 &
done
wait
sqlite_run() { sqlite3 "$sq/specwright.db" "SELECT id FROM runs WHERE workflow_name='$1' ORDER BY created_at DESC LIMIT 1"; }
w=$(sqlite_run wide)
read -r n span < <(sqlite3 -separator ' ' "$sq/specwright.db" "${span_sql//RUN/$w}")
read -r mn mspan < <(sqlite3 -separator ' ' "$sq/specwright.db" "$many_sql")
c=$(sqlite_run chain)
# In one process a call's end is its llm_calls row's start plus its latency.
gap_sqlite="WITH t AS (SELECT node, started_at AS s, started_at + latency_ms / 1000.0 AS e FROM llm_calls WHERE run_id='$c')
  SELECT (a.s - b.e) * 1000 FROM t a JOIN t b ON a.node = 'c' || (CAST(substr(b.node, 2) AS INTEGER) + 1) ORDER BY 1"
mapfile -t gaps < <(sqlite3 "$sq/specwright.db" "$gap_sqlite")
p50=${gaps[$(((${#gaps[@]} - 1) / 2))]}
p99=${gaps[$(((${#gaps[@]} - 1) * 99 / 100))]}
rate() { awk -v n="$1" -v s="$2" 'BEGIN{printf "%.1f", n/s}'; }
base_rate=$(rate "$n" "$span")
base_many=$(rate "$mn" "$mspan")
printf '%-30s %10s %10s %16s %12.2f %12.2f\n' "sqlite, one process" "$n" "$base_rate" "$base_many" "$p50" "$p99"

# fresh_store NAME: a new database NAME; $store is its URL.
fresh_store() {
  "${PSQL[@]}" "$base/specwright" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" 2>/dev/null
  store=$base/$1
}
# start_workers K SCRIPT CALLS LOG: K workers on $store, CALLS calls at once each; $pids.
start_workers() {
  pids=()
  for i in $(seq 1 "$1"); do
    "$BIN" worker --store "$store" --script "$2" --concurrency "$3" --idle-exit 3 --quiet \
      --lease 30 >"$tmp/$4.$i.log" 2>&1 &
    pids+=($!)
  done
}
stop_workers() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait "${pids[@]}" 2>/dev/null || true
}
# wait_run RUN: until RUN in $store succeeded (non-zero if it failed or never ended).
wait_run() {
  for _ in $(seq 1 1200); do
    st=$("${PSQL[@]}" "$store" -c "SELECT status FROM runs WHERE id='$1'")
    case "$st" in succeeded) return 0 ;; failed|cancelled) echo "run $1 $st" >&2; return 1 ;; esac
    sleep 0.25
  done
  echo "run $1 did not finish" >&2
  return 1
}
ratio() { awk -v a="$1" -v b="$2" -v f="$3" 'BEGIN{printf f, a/b}'; }

# PostgreSQL: each figure on a fresh database, k workers started before the submit.
for k in $WORKERS; do
  fresh_store "sw_bench_$k"
  # One submit first makes the schema (so the workers find it), then the workers start.
  wide=$("$BIN" submit "$tmp/wide.yaml" --store "$store" --script "$tmp/script.yaml" --no-cache 2>/dev/null)
  start_workers "$k" "$tmp/script.yaml" 16 "worker$k"
  wait_run "$wide"
  chain=$("$BIN" submit "$tmp/chain.yaml" --store "$store" --script "$tmp/script.yaml" --no-cache 2>/dev/null)
  wait_run "$chain"
  parts=()
  for i in $(seq 1 "$PARTS"); do
    parts+=("$("$BIN" submit "$tmp/part.yaml" --store "$store" --script "$tmp/script.yaml" --no-cache 2>/dev/null)")
  done
  for r in "${parts[@]}"; do wait_run "$r"; done
  IFS='|' read -r n span < <("${PSQL[@]}" "$store" -c "${span_sql//RUN/$wide}")
  IFS='|' read -r mn mspan < <("${PSQL[@]}" "$store" -c "$many_sql")
  IFS='|' read -r p50 p99 _ < <("${PSQL[@]}" "$store" -c "${gap_sql//RUN/$chain}")
  stop_workers
  r1=$(rate "$n" "$span")
  rm_=$(rate "$mn" "$mspan")
  printf '%-30s %10s %10s %16s %12.2f %12.2f   (%s and %s of sqlite)\n' "postgresql, $k worker(s)" "$n" "$r1" "$rm_" "$p50" "$p99" \
    "$(ratio "$r1" "$base_rate" %.3f)" "$(ratio "$rm_" "$base_many" %.3f)"
done

# With model calls that take time (LATENCY ms each) the work is the calls, and workers add
# capacity: each worker makes at most CALLS calls at once, so k workers should approach k times
# the throughput of one. The one-process SQLite figure (no cap but the workflow's) is given for
# scale only.
LATENCY=${DIST_BENCH_LATENCY_MS:-50}
CALLS=${DIST_BENCH_CALLS:-4}
printf 'latency_ms: %s\nnodes:\n  "*":\n    - text: "ok"\n      usage: {input: 10, output: 2}\n' "$LATENCY" >"$tmp/slow.yaml"
"$BIN" run "$tmp/wide.yaml" --script "$tmp/slow.yaml" --store "$sq" --no-cache >/dev/null 2>&1
read -r n span < <(sqlite3 -separator ' ' "$sq/specwright.db" "${span_sql//RUN/$(sqlite_run wide)}")
echo
printf '%-30s %10s %10s   (model calls of %s ms; each worker makes %s at once)\n' "store / workers" "1 run" "nodes/s" "$LATENCY" "$CALLS"
printf '%-30s %10s %10s\n' "sqlite, one process" "$n" "$(rate "$n" "$span")"
one=""
for k in $WORKERS; do
  fresh_store "sw_bench_slow_$k"
  wide=$("$BIN" submit "$tmp/wide.yaml" --store "$store" --script "$tmp/slow.yaml" --no-cache 2>/dev/null)
  start_workers "$k" "$tmp/slow.yaml" "$CALLS" "slow$k"
  wait_run "$wide"
  IFS='|' read -r n span < <("${PSQL[@]}" "$store" -c "${span_sql//RUN/$wide}")
  stop_workers
  r=$(rate "$n" "$span")
  [ -z "$one" ] && one=$r
  printf '%-30s %10s %10s   (%sx one worker)\n' "postgresql, $k worker(s)" "$n" "$r" "$(ratio "$r" "$one" %.2f)"
done
