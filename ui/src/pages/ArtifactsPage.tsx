// Artifacts of a run: the list, one artifact's content, and lineage graphs.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { api } from '../api/client';
import type { Artifact } from '../api/types';
import { ErrorBanner } from '../components/ErrorBanner';
import { LineageView } from '../components/LineageView';
import { isJsonMedia, prettyJson, time } from '../lib/format';
import { useApi, useReady } from '../lib/hooks';
import { href, navigate } from '../lib/router';
import type { RunPageProps } from './runPage';

export function ArtifactsPage({ id, artifact, live }: RunPageProps & { artifact?: string }) {
  const list = useApi(() => api.artifacts(id), [id, live.ended]);
  const selected = useMemo(() => list.data?.artifacts.find((a) => a.name === artifact), [list.data, artifact]);
  const select = useCallback((name: string) => navigate(href({ page: 'artifacts', id, artifact: name })), [id]);
  // Ready once the graph shown (and the chosen artifact's content) are of the current selection.
  const [graphOf, setGraphOf] = useState<string | null>(null);
  const [blobOf, setBlobOf] = useState<string | null>(null);
  const onReady = useCallback(() => setGraphOf(artifact ?? ''), [artifact]);
  useReady('artifacts', list.data !== undefined && (list.data.artifacts.length === 0 || (graphOf === (artifact ?? '') && (!selected || blobOf === selected.blob))));
  const d = list.data;
  return (
    <>
      <ErrorBanner error={list.error} onRetry={list.reload} />
      {d && d.cycles.length > 0 && (
        <div className="warn-banner" data-testid="cycles">
          Derivation cycles: {d.cycles.map((c) => <code key={c}>{c}</code>)}
        </div>
      )}
      {d && d.artifacts.length === 0 && <p className="empty">This run stored no artifacts.</p>}
      {d && d.artifacts.length > 0 && (
        <div className="split artifacts">
          <section className="card">
            <h3>Artifacts ({d.artifacts.length})</h3>
            <table className="table compact">
              <thead>
                <tr>
                  <th>name</th>
                  <th>produced by</th>
                  <th>media type</th>
                  <th>created</th>
                  <th>derived from</th>
                </tr>
              </thead>
              <tbody>
                {d.artifacts.map((a) => (
                  <tr key={a.name} data-testid="artifact" data-name={a.name} className={`clickable ${a.name === artifact ? 'selected' : ''}`} onClick={() => select(a.name)}>
                    <td className="mono">
                      <a href={href({ page: 'artifacts', id, artifact: a.name })}>{a.name}</a>
                    </td>
                    <td className="mono">{a.produced_by}</td>
                    <td className="small">{a.media_type}</td>
                    <td className="nowrap small">{time(a.created_at)}</td>
                    <td className="small">{a.derived_from.join(', ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          <section className="card">
            <h3>
              {selected ? (
                <>
                  Lineage of <span className="mono">{selected.name}</span>{' '}
                  <a className="small" href={href({ page: 'lineage', name: selected.name, run: id })}>
                    open
                  </a>
                </>
              ) : (
                'Lineage'
              )}
            </h3>
            <div className="lineage-wrap">
              {selected ? <SelectedLineage key={selected.name} id={id} name={selected.name} onSelect={select} onReady={onReady} /> : <LineageView trees={d.tree} onSelect={select} onReady={onReady} direction="TB" />}
            </div>
          </section>
        </div>
      )}
      {selected && <BlobView key={selected.blob} artifact={selected} onLoaded={setBlobOf} />}
      {artifact && d && !selected && <ErrorBanner error={`This run has no artifact "${artifact}".`} />}
    </>
  );
}

function SelectedLineage({ id, name, onSelect, onReady }: { id: string; name: string; onSelect: (n: string) => void; onReady: () => void }) {
  const lin = useApi(() => api.lineage(name, id), [id, name]);
  return (
    <>
      <ErrorBanner error={lin.error} />
      {lin.data && <LineageView trees={lin.data.tree} selected={name} onSelect={onSelect} onReady={onReady} direction="TB" />}
    </>
  );
}

export function BlobView({ artifact, onLoaded }: { artifact: Pick<Artifact, 'name' | 'blob' | 'media_type'>; onLoaded?: (blob: string) => void }) {
  const blob = useApi(() => api.blob(artifact.blob), [artifact.blob]);
  const loaded = blob.data !== undefined;
  useEffect(() => {
    if (loaded) onLoaded?.(artifact.blob);
  }, [loaded, artifact.blob, onLoaded]);
  const text = blob.data === undefined ? '' : isJsonMedia(artifact.media_type) ? prettyJson(blob.data) : blob.data;
  return (
    <section className="card">
      <h3>
        <span className="mono">{artifact.name}</span> <span className="muted small">{artifact.media_type} · {artifact.blob}</span>
      </h3>
      <ErrorBanner error={blob.error} />
      {blob.data !== undefined && (
        <pre className="pre tall" data-testid="artifact-content">
          {text}
        </pre>
      )}
    </section>
  );
}
