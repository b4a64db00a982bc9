// The load generator's parts that need no server: the histogram's precision, URL parsing,
// and that generated people carry valid, distinct tax codes the server would accept.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <random>
#include <set>

#include "workload/http_load.h"
#include "workload/latency_histogram.h"
#include "workload/load_workloads.h"
#include "app/reference_files.h"
#include "domain/tax_code.h"

namespace caseledger::workload {
namespace {

TEST(LatencyHistogramTest, PercentilesAreWithinOnePercentAndNeverBelowTheTruth) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> latency(13, 1.5);  // ~0.4 ms median, long tail
  LatencyHistogram h;
  std::vector<int64_t> all;
  for (int i = 0; i < 200'000; ++i) {
    auto v = static_cast<int64_t>(latency(rng));
    h.Record(v);
    all.push_back(v);
  }
  std::sort(all.begin(), all.end());
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.9, 100.0}) {
    auto rank = static_cast<size_t>(std::ceil(p / 100 * static_cast<double>(all.size())));
    int64_t exact = all[rank - 1];
    EXPECT_GE(h.Percentile(p), exact) << "p" << p;
    EXPECT_LE(static_cast<double>(h.Percentile(p)), static_cast<double>(exact) * 1.008) << "p" << p;
  }
  EXPECT_EQ(h.count(), all.size());
  EXPECT_EQ(h.min(), all.front());
  EXPECT_EQ(h.max(), all.back());
}

TEST(LatencyHistogramTest, SmallValuesAreExactAndExtremesFit) {
  LatencyHistogram h;
  for (int v = 1; v <= 100; ++v) h.Record(v);
  EXPECT_EQ(h.Percentile(50), 50);
  EXPECT_EQ(h.Percentile(100), 100);
  h.Record(INT64_MAX);
  h.Record(-3);  // counts as 0
  EXPECT_EQ(h.max(), INT64_MAX);
  EXPECT_EQ(h.Percentile(100), INT64_MAX);
  EXPECT_EQ(h.min(), 0);
}

TEST(LatencyHistogramTest, MergeAddsSamples) {
  LatencyHistogram a, b;
  a.Record(1'000);
  b.Record(2'000'000);
  a.Merge(b);
  EXPECT_EQ(a.count(), 2u);
  EXPECT_EQ(a.min(), 1'000);
  EXPECT_EQ(a.max(), 2'000'000);
  EXPECT_EQ(LatencyHistogram().Percentile(99), 0);
}

TEST(ParseHttpUrlTest, AcceptsHostPortAndRejectsTheRest) {
  auto t = ParseHttpUrl("http://127.0.0.1:8080/");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->host, "127.0.0.1");
  EXPECT_EQ(t->port, "8080");
  EXPECT_EQ(ParseHttpUrl("http://[::1]:80")->host, "::1");
  for (const char* bad :
       {"https://x:1", "http://x", "http://x:0", "http://x:99999", "http://x:80/v1", "x:80"}) {
    EXPECT_FALSE(ParseHttpUrl(bad)) << bad;
  }
}

TEST(PersonGeneratorTest, PeopleHaveValidDistinctTaxCodesMatchingTheirData) {
  auto reference = app::LoadReferenceData(app::DefaultReferenceDir());
  ASSERT_TRUE(reference) << reference.error().message;
  PersonGenerator people(**reference, 42);
  std::set<std::string> codes;
  const auto today = domain::Date::FromYmd(2025, 1, 1);
  for (int i = 0; i < 5'000; ++i) {
    PersonGenerator::Person p = people.Next();
    auto tc = domain::ParseTaxCode(p.tax_code, today);
    ASSERT_TRUE(tc) << p.tax_code;
    EXPECT_EQ(tc->birth_date.ToString(), p.birth_date);
    EXPECT_EQ(tc->sex, p.sex);
    EXPECT_TRUE(domain::TaxCodeMatchesNames(*tc, p.family_name, p.given_names)) << p.tax_code;
    const domain::Municipality* m = (*reference)->FindMunicipality(p.residence_istat);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->region_code, "01");
    EXPECT_TRUE(codes.insert(p.tax_code).second) << "repeated " << p.tax_code;
    auto body = boost::json::parse(PersonGenerator::RegisterBody(p)).as_object();
    EXPECT_EQ(body.at("tax_code").as_string(), p.tax_code);
  }
}

TEST(CaseCommandsTest, FollowsEachRegisteredPersonThroughTheSwabFlow) {
  auto reference = app::LoadReferenceData(app::DefaultReferenceDir());
  ASSERT_TRUE(reference) << reference.error().message;
  CaseCommands w(**reference, 5, 0, /*people_limit=*/1);
  auto reg = w.Next();
  ASSERT_TRUE(reg);
  EXPECT_EQ(reg->target, "/v1/people");
  EXPECT_FALSE(w.Next()) << "limit reached: nothing else until the answer";
  EXPECT_FALSE(w.Finished());
  w.Completed(*reg, 201, R"({"person_id":"01JD0000000000000000000000","version":1})");
  auto swab = w.Next();
  ASSERT_TRUE(swab);
  EXPECT_EQ(swab->target, "/v1/people/01JD0000000000000000000000/swabs");
  std::string swab_id(boost::json::parse(swab->body).at("swab_id").as_string());
  w.Completed(*swab, 201, "{}");
  auto collect = w.Next();
  ASSERT_TRUE(collect);
  EXPECT_EQ(collect->target, "/v1/swabs/" + swab_id + "/collection");
  w.Completed(*collect, 201, "{}");
  auto result = w.Next();
  ASSERT_TRUE(result);
  EXPECT_EQ(result->target, "/v1/swabs/" + swab_id + "/result");
  w.Completed(*result, 201, "{}");
  EXPECT_TRUE(w.Finished());
  EXPECT_EQ(w.completed_people(), std::vector<std::string>{"01JD0000000000000000000000"});
}

}  // namespace
}  // namespace caseledger::workload
