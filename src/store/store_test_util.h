// Helpers shared by the store's tests (both backends).
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "store/store.h"

namespace sw::store {

class StoreTestHelpers {
 protected:
  static RunRecord Run(const std::string& id, double created_at, const std::string& parent = "") {
    RunRecord r;
    r.id = id;
    r.parent_id = parent;
    r.created_at = created_at;
    r.workflow_name = "wf";
    return r;
  }

  static Event Ev(const std::string& run_id, const std::string& type) {
    Event e;
    e.run_id = run_id;
    e.type = type;
    e.ts = 1.5;
    return e;
  }

  static void CommitRun(Store& s, const RunRecord& r) {
    Batch b;
    b.run = r;
    Status st = s.Commit(b);
    ASSERT_TRUE(st.ok()) << st.message();
  }
};

}  // namespace sw::store
