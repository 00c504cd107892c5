// A tiny hash router: parseHash turns location.hash into a Route, href turns one back.
import { useEffect, useState } from 'react';

export type Route =
  | { page: 'runs' }
  | { page: 'sessions' }
  | { page: 'providers' }
  | { page: 'session'; session: string }
  | { page: 'spec'; session: string; tab?: string; doc?: string; id?: string }
  | { page: 'file'; session: string; path: string; line?: string }
  | { page: 'graph'; id: string }
  | { page: 'node'; id: string; node: string }
  | { page: 'timeline'; id: string }
  | { page: 'debug'; id: string }
  | { page: 'run-cost'; id: string }
  | { page: 'artifacts'; id: string; artifact?: string }
  | { page: 'replay'; id: string }
  | { page: 'cost'; since?: string }
  | { page: 'lineage'; name: string; run?: string }
  | { page: 'approvals' }
  | { page: 'diff'; a?: string; b?: string }
  | { page: 'workflows' }
  | { page: 'workflow'; path: string }
  | { page: 'evals' }
  | { page: 'eval-report'; run: string }
  | { page: 'eval-compare'; a?: string; b?: string }
  | { page: 'not-found'; path: string };

export type RunRoute = Extract<Route, { id: string }>;

const dec = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // a stray % is taken literally
  }
};

/** parseHash reads "#/runs/ID/nodes/N?x=y"; an empty hash is the runs list. */
export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#/, '');
  const qi = raw.indexOf('?');
  const path = qi < 0 ? raw : raw.slice(0, qi);
  const q = new URLSearchParams(qi < 0 ? '' : raw.slice(qi + 1));
  const opt = (k: string) => q.get(k) || undefined;
  const parts = path.split('/').filter(Boolean);
  const [head, id, sub, ...rest] = parts;
  if (!head || (head === 'runs' && !id)) return { page: 'runs' };
  switch (head) {
    case 'runs': {
      const run = dec(id!);
      if (!sub) return { page: 'graph', id: run };
      if (sub === 'nodes' && rest.length) return { page: 'node', id: run, node: dec(rest.join('/')) };
      if (sub === 'timeline' && !rest.length) return { page: 'timeline', id: run };
      if (sub === 'debug' && !rest.length) return { page: 'debug', id: run };
      if (sub === 'cost' && !rest.length) return { page: 'run-cost', id: run };
      if (sub === 'replay' && !rest.length) return { page: 'replay', id: run };
      if (sub === 'artifacts') {
        const artifact = rest.length ? dec(rest.join('/')) : opt('name');
        return artifact ? { page: 'artifacts', id: run, artifact } : { page: 'artifacts', id: run };
      }
      break;
    }
    case 'replay':
      if (id && !sub) return { page: 'replay', id: dec(id) };
      break;
    case 'cost':
      if (!id) return opt('since') ? { page: 'cost', since: opt('since')! } : { page: 'cost' };
      break;
    case 'lineage':
      // artifact names may hold '/': take the rest of the path whether or not it was encoded
      if (id) return withOpt({ page: 'lineage', name: dec(parts.slice(1).join('/')) }, 'run', opt('run'));
      break;
    case 'approvals':
      if (!id) return { page: 'approvals' };
      break;
    case 'providers':
      if (!id) return { page: 'providers' };
      break;
    case 'sessions':
      if (!id) return { page: 'sessions' };
      if (!sub) return { page: 'session', session: dec(id) };
      if (sub === 'spec' && !rest.length) {
        let r: Route = { page: 'spec', session: dec(id) };
        for (const k of ['tab', 'doc', 'id']) r = withOpt(r, k, opt(k));
        return r;
      }
      if (sub === 'file' && !rest.length && opt('path')) return withOpt({ page: 'file', session: dec(id), path: opt('path')! }, 'line', opt('line'));
      break;
    case 'diff':
      if (!id) return withOpt(withOpt({ page: 'diff' }, 'a', opt('a')), 'b', opt('b'));
      break;
    case 'workflows':
      if (!id) return { page: 'workflows' };
      break;
    case 'evals':
      // as the API: /evals, /evals/compare?a=&b=, /evals/RUN
      if (!id) return { page: 'evals' };
      if (id === 'compare' && !sub) return withOpt(withOpt({ page: 'eval-compare' }, 'a', opt('a')), 'b', opt('b'));
      if (!sub) return { page: 'eval-report', run: dec(id) };
      break;
    case 'workflow':
      if (!id && opt('path')) return { page: 'workflow', path: opt('path')! };
      if (!id) return { page: 'workflows' };
      break;
  }
  return { page: 'not-found', path };
}

function withOpt<R extends object>(r: R, key: string, v: string | undefined): R {
  return v === undefined ? r : { ...r, [key]: v };
}

const enc = encodeURIComponent;

function qs(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** href is the "#/..." link of a route. */
export function href(r: Route): string {
  switch (r.page) {
    case 'runs':
      return '#/runs';
    case 'graph':
      return `#/runs/${enc(r.id)}`;
    case 'node':
      return `#/runs/${enc(r.id)}/nodes/${enc(r.node)}`;
    case 'timeline':
      return `#/runs/${enc(r.id)}/timeline`;
    case 'debug':
      return `#/runs/${enc(r.id)}/debug`;
    case 'run-cost':
      return `#/runs/${enc(r.id)}/cost`;
    case 'artifacts':
      return `#/runs/${enc(r.id)}/artifacts${r.artifact ? `/${enc(r.artifact)}` : ''}`;
    case 'replay':
      return `#/replay/${enc(r.id)}`;
    case 'cost':
      return `#/cost${qs({ since: r.since })}`;
    case 'lineage':
      return `#/lineage/${enc(r.name)}${qs({ run: r.run })}`;
    case 'approvals':
      return '#/approvals';
    case 'providers':
      return '#/providers';
    case 'sessions':
      return '#/sessions';
    case 'session':
      return `#/sessions/${enc(r.session)}`;
    case 'spec':
      return `#/sessions/${enc(r.session)}/spec${qs({ tab: r.tab, doc: r.doc, id: r.id })}`;
    case 'file':
      return `#/sessions/${enc(r.session)}/file${qs({ path: r.path, line: r.line })}`;
    case 'diff':
      return `#/diff${qs({ a: r.a, b: r.b })}`;
    case 'workflows':
      return '#/workflows';
    case 'workflow':
      return `#/workflow${qs({ path: r.path })}`;
    case 'evals':
      return '#/evals';
    case 'eval-report':
      return `#/evals/${enc(r.run)}`;
    case 'eval-compare':
      return `#/evals/compare${qs({ a: r.a, b: r.b })}`;
    case 'not-found':
      return `#${r.path}`;
  }
}

export function navigate(r: Route | string): void {
  location.hash = typeof r === 'string' ? r : href(r);
}

/** readyPage is the data-ready name a route's page sets once its data has rendered. */
export function readyPage(r: Route): string {
  return r.page === 'run-cost' ? 'cost' : r.page;
}

/** useRoute follows location.hash. `onChange` runs before the re-render (to reset page state). */
export function useRoute(onChange?: () => void): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const on = () => {
      onChange?.();
      setRoute(parseHash(location.hash));
    };
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, [onChange]);
  return route;
}
