// Layered DAG layout: longest-path layers from `needs`, then barycenter ordering sweeps.
// Every step is linear in nodes + edges (plus a sort per layer), so 10,000 nodes lay out in ms.
// Malformed input (cycles, unknown or duplicate ids) is placed anyway, never looped on.

export interface LayoutNode {
  id: string;
  needs: readonly string[];
}

export interface LayoutOptions {
  nodeWidth?: number;
  nodeHeight?: number;
  gapX?: number;
  gapY?: number;
  sweeps?: number; // down+up barycenter passes
  direction?: 'LR' | 'TB'; // layers as columns (left to right) or rows (top to bottom)
}

export interface Layout {
  layers: string[][]; // ids per layer, in their final order
  layer: Map<string, number>;
  position: Map<string, { x: number; y: number }>;
  cyclic: boolean; // some needs formed a cycle (those edges point backwards)
}

export function layout(nodes: readonly LayoutNode[], opts: LayoutOptions = {}): Layout {
  const { nodeWidth = 200, nodeHeight = 64, gapX = 80, gapY = 24, sweeps = 2, direction = 'LR' } = opts;
  const index = new Map<string, number>();
  const ids: string[] = [];
  const needs: (readonly string[])[] = [];
  for (const n of nodes) {
    if (index.has(n.id)) continue; // a duplicate id is one node
    index.set(n.id, ids.length);
    ids.push(n.id);
    needs.push(n.needs ?? []);
  }
  const count = ids.length;
  const preds: number[][] = ids.map(() => []);
  const succs: number[][] = ids.map(() => []);
  for (let i = 0; i < count; i++) {
    for (const need of needs[i]!) {
      const j = index.get(need);
      if (j === undefined || j === i) continue;
      preds[i]!.push(j);
      succs[j]!.push(i);
    }
  }

  // Kahn's order gives each node 1 + the deepest of its needs; when only cycles are left,
  // the first unplaced node (input order) is placed from the needs placed so far.
  const layerOf = new Int32Array(count).fill(-1);
  const indeg = Int32Array.from(preds, (p) => p.length);
  const queue: number[] = [];
  for (let i = 0; i < count; i++) if (indeg[i] === 0) queue.push(i);
  let head = 0;
  let next = 0; // scan pointer for cycle breaking: moves forward only
  let cyclic = false;
  for (let placed = 0; placed < count; ) {
    let i: number;
    if (head < queue.length) {
      i = queue[head++]!;
      if (layerOf[i]! >= 0) continue;
    } else {
      while (layerOf[next]! >= 0) next++;
      i = next;
      cyclic = true;
    }
    let l = 0;
    for (const p of preds[i]!) if (layerOf[p]! >= l) l = layerOf[p]! + 1;
    layerOf[i] = l;
    placed++;
    for (const s of succs[i]!) if (--indeg[s]! === 0 && layerOf[s]! < 0) queue.push(s);
  }

  let depth = 0;
  for (let i = 0; i < count; i++) depth = Math.max(depth, layerOf[i]! + 1);
  const layers: number[][] = Array.from({ length: depth }, () => []);
  for (let i = 0; i < count; i++) layers[layerOf[i]!]!.push(i);

  // Centred slot of each node in its layer, so layers of different sizes compare.
  const slot = new Float64Array(count);
  const place = (layer: number[]) => {
    const mid = (layer.length - 1) / 2;
    layer.forEach((n, k) => (slot[n] = k - mid));
  };
  layers.forEach(place);
  const key = new Float64Array(count);
  const reorder = (layer: number[], adj: number[][]) => {
    for (const n of layer) {
      const a = adj[n]!;
      if (a.length === 0) {
        key[n] = slot[n]!;
        continue;
      }
      let sum = 0;
      for (const m of a) sum += slot[m]!;
      key[n] = sum / a.length;
    }
    layer.sort((x, y) => key[x]! - key[y]! || slot[x]! - slot[y]!);
    place(layer);
  };
  for (let s = 0; s < sweeps; s++) {
    for (let l = 1; l < depth; l++) reorder(layers[l]!, preds);
    for (let l = depth - 2; l >= 0; l--) reorder(layers[l]!, succs);
  }

  const position = new Map<string, { x: number; y: number }>();
  const layer = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const l = layerOf[i]!;
    const k = slot[i]!;
    position.set(ids[i]!, direction === 'LR' ? { x: l * (nodeWidth + gapX), y: k * (nodeHeight + gapY) } : { x: k * (nodeWidth + gapX), y: l * (nodeHeight + gapY) });
    layer.set(ids[i]!, layerOf[i]!);
  }
  return { layers: layers.map((l) => l.map((n) => ids[n]!)), layer, position, cyclic };
}
