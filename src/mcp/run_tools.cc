// The store's tools: runs_list, run_status, run_debug, run_cost, sessions_list and
// export_markdown — the reports `specwright runs|show|debug|cost|sessions|export` print, from
// the same observe:: functions. A read-only server never creates a store: without one these
// tools say so.
#include <filesystem>

#include "base/fs.h"
#include "base/strings.h"
#include "engine/control.h"
#include "mcp/server.h"
#include "observe/observe.h"
#include "store/store.h"

namespace sw::mcp {

Result<std::unique_ptr<store::Store>> OpenStoreFor(const Options& o, bool create) {
  const std::string& location = o.store.empty() ? o.store_dir : o.store;
  std::string shown = store::StoreLocationForDisplay(location);
  auto none = [&] {
    return NotFound("no Specwright store at " + shown + " (no runs recorded here yet; `specwright run` or "
                    "`specwright develop` in the project records them)");
  };
  if (!create && o.store.empty() && !FileExists(store::SqliteDatabasePath(o.store_dir))) return none();
  store::StoreOptions so;
  so.create = create;  // a read-only server makes nothing, not even the store's blobs/ folder (or tables)
  auto st = store::OpenStore(location, so);
  if (!st.ok() && !create && st.status().code() == Code::kNotFound) return none();
  if (!st.ok() && st.status().message().find(shown) == std::string::npos)
    return st.status().Annotate("opening the store " + shown);
  if (!st.ok()) return st.status();
  return std::move(st).value();
}

namespace {

json Schema(json props, std::vector<std::string> required = {}) {
  json s{{"type", "object"}, {"properties", std::move(props)}, {"additionalProperties", false}};
  if (!required.empty()) s["required"] = required;
  return s;
}

json Parsed(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  return j.is_discarded() ? json(text) : j;
}

std::string Usd(double usd, bool unknown) {
  if (unknown) return usd > 0 ? FormatUsd(usd) + " + unknown" : "unknown";
  return FormatUsd(usd);
}

std::string When(double t) { return t <= 0 ? "-" : LocalTime(t, "%Y-%m-%d %H:%M:%S"); }

Result<std::vector<store::RunRecord>> AllRuns(store::Store* st) {
  SW_ASSIGN_OR_RETURN(auto runs, st->ListRuns(-1, false));
  for (auto& r : runs) engine::ShownAsAbandoned(st, &r);
  return runs;
}

const json kRunArg = {{"type", "string"}, {"description", "a run id, a unique prefix of one, or \"latest\""}};

}  // namespace

void AddRunTools(Server* s) {
  const Options o = s->options();

  s->AddTool({"runs_list", "List runs",
              "The recorded workflow runs, newest first: id, workflow (or the develop step), status, start, duration, "
              "nodes, tokens and cost.",
              Schema({{"limit", {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}, {"description", "how many runs (default 20)"}}},
                      {"status", {{"type", "string"}, {"enum", {"queued", "running", "waiting", "succeeded", "failed", "cancelled", "abandoned"}}, {"description", "only runs with this status"}}},
                      {"search", {{"type", "string"}, {"description", "only runs whose id, workflow or file contains this text"}}},
                      {"all", {{"type", "boolean"}, {"description", "include sub-runs (default false)"}}}}),
              true, [o](const json& args) -> Result<ToolAnswer> {
                SW_ASSIGN_OR_RETURN(auto st, OpenStoreFor(o, false));
                int limit = args.value("limit", 20);
                SW_ASSIGN_OR_RETURN(auto runs, st->ListRuns(limit, args.value("all", false)));
                for (auto& r : runs) engine::ShownAsAbandoned(st.get(), &r);
                runs = observe::FilterRuns(std::move(runs), args.value("status", ""), args.value("search", ""));
                ToolAnswer a;
                a.structured = {{"runs", Parsed(observe::RunsJson(runs))}};
                for (const auto& r : runs)
                  a.text += r.id + "  " + r.status + "  " + (r.label.empty() ? r.workflow_name : r.label) + "  started " +
                            When(r.created_at) + "  nodes " + std::to_string(r.nodes_succeeded) + "/" + std::to_string(r.nodes_total) +
                            "  " + std::to_string(r.tokens_in + r.tokens_out) + " tokens  " + Usd(r.cost_usd, r.cost_unknown) + "\n";
                if (runs.empty()) a.text = "no runs match\n";
                return a;
              },
              "ask for less: a smaller limit, or filter by status or search"});

