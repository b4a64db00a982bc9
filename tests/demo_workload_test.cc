// The demo workload (workload/demo_workload.h) against a real store: a week of October 2020 at
// 1:1000 must reproduce the scaled DPC figures it follows, with valid people and no
// rejected command, and the same seed must give the same events.
#include "workload/demo_workload.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <tuple>

#include "app/reference_files.h"
#include "domain/event_codec.h"
#include "domain/tax_code.h"
#include "eventstore/bulk_import.h"
#include "eventstore/event_store.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

namespace caseledger::workload {
namespace {

using domain::Date;

constexpr int64_t kScale = 1000;
const Date kFrom = Date::FromYmd(2020, 10, 1);
const Date kTo = Date::FromYmd(2020, 10, 7);

std::shared_ptr<const domain::ReferenceData> Reference() {
  static auto reference = app::LoadReferenceData(app::DefaultReferenceDir()).value();
  return reference;
}

std::vector<DpcDay> Series() {
  std::ifstream in(app::DefaultReferenceDir() + "/dpc-piemonte-daily.csv");
  std::ostringstream text;
  text << in.rdbuf();
  return ParseDpcDaily(text.str()).value();
}

const DpcDay& Row(const std::vector<DpcDay>& series, Date d) {
  return series.at(static_cast<size_t>(d - series.front().day));
}

// Scaled daily figure computed here on its own: the rounded cumulative figure since the day
// before the range, differenced.
int64_t Scaled(double cumulative) { return std::llround(cumulative / kScale); }

struct Loaded {
  DemoReport report;
  std::vector<domain::Envelope> log;
  uint64_t batches = 0;  // handed to the bulk import's sink
  uint64_t named = 0;    // of the appends handed to it, those naming their stream
  uint64_t by_key = 0;   // and those naming it by key only
  uint64_t encoded = 0;      // events handed to it encoded in its batches' buffers
  uint64_t in_requests = 0;  // and in the requests themselves
};

// Loads the workload into the store at `path`; `before` runs on the store first (what a
// stopped earlier load left), and a store it leaves non-empty is resumed.
// How a load keeps its memory: people beyond `people_in_memory` in a spill file (0: all in
// memory); with `bulk`, bulk-imported with runs of `run_entries` index entries and claims.
struct Budget {
  size_t people_in_memory = 0;
  bool bulk = false;
  uint64_t run_entries = 1 << 20;
};

Loaded Load(const std::string& path, uint64_t seed,
            const std::function<void(eventstore::EventStore&)>& before = {}, Budget budget = {},
            Date to = kTo) {
  eventstore::StoreOptions store_options;
  store_options.path = path;
  store_options.master_key_path = path + ".master.key";
  auto store = eventstore::EventStore::Open(store_options).value();
  if (before) before(*store);
  DemoOptions options;
  options.from = kFrom;
  options.to = to;
  options.scale = kScale;
  options.seed = seed;
  options.resume_after = store->CommittedPosition();
  if (budget.people_in_memory > 0) {
    options.spill_dir = path + ".spill";
    std::filesystem::create_directories(options.spill_dir);
    options.people_in_memory = budget.people_in_memory;
  }
  std::unique_ptr<eventstore::BulkImport> bulk;
  uint64_t batches = 0, named = 0, by_key = 0, encoded = 0, in_requests = 0;
  if (budget.bulk) {
    eventstore::BulkImportOptions bo;
    bo.work_dir = path + ".import";
    bo.index_run_entries = budget.run_entries;
    bo.claim_run_entries = budget.run_entries;
    bo.events_per_file = 997;  // many chunks: their buffers formed again in
    bulk = eventstore::BulkImport::Begin(*store, bo).value();
    options.sink_batch = 7;  // handed over within each day too
    // As loadgen's import thread does: each batch's vector, emptied, handed back to the
    // generator a batch later to be filled again.
    options.sink = [&, spare = DecidedBatch(), feed = std::make_shared<DemoImportFeed>(*bulk)](
                       DecidedBatch& day) mutable -> eventstore::StoreResult<void> {
      DecidedBatch requests = std::move(day);
      ++batches;
      for (const auto& r : requests.appends) {
        ++(r.request.stream.empty() ? by_key : named);
        encoded += r.events;
        in_requests += r.request.events.size();
      }
      if (auto added = feed->Add(requests); !added) return added.error();
      requests.clear();
      day = std::move(spare);
      spare = std::move(requests);
      return {};
    };
  }
  std::string error;
  auto report = LoadDemoWorkload(*store, Reference(), app::DefaultReferenceDir(), options, &error);
  EXPECT_TRUE(report.has_value()) << error;
  if (bulk) {
    auto committed = bulk->Commit();
    EXPECT_TRUE(committed.has_value()) << committed.error().message;
  }
  if (budget.people_in_memory > 0) {
    EXPECT_TRUE(std::filesystem::is_empty(options.spill_dir)) << "the spill file is removed";
  }
  Loaded out;
  out.batches = batches;
  out.named = named;
  out.by_key = by_key;
  out.encoded = encoded;
  out.in_requests = in_requests;
  if (report) out.report = *report;
  out.log = store->ReadLog(1, 10'000'000).value();
  // A log scan leaves personal parts sealed; the streams give them open.
  std::map<uint64_t, std::string> personal;
  for (const auto& env : out.log) {
    if (env.personal_form != domain::PersonalForm::kSealed || personal.count(env.position)) continue;
    for (const auto& s : store->ReadStream(env.stream, 1, 1'000'000).value()) personal[s.position] = s.personal;
  }
  for (auto& env : out.log) {
    if (auto it = personal.find(env.position); it != personal.end()) {
      env.personal = it->second;
      env.personal_form = domain::PersonalForm::kOpen;
    }
  }
  return out;
}

domain::Event Decode(const domain::Envelope& env) {
  return domain::Decode(env.type, env.schema_version, env.body, env.personal).value();
}

// Stream -> its events (type, body, personal) in stream order.
using Bodies =
    std::map<std::string, std::vector<std::tuple<std::string, std::string, std::string>>>;
Bodies BodiesOf(const std::vector<domain::Envelope>& log) {
  Bodies out;
  for (const auto& env : log) out[env.stream].emplace_back(env.type, env.body, env.personal);
  return out;
}

class DemoWorkloadTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { loaded_ = new Loaded(Load(dir_.Sub("first"), 7)); }
  static void TearDownTestSuite() { delete loaded_; }
  static inline testing::TempDir dir_;
  static inline Loaded* loaded_ = nullptr;
};

TEST_F(DemoWorkloadTest, NoCommandIsRejected) {
  const DemoReport& r = loaded_->report;
  EXPECT_EQ(r.rejected, 0u) << (r.first_rejections.empty() ? "" : r.first_rejections.front());
  EXPECT_EQ(r.days, 7);
  EXPECT_GT(r.people, 0u);
  EXPECT_EQ(r.events, loaded_->log.size());
  EXPECT_EQ(r.swabs_short, 0);
  EXPECT_EQ(r.positives_short, 0);
  EXPECT_EQ(r.recoveries_short, 0);
  EXPECT_EQ(r.deaths_short, 0);
  EXPECT_EQ(r.hospital_days_off, 0);
}

TEST_F(DemoWorkloadTest, PositivesPerReportDayFollowTheScaledSeries) {
  std::map<Date, int64_t> positives;
  for (const auto& env : loaded_->log) {
    if (env.type != "ResultRecorded") continue;
    auto result = std::get<domain::ResultRecorded>(Decode(env));
    if (result.outcome == domain::Outcome::kPositive) ++positives[result.reported_at.ToDate()];
  }
  const auto series = Series();
  double cumulative = 0;
  int64_t total = 0;
  for (Date d = kFrom; d <= kTo; d = d + 1) {
    const int64_t before = Scaled(cumulative);
    cumulative += double(Row(series, d).nuovi_positivi);
    const int64_t expected = Scaled(cumulative) - before;
    EXPECT_EQ(positives[d], expected) << d.ToString();
    total += expected;
  }
  EXPECT_GT(total, 0);
}

TEST_F(DemoWorkloadTest, SwabsPerCollectionDayFollowTheScaledSeries) {
  std::map<Date, int64_t> swabs;
  for (const auto& env : loaded_->log) {
    if (env.type != "SwabCollected") continue;
    ++swabs[std::get<domain::SwabCollected>(Decode(env)).collected_at.ToDate()];
  }
  const auto series = Series();
  const double base = double(Row(series, kFrom + -1).tamponi);
  for (Date d = kFrom; d <= kTo; d = d + 1) {
    const int64_t expected = Scaled(double(Row(series, d).tamponi) - base) -
                             Scaled(double(Row(series, d + -1).tamponi) - base);
    EXPECT_GT(expected, 0);
    EXPECT_EQ(swabs[d], expected) << d.ToString();
  }
}

TEST_F(DemoWorkloadTest, EveryTaxCodeIsValidForItsPerson) {
  int people = 0;
  for (const auto& env : loaded_->log) {
    if (env.type != "PersonRegistered") continue;
    ++people;
    auto e = std::get<domain::PersonRegistered>(Decode(env));
    auto tc = domain::ParseTaxCode(e.personal.tax_code, env.effective_at.ToDate());
    ASSERT_TRUE(tc) << e.personal.tax_code << ": " << tc.error().message;
    EXPECT_EQ(tc->birth_date.ToString(), e.personal.birth_date) << e.personal.tax_code;
    EXPECT_EQ(tc->sex == 'F', e.sex == domain::Sex::kFemale) << e.personal.tax_code;
    EXPECT_TRUE(domain::TaxCodeMatchesNames(*tc, e.personal.family_name, e.personal.given_names))
        << e.personal.tax_code;
    const domain::Municipality* born = Reference()->FindByCadastralCode(tc->birthplace);
    ASSERT_NE(born, nullptr) << e.personal.tax_code;
    EXPECT_EQ(born->region_code, "01");
  }
  EXPECT_EQ(uint64_t(people), loaded_->report.people);
}

TEST_F(DemoWorkloadTest, TheSameSeedGivesTheSameEvents) {
  const Loaded again = Load(dir_.Sub("second"), 7);
  EXPECT_EQ(again.report.events, loaded_->report.events);
  EXPECT_TRUE(BodiesOf(again.log) == BodiesOf(loaded_->log));
  const Loaded other = Load(dir_.Sub("third"), 8);
  EXPECT_FALSE(BodiesOf(other.log) == BodiesOf(loaded_->log));
}

// People written out to a file and read back (three kept in memory: nearly every command
// reads its person back) decide the same commands: the same events.
TEST_F(DemoWorkloadTest, ATinyPeopleBudgetGivesTheSameEvents) {
  const Loaded spilled = Load(dir_.Sub("spilled"), 7, {}, Budget{3, false});
  EXPECT_EQ(spilled.report.events, loaded_->report.events);
  EXPECT_EQ(spilled.report.rejected, 0u);
  EXPECT_GT(spilled.report.people_read_back, spilled.report.people / 2);
  EXPECT_TRUE(BodiesOf(spilled.log) == BodiesOf(loaded_->log));
}

// A quarter at 1:1000, everybody in memory against 64 people and the rest in a spill file:
// people with nothing running (recovered, out of quarantine) are set aside as dormant and
// re-tested on a light state made from their summary (demo_person_store.h), and the events
// are those decided on their whole state. Any other command on a light person would abort.
TEST(DemoDormantPeopleTest, PeopleReTestedFromTheirSummaryGiveTheEventsOfTheirWholeState) {
  testing::TempDir dir;
  const Date to = Date::FromYmd(2020, 12, 31);
  const Loaded whole = Load(dir.Sub("whole"), 7, {}, {}, to);
  const Loaded dormant = Load(dir.Sub("dormant"), 7, {}, Budget{64, false}, to);
  EXPECT_EQ(whole.report.rejected, 0u);
  EXPECT_EQ(dormant.report.rejected, 0u) << (dormant.report.first_rejections.empty() ? "" : dormant.report.first_rejections.front());
  EXPECT_EQ(whole.report.people_set_aside, 0u) << "everybody in memory: nobody set aside";
  EXPECT_GT(dormant.report.people_set_aside, dormant.report.people / 4);
  // Light people made for re-tests, for a good part of the quarter's swabs.
  EXPECT_GT(dormant.report.people_light, uint64_t(dormant.report.swabs) / 10);
  EXPECT_EQ(dormant.report.events, whole.report.events);
  EXPECT_TRUE(BodiesOf(dormant.log) == BodiesOf(whole.log));
}

// The bulk import in a tiny memory budget (a run of the index and claims every 50 entries,
// 16 people in memory), handed its requests seven at a time, writes the events the append
// path writes, and the chain verifies.
TEST_F(DemoWorkloadTest, ABulkImportInATinyBudgetGivesTheSameEvents) {
  const std::string path = dir_.Sub("bulk");
  const Loaded imported = Load(path, 7, {}, Budget{16, true, 50});
  EXPECT_EQ(imported.report.events, loaded_->report.events);
  EXPECT_GE(imported.batches, imported.report.commands / 7);
  // Each person's stream is named once, with their registration (and the users stream with
  // its grant); every other append by its key (DecidedAppend::stream_key).
  EXPECT_EQ(imported.named, imported.report.people + 1);
  EXPECT_EQ(imported.named + imported.by_key, imported.report.commands);
  // Every person's event handed over encoded already, by the generator's thread, into its
  // batch's buffer (DecidedBatch); only the users stream's grant in its request.
  EXPECT_EQ(imported.in_requests, 1u);
  EXPECT_EQ(imported.encoded + imported.in_requests, imported.report.events);
  EXPECT_TRUE(BodiesOf(imported.log) == BodiesOf(loaded_->log));
  eventstore::VerifyOptions vo;
  vo.path = path;
  auto verified = eventstore::VerifyStore(vo);
  ASSERT_TRUE(verified) << verified.error().message;
  EXPECT_EQ(verified->problem, "");
  EXPECT_EQ(verified->events_checked, loaded_->log.size());
}

// A scale run killed in the middle of a day's appends leaves the first days whole and that
// day in part; --resume generates everything again and appends only what is missing.
TEST_F(DemoWorkloadTest, AResumedLoadEndsWithTheEventsOfAnUninterruptedOne) {
  const std::vector<domain::Envelope>& full = loaded_->log;
  // What the stopped load had appended: the first ~60 % of the log (days 1-4 whole, day 5
  // in part), cut between two streams' runs so that no request is split.
  size_t held = full.size() * 6 / 10;
  while (held < full.size() && full[held].stream == full[held - 1].stream) ++held;
  ASSERT_LT(held, full.size());
  auto stopped = [&](eventstore::EventStore& store) {
    for (size_t i = 0; i < held;) {
      eventstore::AppendRequest r;
      r.stream = full[i].stream;
      r.expected = eventstore::ExpectedVersion::Exactly(full[i].version - 1);
      r.actor = full[i].actor;
      for (; i < held && full[i].stream == r.stream; ++i) {
        r.events.push_back({full[i].type, full[i].schema_version, full[i].body, full[i].personal,
                            full[i].effective_at});
      }
      ASSERT_TRUE(store.Append(r).has_value());
    }
  };
  const Loaded resumed = Load(dir_.Sub("resumed"), 7, stopped);
  EXPECT_EQ(resumed.report.events, loaded_->report.events);
  EXPECT_EQ(resumed.log.size(), full.size());
  EXPECT_TRUE(BodiesOf(resumed.log) == BodiesOf(full));

  // Another seed's workload over those events is refused, not interleaved.
  eventstore::StoreOptions o;
  o.path = dir_.Sub("other");
  o.master_key_path = o.path + ".master.key";
  auto store = eventstore::EventStore::Open(o).value();
  stopped(*store);
  DemoOptions options;
  options.from = kFrom;
  options.to = kTo;
  options.scale = kScale;
  options.seed = 8;
  options.resume_after = held;
  std::string error;
  EXPECT_FALSE(LoadDemoWorkload(*store, Reference(), app::DefaultReferenceDir(), options, &error));
  EXPECT_NE(error.find("cannot resume"), std::string::npos) << error;
  EXPECT_EQ(store->CommittedPosition(), held);
}

}  // namespace
}  // namespace caseledger::workload

