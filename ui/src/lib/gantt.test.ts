import { describe, expect, it } from 'vitest';
import type { TraceRow } from '../api/types';
import { buildGantt, niceStep, pct, slowest, ticks } from './gantt';

const row = (node: string, started_at: number, finished_at: number, extra: Partial<TraceRow> = {}): TraceRow => ({
  node,
  iteration: 0,
  item: -1,
  attempt: 1,
  status: 'succeeded',
  started_at,
  finished_at,
  tokens: 0,
  tokens_in: 0,
  tokens_out: 0,
  calls: 0,
  cost_usd: 0,
  cost_known: true,
  cached: false,
  model: '',
  error: '',
  ...extra,
});

describe('scale', () => {
  it('picks 1/2/5 steps', () => {
    expect(niceStep(10)).toBe(2);
    expect(niceStep(0.85)).toBe(0.2);
    expect(niceStep(100, 10)).toBe(10);
    expect(niceStep(0)).toBe(1);
  });
  it('ticks cover the range from 0', () => {
    expect(ticks(10)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(ticks(0.85)).toEqual([0, 0.2, 0.4, 0.6, 0.8]);
  });
  it('pct clamps to the chart', () => {
    expect(pct(5, 10)).toBe(50);
    expect(pct(-1, 10)).toBe(0);
    expect(pct(20, 10)).toBe(100);
    expect(pct(1, 0)).toBe(0);
  });
});

describe('slowest', () => {
  it('marks the top 10% (at least one) of positive durations', () => {
    expect(slowest([1, 5, 3])).toEqual([false, true, false]);
    const d = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(slowest(d).filter(Boolean)).toHaveLength(2);
    expect(slowest(d)[19]).toBe(true);
    expect(slowest(d)[18]).toBe(true);
    expect(slowest([0, 0])).toEqual([false, false]);
    expect(slowest([])).toEqual([]);
  });
});

describe('buildGantt', () => {
  const start = 1000;
  const rows = [
    row('plan', 1000.5, 1002),
    row('market', 1000.5, 1001),
    row('copy', 1002, 1004, { item: 0 }),
    row('copy', 1002, 1003, { item: 1 }),
    row('copy', 1003, 1004, { item: 2 }),
    row('draft', 1004, 0, { status: 'running' }),
  ];
  const g = buildGantt(rows, start, 1007);

  it('puts bars at seconds since the start, running ones up to the end', () => {
    expect(g.total).toBe(7);
    const plan = g.groups.find((x) => x.node === 'plan')!.bars[0]!;
    expect([plan.t0, plan.t1, plan.duration]).toEqual([0.5, 2, 1.5]);
    const draft = g.groups.find((x) => x.node === 'draft')!.bars[0]!;
    expect(draft.running).toBe(true);
    expect(draft.t1).toBe(7);
  });

  it('groups by node in start order and stacks parallel items', () => {
    expect(g.groups.map((x) => x.node)).toEqual(['plan', 'market', 'copy', 'draft']);
    const copy = g.groups.find((x) => x.node === 'copy')!;
    expect(copy.lanes).toBe(2);
    const lanes = new Map(copy.bars.map((b) => [b.row.item, b.lane]));
    expect(lanes.get(0)).not.toBe(lanes.get(1)); // overlapping
    expect(lanes.get(2)).toBe(lanes.get(1)); // item 2 starts when item 1 ends
  });

  it('marks the slowest bars', () => {
    const slow = g.groups.flatMap((x) => x.bars).filter((b) => b.slow);
    expect(slow.map((b) => b.row.node)).toEqual(['draft']);
  });
});
