// How the session frames one request on the wire, apart from the socket: the parser with
// the server's limits, and what a request the parser refuses is answered. Shared by
// session.cc and the HTTP fuzz target (tests/fuzz/http_request_fuzz.cc).
//
// Internal to api/: includes Beast.
#pragma once

#include "api/http.h"
#include "api/server.h"

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <optional>

namespace caseledger::api {

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

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
