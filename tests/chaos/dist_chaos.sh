#!/usr/bin/env bash
# The chaos test of issue 23: 3 `specwright worker` processes on one machine run a 200-node
# DAG of model, tool and agent nodes from one PostgreSQL store; a killer SIGKILLs a random
# worker every 0.4–1.2 s (at least 20 kills) and starts a new one in its place. Then:
#   - the run succeeded, and every node's result was committed exactly once;
#   - no finished model call was paid twice: every call the scripted provider answered (its
#     call log, written by the worker that made it) is a call the store recorded, except calls
#     in flight at a kill — counted from the queue (tasks claimed more than once) and reported;
#   - the spend recorded, and the spend actually made (recorded + repeated), are <= max_usd;
#   - the store passes `specwright store check`; the workspace holds every tool's file.
#
#   tests/chaos/dist_chaos.sh BUILD      (needs SPECWRIGHT_TEST_PG_URL: make test sets it)
set -euo pipefail
BUILD=${1:?usage: dist_chaos.sh BUILD}
BIN=$(cd "$BUILD" && pwd)/specwright
KILLS=${CHAOS_KILLS:-20}
if [ -z "${SPECWRIGHT_TEST_PG_URL:-}" ]; then
  if [ "${SPECWRIGHT_TEST_NO_PG:-}" = 1 ]; then echo "SKIP: SPECWRIGHT_TEST_NO_PG=1"; exit 0; fi
  echo "FAIL: SPECWRIGHT_TEST_PG_URL is not set (run make test, or scripts/pg-cluster.sh start DIR)" >&2
  exit 1
