// Small React hooks: loading API data (with polling), the ready signal, a ticking clock, sizes.
import { useCallback, useEffect, useRef, useState, type DependencyList, type RefObject } from 'react';

export interface Loaded<T> {
  data: T | undefined;
  error: Error | null;
  loading: boolean;
  reload: () => void;
}

/** A poll policy: milliseconds until the next load, or null to stop. */
export type Poll<T> = (data: T | undefined, error: Error | null) => number | null | undefined;

/**
 * useApi runs `load` when deps change (keeping the previous data meanwhile) and again after
 * `poll` milliseconds; a failed refresh keeps the last data and reports the error.
 */
export function useApi<T>(load: () => Promise<T>, deps: DependencyList, poll?: Poll<T>): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: Error | null; loading: boolean }>({
    data: undefined,
    error: null,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const pollRef = useRef(poll);
  const dataRef = useRef<T | undefined>(undefined);
  useEffect(() => {
    pollRef.current = poll;
  });
  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const schedule = (error: Error | null) => {
      const wait = pollRef.current?.(dataRef.current, error);
      if (alive && wait) timer = setTimeout(run, wait);
    };
    const run = () => {
      load().then(
        (data) => {
          if (!alive) return;
          dataRef.current = data;
          setState({ data, error: null, loading: false });
          schedule(null);
        },
        (e: unknown) => {
          if (!alive) return;
          const error = e instanceof Error ? e : new Error(String(e));
          setState((s) => ({ data: s.data, error, loading: false }));
          schedule(error);
        },
      );
    };
    run();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [...deps, tick]); // the caller's deps say when `load` changes
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/**
 * useReady sets <html data-ready=name> once `ready` (the browser tests wait on it). The app
 * clears it on every hash change; the hash is a dependency so a page that stays mounted sets it again.
 */
export function useReady(name: string, ready: boolean): void {
  const hash = typeof location === 'undefined' ? '' : location.hash;
  useEffect(() => {
    if (!ready) return;
    const el = document.documentElement;
    el.dataset.ready = name;
    return () => {
      if (el.dataset.ready === name) delete el.dataset.ready;
    };
  }, [name, ready, hash]);
}

/** useNow is the time in unix seconds, re-rendering every `ms` while enabled. */
export function useNow(ms: number, enabled = true): number {
  const [now, setNow] = useState(() => Date.now() / 1000);
  useEffect(() => {
    if (!enabled) return;
    const t = setInterval(() => setNow(Date.now() / 1000), ms);
    return () => clearInterval(t);
  }, [ms, enabled]);
  return now;
}

/** useWidth is an element's content width (0 until measured). */
export function useWidth(ref: RefObject<HTMLElement | null>): number {
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    setWidth(el.clientWidth);
    const ro = new ResizeObserver(([entry]) => entry && setWidth(Math.floor(entry.contentRect.width)));
    ro.observe(el);
    return () => ro.disconnect();
  }, [ref]);
  return width;
}

/** useThrottled follows `value` but changes at most once per `ms` (the last value wins). */
export function useThrottled<T>(value: T, ms: number): T {
  const [out, setOut] = useState(value);
  const last = useRef(0);
  useEffect(() => {
    const wait = last.current + ms - Date.now();
    if (wait <= 0) {
      last.current = Date.now();
      setOut(value);
      return;
    }
    const t = setTimeout(() => {
      last.current = Date.now();
      setOut(value);
    }, wait);
    return () => clearTimeout(t);
  }, [value, ms]);
  return out;
}
