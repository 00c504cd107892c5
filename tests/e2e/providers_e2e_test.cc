// The CLI against real HTTP: a missing key fails before anything starts, naming the
// variable; a run through specwright-fakellm records usage and cost and never stores the key.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "store/store.h"
#include "cli_runner.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;

struct Out {
  int code;
  std::string out, err;
};

using e2e::Slurp;

/// Exec runs a binary with a clean provider environment plus env; returns its exit and output.
Out Exec(const std::string& bin, const std::vector<std::string>& args, const std::string& dir,
        const std::vector<std::string>& env) {
  e2e::ExecArgs x = e2e::MakeExecArgs(bin, args, env, [](const std::string& v) {
    return v.find("API_KEY=") != std::string::npos || v.starts_with("OPENAI_") || v.starts_with("SPECWRIGHT_");
  });
  std::string o = dir + "/o.txt", e = dir + "/e.txt";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, o.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, e.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid;
  EXPECT_EQ(posix_spawn(&pid, bin.c_str(), &fa, nullptr, x.argv.data(), x.envp.data()), 0);
  posix_spawn_file_actions_destroy(&fa);
  int st = 0;
  waitpid(pid, &st, 0);
  return Out{WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), Slurp(o), Slurp(e)};
}

class ProvidersE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw_prov_e2e_XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::ofstream(dir_ + "/flow.yaml") << "name: one\nbudget: {max_usd: 1}\nnodes:\n  ask:\n    model: anthropic/claude-sonnet-4-5\n"
                                          "    prompt: \"say hello\"\n";
  }
  void TearDown() override {
    fake_.reset();
    fs::remove_all(dir_);
  }
  std::string StartFake(const std::string& script = "") {
    std::vector<std::string> args = {"--latency-ms", "20"};
    if (!script.empty()) args.insert(args.end(), {"--script", script});
    fake_ = std::make_unique<e2e::FakeLlm>(args);
    return fake_->url;
  }
  std::string dir_;
  std::unique_ptr<e2e::FakeLlm> fake_;
};

TEST_F(ProvidersE2E, MissingKeyFailsBeforeTheRunStartsAndNamesTheVariable) {
  Out r = Exec(SW_BINARY, {"run", dir_ + "/flow.yaml", "--store", dir_ + "/store"}, dir_, {});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("ANTHROPIC_API_KEY"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("flow.yaml:4:"), std::string::npos) << r.err;
  Out runs = Exec(SW_BINARY, {"runs", "--store", dir_ + "/store"}, dir_, {});
  EXPECT_NE(runs.out.find("no runs yet"), std::string::npos) << "no run may have been recorded: " << runs.out;
}

