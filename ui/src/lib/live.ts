// The live state of a running run, folded from its SSE stream by a pure reducer.
import type { LiveText, NodeStatus, Run, StoredEvent } from '../api/types';

export interface LiveState {
  run: Run | null; // the latest `run` summary
  status: Record<string, NodeStatus>; // node -> status from its last node_* event
  texts: Record<string, Record<string, LiveText>>; // node -> "iteration/item/attempt" -> text so far
  seq: number; // last event applied
  version: number; // bumps whenever a node changes state: views refetch on it
  ended: number; // how many `end`s arrived: views refetch on it
}

export type LiveAction =
  | { type: 'event'; event: StoredEvent }
  | { type: 'run'; run: Run }
  | { type: 'live'; live: LiveText & { node: string } }
  | { type: 'end' }
  | { type: 'batch'; actions: LiveAction[] }
  | { type: 'reset' };

export const initialLive: LiveState = { run: null, status: {}, texts: {}, seq: 0, version: 0, ended: 0 };

/** The node status each node event means. */
export const EVENT_STATUS: Readonly<Record<string, NodeStatus>> = {
  node_started: 'running',
  node_succeeded: 'succeeded',
  node_failed: 'failed',
  node_skipped: 'skipped',
  node_waiting: 'waiting',
};

const FINAL = new Set(['node_succeeded', 'node_failed', 'node_skipped']);
const UNIT_DONE = new Set(['item_succeeded', 'attempt_failed', 'attempt_cancelled']);

export const liveKey = (t: { iteration: number; item: number; attempt: number }) => `${t.iteration}/${t.item}/${t.attempt}`;

/** liveReducer applies one action (or a batch) copying the maps once, not once per event. */
export function liveReducer(state: LiveState, action: LiveAction): LiveState {
  if (action.type === 'reset') return initialLive;
  const draft: LiveState = { ...state, status: { ...state.status }, texts: { ...state.texts } };
  const copied = new Set<string>(); // texts entries already copied in this call
  const textsOf = (node: string) => {
    if (!copied.has(node)) {
      draft.texts[node] = { ...draft.texts[node] };
      copied.add(node);
    }
    return draft.texts[node]!;
  };
  const apply = (a: LiveAction) => {
    switch (a.type) {
      case 'batch':
        a.actions.forEach(apply);
        break;
      case 'run':
        draft.run = a.run;
        break;
      case 'end':
        draft.ended++;
        break;
      case 'live':
        if (a.live.node) textsOf(a.live.node)[liveKey(a.live)] = a.live;
        break;
      case 'event': {
        const e = a.event;
        if (e.seq > 0 && e.seq <= draft.seq) break; // already applied (a reconnect resends)
        if (e.seq > 0) draft.seq = e.seq;
        if (!e.node) break;
        const st = EVENT_STATUS[e.type];
        if (st && draft.status[e.node] !== st) {
          draft.status[e.node] = st;
          draft.version++;
        }
        if (FINAL.has(e.type)) {
          if (draft.texts[e.node]) delete draft.texts[e.node];
        } else if (UNIT_DONE.has(e.type) && draft.texts[e.node]) {
          delete textsOf(e.node)[liveKey(e)];
        }
        break;
      }
      case 'reset': // inside a batch: start over with fresh maps
        Object.assign(draft, initialLive, { status: {}, texts: {} });
        copied.clear();
        break;
    }
  };
  apply(action);
  return draft;
}

/** withLiveStatus overlays the streamed statuses on fetched nodes (same objects when unchanged). */
export function withLiveStatus<N extends { status: NodeStatus }>(nodes: readonly N[], idOf: (n: N) => string, live: LiveState): N[] {
  return nodes.map((n) => {
    const st = live.status[idOf(n)];
    return st && st !== n.status ? { ...n, status: st } : n;
  });
}

/** liveTextsOf lists a node's in-flight texts, oldest unit first. */
export function liveTextsOf(live: LiveState, node: string): LiveText[] {
  const m = live.texts[node];
  if (!m) return [];
  return Object.values(m).sort((a, b) => a.iteration - b.iteration || a.item - b.item || a.attempt - b.attempt);
}

/** isLive says whether a run status still changes (and so has an event stream to follow). */
export const isLive = (status: string | undefined) => status === 'running' || status === 'waiting';
