// Crypto-shredding in the store: personal parts sealed per stream, opened on stream reads,
// left sealed by log scans, erased for good with the key, and blind personal claims.
#include "eventstore/event_store.h"
#include "eventstore/personal_vault.h"
#include "eventstore/record_format.h"
#include "tests/support/forked_child.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <map>
#include <mutex>
#include <set>

namespace caseledger::eventstore {
namespace {

using domain::PersonalForm;

// Every byte of every file under `dir`.
bool AnyFileContains(const std::string& dir, std::string_view needle) {
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.find(needle) != std::string::npos) return true;
  }
  return false;
}

class PersonalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen(std::string key_path = "") {
    store_.reset();
    StoreOptions o;
    o.path = dir_.Sub("db");
    o.master_key_path = key_path.empty() ? dir_.Sub("master.key") : key_path;
    auto s = EventStore::Open(o);
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }
  StoreResult<AppendResult> Append(const std::string& stream, std::string personal,
                                   std::vector<std::string> claims = {}) {
    AppendRequest r;
    r.stream = stream;
    r.events.push_back({"PersonRegistered", 1, "public-body", std::move(personal), {}});
    r.claims = std::move(claims);
    return store_->Append(r);
  }
  StoreResult<AppendResult> Erase(const std::string& stream, std::vector<std::string> released = {}) {
    AppendRequest r;
    r.stream = stream;
    r.events.push_back({"PersonalDataErased", 1, "reason", "", {}});
    r.released_claims = std::move(released);
    r.erase_personal_data = true;
    return store_->Append(r);
  }
  testing::TempDir dir_;
  std::unique_ptr<EventStore> store_;
};

// A stream registered and erased in one group: its key seed and the erasure's tombstone
// are index entries of that group, both under the stream's version 0, put into the batch in
// key order when the group is written (AddKeyedWrites): writes of one key in the order they
// were prepared, the tombstone last. Pairs are sent without waiting, so that pairs share a
// group (the answer hooks tell the groups apart); every stream must read as erased, also
// after a reopen.
TEST_F(PersonalStoreTest, AStreamRegisteredAndErasedInOneGroupStaysErased) {
  std::mutex mu;
  std::condition_variable cv;
  int group = 0, answered = 0;
  std::map<std::string, std::vector<int>> groups_of;  // stream -> the groups that answered it
  store_->AddAnswerHooks({[&] {
                            std::lock_guard l(mu);
                            ++group;
                          },
                          {}});
  constexpr int kPairs = 20;
  for (int i = 0; i < kPairs; ++i) {
    const std::string stream = "person-" + std::to_string(i);
    AppendRequest registered;
    registered.stream = stream;
    registered.events.push_back({"PersonRegistered", 1, "public-body", "Name " + std::to_string(i), {}});
    AppendRequest erased;
    erased.stream = stream;
    erased.events.push_back({"PersonalDataErased", 1, "reason", "", {}});
    erased.erase_personal_data = true;
    for (AppendRequest* r : {&registered, &erased}) {
      store_->AppendAsync(std::move(*r), [&, stream](StoreResult<AppendResult> res) {
        std::lock_guard l(mu);
        EXPECT_TRUE(res) << stream << ": " << res.error().message;
        groups_of[stream].push_back(group);
        ++answered;
        cv.notify_all();
      });
    }
  }
  {
    std::unique_lock l(mu);
    ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(120), [&] { return answered == 2 * kPairs; }));
  }
  int shared = 0;
  for (const auto& [stream, groups] : groups_of) shared += groups.size() == 2 && groups[0] == groups[1];
  EXPECT_GT(shared, 0) << "no registration shared a group with its erasure";
  for (int pass = 0; pass < 2; ++pass) {
    for (int i = 0; i < kPairs; ++i) {
      auto read = store_->ReadStream("person-" + std::to_string(i), 1, 10);
      ASSERT_TRUE(read);
      ASSERT_EQ(read->size(), 2u);
      EXPECT_EQ((*read)[0].personal_form, PersonalForm::kErased) << "person-" << i << ", pass " << pass;
      EXPECT_EQ((*read)[0].personal, "");
    }
    Reopen();
  }
}

