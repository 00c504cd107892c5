// Replay: re-run a recorded run from chosen nodes, with model and prompt overrides.
import { useMemo, useState } from 'react';
import { api } from '../api/client';
import { ErrorBanner } from '../components/ErrorBanner';
import { StatusBadge } from '../components/StatusBadge';
import { useApi, useReady } from '../lib/hooks';
import { buildReplay } from '../lib/replay';
import { href, navigate } from '../lib/router';
import type { RunPageProps } from './runPage';

/** waitForRun waits (≤ 15 s) until the started replay is stored, so its page does not begin with a 404. */
async function waitForRun(id: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const found = await api.runs({ q: id, limit: 5 }).then(
      (rs) => rs.some((r) => r.id === id),
      () => false,
    );
    if (found) return;
    await new Promise((r) => setTimeout(r, 300));
  }
}

export function ReplayPage({ id }: RunPageProps) {
  const graph = useApi(() => api.graph(id), [id]);
  const [from, setFrom] = useState<Set<string>>(new Set());
  const [models, setModels] = useState<Record<string, string>>({});
  const [prompts, setPrompts] = useState<Record<string, string>>({});
  const [open, setOpen] = useState<Set<string>>(new Set()); // nodes whose prompt editor is shown
  const [inputs, setInputs] = useState('');
  const [allowDrift, setAllowDrift] = useState(false);
  const [filter, setFilter] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  useReady('replay', graph.data !== undefined);
  const nodes = useMemo(() => (graph.data?.nodes ?? []).filter((n) => !filter || n.id.toLowerCase().includes(filter.toLowerCase())), [graph.data, filter]);
  const toggle = (set: Set<string>, key: string) => {
    const next = new Set(set);
    if (!next.delete(key)) next.add(key);
    return next;
  };
  const submit = () => {
    setError(null);
    let body;
    try {
      body = buildReplay({ from: [...from], models, prompts, inputs, allowDrift });
    } catch (e) {
      setError(e as Error);
      return;
    }
    setBusy(true);
    api
      .replay(id, body)
      .then(async (r) => {
        await waitForRun(r.run_id);
        navigate(href({ page: 'graph', id: r.run_id }));
      })
      .catch((e: unknown) => {
        setBusy(false);
        setError(e instanceof Error ? e : new Error(String(e)));
      });
  };
  return (
    <section className="card replay">
      <ErrorBanner error={graph.error} onRetry={graph.reload} />
      <p className="muted">
        Nodes not chosen reuse their recorded outputs; chosen nodes and everything downstream of them run again. A model or prompt override re-runs its node too.
      </p>
      <div className="toolbar">
        <input type="search" placeholder="Filter nodes" value={filter} onChange={(e) => setFilter(e.target.value)} aria-label="filter nodes" />
        <span className="muted">{from.size} chosen</span>
        {from.size > 0 && (
          <button type="button" className="link" onClick={() => setFrom(new Set())}>
            clear
          </button>
        )}
      </div>
      {graph.data && (
        <table className="table compact">
          <thead>
            <tr>
              <th>re-run from</th>
              <th>node</th>
              <th>status</th>
              <th>model override</th>
              <th>prompt override</th>
            </tr>
          </thead>
          <tbody>
            {nodes.map((n) => (
              <tr key={n.id} data-testid="replay-node" data-node-id={n.id}>
                <td>
                  <input type="checkbox" checked={from.has(n.id)} onChange={() => setFrom((s) => toggle(s, n.id))} aria-label={`re-run from ${n.id}`} data-testid="replay-from" />
                </td>
                <td className="mono">
                  {n.id} <span className="muted small">{n.kind}</span>
                </td>
                <td>
                  <StatusBadge status={n.status} />
                </td>
                <td>
                  {(n.kind === 'llm' || n.kind === 'agent' || n.model) && (
                    <input
                      type="text"
                      className="mono"
                      placeholder={n.model || 'provider/model'}
                      value={models[n.id] ?? ''}
                      onChange={(e) => setModels((m) => ({ ...m, [n.id]: e.target.value }))}
                      aria-label={`model for ${n.id}`}
                      data-testid="replay-model"
                    />
                  )}
                </td>
                <td className="prompt-cell">
                  {(n.kind === 'llm' || n.kind === 'agent' || n.model) &&
                    (open.has(n.id) ? (
                      <textarea
                        rows={4}
                        className="mono"
                        placeholder="Prompt template, e.g. Summarize {{nodes.plan.output}}"
                        value={prompts[n.id] ?? ''}
                        onChange={(e) => setPrompts((p) => ({ ...p, [n.id]: e.target.value }))}
                        aria-label={`prompt for ${n.id}`}
                        data-testid="replay-prompt"
                      />
                    ) : (
                      <button type="button" className="link" onClick={() => setOpen((s) => toggle(s, n.id))}>
                        override prompt…
                      </button>
                    ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="form-grid">
        <label>
          inputs (one <code>key=value</code> a line, optional)
          <textarea rows={3} className="mono" value={inputs} onChange={(e) => setInputs(e.target.value)} data-testid="replay-inputs" />
        </label>
        <label className="check">
          <input type="checkbox" checked={allowDrift} onChange={(e) => setAllowDrift(e.target.checked)} data-testid="replay-drift" /> allow drift (the workflow file changed since the run)
        </label>
      </div>
      <ErrorBanner error={error} />
      <div className="actions">
        <button type="button" onClick={submit} disabled={busy || !graph.data} data-testid="replay-submit">
          {busy ? 'Starting…' : 'Replay'}
        </button>
      </div>
    </section>
  );
}
