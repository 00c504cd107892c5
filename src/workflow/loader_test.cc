// Tests for workflow::Load: the bad corpus (every file states the diagnostics it expects),
// good workflows (order, defaults, hashes) and ResolveInputs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/strings.h"
#include "workflow/workflow.h"
#include "workflow/yaml_json.h"

namespace sw::workflow {
namespace {

namespace fs = std::filesystem;

const std::string kTestdata = std::string(SW_SOURCE_DIR) + "/src/workflow/testdata";

std::string AllErrors(const LoadResult& r) {
  std::string out;
  for (const auto& d : r.errors) out += "  " + d.ToString() + "\n";
  return out;
}

/// TempDir is a fresh directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() / ("sw_loader_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string Write(const std::string& rel, const std::string& text) const {
    fs::path p = path_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(LoaderBadCorpus, EveryFileReportsWhatItExpects) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(kTestdata + "/bad"))
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  EXPECT_GE(files.size(), 35u);
  for (const auto& f : files) {
    SCOPED_TRACE(f.filename().string());
    std::ifstream in(f);
    std::vector<std::string> expects;
    for (std::string line; std::getline(in, line);)
      if (line.rfind("# expect: ", 0) == 0) expects.push_back(line.substr(10));
    ASSERT_FALSE(expects.empty()) << "no `# expect:` lines";
    LoadResult r = Load(f.string());
    EXPECT_EQ(r.workflow, nullptr);
    EXPECT_FALSE(r.errors.empty());
    for (const auto& want : expects) {
      bool found = std::any_of(r.errors.begin(), r.errors.end(),
                               [&](const Diagnostic& d) { return d.ToString().find(want) != std::string::npos; });
      EXPECT_TRUE(found) << "expected: " << want << "\ngot:\n" << AllErrors(r);
    }
  }
}

TEST(LoaderBadCorpus, ThreeIndependentErrorsAreAllReported) {
  LoadResult r = Load(kTestdata + "/bad/50_three_errors.yaml");
  EXPECT_EQ(r.errors.size(), 3u) << AllErrors(r);
}

