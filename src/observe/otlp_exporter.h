// LiveExporter streams a running run's spans to an OTLP/HTTP collector (JSON encoding):
// every second it sends the spans that finished since the last send, and the rest at Stop.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "store/store.h"

namespace sw::observe {

using KeyValues = std::vector<std::pair<std::string, std::string>>;

/// OtlpEnvironment is what the OpenTelemetry SDK environment variables ask of an export:
///   OTEL_EXPORTER_OTLP_TRACES_ENDPOINT  the traces URL, used as is
///   OTEL_EXPORTER_OTLP_ENDPOINT         a base URL: /v1/traces is appended
///   OTEL_EXPORTER_OTLP_[TRACES_]HEADERS k=v,k2=v2 (values percent-encoded), sent with each POST
///   OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL only http/json is spoken: http/protobuf is answered
///                                       with JSON (an OTLP/HTTP receiver takes both on one path),
///                                       grpc or anything else turns the live export off
///   OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT milliseconds per POST (default 10000)
///   OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES (k=v,k2=v2, percent-encoded) the resource
///   OTEL_SDK_DISABLED=true              no live export from the variables (--otlp-endpoint
///                                       still exports: it was asked for by name)
/// The TRACES_ variable wins over the general one. Header values are secrets: never in a
/// warning, the store or a log; a header whose name or decoded value holds a control character
/// (%0D%0A would start another header) is not sent, with a warning naming its key.
struct OtlpEnvironment {
  std::string endpoint;      // the full traces URL ("": no variable names one)
  std::string endpoint_var;  // the variable it came from
  KeyValues headers;         // decoded
  KeyValues resource;        // service.name first when OTEL_SERVICE_NAME is set
  double timeout = 10;       // seconds
  bool disabled = false;     // OTEL_SDK_DISABLED, or a protocol other than http/json|http/protobuf
  // Each warning names its variable (URLs redacted, header values never shown). They are split
  // by when they apply, so a command warns only about what it does:
  std::vector<std::string> warnings;           // settings of an export (headers, timeout, resource,
                                               // protocol): shown when spans are exported
  std::vector<std::string> endpoint_warnings;  // why the variables' endpoint exports nothing (not
                                               // an http URL, grpc): shown when no --otlp-endpoint
                                               // replaces it (none under OTEL_SDK_DISABLED)
};
using GetEnv = std::function<const char*(const char*)>;
OtlpEnvironment ReadOtlpEnvironment(const GetEnv& getenv = nullptr);

/// RedactUrl is url fit to print: without userinfo (user:token@) and without the query and
/// fragment (?key=...), where credentials go. "https://u:t@host:4318/v1/traces?k=v" is
/// "https://host:4318/v1/traces".
std::string RedactUrl(std::string_view url);

/// TracesUrl is the URL spans are POSTed to for an --otlp-endpoint: the base URL with
/// /v1/traces appended unless it ends with it already.
std::string TracesUrl(std::string endpoint);

struct ExporterOptions {
  std::string url;  // the full traces URL (TracesUrl, or OtlpEnvironment::endpoint)
  bool include_content = false;
  double interval = 1.0;  // seconds between sends
  double timeout = 10;    // seconds per POST
  KeyValues headers;      // extra request headers (OTEL_EXPORTER_OTLP_HEADERS)
  KeyValues resource;     // resource attributes (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES)
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
