// A session's project, as `specwright spec` sees it: the spec documents rendered with their IDs
// as links, the traceability matrix (filterable, with coverage), `spec check`'s findings linked
// to file:line, the trace of one ID up to the requirements and down to code and tests, and the
// impact of IDs or of a pending change, highlighted in the matrix.
import { useEffect, useMemo, useRef, useState } from 'react';
import { api } from '../api/client';
import type { SpecView } from '../api/types';
import { ErrorBanner } from '../components/ErrorBanner';
import { StatusBadge } from '../components/StatusBadge';
import { useApi, useReady } from '../lib/hooks';
import { href, navigate } from '../lib/router';

type Props = { session: string; tab?: string; doc?: string; id?: string }; // id: for impact, IDs joined by commas

/** Doc renders cmark's (safe) HTML, then makes every known ID a link to its trace and gives
 *  each item heading its ID as anchor. */
function Doc({ html, ids, session, focus }: { html: string; ids: string[]; session: string; focus?: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const root = ref.current;
    if (!root) return;
    root.innerHTML = html;
    if (ids.length === 0) return;
    const known = new Set(ids);
    // One generic ID shape, each match looked up in the set: linear in the text, whatever the
    // number of IDs (an alternation of thousands of IDs is not).
    const re = /(?<![A-Za-z0-9_-])([A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)+)(?![A-Za-z0-9_-])/g;
    for (const h of root.querySelectorAll('h1,h2,h3,h4,h5,h6')) {
      const first = (h.textContent ?? '').trim().split(/\s+/)[0] ?? '';
      if (known.has(first)) {
        h.id = `item-${first}`;
        h.setAttribute('data-item', first);
      }
    }
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const texts: Text[] = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode()) if (!(n.parentElement?.closest('a'))) texts.push(n as Text);
    for (const t of texts) {
      const v = t.nodeValue ?? '';
      re.lastIndex = 0;
      const frag = document.createDocumentFragment();
      let at = 0;
      let linked = false;
      for (let m = re.exec(v); m; m = re.exec(v)) {
        if (!known.has(m[1]!)) continue;
        linked = true;
        frag.append(v.slice(at, m.index));
        const a = document.createElement('a');
        a.href = href({ page: 'spec', session, tab: 'trace', id: m[1] });
        a.textContent = m[1]!;
        a.className = 'id-link';
        a.setAttribute('data-testid', 'id-link');
        frag.append(a);
        at = m.index + m[1]!.length;
      }
      if (!linked) continue;
      frag.append(v.slice(at));
      t.replaceWith(frag);
    }
    if (focus) root.querySelector(`#item-${CSS.escape(focus)}`)?.scrollIntoView({ block: 'start' });
  }, [html, ids, session, focus]);
  return <div ref={ref} className="markdown" data-testid="spec-doc" />;
}

function Where({ session, file, line }: { session: string; file: string; line: number }) {
  return (
    <a className="mono" href={href({ page: 'file', session, path: file, line: String(line) })} data-testid="file-link">
      {file}:{line}
    </a>
  );
}

