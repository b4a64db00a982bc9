// The incremental what-if against the full one (two shadow rebuilds, the oracle): random
// histories rich in events that span people (class quarantines on school streams, contacts,
// GP changes, enrolments, corrections, residence changes, measures ended early), a log
// whose book has one or two sets, and random candidates (effective dates inside the
// history, measure and class durations drawn at random, ids new or superseding one of the
// log's, reference days anywhere): the same diff, entry for entry.
#include "replay/rules_log.h"
#include "projections/view_set.h"
#include "replay/what_if.h"

#include "projections/cross_history_test_support.h"
#include "projections/view_runner.h"
#include "tests/support/build_paths.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>
#include <random>

namespace caseledger::replay {
namespace {

using namespace caseledger::projections::testing;
namespace json = boost::json;

std::shared_ptr<const domain::RuleSet> Parsed(const std::string& text) {
  auto set = domain::RuleSet::Parse(text);
  if (!set) throw std::runtime_error(set.error().message);
  return std::make_shared<const domain::RuleSet>(std::move(*set));
}

std::string RuleText(const std::string& id) { return ReadFile(caseledger::TestSourceDir() + "/ops/rules/" + id + ".json"); }

// A shipped set with its dates and durations drawn at random.
std::shared_ptr<const domain::RuleSet> RandomCandidate(std::mt19937_64& rng, const std::string& id,
                                                       domain::Date from) {
  auto roll = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  static const char* kFiles[] = {"2020-10-12", "2021-12-31", "2022-01-08", "2022-04-01"};
  json::value doc = json::parse(RuleText(kFiles[roll(4)]));
  json::object& o = doc.as_object();
  o["id"] = id;
  o["effective_from"] = from.ToString();
  for (auto& m : o["measures"].as_array()) {
    json::object& row = m.as_object();
    const int days = roll(22);
    row["days"] = days;
    if (row.contains("days_with_negative_test")) row["days_with_negative_test"] = roll(days + 1);
    row["max_days"] = days + roll(8);
  }
  for (const char* level : {"infanzia", "primaria", "secondaria"}) {
    int positives = 0;  // strictly increasing, from 1 or 2: one positive can decide a class
    for (auto& t : o["school"].as_object()[level].as_array()) {
      t.as_object()["min_positives"] = positives += 1 + roll(2) * (positives == 0);
      t.as_object()["days"] = 1 + roll(14);
      t.as_object().erase("days_with_negative_test");
    }
  }
  o["school"].as_object()["window_days"] = 1 + roll(12);
  return Parsed(json::serialize(doc));
}

class WhatIfPropertyTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(WhatIfPropertyTest, IncrementalDiffEqualsTheFullRebuildsDiff) {
  std::mt19937_64 rng(GetParam());
  auto roll = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  TestLog log;
  ASSERT_TRUE(RecordAdoption(log.store(), *Parsed(RuleText("2020-10-12")), {}));
  // Up to 4 hours between events: ~2,500 events span about half a year.
  CrossHistory history(GetParam(), 240);
  history.Run(2500);
  AppendConcurrently(log, history.appends(), 8);
  const domain::Date first = D("2020-10-13"), last = history.today();
  const int span = last - first;
  if (GetParam() % 2 == 1) {
    // A second set in the log's book, effective in the middle of the history.
    ASSERT_TRUE(RecordAdoption(log.store(), *RandomCandidate(rng, "log-second", first + span / 2), {}));
  }
  auto book = RulesLog::Read(log.store())->Book();
  projections::RebuildOptions ro;
  ro.path = log.Path("live");
  ro.rules = book;
  projections::ViewSet set = projections::MakeViewSet({Reference(), book, {}});
  auto live = projections::Rebuild(log.store(), std::move(set.views), ro);
  ASSERT_TRUE(live) << live.error().message;

  int with_changes = 0, with_counts = 0, with_school_counts = 0;
  for (int round = 0; round < 8; ++round) {
    WhatIfOptions o;
    o.work_dir = log.Path("work");
    std::filesystem::create_directories(o.work_dir);
    o.reference = Reference();
    // A new id, or the id of a set of the log (which it then supersedes).
    const std::string id = roll(3) == 0 ? book->sets().front().id() : "candidate-" + std::to_string(round);
    if (round % 3 == 2) {
      // From after the last event: no measure starts then, but the class statuses of a day
      // after it follow the candidate's school rules.
      o.candidate = RandomCandidate(rng, id, last + 1);
      o.on = last + (1 + roll(3));
    } else {
      o.candidate = RandomCandidate(rng, id, first + (roll(span + 20) - 10));
      if (roll(4) != 0) o.on = first + roll(span + 30);
    }
    o.memory_budget = roll(2) ? 1 : 0;  // 1 byte: the smallest chunks
    o.method = WhatIfOptions::Method::kFull;
    auto full = RunWhatIf(log.store(), o);
    ASSERT_TRUE(full) << full.error().message;
    o.method = WhatIfOptions::Method::kIncremental;
    o.live = live->get();
    o.live_views = set.typed;
    o.live_rules = book;
    auto incremental = RunWhatIf(log.store(), o);
    ASSERT_TRUE(incremental) << incremental.error().message;
    ASSERT_EQ(incremental->method, "incremental");
    EXPECT_EQ(json::serialize(WhatIfJson(*incremental)), json::serialize(WhatIfJson(*full)))
        << "round " << round << ", candidate from " << o.candidate->effective_from().ToString() << "\nfull:\n"
        << WhatIfText(*full) << "\nincremental:\n"
        << WhatIfText(*incremental);
    EXPECT_LE(incremental->people_refolded, incremental->people_compared);
    with_changes += !full->measures.empty();
    with_counts += !full->counts.empty();
    for (const auto& c : full->counts) with_school_counts += c.view == "schools";
  }
  // The rounds compared something: candidates that change measures and counts.
  EXPECT_GT(with_changes, 0);
  EXPECT_GT(with_counts, 0);
  RecordProperty("school_count_changes", with_school_counts);
}

INSTANTIATE_TEST_SUITE_P(Seeds, WhatIfPropertyTest, ::testing::Values(1, 2, 7, 20220101));

}  // namespace
}  // namespace caseledger::replay
