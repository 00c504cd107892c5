// What offline replay answers from: the model calls a stored run (and its sub-runs, and the
// runs it replayed) recorded, and the answers it took from the cache. Used by `replay
// --offline` of a run and of an eval (each case from its own recordings and its judges').
#pragma once

#include <memory>
#include <set>
#include <string>

#include "base/status.h"
#include "llm/replay.h"
#include "store/store.h"

namespace sw::cli {

struct GatheredRecordings {
  std::shared_ptr<llm::Recordings> recordings = std::make_shared<llm::Recordings>();
  std::set<std::string> providers;  // every provider a recorded call went to
  std::set<std::string> models;     // provider/model of every recorded call
  int recorded = 0;                 // answers gathered
  int unmatched = 0;                // calls without a request fingerprint (recorded before replay existed)
};

/// GatherRecordings collects the recordings of run_id: the run and its sub-runs, then (for
/// nodes a replay reused) the run it replayed, and so on back (at most 32 runs deep); a
/// fingerprint's answers keep that order.
Result<GatheredRecordings> GatherRecordings(store::Store* st, const std::string& run_id);

}  // namespace sw::cli
