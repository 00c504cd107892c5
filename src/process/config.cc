// Roles (which model plays architect, developer, verifier, reviewers, QA), the `roles:` and
// `process:` sections of specwright.yaml, binding roles into the shipped workflows, and
// finding the shipped process/ folder.
#include <unistd.h>

#include <cstdlib>
#include <algorithm>
#include <filesystem>

#include <yaml-cpp/yaml.h>

#include "workflow/yaml_json.h"

#include "base/fs.h"
#include "base/strings.h"
#include "process/process.h"

namespace sw::process {
namespace fs = std::filesystem;

namespace {

/// The strong and the cheaper model of each built-in provider with a key. Local servers
/// (Ollama, vLLM, llama.cpp) serve whatever was pulled: they are named in roles:.
struct ProviderModels {
  const char* provider;
  const char* strong;
  const char* cheap;
};
constexpr ProviderModels kModels[] = {
    {"anthropic", "anthropic/claude-opus-4-5", "anthropic/claude-sonnet-4-5"},
    {"openai", "openai/gpt-5", "openai/gpt-5-mini"},
    {"gemini", "gemini/gemini-2.5-pro", "gemini/gemini-2.5-flash"},
};

std::string At(const std::string& file, const YAML::Node& n) {
  return file + ":" + std::to_string(n.Mark().line + 1) + ":" + std::to_string(n.Mark().column + 1);
}

Result<std::string> ModelAt(const std::string& file, const YAML::Node& n, const std::string& what) {
  if (!n.IsScalar()) return InvalidInput(At(file, n) + ": " + what + " must be a model like \"openai/gpt-5\"");
  std::string m = n.as<std::string>();
  size_t slash = m.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == m.size())
    return InvalidInput(At(file, n) + ": " + what + " is " + Quote(m) + "; expected provider/model, e.g. \"openai/gpt-5\"");
  return m;
}

}  // namespace

Roles DefaultRoles(const std::vector<std::string>& providers) {
  Roles r;
  std::vector<const ProviderModels*> known;  // in kModels' order of preference
  for (const auto& m : kModels)
    if (std::find(providers.begin(), providers.end(), m.provider) != providers.end()) known.push_back(&m);
  if (known.empty()) {
    // Nothing configured: the scripted provider's role names (what the recorded demo answers).
    r.architect = "scripted/architect";
    r.developer = "scripted/developer";
    r.verifier = "scripted/verifier";
    r.qa = "scripted/qa";
    r.reviewers = {"scripted/reviewer-a", "scripted/reviewer-b"};
    return r;
  }
  r.architect = known[0]->strong;
  r.developer = known[0]->cheap;
  r.qa = known[0]->cheap;
  // A verifier from another vendor than the author sees what the author's model overlooks.
  r.verifier = known.size() > 1 ? known[1]->cheap : known[0]->cheap;
  for (size_t i = 0; i < known.size() && i < 3; ++i) r.reviewers.push_back(known[i]->strong);
  if (r.reviewers.size() == 1) r.reviewers.push_back(known[0]->cheap);
  return r;
}

Status LoadProcessConfig(const std::string& file, const std::vector<std::string>& providers, Options* o) {
  return LoadProcessConfigs({file}, providers, o);
}

namespace {
/// ApplyProcessConfig reads one file's roles: and process: over what o has.
Status ApplyProcessConfig(const std::string& file, Options* o) {
  if (file.empty() || !fs::exists(file)) return Status::Ok();
  SW_ASSIGN_OR_RETURN(YAML::Node root, LoadYamlFile(file));
  if (!root.IsMap()) return Status::Ok();
  static const std::vector<std::string> kRoles{"architect", "developer", "verifier", "qa", "reviewers"};
  if (YAML::Node roles = root["roles"]; roles) {
    if (!roles.IsMap()) return InvalidInput(At(file, roles) + ": roles must be a map of role -> model");
    for (const auto& kv : roles) {
      std::string key = kv.first.as<std::string>();
      if (key == "reviewers") {
        std::vector<std::string> list;
        if (kv.second.IsScalar()) {
          SW_ASSIGN_OR_RETURN(std::string m, ModelAt(file, kv.second, "roles.reviewers"));
          list.push_back(m);
        } else if (kv.second.IsSequence() && kv.second.size() > 0) {
          for (const auto& x : kv.second) {
            SW_ASSIGN_OR_RETURN(std::string m, ModelAt(file, x, "a reviewer"));
            list.push_back(m);
          }
        } else {
          return InvalidInput(At(file, kv.second) + ": roles.reviewers must be a list of models");
        }
        o->roles.reviewers = list;
        continue;
      }
      std::string* slot = key == "architect" ? &o->roles.architect
                          : key == "developer" ? &o->roles.developer
                          : key == "verifier"  ? &o->roles.verifier
                          : key == "qa"        ? &o->roles.qa
                                               : nullptr;
      if (!slot) {
        std::string hint = DidYouMean(key, kRoles);
        return InvalidInput(At(file, kv.first) + ": unknown role " + Quote(key) +
                            (hint.empty() ? "" : " (did you mean " + Quote(hint) + "?)") + "; the roles are " +
                            Join(kRoles, ", "));
      }
      SW_ASSIGN_OR_RETURN(*slot, ModelAt(file, kv.second, "roles." + key));
    }
  }
  if (YAML::Node p = root["process"]; p) {
    if (!p.IsMap()) return InvalidInput(At(file, p) + ": process must be a map {qa_command, qa_allow}");
    for (const auto& kv : p) {
      std::string key = kv.first.as<std::string>();
      if (key == "qa_command" && kv.second.IsScalar()) {
        o->qa_command = kv.second.as<std::string>();
      } else if (key == "qa_allow" && kv.second.IsSequence()) {
        o->qa_allow.clear();
        for (const auto& x : kv.second) o->qa_allow.push_back(x.as<std::string>());
      } else {
        std::string hint = DidYouMean(key, {"qa_command", "qa_allow"});
        return InvalidInput(At(file, kv.first) + ": unknown or malformed process setting " + Quote(key) +
                            (hint.empty() ? "" : " (did you mean " + Quote(hint) + "?)"));
      }
    }
  }
  return Status::Ok();
}
}  // namespace

