#include "api/http.h"

#include <gtest/gtest.h>

namespace caseledger::api {
namespace {

using Query = std::vector<std::pair<std::string, std::string>>;

// A target with nothing to decode is copied as is (the fast path); one with escapes, '+'
// in its query or control characters is decoded or refused character by character.
TEST(ParseTargetTest, DecodesEscapesAndPlusOnlyWhereTheyMeanSomething) {
  std::string path;
  Query query;
  ASSERT_TRUE(ParseTarget("/v1/people/01HZX3?as_of=2021-01-01&x", path, query));
  EXPECT_EQ(path, "/v1/people/01HZX3");
  EXPECT_EQ(query, (Query{{"as_of", "2021-01-01"}, {"x", ""}}));

  ASSERT_TRUE(ParseTarget("/v1/a+b/c%20d?q=a+b%2Bc&k%3D=v", path, query));
  EXPECT_EQ(path, "/v1/a+b/c d");  // '+' is a space in a query only
  EXPECT_EQ(query, (Query{{"q", "a b+c"}, {"k=", "v"}}));

  ASSERT_TRUE(ParseTarget("/v1/grants/ext%2Fbob/x%25y%41", path, query));
  EXPECT_EQ(path, "/v1/grants/ext%2Fbob/x%25yA");  // separators stay escaped in the path
  EXPECT_TRUE(query.empty());
}

TEST(ParseTargetTest, RefusesBadEscapesAndControlCharacters) {
  std::string path;
  Query query;
  EXPECT_FALSE(ParseTarget("", path, query));
  EXPECT_FALSE(ParseTarget("v1/people", path, query));
  EXPECT_FALSE(ParseTarget("/v1/people%2", path, query));
  EXPECT_FALSE(ParseTarget("/v1/people%zz", path, query));
  EXPECT_FALSE(ParseTarget("/v1/people%00", path, query));
  EXPECT_FALSE(ParseTarget(std::string_view("/v1/pe\x01ople"), path, query));
  EXPECT_FALSE(ParseTarget(std::string_view("/v1/people\x7f"), path, query));
  EXPECT_FALSE(ParseTarget(std::string_view("/v1/people?a=\x01"), path, query));
  EXPECT_FALSE(ParseTarget("/v1/people?a=%0A", path, query));
}

// A request's headers packed in one string: found by their lower-cased name, the first of
// two with one name, any bytes in a value, empty when absent or empty.
TEST(RequestHeadersTest, FindsTheFirstFieldByItsLowerCasedName) {
  Request req;
  const std::string token(300, 'x');
  req.headers.Reserve(4, 100);
  req.headers.Add("Host", "127.0.0.1:8080");
  req.headers.Add("AUTHORIZATION", "Bearer " + token);
  req.headers.Add("x-empty", "");
  req.headers.Add("x-twice", std::string("one\0\xff", 5));
  req.headers.Add("X-Twice", "two");
  EXPECT_EQ(req.Header("host"), "127.0.0.1:8080");
  EXPECT_EQ(req.Header("authorization"), "Bearer " + token);
  EXPECT_EQ(req.Header("x-twice"), std::string_view("one\0\xff", 5));
  EXPECT_EQ(req.Header("x-empty"), "");
  EXPECT_EQ(req.Header("Host"), "");  // names are looked up lower-case
  EXPECT_EQ(req.Header("accept"), "");
  Request copy = req;  // offsets, not pointers: a copy finds its own fields
  req.headers = {{"if-none-match", "W/\"p1\""}};
  EXPECT_EQ(copy.Header("authorization"), "Bearer " + token);
  EXPECT_EQ(req.Header("if-none-match"), "W/\"p1\"");
  EXPECT_EQ(req.Header("host"), "");
}

// A look-up skips the walk only for a name of a size no field has: every other look-up
// still compares names, so fields of one size, absent names of a size present, and names
// of 63 bytes or more (which share one size bit) are each found or not as they are.
TEST(RequestHeadersTest, ANameOfAnotherSizeIsAbsentAndOneOfTheSameSizeIsCompared) {
  Request req;
  const std::string long_name(70, 'n'), other_long(64, 'n'), sixty_three(63, 'n');
  req.headers.Add("Content-Length", "42");    // 14 bytes
  req.headers.Add("X-Causation-Id", "c-1");   // 14 bytes too
  req.headers.Add("Authorization", "Bearer t");
  req.headers.Add(long_name, "long");
  EXPECT_EQ(req.Header("content-length"), "42");
  EXPECT_EQ(req.Header("x-causation-id"), "c-1");
  EXPECT_EQ(req.Header("x-correlation-"), "");  // 14 bytes, no such field
  EXPECT_EQ(req.Header("if-match"), "");        // no field of 8 bytes
  EXPECT_EQ(req.Header("idempotency-key"), "");
  EXPECT_EQ(req.Header(long_name), "long");
  EXPECT_EQ(req.Header(other_long), "");   // shares the size bit of 63 and more
  EXPECT_EQ(req.Header(sixty_three), "");
  EXPECT_EQ(req.Header(""), "");
  req.headers.Add(sixty_three, "sixty-three");
  EXPECT_EQ(req.Header(sixty_three), "sixty-three");
  EXPECT_EQ(req.Header(long_name), "long");
  // Replaced headers forget the old fields' sizes; a moved copy keeps its own.
  RequestHeaders moved = std::move(req.headers);
  req.headers = {{"If-Match", "\"3\""}};
  EXPECT_EQ(req.Header("if-match"), "\"3\"");
  EXPECT_EQ(req.Header("content-length"), "");
  EXPECT_EQ(moved.Find("content-length"), "42");
  EXPECT_EQ(moved.Find("if-match"), "");
}

// A name is lower-cased eight bytes at a time: every byte value, at every place of a word
// and in the tail, comes out as a byte at a time would make it (only 'A'-'Z' change).
TEST(RequestHeadersTest, EveryByteOfANameIsLowerCasedAsASCIIAlone) {
  for (size_t length : {1u, 7u, 8u, 9u, 16u, 23u}) {
    for (int b = 0; b < 256; ++b) {
      for (size_t at = 0; at < length; ++at) {
        std::string name(length, 'Q');
        name[at] = static_cast<char>(b);
        std::string want = name;
        for (char& c : want) {
          if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        }
        RequestHeaders headers;
        headers.Add(name, "v");
        ASSERT_EQ(headers.Find(want), "v") << "length " << length << " byte " << b << " at " << at;
      }
    }
  }
}

}  // namespace
}  // namespace caseledger::api
