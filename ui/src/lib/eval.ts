// Eval suites in the UI: the history grouped by suite, pass rates and deltas as text, the
// cases of a report in the order worth reading, and a comparison's groups. Pure: no React.
import type { EvalCase, EvalCompare, EvalHistoryEntry, EvalReport, EvalsResponse, EvalSuiteHistory, EvalTime } from '../api/types';
import { ms, usd } from './format';

/** evalTime reads a report time (unix seconds, or an ISO string) as unix seconds; 0 if unreadable. */
export function evalTime(v: EvalTime | null | undefined): number {
  if (typeof v === 'number') return Number.isFinite(v) ? v : 0;
  if (typeof v === 'string' && v) {
    if (/^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v);
    const t = Date.parse(v);
    return Number.isNaN(t) ? 0 : t / 1000;
  }
  return 0;
}

const isSuite = (x: unknown): x is EvalSuiteHistory => typeof x === 'object' && x !== null && Array.isArray((x as { runs?: unknown }).runs);

/**
 * suitesOf turns GET /evals into suites, each with its runs newest first; the suite run most
 * recently comes first. A flat list of runs is grouped by the suite's file (then its name).
 */
export function suitesOf(resp: EvalsResponse | null | undefined): EvalSuiteHistory[] {
  if (!resp) return [];
  const list: unknown[] = Array.isArray(resp) ? resp : Array.isArray((resp as { suites?: unknown }).suites) ? (resp as { suites: unknown[] }).suites : [];
  const groups = new Map<string, EvalSuiteHistory>();
  const add = (name: string, file: string, runs: EvalHistoryEntry[]) => {
    const key = file || name;
    const g = groups.get(key) ?? { name, file, runs: [] };
    if (!g.name && name) g.name = name;
    g.runs.push(...runs);
    groups.set(key, g);
  };
  for (const x of list) {
    if (isSuite(x)) add(x.name ?? '', x.file ?? '', x.runs);
    else if (typeof x === 'object' && x !== null) {
      const e = x as EvalHistoryEntry;
      add(e.suite ?? '', e.file ?? '', [e]);
    }
  }
  const newest = (r: EvalHistoryEntry) => evalTime(r.created_at);
  const out = [...groups.values()];
  for (const g of out) g.runs.sort((a, b) => newest(b) - newest(a) || b.run.localeCompare(a.run));
  out.sort((a, b) => newest(b.runs[0]!) - newest(a.runs[0]!) || a.name.localeCompare(b.name));
  return out;
}

/** p50Of is a history entry's median case latency in ms (undefined when not reported). */
export function p50Of(e: EvalHistoryEntry): number | undefined {
  const v = e.latency_ms?.p50 ?? e.latency_p50_ms;
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** pct formats a rate 0..1 as a percentage with one decimal ("87.5%"); "–" when absent. */
export function pct(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return '–';
  return `${(rate * 100).toFixed(1)}%`;
}

const minus = '−';

/** points formats a pass-rate delta (b − a, as rates) in percentage points: "+12.5 pp", "−50.0 pp", "±0 pp". */
export function points(delta: number | null | undefined): string {
  if (delta === null || delta === undefined || !Number.isFinite(delta)) return '–';
  const p = delta * 100;
  if (Math.abs(p) < 0.05) return '±0 pp';
  return `${p > 0 ? '+' : minus}${Math.abs(p).toFixed(1)} pp`;
}

/** growth formats a ratio b/a as a change: 1.25 → "+25%", 0.8 → "−20%", 1 → "±0%"; no ratio (a was 0) → "–". */
export function growth(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio) || ratio < 0) return '–';
  const p = (ratio - 1) * 100;
  if (Math.abs(p) < 0.5) return '±0%';
  return `${p > 0 ? '+' : minus}${Math.abs(p) >= 10 ? Math.round(Math.abs(p)) : Math.abs(p).toFixed(1)}%`;
}

export type Direction = 'better' | 'worse' | 'same';

