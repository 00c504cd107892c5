// Lineage of one artifact (GET /lineage/{name}?run=), with its content.
import { useCallback, useState } from 'react';
import { api } from '../api/client';
import { ErrorBanner } from '../components/ErrorBanner';
import { LineageView } from '../components/LineageView';
import { useApi, useReady } from '../lib/hooks';
import { href, navigate } from '../lib/router';
import { BlobView } from './ArtifactsPage';

export function LineagePage({ name, run }: { name: string; run?: string }) {
  const lin = useApi(() => api.lineage(name, run), [name, run]);
  const [ready, setReady] = useState(false);
  const onReady = useCallback(() => setReady(true), []);
  useReady('lineage', ready && lin.data !== undefined);
  const d = lin.data;
  const self = d?.artifacts.find((a) => a.name === name);
  const runId = d?.run ?? run ?? '';
  return (
    <div className="page">
      <div className="toolbar">
        <h2>
          Lineage of <span className="mono">{name}</span>
        </h2>
        {runId && (
          <a href={href({ page: 'artifacts', id: runId, artifact: name })}>
            in run <span className="mono">{runId}</span>
          </a>
        )}
      </div>
      <ErrorBanner error={lin.error} onRetry={lin.reload} />
      {d && d.cycles.length > 0 && (
        <div className="warn-banner" data-testid="cycles">
          Derivation cycles: {d.cycles.map((c) => <code key={c}>{c}</code>)}
        </div>
      )}
      {d && (
        <section className="card">
          <div className="lineage-wrap tall">
            <LineageView trees={d.tree} selected={name} onSelect={(n) => navigate(href({ page: 'lineage', name: n, run: runId }))} onReady={onReady} />
          </div>
        </section>
      )}
      {self && <BlobView artifact={self} />}
    </div>
  );
}
