// A gate of the developer process as a dialogue: the document the architect wrote this round,
// what changed since the round before, the verifier's findings round by round, and every
// earlier answer at the gate (who said what). The decision itself is the approval's form.
import { useMemo } from 'react';
import { api } from '../api/client';
import type { NodeDetail } from '../api/types';
import { lineDiff } from '../lib/difftext';
import { time } from '../lib/format';
import { useApi } from '../lib/hooks';
import { ErrorBanner } from './ErrorBanner';
import { StatusBadge } from './StatusBadge';

interface Verdict {
  verdict?: string;
  findings?: { severity?: string; item?: string; problem?: string }[];
}

function parseVerdict(text: string): Verdict | null {
  // The verifier answers JSON, perhaps in a fence: the first {...} that parses.
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end <= start) return null;
  try {
    return JSON.parse(text.slice(start, end + 1)) as Verdict;
  } catch {
    return null;
  }
}

interface Round {
  iteration: number;
  at: number;
  text: string;
}

/** The last output of each iteration, in iteration order (from the node's recorded outputs,
 *  so rounds answered from the cache count too). */
function byRound(outputs: NodeDetail['outputs']): Round[] {
  const last = new Map<number, Round>();
  for (const o of outputs ?? []) last.set(o.iteration, { iteration: o.iteration, at: o.at, text: o.output });
  return [...last.values()].sort((a, b) => a.iteration - b.iteration);
}

export function GateDialogue({ runId }: { runId: string }) {
  const data = useApi(
    async () => {
      const [produce, verify, answers] = await Promise.all([api.node(runId, 'produce'), api.node(runId, 'verify').catch(() => null), api.runApprovals(runId)]);
      return { produce, verify, answers };
    },
    [runId],
  );
  const d = data.data;
  const rounds = useMemo(() => (d ? byRound(d.produce.outputs) : []), [d]);
  const checks = useMemo(() => (d?.verify ? byRound(d.verify.outputs) : []), [d]);
  const said = (d?.answers ?? []).filter((a) => a.node === 'approve' && a.decision !== 'pending');
  const latest = rounds[rounds.length - 1];
  // The baseline is the document the person last answered at the gate (a verifier's fix round
  // after their words is part of the change they asked for); before any answer, the round before.
  const lastAnswer = said[said.length - 1];
  const seen = lastAnswer ? [...rounds].reverse().find((r) => r.at <= lastAnswer.at && r !== latest) : undefined;
  const previous = seen ?? rounds[rounds.length - 2];
  const diff = useMemo(() => (latest && previous ? lineDiff(previous.text, latest.text) : []), [latest, previous]);
  return (
    <div className="gate-dialogue" data-testid="gate-dialogue">
      <ErrorBanner error={data.error} onRetry={data.reload} />
      {said.length > 0 && (
        <section data-testid="gate-rounds">
          <h4>Earlier rounds at this gate</h4>
          <ol>
            {said.map((a, i) => (
              <li key={i}>
                <StatusBadge status={a.decision === 'approved' ? 'succeeded' : 'failed'} /> {a.decision} by {a.by} at {time(a.at)}
                {a.text && <blockquote className="small">{a.text}</blockquote>}
              </li>
            ))}
          </ol>
        </section>
      )}
      {checks.length > 0 && (
        <section data-testid="gate-findings">
          <h4>The verifier</h4>
          <ol>
            {checks.map((c, i) => {
              const v = parseVerdict(c.text);
              return (
                <li key={i}>
                  round {c.iteration + 1}: <strong>{v?.verdict ?? 'answer not JSON'}</strong>
                  {v?.findings && v.findings.length > 0 && (
                    <ul>
                      {v.findings.map((f, j) => (
                        <li key={j}>
                          <span className={f.severity === 'major' ? 'st-text-failed' : 'muted'}>{f.severity}</span> <span className="mono">{f.item}</span>: {f.problem}
                        </li>
                      ))}
                    </ul>
                  )}
                </li>
              );
            })}
          </ol>
        </section>
      )}
      {latest && previous && (
        <details open data-testid="gate-diff">
          <summary>
            What changed since round {previous.iteration + 1}
            {seen ? ' (the document you last answered)' : ''}
          </summary>
          <pre className="pre diff small">
            {diff
              .filter((o, i, all) => o.op !== ' ' || all.slice(Math.max(0, i - 2), i + 3).some((n) => n.op !== ' '))
              .map((o, i) => (
                <span key={i} className={o.op === '+' ? 'diff-add' : o.op === '-' ? 'diff-del' : 'diff-ctx'}>
                  {o.op} {o.line}
                  {'\n'}
                </span>
              ))}
          </pre>
        </details>
      )}
      {latest && (
        <details data-testid="gate-document">
          <summary>The document, round {latest.iteration + 1}</summary>
          <pre className="pre small">{latest.text}</pre>
        </details>
      )}
    </div>
  );
}
