// LiveExporter streams a running run's spans to an OTLP/HTTP collector (JSON encoding):
// every second it sends the spans that finished since the last send, and the rest at Stop.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "store/store.h"

namespace sw::observe {

struct ExporterOptions {
  std::string endpoint;  // http://127.0.0.1:4318 or the full .../v1/traces URL
  bool include_content = false;
  double interval = 1.0;  // seconds between sends
  /// Extra request headers, "k=v,k2=v2" (OTEL_EXPORTER_OTLP_HEADERS when empty).
  std::string headers;
};

class LiveExporter {
 public:
  LiveExporter(store::Store* st, std::string run_id, ExporterOptions options);
  ~LiveExporter();
  LiveExporter(const LiveExporter&) = delete;
  LiveExporter& operator=(const LiveExporter&) = delete;

  void Start();
  /// Stop sends what is left (the run span last) and returns the first error, "" if none.
  std::string Stop();
  int64_t spans_sent() const { return sent_count_.load(); }

 private:
  void Loop();
  /// Flush sends the finished spans not sent yet; final sends everything.
  void Flush(bool final);

  store::Store* st_;
  std::string run_id_;
  ExporterOptions options_;
  std::string url_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::set<std::string> sent_;
  std::atomic<int64_t> sent_count_{0};
  std::string error_;
};

}  // namespace sw::observe
