// Gantt model of a run's trace rows: time scale, ticks, lanes per node, the slowest bars.
import type { TraceRow } from '../api/types';

export interface GanttBar {
  row: TraceRow;
  lane: number; // sub-row within its node: parallel items stack
  t0: number; // seconds since the run started
  t1: number;
  duration: number;
  running: boolean;
  slow: boolean;
}

export interface GanttGroup {
  node: string;
  lanes: number;
  bars: GanttBar[];
}

export interface Gantt {
  total: number; // seconds shown, > 0
  groups: GanttGroup[];
  bars: number;
  ticks: number[];
}

/** niceStep is a 1/2/5×10^k step giving about `target` intervals over `total`. */
export function niceStep(total: number, target = 8): number {
  if (!(total > 0)) return 1;
  const raw = total / Math.max(1, target);
  const pow = 10 ** Math.floor(Math.log10(raw));
  const m = raw / pow;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * pow;
}

/** ticks are the step multiples from 0 up to total. */
export function ticks(total: number, target = 8): number[] {
  const step = niceStep(total, target);
  const out: number[] = [];
  for (let k = 0; k * step <= total * (1 + 1e-9) && out.length < 1000; k++) out.push(+(k * step).toPrecision(12));
  return out;
}

/** pct places seconds on the 0..100 scale of the chart. */
export function pct(t: number, total: number): number {
  if (!(total > 0)) return 0;
  return Math.min(100, Math.max(0, (t / total) * 100));
}

/** slowest marks the top `fraction` (at least one) of positive durations, longest first. */
export function slowest(durations: readonly number[], fraction = 0.1): boolean[] {
  const idx = durations.map((d, i) => [d, i] as const).filter(([d]) => d > 0);
  const out = durations.map(() => false);
  if (!idx.length) return out;
  const k = Math.max(1, Math.ceil(idx.length * fraction));
  idx.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let j = 0; j < k; j++) out[idx[j]![1]] = true;
  return out;
}

/** buildGantt groups rows by node (ordered by first start) and stacks overlapping rows in lanes. */
export function buildGantt(rows: readonly TraceRow[], start: number, end: number, slowFraction = 0.1): Gantt {
  const total = Math.max(end - start, 1e-3);
  const bars: GanttBar[] = rows.map((row) => {
    const running = !(row.finished_at > 0);
    const t0 = Math.max(0, (row.started_at > 0 ? row.started_at : start) - start);
    const t1 = Math.max(t0, (running ? end : row.finished_at) - start);
    return { row, lane: 0, t0, t1, duration: t1 - t0, running, slow: false };
  });
  slowest(
    bars.map((b) => b.duration),
    slowFraction,
  ).forEach((s, i) => (bars[i]!.slow = s));

  const byNode = new Map<string, GanttBar[]>();
  for (const b of bars) {
    const list = byNode.get(b.row.node);
    if (list) list.push(b);
    else byNode.set(b.row.node, [b]);
  }
  const groups: GanttGroup[] = [];
  for (const [node, list] of byNode) {
    list.sort((a, b) => a.t0 - b.t0 || a.t1 - b.t1);
    const laneEnd: number[] = [];
    for (const b of list) {
      let lane = laneEnd.findIndex((e) => e <= b.t0 + 1e-9);
      if (lane < 0) lane = laneEnd.push(0) - 1;
      laneEnd[lane] = Math.max(b.t1, b.t0 + 1e-6);
      b.lane = lane;
    }
    groups.push({ node, lanes: Math.max(1, laneEnd.length), bars: list });
  }
  groups.sort((a, b) => (a.bars[0]?.t0 ?? 0) - (b.bars[0]?.t0 ?? 0));
  return { total, groups, bars: bars.length, ticks: ticks(total) };
}
