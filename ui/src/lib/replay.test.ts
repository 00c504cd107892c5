import { describe, expect, it } from 'vitest';
import { buildReplay, parseInputs } from './replay';

describe('replay form', () => {
  it('keeps only filled overrides', () => {
    const body = buildReplay({
      from: ['draft'],
      models: { draft: ' openai/gpt-5-mini ', review: '' },
      prompts: { draft: 'Write {{x}}', review: '   ' },
      inputs: '',
      allowDrift: true,
    });
    expect(body).toEqual({ from: ['draft'], models: { draft: 'openai/gpt-5-mini' }, prompts: { draft: 'Write {{x}}' }, inputs: {}, allow_drift: true });
  });
  it('rejects a model that is not provider/model', () => {
    expect(() => buildReplay({ from: [], models: { a: 'gpt' }, prompts: {}, inputs: '', allowDrift: false })).toThrow('provider/model');
  });
  it('parses inputs as JSON when they are JSON', () => {
    expect(parseInputs('idea = a CLI\nn=3\n# note\n\nflag=true\nlist=[1,2]')).toEqual({ idea: 'a CLI', n: 3, flag: true, list: [1, 2] });
    expect(() => parseInputs('oops')).toThrow('line 1');
  });
});