fi
PSQL=(psql -X -q -A -t -v ON_ERROR_STOP=1)
admin=$SPECWRIGHT_TEST_PG_URL
db=t_chaos_$$_$RANDOM
store=${admin%/*}/$db
tmp=$(mktemp -d /tmp/sw-chaos.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  if [ "${CHAOS_KEEP:-0}" = 1 ]; then
    echo "kept $tmp and the database $store"
  else
    "${PSQL[@]}" "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT
"${PSQL[@]}" "$admin" -c "CREATE DATABASE $db"
export HOME=$tmp/home XDG_CONFIG_HOME=$tmp/home/.config XDG_STATE_HOME=$tmp/home/.state
mkdir -p "$HOME"
git init -q --bare "$tmp/shared.git"

# 200 nodes in 40 layers of 5: per layer an llm node, a json llm node, a tool node that writes
# a file into the workspace, an agent that reads and writes files with tools, and a map of 2.
# Each node needs the same-kind node of the layer before, so 5 run at once.
{
  cat <<'EOF'
name: chaos
defaults: {model: scripted/chaos, max_tokens: 200, retry: {attempts: 3, backoff: 100ms}}
budget: {max_usd: 0.50, policy: stop}
concurrency: {global: 16, per_provider: {scripted: 16}}
workspace: empty
nodes:
EOF
  for l in $(seq 0 39); do
    prev=$((l - 1))
    echo "  t$l:"
    [ "$l" -gt 0 ] && echo "    needs: [t$prev]"
    echo "    prompt: \"text $l\""
    echo "  j$l:"
    [ "$l" -gt 0 ] && echo "    needs: [j$prev]"
    echo "    prompt: \"json $l\""
    echo "    output: json"
    echo "  w$l:"
    echo "    kind: tool"
    [ "$l" -gt 0 ] && echo "    needs: [w$prev]"
    echo "    tool: builtin://fs.write"
    echo "    args: {path: \"tool/w$l.txt\", content: \"layer $l\"}"
    echo "  a$l:"
    echo "    kind: agent"
    [ "$l" -gt 0 ] && echo "    needs: [a$prev]"
    echo "    tools: [builtin://fs.write, builtin://fs.read]"
    echo "    prompt: \"agent $l\""
    echo "  m$l:"
    if [ "$l" -gt 0 ]; then echo "    needs: [m$prev, j$l]"; else echo "    needs: [j$l]"; fi
    echo "    map: {over: nodes.j$l.json.items, as: it}"
    echo "    prompt: \"map $l {{it}}\""
  done
} >"$tmp/flow.yaml"

# Every call takes 150 ms, so kills land on calls in flight. Agents: turn 1 writes a file,
# turn 2 answers.
{
  cat <<'EOF'
latency_ms: 150
prices: {scripted/chaos: {input_cost_per_token: 1.0e-5, output_cost_per_token: 2.0e-5}}
nodes:
  "*":
    - text: "done"
      usage: {input: 20, output: 5}
EOF
  for l in $(seq 0 39); do
    echo "  j$l:"
    echo "    - json: {layer: $l, items: [x, y]}"
    echo "      usage: {input: 20, output: 5}"
    echo "  a$l:"
    echo "    - tool_calls: [{name: fs_write, arguments: {path: \"agent/a$l.txt\", content: \"agent $l\"}}]"
    echo "      usage: {input: 30, output: 10}"
    echo "    - text: \"wrote agent/a$l.txt\""
    echo "      usage: {input: 40, output: 5}"
  done
} >"$tmp/script.yaml"

export SW_SCRIPTED_CALL_LOG=$tmp/calls.log
: >"$SW_SCRIPTED_CALL_LOG"

run=$("$BIN" submit "$tmp/flow.yaml" --store "$store" --script "$tmp/script.yaml" \
  --workspace-remote "$tmp/shared.git" 2>"$tmp/submit.err") || { cat "$tmp/submit.err" >&2; exit 1; }
echo "run $run"

start_worker() {
  "$BIN" worker --store "$store" --script "$tmp/script.yaml" --concurrency 6 --lease 2 --poll 0.5 \
    >>"$tmp/worker.$1.log" 2>&1 &
  pids[$1]=$!
}
for i in 0 1 2; do start_worker "$i"; done

status() { "${PSQL[@]}" "$store" -c "SELECT status FROM runs WHERE id='$run'"; }
kills=0
deadline=$((SECONDS + 600))
while :; do
  st=$(status)
  case "$st" in succeeded|failed|cancelled) break ;; esac
  if [ $SECONDS -gt $deadline ]; then echo "FAIL: the run did not finish in 600 s (status $st)" >&2; exit 1; fi
  sleep "0.$((4 + RANDOM % 9))"
  if [ "$kills" -lt $((KILLS * 3)) ]; then
    victim=$((RANDOM % 3))
    kill -9 "${pids[$victim]}" 2>/dev/null && kills=$((kills + 1))
    wait "${pids[$victim]}" 2>/dev/null || true
    start_worker "$victim"
  fi
done
echo "run $st after $kills kills"
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1" >&2; fail=1; else echo "ok: $1"; fi; }
q() { "${PSQL[@]}" "$store" -c "$1"; }

check "the run succeeded (status $st; $(q "SELECT error FROM runs WHERE id='$run'"))" '[ "$st" = succeeded ]'
check "at least $KILLS workers were killed ($kills)" '[ "$kills" -ge "$KILLS" ]'

nodes=$(q "SELECT count(DISTINCT node) FROM events WHERE run_id='$run' AND type='node_succeeded'")
dups=$(q "SELECT count(*) FROM (SELECT node, iteration FROM events WHERE run_id='$run' AND type='node_succeeded'
          GROUP BY node, iteration HAVING count(*) > 1) d")
check "all 200 nodes succeeded ($nodes)" '[ "$nodes" = 200 ]'
check "each node's result committed once ($dups nodes twice)" '[ "$dups" = 0 ]'
rows=$(q "SELECT count(*) FROM (SELECT node, iteration, item FROM node_runs WHERE run_id='$run' AND status='succeeded'
          GROUP BY node, iteration, item HAVING count(*) > 1) d")
check "one succeeded node_runs row per node and item ($rows duplicates)" '[ "$rows" = 0 ]'

# Money. Every line of the call log is a call some worker made (and the provider billed).
paid=$(wc -l <"$SW_SCRIPTED_CALL_LOG")
recorded=$(q "SELECT count(*) FROM llm_calls WHERE run_id='$run'")
twice=$(q "SELECT count(*) FROM (SELECT node, iteration, item, request_hash FROM llm_calls WHERE run_id='$run'
           AND status='ok' GROUP BY node, iteration, item, request_hash HAVING count(*) > 1) d")
# In flight at a kill, two ways: a worker died during a call (its task is claimed again: claims
# > 1), or the run's orchestrator died while a call ran and the one that took over asked
# something else (an agent's tool ran again with another result): that task is done, and no
# recorded call has its request.
rerun=$(q "SELECT coalesce(sum(claims - 1), 0) FROM tasks WHERE run_id='$run' AND kind='llm' AND claims > 1")
orphans=$(q "SELECT count(*) FROM tasks t WHERE run_id='$run' AND kind='llm' AND status='done'
             AND NOT EXISTS (SELECT 1 FROM llm_calls c WHERE c.run_id = t.run_id AND c.request_hash = t.key)")
repeats=$((rerun + orphans))
takeovers=$(q "SELECT coalesce(sum(claims), 0) FROM tasks WHERE run_id='$run' AND kind='orchestrate'")
echo "calls made $paid, recorded $recorded; in flight at a kill: $rerun re-run after a lost lease, $orphans left by a dead orchestrator; the run was orchestrated $takeovers times"
check "no recorded call answered one request twice ($twice)" '[ "$twice" = 0 ]'
check "calls made beyond those recorded ($((paid - recorded))) are at most the in-flight repeats ($repeats)" \
  '[ $((paid - recorded)) -le "$repeats" ] && [ "$paid" -ge "$recorded" ]'
cost=$(q "SELECT cost_usd FROM runs WHERE id='$run'")
# A repeated call costs what its recorded twin cost: at most the dearest recorded call.
dearest=$(q "SELECT coalesce(max(cost_usd), 0) FROM llm_calls WHERE run_id='$run'")
spent=$(awk -v c="$cost" -v r="$((paid - recorded))" -v d="$dearest" 'BEGIN{printf "%.6f", c + r * d}')
check "recorded spend $cost <= max_usd 0.50" "awk -v c=$cost 'BEGIN{exit !(c <= 0.50)}'"
check "spend incl. repeats $spent <= max_usd 0.50" "awk -v c=$spent 'BEGIN{exit !(c <= 0.50)}'"

# The store and the workspace.
check "store check passes" '"$BIN" store check --store "$store" >"$tmp/check.out" 2>&1 || { cat "$tmp/check.out" >&2; false; }'
git -C "$tmp/shared.git" for-each-ref --format='%(refname)' | grep -c . >/dev/null || true
files=$("$BIN" files "$run" --store "$store" 2>/dev/null | grep -c -E '(tool/w|agent/a)[0-9]+\.txt' || true)
check "the run's workspace holds the 80 files its tools wrote ($files)" '[ "$files" -ge 80 ]'

if [ "$fail" != 0 ]; then
  echo "--- worker logs (tail)" >&2
  tail -n 20 "$tmp"/worker.*.log >&2
  exit 1
fi
echo "PASS: $kills kills; $paid calls made, $recorded recorded, $repeats in flight at a kill ($rerun re-run, $orphans orphaned); orchestrated $takeovers times"
