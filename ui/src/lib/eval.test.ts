import { describe, expect, it } from 'vitest';
import type { EvalCase, EvalCompare, EvalHistoryEntry, EvalReport } from '../api/types';
import {
  assertionChange,
  assertionState,
  assertionStatus,
  changeCounts,
  costDirection,
  evalCost,
  evalTime,
  filterCases,
  growth,
  historyBars,
  isReplay,
  naturalCompare,
  otherRuns,
  p50Of,
  passDirection,
  pct,
  points,
  previousRun,
  shown,
  sortCases,
  sortCompareCases,
  suitesOf,
  toleranceText,
  trend,
  worstAssertions,
} from './eval';

const entry = (run: string, created: number, rate: number, more: Partial<EvalHistoryEntry> = {}): EvalHistoryEntry => ({
  run,
  status: rate === 1 ? 'succeeded' : 'failed',
  created_at: created,
  cases: 4,
  passed: Math.round(rate * 4),
  failed: 4 - Math.round(rate * 4),
  errored: 0,
  pass_rate: rate,
  cost_usd: 0.01,
  ...more,
});

const kase = (id: string, status: string, inputs: Record<string, unknown> = {}): EvalCase => ({
  id,
  run: `run-${id}`,
  status,
  run_status: 'succeeded',
  inputs,
  cost_usd: 0,
  latency_ms: 1,
  tokens_in: 0,
  tokens_out: 0,
  calls: 1,
  error: '',
  assertions: [],
});

describe('evalTime', () => {
  it('reads unix seconds, numeric strings and ISO times', () => {
    expect(evalTime(1765000000.5)).toBe(1765000000.5);
    expect(evalTime('1765000000')).toBe(1765000000);
    expect(evalTime('2025-12-06T05:46:40Z')).toBe(1765000000);
    expect(evalTime('not a time')).toBe(0);
    expect(evalTime(undefined)).toBe(0);
    expect(evalTime(Number.NaN)).toBe(0);
  });
});

describe('suitesOf', () => {
  it('groups a flat list by suite file, newest run first, newest suite first', () => {
    const suites = suitesOf([
      entry('a1', 100, 1, { suite: 'alpha', file: '/s/alpha.yaml' }),
      entry('b1', 150, 0.5, { suite: 'beta', file: '/s/beta.yaml' }),
      entry('a2', 200, 0.75, { suite: 'alpha', file: '/s/alpha.yaml' }),
      // same name, another file: another suite
      entry('c1', 50, 1, { suite: 'alpha', file: '/other/alpha.yaml' }),
    ]);
    expect(suites.map((s) => [s.name, s.file, s.runs.map((r) => r.run)])).toEqual([
      ['alpha', '/s/alpha.yaml', ['a2', 'a1']],
      ['beta', '/s/beta.yaml', ['b1']],
      ['alpha', '/other/alpha.yaml', ['c1']],
    ]);
  });
  it('reads suites with runs, bare or under `suites`, and sorts their runs', () => {
    const s = { name: 'x', file: '/x.yaml', runs: [entry('old', 1, 1), entry('new', 2, 0)] };
    expect(suitesOf({ suites: [s] })[0]!.runs.map((r) => r.run)).toEqual(['new', 'old']);
    expect(suitesOf([s])[0]!.name).toBe('x');
    expect(suitesOf(undefined)).toEqual([]);
    expect(suitesOf({ suites: [] })).toEqual([]);
  });
  it('finds the runs to compare with and the previous run', () => {
    const suites = suitesOf([entry('r1', 1, 1, { file: '/f' }), entry('r2', 2, 1, { file: '/f' }), entry('r3', 3, 0.5, { file: '/f' }), entry('z', 9, 1, { file: '/g' })]);
    expect(otherRuns(suites, 'r2').map((r) => r.run)).toEqual(['r3', 'r1']);
    expect(previousRun(suites, 'r3')).toBe('r2');
    expect(previousRun(suites, 'r1')).toBeUndefined();
    expect(previousRun(suites, 'nope')).toBeUndefined();
    expect(otherRuns(suites, 'nope')).toEqual([]);
  });
});

