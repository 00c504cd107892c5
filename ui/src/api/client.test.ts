import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { api, ApiError, eventsUrl, getToken, initToken, request, setToken } from './client';

const calls: { url: string; init: RequestInit }[] = [];
function mockFetch(status: number, body: string, contentType = 'application/json') {
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return new Response(body, { status, headers: { 'Content-Type': contentType } });
  });
}

beforeEach(() => {
  calls.length = 0;
  setToken(null);
});
afterEach(() => vi.unstubAllGlobals());

describe('request', () => {
  it('sends the bearer token when one is known', async () => {
    mockFetch(200, '[]');
    await api.runs();
    expect(new Headers(calls[0]!.init.headers).get('Authorization')).toBeNull();
    setToken('s3cret');
    await api.runs({ status: 'running', q: 'launch' });
    expect(calls[1]!.url).toBe('/api/v1/runs?status=running&q=launch');
    expect(new Headers(calls[1]!.init.headers).get('Authorization')).toBe('Bearer s3cret');
  });

  it("throws the server's {error} message", async () => {
    mockFetch(404, '{"error":"no run 123"}');
    const err = await api.run('123').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).message).toBe('no run 123');
    expect((err as ApiError).status).toBe(404);
  });

  it('falls back to the body text or the status line', async () => {
    mockFetch(500, 'boom', 'text/plain');
    await expect(request('/health')).rejects.toThrow('boom');
    mockFetch(502, '');
    await expect(request('/health')).rejects.toThrow('502');
  });

  it('posts JSON and encodes path parts', async () => {
    mockFetch(200, '{"run_id":"r2","pid":7}');
    const out = await api.replay('r/1', { from: ['a'], models: {}, prompts: {}, inputs: {}, allow_drift: false });
    expect(out.run_id).toBe('r2');
    expect(calls[0]!.url).toBe('/api/v1/runs/r%2F1/replay');
    expect(calls[0]!.init.method).toBe('POST');
    expect(JSON.parse(String(calls[0]!.init.body)).from).toEqual(['a']);
    expect(new Headers(calls[0]!.init.headers).get('Content-Type')).toBe('application/json');
  });
});

describe('token', () => {
  it('comes from ?token= first, then sessionStorage', () => {
    const store = new Map<string, string>();
    vi.stubGlobal('sessionStorage', {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => void store.set(k, v),
    });
    expect(initToken('?token=abc')).toBe('abc');
    setToken(null);
    expect(initToken('')).toBe('abc');
    expect(getToken()).toBe('abc');
  });

  it('goes in the query of event-stream URLs', () => {
    expect(eventsUrl('/runs/r1/events', { after: 0 })).toBe('/api/v1/runs/r1/events?after=0');
    setToken('t k');
    expect(eventsUrl('/runs/r1/events', { after: 3 })).toBe('/api/v1/runs/r1/events?after=3&token=t+k');
  });
});
