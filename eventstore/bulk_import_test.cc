// The bulk import writes the store the append path writes: the same records, index, heads,
// claims, key entries and chain for the same requests (bulk_import.h), refuses what Append
// refuses, and leaves the store as it was when it is not committed.
#include "eventstore/bulk_import.h"
#include "eventstore/bulk_runs.h"
#include "eventstore/bulk_import_impl.h"

#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <filesystem>
#include <map>
#include <random>

namespace caseledger::eventstore {
namespace {

using caseledger::testing::TempDir;

constexpr int64_t kStart = 1'700'000'000'000'000;

// Streams with personal parts, claims (a personal one among them), an idempotency key (and its
// request repeated later), a schema version and an erasure that releases its claim.
std::vector<AppendRequest> Requests() {
  std::vector<AppendRequest> out;
  for (int i = 0; i < 60; ++i) {
    const std::string stream = "person-" + std::to_string(i % 13);
    AppendRequest r;
    r.stream = stream;
    r.actor = {"op-" + std::to_string(i % 3), "operator"};
    r.correlation_id = i % 4 == 0 ? "corr-" + std::to_string(i) : "";
    for (int e = 0; e <= i % 3; ++e) {
      NewEvent ev;
      ev.type = i < 13 ? "PersonRegistered" : "Something";
      ev.schema_version = 1 + e;
      ev.body = "body-" + std::to_string(i) + "-" + std::to_string(e);
      if (i < 13 || i % 7 == 0) ev.personal = "personal of " + stream + " #" + std::to_string(i);
      ev.effective_at = Timestamp{kStart - 86'400'000'000LL * (i % 5)};
      r.events.push_back(std::move(ev));
    }
    if (i < 13) r.claims = {"taxcode/RSSMRA85T10L2" + std::to_string(10 + i) + "X"};
    if (i % 5 == 1) r.claims.push_back("swab/SW-" + std::to_string(1000 + i));
    if (i == 20) r.idempotency_key = "k/20", r.request_digest = "d20";
    if (i == 40) {
      r.erase_personal_data = true;
      r.events.resize(1);
      r.events[0].personal.clear();
      r.released_claims = {"taxcode/RSSMRA85T10L2" + std::to_string(10 + 40 % 13) + "X"};
    }
    out.push_back(std::move(r));
    if (i == 30) out.push_back(out[20]);  // its idempotency key again: answered as the first time, replayed
  }
  return out;
}

std::unique_ptr<EventStore> OpenStore(const std::string& dir, const std::string& key, int64_t* clock) {
  StoreOptions o;
  o.path = dir;
  o.master_key_path = key;
  o.clock = [clock] { return Timestamp{*clock}; };
  auto s = EventStore::Open(o);
  EXPECT_TRUE(s) << s.error().message;
  return s ? std::move(*s) : nullptr;
}

// Every key and value of every family but `default`; values of the key seeds (random) by
// their length.
std::map<std::string, std::string> Families(const std::string& path) {
  std::vector<std::string> names;
  EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  EXPECT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), path, descriptors, &handles, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < handles.size(); ++i) {
    if (names[i] == "default") continue;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[i]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string key = names[i] + "/" + it->key().ToString();
      std::string value = it->value().ToString();
      const bool seed = names[i] == "streams" && it->key().size() >= 8 &&
                        it->key().ToString().substr(it->key().size() - 8) == std::string(8, '\0');
      // Events hold sealed parts (random nonces) and so their hashes differ: compared
      // through the readers below instead.
      if (seed || names[i] == "events") value = "<" + std::to_string(value.size()) + " bytes>";
      out[key] = value;
    }
  }
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  return out;
}

// Another stream's request claiming only the second claim of `r` (which takes two).
AppendRequest SecondClaimAlone(AppendRequest r) {
  EXPECT_EQ(r.claims.size(), 2u);
  r.stream = "person-98";
  r.expected = ExpectedVersion::NoStream();
  r.claims = {r.claims.back()};
  return r;
}

