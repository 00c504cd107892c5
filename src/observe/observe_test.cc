#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "base/json_writer.h"
#include "observe/internal.h"
#include "observe/observe.h"
#include "observe/otlp_exporter.h"

namespace sw::observe {
namespace {

TEST(UnifiedDiff, IdenticalTextsHaveNoDiff) { EXPECT_EQ(UnifiedDiff("a\nb\n", "a\nb\n", "x", "y"), ""); }

TEST(UnifiedDiff, OneChangedLineWithContext) {
  std::string a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
  std::string b = "1\n2\n3\n4\nFIVE\n6\n7\n8\n9\n";
  EXPECT_EQ(UnifiedDiff(a, b, "a", "b"), "--- a\n+++ b\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+FIVE\n 6\n 7\n 8\n");
}

TEST(UnifiedDiff, FarApartChangesMakeTwoHunksAndAdditionsAtTheEnd) {
  std::string a, b;
  for (int i = 1; i <= 20; ++i) a += std::to_string(i) + "\n";
  b = a;
  b.replace(b.find("2\n"), 2, "two\n");
  b += "21\n";
  std::string d = UnifiedDiff(a, b, "a", "b", 1);
  EXPECT_EQ(d, "--- a\n+++ b\n@@ -1,3 +1,3 @@\n 1\n-2\n+two\n 3\n@@ -20,1 +20,2 @@\n 20\n+21\n") << d;
}

TEST(UnifiedDiff, FromEmptyAndToEmpty) {
  EXPECT_EQ(UnifiedDiff("", "x\n", "a", "b"), "--- a\n+++ b\n@@ -0,0 +1,1 @@\n+x\n");
  EXPECT_EQ(UnifiedDiff("x\n", "", "a", "b"), "--- a\n+++ b\n@@ -1,1 +0,0 @@\n-x\n");
}

TEST(ParseSince, DurationsAndDates) {
  EXPECT_DOUBLE_EQ(*ParseSince("7d", 1'000'000), 1'000'000 - 7 * 86400);
  EXPECT_DOUBLE_EQ(*ParseSince("12h", 100'000), 100'000 - 12 * 3600);
  EXPECT_DOUBLE_EQ(*ParseSince("30m", 10'000), 10'000 - 1800);
  EXPECT_DOUBLE_EQ(*ParseSince("0s", 10'000), 10'000);
  EXPECT_DOUBLE_EQ(*ParseSince("45s", 10'000), 10'000 - 45);
  EXPECT_DOUBLE_EQ(*ParseSince("2w", 2'000'000), 2'000'000 - 14 * 86400);
  auto d = ParseSince("2026-11-01", 0);
  ASSERT_TRUE(d.ok());
  EXPECT_GT(*d, 1.79e9);
  for (const char* bad : {"", "7", "d", "7x", "-3d", "2026-13-01", "2026-11-01x", "yesterday"}) {
    auto r = ParseSince(bad, 0);
    EXPECT_FALSE(r.ok()) << bad;
  }
}

TEST(ExtractMessages, EveryWireFormat) {
  auto m = ExtractMessages(R"({"model":"gpt","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}]})");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].role, "system");
  EXPECT_EQ(m[1].text, "hi");
  // Anthropic: top-level system, content blocks.
  m = ExtractMessages(R"({"system":[{"type":"text","text":"rules"}],"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]})");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].text, "rules");
  EXPECT_EQ(m[1].text, "a\nb");
  // Gemini: systemInstruction and contents with parts.
  m = ExtractMessages(R"({"systemInstruction":{"parts":[{"text":"sys"}]},"contents":[{"role":"user","parts":[{"text":"q"}]}]})");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].role, "system");
  EXPECT_EQ(m[1].text, "q");
  // OpenAI Responses: instructions and input.
  m = ExtractMessages(R"({"instructions":"do it","input":"go"})");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[1].text, "go");
  EXPECT_TRUE(ExtractMessages("not json").empty());
  EXPECT_TRUE(ExtractMessages("[1,2]").empty());
}

TEST(BlobOf, ReadsOnlyAValidHash) {
  std::string h(32, 'a');
  EXPECT_EQ(BlobOf("{\"blob\":\"" + h + "\",\"json\":false}"), h);
  EXPECT_EQ(BlobOf("{\"blob\":\"../../etc/passwd\"}"), "");
  EXPECT_EQ(BlobOf("{\"blob\":\"" + h + "x\"}"), "");
  EXPECT_EQ(BlobOf("{}"), "");
}

