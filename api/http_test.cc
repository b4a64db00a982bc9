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

}  // namespace
}  // namespace caseledger::api
