// The JSON shapes of /api/v1 (docs/api.md), as written by src/observe ToJson and the server.
// Times are unix seconds (float); money is USD; cost_known false means cost_usd is a lower bound.

export type RunStatus = 'queued' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted' | (string & {});
export type NodeStatus =
  | 'pending'
  | 'running'
  | 'waiting'
  | 'succeeded'
  | 'failed'
  | 'skipped'
  | 'cancelled'
  | (string & {});

/** A run summary: GET /runs items, the `run` of most reports and the SSE `run` event. */
export interface Run {
  id: string;
  parent: string;
  workflow: string;
  file: string;
  status: RunStatus;
  /** The develop, modify, update or review this run is a step of ("" for a plain run). */
  session: string;
  /** What the step was for ("requirements", "development wave 1 (TASK-01)"). */
  label: string;
  error: string;
  created_at: number;
  finished_at: number;
  tokens_in: number;
  tokens_out: number;
  calls: number;
  cost_usd: number;
  cost_known: boolean;
  nodes_total: number;
  nodes_succeeded: number;
  nodes_failed: number;
  nodes_skipped: number;
}

/** GET /runs/{id}: the run plus one line per node × iteration. */
export interface RunShow extends Run {
  /** The run's inputs as resolved when it started. */
  inputs?: Record<string, unknown>;
  nodes: ShowNode[];
}

export interface ShowNode {
  node: string;
  iteration: number;
  status: NodeStatus;
  attempts: number;
  items: number;
  started_at: number;
  finished_at: number;
  tokens: number;
  calls: number;
  cost_usd: number;
  cost_known: boolean;
  cached: boolean;
  error: string;
}

/** GET /runs/{id}/graph */
export interface RunGraph {
  run: Run;
  nodes: GraphNode[];
}

export interface GraphNode {
  id: string;
  kind: string;
  needs: string[];
  model: string;
  /** The loop this node owns: a back edge to `to`, taken while `while` holds. */
  loop?: { to: string; while: string; max_iterations: number };
  /** The node's condition, as written. */
  when?: string;
  /** What a map node fans out over, as written. */
  map_over?: string;
  status: NodeStatus;
  iteration: number;
  attempts: number;
  items: number;
  tokens: number;
  calls: number;
  cost_usd: number;
  cost_known: boolean;
  cached: boolean;
  started_at: number;
  finished_at: number;
  error: string;
}

/** One attempt row of GET /runs/{id}/trace (and the inspector's `attempts`). */
export interface TraceRow {
  node: string;
  iteration: number;
  item: number; // -1 when the node is not a map
  attempt: number;
  status: NodeStatus;
  started_at: number;
  finished_at: number; // 0 while it runs
  tokens: number;
  tokens_in: number;
  tokens_out: number;
  calls: number;
  cost_usd: number;
  cost_known: boolean;
  cached: boolean;
  model: string;
  error: string;
}

export interface Trace {
  run: Run;
  start: number;
  end: number;
  rows: TraceRow[];
}

export interface TokenKinds {
  input: number;
  cached_read: number;
  cache_write: number;
  output: number;
  reasoning: number;
}

export interface PromptMessage {
  role: string;
  content: string;
}

export interface ModelCall {
  id: number | string;
  iteration: number;
  item: number;
  attempt: number;
  provider: string;
  model: string;
  status: string;
  error: string;
  started_at: number;
  latency_ms: number;
  ttft_ms: number;
  tokens: TokenKinds;
  cost_usd: number | null; // null: the model has no price
  prompt: PromptMessage[];
  response: string;
}

export interface ToolCall {
  turn: number;
  item: number;
  attempt: number;
  call_id: string;
  name: string;
  tool: string;
  arguments: unknown; // a JSON value, or its text
  started_at: number;
  finished_at: number;
  ok: boolean;
  bytes: number;
  preview: string;
  result: string | null;
}

/** Text streamed so far by a model call still in flight (inspector `live`, SSE `live`). */
export interface LiveText {
  node?: string;
  iteration: number;
  item: number;
  attempt: number;
  text: string;
}

