import { describe, expect, it } from 'vitest';
import type { TreeNode } from '../api/types';
import { edgeKey, lineageGraph } from './lineage';

const t = (name: string, derived_from: TreeNode[] = [], extra: Partial<TreeNode> = {}): TreeNode => ({ name, produced_by: name, media_type: 'text/plain', blob: 'b', derived_from, ...extra });

describe('lineageGraph', () => {
  it('makes one node per name with edges from sources', () => {
    const g = lineageGraph([t('pub', [t('sign', [t('plan')])]), t('review', [t('draft', [t('plan', [], { seen: true })])])]);
    const by = new Map(g.nodes.map((n) => [n.name, n]));
    expect([...by.keys()].sort()).toEqual(['draft', 'plan', 'pub', 'review', 'sign']);
    expect(by.get('pub')!.sources).toEqual(['sign']);
    expect(by.get('draft')!.sources).toEqual(['plan']);
    expect(by.get('plan')!.sources).toEqual([]);
  });

  it('marks missing sources and cycles', () => {
    const g = lineageGraph([
      t('a', [t('b', [t('a', [], { cycle: 'a -> b -> a' })]), t('ghost', [], { missing: true, produced_by: undefined })]),
    ]);
    const by = new Map(g.nodes.map((n) => [n.name, n]));
    expect(by.get('ghost')!.missing).toBe(true);
    expect(by.get('a')!.inCycle && by.get('b')!.inCycle).toBe(true);
    expect(g.cycleEdges.has(edgeKey('a', 'b'))).toBe(true);
    expect(by.get('b')!.sources).toEqual(['a']);
  });

  it('walks a very deep chain without recursion', () => {
    let root = t('n0');
    for (let i = 1; i < 50000; i++) root = t(`n${i}`, [root]);
    expect(lineageGraph([root]).nodes).toHaveLength(50000);
  });
});
