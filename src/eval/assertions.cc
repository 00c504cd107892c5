// Checking one assertion against one case's run.
#include <re2/re2.h>

#include <cmath>

#include "base/strings.h"
#include "eval/eval.h"
#include "workflow/expr.h"
#include "workflow/json_schema.h"
#include "workflow/template.h"

namespace sw::eval {

std::string Cut(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  std::string head = Utf8Prefix(s, max);
  return head + "… [cut: " + std::to_string(s.size() - head.size()) + " bytes more]";
}

namespace {

std::string Text(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

json CaseJson(const Case& c) { return json{{"id", c.id}, {"inputs", c.inputs}, {"vars", c.vars}}; }

std::string Num(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

}  // namespace

json CheckAssertion(const Assertion& a, const Case& c, const CaseRun& run, const JudgeFn& judge,
                    const std::string& default_judge_model) {
  json out{{"id", a.id}, {"type", TypeName(a.kind)}, {"passed", false}, {"status", "failed"}, {"message", ""},
           {"actual", nullptr}, {"expected", nullptr}};
  if (!a.node.empty()) out["node"] = a.node;
  auto result = [&](bool passed, const std::string& msg) {
    out["passed"] = passed;
    out["status"] = passed ? "passed" : "failed";
    out["message"] = msg;
    return out;
  };
  auto error = [&](const std::string& msg) {
    out["passed"] = false;
    out["status"] = "error";
    out["message"] = msg;
    return out;
  };
  if (run.run_status != "succeeded")
    return error("the case's run " + (run.run_status.empty() ? std::string("did not run") : run.run_status) +
                 (run.error.empty() ? "" : ": " + run.error));
  json scope_root{{"case", CaseJson(c)}, {"inputs", run.inputs}};
  // The node's output, for the checks that read one.
  const json* value = nullptr;
  if (!a.node.empty() && a.kind != AssertKind::kCost && a.kind != AssertKind::kLatency && a.kind != AssertKind::kTokens) {
    auto it = run.outputs.find(a.node);
    if (it == run.outputs.end())
      return result(false, "node " + Quote(a.node) + " has no output (it did not succeed: skipped or not reached)");
    value = &*it;
  }
  switch (a.kind) {
    case AssertKind::kEquals:
    case AssertKind::kContains:
    case AssertKind::kNotContains:
    case AssertKind::kIContains:
    case AssertKind::kRegex: {
      auto t = tmpl::Template::Parse(a.value.get<std::string>());
      if (!t.ok()) return error(t.status().message());
      expr::JsonScope scope(scope_root);
      auto want = (*t)->Render(scope);
      if (!want.ok()) return error("rendering the expected value: " + want.status().message());
      std::string got = Text(*value);
      out["actual"] = Cut(got);
      out["expected"] = *want;
      if (a.kind == AssertKind::kEquals) {
        bool ok = got == *want || Trim(got) == Trim(*want);
        return result(ok, ok ? "equal" : "the output is not equal to the expected text");
      }
      if (a.kind == AssertKind::kContains) {
        bool ok = got.find(*want) != std::string::npos;
        return result(ok, ok ? "contains it" : "the output does not contain " + Quote(*want));
      }
      if (a.kind == AssertKind::kNotContains) {
        bool ok = got.find(*want) == std::string::npos;
        return result(ok, ok ? "does not contain it" : "the output contains " + Quote(*want));
      }
      if (a.kind == AssertKind::kIContains) {
        bool ok = Lower(got).find(Lower(*want)) != std::string::npos;
        return result(ok, ok ? "contains it (ignoring case)" : "the output does not contain " + Quote(*want) + " (ignoring case)");
      }
      RE2 re(*want, RE2::Quiet);
      if (!re.ok()) return error("regex " + Quote(*want) + " is not valid RE2: " + re.error());
      bool ok = RE2::PartialMatch(got, re);
      return result(ok, ok ? "matches" : "the output does not match /" + *want + "/");
    }
    case AssertKind::kJsonSchema: {
      json inst = *value;
      if (inst.is_string()) {
        inst = json::parse(inst.get<std::string>(), nullptr, false);
        if (inst.is_discarded()) {
          out["actual"] = Cut(Text(*value));
          return result(false, "the output is not JSON");
        }
      }
      out["actual"] = Cut(inst.dump());
      out["expected"] = a.value;
      auto errs = jsonschema::Validate(a.value, inst);
      if (errs.empty()) return result(true, "valid");
      return result(false, Join(errs, "; "));
    }
    case AssertKind::kExpr: {
      auto e = expr::Expr::Parse(a.value.get<std::string>());
      if (!e.ok()) return error(e.status().message());
      json nodes = json::object();
      for (auto& [id, v] : run.outputs.items()) {
        json j = v;
        if (v.is_string()) {
          json p = json::parse(v.get<std::string>(), nullptr, false);
          j = p.is_discarded() ? json(nullptr) : p;
        }
        nodes[id] = json{{"output", Text(v)}, {"json", j}};
      }
      json root = scope_root;
      root["nodes"] = nodes;
      root["run"] = json{{"status", run.run_status}, {"cost_usd", run.cost_usd}, {"latency_ms", run.latency_ms},
                         {"tokens", run.tokens_in + run.tokens_out}, {"calls", run.calls}};
      expr::JsonScope scope(root);
      out["expected"] = a.value;
      auto v = (*e)->Eval(scope);
      if (!v.ok()) return error("evaluating " + Quote(a.value.get<std::string>()) + ": " + v.status().message());
      out["actual"] = Cut(v->dump());
      bool ok = expr::Truthy(*v);
      return result(ok, ok ? "true" : "the expression is false");
    }
    case AssertKind::kCost:
    case AssertKind::kLatency:
    case AssertKind::kTokens: {
      double got = 0;
      bool unknown = false;  // the cost is a lower bound: a model call without a price
      if (a.node.empty()) {
        unknown = run.cost_unknown;
        got = a.kind == AssertKind::kCost ? run.cost_usd
              : a.kind == AssertKind::kLatency ? run.latency_ms
                                              : static_cast<double>(run.tokens_in + run.tokens_out);
      } else {
        auto it = run.nodes.find(a.node);
        if (it == run.nodes.end()) return result(false, "node " + Quote(a.node) + " did not run in this case");
        unknown = it->second.cost_unknown;
        got = a.kind == AssertKind::kCost ? it->second.cost_usd
              : a.kind == AssertKind::kLatency ? it->second.latency_ms
                                              : static_cast<double>(it->second.tokens);
      }
      out["actual"] = got;
      out["expected"] = json{{"max", a.max}};
      std::string what = a.node.empty() ? "the case" : "node " + Quote(a.node);
      if (a.kind == AssertKind::kCost && unknown)
        return error(what + " used a model without a price: its cost is unknown");
      // A node's cost is unknown when a call had no price or reported no usage (then its tokens
      // are a lower bound too): a token limit on it cannot be passed on what was counted.
      if (a.kind == AssertKind::kTokens && unknown && !a.node.empty())
        return error(what + " had a model call without a price or without reported usage: its tokens are not known for sure");
      bool ok = got <= a.max;
      std::string unit = a.kind == AssertKind::kCost ? " USD" : a.kind == AssertKind::kLatency ? " ms" : " tokens";
      return result(ok, what + (ok ? " took " : " took more than the limit: ") + Num(got) + unit + " (max " + Num(a.max) + ")");
    }
    case AssertKind::kRubric: {
      if (!judge) return error("no judge to run the rubric");
      std::string model = a.judge_model.empty() ? default_judge_model : a.judge_model;
      std::string text = Text(*value);
      out["actual"] = Cut(text);
      out["expected"] = json{{"rubric", a.value}, {"threshold", a.threshold}, {"judge", model}};
      auto v = judge(a, model, text, CaseJson(c));
      if (!v.ok()) return error("the judge: " + v.status().message());
      if (v->contains("run")) out["judge_run"] = (*v)["run"];
      for (const char* k : {"cost_usd", "tokens_in", "tokens_out", "calls"})
        if (v->contains(k)) out["judge_" + std::string(k)] = (*v)[k];
      if (!v->contains("pass") || !(*v)["pass"].is_boolean() || !v->contains("score") || !(*v)["score"].is_number())
        return error("the judge's verdict lacks pass (boolean) and score (number): " + Cut(v->dump(), 300));
      double score = (*v)["score"].get<double>();
      out["score"] = score;
      bool ok = (*v)["pass"].get<bool>() && score >= a.threshold;
      std::string reason = v->contains("reason") && (*v)["reason"].is_string() ? (*v)["reason"].get<std::string>() : "";
      return result(ok, std::string(ok ? "the judge passed it" : "the judge failed it") + " (score " + Num(score) +
                            ", threshold " + Num(a.threshold) + ")" + (reason.empty() ? "" : ": " + reason));
    }
  }
  return error("unknown assertion type");
}

}  // namespace sw::eval
