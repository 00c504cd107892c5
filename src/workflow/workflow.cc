// Small pieces of the workflow data model (workflow.h) that are not loading.
#include "workflow/workflow.h"

namespace sw::workflow {

std::string Diagnostic::ToString() const {
  std::string out = file;
  if (pos.line > 0) {
    out += ":" + std::to_string(pos.line) + ":" + std::to_string(pos.col > 0 ? pos.col : 1);
  }
  if (!out.empty()) out += ": ";
  return out + message;
}

const char* NodeKindName(NodeKind k) {
  switch (k) {
    case NodeKind::kLlm:
      return "llm";
    case NodeKind::kTool:
      return "tool";
    case NodeKind::kHuman:
      return "human";
    case NodeKind::kWorkflow:
      return "workflow";
    case NodeKind::kAgent:
      return "agent";
  }
  return "unknown";
}

std::shared_ptr<const Workflow> WithModel(const std::shared_ptr<const Workflow>& wf, const std::string& model) {
  auto copy = std::make_shared<Workflow>(*wf);
  for (auto& n : copy->nodes) {
    if (n.kind == NodeKind::kLlm || n.kind == NodeKind::kAgent) n.model.model = model;
    if (n.kind == NodeKind::kWorkflow && n.sub) n.sub = WithModel(n.sub, model);
  }
  return copy;
}

}  // namespace sw::workflow
