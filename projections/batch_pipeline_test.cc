// The batch pipeline's person records (batch_pipeline.h), one behaviour at a time: a Flush
// written behind, the records read back, changed in place or evicted, and what each view
// is handed of the person event by event. The pipeline against the sequential runner over
// random histories: pipeline_property_test.cc.
#include "domain/person.h"
#include "projections/batch_pipeline.h"
#include "projections/cross_history_test_support.h"
#include "projections/log_prefetch.h"
#include "projections/person_entry.h"
#include "projections/runner_test_support.h"
#include "projections/views_db.h"
#include "projections/views_layout.h"
#include "projections/views_test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <map>
#include <set>

namespace caseledger::projections {
namespace {

using namespace caseledger::projections::testing;

// What a Flush put in its batch stays cached until the caller says the batch is stored
// (FlushStored): the catch-up writes it behind while the next batches are folded, and a
// record forgotten before its write lands would be read back as it was before.
// A pipeline of the person records alone (two partitions, two threads) over a cross-person
// history of 1,500 steps, its first two batches of 600 events read.
class BatchPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CrossHistory history(7);
    history.Run(1500);
    AppendConcurrently(log, history.appends(), 2);
    auto opened = ViewsDb::Open(log.Path("views"));
    ASSERT_TRUE(opened) << opened.error().message;
    db = std::move(*opened);
    pipeline = std::make_unique<BatchPipeline>(views, Rules(), 2, 2, log.Path("views"));
    auto a = ReadDecoded(log.store(), 1, 600);
    auto b = ReadDecoded(log.store(), 601, 600);
    ASSERT_TRUE(a && b);
    ASSERT_EQ(b->envelopes.size(), 600u);
    first = std::move(*a);
    second = std::move(*b);
  }
  // Both batches folded (deferred, as a catch-up from scratch does), flushed and stored.
  void FoldBothAndStore() {
    pipeline->Defer(true);
    pipeline->Fold(*first, *db);
    ViewsDb::Batch out;
    ASSERT_FALSE(pipeline->Step(&*second, *db, out));
    ASSERT_FALSE(pipeline->Step(nullptr, *db, out));
    ASSERT_FALSE(pipeline->Flush(out));
    pipeline->FlushStored();
  }
  // `probes` as the views of a pipeline of three partitions with its folds attached, which
  // applies both batches (and is gone when this returns: the probes keep what they saw).
  void ApplyBothTo(std::vector<std::unique_ptr<View>>& probes, const std::string& name) {
    BatchPipeline probed(probes, Rules(), 3, 2, log.Path(name));
    probed.AttachFolds();
    ViewsDb::Batch out;
    ASSERT_FALSE(probed.Apply(*first, *db, out));
    ASSERT_FALSE(probed.Apply(*second, *db, out));
  }
  // A person with an event in the second batch (its last).
  std::string SomeoneInTheSecondBatch() const {
    std::string someone;
    for (const domain::Envelope& env : second->envelopes) {
      if (env.stream.starts_with("person-")) someone = env.stream.substr(7);
    }
    return someone;
  }

  TestLog log;
  std::vector<std::unique_ptr<View>> views;  // none: the person records alone
  std::unique_ptr<ViewsDb> db;
  std::unique_ptr<BatchPipeline> pipeline;
  std::optional<DecodedBatch> first, second;
};

TEST_F(BatchPipelineTest, AFlushWrittenBehindKeepsItsRecordsUntilStored) {
  BatchPipeline& pipeline = *this->pipeline;
  pipeline.Defer(true);
  pipeline.Fold(*first, *db);
  ViewsDb::Batch out;
  ASSERT_FALSE(pipeline.Step(&*second, *db, out));
  ASSERT_FALSE(pipeline.Step(nullptr, *db, out));
  ASSERT_FALSE(pipeline.Flush(out));
  const size_t flushed = pipeline.CachedPeople();  // each changed by the two batches, each in `out`
  ASSERT_GT(flushed, 50u);
  ASSERT_GE(out.count(), flushed);
  pipeline.Evict(1);
  EXPECT_EQ(pipeline.CachedPeople(), flushed);
  pipeline.FlushStored();
  pipeline.Evict(1);
  EXPECT_LE(pipeline.CachedPeople(), 1u);
}

