#include "api/batch_rows.h"

#include <gtest/gtest.h>

namespace caseledger::api {
namespace {

TEST(BatchRowsTest, CsvColumnsInAnyOrderOthersIgnored) {
  auto rows = ParseBatchCsv(
      "note,reported_at,lab_id,outcome,swab_id\r\n"
      "x,2020-10-21T15:00:00Z,LAB-TO1,positive,SW-1\r\n"
      "\r\n"
      "y,2020-10-21T16:00:00Z,LAB-TO1,negative,SW-2");
  ASSERT_TRUE(rows) << rows.error().detail;
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].swab_id, "SW-1");
  EXPECT_EQ((*rows)[0].outcome, "positive");
  EXPECT_EQ((*rows)[0].lab_id, "LAB-TO1");
  EXPECT_EQ((*rows)[0].reported_at, "2020-10-21T15:00:00Z");
  EXPECT_EQ((*rows)[1].swab_id, "SW-2");
  EXPECT_EQ((*rows)[1].outcome, "negative");
}

TEST(BatchRowsTest, JsonRowWithAKeyTwiceIsRefusedNamingIt) {
  auto rows = ParseBatchJson(
      R"({"results": [{"swab_id": "SW-1", "outcome": "negative"},
                      {"swab_id": "SW-2", "outcome": "negative", "outcome": "positive"}]})");
  ASSERT_FALSE(rows);
  EXPECT_FALSE(rows.error().too_many_rows);
  EXPECT_EQ(rows.error().detail, "key \"results[1].outcome\" appears more than once");
  // The same field in two rows is no duplicate.
  EXPECT_TRUE(ParseBatchJson(R"({"results": [{"outcome": "negative"}, {"outcome": "positive"}]})"));
}

TEST(BatchRowsTest, CsvShortRowsReadAsEmptyFields) {
  auto rows = ParseBatchCsv("swab_id,outcome,lab_id,reported_at\nSW-1,positive\n");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].outcome, "positive");
  EXPECT_EQ((*rows)[0].lab_id, "");
  EXPECT_EQ((*rows)[0].reported_at, "");
}

TEST(BatchRowsTest, CsvBodyErrors) {
  auto quoted = ParseBatchCsv("swab_id,outcome,lab_id,reported_at\n\"SW-1\",positive,L,T\n");
  ASSERT_FALSE(quoted);
  EXPECT_FALSE(quoted.error().too_many_rows);
  EXPECT_EQ(quoted.error().detail, "quoted CSV fields are not accepted");
  auto no_column = ParseBatchCsv("swab_id,outcome,reported_at\n");
  ASSERT_FALSE(no_column);
  EXPECT_EQ(no_column.error().detail, "CSV header lacks column lab_id");
  auto empty = ParseBatchCsv("\r\n\r\n");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().detail, "CSV body has no header line");
}

// The audit's 16 MB of commas: one line of millions of empty cells. It is read in place;
// the one row it makes has four empty fields.
TEST(BatchRowsTest, CsvLineOfCommasMakesOneEmptyRow) {
  std::string body = "swab_id,outcome,lab_id,reported_at\n" + std::string(4 << 20, ',');
  auto rows = ParseBatchCsv(body);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].swab_id, "");
  EXPECT_EQ((*rows)[0].oversized, "");
}

TEST(BatchRowsTest, OversizedFieldIsNamedAndNotKept) {
  std::string pad(1 << 20, 'p');
  auto csv = ParseBatchCsv("swab_id,outcome,lab_id,reported_at\nSW-1,positive," + pad + ",T\n");
  ASSERT_TRUE(csv);
  EXPECT_EQ((*csv)[0].oversized, "lab_id");
  EXPECT_EQ((*csv)[0].lab_id, "");
  EXPECT_EQ((*csv)[0].swab_id, "SW-1");
  auto json = ParseBatchJson(R"({"results":[{"swab_id":"SW-1","outcome":")" + pad + R"("}]})");
  ASSERT_TRUE(json) << json.error().detail;
  EXPECT_EQ((*json)[0].oversized, "outcome");
  EXPECT_EQ((*json)[0].outcome, "");
  EXPECT_EQ((*json)[0].swab_id, "SW-1");
}

TEST(BatchRowsTest, MoreRowsThanTheCapAreRefused) {
  std::string csv = "swab_id,outcome,lab_id,reported_at\n";
  std::string json = R"({"results":[)";
  for (size_t i = 0; i <= kMaxBatchRows; ++i) {
    csv += "S,positive,L,T\n";
    json += i ? ",{}" : "{}";
  }
  json += "]}";
  auto c = ParseBatchCsv(csv);
  ASSERT_FALSE(c);
  EXPECT_TRUE(c.error().too_many_rows);
  auto j = ParseBatchJson(json);
  ASSERT_FALSE(j);
  EXPECT_TRUE(j.error().too_many_rows);
  // Exactly the cap is fine.
  csv.resize(csv.size() - std::string("S,positive,L,T\n").size());
  auto at_cap = ParseBatchCsv(csv);
  ASSERT_TRUE(at_cap);
  EXPECT_EQ(at_cap->size(), kMaxBatchRows);
}

TEST(BatchRowsTest, JsonRowsWithOddMembersReadAsEmptyFields) {
  auto rows = ParseBatchJson(
      R"({"results":[)"
      R"({"swab_id":"SW-1","outcome":"positive","lab_id":"LAB-TO1","reported_at":"2020-10-21T15:00:00Z","note":{"swab_id":"no"}},)"
      R"(7, "text", [1,"x"], null,)"
      R"({"swab_id":5,"outcome":["positive"],"lab_id":{"a":"b"},"reported_at":"T"},)"
      R"({"swab_id":"new","outcome":"negative\u0021"})"
      R"(]})");
  ASSERT_TRUE(rows) << rows.error().detail;
  ASSERT_EQ(rows->size(), 7u);
  EXPECT_EQ((*rows)[0].swab_id, "SW-1");
  EXPECT_EQ((*rows)[0].reported_at, "2020-10-21T15:00:00Z");
  for (size_t i = 1; i <= 4; ++i) {
    EXPECT_EQ((*rows)[i].swab_id, "") << i;
    EXPECT_EQ((*rows)[i].outcome, "") << i;
  }
  EXPECT_EQ((*rows)[5].swab_id, "");
  EXPECT_EQ((*rows)[5].outcome, "");
  EXPECT_EQ((*rows)[5].lab_id, "");
  EXPECT_EQ((*rows)[5].reported_at, "T");
  EXPECT_EQ((*rows)[6].swab_id, "new");
  EXPECT_EQ((*rows)[6].outcome, "negative!");
}

TEST(BatchRowsTest, JsonBodyErrors) {
  const char* bodies[] = {
      "",
      "[]",
      "{}",
      R"({"results":{}})",
      R"({"results":1})",
      R"({"results":[],"extra":1})",
      R"({"results":[],"results":[]})",
      R"({"results":[{}])",
      "{\"results\":[{\"swab_id\":\"\xff\"}]}",
      R"({"results":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]})",
  };
  for (const char* body : bodies) {
    auto rows = ParseBatchJson(body);
    EXPECT_FALSE(rows) << body;
    if (!rows) {
      EXPECT_FALSE(rows.error().too_many_rows) << body;
      EXPECT_FALSE(rows.error().detail.empty()) << body;
    }
  }
}

}  // namespace
}  // namespace caseledger::api