TEST(LoaderBadCorpus, LoadOrErrorJoinsEveryDiagnostic) {
  auto r = LoadOrError(kTestdata + "/bad/50_three_errors.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidInput);
  const std::string& m = r.status().message();
  EXPECT_EQ(std::count(m.begin(), m.end(), '\n'), 2);
  EXPECT_NE(m.find("50_three_errors.yaml:9:14: invalid duration \"soon\""), std::string::npos) << m;
}

TEST(LoaderGood, FullWorkflowLoadsWithDefaultsMerged) {
  LoadResult r = Load(kTestdata + "/good/full.yaml");
  ASSERT_TRUE(r.errors.empty()) << AllErrors(r);
  ASSERT_NE(r.workflow, nullptr);
  const Workflow& wf = *r.workflow;
  EXPECT_EQ(wf.name, "full");
  EXPECT_TRUE(fs::path(wf.file).is_absolute());
  EXPECT_EQ(fs::path(wf.dir), fs::path(wf.file).parent_path());
  std::vector<std::string> order;
  for (const auto& n : wf.nodes) order.push_back(n.id);
  EXPECT_EQ(order, (std::vector<std::string>{"plan", "tasks", "dev", "review", "echo", "gate", "sub"}));
  for (size_t i = 0; i < wf.nodes.size(); ++i) EXPECT_EQ(wf.index.at(wf.nodes[i].id), static_cast<int>(i));

  ASSERT_EQ(wf.inputs.size(), 4u);
  EXPECT_TRUE(wf.inputs[0].required);
  EXPECT_FALSE(wf.inputs[1].required);
  EXPECT_EQ(*wf.inputs[1].default_value, 2);
  EXPECT_EQ(wf.inputs[3].type, "list");
  EXPECT_EQ(wf.budget.policy, BudgetPolicy::kWarn);
  EXPECT_EQ(*wf.budget.max_calls, 500);
  EXPECT_EQ(wf.concurrency.global, 4);
  EXPECT_EQ(wf.concurrency.per_provider.at("openai"), 2);

  const Node* plan = wf.Find("plan");
  ASSERT_NE(plan, nullptr);
  EXPECT_EQ(plan->model.model, "scripted/demo");
  EXPECT_DOUBLE_EQ(*plan->model.temperature, 0.2);
  EXPECT_EQ(*plan->model.max_tokens, 1024);
  EXPECT_EQ(plan->model.stop, std::vector<std::string>{"\n\n"});
  EXPECT_EQ(plan->retry.attempts, 3);
  EXPECT_DOUBLE_EQ(plan->retry.max_delay, 30);
  EXPECT_DOUBLE_EQ(plan->timeout, 60);
  EXPECT_EQ(plan->output, OutputKind::kJson);
  EXPECT_EQ((*plan->schema)["required"][0], "tasks");
  EXPECT_EQ(plan->artifact, "docs/plan.md");
  EXPECT_TRUE(plan->cache);
  ASSERT_TRUE(plan->system.has_value());
  EXPECT_EQ(fs::path(plan->system->file).filename(), "system.md");
  ASSERT_TRUE(plan->prompt.has_value());

  const Node* tasks = wf.Find("tasks");
  EXPECT_DOUBLE_EQ(*tasks->model.temperature, 0.7);  // node overrides one field...
  EXPECT_EQ(*tasks->model.max_tokens, 1024);         // ...and keeps the others
  EXPECT_EQ(tasks->retry.attempts, 5);
  EXPECT_DOUBLE_EQ(tasks->retry.backoff, 1);
  ASSERT_TRUE(tasks->map.has_value());
  EXPECT_EQ(tasks->map->as, "task");
  EXPECT_EQ(tasks->map->max_parallel, 2);
  EXPECT_TRUE(tasks->when.has_value());

  EXPECT_EQ(wf.Find("dev")->model.model, "openai/gpt-4o");
  const Node* review = wf.Find("review");
  ASSERT_TRUE(review->loop.has_value());
  EXPECT_EQ(review->loop->to, "dev");
  EXPECT_EQ(review->loop->max_iterations, 3);
  EXPECT_TRUE(review->loop->fail_on_exhausted);

  const Node* echo = wf.Find("echo");
  EXPECT_EQ(echo->kind, NodeKind::kTool);
  EXPECT_EQ(echo->tool, "builtin://echo");
  EXPECT_FALSE(echo->cache);
  EXPECT_DOUBLE_EQ(echo->timeout, 300);
  EXPECT_EQ(echo->retry.attempts, 3);
  EXPECT_TRUE(echo->model.model.empty());
  EXPECT_EQ(echo->args["n"], 3);
  EXPECT_EQ(echo->args["list"][1], 2);
  EXPECT_EQ(echo->arg_templates.size(), 2u);
  EXPECT_TRUE(echo->arg_templates.count("/text"));
  EXPECT_TRUE(echo->arg_templates.count("/list/0"));

  const Node* gate = wf.Find("gate");
  EXPECT_EQ(gate->human_mode, HumanMode::kInput);
  EXPECT_TRUE(gate->message.has_value());
  EXPECT_DOUBLE_EQ(gate->timeout, 0);  // per-call defaults do not time out a person
  EXPECT_EQ(gate->retry.attempts, 1);

  const Node* sub = wf.Find("sub");
  EXPECT_EQ(sub->kind, NodeKind::kWorkflow);
  ASSERT_NE(sub->sub, nullptr);
  EXPECT_EQ(sub->sub->name, "sub");
  EXPECT_EQ(sub->workflow_file, sub->sub->file);
  EXPECT_TRUE(fs::path(sub->workflow_file).is_absolute());
  EXPECT_TRUE(sub->with.count("topic"));
  EXPECT_EQ(NodeKindName(sub->kind), std::string("workflow"));

  for (const auto& n : wf.nodes) EXPECT_EQ(n.definition_hash.size(), 32u) << n.id;
  EXPECT_EQ(wf.source_hash.size(), 32u);
}

TEST(LoaderGood, TopologicalOrderBreaksTiesByFileOrder) {
  LoadResult r = Load(kTestdata + "/good/order.yaml");
  ASSERT_TRUE(r.errors.empty()) << AllErrors(r);
  std::vector<std::string> order;
  for (const auto& n : r.workflow->nodes) order.push_back(n.id);
  EXPECT_EQ(order, (std::vector<std::string>{"c", "a", "b", "d", "e"}));
}

TEST(LoaderGood, DefinitionHashIsStableAndFollowsPromptFiles) {
  TempDir dir;
  fs::copy(kTestdata + "/good", dir.path(), fs::copy_options::recursive);
  std::string path = (dir.path() / "full.yaml").string();
  auto a = LoadOrError(path);
  auto b = LoadOrError(path);
  ASSERT_TRUE(a.ok()) << a.status().message();
  ASSERT_TRUE(b.ok());
  for (const auto& n : (*a)->nodes) EXPECT_EQ(n.definition_hash, (*b)->Find(n.id)->definition_hash) << n.id;
  EXPECT_EQ((*a)->source_hash, (*b)->source_hash);

  dir.Write("prompts/review.md", "Review this carefully:\n{{nodes.dev.output}}\n");
  auto c = LoadOrError(path);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_NE((*a)->Find("review")->definition_hash, (*c)->Find("review")->definition_hash);
  EXPECT_EQ((*a)->Find("plan")->definition_hash, (*c)->Find("plan")->definition_hash);
  EXPECT_NE((*a)->source_hash, (*c)->source_hash);

  // A change inside the sub-workflow changes the node that runs it.
  std::string sub = ReadFile((dir.path() / "sub.yaml").string()).value();
  dir.Write("sub.yaml", sub + "description: changed\n");
  auto d = LoadOrError(path);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_NE((*c)->Find("sub")->definition_hash, (*d)->Find("sub")->definition_hash);
  EXPECT_EQ((*c)->Find("gate")->definition_hash, (*d)->Find("gate")->definition_hash);
}

TEST(LoaderGood, DefaultsChangeTheHashOfNodesThatUseThem) {
  TempDir dir;
  std::string path = dir.Write("w.yaml",
                               "name: w\ndefaults: {model: scripted/a}\nnodes:\n  x: {prompt: hi}\n"
                               "  y: {prompt: hi, model: scripted/own}\n");
  auto a = LoadOrError(path);
  dir.Write("w.yaml",
            "name: w\ndefaults: {model: scripted/b}\nnodes:\n  x: {prompt: hi}\n"
            "  y: {prompt: hi, model: scripted/own}\n");
  auto b = LoadOrError(path);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE((*a)->Find("x")->definition_hash, (*b)->Find("x")->definition_hash);
  EXPECT_EQ((*a)->Find("y")->definition_hash, (*b)->Find("y")->definition_hash);
}

TEST(LoaderGood, ScalarsAndDurations) {
  TempDir dir;
  std::string path = dir.Write("w.yaml", R"(name: w
defaults: {model: scripted/a, timeout: 1m30s, retry: {backoff: 250ms, max_delay: 1.5s}}
concurrency: 3
nodes:
  t:
    kind: tool
    tool: builtin://echo
    timeout: 2.5
    retry: 4
    args: {q: "3", p: 3, n: ~, b: 'true', f: 1.5, s: plain, deep: [{x: "{{inputs.v}}"}]}
  l: {prompt: hi, needs: t, budget: {max_usd: 0.25}}
inputs: {v: string}
)");
  LoadResult r = Load(path);
  ASSERT_TRUE(r.errors.empty()) << AllErrors(r);
  const Node* t = r.workflow->Find("t");
  EXPECT_EQ(t->args["q"], "3");
  EXPECT_EQ(t->args["p"], 3);
  EXPECT_TRUE(t->args["n"].is_null());
  EXPECT_EQ(t->args["b"], "true");
  EXPECT_DOUBLE_EQ(t->args["f"].get<double>(), 1.5);
  EXPECT_TRUE(t->arg_templates.count("/deep/0/x"));
  EXPECT_TRUE(t->arg_templates.count("/s"));
  EXPECT_DOUBLE_EQ(t->timeout, 2.5);
  EXPECT_EQ(t->retry.attempts, 4);
  EXPECT_DOUBLE_EQ(t->retry.backoff, 0.25);
  EXPECT_DOUBLE_EQ(t->retry.max_delay, 1.5);
  const Node* l = r.workflow->Find("l");
  EXPECT_DOUBLE_EQ(l->timeout, 90);
  EXPECT_DOUBLE_EQ(*l->budget.max_usd, 0.25);
  EXPECT_EQ(r.workflow->concurrency.global, 3);
  EXPECT_DOUBLE_EQ(r.workflow->default_timeout, 90);
}

TEST(LoaderGood, LoopBodyMayReadItsOwnerInTemplates) {
  TempDir dir;
  // dev reads review's feedback (review loops back to dev); d waits for the whole loop.
  std::string path = dir.Write("w.yaml", R"(name: w
defaults: {model: scripted/a}
nodes:
  dev: {prompt: "code; feedback: {{nodes.review.output}}"}
  review:
    needs: dev
    output: json
    prompt: "review {{nodes.dev.output}}"
    loop: {to: dev, while: "nodes.review.json.approved != true"}
  d: {needs: [dev, review], prompt: "{{nodes.dev.output}}"}
)");
  LoadResult r = Load(path);
  EXPECT_TRUE(r.errors.empty()) << AllErrors(r);
}

TEST(LoaderGood, ReadingJsonOfATextNodeIsAWarning) {
  TempDir dir;
  std::string path = dir.Write("w.yaml",
                               "name: w\ndefaults: {model: scripted/a}\nnodes:\n  a: {prompt: hi}\n"
                               "  b: {needs: a, when: \"nodes.a.json.ok\", prompt: hi}\n");
  LoadResult r = Load(path);
  EXPECT_TRUE(r.errors.empty()) << AllErrors(r);
  ASSERT_NE(r.workflow, nullptr);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].ToString().find("w.yaml:5:24: condition reads nodes.a.json but \"a\" has output: text"),
            std::string::npos)
      << r.warnings[0].ToString();
}

