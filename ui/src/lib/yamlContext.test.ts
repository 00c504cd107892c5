import { describe, expect, it } from 'vitest';
import schema from '../../../docs/workflow.schema.json';
import { contextAt, keyAt, keyOptions, valueOptions, type Schema } from './yamlContext';

const S = schema as Schema;

/** at: the context where `^` is in the text (the mark removed). */
function at(marked: string) {
  const pos = marked.indexOf('^');
  return contextAt(marked.slice(0, pos) + marked.slice(pos + 1), pos);
}

describe('contextAt', () => {
  it('reads a key being typed at the top and in a node, with the keys already there', () => {
    expect(at('name: x\nno^')).toMatchObject({ path: [], at: 'key', prefix: 'no', siblings: ['name'] });
    const c = at('name: x\nnodes:\n  plan:\n    prompt: hi\n    mo^\n    output: json\n');
    expect(c).toMatchObject({ path: ['nodes', 'plan'], at: 'key', prefix: 'mo' });
    expect(c.siblings.sort()).toEqual(['output', 'prompt']);
  });

  it('reads a value after its key, in block and flow style', () => {
    expect(at('nodes:\n  a:\n    kind: hu^')).toMatchObject({ path: ['nodes', 'a', 'kind'], at: 'value', prefix: 'hu' });
    expect(at('nodes:\n  a: {prompt: x, output: j^')).toMatchObject({ path: ['nodes', 'a', 'output'], at: 'value', prefix: 'j' });
    expect(at('nodes:\n  a: {prompt: x, ou^')).toMatchObject({ path: ['nodes', 'a'], at: 'key', prefix: 'ou' });
    expect(at('nodes:\n  a: {loop: {to: a, on_exhausted: ^')).toMatchObject({ path: ['nodes', 'a', 'loop', 'on_exhausted'], at: 'value' });
    expect(at('nodes:\n  b:\n    needs: [a, ^')).toMatchObject({ path: ['nodes', 'b', 'needs', '[]'], at: 'value', prefix: '' });
    expect(at('defaults: {retry: {attempts: 3}, ^')).toMatchObject({ path: ['defaults'], at: 'key' });
  });

  it('follows list items, and knows the text of a block scalar', () => {
    expect(at('nodes:\n  a:\n    kind: agent\n    tools:\n      - builtin://fs.read\n      - ^')).toMatchObject({ path: ['nodes', 'a', 'tools', '[]'] });
    expect(at('nodes:\n  b:\n    needs:\n      - wr^')).toMatchObject({ path: ['nodes', 'b', 'needs', '[]'], at: 'key', prefix: 'wr' });
    expect(at('nodes:\n  a:\n    prompt: |\n      Plan: {{inp^')).toMatchObject({ path: ['nodes', 'a', 'prompt'], at: 'text' });
    expect(at('nodes:\n  a:\n    prompt: |\n      Note: this looks like a key^')).toMatchObject({ at: 'text' });
    expect(at('items:\n  - name: a\n    ru^')).toMatchObject({ path: ['items', '[]'], at: 'key', siblings: ['name'] });
  });

  it('treats a quoted value with colons as one value', () => {
    expect(at('nodes:\n  a:\n    prompt: "Plan: {{inputs.^')).toMatchObject({ path: ['nodes', 'a', 'prompt'], at: 'value', prefix: 'Plan: {{inputs.' });
  });
});

describe('the workflow schema', () => {
  it('offers the keys of the place the cursor is in, with their docs', () => {
    const top = keyOptions(S, []).map((o) => o.label);
    expect(top).toEqual(expect.arrayContaining(['name', 'nodes', 'inputs', 'defaults', 'budget', 'workspace', 'mcp_servers']));
    const node = keyOptions(S, ['nodes', 'plan']);
    expect(node.map((o) => o.label)).toEqual(expect.arrayContaining(['prompt', 'model', 'needs', 'loop', 'tools', 'max_turns']));
    expect(node.find((o) => o.label === 'on_truncated')?.info).toMatch(/cut at max_tokens/);
    expect(keyOptions(S, ['nodes', 'plan', 'loop']).map((o) => o.label).sort()).toEqual(['max_iterations', 'on_exhausted', 'to', 'while']);
    expect(keyOptions(S, ['inputs', 'brief']).map((o) => o.label)).toEqual(expect.arrayContaining(['type', 'default', 'required']));
  });

  it('offers the values an enum allows', () => {
    expect(valueOptions(S, ['nodes', 'a', 'kind']).map((o) => o.label)).toEqual(['llm', 'tool', 'human', 'workflow', 'agent']);
    expect(valueOptions(S, ['nodes', 'a', 'output']).map((o) => o.label)).toEqual(['text', 'json', 'document']);
    expect(valueOptions(S, ['nodes', 'a', 'cache']).map((o) => o.label)).toEqual(['true', 'false']);
    expect(valueOptions(S, ['budget', 'policy']).map((o) => o.label)).toEqual(['stop', 'warn']);
  });

  it('finds the key under the mouse for a hover', () => {
    const text = 'nodes:\n  a:\n    loop: {to: a, while: "x"}\n';
    const k = keyAt(text, text.indexOf('loop') + 2);
    expect(k).toMatchObject({ path: ['nodes', 'a'], key: 'loop' });
    expect(keyAt(text, text.indexOf('while') + 1)).toMatchObject({ path: ['nodes', 'a', 'loop'], key: 'while' });
    expect(keyAt(text, text.indexOf('"x"') + 1)).toBeNull();
  });
});
