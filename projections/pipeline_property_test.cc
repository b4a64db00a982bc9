// The batch pipeline (batch_pipeline.h) against the sequential runner (partitions = 0, the
// reference): random histories rich in events that span people (GP changes between five
// GPs, enrolments in and departures from classes of two schools, class quarantines on the
// school streams, contacts, corrections of results, residence changes), applied with any
// number of partitions and threads, in batches of any size, with person caches of one or
// two records, killed in the middle of a batch and reopened on the way: every view answers
// exactly as the sequential runner's, and what they stored is the same, byte for byte.
// The measure-start index the runner keeps with the views (FORMAT.md) holds exactly the
// orders of the log, whatever the path, and its range reads return exactly those days'.
#include "domain/person.h"
#include "domain/school.h"
#include "projections/batch_pipeline.h"
#include "projections/gp_view.h"
#include "projections/log_prefetch.h"
#include "projections/school_view.h"
#include "projections/views_db.h"
#include "projections/cross_history_test_support.h"
#include "projections/runner_test_support.h"
#include "projections/views_test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <set>
#include <thread>

namespace caseledger::projections {
namespace {

using namespace caseledger::projections::testing;
using domain::Date;

// What the measure-start index must hold, read from the log itself: (start day, person)
// of every isolation and quarantine order, and the registrations.
struct ExpectedIndex {
  std::set<std::pair<Date, std::string>> starts;
  uint64_t registered = 0;
};
ExpectedIndex IndexFromLog(const eventstore::EventStore& store, uint64_t until) {
  ExpectedIndex out;
  auto batch = ReadDecoded(store, 1, until);
  EXPECT_TRUE(batch);
  if (!batch) return out;
  EXPECT_EQ(batch->events.size(), until);
  for (size_t i = 0; i < batch->events.size(); ++i) {
    const std::string& stream = batch->envelopes[i].stream;
    if (!stream.starts_with("person-")) continue;
    const std::string person = stream.substr(7);
    const domain::Event& e = batch->events[i];
    if (std::holds_alternative<domain::PersonRegistered>(e)) ++out.registered;
    if (const auto* q = std::get_if<domain::QuarantineOrdered>(&e)) out.starts.emplace(q->start, person);
    if (const auto* o = std::get_if<domain::IsolationOrdered>(&e)) out.starts.emplace(o->start, person);
  }
  return out;
}

// The runner's index against the log's: its count, and range reads over stretches of days
// (bounded, open-ended, empty, one day) giving exactly the people of those days.
void ExpectIndex(const ViewRunner& runner, const ExpectedIndex& expected) {
  EXPECT_EQ(runner.RegisteredPeople(), expected.registered);
  ASSERT_FALSE(expected.starts.empty());
  const Date first = expected.starts.begin()->first, last = expected.starts.rbegin()->first;
  std::mt19937_64 rng(expected.starts.size());
  std::vector<std::pair<Date, std::optional<Date>>> ranges = {
      {first, std::nullopt}, {first + (-30), last + 1}, {first, first + 1}, {last, std::nullopt},
      {last + 1, std::nullopt}, {first + 5, first + 5}, {last, first}};
  for (int k = 0; k < 20; ++k) {
    const Date from = first + static_cast<int>(rng() % (last.days - first.days + 1));
    ranges.emplace_back(from, from + static_cast<int>(rng() % 20));
  }
  for (const auto& [from, to] : ranges) {
    std::multiset<std::pair<Date, std::string>> want;
    for (const auto& e : expected.starts) {
      if (e.first >= from && (!to || e.first < *to)) want.insert(e);
    }
    std::multiset<std::string> want_people, got;
    for (const auto& e : want) want_people.insert(e.second);
    ASSERT_TRUE(runner.ForEachMeasureStart(from, to, [&](std::string_view p) { got.emplace(p); }));
    EXPECT_EQ(got, want_people) << from.ToString() << " .. " << (to ? to->ToString() : "");
  }
}

struct Shape {
  size_t partitions, threads, batch, cache;
  bool read_ahead = false;  // the catch-up's two stages (fold N+1 while the views apply N)
  // Read ahead, nobody reading: written every this many events, not every batch
  // (RunnerOptions::catch_up_write_every); 0: every batch.
  size_t write_every = 0;
  // Each write of the views database this long (a slow disk): a write behind still runs
  // while the batches after it are folded and applied.
  std::chrono::milliseconds slow_write{0};
  // Events between two writes of a catch-up from position 0: whole batches, at least
  // write_every when deferring.
  size_t WrittenEvery() const {
    if (!read_ahead || write_every <= batch) return batch;
    return (write_every + batch - 1) / batch * batch;
  }
};

class PipelinePropertyTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(PipelinePropertyTest, AnyPartitioningBuildsTheSequentialRunnersViews) {
  TestLog log;
  CrossHistory history(GetParam());
  history.Run(4000);
  AppendConcurrently(log, history.appends(), 4);
  const uint64_t last = log.store().CommittedPosition();
  auto open = [&](const std::string& name, const Shape& s, uint64_t until = 0,
                  std::vector<std::unique_ptr<View>> views = AllViews()) {
    RunnerOptions o;
    o.path = log.Path(name);
    o.rules = Rules();
    o.until = until;
    o.max_batch = s.batch;
    o.person_cache = s.cache;  // with the GP patients' status beside the records (0: all, the reference)
    o.partitions = s.partitions;
    o.threads = s.threads;
    o.read_ahead = s.read_ahead;
    o.catch_up_write_every = s.write_every;
    if (s.slow_write.count() > 0) {
      o.db.before_write = [delay = s.slow_write] { std::this_thread::sleep_for(delay); };
    }
    auto r = ViewRunner::Open(log.store(), std::move(views), o);
    EXPECT_TRUE(r) << r.error().message;
    return r ? std::move(*r) : nullptr;
  };
  std::vector<Date> days;
  for (Date d = D("2020-10-13"); d <= history.today() + 20; d = d + 2) days.push_back(d);