TEST(PersonalVaultTest, SealedPartsOpenOnlyForTheirStreamVersionAndKey) {
  DataKey key = PersonalVault::NewDataKey();
  std::string sealed = PersonalVault::Seal(key, "person-a", 3, "Rossi Mario");
  EXPECT_EQ(sealed.size(), std::string("Rossi Mario").size() + kSealOverhead);
  EXPECT_EQ(sealed.find("Rossi"), std::string::npos);
  EXPECT_EQ(PersonalVault::Open(key, "person-a", 3, sealed), "Rossi Mario");
  EXPECT_FALSE(PersonalVault::Open(key, "person-b", 3, sealed));
  EXPECT_FALSE(PersonalVault::Open(key, "person-a", 4, sealed));
  EXPECT_FALSE(PersonalVault::Open(PersonalVault::NewDataKey(), "person-a", 3, sealed));
  sealed[30] ^= 1;
  EXPECT_FALSE(PersonalVault::Open(key, "person-a", 3, sealed));
  // A fresh nonce every time: the same plaintext never seals to the same bytes.
  EXPECT_NE(PersonalVault::Seal(key, "person-a", 3, "x"), PersonalVault::Seal(key, "person-a", 3, "x"));
}

// Nonces and key seeds come from a per-thread pool of random bytes: never handed out twice,
// across refills of the pool, and a forked child does not reuse the parent's next bytes.
TEST(PersonalVaultTest, NoncesAndSeedsAreNeverReusedAcrossPoolRefillsAndForks) {
  DataKey key = PersonalVault::NewDataKey();
  PersonalVault vault(std::string(32, 'm'));
  std::set<std::string> nonces, seeds;
  for (int i = 0; i < 3000; ++i) {  // ~6 refills of 4 KiB at 8 + 16 bytes a round
    nonces.insert(PersonalVault::Seal(key, "person-a", 1, "x").substr(1, 8));
    seeds.insert(vault.NewStreamKey("person-a").stored);
  }
  EXPECT_EQ(nonces.size(), 3000u);
  EXPECT_EQ(seeds.size(), 3000u);
  const auto child = testing::MadeInForkedChild([&] { return PersonalVault::Seal(key, "person-a", 1, "x").substr(1, 8); });
  ASSERT_TRUE(child.has_value());
  ASSERT_EQ(child->size(), 8u);
  EXPECT_NE(*child, PersonalVault::Seal(key, "person-a", 1, "x").substr(1, 8));
  EXPECT_EQ(nonces.count(*child), 0u);
}

// SealTo appends what Seal returns (same layout, same length) after what `out` holds, for
// stream names short and long (the associated data is built on the stack or not).
TEST(PersonalVaultTest, SealToAppendsASealedPartThatOpensAsSealsDoes) {
  DataKey key = PersonalVault::NewDataKey();
  for (const std::string& stream : {std::string("person-a"), std::string("person-01HZY8Q6W3V9K2M4N5P7R8S9T0"), std::string(300, 's')}) {
    std::string out = "prefix";
    PersonalVault::SealTo(out, key, stream, 7, "Rossi Mario");
    ASSERT_EQ(out.size(), 6 + std::string("Rossi Mario").size() + kSealOverhead);
    EXPECT_EQ(out.substr(0, 6), "prefix");
    const std::string sealed = out.substr(6);
    EXPECT_EQ(sealed[0], PersonalVault::Seal(key, stream, 7, "Rossi Mario")[0]);
    EXPECT_EQ(PersonalVault::Open(key, stream, 7, sealed), "Rossi Mario");
    EXPECT_FALSE(PersonalVault::Open(key, stream, 8, sealed));
    EXPECT_FALSE(PersonalVault::Open(key, stream + "x", 7, sealed));
  }
}

