// The report: summary, comparison with a baseline, JUnit XML, text, and the stored history.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "base/strings.h"
#include "eval/eval.h"

namespace sw::eval {
namespace {

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

std::string Num(double v, const char* fmt = "%.4g") {
  char b[64];
  std::snprintf(b, sizeof b, fmt, v);
  return b;
}

std::string Pct(double v) { return Num(v * 100, "%.1f") + "%"; }

std::string Usd(double v) { return "$" + Num(v, "%.4f"); }

std::string XmlEscape(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (unsigned char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&apos;"; break;
      case '\n': case '\t': case '\r': o += static_cast<char>(c); break;
      default:
        if (c < 0x20) o += "?";  // not allowed in XML 1.0
        else o += static_cast<char>(c);
    }
  }
  return o;
}

double D(const json& j, const char* k) { return j.contains(k) && j[k].is_number() ? j[k].get<double>() : 0; }

}  // namespace

void Summarise(json* report) {
  json& r = *report;
  int cases = 0, passed = 0, failed = 0, errored = 0, assertions = 0, assertions_passed = 0;
  double cost = 0;
  bool cost_unknown = false;
  int64_t tin = 0, tout = 0, calls = 0;
  std::vector<double> lat;
  std::vector<std::string> order;
  std::map<std::string, json> per;
  for (const auto& c : r["cases"]) {
    ++cases;
    std::string st = c.value("status", "error");
    if (st == "passed") ++passed;
    else if (st == "failed") ++failed;
    else ++errored;
    cost += D(c, "cost_usd");
    cost_unknown = cost_unknown || c.value("cost_unknown", false);
    tin += c.value("tokens_in", int64_t{0});
    tout += c.value("tokens_out", int64_t{0});
    calls += c.value("calls", int64_t{0});
    if (!c.value("run", "").empty()) lat.push_back(D(c, "latency_ms"));
    for (const auto& a : c["assertions"]) {
      ++assertions;
      std::string id = a.value("id", "?");
      if (!per.count(id)) {
        order.push_back(id);
        per[id] = json{{"id", id}, {"type", a.value("type", "")}, {"node", a.value("node", "")},
                       {"description", a.value("description", "")}, {"passed", 0}, {"failed", 0}, {"errored", 0}};
      }
      std::string s = a.value("status", a.value("passed", false) ? "passed" : "failed");
      if (s == "passed") {
        ++assertions_passed;
        per[id]["passed"] = per[id]["passed"].get<int>() + 1;
      } else if (s == "error") {
        per[id]["errored"] = per[id]["errored"].get<int>() + 1;
      } else {
        per[id]["failed"] = per[id]["failed"].get<int>() + 1;
      }
    }
  }
  double mean = 0;
  for (double v : lat) mean += v;
  if (!lat.empty()) mean /= static_cast<double>(lat.size());
  double wall = r.contains("summary") ? D(r["summary"], "wall_ms") : 0;
  r["summary"] = json{{"cases", cases},
                      {"passed", passed},
                      {"failed", failed},
                      {"errored", errored},
                      {"pass_rate", cases ? static_cast<double>(passed) / cases : 0.0},
                      {"assertions", assertions},
                      {"assertions_passed", assertions_passed},
                      {"cost_usd", cost},
                      {"cost_unknown", cost_unknown},
                      {"tokens_in", tin},
                      {"tokens_out", tout},
                      {"calls", calls},
                      {"latency_ms",
                       {{"p50", Percentile(lat, 0.5)},
                        {"p95", Percentile(lat, 0.95)},
                        {"max", lat.empty() ? 0 : *std::max_element(lat.begin(), lat.end())},
                        {"mean", mean}}},
                      {"wall_ms", wall}};
  json list = json::array();
  for (const auto& id : order) {
    json a = per[id];
    int n = a["passed"].get<int>() + a["failed"].get<int>() + a["errored"].get<int>();
    a["pass_rate"] = n ? a["passed"].get<double>() / n : 0.0;
    list.push_back(std::move(a));
  }
  r["assertions"] = std::move(list);
}