  s->AddTool({"run_status", "Status of a run",
              "One run's status and each node's status, attempts, duration, tokens, cost and error (`specwright show`).",
              Schema({{"run", kRunArg}}, {"run"}), true, [o](const json& args) -> Result<ToolAnswer> {
                SW_ASSIGN_OR_RETURN(auto st, OpenStoreFor(o, false));
                SW_ASSIGN_OR_RETURN(std::string id, st->ResolveRunId(args["run"].get<std::string>()));
                SW_ASSIGN_OR_RETURN(observe::ShowReport show, observe::Show(st.get(), id));
                engine::ShownAsAbandoned(st.get(), &show.run);
                const auto& r = show.run;
                ToolAnswer a;
                a.structured = Parsed(observe::ToJson(show));
                if (a.structured.is_object()) a.structured["status"] = r.status;  // "abandoned" when its process died
                a.text = "run " + r.id + " (" + r.workflow_name + ", " + r.workflow_file + "): " + r.status + "\nstarted " +
                         When(r.created_at) + "; " + std::to_string(r.calls) + " model calls, " +
                         std::to_string(r.tokens_in + r.tokens_out) + " tokens, " + Usd(r.cost_usd, r.cost_unknown) + "\n";
                if (!r.error.empty()) a.text += "error: " + r.error + "\n";
                for (const auto& l : show.lines)
                  a.text += "  " + l.node + (l.iteration > 0 ? "#" + std::to_string(l.iteration + 1) : "") + "  " + l.status +
                            "  attempts " + std::to_string(l.attempts) + "  " + std::to_string(l.tokens) + " tokens  " +
                            Usd(l.cost, l.cost_unknown) + (l.cached ? "  (cache hit)" : "") + (l.error.empty() ? "" : "  " + l.error) + "\n";
                return a;
              }});

  s->AddTool({"run_debug", "Post-mortem of a run",
              "Why a run failed: for each failed node its error, every attempt with the provider's own message, retries, "
              "the rendered prompt, the inputs it got, its last output and the nodes it took down; then each skipped node "
              "with why (`specwright debug`).",
              Schema({{"run", kRunArg}, {"node", {{"type", "string"}, {"description", "only this node (any status)"}}}}), true,
              [o](const json& args) -> Result<ToolAnswer> {
                SW_ASSIGN_OR_RETURN(auto st, OpenStoreFor(o, false));
                SW_ASSIGN_OR_RETURN(std::string id, st->ResolveRunId(args.value("run", "latest")));
                SW_ASSIGN_OR_RETURN(json d, observe::Debug(st.get(), id, args.value("node", "")));
                ToolAnswer a;
                a.text = observe::DebugText(d);
                a.structured = d.is_object() ? d : json{{"debug", d}};
                return a;
              },
              "ask for less: give node to see one node"});

  s->AddTool({"run_cost", "Cost of a run",
              "What a run spent (its sub-runs included): by node, model and provider, tokens by kind, and the budget.",
              Schema({{"run", kRunArg}}, {"run"}), true, [o](const json& args) -> Result<ToolAnswer> {
                SW_ASSIGN_OR_RETURN(auto st, OpenStoreFor(o, false));
                SW_ASSIGN_OR_RETURN(std::string id, st->ResolveRunId(args["run"].get<std::string>()));
                SW_ASSIGN_OR_RETURN(observe::CostReport c, observe::RunCost(st.get(), id));
                ToolAnswer a;
                a.structured = Parsed(observe::ToJson(c));
                auto line = [](const observe::Bucket& b) {
                  return b.key + ": " + Usd(b.usd, b.unknown > 0) + " (" + std::to_string(b.calls) + " calls, " +
                         std::to_string(b.input) + " in, " + std::to_string(b.output) + " out)\n";
                };
                a.text = "run " + c.run.id + " spent " + Usd(c.total.usd, c.total.unknown > 0) + " in " + std::to_string(c.total.calls) +
                         " model calls (" + std::to_string(c.total.input) + " tokens in, " + std::to_string(c.total.output) + " out)\n";
                if (!c.by_node.empty()) a.text += "by node:\n";
                for (const auto& b : c.by_node) a.text += "  " + line(b);
                if (!c.by_model.empty()) a.text += "by model:\n";
                for (const auto& b : c.by_model) a.text += "  " + line(b);
                return a;
              }});

