// develop_bench: tokens and dollars of a one-requirement `specwright modify` against the full
// `specwright develop` of the same project (target: at most 10%).
//
// Two projects, both run by the real binary with the scripted provider (token counts are the
// provider's bytes/4 of the real prompts and answers, so they follow what the process sends):
//   - tipsplit: the shipped example and its hand-written recording (4 requirements);
//   - secretdrop: the L2 example (an API service, a crypto and storage module, a CLI client;
//     9 requirements and business rules) and its hand-written recording;
//   - unitconv-N: a unit converter with N conversions whose recording this program writes
//     (one requirement, story, API item, test case and source file per conversion, as a
//     model answering the process's prompts would), for N = 8, 16, 24.
// The modify changes one requirement (the factor of one conversion).
//   develop_bench [path/to/specwright]   (default: specwright beside this binary)
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

struct Conv {
  const char* from;
  const char* to;
  double factor, offset;
};
// Real conversions; number 7 is the one the modify changes (US gallon -> imperial gallon).
const Conv kConvs[] = {
    {"km", "mi", 0.621371192, 0},  {"mi", "km", 1.609344, 0},       {"kg", "lb", 2.20462262, 0},
    {"lb", "kg", 0.45359237, 0},   {"c", "f", 1.8, 32},             {"f", "c", 0.5555555556, -17.7777777778},
    {"gal", "l", 3.785411784, 0},  {"l", "gal", 0.264172052, 0},    {"in", "cm", 2.54, 0},
    {"cm", "in", 0.393700787, 0},  {"ft", "m", 0.3048, 0},          {"m", "ft", 3.280839895, 0},
    {"oz", "g", 28.349523125, 0},  {"g", "oz", 0.0352739619, 0},    {"kmh", "mph", 0.621371192, 0},
    {"mph", "kmh", 1.609344, 0},   {"kwh", "mj", 3.6, 0},           {"mj", "kwh", 0.2777777778, 0},
    {"hp", "kw", 0.745699872, 0},  {"kw", "hp", 1.341022090, 0},    {"psi", "kpa", 6.894757293, 0},
    {"kpa", "psi", 0.145037738, 0}, {"nmi", "km", 1.852, 0},        {"km", "nmi", 0.539956803, 0},
};

std::string Two(int k) {
  char b[8];
  std::snprintf(b, sizeof b, "%02d", k);
  return b;
}
std::string Three(int k) {
  char b[8];
  std::snprintf(b, sizeof b, "%03d", k);
  return b;
}
std::string Num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.10g", v);
  return b;
}

struct Project {
  int n = 0;
  std::string brief;
  json nodes = json::object();
  void Add(const std::string& node, json entry) { nodes[node].push_back(std::move(entry)); }
};

std::string ReqItem(int k, const Conv& c) {
  return "## REQ-01-" + Three(k) + " Convert " + c.from + " to " + c.to + "\n\nThe tool shall convert a value in " +
         c.from + " to " + c.to + ": " + c.to + " = " + c.from + " x " + Num(c.factor) +
         (c.offset != 0 ? " + " + Num(c.offset) : "") + ".\n\nAcceptance: 1 " + c.from + " is " +
         Num(c.factor + c.offset) + " " + c.to + ".\n";
}
std::string StoryItem(int k, const Conv& c) {
  return "## US-03-" + Three(k) + " " + c.from + " to " + c.to + "\n\nAs a traveller, I want to turn " + c.from +
         " into " + c.to + ", so that I can read a label written in units I do not use.\n\n- Given 1 " + c.from +
         ", when I run `unitconv " + c.from + " " + c.to + " 1`, then it prints " + Num(c.factor + c.offset) +
         ".\n\nTraces: REQ-01-" + Three(k) + ", ENT-02-001\n";
}
std::string ApiItem(int k, const Conv& c) {
  return "## API-05-" + Three(k + 1) + " conv_" + Two(k) + "\n\n`double conv_" + Two(k) + "(double x)` in `src/conv_" +
         Two(k) + ".c`: x in " + c.from + " to " + c.to + ".\n\nTraces: US-03-" + Three(k) + ", REQ-01-" + Three(k) +
         ", SVC-04-001\n";
}
std::string TcItem(int k, const Conv& c) {
  return "## TC-06-" + Three(k) + " " + c.from + " to " + c.to + "\n\n`conv_" + Two(k) + "(1)` is " +
         Num(c.factor + c.offset) + " within 1e-6.\n\nTraces: REQ-01-" + Three(k) + ", US-03-" + Three(k) + "\n";
}
std::string ConvC(int k, const Conv& c) {
  return "/* Implements: API-05-" + Three(k + 1) + ", REQ-01-" + Three(k) + " */\ndouble conv_" + Two(k) +
         "(double x) { return x * " + Num(c.factor) + (c.offset != 0 ? " + " + Num(c.offset) : "") + "; }\n";
}

