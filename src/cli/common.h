// Helpers shared by the command implementations.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "cli/commands.h"
#include "llm/prices.h"
#include "llm/provider.h"
#include "store/store.h"
#include "tools/tool.h"

namespace sw::cli {

/// Env is what commands act through: the store, providers, prices and tools.
struct Env {
  std::unique_ptr<store::Store> store;
  llm::Registry providers;
  llm::PriceTable prices;
  tools::Registry tools;
};

/// Fail prints "specwright CMD: message" and maps the status to an exit code.
int Fail(const Context& ctx, const Status& s);
/// Usage prints the problem and the command's usage line; exit code 2.
int Usage(const Context& ctx, const std::string& problem);
Status OpenStore(const Context& ctx, Env* env);
/// SetupEnv opens the store (if not yet), registers builtin tools and, when script is set,
/// the scripted provider.
Status SetupEnv(const Context& ctx, const std::string& script, Env* env);

}  // namespace sw::cli

#define SW_RETURN_IF_ERROR_EXIT(ctx, expr)       \
  do {                                           \
    ::sw::Status _s = (expr);                    \
    if (!_s.ok()) return ::sw::cli::Fail(ctx, _s); \
  } while (0)