// Imports Requests() with the given run budgets and compares with the append path. With
// `by_handle`, each request is added to its stream by handle (BulkImport::OpenStream), its
// own stream name cleared.
// With `by_view` too, its events are handed over by view (BulkImport::EventView) of one
// buffer, the request's own events cleared; with `unnamed` too, through BulkImport::Append,
// whose answers lack the stream's name.
void ExpectImportWritesWhatAppendWrites(uint64_t index_run_entries, uint64_t claim_run_entries,
                                        bool by_handle = false, bool by_view = false, bool unnamed = false) {
  TempDir dir;
  int64_t clock = kStart;
  std::vector<AppendRequest> requests = Requests();
  std::vector<StoreResult<AppendResult>> appended, imported;
  {
    auto a = OpenStore(dir.Sub("a"), dir.Sub("master.key"), &clock);
    for (const auto& r : requests) {
      clock += 1000;
      appended.push_back(a->Append(r));
    }
    // Refused like any append: a claim held by another stream, a wrong version.
    AppendRequest taken = requests[1];
    taken.stream = "person-99";
    taken.expected = ExpectedVersion::NoStream();
    EXPECT_EQ(a->Append(taken).error().code, StoreErrorCode::kClaimTaken);
    EXPECT_EQ(a->Append(SecondClaimAlone(requests[1])).error().code, StoreErrorCode::kClaimTaken);
  }
  clock = kStart;
  {
    auto b = OpenStore(dir.Sub("b"), dir.Sub("master.key"), &clock);
    BulkImportOptions options;
    options.work_dir = dir.Sub("b-work");
    options.events_per_file = 7;  // many chunks, hashed in order by two threads
    options.index_run_entries = index_run_entries;
    options.claim_run_entries = claim_run_entries;
    auto bulk = BulkImport::Begin(*b, options);
    ASSERT_TRUE(bulk) << bulk.error().message;
    auto add = [&](AppendRequest r, Timestamp at) -> StoreResult<AppendResult> {
      if (!by_handle) return (*bulk)->Add(std::move(r), at);
      auto handle = (*bulk)->OpenStream(r.stream);
      if (!handle) return handle.error();
      r.stream.clear();
      if (!by_view) return (*bulk)->Add(*handle, std::move(r), at);
      std::string bytes;
      for (const NewEvent& ev : r.events) bytes += ev.body + ev.personal;
      std::vector<BulkImport::EventView> views;
      size_t offset = 0;
      for (const NewEvent& ev : r.events) {
        const std::string_view body(bytes.data() + offset, ev.body.size());
        const std::string_view personal(bytes.data() + offset + ev.body.size(), ev.personal.size());
        views.push_back({ev.type, ev.schema_version, body, personal, ev.effective_at});
        offset += ev.body.size() + ev.personal.size();
      }
      std::vector<NewEvent> events = std::move(r.events);  // the types, viewed, live on
      r.events.clear();
      if (!unnamed) return (*bulk)->Add(*handle, std::move(r), views, at);
      auto added = (*bulk)->Append(*handle, std::move(r), views, at);
      if (!added) return added.error();
      return AppendResult{"", added->first_position, added->last_position, added->version, added->replayed};
    };
    for (const auto& r : requests) {
      clock += 1000;
      imported.push_back(add(r, Timestamp{clock}));
      if (imported.back() && !unnamed) {
        EXPECT_EQ(imported.back()->stream, r.stream);
      }
    }
    AppendRequest taken = requests[1];
    taken.stream = "person-99";
    EXPECT_EQ(add(taken, Timestamp{clock}).error().code, StoreErrorCode::kClaimTaken);
    // The import keeps each claim's hash from its check to its insert, by the order of the
    // request's claims: a claim not first in its request is found held too.
    EXPECT_EQ(add(SecondClaimAlone(requests[1]), Timestamp{clock}).error().code, StoreErrorCode::kClaimTaken);
    AppendRequest stale = requests[14];
    stale.expected = ExpectedVersion::Exactly(1);
    auto refused = add(stale, Timestamp{clock});
    EXPECT_EQ(refused.error().code, StoreErrorCode::kWrongExpectedVersion);
    EXPECT_NE(refused.error().message.find(requests[14].stream), std::string::npos) << refused.error().message;
    EXPECT_EQ(add(requests[3], Timestamp{clock - 1}).error().code, StoreErrorCode::kInvalidArgument);
    auto stats = (*bulk)->Commit();
    ASSERT_TRUE(stats) << stats.error().message;
    EXPECT_FALSE(std::filesystem::exists(options.work_dir));
    EXPECT_EQ(b->CommittedPosition(), stats->last_position);
  }
  ASSERT_EQ(appended.size(), imported.size());
  for (size_t i = 0; i < appended.size(); ++i) {
    ASSERT_EQ(bool(appended[i]), bool(imported[i])) << i;
    if (!appended[i]) continue;
    EXPECT_EQ(appended[i]->first_position, imported[i]->first_position) << i;
    EXPECT_EQ(appended[i]->last_position, imported[i]->last_position) << i;
    EXPECT_EQ(appended[i]->version, imported[i]->version) << i;
    EXPECT_EQ(appended[i]->replayed, imported[i]->replayed) << i;
  }

  // Index, heads, claims (blind, under the same master key), idempotency and key entries.
  EXPECT_EQ(Families(dir.Sub("a")), Families(dir.Sub("b")));
  for (const char* store : {"a", "b"}) {
    VerifyOptions vo;
    vo.path = dir.Sub(store);
    auto report = VerifyStore(vo);
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->problem, "") << store;
    EXPECT_GT(report->events_checked, 100u);
  }
  // The records themselves, and the personal parts they open to.
  auto a = OpenStore(dir.Sub("a"), dir.Sub("master.key"), &clock);
  auto b = OpenStore(dir.Sub("b"), dir.Sub("master.key"), &clock);
  auto la = a->ReadLog(1, 10'000), lb = b->ReadLog(1, 10'000);
  ASSERT_TRUE(la && lb);
  ASSERT_EQ(la->size(), lb->size());
  for (size_t i = 0; i < la->size(); ++i) {
    domain::Envelope x = (*la)[i], y = (*lb)[i];
    x.hash = y.hash = {};
    x.prev_hash = y.prev_hash = {};
    EXPECT_EQ(x, y) << "position " << i + 1;
  }
  for (int s = 0; s < 13; ++s) {
    const std::string stream = "person-" + std::to_string(s);
    auto sa = a->ReadStream(stream, 1, 1000), sb = b->ReadStream(stream, 1, 1000);
    ASSERT_TRUE(sa && sb) << stream;
    ASSERT_EQ(sa->size(), sb->size()) << stream;
    for (size_t i = 0; i < sa->size(); ++i) {
      EXPECT_EQ((*sa)[i].personal, (*sb)[i].personal) << stream << " v" << i + 1;
      EXPECT_EQ((*sa)[i].personal_form, (*sb)[i].personal_form) << stream << " v" << i + 1;
    }
  }
  EXPECT_EQ(*a->ClaimOwner("taxcode/RSSMRA85T10L212X"), *b->ClaimOwner("taxcode/RSSMRA85T10L212X"));
  EXPECT_TRUE(b->ClaimOwner("swab/SW-1001").value().has_value());
}

