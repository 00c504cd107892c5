// RunMarkdown and SessionMarkdown: a run, or a develop/modify session, as one Markdown
// document a person (or a coding agent) reads — the prompts, the answers, the tool calls, the
// decisions at the gates and what it cost. `specwright export --format markdown` and the MCP
// server's export_markdown tool both write it.
#include <algorithm>
#include <set>

#include "base/strings.h"
#include "observe/internal.h"
#include "observe/observe.h"

namespace sw::observe {
namespace {

/// Fenced puts text in a code fence longer than any run of backticks inside it.
std::string Fenced(const std::string& text, const std::string& lang = "") {
  size_t longest = 0, cur = 0;
  for (char c : text) {
    cur = c == '`' ? cur + 1 : 0;
    longest = std::max(longest, cur);
  }
  std::string f(std::max<size_t>(3, longest + 1), '`');
  std::string out = f + lang + "\n" + text;
  if (text.empty() || text.back() != '\n') out += "\n";
  return out + f + "\n";
}

std::string When(double t) { return t <= 0 ? "-" : LocalTime(t, "%Y-%m-%d %H:%M:%S"); }

std::string Took(double start, double end) {
  return start <= 0 || end <= 0 ? "-" : HumanDuration(std::max(0.0, end - start));
}

std::string Cost(double usd, bool unknown) {
  if (unknown) return usd > 0 ? FormatUsd(usd) + " + unknown (a model without a price)" : "unknown";
  return FormatUsd(usd);
}

/// OneLine flattens text for a list item.
std::string OneLine(std::string s, size_t max) {
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (s.size() > max) s = Utf8Prefix(s, max) + "...";
  return s;
}

Status RunSection(store::Store* st, const std::string& run_id, int level, std::string* out) {
  SW_ASSIGN_OR_RETURN(ShowReport show, Show(st, run_id));
  const store::RunRecord& r = show.run;
  std::string h(static_cast<size_t>(level), '#');
  *out += h + " Run " + r.id + ": " + (r.label.empty() ? r.workflow_name : r.label) + "\n\n";
  *out += "- workflow: " + r.workflow_name + " (`" + r.workflow_file + "`)\n";
  if (!r.parent_id.empty()) *out += "- sub-run of: " + r.parent_id + "\n";
  if (!r.session.empty()) *out += "- session: " + r.session + "\n";
  *out += "- status: " + r.status + "\n";
  *out += "- started: " + When(r.created_at) + ", took " + Took(r.created_at, r.finished_at) + "\n";
  *out += "- spend: " + std::to_string(r.calls) + " model calls, " + std::to_string(r.tokens_in) + " tokens in, " +
          std::to_string(r.tokens_out) + " out, " + Cost(r.cost_usd, r.cost_unknown) + "\n";
  if (!r.error.empty()) *out += "- error: " + OneLine(r.error, 2000) + "\n";
  *out += "\n";
  if (!show.inputs.empty() && show.inputs != "{}") {
    json in = json::parse(show.inputs, nullptr, false);
    *out += "Inputs:\n\n" + Fenced(in.is_discarded() ? show.inputs : in.dump(2, ' ', false, json::error_handler_t::replace), "json") + "\n";
  }

  // Each node once, in the order it first started.
  std::vector<std::string> nodes;
  std::set<std::string> seen;
  for (const auto& l : show.lines)
    if (seen.insert(l.node).second) nodes.push_back(l.node);
  for (const auto& node : nodes) {
    auto nj = NodeJson(st, run_id, node);
    if (!nj.ok()) continue;
    json n = json::parse(*nj, nullptr, false);
    if (n.is_discarded()) continue;
    *out += h + "# Node `" + node + "` (" + n.value("kind", "") + (n.value("model", "").empty() ? "" : ", " + n.value("model", "")) +
            "): " + n.value("status", "") + "\n\n";
    for (const auto& l : show.lines) {
      if (l.node != node) continue;
      *out += "- " + (l.iteration > 0 ? "iteration " + std::to_string(l.iteration + 1) + ": " : std::string()) + l.status +
              ", " + std::to_string(l.attempts) + " attempt" + (l.attempts == 1 ? "" : "s") + ", took " + Took(l.start, l.end) +
              ", " + std::to_string(l.tokens) + " tokens, " + Cost(l.cost, l.cost_unknown) + (l.cached ? " (cache hit)" : "") +
              (l.error.empty() ? "" : "; error: " + OneLine(l.error, 500)) + "\n";
    }
    *out += "\n";
    int k = 0;
    for (const auto& c : n.value("calls", json::array())) {
      ++k;
      std::string cost = c["cost_usd"].is_number() ? FormatUsd(c["cost_usd"].get<double>()) : "unknown";
      const json& t = c.value("tokens", json::object());
      *out += "**Model call " + std::to_string(k) + "** (" + c.value("provider", "") + "/" + c.value("model", "") + ", " +
              c.value("status", "") + ", " + std::to_string(t.value("input", int64_t{0})) + " tokens in, " +
              std::to_string(t.value("output", int64_t{0})) + " out, " + cost + ")\n\n";
      for (const auto& m : c.value("prompt", json::array()))
        *out += "*" + m.value("role", "") + ":*\n\n" + Fenced(Clip(m.value("content", ""), 16 << 10)) + "\n";
      if (!c.value("error", "").empty()) *out += "*error:* " + OneLine(c.value("error", ""), 2000) + "\n\n";
      std::string answer = c.value("response", "");
      if (!answer.empty()) *out += "*answer:*\n\n" + Fenced(Clip(answer, 32 << 10)) + "\n";
    }
    const json tcs = n.value("tool_calls", json::array());
    if (!tcs.empty()) {
      *out += "Tool calls:\n\n";
      for (const auto& x : tcs) {
        *out += "- turn " + std::to_string(x.value("turn", 0)) + ": `" + x.value("tool", x.value("name", "")) + "` " +
                OneLine(x.value("arguments", ""), 400) + " -> " + (x.value("ok", false) ? "ok" : "ERROR") + "\n\n";
        std::string res = x.value("result", "");
        if (!res.empty()) *out += Fenced(Clip(res, 4 << 10)) + "\n";
      }
    }
    std::string output = n.value("output", "");
    if (!output.empty()) *out += "Output:\n\n" + Fenced(Clip(output, 16 << 10)) + "\n";
  }

  SW_ASSIGN_OR_RETURN(auto approvals, st->ListApprovals(run_id));
  if (!approvals.empty()) {
    *out += h + "# Decisions\n\n";
    for (const auto& a : approvals)
      *out += "- " + When(a.ts) + " `" + a.node + "`" + (a.iteration > 0 ? " (round " + std::to_string(a.iteration + 1) + ")" : "") +
              ": " + a.decision + (a.by.empty() ? "" : " by " + a.by) + (a.text.empty() ? "" : ": " + OneLine(a.text, 4000)) + "\n";
    *out += "\n";
  }
  auto cost = RunCost(st, run_id);
  if (cost.ok() && cost->total.calls > 0) {
    auto usd = [](const Bucket& b) { return Cost(b.usd, b.unknown > 0); };
    *out += h + "# Cost\n\n- total: " + usd(cost->total) + " (" + std::to_string(cost->total.calls) + " calls, " +
            std::to_string(cost->total.input) + " tokens in, " + std::to_string(cost->total.output) + " out)\n";
    for (const auto& b : cost->by_model) *out += "- " + b.key + ": " + usd(b) + " (" + std::to_string(b.calls) + " calls)\n";
    *out += "\n";
  }
  SW_ASSIGN_OR_RETURN(auto subs, st->ListSubRuns(run_id));
  for (const auto& s : subs)
    if (s.parent_id == run_id) SW_RETURN_IF_ERROR(RunSection(st, s.id, std::min(level + 1, 4), out));
  return Status::Ok();
}

}  // namespace

Result<std::string> RunMarkdown(store::Store* st, const std::string& run_id) {
  std::string out;
  SW_RETURN_IF_ERROR(RunSection(st, run_id, 1, &out));
  return out;
}

Result<std::string> SessionMarkdown(store::Store* st, const std::vector<store::RunRecord>& runs, const std::string& id) {
  SW_ASSIGN_OR_RETURN(json s, SessionJson(st, runs, id));
  std::string out = "# Session " + id + "\n\n";
  out += "- project: `" + s.value("project", "") + "`\n";
  out += "- status: " + s.value("status", "") + "\n";
  out += "- started: " + When(s.value("started_at", 0.0)) + "\n";
  out += "- runs: " + std::to_string(s.value("runs", int64_t{0})) + ", gate rounds: " + std::to_string(s.value("gate_rounds", int64_t{0})) +
         ", tokens: " + std::to_string(s.value("tokens", int64_t{0})) + ", cost: " +
         Cost(s.value("cost_usd", 0.0), !s.value("cost_known", true)) + "\n";
  if (s.contains("change") && s["change"].is_object()) {
    const json& c = s["change"];
    out += "- change: " + OneLine(c.value("request", ""), 4000) + "\n";
    if (c.contains("category")) out += "- route: " + c.value("category", "") + " (entry " + c.value("entry", "") + ")\n";
  }
  if (s.contains("note")) out += "- note: " + s.value("note", "") + "\n";
  out += "\n";
  const json steps = s.value("step_list", json::array());
  if (!steps.empty()) {
    out += "## Steps\n\n";
    for (const auto& st2 : steps) {
      out += "- " + st2.value("key", "") + " (" + st2.value("label", "") + "): " + st2.value("status", "") + ", " +
             std::to_string(st2.value("tokens", int64_t{0})) + " tokens, " + FormatUsd(st2.value("cost_usd", 0.0)) +
             ", verify rounds " + std::to_string(st2.value("verify_rounds", 0)) + "\n";
      for (const auto& g : st2.value("gate", json::array())) {
        if (!g.is_object()) continue;
        std::string line;
        for (const char* k : {"decision", "by", "text", "comment", "answer"})
          if (g.contains(k) && g[k].is_string() && !g[k].get<std::string>().empty())
            line += std::string(line.empty() ? "" : ", ") + k + ": " + OneLine(g[k].get<std::string>(), 4000);
        if (!line.empty()) out += "  - gate: " + line + "\n";
      }
    }
    out += "\n";
  }
  for (const auto& r : s.value("run_list", json::array())) {
    std::string rid = r.value("id", "");
    if (!rid.empty()) SW_RETURN_IF_ERROR(RunSection(st, rid, 2, &out));
  }
  return out;
}

}  // namespace sw::observe
