// Private to projections/: the encoding of a keyed view's persisted values (FORMAT.md): a
// format byte of the view's own, then cereal binary of the value.
#pragma once

#include "domain/bounded_archive.h"

#include <cereal/archives/binary.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include <sstream>
#include <string>
#include <string_view>

namespace caseledger::projections {

template <class T>
std::string EncodeEntry(char format, const T& value) {
  // One stream per thread: building a stream for each value costs more than encoding it.
  thread_local std::ostringstream out(std::ios::binary);
  out.str(std::string());
  out.put(format);
  {
    cereal::BinaryOutputArchive ar(out);
    ar(value);
  }
  return out.str();
}

// False for another format byte, short input, an impossible length or bytes left over
// (domain/bounded_archive.h).
template <class T>
bool DecodeEntry(char format, std::string_view bytes, T& value) {
  return !bytes.empty() && bytes[0] == format && domain::DecodeCereal(bytes.substr(1), value);
}

}  // namespace caseledger::projections
