// Run cost: totals, token kinds, spend by node / model / provider, and the budget's use.
import type { ReactNode } from 'react';
import { api } from '../api/client';
import type { Bucket, Budget } from '../api/types';
import { BucketSection, TokenKinds } from '../components/Buckets';
import { ErrorBanner } from '../components/ErrorBanner';
import { Progress } from '../components/Progress';
import { int, money, usd } from '../lib/format';
import { useApi, useReady } from '../lib/hooks';
import { href } from '../lib/router';
import type { RunPageProps } from './runPage';

export function CostTotal({ total, children }: { total: Bucket; children?: ReactNode }) {
  return (
    <section className="card totals">
      <div className="total-line">
        <span className="big" data-testid="cost-total" data-usd={String(total.cost_usd)} data-cost-known={String(total.cost_known)}>
          {money(total.cost_usd, total.cost_known)}
        </span>
        <span className="muted">
          {int(total.calls)} model calls
          {total.unknown_price_calls > 0 && ` · ${int(total.unknown_price_calls)} without a price`}
        </span>
        {children}
      </div>
      <TokenKinds b={total} />
    </section>
  );
}

function BudgetUse({ budget, total }: { budget: Budget | undefined; total: Bucket }) {
  const b = budget ?? {};
  const bars = [];
  if (b.max_usd !== undefined)
    bars.push(<Progress key="usd" label="Spend" used={total.cost_usd} max={b.max_usd} text={`${usd(total.cost_usd)} of ${usd(b.max_usd)} · ${usd(b.left_usd ?? Math.max(0, b.max_usd - total.cost_usd))} left`} />);
  if (b.max_tokens !== undefined) {
    const used = total.tokens.input + total.tokens.output;
    bars.push(<Progress key="tok" label="Tokens" used={used} max={b.max_tokens} text={`${int(used)} of ${int(b.max_tokens)} · ${int(b.left_tokens ?? Math.max(0, b.max_tokens - used))} left`} />);
  }
  if (b.max_calls !== undefined)
    bars.push(<Progress key="calls" label="Model calls" used={total.calls} max={b.max_calls} text={`${int(total.calls)} of ${int(b.max_calls)} · ${int(b.left_calls ?? Math.max(0, b.max_calls - total.calls))} left`} />);
  return (
    <section className="card">
      <h3>Budget</h3>
      {bars.length ? <div className="budget">{bars}</div> : <p className="muted">No budget set for this run.</p>}
    </section>
  );
}

export function RunCostPage({ id, running, live }: RunPageProps) {
  const cost = useApi(() => api.runCost(id), [id, live.ended], () => (running ? 5000 : null));
  useReady('cost', cost.data !== undefined);
  const c = cost.data;
  return (
    <>
      <ErrorBanner error={cost.error} onRetry={cost.reload} />
      {c && (
        <>
          <CostTotal total={c.total}>{c.sub_runs > 0 && <span className="muted"> · includes {c.sub_runs} sub-run(s)</span>}</CostTotal>
          <BudgetUse budget={c.budget} total={c.total} />
          <BucketSection title="By node" keyLabel="node" buckets={c.by_node} linkOf={(k) => (k.includes('/') ? undefined : href({ page: 'node', id, node: k }))} />
          <BucketSection title="By model" keyLabel="model" buckets={c.by_model} />
          <BucketSection title="By provider" keyLabel="provider" buckets={c.by_provider} />
        </>
      )}
    </>
  );
}
