// A string hash that takes std::string_view, for hash tables keyed by std::string and looked
// up without building a key (`is_transparent`, with std::equal_to<>).
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

namespace caseledger::domain {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

}  // namespace caseledger::domain