TEST(BulkImportTest, WritesWhatTheAppendPathWrites) { ExpectImportWritesWhatAppendWrites(1 << 20, 1 << 20); }

// A run of the index and of the claims after every append: claims found in older runs (a
// tax code taken before, one released), key seeds replaced by a later run's tombstone,
// every stream's entries spread over many runs. The same store.
TEST(BulkImportTest, ATinyMemoryBudgetWritesTheSameStore) { ExpectImportWritesWhatAppendWrites(1, 1); }

TEST(BulkImportTest, RunBudgetsBetweenTheExtremesWriteTheSameStore) { ExpectImportWritesWhatAppendWrites(5, 3); }

// By handle, each request naming no stream: the same records, claims (an erasure releasing
// the tax code its own stream holds) and answers as by name.
TEST(BulkImportTest, AppendsByStreamHandleWriteTheSameStore) {
  ExpectImportWritesWhatAppendWrites(1 << 20, 1 << 20, true);
  ExpectImportWritesWhatAppendWrites(1, 1, true);
}

TEST(BulkImportTest, EventsByViewWriteTheSameStore) { ExpectImportWritesWhatAppendWrites(5, 3, true, true); }

// Append answers as Add does, but for the stream's name: the same positions, versions and
// replays (the idempotency key's repeat), and the same store.
TEST(BulkImportTest, AppendsAnsweredWithoutTheNameWriteTheSameStore) {
  ExpectImportWritesWhatAppendWrites(5, 3, true, true, true);
  ExpectImportWritesWhatAppendWrites(1 << 20, 1 << 20, true, true, true);
}

