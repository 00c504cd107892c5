#include "workflow/json_schema.h"

#include <set>

#include <re2/re2.h>

namespace sw::jsonschema {

using json = nlohmann::json;

namespace {

const std::set<std::string>& Known() {
  static const std::set<std::string> k = {
      "type", "properties", "required", "additionalProperties", "items", "prefixItems", "enum", "const",
      "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "pattern",
      "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties", "anyOf", "oneOf", "allOf", "not",
      "title", "description", "default", "examples", "$schema", "$id", "$comment"};
  return k;
}

bool KnownType(const std::string& t) {
  return t == "string" || t == "number" || t == "integer" || t == "boolean" || t == "object" || t == "array" ||
         t == "null";
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
    } else if (k == "properties") {
      if (!v.is_object()) return InvalidInput("\"" + at + "\" must be an object");
      for (auto& [pk, pv] : v.items()) SW_RETURN_IF_ERROR(Check(pv, at + "/" + pk));
    } else if (k == "required") {
      if (!v.is_array()) return InvalidInput("\"" + at + "\" must be a list of names");
      for (auto& r : v)
        if (!r.is_string()) return InvalidInput("\"" + at + "\" must be a list of names");
    } else if (k == "additionalProperties" || k == "items" || k == "not") {
      SW_RETURN_IF_ERROR(Check(v, at));
    } else if (k == "prefixItems" || k == "anyOf" || k == "oneOf" || k == "allOf") {
      if (!v.is_array() || v.empty()) return InvalidInput("\"" + at + "\" must be a non-empty list of schemas");
      for (size_t i = 0; i < v.size(); ++i) SW_RETURN_IF_ERROR(Check(v[i], at + "/" + std::to_string(i)));
    } else if (k == "enum") {
      if (!v.is_array()) return InvalidInput("\"" + at + "\" must be a list");
    } else if (k == "minimum" || k == "maximum" || k == "exclusiveMinimum" || k == "exclusiveMaximum") {
      if (!v.is_number()) return InvalidInput("\"" + at + "\" must be a number");
    } else if (k == "minLength" || k == "maxLength" || k == "minItems" || k == "maxItems" || k == "minProperties" ||
               k == "maxProperties") {
      if (!v.is_number_integer() && !v.is_number_unsigned()) return InvalidInput("\"" + at + "\" must be an integer");
      if (v.get<int64_t>() < 0) return InvalidInput("\"" + at + "\" must be >= 0");
    } else if (k == "pattern") {
      if (!v.is_string()) return InvalidInput("\"" + at + "\" must be a string");
      RE2 re(v.get<std::string>(), RE2::Quiet);
      if (!re.ok()) return InvalidInput("invalid pattern at \"" + at + "\": " + re.error());
    } else if (k == "uniqueItems") {
      if (!v.is_boolean()) return InvalidInput("\"" + at + "\" must be true or false");
    }
  }
  return Status::Ok();
}

std::string TypeOf(const json& v) {
  if (v.is_number_integer() || v.is_number_unsigned()) return "integer";
  if (v.is_number_float()) return "number";
  return v.type_name();
}

bool HasType(const json& v, const std::string& t) {
  if (t == "integer") return v.is_number_integer() || v.is_number_unsigned() ||
                             (v.is_number_float() && v.get<double>() == static_cast<double>(static_cast<int64_t>(v.get<double>())));
  if (t == "number") return v.is_number();
  if (t == "string") return v.is_string();
  if (t == "boolean") return v.is_boolean();
  if (t == "object") return v.is_object();
  if (t == "array") return v.is_array();
  if (t == "null") return v.is_null();
  return false;
}

bool Eq(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) return a.get<double>() == b.get<double>();
  return a == b;
}

