// Debug: the post-mortem `specwright debug` prints — each failed node's error, attempts, calls
// and retries, the prompt it was sent, its inputs and last output, and the nodes it took
// down — with Resume (run the failed part again in this run) and Retry from a node (a replay
// that reuses everything before it).
import { useState } from 'react';
import { api } from '../api/client';
import type { DebugNode } from '../api/types';
import { ErrorBanner } from '../components/ErrorBanner';
import { StatusBadge } from '../components/StatusBadge';
import { ms, time } from '../lib/format';
import { useApi, useReady } from '../lib/hooks';
import { href, navigate } from '../lib/router';
import type { RunPageProps } from './runPage';

function Node({ id, n, onError }: { id: string; n: DebugNode; onError: (e: Error) => void }) {
  const [busy, setBusy] = useState(false);
  const retry = () => {
    setBusy(true);
    api
      .replay(id, { from: [n.node], models: {}, prompts: {}, inputs: {}, allow_drift: false })
      .then((r) => navigate(href({ page: 'graph', id: r.run_id })))
      .catch((e: Error) => onError(e))
      .finally(() => setBusy(false));
  };
  return (
    <section className="card" data-testid="debug-node" data-node={n.node} data-status={n.status}>
      <h3>
        <a href={href({ page: 'node', id, node: n.node })}>{n.node}</a> <StatusBadge status={n.status} /> {n.kind && <span className="muted small">{n.kind}</span>}{' '}
        {n.model && <span className="muted small mono">{n.model}</span>}
        {n.status === 'failed' && (
          <button type="button" className="secondary" onClick={retry} disabled={busy} data-testid="retry-from" title="replay from this node, reusing the outputs before it">
            Retry from this node
          </button>
        )}
      </h3>
      {n.error && (
        <pre className="pre error-text" data-testid="debug-error">
          {n.error}
        </pre>
      )}
      {n.reason && <p className="muted">{n.reason}</p>}
      {n.budget_refused && <p className="st-text-failed">budget: {n.budget_refused}</p>}
      {n.attempts && n.attempts.length > 0 && (
        <table className="table small">
          <thead>
            <tr>
              <th>attempt</th>
              <th>status</th>
              <th>started</th>
              <th>error</th>
            </tr>
          </thead>
          <tbody>
            {n.attempts.map((a, i) => (
              <tr key={i}>
                <td>
                  {a.attempt}
                  {a.iteration > 0 && ` · iteration ${a.iteration + 1}`}
                  {a.item >= 0 && ` · item ${a.item}`}
                </td>
                <td>
                  <StatusBadge status={a.status} />
                </td>
                <td className="nowrap">{time(a.started_at)}</td>
                <td>{a.error}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {n.calls && n.calls.length > 0 && (
        <p className="small" data-testid="debug-calls">
          {n.calls.length} model call{n.calls.length === 1 ? '' : 's'}:{' '}
          {n.calls.map((c, i) => (
            <span key={i} className="tag" title={c.error}>
              {c.provider}/{c.model} {c.status} {ms(c.latency_ms)}
            </span>
          ))}
          {n.retries ? ` · ${n.retries} retr${n.retries === 1 ? 'y' : 'ies'}` : ''}
        </p>
      )}
      {n.inputs && n.inputs.length > 0 && (
        <details>
          <summary>Inputs ({n.inputs.length})</summary>
          {n.inputs.map((x) => (
            <div key={x.node}>
              <strong className="mono">{x.node}</strong> <StatusBadge status={x.status} />
              <pre className="pre small">{x.output}</pre>
            </div>
          ))}
        </details>
      )}
      {n.prompt && n.prompt.length > 0 && (
        <details>
          <summary>The prompt it was sent</summary>
          {n.prompt.map((m, i) => (
            <div key={i}>
              <strong>{m.role}</strong>
              <pre className="pre small">{m.text}</pre>
            </div>
          ))}
        </details>
      )}
      {n.last_output && (
        <details>
          <summary>Last output</summary>
          <pre className="pre small">{n.last_output}</pre>
        </details>
      )}
      {n.skipped_dependents && n.skipped_dependents.length > 0 && (
        <p data-testid="took-down">
          Took down:{' '}
          {n.skipped_dependents.map((d) => (
            <a key={d.node} className="tag mono" href={href({ page: 'node', id, node: d.node })} title={d.reason}>
              {d.node}
            </a>
          ))}
        </p>
      )}
    </section>
  );
}

export function DebugPage({ id, run, running, live }: RunPageProps) {
  const d = useApi(() => api.debug(id), [id, live.ended, run?.status]);
  const [error, setError] = useState<Error | null>(null);
  const [said, setSaid] = useState('');
  useReady('debug', d.data !== undefined || d.error !== null);
  const canResume = run !== undefined && !running && run.status !== 'succeeded';
  const resume = () => {
    setError(null);
    api
      .resume(id)
      .then((r) => setSaid(r.continued))
      .catch((e: Error) => setError(e));
  };
  return (
    <>
      <ErrorBanner error={d.error ?? error} onRetry={d.reload} />
      <div className="toolbar">
        {canResume && (
          <button type="button" onClick={resume} data-testid="resume">
            Resume this run
          </button>
        )}
        {said && (
          <span className="muted" data-testid="resume-said">
            {said}
          </span>
        )}
      </div>
      {d.data && d.data.nodes.length === 0 && (
        <p className="empty" data-testid="debug-clean">
          Nothing failed or was skipped in this run.
        </p>
      )}
      {d.data?.nodes.map((n) => <Node key={n.node} id={id} n={n} onError={setError} />)}
    </>
  );
}
