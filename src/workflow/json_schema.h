// A JSON Schema validator for node outputs (`output: json` with `schema:`).
// Supported keywords (draft 2020-12 meaning): type (string or list), properties, required,
// additionalProperties (bool or schema), items (schema), prefixItems, enum, const,
// minimum, maximum, exclusiveMinimum, exclusiveMaximum, minLength, maxLength, pattern (RE2),
// minItems, maxItems, uniqueItems, minProperties, maxProperties, anyOf, oneOf, allOf, not,
// and the annotations title, description, default, examples, $schema, $id, $comment.
// Any other keyword is refused by CheckSchema so a schema never silently checks less than
// its author meant.
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
/// "$.tasks[2].title: expected string, got number"); empty when the instance is valid.
std::vector<std::string> Validate(const nlohmann::json& schema, const nlohmann::json& instance);

}  // namespace sw::jsonschema