/** passDirection: a higher pass rate is better. */
export function passDirection(delta: number | null | undefined): Direction {
  if (delta === null || delta === undefined || !Number.isFinite(delta) || Math.abs(delta) < 0.0005) return 'same';
  return delta > 0 ? 'better' : 'worse';
}

/** costDirection: for cost and latency a ratio above 1 is worse (within 0.5% counts as the same). */
export function costDirection(ratio: number | null | undefined): Direction {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio) || Math.abs(ratio - 1) < 0.005) return 'same';
  return ratio > 1 ? 'worse' : 'better';
}

/** toleranceText says what a tolerance allows: "pass rate −5.0 pp, cost +25%, latency p50 +50%"
 * and, when the tolerance says (`cases`), ", 0 cases may regress". */
export function toleranceText(t: { pass_rate: number; cost: number; latency: number; cases?: number } | null | undefined): string {
  if (!t) return '';
  const drop = t.pass_rate > 0 ? points(-t.pass_rate) : 'no drop';
  const cases = typeof t.cases === 'number' ? `, ${t.cases} ${t.cases === 1 ? 'case' : 'cases'} may regress` : '';
  return `pass rate ${drop}, cost ${growth(1 + t.cost)}, latency p50 ${growth(1 + t.latency)}${cases}`;
}

/** evalCost formats a suite's or a case's cost: four decimals below $1 (runs of one suite are
 * compared by it, and cents hide a 4% change); an unknown-priced part is never shown as $0. */
export function evalCost(v: number | null | undefined, unknown?: boolean | number): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return 'unknown';
  const text = v > 0 && v < 1 ? `$${v.toFixed(4)}` : usd(v);
  if (unknown) return v > 0 ? `${text} + unknown` : 'unknown';
  return text;
}

/** latency formats a latency in ms ("–" when absent). */
export const latency = (v: number | null | undefined) => ms(v);

/** Bar is one run in a history chart: its height (0..1) and what it says on hover. */
export interface Bar {
  run: string;
  rate: number;
  failedAny: boolean;
  title: string;
}

/** historyBars are a suite's runs oldest first (the chart reads left to right), at most `max` of them. */
/** isReplay: an offline replay of an eval (it reproduced one; it measured no model). */
export function isReplay(r: EvalHistoryEntry): boolean {
  return typeof r.replay_of === 'string' && r.replay_of !== '';
}

/** historyBars: the live runs only (an offline replay repeats a run, with the recordings' latencies). */
export function historyBars(runs: readonly EvalHistoryEntry[], max = 30): Bar[] {
  const sorted = runs.filter((r) => !isReplay(r)).sort((a, b) => evalTime(a.created_at) - evalTime(b.created_at) || a.run.localeCompare(b.run));
  return sorted.slice(Math.max(0, sorted.length - max)).map((r) => {
    const rate = Number.isFinite(r.pass_rate) ? Math.min(1, Math.max(0, r.pass_rate)) : 0;
    return { run: r.run, rate, failedAny: r.failed + r.errored > 0, title: `${r.run}: ${pct(r.pass_rate)} (${r.passed}/${r.cases})` };
  });
}

/** trend compares the newest live run's pass rate with the live run before it (offline replays left out). */
export function trend(runs: readonly EvalHistoryEntry[]): Direction {
  const live = runs.filter((r) => !isReplay(r));
  if (live.length < 2) return 'same';
  return passDirection(live[0]!.pass_rate - live[1]!.pass_rate);
}

const caseOrder: Record<string, number> = { error: 0, failed: 1, passed: 2 };

/** naturalCompare orders "case-2" before "case-10". */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true, sensitivity: 'base' }) || (a < b ? -1 : a > b ? 1 : 0);
}

/** sortCases puts errored, then failed cases first (what to look at), each group in natural id order. */
export function sortCases(cases: readonly EvalCase[]): EvalCase[] {
  return [...cases].sort((a, b) => (caseOrder[a.status] ?? 1.5) - (caseOrder[b.status] ?? 1.5) || naturalCompare(a.id, b.id));
}