TEST(LoaderGood, MissingFileIsOneError) {
  LoadResult r = Load(kTestdata + "/does/not/exist.yaml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].ToString().find("exist.yaml: cannot read workflow"), std::string::npos)
      << r.errors[0].ToString();
}

TEST(Diagnostic, ToStringFormats) {
  EXPECT_EQ((Diagnostic{"f.yaml", {3, 7}, "bad"}).ToString(), "f.yaml:3:7: bad");
  EXPECT_EQ((Diagnostic{"f.yaml", {}, "bad"}).ToString(), "f.yaml: bad");
}

class ResolveInputsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = LoadOrError(kTestdata + "/good/full.yaml");
    ASSERT_TRUE(r.ok()) << r.status().message();
    wf_ = *r;
  }
  std::shared_ptr<const Workflow> wf_;
};

TEST_F(ResolveInputsTest, ConvertsStringsAndFillsDefaults) {
  auto r = ResolveInputs(*wf_, {{"brief", "a todo app"}, {"rounds", "3"}, {"tags", R"(["x","y"])"}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)["brief"], "a todo app");
  EXPECT_EQ((*r)["rounds"], 3);
  EXPECT_EQ((*r)["strict"], false);  // default
  EXPECT_EQ((*r)["tags"], json::array({"x", "y"}));
  auto b = ResolveInputs(*wf_, {{"brief", "x"}, {"strict", "true"}, {"tags", json::array()}});
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ((*b)["strict"], true);
  EXPECT_EQ((*b)["rounds"], 2);
}