class StoreReports : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw_observe_test_XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto s = store::OpenSqlite(dir_);
    ASSERT_TRUE(s.ok());
    st_ = std::move(s).value();
    store::Batch b;
    store::RunRecord r;
    r.id = "r1";
    r.workflow_name = "w";
    r.status = "succeeded";
    r.created_at = 100;
    r.finished_at = 110;
    b.run = r;
    ASSERT_TRUE(st_->Commit(b).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Artifact(const std::string& name, const std::string& from) {
    store::Batch b;
    store::ArtifactRecord a;
    a.run_id = "r1";
    a.name = name;
    a.produced_by = name;
    a.blob = std::string(32, '0');
    a.derived_from = from;
    a.created_at = 100 + static_cast<double>(n_++);
    b.artifacts.push_back(a);
    ASSERT_TRUE(st_->Commit(b).ok());
  }
  std::string dir_;
  std::unique_ptr<store::Store> st_;
  int n_ = 0;
};

TEST_F(StoreReports, LineageReportsEachCycleOnceAndTerminates) {
  Artifact("a", "[]");
  Artifact("b", R"(["a", "c"])");
  Artifact("c", R"(["b"])");  // b <-> c
  Artifact("d", R"(["c", "b", "ghost"])");
  Artifact("bad", "not json");
  auto l = Lineage(st_.get(), "d", "r1");
  ASSERT_TRUE(l.ok()) << l.status().message();
  EXPECT_EQ(l->cycles, (std::vector<std::string>{"c -> b -> c"}));
  std::vector<std::string> lines;
  for (const auto& t : l->tree)
    lines.push_back(std::string(static_cast<size_t>(t.depth), ' ') + t.name + (t.seen ? " seen" : "") +
                    (t.missing ? " missing" : "") + (t.cycle.empty() ? "" : " cycle"));
  EXPECT_EQ(lines, (std::vector<std::string>{"d", " c", "  b", "   a", "   c cycle", " b seen", " ghost missing"}));
  json j = json::parse(ToJson(*l));
  EXPECT_EQ(j["tree"][0]["name"], "d");
  EXPECT_EQ(j["tree"][0]["derived_from"][0]["derived_from"][0]["derived_from"][1]["cycle"], "c -> b -> c");
  auto all = Artifacts(st_.get(), "r1");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->cycles.size(), 1u);
  EXPECT_TRUE(json::accept(ToJson(*all))) << "a corrupt derived_from still gives valid JSON";
  EXPECT_FALSE(Lineage(st_.get(), "zzz", "r1").ok());
}