// A person whose stream starts in a batch (an event of version 1) has nothing stored: the
// batch reads back only the records of people who started before it and left the cache.
TEST_F(BatchPipelineTest, PeopleWhoseStreamStartsInTheBatchAreNotReadBack) {
  BatchPipeline& pipeline = *this->pipeline;
  // Every person of the log's first batch starts there.
  ViewsDb::Batch out;
  ASSERT_FALSE(pipeline.Apply(*first, *db, out));
  EXPECT_GT(pipeline.CachedPeople(), 20u);
  EXPECT_EQ(db->KeysRead(), 0u);
  ASSERT_TRUE(db->Write(out, false));
  pipeline.Evict(1);  // (nearly) every record forgotten: they are all stored
  // The second batch reads exactly its people who started before it and are not cached.
  std::set<std::string> started, before;
  for (const domain::Envelope& env : second->envelopes) {
    if (!env.stream.starts_with("person-")) continue;
    const std::string id = env.stream.substr(7);
    if (env.version == 1) started.insert(id);
  }
  for (const domain::Envelope& env : second->envelopes) {
    if (!env.stream.starts_with("person-")) continue;
    const std::string id = env.stream.substr(7);
    if (!started.contains(id) && pipeline.Find(id) == nullptr) before.insert(id);
  }
  ASSERT_FALSE(started.empty());
  ASSERT_FALSE(before.empty());
  out.Clear();
  ASSERT_FALSE(pipeline.Apply(*second, *db, out));
  EXPECT_EQ(db->KeysRead(), before.size());
  // And what they fold to is what the records say (the people read back were found).
  for (const std::string& id : before) EXPECT_NE(pipeline.Find(id), nullptr) << id;
}

// A catch-up's spill is removed after its end, on a thread of its own: the unlink of a 1:1
// catch-up's multi-GiB files was 1.2-1.3 s of serial wall time before ready. The people
// are in the database when UnspillPeople returns; the files go later, and are gone once
// WaitSpillRemoved returns.
TEST_F(BatchPipelineTest, TheSpillIsRemovedAfterItsEndOnAThreadOfItsOwn) {
  BatchPipeline& pipeline = *this->pipeline;
  const std::string dir = log.Path("views") + ".spill";
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> end_waited{false};
  pipeline.BeforeSpillRemoved([&] {
    // Released by the test once UnspillPeople is back: a removal on the caller's thread
    // times out here instead.
    if (released.wait_for(std::chrono::seconds(5)) != std::future_status::ready) end_waited = true;
  });
  ASSERT_TRUE(pipeline.SpillPeople(dir));
  ASSERT_NO_FATAL_FAILURE(FoldBothAndStore());
  ASSERT_TRUE(std::filesystem::exists(dir + "/people-0"));
  auto unspilled = pipeline.UnspillPeople(*db);
  ASSERT_TRUE(unspilled) << unspilled.error().message;
  EXPECT_FALSE(pipeline.Spilling());
  EXPECT_TRUE(std::filesystem::exists(dir)) << "removed before UnspillPeople returned";
  const std::string someone = SomeoneInTheSecondBatch();
  auto stored = db->Get(std::string(layout::kPeoplePrefix) + someone);
  ASSERT_TRUE(stored && stored->has_value()) << someone << " is in the database";
  release.set_value();
  pipeline.WaitSpillRemoved();
  EXPECT_FALSE(end_waited.load()) << "the end waited for the spill's removal";
  EXPECT_FALSE(std::filesystem::exists(dir)) << "nothing of the spill is left once removed";
}

