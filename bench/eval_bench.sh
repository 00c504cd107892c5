#!/usr/bin/env bash
# Eval suites (issue 24): 1,000 cases of a three-node workflow against the zero-latency
# scripted model, so the figures are the eval's own cost: a case's engine run (store commits,
# events), its assertions, the report. Printed next to a plain `specwright run` of the same
# workflow (one process: start, store, one run) and the engine run of one case inside the eval
# (the report's mean case latency).
#
#   bench/eval_bench.sh [BUILD]     (make bench runs it)
#   EVAL_BENCH_CASES=1000 EVAL_BENCH_CONCURRENCY="1 4"
set -euo pipefail
BUILD=${1:-build}
BIN=$(cd "$BUILD" && pwd)/specwright
N=${EVAL_BENCH_CASES:-1000}
CONC=${EVAL_BENCH_CONCURRENCY:-"1 4"}
tmp=$(mktemp -d /tmp/sw-eval-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

cat > flow.yaml <<'YAML'
name: bench-flow
inputs:
  topic: {type: string}
defaults: {model: scripted/fast, max_tokens: 200}
nodes:
  plan:
    output: json
    schema: {type: object, required: [points], properties: {points: {type: array}}}
    prompt: "Plan a note on {{inputs.topic}}."
  draft:
    needs: [plan]
    prompt: "Write the note on {{inputs.topic}} from {{nodes.plan.output}}."
  review:
    needs: [draft]
    output: json
    schema: {type: object, required: [approved], properties: {approved: {type: boolean}}}
    prompt: "Review: {{nodes.draft.output}}"
YAML
cat > script.yaml <<'YAML'
latency_ms: 0
prices:
  scripted/fast: {input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}
  scripted/judge: {input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}
nodes:
  plan: [{json: {points: [a, b, c]}}]
  draft: [{text: "A short note: durable, budgeted, traceable."}]
  review: [{json: {approved: true}}]
  verdict: [{json: {pass: true, score: 0.9, reason: "fine"}}]
YAML
python3 - "$N" <<'PY'
import json, sys
n = int(sys.argv[1])
with open("cases.jsonl", "w") as f:
    for i in range(n):
        f.write(json.dumps({"id": f"c{i:05d}", "inputs": {"topic": f"topic number {i}"}, "vars": {"word": "durable"}}) + "\n")
PY
cat > suite.yaml <<'YAML'
name: bench
workflow: flow.yaml
dataset: cases.jsonl
assert:
  - {node: draft, contains: "{{case.vars.word}}"}
  - {node: plan, json_schema: {type: object, required: [points]}}
  - {expr: "nodes.review.json.approved == true"}
  - {cost_usd: {max: 0.01}}
  - {tokens: {max: 5000}}
YAML
sed 's/^name: bench$/name: bench-judge/' suite.yaml > suite-judge.yaml
echo '  - {node: draft, rubric: "says durable", threshold: 0.5}' >> suite-judge.yaml

now() { date +%s.%N; }
calc() { python3 -c "print($1)"; }  # arithmetic without bc (python3 is a bootstrap dependency)
# One plain run of the workflow, as a user would start it (best of 5).
best_run=999
for i in 1 2 3 4 5; do
  t0=$(now)
  "$BIN" run flow.yaml --script script.yaml --input topic=x --store "$tmp/run-store" >/dev/null 2>&1
  t=$(calc "$(now) - $t0")
  best_run=$(calc "min($t, $best_run)")
done

printf "\n%-34s %6s %11s %12s %14s %14s\n" "eval of $N cases" "conc" "wall (s)" "per case (ms)" "case run mean" "case run p50"
for suite in suite.yaml suite-judge.yaml; do
  for c in $CONC; do
    rm -rf "$tmp/store"
    t0=$(now)
    "$BIN" eval "$suite" --script script.yaml --concurrency "$c" --store "$tmp/store" --output report.json >/dev/null 2>eval.err || {
      cat eval.err; exit 1; }
    wall=$(calc "$(now) - $t0")
    read -r passed mean p50 <<<"$(python3 -c "
import json; r=json.load(open('report.json'))['summary']
print(r['passed'], r['latency_ms']['mean'], r['latency_ms']['p50'])")"
    [[ $passed == "$N" ]] || { echo "only $passed of $N cases passed"; exit 1; }
    label=$([[ $suite == suite.yaml ]] && echo "3 nodes, 5 assertions" || echo "3 nodes, 5 assertions + rubric")
    printf "%-34s %6s %11.2f %12.2f %11.2f ms %11.2f ms\n" "$label" "$c" "$wall" \
      "$(calc "$wall * 1000 / $N")" "$mean" "$p50"
  done
done
printf "%-34s %6s %11.3f %12s\n" "plain \`specwright run\` x1 (best of 5)" "-" "$best_run" "-"
echo
echo "per case (ms) is the eval's wall time over its cases; a case's run mean/p50 is its engine::Run"
echo "inside the eval (with the other cases running beside it when conc > 1); the difference at"
echo "conc 1 is the eval's own per-case overhead (inputs, assertions, the report entry)."
