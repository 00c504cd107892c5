// A DAG drawn with React Flow, laid out by lib/layout (left to right, one column per layer).
import { memo, useEffect, useMemo, useRef, useState } from 'react';
import { Background, Controls, Handle, MarkerType, MiniMap, Position, ReactFlow, type Edge, type Node, type NodeHandle, type NodeProps } from '@xyflow/react';
import { layout } from '../lib/layout';
import { int, money } from '../lib/format';
import { useTheme } from '../lib/theme';
import { StatusBadge } from './StatusBadge';

export interface DagItem {
  id: string;
  needs: readonly string[];
  status?: string;
  kind?: string;
  model?: string;
  tokens?: number;
  cost?: number | null;
  costKnown?: boolean;
  note?: string; // a line under the card: error, live text, "missing", ...
  title?: string; // hover text
  className?: string;
  loopTo?: string; // the loop this node owns goes back to this node
  loopWhile?: string; // ... while this holds
  when?: string; // the node runs only when this holds
  items?: number; // a map's items
}

type DagNodeType = Node<{ item: DagItem; selected: boolean }, 'sw'>;

const W = 210;
const LARGE = 300; // above this many nodes the graph opens at its start instead of fitted
const H = 72;

const DagNode = memo(function DagNode({ data, sourcePosition = Position.Right, targetPosition = Position.Left }: NodeProps<DagNodeType>) {
  const d = data.item;
  const status = d.status ?? 'pending';
  const sub = [d.kind, d.model].filter(Boolean).join(' · ');
  const meta = [
    d.items ? `× ${int(d.items)} items` : '',
    d.tokens ? `${int(d.tokens)} tok` : '',
    d.cost !== undefined && (d.cost !== 0 || d.costKnown === false) ? money(d.cost, d.costKnown ?? true) : '',
  ]
    .filter(Boolean)
    .join(' · ');
  return (
    <div
      className={`dag-node st-${status} ${d.className ?? ''} ${data.selected ? 'selected' : ''}`}
      data-testid="graph-node"
      data-node-id={d.id}
      data-status={status}
      title={d.title ?? d.id}
    >
      <Handle type="target" position={targetPosition} isConnectable={false} />
      <div className="dag-node-head">
        <span className="dag-node-id">{d.id}</span>
        {d.status && <StatusBadge status={status} />}
      </div>
      {sub && <div className="dag-node-sub">{sub}</div>}
      {(meta || d.note) && <div className="dag-node-meta">{d.note ?? meta}</div>}
      <Handle type="source" position={sourcePosition} isConnectable={false} />
    </div>
  );
});

const nodeTypes = { sw: DagNode }; // module level: React Flow warns about a new object per render

export interface DagViewProps {
  items: readonly DagItem[];
  selected?: string;
  onNodeClick?: (id: string) => void;
  onReady?: () => void;
  edgeClass?: (source: string, target: string) => string | undefined;
  direction?: 'LR' | 'TB';
  minimap?: boolean; // shown only below 500 nodes anyway
}

/** Status colors of the minimap (its rects take plain colors). */
const MINI: Record<string, string> = {
  running: '#2f6fdb',
  succeeded: '#1f883d',
  failed: '#cf222e',
  skipped: '#8c959f',
  waiting: '#b07800',
  cancelled: '#8250df',
};
const miniColor = (n: DagNodeType) => MINI[n.data.item.status ?? ''] ?? '#9aa4b0';

