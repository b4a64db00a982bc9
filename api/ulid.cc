#include "api/api_context.h"

#include "eventstore/random_bytes.h"

namespace caseledger::api {

std::string NewUlid(domain::Timestamp now) {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  uint8_t bytes[16];
  uint64_t ms = static_cast<uint64_t>(now.micros / 1000);
  for (int i = 5; i >= 0; --i) {
    bytes[i] = static_cast<uint8_t>(ms & 0xff);
    ms >>= 8;
  }
  eventstore::RandomBytes(bytes + 6, 10);  // from the thread's pool: no system call per id
  // 128 bits -> 26 base32 digits, most significant first (the first digit holds 3 bits).
  std::string out(26, '0');
  unsigned __int128 v = 0;
  for (uint8_t b : bytes) v = (v << 8) | b;
  for (int i = 25; i >= 0; --i) {
    out[i] = kAlphabet[static_cast<int>(v & 31)];
    v >>= 5;
  }
  return out;
}

}  // namespace caseledger::api
