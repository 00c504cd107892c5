// Content hashing: 128-bit xxHash3 as 32 lowercase hex digits (blob names, cache keys).
#pragma once

#include <string>
#include <string_view>

namespace sw {

/// Hash128Hex returns the xxh3-128 digest of data as 32 hex characters.
std::string Hash128Hex(std::string_view data);

/// Hasher accumulates several parts; each part is length-prefixed so ("ab","c") != ("a","bc").
class Hasher {
 public:
  Hasher();
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  Hasher& Add(std::string_view part);
  std::string HexDigest();

 private:
  void* state_;
};

/// IsHexDigest says whether s is exactly 32 lowercase hex characters (a valid blob name).
bool IsHexDigest(std::string_view s);

}  // namespace sw