  auto reference = open("sequential", {0, 1, 4096, 0});
  ASSERT_TRUE(reference);
  ASSERT_TRUE(reference->CatchUp()) << reference->failure();
  const ExpectedIndex index = IndexFromLog(log.store(), last);
  ASSERT_GT(index.starts.size(), 20u);
  ExpectIndex(*reference, index);
  const std::string expected = DumpAll(*reference, days);
  // The workload reaches every kind of view entry that spans people.
  EXPECT_NE(expected.find("\"patients\":[{"), std::string::npos);
  EXPECT_NE(expected.find("\"status_source\":\"order\""), std::string::npos);
  EXPECT_NE(expected.find("\"results_to_read\":[{"), std::string::npos);
  reference.reset();
  const auto stored = Stored(log.Path("sequential"));
  ASSERT_GT(stored.size(), 100u);

  // Batches large enough for the pool (>= 512 events) and small ones (applied inline).
  // Catch-ups over many batches with the two stages (read_ahead), with caches of a record or
  // two and batches too small for the pool among them; some of them writing every few
  // batches (records and rows changed by several batches kept dirty in those tiny caches
  // meanwhile), one only at its end.
  const Shape shapes[] = {{1, 1, 4096, 0},           {2, 2, 4096, 0},          {3, 2, 700, 2},
                          {7, 4, 1000, 1},           {4, 2, 13, 0},            {16, 3, 600, 5},
                          {2, 2, 700, 1, true, 2500}, {5, 2, 1000, 0, true},    {3, 3, 97, 2, true, 1000},
                          {1, 2, 600, 3, true},      {4, 2, 500, 0, true, size_t{1} << 17},
                          {2, 2, 300, 1, true, 301},
                          {2, 2, 600, 1, true, 3000, std::chrono::milliseconds(40)}};
  for (size_t k = 0; k < std::size(shapes); ++k) {
    const Shape& s = shapes[k];
    SCOPED_TRACE("partitions " + std::to_string(s.partitions) + " threads " + std::to_string(s.threads) +
                 " batch " + std::to_string(s.batch) + " cache " + std::to_string(s.cache) +
                 (s.read_ahead ? " read ahead" : "") +
                 (s.write_every ? " written every " + std::to_string(s.write_every) : "") +
                 (s.slow_write.count() ? " slow writes" : ""));
    const std::string name = "pipeline-" + std::to_string(k);
    // Killed in the middle of a batch (a view throws), reopened with another partition
    // count, stopped on the way, reopened again, finished.
    // Every batch before the failing one is stored (deferring, every write before it). With
    // the two stages the views published may stop a few batches before it
    // (CatchUpOverlapped writes batches behind the views and publishes every few), and a
    // reopen starts from the last batch stored.
    const uint64_t written = (last / 2 - 1) / s.WrittenEvery() * s.WrittenEvery();
    // Deferring from scratch, the person entries are spilled until the end and the writes
    // carry no checkpoint (people_spill.h): the reopened runner starts again.
    const bool spills = s.read_ahead && s.write_every > s.batch;
    const uint64_t reopened_at = spills ? 0 : written;
    {
      auto views = AllViews();
      const size_t victim = k % views.size();
      views[victim] = std::make_unique<CrashingView>(std::move(views[victim]), static_cast<int>(last / 2));
      auto crashed = open(name, s, 0, std::move(views));
      ASSERT_TRUE(crashed);
      ASSERT_FALSE(crashed->CatchUp());
      EXPECT_EQ(crashed->failed_position(), last / 2);
      if (s.read_ahead) {
        EXPECT_LE(crashed->Position(), written);
      } else {
        EXPECT_EQ(crashed->Position(), written);
      }
    }
    {
      auto resumed = open(name, {s.partitions + 1, s.threads, s.batch, s.cache, s.read_ahead, s.write_every, s.slow_write},
                          3 * last / 4);
      ASSERT_TRUE(resumed);
      EXPECT_EQ(resumed->Position(), reopened_at);
      ASSERT_TRUE(resumed->CatchUp()) << resumed->failure();
      EXPECT_EQ(resumed->Position(), 3 * last / 4);
    }
    auto finished = open(name, s);
    ASSERT_TRUE(finished);
    ASSERT_TRUE(finished->CatchUp()) << finished->failure();
    EXPECT_EQ(finished->Position(), last);
    if (s.cache != 0) {
      EXPECT_LE(finished->CachedPeople(), s.cache);
    }
    EXPECT_EQ(DumpAll(*finished, days), expected);
    ExpectIndex(*finished, index);
    finished.reset();
    EXPECT_TRUE(Stored(log.Path(name)) == stored);
  }

