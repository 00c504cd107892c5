// pg_queue_schema: the work queue's tables in PostgreSQL (migration 2 of the PostgreSQL store;
// the queue itself is src/dist/queue.{h,cc}). A task is one unit of remote work: one
// orchestration of a run, one model call or one tool call. The claim/lease protocol is
// described in docs/architecture.md.
#pragma once

namespace sw::store {

inline constexpr const char* kPgQueueSchemaSql = R"sql(
CREATE TABLE tasks (
  id BIGSERIAL PRIMARY KEY,
  run_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  node TEXT NOT NULL DEFAULT '',
  key TEXT NOT NULL DEFAULT '',
  attempt INTEGER NOT NULL DEFAULT 0,
  labels TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'ready',
  payload TEXT NOT NULL DEFAULT '{}',
  result TEXT NOT NULL DEFAULT '',
  owner TEXT NOT NULL DEFAULT '',
  lease_until DOUBLE PRECISION NOT NULL DEFAULT 0,
  claims INTEGER NOT NULL DEFAULT 0,
  cancel_requested BOOLEAN NOT NULL DEFAULT false,
  consumed BOOLEAN NOT NULL DEFAULT false,
  reserved_usd DOUBLE PRECISION NOT NULL DEFAULT 0,
  created_at DOUBLE PRECISION NOT NULL,
  claimed_at DOUBLE PRECISION NOT NULL DEFAULT 0,
  finished_at DOUBLE PRECISION NOT NULL DEFAULT 0);
CREATE INDEX tasks_claimable ON tasks (created_at, id) WHERE status = 'ready';
CREATE INDEX tasks_leased ON tasks (lease_until) WHERE status = 'claimed';
CREATE INDEX tasks_by_key ON tasks (run_id, kind, key);
CREATE INDEX tasks_by_owner ON tasks (owner) WHERE status = 'claimed';
CREATE UNIQUE INDEX tasks_one_orchestrator ON tasks (run_id)
  WHERE kind = 'orchestrate' AND status IN ('ready', 'claimed');
CREATE TABLE workers (
  id TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  pid BIGINT NOT NULL,
  labels TEXT NOT NULL DEFAULT '',
  concurrency INTEGER NOT NULL DEFAULT 1,
  started_at DOUBLE PRECISION NOT NULL,
  heartbeat_at DOUBLE PRECISION NOT NULL,
  stopped_at DOUBLE PRECISION NOT NULL DEFAULT 0,
  tasks_done BIGINT NOT NULL DEFAULT 0);
)sql";

}  // namespace sw::store
