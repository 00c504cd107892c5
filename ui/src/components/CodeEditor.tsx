// The workflow editor: CodeMirror 6 with YAML highlighting, completion and hover docs from
// docs/workflow.schema.json (keys, enum values, node ids in `needs`, references in templates
// and conditions), the loader's errors in the gutter and as underlines, Ctrl+S to save and
// Ctrl+Enter to check.
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap, type Completion, type CompletionContext, type CompletionResult } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { yaml } from '@codemirror/lang-yaml';
import { bracketMatching, defaultHighlightStyle, foldGutter, foldKeymap, HighlightStyle, indentOnInput, syntaxHighlighting } from '@codemirror/language';
import { lintGutter, lintKeymap, setDiagnostics, type Diagnostic } from '@codemirror/lint';
import { highlightSelectionMatches, searchKeymap } from '@codemirror/search';
import { EditorState, type Extension } from '@codemirror/state';
import { drawSelection, EditorView, highlightActiveLine, highlightActiveLineGutter, hoverTooltip, keymap, lineNumbers } from '@codemirror/view';
import { tags } from '@lezer/highlight';
import { useEffect, useImperativeHandle, useRef, type Ref } from 'react';
import schemaJson from '../../../docs/workflow.schema.json';
import type { WorkflowError } from '../api/types';
import { contextAt, describe, keyAt, keyOptions, schemasAt, valueOptions, type Schema, type YamlContext } from '../lib/yamlContext';

const SCHEMA = schemaJson as Schema;

export interface CodeEditorHandle {
  jumpTo(line: number): void;
  focus(): void;
  /** replace puts text in place of the editor's (a reload from disk). */
  replace(text: string): void;
}

/** What the text declares, from its last check: node ids and input names to complete. */
export interface EditorNames {
  nodes: readonly string[];
  inputs: readonly string[];
}

interface Props {
  /** The text the editor starts with (later changes of it are not applied: use replace()). */
  value: string;
  onChange: (v: string) => void;
  errors: readonly WorkflowError[];
  /** The workflow's own file (absolute): errors in other files are not drawn on this text. */
  file?: string;
  names: EditorNames;
  onSubmit?: () => void; // Ctrl/Cmd+Enter
  onSave?: () => void; // Ctrl/Cmd+S
  onCursor?: (line: number) => void; // the cursor moved to this line (1-based)
  ref?: Ref<CodeEditorHandle>;
}

/** Keys whose values are conditions (expressions), and keys whose values name a node. */
const EXPRESSION_KEYS = new Set(['when', 'while', 'over']);

function references(names: EditorNames): Completion[] {
  const out: Completion[] = [];
  for (const i of names.inputs) out.push({ label: `inputs.${i}`, type: 'variable', detail: 'input' });
  for (const n of names.nodes) {
    out.push({ label: `nodes.${n}.output`, type: 'variable', detail: 'text of the node' });
    out.push({ label: `nodes.${n}.json`, type: 'variable', detail: 'JSON of the node (output: json)' });
    out.push({ label: `nodes.${n}.status`, type: 'variable', detail: 'succeeded | failed | skipped' });
  }
  return out;
}

/** nodeOf: the node id a path is under (nodes.ID...). */
function nodeOf(path: readonly string[]): string | null {
  return path[0] === 'nodes' && path.length >= 2 ? (path[1] ?? null) : null;
}

