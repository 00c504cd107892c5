// A file of a session's project, with line numbers; the line asked for is marked and in view.
import { useEffect, useRef } from 'react';
import { api } from '../api/client';
import { ErrorBanner } from '../components/ErrorBanner';
import { useApi, useReady } from '../lib/hooks';
import { href } from '../lib/router';

export function FilePage({ session, path, line }: { session: string; path: string; line?: string }) {
  const f = useApi(() => api.projectFile(session, path), [session, path]);
  const want = Number(line ?? 0);
  const ref = useRef<HTMLDivElement>(null);
  useReady('file', f.data !== undefined || f.error !== null);
  useEffect(() => {
    if (f.data && want > 0) ref.current?.querySelector(`[data-line="${want}"]`)?.scrollIntoView({ block: 'center' });
  }, [f.data, want]);
  const lines = f.data ? f.data.text.replace(/\n$/, '').split('\n') : [];
  return (
    <div className="page">
      <div className="toolbar">
        <h2 className="mono">{path}</h2>
        <a href={href({ page: 'spec', session, tab: 'check' })}>specs and traceability</a>
      </div>
      <ErrorBanner error={f.error} onRetry={f.reload} />
      <div className="pre source" ref={ref} data-testid="file">
        {lines.map((l, i) => (
          <div key={i} data-line={i + 1} className={i + 1 === want ? 'line marked' : 'line'} data-testid={i + 1 === want ? 'marked-line' : undefined}>
            <span className="ln">{i + 1}</span>
            {l}
          </div>
        ))}
      </div>
    </div>
  );
}