/** GET /runs/{id}/nodes/{node} */
export interface NodeDetail {
  run_id: string;
  node: string;
  kind: string;
  model: string;
  status: NodeStatus;
  attempts: TraceRow[];
  calls: ModelCall[];
  tool_calls: ToolCall[];
  output: string | null;
  /** Each iteration's output (cache hits included) and when it was written, the last 50. */
  outputs?: { iteration: number; item: number; attempt: number; at: number; output: string }[];
  live: LiveText[];
}

/** A spend bucket of the cost reports. */
export interface Bucket {
  key: string;
  calls: number;
  tokens: TokenKinds;
  cost_usd: number;
  unknown_price_calls: number;
  cost_known: boolean;
}

/** The run's budget (reports.cc ToJson(CostReport)); each limit appears only when set. */
export interface Budget {
  max_usd?: number;
  left_usd?: number;
  used_fraction?: number;
  max_tokens?: number;
  left_tokens?: number;
  max_calls?: number;
  left_calls?: number;
}

/** GET /runs/{id}/cost */
export interface RunCost {
  run: Run;
  sub_runs: number;
  total: Bucket;
  by_node: Bucket[];
  by_model: Bucket[];
  by_provider: Bucket[];
  budget?: Budget;
}

/** GET /cost?since= */
export interface CostSince {
  since: number;
  total: Bucket;
  runs: { id: string; workflow: string; status: RunStatus; created_at: number; spend: Bucket }[];
  by_model: Bucket[];
  by_provider: Bucket[];
  by_workflow: Bucket[];
  /** Spend of develop, modify, update and review sessions. */
  by_session?: Bucket[];
  by_day: Bucket[]; // key is a local date, YYYY-MM-DD, oldest first
}

export interface Artifact {
  name: string;
  produced_by: string;
  media_type: string;
  blob: string;
  created_at: number;
  derived_from: string[];
}

/** A derivation tree node: `missing` sources have only a name; `seen` repeats one shown earlier. */
export interface TreeNode {
  name: string;
  produced_by?: string;
  media_type?: string;
  blob?: string;
  created_at?: number;
  missing?: boolean;
  seen?: boolean;
  cycle?: string; // "a -> b -> a" when this source closes a cycle (not followed)
  derived_from: TreeNode[];
}

/** GET /runs/{id}/artifacts and GET /lineage/{name} */
export interface Artifacts {
  run: string;
  artifacts: Artifact[];
  tree: TreeNode[];
  cycles: string[];
}

export interface DiffRunHeader {
  id: string;
  workflow: string;
  status: RunStatus;
  tokens: number;
  cost_usd: number;
  calls: number;
  duration_s: number;
}

export interface DiffSide {
  status: NodeStatus;
  duration_s: number;
  tokens: number;
  calls: number;
  cost_usd: number;
  cost_known: boolean;
  model: string;
  attempts: number;
  output_blob: string;
}

export interface DiffNode {
  node: string;
  a: DiffSide | null;
  b: DiffSide | null;
  same: boolean;
  differs: string[];
  diff?: string; // unified diff of the outputs
}

/** GET /diff?a=&b= */
export interface DiffReport {
  a: DiffRunHeader;
  b: DiffRunHeader;
  nodes: DiffNode[];
  differing: number;
  diffs_omitted: number;
  first_divergence: { node: string; differs: string[] } | null;
}

/** GET /approvals items */
export interface Approval {
  run_id: string;
  workflow: string;
  run_status: RunStatus;
  node: string;
  iteration: number;
  item: number;
  message: string;
  since: number;
  alive: boolean;
}

export interface ApproveRequest {
  node: string;
  decision: 'approved' | 'rejected';
  text: string;
  iteration?: number;
  item?: number;
}

export interface ApproveResponse {
  run_id: string;
  node: string;
  decision: string;
  continued: 'running process' | 'resumed' | (string & {});
  pid: number;
}

export interface ReplayRequest {
  from: string[];
  models: Record<string, string>;
  prompts: Record<string, string>;
  inputs: Record<string, unknown>;
  allow_drift: boolean;
}

export interface ReplayResponse {
  run_id: string;
  pid: number;
}

