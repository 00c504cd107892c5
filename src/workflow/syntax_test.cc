// The condition language, the Mustache templates and the JSON Schema validator.
#include <gtest/gtest.h>

#include "workflow/expr.h"
#include "workflow/json_schema.h"
#include "workflow/template.h"

namespace sw {
namespace {

using json = nlohmann::json;

json Eval(const std::string& src, const json& ctx = json::object()) {
  auto e = expr::Expr::Parse(src);
  EXPECT_TRUE(e.ok()) << src << ": " << e.status().message();
  if (!e.ok()) return nullptr;
  auto r = (*e)->Eval(expr::JsonScope(ctx));
  EXPECT_TRUE(r.ok()) << src << ": " << r.status().message();
  return r.ok() ? *r : json();
}

const json kCtx = json::parse(R"({
  "inputs": {"n": 3, "name": "ada", "tags": ["a", "b"]},
  "nodes": {"review": {"json": {"approved": false, "score": 7.5, "items": [{"t": "x"}, {"t": "y"}]},
                       "output": "LGTM, approved"}}})");

TEST(Expr, OperatorsPrecedenceAndTruthiness) {
  EXPECT_EQ(Eval("inputs.n == 3", kCtx), true);
  EXPECT_EQ(Eval("inputs.n == 3.0", kCtx), true);
  EXPECT_EQ(Eval("inputs.n != 3", kCtx), false);
  EXPECT_EQ(Eval("inputs.n < 4 && inputs.n >= 3", kCtx), true);
  EXPECT_EQ(Eval("false || true && false", kCtx), false);  // && binds tighter
  EXPECT_EQ(Eval("(false || true) && true", kCtx), true);
  EXPECT_EQ(Eval("!nodes.review.json.approved", kCtx), true);
  EXPECT_EQ(Eval("!!inputs.tags", kCtx), true);
  EXPECT_EQ(Eval("'b' in inputs.tags", kCtx), true);
  EXPECT_EQ(Eval("'z' in inputs.tags", kCtx), false);
  EXPECT_EQ(Eval("inputs.tags contains 'a'", kCtx), true);
  EXPECT_EQ(Eval("'approved' in nodes.review.output", kCtx), true);
  EXPECT_EQ(Eval("'score' in nodes.review.json", kCtx), true);
  EXPECT_EQ(Eval("nodes.review.output matches '^LGTM'", kCtx), true);
  EXPECT_EQ(Eval("nodes.review.json.items[1].t == \"y\"", kCtx), true);
  EXPECT_EQ(Eval("nodes.review.json.items.0.t", kCtx), "x");
  EXPECT_EQ(Eval("inputs.n in [1, 2, 3]", kCtx), true);
  EXPECT_EQ(Eval("nodes.missing.json.x", kCtx), nullptr);
  EXPECT_EQ(Eval("nodes.missing.json.x == null", kCtx), true);
  EXPECT_EQ(Eval("'b' < 'c'", kCtx), true);
  EXPECT_EQ(Eval("-2 < 1", kCtx), true);
  EXPECT_FALSE(expr::Truthy(json("")));
  EXPECT_FALSE(expr::Truthy(json::array()));
  EXPECT_FALSE(expr::Truthy(json(0)));
  EXPECT_TRUE(expr::Truthy(json("no")));
}

TEST(Expr, PathsAreListedForLoadTimeChecks) {
  auto e = expr::Expr::Parse("nodes.a.json.x == 1 || inputs.y in nodes.b.json.list[2]");
  ASSERT_TRUE(e.ok());
  ASSERT_EQ((*e)->Paths().size(), 3u);
  EXPECT_EQ(expr::PathToString((*e)->Paths()[0]), "nodes.a.json.x");
  EXPECT_EQ(expr::PathToString((*e)->Paths()[2]), "nodes.b.json.list[2]");
}

TEST(Expr, ParseErrorsCarryTheOffset) {
  struct Case {
    const char* src;
    size_t offset;
    const char* msg;
  } cases[] = {
      {"nodes.a == ", 11, "expected a value"},
      {"(nodes.a == 1", 13, "expected ')'"},
      {"nodes.a == 'x", 11, "unterminated string"},
      {"nodes.a $ 1", 8, "unexpected '$'"},
      {"nodes.a matches '('", 16, "invalid regular expression"},
      {"nodes.a.", 8, "expected a name"},
      {"== 1", 0, "unexpected character '='"},
  };
  for (const auto& c : cases) {
    size_t off = 999;
    auto e = expr::Expr::Parse(c.src, &off);
    ASSERT_FALSE(e.ok()) << c.src;
    EXPECT_EQ(off, c.offset) << c.src << ": " << e.status().message();
    EXPECT_NE(e.status().message().find(c.msg), std::string::npos) << c.src << ": " << e.status().message();
  }
}

TEST(Expr, TypeErrorsAtEvaluationNameBothTypes) {
  auto e = expr::Expr::Parse("inputs.name < 3");
  ASSERT_TRUE(e.ok());
  auto r = (*e)->Eval(expr::JsonScope(kCtx));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cannot compare string with number using <"), std::string::npos);
}

TEST(Expr, LenAndAdditionForLengthAndIndexTests) {
  // A loop over a list: "is there an item after this round's?" (std/plan-and-execute).
  EXPECT_EQ(Eval("len(inputs.tags)", kCtx), 2);
  EXPECT_EQ(Eval("len(nodes.review.json.items) == 2", kCtx), true);
  EXPECT_EQ(Eval("len(inputs.name)", kCtx), 3);
  EXPECT_EQ(Eval("len(nodes.review.json)", kCtx), 3);
  EXPECT_EQ(Eval("len(nodes.missing.json.x)", kCtx), 0);
  EXPECT_EQ(Eval("inputs.n + 1", kCtx), 4);
  EXPECT_EQ(Eval("inputs.n - 1 + 2", kCtx), 4);  // left to right
  EXPECT_EQ(Eval("inputs.n -1", kCtx), 2);
  EXPECT_EQ(Eval("nodes.review.json.score + 1 == 8.5", kCtx), true);
  EXPECT_EQ(Eval("1 + 1 < len(inputs.tags) || inputs.n + 1 < len(inputs.tags) + 3", kCtx), true);
  EXPECT_EQ(Eval("0 + 1 < len(inputs.tags) && !(1 + 1 < len(inputs.tags))", kCtx), true);
  EXPECT_EQ(Eval("[1, -2]", kCtx), json::parse("[1, -2]"));
  auto p = expr::Expr::Parse("len(inputs.tags) == 2 && nodes.a.json.x + 1 > 0");
  ASSERT_TRUE(p.ok());
  ASSERT_EQ((*p)->Paths().size(), 2u);  // paths inside len() are checked at load like any
  EXPECT_EQ(expr::PathToString((*p)->Paths()[0]), "inputs.tags");
  for (const char* bad : {"len(inputs.n)", "inputs.name + 1"}) {
    auto e = expr::Expr::Parse(bad);
    ASSERT_TRUE(e.ok()) << bad;
    auto r = (*e)->Eval(expr::JsonScope(kCtx));
    EXPECT_FALSE(r.ok()) << bad;
  }
  size_t off = 0;
  auto e = expr::Expr::Parse("len(inputs.tags", &off);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("expected ')' after the argument of len"), std::string::npos);
}

