// Timeline: one bar per attempt row, x = time since the run started, grouped by node.
import { memo, useMemo } from 'react';
import { api } from '../api/client';
import { ErrorBanner } from '../components/ErrorBanner';
import { buildGantt, pct, type GanttBar, type GanttGroup } from '../lib/gantt';
import { duration, int, money } from '../lib/format';
import { useApi, useNow, useReady } from '../lib/hooks';
import { href, navigate } from '../lib/router';
import type { RunPageProps } from './runPage';

const LANE = 22; // px per lane

function barTitle(b: GanttBar): string {
  const r = b.row;
  return [
    `${r.node}${r.iteration > 0 ? ` · iteration ${r.iteration + 1}` : ''}${r.item >= 0 ? ` · item ${r.item}` : ''} · attempt ${r.attempt}`,
    `${r.status}${b.running ? ' (running)' : ''}${r.cached ? ' · cache hit' : ''}${b.slow ? ' · slow' : ''}`,
    `${duration(b.duration)} (from +${duration(b.t0)})`,
    `${int(r.tokens)} tokens · ${int(r.calls)} calls · ${money(r.cost_usd, r.cost_known)}`,
    r.model,
    r.error,
  ]
    .filter(Boolean)
    .join('\n');
}

const Group = memo(function Group({ id, group, total }: { id: string; group: GanttGroup; total: number }) {
  const link = href({ page: 'node', id, node: group.node });
  return (
    <div className="gantt-row">
      <div className="gantt-label mono" title={group.node}>
        <a href={link}>{group.node}</a>
      </div>
      <div className="gantt-track" style={{ height: group.lanes * LANE }}>
        {group.bars.map((b, i) => {
          const left = pct(b.t0, total);
          const tag = [b.row.iteration > 0 ? `#${b.row.iteration + 1}` : '', b.row.item >= 0 ? `[${b.row.item}]` : '', b.row.attempt > 1 ? `try ${b.row.attempt}` : '']
            .filter(Boolean)
            .join(' ');
          return (
            <div
              key={i}
              className={`gantt-bar st-${b.row.status || 'pending'}${b.slow ? ' slow' : ''}${b.running ? ' running' : ''}`}
              data-testid="gantt-bar"
              data-node={b.row.node}
              data-slow={b.slow ? 'true' : undefined}
              style={{ left: `${left}%`, width: `${Math.max(0, pct(b.t1, total) - left)}%`, top: b.lane * LANE + 3 }}
              title={barTitle(b)}
              onClick={() => navigate(link)}
            >
              {b.slow && <span className="slow-label">slow</span>}
              {tag && <span className="bar-tag">{tag}</span>}
            </div>
          );
        })}
      </div>
    </div>
  );
});

export function TimelinePage({ id, run, running, live }: RunPageProps) {
  const trace = useApi(() => api.trace(id), [id, live.ended], () => (running ? 3000 : null));
  // While the run goes, running bars reach "now", not the last event the trace saw.
  const ticking = run?.status === 'running';
  const now = useNow(1000, ticking);
  const end = trace.data ? (ticking ? Math.max(trace.data.end, now) : trace.data.end) : 0;
  const g = useMemo(() => (trace.data ? buildGantt(trace.data.rows, trace.data.start, end) : null), [trace.data, end]);
  useReady('timeline', g !== null);
  return (
    <>
      <ErrorBanner error={trace.error} onRetry={trace.reload} />
      {g && g.bars === 0 && <p className="empty">No node ran yet.</p>}
      {g && g.bars > 0 && (
        <section className="card gantt">
          <div className="gantt-row gantt-axis">
            <div className="gantt-label muted small">
              {g.bars} rows · total {duration(g.total)}
            </div>
            <div className="gantt-track">
              {g.ticks.map((t) => (
                <span key={t} className="tick" style={{ left: `${pct(t, g.total)}%` }}>
                  {t === 0 ? '0' : `+${duration(t)}`}
                </span>
              ))}
            </div>
          </div>
          <div className="gantt-body">
            <div className="gantt-grid" aria-hidden>
              {g.ticks.map((t) => (
                <span key={t} style={{ left: `${pct(t, g.total)}%` }} />
              ))}
            </div>
            {g.groups.map((grp) => (
              <Group key={grp.node} id={id} group={grp} total={g.total} />
            ))}
          </div>
          <p className="muted small">Outlined bars marked “slow” are the slowest 10% of rows. Hover a bar for its duration, tokens and cost.</p>
        </section>
      )}
    </>
  );
}
