#!/usr/bin/env bash
# `make demo`: run the launch example offline, then run it again to show the cache.
set -euo pipefail
BIN=${1:-build/specwright}
cd "$(dirname "$0")/.."
export SPECWRIGHT_STORE="$PWD/.specwright"
FLOW=examples/launch/flow.yaml
SCRIPT=examples/launch/script.yaml

echo "== validate"
"$BIN" validate "$FLOW"
echo
echo "== run (scripted provider, offline; --yes approves the human gate)"
"$BIN" run "$FLOW" --script "$SCRIPT" --yes
RUN=$("$BIN" runs --json --limit 1 | sed -n 's/.*"id": "\(.*\)".*/\1/p' | head -1)
echo
echo "== show $RUN"
"$BIN" show "$RUN"
echo
echo "== the same run again: unchanged nodes come from the cache (zero model calls)"
"$BIN" run "$FLOW" --script "$SCRIPT" --yes
echo
echo "== an agent fixes a failing test in a copy of examples/agent-fix/app (real make, real files)"
"$BIN" run examples/agent-fix/flow.yaml --script examples/agent-fix/script.yaml
AGENT=$("$BIN" runs --json --limit 1 | sed -n 's/.*"id": "\(.*\)".*/\1/p' | head -1)
"$BIN" show "$AGENT"
echo
echo "== what the agent changed"
"$BIN" files "$AGENT"
echo
echo "== the launch run on a time axis, and what it cost"
"$BIN" trace "$RUN"
"$BIN" cost "$RUN"
echo
echo "== replay the launch run offline from its recorded answers: every output byte for byte"
"$BIN" replay "$RUN" --offline --yes
cat <<MSG

What to look at next (store: $SPECWRIGHT_STORE):
  SPECWRIGHT_STORE=$SPECWRIGHT_STORE $BIN ui
                                    the web UI at http://127.0.0.1:8420/: runs, live graphs, prompts,
                                    timeline, cost, approvals, replay, diff
  $BIN runs                         every run with status, tokens and cost
  $BIN show $RUN     nodes, attempts, durations, tokens, cost
  $BIN show $AGENT  the agent's turns, tool calls and results
  $BIN files $AGENT the diff of each node's checkpoint commit
  $BIN trace $AGENT --node fix    the agent's model and tool calls on a time axis
  $BIN debug latest                 what failed or was skipped, and why
  $BIN replay $RUN --from review --yes   re-run review and what follows; the rest is reused
  $BIN diff RUN_A RUN_B             two runs node by node, with the first divergence
  $BIN lineage publish              where an artifact came from
  $BIN export $RUN --format otlp    OpenTelemetry spans (GenAI conventions) for Jaeger/Langfuse
  $BIN run $FLOW --script $SCRIPT   (without --yes: the sign_off gate waits; approve with
                                     $BIN approve RUN sign_off, then $BIN resume RUN)
  sqlite3 $SPECWRIGHT_STORE/specwright.db 'select type,node,iteration,attempt from events limit 40'

The same workflow on a real model (README, "Models"):
  OPENAI_API_KEY=sk-... $BIN run $FLOW --model openai/gpt-4o-mini --yes
  $BIN run $FLOW --model ollama/llama3.2 --yes        (a local Ollama; cost \$0)
MSG