std::string Render(const std::string& src, const json& ctx, std::vector<std::string>* missing = nullptr) {
  auto t = tmpl::Template::Parse(src);
  EXPECT_TRUE(t.ok()) << t.status().message();
  if (!t.ok()) return "";
  auto r = (*t)->Render(expr::JsonScope(ctx), missing);
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : "";
}

TEST(Template, VariablesSectionsAndNoEscaping) {
  EXPECT_EQ(Render("Hi {{inputs.name}} <{{{inputs.n}}}> & {{&inputs.n}}", kCtx), "Hi ada <3> & 3");
  EXPECT_EQ(Render("{{#nodes.review.json.items}}[{{t}}]{{/nodes.review.json.items}}", kCtx), "[x][y]");
  EXPECT_EQ(Render("{{#inputs.tags}}{{.}},{{/inputs.tags}}", kCtx), "a,b,");
  EXPECT_EQ(Render("{{^nodes.review.json.approved}}rejected{{/nodes.review.json.approved}}", kCtx), "rejected");
  EXPECT_EQ(Render("{{#nodes.review.json.approved}}yes{{/nodes.review.json.approved}}", kCtx), "");
  EXPECT_EQ(Render("{{! a comment }}x", kCtx), "x");
  EXPECT_EQ(Render("{{nodes.review.json.items[1].t}}", kCtx), "y");
  EXPECT_EQ(Render("{{inputs.tags}}", kCtx), "[\n  \"a\",\n  \"b\"\n]");
  // Inside a section, names fall back to the scope.
  EXPECT_EQ(Render("{{#inputs.tags}}{{inputs.name}}{{/inputs.tags}}", kCtx), "adaada");
}

