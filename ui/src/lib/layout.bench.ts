// The graph's layout on a 1,000-node run: our layered layout (lib/layout.ts) against dagre's
// (the layered layout with back-edge handling the issue suggested), on the same graph — a
// develop-like DAG with fan-outs, joins and loop back-edges. `npx vitest bench --run` in ui/;
// bench/run.sh runs it too.
import dagre from '@dagrejs/dagre';
import { bench, describe } from 'vitest';
import { layout, type LayoutNode } from './layout';

function graph(n: number): { nodes: LayoutNode[]; back: [string, string][] } {
  // Deterministic: each node needs one to three of the 30 nodes before it; every 25th owns a
  // loop back to a node 5–20 before it.
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const nodes: LayoutNode[] = [];
  const back: [string, string][] = [];
  for (let i = 0; i < n; i++) {
    const needs = new Set<string>();
    const k = i === 0 ? 0 : 1 + Math.floor(rand() * 3);
    for (let j = 0; j < k; j++) needs.add(`n${Math.max(0, i - 1 - Math.floor(rand() * 30))}`);
    nodes.push({ id: `n${i}`, needs: [...needs] });
    if (i % 25 === 24) back.push([`n${i}`, `n${i - 5 - Math.floor(rand() * 15)}`]);
  }
  return { nodes, back };
}

const g = graph(1000);

describe('layout of 1,000 nodes', () => {
  bench('ours (lib/layout.ts)', () => {
    layout(g.nodes, { nodeWidth: 220, nodeHeight: 64, gapX: 70, gapY: 18 });
  });
  bench('dagre (rankdir LR, back edges as edges)', () => {
    const d = new dagre.graphlib.Graph();
    d.setGraph({ rankdir: 'LR', nodesep: 18, ranksep: 70 });
    d.setDefaultEdgeLabel(() => ({}));
    for (const n of g.nodes) d.setNode(n.id, { width: 220, height: 64 });
    for (const n of g.nodes) for (const m of n.needs) d.setEdge(m, n.id);
    for (const [from, to] of g.back) d.setEdge(from, to);
    dagre.layout(d);
  }, { iterations: 5, time: 0 });
});
