// Cost across runs: spend since 24h/7d/30d/90d by day, model, provider, workflow and run.
import { Bar, BarChart, CartesianGrid, Tooltip, XAxis, YAxis } from 'recharts';
import { api } from '../api/client';
import { BucketSection, ChartBox } from '../components/Buckets';
import { ErrorBanner } from '../components/ErrorBanner';
import { StatusBadge } from '../components/StatusBadge';
import { fillDays } from '../lib/days';
import { money, time, usd } from '../lib/format';
import { useApi, useReady } from '../lib/hooks';
import { href, navigate } from '../lib/router';
import { chartColors, useTheme } from '../lib/theme';
import { CostTotal } from './RunCostPage';

export const SINCE = ['24h', '7d', '30d', '90d'] as const;

export function CostPage({ since = '7d' }: { since?: string }) {
  const cost = useApi(() => api.cost(since), [since]);
  const c = cost.data;
  const colors = chartColors(useTheme());
  useReady('cost', c !== undefined);
  const topRuns = c ? [...c.runs].sort((a, b) => b.spend.cost_usd - a.spend.cost_usd).slice(0, 50) : [];
  return (
    <div className="page">
      <div className="toolbar">
        <h2>Cost</h2>
        <label>
          since{' '}
          <select value={since} onChange={(e) => navigate({ page: 'cost', since: e.target.value })} data-testid="since" aria-label="since">
            {(SINCE as readonly string[]).includes(since) ? null : <option value={since}>{since}</option>}
            {SINCE.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        {c && <span className="muted">from {time(c.since)}</span>}
      </div>
      <ErrorBanner error={cost.error} onRetry={cost.reload} />
      {c && (
        <>
          <CostTotal total={c.total}>
            <span className="muted"> · {c.runs.length} runs</span>
          </CostTotal>
          <section className="card">
            <h3>Spend by day</h3>
            {c.by_day.length === 0 ? (
              <p className="muted">No model calls in this window.</p>
            ) : (
              <ChartBox height={220}>
                {(width) => (
                  <BarChart width={width} height={220} data={fillDays(c.by_day, c.since, Date.now() / 1000)} margin={{ top: 8, right: 16, bottom: 4, left: 8 }}>
                    <CartesianGrid stroke={colors.grid} vertical={false} />
                    <XAxis dataKey="day" stroke={colors.text} fontSize={11} />
                    <YAxis tickFormatter={(v: number) => usd(v)} stroke={colors.text} fontSize={11} width={70} />
                    <Tooltip formatter={(v) => [usd(Number(v)), 'cost']} contentStyle={{ background: colors.tooltipBg, borderColor: colors.tooltipBorder }} cursor={{ fill: colors.grid, opacity: 0.4 }} />
                    <Bar dataKey="cost" fill={colors.bar} isAnimationActive={false} maxBarSize={48} />
                  </BarChart>
                )}
              </ChartBox>
            )}
          </section>
          <BucketSection title="By model" keyLabel="model" buckets={c.by_model} />
          <BucketSection title="By provider" keyLabel="provider" buckets={c.by_provider} />
          <BucketSection title="By workflow" keyLabel="workflow" buckets={c.by_workflow} />
          {c.by_session && c.by_session.length > 0 && (
            <BucketSection title="By session (develop, modify, update, review)" keyLabel="session" buckets={c.by_session} linkOf={(k) => href({ page: 'session', session: k })} />
          )}
          <section className="card">
            <h3>Runs{c.runs.length > topRuns.length ? ` (the ${topRuns.length} most expensive of ${c.runs.length})` : ''}</h3>
            <table className="table compact">
              <thead>
                <tr>
                  <th>status</th>
                  <th>run</th>
                  <th>workflow</th>
                  <th>started</th>
                  <th className="num">calls</th>
                  <th className="num">cost</th>
                </tr>
              </thead>
              <tbody>
                {topRuns.map((r) => (
                  <tr key={r.id}>
                    <td>
                      <StatusBadge status={r.status} />
                    </td>
                    <td className="mono">
                      <a href={href({ page: 'run-cost', id: r.id })}>{r.id}</a>
                    </td>
                    <td>{r.workflow}</td>
                    <td className="nowrap">{time(r.created_at)}</td>
                    <td className="num">{r.spend.calls}</td>
                    <td className="num">{money(r.spend.cost_usd, r.spend.cost_known)}</td>
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