Status CheckReport(const json& j, const std::string& origin) {
  if (!j.is_object() || j.value("format", "") != kReportFormat)
    return InvalidInput(origin + " is not an eval report (its format is not \"" + std::string(kReportFormat) + "\")");
  for (const char* k : {"summary", "cases", "suite"})
    if (!j.contains(k)) return InvalidInput(origin + ": the eval report has no " + std::string(k));
  if (!j["cases"].is_array() || !j["summary"].is_object()) return InvalidInput(origin + ": malformed eval report");
  for (const auto& c : j["cases"])
    if (!c.is_object() || !c.contains("id") || !c["id"].is_string() || !c.contains("assertions") || !c["assertions"].is_array())
      return InvalidInput(origin + ": malformed case in the eval report");
  return Status::Ok();
}

Tolerance ToleranceOf(const json& report) {
  Tolerance t;
  if (report.contains("tolerance") && report["tolerance"].is_object()) {
    const json& j = report["tolerance"];
    if (j.contains("pass_rate") && j["pass_rate"].is_number()) t.pass_rate = j["pass_rate"].get<double>();
    if (j.contains("cost") && j["cost"].is_number()) t.cost = j["cost"].get<double>();
    if (j.contains("latency") && j["latency"].is_number()) t.latency = j["latency"].get<double>();
    if (j.contains("cases") && j["cases"].is_number_integer() && j["cases"].get<int64_t>() >= 0)
      t.cases = j["cases"].get<int64_t>();
  }
  return t;
}

json ToleranceJson(const Tolerance& t) {
  return json{{"pass_rate", t.pass_rate}, {"cost", t.cost}, {"latency", t.latency}, {"cases", t.cases}};
}

Status ParseTolerance(const std::string& spec, Tolerance* t) {
  for (const auto& part : Split(spec, ',')) {
    std::string p = Trim(part);
    if (p.empty()) continue;
    size_t eq = p.find('=');
    if (eq == std::string::npos) return InvalidInput("--tolerance takes k=v (pass_rate, cost, latency, cases), got " + Quote(p));
    std::string k = Trim(p.substr(0, eq)), v = Trim(p.substr(eq + 1));
    char* end = nullptr;
    double d = std::strtod(v.c_str(), &end);
    if (v.empty() || *end || !std::isfinite(d) || d < 0)
      return InvalidInput("--tolerance " + k + ": " + Quote(v) + " is not a number >= 0");
    if (k == "pass_rate") t->pass_rate = d;
    else if (k == "cost") t->cost = d;
    else if (k == "latency") t->latency = d;
    else if (k == "cases") {
      if (d != std::floor(d) || d > 1e9) return InvalidInput("--tolerance cases: " + Quote(v) + " is not a whole number of cases");
      t->cases = static_cast<int64_t>(d);
    } else {
      std::string near = DidYouMean(k, {"pass_rate", "cost", "latency", "cases"});
      return InvalidInput("--tolerance: unknown key " + Quote(k) + (near.empty() ? "" : " (did you mean " + Quote(near) + "?)") +
                          "; the keys are pass_rate, cost, latency, cases");
    }
  }
  return Status::Ok();
}

