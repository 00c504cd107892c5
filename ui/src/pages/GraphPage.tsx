// Run graph: the recorded DAG with each node's state, updated live from the run's stream.
import { useCallback, useMemo, useRef, useState } from 'react';
import { api } from '../api/client';
import type { GraphNode } from '../api/types';
import { DagView, type DagItem } from '../components/DagView';
import { ErrorBanner } from '../components/ErrorBanner';
import { StatusBadge } from '../components/StatusBadge';
import { int, money } from '../lib/format';
import { useApi, useReady, useThrottled } from '../lib/hooks';
import { liveTextsOf, withLiveStatus } from '../lib/live';
import { href } from '../lib/router';
import type { RunPageProps } from './runPage';

const items = new WeakMap<GraphNode, DagItem>(); // one item per fetched/overlaid node object

function toItem(n: GraphNode, streaming: string | undefined): DagItem {
  const note = streaming !== undefined ? `streaming… ${streaming.slice(-60)}` : n.error ? n.error : undefined;
  const cached = items.get(n);
  if (cached && cached.note === note) return cached;
  const item: DagItem = {
    id: n.id,
    needs: n.needs ?? [],
    status: n.status || 'pending',
    kind: n.kind,
    model: n.model,
    tokens: n.tokens,
    cost: n.cost_usd,
    costKnown: n.cost_known,
    note,
    className: n.cached ? 'cached' : undefined,
    loopTo: n.loop?.to,
    loopWhile: n.loop?.while,
    when: n.when,
    items: n.items,
    title: [
      n.id,
      [n.kind, n.model].filter(Boolean).join(' · '),
      `${n.status || 'pending'}${n.attempts > 1 ? ` · ${n.attempts} attempts` : ''}${n.items ? ` · ${n.items} items` : ''}${n.iteration ? ` · iteration ${n.iteration + 1}` : ''}${n.cached ? ' · cache hit' : ''}`,
      `${int(n.tokens)} tokens · ${int(n.calls)} calls · ${money(n.cost_usd, n.cost_known)}`,
      n.error,
    ]
      .filter(Boolean)
      .join('\n'),
  };
  items.set(n, item);
  return item;
}

export function GraphPage({ id, live, running }: RunPageProps) {
  const endedRef = useRef(live.ended);
  endedRef.current = live.ended;
  // Tokens and cost come with the graph: refetch when nodes change state (at most every 2 s) and at the end.
  const version = useThrottled(running ? live.version : 0, 2000);
  const graph = useApi(async () => ({ g: await api.graph(id), ended: endedRef.current }), [id, live.ended, version]);
  const [ready, setReady] = useState(false);

  const nodes = useMemo(() => {
    if (!graph.data) return [];
    const { g, ended } = graph.data;
    // After the stream ended, a graph fetched later is final (a cancel writes no node event).
    return live.ended > 0 && ended >= live.ended ? g.nodes : withLiveStatus(g.nodes, (n) => n.id, live);
  }, [graph.data, live]);
  const dagItems = useMemo(
    () =>
      nodes.map((n) => {
        const texts = liveTextsOf(live, n.id);
        return toItem(n, texts.length ? (texts[texts.length - 1]?.text ?? '') : undefined);
      }),
    [nodes, live],
  );
  const counts = useMemo(() => {
    const c = new Map<string, number>();
    for (const n of nodes) c.set(n.status || 'pending', (c.get(n.status || 'pending') ?? 0) + 1);
    return [...c].sort();
  }, [nodes]);

  // A click opens the node's panel (its facts, its inspector, and a waiting gate's decision).
  const [picked, setPicked] = useState<string | undefined>();
  const onNodeClick = useCallback((node: string) => setPicked((p) => (p === node ? undefined : node)), []);
  const pickedNode = nodes.find((n) => n.id === picked);
  const onReady = useCallback(() => setReady(true), []);
  useReady('graph', ready && graph.data !== undefined);

  return (
    <>
      <ErrorBanner error={graph.error} onRetry={graph.reload} />
      {graph.data && (
        <div className="graph-bar">
          <span className="muted">{nodes.length} nodes</span>
          {counts.map(([s, k]) => (
            <span key={s} className="count">
              <StatusBadge status={s} /> {k}
            </span>
          ))}
          {running && <span className="live-dot">live</span>}
        </div>
      )}
      {graph.data && (
        <div className={`graph-wrap${pickedNode ? ' with-panel' : ''}`}>
          <DagView items={dagItems} selected={picked} onNodeClick={onNodeClick} onReady={onReady} />
          {pickedNode && <NodePanel id={id} n={pickedNode} onClose={() => setPicked(undefined)} onDecided={graph.reload} />}
        </div>
      )}
    </>
  );
}

