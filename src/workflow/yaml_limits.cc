// Bounded YAML: aliases are counted as they would expand before anything expands them.
#include <filesystem>
#include <map>
#include <sstream>
#include <vector>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "base/fs.h"
#include "workflow/yaml_json.h"

namespace sw {
namespace {

/// Counts, in one pass over the parser's events, how many nodes the document holds once every
/// alias is expanded, and how deeply aliases nest inside what other aliases bring in.
class AliasCounter : public YAML::EventHandler {
 public:
  struct Limit {
    YAML::Mark mark;
    std::string message;
  };

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t a) override { Leaf(m, a, 0); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t a, const std::string& v) override {
    Leaf(m, a, v.size());
  }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t a) override {
    auto it = anchors_.find(a);
    Size s = it == anchors_.end() ? Size{1, 0, 0} : it->second;
    s.depth += 1;
    if (s.depth > kMaxYamlAliasDepth)
      throw Limit{m, "YAML aliases nest " + std::to_string(s.depth) + " deep (an alias of an anchor that holds "
                     "aliases…); at most " + std::to_string(kMaxYamlAliasDepth) + " levels are allowed"};
    aliased_ += s.nodes;
    aliased_bytes_ += s.bytes;
    if (aliased_ > kMaxYamlAliasNodes)
      throw Limit{m, "YAML aliases expand to more than " + std::to_string(kMaxYamlAliasNodes) +
                     " nodes (an alias bomb?); write the values out or use fewer aliases"};
    if (aliased_bytes_ > kMaxYamlAliasBytes)
      throw Limit{m, "YAML aliases repeat more than " + std::to_string(kMaxYamlAliasBytes >> 20) +
                     " MiB of text (a large anchored value aliased many times); write it once"};
    Add(s);
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t a, YAML::EmitterStyle::value) override {
    open_.push_back({a, {1, 0, 0}});
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t a, YAML::EmitterStyle::value) override {
    open_.push_back({a, {1, 0, 0}});
  }
  void OnMapEnd() override { Close(); }

 private:
  struct Size {
    uint64_t nodes;
    int depth;       // how many aliases deep the deepest alias inside goes
    uint64_t bytes;  // scalar text inside
  };
  void Leaf(const YAML::Mark&, YAML::anchor_t a, uint64_t bytes) {
    if (a) anchors_[a] = Size{1, 0, bytes};
    Add(Size{1, 0, bytes});
  }
  void Add(const Size& s) {
    if (open_.empty()) return;
    open_.back().second.nodes += s.nodes;
    open_.back().second.bytes += s.bytes;
    open_.back().second.depth = std::max(open_.back().second.depth, s.depth);
  }
  void Close() {
    if (open_.empty()) return;
    auto [a, s] = open_.back();
    open_.pop_back();
    if (a) anchors_[a] = s;
    Add(s);
  }
  std::map<YAML::anchor_t, Size> anchors_;
  std::vector<std::pair<YAML::anchor_t, Size>> open_;
  uint64_t aliased_ = 0, aliased_bytes_ = 0;
};

}  // namespace

std::optional<YamlLimitError> CheckYamlLimits(const std::string& text) {
  std::istringstream in(text);
  try {
    YAML::Parser parser(in);
    AliasCounter counter;
    while (parser.HandleNextDocument(counter)) {
    }
  } catch (const AliasCounter::Limit& l) {
    return YamlLimitError{l.mark.line + 1, l.mark.column + 1, l.message};
  } catch (const YAML::Exception&) {
    // Not this check's to report: loading the text says what is wrong, and where.
  }
  return std::nullopt;
}

Result<YAML::Node> LoadYamlFile(const std::string& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxYamlFileBytes)
    return InvalidInput(path + ": " + std::to_string(size) + " bytes; a YAML file may hold at most " +
                        std::to_string(kMaxYamlFileBytes >> 20) + " MiB");
  SW_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return LoadYaml(text, path);
}

Result<YAML::Node> LoadYaml(const std::string& text, const std::string& origin) {
  if (auto e = CheckYamlLimits(text))
    return InvalidInput(origin + ":" + std::to_string(e->line) + ":" + std::to_string(e->col) + ": " + e->message);
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return InvalidInput(origin + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                        ": invalid YAML: " + e.msg);
  }
}

}  // namespace sw
