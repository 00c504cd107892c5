#include "server/api.h"

#include <sys/wait.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/hash.h"
#include "base/json_writer.h"
#include "base/ids.h"
#include "base/strings.h"
#include "base/subprocess.h"
#include "engine/control.h"
#include "eval/eval.h"
#include "observe/observe.h"
#include "notify/notify.h"
#include "server/spec_api.h"

namespace sw::server {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

Response Json(std::string body, int status = 200) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response ErrorResponse(int status, const std::string& message) { return Json(json{{"error", message}}.dump(), status); }

int HttpStatusOf(const Status& s) {
  switch (s.code()) {
    case Code::kInvalidInput: return 400;
    case Code::kPermission: return 403;
    case Code::kNotFound: return 404;
    case Code::kUnavailable: return 503;
    default: return 500;
  }
}

Response ErrorResponse(const Status& s) { return ErrorResponse(HttpStatusOf(s), s.message()); }

template <typename T>
Response JsonOr(const Result<T>& r) {
  if (!r.ok()) return ErrorResponse(r.status());
  return Json(*r);
}

/// SafeEqual compares secrets in time independent of where they first differ.
bool SafeEqual(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i % (b.empty() ? 1 : b.size())]);
  return diff == 0 && !b.empty();
}

std::string Query(const Request& r, const std::string& k, const std::string& def = "") {
  auto it = r.query.find(k);
  return it == r.query.end() ? def : it->second;
}

Result<int> IntParam(const Request& r, const std::string& k, int def, int min, int max) {
  std::string v = Query(r, k);
  if (v.empty()) return def;
  char* end = nullptr;
  long n = std::strtol(v.c_str(), &end, 10);
  if (!end || *end || n < min || n > max)
    return InvalidInput("query parameter " + k + "=" + Quote(v) + " is not an integer in " + std::to_string(min) +
                        ".." + std::to_string(max));
  return static_cast<int>(n);
}

Result<json> BodyJson(const Request& r) {
  json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    try {
      j = json::parse(r.body);
    } catch (const json::parse_error& e) {
      return InvalidInput(std::string("request body is not JSON: ") + e.what());
    }
    return InvalidInput("request body must be a JSON object");
  }
  return j;
}

/// RunSignature is what the event stream compares to tell that the run's summary changed.
std::string RunSignature(const store::RunRecord& r) {
  return r.status + "|" + std::to_string(r.tokens_in + r.tokens_out) + "|" + std::to_string(r.calls) + "|" +
         std::to_string(r.nodes_succeeded) + "|" + std::to_string(r.nodes_failed) + "|" +
         std::to_string(r.nodes_skipped) + "|" + std::to_string(r.finished_at) + "|" + std::to_string(r.cost_usd);
}

std::string SseEvent(const char* type, const std::string& data, int64_t id = -1) {
  std::string out;
  if (id >= 0) out += "id: " + std::to_string(id) + "\n";
  out += "event: ";
  out += type;
  out += "\ndata: " + data + "\n\n";  // data is one line of JSON (JSON never holds a raw newline)
  return out;
}

bool UnderDir(const fs::path& p, const fs::path& dir) {
  auto rel = p.lexically_relative(dir);
  return !rel.empty() && *rel.begin() != ".." && !rel.is_absolute();
}

}  // namespace

