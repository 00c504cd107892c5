#!/usr/bin/env bash
# `make demo`: the LLM developer, offline. `specwright develop` turns the tipsplit brief into a
# small C project (specs with IDs, tasks, code, tests, review, QA) with the answers of a
# RECORDING (examples/develop/tipsplit/recording.yaml: what a capable model answers to each
# prompt, labelled as such; no API key, no network). Then `specwright modify` changes one
# business rule and regenerates only what it touches. Last, the L2 example (secretdrop: an API
# service, a crypto and storage module and a CLI client) is developed from its own recording.
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
# Without --yes and with no terminal to ask, each decision waits for a person (exit 3); the
# demo answers as a person would, with `specwright approve`.
waits() {
  local code=0 out
  # stdin is not the terminal, so develop waits instead of asking here (the demo plays the person).
  out=$("$BIN" develop "$EX/BRIEF.md" --workspace "$PROJECT" "${REC[@]}" 2>&1 </dev/null) || code=$?
  echo "$out" | tail -n 4
  [[ $code == 3 ]] || { echo "demo: expected develop to wait for a decision (exit 3), got $code" >&2; exit 1; }
  RUN=$(sed -n 's/.*specwright approve \([0-9][0-9a-z-]*\) .*/\1/p' <<<"$out" | head -1)
  [[ -n $RUN ]] || { echo "demo: no run to approve in develop's output" >&2; exit 1; }
}
waits
echo "\$ specwright approve $RUN ask --text \"Round each share up to the cent\""
"$BIN" approve "$RUN" ask --text "Round each share up to the cent"
echo
waits
echo "== the gate is a dialogue: a person asks for a change instead of approving"
echo "\$ specwright approve $RUN approve --reject --text \"Add the example of a bill of 0.01 for 3 people to REQ-01-003\""
"$BIN" approve "$RUN" approve --reject --text "Add the example of a bill of 0.01 for 3 people to REQ-01-003"
waits
echo "the architect revised the requirements (a new model call with the person's words), the verifier"
echo "checked them again, and the gate asks again:"
grep -n "0.01 for 3 people" "$PROJECT/specs/requirements/requirements.md"
echo "\$ specwright approve $RUN approve"
"$BIN" approve "$RUN" approve
echo
echo "== specwright develop, on to the end (--yes approves the task plan)"
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
echo
L2=examples/develop/secretdrop
echo "== a second example, at L2: specwright develop $L2/BRIEF.md   (recorded answers: $L2/recording.yaml)"
echo "   secretdrop shares secrets through one-time links: an HTTP API service, a crypto and storage"
echo "   module (AES-256-GCM, scrypt, SQLite) and a command-line client, in Python; its tests run the"
echo "   real service on 127.0.0.1 and drive it over HTTP and through the CLI"
"$BIN" develop "$L2/BRIEF.md" --workspace demo/secretdrop --yes --script "$L2/recording.yaml" --config "$L2/specwright.yaml" 2>&1 |
  grep -E "^(complexity|phase |tests before|design notes|cascade|QA:|project:)" | uniq
make -s -C demo/secretdrop test | tail -n 3
cat <<MSG

What to look at next:
  $PROJECT/PR.md                   summary, traceability matrix, verification, the gate dialogue, review, QA, the change
  $PROJECT/specs/                  requirements, domain, stories, architecture, API, tasks, test cases
  $PROJECT/CONTEXT.md              decisions, conventions and gotchas every agent was given
  $BIN spec matrix --dir $PROJECT
  $BIN spec trace BR-01-001 --dir $PROJECT     the rule the modify changed, down to code and tests
  SPECWRIGHT_STORE=$SPECWRIGHT_STORE $BIN sessions
                                   the develop and the modify: their steps, gate rounds and spend
  SPECWRIGHT_STORE=$SPECWRIGHT_STORE $BIN runs
                                   every phase's run, with its tokens and dollars
  SPECWRIGHT_STORE=$SPECWRIGHT_STORE $BIN ui
                                   the web UI at http://127.0.0.1:8420/: Sessions (each develop and
                                   modify: its steps, its specs and traceability matrix, a trace
                                   down to code and tests), each phase's graph, prompts, answers,
                                   tool calls, cost
  SPECWRIGHT_STORE=$SPECWRIGHT_STORE $BIN mcp --dir $PROJECT
                                   the project for a coding agent (Claude Code, Cursor: see the
                                   README's "Specwright as an MCP server"): trace an ID, search the
                                   code, read the rules, export a session as Markdown

The L2 example: demo/secretdrop/ (specs/, secretdrop/*.py, tests/, PR.md); try it:
  cd demo/secretdrop && python3 -m secretdrop.server --db /tmp/secretdrop.db &
  python3 -m secretdrop.cli signup you@example.com     (then login, share, open; see specs/api/api.md)

Revisit a phase with the architect (offline, the same recording; an empty answer keeps it):
  SPECWRIGHT_STORE=$SPECWRIGHT_STORE $BIN review architecture --workspace $PROJECT --script $EX/recording.yaml --config $EX/specwright.yaml
Or edit a copy of the brief and run develop with it again: an Update regenerates what the edit touches.

The same brief with real models: name them in a specwright.yaml (see $EX/specwright.yaml), then
  ANTHROPIC_API_KEY=... OPENAI_API_KEY=... $BIN develop $EX/BRIEF.md --workspace tipsplit-live
(without --yes it stops for your approval after the requirements and after the task plan);
the same for the L2 brief: $BIN develop $L2/BRIEF.md --workspace secretdrop-live

The engine on its own: $BIN run examples/launch/flow.yaml --script examples/launch/script.yaml --yes

An eval suite over that workflow (five cases, assertions, a judge model; offline):
  $BIN eval examples/launch-eval/suite.yaml --script examples/launch-eval/script.yaml --output base.json
then a worse "model" against that baseline (exit 1, the regressed cases named):
  $BIN eval examples/launch-eval/suite.yaml --script examples/launch-eval/script-worse.yaml --baseline base.json
  $BIN evals                           each suite's history; the web UI's Evals page compares two runs

On a schedule (weekdays 09:00 in Berlin, and nightly with catch_up: once; offline):
  $BIN schedules examples/scheduled/flow.yaml     each entry's next and last fire
  $BIN scheduler examples/scheduled/flow.yaml --script examples/scheduled/script.yaml
                                   fires due windows (Ctrl-C stops; a restart never fires one twice)
  $BIN ui --dir examples/scheduled --scheduler --script examples/scheduled/script.yaml
                                   the web UI, firing them on a thread (a worker: worker --scheduler)

The patterns library (critic, debate, best-of-n, reflexion, plan-and-execute, map-reduce):
  $BIN patterns                        what there is; a node uses one as workflow: std/NAME
  $BIN run examples/patterns/debate/flow.yaml --script examples/patterns/debate/script.yaml
Webhooks when a run succeeds, fails, waits or hits its budget: notify: (docs/workflow-format.md)
MSG