export function completeWorkflow(ctx: CompletionContext, names: EditorNames): CompletionResult | null {
  const text = ctx.state.doc.toString();
  const pos = ctx.pos;
  const line = ctx.state.doc.lineAt(pos);
  const before = text.slice(line.from, pos);
  // A reference inside a template: `{{nodes.pl`, `{{#inputs.x`, in any string or block text.
  const tmpl = /\{\{\s*[#^/&]?\s*([A-Za-z0-9_.-]*)$/.exec(before);
  if (tmpl) return { from: pos - (tmpl[1] ?? '').length, options: references(names), validFor: /^[A-Za-z0-9_.-]*$/ };
  const c = contextAt(text, pos);
  if (c.at === 'text') return null;
  const last = c.path[c.path.length - 1] ?? '';
  if (c.at === 'key' && last === '[]' && keyOptions(SCHEMA, c.path).length === 0) {
    // `- wr` in a block list of scalars (needs, tools): the item is a value, not a key.
    return completeValue(ctx, { ...c, at: 'value' }, names, before);
  }
  if (c.at === 'key') {
    if (!ctx.explicit && c.prefix === '') return null;
    if (!/^[A-Za-z0-9_-]*$/.test(c.prefix)) return null;
    const options = keyOptions(SCHEMA, c.path)
      .filter((o) => !c.siblings.includes(o.label))
      .map((o): Completion => ({ label: o.label, type: 'property', detail: o.detail, info: o.info || undefined, apply: `${o.label}: `, boost: o.required ? 1 : 0 }));
    return options.length ? { from: c.from, options, validFor: /^[A-Za-z0-9_-]*$/ } : null;
  }
  return completeValue(ctx, c, names, before);
}

/** completeValue: node ids where a node is named, references in conditions, else the schema's values. */
function completeValue(ctx: CompletionContext, c: YamlContext, names: EditorNames, before: string): CompletionResult | null {
  const pos = ctx.pos;
  const last = c.path[c.path.length - 1] ?? '';
  const self = nodeOf(c.path);
  const key = last === '[]' ? (c.path[c.path.length - 2] ?? '') : last;
  if (key === 'needs' || (key === 'to' && c.path[c.path.length - 2] === 'loop')) {
    const options = names.nodes.filter((n) => n !== self || key === 'to').map((n): Completion => ({ label: n, type: 'constant', detail: 'node' }));
    const word = /[A-Za-z0-9_-]*$/.exec(before)?.[0] ?? '';
    return options.length ? { from: pos - word.length, options, validFor: /^[A-Za-z0-9_-]*$/ } : null;
  }
  if (EXPRESSION_KEYS.has(key)) {
    const word = /[A-Za-z0-9_.]*$/.exec(before)?.[0] ?? '';
    if (!ctx.explicit && word === '') return null;
    return { from: pos - word.length, options: references(names), validFor: /^[A-Za-z0-9_.]*$/ };
  }
  const options = valueOptions(SCHEMA, c.path).map((o): Completion => ({ label: o.label, type: 'enum', detail: o.info === 'example' ? 'example' : undefined }));
  if (!options.length || !/^[A-Za-z0-9_./-]*$/.test(c.prefix)) return null;
  return { from: c.from, options, validFor: /^[A-Za-z0-9_./-]*$/ };
}

/** hoverDoc: the schema's description of the key under the mouse, with its type. */
export function hoverDoc(text: string, pos: number): { from: number; to: number; title: string; body: string } | null {
  const k = keyAt(text, pos);
  if (!k) return null;
  const found = keyOptions(SCHEMA, k.path).find((o) => o.label === k.key);
  if (found) return { from: k.from, to: k.to, title: found.detail ? `${k.key}: ${found.detail}` : k.key, body: found.info };
  // A key the schema does not list (a node id, an input name): what its mapping holds.
  const here = schemasAt(SCHEMA, [...k.path, k.key]);
  const body = here.map((s) => describe(SCHEMA, s)).find(Boolean) ?? '';
  if (!body) return null;
  return { from: k.from, to: k.to, title: k.path[0] === 'nodes' && k.path.length === 1 ? `node ${k.key}` : k.key, body };
}

/** diagnostics: the loader's errors as ranges of the current text (a line and column, 1-based). */
export function diagnostics(state: EditorState, errors: readonly WorkflowError[], file?: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const doc = state.doc;
  for (const e of errors) {
    if (file && e.file && e.file !== file) continue; // in a file it references: listed, not drawn here
    if (e.line <= 0) {
      out.push({ from: 0, to: Math.min(doc.length, doc.line(1).to), severity: 'error', message: e.message });
      continue;
    }
    const line = doc.line(Math.min(e.line, doc.lines));
    const col = Math.max(0, Math.min(e.column > 0 ? e.column - 1 : 0, line.length));
    let from = line.from + col;
    // Underline the word (or key, or quoted string) there; a column-less error, the line's text.
    const rest = line.text.slice(col);
    let len = (/^("[^"]*"?|'[^']*'?|[^\s,:{}[\]]+)/.exec(rest)?.[0] ?? '').length;
    if (e.column <= 0) {
      const lead = line.text.length - line.text.trimStart().length;
      from = line.from + lead;
      len = line.text.trim().length;
    }
    out.push({ from, to: Math.min(line.to, from + Math.max(len, 1)), severity: 'error', message: e.message });
  }
  return out;
}

const highlight = HighlightStyle.define([
  { tag: tags.propertyName, color: 'var(--cm-key)' },
  { tag: [tags.string, tags.special(tags.string)], color: 'var(--cm-string)' },
  { tag: [tags.number, tags.bool, tags.null, tags.keyword], color: 'var(--cm-literal)' },
  { tag: tags.comment, color: 'var(--muted)', fontStyle: 'italic' },
  { tag: [tags.meta, tags.labelName, tags.typeName], color: 'var(--cm-meta)' },
  { tag: [tags.separator, tags.punctuation, tags.squareBracket, tags.brace], color: 'var(--muted)' },
]);

export function CodeEditor({ value, onChange, errors, file, names, onSubmit, onSave, onCursor, ref }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  // The editor is made once; what it calls back and completes from is read through refs.
  const latest = useRef({ onChange, onSubmit, onSave, onCursor, names });
  latest.current = { onChange, onSubmit, onSave, onCursor, names };

  useEffect(() => {
    if (!host.current) return;
    const extensions: Extension[] = [
      lineNumbers(),
      highlightActiveLineGutter(),
      foldGutter(),
      lintGutter(),
      history(),
      drawSelection(),
      indentOnInput(),
      bracketMatching(),
      closeBrackets(),
      highlightActiveLine(),
      highlightSelectionMatches(),
      yaml(),
      syntaxHighlighting(highlight),
      syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
      EditorState.tabSize.of(2),
      // A file written with CRLF keeps its line ends (the editor would otherwise save LF).
      ...(value.includes('\r\n') ? [EditorState.lineSeparator.of('\r\n')] : []),
      autocompletion({ override: [(ctx) => completeWorkflow(ctx, latest.current.names)], icons: false }),
      hoverTooltip((v, pos) => {
        const doc = hoverDoc(v.state.doc.toString(), pos);
        if (!doc) return null;
        return {
          pos: doc.from,
          end: doc.to,
          above: true,
          create() {
            const dom = document.createElement('div');
            dom.className = 'cm-schema-doc';
            dom.setAttribute('data-testid', 'hover-doc');
            const title = document.createElement('div');
            title.className = 'cm-schema-doc-title';
            title.textContent = doc.title;
            dom.appendChild(title);
            if (doc.body) {
              const body = document.createElement('div');
              body.textContent = doc.body;
              dom.appendChild(body);
            }
            return { dom };
          },
        };
      }),
      keymap.of([
        { key: 'Mod-s', preventDefault: true, run: () => (latest.current.onSave?.(), true) },
        { key: 'Mod-Enter', preventDefault: true, run: () => (latest.current.onSubmit?.(), true) },
        ...closeBracketsKeymap,
        ...completionKeymap,
        ...defaultKeymap,
        ...searchKeymap,
        ...historyKeymap,
        ...foldKeymap,
        ...lintKeymap,
        indentWithTab,
      ]),
      EditorView.updateListener.of((u) => {
        if (u.docChanged) latest.current.onChange(u.state.doc.toString());
        if (u.selectionSet || u.docChanged) latest.current.onCursor?.(u.state.doc.lineAt(u.state.selection.main.head).number);
      }),
      EditorView.contentAttributes.of({ 'aria-label': 'workflow YAML', 'data-testid': 'workflow-text' }),
    ];
    const v = new EditorView({ state: EditorState.create({ doc: value, extensions }), parent: host.current });
    view.current = v;
    return () => {
      v.destroy();
      view.current = null;
    };
    // made once per mount; the text changes from outside only through replace()
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // `value` is the text the editor starts with; afterwards the editor owns the text and only
  // replace() (a reload after a conflict) sets it from outside. Syncing from the prop would
  // race with typing: a render still carrying an older echo of onChange would put the text
  // back and drop the keys typed since (seen under load: a completion that never opened).

  useEffect(() => {
    const v = view.current;
    if (v) v.dispatch(setDiagnostics(v.state, diagnostics(v.state, errors, file)));
  }, [errors, file]);

  useImperativeHandle(ref, () => ({
    jumpTo(line: number) {
      const v = view.current;
      if (!v) return;
      const l = v.state.doc.line(Math.max(1, Math.min(line, v.state.doc.lines)));
      v.dispatch({ selection: { anchor: l.from }, effects: EditorView.scrollIntoView(l.from, { y: 'center' }) });
      v.focus();
    },
    focus() {
      view.current?.focus();
    },
    replace(text: string) {
      const v = view.current;
      if (v && v.state.doc.toString() !== text) v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: text } });
    },
  }));

  return <div className="editor" ref={host} />;
}
