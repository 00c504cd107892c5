// Evals: every eval suite run into this store, each with its history (newest first): date,
// pass rate, cost, latency, and a bar per run; a run opens its report, two runs their comparison.
import { api } from '../api/client';
import type { EvalSuiteHistory } from '../api/types';
import { ErrorBanner } from '../components/ErrorBanner';
import { StatusBadge } from '../components/StatusBadge';
import { evalCost, evalTime, historyBars, isReplay, latency, p50Of, pct, suitesOf, trend } from '../lib/eval';
import { int, time } from '../lib/format';
import { useApi, useReady } from '../lib/hooks';
import { href } from '../lib/router';

/** HistoryBars: one bar per run, oldest left; its height is the pass rate. */
export function HistoryBars({ suite }: { suite: EvalSuiteHistory }) {
  const bars = historyBars(suite.runs);
  return (
    <div className="eval-bars" role="img" aria-label={`pass rate of the last ${bars.length} runs`} data-testid="eval-bars">
      {bars.map((b) => (
        <a key={b.run} href={href({ page: 'eval-report', run: b.run })} className={`eval-bar ${b.failedAny ? 'some-failed' : 'all-passed'}`} title={b.title} data-testid="eval-bar" data-run={b.run} data-rate={b.rate}>
          <span style={{ height: `${Math.max(3, b.rate * 100)}%` }} />
        </a>
      ))}
    </div>
  );
}

function Suite({ suite }: { suite: EvalSuiteHistory }) {
  const t = trend(suite.runs);
  return (
    <section className="card eval-suite" data-testid="eval-suite" data-suite={suite.name} data-file={suite.file}>
      <div className="eval-suite-head">
        <div>
          <h3>
            {suite.name || suite.file} <span className={`trend trend-${t}`} data-testid="eval-trend" data-trend={t} title="the newest run against the one before">{t === 'better' ? '▲' : t === 'worse' ? '▼' : ''}</span>
          </h3>
          <div className="muted small mono">{suite.file}</div>
        </div>
        <HistoryBars suite={suite} />
      </div>
      <table className="table compact">
        <thead>
          <tr>
            <th>run</th>
            <th>date</th>
            <th>status</th>
            <th className="num">pass rate</th>
            <th className="num">cases</th>
            <th className="num">cost</th>
            <th className="num">latency p50</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {suite.runs.map((r, i) => {
            // An offline replay is compared with the eval it reproduced; a live run with the
            // live run before it (replays measured no model: their latencies are the recordings').
            const replay = isReplay(r);
            const prev = replay ? undefined : suite.runs.slice(i + 1).find((x) => !isReplay(x));
            return (
              <tr key={r.run} data-testid="eval-run" data-run={r.run} data-replay-of={replay ? r.replay_of ?? undefined : undefined} className={replay ? 'muted' : undefined}>
                <td className="mono">
                  <a href={href({ page: 'eval-report', run: r.run })}>{r.run}</a>
                  {replay && (
                    <div className="small" data-testid="eval-replay-of" title="an offline replay: answered from the recordings, so its latency is not the model's; left out of the trend">
                      replay of <a href={href({ page: 'eval-report', run: r.replay_of! })}>{r.replay_of}</a>
                    </div>
                  )}
                </td>
                <td className="nowrap small">{time(evalTime(r.created_at))}</td>
                <td>
                  <StatusBadge status={r.status} />
                </td>
                <td className="num" data-testid="eval-pass-rate">
                  {pct(r.pass_rate)}
                </td>
                <td className="num nowrap">
                  {int(r.passed)}/{int(r.cases)}
                  {r.failed > 0 && <span className="st-text-failed"> · {int(r.failed)} failed</span>}
                  {r.errored > 0 && <span className="st-text-failed"> · {int(r.errored)} errors</span>}
                </td>
                <td className="num nowrap">{evalCost(r.cost_usd, r.cost_unknown)}</td>
                <td className="num nowrap">{latency(p50Of(r))}</td>
                <td className="nowrap">
                  {replay && (
                    <a href={href({ page: 'eval-compare', a: r.replay_of!, b: r.run })} data-testid="eval-compare-source" title={`compare with ${r.replay_of}`}>
                      vs. source
                    </a>
                  )}
                  {prev && (
                    <a href={href({ page: 'eval-compare', a: prev.run, b: r.run })} data-testid="eval-compare-prev" title={`compare with ${prev.run}`}>
                      vs. previous
                    </a>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

export function EvalsPage() {
  const evals = useApi(() => api.evals(), []);
  const suites = suitesOf(evals.data);
  useReady('evals', evals.data !== undefined);
  return (
    <div className="page">
      <div className="toolbar">
        <h2>Evals</h2>
        <span className="muted">{evals.data ? `${suites.length} suite${suites.length === 1 ? '' : 's'}` : 'loading…'}</span>
        <a href={href({ page: 'eval-compare' })}>compare two runs</a>
      </div>
      <ErrorBanner error={evals.error} onRetry={evals.reload} />
      {evals.data && suites.length === 0 && (
        <p className="empty">
          No eval runs yet. Run a suite with <code>specwright eval SUITE.yaml</code>.
        </p>
      )}
      {suites.map((s) => (
        <Suite key={s.file || s.name} suite={s} />
      ))}
    </div>
  );
}
