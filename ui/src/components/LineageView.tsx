// A lineage graph: artifacts left to right from their sources, cycles and missing sources marked.
import { useCallback, useMemo } from 'react';
import type { TreeNode } from '../api/types';
import { edgeKey, lineageGraph } from '../lib/lineage';
import { DagView, type DagItem } from './DagView';

interface Props {
  trees: readonly TreeNode[];
  selected?: string;
  onSelect?: (name: string) => void;
  onReady?: () => void;
  direction?: 'LR' | 'TB';
}

export function LineageView({ trees, selected, onSelect, onReady, direction = 'LR' }: Props) {
  const g = useMemo(() => lineageGraph(trees), [trees]);
  const items = useMemo(
    () =>
      g.nodes.map(
        (n): DagItem => ({
          id: n.name,
          needs: n.sources,
          kind: n.produced_by ? `by ${n.produced_by}` : undefined,
          model: n.media_type || undefined,
          note: n.missing ? 'missing: no such artifact' : n.inCycle ? 'in a derivation cycle' : undefined,
          className: `${n.missing ? 'missing' : ''} ${n.inCycle ? 'cycle' : ''}`,
          title: [n.name, n.produced_by && `produced by ${n.produced_by}`, n.media_type, n.blob, n.missing && 'missing', n.inCycle && 'in a cycle'].filter(Boolean).join('\n'),
        }),
      ),
    [g],
  );
  const edgeClass = useCallback((s: string, t: string) => (g.cycleEdges.has(edgeKey(s, t)) ? 'edge-cycle' : undefined), [g]);
  return <DagView items={items} selected={selected} onNodeClick={onSelect} onReady={onReady} edgeClass={edgeClass} direction={direction} minimap={direction === 'LR'} />;
}
