#include "base/hash.h"

#include <cstdint>
#include <cstdio>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace sw {
namespace {
std::string ToHex(XXH128_hash_t h) {
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return std::string(buf, 32);
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