TEST(BulkImportTest, AStreamHandleIsRefusedForABadNameAndAnUnknownHandle) {
  TempDir dir;
  int64_t clock = kStart;
  auto store = OpenStore(dir.Sub("s"), dir.Sub("master.key"), &clock);
  BulkImportOptions options;
  options.work_dir = dir.Sub("work");
  auto bulk = BulkImport::Begin(*store, options);
  ASSERT_TRUE(bulk);
  EXPECT_EQ((*bulk)->OpenStream("").error().code, StoreErrorCode::kInvalidArgument);
  EXPECT_EQ((*bulk)->OpenStream(std::string("a\0b", 3)).error().code, StoreErrorCode::kInvalidArgument);
  auto first = (*bulk)->OpenStream("person-1");
  auto again = (*bulk)->OpenStream("person-1");
  ASSERT_TRUE(first && again);
  EXPECT_EQ(*first, *again);
  AppendRequest r = Requests()[1];
  r.stream.clear();
  EXPECT_EQ((*bulk)->Add(*first + 1, r, Timestamp{clock}).error().code, StoreErrorCode::kInvalidArgument);
  // Events by view and in the request at once, or none at all: refused, nothing added.
  const BulkImport::EventView view{"Something", 1, "body", "", Timestamp{kStart}};
  EXPECT_EQ((*bulk)->Add(*first, r, std::span(&view, 1), Timestamp{clock}).error().code, StoreErrorCode::kInvalidArgument);
  AppendRequest bare = r;
  bare.events.clear();
  EXPECT_EQ((*bulk)->Add(*first, bare, std::span<const BulkImport::EventView>(), Timestamp{clock}).error().code,
            StoreErrorCode::kInvalidArgument);
  auto added = (*bulk)->Add(*first, r, Timestamp{clock});
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_EQ(added->stream, "person-1");
  // Opening a stream appends nothing: one opened and never added to is not in the store.
  ASSERT_TRUE((*bulk)->OpenStream("person-2"));
  ASSERT_TRUE((*bulk)->Commit());
  EXPECT_EQ(store->StreamVersion("person-1").value(), added->version);
  EXPECT_EQ(store->StreamVersion("person-2").value(), 0u);
}

TEST(BulkImportTest, AnImportNotCommittedLeavesTheStoreAsItWasAndALaterOneContinuesItsChain) {
  TempDir dir;
  int64_t clock = kStart;
  auto store = OpenStore(dir.Sub("s"), dir.Sub("master.key"), &clock);
  std::vector<AppendRequest> requests = Requests();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(store->Append(requests[i]));
  const uint64_t before = store->CommittedPosition();
  BulkImportOptions options;
  options.work_dir = dir.Sub("work");
  options.events_per_file = 5;
  {
    auto bulk = BulkImport::Begin(*store, options);
    ASSERT_TRUE(bulk);
    for (int i = 10; i < 30; ++i) ASSERT_TRUE((*bulk)->Add(requests[i], Timestamp{clock + i})) << i;
    // Not committed (a bad line further on): dropped.
  }
  EXPECT_EQ(store->CommittedPosition(), before);
  EXPECT_FALSE(std::filesystem::exists(options.work_dir));
  EXPECT_EQ(store->StreamVersion("person-10").value(), 0u);  // its first events were in the import
  EXPECT_FALSE(store->ClaimOwner("swab/SW-1011").value().has_value());

  // Into the store that holds events: after its last position, checked against it.
  auto bulk = BulkImport::Begin(*store, options);
  ASSERT_TRUE(bulk);
  AppendRequest taken = requests[1];  // a tax code the store holds, for another stream
  taken.stream = "person-99";
  EXPECT_EQ((*bulk)->Add(taken, Timestamp{clock + 1}).error().code, StoreErrorCode::kClaimTaken);
  for (int i = 10; i < 30; ++i) ASSERT_TRUE((*bulk)->Add(requests[i], Timestamp{clock + i})) << i;
  auto stats = (*bulk)->Commit();
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(stats->first_position, before + 1);
  EXPECT_EQ(store->CommittedPosition(), stats->last_position);
  // And the append path goes on after it.
  clock += 1000;
  auto next = store->Append(requests[30]);
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(next->first_position, stats->last_position + 1);
  store.reset();
  VerifyOptions vo;
  vo.path = dir.Sub("s");
  auto report = VerifyStore(vo);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->problem, "");
  EXPECT_EQ(report->events_checked, next->last_position);
}

