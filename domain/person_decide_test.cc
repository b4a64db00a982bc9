// Decide for a person's registry data: registration, residence, GP, school, erasure, and the
// rule that every other command needs a registered person. Clinical commands are in
// person_clinical_test.cc.
#include <gtest/gtest.h>

#include "domain/decide_test_support.h"

#include <functional>

#include "domain/person.h"
#include "domain/tax_code.h"

namespace caseledger::domain {
namespace {

using enum ErrorCode;
using enum Outcome;
using enum CaseOutcome;
using enum MeasureEndReason;

const std::string kPersonId = "01HF8Z3K4M5N6P7Q8R9S0T1V2W";
const std::string kContactId = "01HF8Z3K4M5N6P7Q8R9S0T1V2X";

Timestamp Now() { return *Timestamp::Parse("2020-11-15T10:00:00Z"); }
Timestamp At(std::string_view rfc3339) { return *Timestamp::Parse(rfc3339); }
Date Nov(unsigned day) { return Date::FromYmd(2020, 11, day); }

// Torino (ASL "TO") and Moncalieri (ASL "TO5").
const ReferenceData& Reference() {
  static const std::shared_ptr<const ReferenceData> ref =
      ReferenceData::Parse(
          "istat_code,name,province_code,province_abbr,province_name,region_code,region_name,"
          "cadastral_code,population\n"
          "001272,Torino,001,TO,Torino,01,Piemonte,L219,872367\n"
          "001156,Moncalieri,001,TO,Torino,01,Piemonte,F335,57234\n",
          "istat_code,asl_code,asl_name\n"
          "001272,TO,ASL Città di Torino\n"
          "001156,TO5,ASL TO5\n")
          .value();
  return *ref;
}

DecideContext Ctx(const std::string& new_id = kPersonId) { return {Now(), &Reference(), new_id}; }

RegisterPerson Mario() {
  RegisterPerson c;
  c.family_name = "Rossi";
  c.given_names = "Mario";
  c.birth_date = Date::FromYmd(1985, 12, 10);
  c.sex = Sex::kMale;
  c.residence_istat = "001272";
  c.address = "Via Roma 1";
  c.phone = "+39 011 1234567";
  c.tax_code = ComposeTaxCode("Rossi", "Mario", c.birth_date, 'M', "L219");
  return c;
}

// Decides `c`, which must be accepted, and applies its events as the store would.
Decision Apply(PersonState& s, const PersonCommand& c, const DecideContext& ctx = Ctx()) {
  auto r = Decide(s, c, ctx);
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  if (!r) return {};
  for (const Decided& d : r->events) Evolve(s, d.event);
  return *r;
}

PersonState Registered() {
  PersonState s;
  Apply(s, Mario());
  return s;
}


// Decide rejects `c` against `s` with `code` (and an error for `field`, when given).
testing::AssertionResult Rejects(const PersonState& s, const PersonCommand& c, ErrorCode code,
                                 std::string_view field = {}) {
  return Rejected(Decide(s, c, Ctx()), code, field);
}

template <class E>
const E& Single(const Decision& d) {
  EXPECT_EQ(d.events.size(), 1u);
  return std::get<E>(d.events.at(0).event);
}

// ---- RegisterPerson ----

TEST(PersonDecideRegisterTest, ValidRegistrationProducesPersonRegisteredAndClaimsTheTaxCode) {
  RegisterPerson c = Mario();
  const std::string code = c.tax_code;
  c.tax_code = " " + std::string(code).replace(0, 3, "rss") + " ";  // normalised on the way in
  auto r = Decide(PersonState{}, c, Ctx());
  ASSERT_TRUE(r) << r.error().message;
  const auto& e = Single<PersonRegistered>(*r);
  EXPECT_EQ(e.person_id, kPersonId);
  EXPECT_EQ(e.sex, Sex::kMale);
  EXPECT_EQ(e.residence_istat, "001272");
  EXPECT_EQ(e.personal,
            (Personal{"Rossi", "Mario", code, "1985-12-10", "Via Roma 1", "+390111234567"}));
  EXPECT_EQ(r->events[0].effective_at, Now());
  EXPECT_EQ(r->claims, std::vector<std::string>{"taxcode/" + code});
}

TEST(PersonDecideRegisterTest, ForeignResidentWithoutTaxCodeRegistersWithoutClaims) {
  RegisterPerson c = Mario();
  c.tax_code.clear();
  c.phone.clear();
  auto r = Decide(PersonState{}, c, Ctx());
  ASSERT_TRUE(r) << r.error().message;
  const auto& e = Single<PersonRegistered>(*r);
  EXPECT_EQ(e.personal.tax_code, "");
  EXPECT_EQ(e.personal.phone, "");
  EXPECT_TRUE(r->claims.empty());
}

TEST(PersonDecideRegisterTest, RegisteringTwiceIsAConflict) {
  EXPECT_TRUE(Rejects(Registered(), Mario(), kConflict));
}

TEST(PersonDecideRegisterTest, InvalidInputIsRejectedNamingTheField) {
  struct Case {
    const char* name;
    std::function<void(RegisterPerson&)> change;
    const char* field;
  };
  const Case cases[] = {
      {"empty family name", [](RegisterPerson& c) { c.family_name = "  "; }, "family_name"},
      {"empty given names", [](RegisterPerson& c) { c.given_names.clear(); }, "given_names"},
      {"future birth date",
       [](RegisterPerson& c) {
         c.tax_code.clear();
         c.birth_date = Nov(16);
       },
       "birth_date"},
      {"birth before 1890",
       [](RegisterPerson& c) {
         c.tax_code.clear();
         c.birth_date = Date::FromYmd(1889, 12, 31);
       },
       "birth_date"},
      {"sex unknown", [](RegisterPerson& c) { c.sex = Sex::kUnknown; }, "sex"},
      {"unknown ISTAT code", [](RegisterPerson& c) { c.residence_istat = "001999"; },
       "residence_istat"},
      {"malformed ISTAT code", [](RegisterPerson& c) { c.residence_istat = "1272"; },
       "residence_istat"},
      {"wrong check letter",
       [](RegisterPerson& c) { c.tax_code[15] = c.tax_code[15] == 'A' ? 'B' : 'A'; }, "tax_code"},
      {"tax code of another birth date",
       [](RegisterPerson& c) { c.birth_date = Date::FromYmd(1985, 12, 11); }, "birth_date"},
      {"tax code of the other sex", [](RegisterPerson& c) { c.sex = Sex::kFemale; }, "sex"},
      {"bad phone", [](RegisterPerson& c) { c.phone = "12ab"; }, "phone"},
      {"control character in address", [](RegisterPerson& c) { c.address = "Via\x01Roma"; },
       "address"},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    RegisterPerson c = Mario();
    tc.change(c);
    EXPECT_TRUE(Rejects(PersonState{}, c, kInvalidArgument, tc.field));
  }
}

TEST(PersonDecideRegisterTest, EveryInvalidFieldIsReportedAtOnce) {
  RegisterPerson c = Mario();
  c.family_name.clear();
  c.residence_istat = "999999";
  c.phone = "x";
  auto r = Decide(PersonState{}, c, Ctx());
  ASSERT_FALSE(r);
  std::vector<std::string> fields;
  for (const FieldError& f : r.error().fields) fields.push_back(f.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"family_name", "residence_istat", "phone"}));
}

