#include "llm/scripted.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <cstdlib>
#include <map>
#include <mutex>
#include <queue>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/hash.h"
#include "base/strings.h"
#include "workflow/yaml_json.h"

#include <yaml-cpp/yaml.h>

namespace sw::llm {
namespace {

using json = nlohmann::json;

struct Entry {
  json when;  // null: unconstrained
  std::string text;
  bool has_usage = false;
  Usage usage;
  double latency_ms = -1;
  bool is_error = false;
  std::string error;
  std::vector<ToolCall> tool_calls;
  bool retryable = true;
  double retry_after = -1;
  int http_status = 0;            // error: {status: 429}: the HTTP status a real API refused with
  std::string id, model;          // the response's id and answering model, as a real API names them
};

/// Timer runs delayed completions on one thread so simulated latency never blocks a pool.
class Timer {
 public:
  Timer() : thread_([this] { Loop(); }) {}
  ~Timer() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void At(std::chrono::steady_clock::time_point t, std::function<void()> fn) {
    {
      std::lock_guard<std::mutex> l(mu_);
      q_.push(Item{t, seq_++, std::move(fn)});
    }
    cv_.notify_all();
  }

 private:
  struct Item {
    std::chrono::steady_clock::time_point t;
    uint64_t seq;
    std::function<void()> fn;
    bool operator>(const Item& o) const { return t != o.t ? t > o.t : seq > o.seq; }
  };
  void Loop() {
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      if (stop_ && q_.empty()) return;
      if (q_.empty()) {
        cv_.wait(l);
        continue;
      }
      auto t = q_.top().t;
      if (std::chrono::steady_clock::now() < t && !stop_) {
        cv_.wait_until(l, t);
        continue;
      }
      auto fn = std::move(const_cast<Item&>(q_.top()).fn);
      q_.pop();
      l.unlock();
      fn();
      l.lock();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::priority_queue<Item, std::vector<Item>, std::greater<>> q_;
  uint64_t seq_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

/// Short is a value as an error may quote it: at most 80 bytes, never a whole huge value.
std::string Short(const std::string& s) { return s.size() > 80 ? Utf8Prefix(s, 80) + "…" : s; }

Status ParseEntry(const json& e, const std::string& where, Entry* out) {
  if (!e.is_object()) return InvalidInput(where + ": expected an object");
  static const std::vector<std::string> kKeys = {"node", "when", "text", "json", "usage", "latency_ms", "error", "tool_calls", "id", "model"};
  for (auto& [k, v] : e.items()) {
    bool known = false;
    for (auto& kk : kKeys) known |= kk == k;
    if (!known) {
      std::string hint = DidYouMean(k, kKeys);
      return InvalidInput(where + ": unknown key \"" + Short(k) + "\"" + (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)"));
    }
  }
  if (e.contains("when")) {
    if (!e["when"].is_object()) return InvalidInput(where + ": when must be an object");
    for (auto& [k, v] : e["when"].items()) {
      if (k != "iteration" && k != "item" && k != "attempt" && k != "turn" && k != "prompt_contains" && k != "prompt_hash")
        return InvalidInput(where + ": unknown when key \"" + Short(k) + "\"");
    }
    out->when = e["when"];
  }
  if (e.contains("tool_calls")) {
    const json& tcs = e["tool_calls"];
    if (!tcs.is_array() || tcs.empty()) return InvalidInput(where + ": tool_calls must be a non-empty list");
    for (size_t i = 0; i < tcs.size(); ++i) {
      const json& tc = tcs[i];
      if (!tc.is_object() || !tc.contains("name") || !tc["name"].is_string())
        return InvalidInput(where + ": tool_calls[" + std::to_string(i) + "] needs a name");
      ToolCall call;
      call.name = tc["name"].get<std::string>();
      call.id = tc.contains("id") && tc["id"].is_string() ? tc["id"].get<std::string>() : "";
      const json args = tc.contains("arguments") ? tc["arguments"] : json::object();
      call.arguments_json = args.is_string() ? args.get<std::string>() : args.dump();
      out->tool_calls.push_back(std::move(call));
    }
    if (e.contains("text") && !e["text"].is_string()) return InvalidInput(where + ": text must be a string");
    out->text = e.value("text", "");
  } else if (e.contains("text")) {
    if (!e["text"].is_string()) return InvalidInput(where + ": text must be a string");
    out->text = e["text"].get<std::string>();
  } else if (e.contains("json")) {
    out->text = e["json"].dump();
  } else if (e.contains("error")) {
    const json& er = e["error"];
    out->is_error = true;
    if (er.is_string()) {
      out->error = er.get<std::string>();
    } else if (er.is_object()) {
      out->error = er.value("message", "scripted error");
      out->retryable = er.value("retryable", true);
      out->retry_after = er.value("retry_after", -1.0);
      if (er.contains("status") && !er["status"].is_number_integer())
        return InvalidInput(where + ": error.status must be an HTTP status code (an integer)");
      out->http_status = er.value("status", 0);
    } else {
      return InvalidInput(where + ": error must be a string or an object");
    }
  } else {
    return InvalidInput(where + ": an entry needs text, json, tool_calls or error");
  }
  if (e.contains("usage")) {
    const json& u = e["usage"];
    if (!u.is_object()) return InvalidInput(where + ": usage must be an object");
    out->has_usage = true;
    out->usage.input = u.value("input", int64_t{0});
    out->usage.output = u.value("output", int64_t{0});
    out->usage.cached_read = u.value("cached_read", int64_t{0});
    out->usage.cache_write = u.value("cache_write", int64_t{0});
    out->usage.reasoning = u.value("reasoning", int64_t{0});
  }
  for (auto [key, field] : {std::pair<const char*, std::string*>{"id", &out->id}, {"model", &out->model}}) {
    if (!e.contains(key)) continue;
    if (!e[key].is_string()) return InvalidInput(where + ": " + key + " must be a string");
    *field = e[key].get<std::string>();
  }
  if (e.contains("latency_ms")) {
    if (!e["latency_ms"].is_number()) return InvalidInput(where + ": latency_ms must be a number");
    out->latency_ms = e["latency_ms"].get<double>();
  }
  return Status::Ok();
}

class ScriptedProvider : public Provider {
 public:
  ScriptedProvider(std::map<std::string, std::vector<Entry>> entries, double latency_ms, std::string call_log)
      : entries_(std::move(entries)), latency_ms_(latency_ms), call_log_(std::move(call_log)) {}

  std::string name() const override { return "scripted"; }

  void Start(const Request& req, CancelFlag cancel, DeltaFn on_delta, DoneFn done) override {
    LogCall(req);
    const Entry* e = Choose(req);
    CallResult r;
    if (!e) {
      r.error.status = NotFound("scripted provider has no answer for node \"" + req.node_id +
                                "\" (add it under nodes: in the script, or a \"*\" fallback)");
      Finish(std::move(r), latency_ms_, std::move(done));
      return;
    }
    Usage u;
    std::string text = e->text;
    if (e->has_usage) {
      u = e->usage;
    } else {
      size_t prompt_size = 0;
      for (const auto& m : req.messages) prompt_size += m.content.size();
      u.input = static_cast<int64_t>((prompt_size + 3) / 4);
      u.output = e->is_error ? 0 : static_cast<int64_t>((text.size() + 3) / 4);
    }
    double latency = e->latency_ms >= 0 ? e->latency_ms : latency_ms_;
    if (e->is_error) {
      r.error.status = Status(e->retryable ? Code::kUnavailable : Code::kFailed, "scripted error: " + e->error);
      r.error.retryable = e->retryable;
      r.error.retry_after = e->retry_after;
      r.error.partial = u;
      r.error.http_status = e->http_status;
      if (e->http_status > 0) r.error.status = Status(r.error.status.code(), "HTTP " + std::to_string(e->http_status) + ": " + r.error.status.message());
      Finish(std::move(r), latency, std::move(done));
      return;
    }
    Response resp;
    resp.finish_reason = "stop";
    if (req.max_tokens > 0 && u.output > req.max_tokens) {
      u.output = req.max_tokens;
      if (text.size() > static_cast<size_t>(req.max_tokens) * 4) text.resize(static_cast<size_t>(req.max_tokens) * 4);
      resp.finish_reason = "length";
    }
    resp.text = std::move(text);
    resp.tool_calls = e->tool_calls;
    for (size_t i = 0; i < resp.tool_calls.size(); ++i)
      if (resp.tool_calls[i].id.empty())
        resp.tool_calls[i].id = "call_" + std::to_string(req.turn) + "_" + std::to_string(i + 1);
    if (!resp.tool_calls.empty()) resp.finish_reason = "tool_calls";
    resp.usage = u;
    resp.id = e->id;
    resp.model = e->model;
    resp.raw = R"({"scripted":true,"text":)" + json(resp.text).dump() + "}";
    if (on_delta) on_delta(resp.text);
    r.response = std::move(resp);
    Finish(std::move(r), latency, std::move(done));
  }

 private:
  void Finish(CallResult r, double latency_ms, DoneFn done) {
    if (latency_ms <= 0) {
      done(std::move(r));
      return;
    }
    if (r.response) r.response->ttft_ms = latency_ms;
    auto t = std::chrono::steady_clock::now() + std::chrono::microseconds(static_cast<int64_t>(latency_ms * 1000));
    auto shared = std::make_shared<CallResult>(std::move(r));
    timer_.At(t, [shared, done = std::move(done)] { done(std::move(*shared)); });
  }

  const Entry* Choose(const Request& req) const {
    auto it = entries_.find(req.node_id);
    if (it == entries_.end()) it = entries_.find("*");
    if (it == entries_.end() || it->second.empty()) return nullptr;
    const auto& list = it->second;
    std::string prompt;  // built only for an entry that looks at it
    bool have_prompt = false;
    auto whole_prompt = [&]() -> const std::string& {
      if (!have_prompt)
        for (const auto& m : req.messages) prompt += m.content;
      have_prompt = true;
      return prompt;
    };
    std::vector<const Entry*> plain;
    for (const auto& e : list) {
      if (e.when.is_null()) {
        plain.push_back(&e);
        continue;
      }
      bool ok = true;
      for (auto& [k, v] : e.when.items()) {
        if (k == "iteration") ok &= v == req.iteration;
        if (k == "item") ok &= v == req.item;
        if (k == "attempt") ok &= v == req.attempt;
        if (k == "turn") ok &= v == req.turn;
        if (k == "prompt_contains") ok &= v.is_string() && whole_prompt().find(v.get<std::string>()) != std::string::npos;
        if (k == "prompt_hash") ok &= v.is_string() && v.get<std::string>() == Hash128Hex(whole_prompt());
      }
      if (ok) return &e;
    }
    if (plain.empty()) return nullptr;
    // An agent's entries play turn by turn; other nodes' attempt by attempt.
    size_t idx = static_cast<size_t>(std::max(0, req.turn > 0 ? req.turn - 1 : req.attempt - 1));
    return plain[std::min(idx, plain.size() - 1)];
  }

  void LogCall(const Request& req) {
    if (call_log_.empty()) return;
    std::string line = req.node_id + "\t" + std::to_string(req.iteration) + "\t" + std::to_string(req.item) + "\t" +
                       std::to_string(req.attempt) + (req.turn > 0 ? "\t" + std::to_string(req.turn) : "") + "\n";
    int fd = ::open(call_log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return;
    ssize_t n = ::write(fd, line.data(), line.size());
    (void)n;
    ::close(fd);
  }

  std::map<std::string, std::vector<Entry>> entries_;
  double latency_ms_;
  std::string call_log_;
  Timer timer_;
};

}  // namespace

namespace {

/// Where an entry of a script was written ("12:7", "" when unknown), for its errors.
using EntryLocator = std::function<std::string(const std::string& node, size_t index)>;

Result<std::shared_ptr<Provider>> Build(json root, const std::string& origin, PriceTable* prices,
                                        const ScriptedOptions& options, const EntryLocator& locate) {
  if (!root.is_object()) return InvalidInput(origin + ": a script is an object with nodes:");
  for (auto& [k, v] : root.items()) {
    if (k != "nodes" && k != "latency_ms" && k != "prices" && k != "brief")
      return InvalidInput(origin + ": unknown key \"" + Short(k) + "\" (expected nodes, latency_ms, prices, brief)");
  }
  // brief: the title of the brief a develop recording answers (checked by `specwright develop`).
  if (root.contains("brief") && !root["brief"].is_string())
    return InvalidInput(origin + ": brief must be the title line of the brief the recording answers");
  std::map<std::string, std::vector<Entry>> entries;
  if (root.contains("nodes")) {
    if (!root["nodes"].is_object()) return InvalidInput(origin + ": nodes must map node ids to lists of answers");
    for (auto& [node, list] : root["nodes"].items()) {
      json l = list.is_array() ? list : json::array({list});
      for (size_t i = 0; i < l.size(); ++i) {
        Entry e;
        std::string entry = "nodes." + Short(node) + "[" + std::to_string(i) + "]";
        Status st;
        try {
          st = ParseEntry(l[i], origin + ": " + entry, &e);
        } catch (const json::exception& ex) {  // a value of the wrong type deep in an entry
          st = InvalidInput(origin + ": " + entry + ": " + Utf8Prefix(ex.what(), 200));
        }
        if (!st.ok()) {
          // Only now look up where the entry was written (yaml-cpp finds map keys one by one).
          std::string at = locate ? locate(node, i) : "";
          std::string msg = st.message();
          if (!at.empty() && msg.starts_with(origin + ": ")) msg = origin + ":" + at + msg.substr(origin.size());
          return InvalidInput(msg);
        }
        entries[node].push_back(std::move(e));
      }
    }
  }
  double latency = root.value("latency_ms", 0.0);
  if (prices && root.contains("prices")) SW_RETURN_IF_ERROR(prices->LoadJson(root["prices"].dump(), origin));
  std::string log = options.call_log;
  if (log.empty())
    if (const char* env = std::getenv("SW_SCRIPTED_CALL_LOG")) log = env;
  return std::shared_ptr<Provider>(std::make_shared<ScriptedProvider>(std::move(entries), latency, log));
}

}  // namespace

Result<std::shared_ptr<Provider>> ScriptedFromJson(const std::string& script_json, const std::string& origin,
                                                   PriceTable* prices, const ScriptedOptions& options) {
  json root;
  try {
    root = json::parse(script_json);
  } catch (const json::parse_error& e) {
    return InvalidInput(origin + ": invalid JSON: " + Utf8Prefix(e.what(), 200));
  }
  return Build(std::move(root), origin, prices, options, nullptr);
}

Result<std::shared_ptr<Provider>> LoadScripted(const std::string& path, PriceTable* prices,
                                               const ScriptedOptions& options) {
  SW_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  json root;
  EntryLocator locate;
  std::map<std::string, std::vector<int>> lines;  // .jsonl: node -> the line of each entry
  YAML::Node yaml;
  if (path.size() > 6 && path.substr(path.size() - 6) == ".jsonl") {
    root = json{{"nodes", json::object()}};
    locate = [&lines](const std::string& node, size_t i) {
      auto it = lines.find(node);
      return it == lines.end() || i >= it->second.size() ? std::string() : std::to_string(it->second[i]);
    };
    int line_no = 0;
    for (const auto& line : Split(text, '\n')) {
      ++line_no;
      if (Trim(line).empty()) continue;
      json e;
      try {
        e = json::parse(line);
      } catch (const json::parse_error& ex) {
        return InvalidInput(path + ":" + std::to_string(line_no) + ": invalid JSON: " + Utf8Prefix(ex.what(), 200));
      }
      if (!e.is_object() || !e.contains("node") || !e["node"].is_string())
        return InvalidInput(path + ":" + std::to_string(line_no) + ": each line needs \"node\": ID");
      std::string node = e["node"].get<std::string>();
      e.erase("node");
      root["nodes"][node].push_back(e);
      lines[node].push_back(line_no);
    }
  } else {
    SW_ASSIGN_OR_RETURN(yaml, LoadYaml(text, path));
    try {
      root = YamlToJson(yaml);
    } catch (const YAML::Exception& e) {
      return InvalidInput(path + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                          ": invalid YAML: " + e.msg);
    }
    if (root.is_null()) root = json::object();
    locate = [&yaml](const std::string& node, size_t i) -> std::string {
      try {
        const YAML::Node& y = yaml;  // const: looking never inserts
        const YAML::Node list = y["nodes"][node];
        const YAML::Node entry = list.IsSequence() ? list[i] : list;
        if (!entry.IsDefined()) return "";
        return std::to_string(entry.Mark().line + 1) + ":" + std::to_string(entry.Mark().column + 1);
      } catch (const YAML::Exception&) {
        return "";
      }
    };
  }
  return Build(std::move(root), path, prices, options, locate);
}

}  // namespace sw::llm