TEST(Template, StandaloneSectionLinesDisappear) {
  std::string src = "Items:\n{{#inputs.tags}}\n- {{.}}\n{{/inputs.tags}}\nend\n";
  EXPECT_EQ(Render(src, kCtx), "Items:\n- a\n- b\nend\n");
}

TEST(Template, MissingNamesAreReportedOnce) {
  std::vector<std::string> missing;
  EXPECT_EQ(Render("{{nodes.x.output}}{{nodes.x.output}}{{inputs.name}}", kCtx, &missing), "ada");
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0], "nodes.x.output");
}

TEST(Template, ParseErrors) {
  struct Case {
    const char* src;
    size_t offset;
    const char* msg;
  } cases[] = {
      {"abc {{name", 4, "unclosed tag"},
      {"{{#a}}x{{/b}}", 7, "closed by {{/b}}"},
      {"{{#a}}x", 0, "never closed"},
      {"x {{/a}}", 2, "without a matching start"},
      {"{{> partial}}", 0, "partials"},
      {"{{=<% %>=}}", 0, "delimiters"},
  };
  for (const auto& c : cases) {
    size_t off = 999;
    auto t = tmpl::Template::Parse(c.src, &off);
    ASSERT_FALSE(t.ok()) << c.src;
    EXPECT_EQ(off, c.offset) << c.src;
    EXPECT_NE(t.status().message().find(c.msg), std::string::npos) << c.src << ": " << t.status().message();
  }
}

TEST(Template, ReferencesForValidation) {
  auto t = tmpl::Template::Parse("{{inputs.a}} {{#nodes.p.json.list}}{{name}} {{nodes.q.output}}{{/nodes.p.json.list}}");
  ASSERT_TRUE(t.ok());
  std::vector<std::string> refs;
  for (auto& p : (*t)->References()) refs.push_back(expr::PathToString(p));
  EXPECT_EQ(refs, (std::vector<std::string>{"inputs.a", "nodes.p.json.list", "nodes.q.output"}));
}

TEST(JsonSchema, ValidatesNestedStructureWithPaths) {
  json schema = json::parse(R"({
    "type": "object", "required": ["tasks"], "additionalProperties": false,
    "properties": {"tasks": {"type": "array", "minItems": 1, "items": {
      "type": "object", "required": ["title"],
      "properties": {"title": {"type": "string", "minLength": 2}, "size": {"enum": ["s", "m", "l"]},
                     "points": {"type": "integer", "minimum": 1, "maximum": 13}}}}}})");
  ASSERT_TRUE(jsonschema::CheckSchema(schema).ok());
  EXPECT_TRUE(jsonschema::Validate(schema, json::parse(R"({"tasks": [{"title": "ab", "size": "m", "points": 3}]})")).empty());
  auto errs = jsonschema::Validate(schema, json::parse(R"({"tasks": [{"title": 5}, {"title": "x", "size": "xl", "points": 20}], "extra": 1})"));
  std::string all;
  for (auto& e : errs) all += e + "\n";
  EXPECT_NE(all.find("$.tasks[0].title: Value type not permitted by 'type' constraint."), std::string::npos) << all;
  EXPECT_NE(all.find("$.tasks[1].title: String should be no fewer than 2 characters"), std::string::npos) << all;
  EXPECT_NE(all.find("$.tasks[1].size: Failed to match against any enum values."), std::string::npos) << all;
  EXPECT_NE(all.find("$.tasks[1].points: Expected number less than or equal to 13"), std::string::npos) << all;
  EXPECT_NE(all.find("$: Object contains a property that could not be validated using 'properties' or "
                     "'additionalProperties' constraints: 'extra'."), std::string::npos) << all;
  // A parent's echo of its child's failure is left out: each error is reported once, where it is.
  EXPECT_EQ(all.find("Failed to validate against schema associated with property name"), std::string::npos) << all;
  EXPECT_EQ(jsonschema::Validate(schema, json::object()), (std::vector<std::string>{"$: Missing required property 'tasks'."}));
  // 3.0 is an integer (draft 6 on), as ajv and Python's jsonschema say.
  EXPECT_TRUE(jsonschema::Validate(schema, json::parse(R"({"tasks": [{"title": "ab", "points": 3.0}]})")).empty());
}

