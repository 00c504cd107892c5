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