function Matrix({ view, session, highlight }: { view: SpecView; session: string; highlight?: ReadonlySet<string> }) {
  const [q, setQ] = useState('');
  const [onlyHit, setOnlyHit] = useState(highlight !== undefined);
  const m = view.matrix;
  const query = q.trim().toLowerCase();
  // The filter looks at what a row shows (its ID, title and cells), not at the field names.
  const cells = (r: (typeof m.rows)[number]) => m.columns.flatMap((c) => (Array.isArray(r[c]) ? (r[c] as string[]) : []));
  const itemIds = useMemo(() => new Set(view.items.map((i) => i.id)), [view.items]);
  // A row is reached when its requirement or one of its items is (a file it shares is not enough).
  const hitRow = (r: (typeof m.rows)[number]) =>
    !!highlight && (highlight.has(r.id) || cells(r).some((v) => itemIds.has(v.split(' ')[0] ?? '') && highlight.has(v.split(' ')[0] ?? '')));
  const rows = useMemo(
    () =>
      m.rows.filter(
        (r) => (!query || [r.id, r.title, ...cells(r)].some((v) => v.toLowerCase().includes(query))) && (!onlyHit || hitRow(r)),
      ),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [m.rows, m.columns, query, onlyHit, highlight],
  );
  const ids = itemIds;
  const cell = (v: string, column: string) => {
    // A test case that did not pass is written "TC-06-004 (failed)" or "(not run)".
    const res = /^(\S+) \((.+)\)$/.exec(v);
    const id = res ? res[1]! : v;
    if (ids.has(id) || column === 'passing')
      return (
        <>
          <a href={href({ page: 'spec', session, tab: 'trace', id })} className={highlight?.has(id) ? 'impacted' : undefined}>
            {id}
          </a>
          {res && <StatusBadge status={res[2] === 'failed' ? 'failed' : 'skipped'} />}
        </>
      );
    return (
      <a className={highlight?.has(v) ? 'mono small impacted' : 'mono small'} href={href({ page: 'file', session, path: v })}>
        {v}
      </a>
    );
  };
  return (
    <div>
      <div className="toolbar">
        <input type="search" placeholder="Filter requirements, items, files" value={q} onChange={(e) => setQ(e.target.value)} data-testid="matrix-filter" aria-label="filter the matrix" />
        <span className="muted">
          {rows.length} of {m.rows.length} requirements
        </span>
        {highlight && (
          <label className="check">
            <input type="checkbox" checked={onlyHit} onChange={(e) => setOnlyHit(e.target.checked)} data-testid="only-impacted" /> only the impacted
          </label>
        )}
      </div>
      <table className="table matrix" data-testid="matrix">
        <thead>
          <tr>
            <th>requirement</th>
            {m.columns.map((c) => (
              <th key={c}>{c}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id} data-testid="matrix-row" data-id={r.id} className={hitRow(r) ? 'impacted-row' : undefined}>
              <td>
                <a href={href({ page: 'spec', session, tab: 'trace', id: r.id })} className={highlight?.has(r.id) ? 'impacted' : undefined}>
                  {r.id}
                </a>{' '}
                {r.title}
              </td>
              {m.columns.map((c) => {
                const v = r[c];
                const list = Array.isArray(v) ? v : [];
                return (
                  <td key={c} className={list.length === 0 ? 'st-text-failed' : ''}>
                    {list.length === 0 ? '—' : list.map((x, i) => <div key={i}>{cell(x, c)}</div>)}
                  </td>
                );
              })}
            </tr>
          ))}
          <tr className="coverage" data-testid="coverage">
            <td>
              <strong>coverage</strong>
            </td>
            {m.columns.map((c) => (
              <td key={c} data-column={c}>
                <strong>{(m.coverage[c] ?? 0).toFixed(1)}%</strong>
              </td>
            ))}
          </tr>
        </tbody>
      </table>
    </div>
  );
}

/** Impact is what a change to ids would regenerate: the items below them and the lines citing
 *  them (what `specwright modify` plans from). */
function Impact({ session, ids }: { session: string; ids: string[] }) {
  const i = useApi(() => api.specImpact(session, ids), [session, ids.join(',')]);
  const d = i.data;
  return (
    <section className="card" data-testid="impact">
      <h4>If {ids.join(', ')} change{ids.length === 1 ? 's' : ''}</h4>
      <ErrorBanner error={i.error} onRetry={i.reload} />
      {d && (
        <>
          {d.unknown.length > 0 && <p className="error-text">Not items of this project: {d.unknown.join(', ')}</p>}
          <p>
            {d.items.length} items to look at:{' '}
            {d.items.map((x) => (
              <a key={x} className="tag mono" href={href({ page: 'spec', session, tab: 'trace', id: x })} data-testid="impact-item">
                {x}
              </a>
            ))}
          </p>
          <p className="small">
            code:{' '}
            {d.code.map((c) => (
              <a key={c.file} className="tag mono" href={href({ page: 'file', session, path: c.file, line: String(c.lines[0] ?? 1) })}>
                {c.file} ({c.lines.length})
              </a>
            ))}
            {' '}tests:{' '}
            {d.tests.map((c) => (
              <a key={c.file} className="tag mono" href={href({ page: 'file', session, path: c.file, line: String(c.lines[0] ?? 1) })}>
                {c.file} ({c.lines.length})
              </a>
            ))}
          </p>
        </>
      )}
    </section>
  );
}

/** splitIds reads IDs typed or carried in the route: commas or spaces between them. */
export function splitIds(s: string | undefined): string[] {
  return [...new Set((s ?? '').split(/[\s,]+/).map((x) => x.trim()).filter(Boolean))];
}

/** PendingChanges: the project's changes not finished yet (a modify waiting at its plan or a
 *  gate, stopped, or running), each with the IDs it targets and a link to their impact. */
