import { describe, expect, it } from 'vitest';
import { href, parseHash, readyPage, type Route } from './router';

describe('parseHash', () => {
  it('defaults to the runs list', () => {
    expect(parseHash('')).toEqual({ page: 'runs' });
    expect(parseHash('#/')).toEqual({ page: 'runs' });
    expect(parseHash('#/runs')).toEqual({ page: 'runs' });
  });
  it('reads run pages', () => {
    expect(parseHash('#/runs/20261202-030937-e155')).toEqual({ page: 'graph', id: '20261202-030937-e155' });
    expect(parseHash('#/runs/r1/nodes/feature_copy')).toEqual({ page: 'node', id: 'r1', node: 'feature_copy' });
    expect(parseHash('#/runs/r1/timeline')).toEqual({ page: 'timeline', id: 'r1' });
    expect(parseHash('#/runs/r1/debug')).toEqual({ page: 'debug', id: 'r1' });
    expect(parseHash('#/runs/r1/cost')).toEqual({ page: 'run-cost', id: 'r1' });
    expect(parseHash('#/runs/r1/artifacts')).toEqual({ page: 'artifacts', id: 'r1' });
    expect(parseHash('#/runs/r1/artifacts/launch%2Fannouncement.md')).toEqual({ page: 'artifacts', id: 'r1', artifact: 'launch/announcement.md' });
    expect(parseHash('#/replay/r1')).toEqual({ page: 'replay', id: 'r1' });
    expect(parseHash('#/runs/r1/replay')).toEqual({ page: 'replay', id: 'r1' });
  });
  it('reads queries and encoded segments', () => {
    expect(parseHash('#/diff?a=x&b=y')).toEqual({ page: 'diff', a: 'x', b: 'y' });
    expect(parseHash('#/diff')).toEqual({ page: 'diff' });
    expect(parseHash('#/cost?since=30d')).toEqual({ page: 'cost', since: '30d' });
    expect(parseHash('#/workflow?path=%2Fw%2Fflow.yaml')).toEqual({ page: 'workflow', path: '/w/flow.yaml' });
    expect(parseHash('#/lineage/launch/announcement.md?run=r1')).toEqual({ page: 'lineage', name: 'launch/announcement.md', run: 'r1' });
    expect(parseHash('#/lineage/a%2Fb')).toEqual({ page: 'lineage', name: 'a/b' });
    expect(parseHash('#/runs/r1/nodes/bad%ZZ')).toEqual({ page: 'node', id: 'r1', node: 'bad%ZZ' });
  });
  it('reads sessions', () => {
    expect(parseHash('#/sessions')).toEqual({ page: 'sessions' });
    expect(parseHash('#/sessions/develop-20261206-1')).toEqual({ page: 'session', session: 'develop-20261206-1' });
    expect(parseHash('#/sessions/x/y')).toEqual({ page: 'not-found', path: '/sessions/x/y' });
  });
  it('reads the eval pages (as the API: /evals, /evals/compare, /evals/RUN)', () => {
    expect(parseHash('#/evals')).toEqual({ page: 'evals' });
    expect(parseHash('#/evals/eval-20261207-1')).toEqual({ page: 'eval-report', run: 'eval-20261207-1' });
    expect(parseHash('#/evals/compare?a=x&b=y')).toEqual({ page: 'eval-compare', a: 'x', b: 'y' });
    expect(parseHash('#/evals/compare')).toEqual({ page: 'eval-compare' });
    expect(parseHash('#/evals/r1/extra')).toEqual({ page: 'not-found', path: '/evals/r1/extra' });
    for (const r of [{ page: 'evals' }, { page: 'eval-report', run: 'a b/c' }, { page: 'eval-compare', a: 'x y', b: 'z' }, { page: 'eval-compare' }] as Route[]) {
      expect(parseHash(href(r))).toEqual(r);
    }
  });
  it('flags unknown paths', () => {
    expect(parseHash('#/nope')).toEqual({ page: 'not-found', path: '/nope' });
    expect(parseHash('#/runs/r1/bogus')).toEqual({ page: 'not-found', path: '/runs/r1/bogus' });
  });
});

describe('href', () => {
  it('round-trips through parseHash', () => {
    const routes: Route[] = [
      { page: 'runs' },
      { page: 'sessions' },
      { page: 'debug', id: 'r/1' },
      { page: 'spec', session: 's', tab: 'trace', id: 'REQ-01-001' },
      { page: 'file', session: 's', path: 'src/a b.c', line: '7' },
      { page: 'session', session: 'modify-1 x' },
      { page: 'graph', id: 'r 1' },
      { page: 'node', id: 'r1', node: 'a/b' },
      { page: 'timeline', id: 'r1' },
      { page: 'run-cost', id: 'r1' },
      { page: 'artifacts', id: 'r1', artifact: 'x@1' },
      { page: 'replay', id: 'r1' },
      { page: 'cost', since: '24h' },
      { page: 'lineage', name: 'launch/announcement.md', run: 'r1' },
      { page: 'approvals' },
      { page: 'diff', a: 'x', b: 'y' },
      { page: 'workflows' },
      { page: 'workflow', path: '/tmp/a b.yaml' },
    ];
    for (const r of routes) expect(parseHash(href(r))).toEqual(r);
  });
  it('names the ready page', () => {
    expect(readyPage({ page: 'run-cost', id: 'x' })).toBe('cost');
    expect(readyPage({ page: 'graph', id: 'x' })).toBe('graph');
  });
});
