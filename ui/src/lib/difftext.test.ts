import { expect, it } from 'vitest';
import { classifyDiff, splitLines } from './difftext';

it('classifies unified diff lines', () => {
  const text = '--- a/draft\n+++ b/draft\n@@ -1,2 +1,2 @@\n same\n-old\n+new\n--- x (a removed "-- x")\n+++ y\n';
  expect(classifyDiff(splitLines(text))).toEqual(['diff-file', 'diff-file', 'diff-hunk', 'diff-ctx', 'diff-del', 'diff-add', 'diff-del', 'diff-add']);
  expect(splitLines('')).toEqual([]);
  expect(splitLines('a\nb')).toEqual(['a', 'b']);
});
