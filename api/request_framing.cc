#include "api/request_framing.h"

#include "api/problem.h"

#include <boost/beast/http/error.hpp>

namespace caseledger::api {

namespace http = boost::beast::http;

RequestParser::RequestParser() {
  headers_.Reserve(8, 512);  // a request's usual fields (a bearer token among them) in one allocation
}

RequestParser::RequestParser(Request& spent) : target_(std::move(spent.target)), body_(std::move(spent.body)) {
  target_.clear();
  body_.clear();
  // A large body's room is not kept for the connection's next requests (mostly queries).
  if (body_.capacity() > 64 * 1024) std::string().swap(body_);
  headers_.Reserve(8, 512);  // as a fresh parser: the usual fields in one allocation
}

void RequestParser::on_request_impl(http::verb method, string_view, string_view target, int version,
                                    error_code& ec) {
  // As Beast's request_parser: a parser reads one message.
  if (used_) {
    ec = http::error::stale_parser;
    return;
  }
  used_ = true;
  method_ = method;
  target_.assign(target.data(), target.size());
  version_ = static_cast<unsigned>(version);
}

void RequestParser::on_response_impl(int, string_view, int, error_code& ec) {
  ec = http::error::bad_version;  // never called: this parser reads requests
}

void RequestParser::on_field_impl(http::field, string_view name_string, string_view value, error_code&) {
  headers_.Add(std::string_view(name_string.data(), name_string.size()), std::string_view(value.data(), value.size()));
}

void RequestParser::on_header_impl(error_code&) {}

// As string_body's reader: room for a declared length (the parser has checked it against
// the body limit), then each piece appended.
void RequestParser::on_body_init_impl(const boost::optional<std::uint64_t>& content_length, error_code& ec) {
  if (!content_length) return;
  if (*content_length > body_.max_size()) {
    ec = http::error::buffer_overflow;
    return;
  }
  body_.reserve(static_cast<size_t>(*content_length));
}

std::size_t RequestParser::on_body_impl(string_view body, error_code& ec) {
  if (body.size() > body_.max_size() - body_.size()) {
    ec = http::error::buffer_overflow;
    return 0;
  }
  body_.append(body.data(), body.size());
  return body.size();
}

void RequestParser::on_chunk_header_impl(std::uint64_t, string_view, error_code&) {}

std::size_t RequestParser::on_chunk_body_impl(std::uint64_t, string_view body, error_code& ec) {
  return on_body_impl(body, ec);
}

void RequestParser::on_finish_impl(error_code&) {}

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
