// `specwright develop BRIEF`, `specwright modify "REQUEST"` and `specwright review PHASE`: the
// built-in developer process
// (src/process), with the terminal (or the web UI, --wait) as the person it asks.
#include <cctype>
#include <fstream>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "base/fs.h"
#include "base/strings.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/progress.h"
#include "engine/control.h"
#include "process/process.h"
#include "workflow/yaml_json.h"

namespace sw::cli {
namespace {

/// PhaseSaid is the phase a process line announces ("phase QA, round 1: ..." -> "QA"), or "".
std::string PhaseSaid(const std::string& line) {
  if (line.rfind("phase ", 0) != 0) return "";
  size_t end = line.find_first_of(" :,(", 6);
  return line.substr(6, end == std::string::npos ? std::string::npos : end - 6);
}

/// DefaultProjectName is the folder a develop builds in when --workspace is not given: the
/// brief's title up to a dash or colon, as a lowercase slug ("# tipsplit — split a bill" ->
/// "tipsplit"); without a title, the brief's file name ("BRIEF" would name every project the
/// same, so it is lowercased only as the last resort).
std::string DefaultProjectName(const std::string& brief) {
  std::ifstream in(brief);
  std::string title;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# ", 0) == 0) {
      title = line.substr(2);
      break;
    }
  }
  for (const char* cut : {" — ", " – ", " - ", ":"})
    if (size_t at = title.find(cut); at != std::string::npos) title = title.substr(0, at);
  std::string slug;
  for (unsigned char c : title) {
    if (std::isalnum(c)) slug += static_cast<char>(std::tolower(c));
    else if (!slug.empty() && slug.back() != '-') slug += '-';
    if (slug.size() >= 40) break;
  }
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  if (slug.empty()) {
    slug = std::filesystem::path(brief).stem().string();
    for (char& c : slug) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return slug.empty() ? "project" : slug;
}

namespace fs = std::filesystem;
using json = nlohmann::json;

/// TitleOf is a brief's first `# ` heading, trimmed ("" when it has none).
std::string TitleOf(const std::string& text) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("# ", 0) == 0) return Trim(line.substr(2));
  return "";
}

/// CheckRecordingAnswers refuses a recording made for another brief: its `brief:` names the
/// title of the brief it answers, and a recording answers no other (it would "develop" and
/// "verify" its own project's documents for any brief). A recording that does not say is
/// used with a warning.
Status CheckRecordingAnswers(const std::string& script, const std::string& brief_text, const std::string& brief_name) {
  if (Trim(brief_text).empty()) return Status::Ok();  // the process says what is wrong with it
  auto text = ReadFile(script);
  if (!text.ok()) return text.status().Annotate("the recording");
  auto rec = ParseYamlText(*text, script);
  if (!rec.ok()) return rec.status();
  if (!rec->is_object() || !rec->contains("brief")) {
    std::fprintf(stderr, "warning: the recording %s does not say which brief it answers (a top-level `brief:` with "
                 "the brief's title); its answers may be another project's\n", script.c_str());
    return Status::Ok();
  }
  std::string want = Trim((*rec)["brief"].is_string() ? (*rec)["brief"].get<std::string>() : "");
  if (want.rfind("# ", 0) == 0) want = Trim(want.substr(2));
  std::string got = TitleOf(brief_text);
  if (got == want) return Status::Ok();
  return InvalidInput("the recording " + script + " answers the brief " + Quote(want) + ", not " + brief_name +
                      (got.empty() ? " (it has no `# ` title)" : " (" + Quote(got) + ")") +
                      ": a recording only answers the brief it was recorded for. Run this brief with real models "
                      "(roles: in specwright.yaml, or an API key), or use the recording's own brief");
}

std::shared_ptr<std::atomic<bool>> g_process_cancel;

void OnProcessSigint(int) {
  if (g_process_cancel) g_process_cancel->store(true);
}

/// Models the roles name, each checked for a usable provider before anything runs.
Status CheckRoles(const process::Roles& r, const Env& env) {
  std::vector<std::pair<std::string, std::string>> all{
      {"architect", r.architect}, {"developer", r.developer}, {"verifier", r.verifier}, {"qa", r.qa}};
  for (size_t i = 0; i < r.reviewers.size(); ++i) all.emplace_back("reviewer " + std::to_string(i + 1), r.reviewers[i]);
  for (const auto& [role, model] : all) {
    std::string prov, name;
    SW_RETURN_IF_ERROR(llm::SplitModel(model, &prov, &name));
    if (env.providers.Get(prov)) continue;
    if (prov == "scripted")
      return InvalidInput("role " + role + " uses " + model + ": no provider has an API key (ANTHROPIC_API_KEY, "
                          "OPENAI_API_KEY, GEMINI_API_KEY) and specwright.yaml names no roles; set a key, name models "
                          "under roles: (a local Ollama too), or answer from a recording with --script FILE");
    SW_RETURN_IF_ERROR(llm::CheckUsable(env.llm, prov, "role " + role + " (" + model + ")"));
    return InvalidInput("role " + role + " uses " + model + ", but provider " + Quote(prov) + " is not available");
  }
  return Status::Ok();
}

