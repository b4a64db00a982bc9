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

}  // namespace
}  // namespace caseledger::api
