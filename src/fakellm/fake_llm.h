// FakeLlmServer: a real HTTP server on 127.0.0.1 that speaks the wire formats of OpenAI Chat
// Completions, OpenAI Responses, Anthropic Messages, Gemini and Ollama — streamed and not —
// answers from a script, and injects faults on demand. Tests and benchmarks drive the real
// adapters and the real libcurl loop against it; nothing in the client knows it is fake.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "net/http_server.h"

namespace sw::fakellm {

struct FakeToolCall {
  std::string id;
  std::string name;
  std::string arguments_json = "{}";
};

/// Token counts to report; fields left at -1 are derived (input from the request size,
/// output from the words of the reply).
struct FakeUsage {
  int64_t input = -1;
  int64_t output = -1;
  int64_t cached_read = 0;
  int64_t cache_write = 0;
  int64_t reasoning = 0;
};

/// Faults: "" (none), any HTTP status as digits ("429", "409", "500", "529" overloaded),
/// "quota" (OpenAI's 429 insufficient_quota), "html" (502 with a non-JSON body), "slow" (first
/// byte after slow_ms), "stall" (headers and the stream's preamble — role chunk, message_start,
/// response.created — at once, the first token after slow_ms), "cut" (stream closed after half
/// its chunks), "malformed" (a chunk that is not JSON), "stream_error" (the API's in-stream
/// error event), "endless" (streamed: the preamble, then text deltas of endless_bytes each,
/// for as long as the client reads).
struct FakeReply {
  std::string text = "ok";
  /// The model the response names, as providers name a dated snapshot for an alias
  /// ("" : the one requested).
  std::string answer_model;
  std::vector<FakeToolCall> tool_calls;
  FakeUsage usage;
  std::string fault;
  double retry_after = 1;          // seconds, for 429 and 529
  bool retry_after_http_date = false;
  int slow_ms = 2000;
  /// > 0: a successful answer says the request quota is spent and resets in this many
  /// seconds (x-ratelimit-* for OpenAI formats, anthropic-ratelimit-* for Anthropic).
  double ratelimit_reset = 0;
  /// How the answer ends, in each API's own words: "" (complete, or tool calls), "length"
  /// (cut at max_tokens), "refusal" (text is the model's refusal), "content_filter",
  /// "pause_turn", "context_window", "malformed_tool_call". An API that has no such ending
  /// ends normally (docs/testing.md lists which API has which).
  std::string finish;
  /// No usage at all, in every API's shape (no usage chunk even when the request asks for one,
  /// no usage fields in a plain body), as many OpenAI-compatible servers and proxies answer.
  bool omit_usage = false;
  int64_t endless_bytes = 1 << 20;  // "endless": the size of each delta
};

struct FakeOptions {
  int latency_ms = 0;     // before the response starts
  int chunks = 4;         // streamed text is split into this many deltas
  int chunk_gap_ms = 0;   // between deltas
  double fault_rate = 0;  // fraction of requests (beyond queued replies) given a random fault
  std::vector<std::string> fault_kinds{"429", "500", "529", "cut"};
  uint64_t seed = 1;
  size_t keep_requests = 10000;  // how many received requests Requests() remembers
  /// model -> fault: every request for that model gets the fault (a model that is down, or
  /// unknown: "503", "404", "401"), leaving the queued replies to the others.
  std::map<std::string, std::string> model_faults;
};

struct SeenRequest {
  std::string api;  // openai | openai-responses | anthropic | gemini | ollama
  std::string path;
  net::Headers headers;
  nlohmann::json body;
  std::string fault;  // what this request was answered with
};

class FakeLlmServer {
 public:
  static Result<std::unique_ptr<FakeLlmServer>> Start(FakeOptions options, const std::string& host = "127.0.0.1",
                                                      int port = 0);
  ~FakeLlmServer();

  std::string base_url() const { return server_->base_url(); }
  int port() const { return server_->port(); }
  /// Enqueue makes reply the answer to the next request that has no earlier queued reply.
  void Enqueue(FakeReply reply);
  /// SetDefault answers every request once the queue is empty.
  void SetDefault(FakeReply reply);
  /// Script loads replies and options from YAML:
  ///   options: {latency_ms: 200, chunks: 4, fault_rate: 0.2, fault_kinds: [429, cut]}
  ///   default: {text: ...}
  ///   replies: [{text: ..., tool_calls: [{name: f, arguments: {...}}], usage: {...}, fault: 429}]
  Status LoadScript(const std::string& path);
  std::vector<SeenRequest> Requests() const;
  /// Count of requests answered with each fault ("" = clean).
  std::map<std::string, int64_t> FaultCounts() const;
  /// The most requests that were being answered at the same moment.
  int MaxInFlight() const;

 private:
  explicit FakeLlmServer(FakeOptions o);
  void Handle(const net::IncomingRequest& req, std::shared_ptr<net::ResponseWriter> w);
  FakeReply Next(const std::string& model);

  FakeOptions options_;
  std::unique_ptr<net::HttpServer> server_;
  mutable std::mutex mu_;
  std::deque<FakeReply> queue_;
  FakeReply default_;
  std::mt19937_64 rng_;
  std::deque<SeenRequest> seen_;
  std::map<std::string, int64_t> counts_;
  int in_flight_ = 0, max_in_flight_ = 0;  // guarded by mu_
};

}  // namespace sw::fakellm