std::string Doc(const std::string& title, const std::string& lead, const std::vector<std::string>& items) {
  std::string d = "# " + title + "\n\n" + lead + "\n";
  for (const auto& i : items) d += "\n" + i;
  return d;
}

Project Make(int n) {
  Project p;
  p.n = n;
  std::vector<Conv> cs(kConvs, kConvs + n);
  std::string list;
  for (int k = 1; k <= n; ++k) list += std::string("- ") + cs[k - 1].from + " to " + cs[k - 1].to + "\n";
  p.brief = "# unitconv - convert units on the command line\n\nA command-line tool for travellers and cooks: `unitconv FROM TO "
            "VALUE` prints VALUE converted, with 10 significant digits. An unknown pair of units is an error with exit "
            "code 2 and the list of pairs it knows. It converts:\n\n" + list +
            "\nC99 and make only, with a test per conversion.\n";
  std::vector<std::string> req, stories, api, tcs;
  for (int k = 1; k <= n; ++k) {
    req.push_back(ReqItem(k, cs[k - 1]));
    stories.push_back(StoryItem(k, cs[k - 1]));
    api.push_back(ApiItem(k, cs[k - 1]));
    tcs.push_back(TcItem(k, cs[k - 1]));
  }
  std::string all_reqs;
  for (int k = 1; k <= n; ++k) all_reqs += (k > 1 ? ", " : "") + std::string("REQ-01-") + Three(k);
  std::string all_us;
  for (int k = 1; k <= n; ++k) all_us += (k > 1 ? ", " : "") + std::string("US-03-") + Three(k);
  req.push_back("## BR-01-001 Precision\n\nResults are printed with 10 significant digits.\n\nTraces: " + all_reqs + "\n");
  std::string ent1 = "## ENT-02-001 Quantity\n\nA value and its unit: `value` (double), `unit` (one of the units the "
                     "tool knows).\n\nTraces: " + all_reqs + "\n";
  std::string ent2 = "## ENT-02-002 Conversion\n\nFrom a unit to another: `from`, `to`, `factor`, `offset`; result = "
                     "value x factor + offset.\n\nTraces: " + all_reqs + "\n";
  std::string arch = Doc("Architecture", "One program.",
                         {"## SVC-04-001 unitconv\n\n`src/main.c` looks the pair up in a table and calls its function; "
                          "one `src/conv_NN.c` per conversion. `make` builds `build/unitconv`; `make test` runs "
                          "`build/test_conv`.\n\nTraces: " + all_us + "\n",
                          "## DEC-04-001 C99, one file per conversion\n\nEach conversion is its own file, so a change to "
                          "one touches one file.\n\nTraces: SVC-04-001\n"});
  api.insert(api.begin(), "## API-05-001 unitconv FROM TO VALUE\n\nPrints VALUE in TO with 10 significant digits; exit 0.\n\n"
                          "Traces: SVC-04-001, " + all_us + "\n");
  api.push_back("## ERR-05-001 Unknown pair\n\nAn unknown FROM/TO pair prints the pairs it knows on stderr and exits "
                "with 2.\n\nTraces: API-05-001, BR-01-001\n");
  std::string req_doc = Doc("Requirements", "unitconv converts values between units.", req);
  // The first draft misses the precision rule; the verifier catches it.
  std::vector<std::string> req_v0(req.begin(), req.end() - 1);
  p.Add("assess", {{"json",
                    {{"technical", {{"score", 1}, {"reason", "arithmetic and a lookup table"}}},
                     {"users", {{"score", 0}, {"reason", "no accounts"}}},
                     {"integrations", {{"score", 0}, {"reason", "none"}}},
                     {"compliance", {{"score", 0}, {"reason", "none"}}},
                     {"scale", {{"score", 0}, {"reason", "one value at a time"}}},
                     {"questions", json::array()}}}});
  auto when = [](json w) { return json{{"when", w}}; };
  auto add_text = [&](const std::string& node, json w, const std::string& text) {
    json e = when(std::move(w));
    e["text"] = text;
    p.Add(node, e);
  };
  add_text("produce", {{"iteration", 0}, {"prompt_contains", "Phase: requirements (create)"}},
           Doc("Requirements", "unitconv converts values between units.", req_v0));
  add_text("produce", {{"prompt_contains", "Phase: requirements (create)"}}, req_doc);
  add_text("produce", {{"prompt_contains", "Phase: domain (create)"}}, Doc("Domain model", "Two entities.", {ent1, ent2}));
  add_text("produce", {{"prompt_contains", "Phase: stories (create)"}}, Doc("User stories", "One story per conversion.", stories));
  add_text("produce", {{"prompt_contains", "Phase: architecture (create)"}}, arch);
  add_text("produce", {{"prompt_contains", "Phase: api (create)"}}, Doc("API", "The command and one function per conversion.", api));
  add_text("produce", {{"prompt_contains", "Phase: tests (create)"}}, Doc("Test cases", "One per conversion.", tcs));
  // The modify: conversion 7 uses the imperial gallon.
  Conv imp = cs[6];
  imp.factor = 4.54609;
  add_text("produce", {{"prompt_contains", "Phase: requirements (update)"}}, ReqItem(7, imp));
  add_text("produce", {{"prompt_contains", "Phase: domain (update)"}}, ent1 + "\n" + ent2);
  add_text("produce", {{"prompt_contains", "Phase: stories (update)"}}, StoryItem(7, cs[6]));
  add_text("produce", {{"prompt_contains", "Phase: api (update)"}}, ApiItem(7, cs[6]));
  add_text("produce", {{"prompt_contains", "Phase: tests (update)"}}, TcItem(7, imp));
  p.Add("verify", {{"when", {{"iteration", 0}, {"prompt_contains", "Verify phase: requirements (create)"}}},
                   {"json", {{"verdict", "fix"}, {"findings", {{{"severity", "major"}, {"item", "REQ-01-001"},
                                                                {"problem", "The brief fixes the output precision; no rule says so."}}}}}}});
  p.Add("verify", {{"json", {{"verdict", "approve"}, {"findings", json::array()}}}});
  json tasks = json::array();
  for (int k = 1; k <= n; ++k)
    tasks.push_back({{"id", "TASK-" + Two(k)}, {"title", std::string("conv ") + cs[k - 1].from + " to " + cs[k - 1].to},
                     {"description", "conv_" + Two(k) + " in src/conv_" + Two(k) + ".c"},
                     {"implements", {"API-05-" + Three(k + 1), "REQ-01-" + Three(k)}},
                     {"files", {"src/conv_" + Two(k) + ".c"}}, {"parallel", true}, {"components", {"conversions"}},
                     {"interfaces_clear", true}, {"performance_sensitive", false}});
  tasks.push_back({{"id", "TASK-" + Two(n + 1)}, {"title", "the command line and the build"},
                   {"description", "src/main.c with the table of pairs; the Makefile"},
                   {"implements", {"API-05-001", "ERR-05-001", "BR-01-001", "SVC-04-001", "DEC-04-001"}},
                   {"files", {"src/main.c", "Makefile"}}, {"parallel", true}, {"components", {"cli"}},
                   {"interfaces_clear", true}, {"performance_sensitive", false}});
  p.Add("plan", {{"json", {{"tasks", tasks}}}});
  std::string table, decls, tests_c = "#include <math.h>\n#include <stdio.h>\n\n";
  for (int k = 1; k <= n; ++k) {
    const Conv& c = cs[k - 1];
    decls += "double conv_" + Two(k) + "(double x);\n";
    table += std::string("    {\"") + c.from + "\", \"" + c.to + "\", conv_" + Two(k) + "},\n";
    p.Add("develop", {{"when", {{"turn", 1}, {"prompt_contains", "Task: TASK-" + Two(k) + " "}}},
                      {"tool_calls", {{{"name", "fs_write"}, {"arguments", {{"path", "src/conv_" + Two(k) + ".c"}, {"content", ConvC(k, c)}}}}}}});
    p.Add("develop", {{"when", {{"turn", 2}, {"prompt_contains", "Task: TASK-" + Two(k) + " "}}},
                      {"text", "Wrote src/conv_" + Two(k) + ".c, citing API-05-" + Three(k + 1) + " and REQ-01-" + Three(k) + "."}});
  }
  std::string main_c = "/* Implements: API-05-001, ERR-05-001, BR-01-001, SVC-04-001 */\n#include <stdio.h>\n#include "
                       "<stdlib.h>\n#include <string.h>\n\n" + decls +
                       "\nstatic const struct { const char *from, *to; double (*fn)(double); } kPairs[] = {\n" + table +
                       "};\n\nint main(int argc, char **argv) {\n  size_t n = sizeof kPairs / sizeof kPairs[0];\n  if (argc == 4)\n"
                       "    for (size_t i = 0; i < n; ++i)\n      if (!strcmp(argv[1], kPairs[i].from) && !strcmp(argv[2], kPairs[i].to)) {\n"
                       "        printf(\"%.10g\\n\", kPairs[i].fn(atof(argv[3])));\n        return 0;\n      }\n"
                       "  fprintf(stderr, \"usage: unitconv FROM TO VALUE; pairs:\");\n  for (size_t i = 0; i < n; ++i) fprintf(stderr, "
                       "\" %s-%s\", kPairs[i].from, kPairs[i].to);\n  fprintf(stderr, \"\\n\");\n  return 2;\n}\n";
  std::string mk = "# Implements: SVC-04-001, DEC-04-001\nCC ?= cc\nCFLAGS ?= -std=c99 -Wall -O2\nCONV := $(wildcard src/conv_*.c)\n\n"
                   "build/unitconv: src/main.c $(CONV)\n\t@mkdir -p build\n\t$(CC) $(CFLAGS) -o $@ $^ -lm\n\n"
                   "build/test_conv: tests/test_conv.c $(CONV)\n\t@mkdir -p build\n\t$(CC) $(CFLAGS) -o $@ $^ -lm\n\n"
                   "test: build/unitconv build/test_conv\n\t./build/test_conv\n\n.PHONY: test\n";
  p.Add("develop", {{"when", {{"turn", 1}, {"prompt_contains", "Task: TASK-" + Two(n + 1) + " "}}},
                    {"tool_calls", {{{"name", "fs_write"}, {"arguments", {{"path", "src/main.c"}, {"content", main_c}}}},
                                    {{"name", "fs_write"}, {"arguments", {{"path", "Makefile"}, {"content", mk}}}}}}});
  p.Add("develop", {{"when", {{"turn", 2}, {"prompt_contains", "Task: TASK-" + Two(n + 1) + " "}}},
                    {"text", "Wrote src/main.c (the table of pairs, ERR-05-001) and the Makefile."}});
  std::string body, calls;
  for (int k = 1; k <= n; ++k) {
    const Conv& c = cs[k - 1];
    tests_c += "double conv_" + Two(k) + "(double x);\n";
    body += "static void TC_06_" + Three(k) + "(void) { check(\"TC-06-" + Three(k) + "\", conv_" + Two(k) + "(1), " +
            Num(c.factor + c.offset) + "); }\n";
    calls += "  TC_06_" + Three(k) + "();\n";
  }
  tests_c += "\nstatic int failures = 0;\nstatic void check(const char *id, double got, double want) {\n  if (fabs(got - want) < 1e-6) "
             "printf(\"PASS %s\\n\", id);\n  else { printf(\"FAIL %s: got %.10g, want %.10g\\n\", id, got, want); ++failures; }\n}\n\n" +
             body + "\nint main(void) {\n" + calls + "  printf(\"" + std::to_string(n) +
             " test cases, %d failed\\n\", failures);\n  return failures != 0;\n}\n";
  p.Add("develop", {{"when", {{"turn", 1}, {"prompt_contains", "Task: TASK-T1 "}}},
                    {"tool_calls", {{{"name", "fs_write"}, {"arguments", {{"path", "tests/test_conv.c"}, {"content", tests_c}}}}}}});
  p.Add("develop", {{"when", {{"turn", 2}, {"prompt_contains", "Task: TASK-T1 "}}},
                    {"tool_calls", {{{"name", "shell_run"}, {"arguments", {{"command", "make test"}}}}}}});
  p.Add("develop", {{"when", {{"turn", 3}, {"prompt_contains", "Task: TASK-T1 "}}},
                    {"text", "tests/test_conv.c has one test per test case; make test passes."}});
  // The modify's developer: one factor and one expectation.
  std::string old_f = "x * " + Num(cs[6].factor), new_f = "x * " + Num(imp.factor);
  std::string old_t = "conv_07(1), " + Num(cs[6].factor), new_t = "conv_07(1), " + Num(imp.factor);
  p.Add("develop", {{"when", {{"turn", 1}, {"prompt_contains", "Task: TASK-M1 "}}},
                    {"tool_calls", {{{"name", "fs_edit"}, {"arguments", {{"path", "src/conv_07.c"}, {"old_text", old_f}, {"new_text", new_f}}}},
                                    {{"name", "fs_edit"}, {"arguments", {{"path", "tests/test_conv.c"}, {"old_text", old_t}, {"new_text", new_t}}}}}}});
  p.Add("develop", {{"when", {{"turn", 2}, {"prompt_contains", "Task: TASK-M1 "}}},
                    {"tool_calls", {{{"name", "shell_run"}, {"arguments", {{"command", "make test"}}}}}}});
  p.Add("develop", {{"when", {{"turn", 3}, {"prompt_contains", "Task: TASK-M1 "}}},
                    {"text", "conv_07 uses the imperial gallon (4.54609 l); TC-06-007 expects it; make test passes."}});
  p.Add("review_1", {{"json", {{"verdict", "approve"}, {"findings", json::array()}}}});
  p.Add("review_2", {{"json", {{"verdict", "approve"}, {"findings", json::array()}}}});
  p.Add("classify", {{"json", {{"category", "requirements"}, {"reason", "REQ-01-007 names the wrong gallon"}, {"targets", {"REQ-01-007"}}}}});
  // Below REQ-01-007 every item names the gallon: the cascade check keeps none of them.
  p.Add("cascade", {{"json", {{"rewrite", json::array()}, {"keep", json::array()}}}});
  p.Add("triage", {{"text", "See the failing lines above."}});
  return p;
}

