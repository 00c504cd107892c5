// Small string helpers shared by every layer.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sw {

/// EditDistance is the Levenshtein distance, used for "did you mean" suggestions.
size_t EditDistance(std::string_view a, std::string_view b);

/// DidYouMean returns the closest candidate within a small distance, or "" when none is close.
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates);

std::vector<std::string> Split(std::string_view s, char sep);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
bool StartsWith(std::string_view s, std::string_view prefix);
std::string Trim(std::string_view s);
/// PercentDecode decodes %XX escapes into *out (and, plus_is_space, '+' as a space, as in a
/// query); false on a broken escape, and on %00 unless allow_nul.
bool PercentDecode(std::string_view in, std::string* out, bool plus_is_space = false, bool allow_nul = false);
/// Lower lower-cases ASCII letters (header names, identifiers).
std::string Lower(std::string_view s);

/// Utf8Prefix is at most max_bytes of s, cut before a UTF-8 character that would not fit.
std::string Utf8Prefix(std::string_view s, size_t max_bytes);
/// Quote puts a string in double quotes, escaping what a terminal would not show.
std::string Quote(std::string_view s);
/// ShellQuote makes s one word of a POSIX sh (bash, zsh) command line: in single quotes, a
/// quote inside as '\''. With bare_if_safe, a non-empty word of only letters, digits and
/// _-./+:@ comes back as it is (a path or branch for a command the user may paste).
std::string ShellQuote(std::string_view s, bool bare_if_safe = false);
/// LocalTime formats unix seconds in the local time zone with a strftime format.
std::string LocalTime(double unix_seconds, const char* format);

/// HumanDuration formats seconds as "850ms", "12.3s" or "4m05s".
std::string HumanDuration(double seconds);
/// FormatUsd formats dollars with enough precision for cent-level accounting ("$0.0123").
std::string FormatUsd(double usd);
/// ParseDouble parses a whole string as a finite decimal number.
std::optional<double> ParseDouble(std::string_view s);
/// ParseDuration parses "250ms" "30s" "5m" "1h" "1.5s" "1m30s" (or a bare number of seconds);
/// the same form OpenAI uses in its x-ratelimit-reset-* headers.
std::optional<double> ParseDuration(std::string_view s);

}  // namespace sw
