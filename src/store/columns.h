// columns: the column lists both stores read and write (SQLite and PostgreSQL have one data
// model), and the run upsert's SET list but for cancel_requested (whose merge each dialect
// spells: max() in SQLite, OR in PostgreSQL). An upsert never clears a cancel request made by
// another process, and never writes owner or lease_until (the work queue's).
#pragma once

#define SW_RUN_WRITE_COLS                                                                             \
  "id, parent_id, workflow_file, workflow_name, workflow_hash, status, created_at, finished_at, "   \
  "inputs_json, options_json, error, pid, tokens_in, tokens_out, calls, cost_usd, nodes_total, "   \
  "nodes_succeeded, nodes_failed, nodes_skipped, cancel_requested, cost_unknown, session, label"
#define SW_RUN_COLS SW_RUN_WRITE_COLS ", owner, lease_until"
#define SW_NODE_RUN_COLS                                                                   \
  "run_id, node, iteration, item, attempt, status, started_at, finished_at, tokens_in, " \
  "tokens_out, cost_usd, calls, model, error, output_blob, cached, cost_unknown"
#define SW_LLM_CALL_COLS                                                                       \
  "run_id, node, iteration, item, attempt, provider, model, tokens_in, tokens_out, "        \
  "tokens_cached_read, tokens_cache_write, tokens_reasoning, cost_usd, started_at, "        \
  "latency_ms, ttft_ms, status, error, request_blob, response_blob, request_hash, reply_blob, "  \
  "response_model, detail"
#define SW_FIRE_COLS \
  "schedule, fire_at, run_id, status, error, note, claimed_at, claimed_by, started_at, pid"
#define SW_RUN_UPSERT_SET                                                                          \
  "parent_id = excluded.parent_id, workflow_file = excluded.workflow_file, "                      \
  "workflow_name = excluded.workflow_name, workflow_hash = excluded.workflow_hash, "              \
  "created_at = excluded.created_at, finished_at = excluded.finished_at, "                        \
  "inputs_json = excluded.inputs_json, options_json = excluded.options_json, "                    \
  "error = excluded.error, pid = excluded.pid, tokens_in = excluded.tokens_in, "                  \
  "tokens_out = excluded.tokens_out, calls = excluded.calls, cost_usd = excluded.cost_usd, "      \
  "nodes_total = excluded.nodes_total, nodes_succeeded = excluded.nodes_succeeded, "              \
  "nodes_failed = excluded.nodes_failed, nodes_skipped = excluded.nodes_skipped, "                \
  "cost_unknown = excluded.cost_unknown, session = excluded.session, label = excluded.label, "