  // A rebuild (reading ahead) with the pipeline.
  RebuildOptions ro;
  ro.path = log.Path("rebuilt");
  ro.rules = Rules();
  ro.max_batch = 900;
  ro.partitions = 5;
  ro.threads = 2;
  ro.person_cache = 3;
  auto rebuilt = Rebuild(log.store(), AllViews(), ro);
  ASSERT_TRUE(rebuilt) << rebuilt.error().message;
  EXPECT_EQ(DumpAll(**rebuilt, days), expected);
  ExpectIndex(**rebuilt, index);
  rebuilt->reset();
  EXPECT_TRUE(Stored(log.Path("rebuilt")) == stored);
}

// A view whose Persist takes 15 ms every other call: a deferred catch-up's Flush runs its
// tasks longest first by the Flush before (BatchPipeline::Flush), so the views' Persist go
// first at one flush and after the partitions' at the next.
class SlowPersistView final : public View {
 public:
  explicit SlowPersistView(std::unique_ptr<View> inner) : inner_(std::move(inner)) {}
  std::string_view name() const override { return inner_->name(); }
  void Attach(std::shared_ptr<const StoredEntries> entries) override { inner_->Attach(std::move(entries)); }
  std::vector<PersonFold*> PersonFolds(size_t n) override { return inner_->PersonFolds(n); }
  bool Load(std::string_view k, std::string_view v) override { return inner_->Load(k, v); }
  void Apply(const LogEvent& e, const PersonRecord* p, PersistSink& s) override { inner_->Apply(e, p, s); }
  void Persist(PersistSink& s) override {
    if (++persists_ % 2 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(15));
    inner_->Persist(s);
  }
  void Publish(uint64_t position) override { inner_->Publish(position); }
  bool Reset() override { return inner_->Reset(); }
  std::vector<std::string> ChangedKeys() const override { return inner_->ChangedKeys(); }
  int persists() const { return persists_; }

