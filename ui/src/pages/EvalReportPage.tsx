// Eval report: one eval run's stored report — the summary, each assertion's pass rate, and the
// cases, failing ones first and expanded with what their assertions saw.
import { useMemo, useState } from 'react';
import { api } from '../api/client';
import type { EvalCase, EvalReport } from '../api/types';
import { ErrorBanner } from '../components/ErrorBanner';
import { StatusBadge } from '../components/StatusBadge';
import { assertionStatus, evalCost, evalTime, filterCases, latency, otherRuns, pct, previousRun, shown, sortCases, suitesOf, toleranceText, worstAssertions } from '../lib/eval';
import { duration, int, time } from '../lib/format';
import { useApi, useReady } from '../lib/hooks';
import { href, navigate } from '../lib/router';

function RateBar({ rate }: { rate: number }) {
  const r = Number.isFinite(rate) ? Math.min(1, Math.max(0, rate)) : 0;
  return (
    <span className="rate-bar" aria-hidden="true">
      <span style={{ width: `${r * 100}%` }} />
    </span>
  );
}

function Summary({ r }: { r: EvalReport }) {
  const s = r.summary;
  const created = evalTime(r.created_at);
  const finished = evalTime(r.finished_at);
  return (
    <section className="card" data-testid="eval-summary">
      <h3>
        {r.suite.name} <span className="muted small mono">{r.suite.file}</span>
      </h3>
      <div className="muted small">
        run <a className="mono" href={href({ page: 'graph', id: r.run })} data-testid="eval-run-link">{r.run}</a> of <span className="mono">{r.suite.workflow}</span> · {time(created)}
        {finished > 0 && created > 0 && ` · took ${duration(finished - created)}`}
      </div>
      <dl className="stats">
        <div>
          <dt>pass rate</dt>
          <dd data-testid="eval-report-pass-rate">{pct(s.pass_rate)}</dd>
        </div>
        <div>
          <dt>cases</dt>
          <dd data-testid="eval-report-cases">
            {int(s.passed)} passed · {int(s.failed)} failed · {int(s.errored)} errors
          </dd>
        </div>
        <div>
          <dt>assertions</dt>
          <dd>
            {int(s.assertions_passed)}/{int(s.assertions)}
          </dd>
        </div>
        <div>
          <dt>cost</dt>
          <dd>{evalCost(s.cost_usd, s.cost_unknown)}</dd>
        </div>
        <div>
          <dt>tokens in / out</dt>
          <dd>
            {int(s.tokens_in)} / {int(s.tokens_out)}
          </dd>
        </div>
        <div>
          <dt>calls</dt>
          <dd>{int(s.calls)}</dd>
        </div>
        <div>
          <dt>latency p50 / p95 / max</dt>
          <dd>
            {latency(s.latency_ms?.p50)} / {latency(s.latency_ms?.p95)} / {latency(s.latency_ms?.max)}
          </dd>
        </div>
        <div>
          <dt>wall</dt>
          <dd>{latency(s.wall_ms)}</dd>
        </div>
      </dl>
      {r.tolerance && <div className="muted small">allowed against a baseline: {toleranceText(r.tolerance)}</div>}
    </section>
  );
}

