#include "api/request_framing.h"

#include "api/problem.h"

#include <boost/beast/http/error.hpp>

namespace caseledger::api {

namespace http = boost::beast::http;

void LimitRequestParser(RequestParser& parser, const ServerOptions& options, size_t max_body_limit) {
  parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
  parser.body_limit(max_body_limit);
}

std::optional<Response> FramingRefusal(const boost::beast::error_code& ec) {
  if (ec == http::error::header_limit) {
    return Problem(431, "headers-too-large", "Request header fields too large",
                   "the request headers exceed the limit");
  }
  if (ec == http::error::body_limit) {
    return Problem(413, "too-large", "Payload too large", "the request body exceeds the limit for this endpoint");
  }
  if (ec.category() != http::make_error_code(http::error::bad_method).category()) return std::nullopt;
  switch (static_cast<http::error>(ec.value())) {
    case http::error::end_of_stream:    // closed between requests
    case http::error::partial_message:  // closed within one: nobody waits for an answer
    case http::error::need_more:        // not errors of a request: the parser's own states
    case http::error::need_buffer:
    case http::error::end_of_chunk:
    case http::error::stale_parser:
    case http::error::short_read:
      return std::nullopt;
    default:
      break;
  }
  return Problem(400, "malformed-request", "Malformed request",
                 "the request cannot be read as HTTP/1.1 (" + ec.message() + ")");
}

}  // namespace caseledger::api