 private:
  std::unique_ptr<View> inner_;
  int persists_ = 0;
};

// A catch-up from scratch writes the views' entries once, at its end (its writes carry no
// checkpoint); one from a checkpoint, with each Flush. What they store: the test below.
TEST(CatchUpFromScratchTest, WritesTheViewsEntriesOnceAtItsEnd) {
  TestLog log;
  CrossHistory history(5);
  history.Run(6000);
  AppendConcurrently(log, history.appends(), 4);
  RunnerOptions o;
  o.path = log.Path("views");
  o.rules = Rules();
  o.max_batch = 600;
  o.partitions = 3;
  o.threads = 2;
  o.read_ahead = true;
  o.catch_up_write_every = 1300;
  auto wrapped = [] {
    std::vector<std::unique_ptr<View>> views = AllViews();
    std::vector<const SlowPersistView*> counted;
    for (auto& view : views) {
      auto slow = std::make_unique<SlowPersistView>(std::move(view));
      counted.push_back(slow.get());
      view = std::move(slow);
    }
    return std::pair(std::move(views), counted);
  };
  auto [views, counted] = wrapped();
  auto r = ViewRunner::Open(log.store(), std::move(views), o);
  ASSERT_TRUE(r) << r.error().message;
  const uint64_t scratch_end = log.store().CommittedPosition();
  ASSERT_GT(scratch_end, 4 * 1300u);  // several Flushes
  ASSERT_TRUE((*r)->CatchUp()) << (*r)->failure();
  for (const SlowPersistView* view : counted) EXPECT_EQ(view->persists(), 1) << view->name();
  r->reset();

  // From its checkpoint: the views' entries go with each Flush's.
  const size_t appended = history.appends().size();
  history.Run(12000);
  AppendConcurrently(log, {history.appends().begin() + static_cast<std::ptrdiff_t>(appended), history.appends().end()}, 4);
  ASSERT_GT(log.store().CommittedPosition(), scratch_end + 4 * 1300u);
  auto [again, recounted] = wrapped();
  auto reopened = ViewRunner::Open(log.store(), std::move(again), o);
  ASSERT_TRUE(reopened) << reopened.error().message;
  ASSERT_TRUE((*reopened)->CatchUp()) << (*reopened)->failure();
  for (const SlowPersistView* view : recounted) EXPECT_GE(view->persists(), 4) << view->name();
}

// A view's person folds wrapped, counting their Persist and ForgetChanges calls.
class CountingFold final : public PersonFold {
 public:
  explicit CountingFold(PersonFold* inner) : inner_(inner) {}
  bool Apply(const LogEvent& e, const PersonRecord* p, FoldState* s) override { return inner_->Apply(e, p, s); }
  void Persist(PersistSink& sink, const PersonDirectory& people, std::span<const PersonDirectory::ToWrite> changed,
               size_t slot) override {
    ++persists;
    inner_->Persist(sink, people, changed, slot);
  }
  std::string Part(const PersonRecord& p, const FoldState& s) const override { return inner_->Part(p, s); }
  bool Restore(const PersonRecord& p, std::string_view part, FoldState& s) const override {
    return inner_->Restore(p, part, s);
  }
  size_t StateBytes(const FoldState& s) const override { return inner_->StateBytes(s); }
  void ReleaseBuffers() override { inner_->ReleaseBuffers(); }
  std::unique_ptr<PersonRowsAtEnd> RowsAtEnd() const override { return inner_->RowsAtEnd(); }
  void ForgetChanges() override {
    ++forgotten;
    inner_->ForgetChanges();
  }
  int persists = 0, forgotten = 0;