enum class Mode { kDevelop, kModify, kReview };

int RunProcess(Context& ctx, Mode mode) {
  const auto& pos = ctx.args.positional;
  const bool develop = mode == Mode::kDevelop;
  bool abandon = mode == Mode::kModify && ctx.args.Has("abandon");
  if (pos.size() != (abandon ? 0u : 1u))
    return Usage(ctx, develop                ? "develop needs exactly one BRIEF file"
                      : mode == Mode::kReview ? "review needs exactly one PHASE (requirements, domain, stories, "
                                                "architecture, api, tests)"
                      : abandon               ? "modify --abandon takes no change request"
                                              : "modify needs exactly one change request, in quotes");
  std::string script = ctx.args.Get("script");
  if (script.empty())
    if (const char* e = std::getenv("SPECWRIGHT_SCRIPT")) script = e;
  if (!script.empty()) script = fs::absolute(script).string();
  std::string config = ctx.args.Get("config");
  if (const char* e = std::getenv("SPECWRIGHT_CONFIG"); config.empty() && e) config = e;
  if (config.empty() && FileExists("specwright.yaml")) config = "specwright.yaml";
  if (!config.empty()) config = fs::absolute(config).string();
  // What refuses the command comes before the store is opened: a command refused leaves nothing behind.
  Env env;
  SW_RETURN_IF_ERROR_EXIT(ctx, SetupProviders(script, config, ctx.args.Get("prices"), &env));
  process::Options o;
  o.yes = ctx.args.Has("yes");
  o.abandon = abandon;
  o.no_cache = ctx.args.Has("no-cache");
  o.until = ctx.args.Get("until");
  const std::vector<std::string>& until_phases = process::UntilPhases();
  if (!o.until.empty() && std::find(until_phases.begin(), until_phases.end(), o.until) == until_phases.end()) {
    std::string hint = DidYouMean(o.until, until_phases);
    return Usage(ctx, "--until " + Quote(o.until) + " is not a phase" + (hint.empty() ? "" : " (did you mean " + Quote(hint) + "?)") +
                          "; the phases are " + Join(until_phases, ", "));
  }
  auto pdir = process::FindProcessDir(ctx.args.Get("process-dir"), "/proc/self/exe");
  if (!pdir.ok()) return Fail(ctx, pdir.status());
  o.process_dir = *pdir;
  if (develop) {
    if (auto brief = ReadFile(pos[0]); !brief.ok()) return Fail(ctx, brief.status().Annotate("the brief"));
  }
  std::string ws = ctx.args.Get("workspace");
  if (ws.empty()) {
    if (develop) {
      ws = DefaultProjectName(pos[0]);
      std::fprintf(stderr, "workspace: %s (named after the brief's title; --workspace DIR chooses another)\n",
                   fs::absolute(ws).lexically_normal().c_str());
    } else {
      ws = ".";
    }
  }
  o.project = fs::absolute(ws).lexically_normal().string();
  if (!o.project.empty() && o.project.back() == '/') o.project.pop_back();
  if (!develop && !FileExists(o.project + "/.specwright/process.json")) {
    // As the process says it (process/modify.cc), before anything is made.
    std::string what = mode == Mode::kReview ? "review" : abandon ? "abandon a change of" : "modify";
    return Fail(ctx, InvalidInput(o.project + " has no develop to " + what + " (no .specwright/process.json); run "
                                  "`specwright develop BRIEF.md --workspace " + o.project + "` first"));
  }
  if (!script.empty() && !abandon) {
    // A recording answers one brief: the one given, or the project's.
    std::string brief_file = develop ? pos[0] : o.project + "/BRIEF.md";
    if (auto brief_text = ReadFile(brief_file); brief_text.ok())
      SW_RETURN_IF_ERROR_EXIT(ctx, CheckRecordingAnswers(script, *brief_text, brief_file));
  }
  // Roles: specwright.yaml `roles:`; without it, from the providers that have keys (or the
  // recording's role names when a script answers).
  std::vector<std::string> configured;
  if (script.empty())
    for (const auto& [name, p] : env.llm.providers)
      if (!env.llm.missing_key.count(name) && env.providers.Get(name)) configured.push_back(name);
  if (!abandon) {  // abandoning only puts git back: no model is needed, none is checked
    // roles: of the user-level config, then of the project's (SetupProviders has checked both).
    SW_RETURN_IF_ERROR_EXIT(ctx, process::LoadProcessConfigs({llm::UserConfigPath(llm::ProcessEnv()), config},
                                                             configured, &o));
    SW_RETURN_IF_ERROR_EXIT(ctx, CheckRoles(o.roles, env));
  }
  SW_RETURN_IF_ERROR_EXIT(ctx, OpenStore(ctx, &env));
  o.store = env.store.get();
  o.prefs_file = StoreFilesDir(ctx) + "/preferences.md";

  bool tty = ::isatty(STDERR_FILENO);
  ProgressDisplay display(stderr, tty, ctx.no_color);
  int phase_k = 0;  // the furthest develop phase begun (a phase said again never moves back)
  g_process_cancel = std::make_shared<std::atomic<bool>>(false);
  struct sigaction sa {};
  sa.sa_handler = OnProcessSigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  o.say = [&](const std::string& line) {
    display.Pause();
    std::fprintf(stderr, "%s\n", line.c_str());
    if (std::string phase = PhaseSaid(line); !phase.empty()) {
      // Phase k of the develop's phases (process::DevelopPhases, in the order they end): "tests"
      // begins before "tasks" and ends after it, so the bar holds at the furthest one begun.
      const auto& phases = process::DevelopPhases();
      auto at = std::find(phases.begin(), phases.end(), phase);
      if (develop && at != phases.end()) phase_k = std::max(phase_k, static_cast<int>(at - phases.begin()) + 1);
      // A modify or a review enters where its change does: its phase has a name, not a place.
      display.SetPhase(phase, develop ? phase_k : 0, develop ? static_cast<int>(phases.size()) : 0);
    }
  };
  bool wait = ctx.args.Has("wait");
  o.run = [&](const process::StepRun& step) -> Result<engine::RunSummary> {
    if (g_process_cancel->load()) return Status(Code::kCancelled, "cancelled");
    engine::RunOptions options;
    options.inputs = step.inputs;
    options.run_id = step.run_id;
    options.workspace_dir = step.workspace;
    options.use_cache = !step.no_cache;
    options.session = step.session;
    options.label = step.label;
    options.auto_approve = o.yes;
    options.listener = &display;
    options.cancel = g_process_cancel;
    // The status line shows what the whole session spent: its earlier runs and this one.
    double before = 0;
    if (auto runs = env.store->ListRuns(-1, false); runs.ok())
      for (const auto& r : *runs)
        if (!step.session.empty() && r.session == step.session && r.id != step.run_id && r.id != step.resume_id)
          before += r.cost_usd;
    display.SetSpentBefore(before);
    if (!o.yes && wait) {
      options.human = engine::AwaitDecisions(env.store.get(), g_process_cancel);
      options.human_outside = true;  // a gate's wait notifies `waiting`
    }
    if (!o.yes && !options.human && ::isatty(STDIN_FILENO)) options.human = TerminalHuman(&display);
    options.record_options = json{{"process", step.label}, {"script", script}, {"config", config},
                                  {"yes", o.yes}, {"project", o.project}};
    engine::Services services = ServicesOf(env);
    auto r = step.resume_id.empty() ? engine::Run(step.wf, services, std::move(options))
                                    : engine::Resume(step.resume_id, step.wf, services, std::move(options));
    display.Finish();
    if (r.ok()) {
      std::fprintf(stderr, "  %s: run %s %s, %lld model calls, %lld tokens, %s\n", step.label.c_str(), r->run_id.c_str(),
                   r->status.c_str(), static_cast<long long>(r->calls), static_cast<long long>(r->tokens_in + r->tokens_out),
                   FormatUsd(r->cost_usd).c_str());
      for (const auto& w : r->warnings) std::fprintf(stderr, "  warning: %s\n", w.c_str());
    }
    return r;
  };
  auto out = develop                ? process::Develop(o, pos[0])
             : mode == Mode::kReview ? process::ReviewPhase(o, pos[0], ctx.args.Get("text"))
                                     : process::Modify(o, abandon ? std::string() : pos[0]);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  if (!out.ok()) {
    if (g_process_cancel->load()) {
      return Fail(ctx, Status(Code::kCancelled, "interrupted; run the same command again to continue"));
    }
    return Fail(ctx, out.status());
  }
  if (!out->message.empty()) std::printf("%s\n", out->message.c_str());
  if (out->waiting) return kExitWaiting;
  if (!out->stopped && !abandon) {
    std::printf("project: %s (git branch specwright/develop)\n", o.project.c_str());
    std::printf("next: read %s/PR.md (summary, traceability matrix, verification, review, QA)\n", o.project.c_str());
    std::printf("      specwright spec check --dir %s   specwright spec matrix --dir %s\n", o.project.c_str(), o.project.c_str());
    std::printf("      specwright modify \"CHANGE REQUEST\" --workspace %s\n", o.project.c_str());
  }
  return kExitOk;
}

}  // namespace

int CmdDevelop(Context& ctx) { return RunProcess(ctx, Mode::kDevelop); }
int CmdModify(Context& ctx) { return RunProcess(ctx, Mode::kModify); }
int CmdReview(Context& ctx) { return RunProcess(ctx, Mode::kReview); }

}  // namespace sw::cli
