// One workflow in the editor: its YAML (checked as you type; errors in the gutter and
// underlined), its graph following the text, Save (under --dir only, never over a change made
// on disk since) and Run with a form for its inputs (the run starts as its own process).
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, ApiError } from '../api/client';
import type { WorkflowDoc, WorkflowInput } from '../api/types';
import { CodeEditor, type CodeEditorHandle, type EditorNames } from '../components/CodeEditor';
import { DagView, type DagItem } from '../components/DagView';
import { ErrorBanner } from '../components/ErrorBanner';
import { useApi, useReady } from '../lib/hooks';
import { href, navigate } from '../lib/router';

/** How long the text rests before it is checked again (ms). */
const CHECK_DELAY = 350;

/** nodeAtLine: the node whose definition holds a line (nodes are listed with their first line). */
export function nodeAtLine(nodes: readonly { id: string; line: number }[], line: number): string | undefined {
  let best: { id: string; line: number } | undefined;
  for (const n of nodes) if (n.line > 0 && n.line <= line && (!best || n.line > best.line)) best = n;
  return best?.id;
}

export function WorkflowPage({ path }: { path: string }) {
  const loaded = useApi(() => api.workflow(path), [path]);
  const [text, setText] = useState<string | null>(null);
  const [doc, setDoc] = useState<WorkflowDoc | null>(null); // the latest check
  const [checked, setChecked] = useState<string | null>(null); // the text `doc` is of
  const [disk, setDisk] = useState<{ text: string; version: string; script?: string } | null>(null); // as last read or saved
  const [busy, setBusy] = useState<'' | 'saving'>('');
  const [error, setError] = useState<Error | null>(null);
  const [conflict, setConflict] = useState<'' | 'changed' | 'gone'>('');
  const [checkError, setCheckError] = useState<Error | null>(null);
  const saving = useRef(false);
  const [savedAt, setSavedAt] = useState<number | null>(null);
  const [graphReady, setGraphReady] = useState(false);
  const [cursorLine, setCursorLine] = useState(1);
  const [runOpen, setRunOpen] = useState(false);
  const editor = useRef<CodeEditorHandle>(null);
  const seq = useRef(0);

  useEffect(() => {
    if (!loaded.data || text !== null) return;
    setText(loaded.data.text);
    setDoc(loaded.data);
    setChecked(loaded.data.text);
    setDisk({ text: loaded.data.text, version: loaded.data.version ?? '', script: loaded.data.script });
  }, [loaded.data, text]);

  const check = useCallback(
    (t: string) => {
      const mine = ++seq.current;
      api
        .validate(path, t)
        .then((d) => {
          if (mine !== seq.current) return; // a newer text is being checked (or was saved)
          setDoc(d);
          setChecked(t);
          setCheckError(null);
        })
        .catch((e: unknown) => {
          if (mine !== seq.current) return;
          setCheckError(e instanceof Error ? e : new Error(String(e)));
          setChecked(t); // not checked, but not "checking…" forever: the banner says why
        });
    },
    [path],
  );

  // The text is checked when it rests: the gutter, the error list and the graph follow it.
  useEffect(() => {
    if (text === null || text === checked) return;
    const t = setTimeout(() => check(text), CHECK_DELAY);
    return () => clearTimeout(t);
  }, [text, checked, check]);

  /** save writes the text over the version read (or, recreate, as a new file). One at a time:
   *  Ctrl+S during a save does nothing. */
  const save = useCallback(
    async (recreate = false): Promise<boolean> => {
      if (text === null || !disk || saving.current) return false;
      saving.current = true;
      setBusy('saving');
      setError(null);
      try {
        const d = await api.saveWorkflow(path, text, recreate ? '' : disk.version);
        ++seq.current; // a check of older text still on its way must not replace this one
        setDisk({ text, version: d.version ?? '', script: disk.script });
        setDoc(d);
        setChecked(text);
        setConflict('');
        setSavedAt(Date.now());
        return true;
      } catch (e) {
        setConflict(e instanceof ApiError && e.status === 409 ? 'changed' : e instanceof ApiError && e.status === 410 ? 'gone' : '');
        setError(e instanceof Error ? e : new Error(String(e)));
        return false;
      } finally {
        saving.current = false;
        setBusy('');
      }
    },
    [path, text, disk],
  );

  const reload = useCallback(() => {
    // The file as it is on disk now, replacing the editor's text (the person asked for it).
    api
      .workflow(path)
      .then((d) => {
        editor.current?.replace(d.text);
        setText(d.text);
        setDoc(d);
        setChecked(d.text);
        setDisk({ text: d.text, version: d.version ?? '', script: d.script });
        setConflict('');
        setError(null);
      })
      .catch((e: unknown) => setError(e instanceof Error ? e : new Error(String(e))));
  }, [path]);

  // While the text does not parse (half-typed YAML), the graph keeps the last one it had.
  const [shown, setShown] = useState<WorkflowDoc | null>(null);
  useEffect(() => {
    if (doc && (doc.nodes.length > 0 || doc.ok)) setShown(doc);
  }, [doc]);
  const stale = doc !== null && shown !== null && shown !== doc;
  const items = useMemo(
    () =>
      (shown?.nodes ?? []).map(
        (n): DagItem => ({
          id: n.id,
          needs: n.needs ?? [],
          kind: n.kind,
          model: n.model,
          loopTo: n.loop?.to,
          loopWhile: n.loop?.while,
          when: n.when,
          note: n.map_over ? `map over ${n.map_over}` : undefined,
          title: `${n.id}\n${n.kind}${n.model ? ` · ${n.model}` : ''}\nline ${n.line}`,
        }),
      ),
    [shown],
  );
  const lineOf = useMemo(() => new Map((shown?.nodes ?? []).map((n) => [n.id, n.line])), [shown]);
  const names = useMemo<EditorNames>(() => ({ nodes: (shown?.nodes ?? []).map((n) => n.id), inputs: (shown?.inputs ?? []).map((i) => i.name) }), [shown]);
  const onNodeClick = useCallback((id: string) => editor.current?.jumpTo(lineOf.get(id) ?? 1), [lineOf]);
  const onReady = useCallback(() => setGraphReady(true), []);
  const onSave = useCallback(() => void save(), [save]);
  const own = doc?.path;
  const elsewhere = (e: { file?: string }) => !!own && !!e.file && e.file !== own;
  const onSubmit = useCallback(() => text !== null && check(text), [text, check]);
  useReady('workflow', doc !== null && graphReady);

  const checking = text !== null && text !== checked;
  const dirty = text !== null && disk !== null && text !== disk.text;
  const errors = doc?.errors ?? [];
  const current = nodeAtLine(shown?.nodes ?? [], cursorLine);
  return (
    <div className="page workflow-page">
      <div className="toolbar">
        <h2 className="mono">{path}</h2>
        <span data-testid="workflow-state">
          {checking ? (
            <span className="muted">checking…</span>
          ) : doc?.ok ? (
            <span className="ok-text" data-testid="workflow-ok">
              valid
            </span>
          ) : (
            <span className="error-text">{errors.length} error(s)</span>
          )}
        </span>
        <span className="muted small" data-testid="save-state">
          {dirty ? 'unsaved changes' : savedAt ? 'saved' : ''}
        </span>
        <span className="spacer" />
        <button type="button" onClick={onSave} disabled={busy !== '' || !dirty} data-testid="save" title="Ctrl+S">
          {busy === 'saving' ? 'Saving…' : 'Save'}
        </button>
        <button type="button" onClick={() => setRunOpen((o) => !o)} disabled={text === null} data-testid="run-open" aria-expanded={runOpen}>
          Run…
        </button>
      </div>
      <ErrorBanner error={loaded.error} onRetry={loaded.reload} />
      <ErrorBanner error={checkError} />
      {loaded.data?.kind === 'eval' && (
        <p className="muted" data-testid="workflow-is-eval-suite">
          An eval suite{loaded.data.ok ? ` (${loaded.data.cases ?? 0} cases over ${loaded.data.workflow ?? 'its workflow'})` : ''}, not a workflow: run it with{' '}
          <code>specwright eval {path}</code>; its history is on the <a href={href({ page: 'evals' })}>Evals</a> page.
        </p>
      )}
      {error && (
        <div data-testid="save-error">
          <ErrorBanner error={error} />
          {conflict === 'changed' && (
            <button type="button" onClick={reload} data-testid="reload">
              Reload from disk (discards your edits)
            </button>
          )}
          {conflict === 'gone' && (
            <button type="button" onClick={() => void save(true)} data-testid="recreate">
              Create it again with your text
            </button>
          )}
        </div>
      )}
      {runOpen && doc && (
        <RunForm
          path={path}
          inputs={doc.inputs ?? []}
          script={disk?.script ?? ''}
          dirty={dirty}
          ok={doc.ok && !checking}
          save={save}
          onClose={() => setRunOpen(false)}
        />
      )}
      {text !== null && (
        <div className="workflow-split">
          <div className="workflow-left">
            <CodeEditor ref={editor} value={text} onChange={setText} errors={errors} file={own} names={names} onSubmit={onSubmit} onSave={onSave} onCursor={setCursorLine} />
            {errors.length > 0 && (
              <ul className="error-list">
                {errors.map((e, i) => (
                  <li key={i} data-testid="workflow-error" data-line={e.line} onClick={() => !elsewhere(e) && e.line > 0 && editor.current?.jumpTo(e.line)}>
                    <span className="mono">
                      {elsewhere(e) ? `${e.file}:${e.line}` : e.line > 0 ? `line ${e.line}${e.column > 0 ? `:${e.column}` : ''}` : 'file'}
                    </span>{' '}
                    {e.message}
                  </li>
                ))}
              </ul>
            )}
          </div>
          <div className={stale ? 'workflow-graph stale' : 'workflow-graph'} data-testid="workflow-graph" data-nodes={items.length} data-stale={stale}>
            {stale && <div className="graph-stale muted small">the text does not parse: the graph is the last one that did</div>}
            <DagView items={items} selected={current} onNodeClick={onNodeClick} onReady={onReady} direction="TB" minimap={false} />
          </div>
        </div>
      )}
    </div>
  );
}