json Compare(const json& a, const json& b, const Tolerance& tol) {
  const json& sa = a["summary"];
  const json& sb = b["summary"];
  double pa = D(sa, "pass_rate"), pb = D(sb, "pass_rate");
  double ca = D(sa, "cost_usd"), cb = D(sb, "cost_usd");
  double la = sa.contains("latency_ms") ? D(sa["latency_ms"], "p50") : 0;
  double lb = sb.contains("latency_ms") ? D(sb["latency_ms"], "p50") : 0;
  auto ratio = [](double x, double y) -> json { return x > 0 ? json(y / x) : json(nullptr); };
  json out{{"a", a.value("run", "")},
           {"b", b.value("run", "")},
           {"verdict", "ok"},
           {"tolerance", ToleranceJson(tol)},
           {"pass_rate", {{"a", pa}, {"b", pb}, {"delta", pb - pa}}},
           {"cost_usd", {{"a", ca}, {"b", cb}, {"ratio", ratio(ca, cb)}}},
           {"latency_p50_ms", {{"a", la}, {"b", lb}, {"ratio", ratio(la, lb)}}},
           {"regressions", json::array()},
           {"notes", json::array()},
           {"cases", json::array()}};
  const double eps = 1e-9;
  std::vector<std::string> regressed_cases;
  std::map<std::string, const json*> in_a, in_b;
  for (const auto& c : a["cases"]) in_a[c["id"].get<std::string>()] = &c;
  for (const auto& c : b["cases"]) in_b[c["id"].get<std::string>()] = &c;
  auto rank = [](const std::string& s) { return s == "passed" ? 2 : s == "failed" ? 1 : 0; };
  auto add_case = [&](const std::string& id) {
    const json* ca_ = in_a.count(id) ? in_a[id] : nullptr;
    const json* cb_ = in_b.count(id) ? in_b[id] : nullptr;
    std::string sa_ = ca_ ? ca_->value("status", "error") : "", sb_ = cb_ ? cb_->value("status", "error") : "";
    std::string change = !ca_ ? "new" : !cb_ ? "removed"
                         : sa_ == sb_ ? "same"
                         : sa_ == "passed" ? "regressed"
                         : sb_ == "passed" ? "fixed"
                         : rank(sb_) < rank(sa_) ? "regressed" : "same";
    json entry{{"id", id}, {"a", ca_ ? json(sa_) : json(nullptr)}, {"b", cb_ ? json(sb_) : json(nullptr)},
               {"change", change}, {"assertions", json::array()}};
    std::vector<std::string> ids;
    std::map<std::string, std::pair<std::string, std::string>> st;
    auto collect = [&](const json* c, bool first) {
      if (!c) return;
      for (const auto& x : (*c)["assertions"]) {
        std::string aid = x.value("id", "?");
        if (!st.count(aid)) ids.push_back(aid);
        std::string s = x.value("status", x.value("passed", false) ? "passed" : "failed");
        (first ? st[aid].first : st[aid].second) = s;
      }
    };
    collect(ca_, true);
    collect(cb_, false);
    std::vector<std::string> turned;
    for (const auto& aid : ids) {
      auto& [x, y] = st[aid];
      entry["assertions"].push_back(json{{"id", aid}, {"a", x.empty() ? json(nullptr) : json(x)},
                                         {"b", y.empty() ? json(nullptr) : json(y)}});
      if (x == "passed" && !y.empty() && y != "passed") turned.push_back(aid);
    }
    if (change == "regressed") {
      std::string why;
      if (cb_) {
        for (const auto& x : (*cb_)["assertions"])
          if (std::find(turned.begin(), turned.end(), x.value("id", "")) != turned.end())
            why += (why.empty() ? "" : "; ") + x.value("id", "") + " (" + x.value("type", "") + "): " + x.value("message", "");
        if (why.empty() && !cb_->value("error", "").empty()) why = cb_->value("error", "");
      }
      regressed_cases.push_back("case " + id + ": " + sa_ + " -> " + sb_ + (why.empty() ? "" : ": " + why));
    }
    out["cases"].push_back(std::move(entry));
  };
  for (const auto& c : a["cases"]) add_case(c["id"].get<std::string>());
  for (const auto& c : b["cases"])
    if (!in_a.count(c["id"].get<std::string>())) add_case(c["id"].get<std::string>());
  bool bad = false;
  // A baseline of another suite compares nothing: refuse it rather than pass (default case ids
  // like case-1 would even match).
  std::string na = a.contains("suite") && a["suite"].is_object() ? a["suite"].value("name", "") : "";
  std::string nb = b.contains("suite") && b["suite"].is_object() ? b["suite"].value("name", "") : "";
  size_t common = 0;
  int common_pa = 0, common_pb = 0;
  double common_ca = 0, common_cb = 0;
  for (const auto& [id, x] : in_a) {
    auto it = in_b.find(id);
    if (it == in_b.end()) continue;
    ++common;
    common_pa += x->value("status", "") == "passed";
    common_pb += it->second->value("status", "") == "passed";
    common_ca += D(*x, "cost_usd");
    common_cb += D(*it->second, "cost_usd");
  }
  if (na != nb) {
    bad = true;
    out["regressions"].push_back("the baseline is a report of suite " + Quote(na) + ", not of " + Quote(nb) +
                                 ": compare reports of the same suite");
  } else if (common == 0 && !in_a.empty() && !in_b.empty()) {
    bad = true;
    out["regressions"].push_back("no case of the baseline is in this report: nothing was compared");
  }
  // Cases added or removed change the totals without any case getting better or worse: the
  // pass rate and the cost are then judged over the cases both reports have.
  bool same_cases = common == in_a.size() && common == in_b.size();
  if (!same_cases && common > 0) {
    pa = static_cast<double>(common_pa) / static_cast<double>(common);
    pb = static_cast<double>(common_pb) / static_cast<double>(common);
    ca = common_ca;
    cb = common_cb;
    out["common"] = json{{"cases", common}, {"pass_rate", {{"a", pa}, {"b", pb}}}, {"cost_usd", {{"a", ca}, {"b", cb}}}};
  }
  std::string over = same_cases || common == 0 ? "" : " over the " + std::to_string(common) + " cases in both";
  if (pa - pb > tol.pass_rate + eps) {
    bad = true;
    out["regressions"].push_back("pass rate" + over + " fell from " + Pct(pa) + " to " + Pct(pb) + " (tolerance " +
                                 Pct(tol.pass_rate) + ")");
  }
  bool cost_unknown = (a.contains("summary") && a["summary"].value("cost_unknown", false)) ||
                      (b.contains("summary") && b["summary"].value("cost_unknown", false));
  if (cost_unknown || (ca <= 0 && cb > 0))
    out["notes"].push_back(cost_unknown ? "cost not fully known (a model without a price): the cost comparison covers priced calls only"
                                        : "the baseline cost nothing: the cost is not compared");
  if (ca > 0 && cb > ca * (1 + tol.cost) + eps) {
    bad = true;
    out["regressions"].push_back("cost rose from " + Usd(ca) + " to " + Usd(cb) + " (x" + Num(cb / ca, "%.2f") +
                                 ", tolerance +" + Pct(tol.cost) + ")");
  }
  // An offline replay answers from recordings at once: its latencies say nothing of the model,
  // as a baseline (every live run would look many times slower) or as the new run.
  std::string replay_a = ReplayOf(a), replay_b = ReplayOf(b);
  bool judge_latency = replay_a.empty() && replay_b.empty();
  if (!judge_latency)
    out["notes"].push_back(std::string(replay_a.empty() ? "the new run" : "the baseline") + " is an offline replay of eval " +
                           (replay_a.empty() ? replay_b : replay_a) +
                           " (recordings answer at once): the latency is not compared");
  if (judge_latency && la > 0 && lb > la * (1 + tol.latency) + eps && lb - la > kLatencyFloorMs) {
    bad = true;
    out["regressions"].push_back("p50 latency rose from " + Num(la, "%.0f") + " ms to " + Num(lb, "%.0f") + " ms (x" +
                                 Num(lb / la, "%.2f") + ", tolerance +" + Pct(tol.latency) + ")");
  }
  // A case that got worse is a regression by itself, even when another case's fix keeps the
  // pass rate equal: more than tolerance.cases of them make the verdict. They are then listed
  // one by one (with a tolerance that absorbs them too, and the verdict stays ok).
  if (static_cast<int64_t>(regressed_cases.size()) > tol.cases) {
    bad = true;
    out["regressions"].push_back(std::to_string(regressed_cases.size()) +
                                 (regressed_cases.size() == 1 ? " case" : " cases") + " regressed (tolerance " +
                                 std::to_string(tol.cases) + ")");
  }
  for (const auto& s : regressed_cases) out["regressions"].push_back(s);
  out["verdict"] = bad ? "regression" : "ok";
  return out;
}

