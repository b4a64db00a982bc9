// What the API's Boost.JSON SAX handlers (boost::json::basic_parser: json_body.cc's
// duplicate-key finder, batch_rows.cc's row collector) share: the size limits a handler must
// declare. They set none of their own: the body limit of the request and the parser's depth
// limit (kMaxJsonDepth) bound what one parse takes.
#pragma once

#include <cstddef>

namespace caseledger::api {

struct SaxHandlerLimits {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);
};

}  // namespace caseledger::api