export function DagView({ items, selected, onNodeClick, onReady, edgeClass, direction = 'LR', minimap = true }: DagViewProps) {
  const theme = useTheme();
  // Re-layout only when the shape changes, not on every status update.
  const shape = useMemo(() => items.map((i) => `${i.id}<${i.needs.join(',')}~${i.loopTo ?? ''}?${i.when ?? ''}`).join('|'), [items]);
  const lay = useMemo(
    () => layout(items, direction === 'LR' ? { nodeWidth: W, nodeHeight: H, gapX: 70, gapY: 18 } : { nodeWidth: W, nodeHeight: H, gapX: 24, gapY: 50, direction }),
    [shape, direction],
  );
  const [source, target] = direction === 'LR' ? [Position.Right, Position.Left] : [Position.Bottom, Position.Top];

  // Handles given up front for a large graph: React Flow otherwise mounts every node once
  // just to measure them (2,000 nodes drawn and removed again: 0.9 s), even with
  // onlyRenderVisibleElements. A small graph is measured as usual, then fitted.
  const handles = useMemo<NodeHandle[]>(
    () =>
      direction === 'LR'
        ? [{ type: 'target', position: Position.Left, x: 0, y: H / 2 }, { type: 'source', position: Position.Right, x: W - 1, y: H / 2 }]
        : [{ type: 'target', position: Position.Top, x: W / 2, y: 0 }, { type: 'source', position: Position.Bottom, x: W / 2, y: H - 1 }],
    [direction],
  );
  const cache = useRef(new Map<string, DagNodeType>());
  const nodes = useMemo(() => {
    const next = new Map<string, DagNodeType>();
    const out = items.map((item) => {
      const position = lay.position.get(item.id) ?? { x: 0, y: 0 };
      const isSel = item.id === selected;
      const prev = cache.current.get(item.id);
      const n: DagNodeType =
        prev && prev.data.item === item && prev.position === position && prev.data.selected === isSel
          ? prev
          : { id: item.id, type: 'sw', position, data: { item, selected: isSel }, width: W, height: H, handles: items.length > LARGE ? handles : undefined, draggable: false, connectable: false, sourcePosition: source, targetPosition: target };
      next.set(item.id, n);
      return n;
    });
    cache.current = next; // reuse unchanged node objects so React Flow skips them
    return out;
  }, [items, lay, selected, source, target, handles]);

  const edges = useMemo(() => {
    const ids = new Set(items.map((i) => i.id));
    const seen = new Set<string>();
    const out: Edge[] = [];
    const arrow = { type: MarkerType.ArrowClosed, width: 16, height: 16 };
    const clip = (s: string) => (s.length > 48 ? s.slice(0, 47) + '…' : s);
    for (const item of items) {
      for (const need of item.needs) {
        const id = `${need}->${item.id}`;
        if (!ids.has(need) || need === item.id || seen.has(id)) continue;
        seen.add(id);
        const className = edgeClass?.(need, item.id);
        const e: Edge = { id, source: need, target: item.id, markerEnd: arrow };
        if (className) e.className = className;
        // A condition labels the edges into its node: the way only runs when it holds.
        if (item.when) {
          e.label = `when ${clip(item.when)}`;
          e.className = `${e.className ?? ''} conditional`.trim();
        }
        out.push(e);
      }
      // A loop's back edge: from its owner back to where the loop starts again.
      if (item.loopTo && ids.has(item.loopTo)) {
        out.push({
          id: `${item.id}~>${item.loopTo}`,
          source: item.id,
          target: item.loopTo,
          markerEnd: arrow,
          animated: true,
          className: 'back-edge',
          label: `loop while ${clip(item.loopWhile ?? '')}`,
          type: 'smoothstep',
        });
      }
    }
    return out;
  }, [shape, edgeClass]); // edges follow the shape alone

  const [inited, setInited] = useState(false);
  const onReadyRef = useRef(onReady);
  useEffect(() => {
    onReadyRef.current = onReady;
  });
  const empty = items.length === 0;
  useEffect(() => {
    if (empty) {
      onReadyRef.current?.();
      return;
    }
    if (!inited) return;
    // One frame after React Flow has the nodes, so they are in the DOM.
    const r = requestAnimationFrame(() => onReadyRef.current?.());
    return () => cancelAnimationFrame(r);
  }, [inited, nodes, empty]);

  // A large graph opens at its start, readable, instead of fitted whole: fitting 2,000 nodes
  // makes every one visible, and drawing them all took 2.4 s; at the start only the few dozen
  // in view are drawn (onlyRenderVisibleElements). The fit button of the controls shows all.
  const big = items.length > LARGE;
  const start = useMemo(() => {
    let minX = Infinity;
    let minY = Infinity;
    for (const p of lay.position.values()) {
      minX = Math.min(minX, p.x);
      minY = Math.min(minY, p.y);
    }
    const zoom = 0.8;
    return { x: 24 - (isFinite(minX) ? minX : 0) * zoom, y: 24 - (isFinite(minY) ? minY : 0) * zoom, zoom };
  }, [lay]);

  if (empty) return <div className="empty">No nodes.</div>;
  return (
    <div className="dag">
      {big && <div className="dag-hint muted">{items.length} nodes: showing the start — drag, zoom, or fit to see all</div>}
      <ReactFlow<DagNodeType>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onInit={() => setInited(true)}
        onNodeClick={onNodeClick ? (_, n) => onNodeClick(n.id) : undefined}
        onlyRenderVisibleElements
        fitView={!big}
        defaultViewport={big ? start : undefined}
        fitViewOptions={{ padding: 0.1, maxZoom: 1.2 }}
        minZoom={0.02}
        maxZoom={2}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable={false}
        colorMode={theme}
      >
        <Background gap={24} />
        <Controls showInteractive={false} />
        {minimap && items.length < 500 && <MiniMap pannable zoomable nodeColor={miniColor} />}
      </ReactFlow>
    </div>
  );
}
