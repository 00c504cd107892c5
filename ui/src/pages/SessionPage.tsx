// One session: its steps as a timeline (status, verify and gate rounds, spend), the change it
// made (route, impact plan, items the cascade check kept), QA, and every run it started.
import { api } from '../api/client';
import type { SessionDetail, SessionStep } from '../api/types';
import { ErrorBanner } from '../components/ErrorBanner';
import { StatusBadge } from '../components/StatusBadge';
import { duration, int, money, time } from '../lib/format';
import { useApi, useReady } from '../lib/hooks';
import { href } from '../lib/router';

function Timeline({ steps }: { steps: SessionStep[] }) {
  const t0 = Math.min(...steps.map((s) => s.started_at));
  const t1 = Math.max(...steps.map((s) => Math.max(s.finished_at, s.started_at)));
  const total = Math.max(t1 - t0, 0.001);
  return (
    <div className="session-timeline" data-testid="session-timeline">
      {steps.map((s) => {
        const left = ((s.started_at - t0) / total) * 100;
        const width = Math.max(((Math.max(s.finished_at, s.started_at) - s.started_at) / total) * 100, 0.6);
        const last = s.runs[s.runs.length - 1];
        return (
          <div className="gantt-row" key={s.key} data-testid="session-step" data-step={s.key} data-status={s.status}>
            <div className="gantt-label" title={s.label || s.key}>
              {last ? <a href={href({ page: 'graph', id: last })}>{s.label || s.key}</a> : s.label || s.key}
            </div>
            <div className="gantt-track" style={{ height: 22 }}>
              <div
                className={`gantt-bar st-${s.status === 'done' ? 'succeeded' : s.status || 'pending'}`}
                style={{ left: `${left}%`, width: `${Math.min(width, 100 - left)}%`, top: 3 }}
                title={`${s.label || s.key}: ${s.status}, ${duration(Math.max(0, s.finished_at - s.started_at))}, ${int(s.tokens)} tokens, ${money(s.cost_usd)}`}
              />
            </div>
            <div className="session-step-facts small">
              <StatusBadge status={s.status === 'done' ? 'succeeded' : s.status} />{' '}
              {s.verify_rounds > 0 && <span title="verify rounds">verify ×{s.verify_rounds} </span>}
              {s.gate.some((g) => g.by !== 'auto') && <span title="gate rounds with a person">gate ×{s.gate.filter((g) => g.by !== 'auto').length} </span>}
              {s.gate.length > 0 && s.gate.every((g) => g.by === 'auto') && <span title="approved by --yes">gate: --yes </span>}
              {s.runs.length > 1 && <span title="runs of this step">{s.runs.length} runs </span>}
              <span className="muted">
                {int(s.tokens)} tok · {money(s.cost_usd)}
              </span>
            </div>
          </div>
        );
      })}
    </div>
  );
}

function Change({ s }: { s: SessionDetail }) {
  const c = s.change;
  if (!c) return null;
  return (
    <section className="card" data-testid="session-change">
      <h3>Change ({c.kind ?? s.kind})</h3>
      <p>
        <strong>{c.request}</strong>
      </p>
      <p>
        Route: <span className="mono">{c.category}</span> (entry: {c.entry}). {c.reason}
      </p>
      {c.targets && c.targets.length > 0 && (
        <p>
          Targets: {c.targets.join(', ')} ·{' '}
          <a href={href({ page: 'spec', session: s.session, tab: 'impact', id: c.targets.join(',') })} data-testid="change-impact">
            their impact, highlighted in the specs
          </a>
        </p>
      )}
      {c.changed && c.changed.length > 0 && <p data-testid="change-changed">Changed items: {c.changed.join(', ')}</p>}
      {c.kept && c.kept.length > 0 && (
        <div data-testid="change-kept">
          Kept as they are by the cascade check:
          <ul>
            {c.kept.map((k) => (
              <li key={k.id}>
                <span className="mono">{k.id}</span> — {k.why}
              </li>
            ))}
          </ul>
        </div>
      )}
      {c.estimate && (
        <p>
          Estimated {int(c.estimate.tokens ?? 0)} tokens, {money(c.estimate.usd ?? 0)}
          {c.spent && `; spent ${int(c.spent.tokens ?? 0)} tokens, ${money(c.spent.usd ?? 0)}`}
        </p>
      )}
      {c.plan && (
        <details>
          <summary>Impact plan</summary>
          <pre className="pre small">{c.plan}</pre>
        </details>
      )}
    </section>
  );
}