std::string JUnitXml(const json& report) {
  const json& s = report["summary"];
  std::ostringstream x;
  std::string name = report["suite"].value("name", "eval");
  x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x << "<testsuites name=\"" << XmlEscape(name) << "\" tests=\"" << s.value("cases", 0) << "\" failures=\""
    << s.value("failed", 0) << "\" errors=\"" << s.value("errored", 0) << "\" time=\""
    << Num(D(s, "wall_ms") / 1000, "%.3f") << "\">\n";
  x << "  <testsuite name=\"" << XmlEscape(name) << "\" tests=\"" << s.value("cases", 0) << "\" failures=\""
    << s.value("failed", 0) << "\" errors=\"" << s.value("errored", 0) << "\" skipped=\"0\" time=\""
    << Num(D(s, "wall_ms") / 1000, "%.3f") << "\">\n";
  x << "    <properties>\n";
  auto prop = [&](const std::string& indent, const std::string& k, const std::string& v) {
    x << indent << "<property name=\"" << XmlEscape(k) << "\" value=\"" << XmlEscape(v) << "\"/>\n";
  };
  prop("      ", "run", report.value("run", ""));
  prop("      ", "suite_file", report["suite"].value("file", ""));
  prop("      ", "pass_rate", Num(D(s, "pass_rate"), "%.4f"));
  prop("      ", "cost_usd", Num(D(s, "cost_usd"), "%.6f"));
  x << "    </properties>\n";
  for (const auto& c : report["cases"]) {
    std::string st = c.value("status", "error");
    x << "    <testcase name=\"" << XmlEscape(c.value("id", "")) << "\" classname=\"" << XmlEscape(name) << "\" time=\""
      << Num(D(c, "latency_ms") / 1000, "%.3f") << "\">\n";
    x << "      <properties>\n";
    prop("        ", "run", c.value("run", ""));
    prop("        ", "cost_usd", Num(D(c, "cost_usd"), "%.6f"));
    prop("        ", "latency_ms", Num(D(c, "latency_ms"), "%.1f"));
    prop("        ", "tokens", std::to_string(c.value("tokens_in", int64_t{0}) + c.value("tokens_out", int64_t{0})));
    prop("        ", "calls", std::to_string(c.value("calls", int64_t{0})));
    x << "      </properties>\n";
    // One <failure> or one <error> per testcase (Surefire's schema allows one; GitLab keeps
    // only the first): an errored case is an <error> (the run's error, else its first errored
    // assertion), a failed one a <failure> (its first failed assertion); the body lists every
    // assertion that did not pass, each with its expected and actual values.
    if (st == "failed" || st == "error") {
      std::string tag = st == "error" ? "error" : "failure";
      std::string msg, type, body;
      for (const auto& a : c["assertions"]) {
        std::string as = a.value("status", a.value("passed", false) ? "passed" : "failed");
        if (as == "passed") continue;
        std::string line = a.value("id", "") + " (" + a.value("type", "") +
                           (a.value("node", "").empty() ? "" : " on " + a.value("node", "")) + "): " + a.value("message", "");
        if (msg.empty() && (as == "error") == (tag == "error")) {
          msg = line;
          type = a.value("type", "");
        }
        body += (as == "error" ? "error " : "failed ") + line + "\n";
        if (a.contains("expected") && !a["expected"].is_null())
          body += "  expected: " + (a["expected"].is_string() ? a["expected"].get<std::string>() : a["expected"].dump()) + "\n";
        if (a.contains("actual") && !a["actual"].is_null())
          body += "  actual: " + (a["actual"].is_string() ? a["actual"].get<std::string>() : a["actual"].dump()) + "\n";
      }
      if (tag == "error" && !c.value("error", "").empty()) {
        msg = c.value("error", "");
        type = "run";
      }
      if (msg.empty()) msg = tag == "error" ? "the case could not be checked" : "an assertion failed";
      x << "      <" << tag << " message=\"" << XmlEscape(msg) << "\" type=\"" << XmlEscape(type.empty() ? tag : type) << "\"";
      if (body.empty()) x << "/>\n";
      else x << ">" << XmlEscape(body) << "</" << tag << ">\n";
    }
    x << "    </testcase>\n";
  }
  x << "  </testsuite>\n</testsuites>\n";
  return x.str();
}