function NodePanel({ id, n, onClose, onDecided }: { id: string; n: GraphNode; onClose: () => void; onDecided: () => void }) {
  const [note, setNote] = useState('');
  const [said, setSaid] = useState('');
  const [error, setError] = useState<Error | null>(null);
  const decide = (decision: 'approved' | 'rejected') => {
    setError(null);
    api
      .approve(id, { node: n.id, decision, text: note })
      .then((r) => {
        setSaid(`${r.decision}: ${r.continued}`);
        onDecided();
      })
      .catch((e: Error) => setError(e));
  };
  const gate = n.kind === 'human' && n.status === 'waiting';
  return (
    <aside className="node-panel card" data-testid="node-panel" data-node={n.id}>
      <header className="call-head">
        <strong className="mono">{n.id}</strong> <StatusBadge status={n.status || 'pending'} />
        <button type="button" className="secondary" onClick={onClose} aria-label="close">
          ×
        </button>
      </header>
      <dl className="facts small">
        <dt>kind</dt>
        <dd>{[n.kind, n.model].filter(Boolean).join(' · ') || '–'}</dd>
        {n.needs.length > 0 && (
          <>
            <dt>needs</dt>
            <dd className="mono">{n.needs.join(', ')}</dd>
          </>
        )}
        {n.when && (
          <>
            <dt>when</dt>
            <dd className="mono">{n.when}</dd>
          </>
        )}
        {n.loop && (
          <>
            <dt>loop</dt>
            <dd className="mono">
              back to {n.loop.to} while {n.loop.while} (at most {n.loop.max_iterations})
            </dd>
          </>
        )}
        {n.map_over && (
          <>
            <dt>map over</dt>
            <dd className="mono">
              {n.map_over} ({int(n.items)} items)
            </dd>
          </>
        )}
        <dt>attempts</dt>
        <dd>
          {n.attempts}
          {n.iteration > 0 && ` · iteration ${n.iteration + 1}`}
        </dd>
        <dt>spend</dt>
        <dd>
          {int(n.tokens)} tokens · {int(n.calls)} calls · {money(n.cost_usd, n.cost_known)}
        </dd>
      </dl>
      {n.error && <pre className="pre error-text small">{n.error}</pre>}
      <a href={href({ page: 'node', id, node: n.id })} data-testid="open-inspector">
        Open the inspector →
      </a>
      {gate && (
        <div className="gate-decision" data-testid="gate-decision">
          <textarea placeholder="A note (optional; with Reject, what to change)" value={note} onChange={(e) => setNote(e.target.value)} aria-label="note" rows={3} />
          <div className="actions">
            <button type="button" onClick={() => decide('approved')} data-testid="panel-approve">
              Approve
            </button>
            <button type="button" className="secondary" onClick={() => decide('rejected')} data-testid="panel-reject">
              Reject
            </button>
          </div>
        </div>
      )}
      {said && (
        <p className="muted small" data-testid="panel-said">
          {said}
        </p>
      )}
      <ErrorBanner error={error} />
    </aside>
  );
}