function PendingChanges({ session, project }: { session: string; project: string }) {
  const pending = useApi(async () => {
    const all = await api.sessions();
    // Whether a change is finished is the project's word (its state file), not its last run's
    // status: a modify paused between steps ran its last run to success. The newest 20.
    const mine = all.filter((x) => x.project === project && x.kind === 'modify').slice(0, 20);
    const details = await Promise.all(mine.map((x) => api.session(x.session)));
    return details.filter((d) => d.finished === false);
  }, [project]);
  if (pending.error) return <ErrorBanner error={pending.error} onRetry={pending.reload} />;
  if (!pending.data) return null;
  if (pending.data.length === 0) return <p className="muted" data-testid="no-pending">No change of this project is pending.</p>;
  return (
    <ul className="pending-changes" data-testid="pending-changes">
      {pending.data.map((d) => {
        const targets = d.change?.targets?.length ? d.change.targets : (d.change?.changed ?? []);
        return (
          <li key={d.session} data-testid="pending-change" data-session={d.session}>
            <StatusBadge status={d.status} /> “{d.change?.request ?? '?'}” <span className="muted">route {d.change?.category ?? '?'}</span>{' '}
            <a className="mono small" href={href({ page: 'session', session: d.session })}>
              {d.session}
            </a>{' '}
            {targets.length > 0 ? (
              <a href={href({ page: 'spec', session, tab: 'impact', id: targets.join(',') })} data-testid="pending-impact">
                impact of {targets.join(', ')}
              </a>
            ) : (
              <span className="muted">no items targeted yet</span>
            )}
          </li>
        );
      })}
    </ul>
  );
}

/** ImpactTab: the impact of IDs typed or of a pending change, highlighted in the matrix. */
function ImpactTab({ view, session, ids }: { view: SpecView; session: string; ids: string[] }) {
  const [typed, setTyped] = useState(ids.join(', ')); // (the tab is made anew for other IDs: see its key)
  const impact = useApi(() => (ids.length ? api.specImpact(session, ids) : Promise.resolve(null)), [session, ids.join(',')]);
  const hit = useMemo(() => {
    const d = impact.data;
    return new Set([...(d?.changed ?? []), ...(d?.items ?? []), ...(d?.code ?? []).map((c) => c.file), ...(d?.tests ?? []).map((c) => c.file)]);
  }, [impact.data]);
  useReady('impact', ids.length === 0 || impact.data !== undefined || impact.error !== null);
  return (
    <div data-testid="impact-tab">
      <section className="card">
        <h4>Pending changes</h4>
        <PendingChanges session={session} project={view.project} />
        <h4>Or name the items</h4>
        <form
          className="toolbar"
          onSubmit={(e) => {
            e.preventDefault();
            navigate(href({ page: 'spec', session, tab: 'impact', id: splitIds(typed).join(',') }));
          }}
        >
          <input type="text" className="mono" value={typed} placeholder="REQ-01-001, BR-01-002" onChange={(e) => setTyped(e.target.value)} data-testid="impact-ids" aria-label="IDs to change" />
          <button type="submit" data-testid="impact-show">
            Show impact
          </button>
        </form>
      </section>
      {ids.length > 0 && <Impact session={session} ids={ids} />}
      {ids.length > 0 && impact.data && <Matrix view={view} session={session} highlight={hit} />}
    </div>
  );
}

function Trace({ session, id }: { session: string; id: string }) {
  const t = useApi(() => api.specTrace(session, id), [session, id]);
  useReady('trace', t.data !== undefined || t.error !== null);
  const d = t.data;
  const result = (x: string) => (d?.results[x] ? <StatusBadge status={d.results[x] === 'not run' ? 'skipped' : d.results[x] === 'passed' ? 'succeeded' : 'failed'} /> : null);
  const item = (x: { id: string; title?: string; file?: string; line?: number }) => (
    <li key={x.id} data-testid="trace-item" data-id={x.id}>
      <a href={href({ page: 'spec', session, tab: 'trace', id: x.id })}>{x.id}</a> {x.title} {x.file && <Where session={session} file={x.file} line={x.line ?? 1} />} {result(x.id)}
    </li>
  );
  return (
    <div data-testid="trace">
      <ErrorBanner error={t.error} onRetry={t.reload} />
      {d && (
        <>
          <h3>
            {d.id} {d.title} {d.file && <Where session={session} file={d.file} line={d.line ?? 1} />} {result(d.id)}
          </h3>
          <div className="split">
            <section className="card">
              <h4>Up: what it derives from</h4>
              {d.up.length === 0 ? <p className="muted">nothing (a requirement)</p> : <ul data-testid="trace-up">{d.up.map(item)}</ul>}
              <h4>Down: what derives from it</h4>
              {d.down.length === 0 ? <p className="muted">nothing</p> : <ul data-testid="trace-down">{d.down.map(item)}</ul>}
            </section>
            <section className="card">
              <h4>Code citing it or anything below it ({d.code.length})</h4>
              <ul data-testid="trace-code">
                {d.code.map((c, i) => (
                  <li key={i}>
                    <Where session={session} file={c.file} line={c.line} /> <span className="muted small">{c.id}</span>
                  </li>
                ))}
              </ul>
              <h4>Tests ({d.tests.length})</h4>
              <ul data-testid="trace-tests">
                {d.tests.map((c, i) => (
                  <li key={i}>
                    <Where session={session} file={c.file} line={c.line} /> <span className="muted small">{c.id}</span> {result(c.id)}
                  </li>
                ))}
              </ul>
              {!d.has_results && <p className="muted">No recorded test run yet (QA writes test-results.json).</p>}
            </section>
          </div>
          <Impact session={session} ids={[id]} />
        </>
      )}
    </div>
  );
}

