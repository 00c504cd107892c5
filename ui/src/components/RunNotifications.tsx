// The run's webhook deliveries (notify:): every attempt, as `specwright show` lists them.
// Nothing is shown for a run without any. Deliveries happen after the run ends or parks at a
// gate, so the list is fetched again while the run is live, for a short while after it ends,
// and while a delivery is still being retried.
import { useEffect, useRef } from 'react';
import { api } from '../api/client';
import type { NotificationAttempt } from '../api/types';
import { time } from '../lib/format';
import { useApi } from '../lib/hooks';
import { isLive } from '../lib/live';

/** Still going: the last attempt of some delivery said it will try again. */
export function retrying(list: NotificationAttempt[]): boolean {
  const last = new Map<string, string>();
  for (const n of list) last.set(n.delivery, n.outcome);
  return [...last.values()].includes('retrying');
}

export function RunNotifications({ id, status }: { id: string; status?: string }) {
  const endedAt = useRef(0);
  const live = isLive(status);
  useEffect(() => {
    if (!live && status) endedAt.current = Date.now();
  }, [live, status]);
  const list = useApi(
    () => api.runNotifications(id),
    [id, status],
    (d) => {
      if (live || (d && retrying(d))) return 3000;
      return endedAt.current > 0 && Date.now() - endedAt.current < 15000 ? 2000 : null;
    },
  );
  const rows = list.data ?? [];
  if (rows.length === 0) return null;
  const delivered = rows.filter((n) => n.outcome === 'delivered').length;
  const deliveries = new Set(rows.map((n) => n.delivery)).size;
  return (
    <details className="run-notifications small" data-testid="run-notifications">
      <summary>
        notifications: {delivered} of {deliveries} delivered{retrying(rows) ? ' · retrying' : ''}
      </summary>
      <table>
        <thead>
          <tr>
            <th>time</th>
            <th>event</th>
            <th>attempt</th>
            <th>outcome</th>
            <th>HTTP</th>
            <th>URL</th>
            <th>error</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((n, i) => (
            <tr key={i} className={`notify-${n.outcome}`}>
              <td>{time(n.ts)}</td>
              <td>{n.event}</td>
              <td>
                {n.attempt}/{n.attempts}
              </td>
              <td>{n.outcome}</td>
              <td>{n.http_status || '–'}</td>
              <td className="mono">{n.url}</td>
              <td>{n.error}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
