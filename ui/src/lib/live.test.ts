import { describe, expect, it } from 'vitest';
import type { Run, StoredEvent } from '../api/types';
import { initialLive, isLive, liveReducer, liveTextsOf, withLiveStatus, type LiveAction } from './live';

let seq = 0;
const ev = (type: string, node: string, extra: Partial<StoredEvent> = {}): LiveAction => ({
  type: 'event',
  event: { seq: ++seq, type, node, iteration: 0, item: -1, attempt: 1, ts: 0, data: {}, ...extra },
});
const fold = (...actions: LiveAction[]) => actions.reduce(liveReducer, initialLive);

describe('liveReducer', () => {
  it('maps node events to statuses', () => {
    const s = fold(ev('node_started', 'a'), ev('node_started', 'b'), ev('node_succeeded', 'a'), ev('node_failed', 'b'), ev('node_skipped', 'c'), ev('node_waiting', 'd'));
    expect(s.status).toEqual({ a: 'succeeded', b: 'failed', c: 'skipped', d: 'waiting' });
    expect(s.version).toBe(6);
    expect(s.seq).toBe(seq);
  });

  it('follows a loop node back to running', () => {
    const s = fold(ev('node_started', 'draft'), ev('node_succeeded', 'draft'), ev('node_started', 'draft', { iteration: 1 }));
    expect(s.status.draft).toBe('running');
  });

  it('ignores run-level and unknown events, and events seen before', () => {
    const first = ev('node_started', 'a');
    const s1 = fold(first, ev('run_started', ''), ev('tool_call', 'a'));
    expect(s1.status).toEqual({ a: 'running' });
    const done = fold(first, ev('node_succeeded', 'a'));
    const again = liveReducer(done, first); // a reconnect resending an old event
    expect(again.status.a).toBe('succeeded');
  });

  it('keeps the latest streamed text per unit and drops it when the node finishes', () => {
    const live = (text: string, item = -1): LiveAction => ({ type: 'live', live: { node: 'a', iteration: 0, item, attempt: 1, text } });
    let s = fold(ev('node_started', 'a'), live('Hel'), live('Hello'), live('x', 0));
    expect(liveTextsOf(s, 'a').map((t) => t.text)).toEqual(['Hello', 'x']);
    s = liveReducer(s, ev('item_succeeded', 'a', { item: 0 }));
    expect(liveTextsOf(s, 'a').map((t) => t.text)).toEqual(['Hello']);
    s = liveReducer(s, ev('node_succeeded', 'a'));
    expect(liveTextsOf(s, 'a')).toEqual([]);
  });

  it('is pure: the input state is not changed', () => {
    const s = fold(ev('node_started', 'a'), { type: 'live', live: { node: 'a', iteration: 0, item: -1, attempt: 1, text: 't' } });
    const snapshot = JSON.stringify(s);
    liveReducer(s, ev('node_succeeded', 'a'));
    liveReducer(s, { type: 'live', live: { node: 'a', iteration: 0, item: -1, attempt: 1, text: 'more' } });
    expect(JSON.stringify(s)).toBe(snapshot);
  });

  it('applies batches, run summaries and ends', () => {
    const run = { id: 'r', status: 'succeeded' } as Run;
    const s = fold({ type: 'batch', actions: [ev('node_started', 'a'), ev('node_succeeded', 'a'), { type: 'run', run }, { type: 'end' }] });
    expect(s.status.a).toBe('succeeded');
    expect(s.run).toBe(run);
    expect(s.ended).toBe(1);
    expect(liveReducer(s, { type: 'reset' })).toBe(initialLive);
  });
});

describe('withLiveStatus', () => {
  it('overlays statuses and keeps unchanged nodes as they were', () => {
    const nodes = [
      { id: 'a', status: 'pending' },
      { id: 'b', status: 'succeeded' },
    ];
    const s = fold(ev('node_started', 'a'), ev('node_succeeded', 'b'));
    const out = withLiveStatus(nodes, (n) => n.id, s);
    expect(out.map((n) => n.status)).toEqual(['running', 'succeeded']);
    expect(out[1]).toBe(nodes[1]);
    expect(nodes[0]!.status).toBe('pending');
  });
});

it('isLive', () => {
  expect(isLive('running') && isLive('waiting')).toBe(true);
  expect(isLive('succeeded') || isLive(undefined)).toBe(false);
});
