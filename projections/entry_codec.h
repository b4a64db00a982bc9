// Private to projections/: the encoding of a keyed view's persisted values (FORMAT.md): a
// format byte of the view's own, then cereal binary of the value.
#pragma once

#include "domain/bounded_archive.h"
#include "domain/string_archive.h"

#include <cereal/types/optional.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include <string>
#include <string_view>

namespace caseledger::projections {

template <class T>
std::string EncodeEntry(char format, const T& value) {
  // Straight into the string (domain/string_archive.h: the bytes of cereal's binary
  // archive, without an ostringstream, its sentry and a virtual call per field).
  std::string out(1, format);
  {
    domain::StringOutputArchive ar(out);
    ar(const_cast<T&>(value));
  }
  return out;
}

// False for another format byte, short input, an impossible length or bytes left over
// (domain/bounded_archive.h).
template <class T>
bool DecodeEntry(char format, std::string_view bytes, T& value) {
  return !bytes.empty() && bytes[0] == format && domain::DecodeCereal(bytes.substr(1), value);
}

}  // namespace caseledger::projections
