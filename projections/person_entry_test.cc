// The person entry ("people/<id>", person_entry.h): the directory's record and the GP view's
// patient status in one value, so that a record read back brings the patient's row with it.
#include "projections/person_entry.h"

#include "projections/gp_view.h"
#include "projections/views_test_support.h"

#include <gtest/gtest.h>

#include <map>

namespace caseledger::projections {
namespace {

using testing::At;
using testing::D;

// The GP view's stored entries (its patient rows, as written by the fold's Persist).
class MapEntries final : public StoredEntries {
 public:
  std::shared_ptr<const Pinned> Pin() const override { return nullptr; }
  std::map<std::string, std::string> rows;
};

class MapSink final : public PersistSink {
 public:
  explicit MapSink(std::map<std::string, std::string>& rows) : rows_(rows) {}
  void Put(std::string_view key, std::string_view value) override { rows_[std::string(key)] = value; }
  void Delete(std::string_view key) override { rows_.erase(std::string(key)); }

 private:
  std::map<std::string, std::string>& rows_;
};

const std::string kPerson = testing::PersonId(1);

// One GP view attached to its entries, with its one fold, and a directory: the sequential
// runner's fold of one person, written as the runner writes it.
struct Folder {
  std::shared_ptr<const domain::RuleBook> rules = testing::Rules();
  std::shared_ptr<MapEntries> entries = std::make_shared<MapEntries>();
  GpView view{rules};
  PersonFold* fold = nullptr;
  PersonDirectory directory{rules};
  uint64_t position = 0;