std::string TextReport(const json& report, bool failures_only) {
  std::ostringstream o;
  const json& s = report["summary"];
  o << "eval " << report.value("run", "") << " of suite " << report["suite"].value("name", "") << " ("
    << report["suite"].value("file", "") << ")\n";
  o << "  cases: " << s.value("cases", 0) << ", passed " << s.value("passed", 0) << ", failed " << s.value("failed", 0)
    << ", errors " << s.value("errored", 0) << "; pass rate " << Pct(D(s, "pass_rate")) << "\n";
  o << "  cost " << Usd(D(s, "cost_usd")) << (s.value("cost_unknown", false) ? " + unknown" : "") << ", "
    << s.value("calls", int64_t{0}) << " model calls, "
    << s.value("tokens_in", int64_t{0}) + s.value("tokens_out", int64_t{0}) << " tokens; latency p50 "
    << Num(D(s["latency_ms"], "p50"), "%.0f") << " ms, p95 " << Num(D(s["latency_ms"], "p95"), "%.0f") << " ms, max "
    << Num(D(s["latency_ms"], "max"), "%.0f") << " ms; wall " << Num(D(s, "wall_ms") / 1000, "%.2f") << " s\n";
  if (report.contains("assertions") && !report["assertions"].empty()) {
    o << "  assertions:\n";
    for (const auto& a : report["assertions"]) {
      o << "    " << a.value("id", "") << "  " << Pct(D(a, "pass_rate")) << "  " << a.value("type", "");
      if (!a.value("node", "").empty()) o << " on " << a.value("node", "");
      if (!a.value("description", "").empty()) o << ": " << a.value("description", "");
      o << " (" << a.value("passed", 0) << " passed, " << a.value("failed", 0) << " failed, " << a.value("errored", 0)
        << " errors)\n";
    }
  }
  for (const auto& c : report["cases"]) {
    std::string st = c.value("status", "error");
    if (failures_only && st == "passed") continue;
    o << "  " << (st == "passed" ? "PASS " : st == "failed" ? "FAIL " : "ERROR") << " " << c.value("id", "") << "  "
      << Usd(D(c, "cost_usd")) << "  " << Num(D(c, "latency_ms"), "%.0f") << " ms  run " << c.value("run", "") << "\n";
    if (st != "passed" && !c.value("error", "").empty()) o << "        " << c.value("error", "") << "\n";
    for (const auto& a : c["assertions"]) {
      std::string as = a.value("status", "");
      if (as == "passed") continue;
      o << "        " << a.value("id", "") << " " << a.value("type", "")
        << (a.value("node", "").empty() ? "" : " on " + a.value("node", "")) << ": " << a.value("message", "") << "\n";
      if (a.contains("actual") && a["actual"].is_string())
        o << "          output: " << Cut(a["actual"].get<std::string>(), 300) << "\n";
    }
  }
  return o.str();
}

