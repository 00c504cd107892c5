// A small client for /api/v1: bearer token, errors as Error(server message), SSE.
import type * as T from './types';

export const API_BASE = '/api/v1';
const TOKEN_KEY = 'specwright.token';

let token: string | null = null;

function storage(): Storage | null {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage;
  } catch {
    return null; // storage can be disabled; the token then lives in memory only
  }
}

/** initToken takes `?token=` from the page URL (first load) or sessionStorage. */
export function initToken(search: string = typeof location === 'undefined' ? '' : location.search): string | null {
  const fromUrl = new URLSearchParams(search).get('token');
  if (fromUrl) {
    token = fromUrl;
    storage()?.setItem(TOKEN_KEY, fromUrl);
  } else {
    token = storage()?.getItem(TOKEN_KEY) ?? token;
  }
  return token;
}

export function setToken(t: string | null): void {
  token = t;
}

export function getToken(): string | null {
  return token;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

async function errorOf(res: Response): Promise<ApiError> {
  let message = `${res.status} ${res.statusText}`.trim();
  try {
    const text = await res.text();
    try {
      const j = JSON.parse(text) as unknown;
      if (j && typeof j === 'object' && typeof (j as { error?: unknown }).error === 'string') message = (j as { error: string }).error;
      else if (text) message = text;
    } catch {
      if (text.trim()) message = text.trim();
    }
  } catch {
    // keep the status line
  }
  return new ApiError(message, res.status);
}

/** request fetches API_BASE + path with the token; non-2xx throws the server's {error}. */
export async function request(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (token) headers.set('Authorization', `Bearer ${token}`);
  if (init.body !== undefined && !headers.has('Content-Type')) headers.set('Content-Type', 'application/json');
  const res = await fetch(API_BASE + path, { ...init, headers });
  if (!res.ok) throw await errorOf(res);
  return res;
}

export async function getJson<R>(path: string, signal?: AbortSignal): Promise<R> {
  const res = await request(path, signal ? { signal } : {});
  return (await res.json()) as R;
}

export async function postJson<R>(path: string, body: unknown): Promise<R> {
  const res = await request(path, { method: 'POST', body: JSON.stringify(body) });
  return (await res.json()) as R;
}

const e = encodeURIComponent;

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const api = {
  health: () => getJson<T.Health>('/health'),
  runs: (p: { limit?: number; status?: string; q?: string } = {}) => getJson<T.Run[]>('/runs' + query(p)),
  sessions: () => getJson<T.SessionSummary[]>('/sessions'),
  providers: () => getJson<T.ProvidersReport>('/providers'),
  session: (id: string) => getJson<T.SessionDetail>(`/sessions/${e(id)}`),
  spec: (session: string) => getJson<T.SpecView>(`/sessions/${e(session)}/spec`),
  specTrace: (session: string, id: string) => getJson<T.SpecTrace>(`/sessions/${e(session)}/spec/trace/${e(id)}`),
  specImpact: (session: string, ids: string[]) => getJson<T.SpecImpact>(`/sessions/${e(session)}/spec/impact` + query({ ids: ids.join(',') })),
  projectFile: (session: string, path: string) => getJson<T.ProjectFile>(`/sessions/${e(session)}/file` + query({ path })),
  run: (id: string) => getJson<T.RunShow>(`/runs/${e(id)}`),
  graph: (id: string) => getJson<T.RunGraph>(`/runs/${e(id)}/graph`),
  node: (id: string, node: string) => getJson<T.NodeDetail>(`/runs/${e(id)}/nodes/${e(node)}`),
  trace: (id: string) => getJson<T.Trace>(`/runs/${e(id)}/trace`),
  runCost: (id: string) => getJson<T.RunCost>(`/runs/${e(id)}/cost`),
  cost: (since: string) => getJson<T.CostSince>('/cost' + query({ since })),
  artifacts: (id: string) => getJson<T.Artifacts>(`/runs/${e(id)}/artifacts`),
  lineage: (name: string, run?: string) => getJson<T.Artifacts>(`/lineage/${e(name)}` + query({ run })),
  blob: async (hash: string) => (await request(`/blobs/${e(hash)}`)).text(),
  diff: (a: string, b: string) => getJson<T.DiffReport>('/diff' + query({ a, b })),
  approvals: () => getJson<T.Approval[]>('/approvals'),
  workflows: () => getJson<T.WorkflowFile[]>('/workflows'),
  workflow: (path: string) => getJson<T.WorkflowDoc>('/workflow' + query({ path })),
  validate: (path: string, text: string) => postJson<T.WorkflowDoc>('/workflow/validate', { path, text }),
  saveWorkflow: (path: string, text: string, version: string) => postJson<T.WorkflowDoc>('/workflow/save', { path, text, version }),
  runWorkflow: (body: T.WorkflowRunRequest) => postJson<T.ReplayResponse>('/workflow/run', body),
  approve: (id: string, body: T.ApproveRequest) => postJson<T.ApproveResponse>(`/runs/${e(id)}/approve`, body),
  cancel: (id: string) => postJson<unknown>(`/runs/${e(id)}/cancel`, {}),
  debug: (id: string) => getJson<T.DebugReport>(`/runs/${e(id)}/debug`),
  runApprovals: (id: string) => getJson<T.ApprovalRecord[]>(`/runs/${e(id)}/approvals`),
  runNotifications: (id: string) => getJson<T.NotificationAttempt[]>(`/runs/${e(id)}/notifications`),
  resume: (id: string) => postJson<T.ResumeResponse>(`/runs/${e(id)}/resume`, {}),
  replay: (id: string, body: T.ReplayRequest) => postJson<T.ReplayResponse>(`/runs/${e(id)}/replay`, body),
  evals: () => getJson<T.EvalsResponse>('/evals'),
  evalReport: (run: string) => getJson<T.EvalReport>(`/evals/${e(run)}`),
  evalCompare: (a: string, b: string) => getJson<T.EvalCompare>('/evals/compare' + query({ a, b })),
};

/** eventsUrl is an SSE URL: EventSource cannot set headers, so the token goes in the query. */
export function eventsUrl(path: string, params: Record<string, string | number | undefined> = {}): string {
  return API_BASE + path + query({ ...params, token: token ?? undefined });
}

export type SseHandlers = Record<string, (data: unknown) => void>;

/**
 * subscribe opens an EventSource and calls handlers[eventName] with each message's parsed JSON.
 * It closes itself on `end`, or when the browser gives up reconnecting. Returns a closer.
 */
export function subscribe(path: string, params: Record<string, string | number | undefined>, handlers: SseHandlers, onError?: (err: Error) => void): () => void {
  const es = new EventSource(eventsUrl(path, params));
  for (const [name, fn] of Object.entries(handlers)) {
    es.addEventListener(name, (ev) => {
      const raw = (ev as MessageEvent<string>).data;
      let data: unknown = raw;
      try {
        data = raw ? JSON.parse(raw) : null;
      } catch {
        // not JSON: hand over the text
      }
      fn(data);
      if (name === 'end') es.close();
    });
  }
  if (!handlers.end) es.addEventListener('end', () => es.close());
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED) onError?.(new Error('the live event stream closed'));
  };
  return () => es.close();
}