// Once unspilled, every person's entry in the database is the record the cache holds: the
// caches may be forgotten (Clear) and each person read back alike.
TEST_F(BatchPipelineTest, OnceUnspilledACachedRecordIsReadBackAlikeFromTheDatabase) {
  BatchPipeline& pipeline = *this->pipeline;
  ASSERT_TRUE(pipeline.SpillPeople(log.Path("views") + ".spill"));
  ASSERT_NO_FATAL_FAILURE(FoldBothAndStore());
  const std::string someone = SomeoneInTheSecondBatch();
  ASSERT_NE(pipeline.Find(someone), nullptr);
  const PersonRecord before = *pipeline.Find(someone);
  ASSERT_GT(pipeline.CachedPeople(), 20u);
  auto unspilled = pipeline.UnspillPeople(*db);
  ASSERT_TRUE(unspilled) << unspilled.error().message;
  pipeline.WaitSpillRemoved();
  pipeline.Clear();
  EXPECT_EQ(pipeline.CachedPeople(), 0u);
  EXPECT_EQ(pipeline.Find(someone), nullptr);
  auto stored = db->Get(std::string(layout::kPeoplePrefix) + someone);
  ASSERT_TRUE(stored && stored->has_value()) << someone << " is in the database";
  PersonRecord read;
  ASSERT_TRUE(DecodePersonRecord(**stored, pipeline.folds(), read));
  EXPECT_EQ(PersonDirectory::Encode(read), PersonDirectory::Encode(before));
}

// A record no view keeps (none reads more of it than the GP: View::ReadsRecord) is changed
// in place as the partition folds, not copied per event (~9 % of a catch-up was copies).
TEST_F(BatchPipelineTest, ARecordNoViewKeepsIsChangedInPlace) {
  BatchPipeline& pipeline = *this->pipeline;
  ViewsDb::Batch out;
  ASSERT_FALSE(pipeline.Apply(*first, *db, out));
  std::map<std::string, const PersonRecord*> cached;  // people of both batches
  for (const domain::Envelope& env : second->envelopes) {
    if (!env.stream.starts_with("person-")) continue;
    const std::string id = env.stream.substr(7);
    if (const PersonRecord* r = pipeline.Find(id)) cached.emplace(id, r);
  }
  ASSERT_GT(cached.size(), 10u);
  ASSERT_FALSE(pipeline.Apply(*second, *db, out));
  for (const auto& [id, record] : cached) EXPECT_EQ(pipeline.Find(id), record) << id;
}

// Evict leaves each partition's share to its next task on the pool (or to the next call
// that reads the cache): the records forgotten are those an eviction at once forgets, two
// evictions in a row included.
TEST_F(BatchPipelineTest, AnEvictionLeftToTheNextFoldForgetsWhatOneAtOnceForgets) {
  std::vector<std::unique_ptr<View>> none;
  BatchPipeline at_once(none, Rules(), 2, 2, log.Path("views")), later(none, Rules(), 2, 2, log.Path("views"));
  ViewsDb::Batch out;
  ASSERT_FALSE(at_once.Apply(*first, *db, out));
  ASSERT_FALSE(later.Apply(*first, *db, out));
  ASSERT_TRUE(db->Write(out, false));
  const size_t cached = at_once.CachedPeople();
  ASSERT_GT(cached, 20u);
  at_once.Evict(cached / 2);
  EXPECT_LT(at_once.CachedPeople(), cached);  // applied here
  at_once.Evict(cached / 5);
  EXPECT_LT(at_once.CachedPeople(), cached / 5);
  later.Evict(cached / 2);
  later.Evict(cached / 5);  // applied by the folds of the next batch
  const uint64_t read = db->KeysRead();
  out.Clear();
  ASSERT_FALSE(at_once.Apply(*second, *db, out));
  const uint64_t read_at_once = db->KeysRead() - read;
  ASSERT_FALSE(later.Apply(*second, *db, out));
  EXPECT_EQ(db->KeysRead() - read - read_at_once, read_at_once);
  EXPECT_GT(read_at_once, 0u);
  EXPECT_EQ(later.CachedPeople(), at_once.CachedPeople());
  for (const DecodedBatch* batch : {&*first, &*second}) {
    for (const domain::Envelope& env : batch->envelopes) {
      if (!env.stream.starts_with("person-")) continue;
      const std::string id = env.stream.substr(7);
      EXPECT_EQ(later.Find(id) == nullptr, at_once.Find(id) == nullptr) << id;
    }
  }
}