Response Api::Handle(const Request& req) {
  ReapChildren();
  bool for_api = StartsWith(req.path, "/api/");
  if (options_.token.empty()) {
    // Token-less means loopback only: refuse other Host names, so a web page that rebinds its
    // own DNS name to 127.0.0.1 cannot read the store through the victim's browser.
    auto it = req.headers.find("host");
    std::string host = it == req.headers.end() ? "" : it->second;
    size_t colon = host.rfind(':');
    std::string name = colon != std::string::npos && host.find(']') < colon ? host.substr(0, colon)
                       : colon != std::string::npos && host.find('[') == std::string::npos ? host.substr(0, colon)
                                                                                            : host;
    if (!IsLoopback(name)) return ErrorResponse(403, "Host " + Quote(host) + " is not a loopback name");
  } else if (for_api) {
    // The front end's files hold no data and load without the token (a page cannot add it to
    // its script tags); every API call must carry it.
    std::string given = Query(req, "token");
    auto it = req.headers.find("authorization");
    if (it != req.headers.end() && StartsWith(it->second, "Bearer ")) given = it->second.substr(7);
    if (!SafeEqual(given, options_.token)) {
      Response r = ErrorResponse(401, "this server needs its token: open the URL it printed (…/?token=…) or send "
                                      "`Authorization: Bearer TOKEN`");
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
      return r;
    }
  }
  if (for_api) {
    Response r;
    try {
      r = Route(req);
    } catch (const std::exception& e) {
      r = ErrorResponse(500, std::string("internal error: ") + e.what());
    }
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }
  if (req.method != "GET" && req.method != "HEAD") {
    Response r = ErrorResponse(405, req.method + " is not allowed here");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  return StaticFile(options_.ui_dir, req.path);
}

Response Api::Route(const Request& req) {
  if (!StartsWith(req.path, "/api/v1/")) return ErrorResponse(404, "unknown API path " + Quote(req.path) + " (try /api/v1/)");
  // Segments were split before decoding, so a name may hold "/" (an artifact "launch/a.md").
  std::vector<std::string> seg(req.segments.size() >= 2 ? req.segments.begin() + 2 : req.segments.end(), req.segments.end());
  if (seg.empty()) return ErrorResponse(404, "unknown API path " + Quote(req.path));
  bool get = req.method == "GET" || req.method == "HEAD";
  bool post = req.method == "POST";
  if (post) {
    // A cross-site form cannot send this content type without a preflight we never answer.
    auto it = req.headers.find("content-type");
    if (it == req.headers.end() || !StartsWith(Lower(it->second), "application/json"))
      return ErrorResponse(415, "POST bodies must be Content-Type: application/json");
  }
  const std::string& top = seg[0];
  if (top == "health" && get && seg.size() == 1) {
    // A URL store is named without its password.
    std::string shown = options_.store.empty() ? options_.store_dir : store::StoreLocationForDisplay(options_.store);
    return Json(json{{"version", "0.1.0"}, {"store", shown}, {"work_dir", options_.work_dir}}.dump());
  }
  if (top == "runs" && seg.size() == 1 && get) {
    auto limit = IntParam(req, "limit", 1000, 1, 100000);
    if (!limit.ok()) return ErrorResponse(limit.status());
    auto runs = st_->ListRuns(*limit, Query(req, "all") == "1");
    if (!runs.ok()) return ErrorResponse(runs.status());
    *runs = observe::FilterRuns(std::move(*runs), Query(req, "status"), Query(req, "q"));
    return Json(observe::RunsJson(*runs));
  }
  if (top == "runs" && seg.size() >= 2) {
    auto id = st_->ResolveRunId(seg[1]);
    if (!id.ok()) return ErrorResponse(id.status());
    const std::string what = seg.size() >= 3 ? seg[2] : "";
    if (get && seg.size() == 2) {
      auto r = observe::Show(st_, *id);
      if (!r.ok()) return ErrorResponse(r.status());
      // As `show --json`: the run's webhook deliveries (notify:) with it.
      auto notes = notify::ListNotifications(st_, *id);
      if (!notes.ok()) return ErrorResponse(notes.status());
      json body = json::parse(observe::ToJson(*r), nullptr, false);
      if (!body.is_object()) return ErrorResponse(Internal("the run's report is not a JSON object"));
      body["notifications"] = notify::ToJson(*notes);
      return Json(body.dump(-1, ' ', false, json::error_handler_t::replace));
    }
    if (get && seg.size() == 3) {
      if (what == "graph") return JsonOr(observe::GraphJson(st_, *id));
      if (what == "trace") {
        auto r = observe::Trace(st_, *id);
        if (!r.ok()) return ErrorResponse(r.status());
        return Json(observe::ToJson(*r));
      }
      if (what == "debug") {
        auto r = observe::Debug(st_, *id, Query(req, "node"));
        if (!r.ok()) return ErrorResponse(r.status());
        return Json(r->dump());
      }
      if (what == "cost") {
        auto r = observe::RunCost(st_, *id);
        if (!r.ok()) return ErrorResponse(r.status());
        return Json(observe::ToJson(*r));
      }
      if (what == "artifacts") {
        auto r = observe::Artifacts(st_, *id);
        if (!r.ok()) return ErrorResponse(r.status());
        return Json(observe::ToJson(*r));
      }
      if (what == "events") return Events(*id, req);
      if (what == "approvals") {
        // Every answer at the run's human nodes, decided or pending, in order: a gate
        // dialogue's rounds.
        auto list = st_->ListApprovals(*id);
        if (!list.ok()) return ErrorResponse(list.status());
        json out = json::array();
        for (const auto& a : *list)
          out.push_back({{"node", a.node}, {"iteration", a.iteration}, {"item", a.item}, {"decision", a.decision},
                         {"text", a.text}, {"by", a.by}, {"at", a.ts}});
        return Json(out.dump(-1, ' ', false, json::error_handler_t::replace));
      }
      if (what == "notifications") {
        // Every delivery attempt of the run's webhooks (notify:), oldest first.
        auto list = notify::ListNotifications(st_, *id);
        if (!list.ok()) return ErrorResponse(list.status());
        return Json(notify::ToJson(*list).dump(-1, ' ', false, json::error_handler_t::replace));
      }
    }
    if (get && seg.size() == 4 && what == "nodes") return JsonOr(observe::NodeJson(st_, *id, seg[3]));
    if (post && seg.size() == 3) {
      if (what == "approve") return Approve(*id, req);
      if (what == "resume") return Resume(*id);
      if (what == "replay") return Replay(*id, req);
      if (what == "cancel") {
        auto run = st_->GetRun(*id);
        if (!run.ok()) return ErrorResponse(run.status());
        if (!*run) return ErrorResponse(404, "no run " + *id);
        auto said = engine::Cancel(st_, **run, "the web UI");
        if (!said.ok()) return ErrorResponse(said.status());
        return Json(json{{"run_id", *id}, {"message", *said}}.dump());
      }
    }
  }
  if (top == "evals" && get && seg.size() <= 2) {
    // Eval suites (src/eval): the history by suite, one report, or two compared. The same JSON
    // as `evals --json`, `eval-report --format json` and `eval-report A --baseline B --format json`.
    if (seg.size() == 1) {
      auto limit = IntParam(req, "limit", 1000, 1, 100000);
      if (!limit.ok()) return ErrorResponse(limit.status());
      auto h = eval::History(st_, Query(req, "suite"), *limit);
      if (!h.ok()) return ErrorResponse(h.status());
      return Json(h->dump(-1, ' ', false, json::error_handler_t::replace));
    }
    auto report_of = [&](const std::string& x) -> Result<json> {
      SW_ASSIGN_OR_RETURN(std::string id, st_->ResolveRunId(x));
      return eval::LoadStoredReport(st_, id);
    };
    if (seg[1] == "compare") {
      std::string a = Query(req, "a"), b = Query(req, "b");
      if (a.empty() || b.empty()) return ErrorResponse(400, "give the two eval runs as ?a=BASELINE_RUN&b=RUN");
      auto ra = report_of(a);
      if (!ra.ok()) return ErrorResponse(ra.status());
      auto rb = report_of(b);
      if (!rb.ok()) return ErrorResponse(rb.status());
      eval::Tolerance tol = eval::ToleranceOf(*rb);
      if (Status ts = eval::ParseTolerance(Query(req, "tolerance"), &tol); !ts.ok()) return ErrorResponse(ts);
      return Json(eval::Compare(*ra, *rb, tol).dump(-1, ' ', false, json::error_handler_t::replace));
    }
    auto r = report_of(seg[1]);
    if (!r.ok()) return ErrorResponse(r.status());
    return Json(r->dump(-1, ' ', false, json::error_handler_t::replace));
  }
  if (top == "sessions" && get && seg.size() >= 3) {
    // The session's project: its specs, matrix, findings, a trace, an impact, a file.
    auto runs = st_->ListRuns(-1, false);
    if (!runs.ok()) return ErrorResponse(runs.status());
    auto project = observe::SessionProject(*runs, seg[1]);
    if (!project.ok()) return ErrorResponse(project.status());
    if (seg[2] == "spec" && seg.size() == 3) return JsonOr(SpecView(*project));
    if (seg[2] == "spec" && seg.size() == 5 && seg[3] == "trace") return JsonOr(SpecTrace(*project, seg[4]));
    if (seg[2] == "spec" && seg.size() == 4 && seg[3] == "impact") {
      std::vector<std::string> ids;
      for (const auto& x : Split(Query(req, "ids"), ','))
        if (!Trim(x).empty()) ids.push_back(Trim(x));
      if (ids.empty()) return ErrorResponse(400, "give the IDs as ?ids=REQ-01-001,BR-01-002");
      return JsonOr(SpecImpact(*project, ids));
    }
    if (seg[2] == "file" && seg.size() == 3) return JsonOr(ProjectFile(*project, Query(req, "path")));
    return ErrorResponse(404, "unknown API path " + Quote(req.path));
  }
  if (top == "sessions" && get && seg.size() <= 2) {
    // The runs of develop, modify, update and review, folded per session (observe/sessions.cc).
    auto runs = st_->ListRuns(-1, false);
    if (!runs.ok()) return ErrorResponse(runs.status());
    if (seg.size() == 1) {
      auto limit = IntParam(req, "limit", 200, 1, 100000);
      if (!limit.ok()) return ErrorResponse(limit.status());
      return Json(observe::SessionsJson(st_, *runs, *limit).dump(-1, ' ', false, json::error_handler_t::replace));
    }
    auto one = observe::SessionJson(st_, *runs, seg[1]);
    if (!one.ok()) return ErrorResponse(one.status());
    return Json(one->dump(-1, ' ', false, json::error_handler_t::replace));
  }
  if (top == "providers" && seg.size() == 1 && get) {
    // The configured providers, and the models runs used in the last 7 days with their calls,
    // errors, spend and price.
    double since = static_cast<double>(std::time(nullptr)) - 7 * 86400.0;
    auto calls = st_->ListLlmCallsSince(since);
    if (!calls.ok()) return ErrorResponse(calls.status());
    struct Use {
      int64_t calls = 0, errors = 0, tokens = 0, unpriced = 0;
      double cost = 0, last = 0;
      std::string last_error;
    };
    std::map<std::string, Use> used;
    for (const auto& c : *calls) {
      // A cancelled call (the run stopped, a sibling failed) is not the provider's error.
      if (c.status == "cancelled") continue;
      Use& u = used[c.provider + "/" + c.model];
      ++u.calls;
      if (c.status == "error" || c.status == "timeout") {
        ++u.errors;
        u.last_error = c.error;
      }
      u.tokens += c.tokens_in + c.tokens_out;
      if (c.cost_usd) u.cost += *c.cost_usd;
      else u.unpriced += c.status == "ok" ? 1 : 0;
      u.last = std::max(u.last, c.started_at);
    }
    json models = json::array();
    for (const auto& [key, u] : used) {
      std::string provider = key.substr(0, key.find('/')), model = key.substr(key.find('/') + 1);
      json m{{"provider", provider}, {"model", model}, {"calls", u.calls}, {"errors", u.errors},
             {"error_rate", u.calls ? static_cast<double>(u.errors) / static_cast<double>(u.calls) : 0.0},
             {"last_error", u.last_error}, {"tokens", u.tokens}, {"cost_usd", u.cost}, {"cost_known", u.unpriced == 0},
             {"last_used", u.last}};
      auto price = options_.prices ? options_.prices->Lookup(provider, model) : std::nullopt;
      m["price"] = price ? json{{"input_per_mtok", price->input * 1e6}, {"output_per_mtok", price->output * 1e6}} : json();
      models.push_back(std::move(m));
    }
    return Json(json{{"providers", options_.providers}, {"models", models}, {"since", since}}.dump(
        -1, ' ', false, json::error_handler_t::replace));
  }
  if (top == "cost" && seg.size() == 1 && get) {
    auto since = observe::ParseSince(Query(req, "since", "7d"), static_cast<double>(std::time(nullptr)));
    if (!since.ok()) return ErrorResponse(since.status());
    auto r = observe::CostSince(st_, *since);
    if (!r.ok()) return ErrorResponse(r.status());
    return Json(observe::ToJson(*r));
  }
  if (top == "lineage" && seg.size() == 2 && get) {
    std::string run = Query(req, "run");
    if (!run.empty()) {
      auto id = st_->ResolveRunId(run);
      if (!id.ok()) return ErrorResponse(id.status());
      run = *id;
    }
    auto r = observe::Lineage(st_, seg[1], run);
    if (!r.ok()) return ErrorResponse(r.status());
    return Json(observe::ToJson(*r));
  }
  if (top == "blobs" && seg.size() == 2 && get) {
    auto b = st_->GetBlob(seg[1]);
    if (!b.ok()) return ErrorResponse(b.status());
    Response r = Json(std::move(b).value());
    r.content_type = "text/plain; charset=utf-8";
    return r;
  }
  if (top == "diff" && seg.size() == 1 && get) {
    auto a = st_->ResolveRunId(Query(req, "a"));
    if (!a.ok()) return ErrorResponse(a.status());
    auto b = st_->ResolveRunId(Query(req, "b"));
    if (!b.ok()) return ErrorResponse(b.status());
    auto diffs = IntParam(req, "diffs", 50, 0, 100000);
    if (!diffs.ok()) return ErrorResponse(diffs.status());
    auto r = observe::Diff(st_, *a, *b, *diffs);
    if (!r.ok()) return ErrorResponse(r.status());
    return Json(observe::ToJson(*r));
  }
  if (top == "approvals" && seg.size() == 1 && get) return JsonOr(observe::PendingApprovalsJson(st_));
  if (top == "workflows" && seg.size() == 1 && get) {
    // An eval suite's runs record the suite as their file: it is listed as `kind: "eval"` (the
    // UI links it to its history), never loaded as a broken workflow.
    auto list = observe::WorkflowsJson(st_, options_.work_dir);
    if (!list.ok()) return ErrorResponse(list.status());
    json j = json::parse(*list, nullptr, false);
    if (!j.is_array()) return Json(*list);
    for (auto& w : j) {
      std::string abs = w.value("abs", "");
      w["kind"] = !abs.empty() && eval::LooksLikeSuiteFile(abs) ? "eval" : "workflow";
    }
    return Json(j.dump(-1, ' ', false, json::error_handler_t::replace));
  }
  if (top == "workflow" && seg.size() == 1 && get) return Workflow(Query(req, "path"), nullptr);
  if (top == "workflow" && seg.size() == 2 && seg[1] == "validate" && post) {
    auto body = BodyJson(req);
    if (!body.ok()) return ErrorResponse(body.status());
    if (!body->contains("path") || !(*body)["path"].is_string() || !body->contains("text") || !(*body)["text"].is_string())
      return ErrorResponse(400, "validate needs {\"path\": string, \"text\": string}");
    std::string text = (*body)["text"].get<std::string>();
    return Workflow((*body)["path"].get<std::string>(), &text);
  }
  if (top == "workflow" && seg.size() == 2 && seg[1] == "save" && post) return SaveWorkflow(req);
  if (top == "workflow" && seg.size() == 2 && seg[1] == "run" && post) return RunWorkflow(req);
  if (!get && !post) {
    Response r = ErrorResponse(405, req.method + " is not allowed in the API");
    r.headers.emplace_back("Allow", "GET, HEAD, POST");
    return r;
  }
  return ErrorResponse(404, "no " + req.method + " " + req.path + " in the API (see docs/api.md)");
}

namespace {

/// Field reads an optional field of a request body, refusing a value of the wrong type.
template <typename T>
Status Field(const json& b, const char* key, T* out) {
  if (!b.contains(key) || b[key].is_null()) return Status::Ok();
  const json& v = b[key];
  bool ok = false;
  if constexpr (std::is_same_v<T, std::string>) ok = v.is_string();
  else if constexpr (std::is_same_v<T, bool>) ok = v.is_boolean();
  else if constexpr (std::is_same_v<T, int>) ok = v.is_number_integer();
  if (!ok) return InvalidInput(std::string("\"") + key + "\" has the wrong type: " + v.dump());
  *out = v.get<T>();
  return Status::Ok();
}

}  // namespace

Response Api::Approve(const std::string& run_id, const Request& req) {
  auto body = BodyJson(req);
  if (!body.ok()) return ErrorResponse(body.status());
  const json& b = *body;
  engine::Decision d;
  std::string decision = "approved";
  int iteration = 0, item = 0;
  for (Status s : {Field(b, "node", &d.node), Field(b, "decision", &decision), Field(b, "text", &d.text),
                   Field(b, "iteration", &iteration), Field(b, "item", &item)})
    if (!s.ok()) return ErrorResponse(s);
  if (d.node.empty()) return ErrorResponse(400, "approve needs \"node\" (a string)");
  if (decision != "approved" && decision != "rejected")
    return ErrorResponse(400, "\"decision\" must be \"approved\" or \"rejected\", got " + Quote(decision));
  d.approve = decision == "approved";
  d.by = "ui";
  if (b.contains("iteration") && !b["iteration"].is_null()) d.iteration = iteration;
  if (b.contains("item") && !b["item"].is_null()) d.item = item;
  auto a = engine::Decide(st_, run_id, d);
  if (!a.ok()) return ErrorResponse(a.status().code() == Code::kInvalidInput ? 409 : 500, a.status().message());
  auto run = st_->GetRun(run_id);
  if (!run.ok() || !*run) return ErrorResponse(500, "run " + run_id + " vanished");
  json out{{"run_id", run_id}, {"node", d.node}, {"decision", a->decision}};
  return ContinueRun(**run, std::move(out), /*waiting_only=*/true);
}

Response Api::Resume(const std::string& run_id) {
  auto run = st_->GetRun(run_id);
  if (!run.ok()) return ErrorResponse(run.status());
  if (!*run) return ErrorResponse(404, "no run " + run_id);
  if ((*run)->status == "succeeded") return ErrorResponse(409, "run " + run_id + " succeeded: there is nothing to resume");
  return ContinueRun(**run, json{{"run_id", run_id}}, /*waiting_only=*/false);
}

Response Api::ContinueRun(const store::RunRecord& run, json out, bool waiting_only) {
  // A sub-run continues with its top-level run: that is what a resume takes.
  store::RunRecord root = run;
  for (int depth = 0; !root.parent_id.empty() && depth < 64; ++depth) {
    auto parent = st_->GetRun(root.parent_id);
    if (!parent.ok() || !*parent) break;
    root = **parent;
  }
  if (store::ProcessAlive(run) || store::ProcessAlive(root)) {
    out["continued"] = "running process";
    out["pid"] = store::ProcessAlive(run) ? run.pid : root.pid;
    return Json(out.dump());
  }
  if (std::string step = engine::ProcessStepOf(root); !step.empty()) {
    // A step of `specwright develop`/`modify` continues through that command (it binds the
    // process's roles and commits the step), which picks the decision up.
    out["continued"] = (waiting_only ? "decision stored; " : "") + step;
    return Json(out.dump());
  }
  if (root.status == "succeeded" || (waiting_only && root.status != "waiting")) {
    out["continued"] = "not running (" + root.status + "): `specwright resume " + root.id + "` continues it";
    return Json(out.dump());
  }
  std::string log = root.id + "-resume-" + std::to_string(std::time(nullptr));
  Result<pid_t> pid = pid_t{-1};
  {
    // One resume per run: the check, the start and the record happen under one lock, so two
    // approvals arriving together start one process.
    std::lock_guard<std::mutex> l(children_mu_);
    for (const auto& [id, child] : children_)
      if (id == root.id) {
        out["continued"] = "running process";  // a resume the server started is on its way
        out["pid"] = child;
        return Json(out.dump());
      }
    pid = StartCliLocked(root.id, {"resume", root.id, "--wait"}, log);
  }
  const std::string said = waiting_only ? "decision stored, but " : "";
  if (!pid.ok()) return ErrorResponse(500, said + "resuming failed: " + pid.status().message());
  auto started = StartedOrError(root.id, *pid, log, false);
  if (!started.ok()) return ErrorResponse(500, said + "`specwright resume " + root.id + "` failed: " + started.status().message());
  out["continued"] = "resumed";
  out["resumed_run"] = root.id;
  out["pid"] = *pid;
  return Json(out.dump());
}

Result<bool> Api::StartedOrError(const std::string& run_id, pid_t pid, const std::string& log_name, bool fresh) {
  for (int i = 0; i < 200; ++i) {
    auto run = st_->GetRun(run_id);
    if (run.ok() && *run && (fresh || ((*run)->pid == pid && (*run)->status == "running"))) return true;
    std::optional<int> status = ExitOf(pid);
    if (status) {
      auto again = st_->GetRun(run_id);
      if (again.ok() && *again && fresh) return true;  // it recorded the run, and is done already
      auto text = ReadFile(options_.store_dir + "/ui/logs/" + log_name + ".log");
      std::string msg = text.ok() ? Trim(*text) : "";
      size_t colon = msg.find(": ");
      if (StartsWith(msg, "specwright ") && colon != std::string::npos) msg = msg.substr(colon + 2);
      bool clean = WIFEXITED(*status) && (WEXITSTATUS(*status) == 0 || WEXITSTATUS(*status) == 3);
      if (!fresh && clean && again.ok() && *again && (*again)->status != "running") return true;  // it ran
      if (msg.empty()) msg = "it exited with status " + std::to_string(WIFEXITED(*status) ? WEXITSTATUS(*status) : -1);
      return Status(WIFEXITED(*status) && WEXITSTATUS(*status) == 2 ? Code::kInvalidInput : Code::kFailed, msg);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;  // still starting after 10 s: it is running, slowly
}

Response Api::Replay(const std::string& run_id, const Request& req) {
  auto body = BodyJson(req);
  if (!body.ok()) return ErrorResponse(body.status());
  const json& b = *body;
  std::string new_id = store::UnusedRunId(st_, static_cast<double>(std::time(nullptr)));
  std::vector<std::string> args{"replay", run_id, "--run-id", new_id, "--wait"};
  if (b.contains("from")) {
    if (!b["from"].is_array()) return ErrorResponse(400, "\"from\" must be a list of node ids, got " + b["from"].dump());
    for (const auto& n : b["from"]) {
      if (!n.is_string()) return ErrorResponse(400, "\"from\" must be a list of node ids, got " + b["from"].dump());
      args.push_back("--from");
      args.push_back(n.get<std::string>());
    }
  }
  auto pairs = [&](const char* key, const char* flag, bool file) -> Status {
    if (!b.contains(key)) return Status::Ok();
    if (!b[key].is_object()) return InvalidInput(std::string("\"") + key + "\" must be an object, got " + b[key].dump());
    int i = 0;
    for (auto it = b[key].begin(); it != b[key].end(); ++it, ++i) {
      std::string v = it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
      if (file) {
        // The CLI takes prompt files: write the text where the run can read it (in the store).
        std::string path = options_.store_dir + "/ui/prompts/" + new_id + "-" + std::to_string(i) + ".md";
        SW_RETURN_IF_ERROR(MakeDirs(options_.store_dir + "/ui/prompts"));
        SW_RETURN_IF_ERROR(WriteFileAtomic(path, v));
        v = path;
      }
      args.push_back(flag);
      args.push_back(it.key() + "=" + v);
    }
    return Status::Ok();
  };
  for (auto [key, flag, file] : {std::tuple{"models", "--model", false}, std::tuple{"prompts", "--prompt", true},
                                 std::tuple{"inputs", "--input", false}}) {
    Status s = pairs(key, flag, file);
    if (!s.ok()) return ErrorResponse(s);
  }
  bool drift = false;
  if (Status s = Field(b, "allow_drift", &drift); !s.ok()) return ErrorResponse(s);
  if (drift) args.push_back("--allow-drift");
  auto pid = StartCli(new_id, args, new_id);
  if (!pid.ok()) return ErrorResponse(500, pid.status().message());
  // The replay checks its flags before it records the run: wait for one or the other, so a
  // mistake (an unknown node, a prompt that does not compile) comes back as this answer.
  auto started = StartedOrError(new_id, *pid, new_id, true);
  if (!started.ok()) return ErrorResponse(started.status());
  return Json(json{{"run_id", new_id}, {"pid", *pid}}.dump(), 202);
}

Result<pid_t> Api::StartCli(const std::string& run_id, const std::vector<std::string>& args, const std::string& log_name) {
  std::lock_guard<std::mutex> l(children_mu_);
  return StartCliLocked(run_id, args, log_name);
}

Result<pid_t> Api::StartCliLocked(const std::string& run_id, const std::vector<std::string>& args,
                                  const std::string& log_name) {
  SW_ASSIGN_OR_RETURN(pid_t pid, StartSpecwright(options_.self_exe, args, options_.child_env,
                                                 options_.store.empty() ? options_.store_dir : options_.store,
                                                 options_.store_dir, options_.work_dir, "ui/logs", log_name));
  children_.emplace_back(run_id, pid);
  return pid;
}

Result<pid_t> StartSpecwright(const std::string& self_exe, const std::vector<std::string>& args,
                              std::vector<std::string> env, const std::string& store, const std::string& files_dir,
                              const std::string& cwd, const std::string& logs, const std::string& log_name) {
  if (self_exe.empty()) return Failed("the server does not know its own binary");
  SW_RETURN_IF_ERROR(MakeDirs(files_dir + "/" + logs));
  SpawnOptions so;
  so.argv.push_back(self_exe);
  so.argv.insert(so.argv.end(), args.begin(), args.end());
  so.env = std::move(env);
  std::erase_if(so.env, [](const std::string& e) { return StartsWith(e, "SPECWRIGHT_STORE="); });
  so.env.push_back("SPECWRIGHT_STORE=" + store);
  so.cwd = cwd;
  return SpawnDetached(so, files_dir + "/" + logs + "/" + log_name + ".log");
}

void Api::ReapChildren() {
  std::lock_guard<std::mutex> l(children_mu_);
  std::erase_if(children_, [&](const auto& c) {
    int status = 0;
    pid_t r = ::waitpid(c.second, &status, WNOHANG);
    if (r == c.second) exited_[c.second] = status;
    return r == c.second || (r < 0 && errno == ECHILD);
  });
  while (exited_.size() > 256) exited_.erase(exited_.begin());  // (pids only grow, mostly: the oldest go)
}

std::optional<int> Api::ExitOf(pid_t pid) {
  ReapChildren();
  std::lock_guard<std::mutex> l(children_mu_);
  auto it = exited_.find(pid);
  if (it != exited_.end()) return it->second;
  return std::nullopt;
}

Result<std::string> Api::AllowedWorkflow(const std::string& path) {
  if (path.empty()) return InvalidInput("workflow needs ?path=FILE");
  fs::path p(path);
  if (p.is_relative()) p = fs::path(options_.work_dir) / p;
  std::error_code ec;
  fs::path canon = fs::weakly_canonical(p, ec);
  if (ec) canon = p.lexically_normal();
  std::string ext = canon.extension().string();
  if (ext != ".yaml" && ext != ".yml") return InvalidInput(Quote(path) + " is not a .yaml workflow file");
  fs::path root = fs::weakly_canonical(options_.work_dir, ec);
  if (UnderDir(canon, root)) return canon.string();
  // A run's own workflow file, wherever it lives, is part of what the store records.
  SW_ASSIGN_OR_RETURN(auto runs, st_->ListRuns(1000, true));
  for (const auto& r : runs)
    if (!r.workflow_file.empty() && fs::weakly_canonical(r.workflow_file, ec) == canon) return canon.string();
  return Status(Code::kPermission, Quote(path) + " is outside " + options_.work_dir + " and no run used it");
}

Response Api::Workflow(const std::string& path, const std::string* text) {
  auto p = AllowedWorkflow(path);
  if (!p.ok()) return ErrorResponse(p.status().code() == Code::kPermission ? 403 : 400, p.status().message());
  if (!text && !FileExists(*p)) return ErrorResponse(404, "no workflow file " + *p);
  // Posted text may reference files only inside the work dir (or, for a run's own file
  // elsewhere, its folder): a web page must not make the loader read the rest of the disk.
  // A file on disk is checked as `specwright validate` checks it.
  std::string confine;
  if (text) {
    std::error_code ec;
    fs::path root = fs::weakly_canonical(options_.work_dir, ec);
    confine = UnderDir(*p, root) ? root.string() : fs::path(*p).parent_path().string();
  }
  if (!text && eval::LooksLikeSuiteFile(*p)) {
    // An eval suite is checked as `specwright validate` checks one; it has no graph of its own.
    auto bytes = ReadFile(*p);
    auto suite = eval::CheckSuite(*p);
    json j{{"path", *p},   {"kind", "eval"}, {"text", bytes.ok() ? *bytes : ""}, {"ok", suite.ok()},
           {"errors", json::array()}, {"nodes", json::array()}};
    if (suite.ok()) {
      j["cases"] = suite->cases.size();
      j["name"] = suite->name;
      j["workflow"] = suite->workflow_file;
    } else {
      for (const auto& line : Split(suite.status().message(), '\n'))
        if (!line.empty()) j["errors"].push_back(json{{"line", 0}, {"column", 0}, {"message", line}});
    }
    return Json(j.dump(-1, ' ', false, json::error_handler_t::replace));
  }
  std::string out = observe::WorkflowJson(*p, text, confine, options_.builtin_tools);
  if (!text) {
    // The editor's Run form offers the offline script beside the file, as the examples keep
    // one (script.yaml): a run of scripted/… models needs it.
    std::error_code ec;
    fs::path root = fs::weakly_canonical(options_.work_dir, ec);
    fs::path script = fs::path(*p).parent_path() / "script.yaml";
    if (UnderDir(*p, root) && FileExists(script.string())) {
      json j = json::parse(out, nullptr, false);
      if (!j.is_discarded()) {
        j["script"] = script.lexically_relative(root).string();
        out = j.dump(-1, ' ', false, json::error_handler_t::replace);
      }
    }
  }
  return Json(out);
}

Result<std::string> Api::EditablePath(const std::string& path, bool for_write) {
  if (path.empty()) return InvalidInput("name the file as \"path\" (relative to " + options_.work_dir + ")");
  std::string rel = path;
  if (fs::path(path).is_absolute()) {
    // An absolute path (as the workflow list gives for files elsewhere) must name a place
    // under the work dir, found by its real path.
    std::error_code ec;
    fs::path root = fs::weakly_canonical(options_.work_dir, ec);
    fs::path canon = fs::weakly_canonical(path, ec);
    if (ec || !UnderDir(canon, root))
      return Status(Code::kPermission, Quote(path) + " is outside " + options_.work_dir +
                                           ": the editor saves and runs only files under the --dir of `specwright ui`");
    rel = canon.lexically_relative(root).string();
  }
  auto full = InsideTree(options_.work_dir, rel, for_write);
  if (!full.ok() && full.status().code() == Code::kNotFound) return full.status();
  if (!full.ok()) return Status(Code::kPermission, full.status().message() + " (the editor works under " + options_.work_dir + ")");
  std::string ext = full->extension().string();
  if (ext != ".yaml" && ext != ".yml") return InvalidInput(Quote(path) + " is not a .yaml workflow file");
  return full->string();
}

Response Api::SaveWorkflow(const Request& req) {
  auto body = BodyJson(req);
  if (!body.ok()) return ErrorResponse(body.status());
  const json& b = *body;
  std::string path, text, version;
  for (Status s : {Field(b, "path", &path), Field(b, "text", &text), Field(b, "version", &version)})
    if (!s.ok()) return ErrorResponse(s);
  if (!b.contains("text") || !b["text"].is_string()) return ErrorResponse(400, "save needs {\"path\": string, \"text\": string, \"version\": string}");
  // (Its size is bounded by the request's: the HTTP layer refuses a body over 4 MiB with 413.)
  auto full = EditablePath(path, true);
  if (!full.ok()) return ErrorResponse(full.status().code() == Code::kPermission ? 403 : 400, full.status().message());
  std::lock_guard<std::mutex> one_save(save_mu_);
  std::error_code ec;
  if (fs::exists(*full, ec)) {
    if (!fs::is_regular_file(*full, ec)) return ErrorResponse(409, *full + " is not a regular file");
    // The editor names the version it read: a file changed since (by another editor, git, a
    // second tab) is never overwritten, and the answer says so.
    auto now = ReadFile(*full);
    if (!now.ok()) return ErrorResponse(now.status());
    if (version.empty())
      return ErrorResponse(409, *full + " exists: open it in the editor to change it (a save never replaces a file it did not read)");
    if (Hash128Hex(*now) != version)
      return ErrorResponse(409, *full + " changed on disk since the editor read it: reload it to see the change (your text is kept in the editor)");
  } else if (!version.empty()) {
    // 410: the editor offers to create it again (a save without a version).
    return ErrorResponse(410, *full + " was deleted or moved since the editor read it: create it again to keep your text");
  } else if (!fs::is_directory(fs::path(*full).parent_path(), ec)) {
    return ErrorResponse(400, "no folder " + fs::path(*full).parent_path().string() + " to save into");
  }
  if (Status s = WriteFileAtomic(*full, text); !s.ok()) return ErrorResponse(s);
  // The answer is the saved file as GET /workflow gives it (its checks and its new version),
  // its references confined to the work dir as the editor's checks were.
  std::string root = fs::weakly_canonical(options_.work_dir, ec).string();
  return Json(observe::WorkflowJson(*full, nullptr, root, options_.builtin_tools));
}

Response Api::RunWorkflow(const Request& req) {
  auto body = BodyJson(req);
  if (!body.ok()) return ErrorResponse(body.status());
  const json& b = *body;
  std::string path, script, model;
  bool no_cache = false;
  for (Status s : {Field(b, "path", &path), Field(b, "script", &script), Field(b, "model", &model),
                   Field(b, "no_cache", &no_cache)})
    if (!s.ok()) return ErrorResponse(s);
  auto full = EditablePath(path, false);
  if (!full.ok() && full.status().code() == Code::kNotFound) return ErrorResponse(404, "no workflow file " + Quote(path) + " (save it first)");
  if (!full.ok()) return ErrorResponse(full.status().code() == Code::kPermission ? 403 : 400, full.status().message());
  std::string new_id = store::UnusedRunId(st_, static_cast<double>(std::time(nullptr)));
  std::vector<std::string> args{"run", *full, "--run-id", new_id, "--wait"};
  std::error_code ec;
  if (b.contains("inputs") && !b["inputs"].is_null()) {
    if (!b["inputs"].is_object()) return ErrorResponse(400, "\"inputs\" must be an object, got " + b["inputs"].dump());
    // Each value goes in a file only this user can read (not argv, which `ps` shows to every
    // user, and whose size the kernel bounds): a string as typed, any other value as its JSON
    // text, converted to the declared type by the run (workflow::ResolveInputs).
    std::string dir = options_.store_dir + "/ui/inputs/" + new_id;
    int i = 0;
    for (auto it = b["inputs"].begin(); it != b["inputs"].end(); ++it, ++i) {
      const std::string& key = it.key();
      if (key.empty() || key.find('=') != std::string::npos || key.find('\0') != std::string::npos)
        return ErrorResponse(400, "input name " + Quote(key) + " is not a name (no \"=\", not empty)");
      if (i == 0) {
        if (Status s = MakeDirs(dir); !s.ok()) return ErrorResponse(s);
        fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
      }
      std::string file = dir + "/" + std::to_string(i);
      if (Status s = WriteFileAtomic(file, it.value().is_string() ? it.value().get<std::string>() : it.value().dump());
          !s.ok())
        return ErrorResponse(s);
      args.push_back("--input-file");
      args.push_back(key + "=" + file);
    }
  }
  if (!script.empty()) {
    // The scripted provider's answers: a file under the work dir, like the workflow.
    auto s = EditablePath(script, false);
    if (!s.ok()) {
      int code = s.status().code() == Code::kPermission ? 403 : s.status().code() == Code::kNotFound ? 404 : 400;
      return ErrorResponse(code, "script " + Quote(script) + ": " + s.status().message());
    }
    args.push_back("--script");
    args.push_back(*s);
  }
  if (!model.empty()) {
    args.push_back("--model");
    args.push_back(model);
  }
  if (no_cache) args.push_back("--no-cache");
  auto pid = StartCli(new_id, args, new_id);
  if (!pid.ok()) return ErrorResponse(500, pid.status().message());
  // The run checks the file and its inputs before it records the run: a wrong input comes
  // back as this answer, with the CLI's own words.
  auto started = StartedOrError(new_id, *pid, new_id, true);
  // The run has read its input files once it recorded the run (or refused them): they go.
  fs::remove_all(options_.store_dir + "/ui/inputs/" + new_id, ec);
  if (!started.ok()) return ErrorResponse(started.status());
  return Json(json{{"run_id", new_id}, {"pid", *pid}}.dump(), 202);
}

Response Api::Events(const std::string& run_id, const Request& req) {
  int64_t after = 0;
  std::string from = Query(req, "after");
  auto last = req.headers.find("last-event-id");
  if (last != req.headers.end()) from = last->second;
  if (!from.empty()) {
    char* end = nullptr;
    after = std::strtoll(from.c_str(), &end, 10);
    if (!end || *end || after < 0) return ErrorResponse(400, "after=" + Quote(from) + " is not an event number");
  }
  auto first = st_->GetRun(run_id);
  if (!first.ok()) return ErrorResponse(first.status());
  Response r;
  store::Store* st = st_;
  double poll = options_.stream_poll;
  r.stream = [st, run_id, after, poll](Stream& out) mutable {
    std::string sig;
    std::map<std::tuple<std::string, int, int, int>, std::string> live_sent;
    auto last_ping = std::chrono::steady_clock::now();
    while (!out.Stopping()) {
      auto events = st->ListEvents(run_id, after);
      if (!events.ok()) return;
      std::string chunk;
      for (const auto& e : *events) {
        JsonWriter w;
        w.BeginObject()
            .Field("seq", e.seq)
            .Field("type", e.type)
            .Field("node", e.node)
            .Field("iteration", e.iteration)
            .Field("item", e.item)
            .Field("attempt", e.attempt)
            .Field("ts", e.ts)
            .Key("data")
            .Raw(e.data.empty() ? std::string_view("{}") : std::string_view(e.data))
            .EndObject();
        chunk += SseEvent("event", w.Take(), e.seq);
        after = e.seq;
        if (chunk.size() > (256 << 10)) {
          if (!out.Send(chunk)) return;
          chunk.clear();
        }
      }
      auto run = st->GetRun(run_id);
      if (!run.ok() || !*run) return;
      std::string now_sig = RunSignature(**run);
      if (now_sig != sig) {
        sig = now_sig;
        chunk += SseEvent("run", observe::RunJson(**run));
      }
      auto live = st->ListLive(run_id);
      if (live.ok()) {
        std::map<std::tuple<std::string, int, int, int>, std::string> seen;
        for (const auto& l : *live) {
          auto key = std::make_tuple(l.node, l.iteration, l.item, l.attempt);
          seen[key] = l.text;
          auto it = live_sent.find(key);
          if (it != live_sent.end() && it->second == l.text) continue;
          JsonWriter w;
          w.BeginObject()
              .Field("node", l.node)
              .Field("iteration", l.iteration)
              .Field("item", l.item)
              .Field("attempt", l.attempt)
              .Field("text", l.text)
              .EndObject();
          chunk += SseEvent("live", w.Take());
        }
        live_sent = std::move(seen);
      }
      // A queued run (waiting for a worker, src/dist) is not over either.
      bool over = (*run)->status != "running" && (*run)->status != "waiting" && (*run)->status != "queued" &&
                  events->empty();
      if (over) chunk += SseEvent("end", "{\"status\":\"" + (*run)->status + "\"}");
      auto now = std::chrono::steady_clock::now();
      if (chunk.empty() && now - last_ping > std::chrono::seconds(15)) chunk = ": ping\n\n";
      if (!chunk.empty()) {
        last_ping = now;
        if (!out.Send(chunk)) return;
      }
      if (over) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(poll * 1000)));
    }
  };
  return r;
}

}  // namespace sw::server
