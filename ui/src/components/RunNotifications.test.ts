import { describe, expect, it } from 'vitest';
import type { NotificationAttempt } from '../api/types';
import { retrying } from './RunNotifications';

const attempt = (delivery: string, outcome: string, n: number): NotificationAttempt => ({
  ts: n,
  url: 'http://127.0.0.1:9/h',
  event: 'failed',
  delivery,
  outcome,
  error: '',
  attempt: n,
  attempts: 5,
  http_status: outcome === 'delivered' ? 200 : 503,
  duration_ms: 1,
});

describe('retrying', () => {
  it('is true while the last attempt of some delivery will be retried', () => {
    expect(retrying([attempt('a', 'retrying', 1)])).toBe(true);
    expect(retrying([attempt('a', 'retrying', 1), attempt('a', 'delivered', 2)])).toBe(false);
    expect(retrying([attempt('a', 'delivered', 1), attempt('b', 'retrying', 1)])).toBe(true);
    expect(retrying([attempt('a', 'retrying', 1), attempt('a', 'failed', 2)])).toBe(false);
    expect(retrying([])).toBe(false);
  });
});