describe('formatting', () => {
  it('pct', () => {
    expect(pct(0.875)).toBe('87.5%');
    expect(pct(1)).toBe('100.0%');
    expect(pct(0)).toBe('0.0%');
    expect(pct(undefined)).toBe('–');
    expect(pct(Number.NaN)).toBe('–');
  });
  it('points: pass-rate deltas in percentage points', () => {
    expect(points(0.125)).toBe('+12.5 pp');
    expect(points(-0.5)).toBe('−50.0 pp');
    expect(points(0)).toBe('±0 pp');
    expect(points(0.0001)).toBe('±0 pp');
    expect(points(null)).toBe('–');
  });
  it('growth: ratios as changes', () => {
    expect(growth(1.25)).toBe('+25%');
    expect(growth(0.8)).toBe('−20%');
    expect(growth(1.05)).toBe('+5.0%');
    expect(growth(1)).toBe('±0%');
    expect(growth(3)).toBe('+200%');
    expect(growth(null)).toBe('–');
    expect(growth(Number.POSITIVE_INFINITY)).toBe('–');
  });
  it('directions: a higher pass rate is better, a higher cost or latency worse', () => {
    expect(passDirection(0.1)).toBe('better');
    expect(passDirection(-0.1)).toBe('worse');
    expect(passDirection(0)).toBe('same');
    expect(costDirection(1.3)).toBe('worse');
    expect(costDirection(0.7)).toBe('better');
    expect(costDirection(1.001)).toBe('same');
    expect(costDirection(null)).toBe('same');
  });
  it('toleranceText', () => {
    expect(toleranceText({ pass_rate: 0.05, cost: 0.25, latency: 0.5 })).toBe('pass rate −5.0 pp, cost +25%, latency p50 +50%');
    expect(toleranceText({ pass_rate: 0, cost: 0, latency: 1 })).toBe('pass rate no drop, cost ±0%, latency p50 +100%');
    expect(toleranceText(undefined)).toBe('');
    expect(toleranceText({ pass_rate: 0, cost: 0.25, latency: 0.5, cases: 0 })).toBe('pass rate no drop, cost +25%, latency p50 +50%, 0 cases may regress');
    expect(toleranceText({ pass_rate: 0, cost: 0.25, latency: 0.5, cases: 1 })).toBe('pass rate no drop, cost +25%, latency p50 +50%, 1 case may regress');
  });
  it('evalCost never shows an unknown-priced cost as $0', () => {
    expect(evalCost(0.0123)).toBe('$0.0123');
    expect(evalCost(0.02595)).toBe('$0.0260');
    expect(evalCost(12.5)).toBe('$12.50');
    expect(evalCost(0, true)).toBe('unknown');
    expect(evalCost(0.5, 1)).toBe('$0.5000 + unknown');
    expect(evalCost(0, false)).toBe('$0.00');
    expect(evalCost(undefined)).toBe('unknown');
  });
  it('assertionStatus: the status when given, else passed/failed', () => {
    expect(assertionStatus({ passed: true })).toBe('passed');
    expect(assertionStatus({ passed: false })).toBe('failed');
    expect(assertionStatus({ passed: false, status: 'error' })).toBe('error');
    expect(assertionStatus({ passed: 'error' })).toBe('error');
  });
  it('shown: strings as they are, values as JSON', () => {
    expect(shown('x\ny')).toBe('x\ny');
    expect(shown({ a: 1 })).toBe('{\n  "a": 1\n}');
    expect(shown(false)).toBe('false');
    expect(shown(null)).toBe('');
  });
  it('p50Of reads either latency form', () => {
    expect(p50Of(entry('x', 1, 1, { latency_ms: { p50: 12 } }))).toBe(12);
    expect(p50Of(entry('x', 1, 1, { latency_p50_ms: 7 }))).toBe(7);
    expect(p50Of(entry('x', 1, 1))).toBeUndefined();
  });
});

describe('history', () => {
  it('bars run oldest first, clamp rates and keep the last `max`', () => {
    const runs = [entry('c', 3, 0.5), entry('a', 1, 1), entry('b', 2, 1.7)];
    const bars = historyBars(runs);
    expect(bars.map((b) => [b.run, b.rate, b.failedAny])).toEqual([
      ['a', 1, false],
      ['b', 1, false],
      ['c', 0.5, true],
    ]);
    expect(historyBars(runs, 2).map((b) => b.run)).toEqual(['b', 'c']);
    expect(bars[2]!.title).toBe('c: 50.0% (2/4)');
  });
  it('trend compares the newest run with the one before', () => {
    expect(trend([entry('n', 2, 0.5), entry('o', 1, 1)])).toBe('worse');
    expect(trend([entry('n', 2, 1), entry('o', 1, 0.5)])).toBe('better');
    expect(trend([entry('n', 2, 1)])).toBe('same');
  });
  it('leaves offline replays out of the trend and the bars', () => {
    const rep = entry('r', 3, 0.5, { replay_of: 'o' });
    expect(isReplay(rep)).toBe(true);
    expect(isReplay(entry('o', 1, 1, { replay_of: null }))).toBe(false);
    // The newest live run against the live run before it: a replay in between changes nothing.
    expect(trend([rep, entry('n', 2, 1), entry('o', 1, 0.5)])).toBe('better');
    expect(trend([rep, entry('o', 1, 1)])).toBe('same');
    expect(historyBars([rep, entry('o', 1, 1)]).map((b) => b.run)).toEqual(['o']);
  });
});

