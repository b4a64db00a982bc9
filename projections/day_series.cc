#include "projections/day_series.h"

#include <algorithm>

namespace caseledger::projections {
namespace {
constexpr char kBytePerValue = 1;  // every value a varint (before 2026-12-04): read only
constexpr char kZeroRuns = 2;      // zeros as runs

// Writes `z` as a varint at `out`; returns the end.
char* PutVarint(char* out, uint32_t z) {
  while (z >= 0x80) {
    *out++ = static_cast<char>(z | 0x80);
    z >>= 7;
  }
  *out++ = static_cast<char>(z);
  return out;
}

bool GetVarint(std::string_view bytes, size_t& p, uint32_t& z) {
  z = 0;
  for (int shift = 0;; shift += 7) {
    if (p >= bytes.size() || shift > 28) return false;
    uint8_t b = static_cast<uint8_t>(bytes[p++]);
    z |= static_cast<uint32_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return true;
  }
}

}  // namespace

std::string EncodeCounters(const int32_t* values, size_t count) {
  // At most 1 + 5 bytes per value (a zero and its run count take no more than the zeros),
  // written into a scratch buffer kept per thread (a lab's block: 15 KiB that the answer
  // never needs), then copied as long as it turned out.
  thread_local std::string scratch;
  if (scratch.size() < 1 + 5 * count) scratch.resize(1 + 5 * count);
  char* const begin = scratch.data();
  char* at = begin;
  *at++ = kZeroRuns;
  for (size_t i = 0; i < count;) {
    if (values[i] == 0) {
      size_t run = 1;
      while (i + run < count && values[i + run] == 0) ++run;
      *at++ = 0;
      at = PutVarint(at, static_cast<uint32_t>(run - 1));
      i += run;
      continue;
    }
    at = PutVarint(at, (static_cast<uint32_t>(values[i]) << 1) ^ static_cast<uint32_t>(values[i] >> 31));
    ++i;
  }
  return std::string(begin, at);
}

bool DecodeCounters(std::string_view bytes, int32_t* values, size_t count) {
  if (bytes.empty() || (bytes[0] != kBytePerValue && bytes[0] != kZeroRuns)) return false;
  const bool runs = bytes[0] == kZeroRuns;
  size_t p = 1;
  for (size_t i = 0; i < count;) {
    uint32_t z = 0;
    if (!GetVarint(bytes, p, z)) return false;
    if (runs && z == 0) {
      uint32_t more = 0;
      if (!GetVarint(bytes, p, more) || more >= count - i) return false;
      std::fill(values + i, values + i + 1 + more, 0);
      i += 1 + more;
      continue;
    }
    values[i++] = static_cast<int32_t>((z >> 1) ^ (~(z & 1) + 1));
  }
  return p == bytes.size();
}

}  // namespace caseledger::projections
