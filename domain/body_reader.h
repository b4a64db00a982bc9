// Private to domain/: an event's body or personal part read back from cereal binary (what
// StringOutputArchive writes) by each type's own `serialize`, without cereal's archive.
//
// Contract: for the members events hold (strings, bool, uint8 enums, fixed-width integers,
// std::optional, and structs with a `serialize(A&)` of those: Date, Timestamp, Personal),
// ReadBody(bytes, value) is true exactly when DecodeCereal(bytes, value) (bounded_archive.h)
// is, and then leaves `value` equal to what DecodeCereal leaves: the same format, the same
// refusals (input short, a string longer than the bytes left, a bool byte other than 0 or 1,
// bytes left over). A member of any other type does not compile. On false `value` holds
// some of the bytes read, unspecified.
//
// Why not DecodeCereal: every event a rebuild reads goes through here (~10^8 at 1:1), and
// cereal's path cost ~680 instructions an event on the log's readers (docs/benchmarks.md,
// session 32): a thread-local archive looked up and reset, a try block, each field's bounds
// checked in an out-of-line loadBinary with a memcpy of a variable size. Here a failure is
// a flag that makes every later read a no-op, and each field is an inlined load.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace caseledger::domain {

class BodyReader {
 public:
  explicit BodyReader(std::string_view bytes) : next_(bytes.data()), end_(bytes.data() + bytes.size()) {}

  // What a type's serialize calls: each value read in turn.
  template <class... T>
  void operator()(T&... values) {
    (Load(values), ...);
  }
  // Every read succeeded and every byte was read.
  bool done() const { return ok_ && next_ == end_; }

 private:
  // The next `n` bytes, or null (and every later read fails) when fewer are left.
  const char* Take(uint64_t n) {
    if (n > static_cast<uint64_t>(end_ - next_)) {
      ok_ = false;
      next_ = end_;
      return nullptr;
    }
    const char* at = next_;
    next_ += n;
    return at;
  }
  template <class T>
    requires(std::is_integral_v<T> && !std::is_same_v<T, bool>)
  void Load(T& v) {
    if (const char* at = Take(sizeof v)) std::memcpy(&v, at, sizeof v);
  }
  void Load(bool& b) {
    const char* at = Take(1);
    if (at == nullptr) return;
    const auto byte = static_cast<uint8_t>(*at);
    if (byte > 1) {
      ok_ = false;
      next_ = end_;
      return;
    }
    b = byte == 1;
  }
  // cereal writes an enum as its underlying type (cereal/types/common.hpp).
  template <class E>
    requires std::is_enum_v<E>
  void Load(E& e) {
    std::underlying_type_t<E> raw{};
    Load(raw);
    if (ok_) e = static_cast<E>(raw);
  }
  // A 64-bit length, then the bytes. clear + append: a copy into the buffer the string has
  // (a recycled slot's), as bounded_archive.h's load does.
  void Load(std::string& s) {
    uint64_t n = 0;
    Load(n);
    if (const char* at = Take(n)) {
      s.clear();
      s.append(at, n);
    }
  }
  // cereal/types/optional.hpp: a "nullopt" bool, then the value when there is one.
  template <class T>
  void Load(std::optional<T>& o) {
    bool nullopt = false;
    Load(nullopt);
    if (!ok_) return;
    if (nullopt) {
      o.reset();
    } else {
      Load(o.emplace());
    }
  }
  template <class T>
    requires requires(T& t, BodyReader& r) { t.serialize(r); }
  void Load(T& value) {
    value.serialize(*this);
  }

  const char* next_;
  const char* end_;
  bool ok_ = true;
};

// Reads all of `bytes` into `value` (the contract above). Never throws.
template <class T>
bool ReadBody(std::string_view bytes, T& value) {
  BodyReader reader(bytes);
  reader(value);
  return reader.done();
}

}  // namespace caseledger::domain
