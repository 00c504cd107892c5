#include "observe/otlp_exporter.h"

#include <cstdlib>
#include <algorithm>
#include <chrono>
#include <future>

#include "base/strings.h"
#include "net/http_client.h"
#include "observe/observe.h"

namespace sw::observe {

LiveExporter::LiveExporter(store::Store* st, std::string run_id, ExporterOptions options)
    : st_(st), run_id_(std::move(run_id)), options_(std::move(options)) {
  url_ = options_.endpoint;
  while (!url_.empty() && url_.back() == '/') url_.pop_back();
  if (url_.size() < 10 || url_.compare(url_.size() - 10, 10, "/v1/traces") != 0) url_ += "/v1/traces";
  if (options_.headers.empty())
    if (const char* h = std::getenv("OTEL_EXPORTER_OTLP_HEADERS")) options_.headers = h;
}

LiveExporter::~LiveExporter() { Stop(); }

void LiveExporter::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void LiveExporter::Loop() {
  std::unique_lock<std::mutex> l(mu_);
  double wait = options_.interval;
  while (!stop_) {
    cv_.wait_for(l, std::chrono::duration<double>(wait));
    if (stop_) break;
    l.unlock();
    auto t0 = std::chrono::steady_clock::now();
    Flush(false);
    // Reading a large run's spans shares the store with the run's own commits: never spend
    // more than a tenth of the time on it.
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    wait = std::max(options_.interval, 10 * took);
    l.lock();
  }
}

std::string LiveExporter::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stop_) return error_;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  Flush(true);
  return error_;
}

void LiveExporter::Flush(bool final) {
  auto set = CollectSpans(st_, run_id_);
  if (!set.ok()) return;  // the run may not be committed yet
  SpanSet out;
  out.trace_id = set->trace_id;
  out.run = set->run;
  for (auto& s : set->spans) {
    bool finished = s.end > 0 && s.status != "running" && s.status != "waiting";
    if (sent_.count(s.span_id) || (!final && (!finished || s.kind == "run"))) continue;
    out.spans.push_back(std::move(s));
  }
  if (out.spans.empty()) return;
  net::ClientRequest req;
  req.url = url_;
  req.body = OtlpJson(st_, out, options_.include_content);
  req.headers.push_back({"Content-Type", "application/json"});
  for (const auto& kv : Split(options_.headers, ',')) {
    size_t eq = kv.find('=');
    if (eq != std::string::npos) req.headers.push_back({Trim(kv.substr(0, eq)), Trim(kv.substr(eq + 1))});
  }
  req.timeouts.total = 10;
  req.timeouts.first_byte = 10;
  req.timeouts.first_token = 10;
  std::promise<std::string> done;
  auto fut = done.get_future();
  auto body = std::make_shared<std::string>();
  net::ClientHandlers h;
  h.on_body = [body](std::string_view b) {
    if (body->size() < 4096) body->append(b);
    return true;
  };
  h.on_done = [&done, body](net::ClientResult r) {
    if (r.transport != net::Transport::kOk) done.set_value(std::string("OTLP export: ") + net::TransportName(r.transport) + ": " + r.message);
    else if (r.status < 200 || r.status >= 300) done.set_value("OTLP export: HTTP " + std::to_string(r.status) + ": " + body->substr(0, 200));
    else done.set_value("");
  };
  net::HttpClient::Shared()->Send(std::move(req), std::move(h), nullptr);
  std::string err = fut.get();
  if (!err.empty()) {
    error_ = err + " (" + std::to_string(out.spans.size()) + " spans not sent)";
    return;  // sent again on the next flush
  }
  error_.clear();  // a later success makes up for an earlier failure
  for (const auto& s : out.spans) sent_.insert(s.span_id);
  sent_count_ += static_cast<int64_t>(out.spans.size());
}

}  // namespace sw::observe
