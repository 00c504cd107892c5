// JSON Schema for node outputs (`output: json` with `schema:`) and tool arguments, checked by
// valijson (Debian's libvalijson-dev), the validator other C++ tools use, in draft-07 mode.
// Draft 2020-12's `prefixItems` (with `items` for the rest) and `$defs` are accepted too: the
// schema is translated to draft 07's `items: [...]` + `additionalItems` before valijson sees
// it. Two deliberate differences from plain valijson:
//  - `pattern` is matched with RE2, not std::regex: libstdc++'s std::regex recurses per
//    character and crashes the process on a 100 KB string, and a model's answer can be that
//    long. So a pattern must be one RE2 accepts (no look-around, no back-references); a schema
//    whose pattern is not is refused when the workflow loads.
//  - an integral float (2.0) counts as an integer, as draft 6+ says and as ajv and Python's
//    jsonschema do.
// CheckSchema refuses keywords outside draft 07 (and the 2020-12 pair above) so a schema
// never silently checks less than its author meant, and `$ref`s that leave the schema.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace sw::jsonschema {

/// CheckSchema verifies a schema uses only supported keywords with well-formed values; the
/// error names the JSON pointer of the offending keyword (e.g. "/properties/name/type").
Status CheckSchema(const nlohmann::json& schema);

/// Validate returns every violation as "<instance path>: <message>" (e.g.
/// "$.tasks[2].title: Value type not permitted by 'type' constraint."); empty when the instance
/// is valid. A schema valijson cannot use (possible only for schemas that did not pass
/// CheckSchema, such as a tool's from an MCP server) yields one error naming the problem,
/// unless `lenient`, where the instance is then not checked here (the tool checks it).
std::vector<std::string> Validate(const nlohmann::json& schema, const nlohmann::json& instance,
                                  bool lenient = false);

}  // namespace sw::jsonschema