// The bulk import's encoder (the parts of an append, no Envelope) writes EncodeRecordBody's
// bytes, anchors and not, with and without a personal part.
TEST(RecordFormatTest, RecordPartsEncodeAsTheEnvelopeDoes) {
  for (uint64_t position : {1u, 15u, 16u, 17u, 32u}) {
    for (const std::string& personal : {std::string(), std::string("sealed-bytes"), std::string(200, 'p')}) {
      domain::Envelope e;
      e.position = position;
      e.stream = "person-01HZY8Q6W3V9K2M4N5P7R8S9T0";
      e.version = position * 3;
      e.type = "PersonRegistered";
      e.schema_version = 2;
      e.recorded_at = domain::Timestamp{1'600'000'000'000'000 + static_cast<int64_t>(position)};
      e.effective_at = domain::Timestamp{1'599'000'000'000'000};
      e.actor = {"import", "operator"};
      e.correlation_id = "corr";
      e.causation_id = "cause";
      e.idempotency_key = position % 2 ? "" : "idem";
      e.body = std::string(90, 'b');
      e.personal = personal;
      std::string out;
      format::AppendRecordBodyUpToPersonal(out, {e.position, e.stream, e.version, e.type, e.schema_version,
                                                 e.recorded_at, e.effective_at, e.actor.id, e.actor.role,
                                                 e.correlation_id, e.causation_id, e.idempotency_key, e.body});
      format::AppendRecordLength(out, personal.size());
      out += personal;
      EXPECT_EQ(out, format::EncodeRecordBody(e)) << position << " " << personal.size();
      // In place, the stored value is EncodeValue's.
      domain::Hash h{};
      for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<uint8_t>(i * 7 + position);
      const std::string value = format::EncodeValue(out, h);
      format::AppendTrailer(out, h);
      EXPECT_EQ(out, value);
    }
  }
}

TEST(PersonalVaultTest, KeySeedsGiveTheKeyOnlyForTheirStreamUnderTheirMasterKey) {
  PersonalVault a(std::string(32, 'a')), b(std::string(32, 'b'));
  PersonalVault::NewKey fresh = a.NewStreamKey("person-1");
  ASSERT_EQ(fresh.stored.size(), 17u);
  EXPECT_EQ(a.Unwrap("person-1", fresh.stored), fresh.key);
  // A seed moved to another stream, or read under another master key, gives another key,
  // which opens none of the stream's sealed parts.
  const std::string sealed = PersonalVault::Seal(fresh.key, "person-1", 1, "Rossi Mario");
  for (auto other : {a.Unwrap("person-2", fresh.stored), b.Unwrap("person-1", fresh.stored)}) {
    ASSERT_TRUE(other);
    EXPECT_NE(*other, fresh.key);
    EXPECT_FALSE(PersonalVault::Open(*other, "person-1", 1, sealed));
  }
  EXPECT_NE(a.NewStreamKey("person-1").key, fresh.key) << "every new key has its own seed";
}

TEST(PersonalVaultTest, WrappedKeysAndBlindClaimsDependOnTheMasterKey) {
  PersonalVault a(std::string(32, 'a')), b(std::string(32, 'b'));
  DataKey key = PersonalVault::NewDataKey();
  std::string wrapped = a.Wrap("person-1", key);
  EXPECT_EQ(a.Unwrap("person-1", wrapped), key);
  EXPECT_FALSE(a.Unwrap("person-2", wrapped));
  EXPECT_FALSE(b.Unwrap("person-1", wrapped));
  const std::string claim = "taxcode/RSSMRA85T10L219G";
  EXPECT_EQ(a.BlindClaim(claim), a.BlindClaim(claim));
  EXPECT_NE(a.BlindClaim(claim), b.BlindClaim(claim));
  EXPECT_TRUE(a.BlindClaim(claim).starts_with("taxcode/"));
  EXPECT_EQ(a.BlindClaim(claim).find("RSSMRA"), std::string::npos);
  EXPECT_EQ(a.BlindClaim("swab/AB12"), "swab/AB12");
  EXPECT_NE(a.CheckValue(), b.CheckValue());
}

TEST_F(PersonalStoreTest, StreamReadsOpenPersonalPartsAndLogScansLeaveThemSealed) {
  ASSERT_TRUE(Append("person-1", "Zanzottera Ermenegilda"));
  auto stream = store_->ReadStream("person-1", 1, 10);
  ASSERT_TRUE(stream);
  ASSERT_EQ(stream->size(), 1u);
  EXPECT_EQ((*stream)[0].personal, "Zanzottera Ermenegilda");
  EXPECT_EQ((*stream)[0].personal_form, PersonalForm::kOpen);
  auto log = store_->ReadLog(1, 10);
  ASSERT_TRUE(log);
  EXPECT_EQ((*log)[0].personal, "");
  EXPECT_EQ((*log)[0].personal_form, PersonalForm::kSealed);
  EXPECT_EQ((*log)[0].hash, (*stream)[0].hash);
  // Reopened (keys from disk, not the cache) it still opens.
  Reopen();
  EXPECT_EQ(store_->ReadStream("person-1", 1, 10).value()[0].personal, "Zanzottera Ermenegilda");
  ASSERT_TRUE(store_->CompactAll());
  EXPECT_FALSE(AnyFileContains(dir_.path(), "Zanzottera"));
}

TEST_F(PersonalStoreTest, PersonalClaimsAreStoredBlindAndFoundByTheirValue) {
  ASSERT_TRUE(Append("person-1", "p", {"taxcode/ZNZRMN50A41L219X", "swab/S1"}));
  EXPECT_EQ(store_->ClaimOwner("taxcode/ZNZRMN50A41L219X").value(), "person-1");
  EXPECT_EQ(store_->ClaimOwner("swab/S1").value(), "person-1");
  EXPECT_FALSE(store_->ClaimOwner("taxcode/ZNZRMN50A41L219Y").value());
  auto taken = Append("person-2", "q", {"taxcode/ZNZRMN50A41L219X"});
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code, StoreErrorCode::kClaimTaken);
  EXPECT_EQ(taken.error().claim.find("ZNZRMN"), std::string::npos);
  ASSERT_TRUE(store_->CompactAll());
  EXPECT_FALSE(AnyFileContains(dir_.path(), "ZNZRMN50A41L219X"));
}

// A registration reads its tax code's claim while deciding (api/tax_code_claims.h) and hands
// that read to the append (AppendRequest::claim_reads), which neither blinds nor reads it
// again. Two registrations that both read the tax code free before either was appended:
// the second is still refused, whether the first is in a group not yet synced or already in
// the database.
TEST_F(PersonalStoreTest, ATaxCodeReadFreeByTwoRegistrationsIsTakenByOne) {
  const std::string tc = "taxcode/ZNZRMN50A41L219X";
  auto registration = [&](const std::string& stream) {
    AppendRequest r;
    r.stream = stream;
    r.expected = ExpectedVersion::NoStream();
    r.events.push_back({"PersonRegistered", 1, "public-body", "p", {}});
    r.claims = {tc};
    auto read = store_->ReadClaim(tc);
    EXPECT_TRUE(read) << read.error().message;
    if (read) {
      EXPECT_FALSE(read->owner.has_value());
      EXPECT_EQ(read->stored.find("ZNZRMN"), std::string::npos);  // blinded
      r.claim_reads.push_back(*read);
    }
    return r;
  };
  AppendRequest a = registration("person-a"), b = registration("person-b"), late = registration("person-c");
  std::promise<StoreResult<AppendResult>> done_a, done_b;
  auto future_a = done_a.get_future(), future_b = done_b.get_future();
  store_->AppendAsync(a, [&](StoreResult<AppendResult> r) { done_a.set_value(std::move(r)); });
  store_->AppendAsync(b, [&](StoreResult<AppendResult> r) { done_b.set_value(std::move(r)); });
  auto ra = future_a.get(), rb = future_b.get();
  ASSERT_TRUE(ra) << ra.error().message;
  ASSERT_FALSE(rb);
  EXPECT_EQ(rb.error().code, StoreErrorCode::kClaimTaken);
  EXPECT_EQ(rb.error().claim_owner, "person-a");
  // A read taken before person-a's group reached the database: read again, refused.
  auto rc = store_->Append(late);
  ASSERT_FALSE(rc);
  EXPECT_EQ(rc.error().code, StoreErrorCode::kClaimTaken);
  EXPECT_EQ(rc.error().claim_owner, "person-a");
  // Stored blind, under the read's stored form.
  EXPECT_EQ(store_->ClaimOwner(tc).value(), "person-a");
  Reopen();
  EXPECT_EQ(store_->ClaimOwner(tc).value(), "person-a");
}

// A read that found the tax code held, then the holder's erasure released it: the append
// carrying that read is not refused by it (claims were written since: read again).
TEST_F(PersonalStoreTest, AReadOfATaxCodeSinceReleasedDoesNotRefuse) {
  const std::string tc = "taxcode/ZNZRMN50A41L219X";
  ASSERT_TRUE(Append("person-1", "p", {tc}));
  auto read = store_->ReadClaim(tc);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->owner, "person-1");
  ASSERT_TRUE(Erase("person-1", {tc}));
  AppendRequest r;
  r.stream = "person-2";
  r.events.push_back({"PersonRegistered", 1, "public-body", "q", {}});
  r.claims = {tc};
  r.claim_reads = {*read};
  auto appended = store_->Append(r);
  ASSERT_TRUE(appended) << appended.error().message;
  EXPECT_EQ(store_->ClaimOwner(tc).value(), "person-2");
}

