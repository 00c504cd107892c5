// `specwright files RUN [NODE]` (what each node changed in the workspace, as diffs of its
// checkpoint commits) and the agent steps `specwright show` prints under its node table.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "tools/git_repo.h"

namespace sw::cli {
namespace {

using json = nlohmann::json;

json Data(const store::Event& e) {
  json d = json::parse(e.data, nullptr, false);
  return d.is_object() ? d : json::object();
}

/// OneLine squeezes a value onto a line of at most n characters for the terminal.
std::string OneLine(std::string s, size_t n) {
  for (auto& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (s.size() > n) s = s.substr(0, n - 3) + "...";
  return s;
}

}  // namespace

void PrintAgentSteps(store::Store* st, const std::string& run_id) {
  // Only the agent events (by index): a run of 10,000 plain nodes has none to read.
  std::vector<store::Event> all;
  for (const char* type : {"agent_turn", "tool_result", "agent_call_failed"}) {
    auto ev = st->ListEventsOfType(run_id, type);
    if (!ev.ok()) return;
    all.insert(all.end(), std::make_move_iterator(ev->begin()), std::make_move_iterator(ev->end()));
  }
  std::sort(all.begin(), all.end(), [](const store::Event& a, const store::Event& b) { return a.seq < b.seq; });
  auto* events = &all;
  std::string current;
  for (const auto& e : *events) {
    std::string key = e.node + "#" + std::to_string(e.iteration) + "." + std::to_string(e.item) + "/" +
                      std::to_string(e.attempt);
    if (key != current) {
      current = key;
      std::printf("\nsteps of agent \"%s\"%s%s, attempt %d\n", e.node.c_str(),
                  e.iteration > 0 ? (" iteration " + std::to_string(e.iteration + 1)).c_str() : "",
                  e.item >= 0 ? (" item " + std::to_string(e.item)).c_str() : "", e.attempt);
    }
    json d = Data(e);
    if (e.type == "agent_call_failed") {
      std::printf("  turn %-3lld model call failed%s: %s\n", static_cast<long long>(d.value("turn", 0)),
                  d.value("retry", false) ? " (retried)" : "", OneLine(d.value("error", ""), 100).c_str());
    } else if (e.type == "agent_turn") {
      std::string spend = d.value("cached", false) ? "cache hit"
                                                   : std::to_string(d["usage"].value("input", 0)) + " in / " +
                                                         std::to_string(d["usage"].value("output", 0)) + " out";
      const json& calls = d["tool_calls"];
      std::string text = d.value("text", "");
      if (calls.empty()) {
        std::printf("  turn %-3lld answer  %s   [%s]\n", static_cast<long long>(d.value("turn", 0)),
                    OneLine(text, 90).c_str(), spend.c_str());
        continue;
      }
      std::printf("  turn %-3lld %s[%s]\n", static_cast<long long>(d.value("turn", 0)),
                  text.empty() ? "" : ("says " + Quote(OneLine(text, 60)) + "  ").c_str(), spend.c_str());
      for (const auto& c : calls)
        std::printf("           -> %s %s\n", c.value("name", "").c_str(), OneLine(c.value("arguments", ""), 90).c_str());
    } else {
      std::printf("           <- %s %s %s\n", d.value("tool", "").c_str(), d.value("ok", false) ? "ok" : "ERROR",
                  OneLine(d.value("preview", ""), 200).c_str());
    }
  }
}

int CmdFiles(Context& ctx) {
  if (ctx.args.positional.empty() || ctx.args.positional.size() > 2) return Usage(ctx, "files needs RUN and optionally NODE");
  Env env;
  SW_RETURN_IF_ERROR_EXIT(ctx, OpenStoreForRun(ctx, &env, ctx.args.positional[0]));
  auto id = env.store->ResolveRunId(ctx.args.positional[0]);
  if (!id.ok()) return Fail(ctx, id.status());
  std::string node = ctx.args.positional.size() > 1 ? ctx.args.positional[1] : "";
  auto events = env.store->ListEvents(*id);
  if (!events.ok()) return Fail(ctx, events.status());
  std::string dir;
  std::vector<store::Event> checkpoints;
  std::vector<std::string> nodes;
  for (const auto& e : *events) {
    if (e.type == "workspace") dir = Data(e).value("dir", "");
    if (e.type != "checkpoint") continue;
    if (std::find(nodes.begin(), nodes.end(), e.node) == nodes.end()) nodes.push_back(e.node);
    if (node.empty() || e.node == node) checkpoints.push_back(e);
  }
  if (dir.empty()) {
    // A sub-run works in its parent's workspace.
    auto run = env.store->GetRun(*id);
    if (run.ok() && *run && !(*run)->parent_id.empty()) {
      auto parent_events = env.store->ListEvents((*run)->parent_id);
      if (parent_events.ok())
        for (const auto& e : *parent_events)
          if (e.type == "workspace") dir = Data(e).value("dir", "");
    }
  }
  if (dir.empty()) return Fail(ctx, InvalidInput("run " + *id + " has no workspace (its workflow declares none)"));
  if (!node.empty() && checkpoints.empty()) {
    std::string hint = DidYouMean(node, nodes);
    return Fail(ctx, NotFound("node \"" + node + "\" of run " + *id + " changed no file" +
                              (nodes.empty() ? "" : " (nodes that did: " + Join(nodes, ", ") + ")") +
                              (hint.empty() ? "" : "; did you mean \"" + hint + "\"?")));
  }
  auto repo = tools::GitRepo::Open(dir);
  if (!repo.ok()) return Fail(ctx, repo.status().Annotate("the workspace of run " + *id));
  json out = json::array();
  for (const auto& e : checkpoints) {
    json d = Data(e);
    auto diff = (*repo)->Diff(d.value("parent", ""), d.value("commit", ""));
    if (!diff.ok()) return Fail(ctx, diff.status());
    if (ctx.json) {
      out.push_back({{"node", e.node}, {"iteration", e.iteration}, {"attempt", e.attempt}, {"commit", d["commit"]},
                     {"parent", d["parent"]}, {"files", d["files"]}, {"diff", *diff}});
      continue;
    }
    std::printf("== node %s%s attempt %d: commit %s, %zu file(s): %s\n", e.node.c_str(),
                e.iteration > 0 ? (" iteration " + std::to_string(e.iteration + 1)).c_str() : "", e.attempt,
                d.value("commit", "").substr(0, 12).c_str(), d["files"].size(),
                Join(d["files"].get<std::vector<std::string>>(), ", ").c_str());
    std::fwrite(diff->data(), 1, diff->size(), stdout);
    std::printf("\n");
  }
  if (ctx.json) {
    std::cout << json{{"run", *id}, {"workspace", dir}, {"checkpoints", out}}.dump(2) << "\n";
  } else if (checkpoints.empty()) {
    std::printf("no node of run %s changed a file (workspace %s)\n", id->c_str(), dir.c_str());
  } else {
    std::printf("workspace %s (branch specwright/%s)\n", dir.c_str(), id->c_str());
  }
  return kExitOk;
}

}  // namespace sw::cli
