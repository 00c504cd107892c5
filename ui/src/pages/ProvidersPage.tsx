// Providers: the endpoints this install knows (built in, and from specwright.yaml of --dir),
// whether each has its key (never the key itself), and the models runs used in the last 7
// days with their calls, error rate, spend and price.
import { api } from '../api/client';
import { ErrorBanner } from '../components/ErrorBanner';
import { ago, int, money } from '../lib/format';
import { useApi, useNow, useReady } from '../lib/hooks';

export function ProvidersPage() {
  const r = useApi(() => api.providers(), [], () => 30000);
  const now = useNow(30000);
  useReady('providers', r.data !== undefined || r.error !== null);
  const d = r.data;
  return (
    <div className="page">
      <div className="toolbar">
        <h2>Providers and models</h2>
      </div>
      <ErrorBanner error={r.error} onRetry={r.reload} />
      {d && (
        <>
          <section className="card">
            <h3>Providers</h3>
            <table className="table" data-testid="providers">
              <thead>
                <tr>
                  <th>provider</th>
                  <th>API</th>
                  <th>endpoint</th>
                  <th>key</th>
                  <th>limits</th>
                </tr>
              </thead>
              <tbody>
                {d.providers.map((p) => (
                  <tr key={p.name} data-testid="provider" data-name={p.name} data-key={p.key}>
                    <td className="mono">{p.name}</td>
                    <td>{p.api}</td>
                    <td className="mono small">{p.base_url}</td>
                    <td>
                      <span className={p.key === 'missing' ? 'st-text-failed' : ''}>{p.key}</span>
                      {p.key_from && <div className="muted small">{p.key_from}</div>}
                      {p.problem && (
                        <div className="st-text-failed small" data-testid="provider-problem">
                          {p.problem}
                        </div>
                      )}
                    </td>
                    <td className="small">
                      {[p.rpm ? `${p.rpm} rpm` : '', p.tpm ? `${p.tpm} tpm` : '', p.max_concurrency ? `${p.max_concurrency} at once` : ''].filter(Boolean).join(' · ') || '–'}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          <section className="card">
            <h3>Models used in the last 7 days</h3>
            {d.models.length === 0 ? (
              <p className="empty">No model calls in the last 7 days.</p>
            ) : (
              <table className="table" data-testid="models">
                <thead>
                  <tr>
                    <th>model</th>
                    <th className="num">calls</th>
                    <th className="num">errors</th>
                    <th className="num">tokens</th>
                    <th className="num">cost</th>
                    <th className="num">price in / out per 1M</th>
                    <th>last used</th>
                  </tr>
                </thead>
                <tbody>
                  {d.models.map((m) => (
                    <tr key={`${m.provider}/${m.model}`} data-testid="model" data-model={`${m.provider}/${m.model}`}>
                      <td className="mono">
                        {m.provider}/{m.model}
                      </td>
                      <td className="num">{int(m.calls)}</td>
                      <td className={`num ${m.errors > 0 ? 'st-text-failed' : ''}`} title={m.last_error} data-testid="model-errors">
                        {int(m.errors)} ({(m.error_rate * 100).toFixed(1)}%)
                      </td>
                      <td className="num">{int(m.tokens)}</td>
                      <td className="num">{money(m.cost_usd, m.cost_known)}</td>
                      <td className="num">{m.price ? `${money(m.price.input_per_mtok)} / ${money(m.price.output_per_mtok)}` : 'no price'}</td>
                      <td className="nowrap">{ago(m.last_used, now)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        </>
      )}
    </div>
  );
}
