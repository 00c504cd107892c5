// Runs: every recorded run, filtered client-side; refreshes while any run is running.
import { memo, useDeferredValue, useMemo, useState } from 'react';
import { api } from '../api/client';
import type { Run } from '../api/types';
import { ErrorBanner } from '../components/ErrorBanner';
import { StatusBadge } from '../components/StatusBadge';
import { int, money, span, time } from '../lib/format';
import { useApi, useNow, useReady } from '../lib/hooks';
import { href, navigate } from '../lib/router';

const RunRow = memo(function RunRow({ run, now }: { run: Run; now: number }) {
  const link = href({ page: 'graph', id: run.id });
  return (
    <tr data-testid="run-row" data-run-id={run.id} data-status={run.status} className="clickable" onClick={(e) => !(e.target as HTMLElement).closest('a') && navigate(link)}>
      <td>
        <StatusBadge status={run.status} />
      </td>
      <td className="mono">
        <a href={link}>{run.id}</a>
        {run.parent && <span className="muted small" title={`replay/sub-run of ${run.parent}`}> ↳ {run.parent}</span>}
      </td>
      <td title={run.file}>
        {run.label || run.workflow}
        {run.label === 'eval' && !run.parent && (
          <>
            {' '}
            <a className="small" href={href({ page: 'eval-report', run: run.id })} data-testid="run-eval-report" title="this eval suite run's report">
              {run.workflow} report
            </a>
          </>
        )}
        {run.session && (
          <div className="muted small">
            <a href={href({ page: 'session', session: run.session })} data-testid="run-session">
              {run.session}
            </a>
          </div>
        )}
      </td>
      <td className="nowrap">{time(run.created_at)}</td>
      <td className="num nowrap">{run.status === 'waiting' ? <span className="muted">waiting</span> : span(run.created_at, run.finished_at, now)}</td>
      <td className="num nowrap">
        {run.nodes_succeeded}/{run.nodes_total}
        {run.nodes_failed > 0 && <span className="st-text-failed"> · {run.nodes_failed} failed</span>}
        {run.nodes_skipped > 0 && <span className="muted"> · {run.nodes_skipped} skipped</span>}
      </td>
      <td className="num">{int(run.tokens_in + run.tokens_out)}</td>
      <td className="num nowrap">{money(run.cost_usd, run.cost_known)}</td>
    </tr>
  );
}, same);

// A refresh brings new objects for unchanged runs: compare fields so those rows skip rendering.
function same(a: { run: Run; now: number }, b: { run: Run; now: number }): boolean {
  if (a.now !== b.now) return false;
  for (const k in a.run) if (a.run[k as keyof Run] !== b.run[k as keyof Run]) return false;
  return true;
}

export function RunsPage() {
  const runs = useApi(() => api.runs(), [], (d) => (d?.some((r) => r.status === 'running') ? 3000 : null));
  const [q, setQ] = useState('');
  const [status, setStatus] = useState('');
  const query = useDeferredValue(q.trim().toLowerCase());
  const anyRunning = runs.data?.some((r) => r.status === 'running') ?? false;
  // Durations of running runs tick; finished rows are memoized and do not re-render.
  const now = useNow(1000, anyRunning);
  const statuses = useMemo(() => [...new Set((runs.data ?? []).map((r) => r.status))].sort(), [runs.data]);
  const shown = useMemo(
    () =>
      (runs.data ?? []).filter(
        (r) =>
          (!status || r.status === status) &&
          (!query || [r.id, r.workflow, r.file, r.label, r.session].some((f) => (f ?? '').toLowerCase().includes(query))),
      ),
    [runs.data, query, status],
  );
  useReady('runs', runs.data !== undefined);
  return (
    <div className="page">
      <div className="toolbar">
        <h2>Runs</h2>
        <input type="search" placeholder="Search id, workflow, file, step, session" value={q} onChange={(e) => setQ(e.target.value)} aria-label="search runs" data-testid="run-search" />
        <select value={status} onChange={(e) => setStatus(e.target.value)} aria-label="status filter" data-testid="status-filter">
          <option value="">all statuses</option>
          {statuses.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <span className="muted">{runs.data ? `${shown.length} of ${runs.data.length}` : 'loading…'}</span>
      </div>
      <ErrorBanner error={runs.error} onRetry={runs.reload} />
      {runs.data && runs.data.length === 0 && <p className="empty">No runs yet. Start one with `specwright run FILE`.</p>}
      {shown.length > 0 && (
        <table className="table runs">
          <thead>
            <tr>
              <th>status</th>
              <th>run</th>
              <th>workflow / step</th>
              <th>started</th>
              <th className="num">duration</th>
              <th className="num">nodes</th>
              <th className="num">tokens</th>
              <th className="num">cost</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => (
              <RunRow key={r.id} run={r} now={r.finished_at > 0 ? 0 : now} />
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