  s->AddTool({"sessions_list", "Develop sessions",
              "The sessions of `specwright develop`, `modify`, `review` and updates, newest first, with their steps, gate "
              "rounds and spend; with session set, that one in full (steps, runs, tasks, the change and its impact plan).",
              Schema({{"session", {{"type", "string"}, {"description", "one session's id, to see it in full"}}},
                      {"limit", {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}, {"description", "how many sessions (default 20)"}}}}),
              true, [o](const json& args) -> Result<ToolAnswer> {
                SW_ASSIGN_OR_RETURN(auto st, OpenStoreFor(o, false));
                SW_ASSIGN_OR_RETURN(auto runs, AllRuns(st.get()));
                ToolAnswer a;
                if (args.contains("session")) {
                  SW_ASSIGN_OR_RETURN(json one, observe::SessionJson(st.get(), runs, args["session"].get<std::string>()));
                  a.structured = one;
                  a.text = one.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
                  return a;
                }
                json list = observe::SessionsJson(st.get(), runs, args.value("limit", 20));
                a.structured = {{"sessions", list}};
                for (const auto& r : list)
                  a.text += r.value("session", "") + "  " + r.value("status", "") + "  " + r.value("project", "") + "  started " +
                            When(r.value("started_at", 0.0)) + ", " + std::to_string(r.value("runs", int64_t{0})) + " runs, " +
                            std::to_string(r.value("gate_rounds", int64_t{0})) + " gate rounds, " +
                            Usd(r.value("cost_usd", 0.0), !r.value("cost_known", true)) + "\n";
                if (list.empty()) a.text = "no develop or modify sessions in the store\n";
                return a;
              },
              "ask for less: a smaller limit"});

  s->AddTool({"export_markdown", "Export as Markdown",
              "A run or a develop session as one Markdown document: each model call's prompt and answer, the tool calls "
              "and their results, outputs, decisions and comments at the gates, and the cost (`specwright export "
              "--format markdown`), as text only (no structured content: an agent gets the document itself). Give run "
              "or session.",
              Schema({{"run", kRunArg}, {"session", {{"type", "string"}, {"description", "a develop/modify session id (sessions_list)"}}}}),
              true, [o](const json& args) -> Result<ToolAnswer> {
                bool has_run = args.contains("run") && args["run"].is_string();
                bool has_session = args.contains("session") && args["session"].is_string();
                if (has_run == has_session) return InvalidInput("give exactly one of the arguments \"run\" and \"session\"");
                SW_ASSIGN_OR_RETURN(auto st, OpenStoreFor(o, false));
                ToolAnswer a;
                // The document is the text, and nothing else: a client that prefers structured
                // content (ours does) would otherwise give its agent metadata instead of it.
                if (has_session) {
                  SW_ASSIGN_OR_RETURN(auto runs, AllRuns(st.get()));
                  SW_ASSIGN_OR_RETURN(a.text, observe::SessionMarkdown(st.get(), runs, args["session"].get<std::string>()));
                } else {
                  SW_ASSIGN_OR_RETURN(std::string id, st->ResolveRunId(args["run"].get<std::string>()));
                  SW_ASSIGN_OR_RETURN(a.text, observe::RunMarkdown(st.get(), id));
                }
                return a;
              },
              "the document is too long for one answer: read the run with run_status and run_debug (node by node) instead, or export it with `specwright export RUN --format markdown`"});
}

}  // namespace sw::mcp
