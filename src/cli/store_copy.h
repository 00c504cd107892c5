// `specwright store copy`: runs (each with its sub-runs) and everything they reference —
// events, node_runs, llm_calls, artifacts, approvals, blobs, cache entries — and the schedule
// fires, from one store to another, SQLite or PostgreSQL either way, through the store::Store
// interface only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace sw::cli {

/// CopyOptions: which runs, and where progress goes.
struct CopyOptions {
  /// Run ids (or unique prefixes, or "latest") of FROM; a sub-run stands for its top-level
  /// run. Empty: every top-level run, oldest first.
  std::vector<std::string> runs;
  /// A line per run (copied, unchanged, refused); nullptr: quiet.
  std::function<void(const std::string&)> say;
  /// Blobs go to TO in batches of about this many bytes, ahead of the run's rows.
  size_t blob_batch_bytes = 32u << 20;
};

/// TableCount is one line of the verification: rows of the copied runs read in FROM, and
/// the same rows found in TO afterwards.
struct TableCount {
  std::string table;
  int64_t from = 0;
  int64_t to = 0;
};

struct CopyReport {
  std::vector<std::string> copied;     // top-level runs written to TO (with their sub-runs)
  std::vector<std::string> unchanged;  // already in TO with the same content: nothing written
  /// Runs not copied and why: TO holds a run of that id (or of a sub-run's) with other
  /// content, the run is still running or queued for workers, or FROM cannot give all it
  /// references.
  std::vector<std::pair<std::string, std::string>> refused;
  /// Runs whose copy reads back from TO unlike FROM (the first difference).
  std::vector<std::pair<std::string, std::string>> mismatched;
  /// runs, events, node_runs, llm_calls, artifacts, approvals, blobs, cache — over the copied
  /// and unchanged runs — and schedule_fires (every fire of FROM; with runs named, theirs).
  std::vector<TableCount> counts;

  /// ok: nothing refused or mismatched and every count equal.
  bool ok() const;
};

/// CopyRuns copies run by run (a run and its sub-runs in memory at a time; blobs in batches):
/// a top-level run's rows go in one Commit, so a run is in TO whole or not at all, with its
/// events and model calls in FROM's order (TO numbers them anew). A run already in TO with
/// the same content (ids and sequence numbers aside) is left as it is; one with other content
/// is refused, never overwritten. Then every copied run is read back from TO and compared.
/// Then the schedule fires (every one; with runs named, those of the runs copied or already
/// there) go in where TO has no row of their window, TO's own rows kept: a scheduler on TO
/// fires no window FROM's had dealt with.
/// An error is returned only when a store cannot be read or written at all.
Result<CopyReport> CopyRuns(store::Store* from, store::Store* to, const CopyOptions& options);

}  // namespace sw::cli
