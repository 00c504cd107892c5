#include "cli/common.h"

#include <cstdio>

#include "base/fs.h"
#include "cli/cli.h"
#include "llm/scripted.h"

namespace sw::cli {

int Fail(const Context& ctx, const Status& s) {
  std::fprintf(stderr, "specwright %s: %s\n", ctx.command.c_str(), s.message().c_str());
  switch (s.code()) {
    case Code::kInvalidInput:
    case Code::kNotFound: return kExitInvalid;
    case Code::kCancelled: return kExitCancelled;
    default: return kExitFailed;
  }
}

int Usage(const Context& ctx, const std::string& problem) {
  std::fprintf(stderr, "specwright %s: %s\nusage: specwright %s\n", ctx.command.c_str(), problem.c_str(),
               ctx.usage.c_str());
  return kExitInvalid;
}

Status OpenStore(const Context& ctx, Env* env) {
  if (env->store) return Status::Ok();
  auto st = store::OpenSqlite(ctx.store_dir);
  if (!st.ok()) return st.status().Annotate("opening the store " + ctx.store_dir);
  env->store = std::move(st).value();
  return Status::Ok();
}

Status SetupEnv(const Context& ctx, const std::string& script, Env* env) {
  SW_RETURN_IF_ERROR(OpenStore(ctx, env));
  tools::AddBuiltins(&env->tools);
  if (!script.empty()) {
    auto p = llm::LoadScripted(script, &env->prices);
    if (!p.ok()) return p.status();
    env->providers.Add(*p);
  }
  return Status::Ok();
}

}  // namespace sw::cli
