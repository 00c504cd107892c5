// Running a suite: the eval run record, the cases on a small pool of threads under one
// suite budget, the judges, and the stored report.
#include <unistd.h>

#include <algorithm>
#include <set>
#include <chrono>
#include <mutex>
#include <thread>

#include <yaml-cpp/yaml.h>

#include "base/fs.h"
#include "base/hash.h"
#include "base/ids.h"
#include "base/strings.h"
#include "engine/budget.h"
#include "eval/eval.h"
#include "workflow/patterns.h"
#include "workflow/yaml_json.h"

namespace sw::eval {
namespace {

double NowMs() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string BudgetExhausted(const workflow::Budget& b, const engine::BudgetAccount& acct) {
  if (b.max_usd && acct.spent_usd() >= *b.max_usd) return "the suite budget of $" + std::to_string(*b.max_usd) + " is spent";
  if (b.max_tokens && acct.spent_tokens() >= *b.max_tokens)
    return "the suite budget of " + std::to_string(*b.max_tokens) + " tokens is spent";
  if (b.max_calls && acct.calls() >= *b.max_calls)
    return "the suite budget of " + std::to_string(*b.max_calls) + " model calls is spent";
  return "";
}

// CutStrings cuts (marked) every string longer than 2 KiB in v, at any depth.
void CutStrings(json* v) {
  if (v->is_string()) {
    if (v->get_ref<const std::string&>().size() > kMaxActualBytes) *v = Cut(v->get<std::string>());
  } else if (v->is_structured()) {
    for (auto& x : *v) CutStrings(&x);
  }
}

// ReportInputs is the case's inputs as the report shows them: each string longer than 2 KiB,
// nested ones too (an object or list input), cut (marked), so a dataset of long documents
// does not make a report of their copies.
json ReportInputs(const json& inputs) {
  json out = inputs;
  CutStrings(&out);
  return out;
}

}  // namespace

Status CheckAssertionNodes(const Suite& suite, const workflow::Workflow& wf) {
  std::vector<std::string> node_ids;
  for (const auto& n : wf.nodes) node_ids.push_back(n.id);
  auto check_nodes = [&](const std::vector<Assertion>& as, const std::string& where) -> Status {
    for (const auto& a : as) {
      if (a.node.empty() || wf.index.count(a.node)) continue;
      std::string near = DidYouMean(a.node, node_ids);
      std::string at = a.file.empty() ? where : a.file + ":" + std::to_string(a.line) + ":" + std::to_string(a.col);
      return InvalidInput(at + ": assertion " + a.id + ": " + Quote(a.node) + " is not a node of " + wf.file +
                          (near.empty() ? "" : " (did you mean " + Quote(near) + "?)"));
    }
    return Status::Ok();
  };
  SW_RETURN_IF_ERROR(check_nodes(suite.asserts, suite.file));
  for (const auto& c : suite.cases) SW_RETURN_IF_ERROR(check_nodes(c.asserts, "case " + c.id));
  return Status::Ok();
}

Result<Suite> CheckSuite(const std::string& path) {
  SW_ASSIGN_OR_RETURN(Suite suite, LoadSuite(path));
  auto wf = workflow::LoadOrError(suite.workflow_file);
  if (!wf.ok()) return wf.status().Annotate(path + ": the suite's workflow");
  SW_RETURN_IF_ERROR(CheckAssertionNodes(suite, **wf));
  return suite;
}

bool LooksLikeSuite(const YAML::Node& root) {
  try {
    return root.IsMap() && !root["nodes"] && root["workflow"] && root["workflow"].IsScalar() &&
           (root["cases"] || root["dataset"]);
  } catch (const YAML::Exception&) {
    return false;
  }
}

bool LooksLikeSuiteFile(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok() || text->size() > kMaxYamlFileBytes) return false;
  auto root = LoadYaml(*text, path);
  return root.ok() && LooksLikeSuite(*root);
}

json NotifyExtra(const json& report, const json& compare) {
  const json& sum = report.contains("summary") ? report["summary"] : json::object();
  json e{{"suite", report.contains("suite") ? report["suite"].value("name", "") : ""},
         {"pass_rate", sum.contains("pass_rate") ? sum["pass_rate"] : json(nullptr)},
         {"cases", sum.value("cases", 0)},
         {"passed", sum.value("passed", 0)},
         {"failed", sum.value("failed", 0)},
         {"errored", sum.value("errored", 0)}};
  if (compare.is_object() && compare.contains("verdict")) e["verdict"] = compare["verdict"];
  return json{{"eval", e}};
}

