// Compare: two eval reports case by case — B measured against A (the baseline): the verdict
// under A's tolerance, pass rate / cost / latency deltas, and each case regressed, fixed or same
// with the assertions that changed.
import { useMemo } from 'react';
import { api } from '../api/client';
import type { EvalCompare, EvalSuiteHistory } from '../api/types';
import { ErrorBanner } from '../components/ErrorBanner';
import { StatusBadge } from '../components/StatusBadge';
import {
  assertionChange,
  assertionState,
  changeCounts,
  costDirection,
  evalCost,
  evalTime,
  growth,
  latency,
  passDirection,
  pct,
  points,
  sortCompareCases,
  suitesOf,
  toleranceText,
} from '../lib/eval';
import { time } from '../lib/format';
import { useApi, useReady } from '../lib/hooks';
import { href, navigate } from '../lib/router';

function Picker({ label, value, suites, onChange }: { label: string; value?: string; suites: EvalSuiteHistory[]; onChange: (v: string) => void }) {
  const known = !value || suites.some((s) => s.runs.some((r) => r.run === value));
  return (
    <label>
      {label}{' '}
      <select value={value ?? ''} onChange={(e) => onChange(e.target.value)} data-testid={`eval-pick-${label}`} aria-label={`eval run ${label}`}>
        <option value="">choose an eval run…</option>
        {!known && <option value={value}>{value}</option>}
        {suites.map((s) => (
          <optgroup key={s.file || s.name} label={s.name || s.file}>
            {s.runs.map((r) => (
              <option key={r.run} value={r.run}>
                {r.run} · {time(evalTime(r.created_at))} · {pct(r.pass_rate)}
              </option>
            ))}
          </optgroup>
        ))}
      </select>
    </label>
  );
}

function Deltas({ c }: { c: EvalCompare }) {
  const rows = [
    { key: 'pass-rate', label: 'pass rate', a: pct(c.pass_rate.a), b: pct(c.pass_rate.b), change: points(c.pass_rate.delta), dir: passDirection(c.pass_rate.delta) },
    { key: 'cost', label: 'cost', a: evalCost(c.cost_usd.a), b: evalCost(c.cost_usd.b), change: growth(c.cost_usd.ratio), dir: costDirection(c.cost_usd.ratio) },
    { key: 'latency', label: 'latency p50', a: latency(c.latency_p50_ms.a), b: latency(c.latency_p50_ms.b), change: growth(c.latency_p50_ms.ratio), dir: costDirection(c.latency_p50_ms.ratio) },
  ];
  return (
    <table className="table compact eval-deltas">
      <thead>
        <tr>
          <th />
          <th className="num">A</th>
          <th className="num">B</th>
          <th className="num">change</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.key} data-testid="eval-delta" data-metric={r.key} data-direction={r.dir}>
            <td>{r.label}</td>
            <td className="num">{r.a}</td>
            <td className="num">{r.b}</td>
            <td className={`num delta-${r.dir}`} data-testid="eval-delta-change">
              {r.change}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Result({ c }: { c: EvalCompare }) {
  const cases = useMemo(() => sortCompareCases(c.cases ?? []), [c.cases]);
  const counts = changeCounts(c);
  return (
    <>
      <section className="card" data-testid="eval-compare-summary">
        <div className="eval-verdict">
          <span className={`badge verdict-${c.verdict}`} data-testid="eval-verdict" data-verdict={c.verdict}>
            {c.verdict === 'regression' ? 'regression' : c.verdict}
          </span>{' '}
          <a className="mono" href={href({ page: 'eval-report', run: c.a })}>
            {c.a}
          </a>{' '}
          (A) → <a className="mono" href={href({ page: 'eval-report', run: c.b })}>{c.b}</a> (B)
        </div>
        <Deltas c={c} />
        {c.tolerance && <div className="muted small">tolerance: {toleranceText(c.tolerance)}</div>}
        <div className="eval-counts">
          {counts
            .filter((x) => x.count > 0 || x.change === 'regressed' || x.change === 'fixed')
            .map((x) => (
              <span key={x.change} className={`tag change-${x.change}`} data-testid="eval-change-count" data-change={x.change} data-count={x.count}>
                {x.count} {x.change}
              </span>
            ))}
        </div>
        {c.regressions.length > 0 && (
          <ul className="eval-regressions" data-testid="eval-regressions">
            {c.regressions.map((t, i) => (
              <li key={i}>{t}</li>
            ))}
          </ul>
        )}
      </section>
      <section className="card">
        <h3>Cases ({cases.length})</h3>
        <table className="table compact">
          <thead>
            <tr>
              <th>case</th>
              <th>A</th>
              <th>B</th>
              <th>change</th>
              <th>assertions that changed</th>
            </tr>
          </thead>
          <tbody>
            {cases.map((x) => {
              const changed = (x.assertions ?? []).map((a) => ({ ...a, change: assertionChange(a.a, a.b) })).filter((a) => a.change !== 'same');
              return (
                <tr key={x.id} data-testid="eval-compare-case" data-case={x.id} data-change={x.change} className={`change-row change-${x.change}`}>
                  <td className="mono">{x.id}</td>
                  <td>{x.a ? <StatusBadge status={x.a} /> : '—'}</td>
                  <td>{x.b ? <StatusBadge status={x.b} /> : '—'}</td>
                  <td>
                    <span className={`tag change-${x.change}`}>{x.change}</span>
                  </td>
                  <td className="small">
                    {changed.length === 0 && <span className="muted">none</span>}
                    {changed.map((a) => (
                      <span key={a.id} className={`tag change-${a.change}`} data-testid="eval-assertion-change" data-assertion={a.id} data-change={a.change}>
                        {a.id}: {assertionState(a.a)} → {assertionState(a.b)}
                      </span>
                    ))}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>
    </>
  );
}

export function EvalComparePage({ a, b }: { a?: string; b?: string }) {
  const evals = useApi(() => api.evals(), []);
  const suites = useMemo(() => suitesOf(evals.data), [evals.data]);
  const both = Boolean(a && b);
  const cmp = useApi(() => (a && b ? api.evalCompare(a, b) : Promise.resolve(null)), [a, b]);
  useReady('eval-compare', both ? Boolean(cmp.data) || cmp.error !== null : evals.data !== undefined);
  const pick = (next: { a?: string; b?: string }) => navigate(href({ page: 'eval-compare', a, b, ...next }));
  return (
    <div className="page">
      <div className="toolbar">
        <h2>Compare evals</h2>
        <Picker label="A" value={a} suites={suites} onChange={(v) => pick({ a: v || undefined })} />
        <button type="button" className="link" onClick={() => pick({ a: b, b: a })} disabled={!a && !b} title="swap A and B" data-testid="eval-swap">
          ⇄
        </button>
        <Picker label="B" value={b} suites={suites} onChange={(v) => pick({ b: v || undefined })} />
      </div>
      <ErrorBanner error={evals.error} />
      <ErrorBanner error={cmp.error} onRetry={cmp.reload} />
      {!both && <p className="empty">Choose two eval runs: A is the baseline, B is measured against it.</p>}
      {cmp.data && <Result c={cmp.data} />}
    </div>
  );
}
