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

/** lineDiff is a line diff of a against b: the common first and last lines are trimmed, the
 *  rest is diffed by longest common subsequence (a revision touches a few lines, so the table
 *  stays small). When the middle parts are too large (their product over `limit`), it gives
 *  them whole, removed then added. */
export function lineDiff(a: string, b: string, limit = 4_000_000): DiffOp[] {
  const x = splitLines(a);
  const y = splitLines(b);
  let head = 0;
  while (head < x.length && head < y.length && x[head] === y[head]) head++;
  let tail = 0;
  while (tail < x.length - head && tail < y.length - head && x[x.length - 1 - tail] === y[y.length - 1 - tail]) tail++;
  const out: DiffOp[] = x.slice(0, head).map((line) => ({ op: ' ' as const, line }));
  const xs = x.slice(head, x.length - tail);
  const ys = y.slice(head, y.length - tail);
  const n = xs.length;
  const m = ys.length;
  if (n * m > limit) {
    out.push(...xs.map((line) => ({ op: '-' as const, line })), ...ys.map((line) => ({ op: '+' as const, line })));
  } else {
    // lcs[i][j]: the common length of xs[i..] and ys[j..], as one flat array.
    const W = m + 1;
    const lcs = new Uint32Array((n + 1) * W);
    for (let i = n - 1; i >= 0; i--)
      for (let j = m - 1; j >= 0; j--) lcs[i * W + j] = xs[i] === ys[j] ? lcs[(i + 1) * W + j + 1]! + 1 : Math.max(lcs[(i + 1) * W + j]!, lcs[i * W + j + 1]!);
    let i = 0;
    let j = 0;
    while (i < n && j < m) {
      if (xs[i] === ys[j]) {
        out.push({ op: ' ', line: xs[i]! });
        i++;
        j++;
      } else if (lcs[(i + 1) * W + j]! >= lcs[i * W + j + 1]!) out.push({ op: '-', line: xs[i++]! });
      else out.push({ op: '+', line: ys[j++]! });
    }
    while (i < n) out.push({ op: '-', line: xs[i++]! });
    while (j < m) out.push({ op: '+', line: ys[j++]! });
  }
  out.push(...x.slice(x.length - tail).map((line) => ({ op: ' ' as const, line })));
  return out;
}
