// Approvals: human gates waiting across runs; approve or reject with a note.
import { useState } from 'react';
import { api } from '../api/client';
import type { Approval, ApproveResponse } from '../api/types';
import { ErrorBanner } from '../components/ErrorBanner';
import { GateDialogue } from '../components/GateDialogue';
import { StatusBadge } from '../components/StatusBadge';
import { ago, time } from '../lib/format';
import { useApi, useNow, useReady } from '../lib/hooks';
import { href } from '../lib/router';

const keyOf = (a: Approval) => `${a.run_id}/${a.node}/${a.iteration}/${a.item}`;

interface Answer {
  approval: Approval;
  response: ApproveResponse;
}

export function ApprovalsPage({ onChange }: { onChange?: () => void }) {
  const list = useApi(() => api.approvals(), [], () => 5000);
  const [answers, setAnswers] = useState<Answer[]>([]);
  const now = useNow(10_000);
  useReady('approvals', list.data !== undefined);
  const answered = new Set(answers.map((a) => keyOf(a.approval)));
  const waiting = (list.data ?? []).filter((a) => !answered.has(keyOf(a)));
  const done = (approval: Approval, response: ApproveResponse) => {
    setAnswers((xs) => [{ approval, response }, ...xs]);
    list.reload();
    onChange?.();
  };
  return (
    <div className="page">
      <div className="toolbar">
        <h2>Approvals</h2>
        <span className="muted">{list.data ? `${waiting.length} waiting` : 'loading…'}</span>
      </div>
      <ErrorBanner error={list.error} onRetry={list.reload} />
      {answers.map(({ approval: a, response: r }) => (
        <div key={keyOf(a) + r.decision} className="card answer" data-testid="approval-answer" data-run-id={a.run_id} data-node={a.node}>
          <StatusBadge status={r.decision === 'approved' ? 'succeeded' : 'failed'} /> <strong>{r.decision}</strong> <span className="mono">{a.node}</span> of{' '}
          <span className="mono">{r.run_id}</span> —{' '}
          {r.continued === 'running process' ? 'the running process picks the decision up' : r.continued === 'resumed' ? `the run was resumed (pid ${r.pid})` : r.continued}.{' '}
          <a href={href({ page: 'graph', id: r.run_id })}>Open the run graph →</a>
        </div>
      ))}
      {list.data && waiting.length === 0 && <p className="empty">No gate is waiting for a decision.</p>}
      {waiting.map((a) => (
        <ApprovalItem key={keyOf(a)} a={a} now={now} onDone={done} />
      ))}
    </div>
  );
}

function ApprovalItem({ a, now, onDone }: { a: Approval; now: number; onDone: (a: Approval, r: ApproveResponse) => void }) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  // A gate of the developer process (a spec phase's `approve`) is a dialogue with the architect.
  const dialogue = a.workflow === 'process-phase' && a.node === 'approve';
  const decide = (decision: 'approved' | 'rejected') => {
    setBusy(true);
    setError(null);
    api
      .approve(a.run_id, { node: a.node, iteration: a.iteration, item: a.item, decision, text })
      .then((r) => onDone(a, r))
      .catch((e: unknown) => setError(e instanceof Error ? e : new Error(String(e))))
      .finally(() => setBusy(false));
  };
  return (
    <article className="card approval" data-testid="approval" data-run-id={a.run_id} data-node={a.node}>
      <header className="call-head">
        <span className="mono">
          <a href={href({ page: 'graph', id: a.run_id })}>{a.run_id}</a>
        </span>
        <span>{a.workflow}</span>
        <StatusBadge status={a.run_status} />
        <span className="mono">
          <a href={href({ page: 'node', id: a.run_id, node: a.node })}>{a.node}</a>
          {a.iteration > 0 && ` #${a.iteration + 1}`}
          {a.item >= 0 && ` [${a.item}]`}
        </span>
        <span className="muted small" title={time(a.since)}>
          waiting {ago(a.since, now)}
        </span>
        <span className="muted small">{a.alive ? 'a process is running this run' : 'no process: approving resumes the run'}</span>
      </header>
      {a.message && <pre className="pre message-text">{a.message}</pre>}
      {dialogue && <GateDialogue runId={a.run_id} />}
      <textarea
        data-testid="approval-note"
        placeholder={dialogue ? 'Your words to the architect: what to change (with Reject), or a comment (with Approve)' : 'Note for the run (optional)'}
        value={text}
        onChange={(e) => setText(e.target.value)}
        rows={dialogue ? 3 : 2}
        aria-label="note"
      />
      <div className="actions">
        <button type="button" data-testid="approve" disabled={busy} onClick={() => decide('approved')}>
          {dialogue && text.trim() ? 'Approve with this comment' : 'Approve'}
        </button>
        <button type="button" className="danger" data-testid="reject" disabled={busy || (dialogue && !text.trim())} onClick={() => decide('rejected')} title={dialogue ? 'send it back to the architect with your words' : undefined}>
          {dialogue ? 'Send back with my words' : 'Reject'}
        </button>
      </div>
      <ErrorBanner error={error} />
    </article>
  );
}