void Validate(const json& s, const json& v, const std::string& path, std::vector<std::string>* errs) {
  if (s.is_boolean()) {
    if (!s.get<bool>()) errs->push_back(path + ": not allowed here");
    return;
  }
  if (!s.is_object()) return;
  auto add = [&](const std::string& m) { errs->push_back(path + ": " + m); };
  if (auto it = s.find("type"); it != s.end()) {
    bool ok = false;
    std::string want;
    if (it->is_string()) {
      ok = HasType(v, *it);
      want = *it;
    } else {
      for (auto& t : *it) {
        ok |= HasType(v, t);
        want += (want.empty() ? "" : " or ") + t.get<std::string>();
      }
    }
    if (!ok) {
      add("expected " + want + ", got " + TypeOf(v));
      return;
    }
  }
  if (auto it = s.find("enum"); it != s.end()) {
    bool ok = false;
    for (auto& e : *it) ok |= Eq(e, v);
    if (!ok) add("must be one of " + it->dump() + ", got " + v.dump());
  }
  if (auto it = s.find("const"); it != s.end() && !Eq(*it, v)) add("must be " + it->dump() + ", got " + v.dump());
  if (v.is_number()) {
    double x = v.get<double>();
    if (auto it = s.find("minimum"); it != s.end() && x < it->get<double>()) add("must be >= " + it->dump());
    if (auto it = s.find("maximum"); it != s.end() && x > it->get<double>()) add("must be <= " + it->dump());
    if (auto it = s.find("exclusiveMinimum"); it != s.end() && x <= it->get<double>()) add("must be > " + it->dump());
    if (auto it = s.find("exclusiveMaximum"); it != s.end() && x >= it->get<double>()) add("must be < " + it->dump());
  }
  if (v.is_string()) {
    const std::string& str = v.get_ref<const std::string&>();
    size_t len = 0;
    for (unsigned char c : str) len += (c & 0xC0) != 0x80;  // code points
    if (auto it = s.find("minLength"); it != s.end() && len < it->get<size_t>()) add("shorter than " + it->dump() + " characters");
    if (auto it = s.find("maxLength"); it != s.end() && len > it->get<size_t>()) add("longer than " + it->dump() + " characters");
    if (auto it = s.find("pattern"); it != s.end()) {
      RE2 re(it->get<std::string>(), RE2::Quiet);
      if (re.ok() && !RE2::PartialMatch(str, re)) add("does not match pattern " + it->dump());
    }
  }
  if (v.is_array()) {
    if (auto it = s.find("minItems"); it != s.end() && v.size() < it->get<size_t>()) add("fewer than " + it->dump() + " items");
    if (auto it = s.find("maxItems"); it != s.end() && v.size() > it->get<size_t>()) add("more than " + it->dump() + " items");
    if (auto it = s.find("uniqueItems"); it != s.end() && it->get<bool>()) {
      for (size_t i = 0; i < v.size(); ++i)
        for (size_t j = i + 1; j < v.size(); ++j)
          if (Eq(v[i], v[j])) add("items " + std::to_string(i) + " and " + std::to_string(j) + " are equal");
    }
    size_t prefix = 0;
    if (auto it = s.find("prefixItems"); it != s.end()) {
      prefix = it->size();
      for (size_t i = 0; i < v.size() && i < prefix; ++i)
        Validate((*it)[i], v[i], path + "[" + std::to_string(i) + "]", errs);
    }
    if (auto it = s.find("items"); it != s.end())
      for (size_t i = prefix; i < v.size(); ++i) Validate(*it, v[i], path + "[" + std::to_string(i) + "]", errs);
  }
  if (v.is_object()) {
    if (auto it = s.find("minProperties"); it != s.end() && v.size() < it->get<size_t>()) add("fewer than " + it->dump() + " properties");
    if (auto it = s.find("maxProperties"); it != s.end() && v.size() > it->get<size_t>()) add("more than " + it->dump() + " properties");
    if (auto it = s.find("required"); it != s.end())
      for (auto& r : *it)
        if (!v.contains(r.get<std::string>())) add("missing required property \"" + r.get<std::string>() + "\"");
    const json* props = s.contains("properties") ? &s["properties"] : nullptr;
    for (auto& [k, pv] : v.items()) {
      std::string sub = path + "." + k;
      if (props && props->contains(k)) {
        Validate((*props)[k], pv, sub, errs);
      } else if (auto ap = s.find("additionalProperties"); ap != s.end()) {
        if (ap->is_boolean() && !ap->get<bool>()) add("unexpected property \"" + k + "\"");
        else Validate(*ap, pv, sub, errs);
      }
    }
  }
  if (auto it = s.find("allOf"); it != s.end())
    for (auto& sub : *it) Validate(sub, v, path, errs);
  if (auto it = s.find("anyOf"); it != s.end()) {
    bool any = false;
    for (auto& sub : *it) {
      std::vector<std::string> e;
      Validate(sub, v, path, &e);
      any |= e.empty();
    }
    if (!any) add("matches none of anyOf");
  }
  if (auto it = s.find("oneOf"); it != s.end()) {
    int n = 0;
    for (auto& sub : *it) {
      std::vector<std::string> e;
      Validate(sub, v, path, &e);
      n += e.empty();
    }
    if (n != 1) add("must match exactly one of oneOf, matched " + std::to_string(n));
  }
  if (auto it = s.find("not"); it != s.end()) {
    std::vector<std::string> e;
    Validate(*it, v, path, &e);
    if (e.empty()) add("must not match the \"not\" schema");
  }
}

}  // namespace

Status CheckSchema(const json& schema) { return Check(schema, ""); }

std::vector<std::string> Validate(const json& schema, const json& instance) {
  std::vector<std::string> errs;
  Validate(schema, instance, "$", &errs);
  return errs;
}

}  // namespace sw::jsonschema