TEST_F(StoreReports, SpansAndOtlpOfACall) {
  store::Batch b;
  store::NodeRunRecord n;
  n.run_id = "r1";
  n.node = "ask";
  n.status = "succeeded";
  n.started_at = 101;
  n.finished_at = 102;
  b.node_runs.push_back(n);
  store::LlmCallRecord c;
  c.run_id = "r1";
  c.node = "ask";
  c.provider = "gemini";
  c.model = "gemini-2.5-pro";
  c.tokens_in = 10;
  c.tokens_out = 4;
  c.tokens_cached_read = 3;
  c.tokens_reasoning = 2;
  c.started_at = 101.25;
  c.latency_ms = 500;
  c.status = "ok";
  b.llm_calls.push_back(c);  // no price: unknown
  ASSERT_TRUE(st_->Commit(b).ok());
  auto set = CollectSpans(st_.get(), "r1");
  ASSERT_TRUE(set.ok());
  ASSERT_EQ(set->spans.size(), 3u);
  json o = json::parse(OtlpJson(st_.get(), *set, false));
  const json& spans = o["resourceSpans"][0]["scopeSpans"][0]["spans"];
  const json* chat = nullptr;
  for (const auto& s : spans)
    if (s["name"] == "chat gemini-2.5-pro") chat = &s;
  ASSERT_NE(chat, nullptr);
  std::map<std::string, json> a;
  for (const auto& kv : (*chat)["attributes"]) a[kv["key"]] = kv["value"];
  EXPECT_EQ(a["gen_ai.provider.name"]["stringValue"], "gcp.gemini");
  EXPECT_EQ(a["gen_ai.usage.cache_read.input_tokens"]["intValue"], "3");
  EXPECT_EQ(a["gen_ai.usage.reasoning.output_tokens"]["intValue"], "2");
  EXPECT_EQ(a["specwright.cost"]["stringValue"], "unknown");
  EXPECT_EQ((*chat)["startTimeUnixNano"], "101250000000");
  EXPECT_EQ((*chat)["endTimeUnixNano"], "101750000000");
  std::string csv = SpansCsv(*set);
  EXPECT_NE(csv.find(",unknown,"), std::string::npos) << csv;
  // Streamed in chunks, every encoding is byte for byte what it is in one piece.
  for (int kind = 0; kind < 3; ++kind) {
    std::string streamed;
    Sink sink = [&](std::string_view part) { streamed.append(part); };
    std::string whole = kind == 0 ? OtlpJson(st_.get(), *set, false) : kind == 1 ? SpansJson(*set) : SpansCsv(*set);
    std::string rest = kind == 0 ? OtlpJson(st_.get(), *set, false, sink) : kind == 1 ? SpansJson(*set, sink)
                                                                                     : SpansCsv(*set, sink);
    EXPECT_EQ(streamed + rest, whole) << kind;
  }
  JsonWriter small;
  std::string got;
  small.SetSink([&](std::string_view p) { got.append(p); }, 8);
  small.BeginArray();
  for (int i = 0; i < 50; ++i) small.BeginObject().Field("i", i).EndObject();
  small.EndArray();
  small.Flush();
  json parsed = json::parse(got);
  EXPECT_EQ(parsed.size(), 50u);
}

TEST(JsonWriterTest, EscapesAndNumbers) {
  JsonWriter w;
  w.BeginObject().Field("s", std::string("a\"b\\c\n\x01")).Field("d", 0.1).Field("i", int64_t{-3}).Field("w", 2.0);
  w.Key("l").BeginArray().Null().Bool(true).EndArray().EndObject();
  EXPECT_EQ(w.str(), R"({"s":"a\"b\\c\n\u0001","d":0.1,"i":-3,"w":2.0,"l":[null,true]})");
  EXPECT_EQ(json::parse(w.str())["s"], "a\"b\\c\n\x01");
  JsonWriter u;
  u.String("ok \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 bad \xFF\xC3 end");
  EXPECT_EQ(u.str(), "\"ok \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 bad \xEF\xBF\xBD\xEF\xBF\xBD end\"");
  EXPECT_TRUE(json::accept(u.str()));
  for (const char* bad : {"\xF8\x80\x80", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x82"}) {
    JsonWriter v;
    v.String(bad);
    EXPECT_TRUE(json::accept(v.str())) << v.str();
  }
}

}  // namespace
}  // namespace sw::observe

namespace sw::observe {
namespace {

TEST(RedactUrl, NoUserInfoQueryOrFragmentIsEverPrinted) {
  EXPECT_EQ(RedactUrl("https://u:tok@collector:4318/v1/traces?key=s3cret#f"), "https://collector:4318/v1/traces");
  EXPECT_EQ(RedactUrl("http://[::1]:4318/v1/traces"), "http://[::1]:4318/v1/traces");
  EXPECT_EQ(RedactUrl("http://127.0.0.1:4318"), "http://127.0.0.1:4318");
  // Not a scheme: "://" inside a query of a URL without one.
  EXPECT_EQ(RedactUrl("u:tok@host/v1?next=http://x/y"), "host/v1");
  // User info with an unencoded '/' or '#' (base64 tokens).
  EXPECT_EQ(RedactUrl("ftp://bob:p/ss@host/otlp"), "ftp://host/otlp");
  EXPECT_EQ(RedactUrl("grpc://u:p#w@h"), "grpc://h");
  EXPECT_EQ(RedactUrl("https://h/v1?u=a:tok@b"), "https://b") << "an @ in a query hides what is before it";
  for (const char* url : {"https://u:tok@h/x?k=v", "u:tok@host/v1?next=http://x/y", "ftp://bob:p/ss@host/otlp"}) {
    std::string r = RedactUrl(url);
    EXPECT_EQ(r.find("tok"), std::string::npos) << r;
    EXPECT_EQ(r.find("p/ss"), std::string::npos) << r;
  }
}

}  // namespace
}  // namespace sw::observe
