// eval, evals, eval-report and the offline replay of an eval: the command line of src/eval.
#include "cli/eval_cmd.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <set>

#include "base/fs.h"
#include "base/strings.h"
#include "cli/cli.h"
#include "cli/recordings.h"
#include "llm/replay.h"
#include "observe/observe.h"
#include "workflow/patterns.h"

namespace sw::cli {
namespace {

using json = nlohmann::json;

std::shared_ptr<std::atomic<bool>> g_eval_cancel;
std::atomic<int> g_eval_sigints{0};
void OnEvalSigint(int) {
  if (g_eval_cancel) g_eval_cancel->store(true);
  if (++g_eval_sigints >= 3) _exit(kExitCancelled);
}

std::string Abs(const std::string& p) { return p.empty() ? p : std::filesystem::absolute(p).string(); }

/// LoadReportArg reads a report: a file when x names one, else an eval run in the store.
Result<json> LoadReportArg(const Context& ctx, Env* env, const std::string& x, const std::string& what) {
  if (FileExists(x)) {
    auto text = ReadFile(x);
    if (!text.ok()) return text.status().Annotate(what);
    if (text->size() > (256u << 20)) return InvalidInput(what + " " + x + " is larger than 256 MiB");
    json j = json::parse(*text, nullptr, false);
    if (j.is_discarded()) return InvalidInput(what + " " + x + " is not JSON");
    SW_RETURN_IF_ERROR(eval::CheckReport(j, what + " " + x));
    return j;
  }
  if (!env->store) {
    if (!StoreExists(ctx))
      return NotFound(what + " " + Quote(x) + " is neither a report file nor a run: there is no store at " +
                      StorePath(ctx));
    SW_RETURN_IF_ERROR(OpenExistingStore(ctx, env));
  }
  auto id = env->store->ResolveRunId(x);
  if (!id.ok()) return NotFound(what + " " + Quote(x) + " is neither a report file nor a run: " + id.status().message());
  return eval::LoadStoredReport(env->store.get(), *id);
}

/// RestoreSignals puts back the default SIGINT and SIGTERM handling InstallSigint replaced.
void RestoreSignals() {
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
}

void InstallSigint() {
  g_eval_cancel = std::make_shared<std::atomic<bool>>(false);
  struct sigaction sa {};
  sa.sa_handler = OnEvalSigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

/// Progress: one line per finished case on stderr (a terminal gets a counter for passes).
std::function<void(const json&, int, int)> CaseProgress(const Context& ctx) {
  bool tty = ::isatty(STDERR_FILENO);
  return [tty, quiet = ctx.json](const json& c, int done, int total) {
    if (quiet) return;
    std::string st = c.value("status", "error");
    // After Ctrl-C the cases never started are counted, not listed one by one.
    bool unstarted = c.value("error", "") == "cancelled before it started";
    if ((st == "passed" || unstarted) && tty) {
      std::fprintf(stderr, "\r[%d/%d] ", done, total);
    } else if (st != "passed" && !unstarted) {
      std::fprintf(stderr, "%s[%d/%d] %s %s%s%s\n", tty ? "\r" : "", done, total, st == "failed" ? "FAIL " : "ERROR",
                   c.value("id", "").c_str(), c.value("error", "").empty() ? "" : ": ", c.value("error", "").c_str());
    }
    if (done == total && tty) std::fprintf(stderr, "\n");
  };
}

/// Finish writes --output and --junit, prints the report (and its comparison with baseline,
/// when not null, under tol), and returns the exit code: with a baseline 1 iff a regression;
/// else 1 iff a case did not pass.
int Finish(Context& ctx, const json& report, const json* baseline, const eval::Tolerance& tol) {
  std::string output = ctx.args.Get("output"), junit = ctx.args.Get("junit");
  if (!output.empty()) SW_RETURN_IF_ERROR_EXIT(ctx, WriteFileAtomic(output, report.dump(2) + "\n"));
  if (!junit.empty()) SW_RETURN_IF_ERROR_EXIT(ctx, WriteFileAtomic(junit, eval::JUnitXml(report)));
  json cmp;
  if (baseline) cmp = eval::Compare(*baseline, report, tol);
  const json& s = report["summary"];
  if (ctx.json) {
    std::cout << json{{"report", report}, {"compare", cmp}}.dump(2) << "\n";
  } else {
    std::cout << eval::TextReport(report, s.value("cases", 0) > 50);
    if (!cmp.is_null()) std::cout << eval::TextCompare(cmp);
    std::string id = report.value("run", "");
    std::printf("next: specwright eval-report %s --format junit   (export)   specwright replay %s --offline   (reproduce)\n",
                id.c_str(), id.c_str());
    if (!output.empty()) std::printf("wrote %s\n", output.c_str());
    if (!junit.empty()) std::printf("wrote %s\n", junit.c_str());
  }
  if (!cmp.is_null()) return cmp.value("verdict", "") == "regression" ? kExitFailed : kExitOk;
  return s.value("passed", 0) == s.value("cases", 0) ? kExitOk : kExitFailed;
}

Status PreflightSuite(const eval::Suite& suite, const Env& env) {
  auto wf = workflow::LoadOrError(suite.workflow_file);
  if (!wf.ok()) return wf.status().Annotate("the suite's workflow");
  SW_RETURN_IF_ERROR(Preflight(**wf, env));
  std::set<std::string> judges;
  for (const auto* list : {&suite.asserts})
    for (const auto& a : *list)
      if (a.kind == eval::AssertKind::kRubric) judges.insert(a.judge_model.empty() ? suite.judge_model : a.judge_model);
  for (const auto& c : suite.cases)
    for (const auto& a : c.asserts)
      if (a.kind == eval::AssertKind::kRubric) judges.insert(a.judge_model.empty() ? suite.judge_model : a.judge_model);
  if (judges.empty()) return Status::Ok();
  auto path = workflow::ResolvePattern("std/judge");
  if (!path.ok()) return path.status().Annotate("a rubric assertion runs std/judge");
  auto jwf = workflow::LoadOrError(*path);
  if (!jwf.ok()) return jwf.status().Annotate("std/judge");
  for (const auto& m : judges) SW_RETURN_IF_ERROR(Preflight(*WithModel(*jwf, m), env).Annotate("the judge " + m));
  return Status::Ok();
}

}  // namespace

int CmdEval(Context& ctx) {
  if (ctx.args.positional.size() != 1) return Usage(ctx, "eval needs exactly one SUITE file");
  auto suite = eval::LoadSuite(ctx.args.positional[0]);
  if (!suite.ok()) return Fail(ctx, suite.status());
  for (const auto& t : ctx.args.All("tolerance")) {
    eval::Tolerance probe;
    if (Status s = eval::ParseTolerance(t, &probe); !s.ok()) return Usage(ctx, s.message());
  }
  eval::EvalOptions options;
  if (ctx.args.Has("concurrency")) {
    auto v = IntArg(ctx.args.Get("concurrency"), 1, 256);
    if (!v) return Usage(ctx, "--concurrency needs an integer in 1..256");
    options.concurrency = static_cast<int>(*v);
  }
  if (ctx.args.Has("max-calls")) {
    auto v = IntArg(ctx.args.Get("max-calls"), 1, std::numeric_limits<long long>::max());
    if (!v) return Usage(ctx, "--max-calls needs a positive integer");
    options.default_max_calls = *v;
  }
  std::string script = ctx.args.Get("script");
  if (script.empty())
    if (const char* e = std::getenv("SPECWRIGHT_SCRIPT")) script = e;
  std::string config = ctx.args.Get("config"), prices = ctx.args.Get("prices");
  if (const char* e = std::getenv("SPECWRIGHT_CONFIG"); config.empty() && e) config = e;
  script = Abs(script);
  config = Abs(config);
  prices = Abs(prices);
  Env env;
  // The baseline is read before anything runs: a typo should not cost a suite's worth of calls.
  if (ctx.args.Has("baseline")) {
    auto base = LoadReportArg(ctx, &env, ctx.args.Get("baseline"), "--baseline");
    if (!base.ok()) return Fail(ctx, base.status());
    // One comparison, under one tolerance, for the webhook's verdict and for Finish (read here,
    // so a report written by --output over the baseline's file is not read back as the baseline).
    options.baseline_tolerance = suite->has_tolerance ? suite->tolerance : eval::ToleranceOf(*base);
    for (const auto& t : ctx.args.All("tolerance"))
      SW_RETURN_IF_ERROR_EXIT(ctx, eval::ParseTolerance(t, &options.baseline_tolerance));
    options.baseline = std::move(*base);
  }
  SW_RETURN_IF_ERROR_EXIT(ctx, SetupEnv(ctx, script, config, prices, &env));
  SW_RETURN_IF_ERROR_EXIT(ctx, PreflightSuite(*suite, env));
  options.services = ServicesOf(env);
  options.run_id = ctx.args.Get("run-id");
  options.only_cases = ctx.args.All("case");
  // An eval measures the model: cached answers would report no cost and no change. --cache
  // opts in (re-checking assertions on unchanged answers for free).
  if (ctx.args.Has("cache") && ctx.args.Has("no-cache")) return Usage(ctx, "--cache and --no-cache contradict each other");
  options.use_cache = ctx.args.Has("cache");
  options.workspace_root = StoreFilesDir(ctx) + "/workspaces";
  options.record_options = json{{"script", script}, {"config", config}, {"prices", prices}};
  InstallSigint();
  options.cancel = g_eval_cancel;
  options.on_case = CaseProgress(ctx);
  if (!ctx.json)
    std::fprintf(stderr, "eval %s: %zu cases of %s, %d at once\n", suite->name.c_str(),
                 options.only_cases.empty() ? suite->cases.size() : options.only_cases.size(),
                 suite->workflow_file.c_str(), options.concurrency ? options.concurrency : suite->concurrency);
  auto report = eval::RunSuite(*suite, options);
  RestoreSignals();
  if (!report.ok()) return Fail(ctx, report.status());
  const json* baseline = ctx.args.Has("baseline") ? &options.baseline : nullptr;
  int rc = Finish(ctx, *report, baseline, options.baseline_tolerance);
  return g_eval_cancel->load() ? kExitCancelled : rc;
}

int CmdEvals(Context& ctx) {
  if (ctx.args.positional.size() > 1) return Usage(ctx, "evals takes at most one SUITE (a name or file)");
  if (NoStoreHere(ctx, "no eval runs", "specwright eval SUITE.yaml", "{\"suites\": []}")) return kExitOk;
  Env env;
  SW_RETURN_IF_ERROR_EXIT(ctx, OpenExistingStore(ctx, &env));
  std::string filter = ctx.args.positional.empty() ? "" : ctx.args.positional[0];
  if (!filter.empty() && FileExists(filter)) filter = Abs(filter);
  int limit = 1000;
  if (ctx.args.Has("limit")) {
    auto v = IntArg(ctx.args.Get("limit"), 1, 100000);
    if (!v) return Usage(ctx, "--limit needs an integer in 1..100000");
    limit = static_cast<int>(*v);
  }
  auto h = eval::History(env.store.get(), filter, limit);
  if (!h.ok()) return Fail(ctx, h.status());
  if (ctx.json) {
    std::cout << h->dump(2) << "\n";
    return kExitOk;
  }
  if ((*h)["suites"].empty()) {
    std::printf("no eval runs%s; next: specwright eval SUITE.yaml\n", filter.empty() ? "" : (" of " + filter).c_str());
    return kExitOk;
  }
  for (const auto& s : (*h)["suites"]) {
    std::printf("%s  (%s)\n", s.value("name", "").c_str(), s.value("file", "").c_str());
    std::printf("  %-24s %-19s %-10s %9s %7s %10s %9s\n", "RUN", "STARTED", "STATUS", "PASS RATE", "CASES", "COST",
                "P50");
    for (const auto& r : s["runs"]) {
      std::string rate = r["pass_rate"].is_number() ? std::to_string(static_cast<int>(r["pass_rate"].get<double>() * 1000 + 0.5) / 10) + "." +
                                                          std::to_string(static_cast<int>(r["pass_rate"].get<double>() * 1000 + 0.5) % 10) + "%"
                                                    : "-";
      std::string p50 = r["latency_p50_ms"].is_number() ? std::to_string(static_cast<long long>(r["latency_p50_ms"].get<double>())) + " ms" : "-";
      // An offline replay is marked: it reproduced an eval (its latencies are the recordings').
      std::string replay = r["replay_of"].is_string() ? "  replay of " + r["replay_of"].get<std::string>() : "";
      std::printf("  %-24s %-19s %-10s %9s %7d %10s %9s%s\n", r.value("run", "").c_str(),
                  LocalTime(r.value("created_at", 0.0), "%Y-%m-%d %H:%M:%S").c_str(), r.value("status", "").c_str(),
                  rate.c_str(), r.value("cases", 0), FormatUsd(r.value("cost_usd", 0.0)).c_str(), p50.c_str(),
                  replay.c_str());
    }
  }
  return kExitOk;
}

int CmdEvalReport(Context& ctx) {
  if (ctx.args.positional.size() != 1) return Usage(ctx, "eval-report needs exactly one RUN or report FILE");
  std::string format = ctx.args.Get("format", ctx.json ? "json" : "text");
  if (format != "text" && format != "json" && format != "junit")
    return Usage(ctx, "--format is text, json or junit, not " + Quote(format));
  Env env;
  auto report = LoadReportArg(ctx, &env, ctx.args.positional[0], "eval-report");
  if (!report.ok()) return Fail(ctx, report.status());
  json cmp;
  if (ctx.args.Has("baseline")) {
    auto base = LoadReportArg(ctx, &env, ctx.args.Get("baseline"), "--baseline");
    if (!base.ok()) return Fail(ctx, base.status());
    eval::Tolerance tol = eval::ToleranceOf(*report);
    for (const auto& t : ctx.args.All("tolerance")) {
      if (Status s = eval::ParseTolerance(t, &tol); !s.ok()) return Usage(ctx, s.message());
    }
    cmp = eval::Compare(*base, *report, tol);
  }
  std::string output = ctx.args.Get("output");
  std::string text;
  if (format == "junit") text = eval::JUnitXml(*report);
  else if (format == "json") text = (cmp.is_null() ? *report : cmp).dump(2) + "\n";
  else text = eval::TextReport(*report) + (cmp.is_null() ? "" : eval::TextCompare(cmp));
  if (!output.empty()) {
    SW_RETURN_IF_ERROR_EXIT(ctx, WriteFileAtomic(output, text));
    if (!ctx.json) std::printf("wrote %s\n", output.c_str());
  } else {
    std::cout << text;
  }
  if (!cmp.is_null()) return cmp.value("verdict", "") == "regression" ? kExitFailed : kExitOk;
  return kExitOk;
}

int ReplayEval(Context& ctx, Env& env, const store::RunRecord& source) {
  if (!ctx.args.Has("offline"))
    return Usage(ctx, "run " + source.id + " is an eval: it replays only --offline (to run the suite again, "
                      "`specwright eval " + source.workflow_file + "`)");
  for (const char* f : {"from", "model", "prompt", "input"})
    if (ctx.args.Has(f)) return Usage(ctx, std::string("--") + f + " does not apply to an eval's offline replay");
  auto src = eval::LoadStoredReport(env.store.get(), source.id);
  if (!src.ok()) return Fail(ctx, src.status());
  auto suite = eval::LoadSuite(source.workflow_file);
  if (!suite.ok()) return Fail(ctx, suite.status().Annotate("the eval's suite"));
  if (suite->hash != source.workflow_hash && !ctx.args.Has("allow-drift"))
    return Fail(ctx, InvalidInput("suite " + source.workflow_file + " (or its dataset) changed since eval " + source.id +
                                  " ran; pass --allow-drift to replay it anyway"));
  auto wf = workflow::LoadOrError(suite->workflow_file);
  if (!wf.ok()) return Fail(ctx, wf.status().Annotate("the suite's workflow"));
  // The suite hash does not cover the workflow: its own hash, in the report, does.
  std::string recorded_wf_hash;
  if ((*src)["suite"].is_object() && (*src)["suite"].contains("workflow_hash") && (*src)["suite"]["workflow_hash"].is_string())
    recorded_wf_hash = (*src)["suite"]["workflow_hash"].get<std::string>();
  if (!recorded_wf_hash.empty() && (*wf)->source_hash != recorded_wf_hash && !ctx.args.Has("allow-drift"))
    return Fail(ctx, InvalidInput("workflow " + suite->workflow_file + " changed since eval " + source.id +
                                  " ran; pass --allow-drift to replay it anyway"));
  json opts = json::parse(source.options_json, nullptr, false);
  if (!opts.is_object()) opts = json::object();
  // The prices the eval ran with (its script's, its price file), so costs and cost
  // assertions come back as they were; no provider of them answers: the recordings do.
  std::string script = ctx.args.Get("script", opts.value("script", ""));
  if (!script.empty() && !FileExists(script)) {
    std::fprintf(stderr, "warning: the eval's script %s is gone: its prices are unknown to the replay\n", script.c_str());
    script.clear();
  }
  SW_RETURN_IF_ERROR_EXIT(ctx, SetupEnv(ctx, script, ctx.args.Get("config", opts.value("config", "")),
                                        opts.value("prices", ""), &env));
  std::map<std::string, std::string> case_runs;
  eval::EvalOptions options;
  for (const auto& c : (*src)["cases"]) {
    options.only_cases.push_back(c["id"].get<std::string>());
    case_runs[c["id"].get<std::string>()] = c.value("run", "");
  }
  // Every provider a workflow or judge may name answers from the case's recordings.
  std::set<std::string> providers;
  std::function<void(const workflow::Workflow&)> names = [&](const workflow::Workflow& w) {
    for (const auto& n : w.nodes) {
      std::string p, m;
      if (!n.model.model.empty() && llm::SplitModel(n.model.model, &p, &m).ok()) providers.insert(p);
      for (const auto& fb : n.model.fallbacks)
        if (llm::SplitModel(fb, &p, &m).ok()) providers.insert(p);
      if (n.sub) names(*n.sub);
    }
  };
  names(**wf);
  {
    std::string p, m;
    if (llm::SplitModel(suite->judge_model, &p, &m).ok()) providers.insert(p);
  }
  store::Store* st = env.store.get();
  env.no_notify = true;  // an offline replay sends no webhooks (notify:)
  engine::Services base = ServicesOf(env);
  std::string source_id = source.id;
  options.case_services = [st, base, case_runs, providers, source_id](const std::string& case_id) -> Result<eval::CaseServices> {
    auto it = case_runs.find(case_id);
    if (it == case_runs.end() || it->second.empty())
      return NotFound("case " + case_id + " has no recorded run in eval " + source_id);
    SW_ASSIGN_OR_RETURN(auto g, GatherRecordings(st, it->second));
    auto registry = std::make_shared<llm::Registry>();
    std::set<std::string> all = providers;
    all.insert(g.providers.begin(), g.providers.end());
    for (const auto& p : all) registry->Add(std::make_shared<llm::ReplayProvider>(p, g.recordings, it->second));
    eval::CaseServices cs;
    cs.services = base;
    cs.services.providers = registry.get();
    cs.keep = registry;
    return cs;
  };
  options.services = base;
  options.run_id = ctx.args.Get("run-id");
  options.concurrency = opts.value("concurrency", 0);
  options.use_cache = false;  // every answer from the recordings
  options.default_max_calls = opts.value("max_calls", int64_t{500});
  options.workspace_root = StoreFilesDir(ctx) + "/workspaces";
  options.record_options = json{{"script", script},
                                {"config", opts.value("config", "")},
                                {"prices", opts.value("prices", "")},
                                {"replay", {{"of", source.id}, {"offline", true}}}};
  InstallSigint();
  options.cancel = g_eval_cancel;
  options.on_case = CaseProgress(ctx);
  if (!ctx.json)
    std::fprintf(stderr, "replaying eval %s offline: %zu cases, each from its own recordings\n", source.id.c_str(),
                 options.only_cases.size());
  auto report = eval::RunSuite(*suite, options);
  RestoreSignals();
  if (!report.ok()) return Fail(ctx, report.status());
  // The promise, checked: every case's verdicts are the recorded ones. Latency is not
  // replayed (recordings answer at once), so latency_ms assertions are not compared.
  std::map<std::string, const json*> now;
  for (const auto& c : (*report)["cases"]) now[c["id"].get<std::string>()] = &c;
  int same = 0, total = 0;
  std::vector<std::string> differ;
  for (const auto& c : (*src)["cases"]) {
    ++total;
    std::string id = c["id"].get<std::string>();
    auto it = now.find(id);
    bool eq = it != now.end();
    std::vector<std::string> why;
    if (eq) {
      const json& n = *it->second;
      std::map<std::string, std::string> a_st, b_st;
      for (const auto& a : c["assertions"])
        if (a.value("type", "") != "latency_ms") a_st[a.value("id", "")] = a.value("status", "");
      for (const auto& a : n["assertions"])
        if (a.value("type", "") != "latency_ms") b_st[a.value("id", "")] = a.value("status", "");
      for (const auto& [aid, s] : a_st)
        if (b_st[aid] != s) why.push_back(aid + " " + s + " -> " + (b_st[aid].empty() ? "missing" : b_st[aid]));
      if (a_st.size() != b_st.size()) why.push_back("a different set of assertions");
      bool has_latency = false;
      for (const auto& a : c["assertions"]) has_latency = has_latency || a.value("type", "") == "latency_ms";
      if (!has_latency && c.value("status", "") != n.value("status", ""))
        why.push_back("status " + c.value("status", "") + " -> " + n.value("status", ""));
      // As `replay --offline` of a run: every node's output byte for byte, and what the case
      // spent (its judges' included) to the token.
      std::string ra = c.value("run", ""), rb = n.value("run", "");
      if (!ra.empty() && !rb.empty()) {
        auto d = observe::Diff(env.store.get(), ra, rb, 0);
        if (!d.ok()) {
          why.push_back("cannot compare runs " + ra + " and " + rb + ": " + d.status().message());
        } else {
          std::vector<std::string> nodes;
          for (const auto& nd : d->nodes) {
            if (!nd.a || nd.a->output_blob.empty()) continue;
            if (!nd.b || nd.a->output_blob != nd.b->output_blob) nodes.push_back(nd.node);
          }
          if (!nodes.empty())
            why.push_back("output of " + Join(nodes, ", ") + " (see `specwright diff " + ra + " " + rb + "`)");
        }
      } else if (ra.empty() != rb.empty()) {
        why.push_back(ra.empty() ? "ran now, not in the recording" : "did not run");
      }
      double ca = c.value("cost_usd", 0.0), cb = n.value("cost_usd", 0.0);
      if (std::fabs(ca - cb) > 1e-9 * std::max({1.0, std::fabs(ca), std::fabs(cb)}))
        why.push_back("cost " + FormatUsd(ca) + " -> " + FormatUsd(cb));
      for (const char* k : {"tokens_in", "tokens_out", "calls"}) {
        int64_t x = c.value(k, int64_t{0}), y = n.value(k, int64_t{0});
        if (x != y) why.push_back(std::string(k) + " " + std::to_string(x) + " -> " + std::to_string(y));
      }
      eq = why.empty();
    } else {
      why.push_back("not replayed");
    }
    if (eq) ++same;
    else differ.push_back("case " + id + ": " + Join(why, ", "));
  }
  // `replay` takes no --baseline: its check is the identity below (eval-report compares).
  Finish(ctx, *report, nullptr, eval::Tolerance{});
  if (!ctx.json) std::printf("offline replay: %d of %d cases identical to eval %s\n", same, total, source.id.c_str());
  if (!differ.empty()) {
    for (const auto& d : differ) std::fprintf(stderr, "differs: %s\n", d.c_str());
    return Fail(ctx, Failed(std::to_string(total - same) + " of " + std::to_string(total) +
                            " cases differ from the recording"));
  }
  // The replay reproduced the eval: its verdict (some cases failing) is the recording's, not
  // the replay's failure. `replay` takes no --baseline (its question is "identical?"; compare
  // the replay with `eval-report REPLAY --baseline X`).
  return kExitOk;
}

}  // namespace sw::cli
