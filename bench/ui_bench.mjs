// The web UI at scale, in headless Debian chromium: how long until the Runs page of a store
// with 1,000 runs, the graph of a 2,000-node run, the session page of the L2 develop
// (examples/develop/secretdrop, developed here from its recording) and the traceability
// matrix of a 1,000-requirement project are usable (their rows / nodes drawn, the page's
// ready flag set), from navigation start. Medians of 5 cold loads each (a new browser context
// per load: no cache). Target: under 1 s each.
//   node bench/ui_bench.mjs   (bench/run.sh passes SW_BINARY, SW_FAKELLM, SW_UI_DIR, SW_SOURCE_DIR)
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, cliJson, launchBrowser, need, ready, startUi, tempDir } from '../ui/e2e/harness.mjs';

need('SW_BINARY', 'SW_UI_DIR', 'SW_SOURCE_DIR');
const RUNS = Number(process.env.SW_BENCH_RUNS || 1000);
const NODES = Number(process.env.SW_BENCH_NODES || 2000);
const tmp = tempDir('sw-ui-bench-');
const store = join(tmp, 'store');

// 1,000 runs of a small workflow (real runs of the real binary, scripted provider).
writeFileSync(join(tmp, 'small.yaml'), 'name: small\ndefaults: {model: scripted/m}\nnodes:\n  a: {prompt: "a {{inputs.n}}"}\n  b: {needs: [a], prompt: "b {{nodes.a.output}}"}\n  c: {needs: [a], prompt: "c {{nodes.a.output}}"}\ninputs:\n  n: {type: integer, default: 0}\n');
writeFileSync(join(tmp, 'script.yaml'), 'prices:\n  scripted/m: {input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}\nnodes:\n  "*": [{text: "ok"}]\n');
let t0 = Date.now();
for (let i = 0; i < RUNS - 1; i++) cli(store, ['run', join(tmp, 'small.yaml'), '--script', join(tmp, 'script.yaml'), '--input', `n=${i}`, '--no-cache'], { cwd: tmp });
// One run of NODES nodes in layers of 40, each node needing two of the layer above.
let y = 'name: big\ndefaults: {model: scripted/m}\nconcurrency: {global: 64}\nnodes:\n';
const W = 40;
for (let i = 0; i < NODES; i++) {
  const layer = Math.floor(i / W);
  const needs = layer === 0 ? [] : [(layer - 1) * W + (i % W), (layer - 1) * W + ((i + 7) % W)];
  y += `  n${i}: {${needs.length ? `needs: [${[...new Set(needs)].map((n) => 'n' + n).join(', ')}], ` : ''}prompt: "step ${i}"}\n`;
}
writeFileSync(join(tmp, 'big.yaml'), y);
cli(store, ['run', join(tmp, 'big.yaml'), '--script', join(tmp, 'script.yaml'), '--run-id', 'big', '--max-calls', '100000'], { cwd: tmp });
console.log(`store: ${RUNS} runs, one of ${NODES} nodes, made in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

// The L2 develop, from its recording, and a tipsplit develop whose project is then given a
// spec tree of REQS requirements (each with a story, a test case, a source and a test file).
const REQS = Number(process.env.SW_BENCH_REQS || 1000);
const SRC = process.env.SW_SOURCE_DIR;
t0 = Date.now();
const l2 = join(SRC, 'examples/develop/secretdrop');
cli(store, ['develop', join(l2, 'BRIEF.md'), '--workspace', join(tmp, 'secretdrop'), '--yes', '--script', join(l2, 'recording.yaml'), '--config', join(l2, 'specwright.yaml')], { cwd: tmp });
const tip = join(SRC, 'examples/develop/tipsplit');
const big = join(tmp, 'bigspec');
cli(store, ['develop', join(tip, 'BRIEF.md'), '--workspace', big, '--yes', '--script', join(tip, 'recording.yaml'), '--config', join(tip, 'specwright.yaml')], { cwd: tmp });
for (const d of ['specs', 'src', 'tests']) rmSync(join(big, d), { recursive: true, force: true });
rmSync(join(big, 'test-results.json'), { force: true });
for (const d of ['specs/requirements', 'specs/stories', 'specs/tests', 'src', 'tests']) mkdirSync(join(big, d), { recursive: true });
const id = (prefix, base, k) => `${prefix}-${String(base + Math.floor(k / 500)).padStart(2, '0')}-${String((k % 500) + 1).padStart(3, '0')}`;
let reqs = '# Requirements\n\n';
let stories = '# User stories\n\n';
let tcs = '# Test cases\n\n';
for (let k = 0; k < REQS; k++) {
  const r = id('REQ', 10, k), u = id('US', 30, k), t = id('TC', 60, k);
  reqs += `## ${r} Requirement ${k}\n\nThe system shall do thing ${k}.\n\n`;
  stories += `## ${u} Story ${k}\n\nAs a user I want thing ${k}.\n\nTraces: ${r}\n\n`;
  tcs += `## ${t} Test ${k}\n\nThing ${k} works.\n\nTraces: ${r}, ${u}\n\n`;
  writeFileSync(join(big, `src/f${k}.c`), `/* Implements: ${r}, ${u} */\nint f${k}(void) { return ${k}; }\n`);
  writeFileSync(join(big, `tests/t${k}.c`), `/* ${t} */\nint t${k}(void) { return 0; }\n`);
}
writeFileSync(join(big, 'specs/requirements/requirements.md'), reqs);
writeFileSync(join(big, 'specs/stories/stories.md'), stories);
writeFileSync(join(big, 'specs/tests/test-cases.md'), tcs);
const sessions = cliJson(store, ['sessions', '--limit', '10']);
const l2Session = sessions.find((x) => x.project.endsWith('/secretdrop')).session;
const bigSession = sessions.find((x) => x.project.endsWith('/bigspec')).session;
console.log(`the L2 develop and a ${REQS}-requirement project, made in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

const ui = await startUi(store, tmp);
const browser = await launchBrowser();
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
async function measure(hash, name, count) {
  const times = [];
  for (let i = 0; i < 6; i++) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    await page.goto(ui.url + '#/' + hash);
    await ready(page, name, 60000);
    const ms = await page.evaluate(() => performance.now());
    const drawn = await count(page);
    await ctx.close();
    // A page that failed also says it is ready: its rows must be there to count as usable.
    if (/^0 |\b0 of /.test(drawn)) throw new Error(`${hash}: nothing drawn (${drawn})`);
    if (i > 0) times.push(ms);  // the first load warms the server's page cache
    if (i === 0) console.log(`  ${hash}: ${drawn}`);
  }
  return times;
}
const runs = await measure('runs', 'runs', async (p) => `${await p.getByTestId('run-row').count()} rows drawn`);
const graph = await measure('runs/big', 'graph', async (p) => `${await p.getByTestId('graph-node').count()} of ${NODES} nodes in view drawn`);
const session = await measure(`sessions/${l2Session}`, 'session', async (p) => `${await p.getByTestId('session-step').count()} steps, ${await p.getByTestId('session-run').count()} runs drawn`);
const matrix = await measure(`sessions/${bigSession}/spec?tab=matrix`, 'spec', async (p) => `${await p.getByTestId('matrix-row').count()} of ${REQS} requirements drawn`);
const api = async (path) => {
  const times = [];
  for (let i = 0; i < 5; i++) {
    const s = performance.now();
    const r = await fetch(ui.url + 'api/v1/' + path);
    await r.arrayBuffer();
    times.push(performance.now() - s);
  }
  return median(times);
};
const apiRuns = await api('runs');
const apiGraph = await api('runs/big/graph');
const apiSession = await api(`sessions/${l2Session}`);
const apiSpec = await api(`sessions/${bigSession}/spec`);
await browser.close();
ui.stop();
console.log(`Runs page, ${RUNS} runs:        usable in ${median(runs).toFixed(0)} ms (median of 5; all: ${runs.map((t) => t.toFixed(0)).join(', ')}; GET /runs ${apiRuns.toFixed(0)} ms)`);
console.log(`Run graph, ${NODES} nodes:      usable in ${median(graph).toFixed(0)} ms (median of 5; all: ${graph.map((t) => t.toFixed(0)).join(', ')}; GET /graph ${apiGraph.toFixed(0)} ms)`);
console.log(`Session page, L2 develop:  usable in ${median(session).toFixed(0)} ms (median of 5; all: ${session.map((t) => t.toFixed(0)).join(', ')}; GET /sessions/ID ${apiSession.toFixed(0)} ms)`);
console.log(`Matrix, ${REQS} requirements: usable in ${median(matrix).toFixed(0)} ms (median of 5; all: ${matrix.map((t) => t.toFixed(0)).join(', ')}; GET /spec ${apiSpec.toFixed(0)} ms)`);
const all = [runs, graph, session, matrix].map(median);
console.log(`target: under 1000 ms each: ${all.every((m) => m < 1000) ? 'met' : 'NOT met'}`);
