#include "store/call_detail.h"

#include <nlohmann/json.hpp>

namespace sw::store {

std::string CallDetail(const LlmCallRecord& c) {
  if (c.response_id.empty() && c.finish_reason.empty() && c.error_type.empty() && c.max_tokens <= 0 && !c.temperature)
    return "";
  nlohmann::json d = nlohmann::json::object();
  if (!c.response_id.empty()) d["response_id"] = c.response_id;
  if (!c.finish_reason.empty()) d["finish_reason"] = c.finish_reason;
  if (!c.error_type.empty()) d["error_type"] = c.error_type;
  if (c.max_tokens > 0) d["max_tokens"] = c.max_tokens;
  if (c.temperature) d["temperature"] = *c.temperature;
  return d.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void ReadCallDetail(const std::string& detail, LlmCallRecord& c) {
  if (detail.empty()) return;
  auto j = nlohmann::json::parse(detail, nullptr, false);
  if (!j.is_object()) return;
  c.response_id = j.value("response_id", "");
  c.finish_reason = j.value("finish_reason", "");
  c.error_type = j.value("error_type", "");
  c.max_tokens = j.value("max_tokens", int64_t{0});
  if (auto t = j.find("temperature"); t != j.end() && t->is_number()) c.temperature = t->get<double>();
}

}  // namespace sw::store
