// useLiveRun follows a running run's SSE stream into the live reducer (batched per 100 ms).
import { useEffect, useReducer, useRef } from 'react';
import { subscribe } from '../api/client';
import type { LiveText, Run, StoredEvent } from '../api/types';
import { initialLive, isLive, liveReducer, type LiveAction, type LiveState } from './live';

function eventOf(d: unknown): StoredEvent {
  const e = d as StoredEvent;
  // The stored data is JSON text in the store; accept it either way.
  if (typeof e.data === 'string') {
    try {
      return { ...e, data: JSON.parse(e.data) as unknown };
    } catch {
      return e;
    }
  }
  return e;
}

/** useLiveRun streams while the fetched status is live; a new fetched status (waiting -> running) reconnects. */
export function useLiveRun(id: string, status: string | undefined): LiveState {
  const [state, dispatch] = useReducer(liveReducer, initialLive);
  const seq = useRef(0);
  seq.current = state.seq;
  const follow = isLive(status);
  useEffect(() => {
    if (!follow) return;
    const queue: LiveAction[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      timer = undefined;
      if (queue.length) dispatch({ type: 'batch', actions: queue.splice(0) });
    };
    // Many events arrive at once (a resumed stream sends the whole history): one render per batch.
    const push = (a: LiveAction) => {
      queue.push(a);
      timer ??= setTimeout(flush, 100);
    };
    const close = subscribe(`/runs/${encodeURIComponent(id)}/events`, { after: seq.current }, {
      event: (d) => push({ type: 'event', event: eventOf(d) }),
      run: (d) => push({ type: 'run', run: d as Run }),
      live: (d) => push({ type: 'live', live: d as LiveText & { node: string } }),
      end: () => {
        push({ type: 'end' });
        clearTimeout(timer);
        flush();
      },
    });
    return () => {
      close();
      clearTimeout(timer);
    };
  }, [id, follow, status]);
  return state;
}
