// LEB128 varints and zig-zag, as the log's records, the heads, the stream index and the
// access log write their numbers (FORMAT.md). Private to eventstore/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace caseledger::eventstore::varint {

// Zig-zag keeps small negative numbers short (instants before 1970, a status).
inline uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
inline int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

constexpr size_t kMaxBytes = 10;

// Writes `v` at `p` (room for kMaxBytes); returns the end.
inline char* Put(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}
inline void Append(std::string& out, uint64_t v) {
  char bytes[kMaxBytes];
  out.append(bytes, static_cast<size_t>(Put(bytes, v) - bytes));
}

// Reads one varint from the front of `in` (consumed); false when `in` ends first or it
// runs past ten bytes. With `shortest`, also false for a longer encoding than the value
// needs (a trailing zero group, bits beyond 64), so that each value has one encoding.
inline bool Get(std::string_view& in, uint64_t& v, bool shortest = false) {
  // Most numbers of a record (lengths, versions, a schema) take one byte.
  if (!in.empty() && static_cast<uint8_t>(in.front()) < 0x80) {
    v = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    return true;
  }
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in.empty()) return false;
    const auto b = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    if (shortest && shift == 63 && b > 1) return false;
    v |= uint64_t{b & 0x7fu} << shift;
    if (!(b & 0x80)) return !shortest || b != 0 || shift == 0;
  }
  return false;
}

}  // namespace caseledger::eventstore::varint
