// PR.md: what was built and how it was checked — the summary, the traceability matrix, and the
// results of verification, review and QA, then every change made with `specwright modify`.
#include <set>

#include "base/strings.h"
#include "process/internal.h"

namespace sw::process {
namespace {

void QaSection(const json& qa, std::string* out) {
  if (!qa.is_object()) {
    *out += "QA did not run.\n";
    return;
  }
  *out += std::string(qa.value("passed", false) ? "The project's tests **pass**" : "The project's tests **FAIL**") +
          " after " + std::to_string(qa.value("rounds", 0)) + " round(s): " + std::to_string(qa.value("passed_cases", 0)) +
          " test cases passed, " + std::to_string(qa.value("failed_cases", 0)) + " failed, " +
          std::to_string(qa.value("missing_cases", 0)) + " not reported.\n\n| test case | result |\n|---|---|\n";
  const json cases = qa.value("cases", json::object());  // bound: items() of a temporary dangles
  for (const auto& [id, r] : cases.items()) *out += "| " + id + " | " + r.get<std::string>() + " |\n";
}

void ReviewSection(const json& steps, const std::string& prefix, std::string* out) {
  for (int r = 1;; ++r) {
    std::string key = prefix + "review-" + std::to_string(r);
    if (!steps.contains(key) || !steps[key].contains("consensus")) break;
    const json& st = steps[key];
    *out += "\n### Round " + std::to_string(r) + ": " + st.value("consensus", std::string()) + "\n\n" +
            st.value("reviews", std::string());
    if (st.contains("arbitration")) {
      *out += "The architect decided:\n";
      for (const auto& a : st["arbitration"].value("apply", json::array()))
        *out += "- apply " + Str(a, "id") + ": " + Str(a, "why") + "\n";
      for (const auto& a : st["arbitration"].value("reject", json::array()))
        *out += "- reject " + Str(a, "id") + ": " + Str(a, "why") + "\n";
    }
    if (st.contains("applied") && !st["applied"].empty()) {
      std::vector<std::string> ids;
      for (const auto& x : st["applied"]) ids.push_back(x.get<std::string>());
      *out += "\nApplied by the developer: " + Join(ids, ", ") + "\n";
    }
  }
}

}  // namespace

Status WritePr(Session& s) {
  json& st = s.state();
  const json& steps = st["steps"];
  SW_ASSIGN_OR_RETURN(spec::Project project, s.Spec());
  const spec::Corpus& corpus = project.corpus;
  spec::Graph graph(corpus, project.config);
  auto findings = graph.Check();
  int errors = 0, warnings = 0;
  for (const auto& f : findings) (f.severity == spec::Severity::kError ? errors : warnings)++;
  std::map<std::string, int> by_prefix;
  for (const auto& it : corpus.items) by_prefix[it.prefix]++;
  std::string counts;
  for (const auto& [p, n] : by_prefix) counts += (counts.empty() ? "" : ", ") + std::to_string(n) + " " + p;

  std::string brief = s.Read(st.value("brief", "BRIEF.md"));
  std::string title = Trim(brief.substr(0, brief.find('\n')));
  while (!title.empty() && title[0] == '#') title = Trim(title.substr(1));
  std::string out = "# " + title + "\n\nBuilt by `specwright develop` from BRIEF.md on the branch `specwright/develop`.\n\n## Summary\n\n";
  const json& cx = st.value("complexity", json::object());
  out += "- Complexity " + std::to_string(cx.value("score", 0)) + "/10, template tier **" + cx.value("tier", std::string()) +
         "** (specs/complexity.md)\n";
  out += "- Spec items: " + counts + "\n";
  out += "- Tasks: " + std::to_string(st.value("tasks", json::array()).size()) + " in " +
         std::to_string(st.value("waves", json::array()).size()) + " waves (specs/tasks/tasks.md)\n";
  out += "- `spec check`: " + std::to_string(errors) + " errors, " + std::to_string(warnings) + " warnings\n";
  int64_t tokens = 0;
  double usd = 0;
  s.Spent("", &tokens, &usd);
  int64_t mtokens = 0;
  double musd = 0;
  s.Spent("m", &mtokens, &musd);
  out += "- Spent: " + std::to_string(tokens - mtokens) + " tokens, " + FormatUsd(usd - musd) + " on develop";
  if (mtokens) out += "; " + std::to_string(mtokens) + " tokens, " + FormatUsd(musd) + " on changes";
  out += "\n\n## Traceability matrix\n\n" + spec::ToMarkdown(spec::MatrixOf(graph));
  if (!findings.empty()) out += "\n### spec check\n\n```\n" + spec::ToText(findings) + "```\n";

  out += "\n## Verification\n\nEach phase's verifier (a fresh context) and `spec check`'s machine checks:\n\n| phase | verifier rounds | result |\n|---|---|---|\n";
  for (const auto& name : {"requirements", "domain", "stories", "architecture", "api", "tasks", "tests"}) {
    if (!steps.contains(name)) continue;
    const json& v = steps[name].value("outputs", json::object()).value("verify", json::object());
    int rounds = steps[name].value("verify_rounds", 1);
    out += std::string("| ") + name + " | " + std::to_string(rounds) + " | " + v.value("verdict", std::string("approve")) +
           (rounds > 1 ? " after fixes" : "") + " |\n";
  }
  // The gate dialogues: what a person said at each gate, round by round.
  std::string gates;
  for (const auto& name : {"requirements", "tasks"}) {
    if (!steps.contains(name) || !steps[name].contains("gate")) continue;
    for (const auto& g : steps[name]["gate"]) {
      if (g.value("by", "") == "auto") continue;  // --yes approves without a word
      std::string text = g.value("text", "");
      for (char& c : text)
        if (c == '\n' || c == '|') c = ' ';
      gates += std::string("| ") + name + " | " + std::to_string(g.value("round", 1)) + " | " + g.value("decision", "") +
               " | " + g.value("by", "") + " | " + LocalTime(g.value("at", 0.0), "%Y-%m-%d %H:%M") + " | " + text + " |\n";
    }
  }
  if (!gates.empty())
    out += "\n## Gate dialogue\n\nWhat a person said at each gate; a rejection or a comment sent the document back to "
           "the architect:\n\n| gate | round | decision | by | when | words |\n|---|---|---|---|---|---|\n" + gates;
  out += "\n## Tasks\n\n| task | path to code | why | commit |\n|---|---|---|---|\n";
  std::map<std::string, std::string> commits;
  for (const auto& [key, step] : steps.items())
    for (const auto& c : step.value("commits", json::array()))
      commits[c.value("task", "")] = c.value("commit", "").substr(0, 12);
  for (const auto& t : st.value("tasks", json::array()))
    out += "| " + t.value("id", "") + " " + t.value("title", "") + " | " + t.value("path", "") + " | " +
           t.value("path_reason", "") + " | " + commits[t.value("id", "")] + " |\n";
  out += "\n## Review\n";
  ReviewSection(steps, "", &out);
  out += "\n## QA\n\n";
  QaSection(st.value("qa", json()), &out);

  const json& mods = st.value("modifies", json::array());
  for (size_t i = 0; i < mods.size(); ++i) {
    const json& m = mods[i];
    std::string prefix = "m" + std::to_string(i + 1) + "-";
    std::string kind = m.value("kind", std::string("modify"));
    if (m.value("status", "") == "abandoned") {
      out += "\n## Change " + std::to_string(i + 1) + " (" + kind + ", abandoned): " + m.value("request", "") +
             "\n\nDropped with `specwright modify --abandon`; nothing of it is in the project.\n";
      continue;
    }
    out += "\n## Change " + std::to_string(i + 1) + " (" + kind + "): " + m.value("request", "") + "\n\n";
    const std::string detail = m.value("detail", std::string());
    if (kind == "update" && !detail.empty()) out += detail + "\n";  // the brief's diff, fenced
    if (kind == "review" && !detail.empty()) {
      out += "What the person asked:\n\n";
      for (size_t a = 0, b; a < detail.size(); a = b + 1) {
        b = detail.find('\n', a);
        if (b == std::string::npos) b = detail.size();
        out += "> " + detail.substr(a, b - a) + "\n";
      }
      out += "\n";
    }
    if (m.value("category", "") == "" && m.value("status", "") == "done") {
      out += kind == "update" ? "The brief's lines are the same as the developed one's (only a final newline differs): "
                                "nothing to regenerate.\n"
                              : "Kept as it is: nothing was asked to change.\n";
      continue;
    }
    out += "- Route: " + m.value("category", "") + " (entry: " + m.value("entry", "") + "). " + m.value("reason", "") + "\n";
    std::vector<std::string> ph;
    for (const auto& x : m.value("phases", json::array())) ph.push_back(x.get<std::string>());
    out += "- Phases run in update mode: " + (ph.empty() ? std::string("none") : Join(ph, ", ")) + ", then development\n";
    for (const auto& k : m.value("kept", json::array()))
      out += "- Kept as it is by the cascade check: " + k.value("id", "") + " (" + k.value("why", "") + ")\n";
    const json& e = m.value("estimate", json::object());
    const json& sp = m.value("spent", json::object());
    out += "- Estimated " + std::to_string(e.value("tokens", int64_t{0})) + " tokens, " + FormatUsd(e.value("usd", 0.0)) +
           "; spent " + std::to_string(sp.value("tokens", int64_t{0})) + " tokens, " + FormatUsd(sp.value("usd", 0.0)) + "\n";
    if (m.contains("restored")) out += "- Restored files outside the impact: " + m["restored"].dump() + "\n";
    out += "\n```\n" + m.value("plan", std::string()) + "```\n";
    out += "\n### Review\n";
    ReviewSection(steps, prefix, &out);
    out += "\n### QA\n\n";
    QaSection(st.value(prefix + "qa", json()), &out);
  }
  return s.Write("PR.md", out);
}

}  // namespace sw::process
