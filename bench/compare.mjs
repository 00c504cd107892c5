// Compares a Google Benchmark JSON report (--benchmark_out_format=json) with a stored baseline
// and says which figures regressed. Both are divided by their own BM_Calibration time first,
// so a baseline recorded on another machine, or on a busier day, still compares: what is
// compared is the engine's cost in units of the machine's speed.
//
//   node bench/compare.mjs BASELINE.json NOW.json [--tolerance 1.30] [--update]
//
// Exit 0 when every figure is within tolerance (normalised now / baseline), 1 on a
// regression, 2 on bad input. --update copies NOW over BASELINE after printing.
import fs from 'node:fs';

const files = [];
let tolerance = 1.3, update = false;
for (let i = 2; i < process.argv.length; ++i) {
  const a = process.argv[i];
  if (a === '--update') update = true;
  else if (a === '--tolerance') tolerance = Number(process.argv[++i]);
  else files.push(a);
}
if (files.length !== 2 || !(tolerance > 1)) {
  console.error('usage: node bench/compare.mjs BASELINE.json NOW.json [--tolerance 1.30] [--update]');
  process.exit(2);
}
const [basePath, nowPath] = files;

function load(path) {
  let j;
  try {
    j = JSON.parse(fs.readFileSync(path, 'utf8'));
  } catch (e) {
    console.error(`${path}: ${e.message}`);
    process.exit(2);
  }
  // Medians when the run had repetitions, the plain rows otherwise.
  const rows = j.benchmarks || [];
  const medians = rows.filter((b) => b.aggregate_name === 'median');
  const use = medians.length ? medians : rows.filter((b) => !b.aggregate_name);
  const byName = new Map();
  for (const b of use) byName.set(b.run_name || b.name.replace(/_median$/, ''), b.real_time);
  const cal = byName.get('BM_Calibration');
  if (!cal) {
    console.error(`${path}: no BM_Calibration figure (run engine_bench whole)`);
    process.exit(2);
  }
  return { byName, cal, context: j.context || {} };
}

if (!fs.existsSync(basePath)) {
  if (update) {
    fs.copyFileSync(nowPath, basePath);
    console.log(`no baseline yet: ${nowPath} stored as ${basePath}`);
    process.exit(0);
  }
  console.error(`${basePath}: no baseline (make bench UPDATE_BASELINE=1 records one)`);
  process.exit(2);
}
const base = load(basePath), now = load(nowPath);
console.log(`calibration: baseline ${base.cal.toFixed(0)} vs now ${now.cal.toFixed(0)} (this machine is ` +
  `${(base.cal / now.cal).toFixed(2)}x the baseline's speed); tolerance ${tolerance}x`);
const pad = (s, n) => String(s).padEnd(n);
console.log(pad('benchmark', 48) + pad('baseline', 12) + pad('now', 12) + pad('normalised', 12) + 'verdict');
let worse = 0;
for (const [name, t] of now.byName) {
  if (name === 'BM_Calibration') continue;
  const b = base.byName.get(name);
  if (b === undefined) {
    console.log(pad(name, 48) + pad('-', 12) + pad(t.toFixed(1), 12) + pad('-', 12) + 'new');
    continue;
  }
  const ratio = (t / now.cal) / (b / base.cal);
  const verdict = ratio > tolerance ? 'REGRESSION' : ratio < 1 / tolerance ? 'faster' : 'ok';
  if (ratio > tolerance) ++worse;
  console.log(pad(name, 48) + pad(b.toFixed(1), 12) + pad(t.toFixed(1), 12) + pad(ratio.toFixed(2) + 'x', 12) + verdict);
}
for (const name of base.byName.keys())
  if (!now.byName.has(name)) console.log(pad(name, 48) + 'missing now');
if (update) {
  fs.copyFileSync(nowPath, basePath);
  console.log(`baseline updated: ${basePath}`);
}
if (worse) {
  console.log(`${worse} figure(s) regressed beyond ${tolerance}x of the baseline, in units of this machine's speed`);
  process.exit(1);
}