namespace caseledger::workload {
namespace {

// The open cases in hospital and in intensive care, as the log has them at the end of each
// day (admissions, ICU admissions, discharges and closures folded per person), are the
// scaled levels of the series: the generator's open cases keep their care (home, ward, ICU)
// in step with what it decided. A week of November 2020 at 1:100 (~50 in a ward, a few in
// intensive care); the people beyond 64 in a spill file, so that the cases moved are mostly
// read back.
TEST(DemoHospitalLevelsTest, TheLogsWardAndIcuLevelsAreTheScaledSeries) {
  const Date from = Date::FromYmd(2020, 11, 10), to = Date::FromYmd(2020, 11, 16);
  constexpr int64_t kScale100 = 100;
  testing::TempDir dir;
  auto store = eventstore::EventStore::Open(testing::StoreOptionsIn(dir.path())).value();
  DemoOptions options;
  options.from = from;
  options.to = to;
  options.scale = kScale100;
  options.spill_dir = dir.Sub("spill");
  std::filesystem::create_directories(options.spill_dir);
  options.people_in_memory = 64;
  std::string error;
  auto report = LoadDemoWorkload(*store, Reference(), app::DefaultReferenceDir(), options, &error);
  ASSERT_TRUE(report) << error;
  EXPECT_EQ(report->rejected, 0u) << (report->first_rejections.empty() ? "" : report->first_rejections.front());
  EXPECT_GT(report->people_read_back, 0u);

  enum class Care { kHome, kWard, kIcu };
  std::map<std::string, Care> care;  // by stream, of people with an open case
  std::map<Date, std::pair<int64_t, int64_t>> levels;  // ward, ICU at the end of the day
  auto count = [&] {
    int64_t ward = 0, icu = 0;
    for (const auto& [stream, c] : care) {
      ward += c == Care::kWard;
      icu += c == Care::kIcu;
    }
    return std::pair(ward, icu);
  };
  // Each day's moves and closures are appended with that day's commands (the eve's levels
  // before the first day's), days in order, and take effect that day: the last count of a
  // day is its level. The order is the loader's, whatever its appender threads' scheduling.
  std::optional<Date> latest;
  for (const auto& env : store->ReadLog(1, 10'000'000).value()) {
    if (env.type == "Hospitalized") care[env.stream] = Care::kWard;
    else if (env.type == "IcuAdmitted") care[env.stream] = Care::kIcu;
    else if (env.type == "Discharged" || env.type == "CaseClosed") care.erase(env.stream);
    else continue;
    const Date day = env.effective_at.ToDate();
    if (latest) {
      EXPECT_FALSE(day < *latest) << env.type << " of " << day.ToString() << " at position " << env.position
                                  << ", after one of " << latest->ToString();
    }
    if (!latest || *latest < day) latest = day;
    levels[day] = count();
  }
  const auto series = Series();
  int64_t most = 0;
  for (Date d = from; d <= to; d = d + 1) {
    ASSERT_TRUE(levels.count(d)) << "nobody moved or closed on " << d.ToString();
    const DpcDay& row = Row(series, d);
    EXPECT_EQ(levels[d].first, RoundDiv(row.ricoverati_con_sintomi, kScale100)) << d.ToString();
    EXPECT_EQ(levels[d].second, RoundDiv(row.terapia_intensiva, kScale100)) << d.ToString();
    most = std::max(most, levels[d].second);
  }
  EXPECT_GT(most, 0) << "the week has people in intensive care";
}

}  // namespace
}  // namespace caseledger::workload
