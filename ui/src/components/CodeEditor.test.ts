import { CompletionContext } from '@codemirror/autocomplete';
import { EditorState } from '@codemirror/state';
import { describe, expect, it } from 'vitest';
import { completeWorkflow, diagnostics, hoverDoc } from './CodeEditor';

const names = { nodes: ['outline', 'write'], inputs: ['topic'] };

/** labels: what completion offers where `^` is (the mark removed). */
function labels(marked: string, explicit = false): string[] {
  const pos = marked.indexOf('^');
  const state = EditorState.create({ doc: marked.slice(0, pos) + marked.slice(pos + 1) });
  const r = completeWorkflow(new CompletionContext(state, pos, explicit), names);
  return r ? r.options.map((o) => o.label) : [];
}

describe('completeWorkflow', () => {
  it('offers a node the keys it lacks, and node ids where a node is named, in either list style', () => {
    const keys = labels('nodes:\n  t:\n    prompt: hi\n    ne^');
    expect(keys).toContain('needs');
    expect(keys).not.toContain('prompt');
    expect(labels('nodes:\n  t:\n    needs: [w^')).toEqual(['outline', 'write']);
    expect(labels('nodes:\n  t:\n    needs:\n      - w^')).toEqual(['outline', 'write']);
    expect(labels('nodes:\n  write:\n    needs: [^', true)).toEqual(['outline']); // not itself
  });

  it('offers references in templates and conditions, and enum values', () => {
    expect(labels('nodes:\n  t:\n    prompt: "About {{inp^')).toContain('inputs.topic');
    expect(labels('nodes:\n  t:\n    when: nodes.w^')).toContain('nodes.write.output');
    expect(labels('nodes:\n  t:\n    output: j^')).toEqual(['text', 'json', 'document']);
    expect(labels('nodes:\n  t:\n    prompt: |\n      plain text^')).toEqual([]);
  });
});

describe('diagnostics and hover', () => {
  it('underlines the word an error names, and leaves errors of other files off this text', () => {
    const state = EditorState.create({ doc: 'name: x\nnodes:\n  a: {output: jsn}\n' });
    const d = diagnostics(state, [
      { line: 3, column: 15, message: 'invalid output', file: '/w/flow.yaml' },
      { line: 1, column: 1, message: 'in the prompt file', file: '/w/prompts/p.md' },
    ], '/w/flow.yaml');
    expect(d).toHaveLength(1);
    expect(state.doc.sliceString(d[0]!.from, d[0]!.to)).toBe('jsn');
  });

  it('explains a key from the schema', () => {
    const text = 'budget: {max_usd: 1}\n';
    expect(hoverDoc(text, 2)?.body).toMatch(/spend/i);
  });
});
