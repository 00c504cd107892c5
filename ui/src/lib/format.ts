// Formatting of money, durations, tokens and times, matching the CLI where it has a form.

/** usd formats dollars as the CLI does ($0.0046 below a cent, $1.23 above); tiny amounts keep 2 significant digits. */
export function usd(v: number): string {
  if (!Number.isFinite(v)) return '$?';
  const a = Math.abs(v);
  const sign = v < 0 ? '-' : '';
  if (a === 0) return '$0.00';
  if (a >= 0.01) return `${sign}$${a.toFixed(2)}`;
  if (a >= 0.00005) return `${sign}$${a.toFixed(4)}`;
  // Below what 4 decimals show: enough decimals for 2 significant digits, never "$0.0000".
  const decimals = Math.min(12, Math.ceil(-Math.log10(a)) + 1);
  return `${sign}$${a.toFixed(decimals)}`;
}

/** money is a cost as reported: a null or unknown-priced cost is never shown as $0. */
export function money(v: number | null | undefined, known = true): string {
  if (v === null || v === undefined) return 'unknown';
  if (known) return usd(v);
  return v > 0 ? `${usd(v)} + unknown` : 'unknown';
}

/** duration formats seconds: 850 ms, 4.2 s, 3m 05s, 1h 02m. */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  const m = Math.floor(s / 60);
  if (m < 24 * 60) return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(m / 1440)}d ${String(Math.floor((m % 1440) / 60)).padStart(2, '0')}h`;
}

/** span is the duration between two unix times; an unfinished end (0) counts up to `now`. */
export function span(start: number, end: number, now: number = Date.now() / 1000): string {
  if (!start) return '–';
  return duration((end > 0 ? end : now) - start);
}

/** ms formats milliseconds (latency, TTFT). */
export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v) || v < 0) return '–';
  return v < 1000 ? `${Math.round(v)} ms` : duration(v / 1000);
}

const intFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** int formats a count with thousands separators. */
export function int(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : intFormat.format(v);
}

const pad = (n: number) => String(n).padStart(2, '0');

/** time formats unix seconds as local "YYYY-MM-DD HH:MM:SS" ("–" for 0). */
export function time(unix: number): string {
  if (!unix) return '–';
  const d = new Date(unix * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** ago says how long before `now` a unix time was ("3m 05s ago"). */
export function ago(unix: number, now: number = Date.now() / 1000): string {
  return unix ? `${duration(Math.max(0, now - unix))} ago` : '–';
}

/** prettyJson pretty-prints a JSON value or JSON text; other text comes back as it is. */
export function prettyJson(v: unknown): string {
  if (typeof v === 'string') {
    const t = v.trim();
    if (!t || !'{["'.includes(t[0] ?? '') && !/^(-?\d|true|false|null)/.test(t)) return v;
    try {
      return JSON.stringify(JSON.parse(t), null, 2);
    } catch {
      return v;
    }
  }
  if (v === undefined) return '';
  return JSON.stringify(v, null, 2) ?? String(v);
}

/** isJsonMedia tells whether a media type holds JSON (application/json, +json suffixes). */
export function isJsonMedia(mediaType: string): boolean {
  return /(^|\/|\+)json(\s*;|$)/i.test(mediaType.trim());
}