// What the reuse is: while no claim was written, the store takes the read's answer instead
// of reading the claim again (shown here with an answer the database does not hold); once
// any claim is written, it reads again.
TEST_F(PersonalStoreTest, AClaimReadStandsOnlyUntilClaimsAreWritten) {
  const std::string tc = "taxcode/ZNZRMN50A41L219X";
  auto read = store_->ReadClaim(tc);
  ASSERT_TRUE(read);
  ASSERT_FALSE(read->owner);
  read->owner = "person-9";
  AppendRequest r;
  r.stream = "person-2";
  r.events.push_back({"PersonRegistered", 1, "public-body", "q", {}});
  r.claims = {tc};
  r.claim_reads = {*read};
  auto refused = store_->Append(r);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().claim_owner, "person-9");
  ASSERT_TRUE(Append("person-1", "p"));  // no claim: the read still stands
  refused = store_->Append(r);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().claim_owner, "person-9");
  ASSERT_TRUE(Append("person-3", "p", {"swab/S1"}));  // a claim written: read again
  auto appended = store_->Append(r);
  ASSERT_TRUE(appended) << appended.error().message;
  EXPECT_EQ(store_->ClaimOwner(tc).value(), "person-2");
}

TEST_F(PersonalStoreTest, ErasureDestroysTheKeyKeepsTheChainAndReleasesTheClaim) {
  ASSERT_TRUE(Append("person-1", "Zanzottera Ermenegilda", {"taxcode/ZNZRMN50A41L219X"}));
  ASSERT_TRUE(Append("person-2", "Other Person"));
  // The key's seed as it sits beside the stream's index entries, to look for it in the
  // files later.
  std::string wrapped;
  {
    store_.reset();
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies({}, dir_.Sub("db"), &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const auto& n : names) families.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::OpenForReadOnly({}, dir_.Sub("db"), families, &handles, &raw).ok());
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == format::kStreams) {
        ASSERT_TRUE(raw->Get({}, handles[i], format::KeySeedKey("person-1"), &wrapped).ok());
      }
    }
    for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
    delete raw;
    Reopen();
  }
  ASSERT_EQ(wrapped.size(), 1u + 16);  // format 3: version byte, 16-byte seed
  ASSERT_TRUE(store_->ReadStream("person-1", 1, 10));  // caches the key

  ASSERT_TRUE(Erase("person-1", {"taxcode/ZNZRMN50A41L219X"}));
  auto stream = store_->ReadStream("person-1", 1, 10).value();
  ASSERT_EQ(stream.size(), 2u);
  EXPECT_EQ(stream[0].personal, "");
  EXPECT_EQ(stream[0].personal_form, PersonalForm::kErased);
  EXPECT_EQ(stream[1].personal_form, PersonalForm::kOpen);  // the erasure event itself has none
  EXPECT_EQ(store_->ReadStream("person-2", 1, 10).value()[0].personal, "Other Person");
  EXPECT_FALSE(store_->ClaimOwner("taxcode/ZNZRMN50A41L219X").value());
  // The log is untouched: the chain over the sealed bytes still verifies.
  VerifyOptions vo;
  vo.path = dir_.Sub("db");
  auto report = VerifyStore(vo);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->first_bad_position, 0u) << report->problem;
  EXPECT_EQ(report->events_checked, 3u);
  // No more personal data for that stream; the tax code is free for someone else.
  auto again = Append("person-1", "Zanzottera Ermenegilda");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, StoreErrorCode::kInvalidArgument);
  EXPECT_TRUE(Append("person-3", "New Person", {"taxcode/ZNZRMN50A41L219X"}));
  // The erasure compacted the key away: not in any file (SST, WAL, manifest).
  EXPECT_FALSE(AnyFileContains(dir_.Sub("db"), wrapped));
  Reopen();
  EXPECT_EQ(store_->ReadStream("person-1", 1, 10).value()[0].personal_form, PersonalForm::kErased);
}

