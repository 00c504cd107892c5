// Node inspector: attempts, each model call (prompt, response, tokens, cost), tool calls, output.
import { useMemo } from 'react';
import { api } from '../api/client';
import type { LiveText, ModelCall, ToolCall } from '../api/types';
import { ErrorBanner } from '../components/ErrorBanner';
import { StatusBadge } from '../components/StatusBadge';
import { duration, int, money, ms, prettyJson, span, time } from '../lib/format';
import { useApi, useReady, useThrottled } from '../lib/hooks';
import { liveKey, liveTextsOf } from '../lib/live';
import { href } from '../lib/router';
import type { RunPageProps } from './runPage';

const unit = (x: { iteration: number; item: number; attempt: number }) =>
  [x.iteration > 0 ? `iteration ${x.iteration + 1}` : '', x.item >= 0 ? `item ${x.item}` : '', `attempt ${x.attempt}`].filter(Boolean).join(' · ');

export function NodePage({ id, node, live, running }: RunPageProps & { node: string }) {
  // Refetch when this node changes state (throttled) and when the stream ends.
  const nodeStatus = useThrottled(running ? (live.status[node] ?? '') : '', 1000);
  const detail = useApi(() => api.node(id, node), [id, node, nodeStatus, live.ended]);
  useReady('node', detail.data !== undefined);
  const d = detail.data;

  // In-flight text: the fetched snapshot, then what the stream sent since.
  const texts = useMemo(() => {
    const m = new Map<string, LiveText>();
    for (const t of d?.live ?? []) m.set(liveKey(t), t);
    for (const t of liveTextsOf(live, node)) m.set(liveKey(t), t);
    return [...m.values()];
  }, [d, live, node]);
  const status = (running && live.status[node]) || d?.status || '';
  const showLive = running && texts.length > 0 && !['succeeded', 'failed', 'skipped'].includes(status);

  return (
    <div className="node-page">
      <ErrorBanner error={detail.error} onRetry={detail.reload} />
      <div className="toolbar">
        <a href={href({ page: 'graph', id })}>← graph</a>
        <h3 className="mono">{node}</h3>
        {status && <StatusBadge status={status} />}
        {d && <span className="muted">{[d.kind, d.model].filter(Boolean).join(' · ')}</span>}
      </div>
      {showLive && (
        <section className="card live">
          <h4>
            <span className="live-dot">streaming…</span>
          </h4>
          {texts.map((t) => (
            <div key={liveKey(t)}>
              <div className="muted small">{unit(t)}</div>
              <pre className="pre" data-testid="live-text">
                {t.text}
              </pre>
            </div>
          ))}
        </section>
      )}
      {d && (
        <>
          <section className="card">
            <h4>Attempts</h4>
            {d.attempts.length === 0 ? (
              <p className="muted">No attempt ran.</p>
            ) : (
              <table className="table compact" data-testid="attempts">
                <thead>
                  <tr>
                    <th>iteration</th>
                    <th>item</th>
                    <th>attempt</th>
                    <th>status</th>
                    <th>started</th>
                    <th className="num">duration</th>
                    <th className="num">tokens</th>
                    <th className="num">cost</th>
                    <th>model</th>
                    <th>error</th>
                  </tr>
                </thead>
                <tbody>
                  {d.attempts.map((a, i) => (
                    <tr key={i}>
                      <td className="num">{a.iteration}</td>
                      <td className="num">{a.item >= 0 ? a.item : '–'}</td>
                      <td className="num">{a.attempt}</td>
                      <td>
                        <StatusBadge status={a.status} />
                        {a.cached && <span className="muted small"> cache hit</span>}
                      </td>
                      <td className="nowrap">{time(a.started_at)}</td>
                      <td className="num nowrap">{span(a.started_at, a.finished_at)}</td>
                      <td className="num">{int(a.tokens)}</td>
                      <td className="num nowrap">{money(a.cost_usd, a.cost_known)}</td>
                      <td className="mono small">{a.model}</td>
                      <td className="error-text">{a.error}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
          {d.kind === 'agent' && d.calls.length > 0 ? (
            <AgentThreads calls={d.calls} tools={d.tool_calls} />
          ) : (
            <section>
              <h4>Model calls ({d.calls.length}{d.calls.length > 1 ? ', newest first' : ''})</h4>
              {d.calls.length === 0 && <p className="muted">No model calls.</p>}
              {[...d.calls].reverse().map((c, i) => (
                <CallCard key={`${c.id}-${i}`} call={c} />
              ))}
            </section>
          )}
          {d.kind !== 'agent' && d.tool_calls.length > 0 && (
            <section>
              <h4>Tool calls ({d.tool_calls.length})</h4>
              {d.tool_calls.map((t, i) => (
                <ToolCard key={`${t.call_id}-${i}`} call={t} />
              ))}
            </section>
          )}
          <section className="card">
            <h4>Output</h4>
            {d.output === null || d.output === undefined || d.output === '' ? (
              <p className="muted">No output recorded.</p>
            ) : (
              <pre className="pre" data-testid="output">
                {prettyJson(d.output)}
              </pre>
            )}
          </section>
        </>
      )}
    </div>
  );
}

function CallCard({ call: c }: { call: ModelCall }) {
  const t = c.tokens ?? { input: 0, cached_read: 0, cache_write: 0, output: 0, reasoning: 0 };
  return (
    <article className="card call" data-testid="model-call">
      <header className="call-head">
        <span className="mono">
          {c.provider}/{c.model}
        </span>
        <StatusBadge status={c.status} />
        <span className="muted small">{unit(c)}</span>
        <span className="muted small">{time(c.started_at)}</span>
      </header>
      <dl className="stats inline">
        <div>
          <dt>latency</dt>
          <dd>{ms(c.latency_ms)}</dd>
        </div>
        <div>
          <dt>TTFT</dt>
          <dd>{c.ttft_ms > 0 ? ms(c.ttft_ms) : '–'}</dd>
        </div>
        <div>
          <dt>input</dt>
          <dd>{int(t.input)}</dd>
        </div>
        <div>
          <dt>cached read</dt>
          <dd>{int(t.cached_read)}</dd>
        </div>
        <div>
          <dt>cache write</dt>
          <dd>{int(t.cache_write)}</dd>
        </div>
        <div>
          <dt>output</dt>
          <dd>{int(t.output)}</dd>
        </div>
        <div>
          <dt>reasoning</dt>
          <dd>{int(t.reasoning)}</dd>
        </div>
        <div>
          <dt>cost</dt>
          <dd>{money(c.cost_usd)}</dd>
        </div>
      </dl>
      {c.error && <div className="error-text">{c.error}</div>}
      <div className="messages" data-testid="prompt">
        {(c.prompt ?? []).map((m, i) => (
          <div key={i} className={`message role-${m.role}`}>
            <div className="role">{m.role}</div>
            <pre className="pre">{m.content}</pre>
          </div>
        ))}
      </div>
      <div className="message role-response">
        <div className="role">response</div>
        <pre className="pre" data-testid="response">
          {c.response}
        </pre>
      </div>
    </article>
  );
}

function ToolCard({ call: t }: { call: ToolCall }) {
  return (
    <article className="card tool" data-testid="tool-call">
      <header className="call-head">
        <span className="mono">{t.name || t.tool}</span>
        {t.tool && t.tool !== t.name && <span className="muted small">{t.tool}</span>}
        <StatusBadge status={t.finished_at ? (t.ok ? 'succeeded' : 'failed') : 'running'} />
        <span className="muted small">
          turn {t.turn}
          {t.item >= 0 ? ` · item ${t.item}` : ''} · attempt {t.attempt}
          {t.finished_at ? ` · ${duration(t.finished_at - t.started_at)}` : ''}
          {t.bytes ? ` · ${int(t.bytes)} bytes` : ''}
        </span>
      </header>
      <ToolIO call={t} />
    </article>
  );
}

/** AgentThreads shows an agent's work as one conversation per attempt: the system and user
 *  messages once, then each turn's answer with its tool calls and results folded under it,
 *  and the turn's tokens, cost and latency (each call's prompt repeats the whole conversation
 *  so far; it is not shown again). */
function AgentThreads({ calls, tools }: { calls: ModelCall[]; tools: ToolCall[] }) {
  const units = new Map<string, ModelCall[]>();
  for (const c of calls) {
    const k = liveKey(c);
    units.set(k, [...(units.get(k) ?? []), c]);
  }
  return (
    <section>
      <h4>Conversation{units.size > 1 ? `s (${units.size})` : ''}</h4>
      {[...units.entries()].map(([k, turns]) => {
        const first = turns[0]!;
        const opening = (first.prompt ?? []).filter((m) => m.role === 'system' || m.role === 'user').slice(0, 2);
        const mine = tools.filter((t) => t.item === first.item && t.attempt === first.attempt);
        return (
          <article className="card agent-thread" key={k} data-testid="agent-thread">
            <header className="call-head">
              <span className="mono">
                {first.provider}/{first.model}
              </span>
              <span className="muted small">{unit(first)}</span>
              <span className="muted small">
                {turns.length} turns · {int(turns.reduce((a, c) => a + (c.tokens?.input ?? 0) + (c.tokens?.output ?? 0), 0))} tokens ·{' '}
                {money(turns.reduce((a, c) => a + (c.cost_usd ?? 0), 0), turns.every((c) => c.cost_usd !== null))}
              </span>
            </header>
            <div className="messages" data-testid="prompt">
              {opening.map((m, i) => (
                <details key={i} open={m.role === 'user'}>
                  <summary className="role">{m.role}</summary>
                  <pre className="pre">{m.content}</pre>
                </details>
              ))}
            </div>
            {turns.map((c, i) => {
              const n = i + 1;
              const used = mine.filter((t) => t.turn === n);
              return (
                <div className="agent-turn" key={`${c.id}-${i}`} data-testid="agent-turn" data-turn={n}>
                  <div className="turn-head small">
                    <strong>turn {n}</strong> <StatusBadge status={c.status} /> <span className="muted">
                      {int(c.tokens?.input ?? 0)} in · {int(c.tokens?.output ?? 0)} out · {money(c.cost_usd)} · {ms(c.latency_ms)}
                    </span>
                  </div>
                  {c.error && <div className="error-text">{c.error}</div>}
                  {c.response && (
                    <pre className="pre" data-testid="response">
                      {c.response}
                    </pre>
                  )}
                  {used.map((t, j) => (
                    <details key={`${t.call_id}-${j}`} className="tool-fold" data-testid="tool-call">
                      <summary>
                        <span className="mono">{t.name || t.tool}</span>{' '}
                        <StatusBadge status={t.finished_at ? (t.ok ? 'succeeded' : 'failed') : 'running'} />{' '}
                        <span className="muted small">
                          {typeof t.arguments === 'object' ? JSON.stringify(t.arguments).slice(0, 120) : String(t.arguments).slice(0, 120)}
                          {t.finished_at ? ` · ${duration(t.finished_at - t.started_at)}` : ''}
                          {t.bytes ? ` · ${int(t.bytes)} bytes` : ''}
                        </span>
                      </summary>
                      <ToolIO call={t} />
                    </details>
                  ))}
                </div>
              );
            })}
          </article>
        );
      })}
    </section>
  );
}

/** ToolIO is a tool call's arguments beside its result. */
function ToolIO({ call: t }: { call: ToolCall }) {
  return (
    <div className="split">
      <div>
        <div className="role">arguments</div>
        <pre className="pre">{prettyJson(t.arguments)}</pre>
      </div>
      <div>
        <div className="role">result</div>
        <pre className="pre">{prettyJson(t.result ?? t.preview ?? '')}</pre>
      </div>
    </div>
  );
}
