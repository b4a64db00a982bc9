// verify, views part: live views equal to a from-scratch rebuild verify; an altered or a
// missing entry of the live views database is found and named.
#include "serving/live_views.h"

#include "replay/rules_log.h"
#include "replay/verify_views.h"

#include "projections/views_test_support.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

namespace caseledger::serving {
namespace {

using namespace caseledger::projections::testing;
using namespace caseledger::replay;

class VerifyViewsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = log_.Path("data");
    std::filesystem::create_directories(data_);
    ASSERT_TRUE(BootstrapRules(log_.store(), *Rules()));
    for (int i = 0; i < 30; ++i) {
      const std::string p = PersonId(i), swab = "SW-" + std::to_string(i);
      log_.Person(p, {{domain::PersonRegistered{p, domain::Sex::kFemale, i % 2 ? "001272" : "001156", {}}, At("2020-10-01", 9)},
                      {domain::SwabRequested{swab, domain::SwabKind::kMolecular, "symptoms", "GP0001", {}}, At("2020-10-02", 8)},
                      {domain::SwabCollected{swab, At("2020-10-02", 9), "drive-in", ""}, At("2020-10-02", 9)},
                      {domain::ResultRecorded{swab, i % 3 ? domain::Outcome::kNegative : domain::Outcome::kPositive,
                                              "LAB01", At("2020-10-03", 9)},
                       At("2020-10-02", 9)}});
    }
    // Live views built in small batches, as a server following the log builds them.
    LiveViewsOptions o;
    o.data_dir = data_;
    o.reference = Reference();
    o.max_batch = 7;
    auto live = LiveViews::Open(log_.store(), o);
    ASSERT_TRUE(live) << live.error().message;
    (*live)->Stop();
  }

  ViewsVerifyReport Verify() {
    auto r = VerifyViews(log_.store(), {data_, Reference(), "", {}});
    if (!r) throw std::runtime_error(r.error().message);
    return *r;
  }

  template <class F>
  void Tamper(F change) {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open({}, data_ + "/views", &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    change(*db);
  }

  TestLog log_;
  std::string data_;
};

TEST_F(VerifyViewsTest, LiveViewsEqualTheRebuild) {
  ViewsVerifyReport r = Verify();
  EXPECT_TRUE(r.ok()) << r.problem;
  EXPECT_EQ(r.checkpoint, log_.store().CommittedPosition());
  EXPECT_GT(r.entries_checked, 30u);
}

TEST_F(VerifyViewsTest, AnAlteredPersonRecordIsNamed) {
  const std::string key = "people/" + PersonId(4);
  Tamper([&](rocksdb::DB& db) {
    std::string v;
    ASSERT_TRUE(db.Get({}, key, &v).ok());
    v.back() ^= 1;
    ASSERT_TRUE(db.Put({}, key, v).ok());
  });
  ViewsVerifyReport r = Verify();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.first_bad_key, key) << r.problem;
}

TEST_F(VerifyViewsTest, AMissingViewEntryIsNamed) {
  std::string victim;
  Tamper([&](rocksdb::DB& db) {
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator({}));
    for (it->Seek("municipalities/"); it->Valid() && it->key().starts_with("municipalities/"); it->Next()) {
      victim = it->key().ToString();
      break;
    }
    ASSERT_FALSE(victim.empty());
    ASSERT_TRUE(db.Delete({}, victim).ok());
  });
  ViewsVerifyReport r = Verify();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.first_bad_key, victim) << r.problem;
  EXPECT_NE(r.problem.find("lack"), std::string::npos) << r.problem;
}

}  // namespace
}  // namespace caseledger::serving
