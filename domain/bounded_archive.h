// Reading cereal binary (what cereal::BinaryOutputArchive wrote) from bytes that may not be
// what we wrote: a record of the log, the access log or the views database after a disk or
// a hand damaged it. cereal's own BinaryInputArchive believes every length prefix, so ten
// bytes claiming a string of 2^60 characters make it allocate (and zero) that much before
// noticing the input is short (found by fuzzing, docs/fuzzing.md); and it copies any byte
// into a bool, whose only values are 0 and 1.
//
// BoundedBinaryInputArchive reads the same format from memory and throws cereal::Exception
// instead: a length prefix above the bytes left (every element takes at least one byte),
// a bool byte other than 0 or 1, or input too short. done() says whether every byte was used.
#pragma once

#include <cereal/archives/binary.hpp>
#include <cereal/cereal.hpp>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace caseledger::domain {

class BoundedBinaryInputArchive
    : public cereal::InputArchive<BoundedBinaryInputArchive, cereal::AllowEmptyClassElision> {
 public:
  // `bytes` must outlive the archive.
  explicit BoundedBinaryInputArchive(std::string_view bytes)
      : InputArchive(this), next_(bytes.data()), end_(bytes.data() + bytes.size()) {}

  // Points the archive at other bytes (which must outlive their reading). Only for
  // archives that kept no state of their last input: cereal's registries of shared
  // pointers, polymorphic types and class versions, which none of our types uses.
  void Reset(std::string_view bytes) {
    next_ = bytes.data();
    end_ = bytes.data() + bytes.size();
  }

  void loadBinary(void* data, std::size_t size) {
    if (size > remaining()) {
      throw cereal::Exception("input ends " + std::to_string(size - remaining()) + " bytes early");
    }
    std::memcpy(data, next_, size);
    next_ += size;
  }
  // The next `size` bytes, consumed (valid as long as the input); throws as loadBinary.
  const char* Take(uint64_t size) {
    if (size > remaining()) {
      throw cereal::Exception("input ends " + std::to_string(size - remaining()) + " bytes early");
    }
    const char* at = next_;
    next_ += size;
    return at;
  }
  size_t remaining() const { return static_cast<size_t>(end_ - next_); }
  bool done() const { return next_ == end_; }

 private:
  const char* next_;
  const char* end_;
};

template <class T>
inline std::enable_if_t<std::is_arithmetic_v<T> && !std::is_same_v<T, bool>>
CEREAL_LOAD_FUNCTION_NAME(BoundedBinaryInputArchive& ar, T& t) {
  ar.loadBinary(std::addressof(t), sizeof(t));
}

inline void CEREAL_LOAD_FUNCTION_NAME(BoundedBinaryInputArchive& ar, bool& b) {
  uint8_t byte = 0;
  ar.loadBinary(&byte, 1);
  if (byte > 1) throw cereal::Exception("a bool holds " + std::to_string(byte));
  b = byte == 1;
}

template <class T>
inline void CEREAL_SERIALIZE_FUNCTION_NAME(BoundedBinaryInputArchive& ar, cereal::NameValuePair<T>& t) {
  ar(t.value);
}

template <class T>
inline void CEREAL_LOAD_FUNCTION_NAME(BoundedBinaryInputArchive& ar, cereal::SizeTag<T>& t) {
  uint64_t size = 0;  // cereal::size_type, as BinaryOutputArchive writes it
  ar.loadBinary(&size, sizeof(size));
  if (size > ar.remaining()) {
    throw cereal::Exception("a length of " + std::to_string(size) + " with " +
                            std::to_string(ar.remaining()) + " bytes left");
  }
  t.size = static_cast<std::remove_reference_t<T>>(size);
}

// A string as cereal's own load reads it (a length, then the bytes), in one assign: cereal's
// resizes it first (filling it with zeros) and then copies, ~300 instructions of an event's
// decode (docs/benchmarks.md, session 27). More specialised than cereal's template, so chosen.
inline void CEREAL_LOAD_FUNCTION_NAME(BoundedBinaryInputArchive& ar, std::string& str) {
  uint64_t size = 0;
  ar.loadBinary(&size, sizeof(size));
  const char* bytes = ar.Take(size);
  // clear + append: a copy into the buffer the string has; assign's general path (the
  // source may overlap the string) was ~90 instructions a field.
  str.clear();
  str.append(bytes, size);
}

template <class T>
inline void CEREAL_LOAD_FUNCTION_NAME(BoundedBinaryInputArchive& ar, cereal::BinaryData<T>& bd) {
  ar.loadBinary(bd.data, static_cast<std::size_t>(bd.size));
}

// Decodes all of `bytes` into `value`; false when they do not decode, a length or a bool is
// impossible, or bytes are left over. Never throws.
// Thread safety: a thread's decodes share one archive (an inner decode, from a type's own
// load, gets one of its own).
template <class T>
bool DecodeCereal(std::string_view bytes, T& value) {
  // One archive per thread, pointed at each input in turn, rather than one per decode:
  // cereal's archive builds and destroys four hash tables and a vector each time, ~180
  // instructions of an event's ~780 decoded by a rebuild's log reader (docs/benchmarks.md,
  // session 27), for the registries no type of ours uses (Reset).
  thread_local BoundedBinaryInputArchive shared{std::string_view()};
  thread_local bool in_use = false;
  std::optional<BoundedBinaryInputArchive> own;
  BoundedBinaryInputArchive* ar = &shared;
  if (in_use) {
    ar = &own.emplace(bytes);
  } else {
    shared.Reset(bytes);
    in_use = true;
  }
  struct Release {
    bool active;
    ~Release() {
      if (active) in_use = false;
    }
  } release{ar == &shared};
  try {
    (*ar)(value);
    return ar->done();
  } catch (const std::exception&) {
    // cereal::Exception; bad_alloc/length_error remain possible for a vector of large
    // elements, bounded by the input's size times the element's.
    return false;
  }
}

}  // namespace caseledger::domain

CEREAL_REGISTER_ARCHIVE(caseledger::domain::BoundedBinaryInputArchive)
// What CEREAL_SETUP_ARCHIVE_TRAITS does for one direction only: BinaryOutputArchive's
// input archive stays cereal's own.
namespace cereal::traits::detail {
template <>
struct get_output_from_input<caseledger::domain::BoundedBinaryInputArchive> {
  using type = cereal::BinaryOutputArchive;
};
}  // namespace cereal::traits::detail