bool IsEvalRun(const store::RunRecord& r) {
  if (r.label != "eval" || !r.parent_id.empty()) return false;
  json o = json::parse(r.options_json, nullptr, false);
  return o.is_object() && o.value("kind", "") == "eval";
}

Result<json> RunSuite(const Suite& suite, const EvalOptions& options) {
  store::Store* st = options.services.store;
  if (!st) return InvalidInput("an eval needs a store");
  auto loaded = workflow::LoadOrError(suite.workflow_file);
  if (!loaded.ok()) return loaded.status().Annotate("the suite's workflow");
  std::shared_ptr<const workflow::Workflow> wf = *loaded;
  // Every assertion's node must be a node of the workflow: a typo fails now, not per case.
  SW_RETURN_IF_ERROR(CheckAssertionNodes(suite, *wf));
  bool needs_judge = false;
  for (const auto* list : {&suite.asserts})
    for (const auto& a : *list) needs_judge = needs_judge || a.kind == AssertKind::kRubric;
  for (const auto& c : suite.cases)
    for (const auto& a : c.asserts) needs_judge = needs_judge || a.kind == AssertKind::kRubric;
  std::shared_ptr<const workflow::Workflow> judge_wf;
  if (needs_judge) {
    auto path = workflow::ResolvePattern("std/judge");
    if (!path.ok()) return path.status().Annotate("a rubric assertion runs std/judge");
    auto j = workflow::LoadOrError(*path);
    if (!j.ok()) return j.status().Annotate("std/judge");
    judge_wf = *j;
  }
  // Sets, not scans: an offline replay names every case of the suite (up to 100,000).
  const std::set<std::string> wanted(options.only_cases.begin(), options.only_cases.end());
  std::set<std::string> have;
  std::vector<const Case*> cases;
  for (const auto& c : suite.cases) {
    have.insert(c.id);
    if (wanted.empty() || wanted.count(c.id)) cases.push_back(&c);
  }
  for (const auto& want : options.only_cases) {
    if (have.count(want)) continue;
    std::vector<std::string> ids;
    for (const auto& c : suite.cases) ids.push_back(c.id);
    std::string near = DidYouMean(want, ids);
    return InvalidInput("--case " + Quote(want) + ": no such case in " + suite.file +
                        (near.empty() ? "" : " (did you mean " + Quote(near) + "?)"));
  }

  Clock* clock = options.services.clock ? options.services.clock : SystemClock::Default();
  std::string eval_id = options.run_id.empty() ? store::UnusedRunId(st, clock->WallNow()) : options.run_id;
  SW_RETURN_IF_ERROR(ValidateRunId(eval_id));
  SW_ASSIGN_OR_RETURN(auto existing, st->GetRun(eval_id));
  if (existing) return InvalidInput("run " + eval_id + " already exists");
  store::RunRecord rec;
  rec.id = eval_id;
  rec.workflow_file = suite.file;
  rec.workflow_name = suite.name;
  rec.workflow_hash = suite.hash;
  rec.status = "running";
  rec.created_at = clock->WallNow();
  rec.label = "eval";
  rec.pid = ::getpid();
  json opts = options.record_options.is_object() ? options.record_options : json::object();
  opts["kind"] = "eval";
  opts["workflow"] = suite.workflow_file;
  opts["cases"] = cases.size();
  opts["concurrency"] = options.concurrency > 0 ? options.concurrency : suite.concurrency;
  opts["no_cache"] = !options.use_cache;
  opts["max_calls"] = options.default_max_calls;
  if (!options.only_cases.empty()) opts["only_cases"] = options.only_cases;
  rec.options_json = opts.dump();
  {
    store::Batch b;
    b.run = rec;
    SW_RETURN_IF_ERROR(st->Commit(b));
  }
  double wall0 = NowMs();

  auto budget = std::make_shared<engine::BudgetAccount>("suite budget", suite.budget, nullptr);
  Tolerance tol = suite.tolerance;
  json report{{"format", kReportFormat},
              {"run", eval_id},
              {"suite",
               {{"name", suite.name},
                {"file", suite.file},
                {"hash", suite.hash},
                {"workflow", suite.workflow_file},
                {"workflow_hash", wf->source_hash}}},
              {"created_at", rec.created_at},
              {"finished_at", 0},
              {"tolerance", ToleranceJson(tol)},
              {"cases", json::array()}};
  // An offline replay says so in its report: its latencies are the recordings' (a few ms), so
  // it is no baseline for latency, and the history marks it.
  if (opts.contains("replay") && opts["replay"].is_object()) report["replay"] = opts["replay"];
  std::vector<json> entries(cases.size());
  std::mutex mu;
  int done = 0;
  std::atomic<size_t> next{0};
  std::atomic<bool> budget_skipped{false};  // a case never started: the suite budget was spent

  auto run_case = [&](const Case& c) -> json {
    json entry{{"id", c.id},  {"run", ""},    {"status", "error"}, {"run_status", ""}, {"inputs", ReportInputs(c.inputs)},
               {"cost_usd", 0}, {"latency_ms", 0}, {"tokens_in", 0}, {"tokens_out", 0}, {"calls", 0},
               {"error", ""},  {"assertions", json::array()}};
    if (!c.vars.empty()) entry["vars"] = c.vars;
    CaseRun cr;
    auto finish_without_run = [&](const std::string& why) {
      cr.error = why;
      entry["error"] = why;
      for (const auto* list : {&suite.asserts, &c.asserts})
        for (const auto& a : *list) entry["assertions"].push_back(CheckAssertion(a, c, cr, nullptr, suite.judge_model));
      return entry;
    };
    if (options.cancel && options.cancel->load()) return finish_without_run("cancelled before it started");
    if (std::string why = BudgetExhausted(suite.budget, *budget); !why.empty()) {
      budget_skipped = true;
      return finish_without_run(why + " before this case started");
    }
    std::map<std::string, json> given;
    for (auto& [k, v] : c.inputs.items()) given[k] = v;
    auto inputs = workflow::ResolveInputs(*wf, given);
    if (!inputs.ok()) return finish_without_run("inputs: " + inputs.status().message());
    entry["inputs"] = ReportInputs(*inputs);
    CaseServices cs{options.services, nullptr};
    if (options.case_services) {
      auto s = options.case_services(c.id);
      if (!s.ok()) return finish_without_run(s.status().message());
      cs = std::move(*s);
    }
    engine::RunOptions ro;
    ro.inputs = *inputs;
    ro.use_cache = options.use_cache;
    ro.label = "case " + c.id;
    ro.auto_approve = true;  // an eval cannot wait for a person: every human gate is approved
    ro.default_max_calls = options.default_max_calls;
    ro.cancel = options.cancel ? options.cancel : std::make_shared<std::atomic<bool>>(false);
    ro.run_id = store::UnusedRunId(st, clock->WallNow());
    ro.parent_run_id = eval_id;
    ro.parent_budget = budget;
    ro.workspace_root = options.workspace_root;
    ro.record_options = json{{"kind", "eval_case"}, {"eval", eval_id}, {"case", c.id}, {"yes", true},
                             {"no_cache", !options.use_cache}, {"max_calls", options.default_max_calls}};
    for (const char* k : {"script", "config", "prices", "model"})
      if (opts.contains(k)) ro.record_options[k] = opts[k];
    ro.blocking_threads = 2;
    std::string case_run_id = ro.run_id;
    double t0 = NowMs();
    auto r = engine::Run(wf, cs.services, std::move(ro));
    cr.latency_ms = NowMs() - t0;
    cr.inputs = *inputs;
    if (!r.ok()) return finish_without_run("the case could not run: " + r.status().message());
    cr.run_id = r->run_id;
    cr.run_status = r->status;
    cr.error = r->error;
    cr.outputs = r->outputs;
    cr.cost_usd = r->cost_usd;
    cr.cost_unknown = r->cost_unknown;
    cr.tokens_in = r->tokens_in;
    cr.tokens_out = r->tokens_out;
    cr.calls = r->calls;
    if (r->status == "waiting") cr.error = "waiting at " + Join(r->waiting, ", ");
    auto rows = st->ListNodeRuns(case_run_id);
    if (rows.ok()) {
      std::map<std::string, std::pair<double, double>> span;
      for (const auto& row : *rows) {
        auto& ns = cr.nodes[row.node];
        ns.cost_usd += row.cost_usd;
        ns.tokens += row.tokens_in + row.tokens_out;
        ns.cost_unknown = ns.cost_unknown || row.cost_unknown;
        auto& sp = span[row.node];
        if (row.started_at > 0 && (sp.first == 0 || row.started_at < sp.first)) sp.first = row.started_at;
        sp.second = std::max(sp.second, row.finished_at);
      }
      for (auto& [n, sp] : span)
        if (sp.first > 0 && sp.second >= sp.first) cr.nodes[n].latency_ms = (sp.second - sp.first) * 1000;
    }
    // Judges run as sub-runs of the case, under the suite budget. What a judge run spent is the
    // case's spend whether or not it gave a verdict (a failed judge run is paid for too).
    double judge_cost = 0;
    bool judge_cost_unknown = false;
    int64_t judge_tin = 0, judge_tout = 0, judge_calls = 0;
    JudgeFn judge = [&, case_run_id](const Assertion& a, const std::string& model, const std::string& output,
                                     const json& case_json) -> Result<json> {
      if (!judge_wf) return Internal("no judge workflow");
      if (std::string why = BudgetExhausted(suite.budget, *budget); !why.empty()) return Failed(why);
      auto jwf = workflow::WithModel(judge_wf, model);
      std::map<std::string, json> jg{{"rubric", a.value}, {"output", output}, {"case", case_json.dump()}};
      SW_ASSIGN_OR_RETURN(json jin, workflow::ResolveInputs(*jwf, jg));
      engine::RunOptions jo;
      jo.inputs = jin;
      jo.use_cache = options.use_cache;
      jo.label = "judge " + a.id;
      jo.auto_approve = true;
      jo.default_max_calls = options.default_max_calls;
      jo.cancel = options.cancel ? options.cancel : std::make_shared<std::atomic<bool>>(false);
      jo.run_id = store::UnusedRunId(st, clock->WallNow());
      jo.parent_run_id = case_run_id;
      jo.parent_budget = budget;
      jo.record_options = json{{"kind", "eval_judge"}, {"eval", eval_id}, {"case", c.id}, {"assertion", a.id},
                               {"model", model}};
      SW_ASSIGN_OR_RETURN(engine::RunSummary js, engine::Run(jwf, cs.services, std::move(jo)));
      judge_cost += js.cost_usd;
      judge_cost_unknown = judge_cost_unknown || js.cost_unknown;
      judge_tin += js.tokens_in;
      judge_tout += js.tokens_out;
      judge_calls += js.calls;
      json v{{"run", js.run_id}, {"cost_usd", js.cost_usd}, {"tokens_in", js.tokens_in},
             {"tokens_out", js.tokens_out}, {"calls", js.calls}};
      if (js.status != "succeeded") return Failed("judge run " + js.run_id + " " + js.status + ": " + js.error);
      json verdict = js.outputs.contains("verdict") ? js.outputs["verdict"] : json();
      if (verdict.is_string()) verdict = json::parse(verdict.get<std::string>(), nullptr, false);
      if (!verdict.is_object()) return Failed("judge run " + js.run_id + " gave no JSON verdict");
      for (auto& [k, x] : verdict.items()) v[k] = x;
      return v;
    };
    bool any_error = false, all_pass = true;
    for (const auto* list : {&suite.asserts, &c.asserts})
      for (const auto& a : *list) {
        json res = CheckAssertion(a, c, cr, judge, suite.judge_model);
        if (!a.description.empty()) res["description"] = a.description;
        // The judge's spend is counted by the judge function (verdict or not).
        for (const char* k : {"judge_cost_usd", "judge_tokens_in", "judge_tokens_out", "judge_calls"}) res.erase(k);
        // At 100k cases the outputs of passed checks would be most of the report: `actual` is
        // kept for the failed and errored ones only.
        if (res["status"] == "passed") res.erase("actual");
        any_error = any_error || res["status"] == "error";
        all_pass = all_pass && res["passed"] == true;
        entry["assertions"].push_back(std::move(res));
      }
    entry["run"] = cr.run_id;
    entry["run_status"] = cr.run_status;
    entry["error"] = cr.error;
    entry["cost_usd"] = cr.cost_usd + judge_cost;
    if (cr.cost_unknown || judge_cost_unknown) entry["cost_unknown"] = true;
    entry["latency_ms"] = cr.latency_ms;
    entry["tokens_in"] = cr.tokens_in + judge_tin;
    entry["tokens_out"] = cr.tokens_out + judge_tout;
    entry["calls"] = cr.calls + judge_calls;
    entry["status"] = cr.run_status != "succeeded" || any_error ? "error" : all_pass ? "passed" : "failed";
    return entry;
  };

  int n_threads = options.concurrency > 0 ? options.concurrency : suite.concurrency;
  n_threads = std::max(1, std::min<int>(n_threads, static_cast<int>(cases.size())));
  std::vector<std::thread> threads;
  for (int t = 0; t < n_threads; ++t)
    threads.emplace_back([&] {
      for (;;) {
        size_t i = next.fetch_add(1);
        if (i >= cases.size()) return;
        json e;
        try {
          e = run_case(*cases[i]);
        } catch (const std::exception& ex) {
          e = json{{"id", cases[i]->id}, {"run", ""}, {"status", "error"}, {"run_status", ""}, {"inputs", ReportInputs(cases[i]->inputs)},
                   {"cost_usd", 0}, {"latency_ms", 0}, {"tokens_in", 0}, {"tokens_out", 0}, {"calls", 0},
                   {"error", std::string("internal error: ") + ex.what()}, {"assertions", json::array()}};
        }
        std::lock_guard<std::mutex> l(mu);
        entries[i] = std::move(e);
        ++done;
        if (options.on_case) options.on_case(entries[i], done, static_cast<int>(cases.size()));
      }
    });
  for (auto& t : threads) t.join();

  for (auto& e : entries) report["cases"].push_back(std::move(e));
  rec.finished_at = clock->WallNow();
  report["finished_at"] = rec.finished_at;
  Summarise(&report);
  report["summary"]["wall_ms"] = NowMs() - wall0;
  const json& sum = report["summary"];
  bool cancelled = options.cancel && options.cancel->load();
  int passed = sum["passed"].get<int>(), total = sum["cases"].get<int>();
  rec.status = cancelled ? "cancelled" : passed == total ? "succeeded" : "failed";
  if (passed != total)
    rec.error = std::to_string(total - passed) + " of " + std::to_string(total) + " cases did not pass (" +
                std::to_string(sum["failed"].get<int>()) + " failed, " + std::to_string(sum["errored"].get<int>()) +
                " errors)";
  rec.cost_usd = sum["cost_usd"].get<double>();
  rec.cost_unknown = sum["cost_unknown"].get<bool>();
  rec.tokens_in = sum["tokens_in"].get<int64_t>();
  rec.tokens_out = sum["tokens_out"].get<int64_t>();
  rec.calls = sum["calls"].get<int64_t>();
  rec.nodes_total = total;
  rec.nodes_succeeded = passed;
  rec.nodes_failed = total - passed;
  std::string text;
  try {
    text = report.dump(2);
  } catch (const json::type_error&) {
    // Bytes that are not UTF-8 (a tool's output, say) would make the report unwritable after
    // every case was paid for: they become U+FFFD, in the stored report and the returned one.
    text = report.dump(2, ' ', false, json::error_handler_t::replace);
    report = json::parse(text);
  }
  store::Batch b;
  b.run = rec;
  std::string h = Hash128Hex(text);
  b.blobs.emplace_back(h, text);
  store::ArtifactRecord art;
  art.run_id = eval_id;
  art.name = kReportArtifact;
  art.media_type = "application/json";
  art.blob = h;
  art.produced_by = "eval";
  art.created_at = rec.finished_at;
  b.artifacts.push_back(art);
  SW_RETURN_IF_ERROR(st->Commit(b));
  // The eval is a top-level run: its end is told as engine::Run tells one (the cases, sub-runs,
  // tell nothing). budget_stopped: the suite budget refused a call or kept a case from starting.
  if (engine::RunObserver* obs = options.services.observer) {
    engine::RunSummary es;
    es.run_id = eval_id;
    es.status = rec.status;
    es.error = rec.error;
    es.cost_usd = rec.cost_usd;
    es.cost_unknown = rec.cost_unknown;
    es.tokens_in = rec.tokens_in;
    es.tokens_out = rec.tokens_out;
    es.calls = rec.calls;
    es.succeeded = passed;
    es.failed = total - passed;
    es.budget_stopped = rec.status == "failed" && (budget_skipped.load() || budget->refused());
    json cmp;
    if (!options.baseline.is_null()) cmp = Compare(options.baseline, report, options.baseline_tolerance);
    es.notify_extra = NotifyExtra(report, cmp);
    workflow::Workflow as_run;  // what the observer reads of "the workflow": the suite's name, file, notify
    as_run.name = suite.name;
    as_run.file = suite.file;
    as_run.notify = suite.notify;
    obs->OnRunEnded(as_run, es);
  }
  return report;
}

}  // namespace sw::eval