TEST_F(PersonalStoreTest, OpenRefusesAnotherMasterKeyAndNeverRecreatesALostOne) {
  ASSERT_TRUE(Append("person-1", "p"));
  struct stat st {};
  ASSERT_EQ(::stat(dir_.Sub("master.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  store_.reset();
  {
    std::ofstream other(dir_.Sub("other.key"), std::ios::binary);
    other << std::string(32, 'k');
  }
  StoreOptions o;
  o.path = dir_.Sub("db");
  o.master_key_path = dir_.Sub("other.key");
  auto wrong = EventStore::Open(o);
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("not the key of this store"), std::string::npos);
  o.master_key_path = dir_.Sub("missing.key");
  ASSERT_FALSE(EventStore::Open(o));
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("missing.key")));
}

TEST_F(PersonalStoreTest, WithoutTheMasterKeyPersonalPartsStaySealedAndCannotBeAppended) {
  ASSERT_TRUE(Append("person-1", "Zanzottera"));
  store_.reset();
  StoreOptions o;
  o.path = dir_.Sub("db");
  auto s = EventStore::Open(o);
  ASSERT_TRUE(s) << s.error().message;
  auto stream = (*s)->ReadStream("person-1", 1, 10).value();
  EXPECT_EQ(stream[0].personal, "");
  EXPECT_EQ(stream[0].personal_form, PersonalForm::kSealed);
  AppendRequest r;
  r.stream = "person-2";
  r.events.push_back({"PersonRegistered", 1, "b", "personal", {}});
  auto refused = (*s)->Append(r);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, StoreErrorCode::kInvalidArgument);
  r.events[0].personal.clear();
  EXPECT_TRUE((*s)->Append(r));
}

