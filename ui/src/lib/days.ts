// Spend by day with the quiet days filled in, so a chart shows the whole window.
import type { Bucket } from '../api/types';

const pad = (n: number) => String(n).padStart(2, '0');
/** dayKey is the local date of a unix time, as the server keys by_day ("YYYY-MM-DD"). */
export const dayKey = (unix: number) => {
  const d = new Date(unix * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
};

/** fillDays lists every local day from `since` to `now` (at most `max`), with zero spend where none. */
export function fillDays(byDay: readonly Bucket[], since: number, now: number, max = 400): { day: string; cost: number; calls: number }[] {
  const spend = new Map(byDay.map((b) => [b.key, b]));
  const days = new Set<string>(byDay.map((b) => b.key));
  const d = new Date(Math.max(since, now - max * 86400) * 1000);
  d.setHours(12, 0, 0, 0); // noon: stepping a day never skips one across DST
  const last = dayKey(now);
  for (let i = 0; i <= max; i++) {
    const k = dayKey(d.getTime() / 1000);
    days.add(k);
    if (k >= last) break;
    d.setDate(d.getDate() + 1);
  }
  return [...days].sort().map((day) => ({ day, cost: spend.get(day)?.cost_usd ?? 0, calls: spend.get(day)?.calls ?? 0 }));
}