 private:
  PersonFold* inner_;
};
class CountingFoldsView final : public View {
 public:
  explicit CountingFoldsView(std::unique_ptr<View> inner) : inner_(std::move(inner)) {}
  std::string_view name() const override { return inner_->name(); }
  void Attach(std::shared_ptr<const StoredEntries> entries) override { inner_->Attach(std::move(entries)); }
  std::vector<PersonFold*> PersonFolds(size_t n) override {
    folds_.clear();
    std::vector<PersonFold*> out;
    for (PersonFold* fold : inner_->PersonFolds(n)) {
      folds_.push_back(std::make_unique<CountingFold>(fold));
      out.push_back(folds_.back().get());
    }
    return out;
  }
  bool Load(std::string_view k, std::string_view v) override { return inner_->Load(k, v); }
  void Apply(const LogEvent& e, const PersonRecord* p, PersistSink& s) override { inner_->Apply(e, p, s); }
  bool ReadsRecord(const LogEvent& e, const PersonRecord& before) const override {
    return inner_->ReadsRecord(e, before);
  }
  void Persist(PersistSink& s) override { inner_->Persist(s); }
  void Publish(uint64_t position) override { inner_->Publish(position); }
  bool Reset() override { return inner_->Reset(); }
  std::vector<std::string> ChangedKeys() const override { return inner_->ChangedKeys(); }
  int Count(int CountingFold::*what) const {
    int n = 0;
    for (const auto& fold : folds_) n += (*fold).*what;
    return n;
  }
  size_t folds() const { return folds_.size(); }

 private:
  std::unique_ptr<View> inner_;
  std::vector<std::unique_ptr<CountingFold>> folds_;
};

// A catch-up from scratch writes no GP patient row at its Flushes: they are made at its end
// from the people's last entries, and are the sequential runner's, byte for byte; a
// catch-up from its checkpoint writes them at every Flush again.
TEST(CatchUpFromScratchTest, MakesTheFoldsRowsOnceAtItsEndFromThePeople) {
  TestLog log;
  CrossHistory history(7);
  history.Run(6000);
  AppendConcurrently(log, history.appends(), 4);
  auto open = [&](const std::string& name, size_t partitions, const CountingFoldsView** counted) {
    RunnerOptions o;
    o.path = log.Path(name);
    o.rules = Rules();
    o.max_batch = 600;
    o.person_cache = 2;
    o.partitions = partitions;
    o.threads = 2;
    o.read_ahead = partitions > 0;
    o.catch_up_write_every = 1300;
    std::vector<std::unique_ptr<View>> views = AllViews();
    for (auto& view : views) {
      if (view->name() != "gps") continue;
      auto wrapped = std::make_unique<CountingFoldsView>(std::move(view));
      *counted = wrapped.get();
      view = std::move(wrapped);
    }
    auto r = ViewRunner::Open(log.store(), std::move(views), o);
    EXPECT_TRUE(r) << r.error().message;
    return r ? std::move(*r) : nullptr;
  };
  const CountingFoldsView* gps = nullptr;
  auto reference = open("sequential", 0, &gps);
  ASSERT_TRUE(reference);
  ASSERT_TRUE(reference->CatchUp()) << reference->failure();
  reference.reset();
  ASSERT_GT(log.store().CommittedPosition(), 4 * 1300u);  // several Flushes

  auto r = open("scratch", 3, &gps);
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->CatchUp()) << r->failure();
  ASSERT_EQ(gps->folds(), 3u);
  EXPECT_EQ(gps->Count(&CountingFold::persists), 0);
  EXPECT_GE(gps->Count(&CountingFold::forgotten), 3 * 3);  // each partition's, at each Flush
  r.reset();
  const auto stored = Stored(log.Path("sequential"));
  EXPECT_GT(std::count_if(stored.begin(), stored.end(), [](const auto& e) { return e.first.find("/p/") != std::string::npos; }),
            20);
  EXPECT_TRUE(Stored(log.Path("scratch")) == stored);

