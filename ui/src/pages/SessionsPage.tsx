// Sessions: every develop, modify, update and review, newest first, with its steps and spend.
import { api } from '../api/client';
import { ErrorBanner } from '../components/ErrorBanner';
import { StatusBadge } from '../components/StatusBadge';
import { int, money, span, time } from '../lib/format';
import { useApi, useNow, useReady } from '../lib/hooks';
import { href, navigate } from '../lib/router';

export function SessionsPage() {
  // New sessions and steps appear without a reload: quickly while one runs, slowly otherwise.
  const sessions = useApi(() => api.sessions(), [], (d) => (d?.some((s) => s.status === 'running') ? 3000 : 15000));
  const running = sessions.data?.some((s) => s.status === 'running') ?? false;
  const now = useNow(1000, running);
  useReady('sessions', sessions.data !== undefined);
  return (
    <div className="page">
      <div className="toolbar">
        <h2>Sessions</h2>
        <span className="muted">{sessions.data ? `${sessions.data.length} sessions` : 'loading…'}</span>
      </div>
      <ErrorBanner error={sessions.error} onRetry={sessions.reload} />
      {sessions.data && sessions.data.length === 0 && (
        <p className="empty">No develop or modify sessions yet. Start one with `specwright develop BRIEF.md`.</p>
      )}
      {sessions.data && sessions.data.length > 0 && (
        <table className="table sessions">
          <thead>
            <tr>
              <th>status</th>
              <th>session</th>
              <th>project</th>
              <th>started</th>
              <th className="num">duration</th>
              <th className="num">runs</th>
              <th className="num">gate rounds</th>
              <th className="num">tokens</th>
              <th className="num">cost</th>
            </tr>
          </thead>
          <tbody>
            {sessions.data.map((s) => {
              const link = href({ page: 'session', session: s.session });
              return (
                <tr key={s.session} data-testid="session-row" data-session={s.session} className="clickable" onClick={(e) => !(e.target as HTMLElement).closest('a') && navigate(link)}>
                  <td>
                    <StatusBadge status={s.status} />
                  </td>
                  <td className="mono">
                    <a href={link}>{s.session}</a>
                    <div className="muted small">{s.steps.join(' · ')}</div>
                  </td>
                  <td className="mono small" title={s.project}>
                    {s.project}
                  </td>
                  <td className="nowrap">{time(s.started_at)}</td>
                  <td className="num nowrap">{s.finished_at > 0 ? span(s.started_at, s.finished_at, now) : s.status === 'running' ? span(s.started_at, 0, now) : '—'}</td>
                  <td className="num">{int(s.runs)}</td>
                  <td className="num">{int(s.gate_rounds)}</td>
                  <td className="num">{int(s.tokens)}</td>
                  <td className="num nowrap">{money(s.cost_usd, s.cost_known)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}
