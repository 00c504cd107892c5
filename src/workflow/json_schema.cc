#include "workflow/json_schema.h"

#define VALIJSON_USE_EXCEPTIONS 1
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/constraint_builder.hpp>
#include <valijson/constraints/concrete_constraints.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <set>

#include <re2/re2.h>

namespace sw::jsonschema {

using json = nlohmann::json;

namespace {

// The keyword our translated `pattern` travels under (valijson ignores unknown keywords, and
// hands this one to PatternBuilder).
constexpr const char* kPatternKey = "x-specwright-pattern";
// And `format`, kept as an annotation valijson does not act on.
constexpr const char* kFormatKey = "x-specwright-format";
// patternProperties is valijson's, matched with std::regex against property names: names up to
// this size are safe from its per-character recursion (it crashes near 100 KB).
constexpr size_t kMaxPatternName = 4096;

const std::set<std::string>& Known() {
  static const std::set<std::string> k = {
      // draft 07 validation
      "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
      "maxLength", "minLength", "pattern", "items", "additionalItems", "maxItems", "minItems", "uniqueItems",
      "contains", "maxProperties", "minProperties", "required", "properties", "patternProperties",
      "additionalProperties", "dependencies", "propertyNames", "if", "then", "else", "allOf", "anyOf", "oneOf",
      "not", "$ref", "definitions",
      // draft 2020-12, translated
      "prefixItems", "$defs",
      // annotations
      "title", "description", "default", "examples", "readOnly", "writeOnly", "format", "contentMediaType",
      "contentEncoding", "$schema", "$id", "$comment"};
  return k;
}

bool KnownType(const std::string& t) {
  return t == "string" || t == "number" || t == "integer" || t == "boolean" || t == "object" || t == "array" ||
         t == "null";
}

Status Check(const json& s, const std::string& ptr);

Status CheckSchemaList(const json& v, const std::string& at) {
  if (!v.is_array() || v.empty()) return InvalidInput("\"" + at + "\" must be a non-empty list of schemas");
  for (size_t i = 0; i < v.size(); ++i) SW_RETURN_IF_ERROR(Check(v[i], at + "/" + std::to_string(i)));
  return Status::Ok();
}

Status CheckSchemaMap(const json& v, const std::string& at) {
  if (!v.is_object()) return InvalidInput("\"" + at + "\" must be an object of schemas");
  for (auto& [pk, pv] : v.items()) SW_RETURN_IF_ERROR(Check(pv, at + "/" + pk));
  return Status::Ok();
}

Status Check(const json& s, const std::string& ptr) {
  if (s.is_boolean()) return Status::Ok();
  if (!s.is_object()) return InvalidInput("schema at \"" + (ptr.empty() ? "/" : ptr) + "\" must be an object or boolean");
  for (auto& [k, v] : s.items()) {
    std::string at = ptr + "/" + k;
    if (!Known().count(k)) return InvalidInput("unsupported schema keyword \"" + k + "\" at \"" + at + "\"");
    if (k == "type") {
      auto ok = [](const json& t) { return t.is_string() && KnownType(t.get<std::string>()); };
      bool good = ok(v);
      if (v.is_array()) {
        good = !v.empty();
        for (auto& t : v) good &= ok(t);
      }
      if (!good) return InvalidInput("invalid type at \"" + at + "\": " + v.dump());
    } else if (k == "properties" || k == "definitions" || k == "$defs") {
      SW_RETURN_IF_ERROR(CheckSchemaMap(v, at));
    } else if (k == "patternProperties") {
      SW_RETURN_IF_ERROR(CheckSchemaMap(v, at));
      for (auto& [pk, pv] : v.items()) {
        try {
          std::regex re(pk, std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
          return InvalidInput("invalid pattern at \"" + at + "/" + pk + "\": " + e.what());
        }
      }
    } else if (k == "dependencies") {
      if (!v.is_object()) return InvalidInput("\"" + at + "\" must be an object");
      for (auto& [dk, dv] : v.items()) {
        if (dv.is_array()) {
          for (auto& n : dv)
            if (!n.is_string()) return InvalidInput("\"" + at + "/" + dk + "\" must be a list of names or a schema");
        } else {
          SW_RETURN_IF_ERROR(Check(dv, at + "/" + dk));
        }
      }
    } else if (k == "required") {
      if (!v.is_array()) return InvalidInput("\"" + at + "\" must be a list of names");
      for (auto& r : v)
        if (!r.is_string()) return InvalidInput("\"" + at + "\" must be a list of names");
    } else if (k == "items") {
      if (v.is_array()) {
        for (size_t i = 0; i < v.size(); ++i) SW_RETURN_IF_ERROR(Check(v[i], at + "/" + std::to_string(i)));
      } else {
        SW_RETURN_IF_ERROR(Check(v, at));
      }
    } else if (k == "additionalProperties" || k == "additionalItems" || k == "not" || k == "contains" ||
               k == "propertyNames" || k == "if" || k == "then" || k == "else") {
      SW_RETURN_IF_ERROR(Check(v, at));
    } else if (k == "prefixItems" || k == "anyOf" || k == "oneOf" || k == "allOf") {
      SW_RETURN_IF_ERROR(CheckSchemaList(v, at));
    } else if (k == "enum") {
      if (!v.is_array()) return InvalidInput("\"" + at + "\" must be a list");
    } else if (k == "minimum" || k == "maximum" || k == "exclusiveMinimum" || k == "exclusiveMaximum") {
      if (!v.is_number()) return InvalidInput("\"" + at + "\" must be a number");
    } else if (k == "multipleOf") {
      if (!v.is_number() || v.get<double>() <= 0) return InvalidInput("\"" + at + "\" must be a number > 0");
    } else if (k == "minLength" || k == "maxLength" || k == "minItems" || k == "maxItems" || k == "minProperties" ||
               k == "maxProperties") {
      if (!v.is_number_integer() && !v.is_number_unsigned()) return InvalidInput("\"" + at + "\" must be an integer");
      if (v.get<int64_t>() < 0) return InvalidInput("\"" + at + "\" must be >= 0");
    } else if (k == "pattern") {
      if (!v.is_string()) return InvalidInput("\"" + at + "\" must be a string");
      RE2 re(v.get<std::string>(), RE2::Quiet);
      if (!re.ok())
        return InvalidInput("invalid pattern at \"" + at + "\": " + re.error() +
                            " (patterns are matched with RE2: no look-around or back-references)");
    } else if (k == "uniqueItems" || k == "readOnly" || k == "writeOnly") {
      if (!v.is_boolean()) return InvalidInput("\"" + at + "\" must be true or false");
    } else if (k == "$ref") {
      if (!v.is_string() || v.get<std::string>().rfind('#', 0) != 0)
        return InvalidInput("\"" + at + "\" must refer inside the schema (\"#/$defs/name\"), got " + v.dump());
    }
  }
  return Status::Ok();
}

/// A `pattern` matched with RE2 (see the header for why not std::regex).
class PatternConstraint : public valijson::constraints::PolyConstraint {
 public:
  explicit PatternConstraint(const std::string& pattern)
      : pattern_(pattern), re_(std::make_shared<RE2>(pattern, RE2::Quiet)) {
    if (!re_->ok()) throw std::runtime_error("invalid pattern " + json(pattern).dump() + ": " + re_->error());
  }

  bool validate(const valijson::adapters::Adapter& target, const std::vector<std::string>& context,
                valijson::ValidationResults* results) const override {
    if (!target.isString()) return true;
    if (RE2::PartialMatch(target.getString(), *re_)) return true;
    if (results) results->pushError(context, "String does not match pattern " + json(pattern_).dump() + ".");
    return false;
  }

 private:
  Constraint* cloneInto(void* where) const override { return new (where) PatternConstraint(*this); }
  size_t sizeOf() const override { return sizeof(PatternConstraint); }

  std::string pattern_;
  std::shared_ptr<RE2> re_;
};

class PatternBuilder : public valijson::ConstraintBuilder {
 public:
  valijson::constraints::Constraint* make(const valijson::adapters::Adapter& a) const override {
    std::string p;
    if (!a.getString(p)) throw std::runtime_error("pattern must be a string");
    return new PatternConstraint(p);
  }
};

/// Draft07 turns a schema into what valijson's draft-07 parser reads: `prefixItems` (+ `items`)
/// become `items: [...]` (+ `additionalItems`), `pattern` moves to kPatternKey. The walk follows
/// keyword positions only, so a property named "pattern" stays a property.
json Draft07(const json& s, bool* pattern_properties) {
  if (!s.is_object()) return s;
  json out = json::object();
  auto map_of = [&](const json& m) {
    if (!m.is_object()) return m;
    json r = json::object();
    for (auto& [k, v] : m.items()) r[k] = Draft07(v, pattern_properties);
    return r;
  };
  auto list_of = [&](const json& l) {
    if (!l.is_array()) return l;
    json r = json::array();
    for (auto& v : l) r.push_back(Draft07(v, pattern_properties));
    return r;
  };
  for (auto& [k, v] : s.items()) {
    if (k == "properties" || k == "definitions" || k == "$defs") {
      out[k] = map_of(v);
    } else if (k == "patternProperties") {
      *pattern_properties = true;
      out[k] = map_of(v);
    } else if (k == "dependencies") {
      json r = json::object();
      if (v.is_object())
        for (auto& [dk, dv] : v.items()) r[dk] = dv.is_array() ? dv : Draft07(dv, pattern_properties);
      out[k] = r;
    } else if (k == "allOf" || k == "anyOf" || k == "oneOf") {
      out[k] = list_of(v);
    } else if (k == "items") {
      if (s.contains("prefixItems")) out["additionalItems"] = Draft07(v, pattern_properties);
      else out[k] = v.is_array() ? list_of(v) : Draft07(v, pattern_properties);
    } else if (k == "prefixItems") {
      out["items"] = list_of(v);
      out[k] = v;  // kept, so a `$ref` into it still resolves
    } else if (k == "additionalProperties" || k == "additionalItems" || k == "not" || k == "contains" ||
               k == "propertyNames" || k == "if" || k == "then" || k == "else") {
      out[k] = Draft07(v, pattern_properties);
    } else if (k == "pattern") {
      out[kPatternKey] = v;
    } else if (k == "format") {
      // An annotation, as 2019-09 on say by default: valijson would check date and time
      // formats with std::regex (the crash above) and throw on a non-string value.
      out[kFormatKey] = v;
    } else {
      out[k] = v;
    }
  }
  // Draft 07 ignores every keyword beside a `$ref`; 2019-09 on (and authors) expect them to
  // apply too: the reference becomes one more allOf entry.
  if (out.contains("$ref") && out.size() > 1) {
    json ref = json{{"$ref", out["$ref"]}};
    out.erase("$ref");
    if (!out.contains("allOf") || !out["allOf"].is_array()) out["allOf"] = json::array();
    out["allOf"].push_back(std::move(ref));
  }
  return out;
}

/// Escape makes a property name one JSON-pointer segment.
std::string Escape(const std::string& key) {
  std::string r;
  for (char c : key) r += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
  return r;
}

/// ForEachSubschema calls fn(subschema, pointer) for every schema directly inside s.
void ForEachSubschema(const json& s, const std::string& ptr, const std::function<void(const json&, const std::string&)>& fn) {
  if (!s.is_object()) return;
  for (auto& [k, v] : s.items()) {
    std::string at = ptr + "/" + Escape(k);
    if (k == "properties" || k == "patternProperties" || k == "definitions" || k == "$defs" || k == "dependencies") {
      if (v.is_object())
        for (auto& [pk, pv] : v.items())
          if (pv.is_object()) fn(pv, at + "/" + Escape(pk));
    } else if (k == "allOf" || k == "anyOf" || k == "oneOf" || k == "prefixItems" || (k == "items" && v.is_array())) {
      if (v.is_array())
        for (size_t i = 0; i < v.size(); ++i) fn(v[i], at + "/" + std::to_string(i));
    } else if (k == "items" || k == "additionalItems" || k == "additionalProperties" || k == "not" || k == "contains" ||
               k == "propertyNames" || k == "if" || k == "then" || k == "else") {
      fn(v, at);
    }
  }
}

/// RefCycles refuses a schema whose references loop without looking inside the value
/// ({"$ref": "#"}, or a → b → a through $ref, allOf, anyOf, oneOf, not, if/then/else or a
/// dependency): checking it would recurse until the stack ran out. A reference that descends
/// first (a tree whose children are "#") is fine. Also refuses references that point nowhere.
Status RefCycles(const json& root) {
  std::map<std::string, int> state;  // 1: on the current path, 2: done
  std::function<Status(const json&, const std::string&)> in_place = [&](const json& s, const std::string& ptr) -> Status {
    if (!s.is_object()) return Status::Ok();
    int& st = state[ptr];
    if (st == 1)
      return InvalidInput("the schema at \"" + (ptr.empty() ? "#" : ptr) +
                          "\" refers back to itself through $ref without looking inside the value: checking it would never end");
    if (st == 2) return Status::Ok();
    st = 1;
    if (auto r = s.find("$ref"); r != s.end() && r->is_string()) {
      std::string target = r->get<std::string>().substr(1);
      const json* t = nullptr;
      try {
        json::json_pointer jp(target);
        if (root.contains(jp)) t = &root.at(jp);
      } catch (const json::exception&) {
      }
      if (!t) return InvalidInput("\"$ref\": " + json(r->get<std::string>()).dump() + " at \"" + ptr + "\" points nowhere in the schema");
      SW_RETURN_IF_ERROR(in_place(*t, target));
    }
    for (const char* k : {"allOf", "anyOf", "oneOf"})
      if (auto it = s.find(k); it != s.end() && it->is_array())
        for (size_t i = 0; i < it->size(); ++i) SW_RETURN_IF_ERROR(in_place((*it)[i], ptr + "/" + k + "/" + std::to_string(i)));
    for (const char* k : {"not", "if", "then", "else"})
      if (auto it = s.find(k); it != s.end()) SW_RETURN_IF_ERROR(in_place(*it, ptr + "/" + k));
    if (auto it = s.find("dependencies"); it != s.end() && it->is_object())
      for (auto& [dk, dv] : it->items()) SW_RETURN_IF_ERROR(in_place(dv, ptr + "/dependencies/" + Escape(dk)));
    state[ptr] = 2;
    return Status::Ok();
  };
  // Every schema in the document is a start: a loop may hide below a property.
  Status result = Status::Ok();
  std::function<void(const json&, const std::string&)> walk = [&](const json& s, const std::string& ptr) {
    if (!result.ok()) return;
    result = in_place(s, ptr);
    if (result.ok()) ForEachSubschema(s, ptr, walk);
  };
  walk(root, "");
  return result;
}

/// Integral floats become integers (2.0 is an integer from draft 6 on; valijson says no).
/// Returns the first object key too long for patternProperties, if any.
json Normalized(const json& v, const std::string& path, bool check_names, std::string* long_name) {
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.0e15) return static_cast<int64_t>(d);
    return v;
  }
  if (v.is_array()) {
    json r = json::array();
    for (size_t i = 0; i < v.size(); ++i)
      r.push_back(Normalized(v[i], path + "[" + std::to_string(i) + "]", check_names, long_name));
    return r;
  }
  if (v.is_object()) {
    json r = json::object();
    for (auto& [k, e] : v.items()) {
      if (check_names && k.size() > kMaxPatternName && long_name->empty())
        *long_name = path + ": a property name of " + std::to_string(k.size()) +
                     " bytes is too long for patternProperties (at most " + std::to_string(kMaxPatternName) + ")";
      r[k] = Normalized(e, path + "." + k, check_names, long_name);
    }
    return r;
  }
  return v;
}

/// "$.tasks[2].title" from valijson's context ["<root>", "[tasks]", "[2]", "[title]"].
std::string PathOf(const std::vector<std::string>& context) {
  std::string p = "$";
  for (size_t i = 1; i < context.size(); ++i) {
    const std::string& c = context[i];
    std::string inner = c.size() >= 2 && c.front() == '[' && c.back() == ']' ? c.substr(1, c.size() - 2) : c;
    bool index = !inner.empty() && inner.find_first_not_of("0123456789") == std::string::npos;
    p += index ? "[" + inner + "]" : "." + inner;
  }
  return p;
}

/// Compile parses the translated schema; the error is valijson's (an unresolvable `$ref`...).
Status Compile(const json& translated, valijson::Schema* compiled) {
  try {
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    parser.addConstraintBuilder(kPatternKey, new PatternBuilder());  // the parser owns it
    valijson::adapters::NlohmannJsonAdapter adapter(translated);
    parser.populateSchema(adapter, *compiled);
  } catch (const std::exception& e) {
    return InvalidInput(std::string("the schema cannot be used: ") + e.what());
  }
  return Status::Ok();
}

/// A parent's "Failed to validate ... property name 'x'" / "item #2" only repeats the error
/// reported at the child's own path, so it is left out.
bool Echo(const std::string& description) {
  return description.rfind("Failed to validate against schema associated with property name", 0) == 0 ||
         description.rfind("Failed to validate item #", 0) == 0;
}

}  // namespace

