// The replay form's request body: only the overrides that were filled in.
import type { ReplayRequest } from '../api/types';

export interface ReplayForm {
  from: readonly string[];
  models: Readonly<Record<string, string>>;
  prompts: Readonly<Record<string, string>>;
  inputs: string; // one key=value per line; a value that parses as JSON is taken as JSON
  allowDrift: boolean;
}

/** parseInputs reads "key=value" lines; blank lines and # comments are skipped. */
export function parseInputs(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`inputs line ${i + 1}: expected key=value`);
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    try {
      out[key] = JSON.parse(value) as unknown;
    } catch {
      out[key] = value;
    }
  });
  return out;
}

/** buildReplay checks the form and makes the POST /replay body. */
export function buildReplay(f: ReplayForm): ReplayRequest {
  const models: Record<string, string> = {};
  for (const [node, m] of Object.entries(f.models)) {
    const v = m.trim();
    if (!v) continue;
    if (!/^[^/\s]+\/\S+$/.test(v)) throw new Error(`model for ${node}: expected provider/model, got "${v}"`);
    models[node] = v;
  }
  const prompts: Record<string, string> = {};
  for (const [node, p] of Object.entries(f.prompts)) if (p.trim()) prompts[node] = p;
  return { from: [...f.from], models, prompts, inputs: parseInputs(f.inputs), allow_drift: f.allowDrift };
}