TEST(JsonSchema, CombinatorsAndPatterns) {
  json s = json::parse(R"({"anyOf": [{"type": "string", "pattern": "^[A-Z]+-\\d+$"}, {"type": "null"}]})");
  ASSERT_TRUE(jsonschema::CheckSchema(s).ok());
  EXPECT_TRUE(jsonschema::Validate(s, "REQ-12").empty());
  EXPECT_TRUE(jsonschema::Validate(s, nullptr).empty());
  EXPECT_FALSE(jsonschema::Validate(s, "req-12").empty());
  json one = json::parse(R"({"oneOf": [{"type": "integer"}, {"type": "number"}]})");
  EXPECT_FALSE(jsonschema::Validate(one, 3).empty());  // matches both
  EXPECT_TRUE(jsonschema::Validate(one, 3.5).empty());
}

TEST(JsonSchema, Draft2020ItemsRefsAndDefinitions) {
  // prefixItems + items (2020-12) read as draft 07's items list + additionalItems.
  json t = json::parse(R"({"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": false})");
  ASSERT_TRUE(jsonschema::CheckSchema(t).ok());
  EXPECT_TRUE(jsonschema::Validate(t, json::parse(R"(["a", 1])")).empty());
  EXPECT_FALSE(jsonschema::Validate(t, json::parse(R"(["a", 1, 2])")).empty());
  EXPECT_FALSE(jsonschema::Validate(t, json::parse(R"([1, 1])")).empty());
  // $ref into $defs and definitions; a property named "pattern" is a property, not a keyword.
  json r = json::parse(R"({"type": "object", "required": ["id", "pattern"],
      "properties": {"id": {"$ref": "#/$defs/id"}, "pattern": {"$ref": "#/definitions/word"}},
      "$defs": {"id": {"type": "string", "pattern": "^REQ-\\d+$"}}, "definitions": {"word": {"type": "string"}}})");
  ASSERT_TRUE(jsonschema::CheckSchema(r).ok()) << jsonschema::CheckSchema(r).message();
  EXPECT_TRUE(jsonschema::Validate(r, json{{"id", "REQ-1"}, {"pattern", "x"}}).empty());
  auto bad = jsonschema::Validate(r, json{{"id", "req-1"}, {"pattern", 2}});
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_EQ(bad[0], R"($.id: String does not match pattern "^REQ-\\d+$".)");  // the pattern as JSON
  // Draft 07 keywords the old subset lacked.
  json k = json::parse(R"({"type": "object", "if": {"properties": {"kind": {"const": "bug"}}},
      "then": {"required": ["steps"]}, "propertyNames": {"maxLength": 8},
      "properties": {"n": {"multipleOf": 5}, "tags": {"type": "array", "contains": {"const": "x"}}}})");
  ASSERT_TRUE(jsonschema::CheckSchema(k).ok());
  EXPECT_FALSE(jsonschema::Validate(k, json{{"kind", "bug"}}).empty());
  EXPECT_TRUE(jsonschema::Validate(k, json{{"kind", "bug"}, {"steps", 1}}).empty());
  EXPECT_FALSE(jsonschema::Validate(k, json{{"n", 7}}).empty());
  EXPECT_FALSE(jsonschema::Validate(k, json{{"tags", {"a"}}}).empty());
  EXPECT_FALSE(jsonschema::Validate(k, json{{"much_too_long", 1}}).empty());
}

TEST(JsonSchema, LongStringsAreSafe) {
  // std::regex crashes near 100 KB; patterns are RE2, and patternProperties names are bounded.
  json s = json::parse(R"({"properties": {"a": {"pattern": "^[a-z]+$"}}, "patternProperties": {"^x": {"type": "string"}}})");
  ASSERT_TRUE(jsonschema::CheckSchema(s).ok());
  EXPECT_TRUE(jsonschema::Validate(s, json{{"a", std::string(4 << 20, 'a')}}).empty());
  EXPECT_FALSE(jsonschema::Validate(s, json{{"a", std::string(4 << 20, 'a') + "1"}}).empty());
  auto errs = jsonschema::Validate(s, json{{std::string(100000, 'x'), "v"}});
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_NE(errs[0].find("a property name of 100000 bytes is too long for patternProperties"), std::string::npos);
}

