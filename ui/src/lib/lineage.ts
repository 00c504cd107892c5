// Lineage graphs from the derivation trees of /artifacts and /lineage: one node per artifact
// name, an edge from each source to what was derived from it, cycles and missing sources marked.
import type { TreeNode } from '../api/types';

export interface LineageNode {
  name: string;
  produced_by: string;
  media_type: string;
  blob: string;
  missing: boolean;
  inCycle: boolean;
  sources: string[]; // the names it was derived from (the layout's needs)
}

export interface LineageGraph {
  nodes: LineageNode[];
  cycleEdges: Set<string>; // "source->derived" edges that close a cycle
}

export const edgeKey = (source: string, target: string) => `${source}->${target}`;

/** lineageGraph flattens trees (iteratively: chains can be very deep) into a graph. */
export function lineageGraph(trees: readonly TreeNode[]): LineageGraph {
  const byName = new Map<string, LineageNode>();
  const cycleEdges = new Set<string>();
  const nodeOf = (t: TreeNode): LineageNode => {
    let n = byName.get(t.name);
    if (!n) {
      n = { name: t.name, produced_by: '', media_type: '', blob: '', missing: false, inCycle: false, sources: [] };
      byName.set(t.name, n);
    }
    if (t.missing) n.missing = true;
    n.produced_by ||= t.produced_by ?? '';
    n.media_type ||= t.media_type ?? '';
    n.blob ||= t.blob ?? '';
    return n;
  };
  const stack: [TreeNode, LineageNode | null][] = [];
  for (let i = trees.length - 1; i >= 0; i--) stack.push([trees[i]!, null]);
  while (stack.length) {
    const [t, parent] = stack.pop()!;
    const n = nodeOf(t);
    if (parent && !parent.sources.includes(n.name)) parent.sources.push(n.name);
    if (t.cycle) {
      if (parent) cycleEdges.add(edgeKey(n.name, parent.name));
      for (const member of t.cycle.split(' -> ')) {
        const m = byName.get(member);
        if (m) m.inCycle = true;
      }
      n.inCycle = true;
    }
    const kids = t.derived_from ?? [];
    for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i]!, n]);
  }
  return { nodes: [...byName.values()], cycleEdges };
}
