// Where the cursor is in a YAML document, read from indentation and the line itself (so it
// works on the half-typed text an editor holds, which a YAML parser rejects), and what a JSON
// Schema says is allowed there: the workflow editor's completion and hover docs.

export type Schema = { [key: string]: unknown };

/** A position in the document, as the editor's completion and hover need it. */
export interface YamlContext {
  /** Keys from the root to the mapping the cursor is in; '[]' for a list item. */
  path: string[];
  /** key: the cursor is where a key is written; value: after `key:` (the key is last in path); text: inside a block scalar. */
  at: 'key' | 'value' | 'text';
  /** The word typed so far, and where it starts (a completion replaces from there). */
  prefix: string;
  from: number;
  /** Keys already written in the mapping the cursor is in (not offered again). */
  siblings: string[];
}

interface Entry {
  col: number;
  kind: 'dash' | 'key';
  key?: string;
  value?: string; // the rest of the line after `key:` (comments removed)
}

const KEY_RE = /^("[^"]*"|'[^']*'|[^\s#'"{}[\],:][^:#]*?)\s*:(\s|$)/;

function unquote(k: string): string {
  return (k.startsWith('"') && k.endsWith('"')) || (k.startsWith("'") && k.endsWith("'")) ? k.slice(1, -1) : k;
}

function stripComment(s: string): string {
  let q: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (q) {
      if (c === q) q = null;
    } else if (c === '"' || c === "'") q = c;
    else if (c === '#' && (i === 0 || s[i - 1] === ' ' || s[i - 1] === '\t')) return s.slice(0, i);
  }
  return s;
}

/** entries reads a line's structure: list dashes and a `key:` at their columns. */
function entries(line: string): Entry[] {
  const out: Entry[] = [];
  let i = 0;
  while (i < line.length && line[i] === ' ') i++;
  for (;;) {
    if (line[i] === '-' && (i + 1 === line.length || line[i + 1] === ' ')) {
      out.push({ col: i, kind: 'dash' });
      i++;
      while (i < line.length && line[i] === ' ') i++;
      continue;
    }
    break;
  }
  const rest = line.slice(i);
  const m = KEY_RE.exec(rest);
  if (m && m[1]) out.push({ col: i, kind: 'key', key: unquote(m[1].trim()), value: stripComment(rest.slice(m[0].length)).trim() });
  return out;
}

function blank(line: string): boolean {
  const t = line.trim();
  return t === '' || t.startsWith('#') || t === '---' || t === '...';
}

function indentOf(line: string): number {
  let i = 0;
  while (i < line.length && line[i] === ' ') i++;
  return i;
}


/**
 * contextAt reads the context of offset pos in text: the path of keys above it, whether it
 * is at a key, a value or inside a block scalar, and the word typed so far.
 */
export function contextAt(text: string, pos: number): YamlContext {
  const lineStart = text.lastIndexOf('\n', pos - 1) + 1;
  const before = text.slice(lineStart, pos);
  const lines = text.split('\n');
  const lineNo = text.slice(0, lineStart).split('\n').length - 1;

  // The line itself: dashes, then a key being typed, or `key:` and a value after it.
  const lineIndent = indentOf(before);
  let i = lineIndent;
  let col = i; // where the line's key (after its dashes) starts
  const own: string[] = []; // the line's own part of the path, below the block path
  while (before[i] === '-' && (i + 1 === before.length || before[i + 1] === ' ')) {
    own.push('[]');
    i++;
    while (before[i] === ' ') i++;
    col = i;
  }
  const rest = before.slice(i);
  let at: YamlContext['at'] = 'key';
  let prefix = rest;
  const m = KEY_RE.exec(rest.endsWith(':') ? rest + ' ' : rest);
  const value = m && m[1] ? rest.slice(Math.min(m[0].length, rest.length)) : rest;
  if (m && m[1]) own.push(unquote(m[1].trim()));
  const flow = flowContext(value);
  if (flow) {
    own.push(...flow.path);
    at = flow.at;
    prefix = flow.prefix;
  } else if (m && m[1]) {
    at = 'value';
    prefix = value.trimStart();
    if (prefix.startsWith('"') || prefix.startsWith("'")) prefix = prefix.slice(1);
  }
  const from = pos - prefix.length;

  // The block path above the line: the nearest entry left of the column, again and again.
  const path: string[] = [];
  const siblings = new Set<string>();
  const dashed = own[0] === '[]';
  let want = lineIndent;
  let inScalar = false;
  for (let n = lineNo - 1; n >= 0; n--) {
    if (want === 0 && (path.length > 0 || dashed)) break;
    const l = lines[n] ?? '';
    if (blank(l)) continue;
    const es = entries(l);
    if (!dashed && path.length === 0) for (const e of es) if (e.kind === 'key' && e.col === want && e.key) siblings.add(e.key);
    for (let k = es.length - 1; k >= 0; k--) {
      const e = es[k]!;
      if (e.col >= want) continue;
      if (e.kind === 'key') {
        // The first parent holds a scalar (`key: |`, or a plain one going on): we are in its text.
        if (path.length === 0 && e.value && !e.value.startsWith('&') && !e.value.startsWith('!')) inScalar = true;
        path.unshift(e.key ?? '');
      } else path.unshift('[]');
      want = e.col;
    }
  }
  if (inScalar) return { path, at: 'text', prefix: '', from: pos, siblings: [] };
  // Keys of the same mapping below the cursor.
  if (at === 'key' && !dashed && !flow) {
    for (let n = lineNo + 1; n < lines.length; n++) {
      const l = lines[n] ?? '';
      if (blank(l)) continue;
      if (indentOf(l) < col) break;
      for (const e of entries(l)) if (e.kind === 'key' && e.col === col && e.key) siblings.add(e.key);
    }
  }
  siblings.delete(prefix);
  return { path: [...path, ...own], at, prefix, from, siblings: [...siblings] };
}