TEST_F(ResolveInputsTest, ReportsUnknownMissingAndMismatched) {
  auto r = ResolveInputs(*wf_, {{"breif", "x"}, {"rounds", "three"}});
  ASSERT_FALSE(r.ok());
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("unknown input \"breif\" (did you mean \"brief\"?)"), std::string::npos) << m;
  EXPECT_NE(m.find("input \"rounds\" must be of type integer, got \"three\""), std::string::npos) << m;
  EXPECT_NE(m.find("missing required inputs \"brief\", \"tags\""), std::string::npos) << m;
  auto bad_bool = ResolveInputs(*wf_, {{"brief", "x"}, {"tags", "[]"}, {"strict", "maybe"}});
  ASSERT_FALSE(bad_bool.ok());
  EXPECT_NE(bad_bool.status().message().find("\"strict\" must be of type boolean"), std::string::npos);
  auto bad_list = ResolveInputs(*wf_, {{"brief", "x"}, {"tags", "{\"a\":1}"}});
  ASSERT_FALSE(bad_list.ok());
  EXPECT_NE(bad_list.status().message().find("\"tags\" must be of type list"), std::string::npos);
}
}  // namespace
}  // namespace sw::workflow

namespace sw::workflow {
namespace {

/// The classic alias bomb: each level holds nine aliases of the one before.
std::string AliasBomb(int levels) {
  std::string y = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i < levels; ++i) {
    std::string p = "*a" + std::to_string(i - 1);
    y += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + p;
    for (int k = 1; k < 9; ++k) y += ", " + p;
    y += "]\n";
  }
  return y;
}

TEST(YamlLimits, AnAliasBombIsAnErrorAtItsPositionBeforeAnythingExpands) {
  TempDir dir;
  std::string flow = "name: bomb\n" + AliasBomb(9) + "nodes:\n  a: {prompt: hi, model: p/m}\n";
  ASSERT_LT(flow.size(), 600u);
  std::string path = dir.Write("flow.yaml", flow);
  auto r = Load(path);
  ASSERT_EQ(r.errors.size(), 1u) << AllErrors(r);
  EXPECT_NE(r.errors[0].message.find("YAML aliases"), std::string::npos) << r.errors[0].message;
  EXPECT_EQ(r.errors[0].pos.line, 7) << "the first alias past the limit: " << r.errors[0].ToString();
  EXPECT_GT(r.errors[0].pos.col, 1);
  // The same text as an editor's unsaved buffer (the web UI's validate endpoint).
  std::string text = flow;
  auto u = Load(path, &text);
  ASSERT_EQ(u.errors.size(), 1u) << AllErrors(u);
  // Every other YAML reader: scripts, the fake server's replies, specwright.yaml.
  auto j = ParseYamlText(AliasBomb(9), "script.yaml");
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find("script.yaml:"), std::string::npos) << j.status().message();
  auto f = LoadYamlFile(dir.Write("specwright.yaml", AliasBomb(9)));
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("specwright.yaml:"), std::string::npos) << f.status().message();
}

