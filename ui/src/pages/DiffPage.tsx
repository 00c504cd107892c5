// Diff: two runs node by node, the first divergence, and unified diffs of differing outputs.
import { api } from '../api/client';
import type { DiffRunHeader, DiffSide, Run } from '../api/types';
import { ErrorBanner } from '../components/ErrorBanner';
import { StatusBadge } from '../components/StatusBadge';
import { classifyDiff, splitLines } from '../lib/difftext';
import { duration, int, money } from '../lib/format';
import { useApi, useReady } from '../lib/hooks';
import { href, navigate } from '../lib/router';

export function DiffText({ text }: { text: string }) {
  const lines = splitLines(text);
  const classes = classifyDiff(lines);
  return (
    <pre className="pre diff" data-testid="diff-text">
      {lines.map((l, i) => (
        <span key={i} className={classes[i]}>
          {l}
          {'\n'}
        </span>
      ))}
    </pre>
  );
}

function RunPicker({ label, value, runs, onChange }: { label: string; value?: string; runs: Run[]; onChange: (id: string) => void }) {
  const known = !value || runs.some((r) => r.id === value);
  return (
    <label>
      {label}{' '}
      <select value={value ?? ''} onChange={(e) => onChange(e.target.value)} data-testid={`diff-pick-${label}`} aria-label={`run ${label}`}>
        <option value="">choose a run…</option>
        {!known && <option value={value}>{value}</option>}
        {runs.map((r) => (
          <option key={r.id} value={r.id}>
            {r.id} · {r.workflow} · {r.status}
          </option>
        ))}
      </select>
    </label>
  );
}

const side = (s: DiffSide | null, f: (s: DiffSide) => string) => (s ? f(s) : '—');

function Header({ h, label }: { h: DiffRunHeader; label: string }) {
  return (
    <div className="diff-head">
      <strong>{label}</strong> <a className="mono" href={href({ page: 'graph', id: h.id })}>{h.id}</a> <StatusBadge status={h.status} /> {h.workflow} · {duration(h.duration_s)} · {int(h.tokens)} tokens · {money(h.cost_usd)}
    </div>
  );
}

export function DiffPage({ a, b }: { a?: string; b?: string }) {
  const runs = useApi(() => api.runs(), []);
  const both = Boolean(a && b);
  const diff = useApi(() => (a && b ? api.diff(a, b) : Promise.resolve(null)), [a, b]);
  useReady('diff', both ? Boolean(diff.data) : runs.data !== undefined);
  const d = diff.data;
  const first = d?.first_divergence?.node;
  const pick = (next: { a?: string; b?: string }) => navigate(href({ page: 'diff', a, b, ...next }));
  return (
    <div className="page">
      <div className="toolbar">
        <h2>Diff</h2>
        <RunPicker label="A" value={a} runs={runs.data ?? []} onChange={(v) => pick({ a: v || undefined })} />
        <button type="button" className="link" onClick={() => pick({ a: b, b: a })} disabled={!a && !b} title="swap A and B">
          ⇄
        </button>
        <RunPicker label="B" value={b} runs={runs.data ?? []} onChange={(v) => pick({ b: v || undefined })} />
      </div>
      <ErrorBanner error={runs.error} />
      <ErrorBanner error={diff.error} onRetry={diff.reload} />
      {!both && <p className="empty">Choose two runs to compare.</p>}
      {d && (
        <>
          <section className="card">
            <Header h={d.a} label="A" />
            <Header h={d.b} label="B" />
            <p>
              {d.differing === 0 ? 'The runs agree on every node.' : `${d.differing} of ${d.nodes.length} nodes differ.`}
              {first && (
                <>
                  {' '}
                  First divergence: <strong className="mono">{first}</strong> ({d.first_divergence?.differs.join(', ')}).
                </>
              )}
              {d.diffs_omitted > 0 && <span className="muted"> {d.diffs_omitted} output diffs omitted.</span>}
            </p>
            <table className="table compact diff-table">
              <thead>
                <tr>
                  <th>node</th>
                  <th>status A</th>
                  <th>status B</th>
                  <th className="num">duration A / B</th>
                  <th className="num">tokens A / B</th>
                  <th className="num">cost A / B</th>
                  <th>model A / B</th>
                  <th>differs</th>
                </tr>
              </thead>
              <tbody>
                {d.nodes.map((n) => (
                  <tr
                    key={n.node}
                    data-testid="diff-row"
                    data-node={n.node}
                    data-same={String(n.same)}
                    className={`${n.same ? 'same' : 'differs'} ${n.node === first ? 'first-divergence' : ''}`}
                  >
                    <td className="mono">
                      {n.node}
                      {n.node === first && <span className="tag">first divergence</span>}
                    </td>
                    <td>{n.a ? <StatusBadge status={n.a.status} /> : '—'}</td>
                    <td>{n.b ? <StatusBadge status={n.b.status} /> : '—'}</td>
                    <td className="num nowrap">
                      {side(n.a, (s) => duration(s.duration_s))} / {side(n.b, (s) => duration(s.duration_s))}
                    </td>
                    <td className="num nowrap">
                      {side(n.a, (s) => int(s.tokens))} / {side(n.b, (s) => int(s.tokens))}
                    </td>
                    <td className="num nowrap">
                      {side(n.a, (s) => money(s.cost_usd, s.cost_known))} / {side(n.b, (s) => money(s.cost_usd, s.cost_known))}
                    </td>
                    <td className="mono small">
                      {side(n.a, (s) => s.model || '–')} / {side(n.b, (s) => s.model || '–')}
                    </td>
                    <td>
                      {n.differs.map((x) => (
                        <span key={x} className="tag">
                          {x}
                        </span>
                      ))}
                      {n.diff && (
                        <button type="button" className="link" onClick={() => document.getElementById(`diff-${n.node}`)?.scrollIntoView({ behavior: 'smooth' })}>
                          see diff
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          {d.nodes
            .filter((n) => n.diff)
            .map((n) => (
              <section key={n.node} className="card" id={`diff-${n.node}`}>
                <h3>
                  Output of <span className="mono">{n.node}</span>
                </h3>
                <DiffText text={n.diff!} />
              </section>
            ))}
        </>
      )}
    </div>
  );
}
