// Unified diff text (from `specwright diff`), line by line for coloring.

export type DiffLineClass = 'diff-file' | 'diff-hunk' | 'diff-add' | 'diff-del' | 'diff-ctx';

/** splitLines splits text into lines, without an empty last one for a trailing newline. */
export function splitLines(text: string): string[] {
  if (!text) return [];
  return (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');
}

/** classifyDiff gives each line its class; "--- "/"+++ " are file headers only before a hunk. */
export function classifyDiff(lines: readonly string[]): DiffLineClass[] {
  let inHunk = false;
  return lines.map((l) => {
    if (l.startsWith('@@')) {
      inHunk = true;
      return 'diff-hunk';
    }
    if (!inHunk && (l.startsWith('--- ') || l.startsWith('+++ '))) return 'diff-file';
    if (l.startsWith('+')) return 'diff-add';
    if (l.startsWith('-')) return 'diff-del';
    return 'diff-ctx';
  });
}

export interface DiffOp {
  op: ' ' | '+' | '-';
  line: string;
}

/** lineDiff is a line diff of a against b (longest common subsequence; documents of a few
 *  thousand lines). Past `limit` lines on a side it gives the whole of each side instead. */
export function lineDiff(a: string, b: string, limit = 4000): DiffOp[] {
  const x = splitLines(a);
  const y = splitLines(b);
  if (x.length > limit || y.length > limit) return [...x.map((line) => ({ op: '-' as const, line })), ...y.map((line) => ({ op: '+' as const, line }))];
  const n = x.length;
  const m = y.length;
  // lcs[i][j]: the common length of x[i..] and y[j..], as one flat array.
  const lcs = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i * (m + 1) + j] = x[i] === y[j] ? lcs[(i + 1) * (m + 1) + j + 1]! + 1 : Math.max(lcs[(i + 1) * (m + 1) + j]!, lcs[i * (m + 1) + j + 1]!);
  const out: DiffOp[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) {
      out.push({ op: ' ', line: x[i]! });
      i++;
      j++;
    } else if (lcs[(i + 1) * (m + 1) + j]! >= lcs[i * (m + 1) + j + 1]!) out.push({ op: '-', line: x[i++]! });
    else out.push({ op: '+', line: y[j++]! });
  }
  while (i < n) out.push({ op: '-', line: x[i++]! });
  while (j < m) out.push({ op: '+', line: y[j++]! });
  return out;
}