function Assertions({ r }: { r: EvalReport }) {
  const rows = worstAssertions(r);
  if (rows.length === 0) return null;
  return (
    <section className="card">
      <h3>Assertions ({rows.length})</h3>
      <table className="table compact">
        <thead>
          <tr>
            <th>id</th>
            <th>type</th>
            <th>node</th>
            <th>description</th>
            <th className="num">pass rate</th>
            <th className="num">passed / failed / errors</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((a) => (
            <tr key={a.id} data-testid="eval-assertion" data-assertion={a.id} data-pass-rate={a.pass_rate}>
              <td className="mono">{a.id}</td>
              <td className="small">{a.type}</td>
              <td className="mono small">{a.node || '–'}</td>
              <td className="small">{a.description}</td>
              <td className="num nowrap">
                <RateBar rate={a.pass_rate} /> {pct(a.pass_rate)}
              </td>
              <td className="num nowrap">
                {int(a.passed)} / {int(a.failed)} / {int(a.errored)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function CaseDetail({ c }: { c: EvalCase }) {
  const failing = c.assertions.filter((a) => assertionStatus(a) !== 'passed');
  return (
    <div className="eval-case-detail">
      <div className="small">
        inputs: <code data-testid="eval-case-inputs">{JSON.stringify(c.inputs ?? {})}</code>
      </div>
      {c.error && (
        <div className="error-banner" data-testid="eval-case-error">
          {c.error}
        </div>
      )}
      {(failing.length > 0 ? failing : c.assertions).map((a) => (
        <div key={a.id} className={`eval-assert ${assertionStatus(a)}`} data-testid="eval-case-assertion" data-assertion={a.id} data-status={assertionStatus(a)}>
          <div>
            <StatusBadge status={assertionStatus(a)} /> <span className="mono">{a.id}</span> <span className="small muted">{a.type}</span>
            {a.score !== undefined && a.score !== null && <span className="tag">score {a.score.toFixed(2)}</span>}
            {a.judge_run && (
              <a className="small" href={href({ page: 'graph', id: a.judge_run })} data-testid="judge-run">
                judge's run
              </a>
            )}
          </div>
          {a.message && <div className="small" data-testid="eval-assertion-message">{a.message}</div>}
          {shown(a.expected) && (
            <>
              <div className="small muted">expected</div>
              <pre className="pre">{shown(a.expected)}</pre>
            </>
          )}
          {shown(a.actual) && (
            <>
              <div className="small muted">actual</div>
              <pre className="pre" data-testid="eval-actual">{shown(a.actual)}</pre>
            </>
          )}
        </div>
      ))}
      {failing.length > 0 && failing.length < c.assertions.length && <div className="muted small">{c.assertions.length - failing.length} other assertion(s) passed.</div>}
    </div>
  );
}

function Cases({ r }: { r: EvalReport }) {
  const [status, setStatus] = useState<'' | 'failing' | 'passed'>('');
  const [q, setQ] = useState('');
  const sorted = useMemo(() => sortCases(r.cases ?? []), [r.cases]);
  const shownCases = useMemo(() => filterCases(sorted, status, q), [sorted, status, q]);
  return (
    <section className="card">
      <div className="toolbar">
        <h3>Cases ({r.cases?.length ?? 0})</h3>
        <input type="search" placeholder="Search id or inputs" value={q} onChange={(e) => setQ(e.target.value)} aria-label="search cases" data-testid="eval-case-search" />
        <select value={status} onChange={(e) => setStatus(e.target.value as typeof status)} aria-label="case filter" data-testid="eval-case-filter">
          <option value="">all cases</option>
          <option value="failing">failed or errors</option>
          <option value="passed">passed</option>
        </select>
        <span className="muted">
          {shownCases.length} of {r.cases?.length ?? 0}
        </span>
      </div>
      {shownCases.map((c) => (
        <details key={c.id} className={`eval-case st-case-${c.status}`} open={c.status !== 'passed'} data-testid="eval-case" data-case={c.id} data-status={c.status}>
          <summary>
            <StatusBadge status={c.status} /> <strong className="mono">{c.id}</strong>{' '}
            <span className="muted small">
              {c.assertions.filter((a) => assertionStatus(a) === 'passed').length}/{c.assertions.length} assertions · {evalCost(c.cost_usd, c.cost_unknown)} · {latency(c.latency_ms)} · {int(c.tokens_in + c.tokens_out)} tokens · {int(c.calls)} calls
            </span>{' '}
            {c.run && (
              <a className="small mono" href={href({ page: 'graph', id: c.run })} data-testid="eval-case-run">
                {c.run}
              </a>
            )}
          </summary>
          <CaseDetail c={c} />
        </details>
      ))}
    </section>
  );
}

export function EvalReportPage({ run }: { run: string }) {
  const report = useApi(() => api.evalReport(run), [run]);
  const evals = useApi(() => api.evals(), []);
  const suites = useMemo(() => suitesOf(evals.data), [evals.data]);
  const others = otherRuns(suites, run);
  const prev = previousRun(suites, run);
  useReady('eval-report', report.data !== undefined && (evals.data !== undefined || evals.error !== null));
  const r = report.data;
  return (
    <div className="page">
      <div className="toolbar">
        <h2>Eval report</h2>
        <span className="mono">{run}</span>
        {others.length > 0 && (
          <label>
            compare with{' '}
            <select value="" onChange={(e) => e.target.value && navigate(href({ page: 'eval-compare', a: e.target.value, b: run }))} data-testid="eval-compare-with" aria-label="compare with">
              <option value="">choose a run…</option>
              {others.map((o) => (
                <option key={o.run} value={o.run}>
                  {o.run} · {time(evalTime(o.created_at))} · {pct(o.pass_rate)}
                </option>
              ))}
            </select>
          </label>
        )}
        {prev && (
          <a href={href({ page: 'eval-compare', a: prev, b: run })} data-testid="eval-compare-previous">
            vs. previous run
          </a>
        )}
        <a href={href({ page: 'evals' })}>all evals</a>
      </div>
      <ErrorBanner error={report.error} onRetry={report.reload} />
      {r && (
        <>
          <Summary r={r} />
          <Assertions r={r} />
          <Cases r={r} />
        </>
      )}
    </div>
  );
}