TEST(PersonDecideRegisterTest, ServerAssignedIdMustBeAUlidAndReferenceDataLoaded) {
  DecideContext bad_id = Ctx();
  bad_id.new_person_id = "not-a-ulid";
  EXPECT_TRUE(Rejected(Decide(PersonState{}, Mario(), bad_id), kInvalidArgument, "id"));
  DecideContext no_ref = Ctx();
  no_ref.reference = nullptr;
  EXPECT_TRUE(
      Rejected(Decide(PersonState{}, Mario(), no_ref), kInvalidArgument, "residence_istat"));
}

TEST(PersonDecideRegisterTest, EveryOtherCommandOnAnUnregisteredPersonIsNotFound) {
  const Date day = Nov(10);
  const Timestamp at = Timestamp::StartOfDay(day);
  const PersonCommand commands[] = {
      ChangeResidence{"001156", ""},
      AssignGp{"GP12345"},
      EnrolInSchool{"TOIC81200X", "3B", SchoolRole::kStudent},
      LeaveSchool{"TOIC81200X", "3B"},
      RequestSwab{"SW-000001", SwabKind::kMolecular, "symptoms", "GP12345", *Timestamp::Parse("2020-11-01T08:00:00Z")},
      CollectSwab{"SW-000001", at, "Drive-in Parco Dora", "LAB01"},
      RecordResult{"SW-000001", kPositive, "LAB01", at},
      CorrectResult{"SW-000001", kNegative, "lab error", "LAB01"},
      OrderIsolation{day, "positive", std::nullopt},
      OrderQuarantine{day, "close_contact", "", std::nullopt},
      EndMeasure{1, day, kElapsed},
      ReportContact{"01HF8Z3K4M5N6P7Q8R9S0T1V2X", day},
      RecordVaccination{1, Nov(1), "Comirnaty"},
      Hospitalize{at, "Molinette"},
      AdmitToIcu{at, "Molinette"},
      Discharge{at, "Molinette"},
      CloseCase{kRecovered, day},
      ErasePersonalData{"GDPR art. 17"},
      HandOverSample{"SW-000001", "LAB02", at},
  };
  EXPECT_EQ(std::size(commands) + 1, std::variant_size_v<PersonCommand>);
  for (const PersonCommand& c : commands) {
    SCOPED_TRACE(c.index());
    EXPECT_TRUE(Rejects(PersonState{}, c, kNotFound));
  }
}

