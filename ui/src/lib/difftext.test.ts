import { describe, expect, it } from 'vitest';
import { classifyDiff, lineDiff, splitLines } from './difftext';

it('classifies unified diff lines', () => {
  const text = '--- a/draft\n+++ b/draft\n@@ -1,2 +1,2 @@\n same\n-old\n+new\n--- x (a removed "-- x")\n+++ y\n';
  expect(classifyDiff(splitLines(text))).toEqual(['diff-file', 'diff-file', 'diff-hunk', 'diff-ctx', 'diff-del', 'diff-add', 'diff-del', 'diff-add']);
  expect(splitLines('')).toEqual([]);
  expect(splitLines('a\nb')).toEqual(['a', 'b']);
});

describe('lineDiff', () => {
  it('keeps common lines and marks the rest', () => {
    expect(lineDiff('a\nb\nc\n', 'a\nB\nc\nd\n')).toEqual([
      { op: ' ', line: 'a' },
      { op: '-', line: 'b' },
      { op: '+', line: 'B' },
      { op: ' ', line: 'c' },
      { op: '+', line: 'd' },
    ]);
    expect(lineDiff('', 'x')).toEqual([{ op: '+', line: 'x' }]);
    expect(lineDiff('same\n', 'same\n')).toEqual([{ op: ' ', line: 'same' }]);
  });
  it('gives both middles whole past the limit, keeping the common ends', () => {
    const big = ['top', ...Array.from({ length: 5 }, (_, k) => `l${k}`), 'end'].join('\n');
    const d = lineDiff(big, 'top\nx\nend', 3);
    expect(d.filter((o) => o.op === '-').length).toBe(5);
    expect(d[0]).toEqual({ op: ' ', line: 'top' });
    expect(d[d.length - 1]).toEqual({ op: ' ', line: 'end' });
  });
  it('diffs a long document with one changed line without a large table', () => {
    const lines = Array.from({ length: 20000 }, (_, k) => `line ${k}`);
    const changed = [...lines];
    changed[10000] = 'changed';
    const d = lineDiff(lines.join('\n'), changed.join('\n'));
    expect(d.filter((o) => o.op !== ' ')).toEqual([
      { op: '-', line: 'line 10000' },
      { op: '+', line: 'changed' },
    ]);
  });
});