// The runs' sort (bulk_runs.h) orders as std::sort does: names sharing long prefixes, names
// that are prefixes of others, zero bytes, duplicates, names equal over 8, 16, 24... bytes
// after their shared prefix (a two-letter alphabet, up to 40 bytes).
// The claims' bytes of a run: copies that fill several blocks, one longer than a block, the
// same again after Clear (the blocks filled again): each copy holds its claim's bytes.
TEST(BulkImportTest, ClaimBytesHoldEveryCopyAcrossBlocksAndAfterClear) {
  bulk_import_internal::ClaimBytes bytes;
  std::mt19937 random(7);
  for (int round = 0; round < 2; ++round) {
    std::vector<std::string> claims;
    std::vector<std::string_view> copies;
    for (int i = 0; i < 3000; ++i) {  // ~3 MiB: four blocks of 1 MiB
      std::string claim(1 + random() % 2000, '\0');
      for (char& c : claim) c = static_cast<char>('a' + random() % 26);
      if (i == 1500) claim.assign((3 << 20) + 5, 'L');  // a block of its own
      copies.emplace_back(bytes.Copy(claim), claim.size());
      claims.push_back(std::move(claim));
    }
    for (size_t i = 0; i < claims.size(); ++i) {
      ASSERT_EQ(copies[i], claims[i]) << "round " << round << ", claim " << i;
      EXPECT_NE(copies[i].data(), claims[i].data());
    }
    bytes.Clear();
  }
}

TEST(BulkImportTest, TheRunsSortOrdersNamesBytewise) {
  std::mt19937_64 random(7);
  for (int round = 0; round < 90; ++round) {
    std::vector<std::string> names;
    const std::string prefix = round % 2 ? "person-01HF8Z" : "";
    const bool long_ties = round % 3 == 2;
    for (int i = 0; i < 300; ++i) {
      std::string name = prefix;
      const size_t length = random() % (long_ties ? 40 : 12);
      for (size_t k = 0; k < length; ++k) {
        name.push_back(long_ties ? "\0a"[random() % 8 == 0] : "\0\1AZaz\xff"[random() % 7]);
      }
      names.push_back(name);
      if (i % 10 == 0) names.push_back(name);  // a duplicate
    }
    std::vector<std::string> expected = names;
    std::sort(expected.begin(), expected.end());
    bulk_import_internal::SortByName(names, [](const std::string& n) { return std::string_view(n); });
    ASSERT_EQ(names, expected) << "round " << round;
  }
}

// Runs merged by ranges, with entries in memory as the newest run (what Commit does on
// several threads): the ranges together hold every key once, with the newest value, as
// one merge of everything does.
TEST(BulkImportTest, RunsMergedByRangesWithAnInMemoryRunGiveTheWholeMerge) {
  TempDir dir;
  bulk_import_internal::SortedRuns runs(dir.Sub("run"));
  std::mt19937_64 random(11);
  std::map<std::string, std::string> newest;  // what the merge must give
  auto key_of = [&] { return "k" + std::to_string(random() % 500); };
  for (int run = 0; run < 4; ++run) {
    std::map<std::string, std::string> entries;
    for (int i = 0; i < 120; ++i) entries[key_of()] = "run" + std::to_string(run);
    ASSERT_TRUE(runs.Write([&](bulk_import_internal::RunSink& w) {
      for (const auto& [k, v] : entries) {
        if (auto st = w.Put(k, v); !st.ok()) return st;
      }
      return rocksdb::Status::OK();
    }));
    for (const auto& [k, v] : entries) newest[k] = v;
  }
  std::map<std::string, std::string> in_memory;
  for (int i = 0; i < 80; ++i) in_memory[key_of()] = "memory";
  for (const auto& [k, v] : in_memory) newest[k] = v;
  std::vector<std::pair<std::string, std::string>> memory(in_memory.begin(), in_memory.end());
  class VectorCursor final : public bulk_import_internal::RunCursor {
   public:
    explicit VectorCursor(const std::vector<std::pair<std::string, std::string>>& v) : v_(v) {}
    void Seek(std::string_view t) override {
      i_ = 0;
      while (i_ < v_.size() && v_[i_].first < t) ++i_;
    }
    bool Valid() const override { return i_ < v_.size(); }
    std::string_view key() const override { return v_[i_].first; }
    std::string_view value() const override { return v_[i_].second; }
    void Next() override { ++i_; }

   private:
    const std::vector<std::pair<std::string, std::string>>& v_;
    size_t i_ = 0;
  };
  for (const std::vector<std::string>& cuts :
       {std::vector<std::string>{}, {"k2"}, {"k1", "k3", "k30", "k7"}, {"a", "k250", "z"}}) {
    std::vector<std::pair<std::string, std::string>> merged;
    for (size_t part = 0; part <= cuts.size(); ++part) {
      VectorCursor cursor(memory);
      auto done = runs.MergeRange(part == 0 ? std::string_view() : std::string_view(cuts[part - 1]),
                                  part == cuts.size() ? std::string_view() : std::string_view(cuts[part]), &cursor,
                                  [&](std::string_view k, std::string_view v) {
                                    merged.emplace_back(std::string(k), std::string(v));
                                    return rocksdb::Status::OK();
                                  });
      ASSERT_TRUE(done) << done.error().message;
    }
    const std::vector<std::pair<std::string, std::string>> expected(newest.begin(), newest.end());
    EXPECT_EQ(merged, expected) << cuts.size() << " cuts";
  }
}

