// The app shell: header nav (with the waiting-approvals badge), theme toggle, and the routes.
import { lazy, Suspense, useCallback, useEffect, useState } from 'react';
import { api } from './api/client';
import { useApi } from './lib/hooks';
import { href, useRoute, type Route } from './lib/router';
import { applyTheme, initialTheme, ThemeContext, type Theme } from './lib/theme';
import { ApprovalsPage } from './pages/ApprovalsPage';
import { DiffPage } from './pages/DiffPage';
import { LineagePage } from './pages/LineagePage';
import { RunLayout } from './pages/RunLayout';
import { RunsPage } from './pages/RunsPage';
import { SessionPage } from './pages/SessionPage';
import { SessionsPage } from './pages/SessionsPage';
import { FilePage } from './pages/FilePage';
import { SpecPage } from './pages/SpecPage';
import { ProvidersPage } from './pages/ProvidersPage';
import { WorkflowsPage } from './pages/WorkflowsPage';
import { EvalComparePage } from './pages/EvalComparePage';
import { EvalReportPage } from './pages/EvalReportPage';
import { EvalsPage } from './pages/EvalsPage';

// The charts (recharts) load only with the cost pages.
// The editor (CodeMirror) loads only with the workflow page.
const WorkflowPage = lazy(() => import('./pages/WorkflowPage').then((m) => ({ default: m.WorkflowPage })));
const CostPage = lazy(() => import('./pages/CostPage').then((m) => ({ default: m.CostPage })));

const NAV = [
  { label: 'Runs', route: { page: 'runs' }, section: ['runs', 'graph', 'node', 'timeline', 'debug', 'run-cost', 'artifacts', 'replay', 'lineage'] },
  { label: 'Sessions', route: { page: 'sessions' }, section: ['sessions', 'session', 'spec', 'file'] },
  { label: 'Approvals', route: { page: 'approvals' }, section: ['approvals'] },
  { label: 'Cost', route: { page: 'cost' }, section: ['cost'] },
  { label: 'Workflows', route: { page: 'workflows' }, section: ['workflows', 'workflow'] },
  { label: 'Evals', route: { page: 'evals' }, section: ['evals', 'eval-report', 'eval-compare'] },
  { label: 'Providers', route: { page: 'providers' }, section: ['providers'] },
  { label: 'Diff', route: { page: 'diff' }, section: ['diff'] },
] satisfies { label: string; route: Route; section: string[] }[];

const resetReady = () => {
  delete document.documentElement.dataset.ready;
};

function Page({ route, onApprovalsChanged }: { route: Route; onApprovalsChanged: () => void }) {
  switch (route.page) {
    case 'runs':
      return <RunsPage />;
    case 'sessions':
      return <SessionsPage />;
    case 'providers':
      return <ProvidersPage />;
    case 'session':
      return <SessionPage key={route.session} session={route.session} />;
    case 'spec':
      return <SpecPage key={route.session} session={route.session} tab={route.tab} doc={route.doc} id={route.id} />;
    case 'file':
      return <FilePage key={`${route.session}/${route.path}`} session={route.session} path={route.path} line={route.line} />;
    case 'graph':
    case 'node':
    case 'timeline':
    case 'debug':
    case 'run-cost':
    case 'artifacts':
    case 'replay':
      return <RunLayout key={route.id} route={route} />;
    case 'cost':
      return <CostPage key={route.since ?? ''} since={route.since} />;
    case 'lineage':
      return <LineagePage key={`${route.name}/${route.run ?? ''}`} name={route.name} run={route.run} />;
    case 'approvals':
      return <ApprovalsPage onChange={onApprovalsChanged} />;
    case 'diff':
      return <DiffPage key={`${route.a ?? ''}/${route.b ?? ''}`} a={route.a} b={route.b} />;
    case 'workflows':
      return <WorkflowsPage />;
    case 'workflow':
      return <WorkflowPage key={route.path} path={route.path} />;
    case 'evals':
      return <EvalsPage />;
    case 'eval-report':
      return <EvalReportPage key={route.run} run={route.run} />;
    case 'eval-compare':
      return <EvalComparePage key={`${route.a ?? ''}/${route.b ?? ''}`} a={route.a} b={route.b} />;
    case 'not-found':
      return (
        <div className="page">
          <p className="empty">
            No page at <code>#{route.path}</code>. <a href="#/runs">Runs</a>
          </p>
        </div>
      );
  }
}

export function App() {
  const [theme, setTheme] = useState<Theme>(initialTheme);
  const route = useRoute(resetReady);
  const approvals = useApi(() => api.approvals(), [], () => 5000);
  const waiting = approvals.data?.length ?? 0;
  useEffect(() => applyTheme(theme), [theme]);
  const toggle = useCallback(() => {
    const next = theme === 'dark' ? 'light' : 'dark';
    applyTheme(next, true);
    setTheme(next);
  }, [theme]);

  return (
    <ThemeContext.Provider value={theme}>
      <header className="topbar">
        <a className="brand" href="#/runs">
          Specwright
        </a>
        <nav aria-label="main">
          {NAV.map((n) => {
            const active = n.section.includes(route.page);
            return (
              <a key={n.label} href={href(n.route)} className={active ? 'active' : ''} aria-current={active ? 'page' : undefined}>
                {n.label}
                {n.label === 'Approvals' && waiting > 0 && (
                  <span className="nav-badge" data-testid="approvals-badge" title={`${waiting} gate(s) waiting`}>
                    {waiting}
                  </span>
                )}
              </a>
            );
          })}
        </nav>
        <button type="button" className="theme-toggle" onClick={toggle} data-testid="theme-toggle" aria-label={`switch to ${theme === 'dark' ? 'light' : 'dark'} theme`} title="toggle theme">
          {theme === 'dark' ? '☀' : '☾'}
        </button>
      </header>
      <main>
        <Suspense fallback={<p className="muted">loading…</p>}>
          <Page route={route} onApprovalsChanged={approvals.reload} />
        </Suspense>
      </main>
    </ThemeContext.Provider>
  );
}
