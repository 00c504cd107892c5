// UnifiedDiff: a line diff of two texts in `diff -u` form (the runs' diff of outputs, and the
// change a new brief makes to the one developed).
#include "base/text_diff.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace sw {
namespace {

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t nl = s.find('\n', start);
    if (nl == std::string::npos) {
      out.push_back(s.substr(start));
      break;
    }
    out.push_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

}  // namespace

std::string UnifiedDiff(const std::string& a, const std::string& b, const std::string& label_a,
                        const std::string& label_b, int context) {
  if (a == b) return "";
  std::vector<std::string> x = Lines(a), y = Lines(b);
  size_t pre = 0;
  while (pre < x.size() && pre < y.size() && x[pre] == y[pre]) ++pre;
  size_t suf = 0;
  while (suf < x.size() - pre && suf < y.size() - pre && x[x.size() - 1 - suf] == y[y.size() - 1 - suf]) ++suf;
  // ops over the whole texts: ' ' keep, '-' from a, '+' from b (with their line indices).
  struct Op {
    char kind;
    size_t ia, ib;
  };
  std::vector<Op> ops;
  for (size_t i = 0; i < pre; ++i) ops.push_back({' ', i, i});
  size_t n = x.size() - pre - suf, m = y.size() - pre - suf;
  if (n * m <= 4'000'000) {
    // LCS table over the middle, then walk it forwards.
    std::vector<uint32_t> t((n + 1) * (m + 1), 0);
    auto at = [&](size_t i, size_t j) -> uint32_t& { return t[i * (m + 1) + j]; };
    for (size_t i = n; i-- > 0;)
      for (size_t j = m; j-- > 0;)
        at(i, j) = x[pre + i] == y[pre + j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
    size_t i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && x[pre + i] == y[pre + j]) {
        ops.push_back({' ', pre + i, pre + j});
        ++i, ++j;
      } else if (i < n && (j == m || at(i + 1, j) >= at(i, j + 1))) {
        ops.push_back({'-', pre + i, pre + j});  // removals before additions, as diff -u does
        ++i;
      } else {
        ops.push_back({'+', pre + i, pre + j});
        ++j;
      }
    }
  } else {
    for (size_t i = 0; i < n; ++i) ops.push_back({'-', pre + i, pre});
    for (size_t j = 0; j < m; ++j) ops.push_back({'+', pre + n, pre + j});
  }
  for (size_t i = 0; i < suf; ++i) ops.push_back({' ', x.size() - suf + i, y.size() - suf + i});

  std::string out = "--- " + label_a + "\n+++ " + label_b + "\n";
  size_t k = 0;
  while (k < ops.size()) {
    while (k < ops.size() && ops[k].kind == ' ') ++k;
    if (k == ops.size()) break;
    size_t begin = k >= static_cast<size_t>(context) ? k - context : 0;
    // Extend the hunk while the next change is within 2*context unchanged lines.
    size_t end = k;
    for (;;) {
      while (end < ops.size() && ops[end].kind != ' ') ++end;
      size_t gap = end;
      while (gap < ops.size() && ops[gap].kind == ' ') ++gap;
      if (gap < ops.size() && gap - end <= static_cast<size_t>(2 * context)) {
        end = gap;
        continue;
      }
      end = std::min(ops.size(), end + context);
      break;
    }
    size_t a0 = 0, b0 = 0, na = 0, nb = 0;
    bool first_a = true, first_b = true;
    std::string body;
    for (size_t q = begin; q < end; ++q) {
      const Op& o = ops[q];
      if (o.kind != '+') {
        if (first_a) a0 = o.ia, first_a = false;
        ++na;
      }
      if (o.kind != '-') {
        if (first_b) b0 = o.ib, first_b = false;
        ++nb;
      }
      body += o.kind;
      body += o.kind == '+' ? y[o.ib] : x[o.ia];
      body += "\n";
    }
    if (first_a) a0 = begin < ops.size() ? ops[begin].ia : 0;
    if (first_b) b0 = begin < ops.size() ? ops[begin].ib : 0;
    out += "@@ -" + std::to_string(na ? a0 + 1 : a0) + "," + std::to_string(na) + " +" +
           std::to_string(nb ? b0 + 1 : b0) + "," + std::to_string(nb) + " @@\n" + body;
    k = end;
  }
  return out;
}

}  // namespace sw
