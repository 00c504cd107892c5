// A plain <textarea> with a line-number gutter; error lines are marked in the gutter and text.
import { useImperativeHandle, useMemo, useRef, type Ref } from 'react';
import type { WorkflowError } from '../api/types';

export const LINE_HEIGHT = 20; // px; the CSS of .editor uses the same

export interface CodeEditorHandle {
  jumpTo(line: number): void;
}

interface Props {
  value: string;
  onChange: (v: string) => void;
  errors: readonly WorkflowError[];
  onSubmit?: () => void; // Ctrl/Cmd+Enter
  ref?: Ref<CodeEditorHandle>;
}

export function CodeEditor({ value, onChange, errors, onSubmit, ref }: Props) {
  const ta = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLDivElement>(null);
  const marks = useRef<HTMLDivElement>(null);
  const lines = useMemo(() => value.split('\n').length, [value]);
  const byLine = useMemo(() => {
    const m = new Map<number, string[]>();
    for (const e of errors) if (e.line > 0) m.set(e.line, [...(m.get(e.line) ?? []), e.message]);
    return m;
  }, [errors]);

  useImperativeHandle(ref, () => ({
    jumpTo(line: number) {
      const el = ta.current;
      if (!el) return;
      let off = 0;
      for (let l = 1; l < line && off >= 0; l++) off = el.value.indexOf('\n', off) + 1 || -1;
      if (off < 0) off = el.value.length;
      el.focus();
      el.setSelectionRange(off, off);
      el.scrollTop = Math.max(0, (line - 1) * LINE_HEIGHT - el.clientHeight / 3);
    },
  }));

  // Keep the gutter and the marks under the text when it scrolls (no re-render).
  const sync = () => {
    const top = ta.current?.scrollTop ?? 0;
    if (gutter.current) gutter.current.scrollTop = top;
    if (marks.current) marks.current.style.transform = `translate(${-(ta.current?.scrollLeft ?? 0)}px, ${-top}px)`;
  };

  return (
    <div className="editor">
      <div className="editor-gutter" ref={gutter} aria-hidden>
        <div style={{ height: lines * LINE_HEIGHT + 40 }}>
          {Array.from({ length: lines }, (_, i) => {
            const msgs = byLine.get(i + 1);
            return (
              <div key={i} className={msgs ? 'gutter-line error' : 'gutter-line'} title={msgs?.join('\n')} data-line={i + 1}>
                {i + 1}
              </div>
            );
          })}
        </div>
      </div>
      <div className="editor-main">
        <div className="editor-marks" ref={marks} aria-hidden>
          {[...byLine].map(([line, msgs]) => (
            <div key={line} className="mark-line" style={{ top: (line - 1) * LINE_HEIGHT }}>
              <span className="mark-msg">{msgs.join(' · ')}</span>
            </div>
          ))}
        </div>
        <textarea
          ref={ta}
          value={value}
          onChange={(e) => onChange(e.target.value)}
          onScroll={sync}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
              e.preventDefault();
              onSubmit?.();
            } else if (e.key === 'Tab' && !e.shiftKey) {
              // YAML indents with spaces: Tab inserts two instead of leaving the editor
              e.preventDefault();
              const el = e.currentTarget;
              const { selectionStart: s, selectionEnd: t } = el;
              el.setRangeText('  ', s, t, 'end');
              onChange(el.value);
            }
          }}
          spellCheck={false}
          wrap="off"
          aria-label="workflow YAML"
          data-testid="workflow-text"
        />
      </div>
    </div>
  );
}
