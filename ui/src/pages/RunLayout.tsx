// The run pages' frame: the run header, the tabs, and one live stream shared by the tabs.
import { lazy, Suspense, useEffect, useRef, useState } from 'react';
import { api, ApiError } from '../api/client';
import type { Run } from '../api/types';
import { ErrorBanner } from '../components/ErrorBanner';
import { RunNotifications } from '../components/RunNotifications';
import { StatusBadge } from '../components/StatusBadge';
import { int, money, span, time } from '../lib/format';
import { useApi, useNow } from '../lib/hooks';
import { isLive } from '../lib/live';
import { useLiveRun } from '../lib/useLive';
import { href, type RunRoute } from '../lib/router';
import { ArtifactsPage } from './ArtifactsPage';
import { DebugPage } from './DebugPage';
import { GraphPage } from './GraphPage';
import { NodePage } from './NodePage';
import { ReplayPage } from './ReplayPage';
import type { RunPageProps } from './runPage';
import { TimelinePage } from './TimelinePage';

const RunCostPage = lazy(() => import('./RunCostPage').then((m) => ({ default: m.RunCostPage })));

export type { RunPageProps } from './runPage';

const TABS = [
  { label: 'Graph', page: 'graph' },
  { label: 'Timeline', page: 'timeline' },
  { label: 'Debug', page: 'debug' },
  { label: 'Cost', page: 'run-cost' },
  { label: 'Artifacts', page: 'artifacts' },
  { label: 'Replay', page: 'replay' },
] as const;

export function RunLayout({ route }: { route: RunRoute }) {
  const id = route.id;
  const notFoundTries = useRef(0);
  const endedRef = useRef(0);
  // A run just started by replay may not be stored yet: retry a 404 for ~10 s.
  const show = useApi(
    async () => ({ run: await api.run(id), ended: endedRef.current }),
    [id],
    (d, e) => {
      if (e) return e instanceof ApiError && e.status === 404 && notFoundTries.current++ < 10 ? 1000 : null;
      return isLive(d?.run.status) && endedRef.current > 0 ? 3000 : null; // stream over, run not yet final
    },
  );
  const fetched = show.data?.run;
  const live = useLiveRun(id, fetched?.status);
  endedRef.current = live.ended;
  const { reload } = show;
  useEffect(() => {
    if (live.ended > 0) reload();
  }, [live.ended, reload]);
  // The stream's summary is newer, until a fetch made after the stream ended.
  const run: Run | undefined = live.ended > 0 && show.data && show.data.ended >= live.ended ? fetched : (live.run ?? fetched);
  const running = isLive(run?.status);
  // A run whose process waits at a gate for a decision (`--wait`) is stored as running; its
  // nodes say it waits for a person, and so does its header (its duration does not tick).
  const nodeStates = Object.values(live.status);
  const waitsHere = run?.status === 'running' && nodeStates.includes('waiting') && !nodeStates.includes('running');
  const shownStatus = waitsHere ? 'waiting' : run?.status;
  const now = useNow(1000, run?.status === 'running' && !waitsHere);

  const active = route.page === 'node' ? 'graph' : route.page;
  const props: RunPageProps = { id, run, live, running };
  return (
    <div className="page run-page">
      <header className="run-header">
        <div className="run-title">
          <h2 className="mono">{id}</h2>
          {run && <StatusBadge status={shownStatus ?? run.status} testId="run-status" />}
          {waitsHere && <span className="muted small">its process waits for a decision (Approvals)</span>}
          {run && <span className="workflow-name">{run.workflow}</span>}
          {running && <CancelButton id={id} />}
        </div>
        {run && (
          <dl className="stats inline">
            <div>
              <dt>started</dt>
              <dd>{time(run.created_at)}</dd>
            </div>
            <div>
              <dt>duration</dt>
              <dd data-testid="run-duration">{shownStatus === 'waiting' ? 'waiting' : span(run.created_at, run.finished_at, now)}</dd>
            </div>
            <div>
              <dt>tokens</dt>
              <dd>{int(run.tokens_in + run.tokens_out)}</dd>
            </div>
            <div>
              <dt>calls</dt>
              <dd>{int(run.calls)}</dd>
            </div>
            <div>
              <dt>cost</dt>
              <dd>{money(run.cost_usd, run.cost_known)}</dd>
            </div>
            <div>
              <dt>nodes</dt>
              <dd>
                {run.nodes_succeeded}/{run.nodes_total}
                {run.nodes_failed > 0 && ` · ${run.nodes_failed} failed`}
                {run.nodes_skipped > 0 && ` · ${run.nodes_skipped} skipped`}
              </dd>
            </div>
            {run.parent && (
              <div>
                <dt>parent</dt>
                <dd className="mono">
                  <a href={href({ page: 'graph', id: run.parent })}>{run.parent}</a> ·{' '}
                  <a href={href({ page: 'diff', a: run.parent, b: run.id })}>diff</a>
                </dd>
              </div>
            )}
          </dl>
        )}
        {fetched?.inputs && Object.keys(fetched.inputs).length > 0 && (
          <div className="run-inputs small" data-testid="run-inputs" title={JSON.stringify(fetched.inputs, null, 2)}>
            <span className="muted">inputs</span>{' '}
            {Object.entries(fetched.inputs).map(([k, v]) => (
              <span key={k} className="tag">
                <span className="mono">{k}</span> = {(typeof v === 'string' ? v : JSON.stringify(v)).slice(0, 80)}
              </span>
            ))}
          </div>
        )}
        {run?.error && <div className="run-error">{run.error}</div>}
        <RunNotifications id={id} status={run?.status} />
        <nav className="tabs" aria-label="run views">
          {TABS.map((t) => (
            <a key={t.page} href={href({ page: t.page, id })} className={active === t.page ? 'active' : ''} aria-current={active === t.page ? 'page' : undefined}>
              {t.label}
            </a>
          ))}
        </nav>
      </header>
      <ErrorBanner error={show.data ? null : show.error} onRetry={show.reload} />
      {show.data && (
        <Suspense fallback={<p className="muted">loading…</p>}>
          <RunTab route={route} props={props} />
        </Suspense>
      )}
    </div>
  );
}

function RunTab({ route, props }: { route: RunRoute; props: RunPageProps }) {
  switch (route.page) {
    case 'graph':
      return <GraphPage {...props} />;
    case 'node':
      return <NodePage key={route.node} {...props} node={route.node} />;
    case 'timeline':
      return <TimelinePage {...props} />;
    case 'debug':
      return <DebugPage {...props} />;
    case 'run-cost':
      return <RunCostPage {...props} />;
    case 'artifacts':
      return <ArtifactsPage {...props} artifact={route.artifact} />;
    case 'replay':
      return <ReplayPage {...props} />;
  }
}

function CancelButton({ id }: { id: string }) {
  const [armed, setArmed] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [sent, setSent] = useState(false);
  if (sent) return <span className="muted">cancelling…</span>;
  return (
    <>
      <button
        type="button"
        className={armed ? 'danger' : 'secondary'}
        onClick={() => {
          if (!armed) return setArmed(true); // a second click confirms
          setSent(true);
          api.cancel(id).catch((e: unknown) => {
            setSent(false);
            setError(e instanceof Error ? e : new Error(String(e)));
          });
        }}
        onBlur={() => setArmed(false)}
      >
        {armed ? 'Really cancel?' : 'Cancel run'}
      </button>
      <ErrorBanner error={error} />
    </>
  );
}