TEST(YamlLimits, AliasesWithinTheLimitsStillWork) {
  auto ok = ParseYamlText(AliasBomb(4) + "b: {<<: x, c: *a3}\n", "ok.yaml");  // 9^3 leaves: fine
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ((*ok)["a3"].size(), 9u);
  EXPECT_EQ((*ok)["b"]["c"][8][8][8][8], "lol");
  // Depth: an alias of an alias of ... nine deep, each small.
  std::string deep = "d0: &d0 [x]\n";
  for (int i = 1; i <= 9; ++i) deep += "d" + std::to_string(i) + ": &d" + std::to_string(i) + " [*d" + std::to_string(i - 1) + "]\n";
  auto d = ParseYamlText(deep, "deep.yaml");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("nest 9 deep"), std::string::npos) << d.status().message();
  EXPECT_NE(d.status().message().find("deep.yaml:10:"), std::string::npos) << d.status().message();
}

TEST(YamlLimits, AliasesRepeatingALargeValueAreBoundedInBytes) {
  std::string y = "big: &big \"" + std::string(1 << 20, 'x') + "\"\nmany: [";
  for (int i = 0; i < 100; ++i) y += std::string(i ? ", " : "") + "*big";
  y += "]\n";
  auto r = ParseYamlText(y, "big.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("MiB of text"), std::string::npos) << r.status().message();
}

TEST(YamlLimits, AFileLargerThanTheCapIsRefused) {
  TempDir dir;
  std::string big(kMaxYamlFileBytes + 1, '#');
  std::string path = dir.Write("big.yaml", big);
  auto r = Load(path);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("at most 16 MiB"), std::string::npos) << r.errors[0].message;
  EXPECT_FALSE(LoadYamlFile(path).ok());
}