/** GET /workflows items */
export interface WorkflowFile {
  path: string;
  name: string;
  runs: number;
  last_run: number | string | null; // a time or a run id: shown as given
  /** "eval": an eval suite (its runs recorded it), not a workflow: shown as one, linked to Evals. */
  kind?: 'workflow' | 'eval';
}

export interface WorkflowError {
  /** The file it is in: the workflow, or a file it references (a sub-workflow, a prompt). */
  file?: string;
  line: number;
  column: number;
  message: string;
}

export interface WorkflowNode {
  id: string;
  kind: string;
  needs: string[];
  model: string;
  line: number;
  loop?: { to: string; while: string };
  when?: string;
  map_over?: string;
}

/** A declared input: the Run form asks for it. */
export interface WorkflowInput {
  name: string;
  type: 'string' | 'number' | 'integer' | 'boolean' | 'list' | 'object';
  required: boolean;
  default?: unknown;
  description: string;
  line: number;
}

/** GET /workflow?path=, POST /workflow/validate and /workflow/save */
export interface WorkflowDoc {
  path: string;
  text: string;
  ok: boolean;
  errors: WorkflowError[];
  nodes: WorkflowNode[];
  inputs?: WorkflowInput[];
  /** The file's version on disk (GET and save): a save names the one it edited. */
  version?: string;
  /** An offline script beside the file (GET only), for the Run form. */
  script?: string;
  /** "eval": the file is an eval suite (GET only), checked as `specwright validate` checks one. */
  kind?: 'workflow' | 'eval';
  /** An eval suite's number of cases and its workflow. */
  cases?: number;
  workflow?: string;
}

/** POST /workflow/run */
export interface WorkflowRunRequest {
  path: string;
  inputs: Record<string, unknown>;
  script?: string;
  model?: string;
  no_cache?: boolean;
}

export interface Health {
  version: string;
  store: string;
  read_only: boolean;
}

/** SSE `event`: one stored event. `data` is the event's JSON (an object, or its text). */
export interface StoredEvent {
  seq: number;
  type: string;
  node: string;
  iteration: number;
  item: number;
  attempt: number;
  ts: number;
  data: unknown;
}

/** GET /sessions: one develop, modify, update or review, folded from its runs. */
export interface SessionSummary {
  session: string;
  kind: string;
  project: string;
  status: RunStatus;
  started_at: number;
  last_run_at: number;
  /** When its last run ended; 0 while a run goes or waits. */
  finished_at: number;
  runs: number;
  steps: string[];
  gate_rounds: number;
  tokens: number;
  cost_usd: number;
  cost_known: boolean;
}

export interface GateAnswer {
  round: number;
  decision: string;
  by: string;
  text: string;
  at: number;
  run: string;
}

/** One step of a session, from the project's state file. */
export interface SessionStep {
  key: string;
  label: string;
  status: string;
  tokens: number;
  cost_usd: number;
  verify_rounds: number;
  gate: GateAnswer[];
  runs: string[];
  started_at: number;
  finished_at: number;
}

export interface SessionRun {
  id: string;
  label: string;
  step: string;
  workflow: string;
  status: RunStatus;
  created_at: number;
  finished_at: number;
  tokens: number;
  cost_usd: number;
  cost_known: boolean;
  gate_rounds: number;
  error: string;
}

export interface SessionChange {
  kind?: string;
  request?: string;
  category?: string;
  entry?: string;
  reason?: string;
  targets?: string[];
  plan?: string;
  kept?: { id: string; why: string }[];
  changed?: string[];
  phases?: string[];
  skipped?: string[];
  status?: string;
  estimate?: { tokens?: number; usd?: number };
  spent?: { tokens?: number; usd?: number };
}

export interface SessionQa {
  passed?: boolean;
  passed_cases?: number;
  failed_cases?: number;
  missing_cases?: number;
  rounds?: number;
  summary?: string;
}

/** GET /sessions/{id}. */
export interface SessionDetail extends SessionSummary {
  run_list: SessionRun[];
  step_list: SessionStep[];
  change?: SessionChange;
  complexity?: { score?: number; tier?: string } | null;
  tasks?: { id: string; title: string; path: string; path_reason: string; files: string[] }[];
  qa?: SessionQa | null;
  note?: string;
  /** From the project's state file: the develop or change is done (or abandoned). */
  finished?: boolean;
}