  // From its checkpoint: the rows go with each Flush's.
  const size_t appended = history.appends().size();
  history.Run(12000);
  AppendConcurrently(log, {history.appends().begin() + static_cast<std::ptrdiff_t>(appended), history.appends().end()}, 4);
  auto again = open("scratch", 3, &gps);
  ASSERT_TRUE(again);
  ASSERT_TRUE(again->CatchUp()) << again->failure();
  EXPECT_GE(gps->Count(&CountingFold::persists), 3 * 4);
  again.reset();
  auto reference_again = open("sequential", 0, &gps);
  ASSERT_TRUE(reference_again);
  ASSERT_TRUE(reference_again->CatchUp()) << reference_again->failure();
  reference_again.reset();
  EXPECT_TRUE(Stored(log.Path("scratch")) == Stored(log.Path("sequential")));
}

TEST_P(PipelinePropertyTest, FlushesWhoseTasksRunInAnyOrderBuildTheSequentialRunnersViews) {
  TestLog log;
  CrossHistory history(GetParam());
  history.Run(4000);
  AppendConcurrently(log, history.appends(), 4);
  auto open = [&](const std::string& name, size_t partitions, size_t batch, size_t cache, bool slow) {
    RunnerOptions o;
    o.path = log.Path(name);
    o.rules = Rules();
    o.max_batch = batch;
    o.person_cache = cache;
    o.partitions = partitions;
    o.threads = 2;
    o.read_ahead = partitions > 0;
    o.catch_up_write_every = 1300;  // a Flush every 3 batches of 600 (on the pool: >= 512 events)
    std::vector<std::unique_ptr<View>> views = AllViews();
    if (slow) {
      for (auto& view : views) view = std::make_unique<SlowPersistView>(std::move(view));
    }
    auto r = ViewRunner::Open(log.store(), std::move(views), o);
    EXPECT_TRUE(r) << r.error().message;
    return r ? std::move(*r) : nullptr;
  };
  auto reference = open("sequential", 0, 4096, 0, false);
  ASSERT_TRUE(reference);
  ASSERT_TRUE(reference->CatchUp()) << reference->failure();
  reference.reset();
  const auto stored = Stored(log.Path("sequential"));
  ASSERT_GT(log.store().CommittedPosition(), 5 * 600u);  // several flushes
  for (size_t partitions : {3, 4}) {
    const std::string name = "slow" + std::to_string(partitions);
    auto r = open(name, partitions, 600, 2, true);
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->CatchUp()) << r->failure();
    r.reset();  // its views are wrapped (no typed Get): what they stored is compared
    EXPECT_TRUE(Stored(log.Path(name)) == stored) << partitions << " partitions";
  }
}