// docs/workflow.schema.json is what editors (VS Code's YAML extension, the web UI's editor)
// complete and explain from: it must know every key and value the loader takes, and no other.
nlohmann::json WorkflowSchema() {
  auto text = ReadFile(std::string(SW_SOURCE_DIR) + "/docs/workflow.schema.json");
  EXPECT_TRUE(text.ok());
  return nlohmann::json::parse(text.ok() ? *text : "{}");
}

/// Described says whether a schema (after one $ref) explains itself to a hover.
bool Described(const nlohmann::json& schema, const nlohmann::json& node) {
  if (node.contains("description")) return true;
  if (node.contains("$ref")) {
    std::string ref = node["$ref"].get<std::string>();  // "#/$defs/NAME"
    auto target = schema.value(nlohmann::json::json_pointer(ref.substr(1)), nlohmann::json::object());
    return target.contains("description");
  }
  return false;
}

TEST(WorkflowSchema, KnowsEveryKeyTheLoaderTakesAndExplainsEach) {
  nlohmann::json schema = WorkflowSchema();
  std::set<std::string> top, want_top(TopKeys().begin(), TopKeys().end());
  for (const auto& [k, v] : schema["properties"].items()) {
    top.insert(k);
    EXPECT_TRUE(Described(schema, v)) << "top-level key " << k << " has no description";
  }
  EXPECT_EQ(top, want_top);
  std::set<std::string> node, want_node;
  for (NodeKind k : {NodeKind::kLlm, NodeKind::kTool, NodeKind::kHuman, NodeKind::kWorkflow, NodeKind::kAgent})
    for (const auto& key : NodeKeys(k)) want_node.insert(key);
  const auto& props = schema["$defs"]["node"]["properties"];
  for (const auto& [k, v] : props.items()) {
    node.insert(k);
    EXPECT_TRUE(Described(schema, v)) << "node key " << k << " has no description";
  }
  EXPECT_EQ(node, want_node);
}

TEST(WorkflowSchema, ItsEnumsAreTheValuesTheLoaderAccepts) {
  nlohmann::json schema = WorkflowSchema();
  struct Case {
    std::string pointer, yaml;
  };
  const std::string head = "name: t\ndefaults: {model: scripted/demo}\n";
  std::vector<Case> cases = {
      {"/$defs/node/properties/kind/enum", head + "nodes:\n  a: {kind: ZZZ, prompt: x}\n"},
      {"/$defs/node/properties/output/enum", head + "nodes:\n  a: {prompt: x, output: ZZZ}\n"},
      {"/$defs/node/properties/on_truncated/enum", head + "nodes:\n  a: {prompt: x, on_truncated: ZZZ}\n"},
      {"/$defs/node/properties/mode/enum", head + "nodes:\n  a: {kind: human, message: x, mode: ZZZ}\n"},
      {"/$defs/node/properties/loop/properties/on_exhausted/enum",
       head + "nodes:\n  a: {prompt: x, output: json, loop: {to: a, while: \"false\", on_exhausted: ZZZ}}\n"},
      {"/properties/budget/properties/policy/enum", head + "budget: {max_usd: 1, policy: ZZZ}\nnodes:\n  a: {prompt: x}\n"},
      {"/$defs/inputType/enum", head + "inputs: {x: ZZZ}\nnodes:\n  a: {prompt: x}\n"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.pointer);
    std::set<std::string> in_schema;
    for (const auto& v : schema.at(nlohmann::json::json_pointer(c.pointer))) in_schema.insert(v.get<std::string>());
    std::string text = c.yaml;
    auto r = Load("/nonexistent/schema-case.yaml", &text);
    std::set<std::string> loader;
    for (const auto& d : r.errors) {
      size_t at = d.message.find("expected one of: ");
      if (at == std::string::npos) continue;
      std::string rest = d.message.substr(at + 17);
      rest = rest.substr(0, rest.find(" ("));
      for (const auto& v : Split(rest, ',')) loader.insert(Trim(v));
    }
    ASSERT_FALSE(loader.empty()) << AllErrors(r);
    EXPECT_EQ(in_schema, loader);
  }
}

}  // namespace
}  // namespace sw::workflow
