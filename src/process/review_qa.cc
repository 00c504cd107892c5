// Review (N reviewers, consensus or the architect's arbitration, bounded fixes) and QA (the
// project's own tests run for real, failures back to the developer with the real output).
#include <set>

#include "base/strings.h"
#include "process/internal.h"

namespace sw::process {
namespace {

std::vector<Review> ParseReviews(const json& outputs, const Roles& roles) {
  std::vector<Review> out;
  for (size_t i = 0; i < roles.reviewers.size(); ++i) {
    std::string node = "review_" + std::to_string(i + 1);
    if (!outputs.contains(node)) continue;
    const json& r = outputs[node];
    Review v;
    v.reviewer = node;
    v.model = roles.reviewers[i];
    v.approve = Str(r, "verdict") == "approve";
    for (const auto& f : r.value("findings", json::array()))
      v.findings.push_back({node + "/" + Str(f, "id"), Str(f, "severity").empty() ? "minor" : Str(f, "severity"),
                            Str(f, "file"), Str(f, "finding")});
    out.push_back(std::move(v));
  }
  return out;
}

std::string ReviewsText(const std::vector<Review>& reviews) {
  std::string out;
  for (const auto& r : reviews) {
    out += "### " + r.reviewer + " (" + r.model + "): " + (r.approve ? "approve" : "changes") + "\n";
    for (const auto& f : r.findings) out += "- " + f.id + " [" + f.severity + "] " + f.file + ": " + f.finding + "\n";
    out += "\n";
  }
  return out;
}

}  // namespace

Result<StepOutcome> RunQa(Session& s, const std::string& prefix, const std::string& key, int round,
                          std::string* message, std::string* output) {
  json& st = s.state();
  SW_ASSIGN_OR_RETURN(auto tc_ids, TestCaseIds(s));
  s.Say("phase QA, round " + std::to_string(round) + ": " + s.options().qa_command);
  SW_ASSIGN_OR_RETURN(StepOutcome out, s.RunStep(key, "QA round " + std::to_string(round), "qa.yaml",
                                                {{"command", s.options().qa_command},
                                                 {"specs", s.Read("specs/tests/test-cases.md")}},
                                                ""));
  if (out.waiting) return out;
  *output = out.outputs.value("test", json("")).is_string() ? out.outputs["test"].get<std::string>() : "";
  TestReport rep = ParseTestRun(*output, tc_ids);
  json& qs = s.Step(key);
  qs["passed"] = rep.passed;
  qs["exit_code"] = rep.exit_code;
  qs["cases"] = json(rep.per_case);
  json summary = json::object();
  summary["passed"] = rep.passed;
  summary["rounds"] = round;
  summary["cases"] = json(rep.per_case);
  summary["passed_cases"] = rep.passed_cases;
  summary["failed_cases"] = rep.failed_cases;
  summary["missing_cases"] = rep.missing_cases;
  st[prefix + "qa"] = summary;
  // The run's results per test case, in the project: the matrix's `passing` column and `spec
  // check`'s req-test-not-passed read them (no time or run id: the same results, the same file).
  json results{{"command", s.options().qa_command}, {"exit_code", rep.exit_code}, {"cases", json(rep.per_case)}};
  SW_ASSIGN_OR_RETURN(spec::Config config, spec::LoadConfig(s.options().project));
  if (!config.test_results.empty()) SW_RETURN_IF_ERROR(s.Write(config.test_results, results.dump(2) + "\n"));
  *message = "QA: " + std::string(rep.passed ? "tests pass" : "tests FAIL") + " (" + std::to_string(rep.passed_cases) +
             " of " + std::to_string(tc_ids.size()) + " test cases passed, " + std::to_string(rep.failed_cases) +
             " failed) after " + std::to_string(round) + " round" + (round > 1 ? "s" : "");
  s.Say(*message);
  SW_RETURN_IF_ERROR(s.Save());
  return out;
}

Result<Outcome> ReviewAndQa(Session& s, const std::string& prefix, const std::string& base, const std::string& plan,
                            const std::string& all_specs, const std::vector<std::string>& fix_files) {
  json& st = s.state();
  const Options& o = s.options();
  int review_rounds = s.Limit("review_rounds", 2);
  for (int r = 1; r <= review_rounds; ++r) {
    std::string key = prefix + "review-" + std::to_string(r);
    SW_ASSIGN_OR_RETURN(std::string head, s.repo()->Head());
    SW_ASSIGN_OR_RETURN(std::string diff, s.repo()->Diff(base, head));
    s.Say("phase review, round " + std::to_string(r) + ": " + std::to_string(o.roles.reviewers.size()) + " reviewers");
    SW_ASSIGN_OR_RETURN(StepOutcome out, s.RunStep(key, "review round " + std::to_string(r), "review.yaml",
                                                  {{"round", r},
                                                   {"plan", plan},
                                                   {"specs", all_specs},
                                                   {"diff", diff},
                                                   {"context", s.Context()}},
                                                  ""));
    if (out.waiting) return Waiting(s, key);
    std::vector<Review> reviews = ParseReviews(out.outputs, o.roles);
    Consensus c = Judge(reviews);
    json& rs = s.Step(key);
    rs["consensus"] = ConsensusName(c);
    rs["reviews"] = ReviewsText(reviews);
    s.Say("review round " + std::to_string(r) + ": " + ConsensusName(c));
    if (c == Consensus::kApproved) break;
    std::vector<ReviewFinding> apply;
    std::set<std::string> files;
    for (const auto& v : reviews)
      for (const auto& f : v.findings) {
        if (c == Consensus::kAgreeOnChanges) apply.push_back(f);
      }
    if (c == Consensus::kDisagree) {
      std::string akey = prefix + "arbitrate-" + std::to_string(r);
      s.Say("the reviewers disagree: the architect decides");
      SW_ASSIGN_OR_RETURN(StepOutcome arb, s.RunStep(akey, "arbitration round " + std::to_string(r), "arbitrate.yaml",
                                                    {{"reviews", ReviewsText(reviews)},
                                                     {"plan", plan},
                                                     {"diff", diff},
                                                     {"context", s.Context()}},
                                                    ""));
      if (arb.waiting) return Waiting(s, akey);
      const json& d = arb.outputs.value("decide", json::object());
      std::set<std::string> chosen;
      for (const auto& a : d.value("apply", json::array())) {
        chosen.insert(Str(a, "id"));
        PushUnique(&st["decisions"], "review round " + std::to_string(r) + ": apply " + Str(a, "id") + " - " + Str(a, "why"));
      }
      for (const auto& a : d.value("reject", json::array()))
        PushUnique(&st["decisions"], "review round " + std::to_string(r) + ": reject " + Str(a, "id") + " - " + Str(a, "why"));
      for (const auto& v : reviews)
        for (const auto& f : v.findings)
          if (chosen.count(f.id) || chosen.count(f.id.substr(f.id.find('/') + 1))) apply.push_back(f);
      rs["arbitration"] = d;
      SW_RETURN_IF_ERROR(s.WriteContext());
    }
    if (apply.empty()) {
      rs["applied"] = json::array();
      break;
    }
    std::string feedback;
    Task t;
    t.id = "TASK-R" + std::to_string(r);
    t.title = "Apply the review findings of round " + std::to_string(r);
    for (const auto& f : apply) {
      feedback += "- " + f.id + " [" + f.severity + "] " + f.file + ": " + f.finding + "\n";
      if (!f.file.empty()) files.insert(f.file);
      PushUnique(&rs["applied"], f.id);
      // What a review found and had fixed is a gotcha the next agents should know (develop's
      // and every modify's: prefix says which).
      std::string first = f.finding.substr(0, f.finding.find('\n'));
      if (first.size() > 200) first = Utf8Prefix(first, 197) + "...";
      PushUnique(&st["gotchas"], (prefix.empty() ? std::string() : prefix) + "review round " + std::to_string(r) + ": " +
                                     (f.file.empty() ? "" : f.file + ": ") + first);
    }
    t.description = "Apply exactly these review findings and nothing else. Change only: " + Join(fix_files, ", ");
    // A finding names its file; the fix stays inside the files this work may change.
    for (const auto& f : files)
      for (const auto& a : fix_files)
        if (f == a || (a.ends_with("/") && f.starts_with(a))) t.files.push_back(f);
    if (t.files.empty()) t.files = fix_files;
    t.implements = {"review"};
    t.path = "direct";
    t.path_reason = "the findings say what to change";
    SW_RETURN_IF_ERROR(s.Save());
    SW_ASSIGN_OR_RETURN(StepOutcome fix, RunTasks(s, prefix + "review-fix-" + std::to_string(r),
                                                  "review fixes, round " + std::to_string(r), {t}, all_specs, feedback));
    if (fix.waiting) return Waiting(s, prefix + "review-fix-" + std::to_string(r));
  }

  int qa_rounds = s.Limit("qa_rounds", 3);
  Outcome result;
  for (int q = 1; q <= qa_rounds; ++q) {
    std::string key = prefix + "qa-" + std::to_string(q);
    std::string text;
    SW_ASSIGN_OR_RETURN(StepOutcome out, RunQa(s, prefix, key, q, &result.message, &text));
    if (out.waiting) return Waiting(s, key);
    bool passed = st[prefix + "qa"].value("passed", false);
    if (passed) break;
    std::string triage = out.outputs.value("triage", json("")).is_string() ? out.outputs["triage"].get<std::string>() : "";
    std::string first = triage.substr(0, triage.find('\n'));
    if (!first.empty()) PushUnique(&st["gotchas"], "QA round " + std::to_string(q) + ": " + first);
    SW_RETURN_IF_ERROR(s.WriteContext());
    SW_RETURN_IF_ERROR(s.Save());
    if (q == qa_rounds) break;
    Task t;
    t.id = "TASK-Q" + std::to_string(q);
    t.title = "Make the failing tests pass (QA round " + std::to_string(q) + ")";
    t.description = "The project's tests fail. Fix the code (not the tests, unless a test contradicts its test case).";
    t.implements = {"qa"};
    t.files = fix_files;
    t.description += " Change only: " + Join(fix_files, ", ") + ".";
    t.path = "direct";
    t.path_reason = "the real test output says what is wrong";
    SW_ASSIGN_OR_RETURN(StepOutcome fix, RunTasks(s, prefix + "qa-fix-" + std::to_string(q), "QA fixes, round " + std::to_string(q),
                                                  {t}, all_specs, "## Test output\n" + text + "\n## QA's triage\n" + triage));
    if (fix.waiting) return Waiting(s, prefix + "qa-fix-" + std::to_string(q));
  }
  SW_RETURN_IF_ERROR(s.Save());
  return result;
}

}  // namespace sw::process
