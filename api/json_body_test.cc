// Strict JSON bodies: a key given twice is refused and named by its path, wherever it is.
#include "api/json_body.h"

#include <gtest/gtest.h>

namespace caseledger::api {
namespace {

TEST(JsonBodyTest, KeyGivenTwiceIsRefusedNamingIt) {
  std::string error;
  EXPECT_FALSE(ParseJsonObject(R"({"a": 1, "b": 2, "a": 3})", &error));
  EXPECT_EQ(error, "key \"a\" appears more than once");
  EXPECT_FALSE(ParseJsonObject(R"({"rows": [{"id": 1}, {"id": 2, "x": {"k": 1, "k": 1}}]})", &error));
  EXPECT_EQ(error, "key \"rows[1].x.k\" appears more than once");
}

TEST(JsonBodyTest, FindDuplicateKeyComparesDecodedKeys) {
  EXPECT_EQ(FindDuplicateKey(R"({"ab": 1, "a\u0062": 2})"), "ab");
  EXPECT_EQ(FindDuplicateKey(R"([1, [2, {"z": [], "z": {}}]])"), "[1][1].z");
  EXPECT_EQ(FindDuplicateKey(R"({"a": {"a": {"a": 1}}, "b": [{"a": 1}, {"a": 1}]})"), std::nullopt);
  EXPECT_EQ(FindDuplicateKey("not json"), std::nullopt);
}

TEST(JsonBodyTest, DistinctKeysParse) {
  std::string error;
  auto o = ParseJsonObject(R"({"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}]})", &error);
  ASSERT_TRUE(o) << error;
  EXPECT_EQ(o->size(), 2u);
}

}  // namespace
}  // namespace caseledger::api
