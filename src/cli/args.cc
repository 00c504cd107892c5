#include "cli/args.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/strings.h"

namespace sw::cli {
namespace {

bool StartsWith(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

// OptionAsTyped is the option part of a token: "--limit=3" -> "--limit".
std::string OptionAsTyped(const std::string& token) {
  size_t eq = token.find('=');
  return StartsWith(token, "--") && eq != std::string::npos ? token.substr(0, eq) : token;
}

std::vector<std::string> LongNames(const CommandSpec& c) {
  std::vector<std::string> names;
  for (const auto& f : c.flags) names.push_back(f.name);
  return names;
}

// UnknownOption names an option no command declares, as typed, with a suggestion.
std::string UnknownOption(const std::string& token, const std::vector<std::string>& long_names,
                          const std::string& shorts) {
  std::string typed = OptionAsTyped(token);
  std::string msg = "unknown option " + typed;
  std::string hint;
  if (StartsWith(typed, "--")) {
    hint = DidYouMean(typed.substr(2), long_names);
  } else if (typed.size() > 2) {  // -limit: a long option with one dash
    std::string word = typed.substr(1);
    size_t eq = word.find('=');
    if (eq != std::string::npos) word = word.substr(0, eq);
    hint = std::find(long_names.begin(), long_names.end(), word) != long_names.end() ? word
                                                                                       : DidYouMean(word, long_names);
  }
  if (!hint.empty()) return msg + " (did you mean --" + hint + "?)";
  if (!StartsWith(typed, "--") && !shorts.empty()) return msg + " (the short options here: " + shorts + ")";
  return msg;
}

std::string ShortList(const std::vector<FlagSpec>& flags) {
  std::string out;
  for (const auto& f : flags)
    if (f.short_name) out += std::string(out.empty() ? "" : ", ") + "-" + f.short_name;
  return out;
}

const FlagSpec* FindLong(const CommandSpec& c, const std::string& name) {
  for (const auto& f : c.flags)
    if (name == f.name) return &f;
  return nullptr;
}

const FlagSpec* FindShort(const CommandSpec& c, char ch) {
  for (const auto& f : c.flags)
    if (f.short_name && f.short_name == ch) return &f;
  return nullptr;
}

// IsOptionName: the word is exactly one of c's options, `--name` or `-x`.
bool IsOptionName(const CommandSpec& c, const std::string& word) {
  if (StartsWith(word, "--")) return FindLong(c, word.substr(2)) != nullptr;
  return word.size() == 2 && word[0] == '-' && FindShort(c, word[1]) != nullptr;
}

// NeedsAValue is the error for a value option whose separate value is one of the command's options.
std::string NeedsAValue(const std::string& typed, const FlagSpec& f, const std::string& got) {
  return "option " + typed + " needs a value (got the option " + got + "; write --" + f.name + "=" + got +
         " to mean it)";
}

// Prescan reads the words after the command as the command's table does, before CLI11 does:
// which words are values (so a `--json` that is a value is not the flag), `--name=` as an
// empty value (CLI11 would take the next word instead), and the errors CLI11 would get wrong:
// `--flag=`/`-f=x` on a flag, and a value option followed by another option's name, which
// CLI11 would swallow as the value. It returns the words for CLI11; error is the first problem.
std::vector<std::string> Prescan(const std::vector<std::string>& words, const CommandSpec& c, bool* json,
                                 std::string* error) {
  std::vector<std::string> out;
  auto fail = [&](const std::string& e) {
    if (error->empty()) *error = e;
  };
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& a = words[i];
    if (StartsWith(a, "--")) {
      size_t eq = a.find('=');
      std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      if (name == "json") *json = true;
      const FlagSpec* f = FindLong(c, name);
      if (!f) {  // unknown: CLI11 reports it
        out.push_back(a);
        continue;
      }
      if (eq != std::string::npos) {
        if (!f->takes_value) {
          fail("option --" + name + " takes no value");
        } else if (eq == a.size() - 1) {  // `--text=`: an empty value
          out.push_back("--" + name);
          out.push_back("");
        } else {
          out.push_back(a);
        }
        continue;
      }
      out.push_back(a);
      if (f->takes_value && i + 1 < words.size()) {
        if (IsOptionName(c, words[i + 1])) {
          fail(NeedsAValue(a, *f, words[i + 1]));  // the next word is read as the option it is
        } else {
          out.push_back(words[++i]);
        }
      }
      continue;
    }
    out.push_back(a);
    if (a.size() < 2 || a[0] != '-') continue;
    // Short options, perhaps combined (-ay), perhaps with the value attached (-n3, -id=4).
    for (size_t k = 1; k < a.size(); ++k) {
      const FlagSpec* f = FindShort(c, a[k]);
      if (!f) break;  // CLI11 reports it (or it is a value such as -5)
      if (!f->takes_value) {
        if (k + 1 < a.size() && a[k + 1] == '=') {
          fail(std::string("option -") + a[k] + " takes no value");
          break;
        }
        continue;
      }
      if (k + 1 == a.size() && i + 1 < words.size()) {
        if (IsOptionName(c, words[i + 1]))
          fail(NeedsAValue(std::string("-") + a[k], *f, words[i + 1]));
        else
          out.push_back(words[++i]);
      }
      break;
    }
  }
  return out;
}

struct Sub {
  const CommandSpec* spec = nullptr;
  CLI::App* app = nullptr;
  std::vector<CLI::Option*> options;  // one per spec->flags
  std::vector<std::string> positional;
};

}  // namespace

ParsedLine ParseCommandLine(const std::vector<std::string>& argv, const std::vector<CommandSpec>& table) {
  ParsedLine out;
  // "--" ends the options: what follows is positional, whatever it looks like.
  std::vector<std::string> head, tail;
  bool ended = false;
  for (const auto& a : argv) {
    if (!ended && a == "--") {
      ended = true;
      continue;
    }
    (ended ? tail : head).push_back(a);
  }
  // The command is the first word that is not an option (the ones before it take no value).
  size_t at = 0;
  while (at < head.size() && StartsWith(head[at], "-") && head[at] != "-") ++at;
  const CommandSpec* named = nullptr;
  if (at < head.size())
    for (const auto& c : table)
      if (head[at] == c.name) named = &c;
  if (named) {
    for (size_t i = 0; i < at; ++i)
      if (head[i] == "--json" || StartsWith(head[i], "--json=")) out.json = true;
    std::string problem;
    std::vector<std::string> rest = Prescan({head.begin() + static_cast<std::ptrdiff_t>(at) + 1, head.end()}, *named,
                                            &out.json, &problem);
    if (!problem.empty()) {
      out.command = named;
      out.error = problem;
      return out;
    }
    head.resize(at + 1);
    head.insert(head.end(), rest.begin(), rest.end());
  } else {
    // No command to read the words against: any --json asks for JSON errors.
    for (const auto& a : head)
      if (a == "--json" || StartsWith(a, "--json=")) out.json = true;
  }

  CLI::App app{"", "specwright"};
  app.set_help_flag();
  app.allow_extras();
  app.require_subcommand(0, 1);  // also: after the command, another command's name is an argument
  CLI::Option* help = app.add_flag("-h,--help");
  CLI::Option* version = app.add_flag("-V,--version");
  std::vector<Sub> subs(table.size());
  for (size_t i = 0; i < table.size(); ++i) {
    const CommandSpec& c = table[i];
    Sub& s = subs[i];
    s.spec = &c;
    s.app = app.add_subcommand(c.name, c.help);
    s.app->set_help_flag();
    s.app->allow_extras();
    for (const auto& f : c.flags) {
      std::string names = (f.short_name ? std::string("-") + f.short_name + "," : std::string()) + "--" + f.name;
      CLI::Option* o = f.takes_value
                           ? s.app->add_option(names, f.help)->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
                           : s.app->add_flag(names, f.help)->disable_flag_override();
      s.options.push_back(o);
    }
    s.app->add_option("args", s.positional);
  }

  auto chosen = [&]() -> Sub* {
    auto parsed = app.get_subcommands();
    if (parsed.empty()) return nullptr;
    for (auto& s : subs)
      if (s.app == parsed.front()) return &s;
    return nullptr;
  };

  std::vector<std::string> reversed(head.rbegin(), head.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    Sub* s = chosen();
    if (s) out.command = s->spec;
    std::string what = e.what();
    if (size_t p = what.find(" was given a disallowed flag override"); p != std::string::npos) {
      std::string name = what.substr(0, p);
      std::string typed = "-" + name;
      for (const auto& a : head)
        if (StartsWith(a, "--" + name + "=")) typed = "--" + name;
      out.error = "option " + typed + " takes no value";
    } else if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) && !head.empty()) {
      // A value option with nothing after it: the last token, as typed.
      const std::string& last = head.back();
      std::string typed = StartsWith(last, "--") ? OptionAsTyped(last) : "-" + last.substr(last.size() - 1);
      out.error = "option " + typed + " needs a value";
    } else {
      out.error = what;
    }
    return out;
  }
  out.help = help->count() > 0;
  out.version = version->count() > 0;
  Sub* s = chosen();
  std::vector<std::string> root_rest = app.remaining();
  if (!s) {
    std::vector<std::string> names;
    for (const auto& c : table)
      if (!c.hidden) names.push_back(c.name);
    for (const auto& a : root_rest) {
      if (StartsWith(a, "-") && a != "-") continue;
      std::string hint = DidYouMean(a, names);
      out.error = "unknown command \"" + a + "\"" + (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)");
      return out;
    }
    if (!root_rest.empty()) {
      out.error = UnknownOption(root_rest.front(), {"help", "version"}, "-h, -V");
      return out;
    }
    if (!tail.empty()) out.error = "no command before `--`";
    return out;
  }
  out.command = s->spec;
  const CommandSpec& c = *s->spec;
  if (!root_rest.empty()) {
    std::string typed = OptionAsTyped(root_rest.front());
    out.error = "option " + typed + " before the command: options go after it (specwright " + c.name + " " +
                root_rest.front() + ")";
    return out;
  }
  for (const auto& a : s->app->remaining()) {
    if (a == "--") continue;
    if (StartsWith(a, "-") && a != "-") {
      out.error = UnknownOption(a, LongNames(c), ShortList(c.flags));
      return out;
    }
    s->positional.push_back(a);
  }
  out.help = out.help || (s->app->get_option_no_throw("--help") && s->app->get_option_no_throw("--help")->count() > 0);
  for (size_t i = 0; i < c.flags.size(); ++i) {
    const FlagSpec& f = c.flags[i];
    CLI::Option* o = s->options[i];
    if (o->count() == 0) continue;
    if (f.takes_value && !f.repeatable && o->count() > 1 && !out.help) {
      out.error = std::string("option --") + f.name + " given more than once";
      return out;
    }
    out.args.flags[f.name] = f.takes_value ? o->results() : std::vector<std::string>(o->count(), "");
  }
  out.args.positional = std::move(s->positional);
  out.args.positional.insert(out.args.positional.end(), tail.begin(), tail.end());
  return out;
}

int PrintError(bool json, const std::string& command, const std::string& message, int code, const std::string& usage) {
  if (json) {
    nlohmann::ordered_json j = {{"error", message}, {"code", code}};
    if (!command.empty()) j["command"] = command;
    if (!usage.empty()) j["usage"] = "specwright " + usage;
    std::fflush(stdout);
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
    std::fflush(stdout);
  } else {
    std::fprintf(stderr, "specwright%s%s: %s\n", command.empty() ? "" : " ", command.c_str(), message.c_str());
    if (!usage.empty()) std::fprintf(stderr, "usage: specwright %s\n", usage.c_str());
  }
  return code;
}

}  // namespace sw::cli