TEST_F(ProvidersE2E, MalformedConfigNamesFileLineAndColumn) {
  std::ofstream(dir_ + "/specwright.yaml") << "providers:\n  vllm:\n    api: openai-compatible\n    base_url: http://127.0.0.1:1/v1\n    rmp: 5\n";
  Out r = Exec(SW_BINARY, {"run", dir_ + "/flow.yaml", "--store", dir_ + "/store", "--config", dir_ + "/specwright.yaml"},
              dir_, {"ANTHROPIC_API_KEY=x"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("specwright.yaml:5:5: unknown key \"rmp\""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("did you mean \"rpm\""), std::string::npos) << r.err;
}

TEST_F(ProvidersE2E, RunOverRealHttpRecordsUsageAndNeverTheKey) {
  // The first request is refused with a 401 whose body quotes the key back, as real
  // providers do; neither the stored error nor the stored body may keep it.
  std::ofstream(dir_ + "/fake.yaml") << "replies:\n  - {fault: 401}\n";
  std::string url = StartFake(dir_ + "/fake.yaml");
  ASSERT_FALSE(url.empty());
  std::string secret = "sk-e2e-0123456789abcdef";
  std::vector<std::string> env = {"OPENAI_COMPATIBLE_BASE_URL=" + url + "/v1", "OPENAI_COMPATIBLE_API_KEY=" + secret};
  Out r = Exec(SW_BINARY,
              {"run", dir_ + "/flow.yaml", "--store", dir_ + "/store", "--model", "openai-compatible/fake-model",
               "--prices", dir_ + "/prices.json"},
              dir_, env);
  ASSERT_EQ(r.code, 2) << "no price file yet: " << r.err;  // --prices names a missing file
  // Without a price the run is refused under max_usd (unknown is never free), with a warning.
  r = Exec(SW_BINARY, {"run", dir_ + "/flow.yaml", "--store", dir_ + "/store", "--model", "openai-compatible/fake-model"},
           dir_, env);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("no price known for openai-compatible/fake-model"), std::string::npos) << r.err;
  // A price file named in specwright.yaml (relative to it) prices the model.
  std::ofstream(dir_ + "/prices.json") << R"({"openai-compatible/fake-model": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}})";
  std::ofstream(dir_ + "/specwright.yaml") << "prices: prices.json\n";
  r = Exec(SW_BINARY,
           {"run", dir_ + "/flow.yaml", "--store", dir_ + "/store", "--model", "openai-compatible/fake-model", "--config",
            dir_ + "/specwright.yaml"},
           dir_, env);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("Incorrect API key"), std::string::npos) << "the provider's own message: " << r.err;
  EXPECT_EQ(r.err.find(secret), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("no price known"), std::string::npos) << r.err;
  fs::remove(dir_ + "/specwright.yaml");
  r = Exec(SW_BINARY,
          {"run", dir_ + "/flow.yaml", "--store", dir_ + "/store", "--model", "openai-compatible/fake-model", "--prices",
           dir_ + "/prices.json", "--json"},
          dir_, {"OPENAI_COMPATIBLE_BASE_URL=" + url + "/v1", "OPENAI_COMPATIBLE_API_KEY=" + secret});
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  {
    auto st = sw::store::OpenSqlite(dir_ + "/store");
    ASSERT_TRUE(st.ok());
    auto runs = (*st)->ListRuns(10);
    ASSERT_TRUE(runs.ok());
    ASSERT_EQ(runs->size(), 3u);  // refused for its price, failed on the 401, succeeded
    std::vector<sw::store::LlmCallRecord> all;
    for (const auto& run : *runs) {
      auto calls = (*st)->ListLlmCalls(run.id);
      ASSERT_TRUE(calls.ok());
      all.insert(all.end(), calls->begin(), calls->end());
    }
    ASSERT_EQ(all.size(), 2u) << "the refused run made no call";
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.started_at < b.started_at; });
    EXPECT_EQ(all[0].status, "error");
    EXPECT_NE(all[0].error.find("HTTP 401"), std::string::npos) << all[0].error;
    auto body = (*st)->GetBlob(all[0].response_blob);
    ASSERT_TRUE(body.ok());
    EXPECT_NE(body->find("Incorrect API key provided: Bearer [key]"), std::string::npos) << *body;
    auto request = (*st)->GetBlob(all[0].request_blob);
    ASSERT_TRUE(request.ok());
    EXPECT_NE(request->find("\"stream_options\""), std::string::npos) << "the wire request is stored: " << *request;
    const auto& c = all[1];
    EXPECT_EQ(c.provider, "openai-compatible");
    EXPECT_EQ(c.model, "fake-model");
    EXPECT_EQ(c.status, "ok");
    EXPECT_GT(c.tokens_in, 0);
    EXPECT_GT(c.tokens_out, 0);
    ASSERT_TRUE(c.cost_usd.has_value());
    EXPECT_NEAR(*c.cost_usd, c.tokens_in * 1e-6 + c.tokens_out * 2e-6, 1e-12);
    EXPECT_GT(c.ttft_ms, 0);
    EXPECT_GE(c.latency_ms, c.ttft_ms);
  }
  // The key is nowhere in the store: database, WAL or blobs.
  for (const auto& f : fs::recursive_directory_iterator(dir_ + "/store")) {
    if (!f.is_regular_file()) continue;
    EXPECT_EQ(Slurp(f.path()).find(secret), std::string::npos) << f.path();
  }
  EXPECT_EQ(r.err.find(secret), std::string::npos);
  EXPECT_EQ(r.out.find(secret), std::string::npos);
}

}  // namespace
