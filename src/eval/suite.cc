// The suite file and its dataset: YAML suite, cases from YAML, JSONL or CSV.
#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

#include "base/fs.h"
#include "base/hash.h"
#include "base/strings.h"
#include "eval/eval.h"
#include "workflow/expr.h"
#include "workflow/json_schema.h"
#include "workflow/schedule.h"
#include "workflow/template.h"
#include "workflow/yaml_json.h"

namespace sw::eval {
namespace fs = std::filesystem;

std::string TypeName(AssertKind k) {
  switch (k) {
    case AssertKind::kEquals: return "equals";
    case AssertKind::kContains: return "contains";
    case AssertKind::kNotContains: return "not_contains";
    case AssertKind::kIContains: return "icontains";
    case AssertKind::kRegex: return "regex";
    case AssertKind::kJsonSchema: return "json_schema";
    case AssertKind::kExpr: return "expr";
    case AssertKind::kCost: return "cost_usd";
    case AssertKind::kLatency: return "latency_ms";
    case AssertKind::kTokens: return "tokens";
    case AssertKind::kRubric: return "rubric";
  }
  return "?";
}

namespace {

const std::vector<std::string> kSuiteKeys = {"name",      "description", "workflow", "dataset", "cases",   "concurrency",
                                             "budget",    "tolerance",   "judge",    "schedule", "notify",
                                             "assert"};
const std::vector<std::string> kAssertKeys = {"id",      "description", "node",    "equals",     "contains",
                                              "not_contains", "icontains", "regex", "json_schema", "expr",
                                              "cost_usd", "latency_ms", "tokens",  "rubric",     "threshold", "judge"};
const std::vector<std::string> kCaseKeys = {"id", "inputs", "vars", "assert", "description"};
const std::vector<std::pair<std::string, AssertKind>> kKinds = {
    {"equals", AssertKind::kEquals},       {"contains", AssertKind::kContains},
    {"not_contains", AssertKind::kNotContains}, {"icontains", AssertKind::kIContains},
    {"regex", AssertKind::kRegex},         {"json_schema", AssertKind::kJsonSchema},
    {"expr", AssertKind::kExpr},           {"cost_usd", AssertKind::kCost},
    {"latency_ms", AssertKind::kLatency},  {"tokens", AssertKind::kTokens},
    {"rubric", AssertKind::kRubric}};

std::string UnknownKey(const std::string& key, const std::vector<std::string>& allowed, const std::string& context) {
  std::string near = DidYouMean(key, allowed);
  return "unknown key " + Quote(key) + " in " + context + (near.empty() ? "" : " (did you mean " + Quote(near) + "?)");
}

std::string At(const std::string& file, const YAML::Node& n) {
  auto m = n.Mark();
  return file + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

// PlaceAsserts records where a case's own assertions are written (its YAML node's `assert:`).
void PlaceAsserts(Case* c, const std::string& file, const YAML::Node& n) {
  if (!n.IsMap() || !n["assert"] || !n["assert"].IsSequence()) return;
  const YAML::Node list = n["assert"];
  for (size_t i = 0; i < c->asserts.size() && i < list.size(); ++i) {
    c->asserts[i].file = file;
    c->asserts[i].line = list[i].Mark().line + 1;
    c->asserts[i].col = list[i].Mark().column + 1;
  }
}

std::string PosOf(const Assertion& a) {
  return a.file + ":" + std::to_string(a.line) + ":" + std::to_string(a.col);
}

bool IsTemplateKind(AssertKind k) {
  return k == AssertKind::kEquals || k == AssertKind::kContains || k == AssertKind::kNotContains ||
         k == AssertKind::kIContains || k == AssertKind::kRegex;
}

// The number in {max: N} (or a bare N).
Result<double> Limit(const json& v, const std::string& what) {
  const json* m = &v;
  if (v.is_object()) {
    for (auto& [k, x] : v.items())
      if (k != "max") return InvalidInput(UnknownKey(k, {"max"}, what));
    if (!v.contains("max")) return InvalidInput(what + " needs {max: N}");
    m = &v["max"];
  }
  if (!m->is_number() || m->get<double>() < 0) return InvalidInput(what + ": max must be a number >= 0, got " + m->dump());
  return m->get<double>();
}

}  // namespace

Result<Assertion> ParseAssertion(const json& a, const std::string& default_id, const std::string& where) {
  auto fail = [&](const std::string& m) { return InvalidInput(where + ": " + m); };
  if (!a.is_object()) return fail("an assertion is a map like {node: draft, contains: \"...\"}, got " + a.dump());
  Assertion out;
  out.id = default_id;
  int kinds = 0;
  for (auto& [k, v] : a.items()) {
    if (std::find(kAssertKeys.begin(), kAssertKeys.end(), k) == kAssertKeys.end())
      return fail(UnknownKey(k, kAssertKeys, "an assertion"));
    for (const auto& [name, kind] : kKinds)
      if (k == name) {
        out.kind = kind;
        ++kinds;
      }
  }
  if (kinds != 1) {
    std::vector<std::string> names;
    for (const auto& [n, k] : kKinds) names.push_back(n);
    return fail(std::string(kinds ? "an assertion has exactly one check; this one has " + std::to_string(kinds)
                                  : "an assertion needs one check") +
                " (one of " + Join(names, ", ") + ")");
  }
  std::string type = TypeName(out.kind);
  if (a.contains("id")) {
    if (!a["id"].is_string() || a["id"].get<std::string>().empty()) return fail("id must be a non-empty string");
    out.id = a["id"].get<std::string>();
  }
  if (a.contains("description")) {
    if (!a["description"].is_string()) return fail("description must be a string");
    out.description = a["description"].get<std::string>();
  }
  if (a.contains("node")) {
    if (!a["node"].is_string() || a["node"].get<std::string>().empty()) return fail("node must be a node id");
    out.node = a["node"].get<std::string>();
  }
  if (a.contains("threshold") && out.kind != AssertKind::kRubric) return fail("threshold belongs to a rubric assertion");
  if (a.contains("judge") && out.kind != AssertKind::kRubric) return fail("judge belongs to a rubric assertion");
  const json& v = a[type];
  if (IsTemplateKind(out.kind)) {
    if (out.node.empty()) return fail(type + " needs node: (the node whose output it checks)");
    if (v.is_object() || v.is_array() || v.is_null()) return fail(type + " takes a string, got " + v.dump());
    std::string s = v.is_string() ? v.get<std::string>() : v.dump();
    size_t off = 0;
    auto t = tmpl::Template::Parse(s, &off);
    if (!t.ok()) return fail(type + ": template error at offset " + std::to_string(off) + ": " + t.status().message());
    if (out.kind == AssertKind::kRegex && s.find("{{") == std::string::npos) {
      RE2 re(s, RE2::Quiet);
      if (!re.ok()) return fail("regex " + Quote(s) + " is not valid RE2: " + re.error());
    }
    out.value = s;
  } else if (out.kind == AssertKind::kJsonSchema) {
    if (out.node.empty()) return fail("json_schema needs node: (the node whose output it checks)");
    if (!v.is_object()) return fail("json_schema takes a schema (a map), got " + v.dump());
    if (Status s = jsonschema::CheckSchema(v); !s.ok()) return fail("json_schema: " + s.message());
    out.value = v;
  } else if (out.kind == AssertKind::kExpr) {
    if (!v.is_string()) return fail("expr takes an expression string, got " + v.dump());
    size_t off = 0;
    auto e = expr::Expr::Parse(v.get<std::string>(), &off);
    if (!e.ok()) return fail("expr: " + e.status().message() + " (at offset " + std::to_string(off) + ")");
    out.value = v;
  } else if (out.kind == AssertKind::kRubric) {
    if (out.node.empty()) return fail("rubric needs node: (the node whose output the judge grades)");
    if (!v.is_string() || v.get<std::string>().empty()) return fail("rubric takes the rubric text, got " + v.dump());
    out.value = v;
    if (a.contains("threshold")) {
      const json& th = a["threshold"];
      if (!th.is_number() || th.get<double>() < 0 || th.get<double>() > 1)
        return fail("threshold must be a number in 0..1, got " + th.dump());
      out.threshold = th.get<double>();
    }
    if (a.contains("judge")) {
      const json& j = a["judge"];
      if (!j.is_object()) return fail("judge takes {model: provider/model}");
      for (auto& [k, x] : j.items())
        if (k != "model") return fail(UnknownKey(k, {"model"}, "judge"));
      if (!j.contains("model") || !j["model"].is_string() || j["model"].get<std::string>().find('/') == std::string::npos)
        return fail("judge.model must be provider/model");
      out.judge_model = j["model"].get<std::string>();
    }
  } else {
    auto m = Limit(v, type);
    if (!m.ok()) return fail(m.status().message());
    out.max = *m;
  }
  return out;
}

namespace {

Result<Case> CaseFromJson(const json& row, size_t index, const std::string& where) {
  auto fail = [&](const std::string& m) { return InvalidInput(where + ": " + m); };
  if (!row.is_object()) return fail("a case is an object like {id, inputs: {...}}, got " + row.dump().substr(0, 80));
  Case c;
  c.id = "case-" + std::to_string(index + 1);
  if (row.contains("id")) {
    const json& id = row["id"];
    if (id.is_string() && !id.get<std::string>().empty()) c.id = id.get<std::string>();
    else if (id.is_number_integer()) c.id = id.dump();
    else return fail("id must be a non-empty string, got " + id.dump());
  }
  bool explicit_inputs = row.contains("inputs");
  for (auto& [k, v] : row.items()) {
    if (k == "id" || k == "vars" || k == "assert" || k == "description") continue;
    if (k == "inputs") continue;
    if (explicit_inputs) return fail(UnknownKey(k, kCaseKeys, "case " + Quote(c.id)));
    c.inputs[k] = v;  // a row without `inputs:` is its inputs
  }
  if (explicit_inputs) {
    if (!row["inputs"].is_object()) return fail("inputs must be a map, got " + row["inputs"].dump());
    c.inputs = row["inputs"];
  }
  if (row.contains("vars")) {
    if (!row["vars"].is_object()) return fail("vars must be a map, got " + row["vars"].dump());
    c.vars = row["vars"];
  }
  if (row.contains("assert")) {
    if (!row["assert"].is_array()) return fail("assert must be a list of assertions");
    size_t i = 0;
    for (const auto& a : row["assert"]) {
      auto p = ParseAssertion(a, c.id + ".A" + std::to_string(++i), where);
      if (!p.ok()) return p.status();
      c.asserts.push_back(std::move(*p));
    }
  }
  return c;
}

// One CSV record starting at *pos (RFC 4180: quotes, doubled quotes, newlines in quotes).
// *line advances by the newlines consumed.
Result<std::vector<std::string>> CsvRecord(const std::string& t, size_t* pos, int* line, const std::string& origin) {
  std::vector<std::string> fields;
  std::string f;
  bool quoted = false, was_quoted = false;
  int start_line = *line;
  size_t i = *pos;
  for (; i < t.size(); ++i) {
    char ch = t[i];
    if (quoted) {
      if (ch == '"') {
        if (i + 1 < t.size() && t[i + 1] == '"') {
          f += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (ch == '\n') ++*line;
        f += ch;
      }
      continue;
    }
    if (ch == '"') {
      if (!f.empty() || was_quoted)
        return InvalidInput(origin + ":" + std::to_string(*line) + ": a quote inside an unquoted field (quote the whole field and double the quote)");
      quoted = was_quoted = true;
    } else if (ch == ',') {
      fields.push_back(std::move(f));
      f.clear();
      was_quoted = false;
    } else if (ch == '\n' || ch == '\r') {
      if (ch == '\r' && i + 1 < t.size() && t[i + 1] == '\n') ++i;
      ++i;
      ++*line;
      break;
    } else {
      if (was_quoted)
        return InvalidInput(origin + ":" + std::to_string(*line) + ": text after a closing quote");
      f += ch;
    }
  }
  if (quoted) return InvalidInput(origin + ":" + std::to_string(start_line) + ": a quoted field is never closed");
  fields.push_back(std::move(f));
  *pos = i;
  return fields;
}

// FirstBadUtf8 is the offset of the first byte that is not part of well-formed UTF-8, or npos.
size_t FirstBadUtf8(const std::string& t) {
  size_t i = 0;
  while (i < t.size()) {
    unsigned char c = static_cast<unsigned char>(t[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 && c >= 0xC2 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E && c <= 0xF4 ? 4 : 0;
    if (n == 0 || i + n > t.size()) return i;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(t[i + k]) & 0xC0) != 0x80) return i;
    if (n == 3) {
      unsigned char d = static_cast<unsigned char>(t[i + 1]);
      if ((c == 0xE0 && d < 0xA0) || (c == 0xED && d >= 0xA0)) return i;
    } else if (n == 4) {
      unsigned char d = static_cast<unsigned char>(t[i + 1]);
      if ((c == 0xF0 && d < 0x90) || (c == 0xF4 && d >= 0x90)) return i;
    }
    i += n;
  }
  return std::string::npos;
}

}  // namespace

Result<std::vector<Case>> ParseDataset(const std::string& text, const std::string& format, const std::string& origin) {
  std::vector<Case> out;
  if (text.size() > kMaxDatasetBytes)
    return InvalidInput(origin + ": the dataset is " + std::to_string(text.size()) + " bytes; the limit is " +
                        std::to_string(kMaxDatasetBytes) + " (64 MiB)");
  if (size_t bad = FirstBadUtf8(text); bad != std::string::npos) {
    size_t line = 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(bad), '\n'));
    return InvalidInput(origin + ":" + std::to_string(line) + ": byte " + std::to_string(bad) +
                        " is not UTF-8 (save the dataset as UTF-8; spreadsheets call it \"CSV UTF-8\")");
  }
  auto too_many = [&](int line) {
    return InvalidInput(origin + ":" + std::to_string(line) + ": more than " + std::to_string(kMaxCases) +
                        " cases; the limit is " + std::to_string(kMaxCases) + " per suite");
  };
  if (format == "jsonl") {
    int line = 0;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      std::string l = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      pos = nl == std::string::npos ? text.size() : nl + 1;
      ++line;
      if (Trim(l).empty()) continue;
      json row;
      try {
        row = json::parse(l);
      } catch (const json::parse_error& e) {
        // nlohmann's byte is 1-based within the line.
        return InvalidInput(origin + ":" + std::to_string(line) + ":" + std::to_string(e.byte) + ": not JSON: " +
                            e.what());
      }
      if (out.size() >= kMaxCases) return too_many(line);
      auto c = CaseFromJson(row, out.size(), origin + ":" + std::to_string(line));
      if (!c.ok()) return c.status();
      c->line = line;
      for (auto& a : c->asserts) {  // a JSONL row: its line (the row starts at column 1)
        a.file = origin;
        a.line = line;
        a.col = 1;
      }
      out.push_back(std::move(*c));
    }
  } else if (format == "csv") {
    size_t pos = 0;
    int line = 1;
    if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) pos = 3;  // a BOM (spreadsheets write one)
    auto header = CsvRecord(text, &pos, &line, origin);
    if (!header.ok()) return header.status();
    if (header->size() == 1 && Trim((*header)[0]).empty()) return InvalidInput(origin + ":1: the CSV has no header row");
    std::set<std::string> seen;
    for (auto& h : *header) {
      h = Trim(h);
      if (h.empty()) return InvalidInput(origin + ":1: an empty column name in the header");
      if (!seen.insert(h).second) return InvalidInput(origin + ":1: column " + Quote(h) + " appears twice");
      if (h.rfind("vars.", 0) == 0 && h.size() == 5) return InvalidInput(origin + ":1: column \"vars.\" names no variable");
    }
    while (pos < text.size()) {
      int at = line;
      auto rec = CsvRecord(text, &pos, &line, origin);
      if (!rec.ok()) return rec.status();
      if (rec->size() == 1 && Trim((*rec)[0]).empty()) continue;  // a blank line
      if (rec->size() != header->size())
        return InvalidInput(origin + ":" + std::to_string(at) + ": " + std::to_string(rec->size()) +
                            " fields, but the header has " + std::to_string(header->size()));
      if (out.size() >= kMaxCases) return too_many(at);
      Case c;
      c.line = at;
      c.id = "case-" + std::to_string(out.size() + 1);
      for (size_t i = 0; i < header->size(); ++i) {
        const std::string& h = (*header)[i];
        const std::string& v = (*rec)[i];
        if (h == "id") {
          if (!v.empty()) c.id = v;
        } else if (h.rfind("vars.", 0) == 0) {
          c.vars[h.substr(5)] = v;
        } else {
          c.inputs[h] = v;  // strings: ResolveInputs converts them to the declared type
        }
      }
      out.push_back(std::move(c));
    }
  } else if (format == "yaml") {
    auto node = LoadYaml(text, origin);
    if (!node.ok()) return node.status();
    YAML::Node list = *node;
    if (list.IsMap()) {
      for (auto it = list.begin(); it != list.end(); ++it)
        if (it->first.as<std::string>() != "cases")
          return InvalidInput(At(origin, it->first) + ": " + UnknownKey(it->first.as<std::string>(), {"cases"}, "the dataset"));
      list = list["cases"];
    }
    if (!list.IsSequence())
      return InvalidInput(At(origin, *node) + ": a YAML dataset is a list of cases, or {cases: [...]}");
    for (size_t i = 0; i < list.size(); ++i) {
      if (out.size() >= kMaxCases) return too_many(static_cast<int>(list[i].Mark().line + 1));
      auto c = CaseFromJson(YamlToJson(list[i]), i, At(origin, list[i]));
      if (!c.ok()) return c.status();
      c->line = list[i].Mark().line + 1;
      PlaceAsserts(&*c, origin, list[i]);
      out.push_back(std::move(*c));
    }
  } else {
    return InvalidInput(origin + ": unknown dataset format " + Quote(format) + " (yaml, jsonl or csv)");
  }
  std::set<std::string> ids;
  for (const auto& c : out)
    if (!ids.insert(c.id).second)
      return InvalidInput(origin + (c.line ? ":" + std::to_string(c.line) : "") + ": case id " + Quote(c.id) +
                          " appears twice");
  return out;
}

