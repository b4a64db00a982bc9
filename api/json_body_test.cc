// Strict JSON bodies: a key given twice is refused and named by its path, wherever it is.
#include "api/json_body.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace caseledger::api {
namespace {

TEST(JsonBodyTest, KeyGivenTwiceIsRefusedNamingIt) {
  std::string error;
  EXPECT_FALSE(ParseJsonObject(R"({"a": 1, "b": 2, "a": 3})", &error));
  EXPECT_EQ(error, "key \"a\" appears more than once");
  EXPECT_FALSE(ParseJsonObject(R"({"rows": [{"id": 1}, {"id": 2, "x": {"k": 1, "k": 1}}]})", &error));
  EXPECT_EQ(error, "key \"rows[1].x.k\" appears more than once");
  // Given twice inside a member that is itself given twice (Boost.JSON keeps the last "a",
  // the inner object's members are gone from the value): still refused, the first named.
  EXPECT_FALSE(ParseJsonObject(R"({"a": {"k": 1, "k": 2}, "a": 3})", &error));
  EXPECT_EQ(error, "key \"a.k\" appears more than once");
  EXPECT_FALSE(ParseJsonObject(R"({"a": [1, {"b": 1}], "c": {}, "a": []})", &error));
  EXPECT_EQ(error, "key \"a\" appears more than once");
  // Keys that differ only in escapes are the same key.
  EXPECT_FALSE(ParseJsonObject(R"({"ab": 1, "a\u0062": 2})", &error));
  EXPECT_EQ(error, "key \"ab\" appears more than once");
}

// The parse's other refusals and its value are Boost.JSON's parser's.
TEST(JsonBodyTest, RefusalsAndValuesAreThoseOfTheParser) {
  std::string error;
  EXPECT_FALSE(ParseJsonObject("", &error));
  EXPECT_EQ(error, "body is empty; a JSON object is required");
  EXPECT_FALSE(ParseJsonObject("[1, 2]", &error));
  EXPECT_EQ(error, "body must be a JSON object");
  EXPECT_FALSE(ParseJsonObject(R"({"a": 1} {)", &error));
  EXPECT_EQ(error, "body is not valid JSON: " + boost::json::make_error_code(boost::json::error::extra_data).message());
  EXPECT_FALSE(ParseJsonObject("{\"a\": \"\xff\"}", &error));
  EXPECT_EQ(error, "body is not valid JSON (or not valid UTF-8)");
  EXPECT_FALSE(ParseJsonObject(std::string(40, '[') + std::string(40, ']'), &error));
  EXPECT_FALSE(ParseJsonObject("{\"a\":" + std::string(40, '[') + std::string(40, ']') + "}", &error));
  EXPECT_EQ(error, "JSON nests deeper than 32 levels");
  const std::string body = R"({"s": "x\u00e9", "n": -3, "u": 18446744073709551615, "d": 1.5, "b": true,
                              "z": null, "o": {"a": [1, "two", {"k": []}]}})";
  auto parsed = ParseJsonObject(body, &error);
  ASSERT_TRUE(parsed) << error;
  EXPECT_EQ(boost::json::value(*parsed), boost::json::parse(body));
}

TEST(JsonBodyTest, FindDuplicateKeyComparesDecodedKeys) {
  EXPECT_EQ(FindDuplicateKey(R"({"ab": 1, "a\u0062": 2})"), "ab");
  EXPECT_EQ(FindDuplicateKey(R"([1, [2, {"z": [], "z": {}}]])"), "[1][1].z");
  EXPECT_EQ(FindDuplicateKey(R"({"a": {"a": {"a": 1}}, "b": [{"a": 1}, {"a": 1}]})"), std::nullopt);
  EXPECT_EQ(FindDuplicateKey("not json"), std::nullopt);
}