json Prices() {
  return json{{"scripted/architect", {{"input_cost_per_token", 5e-6}, {"output_cost_per_token", 2.5e-5}}},
              {"scripted/developer", {{"input_cost_per_token", 3e-6}, {"output_cost_per_token", 1.5e-5}}},
              {"scripted/verifier", {{"input_cost_per_token", 1e-6}, {"output_cost_per_token", 5e-6}}},
              {"scripted/qa", {{"input_cost_per_token", 1e-6}, {"output_cost_per_token", 5e-6}}},
              {"scripted/reviewer-a", {{"input_cost_per_token", 3e-6}, {"output_cost_per_token", 1.5e-5}}},
              {"scripted/reviewer-b", {{"input_cost_per_token", 1.25e-6}, {"output_cost_per_token", 1e-5}}}};
}

int Sh(const std::string& cmd) { return std::system(cmd.c_str()); }

struct Figures {
  long long dev_tokens = 0, mod_tokens = 0;
  double dev_usd = 0, mod_usd = 0;
  long long dev_calls = 0, mod_calls = 0;
};

bool Measure(const std::string& bin, const std::string& dir, const std::string& brief, const std::string& script,
             const std::string& config, const std::string& request, Figures* f) {
  std::string common = " --yes --script " + script + " --config " + config + " > " + dir + "/log.txt 2>&1";
  if (Sh("cd " + dir + " && " + bin + " develop " + brief + " --workspace project" + common) != 0) return false;
  if (Sh("cd " + dir + " && " + bin + " modify '" + request + "' --workspace project" + common) != 0) return false;
  std::ifstream in(dir + "/project/.specwright/process.json");
  json st = json::parse(in);
  for (const auto& [key, step] : st["steps"].items()) {
    bool mod = key.rfind("m1-", 0) == 0;
    (mod ? f->mod_tokens : f->dev_tokens) += step.value("tokens", 0LL);
    (mod ? f->mod_usd : f->dev_usd) += step.value("cost_usd", 0.0);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string bin = argc > 1 && argv[1][0] != '-' ? argv[1] : (fs::path(argv[0]).parent_path() / "specwright").string();
  bin = fs::absolute(bin).string();
  std::string src = SW_SOURCE_DIR;
  char tmpl[] = "/tmp/sw-develop-bench-XXXXXX";
  std::string root = mkdtemp(tmpl);
  std::printf("| project | requirements | develop tokens | develop $ | modify tokens | modify $ | tokens ratio | $ ratio |\n"
              "|---|---|---|---|---|---|---|---|\n");
  auto row = [](const std::string& name, int reqs, const Figures& f) {
    std::printf("| %s | %d | %lld | $%.4f | %lld | $%.4f | %.1f%% | %.1f%% |\n", name.c_str(), reqs, f.dev_tokens, f.dev_usd,
                f.mod_tokens, f.mod_usd, 100.0 * f.mod_tokens / f.dev_tokens, 100.0 * f.mod_usd / f.dev_usd);
    std::fflush(stdout);
  };
  {
    std::string dir = root + "/tipsplit";
    fs::create_directories(dir);
    Figures f;
    if (!Measure(bin, dir, src + "/examples/develop/tipsplit/BRIEF.md", src + "/examples/develop/tipsplit/recording.yaml",
                 src + "/examples/develop/tipsplit/specwright.yaml", "Allow tips up to 50%", &f)) {
      std::fprintf(stderr, "tipsplit failed; see %s/log.txt\n", dir.c_str());
      return 1;
    }
    row("tipsplit (shipped recording)", 4, f);
  }
  {
    // The L2 example: an API service, a crypto and storage module and a CLI client (Python).
    std::string dir = root + "/secretdrop";
    fs::create_directories(dir);
    Figures f;
    std::string ex = src + "/examples/develop/secretdrop";
    if (!Measure(bin, dir, ex + "/BRIEF.md", ex + "/recording.yaml", ex + "/specwright.yaml",
                 "Allow secrets to live up to 30 days", &f)) {
      std::fprintf(stderr, "secretdrop failed; see %s/log.txt\n", dir.c_str());
      return 1;
    }
    row("secretdrop L2 (shipped recording)", 9, f);
  }
  for (int n : {8, 16, 24}) {
    std::string dir = root + "/unitconv-" + std::to_string(n);
    fs::create_directories(dir);
    Project p = Make(n);
    std::ofstream(dir + "/BRIEF.md") << p.brief;
    // JSON is YAML: the script is written as one JSON document.
    std::ofstream(dir + "/recording.yaml") << json{{"latency_ms", 0}, {"prices", Prices()}, {"nodes", p.nodes}}.dump(1);
    Figures f;
    if (!Measure(bin, dir, dir + "/BRIEF.md", dir + "/recording.yaml", src + "/examples/develop/tipsplit/specwright.yaml",
                 "Conversion 7 must use the imperial gallon (4.54609 l), not the US one", &f)) {
      std::fprintf(stderr, "unitconv-%d failed; see %s/log.txt\n", n, dir.c_str());
      return 1;
    }
    row("unitconv-" + std::to_string(n) + " (generated recording)", n, f);
  }
  fs::remove_all(root);
  return 0;
}