  Folder() {
    view.Attach(entries);
    fold = view.PersonFolds(1).at(0);
    directory.SetFolds(1);
  }
  // Applies one event of kPerson as a batch of its own; returns whether the fold changed it.
  bool Apply(domain::Event event, domain::Timestamp at) {
    domain::Envelope env;
    env.position = ++position;
    env.stream = domain::PersonStream(kPerson);
    env.type = std::string(domain::TypeName(event));
    env.effective_at = at;
    env.recorded_at = at;
    directory.BeginBatch();
    const LogEvent e{env, event, kPerson};
    const PersonRecord* before = directory.Find(kPerson);
    const std::span<FoldState> states = directory.FoldStates(kPerson);
    const bool changed = fold->Apply(e, before, before ? &states[0] : nullptr);
    directory.Apply(e);
    if (changed) directory.MarkFoldsChanged(kPerson, 1u);
    MapSink sink(entries->rows);
    std::vector<PersonDirectory::ToWrite> written;
    directory.TakeToWrite(kPerson, written);  // the entry to write: the fold's mark cleared
    fold->Persist(sink, directory, written, 0);
    return changed;
  }
  std::string Entry() {
    std::vector<PersonFold*> folds{fold};
    std::span<const FoldState> states;
    const PersonRecord* record = directory.Find(kPerson, states);
    return EncodePersonEntry(*record, states, folds);
  }
};

TEST(PersonEntryTest, APatientsStatusComesBackWithTheRecordWithoutReadingTheRow) {
  Folder a;
  a.Apply(domain::PersonRegistered{kPerson, domain::Sex::kFemale, "001272", {}}, At("2020-10-01", 9));
  EXPECT_TRUE(a.Apply(domain::GpAssigned{"MMG00001", ""}, At("2020-10-01", 10)));
  EXPECT_TRUE(a.Apply(domain::SwabRequested{"SW-1", domain::SwabKind::kMolecular, "contact", "MMG00001", {}},
                      At("2020-10-02", 8)));
  const std::string entry = a.Entry();
  ASSERT_EQ(a.entries->rows.count("MMG00001/p/" + kPerson), 1u);

  // Another runner, nothing cached: the entry is read back (as FetchPeople does) and the
  // rows are those `a` wrote; the fold goes on from the status the entry brought back.
  Folder b;
  b.entries->rows = a.entries->rows;
  b.position = a.position;
  b.directory.BeginBatch();
  std::vector<PersonFold*> folds{b.fold};
  ASSERT_TRUE(LoadPersonEntry(kPerson, entry, b.directory, folds));
  EXPECT_EQ(b.Entry(), entry);
  EXPECT_TRUE(b.Apply(domain::SwabCollected{"SW-1", At("2020-10-02", 9), "drive-in", ""}, At("2020-10-02", 9)));
  EXPECT_TRUE(b.Apply(domain::ResultRecorded{"SW-1", domain::Outcome::kPositive, "LAB01", At("2020-10-03", 11)},
                      At("2020-10-02", 9)));

  // The same events on `a`, which held the row all along: the same entry and rows.
  a.Apply(domain::SwabCollected{"SW-1", At("2020-10-02", 9), "drive-in", ""}, At("2020-10-02", 9));
  a.Apply(domain::ResultRecorded{"SW-1", domain::Outcome::kPositive, "LAB01", At("2020-10-03", 11)},
          At("2020-10-02", 9));
  EXPECT_EQ(b.Entry(), a.Entry());
  EXPECT_EQ(b.entries->rows, a.entries->rows);
}

// Issue #14: the patient's status lives in the person's directory entry, beside the record:
// forgotten with it (an eviction) and restored with it, never read from the row.
TEST(PersonEntryTest, AnEvictedPatientsStatusLeavesWithTheRecordAndComesBackWithTheEntry) {
  Folder a;
  a.Apply(domain::PersonRegistered{kPerson, domain::Sex::kFemale, "001272", {}}, At("2020-10-01", 9));
  a.Apply(domain::GpAssigned{"MMG00001", ""}, At("2020-10-01", 10));
  a.Apply(domain::QuarantineOrdered{7, D("2020-10-02"), "close_contact", "", std::nullopt}, At("2020-10-02", 0));
  const std::string entry = a.Entry();
  ASSERT_EQ(a.directory.FoldStates(kPerson).size(), 1u);
  EXPECT_NE(a.directory.FoldStates(kPerson)[0], nullptr) << "a quarantined patient is not idle";

  // Another person's batches push kPerson out of a one-record cache: the state goes too.
  const std::string other = testing::PersonId(2);
  for (int k = 0; k < 2; ++k) {
    a.directory.BeginBatch();
    domain::Envelope env;
    env.position = ++a.position;
    env.stream = domain::PersonStream(other);
    env.type = "PersonRegistered";
    const domain::Event registered = domain::PersonRegistered{other, domain::Sex::kMale, "001272", {}};
    a.directory.Apply(LogEvent{env, registered, other});
  }
  a.directory.Evict(1);
  ASSERT_EQ(a.directory.Find(kPerson), nullptr);
  EXPECT_TRUE(a.directory.FoldStates(kPerson).empty());

  // Read back: the status is the entry's, and the next events fold from it.
  a.directory.BeginBatch();
  std::vector<PersonFold*> folds{a.fold};
  ASSERT_TRUE(LoadPersonEntry(kPerson, entry, a.directory, folds));
  EXPECT_EQ(a.Entry(), entry);
  EXPECT_TRUE(a.Apply(domain::MeasureEnded{7, D("2020-10-12"), domain::MeasureEndReason::kElapsed}, At("2020-10-12", 0)));
  EXPECT_EQ(a.directory.FoldStates(kPerson)[0], nullptr) << "idle again";
}

TEST(PersonEntryTest, APersonWithoutGpHasAnEmptyPartAndTheRecordDecodesAlone) {
  Folder a;
  a.Apply(domain::PersonRegistered{kPerson, domain::Sex::kMale, "001272", {}}, At("2020-10-01", 9));
  const std::string entry = a.Entry();
  std::string_view record, parts[1];
  ASSERT_TRUE(SplitPersonEntry(entry, record, parts));
  EXPECT_TRUE(parts[0].empty());
  EXPECT_EQ(record, PersonDirectory::Encode(*a.directory.Find(kPerson)));
  PersonRecord back;
  ASSERT_TRUE(DecodePersonRecord(entry, 1, back));
  EXPECT_EQ(back.residence_istat, "001272");
}

TEST(PersonEntryTest, AnEntryThatDoesNotSplitOrDecodeIsRefused) {
  Folder a;
  a.Apply(domain::PersonRegistered{kPerson, domain::Sex::kMale, "001272", {}}, At("2020-10-01", 9));
  a.Apply(domain::GpAssigned{"MMG00001", ""}, At("2020-10-01", 10));
  a.Apply(domain::QuarantineOrdered{7, D("2020-10-02"), "close_contact", "", std::nullopt}, At("2020-10-02", 0));
  const std::string entry = a.Entry();
  auto loads = [](std::string_view bytes) {
    Folder b;
    std::vector<PersonFold*> folds{b.fold};
    return LoadPersonEntry(kPerson, bytes, b.directory, folds);
  };
  ASSERT_TRUE(loads(entry));
  EXPECT_FALSE(loads(""));
  EXPECT_FALSE(loads(entry.substr(0, entry.size() - 1)));
  EXPECT_FALSE(loads(entry + "x"));
  EXPECT_FALSE(loads("\x02" + entry.substr(1)));  // format 5's record alone
  std::string bad_part = entry;
  bad_part.back() ^= 0x55;  // the status's last byte (a rule set's id)
  std::string_view record, parts[1];
  ASSERT_TRUE(SplitPersonEntry(bad_part, record, parts));
  PersonRecord r;
  EXPECT_TRUE(DecodePersonRecord(bad_part, 1, r)) << "the record alone still decodes";
  std::string two_parts = entry + std::string(1, '\0');
  EXPECT_FALSE(loads(two_parts));
  std::string_view more[2];
  EXPECT_TRUE(SplitPersonEntry(two_parts, record, more));
}

}  // namespace
}  // namespace caseledger::projections