export function SessionPage({ session }: { session: string }) {
  // Polled until the process says it is done: between two steps no run is running.
  const s = useApi(() => api.session(session), [session], (d) => (d && (d.status === 'running' || d.finished === false) ? 3000 : null));
  useReady('session', s.data !== undefined || s.error !== null);
  const d = s.data;
  return (
    <div className="page">
      <div className="toolbar">
        <h2 className="mono">{session}</h2>
        {d && <StatusBadge status={d.status} />}
        <a href={href({ page: 'spec', session })} data-testid="spec-link">
          specs and traceability
        </a>
        <a href={href({ page: 'sessions' })}>all sessions</a>
      </div>
      <ErrorBanner error={s.error} onRetry={s.reload} />
      {d && (
        <>
          <p className="muted" data-testid="session-facts">
            {d.kind} of <span className="mono">{d.project}</span> · started {time(d.started_at)} · {int(d.runs)} runs · {int(d.gate_rounds)} gate rounds · {int(d.tokens)} tokens ·{' '}
            {money(d.cost_usd, d.cost_known)}
            {d.complexity?.tier && ` · complexity ${d.complexity.score}/10, tier ${d.complexity.tier}`}
          </p>
          {d.note && <p className="warn-banner">{d.note}</p>}
          <Change s={d} />
          {d.step_list.length > 0 && (
            <section className="card">
              <h3>Steps</h3>
              <Timeline steps={d.step_list} />
            </section>
          )}
          {d.qa && (
            <section className="card" data-testid="session-qa">
              <h3>QA</h3>
              <p>
                {d.qa.passed ? 'tests pass' : 'tests FAIL'}: {int(d.qa.passed_cases ?? 0)} test cases passed, {int(d.qa.failed_cases ?? 0)} failed
                {(d.qa.missing_cases ?? 0) > 0 && `, ${int(d.qa.missing_cases ?? 0)} not run`}
                {d.qa.rounds !== undefined && ` after ${d.qa.rounds} round${d.qa.rounds === 1 ? '' : 's'}`}
              </p>
            </section>
          )}
          {d.tasks && d.tasks.length > 0 && (
            <section className="card">
              <h3>Tasks</h3>
              <table className="table">
                <tbody>
                  {d.tasks.map((t) => (
                    <tr key={t.id} data-testid="session-task">
                      <td className="mono">{t.id}</td>
                      <td>{t.title}</td>
                      <td title={t.path_reason}>{t.path}</td>
                      <td className="mono small">{t.files.join(', ')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          )}
          <section className="card">
            <h3>Runs</h3>
            <table className="table">
              <thead>
                <tr>
                  <th>status</th>
                  <th>run</th>
                  <th>step</th>
                  <th>started</th>
                  <th className="num">duration</th>
                  <th className="num">tokens</th>
                  <th className="num">cost</th>
                </tr>
              </thead>
              <tbody>
                {d.run_list.map((r) => (
                  <tr key={r.id} data-testid="session-run" data-run-id={r.id}>
                    <td>
                      <StatusBadge status={r.status} />
                    </td>
                    <td className="mono">
                      <a href={href({ page: 'graph', id: r.id })}>{r.id}</a>
                    </td>
                    <td>{r.label || r.workflow}</td>
                    <td className="nowrap">{time(r.created_at)}</td>
                    <td className="num nowrap">{r.finished_at > 0 ? duration(r.finished_at - r.created_at) : '—'}</td>
                    <td className="num">{int(r.tokens)}</td>
                    <td className="num nowrap">{money(r.cost_usd, r.cost_known)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        </>
      )}
    </div>
  );
}
