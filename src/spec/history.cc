// The spec documents as they were at a git revision (`spec impact --since REV`).
#include <filesystem>

#include "spec/spec.h"
#include "tools/git_repo.h"

namespace sw::spec {

Result<std::vector<std::pair<std::string, std::string>>> ReadSpecDocsAt(const Config& c, const std::string& rev) {
  SW_ASSIGN_OR_RETURN(auto repo, tools::GitRepo::Open(c.root));
  std::string prefix = std::filesystem::path(c.specs_dir).lexically_normal().string();
  if (prefix == ".") prefix.clear();
  SW_ASSIGN_OR_RETURN(auto files, repo->ReadFilesAt(rev, prefix, ".md"));
  std::vector<std::pair<std::string, std::string>> docs(files.begin(), files.end());
  return docs;
}

}  // namespace sw::spec