export interface SpecItemRef {
  id: string;
  title: string;
  file?: string;
  line: number;
}

export interface SpecFinding {
  rule: string;
  severity: string;
  file: string;
  line: number;
  id: string;
  message: string;
}

/** GET /sessions/{id}/spec: the project's specs, findings, matrix and last test results. */
export interface SpecView {
  project: string;
  docs: { path: string; html: string; items: SpecItemRef[] }[];
  items: SpecItemRef[];
  findings: SpecFinding[];
  errors: number;
  warnings: number;
  matrix: { columns: string[]; coverage: Record<string, number>; rows: ({ id: string; title: string } & Record<string, string[] | string>)[] };
  results: Record<string, string>;
  has_results: boolean;
}

export interface TraceItem {
  id: string;
  defined: boolean;
  title?: string;
  prefix?: string;
  file?: string;
  line?: number;
  links: string[];
}

/** GET /sessions/{id}/spec/trace/{ID}. */
export interface SpecTrace extends TraceItem {
  up: TraceItem[];
  down: TraceItem[];
  code: { id: string; file: string; line: number }[];
  tests: { id: string; file: string; line: number }[];
  results: Record<string, string>;
  has_results: boolean;
}

export interface ProjectFile {
  path: string;
  text: string;
}

/** GET /runs/{id}/debug: `specwright debug --json`. */
export interface DebugNode {
  node: string;
  status: string;
  error?: string;
  reason?: string;
  by_failure?: boolean;
  kind?: string;
  model?: string;
  attempts?: { iteration: number; item: number; attempt: number; status: string; error: string; started_at: number; finished_at: number }[];
  calls?: { attempt: number; item: number; iteration: number; status: string; error: string; provider: string; model: string; latency_ms: number }[];
  retries?: number;
  retry_schedule?: { after_attempt: number; delay_s: number; error: string }[];
  budget_refused?: string;
  prompt?: { role: string; text: string }[];
  last_output?: string;
  inputs?: { node: string; status: string; output: string }[];
  skipped_dependents?: { node: string; reason: string }[];
}

export interface DebugReport {
  run: Run;
  nodes: DebugNode[];
}

export interface ResumeResponse {
  run_id: string;
  continued: string;
  resumed_run?: string;
  pid?: number;
}

/** GET /runs/{id}/notifications: every webhook delivery attempt (notify:), oldest first. */
export interface NotificationAttempt {
  ts: number;
  url: string; // without userinfo and query; ${NAME} unexpanded
  event: 'succeeded' | 'failed' | 'waiting' | 'budget_stopped' | string;
  delivery: string;
  outcome: 'delivered' | 'retrying' | 'failed' | 'refused' | string;
  error: string;
  attempt: number;
  attempts: number;
  http_status: number; // 0: no response
  duration_ms: number;
}

/** GET /runs/{id}/approvals: every answer at the run's human nodes. */
export interface ApprovalRecord {
  node: string;
  iteration: number;
  item: number;
  decision: string;
  text: string;
  by: string;
  at: number;
}

/** GET /sessions/{id}/spec/impact?ids=...: `specwright spec impact --json`. */
export interface SpecImpact {
  changed: string[];
  items: string[];
  code: { file: string; lines: number[] }[];
  tests: { file: string; lines: number[] }[];
  unknown: string[];
}

/** GET /providers: the configured providers (no secrets) and the models used in 7 days. */
export interface ProvidersReport {
  since: number;
  providers: { name: string; api?: string; base_url?: string; key: 'set' | 'missing' | 'not needed'; key_from?: string; problem?: string; rpm?: number; tpm?: number; max_concurrency?: number; stream?: boolean }[];
  models: {
    provider: string;
    model: string;
    calls: number;
    errors: number;
    error_rate: number;
    last_error: string;
    tokens: number;
    cost_usd: number;
    cost_known: boolean;
    last_used: number;
    price: { input_per_mtok: number; output_per_mtok: number } | null;
  }[];
}

