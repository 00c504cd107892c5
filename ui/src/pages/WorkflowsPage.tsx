// Workflows: files under --dir and those of recorded runs (an eval suite marked as one, linked to Evals).
import { api } from '../api/client';
import { ErrorBanner } from '../components/ErrorBanner';
import { time } from '../lib/format';
import { useApi, useReady } from '../lib/hooks';
import { href } from '../lib/router';

function lastRun(v: number | string | null | undefined) {
  if (v === null || v === undefined || v === '' || v === 0) return '–';
  if (typeof v === 'number') return time(v);
  return <a href={href({ page: 'graph', id: v })}>{v}</a>;
}

export function WorkflowsPage() {
  const list = useApi(() => api.workflows(), []);
  useReady('workflows', list.data !== undefined);
  return (
    <div className="page">
      <div className="toolbar">
        <h2>Workflows</h2>
      </div>
      <ErrorBanner error={list.error} onRetry={list.reload} />
      {list.data?.length === 0 && <p className="empty">No workflow files found (pass --dir to `specwright ui`).</p>}
      {list.data && list.data.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th>name</th>
              <th>path</th>
              <th className="num">runs</th>
              <th>last run</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((w) => (
              <tr key={w.path} data-testid="workflow-row" data-path={w.path} data-kind={w.kind ?? 'workflow'}>
                <td>
                  {w.kind === 'eval' ? (
                    // An eval suite (its runs recorded it): its history is on the Evals page.
                    <>
                      <a href={href({ page: 'evals' })}>{w.name || w.path}</a> <span className="badge" data-testid="workflow-eval-suite">eval suite</span>
                    </>
                  ) : (
                    <a href={href({ page: 'workflow', path: w.path })}>{w.name || w.path}</a>
                  )}
                </td>
                <td className="mono small">{w.path}</td>
                <td className="num">{w.runs}</td>
                <td className="mono small">{lastRun(w.last_run)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