// What a view is handed of the person, event by event, against the sequential fold: the
// record before the event where the view reads it (here: results and the events of people
// with a swab pending), else a record with the GP before the event; null before registration;
// and with a result, its swab as before it (LogEvent::swab).
class RecordProbe final : public View {
 public:
  std::string_view name() const override { return "probe"; }
  bool Load(std::string_view, std::string_view) override { return true; }
  bool ReadsRecord(const LogEvent& e, const PersonRecord& before) const override {
    return std::holds_alternative<domain::ResultRecorded>(e.event) ||
           std::any_of(before.swabs.begin(), before.swabs.end(), [](const SwabRecord& s) { return !s.reported(); });
  }
  void Apply(const LogEvent& e, const PersonRecord* person, PersistSink&) override {
    if (!e.person_id.empty()) seen.push_back(Describe(e, person));
  }
  void Publish(uint64_t) override {}
  std::vector<std::string> ChangedKeys() const override { return {}; }

  std::string Describe(const LogEvent& e, const PersonRecord* person) const {
    std::string line = std::to_string(e.envelope.position) + " " + std::string(e.person_id);
    if (e.swab != nullptr) {  // a result's swab as before it (LogEvent::swab)
      line += " swab collected " + std::to_string(e.swab->collected) + " at " + std::to_string(e.swab->collected_at) +
              " outcome " + std::to_string(e.swab->outcome);
    }
    if (person == nullptr) return line + " none";
    line += " gp " + person->gp_id;
    if (!ReadsRecord(e, *person)) return line;
    line += " swabs " + std::to_string(person->swabs.size()) + " open " + std::to_string(person->case_open) +
            " measures " + std::to_string(person->measures.size()) + " at " + person->residence_istat;
    return line;
  }
  std::vector<std::string> seen;
};

TEST_F(BatchPipelineTest, ViewsGetTheRecordBeforeEachEventOrItsGpWhereTheyReadNoMore) {
  std::vector<std::unique_ptr<View>> probes;
  probes.push_back(std::make_unique<RecordProbe>());
  const auto& probe = static_cast<const RecordProbe&>(*probes.front());
  ASSERT_NO_FATAL_FAILURE(ApplyBothTo(probes, "probe"));

  PersonDirectory sequential(Rules());
  std::vector<std::string> want;
  size_t full = 0, results = 0;
  for (const DecodedBatch* batch : {&*first, &*second}) {
    for (size_t i = 0; i < batch->envelopes.size(); ++i) {
      const domain::Envelope& env = batch->envelopes[i];
      if (!env.stream.starts_with("person-")) continue;
      LogEvent e{env, batch->events[i], std::string_view(env.stream).substr(7)};
      const PersonRecord* before = sequential.Find(e.person_id);
      const auto* result = std::get_if<domain::ResultRecorded>(&e.event);
      if (result != nullptr && before != nullptr) {
        e.swab = before->FindSwab(result->swab_id);
        results += e.swab != nullptr;
      }
      want.push_back(probe.Describe(e, before));
      full += before != nullptr && probe.ReadsRecord(e, *before);
      sequential.Apply(e, before);
    }
  }
  ASSERT_GT(full, 50u);
  ASSERT_GT(want.size() - full, 50u);
  ASSERT_GT(results, 10u);
  EXPECT_EQ(probe.seen, want);
}

// Every event a view or a fold is handed comes with the keys the batch's reader computed
// (LogEvent::keys): the days and the swab id's hash it would otherwise compute again.
class KeysProbe final : public View {
 public:
  std::string_view name() const override { return "keys"; }
  bool Load(std::string_view, std::string_view) override { return true; }
  void Apply(const LogEvent& e, const PersonRecord*, PersistSink&) override {
    ++events;
    if (e.keys == nullptr) return;
    ++keyed;
    agree += e.keys->effective_day == e.envelope.effective_at.ToDate();
    const domain::Timestamp* at = OwnInstantOf(e.event);
    agree += e.keys->own_day == (at != nullptr ? at->ToDate() : domain::Date{});
    const std::string* swab = SwabIdOf(e.event);
    swabs += swab != nullptr;
    agree += e.keys->swab_hash == (swab != nullptr ? SwabIdHash(*swab) : 0);
  }
  void Publish(uint64_t) override {}
  std::vector<std::string> ChangedKeys() const override { return {}; }
  size_t events = 0, keyed = 0, agree = 0, swabs = 0;
};