/** initialValue: the text a form field starts with for an input (its default, as typed). */
function initialValue(i: WorkflowInput): string {
  if (i.default === undefined || i.default === null) return '';
  if (typeof i.default === 'string') return i.default;
  return JSON.stringify(i.default);
}

/** formValue: what the field's text sends, or an error naming the input. */
export function formValue(i: WorkflowInput, raw: string, checked: boolean): { value?: unknown; error?: string } {
  if (i.type === 'boolean') return { value: checked };
  if (raw.trim() === '') return i.required ? { error: `${i.name} is required` } : {};
  if (i.type === 'number' || i.type === 'integer') {
    const n = Number(raw);
    if (!Number.isFinite(n) || (i.type === 'integer' && !Number.isInteger(n))) return { error: `${i.name} must be ${i.type === 'integer' ? 'an integer' : 'a number'}, got ${JSON.stringify(raw)}` };
    return { value: n };
  }
  if (i.type === 'list' || i.type === 'object') {
    try {
      const v = JSON.parse(raw) as unknown;
      const ok = i.type === 'list' ? Array.isArray(v) : v !== null && typeof v === 'object' && !Array.isArray(v);
      return ok ? { value: v } : { error: `${i.name} must be a JSON ${i.type === 'list' ? 'list [...]' : 'object {...}'}` };
    } catch {
      return { error: `${i.name} is not valid JSON` };
    }
  }
  return { value: raw };
}

