// One workflow: its YAML with line numbers, validation errors at their lines, and its graph.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api } from '../api/client';
import type { WorkflowDoc } from '../api/types';
import { CodeEditor, type CodeEditorHandle } from '../components/CodeEditor';
import { DagView, type DagItem } from '../components/DagView';
import { ErrorBanner } from '../components/ErrorBanner';
import { useApi, useReady } from '../lib/hooks';

export function WorkflowPage({ path }: { path: string }) {
  const loaded = useApi(() => api.workflow(path), [path]);
  const [text, setText] = useState<string | null>(null);
  const [doc, setDoc] = useState<WorkflowDoc | null>(null); // the latest validation
  const [validated, setValidated] = useState<string | null>(null); // the text `doc` is of
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [graphReady, setGraphReady] = useState(false);
  const editor = useRef<CodeEditorHandle>(null);

  useEffect(() => {
    if (!loaded.data || text !== null) return;
    setText(loaded.data.text);
    setDoc(loaded.data);
    setValidated(loaded.data.text);
  }, [loaded.data, text]);

  const validate = useCallback(() => {
    if (text === null) return;
    setBusy(true);
    setError(null);
    api
      .validate(path, text)
      .then((d) => {
        setDoc(d);
        setValidated(text);
      })
      .catch((e: unknown) => setError(e instanceof Error ? e : new Error(String(e))))
      .finally(() => setBusy(false));
  }, [path, text]);

  const items = useMemo(
    () => (doc?.nodes ?? []).map((n): DagItem => ({ id: n.id, needs: n.needs ?? [], kind: n.kind, model: n.model, title: `${n.id}\n${n.kind}${n.model ? ` · ${n.model}` : ''}\nline ${n.line}` })),
    [doc],
  );
  const lineOf = useMemo(() => new Map((doc?.nodes ?? []).map((n) => [n.id, n.line])), [doc]);
  const onNodeClick = useCallback((id: string) => editor.current?.jumpTo(lineOf.get(id) ?? 1), [lineOf]);
  const onReady = useCallback(() => setGraphReady(true), []);
  useReady('workflow', doc !== null && graphReady);

  const dirty = text !== null && text !== validated;
  const errors = doc?.errors ?? [];
  return (
    <div className="page workflow-page">
      <div className="toolbar">
        <h2 className="mono">{path}</h2>
        <button type="button" onClick={validate} disabled={busy || text === null} data-testid="validate" title="Ctrl+Enter">
          {busy ? 'Validating…' : 'Validate'}
        </button>
        {doc && !dirty && (doc.ok ? <span className="ok-text" data-testid="workflow-ok">valid</span> : <span className="error-text">{errors.length} error(s)</span>)}
        {dirty && <span className="muted">edited: validate to check</span>}
      </div>
      <ErrorBanner error={loaded.error} onRetry={loaded.reload} />
      <ErrorBanner error={error} />
      {text !== null && (
        <div className="workflow-split">
          <div className="workflow-left">
            <CodeEditor ref={editor} value={text} onChange={setText} errors={errors} onSubmit={validate} />
            {errors.length > 0 && (
              <ul className="error-list">
                {errors.map((e, i) => (
                  <li key={i} data-testid="workflow-error" data-line={e.line} onClick={() => e.line > 0 && editor.current?.jumpTo(e.line)}>
                    <span className="mono">{e.line > 0 ? `line ${e.line}${e.column > 0 ? `:${e.column}` : ''}` : 'file'}</span> {e.message}
                  </li>
                ))}
              </ul>
            )}
          </div>
          <div className="workflow-graph">
            <DagView items={items} onNodeClick={onNodeClick} onReady={onReady} direction="TB" minimap={false} />
          </div>
        </div>
      )}
    </div>
  );
}