TEST(JsonSchema, RefsLoopsSiblingsAndFormats) {
  // A tree: "#" below a property descends first, so it is a schema, not a loop.
  json tree = json::parse(R"({"type": "object", "properties": {"name": {"type": "string"},
      "children": {"type": "array", "items": {"$ref": "#"}}}})");
  ASSERT_TRUE(jsonschema::CheckSchema(tree).ok());
  auto errs = jsonschema::Validate(tree, json::parse(R"({"name": "a", "children": [{"children": [{"name": 3}]}]})"));
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].rfind("$.children[0].children[0].name: ", 0), 0u) << errs[0];
  // Loops that never look inside the value are refused, not a stack overflow.
  for (const char* loop : {R"({"$ref": "#"})", R"({"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"})",
                           R"({"properties": {"x": {"$ref": "#/$defs/a"}}, "$defs": {"a": {"allOf": [{"$ref": "#/$defs/a"}]}}})",
                           R"({"properties": {"x": {"not": {"$ref": "#/properties/x"}}}})"}) {
    auto s = jsonschema::CheckSchema(json::parse(loop));
    EXPECT_FALSE(s.ok()) << loop;
    EXPECT_NE(s.message().find("refers back to itself"), std::string::npos) << s.message();
    EXPECT_EQ(jsonschema::Validate(json::parse(loop), 1, /*lenient=*/true).size(), 0u);
  }
  EXPECT_NE(jsonschema::CheckSchema(json::parse(R"({"$ref": "#/$defs/none"})")).message().find("points nowhere"),
            std::string::npos);
  // Keywords beside a $ref apply too (draft 07 alone would ignore them).
  json sib = json::parse(R"({"$defs": {"x": {"type": "object"}}, "$ref": "#/$defs/x", "required": ["a"]})");
  ASSERT_TRUE(jsonschema::CheckSchema(sib).ok());
  EXPECT_FALSE(jsonschema::Validate(sib, json::object()).empty());
  EXPECT_TRUE(jsonschema::Validate(sib, json{{"a", 1}}).empty());
  EXPECT_FALSE(jsonschema::Validate(sib, 5).empty());
  // format is an annotation: never a std::regex over a model's 1 MB string, never an error on a
  // value of another type.
  json f = json::parse(R"({"anyOf": [{"type": "string", "format": "date-time"}, {"type": "object"}]})");
  ASSERT_TRUE(jsonschema::CheckSchema(f).ok());
  EXPECT_TRUE(jsonschema::Validate(f, std::string(1 << 20, '1')).empty());
  EXPECT_TRUE(jsonschema::Validate(f, json::object()).empty());
  EXPECT_TRUE(jsonschema::Validate(json::parse(R"({"format": "date"})"), 5).empty());
}

TEST(JsonSchema, RefusesWhatItCannotCheck) {
  auto s = jsonschema::CheckSchema(json::parse(R"({"properties": {"a": {"$ref": "#/defs/x"}}})"));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("\"$ref\": \"#/defs/x\" at \"/properties/a\" points nowhere in the schema"), std::string::npos) << s.message();
  s = jsonschema::CheckSchema(json::parse(R"({"$ref": "https://example.com/s.json"})"));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("\"/$ref\" must refer inside the schema"), std::string::npos) << s.message();
  s = jsonschema::CheckSchema(json::parse(R"X({"pattern": "(?=a)"})X"));
  EXPECT_NE(s.message().find("matched with RE2"), std::string::npos) << s.message();
  s = jsonschema::CheckSchema(json::parse(R"({"properties": {"a": {"minimun": 1}}})"));
  EXPECT_NE(s.message().find("unsupported schema keyword \"minimun\" at \"/properties/a/minimun\""), std::string::npos);
  // A tool's schema from a server is the server's to enforce: lenient skips what cannot be used.
  EXPECT_TRUE(jsonschema::Validate(json::parse(R"({"$ref": "#/nowhere"})"), 1, /*lenient=*/true).empty());
  EXPECT_EQ(jsonschema::Validate(json::parse(R"({"$ref": "#/nowhere"})"), 1).size(), 1u);
  EXPECT_FALSE(jsonschema::CheckSchema(json::parse(R"({"type": "strin"})")).ok());
  EXPECT_FALSE(jsonschema::CheckSchema(json::parse(R"({"pattern": "("})")).ok());
  EXPECT_FALSE(jsonschema::CheckSchema(json::parse(R"({"minItems": -1})")).ok());
}

}  // namespace
}  // namespace sw