function RunForm(props: {
  path: string;
  inputs: readonly WorkflowInput[];
  script: string;
  dirty: boolean;
  ok: boolean;
  save: (recreate?: boolean) => Promise<boolean>;
  onClose: () => void;
}) {
  const { path, inputs, dirty, ok, save, onClose } = props;
  const [values, setValues] = useState<Record<string, string>>(() => Object.fromEntries(inputs.map((i) => [i.name, initialValue(i)])));
  const [flags, setFlags] = useState<Record<string, boolean>>(() => Object.fromEntries(inputs.map((i) => [i.name, i.default === true])));
  const [script, setScript] = useState(props.script);
  const [model, setModel] = useState('');
  const [noCache, setNoCache] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => setError(null), [values, flags, script, model]); // a changed field clears the last complaint

  const submit = async () => {
    setError(null);
    const body: Record<string, unknown> = {};
    for (const i of inputs) {
      const v = formValue(i, values[i.name] ?? '', flags[i.name] ?? false);
      if (v.error) {
        setError(new Error(v.error));
        return;
      }
      if (v.value !== undefined) body[i.name] = v.value;
    }
    setBusy(true);
    try {
      if (dirty && !(await save())) return; // the save said why
      const r = await api.runWorkflow({ path, inputs: body, script: script.trim() || undefined, model: model.trim() || undefined, no_cache: noCache });
      navigate(href({ page: 'graph', id: r.run_id }));
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card run-form" data-testid="run-form">
      <h3>Run {path}</h3>
      <p className="muted small">
        Starts <code>specwright run</code> as its own process (it waits at gates for the Approvals page); you follow it on its graph.
        {dirty && ' Your changes are saved first.'}
      </p>
      <div className="form-grid">
        {inputs.length === 0 && <p className="muted">This workflow declares no inputs.</p>}
        {inputs.map((i) =>
          i.type === 'boolean' ? (
            <label key={i.name} className="check" title={i.description}>
              <input type="checkbox" checked={flags[i.name] ?? false} onChange={(e) => setFlags((f) => ({ ...f, [i.name]: e.target.checked }))} data-testid={`input-${i.name}`} />{' '}
              <span className="mono">{i.name}</span> {i.description && <span className="muted">{i.description}</span>}
            </label>
          ) : (
            <label key={i.name}>
              <span>
                <span className="mono">{i.name}</span> <span className="muted small">{i.type}{i.required ? ' · required' : ''}</span>
                {i.description && <span className="muted small"> — {i.description}</span>}
              </span>
              {i.type === 'list' || i.type === 'object' || (i.type === 'string' && (values[i.name] ?? '').includes('\n')) ? (
                <textarea
                  rows={3}
                  className="mono"
                  value={values[i.name] ?? ''}
                  placeholder={i.type === 'list' ? '["a", "b"]' : i.type === 'object' ? '{"key": "value"}' : ''}
                  onChange={(e) => setValues((v) => ({ ...v, [i.name]: e.target.value }))}
                  data-testid={`input-${i.name}`}
                />
              ) : (
                <input
                  type={i.type === 'number' || i.type === 'integer' ? 'number' : 'text'}
                  step={i.type === 'integer' ? 1 : 'any'}
                  value={values[i.name] ?? ''}
                  required={i.required}
                  onChange={(e) => setValues((v) => ({ ...v, [i.name]: e.target.value }))}
                  data-testid={`input-${i.name}`}
                />
              )}
            </label>
          ),
        )}
        <label>
          <span>
            script <span className="muted small">answers for <code>scripted/…</code> models (optional)</span>
          </span>
          <input type="text" className="mono" value={script} onChange={(e) => setScript(e.target.value)} data-testid="run-script" />
        </label>
        <label>
          <span>
            model <span className="muted small">for every model node (optional)</span>
          </span>
          <input type="text" className="mono" value={model} placeholder="openai/gpt-4o-mini" onChange={(e) => setModel(e.target.value)} data-testid="run-model" />
        </label>
        <label className="check">
          <input type="checkbox" checked={noCache} onChange={(e) => setNoCache(e.target.checked)} /> do not reuse cached results
        </label>
      </div>
      {!ok && <p className="error-text">The text has errors: the run will refuse to start until they are fixed.</p>}
      <ErrorBanner error={error} />
      <div className="actions">
        <button type="button" onClick={() => void submit()} disabled={busy} data-testid="run-submit">
          {busy ? 'Starting…' : dirty ? 'Save and run' : 'Run'}
        </button>
        <button type="button" className="link" onClick={onClose}>
          Close
        </button>
      </div>
    </section>
  );
}