// ---- ChangeResidence ----

TEST(PersonDecideResidenceTest, MovingRecordsBothMunicipalitiesAndTheNewAddress) {
  PersonState s = Registered();
  Decision d = Apply(s, ChangeResidence{"001156", "Corso Trieste 5"});
  const auto& e = Single<ResidenceChanged>(d);
  EXPECT_EQ(e.from_istat, "001272");
  EXPECT_EQ(e.to_istat, "001156");
  EXPECT_EQ(e.personal.address, "Corso Trieste 5");
  EXPECT_EQ(d.events[0].effective_at, Now());
  EXPECT_TRUE(d.claims.empty());
  EXPECT_EQ(s.residence_istat, "001156");
  EXPECT_EQ(s.personal.address, "Corso Trieste 5");
  EXPECT_EQ(s.personal.family_name, "Rossi");
}

TEST(PersonDecideResidenceTest, StayingInTheMunicipalityNeedsANewAddress) {
  EXPECT_TRUE(Decide(Registered(), ChangeResidence{"001272", "Via Po 2"}, Ctx()));
  EXPECT_TRUE(Rejects(Registered(), ChangeResidence{"001272", ""}, kRuleViolation));
  EXPECT_TRUE(Rejects(Registered(), ChangeResidence{"001999", ""}, kInvalidArgument, "istat"));
}

// ---- AssignGp ----

TEST(PersonDecideGpTest, AssignmentNormalisesTheIdAndRemembersThePrevious) {
  PersonState s = Registered();
  Decision first = Apply(s, AssignGp{" gp12345 "});
  EXPECT_EQ(Single<GpAssigned>(first), (GpAssigned{"GP12345", ""}));
  Decision second = Apply(s, AssignGp{"GP67890"});
  EXPECT_EQ(Single<GpAssigned>(second), (GpAssigned{"GP67890", "GP12345"}));
  EXPECT_EQ(s.gp_id, "GP67890");
}

TEST(PersonDecideGpTest, SameGpTwiceOrAMalformedIdIsRejected) {
  PersonState s = Registered();
  Apply(s, AssignGp{"GP12345"});
  EXPECT_TRUE(Rejects(s, AssignGp{"gp12345"}, kRuleViolation));
  EXPECT_TRUE(Rejects(s, AssignGp{"ABCDEF"}, kInvalidArgument, "gp_id"));
}

// ---- EnrolInSchool / LeaveSchool ----

TEST(PersonDecideSchoolTest, EnrolmentNormalisesSchoolAndClass) {
  PersonState s = Registered();
  Decision d = Apply(s, EnrolInSchool{"toic81200x", "03b", SchoolRole::kStaff});
  EXPECT_EQ(Single<SchoolEnrolled>(d), (SchoolEnrolled{"TOIC81200X", "3B", SchoolRole::kStaff}));
  EXPECT_EQ(d.events[0].effective_at, Now());
  EXPECT_EQ(s.enrolments, (std::vector<Enrolment>{{"TOIC81200X", "3B", SchoolRole::kStaff}}));
}

