#include "observe/otlp_exporter.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <chrono>
#include <future>

#include "base/strings.h"
#include "net/http_client.h"
#include "observe/observe.h"

namespace sw::observe {

namespace {

/// ParseList reads "k=v,k2=v2" (the W3C Baggage form the OTLP variables use: keys trimmed,
/// values percent-decoded; empty members skipped). On a malformed member, *why says which
/// (the member's key, never its value: header values are secrets) and the result is false.
bool ParseList(const std::string& text, KeyValues* out, std::string* why) {
  out->clear();
  for (const auto& member : Split(text, ',')) {
    std::string m = Trim(member);
    if (m.empty()) continue;
    size_t eq = m.find('=');
    std::string key = Trim(m.substr(0, eq == std::string::npos ? m.size() : eq));
    if (eq == std::string::npos || key.empty()) {
      *why = key.empty() ? "a member has no key" : "\"" + key + "\" has no =value";
      return false;
    }
    std::string value;
    if (!PercentDecode(Trim(m.substr(eq + 1)), &value, false, /*allow_nul=*/true)) {
      *why = "the value of \"" + key + "\" has a broken %-escape";
      return false;
    }
    out->emplace_back(std::move(key), std::move(value));
  }
  return true;
}

/// HasControl says whether s holds a control character (C0, DEL) other than a tab: in a header
/// name or value a CR or LF would end the header and start another (request smuggling).
bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return (c < 0x20 && c != '\t') || c == 0x7F;
  });
}

}  // namespace

std::string RedactUrl(std::string_view url) {
  // A scheme only where one starts the text (RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ));
  // a "://" further on (in a query) is not one.
  size_t auth = 0;
  if (!url.empty() && std::isalpha(static_cast<unsigned char>(url[0]))) {
    size_t k = 1;
    while (k < url.size() && (std::isalnum(static_cast<unsigned char>(url[k])) || url[k] == '+' || url[k] == '-' || url[k] == '.')) ++k;
    if (url.substr(k, 3) == "://") auth = k + 3;
  }
  // Everything up to the last '@' goes, so a user info holding an unencoded '/', '?' or '#'
  // (base64 tokens do) is hidden too; then the query and the fragment. Hiding a little too much
  // (an '@' in a path or a query) is the safe way to be wrong.
  std::string_view rest = url.substr(auth);
  size_t at = rest.rfind('@');
  if (at != std::string_view::npos) rest = rest.substr(at + 1);
  return std::string(url.substr(0, auth)) + std::string(rest.substr(0, rest.find_first_of("?#")));
}

std::string TracesUrl(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.size() < 10 || url.compare(url.size() - 10, 10, "/v1/traces") != 0) url += "/v1/traces";
  return url;
}

