// GpView under the real runner (issue #14): live, reopened and rebuilt views answer the
// same, and a tiny patient budget answers and writes as an unbounded one. The view alone is
// tested in gp_view_test.cc.
#include "projections/gp_view.h"
#include "projections/gp_view_rows.h"

#include "domain/event_codec.h"
#include "projections/cross_history_test_support.h"
#include "projections/person_directory.h"
#include "projections/runner_test_support.h"
#include "projections/views_db.h"
#include "projections/views_test_support.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace caseledger::projections {
namespace {

using domain::Date;
using testing::At;  // the projections' test support (views_test_support.h)
using testing::D;
namespace json = boost::json;

std::string Person(int n) {  // 26-character ULIDs, sorted by n
  std::string id = "01HF000000000000000000000";
  return id + static_cast<char>('A' + n);
}

constexpr const char* kGp1 = "MMG00001";
constexpr const char* kGp2 = "MMG00002";

// The real runner: batches of 3 written to the views database, reopened from it, and a
// rebuild in one batch, all answer the same.
TEST(GpViewRunnerTest, LiveReopenedAndRebuiltViewsAnswerTheSame) {
  testing::TestLog log;
  for (int n = 0; n < 6; ++n) {
    const std::string p = Person(n), swab = "SW-00000" + std::to_string(n);
    log.Person(
        p, {{domain::PersonRegistered{p, domain::Sex::kMale, "001272", {}}, At("2020-10-01", 8)},
            {domain::GpAssigned{n % 2 ? kGp1 : kGp2, ""}, At("2020-10-01", 8)}});
    log.Person(p,
               {{domain::SwabRequested{swab, domain::SwabKind::kAntigen, "contact", kGp1, {}},
                 At("2020-10-20", 8)},
                {domain::SwabCollected{swab, At("2020-10-20", 9), "site", ""}, At("2020-10-20", 9)}});
    if (n < 4) {
      log.Person(
          p,
          {{domain::ResultRecorded{swab, domain::Outcome::kPositive, "LAB01", At("2020-10-21", 9)},
            At("2020-10-20", 9)},
           {domain::IsolationOrdered{1, D("2020-10-20"), "positive", {}}, At("2020-10-20", 0)}});
    }
  }
  log.Person(Person(1), {{domain::GpAssigned{kGp2, kGp1}, At("2020-10-21", 12)}});
  auto views = [] {
    std::vector<std::unique_ptr<View>> v;
    v.push_back(std::make_unique<GpView>(testing::Rules()));
    return v;
  };
  auto dump = [](const ViewRunner& r) {
    std::string out;
    for (const char* gp : {kGp1, kGp2}) {
      for (const char* day : {"2020-10-20", "2020-10-21", "2020-10-30", "2020-11-10"}) {
        out += json::serialize(*GpJson(*r.Get<GpView>("gps"), gp, D(day)));
      }
    }
    return out;
  };
  const std::string live = testing::ExpectLiveReopenedAndRebuiltAgree(log, views, dump);
  EXPECT_NE(live.find(R"("results_to_read":[{"person_id":")" + Person(0)), std::string::npos);
}

// Issue #14: the patients live in the views database, their status in memory only beside
// the records the runner caches (at most `person_cache` of them); a tiny budget answers and
// writes exactly as an unbounded one, and as a view that was never attached (every patient
// in memory).
TEST(GpViewRunnerTest, ATinyPatientBudgetAnswersAndWritesAsAnUnboundedOne) {
  testing::TestLog log;
  testing::CrossHistory history(5);
  history.Run(3000);
  testing::AppendConcurrently(log, history.appends(), 4);
  auto views = [] {
    std::vector<std::unique_ptr<View>> v;
    v.push_back(std::make_unique<GpView>(testing::Rules()));
    return v;
  };
  auto dump = [&](const GpView& g) {
    std::string out;
    for (Date d = D("2020-10-13"); d <= history.today() + 10; d = d + 3) {
      for (int gp = 1000; gp < 1005; ++gp) {
        auto j = GpJson(g, "GP" + std::to_string(gp), d);
        out += j ? json::serialize(*j) : "null";
      }
    }
    return out;
  };
  auto run = [&](const std::string& name, size_t cache, size_t batch) {
    RunnerOptions o;
    o.path = log.Path(name);
    o.rules = testing::Rules();
    o.max_batch = batch;
    o.person_cache = cache;
    auto r = ViewRunner::Open(log.store(), views(), o);
    EXPECT_TRUE(r) << r.error().message;
    EXPECT_TRUE((*r)->CatchUp());
    std::string out = dump(*(*r)->Get<GpView>("gps"));
    r->reset();
    std::map<std::string, std::string> stored;
    auto db = ViewsDb::Open(log.Path(name));
    EXPECT_TRUE(db && (*db)->ForEach([&](std::string_view k, std::string_view v) {
      stored.emplace(k, v);
      return true;
    }));
    return std::pair(out, stored);
  };
  const auto unbounded = run("unbounded", 0, 4096);
  EXPECT_NE(unbounded.first.find("\"patients\":[{"), std::string::npos);
  EXPECT_NE(unbounded.first.find("\"measures\":[{"), std::string::npos);
  for (size_t cache : {1, 2, 7}) {
    SCOPED_TRACE("cache " + std::to_string(cache));
    const auto bounded = run("cache-" + std::to_string(cache), cache, 97);
    EXPECT_EQ(bounded.first, unbounded.first);
    EXPECT_TRUE(bounded.second == unbounded.second);
  }
  // Reopened with a budget of one: the rows stay on disk, the answers are the same.
  {
    RunnerOptions o;
    o.path = log.Path("unbounded");
    o.rules = testing::Rules();
    o.person_cache = 1;
    auto r = ViewRunner::Open(log.store(), views(), o);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ((*r)->Memory().person_records, 0u);
    EXPECT_EQ(dump(*(*r)->Get<GpView>("gps")), unbounded.first);
  }
  // Never attached: every patient in memory, fed the log by hand, the same answers.
  GpView alone(testing::Rules());
  projections::PersonDirectory directory(testing::Rules());
  class Null final : public PersistSink {
    void Put(std::string_view, std::string_view) override {}
    void Delete(std::string_view) override {}
  } sink;
  auto all = log.store().ReadLog(1, 1 << 20);
  ASSERT_TRUE(all);
  std::vector<Effect> effects;
  for (const domain::Envelope& env : *all) {
    auto event = domain::Decode(env.type, env.schema_version, env.body, {});
    ASSERT_TRUE(event);
    std::string_view stream(env.stream), person;
    if (stream.starts_with("person-")) person = stream.substr(7);
    const PersonRecord* before = directory.Find(person);
    effects.clear();
    directory.Effects(LogEvent{env, *event, person}, before, effects);
    const LogEvent e{env, *event, person, effects};
    alone.Apply(e, before, sink);
    directory.Apply(e, before);
  }
  alone.Publish(all->back().position);
  EXPECT_EQ(dump(alone), unbounded.first);
}

// The rows made at the end of a catch-up from scratch, cut in two (two table files written
// at once): every row once, the lower half's all before the upper's, each in key order,
// the two as many as the rows not cut; too few GPs to cut, none is cut.
TEST(GpRowsAtEndTest, TheUpperHalfTakesTheRowsFromAGpOnInKeyOrder) {
  auto add = [](PersonRowsAtEnd& rows, int people) {
    for (int n = 0; n < people; ++n) {
      PersonRecord r;
      r.gp_id = n % 4 == 3 ? "" : "MMG0000" + std::to_string(n % 5);  // some have none
      const std::string part = n % 7 == 0 ? gp_rows::Encode(gp_rows::PatientStatus{true, {}, {}}) : "";
      rows.Add(Person(n), PersonDirectory::Encode(r), part);
    }
  };
  auto all = [](PersonRowsAtEnd& rows) {
    std::vector<std::pair<std::string, std::string>> out;
    std::string key, value;
    while (rows.Next(key, value)) out.emplace_back(key, value);
    return out;
  };
  auto whole = gp_rows::MakeRowsAtEnd();
  add(*whole, 20);
  const auto expected = all(*whole);
  ASSERT_EQ(expected.size(), 15u);
  ASSERT_TRUE(std::is_sorted(expected.begin(), expected.end()));

  auto lower = gp_rows::MakeRowsAtEnd();
  add(*lower, 20);
  std::unique_ptr<PersonRowsAtEnd> upper = lower->TakeUpperHalf();
  ASSERT_NE(upper, nullptr);
  auto below = all(*lower), above = all(*upper);
  EXPECT_FALSE(below.empty());
  EXPECT_FALSE(above.empty());
  EXPECT_LT(below.back().first, above.front().first);
  below.insert(below.end(), above.begin(), above.end());
  EXPECT_EQ(below, expected);

  // Made on two threads (the people merged in two ranges of ids), the upper range's rows
  // appended: the same rows in the same order, whole or cut in two after.
  for (const bool cut : {false, true}) {
    SCOPED_TRACE(cut);
    auto first = gp_rows::MakeRowsAtEnd(), second = gp_rows::MakeRowsAtEnd();
    for (int n = 0; n < 20; ++n) {
      PersonRecord r;
      r.gp_id = n % 4 == 3 ? "" : "MMG0000" + std::to_string(n % 5);
      const std::string part = n % 7 == 0 ? gp_rows::Encode(gp_rows::PatientStatus{true, {}, {}}) : "";
      (n < 9 ? *first : *second).Add(Person(n), PersonDirectory::Encode(r), part);
    }
    first->Append(*second);
    auto rows = all(*second);
    EXPECT_TRUE(rows.empty()) << "the appended rows are taken";
    std::unique_ptr<PersonRowsAtEnd> rest = cut ? first->TakeUpperHalf() : nullptr;
    ASSERT_EQ(rest != nullptr, cut);
    rows = all(*first);
    if (rest) {
      auto after = all(*rest);
      rows.insert(rows.end(), after.begin(), after.end());
    }
    EXPECT_EQ(rows, expected);
  }

  auto one_gp = gp_rows::MakeRowsAtEnd();
  PersonRecord r;
  r.gp_id = kGp1;
  one_gp->Add(Person(0), PersonDirectory::Encode(r), "");
  one_gp->Add(Person(1), PersonDirectory::Encode(r), "");
  EXPECT_EQ(one_gp->TakeUpperHalf(), nullptr);
  EXPECT_EQ(all(*one_gp).size(), 2u);
}

}  // namespace
}  // namespace caseledger::projections