std::string TextCompare(const json& cmp) {
  std::ostringstream o;
  o << "compared with baseline " << cmp.value("a", "") << ": " << cmp.value("verdict", "") << "\n";
  const json& p = cmp["pass_rate"];
  o << "  pass rate " << Pct(D(p, "a")) << " -> " << Pct(D(p, "b")) << " (" << (D(p, "delta") >= 0 ? "+" : "")
    << Num(D(p, "delta") * 100, "%.1f") << " points)\n";
  const json& c = cmp["cost_usd"];
  o << "  cost " << Usd(D(c, "a")) << " -> " << Usd(D(c, "b"));
  if (c["ratio"].is_number()) o << " (x" << Num(c["ratio"].get<double>(), "%.2f") << ")";
  o << "\n";
  const json& l = cmp["latency_p50_ms"];
  o << "  latency p50 " << Num(D(l, "a"), "%.0f") << " ms -> " << Num(D(l, "b"), "%.0f") << " ms";
  if (l["ratio"].is_number()) o << " (x" << Num(l["ratio"].get<double>(), "%.2f") << ")";
  o << "\n";
  int reg = 0, fixed = 0, added = 0, removed = 0;
  for (const auto& x : cmp["cases"]) {
    std::string ch = x.value("change", "");
    reg += ch == "regressed";
    fixed += ch == "fixed";
    added += ch == "new";
    removed += ch == "removed";
  }
  o << "  cases: " << reg << " regressed, " << fixed << " fixed, " << added << " new, " << removed << " removed\n";
  for (const auto& r : cmp["regressions"]) o << "  regression: " << r.get<std::string>() << "\n";
  for (const auto& x : cmp["cases"])
    if (x.value("change", "") == "fixed") o << "  fixed: case " << x.value("id", "") << "\n";
  if (cmp.contains("notes"))
    for (const auto& n : cmp["notes"]) o << "  note: " << n.get<std::string>() << "\n";
  return o.str();
}

