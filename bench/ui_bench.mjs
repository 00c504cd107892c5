// The web UI at scale, in headless Debian chromium: how long until the Runs page of a store
// with 1,000 runs, and the graph of a 2,000-node run, are usable (their rows / nodes drawn,
// the page's ready flag set), from navigation start. Medians of 5 cold loads each (a new
// browser context per load: no cache). Target: under 1 s each.
//   node bench/ui_bench.mjs   (bench/run.sh passes SW_BINARY, SW_FAKELLM, SW_UI_DIR, SW_SOURCE_DIR)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, launchBrowser, need, ready, startUi, tempDir } from '../ui/e2e/harness.mjs';

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
    if (i > 0) times.push(ms);  // the first load warms the server's page cache
    if (i === 0) console.log(`  ${hash}: ${drawn}`);
  }
  return times;
}
const runs = await measure('runs', 'runs', async (p) => `${await p.getByTestId('run-row').count()} rows drawn`);
const graph = await measure('runs/big', 'graph', async (p) => `${await p.getByTestId('graph-node').count()} of ${NODES} nodes in view drawn`);
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
await browser.close();
ui.stop();
console.log(`Runs page, ${RUNS} runs:        usable in ${median(runs).toFixed(0)} ms (median of 5; all: ${runs.map((t) => t.toFixed(0)).join(', ')}; GET /runs ${apiRuns.toFixed(0)} ms)`);
console.log(`Run graph, ${NODES} nodes:      usable in ${median(graph).toFixed(0)} ms (median of 5; all: ${graph.map((t) => t.toFixed(0)).join(', ')}; GET /graph ${apiGraph.toFixed(0)} ms)`);
console.log(`target: under 1000 ms each: ${median(runs) < 1000 && median(graph) < 1000 ? 'met' : 'NOT met'}`);
