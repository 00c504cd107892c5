#!/usr/bin/env bash
# `make demo`: the LLM developer, offline. `specwright develop` turns the tipsplit brief into a
# small C project (specs with IDs, tasks, code, tests, review, QA) with the answers of a
# RECORDING (examples/develop/tipsplit/recording.yaml: what a capable model answers to each
# prompt, labelled as such; no API key, no network). Then `specwright modify` changes one
# business rule and regenerates only what it touches.
set -euo pipefail
BIN=${1:-build/specwright}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
cd "$(dirname "$0")/.."
# A store of the demo's own, new each time, so every phase shows what it spends (a store kept
# from an earlier demo would answer every call from its cache).
export SPECWRIGHT_STORE="$PWD/demo/store"
EX=examples/develop/tipsplit
PROJECT=demo/tipsplit
REC=(--script "$EX/recording.yaml" --config "$EX/specwright.yaml")
rm -rf demo
mkdir -p demo

echo "== specwright develop $EX/BRIEF.md   (recorded answers: $EX/recording.yaml)"
"$BIN" develop "$EX/BRIEF.md" --workspace "$PROJECT" --yes "${REC[@]}"
echo
echo "== the project's own tests, run again here"
make -s -C "$PROJECT" test
echo
echo "== specwright spec check: every ID traced from requirement to code and test"
"$BIN" spec check --dir "$PROJECT"
echo
echo "== the git branch: a commit per phase and per task"
git -C "$PROJECT" log --oneline
echo
BEFORE=$(git -C "$PROJECT" rev-parse HEAD)
echo "== specwright modify \"Allow tips up to 50%\""
"$BIN" modify "Allow tips up to 50%" --workspace "$PROJECT" --yes "${REC[@]}"
echo
echo "== what the change touched (everything else is byte-identical)"
git -C "$PROJECT" diff --stat "$BEFORE" HEAD
"$BIN" spec check --dir "$PROJECT"
cat <<MSG

What to look at next:
  $PROJECT/PR.md                   summary, traceability matrix, verification, review, QA, the change
  $PROJECT/specs/                  requirements, domain, stories, architecture, API, tasks, test cases
  $PROJECT/CONTEXT.md              decisions, conventions and gotchas every agent was given
  $BIN spec matrix --dir $PROJECT
  $BIN spec trace BR-01-001 --dir $PROJECT     the rule the modify changed, down to code and tests
  SPECWRIGHT_STORE=$SPECWRIGHT_STORE $BIN runs
                                   every phase's run, with its tokens and dollars
  SPECWRIGHT_STORE=$SPECWRIGHT_STORE $BIN ui
                                   the web UI at http://127.0.0.1:8420/: each phase's graph, prompts,
                                   answers, tool calls, cost

The same brief with real models: name them in a specwright.yaml (see $EX/specwright.yaml), then
  ANTHROPIC_API_KEY=... OPENAI_API_KEY=... $BIN develop $EX/BRIEF.md --workspace tipsplit-live
(without --yes it stops for your approval after the requirements and after the task plan).

The engine on its own: $BIN run examples/launch/flow.yaml --script examples/launch/script.yaml --yes
MSG