describe('cases', () => {
  it('natural order', () => {
    expect(['case-10', 'case-2', 'case-1'].sort(naturalCompare)).toEqual(['case-1', 'case-2', 'case-10']);
  });
  it('sortCases: errors, then failures, then passes; natural ids within', () => {
    const cs = [kase('case-10', 'failed'), kase('case-2', 'passed'), kase('case-1', 'passed'), kase('case-3', 'error'), kase('case-9', 'failed')];
    expect(sortCases(cs).map((c) => c.id)).toEqual(['case-3', 'case-9', 'case-10', 'case-1', 'case-2']);
  });
  it('filterCases by status and by id or input text', () => {
    const cs = [kase('tides', 'failed', { topic: 'Moon' }), kase('kites', 'passed', { topic: 'wind' }), kase('x', 'error')];
    expect(filterCases(cs, 'failing', '').map((c) => c.id)).toEqual(['tides', 'x']);
    expect(filterCases(cs, 'passed', '').map((c) => c.id)).toEqual(['kites']);
    expect(filterCases(cs, '', 'WIND').map((c) => c.id)).toEqual(['kites']);
    expect(filterCases(cs, '', 'tid').map((c) => c.id)).toEqual(['tides']);
    expect(filterCases(cs, 'failing', 'wind')).toEqual([]);
  });
  it('worstAssertions: lowest pass rate first', () => {
    const r = { assertions: [
      { id: 'A2', type: 'contains', node: 'd', description: '', passed: 4, failed: 0, errored: 0, pass_rate: 1 },
      { id: 'A1', type: 'regex', node: 'd', description: '', passed: 1, failed: 3, errored: 0, pass_rate: 0.25 },
      { id: 'A10', type: 'expr', node: '', description: '', passed: 4, failed: 0, errored: 0, pass_rate: 1 },
    ] } as unknown as EvalReport;
    expect(worstAssertions(r).map((a) => a.id)).toEqual(['A1', 'A2', 'A10']);
  });
});

describe('comparison', () => {
  const cmp = {
    a: 'good',
    b: 'worse',
    verdict: 'regression',
    pass_rate: { a: 1, b: 0.5, delta: -0.5 },
    cost_usd: { a: 0.01, b: 0.01, ratio: 1 },
    latency_p50_ms: { a: 10, b: 12, ratio: 1.2 },
    regressions: ['pass rate fell'],
    cases: [
      { id: 'case-2', a: 'passed', b: 'passed', change: 'same', assertions: [] },
      { id: 'case-10', a: 'passed', b: 'failed', change: 'regressed', assertions: [{ id: 'A1', a: true, b: false }] },
      { id: 'case-1', a: 'passed', b: 'failed', change: 'regressed', assertions: [] },
      { id: 'n', a: null, b: 'passed', change: 'new', assertions: [] },
      { id: 'f', a: 'failed', b: 'passed', change: 'fixed', assertions: [] },
    ],
  } as EvalCompare;
  it('counts changes in a fixed order', () => {
    expect(changeCounts(cmp)).toEqual([
      { change: 'regressed', count: 2 },
      { change: 'fixed', count: 1 },
      { change: 'new', count: 1 },
      { change: 'removed', count: 0 },
      { change: 'same', count: 1 },
    ]);
  });
  it('puts regressions first', () => {
    expect(sortCompareCases(cmp.cases).map((c) => c.id)).toEqual(['case-1', 'case-10', 'f', 'n', 'case-2']);
  });
  it('reads per-assertion changes', () => {
    expect(assertionChange(true, false)).toBe('regressed');
    expect(assertionChange(false, true)).toBe('fixed');
    expect(assertionChange(true, true)).toBe('same');
    expect(assertionChange(null, true)).toBe('new');
    expect(assertionChange(false, undefined)).toBe('removed');
    expect(assertionChange('passed', 'failed')).toBe('regressed');
    expect(assertionState(true)).toBe('passed');
    expect(assertionState(null)).toBe('absent');
    expect(assertionState('error')).toBe('error');
  });
});