/** flowContext reads an unclosed `{…` or `[…` on a line: the keys inside it and the cursor's role. */
function flowContext(value: string): { path: string[]; at: 'key' | 'value'; prefix: string } | null {
  const stack: { open: string; key: string }[] = [];
  let q: string | null = null;
  let segStart = 0;
  let pendingKey = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (q) {
      if (c === q) q = null;
      continue;
    }
    if (c === '"' || c === "'") q = c;
    else if (c === '{' || c === '[') {
      stack.push({ open: c, key: pendingKey });
      pendingKey = '';
      segStart = i + 1;
    } else if (c === '}' || c === ']') {
      stack.pop();
      segStart = i + 1;
      pendingKey = '';
    } else if (c === ',') {
      segStart = i + 1;
      pendingKey = '';
    } else if (c === ':' && (i + 1 === value.length || value[i + 1] === ' ')) {
      pendingKey = unquote(value.slice(segStart, i).trim());
      segStart = i + 1;
    }
  }
  if (stack.length === 0) return null;
  // The keys of nested collections (`{a: {b: [` gives a, b, []); the innermost decides the role.
  const path: string[] = [];
  stack.forEach((s, k) => {
    if (k > 0 && s.key) path.push(s.key);
    if (s.open === '[') path.push('[]');
  });
  const inner = stack[stack.length - 1]!;
  let seg = value.slice(segStart).trimStart();
  if (seg.startsWith('"') || seg.startsWith("'")) seg = seg.slice(1);
  if (inner.open === '[') return { path, at: 'value', prefix: seg };
  if (pendingKey) return { path: [...path, pendingKey], at: 'value', prefix: seg };
  return { path, at: 'key', prefix: seg };
}

// ---- the schema ----