// ---- Eval suites (GET /evals, /evals/{run}, /evals/compare): docs/api.md, src/eval ----

/** A time in an eval report: unix seconds like the runs (an ISO string is read too). */
export type EvalTime = number | string;

export interface EvalLatency {
  p50: number;
  p95: number;
  max: number;
  mean: number;
}

/** One assertion's result in one case. `actual` is cut to 2 KiB (the cut is marked). */
export interface EvalCaseAssertion {
  id: string;
  type: string;
  passed: boolean;
  /** passed | failed | error (could not be evaluated); absent in older reports: read `passed`. */
  status?: string;
  message: string;
  actual?: unknown;
  expected?: unknown;
  score?: number | null;
  judge_run?: string;
}

export type EvalCaseStatus = 'passed' | 'failed' | 'error' | (string & {});

export interface EvalCase {
  id: string;
  run: string;
  status: EvalCaseStatus;
  run_status: string;
  inputs: Record<string, unknown>;
  cost_usd: number;
  cost_unknown?: boolean;
  latency_ms: number;
  tokens_in: number;
  tokens_out: number;
  calls: number;
  error: string;
  assertions: EvalCaseAssertion[];
}

/** One assertion over all cases. */
export interface EvalAssertionSummary {
  id: string;
  type: string;
  node: string;
  description: string;
  passed: number;
  failed: number;
  errored: number;
  pass_rate: number;
}

export interface EvalSummary {
  cases: number;
  passed: number;
  failed: number;
  errored: number;
  pass_rate: number;
  assertions: number;
  assertions_passed: number;
  cost_usd: number;
  cost_unknown: boolean | number;
  tokens_in: number;
  tokens_out: number;
  calls: number;
  latency_ms: EvalLatency;
  wall_ms: number;
}

/** GET /evals/{run}: the stored report (format specwright-eval-report/1). */
export interface EvalReport {
  format: string;
  run: string;
  suite: { name: string; file: string; hash: string; workflow: string; workflow_hash: string };
  created_at: EvalTime;
  finished_at: EvalTime;
  /** cases: how many cases may regress (absent in reports written before it existed). */
  tolerance: { pass_rate: number; cost: number; latency: number; cases?: number };
  summary: EvalSummary;
  assertions: EvalAssertionSummary[];
  cases: EvalCase[];
}

export type EvalChange = 'regressed' | 'fixed' | 'same' | 'new' | 'removed' | (string & {});

/** GET /evals/compare?a=&b=: B measured against A (the baseline). */
export interface EvalCompare {
  a: string;
  b: string;
  verdict: 'ok' | 'regression' | (string & {});
  tolerance?: { pass_rate: number; cost: number; latency: number; cases?: number };
  pass_rate: { a: number; b: number; delta: number };
  cost_usd: { a: number; b: number; ratio: number | null };
  latency_p50_ms: { a: number; b: number; ratio: number | null };
  regressions: string[];
  cases: {
    id: string;
    a: EvalCaseStatus | null;
    b: EvalCaseStatus | null;
    change: EvalChange;
    assertions: { id: string; a: boolean | string | null; b: boolean | string | null }[];
  }[];
}

/** One eval run in a suite's history (GET /evals). */
export interface EvalHistoryEntry {
  run: string;
  suite?: string;
  file?: string;
  status: string;
  created_at: EvalTime;
  finished_at?: EvalTime;
  cases: number;
  passed: number;
  failed: number;
  errored: number;
  pass_rate: number;
  cost_usd: number;
  cost_unknown?: boolean | number;
  latency_ms?: Partial<EvalLatency>;
  latency_p50_ms?: number;
  /** The eval an offline replay (`specwright replay EVAL --offline`) reproduced; null for a live eval.
   *  Its latencies are the recordings' (a few ms): it is shown as "replay of X", out of the trend. */
  replay_of?: string | null;
}

export interface EvalSuiteHistory {
  name: string;
  file: string;
  runs: EvalHistoryEntry[];
}

/** GET /evals as the server sends it: suites with their runs, or a flat list of runs. */
export type EvalsResponse = { suites: EvalSuiteHistory[] } | EvalSuiteHistory[] | EvalHistoryEntry[];