export function SpecPage({ session, tab = 'docs', doc, id }: Props) {
  const v = useApi(() => api.spec(session), [session]);
  const view = v.data;
  const ids = useMemo(() => (view ? view.items.map((i) => i.id) : []), [view]);
  // An ID asked for in the documents opens the document that defines it.
  const defining = id ? view?.items.find((i) => i.id === id)?.file : undefined;
  const current = view?.docs.find((d) => d.path === (doc ?? defining)) ?? view?.docs[0];
  // The trace tab is ready when its trace is; without an ID it has nothing to wait for.
  useReady('spec', (tab !== 'trace' || !id) && (view !== undefined || v.error !== null));
  const impactIds = useMemo(() => (tab === 'impact' ? splitIds(id) : []), [tab, id]);
  const tabs = [
    { key: 'docs', label: 'Documents' },
    { key: 'matrix', label: 'Matrix' },
    { key: 'check', label: view ? `Check (${view.errors} errors, ${view.warnings} warnings)` : 'Check' },
    { key: 'impact', label: 'Impact' },
  ];
  return (
    <div className="page">
      <div className="toolbar">
        <h2>Specs and traceability</h2>
        <a href={href({ page: 'session', session })} className="mono">
          {session}
        </a>
        {view && <span className="muted mono small">{view.project}</span>}
      </div>
      <nav className="tabs" aria-label="spec views">
        {tabs.map((t) => (
          <a key={t.key} href={href({ page: 'spec', session, tab: t.key })} className={tab === t.key ? 'active' : ''} data-testid={`tab-${t.key}`}>
            {t.label}
          </a>
        ))}
        {tab === 'trace' && id && <span className="active">Trace {id}</span>}
      </nav>
      <ErrorBanner error={v.error} onRetry={v.reload} />
      {tab === 'trace' && id && <Trace session={session} id={id} />}
      {tab === 'trace' && !id && <p className="empty">Choose an ID to trace: every ID in the documents and the matrix is a link.</p>}
      {view && tab === 'docs' && current && (
        <div className="spec-docs">
          <nav className="spec-doc-list" aria-label="documents">
            {view.docs.map((d) => (
              <a key={d.path} href={href({ page: 'spec', session, tab: 'docs', doc: d.path })} className={d === current ? 'active' : ''} data-testid="doc-link">
                {d.path.replace(/^specs\//, '')}
                <span className="muted small"> {d.items.length}</span>
              </a>
            ))}
          </nav>
          <Doc html={current.html} ids={ids} session={session} focus={id} />
        </div>
      )}
      {view && tab === 'matrix' && <Matrix view={view} session={session} />}
      {view && tab === 'impact' && <ImpactTab key={impactIds.join(',')} view={view} session={session} ids={impactIds} />}
      {view && tab === 'check' && (
        <>
          {view.findings.length === 0 ? (
            <p className="empty" data-testid="check-clean">
              0 errors, 0 warnings: {view.items.length} items, every one traced.
            </p>
          ) : (
            <table className="table" data-testid="findings">
              <tbody>
                {view.findings.map((f, i) => (
                  <tr key={i} data-testid="finding" data-rule={f.rule}>
                    <td>
                      <span className={`badge ${f.severity === 'error' ? 'st-failed' : 'st-waiting'}`}>{f.severity}</span>
                    </td>
                    <td className="mono small">{f.rule}</td>
                    <td>{f.file && <Where session={session} file={f.file} line={f.line} />}</td>
                    <td>{f.id && <a href={href({ page: 'spec', session, tab: 'trace', id: f.id })}>{f.id}</a>}</td>
                    <td>{f.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </div>
  );
}
