// DebugText: the post-mortem (Debug) as a person reads it — `specwright debug` prints it and
// the MCP server's run_debug answers with it.
#include <cstdio>

#include "base/strings.h"
#include "observe/observe.h"

namespace sw::observe {
namespace {

std::string Indent(const std::string& text, const char* pad) {
  std::string out;
  for (const auto& line : Split(text, '\n')) out += pad + line + "\n";
  return out;
}

std::string Format(const char* fmt, auto... args) {
  int n = std::snprintf(nullptr, 0, fmt, args...);
  std::string out(static_cast<size_t>(n > 0 ? n : 0), '\0');
  std::snprintf(out.data(), out.size() + 1, fmt, args...);
  return out;
}

}  // namespace

std::string DebugText(const json& d) {
  std::string out;
  const json& run = d["run"];
  out += Format("run %s (%s) %s%s\n", run.value("id", "").c_str(), run.value("workflow", "").c_str(), run.value("status", "").c_str(),
                run.value("error", "").empty() ? "" : (": " + run.value("error", "")).c_str());
  if (!d.contains("nodes") || d["nodes"].empty()) return out + "no node failed or was skipped\n";
  for (const auto& n : d["nodes"]) {
    std::string status = n.value("status", "");
    out += Format("\n%s node \"%s\" %s", status == "failed" ? "FAILED" : status == "skipped" ? "SKIPPED" : "NODE",
                  n.value("node", "").c_str(), status.c_str());
    if (n.contains("kind"))
      out += Format(" (%s%s)", n.value("kind", "").c_str(), n.value("model", "").empty() ? "" : (", " + n.value("model", "")).c_str());
    out += "\n";
    if (n.contains("error")) out += "  error: " + n.value("error", "") + "\n";
    if (n.contains("reason")) out += "  why:   " + n.value("reason", "") + "\n";
    if (n.contains("budget_refused")) out += "  budget: " + n.value("budget_refused", "") + "\n";
    if (n.contains("calls") && !n["calls"].empty()) {
      out += Format("  model calls (%zu, %d retries):\n", n["calls"].size(), n.value("retries", 0));
      for (const auto& c : n["calls"])
        out += Format("    attempt %d%s: %s %s/%s %.0f ms%s%s\n", c.value("attempt", 0),
                      c.value("item", -1) >= 0 ? (" item " + std::to_string(c.value("item", -1))).c_str() : "",
                      c.value("status", "").c_str(), c.value("provider", "").c_str(), c.value("model", "").c_str(),
                      c.value("latency_ms", 0.0), c.value("error", "").empty() ? "" : ": ", c.value("error", "").c_str());
    } else if (n.contains("attempts") && !n["attempts"].empty()) {
      out += "  attempts:\n";
      for (const auto& a : n["attempts"])
        out += Format("    attempt %d: %s%s%s\n", a.value("attempt", 0), a.value("status", "").c_str(),
                      a.value("error", "").empty() ? "" : ": ", a.value("error", "").c_str());
    }
    for (const auto& r : n.value("retry_schedule", json::array()))
      out += Format("    retried after attempt %d, waiting %s\n", r.value("after_attempt", 0), HumanDuration(r.value("delay_s", 0.0)).c_str());
    if (n.contains("prompt") && !n["prompt"].empty()) {
      out += "  rendered prompt:\n";
      for (const auto& m : n["prompt"]) out += "    [" + m.value("role", "") + "]\n" + Indent(m.value("text", ""), "      ");
    }
    if (n.contains("inputs") && !n["inputs"].empty()) {
      out += "  inputs:\n";
      for (const auto& in : n["inputs"]) {
        out += "    " + in.value("node", "") + " (" + in.value("status", "") + ")" + (in.value("output", "").empty() ? "" : ":") + "\n";
        if (!in.value("output", "").empty()) out += Indent(in.value("output", ""), "      ");
      }
    }
    if (n.contains("last_output") && n["last_output"].is_string() && !n["last_output"].get<std::string>().empty())
      out += "  last output:\n" + Indent(n["last_output"].get<std::string>(), "    ");
    if (n.contains("skipped_dependents") && !n["skipped_dependents"].empty()) {
      out += "  took down:\n";
      for (const auto& s : n["skipped_dependents"]) out += "    " + s.value("node", "") + " (" + s.value("reason", "") + ")\n";
    }
  }
  return out;
}

}  // namespace sw::observe