OtlpEnvironment ReadOtlpEnvironment(const GetEnv& getenv_fn) {
  auto get = [&](const char* name) -> std::string {
    const char* v = getenv_fn ? getenv_fn(name) : std::getenv(name);
    return v ? Trim(v) : std::string();
  };
  OtlpEnvironment env;
  if (std::string v = get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"); !v.empty()) {
    env.endpoint = v, env.endpoint_var = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
  } else if (std::string b = get("OTEL_EXPORTER_OTLP_ENDPOINT"); !b.empty()) {
    // The specification's rule: the signal's path appended to the base URL, whatever it holds.
    env.endpoint = b + (b.back() == '/' ? "v1/traces" : "/v1/traces");
    env.endpoint_var = "OTEL_EXPORTER_OTLP_ENDPOINT";
  }
  if (!env.endpoint.empty() && env.endpoint.rfind("http://", 0) != 0 && env.endpoint.rfind("https://", 0) != 0) {
    env.endpoint_warnings.push_back(env.endpoint_var + "=\"" + RedactUrl(env.endpoint) +
                                    "\" is not an http:// or https:// URL; no live export");
    env.endpoint.clear();
  }
  // Headers: the general list, then the traces one (its keys win).
  for (const char* var : {"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"}) {
    std::string text = get(var), why;
    if (text.empty()) continue;
    KeyValues list;
    if (!ParseList(text, &list, &why)) {
      env.warnings.push_back(std::string(var) + " is malformed (" + why + "); its headers are not sent");
      continue;
    }
    for (auto& kv : list) {
      if (HasControl(kv.first) || HasControl(kv.second)) {  // named by its key only when the key is printable
        env.warnings.push_back(std::string(var) + ": " +
                               (HasControl(kv.first) ? std::string("a header name") : "the value of \"" + kv.first + "\"") +
                               " has a control character (CR, LF, ...); that header is not sent");
        continue;
      }
      auto it = std::find_if(env.headers.begin(), env.headers.end(), [&](const auto& h) { return Lower(h.first) == Lower(kv.first); });
      if (it != env.headers.end()) it->second = std::move(kv.second);
      else env.headers.push_back(std::move(kv));
    }
  }
  std::string protocol = get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL");
  std::string protocol_var = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL";
  if (protocol.empty()) protocol = get("OTEL_EXPORTER_OTLP_PROTOCOL"), protocol_var = "OTEL_EXPORTER_OTLP_PROTOCOL";
  if (protocol == "http/protobuf") {
    if (!env.endpoint.empty())
      env.warnings.push_back(protocol_var + "=http/protobuf: specwright sends OTLP/HTTP as JSON (http/json), which an "
                                            "OTLP/HTTP receiver accepts on the same path");
  } else if (!protocol.empty() && protocol != "http/json") {
    if (!env.endpoint.empty())
      env.endpoint_warnings.push_back(protocol_var + "=\"" + protocol + "\": specwright speaks OTLP over http/json only; no live "
                                            "export (set it to http/json, or pass --otlp-endpoint URL)");
    env.disabled = true;
  }
  for (const char* var : {"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"}) {
    std::string t = get(var);
    if (t.empty()) continue;
    char* end = nullptr;
    double ms = std::strtod(t.c_str(), &end);
    if (!end || *end || !(ms > 0)) env.warnings.push_back(std::string(var) + "=\"" + t + "\" is not a positive number of milliseconds; using 10000");
    else env.timeout = ms / 1000;
    break;
  }
  if (Lower(get("OTEL_SDK_DISABLED")) == "true") {
    env.disabled = true;
    env.endpoint_warnings.clear();  // the variables export nothing anyway: why not does not matter
  }
  // The resource: OTEL_RESOURCE_ATTRIBUTES, with OTEL_SERVICE_NAME's service.name over its own.
  if (std::string text = get("OTEL_RESOURCE_ATTRIBUTES"); !text.empty()) {
    std::string why;
    if (!ParseList(text, &env.resource, &why)) {
      env.resource.clear();  // the specification: a malformed value is discarded whole
      env.warnings.push_back("OTEL_RESOURCE_ATTRIBUTES=\"" + text + "\" is malformed (" + why + "); it is ignored");
    }
  }
  if (std::string name = get("OTEL_SERVICE_NAME"); !name.empty()) {
    env.resource.erase(std::remove_if(env.resource.begin(), env.resource.end(),
                                      [](const auto& kv) { return kv.first == "service.name"; }),
                       env.resource.end());
    env.resource.insert(env.resource.begin(), {"service.name", name});
  }
  return env;
}

LiveExporter::LiveExporter(store::Store* st, std::string run_id, ExporterOptions options)
    : st_(st), run_id_(std::move(run_id)), options_(std::move(options)) {
  url_ = options_.url;
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
  out.resource = options_.resource;
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
  for (const auto& kv : options_.headers) req.headers.push_back({kv.first, kv.second});
  req.timeouts.total = options_.timeout;
  req.timeouts.first_byte = options_.timeout;
  req.timeouts.first_token = options_.timeout;
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