Status LoadProcessConfigs(const std::vector<std::string>& files, const std::vector<std::string>& providers, Options* o) {
  o->roles = DefaultRoles(providers);
  for (const auto& f : files) SW_RETURN_IF_ERROR(ApplyProcessConfig(f, o));
  return Status::Ok();
}

Result<std::shared_ptr<const workflow::Workflow>> BindRoles(const workflow::Workflow& wf, const Roles& roles) {
  auto copy = std::make_shared<workflow::Workflow>(wf);
  std::vector<workflow::Node> nodes;
  for (const auto& n : copy->nodes) {
    const std::string& m = n.model.model;
    if (!m.starts_with("role/")) {
      nodes.push_back(n);
      continue;
    }
    std::string role = m.substr(5);
    if (role == "reviewer") {
      if (roles.reviewers.empty()) return InvalidInput("no reviewers are configured (roles.reviewers)");
      for (size_t i = 0; i < roles.reviewers.size(); ++i) {
        workflow::Node c = n;
        c.id = n.id + "_" + std::to_string(i + 1);
        c.model.model = roles.reviewers[i];
        nodes.push_back(std::move(c));
      }
      continue;
    }
    const std::string* model = role == "architect" ? &roles.architect
                               : role == "developer" ? &roles.developer
                               : role == "verifier"  ? &roles.verifier
                               : role == "qa"        ? &roles.qa
                                                     : nullptr;
    if (!model || model->empty())
      return InvalidInput(wf.file + ": node " + Quote(n.id) + " names " + Quote(m) + ", which is not a role");
    workflow::Node c = n;
    c.model.model = *model;
    nodes.push_back(std::move(c));
  }
  copy->nodes = std::move(nodes);
  copy->index.clear();
  for (size_t i = 0; i < copy->nodes.size(); ++i) copy->index[copy->nodes[i].id] = static_cast<int>(i);
  return std::shared_ptr<const workflow::Workflow>(copy);
}

Result<std::string> FindProcessDir(const std::string& flag, const std::string& argv0) {
  auto ok = [](const fs::path& d) { return fs::exists(d / "process.yaml"); };
  if (!flag.empty()) {
    if (!ok(flag)) return NotFound("--process-dir " + flag + " has no process.yaml");
    return fs::absolute(flag).lexically_normal().string();
  }
  if (const char* e = std::getenv("SPECWRIGHT_PROCESS_DIR"); e && *e) {
    if (!ok(e)) return NotFound("$SPECWRIGHT_PROCESS_DIR " + std::string(e) + " has no process.yaml");
    return fs::absolute(e).lexically_normal().string();
  }
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) exe = fs::absolute(argv0);
  std::vector<fs::path> candidates{exe.parent_path() / "process", exe.parent_path().parent_path() / "share/specwright/process"};
#ifdef SW_SOURCE_DIR
  candidates.push_back(fs::path(SW_SOURCE_DIR) / "process");
#endif
  for (const auto& c : candidates)
    if (ok(c)) return c.lexically_normal().string();
  return NotFound("cannot find the shipped process/ folder (looked beside the binary and in share/specwright/process); "
                  "give --process-dir or set SPECWRIGHT_PROCESS_DIR");
}

}  // namespace sw::process