// A run's Find answers from the entries between two of its marks: every key of every run
// with the newest run's value (a released claim's "" included), none for keys between,
// before and after the runs' keys.
TEST(BulkImportTest, RunsFindTheNewestValueOfEveryKeyAndNoneOfOthers) {
  TempDir dir;
  bulk_import_internal::SortedRuns runs(dir.Sub("run"));
  std::map<std::string, std::string> newest;
  for (int run = 0; run < 3; ++run) {
    std::map<std::string, std::string> entries;
    for (int i = run; i < 1000; i += 1 + run) entries["k" + std::to_string(10000 + i * 2)] = i % 9 == 0 ? "" : "run" + std::to_string(run);
    ASSERT_TRUE(runs.Write([&](bulk_import_internal::RunSink& w) {
      for (const auto& [k, v] : entries) {
        if (auto st = w.Put(k, v); !st.ok()) return st;
      }
      return rocksdb::Status::OK();
    }));
    for (const auto& [k, v] : entries) newest[k] = v;
  }
  for (const auto& [k, v] : newest) {
    auto found = runs.Find(k);
    ASSERT_TRUE(found) << found.error().message;
    ASSERT_TRUE(found->has_value()) << k;
    EXPECT_EQ(**found, v) << k;
  }
  for (const std::string absent : {"a", "k10001", "k10999", "k11997", "k9", "z"}) {
    auto found = runs.Find(absent);
    ASSERT_TRUE(found) << found.error().message;
    EXPECT_FALSE(found->has_value()) << absent;
  }
}

// The cuts of a merge by ranges (CutsOf, from samples in any order): strictly ascending,
// each range holding about its share of the samples; none for one part or too few samples.
TEST(BulkImportTest, CutsOfSamplesSplitThemEvenly) {
  std::vector<std::string> keys;
  for (int i = 0; i < 1000; ++i) keys.push_back("swab/SW-" + std::to_string(100000 + i * 7919 % 1000));
  keys.push_back(keys[10]);  // a duplicate
  std::vector<std::string_view> samples(keys.begin(), keys.end());
  EXPECT_TRUE(bulk_import_internal::CutsOf(samples, 1).empty());
  EXPECT_TRUE(bulk_import_internal::CutsOf({samples.begin(), samples.begin() + 5}, 3).empty());
  for (size_t parts : {2, 3, 7}) {
    const std::vector<std::string> cuts = bulk_import_internal::CutsOf(samples, parts);
    ASSERT_EQ(cuts.size(), parts - 1);
    EXPECT_TRUE(std::is_sorted(cuts.begin(), cuts.end()));
    EXPECT_EQ(std::adjacent_find(cuts.begin(), cuts.end()), cuts.end());
    for (size_t part = 0; part < parts; ++part) {
      const size_t in_range = std::count_if(keys.begin(), keys.end(), [&](const std::string& k) {
        return (part == 0 || k >= cuts[part - 1]) && (part + 1 == parts || k < cuts[part]);
      });
      EXPECT_NEAR(static_cast<double>(in_range), keys.size() / static_cast<double>(parts), 2.0) << parts << " parts";
    }
  }
  // All the same key: one cut at most, never twice the same.
  std::vector<std::string_view> same(100, "claim");
  EXPECT_LE(bulk_import_internal::CutsOf(same, 4).size(), 1u);
}

}  // namespace
}  // namespace caseledger::eventstore