TEST(PersonDecideSchoolTest, EnrollingTwiceOrWhenDeceasedIsARuleViolation) {
  PersonState s = Registered();
  Apply(s, EnrolInSchool{"TOIC81200X", "3B", SchoolRole::kStudent});
  EXPECT_TRUE(Rejects(s, EnrolInSchool{"TOIC81200X", "3b", SchoolRole::kStudent}, kRuleViolation));
  Evolve(s, CaseClosed{kDeceased, Nov(12)});
  EXPECT_TRUE(Rejects(s, EnrolInSchool{"TOPS01000B", "1A", SchoolRole::kStudent}, kRuleViolation));
}

TEST(PersonDecideSchoolTest, MalformedSchoolOrClassIsInvalid) {
  PersonState s = Registered();
  EXPECT_TRUE(
      Rejects(s, EnrolInSchool{"TO12", "3B", SchoolRole::kStudent}, kInvalidArgument, "school"));
  EXPECT_TRUE(Rejects(s, EnrolInSchool{"TOIC81200X", "9Z", SchoolRole::kStudent}, kInvalidArgument,
                      "class"));
  EXPECT_TRUE(Rejects(s, LeaveSchool{"TOIC81200X", "3BCDE"}, kInvalidArgument, "class"));
}

TEST(PersonDecideSchoolTest, LeavingKeepsTheRoleAndRemovesTheEnrolment) {
  PersonState s = Registered();
  Apply(s, EnrolInSchool{"TOIC81200X", "3B", SchoolRole::kStaff});
  Apply(s, EnrolInSchool{"TOPS01000B", "1A", SchoolRole::kStudent});
  Decision d = Apply(s, LeaveSchool{"toic81200x", "3b"});
  EXPECT_EQ(Single<SchoolLeft>(d), (SchoolLeft{"TOIC81200X", "3B", SchoolRole::kStaff}));
  EXPECT_EQ(s.enrolments, (std::vector<Enrolment>{{"TOPS01000B", "1A", SchoolRole::kStudent}}));
}

TEST(PersonDecideSchoolTest, LeavingAClassNotEnrolledIsARuleViolation) {
  PersonState s = Registered();
  Apply(s, EnrolInSchool{"TOIC81200X", "3B", SchoolRole::kStudent});
  EXPECT_TRUE(Rejects(s, LeaveSchool{"TOIC81200X", "3C"}, kRuleViolation));
}

// ---- ErasePersonalData ----

TEST(PersonDecideEraseTest, ErasureClearsPersonalDataButKeepsThePerson) {
  PersonState s = Registered();
  Decision d = Apply(s, ErasePersonalData{"GDPR art. 17"});
  EXPECT_EQ(Single<PersonalDataErased>(d).legal_reason, "GDPR art. 17");
  EXPECT_EQ(d.events[0].effective_at, Now());
  EXPECT_TRUE(s.erased);
  EXPECT_TRUE(s.personal.empty());
  EXPECT_TRUE(s.registered);
  EXPECT_EQ(s.residence_istat, "001272");
}

TEST(PersonDecideEraseTest, ErasureReleasesTheTaxCodeClaimAndAsksForTheKeyToGo) {
  PersonState s = Registered();
  ASSERT_FALSE(s.personal.tax_code.empty());
  Decision d = Apply(s, ErasePersonalData{"GDPR art. 17"});
  EXPECT_TRUE(d.erases_personal_data);
  EXPECT_TRUE(d.claims.empty());
  ASSERT_EQ(d.released_claims.size(), 1u);
  EXPECT_TRUE(IsPersonalClaim(d.released_claims[0]));
  EXPECT_TRUE(d.released_claims[0].ends_with(Registered().personal.tax_code));
  // After erasure no address is recorded again; the municipality may still change.
  EXPECT_TRUE(Rejects(s, ChangeResidence{"001272", "Via Po 2"}, kRuleViolation));
  EXPECT_TRUE(Decide(s, ChangeResidence{"001156", ""}, Ctx()));
}