// Idempotency digests are kept with their key for good; a body may hold a tax code, so a
// plain hash would let anyone holding the files test guesses of it after the erasure.
TEST_F(PersonalStoreTest, RequestDigestsAreKeyedAndUnkeyedOnesStillMatch) {
  constexpr char kSha256OfAbc[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  const std::string keyed = store_->RequestDigest("abc");
  EXPECT_TRUE(keyed.starts_with(kRequestDigestPrefix)) << keyed;
  EXPECT_EQ(keyed.size(), kRequestDigestPrefix.size() + 64);
  EXPECT_EQ(keyed.find(kSha256OfAbc), std::string::npos);
  EXPECT_TRUE(store_->RequestDigestMatches(keyed, "abc"));
  EXPECT_FALSE(store_->RequestDigestMatches(keyed, "abd"));
  // A digest recorded before keyed digests existed still matches its request, only it.
  EXPECT_TRUE(store_->RequestDigestMatches(kSha256OfAbc, "abc"));
  EXPECT_FALSE(store_->RequestDigestMatches(kSha256OfAbc, "abd"));
  EXPECT_FALSE(store_->RequestDigestMatches("k1:" + std::string(kSha256OfAbc), "abc"));

  // The key comes from the master key: the same after a restart, another for another key.
  Reopen();
  EXPECT_EQ(store_->RequestDigest("abc"), keyed);
  PersonalVault other(std::string(32, 'o'));
  EXPECT_NE(other.RequestDigest("abc"), keyed);
  EXPECT_TRUE(other.RequestDigest("abc").starts_with(kRequestDigestPrefix));

  // Without the master key (no personal data can be appended): the unkeyed form, and a
  // keyed digest cannot be checked, so it matches nothing.
  store_.reset();
  StoreOptions o;
  o.path = dir_.Sub("db");
  auto bare = EventStore::Open(o);
  ASSERT_TRUE(bare) << bare.error().message;
  EXPECT_EQ((*bare)->RequestDigest("abc"), kSha256OfAbc);
  EXPECT_FALSE((*bare)->RequestDigestMatches(keyed, "abc"));
  EXPECT_TRUE((*bare)->RequestDigestMatches(kSha256OfAbc, "abc"));
}

// An append's personal parts are sealed before the write lock for the version and key its
// expected version implies (PreSeal), and used only if the stream is found so. Here each
// guess is stale: appended without waiting, each request's guess is made while the one
// before it is not yet in the database. "person-k" had no key when its second request
// guessed (it got a key from the first, unsynced); "person-e" was being erased; "person-n"
// was registered twice. Every part must open with the stream's one key, also once reopened
// (the key from disk), and the stale guesses must be refused as their stream requires.
TEST_F(PersonalStoreTest, PartsSealedBeforeTheLockForAStaleKeyOrVersionAreSealedAgainOrRefused) {
  auto request = [](std::string stream, ExpectedVersion expected, std::string personal,
                    bool erase = false) {
    AppendRequest r;
    r.stream = std::move(stream);
    r.expected = expected;
    r.events.push_back(
        {erase ? "PersonalDataErased" : "ContactsChanged", 1, "body", std::move(personal), {}});
    r.erase_personal_data = erase;
    return r;
  };
  ASSERT_TRUE(store_->Append(request("person-k", ExpectedVersion::Exactly(0), "")));  // no key yet
  ASSERT_TRUE(Append("person-e", "Erminia"));
  std::vector<std::future<StoreResult<AppendResult>>> answers;
  auto send = [&](AppendRequest r) {
    auto promise = std::make_shared<std::promise<StoreResult<AppendResult>>>();
    answers.push_back(promise->get_future());
    store_->AppendAsync(
        std::move(r), [promise](StoreResult<AppendResult> a) { promise->set_value(std::move(a)); });
  };
  send(request("person-k", ExpectedVersion::Exactly(1), "first part"));  // a new key
  send(request("person-k", ExpectedVersion::Exactly(2),
               "second part"));  // guessed none: sealed again
  send(request("person-k", ExpectedVersion::Exactly(7), "wrong version"));
  send(request("person-e", ExpectedVersion::Exactly(1), "", true));
  send(request("person-e", ExpectedVersion::Exactly(2),
               "after the erasure"));  // guessed the old key
  send(request("person-n", ExpectedVersion::NoStream(), "Nives"));
  send(request("person-n", ExpectedVersion::NoStream(), "Nives again"));
  std::vector<StoreResult<AppendResult>> got;
  for (auto& f : answers) got.push_back(f.get());
  EXPECT_TRUE(got[0]) << got[0].error().message;
  EXPECT_TRUE(got[1]) << got[1].error().message;
  ASSERT_FALSE(got[2]);
  EXPECT_EQ(got[2].error().code, StoreErrorCode::kWrongExpectedVersion);
  EXPECT_TRUE(got[3]) << got[3].error().message;
  ASSERT_FALSE(got[4]);
  EXPECT_EQ(got[4].error().code, StoreErrorCode::kInvalidArgument);
  EXPECT_TRUE(got[5]) << got[5].error().message;
  ASSERT_FALSE(got[6]);
  EXPECT_EQ(got[6].error().code, StoreErrorCode::kWrongExpectedVersion);
  for (int pass = 0; pass < 2; ++pass) {
    auto k = store_->ReadStream("person-k", 1, 10);
    ASSERT_TRUE(k) << k.error().message;
    ASSERT_EQ(k->size(), 3u);
    EXPECT_EQ((*k)[1].personal, "first part");
    EXPECT_EQ((*k)[1].personal_form, PersonalForm::kOpen);
    EXPECT_EQ((*k)[2].personal, "second part");
    EXPECT_EQ((*k)[2].personal_form, PersonalForm::kOpen);
    auto n = store_->ReadStream("person-n", 1, 10);
    ASSERT_TRUE(n) << n.error().message;
    ASSERT_EQ(n->size(), 1u);
    EXPECT_EQ((*n)[0].personal, "Nives");
    auto e = store_->ReadStream("person-e", 1, 10);
    ASSERT_TRUE(e) << e.error().message;
    ASSERT_EQ(e->size(), 2u);
    EXPECT_EQ((*e)[0].personal_form, PersonalForm::kErased);
    Reopen();
  }
}

}  // namespace
}  // namespace caseledger::eventstore
