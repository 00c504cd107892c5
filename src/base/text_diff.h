// UnifiedDiff of two texts, `diff -u` style.
#pragma once

#include <string>

namespace sw {

/// UnifiedDiff of two texts (`diff -u` style, `context` lines around each change); "" when
/// they are the same. Past 4 million line pairs in the differing middle it gives up on a
/// minimal diff and shows the whole middle removed and added.
std::string UnifiedDiff(const std::string& a, const std::string& b, const std::string& label_a,
                        const std::string& label_b, int context = 3);

}  // namespace sw