TEST(PersonDecideEraseTest, ErasingTwiceOrWithoutALegalReasonIsRejected) {
  PersonState s = Registered();
  EXPECT_TRUE(Rejects(s, ErasePersonalData{"x"}, kInvalidArgument, "legal_reason"));
  Apply(s, ErasePersonalData{"GDPR art. 17"});
  EXPECT_TRUE(Rejects(s, ErasePersonalData{"GDPR art. 17"}, kRuleViolation));
}

// ---- Evolve ----

TEST(PersonEvolveTest, RegistrationFillsTheStateAndEveryEventCountsAVersion) {
  PersonState s = Registered();
  EXPECT_TRUE(s.registered);
  EXPECT_EQ(s.person_id, kPersonId);
  EXPECT_EQ(s.sex, Sex::kMale);
  EXPECT_EQ(s.personal.birth_date, "1985-12-10");
  EXPECT_EQ(s.version, 1u);
  Apply(s, AssignGp{"GP12345"});
  Apply(s, ChangeResidence{"001156", ""});
  EXPECT_EQ(s.version, 3u);
}

TEST(PersonEvolveTest, CaseLifeFromFirstSwabToRecovery) {
  PersonState a;
  Apply(a, Mario());
  Apply(a, RequestSwab{"SW-000001", SwabKind::kMolecular, "symptoms", "GP12345", *Timestamp::Parse("2020-11-01T08:00:00Z")});
  Apply(a, CollectSwab{"SW-000001", At("2020-11-06T08:00:00Z"), "Drive-in Parco Dora", "LAB01"});
  Apply(a, RecordResult{"SW-000001", kPositive, "LAB01", At("2020-11-07T10:00:00Z")});
  Apply(a, OrderIsolation{Nov(6), "positive", std::nullopt});

  PersonState b;
  Apply(b,
        RegisterPerson{"", "Bianchi", "Giulia", Date::FromYmd(1990, 4, 25), Sex::kFemale, "001156",
                       "", ""},
        Ctx(kContactId));
  Apply(b, ReportContact{kPersonId, Nov(5)}, Ctx(kContactId));
  Apply(b, OrderQuarantine{Nov(5), "close_contact", kPersonId, std::nullopt}, Ctx(kContactId));

  Apply(a, RequestSwab{"SW-000002", SwabKind::kMolecular, "release", "GP12345", *Timestamp::Parse("2020-11-01T08:00:00Z")});
  Apply(a, CollectSwab{"SW-000002", At("2020-11-15T07:00:00Z"), "Drive-in Parco Dora", "LAB01"});
  Apply(a, RecordResult{"SW-000002", kNegative, "LAB01", At("2020-11-15T09:30:00Z")});
  Apply(a, EndMeasure{1, Nov(15), kNegativeTest});
  Decision closed = Apply(a, CloseCase{kRecovered, Nov(15)});

  EXPECT_EQ(closed.events.size(), 1u);  // the isolation had already ended
  EXPECT_FALSE(a.case_open);
  EXPECT_EQ(a.last_closure, kRecovered);
  EXPECT_EQ(a.closed_on, Nov(15));
  EXPECT_EQ(a.last_positive, Nov(6));
  ASSERT_EQ(a.measures.size(), 1u);
  EXPECT_EQ(a.measures[0].ended_on, Nov(15));
  EXPECT_EQ(a.measures[0].end_reason, kNegativeTest);
  EXPECT_EQ(a.ActiveMeasure(MeasureKind::kIsolation), nullptr);
  ASSERT_EQ(a.swabs.size(), 2u);
  EXPECT_EQ(a.swabs[1].outcome, kNegative);
  EXPECT_EQ(a.version, 10u);

  EXPECT_EQ(b.person_id, kContactId);
  EXPECT_EQ(b.version, 3u);
  ASSERT_EQ(b.contacts.size(), 1u);
  EXPECT_EQ(b.contacts[0].contact_of, kPersonId);
  const MeasureState* q = b.ActiveMeasure(MeasureKind::kQuarantine);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->source_case, kPersonId);
  EXPECT_FALSE(b.case_open);
}

}  // namespace
}  // namespace caseledger::domain