function resolveRef(root: Schema, s: Schema): Schema {
  let cur = s;
  for (let depth = 0; depth < 16 && typeof cur.$ref === 'string'; depth++) {
    const ref = cur.$ref as string;
    if (!ref.startsWith('#/')) break;
    let t: unknown = root;
    for (const part of ref.slice(2).split('/')) t = t && typeof t === 'object' ? (t as Schema)[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
    if (!t || typeof t !== 'object') break;
    // keywords beside $ref (a description) win over the target's
    const { $ref: _, ...beside } = cur;
    void _;
    cur = { ...(t as Schema), ...beside };
  }
  return cur;
}

/** variants: a schema and the alternatives it allows (oneOf/anyOf/allOf branches, if/then). */
function variants(root: Schema, s: Schema): Schema[] {
  const r = resolveRef(root, s);
  const out: Schema[] = [r];
  for (const k of ['oneOf', 'anyOf', 'allOf']) {
    const v = r[k];
    if (Array.isArray(v)) for (const b of v) if (b && typeof b === 'object') out.push(...variants(root, b as Schema));
  }
  return out;
}

/** schemasAt follows path from the root schema: every schema that may apply there. */
export function schemasAt(root: Schema, path: readonly string[]): Schema[] {
  let cur = variants(root, root);
  for (const seg of path) {
    const next: Schema[] = [];
    for (const s of cur) {
      if (seg === '[]') {
        if (s.items && typeof s.items === 'object') next.push(...variants(root, s.items as Schema));
        continue;
      }
      const props = s.properties as Record<string, Schema> | undefined;
      if (props && props[seg] && typeof props[seg] === 'object') {
        next.push(...variants(root, props[seg]));
        continue;
      }
      const pats = s.patternProperties as Record<string, Schema> | undefined;
      let matched = false;
      if (pats)
        for (const [re, sub] of Object.entries(pats))
          if (new RegExp(re).test(seg)) {
            next.push(...variants(root, sub));
            matched = true;
          }
      if (!matched && s.additionalProperties && typeof s.additionalProperties === 'object') next.push(...variants(root, s.additionalProperties as Schema));
    }
    cur = next;
    if (cur.length === 0) break;
  }
  return cur;
}

export interface KeyOption {
  label: string;
  detail: string; // the type
  info: string; // the description
  required: boolean;
}

function typeName(root: Schema, s: Schema): string {
  const r = resolveRef(root, s);
  if (Array.isArray(r.enum)) return r.enum.map(String).join(' | ');
  if (typeof r.type === 'string') return r.type;
  if (Array.isArray(r.type)) return r.type.join(' | ');
  const alts = (r.oneOf ?? r.anyOf) as Schema[] | undefined;
  if (Array.isArray(alts)) return [...new Set(alts.map((a) => typeName(root, a)).filter(Boolean))].join(' | ');
  if (r.properties) return 'object';
  return '';
}

export function describe(root: Schema, s: Schema): string {
  for (const v of variants(root, s)) if (typeof v.description === 'string') return v.description;
  return '';
}

/** keyOptions: the keys the schemas at a mapping allow, each with its type and description. */
export function keyOptions(root: Schema, path: readonly string[]): KeyOption[] {
  const seen = new Map<string, KeyOption>();
  for (const s of schemasAt(root, path)) {
    const props = s.properties as Record<string, Schema> | undefined;
    const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
    if (!props) continue;
    for (const [k, v] of Object.entries(props)) {
      if (v === (false as unknown) || seen.has(k)) continue;
      seen.set(k, { label: k, detail: typeName(root, v), info: describe(root, v), required: required.has(k) });
    }
  }
  return [...seen.values()];
}

/** valueOptions: the values a schema lists (enum, const, boolean) at path. */
export function valueOptions(root: Schema, path: readonly string[]): { label: string; info: string }[] {
  const out = new Map<string, string>();
  for (const s of schemasAt(root, path)) {
    const r = resolveRef(root, s);
    if (Array.isArray(r.enum)) for (const v of r.enum) out.set(String(v), typeof r.description === 'string' ? r.description : '');
    if (r.const !== undefined) out.set(String(r.const), '');
    if (r.type === 'boolean') {
      out.set('true', '');
      out.set('false', '');
    }
    if (Array.isArray(r.examples)) for (const v of r.examples) if (typeof v === 'string') out.set(v, 'example');
  }
  return [...out].map(([label, info]) => ({ label, info }));
}

/** keyAt: the key under offset pos (for hover), with the path to it; null off a key. */
export function keyAt(text: string, pos: number): { path: string[]; key: string; from: number; to: number } | null {
  const lineStart = text.lastIndexOf('\n', pos - 1) + 1;
  const lineEndAt = text.indexOf('\n', pos);
  const line = text.slice(lineStart, lineEndAt < 0 ? text.length : lineEndAt);
  // The word under the cursor, and whether `:` follows it.
  const col = pos - lineStart;
  let a = col;
  let b = col;
  const word = /[A-Za-z0-9_.-]/;
  while (a > 0 && word.test(line[a - 1] ?? '')) a--;
  while (b < line.length && word.test(line[b] ?? '')) b++;
  if (a === b || line[b] !== ':') return null;
  const key = line.slice(a, b);
  const ctx = contextAt(text, lineStart + a);
  if (ctx.at !== 'key') return null;
  return { path: ctx.path, key, from: lineStart + a, to: lineStart + b };
}
