// `specwright store copy FROM TO` and `specwright store check [STORE]`: moving runs between
// stores (a directory or a postgresql:// URL, either way) and checking one's consistency.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/strings.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/store_copy.h"

namespace sw::cli {
namespace {

using json = nlohmann::json;

/// Shown is what a message names for a location: a folder as an absolute path, a URL without
/// its password.
std::string Shown(const std::string& location) {
  return store::IsStoreUrl(location) ? store::StoreLocationForDisplay(location) : StoreFilesDirFor(location);
}

/// OpenNamed opens the store at location; create: make it (TO), else it must exist (FROM,
/// check) and nothing is made.
Result<std::unique_ptr<store::Store>> OpenNamed(const std::string& what, const std::string& location, bool create) {
  std::string shown = Shown(location);
  if (!create && !store::IsStoreUrl(location) && !FileExists(store::SqliteDatabasePath(location)))
    return NotFound(what + ": no store at " + shown);
  store::StoreOptions o;
  o.create = create;
  auto st = store::OpenStore(location, o);
  if (!st.ok() && st.status().code() == Code::kNotFound && !create) return NotFound(what + ": no store at " + shown);
  if (!st.ok()) {
    std::string m = st.status().message();
    return Status(st.status().code(), what + ": " + (m.find(shown) == std::string::npos ? shown + ": " : "") + m);
  }
  return std::move(st).value();
}

int Copy(Context& ctx) {
  const auto& pos = ctx.args.positional;
  if (pos.size() != 3) return Usage(ctx, "store copy takes FROM and TO (each a store directory or a postgresql:// URL)");
  const std::string &from_loc = pos[1], &to_loc = pos[2];
  bool same = from_loc == to_loc;
  if (!same && !store::IsStoreUrl(from_loc) && !store::IsStoreUrl(to_loc)) same = SamePath(from_loc, to_loc);
  if (!same && store::IsStoreUrl(from_loc) && store::IsStoreUrl(to_loc))
    same = store::StoreLocationForDisplay(from_loc) == store::StoreLocationForDisplay(to_loc);
  if (same) return Usage(ctx, "FROM and TO are the same store (" + Shown(from_loc) + ")");
  auto from = OpenNamed("FROM", from_loc, false);
  if (!from.ok()) return Fail(ctx, from.status());
  auto to = OpenNamed("TO", to_loc, true);
  if (!to.ok()) return Fail(ctx, to.status());
  CopyOptions o;
  o.runs = ctx.args.All("run");
  o.say = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  std::fprintf(stderr, "copying from %s (%s) to %s (%s)\n", Shown(from_loc).c_str(), (*from)->Backend().c_str(),
               Shown(to_loc).c_str(), (*to)->Backend().c_str());
  auto rep = CopyRuns(from->get(), to->get(), o);
  if (!rep.ok()) return Fail(ctx, rep.status());
  bool ok = rep->ok();
  if (ctx.json) {
    json counts = json::object();
    for (const auto& c : rep->counts) counts[c.table] = {{"from", c.from}, {"to", c.to}};
    json refused = json::array(), mismatched = json::array();
    for (const auto& [run, why] : rep->refused) refused.push_back({{"run", run}, {"why", why}});
    for (const auto& [run, why] : rep->mismatched) mismatched.push_back({{"run", run}, {"why", why}});
    json j{{"from", Shown(from_loc)}, {"to", Shown(to_loc)}, {"copied", rep->copied},
           {"unchanged", rep->unchanged}, {"refused", refused}, {"mismatched", mismatched},
           {"counts", counts}, {"ok", ok}};
    std::cout << j.dump(2) << "\n";
  } else {
    std::printf("%zu runs copied, %zu already there unchanged, %zu refused\n", rep->copied.size(),
                rep->unchanged.size(), rep->refused.size());
    std::printf("%-14s %10s %10s\n", "table", "from", "to");
    for (const auto& c : rep->counts)
      std::printf("%-14s %10lld %10lld%s\n", c.table.c_str(), static_cast<long long>(c.from),
                  static_cast<long long>(c.to), c.from == c.to ? "" : "   DIFFERS");
    for (const auto& [run, why] : rep->refused) std::printf("refused %s: %s\n", run.c_str(), why.c_str());
    for (const auto& [run, why] : rep->mismatched) std::printf("MISMATCH %s: %s\n", run.c_str(), why.c_str());
    std::printf("%s\n", ok ? "verified: every row read in FROM is in TO"
                           : "NOT verified: see above (refused runs were not copied; nothing in TO was overwritten)");
  }
  std::fflush(stdout);
  return ok ? kExitOk : kExitFailed;
}

int Check(Context& ctx) {
  const auto& pos = ctx.args.positional;
  if (pos.size() > 2) return Usage(ctx, "store check takes at most one store (default: --store or $SPECWRIGHT_STORE)");
  std::string location = pos.size() == 2 ? pos[1] : ctx.store_dir;
  auto st = OpenNamed("check", location, false);
  if (!st.ok()) return Fail(ctx, st.status());
  auto text = (*st)->IntegrityCheck();
  if (!text.ok()) return Fail(ctx, text.status());
  bool ok = Trim(*text) == "ok";
  if (ctx.json) {
    std::cout << json{{"store", Shown(location)}, {"backend", (*st)->Backend()}, {"ok", ok}, {"result", Trim(*text)}}.dump(2)
              << "\n";
  } else {
    std::printf("%s (%s): %s\n", Shown(location).c_str(), (*st)->Backend().c_str(), Trim(*text).c_str());
  }
  return ok ? kExitOk : kExitFailed;
}

}  // namespace

int CmdStore(Context& ctx) {
  const auto& pos = ctx.args.positional;
  if (pos.empty()) return Usage(ctx, "store needs one of: copy, check");
  if (pos[0] == "copy") return Copy(ctx);
  if (ctx.args.Has("run")) return Usage(ctx, "--run is for store copy");
  if (pos[0] == "check") return Check(ctx);
  std::string hint = DidYouMean(pos[0], {"copy", "check"});
  // A URL given where the command belongs (`store URL …`) is named without its password.
  return Usage(ctx, "unknown store command " + Quote(store::StoreLocationForDisplay(pos[0])) +
                        (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)") + "; store needs one of: copy, check");
}

}  // namespace sw::cli
