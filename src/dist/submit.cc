#include "dist/submit.h"

#include "base/clock.h"
#include "base/hash.h"
#include "dist/bundle.h"
#include "dist/git_remote.h"

namespace sw::dist {

using json = nlohmann::json;

Result<std::string> Submit(store::Store* st, Queue* q, const workflow::Workflow& wf, SubmitOptions o) {
  SW_RETURN_IF_ERROR(CheckDetachable(wf));
  if (!o.labels.empty()) SW_RETURN_IF_ERROR(ParseLabels(o.labels).status());
  if (!o.workspace_remote.empty())
    SW_RETURN_IF_ERROR(ValidateRemote(o.workspace_remote).Annotate("--workspace-remote"));
  // The remote is stored with the run and in every tool task: a password or token in it would
  // sit in the database. Credentials belong to each worker (ssh agent, git credential helper).
  if (!o.workspace_remote.empty() && RedactRemote(o.workspace_remote) != o.workspace_remote)
    return InvalidInput("--workspace-remote " + RedactRemote(o.workspace_remote) +
                        ": a remote with a password or token would be stored with the run; give it without "
                        "(each worker authenticates with its ssh agent or git credential helper)");
  SW_ASSIGN_OR_RETURN(Bundle bundle, MakeBundle(wf));
  std::string data = bundle.dump();
  std::string blob = Hash128Hex(data);
  double now = SystemClock::Default()->WallNow();
  store::RunRecord r;
  r.id = o.run_id.empty() ? store::UnusedRunId(st, now) : o.run_id;
  SW_ASSIGN_OR_RETURN(auto existing, st->GetRun(r.id));
  if (existing) return InvalidInput("run " + r.id + " already exists");
  r.workflow_file = wf.file;
  r.workflow_name = wf.name;
  r.workflow_hash = wf.source_hash;
  r.status = "queued";
  r.created_at = now;
  r.inputs_json = o.inputs.dump();
  json opts = o.record_options.is_object() ? o.record_options : json::object();
  opts["detached"] = true;
  opts["workflow_blob"] = blob;
  opts["labels"] = o.labels;
  if (!o.workspace_remote.empty()) opts["workspace_remote"] = o.workspace_remote;
  r.options_json = opts.dump();
  r.nodes_total = static_cast<int64_t>(wf.nodes.size());
  store::Batch b;
  b.run = r;
  b.blobs.emplace_back(blob, std::move(data));
  SW_RETURN_IF_ERROR(st->Commit(b));
  NewTask t;
  t.run_id = r.id;
  t.kind = "orchestrate";
  t.labels = o.labels;
  t.payload = json{{"submitted", true}}.dump();
  SW_RETURN_IF_ERROR(q->Enqueue(t).status());
  return r.id;
}

bool IsDetached(const store::RunRecord& run) {
  json o = json::parse(run.options_json, nullptr, false);
  return o.is_object() && o.value("detached", false);
}

Result<std::string> Requeue(store::Store* st, Queue* q, const store::RunRecord& run, const std::string& why) {
  if (run.status == "succeeded" || run.status == "cancelled")
    return "run " + run.id + " is " + run.status + "; nothing to continue";
  json o = json::parse(run.options_json, nullptr, false);
  NewTask t;
  t.run_id = run.id;
  t.kind = "orchestrate";
  t.labels = o.is_object() ? o.value("labels", "") : "";
  t.payload = json{{"resume", true}, {"why", why}}.dump();
  SW_ASSIGN_OR_RETURN(int64_t id, q->Enqueue(t));
  if (id == 0) return "run " + run.id + " is queued or running on a worker already; it picks this up";
  return "run " + run.id + " is queued for the workers (task " + std::to_string(id) + ")";
}

Result<std::string> CancelDetached(store::Store* st, Queue* q, const store::RunRecord& run, const std::string& by) {
  if (run.status != "running" && run.status != "waiting" && run.status != "queued")
    return "run " + run.id + " is " + run.status + "; nothing to cancel";
  SW_RETURN_IF_ERROR(st->RequestCancel(run.id));
  SW_ASSIGN_OR_RETURN(auto tasks, q->ListRun(run.id));
  SW_ASSIGN_OR_RETURN(double db_now, q->Now());
  for (const auto& t : tasks)
    if (t.kind == "orchestrate" && t.status == "claimed" && t.lease_until > db_now) {
      // Its orchestrator stops the run (the engine cancels the calls in flight); the task's
      // flag reaches it at its next heartbeat even if the run's flag was reset as it started.
      SW_RETURN_IF_ERROR(q->RequestCancel(t.id).status());
      return "asked run " + run.id + " to cancel; the worker orchestrating it (" + t.owner + ") stops it within seconds";
    }
  // Nobody orchestrates it: its tasks and the run are cancelled here.
  SW_RETURN_IF_ERROR(q->CancelRun(run.id).status());
  SW_ASSIGN_OR_RETURN(auto now, st->GetRun(run.id));
  if (!now) return NotFound("no run " + run.id);
  store::RunRecord r = *now;
  if (r.status != "running" && r.status != "waiting" && r.status != "queued")
    return "run " + run.id + " is " + r.status + "; nothing to cancel";
  r.status = "cancelled";
  r.error = "cancelled by " + by;
  r.cancel_requested = true;
  r.finished_at = SystemClock::Default()->WallNow();
  store::Batch b;
  b.run = r;
  SW_RETURN_IF_ERROR(st->Commit(b));
  return "run " + run.id + " cancelled";
}

}  // namespace sw::dist