// The first event a partition cannot fold stops the batch where the sequential runner
// stops: same position, same message, nothing of the batch written.
TEST(PipelineFailureTest, APoisonEventStopsThePipelineWhereTheSequentialRunnerStops) {
  TestLog log;
  CrossHistory history(7);
  history.Run(1500);
  AppendConcurrently(log, history.appends(), 2);
  // A measure ended that was never ordered: the directory cannot explain it.
  const uint64_t poison = log.Person(PersonId(3), {{domain::MeasureEnded{999, D("2020-10-20"),
                                                                         domain::MeasureEndReason::kElapsed},
                                                    At("2020-10-20", 0)}});
  log.Person(PersonId(4), {{domain::VaccinationRecorded{9, D("2020-10-20"), "Comirnaty"}, At("2020-10-20", 0)}});
  // The sequential runner, the pipeline one batch at a time, and the pipeline's two stages
  // (read ahead: the batch after the poison's may be folded, never written).
  // And the two stages writing every third batch only (nobody reads: catch_up_write_every).
  struct Way {
    size_t partitions;
    bool read_ahead;
    size_t write_every;
  };
  const Way ways[] = {{0, false, 0}, {3, false, 0}, {3, true, 0}, {3, true, 2500}};
  std::string failures[std::size(ways)];
  uint64_t positions[std::size(ways)] = {};
  for (size_t k = 0; k < std::size(ways); ++k) {
    RunnerOptions o;
    o.path = log.Path("p" + std::to_string(k));
    o.rules = Rules();
    o.max_batch = 1000;
    o.partitions = ways[k].partitions;
    o.read_ahead = ways[k].read_ahead;
    o.catch_up_write_every = ways[k].write_every;
    o.threads = 2;
    auto r = ViewRunner::Open(log.store(), AllViews(), o);
    ASSERT_TRUE(r);
    EXPECT_FALSE((*r)->CatchUp());
    failures[k] = (*r)->failure();
    positions[k] = (*r)->failed_position();
    // Every batch before the poison's is stored; read ahead, the views published may stop
    // a few batches before it (CatchUpOverlapped writes behind), and a reopen starts there.
    if (!o.read_ahead) {
      EXPECT_EQ((*r)->Position(), (poison - 1) / 1000 * 1000);
      continue;
    }
    const uint64_t every = ways[k].write_every ? 3000 : 1000;
    EXPECT_LE((*r)->Position(), (poison - 1) / every * every);
    r->reset();
    auto reopened = ViewRunner::Open(log.store(), AllViews(), o);
    ASSERT_TRUE(reopened);
    EXPECT_EQ((*reopened)->Position(), (poison - 1) / every * every);
  }
  for (size_t k = 0; k < std::size(ways); ++k) {
    EXPECT_EQ(positions[k], poison);
    EXPECT_EQ(failures[k], failures[0]);
  }
  EXPECT_NE(failures[1].find("measure 999 is not running"), std::string::npos) << failures[1];
}

// A long catch-up says where it stands: positions that only grow, the target it runs to, a
// rate and an ETA, and a last report at the target.
TEST(CatchUpProgressTest, ACatchUpReportsPositionTargetRateAndEta) {
  TestLog log;
  CrossHistory history(5);
  history.Run(3000);
  AppendConcurrently(log, history.appends(), 2);
  const uint64_t last = log.store().CommittedPosition();
  std::vector<CatchUpProgress> reports;
  RunnerOptions o;
  o.path = log.Path("views");
  o.rules = Rules();
  o.max_batch = 600;
  o.progress_every = std::chrono::milliseconds(0);
  o.on_progress = [&](const CatchUpProgress& p) { reports.push_back(p); };
  auto r = ViewRunner::Open(log.store(), AllViews(), o);
  ASSERT_TRUE(r);
  ASSERT_TRUE((*r)->CatchUp());
  ASSERT_GE(reports.size(), last / 600);
  for (size_t i = 0; i < reports.size(); ++i) {
    EXPECT_EQ(reports[i].target, last);
    EXPECT_GT(reports[i].events_per_second, 0);
    EXPECT_GE(reports[i].eta_seconds, 0);
    if (i > 0) {
      EXPECT_GE(reports[i].position, reports[i - 1].position);
    }
  }
  EXPECT_EQ(reports.back().position, last);
  EXPECT_TRUE(reports.back().done());
  EXPECT_EQ(reports.back().eta_seconds, 0);
  EXPECT_TRUE((*r)->Progress().done());
  EXPECT_NE(ProgressLine(reports.front()).find("/ " + std::to_string(last / 1000) + ","), std::string::npos)
      << ProgressLine(reports.front());
}

INSTANTIATE_TEST_SUITE_P(Seeds, PipelinePropertyTest, ::testing::Values(3, 11, 20220101));

}  // namespace
}  // namespace caseledger::projections
