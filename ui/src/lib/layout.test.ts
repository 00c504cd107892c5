import { describe, expect, it } from 'vitest';
import { layout, type LayoutNode } from './layout';

const n = (id: string, ...needs: string[]): LayoutNode => ({ id, needs });

describe('layout', () => {
  it('puts every node one layer past its deepest need', () => {
    const nodes = [n('draft', 'copy', 'market'), n('plan'), n('market'), n('copy', 'plan'), n('review', 'draft')];
    const l = layout(nodes);
    expect(l.cyclic).toBe(false);
    expect(Object.fromEntries(l.layer)).toEqual({ plan: 0, market: 0, copy: 1, draft: 2, review: 3 });
    for (const node of nodes) for (const need of node.needs) expect(l.layer.get(need)!).toBeLessThan(l.layer.get(node.id)!);
    expect(l.layers.flat().sort()).toEqual(['copy', 'draft', 'market', 'plan', 'review']);
  });

  it('places x by layer and keeps nodes of a layer apart', () => {
    const l = layout([n('a'), n('b'), n('c', 'a', 'b')], { nodeWidth: 100, gapX: 50, nodeHeight: 40, gapY: 10 });
    expect(l.position.get('c')!.x).toBe(150);
    const ya = l.position.get('a')!.y;
    const yb = l.position.get('b')!.y;
    expect(Math.abs(ya - yb)).toBe(50);
    expect(l.position.get('c')!.y).toBe(0); // centred between its needs
  });

  it('lays layers out as rows top to bottom', () => {
    const l = layout([n('a'), n('b', 'a')], { direction: 'TB', nodeHeight: 40, gapY: 20 });
    expect(l.position.get('b')).toEqual({ x: 0, y: 60 });
  });

  it('uncrosses edges with the barycenter sweeps', () => {
    // a->y and b->x start crossed (x listed before y).
    const l = layout([n('a'), n('b'), n('x', 'b'), n('y', 'a')]);
    const y = (id: string) => l.position.get(id)!.y;
    expect(Math.sign(y('a') - y('b'))).toBe(Math.sign(y('y') - y('x')));
  });

  it('ignores unknown needs, self needs and duplicate ids', () => {
    const l = layout([n('a', 'ghost', 'a'), n('b', 'a'), n('a', 'b')]);
    expect(l.layers.flat()).toHaveLength(2);
    expect(l.layer.get('a')).toBe(0);
    expect(l.layer.get('b')).toBe(1);
  });

  it('places cyclic input without hanging', () => {
    const nodes = [n('a', 'c'), n('b', 'a'), n('c', 'b'), n('d', 'c'), n('e')];
    const l = layout(nodes);
    expect(l.cyclic).toBe(true);
    expect(l.position.size).toBe(5);
    for (const p of l.position.values()) expect(Number.isFinite(p.x) && Number.isFinite(p.y)).toBe(true);
    expect(l.layer.get('d')!).toBeGreaterThan(l.layer.get('c')!);
  });

  it('handles an empty graph and a long chain', () => {
    expect(layout([]).layers).toEqual([]);
    const chain = Array.from({ length: 5000 }, (_, i) => n(`n${i}`, ...(i ? [`n${i - 1}`] : [])));
    const l = layout(chain);
    expect(l.layers).toHaveLength(5000);
  });

  it('lays out a wide 2,000-node DAG with every node placed', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const nodes = Array.from({ length: 2000 }, (_, i) =>
      n(`n${i}`, ...Array.from({ length: i ? 1 + Math.floor(rnd() * 3) : 0 }, () => `n${Math.floor(rnd() * i)}`)),
    );
    const l = layout(nodes);
    expect(l.position.size).toBe(2000);
    for (const node of nodes) for (const need of node.needs) expect(l.layer.get(need)!).toBeLessThan(l.layer.get(node.id)!);
  });
});
