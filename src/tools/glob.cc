#include "tools/glob.h"

#include <re2/re2.h>

namespace sw::tools {

std::string GlobToRegex(const std::string& g) {
  std::string re;
  for (size_t i = 0; i < g.size(); ++i) {
    char c = g[i];
    if (c == '*') {
      if (i + 1 < g.size() && g[i + 1] == '*') {
        bool slash = i + 2 < g.size() && g[i + 2] == '/';
        re += slash ? "(?:.*/)?" : ".*";
        i += slash ? 2 : 1;
      } else {
        re += "[^/]*";
      }
    } else if (c == '?') {
      re += "[^/]";
    } else if (c == '[') {
      size_t end = g.find(']', i + 1);
      if (end == std::string::npos) {
        re += "\\[";
      } else {
        std::string cls = g.substr(i + 1, end - i - 1);
        if (!cls.empty() && cls[0] == '!') cls[0] = '^';
        re += "[" + cls + "]";
        i = end;
      }
    } else if (c == '\\' && i + 1 < g.size()) {
      re += RE2::QuoteMeta(std::string(1, g[++i]));
    } else {
      re += RE2::QuoteMeta(std::string(1, c));
    }
  }
  return re;
}

}  // namespace sw::tools
