// RequestParser keeps a request's fields in a RequestHeaders as it reads them; Beast's own
// request_parser<string_body> is the reference: fed the same bytes in the same pieces, both
// must stop at the same point with the same error, and read the same method, target,
// version, keep-alive, fields (trailers of a chunked body among them) and body.
#include "api/request_framing.h"

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <vector>

namespace caseledger::api {
namespace {

namespace http = boost::beast::http;
using BeastParser = http::request_parser<http::string_body>;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Feeds `bytes` in pieces of `piece` bytes (the parser consumes what it can; the rest is
// offered again with the next piece), as the session does from its buffer; returns the
// error it stopped on (need_more when the bytes ran out first).
template <class Parser>
boost::beast::error_code Feed(Parser& parser, std::string_view bytes, size_t piece) {
  parser.eager(true);
  size_t offered = 0, used = 0;
  boost::beast::error_code ec;
  while (!parser.is_done()) {
    offered = std::min(bytes.size(), std::max(offered, used) + piece);
    if (used == offered) return http::error::need_more;
    used += parser.put(boost::asio::buffer(bytes.data() + used, offered - used), ec);
    if (ec == http::error::need_more) {
      if (offered == bytes.size()) return ec;
      ec = {};
      continue;
    }
    if (ec) return ec;
  }
  return ec;
}

void ExpectSameAsBeast(const std::string& raw, size_t piece, size_t header_limit = 8192, size_t body_limit = 1 << 20) {
  SCOPED_TRACE("piece " + std::to_string(piece) + ": " + raw);
  BeastParser beast;
  beast.header_limit(static_cast<std::uint32_t>(header_limit));
  beast.body_limit(body_limit);
  RequestParser ours;
  ours.header_limit(static_cast<std::uint32_t>(header_limit));
  ours.body_limit(body_limit);
  const auto beast_ec = Feed(beast, raw, piece);
  const auto our_ec = Feed(ours, raw, piece);
  ASSERT_EQ(our_ec, beast_ec) << our_ec.message() << " / " << beast_ec.message();
  ASSERT_EQ(ours.is_header_done(), beast.is_header_done());
  ASSERT_EQ(ours.is_done(), beast.is_done());
  if (!beast.is_header_done()) return;
  const auto& m = beast.get();
  EXPECT_EQ(ours.method(), m.method());
  EXPECT_EQ(ours.target(), std::string_view(m.target()));
  EXPECT_EQ(ours.version(), m.version());
  EXPECT_EQ(ours.keep_alive(), m.keep_alive());
  EXPECT_TRUE(ours.content_length() == beast.content_length());
  for (const auto& field : m) {
    const std::string name = Lower(field.name_string());
    // The first field of each name, as Beast's find gives it.
    EXPECT_EQ(ours.headers().Find(name), std::string_view(m.find(field.name_string())->value())) << name;
  }
  EXPECT_TRUE(ours.headers().Find("x-absent").empty());
  if (beast.is_done()) {
    EXPECT_EQ(ours.body(), m.body());
  }
}

const std::vector<std::string>& Requests() {
  static const std::vector<std::string> requests = {
      "GET /v1/people/01HZXK8J9Q2W3E4R5T6Y7U8I9O HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
      "Authorization: Bearer eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJiZW5jaCJ9.c2ln\r\nAccept-Encoding: gzip\r\n\r\n",
      "GET /v1/me HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
      "GET /v1/me HTTP/1.0\r\n\r\n",
      "GET /v1/me HTTP/1.1\r\nConnection: close\r\nX-Dup: one\r\nx-dup: two\r\n\r\n",
      "HEAD /healthz HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nX-Spaces:   padded value  \r\n\r\n",
      "POST /v1/people HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n"
      "{\"tax_code\":\"X\"}\n",
      "POST /v1/people/batch HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: after\r\n\r\n",
      "PURGE /cache HTTP/1.1\r\nHost: h\r\n\r\n",  // a method Beast does not know
      "PUT /v1/rules HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
      "POST /v1/people HTTP/1.1\r\nContent-Length: 10\r\n\r\nshort",             // the body runs out
      "GET /v1/me HTTP/1.1\r\nBad Field: x\r\n\r\n",                            // a space in a name
      "GET /v1/me HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",  // two lengths
      "GET /v1/me HTTP/2.0\r\n\r\n",
      "GET /v1/me HTTP/1.1\r\nX-Folded: a\r\n b\r\n\r\n",
      "POST /v1/people HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",  // a bad chunk size
  };
  return requests;
}

TEST(RequestParserTest, ReadsWhatBeastsParserReadsWholeAndInPieces) {
  for (const std::string& raw : Requests()) {
    for (size_t piece : {raw.size(), size_t{1}, size_t{7}}) ExpectSameAsBeast(raw, piece);
  }
}

TEST(RequestParserTest, RefusesWhatBeastsParserRefusesAtTheLimits) {
  const std::string big_header = "GET /v1/me HTTP/1.1\r\nX-Long: " + std::string(600, 'a') + "\r\n\r\n";
  ExpectSameAsBeast(big_header, big_header.size(), 256);
  const std::string big_body = "POST /v1/people HTTP/1.1\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'b');
  ExpectSameAsBeast(big_body, big_body.size(), 8192, 64);
  const std::string big_chunks =
      "POST /v1/people HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n" + std::string(64, 'c') + "\r\n40\r\n" +
      std::string(64, 'd') + "\r\n0\r\n\r\n";
  ExpectSameAsBeast(big_chunks, big_chunks.size(), 8192, 100);
  ExpectSameAsBeast(big_chunks, 5, 8192, 100);
}

}  // namespace
}  // namespace caseledger::api
