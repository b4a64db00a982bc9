// How the session frames one request on the wire, apart from the socket: the parser with
// the server's limits, and what a request the parser refuses is answered. Shared by
// session.cc and the HTTP fuzz target (tests/fuzz/http_request_fuzz.cc).
//
// Internal to api/: includes Beast.
#pragma once

#include "api/http.h"
#include "api/server.h"

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/verb.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace caseledger::api {

// One request's parser: Beast's framing (basic_parser: the request line, fields, limits,
// Content-Length, Transfer-Encoding and chunks, keep_alive()) with what it reads kept as the
// session hands it on: the fields straight into a RequestHeaders, the body in a string.
// Beast's request_parser<string_body> kept each field in a node of its own (an allocation
// and a tree insert per field), then copied into a RequestHeaders by the session: ~1k
// instructions per request. Trailer fields of a chunked body join the headers, as they did.
// A parser reads one request (a second one's request line is refused as stale_parser).
class RequestParser : public boost::beast::http::basic_parser<true> {
 public:
  RequestParser();
  // Reads into the room of `spent`'s target and body (a request answered before, whose
  // strings are taken and emptied): a connection's requests reuse one another's
  // allocations.
  explicit RequestParser(Request& spent);
  boost::beast::http::verb method() const { return method_; }
  std::string_view target() const { return target_; }
  std::string& target() { return target_; }  // for the session to move into its Request
  unsigned version() const { return version_; }  // 10 or 11
  RequestHeaders& headers() { return headers_; }
  const RequestHeaders& headers() const { return headers_; }
  std::string& body() { return body_; }
  const std::string& body() const { return body_; }

 private:
  using error_code = boost::beast::error_code;
  using string_view = boost::beast::string_view;
  void on_request_impl(boost::beast::http::verb method, string_view method_str, string_view target, int version,
                       error_code& ec) override;
  void on_response_impl(int code, string_view reason, int version, error_code& ec) override;
  void on_field_impl(boost::beast::http::field name, string_view name_string, string_view value,
                     error_code& ec) override;
  void on_header_impl(error_code& ec) override;
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length, error_code& ec) override;
  std::size_t on_body_impl(string_view body, error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t size, string_view extensions, error_code& ec) override;
  std::size_t on_chunk_body_impl(std::uint64_t remain, string_view body, error_code& ec) override;
  void on_finish_impl(error_code& ec) override;

  boost::beast::http::verb method_ = boost::beast::http::verb::unknown;
  std::string target_;
  unsigned version_ = 11;
  bool used_ = false;
  RequestHeaders headers_;
  std::string body_;
};

// Sets a fresh parser's limits: the header under options.header_limit, a body under
// `max_body_limit` (the largest any route allows: Beast checks Content-Length against
// the body limit while parsing the header; the route's own limit is applied after
// admission).
void LimitRequestParser(RequestParser& parser, const ServerOptions& options, size_t max_body_limit);

// The answer to a request the parser refused, sent before the connection closes: 431 for
// a header above the limit, 413 for a body above it, 400 for a request that cannot be
// framed (bad request line, field, Content-Length, Transfer-Encoding or chunk; what
// follows it on the connection cannot be framed either). nullopt when there is nobody to
// answer or nothing was refused: the client closed or went quiet (end of stream, a
// partial message, a timeout, a reset), or `ec` is no error of the parser's.
std::optional<Response> FramingRefusal(const boost::beast::error_code& ec);

}  // namespace caseledger::api
