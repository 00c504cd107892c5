#include "base/hash.h"

#include <cstdint>
#include <cstdio>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace sw {
namespace {
std::string ToHex(XXH128_hash_t h) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(32, '0');
  for (int i = 0; i < 16; ++i) {
    out[static_cast<size_t>(15 - i)] = kDigits[(h.high64 >> (4 * i)) & 0xf];
    out[static_cast<size_t>(31 - i)] = kDigits[(h.low64 >> (4 * i)) & 0xf];
  }
  return out;
}
}  // namespace

std::string Hash128Hex(std::string_view data) { return ToHex(XXH3_128bits(data.data(), data.size())); }

Hasher::Hasher() : state_(XXH3_createState()) { XXH3_128bits_reset(static_cast<XXH3_state_t*>(state_)); }
Hasher::~Hasher() { XXH3_freeState(static_cast<XXH3_state_t*>(state_)); }

Hasher& Hasher::Add(std::string_view part) {
  auto* st = static_cast<XXH3_state_t*>(state_);
  uint64_t n = part.size();
  XXH3_128bits_update(st, &n, sizeof(n));
  XXH3_128bits_update(st, part.data(), part.size());
  return *this;
}

std::string Hasher::HexDigest() { return ToHex(XXH3_128bits_digest(static_cast<XXH3_state_t*>(state_))); }

bool IsHexDigest(std::string_view s) {
  if (s.size() != 32) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace sw