Result<Suite> LoadSuite(const std::string& path) {
  std::error_code ec;
  std::string abs = fs::absolute(path, ec).lexically_normal().string();
  if (auto size = fs::file_size(abs, ec); !ec && size > kMaxYamlFileBytes)
    return InvalidInput(path + ": the suite file is " + std::to_string(size) + " bytes; the limit is " +
                        std::to_string(kMaxYamlFileBytes) + " (put the cases in a dataset file)");
  auto bytes = ReadFile(abs);
  if (!bytes.ok()) return bytes.status().Annotate("eval suite " + path);
  auto root = LoadYaml(*bytes, path);
  if (!root.ok()) return root.status();
  const YAML::Node& y = *root;
  if (!y.IsMap()) return InvalidInput(path + ":1:1: an eval suite is a map with name, workflow, dataset or cases, assert");
  Suite s;
  s.file = abs;
  fs::path dir = fs::path(abs).parent_path();
  std::vector<std::string> errors;
  auto err = [&](const YAML::Node& n, const std::string& m) { errors.push_back(At(path, n) + ": " + m); };
  for (auto it = y.begin(); it != y.end(); ++it) {
    std::string k = it->first.as<std::string>();
    if (std::find(kSuiteKeys.begin(), kSuiteKeys.end(), k) == kSuiteKeys.end())
      err(it->first, UnknownKey(k, kSuiteKeys, "the eval suite"));
  }
  auto str = [&](const char* key) -> std::string {
    const YAML::Node n = y[key];
    if (!n) return "";
    if (!n.IsScalar()) {
      err(n, std::string(key) + " must be a string");
      return "";
    }
    return n.as<std::string>();
  };
  s.name = str("name");
  if (s.name.empty()) s.name = fs::path(abs).stem().string();
  std::string wf = str("workflow");
  if (wf.empty() && !y["workflow"]) err(y, "the suite needs workflow: (the workflow file each case runs)");
  if (!wf.empty()) {
    s.workflow_file = (fs::path(wf).is_absolute() ? fs::path(wf) : dir / wf).lexically_normal().string();
    if (!FileExists(s.workflow_file)) err(y["workflow"], "workflow " + Quote(wf) + ": no such file (" + s.workflow_file + ")");
  }
  if (const YAML::Node c = y["concurrency"]) {
    try {
      int v = c.as<int>();
      if (v < 1 || v > 256) throw YAML::Exception(c.Mark(), "range");
      s.concurrency = v;
    } catch (const YAML::Exception&) {
      err(c, "concurrency must be an integer in 1..256");
    }
  }
  if (const YAML::Node b = y["budget"]) {
    if (!b.IsMap()) {
      err(b, "budget takes {max_usd, max_tokens, max_calls}");
    } else {
      for (auto it = b.begin(); it != b.end(); ++it) {
        std::string k = it->first.as<std::string>();
        try {
          if (k == "max_usd") s.budget.max_usd = it->second.as<double>();
          else if (k == "max_tokens") s.budget.max_tokens = it->second.as<int64_t>();
          else if (k == "max_calls") s.budget.max_calls = it->second.as<int64_t>();
          else err(it->first, UnknownKey(k, {"max_usd", "max_tokens", "max_calls"}, "budget"));
        } catch (const YAML::Exception&) {
          err(it->second, "budget." + k + " must be a number");
        }
      }
      if ((s.budget.max_usd && *s.budget.max_usd < 0) || (s.budget.max_tokens && *s.budget.max_tokens < 0) ||
          (s.budget.max_calls && *s.budget.max_calls < 0))
        err(b, "budget limits must not be negative");
    }
  }
  if (const YAML::Node t = y["tolerance"]) {
    s.has_tolerance = true;
    if (!t.IsMap()) {
      err(t, "tolerance takes {pass_rate, cost, latency, cases}");
    } else {
      for (auto it = t.begin(); it != t.end(); ++it) {
        std::string k = it->first.as<std::string>();
        if (k == "cases") {
          try {
            int64_t n = it->second.as<int64_t>();
            if (n < 0) throw YAML::Exception(it->second.Mark(), "negative");
            s.tolerance.cases = n;
          } catch (const YAML::Exception&) {
            err(it->second, "tolerance.cases must be a whole number >= 0 (how many cases may regress)");
          }
          continue;
        }
        double v = 0;
        try {
          v = it->second.as<double>();
        } catch (const YAML::Exception&) {
          err(it->second, "tolerance." + k + " must be a number");
          continue;
        }
        if (v < 0) err(it->second, "tolerance." + k + " must not be negative");
        if (k == "pass_rate") s.tolerance.pass_rate = v;
        else if (k == "cost") s.tolerance.cost = v;
        else if (k == "latency") s.tolerance.latency = v;
        else err(it->first, UnknownKey(k, {"pass_rate", "cost", "latency", "cases"}, "tolerance"));
      }
    }
  }
  if (const YAML::Node j = y["judge"]) {
    if (!j.IsMap()) {
      err(j, "judge takes {model: provider/model}");
    } else {
      for (auto it = j.begin(); it != j.end(); ++it) {
        std::string k = it->first.as<std::string>();
        if (k != "model") err(it->first, UnknownKey(k, {"model"}, "judge"));
        else if (!it->second.IsScalar() || it->second.as<std::string>().find('/') == std::string::npos)
          err(it->second, "judge.model must be provider/model");
        else s.judge_model = it->second.as<std::string>();
      }
    }
  }
  if (const YAML::Node sch = y["schedule"]) {
    std::vector<workflow::Diagnostic> diags;
    for (const auto& e : workflow::ParseSchedules(sch, path, &diags))
      if (!e.inputs.empty())
        errors.push_back(path + ":" + std::to_string(e.line) + ":" + std::to_string(e.col) + ": schedule " +
                         Quote(e.Label()) + " of an eval suite takes no inputs (its cases are its inputs)");
    for (const auto& d : diags)
      errors.push_back(d.file + ":" + std::to_string(d.pos.line) + ":" + std::to_string(d.pos.col) + ": " + d.message);
    s.schedule = YamlToJson(sch);
  }
  if (const YAML::Node nt = y["notify"]) {
    // The workflow loader's reading (workflow::ParseNotify): the same targets, checks and
    // messages, with their file:line:col.
    std::vector<workflow::Diagnostic> diags;
    s.notify = workflow::ParseNotify(nt, path, &diags);
    for (const auto& d : diags) errors.push_back(d.ToString());
  }
  auto read_asserts = [&](const YAML::Node& list, const std::string& prefix, std::vector<Assertion>* out) {
    if (!list.IsSequence()) {
      err(list, "assert must be a list of assertions");
      return;
    }
    for (size_t i = 0; i < list.size(); ++i) {
      const YAML::Node a = list[i];
      if (a.IsMap()) {
        bool bad = false;
        for (auto it = a.begin(); it != a.end(); ++it) {
          std::string k = it->first.as<std::string>();
          if (std::find(kAssertKeys.begin(), kAssertKeys.end(), k) == kAssertKeys.end()) {
            err(it->first, UnknownKey(k, kAssertKeys, "an assertion"));
            bad = true;
          }
        }
        if (bad) continue;
      }
      auto p = ParseAssertion(YamlToJson(a), prefix + std::to_string(i + 1), At(path, a));
      if (!p.ok()) errors.push_back(p.status().message());
      else {
        p->file = path;
        p->line = a.Mark().line + 1;
        p->col = a.Mark().column + 1;
        out->push_back(std::move(*p));
      }
    }
  };
  if (const YAML::Node a = y["assert"]) read_asserts(a, "A", &s.asserts);
  std::string hashed = *bytes;
  const YAML::Node ds = y["dataset"], inline_cases = y["cases"];
  if (ds && inline_cases) err(inline_cases, "give dataset: or cases:, not both");
  if (!ds && !inline_cases) err(y, "the suite needs cases: (inline) or dataset: (a .yaml, .jsonl or .csv file)");
  if (ds && !inline_cases) {
    std::string d = str("dataset");
    if (!d.empty()) {
      s.dataset_file = (fs::path(d).is_absolute() ? fs::path(d) : dir / d).lexically_normal().string();
      std::string ext = Lower(fs::path(d).extension().string());
      std::string format = ext == ".jsonl" || ext == ".ndjson" ? "jsonl" : ext == ".csv" ? "csv"
                           : ext == ".yaml" || ext == ".yml" ? "yaml" : "";
      auto size = fs::file_size(s.dataset_file, ec);
      if (format.empty()) {
        err(ds, "dataset " + Quote(d) + ": unknown format (use .yaml, .yml, .jsonl or .csv)");
      } else if (ec) {
        err(ds, "dataset " + Quote(d) + ": no such file (" + s.dataset_file + ")");
      } else if (size > kMaxDatasetBytes) {
        err(ds, "dataset " + Quote(d) + " is " + std::to_string(size) + " bytes; the limit is 64 MiB");
      } else {
        auto text = ReadFile(s.dataset_file);
        if (!text.ok()) err(ds, text.status().message());
        else {
          auto cases = ParseDataset(*text, format, s.dataset_file);
          if (!cases.ok()) errors.push_back(cases.status().message());
          else s.cases = std::move(*cases);
          hashed += *text;
        }
      }
    }
  }
  if (inline_cases) {
    if (!inline_cases.IsSequence()) {
      err(inline_cases, "cases must be a list");
    } else {
      std::set<std::string> ids;
      for (size_t i = 0; i < inline_cases.size() && errors.empty(); ++i) {
        const YAML::Node c = inline_cases[i];
        if (c.IsMap())
          for (auto it = c.begin(); it != c.end(); ++it) {
            std::string k = it->first.as<std::string>();
            if (std::find(kCaseKeys.begin(), kCaseKeys.end(), k) == kCaseKeys.end() && c["inputs"])
              err(it->first, UnknownKey(k, kCaseKeys, "a case"));
          }
        auto p = CaseFromJson(YamlToJson(c), i, At(path, c));
        if (!p.ok()) {
          errors.push_back(p.status().message());
          continue;
        }
        p->line = c.Mark().line + 1;
        PlaceAsserts(&*p, path, c);
        if (!ids.insert(p->id).second) err(c, "case id " + Quote(p->id) + " appears twice");
        s.cases.push_back(std::move(*p));
      }
      if (s.cases.size() > kMaxCases) err(inline_cases, "more than 100000 cases");
    }
  }
  // Assertion ids name a check across cases (per-assertion pass rates, the comparison, the
  // offline replay's check): two assertions of one case with the same id would be counted as one.
  {
    std::map<std::string, const Assertion*> suite_ids;
    for (const auto& a : s.asserts)
      if (auto [it, fresh] = suite_ids.emplace(a.id, &a); !fresh)
        errors.push_back(PosOf(a) + ": assertion id " + Quote(a.id) + " appears twice (first at " + PosOf(*it->second) + ")");
    for (const auto& c : s.cases) {
      std::map<std::string, const Assertion*> own;
      for (const auto& a : c.asserts) {
        if (auto it = suite_ids.find(a.id); it != suite_ids.end())
          errors.push_back(PosOf(a) + ": assertion id " + Quote(a.id) + " of case " + Quote(c.id) +
                           " is the id of a suite assertion (" + PosOf(*it->second) + ")");
        else if (auto [jt, fresh] = own.emplace(a.id, &a); !fresh)
          errors.push_back(PosOf(a) + ": assertion id " + Quote(a.id) + " appears twice in case " + Quote(c.id) +
                           " (first at " + PosOf(*jt->second) + ")");
        if (errors.size() > 20) break;
      }
      if (errors.size() > 20) break;
    }
  }
  if (errors.empty() && s.cases.empty()) err(ds ? ds : inline_cases, "the suite has no cases");
  if (!errors.empty()) return InvalidInput(Join(errors, "\n"));
  s.hash = Hash128Hex(hashed);
  return s;
}

}  // namespace sw::eval