TEST_F(BatchPipelineTest, ViewsGetEachEventsKeysFromTheBatch) {
  std::vector<std::unique_ptr<View>> probes;
  probes.push_back(std::make_unique<KeysProbe>());
  const auto& probe = static_cast<const KeysProbe&>(*probes.front());
  BatchPipeline pipeline(probes, Rules(), 3, 2, log.Path("keys"));
  pipeline.AttachFolds();
  ViewsDb::Batch out;
  ASSERT_FALSE(pipeline.Apply(*first, *db, out));
  DecodedBatch built;  // built otherwise (no keys): the pipeline computes them
  built.envelopes = second->envelopes;
  built.events = second->events;
  ASSERT_FALSE(pipeline.Apply(built, *db, out));
  EXPECT_EQ(probe.events, 1200u);
  EXPECT_EQ(probe.keyed, 1200u);
  EXPECT_EQ(probe.agree, 3 * 1200u);
  EXPECT_GT(probe.swabs, 100u);
}

// A view is handed only the events of its interest (View::Interest): here results, and any
// event with effects; the others never reach its Apply.
class InterestProbe final : public View {
 public:
  std::string_view name() const override { return "interest"; }
  bool Load(std::string_view, std::string_view) override { return true; }
  EventInterest Interest() const override { return {EventTypes<domain::ResultRecorded>(), true}; }
  void Apply(const LogEvent& e, const PersonRecord*, PersistSink&) override {
    seen.push_back(std::to_string(e.envelope.position) + " " + std::to_string(e.effects.size()));
  }
  void Publish(uint64_t) override {}
  std::vector<std::string> ChangedKeys() const override { return {}; }
  std::vector<std::string> seen;
};

TEST_F(BatchPipelineTest, AViewIsHandedOnlyTheEventsOfItsInterest) {
  std::vector<std::unique_ptr<View>> probes;
  probes.push_back(std::make_unique<InterestProbe>());
  const auto& probe = static_cast<const InterestProbe&>(*probes.front());
  ASSERT_NO_FATAL_FAILURE(ApplyBothTo(probes, "interest"));

  PersonDirectory sequential(Rules());
  std::vector<std::string> want;
  size_t results = 0, with_effects = 0, left_out = 0;
  for (const DecodedBatch* batch : {&*first, &*second}) {
    for (size_t i = 0; i < batch->envelopes.size(); ++i) {
      const domain::Envelope& env = batch->envelopes[i];
      const std::string_view id =
          env.stream.starts_with("person-") ? std::string_view(env.stream).substr(7) : std::string_view();
      LogEvent e{env, batch->events[i], id};
      const PersonRecord* before = sequential.Find(id);
      std::vector<Effect> effects;
      sequential.Effects(e, before, effects);
      sequential.Apply(e, before);
      const bool result = std::holds_alternative<domain::ResultRecorded>(e.event);
      results += result;
      with_effects += !result && !effects.empty();
      if (!result && effects.empty()) {
        ++left_out;
        continue;
      }
      want.push_back(std::to_string(env.position) + " " + std::to_string(effects.size()));
    }
  }
  ASSERT_GT(results, 10u);
  ASSERT_GT(with_effects, 10u);
  ASSERT_GT(left_out, 100u);
  EXPECT_EQ(probe.seen, want);
}

// EventTypes: bit k for the alternative k of domain::Event.
static_assert(EventTypes<domain::PersonRegistered>() == 1u);
static_assert(EventTypes<domain::GpAssigned, domain::SchoolEnrolled>() == (1u << 2 | 1u << 3));

}  // namespace
}  // namespace caseledger::projections