std::string ReplayOf(const json& report) {
  if (!report.is_object() || !report.contains("replay") || !report["replay"].is_object()) return "";
  const json& r = report["replay"];
  if (!r.value("offline", false) || !r.contains("of") || !r["of"].is_string()) return "";
  return r["of"].get<std::string>();
}

Result<json> LoadStoredReport(store::Store* st, const std::string& run_id) {
  SW_ASSIGN_OR_RETURN(auto rec, st->GetRun(run_id));
  if (!rec) return NotFound("no run " + run_id);
  if (!IsEvalRun(*rec)) return InvalidInput("run " + run_id + " is not an eval run");
  SW_ASSIGN_OR_RETURN(auto arts, st->ListArtifacts(run_id));
  for (const auto& a : arts) {
    if (a.name != kReportArtifact) continue;
    SW_ASSIGN_OR_RETURN(std::string text, st->GetBlob(a.blob));
    json j = json::parse(text, nullptr, false);
    SW_RETURN_IF_ERROR(CheckReport(j, "the report of run " + run_id));
    return j;
  }
  return NotFound("eval run " + run_id + " has no report (status " + rec->status + ": it did not finish)");
}

Result<json> History(store::Store* st, const std::string& suite_filter, int limit) {
  // Every top-level record (0: no limit), so newer ordinary runs never push the evals out;
  // `limit` bounds the eval runs listed, whose reports are the only ones read.
  SW_ASSIGN_OR_RETURN(auto runs, st->ListRuns(0, false));
  std::vector<std::string> order;
  std::map<std::string, json> suites;
  int listed = 0;
  for (const auto& r : runs) {
    if (!IsEvalRun(r)) continue;
    if (!suite_filter.empty() && r.workflow_name != suite_filter && r.workflow_file != suite_filter) continue;
    if (limit > 0 && listed >= limit) break;
    ++listed;
    json item{{"run", r.id},          {"status", r.status},     {"created_at", r.created_at},
              {"finished_at", r.finished_at}, {"cases", 0},      {"passed", 0},
              {"failed", 0},          {"errored", 0},           {"pass_rate", nullptr},
              {"cost_usd", r.cost_usd}, {"latency_p50_ms", nullptr}, {"latency_p95_ms", nullptr},
              {"replay_of", nullptr}};
    // An offline replay (its run options say replay: {of, offline: true}) is marked: its
    // latencies are the recordings', and it reproduced an eval rather than measured a model.
    if (std::string of = ReplayOf(json::parse(r.options_json, nullptr, false)); !of.empty()) item["replay_of"] = of;
    auto rep = LoadStoredReport(st, r.id);
    if (rep.ok()) {
      const json& s = (*rep)["summary"];
      for (const char* k : {"cases", "passed", "failed", "errored", "pass_rate", "cost_usd"}) item[k] = s[k];
      item["latency_p50_ms"] = s["latency_ms"]["p50"];
      item["latency_p95_ms"] = s["latency_ms"]["p95"];
    }
    if (!suites.count(r.workflow_file)) {
      order.push_back(r.workflow_file);
      suites[r.workflow_file] = json{{"name", r.workflow_name}, {"file", r.workflow_file}, {"runs", json::array()}};
    }
    suites[r.workflow_file]["runs"].push_back(std::move(item));
  }
  json out{{"suites", json::array()}};
  for (const auto& f : order) out["suites"].push_back(suites[f]);
  return out;
}

}  // namespace sw::eval
