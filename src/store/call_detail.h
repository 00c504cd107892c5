// The llm_calls.detail column, one JSON object of a call's facts that have no column of their
// own; both backends write and read it the same way.
#pragma once

#include <string>

#include "store/store.h"

namespace sw::store {

/// CallDetail is c's detail text ("" when it has none of those facts).
std::string CallDetail(const LlmCallRecord& c);
/// ReadCallDetail sets c's detail fields from the column's text (ignoring what is not JSON).
void ReadCallDetail(const std::string& detail, LlmCallRecord& c);

}  // namespace sw::store