Status CheckSchema(const json& schema) {
  SW_RETURN_IF_ERROR(Check(schema, ""));
  SW_RETURN_IF_ERROR(RefCycles(schema));
  bool pattern_properties = false;
  valijson::Schema compiled;
  return Compile(Draft07(schema, &pattern_properties), &compiled);
}

std::vector<std::string> Validate(const json& schema, const json& instance, bool lenient) {
  bool pattern_properties = false;
  valijson::Schema compiled;
  Status usable = RefCycles(schema);
  if (usable.ok()) usable = Compile(Draft07(schema, &pattern_properties), &compiled);
  if (Status s = usable; !s.ok()) {
    if (lenient) return {};
    return {"$: " + s.message()};
  }
  std::string long_name;
  json normalized = Normalized(instance, "$", pattern_properties, &long_name);
  if (!long_name.empty()) return {long_name};
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(normalized);
  std::vector<std::string> errs;
  try {
    if (validator.validate(compiled, target, &results)) return errs;
  } catch (const std::exception& e) {
    return {std::string("$: the schema cannot be checked: ") + e.what()};
  }
  valijson::ValidationResults::Error error;
  std::vector<std::string> echoes;
  while (results.popError(error))
    (Echo(error.description) ? echoes : errs).push_back(PathOf(error.context) + ": " + error.description);
  return errs.empty() ? echoes : errs;
}

}  // namespace sw::jsonschema
