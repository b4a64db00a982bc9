#include "projections/day_series.h"

namespace caseledger::projections {
namespace {
constexpr char kBlockFormat = 1;
}

std::string EncodeCounters(const int32_t* values, size_t count) {
  std::string out;
  out.reserve(count + 1);
  out.push_back(kBlockFormat);
  for (size_t i = 0; i < count; ++i) {
    uint32_t z = (static_cast<uint32_t>(values[i]) << 1) ^ static_cast<uint32_t>(values[i] >> 31);
    while (z >= 0x80) {
      out.push_back(static_cast<char>(z | 0x80));
      z >>= 7;
    }
    out.push_back(static_cast<char>(z));
  }
  return out;
}

bool DecodeCounters(std::string_view bytes, int32_t* values, size_t count) {
  if (bytes.empty() || bytes[0] != kBlockFormat) return false;
  size_t p = 1;
  for (size_t i = 0; i < count; ++i) {
    uint32_t z = 0;
    for (int shift = 0;; shift += 7) {
      if (p >= bytes.size() || shift > 28) return false;
      uint8_t b = static_cast<uint8_t>(bytes[p++]);
      z |= static_cast<uint32_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) break;
    }
    values[i] = static_cast<int32_t>((z >> 1) ^ (~(z & 1) + 1));
  }
  return p == bytes.size();
}

}  // namespace caseledger::projections
