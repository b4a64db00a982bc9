#include "api/response_head.h"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <gtest/gtest.h>

namespace caseledger::api {
namespace {

namespace http = boost::beast::http;

// What a client's parser reads from the head and the body written after it.
http::response<http::string_body> Parse(const std::string& bytes, bool head_request = false) {
  http::response_parser<http::string_body> parser;
  parser.skip(head_request);
  parser.eager(true);
  boost::beast::error_code ec;
  size_t used = 0;
  while (!ec && !parser.is_done() && used < bytes.size()) {
    used += parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
  }
  EXPECT_FALSE(ec) << ec.message() << "\n" << bytes;
  EXPECT_EQ(used, bytes.size()) << bytes;
  EXPECT_TRUE(parser.is_done()) << bytes;
  return parser.release();
}

TEST(ResponseHeadTest, AClientReadsStatusFieldsAndBodyInOrder) {
  Response res;
  res.status = 200;
  res.body = R"({"id":"P-1"})";
  res.Set("ETag", "\"p3\"").Set("X-Position", "42");
  auto msg = Parse(ResponseHead(res, 11, true, res.body.size()) + res.body);
  EXPECT_EQ(msg.result_int(), 200u);
  EXPECT_EQ(msg.reason(), "OK");
  EXPECT_EQ(msg.version(), 11u);
  EXPECT_EQ(msg[http::field::server], "caseledger");
  EXPECT_EQ(msg[http::field::content_type], "application/json");
  EXPECT_EQ(msg[http::field::etag], "\"p3\"");
  EXPECT_EQ(msg["X-Position"], "42");
  EXPECT_TRUE(msg.keep_alive());
  EXPECT_EQ(msg.body(), res.body);
}

TEST(ResponseHeadTest, KeepAliveFollowsTheVersionAsBeastDoes) {
  Response res;
  res.status = 404;
  res.content_type = "application/problem+json";
  res.body = "{}";
  auto closing = Parse(ResponseHead(res, 11, false, 2) + res.body);
  EXPECT_EQ(closing[http::field::connection], "close");
  EXPECT_FALSE(closing.keep_alive());
  EXPECT_EQ(closing.reason(), "Not Found");
  auto old_keep = Parse(ResponseHead(res, 10, true, 2) + res.body);
  EXPECT_EQ(old_keep.version(), 10u);
  EXPECT_TRUE(old_keep.keep_alive());
  auto old_close = Parse(ResponseHead(res, 10, false, 2) + res.body);
  EXPECT_FALSE(old_close.keep_alive());
  EXPECT_EQ(old_close.count(http::field::connection), 0u);
}

TEST(ResponseHeadTest, EmptyAndHeadAnswersCarryTheirLength) {
  Response not_modified;
  not_modified.status = 304;
  not_modified.content_type = {};
  auto msg = Parse(ResponseHead(not_modified, 11, true, 0));
  EXPECT_EQ(msg.result_int(), 304u);
  EXPECT_EQ(msg.count(http::field::content_type), 0u);
  // HEAD: the length a GET would get, no body follows.
  Response res;
  res.body = std::string(1000, 'x');
  auto head = Parse(ResponseHead(res, 11, true, res.body.size()), true);
  EXPECT_EQ(head[http::field::content_length], "1000");
  EXPECT_TRUE(head.body().empty());
}

TEST(ResponseHeadTest, ALineBreakInAValueCannotStartAField) {
  Response res;
  res.Set("Location", "/v1/x\r\nSet-Cookie: a=b");
  auto msg = Parse(ResponseHead(res, 11, true, 0));
  EXPECT_EQ(msg.count(http::field::set_cookie), 0u);
  EXPECT_EQ(msg[http::field::location], "/v1/xSet-Cookie: a=b");
}

TEST(ResponseHeadTest, AnUnknownStatusStillHasAStatusLine) {
  Response res;
  res.status = 599;
  auto msg = Parse(ResponseHead(res, 11, true, 0));
  EXPECT_EQ(msg.result_int(), 599u);
}

}  // namespace
}  // namespace caseledger::api
