// HTTP/1.1 framing as the session reads it (api/request_framing.h, session.cc): the Beast
// request parser with the server's limits, fed the way a socket delivers bytes (in pieces
// whose size the input's first byte sets, the header's bytes added up across pieces as
// ReadHeader does), pipelined requests one after another, the target split and decoded
// (ParseTarget). Property: every refusal of the parser has an answer (431, 413 or 400)
// except a client that stopped mid-request.
#include "api/request_framing.h"
#include "api/swab_batch.h"
#include "tests/fuzz/fuzz_target.h"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>

namespace {

namespace api = caseledger::api;
namespace http = boost::beast::http;
using boost::beast::error_code;

// Feeds `parser` from `in` in pieces of at most `piece` bytes until `until` holds or the
// input ends; returns the bytes taken.
template <class Until>
size_t Feed(api::RequestParser& parser, std::string_view& in, size_t piece, error_code& ec, Until until) {
  size_t taken = 0;
  std::string_view window;
  while (!until() && !in.empty()) {
    // A piece the parser did not take whole is offered again with more bytes, as the
    // session's buffer keeps what the parser left.
    window = in.substr(0, std::min(in.size(), window.size() + piece));
    size_t n = parser.put(boost::asio::buffer(window.data(), window.size()), ec);
    if (ec == http::error::need_more) {
      ec = {};
      if (window.size() == in.size()) break;  // the input ends within a field
      continue;
    }
    if (ec) return taken;
    in.remove_prefix(n);
    taken += n;
    window = {};
  }
  return taken;
}

void CheckRefusal(const error_code& ec) {
  auto refusal = api::FramingRefusal(ec);
  FUZZ_CHECK(refusal.has_value());
  FUZZ_CHECK(refusal->status == 400 || refusal->status == 413 || refusal->status == 431);
  FUZZ_CHECK(refusal->content_type == "application/problem+json");
}

}  // namespace

CASELEDGER_FUZZ_TARGET(http_request) {
  if (size < 1) return 0;
  const size_t piece = 1 + data[0] % 64;
  std::string_view in = caseledger::fuzz::AsText(data + 1, size - 1);
  const api::ServerOptions options;
  for (int request = 0; request < 4 && !in.empty(); ++request) {
    api::RequestParser parser;
    api::LimitRequestParser(parser, options, api::kBatchBodyLimit);
    error_code ec;
    const size_t taken = Feed(parser, in, piece, ec, [&] { return parser.is_header_done(); });
    if (!ec && taken > options.header_limit) ec = http::error::header_limit;
    if (ec) return CheckRefusal(ec), 0;
    if (!parser.is_header_done()) {
      parser.put_eof(ec);  // the client closed mid-header: nobody to answer
      FUZZ_CHECK(!ec || !api::FramingRefusal(ec));
      return 0;
    }
    std::string path;
    std::vector<std::pair<std::string, std::string>> query;
    if (api::ParseTarget(parser.target(), path, query)) FUZZ_CHECK(!path.empty() && path.front() == '/');
    (void)parser.headers().Find("content-length");
    (void)parser.keep_alive();
    if (!parser.is_done()) {
      // The session refuses a declared length above the route's limit before reading
      // (here every route is a command's); Beast checks only a chunked body's as it reads.
      if (auto length = parser.content_length()) {
        FUZZ_CHECK(*length <= api::kBatchBodyLimit);
        if (*length > options.command_body_limit) return 0;
      }
      parser.body_limit(options.command_body_limit);
      Feed(parser, in, piece, ec, [&] { return parser.is_done(); });
      if (ec) return CheckRefusal(ec), 0;
      if (!parser.is_done()) return 0;  // the client stopped mid-body
      FUZZ_CHECK(parser.body().size() <= options.command_body_limit);
    }
    if (!parser.keep_alive()) return 0;
  }
  return 0;
}