/** caseFilter keeps cases by status ('' = all, 'failing' = failed or error) and a text that matches the id or an input. */
export function filterCases(cases: readonly EvalCase[], status: '' | 'failing' | 'passed', text: string): EvalCase[] {
  const q = text.trim().toLowerCase();
  return cases.filter((c) => {
    if (status === 'failing' && c.status === 'passed') return false;
    if (status === 'passed' && c.status !== 'passed') return false;
    if (!q) return true;
    if (c.id.toLowerCase().includes(q)) return true;
    return JSON.stringify(c.inputs ?? {}).toLowerCase().includes(q);
  });
}

/** worstAssertions orders a report's assertions by pass rate, lowest first (ties by id). */
export function worstAssertions(r: EvalReport): EvalReport['assertions'] {
  return [...(r.assertions ?? [])].sort((a, b) => a.pass_rate - b.pass_rate || naturalCompare(a.id, b.id));
}

/** assertionStatus is one case assertion's outcome: passed, failed or error. */
export function assertionStatus(a: { passed: boolean | string; status?: string }): string {
  if (a.status) return a.status;
  if (typeof a.passed === 'string') return a.passed;
  return a.passed ? 'passed' : 'failed';
}

/** shown is an assertion value (actual/expected) as text: strings as they are, the rest as JSON. */
export function shown(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  return JSON.stringify(v, null, 2) ?? String(v);
}

export const CHANGE_ORDER = ['regressed', 'fixed', 'new', 'removed', 'same'] as const;

/** changeCounts counts a comparison's cases by change, in CHANGE_ORDER (unknown kinds after). */
export function changeCounts(c: EvalCompare): { change: string; count: number }[] {
  const counts = new Map<string, number>(CHANGE_ORDER.map((k) => [k, 0]));
  for (const x of c.cases ?? []) counts.set(x.change, (counts.get(x.change) ?? 0) + 1);
  return [...counts.entries()].map(([change, count]) => ({ change, count }));
}

/** sortCompareCases: regressed first, then fixed, new, removed, same; natural id order within. */
export function sortCompareCases(cases: EvalCompare['cases']): EvalCompare['cases'] {
  const rank = (ch: string) => {
    const i = (CHANGE_ORDER as readonly string[]).indexOf(ch);
    return i < 0 ? CHANGE_ORDER.length : i;
  };
  return [...cases].sort((a, b) => rank(a.change) - rank(b.change) || naturalCompare(a.id, b.id));
}

/** assertionState reads one side of a per-assertion comparison: passed / failed / absent (other strings as given). */
export function assertionState(v: boolean | string | null | undefined): string {
  if (v === true) return 'passed';
  if (v === false) return 'failed';
  if (v === null || v === undefined || v === '') return 'absent';
  return v;
}

/** assertionChange says what happened to one assertion from A to B. */
export function assertionChange(a: boolean | string | null | undefined, b: boolean | string | null | undefined): 'regressed' | 'fixed' | 'same' | 'new' | 'removed' {
  const sa = assertionState(a);
  const sb = assertionState(b);
  if (sa === sb) return 'same';
  if (sa === 'absent') return 'new';
  if (sb === 'absent') return 'removed';
  if (sa === 'passed') return 'regressed';
  if (sb === 'passed') return 'fixed';
  return 'same';
}

/** otherRuns lists the runs of the same suite (newest first) that a report can be compared with. */
export function otherRuns(suites: readonly EvalSuiteHistory[], run: string): EvalHistoryEntry[] {
  const s = suites.find((x) => x.runs.some((r) => r.run === run));
  return s ? s.runs.filter((r) => r.run !== run) : [];
}

/** previousRun is the run of the same suite just before `run` (the natural baseline), if any. */
export function previousRun(suites: readonly EvalSuiteHistory[], run: string): string | undefined {
  const s = suites.find((x) => x.runs.some((r) => r.run === run));
  if (!s) return undefined;
  const i = s.runs.findIndex((r) => r.run === run);
  return s.runs[i + 1]?.run;
}