// Objects of a few keys are searched in place, larger ones through a set: the same answers
// on both sides of the switch, with objects nested inside one another at either size.
TEST(JsonBodyTest, FindDuplicateKeyInObjectsOfManyKeys) {
  auto object = [](int keys, const std::string& inner, int inner_at) {
    std::string s = "{";
    for (int i = 0; i < keys; ++i) {
      if (i) s += ",";
      s += "\"k" + std::to_string(i) + "\":" + (i == inner_at ? inner : std::to_string(i));
    }
    return s + "}";
  };
  for (int n : {1, 2, 15, 16, 17, 18, 40, 300}) {
    SCOPED_TRACE(n);
    const std::string distinct = object(n, object(n, "1", -1), n / 2);
    EXPECT_EQ(FindDuplicateKey(distinct), std::nullopt);
    // The last key repeats the first, at the top and in the nested object.
    std::string top = distinct;
    top.insert(top.size() - 1, ",\"k0\":9");
    EXPECT_EQ(FindDuplicateKey(top), "k0");
    const std::string nested = object(n, object(n, "1", -1).insert(1, "\"k" + std::to_string(n - 1) + "\":2,"), n / 2);
    EXPECT_EQ(FindDuplicateKey(nested), "k" + std::to_string(n / 2) + ".k" + std::to_string(n - 1));
    // A key of the outer object after the nested one closed is not one of the nested one's.
    std::string after = object(n, object(n, "1", -1), 0);
    after.insert(after.size() - 1, ",\"z\":{\"k1\":1}");
    EXPECT_EQ(FindDuplicateKey(after), std::nullopt);
  }
}

// RejectUnknown names exactly the members no accessor asked for, asked by any accessor,
// in objects of a few members and of more than 64 (the bits beyond the first word).
TEST(JsonBodyTest, RejectUnknownNamesTheMembersNotAskedFor) {
  for (int n : {3, 64, 65, 130}) {
    SCOPED_TRACE(n);
    std::string body = "{";
    for (int i = 0; i < n; ++i) body += (i ? "," : "") + ("\"f" + std::to_string(i) + "\":" + std::to_string(i));
    body += "}";
    std::string error;
    auto object = ParseJsonObject(body, &error);
    ASSERT_TRUE(object) << error;
    domain::FieldErrors errors;
    JsonFields fields(*object, errors);
    for (int i = 0; i < n; ++i) {
      if (i % 3 != 1) {
        EXPECT_EQ(fields.Int("f" + std::to_string(i)), i);
      }
    }
    EXPECT_FALSE(fields.Int("absent", false));
    fields.RejectUnknown();
    std::vector<std::string> unknown;
    for (const auto& f : errors.fields()) unknown.push_back(f.field);
    std::vector<std::string> expected;
    for (int i = 1; i < n; i += 3) expected.push_back("f" + std::to_string(i));
    EXPECT_EQ(unknown, expected);
  }
}

TEST(JsonBodyTest, DistinctKeysParse) {
  std::string error;
  auto o = ParseJsonObject(R"({"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}]})", &error);
  ASSERT_TRUE(o) << error;
  EXPECT_EQ(o->size(), 2u);
}

// A string field read in place (StringView, and Date and Time through it) is the value, or
// the same errors String gives; it marks the member seen.
TEST(JsonBodyTest, AFieldReadInPlaceIsTheValueOrTheSameErrors) {
  std::string error;
  auto o = ParseJsonObject(
      R"({"s":"caf\u00e9","d":"2020-10-12","t":"2020-10-12T08:30:00+02:00","n":1,"bad_d":"12/10/2020","bad_t":"x"})",
      &error);
  ASSERT_TRUE(o) << error;
  domain::FieldErrors errors;
  JsonFields fields(*o, errors);
  EXPECT_EQ(fields.StringView("s"), std::optional<std::string_view>("caf\xc3\xa9"));
  EXPECT_EQ(fields.Date("d"), domain::Date::Parse("2020-10-12"));
  EXPECT_EQ(fields.Time("t"), domain::Timestamp::Parse("2020-10-12T06:30:00Z"));
  EXPECT_FALSE(fields.StringView("n"));
  EXPECT_FALSE(fields.StringView("absent"));
  EXPECT_FALSE(fields.StringView("absent too", false));
  EXPECT_FALSE(fields.Date("bad_d"));
  EXPECT_FALSE(fields.Time("bad_t"));
  fields.RejectUnknown();
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& f : errors.fields()) got.emplace_back(f.field, f.message);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"n", "must be a string"},
      {"absent", "is required"},
      {"bad_d", "must be a date YYYY-MM-DD"},
      {"bad_t", "must be an RFC 3339 date-time with offset, e.g. 2020-10-12T08:30:00Z"},
  };
  EXPECT_EQ(got, expected);
}

}  // namespace
}  // namespace caseledger::api
