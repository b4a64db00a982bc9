// Writing cereal binary into a std::string: the bytes cereal::BinaryOutputArchive writes to a
// stream, without the stream. An std::ostringstream per encode cost its locale set-up and a
// virtual sputn per field: in a profile of the bulk load, encoding the events through it was a
// fifth of the generator's thread, half of it the stream's constructor.
//
// Read the bytes back with BoundedBinaryInputArchive (bounded_archive.h).
#pragma once

#include <cereal/cereal.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>

#include "domain/bounded_archive.h"

namespace caseledger::domain {

class StringOutputArchive : public cereal::OutputArchive<StringOutputArchive, cereal::AllowEmptyClassElision> {
 public:
  // Appends to `out`, which must outlive the archive.
  explicit StringOutputArchive(std::string& out) : OutputArchive(this), out_(out) {}

  void saveBinary(const void* data, std::size_t size) { out_.append(static_cast<const char*>(data), size); }

 private:
  std::string& out_;
};

template <class T>
inline std::enable_if_t<std::is_arithmetic_v<T>> CEREAL_SAVE_FUNCTION_NAME(StringOutputArchive& ar, const T& t) {
  ar.saveBinary(std::addressof(t), sizeof(t));
}

template <class T>
inline void CEREAL_SERIALIZE_FUNCTION_NAME(StringOutputArchive& ar, cereal::NameValuePair<T>& t) {
  ar(t.value);
}

template <class T>
inline void CEREAL_SERIALIZE_FUNCTION_NAME(StringOutputArchive& ar, cereal::SizeTag<T>& t) {
  ar(t.size);
}

template <class T>
inline void CEREAL_SAVE_FUNCTION_NAME(StringOutputArchive& ar, const cereal::BinaryData<T>& bd) {
  ar.saveBinary(bd.data, static_cast<std::size_t>(bd.size));
}

// `value` in cereal binary, as BinaryOutputArchive writes it.
template <class T>
std::string EncodeCereal(const T& value) {
  std::string out;
  {
    StringOutputArchive ar(out);
    ar(const_cast<T&>(value));
  }
  return out;
}

}  // namespace caseledger::domain

CEREAL_REGISTER_ARCHIVE(caseledger::domain::StringOutputArchive)
namespace cereal::traits::detail {
template <>
struct get_input_from_output<caseledger::domain::StringOutputArchive> {
  using type = caseledger::domain::BoundedBinaryInputArchive;
};
}  // namespace cereal::traits::detail
