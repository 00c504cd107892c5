// JsonWriter appends JSON to a string without building a document first: the large reports
// (10,000-row traces, whole-run exports) are written directly, an order of magnitude faster
// than assembling nlohmann::json values and dumping them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace sw {

class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  /// Key names the next value inside an object.
  JsonWriter& Key(std::string_view k);
  JsonWriter& String(std::string_view v);
  JsonWriter& Int(int64_t v);
  /// Double writes the shortest text that reads back as the same double (null for NaN/inf).
  JsonWriter& Double(double v);
  JsonWriter& Bool(bool v);
  JsonWriter& Null();
  /// Raw inserts already-encoded JSON as one value.
  JsonWriter& Raw(std::string_view json);

  // Key and value in one call.
  JsonWriter& Field(std::string_view k, std::string_view v) { return Key(k).String(v); }
  JsonWriter& Field(std::string_view k, const char* v) { return Key(k).String(v); }
  JsonWriter& Field(std::string_view k, const std::string& v) { return Key(k).String(v); }
  JsonWriter& Field(std::string_view k, int64_t v) { return Key(k).Int(v); }
  JsonWriter& Field(std::string_view k, int v) { return Key(k).Int(v); }
  JsonWriter& Field(std::string_view k, double v) { return Key(k).Double(v); }
  JsonWriter& Field(std::string_view k, bool v) { return Key(k).Bool(v); }

  void Reserve(size_t bytes) { out_.reserve(bytes); }
  /// SetSink streams the output: whenever a value ends with more than `chunk` bytes buffered,
  /// the buffer goes to sink and is reused (a 19 MB export never sits in memory whole).
  /// Flush hands over the rest; str() and Take() then see only what was not flushed.
  void SetSink(std::function<void(std::string_view)> sink, size_t chunk = 1 << 20) {
    sink_ = std::move(sink);
    chunk_ = chunk;
    out_.reserve(chunk + (chunk >> 2));
  }
  void Flush() {
    if (!sink_) return;  // without a sink the output stays for str() and Take()
    if (!out_.empty()) sink_(out_);
    out_.clear();
  }
  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void Separate();
  void MaybeFlush() {
    if (sink_ && out_.size() > chunk_) Flush();
  }
  std::string out_;
  std::function<void(std::string_view)> sink_;
  size_t chunk_ = 0;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

/// AppendJsonString appends s as a quoted JSON string (UTF-8 passed through, controls escaped).
void AppendJsonString(std::string* out, std::string_view s);

}  // namespace sw
