// Decide for a person's clinical commands: swabs, results, measures, contacts, vaccinations,
// hospital stays, closure. The whole case life is in person_decide_test.cc.
#include <gtest/gtest.h>

#include <cctype>

#include "domain/person.h"

namespace caseledger::domain {
namespace {

using enum ErrorCode;
using enum Outcome;
using enum CaseOutcome;
using enum MeasureEndReason;

const std::string kCaseId = "01HF8Z3K4M5N6P7Q8R9S0T1V2W";
const std::string kContactId = "01HF8Z3K4M5N6P7Q8R9S0T1V2X";
const std::string kSwab = "SW-000001";

// A measure without an end given by the operator: the rules in force decide it.
const std::optional<Date> kOpenEnded;

Timestamp Now() { return *Timestamp::Parse("2020-11-15T10:00:00Z"); }
Timestamp At(std::string_view rfc3339) { return *Timestamp::Parse(rfc3339); }
Date Nov(unsigned day) { return Date::FromYmd(2020, 11, day); }
Timestamp Midnight(unsigned day) { return Timestamp::StartOfDay(Nov(day)); }

// These commands need neither reference data nor a new id.
DecideContext Ctx() { return {Now(), nullptr, ""}; }

// Decides `c`, which must be accepted, and applies its events as the store would.
Decision Apply(PersonState& s, const PersonCommand& c) {
  auto r = Decide(s, c, Ctx());
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  if (!r) return {};
  for (const Decided& d : r->events) Evolve(s, d.event);
  return *r;
}

// A registered person (registration itself is tested in person_decide_test.cc).
PersonState Registered(const std::string& id = kCaseId) {
  PersonState s;
  Evolve(s, PersonRegistered{id, Sex::kMale, "001272", Personal{"Rossi", "Mario", "", "", "", ""}});
  return s;
}

// Registered, with swab kSwab requested and collected on 10 Nov at 09:00Z.
PersonState Collected() {
  PersonState s = Registered();
  Apply(s, RequestSwab{kSwab, SwabKind::kMolecular, "symptoms", "GP12345", *Timestamp::Parse("2020-11-01T08:00:00Z")});
  Apply(s, CollectSwab{kSwab, At("2020-11-10T09:00:00Z"), "Drive-in Parco Dora", "LAB01"});
  return s;
}

// Collected, with a result for kSwab reported on 11 Nov.
PersonState WithResult(Outcome outcome) {
  PersonState s = Collected();
  Apply(s, RecordResult{kSwab, outcome, "LAB01", At("2020-11-11T08:00:00Z")});
  return s;
}

PersonState Deceased() {
  PersonState s = WithResult(kPositive);
  Apply(s, CloseCase{kDeceased, Nov(12)});
  return s;
}

// Decide rejects `c` against `s` with `code` and, when `field` is given, names that field.
testing::AssertionResult Rejects(const PersonState& s, const PersonCommand& c, ErrorCode code,
                                 std::string_view field = {}) {
  auto r = Decide(s, c, Ctx());
  if (r) return testing::AssertionFailure() << "accepted with " << r->events.size() << " event(s)";
  if (r.error().code != code) {
    return testing::AssertionFailure()
           << "error " << int(r.error().code) << ": " << r.error().message;
  }
  if (field.empty()) return testing::AssertionSuccess();
  for (const FieldError& f : r.error().fields) {
    if (f.field == field) return testing::AssertionSuccess();
  }
  return testing::AssertionFailure() << "no error for '" << field << "': " << r.error().message;
}

template <class E>
const E& Single(const Decision& d) {
  EXPECT_EQ(d.events.size(), 1u);
  return std::get<E>(d.events.at(0).event);
}

// ---- swabs and results ----

TEST(PersonDecideSwabTest, RequestClaimsTheSwabIdAndDefaultsTheReason) {
  auto r = Decide(Registered(), RequestSwab{"SW-000001", SwabKind::kAntigen, "", "GP12345", Timestamp{}}, Ctx());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(Single<SwabRequested>(*r),
            (SwabRequested{"SW-000001", SwabKind::kAntigen, "screening", "GP12345", Now()}));
  EXPECT_EQ(r->events[0].effective_at, Now());
  EXPECT_EQ(r->claims, std::vector<std::string>{"swab/SW-000001"});
}

TEST(PersonDecideSwabTest, RequestRejectsDuplicateAndMalformedIds) {
  PersonState s = Collected();
  EXPECT_TRUE(Rejects(s, RequestSwab{kSwab, {}, "", "", *Timestamp::Parse("2020-11-01T08:00:00Z")}, kConflict));
  EXPECT_TRUE(Rejects(s, RequestSwab{"SW1", {}, "", "", *Timestamp::Parse("2020-11-01T08:00:00Z")}, kInvalidArgument, "swab_id"));
}

TEST(PersonDecideSwabTest, CollectionIsEffectiveWhenTheSampleWasTaken) {
  PersonState s = Registered();
  Apply(s, RequestSwab{kSwab, SwabKind::kMolecular, "symptoms", "GP12345", *Timestamp::Parse("2020-11-01T08:00:00Z")});
  const Timestamp taken = At("2020-11-10T09:00:00Z");
  Decision d = Apply(s, CollectSwab{kSwab, taken, "Drive-in Parco Dora", "LAB01"});
  EXPECT_EQ(Single<SwabCollected>(d), (SwabCollected{kSwab, taken, "Drive-in Parco Dora", "LAB01"}));
  EXPECT_EQ(d.events[0].effective_at, taken);
  EXPECT_TRUE(s.FindSwab(kSwab)->collected);
}

// A command names its swab as the swab holds it (found as it is) or with spaces around it
// (normalised as at request time, then found); a request's padded id is held trimmed.
TEST(PersonDecideSwabTest, ASwabIsFoundByItsIdWithOrWithoutSpacesAround) {
  PersonState s = Registered();
  Decision requested =
      Apply(s, RequestSwab{"  SW-000001 ", SwabKind::kMolecular, "", "", *Timestamp::Parse("2020-11-01T08:00:00Z")});
  EXPECT_EQ(Single<SwabRequested>(requested).swab_id, kSwab);
  EXPECT_EQ(requested.claims, std::vector<std::string>{"swab/SW-000001"});
  Decision collected = Apply(s, CollectSwab{" SW-000001  ", At("2020-11-10T09:00:00Z"), "", "LAB01"});
  EXPECT_EQ(Single<SwabCollected>(collected).swab_id, kSwab);
  EXPECT_TRUE(Rejects(s, CollectSwab{kSwab, At("2020-11-10T09:00:00Z"), "", "LAB01"}, ErrorCode::kRuleViolation));  // already collected
  Decision reported = Apply(s, RecordResult{kSwab, kPositive, "LAB01", At("2020-11-11T09:00:00Z")});
  EXPECT_EQ(Single<ResultRecorded>(reported).swab_id, kSwab);
  EXPECT_TRUE(Rejects(s, CollectSwab{" SW-000002 ", At("2020-11-10T09:00:00Z"), "", "LAB01"}, kNotFound));
  EXPECT_TRUE(Rejects(s, CollectSwab{"SW-00000", At("2020-11-10T09:00:00Z"), "", "LAB01"}, kNotFound));
}

TEST(PersonDecideSwabTest, CollectionRejectsUnknownTwiceAndBeyondTheClockSkew) {
  PersonState s = Registered();
  Apply(s, RequestSwab{kSwab, {}, "", "", *Timestamp::Parse("2020-11-01T08:00:00Z")});
  const Timestamp skew_edge{Now().micros + kMaxClockSkewMicros};
  EXPECT_TRUE(Rejects(s, CollectSwab{"SW-999999", Now(), "", "LAB01"}, kNotFound));
  EXPECT_TRUE(Rejects(s, CollectSwab{kSwab, Timestamp{skew_edge.micros + 1}, "", "LAB01"}, kInvalidArgument,
                      "collected_at"));
  EXPECT_TRUE(Rejects(s, CollectSwab{kSwab, At("2019-12-31T10:00:00Z"), "", "LAB01"}, kInvalidArgument,
                      "collected_at"));
  EXPECT_TRUE(Decide(s, CollectSwab{kSwab, skew_edge, "", "LAB01"}, Ctx()));
  Apply(s, CollectSwab{kSwab, Now(), "", "LAB01"});
  EXPECT_TRUE(Rejects(s, CollectSwab{kSwab, Now(), "", "LAB01"}, kRuleViolation));
}

TEST(PersonDecideResultTest, PositiveResultIsEffectiveAtSamplingAndOpensACase) {
  PersonState s = Collected();
  const Timestamp reported = At("2020-11-12T08:00:00Z");
  Decision d = Apply(s, RecordResult{kSwab, kPositive, "lab01", reported});
  EXPECT_EQ(Single<ResultRecorded>(d), (ResultRecorded{kSwab, kPositive, "LAB01", reported}));
  EXPECT_EQ(d.events[0].effective_at, At("2020-11-10T09:00:00Z"));
  EXPECT_TRUE(d.claims.empty());
  EXPECT_TRUE(s.case_open);
  EXPECT_EQ(s.last_positive, Nov(10));
  EXPECT_EQ(s.FindSwab(kSwab)->outcome, kPositive);
}

TEST(PersonDecideResultTest, ResultRejections) {
  PersonState requested = Registered();
  Apply(requested, RequestSwab{kSwab, {}, "", "", *Timestamp::Parse("2020-11-01T08:00:00Z")});
  const Timestamp t = At("2020-11-11T08:00:00Z");
  EXPECT_TRUE(Rejects(Collected(), RecordResult{"SW-999999", kPositive, "LAB01", t}, kNotFound));
  EXPECT_TRUE(Rejects(requested, RecordResult{kSwab, kPositive, "LAB01", t}, kRuleViolation));
  EXPECT_TRUE(
      Rejects(WithResult(kNegative), RecordResult{kSwab, kPositive, "LAB01", t}, kRuleViolation));
  EXPECT_TRUE(Rejects(Collected(),
                      RecordResult{kSwab, kPositive, "LAB01", At("2020-11-10T08:59:59Z")},
                      kInvalidArgument, "reported_at"));
  EXPECT_TRUE(
      Rejects(Collected(), RecordResult{kSwab, kPositive, "L", t}, kInvalidArgument, "lab_id"));
  EXPECT_TRUE(Rejects(Collected(),
                      RecordResult{kSwab, kPositive, "LAB01", At("2020-11-15T10:05:01Z")},
                      kInvalidArgument, "reported_at"));
}

TEST(PersonDecideResultTest, CorrectionKeepsThePreviousOutcomeAndReopensTheCase) {
  PersonState s = WithResult(kNegative);
  Decision d = Apply(s, CorrectResult{kSwab, kPositive, "sample swap", ""});
  EXPECT_EQ(Single<ResultCorrected>(d),
            (ResultCorrected{kSwab, kNegative, kPositive, "sample swap", "LAB01", Now()}));
  EXPECT_EQ(d.events[0].effective_at, At("2020-11-10T09:00:00Z"));
  EXPECT_EQ(s.FindSwab(kSwab)->outcome, kPositive);
  EXPECT_EQ(s.FindSwab(kSwab)->corrections, 1);
  EXPECT_TRUE(s.case_open);
}

TEST(PersonDecideResultTest, CorrectionRejections) {
  EXPECT_TRUE(Rejects(WithResult(kPositive), CorrectResult{kSwab, kPositive, "retest", ""},
                      kRuleViolation));
  EXPECT_TRUE(Rejects(Collected(), CorrectResult{kSwab, kPositive, "retest", ""}, kRuleViolation));
  EXPECT_TRUE(Rejects(Collected(), CorrectResult{"SW-999999", kPositive, "retest", ""}, kNotFound));
  EXPECT_TRUE(Rejects(WithResult(kPositive), CorrectResult{kSwab, kNegative, "", ""},
                      kInvalidArgument, "reason"));
}

// ---- isolation and quarantine ----

TEST(PersonDecideMeasureTest, IsolationIsEffectiveAtItsStartDay) {
  auto r = Decide(WithResult(kPositive), OrderIsolation{Nov(10), "positive", Nov(20)}, Ctx());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(Single<IsolationOrdered>(*r), (IsolationOrdered{1, Nov(10), "positive", Nov(20)}));
  EXPECT_EQ(r->events[0].effective_at, Midnight(10));
  EXPECT_TRUE(r->claims.empty());
}

TEST(PersonDecideMeasureTest, IsolationEndsARunningQuarantineAsRevoked) {
  PersonState s = Registered();
  Apply(s, OrderQuarantine{Nov(8), "close_contact", kContactId, kOpenEnded});
  Decision d = Apply(s, OrderIsolation{Nov(11), "symptomatic", kOpenEnded});
  ASSERT_EQ(d.events.size(), 2u);
  EXPECT_EQ(std::get<MeasureEnded>(d.events[0].event), (MeasureEnded{1, Nov(11), kRevoked}));
  EXPECT_EQ(d.events[0].effective_at, Midnight(11));
  EXPECT_EQ(std::get<IsolationOrdered>(d.events[1].event),
            (IsolationOrdered{2, Nov(11), "symptomatic", kOpenEnded}));
  EXPECT_EQ(s.FindMeasure(1)->end_reason, kRevoked);
  EXPECT_EQ(s.ActiveMeasure(MeasureKind::kIsolation)->id, 2u);
  EXPECT_EQ(s.ActiveMeasure(MeasureKind::kQuarantine), nullptr);
}

TEST(PersonDecideMeasureTest, IsolationRejections) {
  PersonState isolated = WithResult(kPositive);
  Apply(isolated, OrderIsolation{Nov(10), "positive", kOpenEnded});
  const PersonState positive = WithResult(kPositive);
  EXPECT_TRUE(Rejects(isolated, OrderIsolation{Nov(11), "positive", kOpenEnded}, kRuleViolation));
  EXPECT_TRUE(
      Rejects(positive, OrderIsolation{Nov(10), "positive", Nov(9)}, kInvalidArgument, "end"));
  EXPECT_TRUE(Rejects(positive, OrderIsolation{Nov(16), "positive", kOpenEnded}, kInvalidArgument,
                      "start"));
  EXPECT_TRUE(Rejects(positive, OrderIsolation{Date::FromYmd(2019, 12, 31), "positive", kOpenEnded},
                      kInvalidArgument, "start"));
  EXPECT_TRUE(
      Rejects(positive, OrderIsolation{Nov(10), "", kOpenEnded}, kInvalidArgument, "reason"));
}

TEST(PersonDecideMeasureTest, ClosedCaseRejectsIsolationUntilANewPositive) {
  PersonState s = WithResult(kPositive);
  Apply(s, CloseCase{kRecovered, Nov(12)});
  EXPECT_TRUE(Rejects(s, OrderIsolation{Nov(13), "positive", kOpenEnded}, kRuleViolation));
  Apply(s, RequestSwab{"SW-000002", SwabKind::kAntigen, "contact", "GP12345", *Timestamp::Parse("2020-11-01T08:00:00Z")});
  Apply(s, CollectSwab{"SW-000002", At("2020-11-14T09:00:00Z"), "ASL TO", "LAB01"});
  Apply(s, RecordResult{"SW-000002", kPositive, "LAB01", At("2020-11-14T12:00:00Z")});
  EXPECT_TRUE(s.case_open);
  EXPECT_EQ(s.last_positive, Nov(14));
  EXPECT_TRUE(Decide(s, OrderIsolation{Nov(14), "positive", kOpenEnded}, Ctx()));
}

TEST(PersonDecideMeasureTest, QuarantineRecordsItsSourceCase) {
  auto r = Decide(Registered(kContactId),
                  OrderQuarantine{Nov(9), "close_contact", kCaseId, Nov(23)}, Ctx());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(Single<QuarantineOrdered>(*r),
            (QuarantineOrdered{1, Nov(9), "close_contact", kCaseId, Nov(23)}));
  EXPECT_EQ(r->events[0].effective_at, Midnight(9));
}

TEST(PersonDecideMeasureTest, QuarantineRejections) {
  PersonState isolated = Registered();
  Apply(isolated, OrderIsolation{Nov(10), "symptomatic", kOpenEnded});
  PersonState quarantined = Registered();
  Apply(quarantined, OrderQuarantine{Nov(10), "travel", "", kOpenEnded});
  const PersonState s = Registered();
  EXPECT_TRUE(
      Rejects(isolated, OrderQuarantine{Nov(11), "travel", "", kOpenEnded}, kRuleViolation));
  EXPECT_TRUE(
      Rejects(quarantined, OrderQuarantine{Nov(11), "travel", "", kOpenEnded}, kRuleViolation));
  EXPECT_TRUE(Rejects(s, OrderQuarantine{Nov(11), "close_contact", "nobody", kOpenEnded},
                      kInvalidArgument, "source_case"));
  EXPECT_TRUE(Rejects(s, OrderQuarantine{Nov(11), "close_contact", kCaseId, kOpenEnded},
                      kInvalidArgument, "source_case"));
  EXPECT_TRUE(
      Rejects(s, OrderQuarantine{Nov(16), "travel", "", kOpenEnded}, kInvalidArgument, "start"));
}

TEST(PersonDecideMeasureTest, EndMeasureIsEffectiveAtItsDayAndRejectsTheRest) {
  PersonState s = Registered();
  Apply(s, OrderQuarantine{Nov(5), "travel", "", kOpenEnded});
  EXPECT_TRUE(Rejects(s, EndMeasure{2, Nov(12), kElapsed}, kNotFound));
  EXPECT_TRUE(Rejects(s, EndMeasure{1, Nov(4), kElapsed}, kInvalidArgument, "at"));
  EXPECT_TRUE(Rejects(s, EndMeasure{1, Nov(16), kElapsed}, kInvalidArgument, "at"));
  Decision d = Apply(s, EndMeasure{1, Nov(12), kNegativeTest});
  EXPECT_EQ(Single<MeasureEnded>(d), (MeasureEnded{1, Nov(12), kNegativeTest}));
  EXPECT_EQ(d.events[0].effective_at, Midnight(12));
  EXPECT_EQ(s.FindMeasure(1)->ended_on, Nov(12));
  EXPECT_TRUE(Rejects(s, EndMeasure{1, Nov(13), kElapsed}, kRuleViolation));
}

TEST(PersonDecideMeasureTest, PersonIdsOfOtherCasesAreStoredNormalised) {
  std::string lower(kCaseId);
  for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  PersonState contact = Registered(kContactId);
  auto q = Decide(contact, OrderQuarantine{Nov(9), "close_contact", lower, kOpenEnded}, Ctx());
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_EQ(Single<QuarantineOrdered>(*q).source_case, kCaseId);
  auto r = Decide(contact, ReportContact{lower, Nov(8)}, Ctx());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(Single<ContactReported>(*r).contact_of, kCaseId);
  PersonState self = Registered();
  EXPECT_TRUE(Rejects(self, ReportContact{lower, Nov(8)}, kInvalidArgument, "contact_of"));
  EXPECT_TRUE(Rejects(self, OrderQuarantine{Nov(9), "close_contact", lower, kOpenEnded},
                      kInvalidArgument, "source_case"));
}

// ---- contacts, vaccinations, hospital ----

TEST(PersonDecideContactTest, ContactIsEffectiveAtLastExposureAndRejectsBadInput) {
  PersonState s = Registered(kContactId);
  Decision d = Apply(s, ReportContact{kCaseId, Nov(8)});
  EXPECT_EQ(Single<ContactReported>(d), (ContactReported{kCaseId, Nov(8)}));
  EXPECT_EQ(d.events[0].effective_at, Midnight(8));
  EXPECT_EQ(s.contacts.size(), 1u);
  EXPECT_TRUE(Rejects(s, ReportContact{"case-7", Nov(8)}, kInvalidArgument, "contact_of"));
  EXPECT_TRUE(Rejects(s, ReportContact{kContactId, Nov(8)}, kInvalidArgument, "contact_of"));
  EXPECT_TRUE(Rejects(s, ReportContact{kCaseId, Nov(16)}, kInvalidArgument, "last_exposure"));
}

TEST(PersonDecideVaccinationTest, DosesMustFollowInNumberAndDate) {
  PersonState s = Registered();
  EXPECT_TRUE(Rejects(s, RecordVaccination{2, Nov(1), "Comirnaty"}, kRuleViolation));
  Decision d = Apply(s, RecordVaccination{1, Nov(1), "Comirnaty"});
  EXPECT_EQ(Single<VaccinationRecorded>(d), (VaccinationRecorded{1, Nov(1), "Comirnaty"}));
  EXPECT_EQ(d.events[0].effective_at, Midnight(1));
  EXPECT_TRUE(
      Rejects(s, RecordVaccination{2, Date::FromYmd(2020, 10, 31), "Comirnaty"}, kRuleViolation));
  EXPECT_TRUE(Rejects(s, RecordVaccination{1, Nov(2), "Comirnaty"}, kRuleViolation));
  EXPECT_TRUE(Rejects(s, RecordVaccination{0, Nov(2), "Comirnaty"}, kInvalidArgument, "dose"));
  EXPECT_TRUE(Rejects(s, RecordVaccination{2, Nov(2), ""}, kInvalidArgument, "product"));
  EXPECT_TRUE(Rejects(s, RecordVaccination{2, Nov(16), "Comirnaty"}, kInvalidArgument, "date"));
  Apply(s, RecordVaccination{2, Nov(14), "Comirnaty"});
  EXPECT_EQ(s.doses.size(), 2u);
}

TEST(PersonDecideHospitalTest, AdmissionIcuAndDischargeTrackTheStay) {
  PersonState s = Registered();
  EXPECT_TRUE(Rejects(s, Discharge{Now(), "Molinette"}, kRuleViolation));
  EXPECT_TRUE(
      Rejects(s, Hospitalize{At("2020-11-15T10:05:01Z"), "Molinette"}, kInvalidArgument, "at"));
  Decision in = Apply(s, Hospitalize{At("2020-11-12T14:00:00Z"), "Molinette"});
  EXPECT_EQ(Single<Hospitalized>(in), (Hospitalized{At("2020-11-12T14:00:00Z"), "Molinette"}));
  EXPECT_EQ(in.events[0].effective_at, At("2020-11-12T14:00:00Z"));
  EXPECT_TRUE(Rejects(s, Hospitalize{Now(), "Molinette"}, kRuleViolation));
  Decision icu = Apply(s, AdmitToIcu{At("2020-11-13T02:00:00Z"), "Molinette"});
  EXPECT_EQ(icu.events[0].effective_at, At("2020-11-13T02:00:00Z"));
  EXPECT_TRUE(s.in_icu);
  EXPECT_TRUE(Rejects(s, AdmitToIcu{Now(), "Molinette"}, kRuleViolation));
  Decision out = Apply(s, Discharge{At("2020-11-15T09:00:00Z"), "Molinette"});
  EXPECT_EQ(Single<Discharged>(out), (Discharged{At("2020-11-15T09:00:00Z"), "Molinette"}));
  EXPECT_FALSE(s.hospitalized);
  EXPECT_FALSE(s.in_icu);
}

// ---- closure and death ----

TEST(PersonDecideCloseCaseTest, ClosingEndsEveryActiveMeasureFirst) {
  PersonState s = Registered();
  Apply(s, OrderQuarantine{Nov(5), "travel", "", kOpenEnded});
  Apply(s, EndMeasure{1, Nov(6), kElapsed});
  Apply(s, RequestSwab{kSwab, {}, "", "", *Timestamp::Parse("2020-11-01T08:00:00Z")});
  Apply(s, CollectSwab{kSwab, At("2020-11-10T09:00:00Z"), "", "LAB01"});
  Apply(s, RecordResult{kSwab, kPositive, "LAB01", At("2020-11-10T18:00:00Z")});
  Apply(s, OrderIsolation{Nov(10), "positive", kOpenEnded});
  Decision d = Apply(s, CloseCase{kRecovered, Nov(14)});
  ASSERT_EQ(d.events.size(), 2u);
  EXPECT_EQ(std::get<MeasureEnded>(d.events[0].event), (MeasureEnded{2, Nov(14), kCaseClosed}));
  EXPECT_EQ(std::get<CaseClosed>(d.events[1].event), (CaseClosed{kRecovered, Nov(14)}));
  EXPECT_EQ(d.events[1].effective_at, Midnight(14));
  EXPECT_EQ(s.FindMeasure(1)->end_reason, kElapsed);
  EXPECT_EQ(s.FindMeasure(2)->end_reason, kCaseClosed);
}

TEST(PersonDecideCloseCaseTest, ClosureRejections) {
  EXPECT_TRUE(Rejects(Registered(), CloseCase{kRecovered, Nov(14)}, kRuleViolation));
  PersonState positive = WithResult(kPositive);
  EXPECT_TRUE(Rejects(positive, CloseCase{kRecovered, Nov(9)}, kInvalidArgument, "at"));
  EXPECT_TRUE(Rejects(positive, CloseCase{kRecovered, Nov(16)}, kInvalidArgument, "at"));
  Apply(positive, Hospitalize{At("2020-11-12T14:00:00Z"), "Molinette"});
  EXPECT_TRUE(Rejects(positive, CloseCase{kRecovered, Nov(14)}, kRuleViolation));
  EXPECT_TRUE(Decide(positive, CloseCase{kDeceased, Nov(14)}, Ctx()));
}

TEST(PersonDecideDeceasedTest, DeathIsFinal) {
  const PersonState s = Deceased();
  EXPECT_TRUE(s.deceased());
  EXPECT_FALSE(s.case_open);
  EXPECT_FALSE(s.hospitalized);
  const PersonCommand refused[] = {
      RequestSwab{"SW-000002", {}, "", "", *Timestamp::Parse("2020-11-01T08:00:00Z")},
      OrderIsolation{Nov(13), "positive", kOpenEnded},
      OrderQuarantine{Nov(13), "travel", "", kOpenEnded},
      Hospitalize{Now(), "Molinette"},
      AdmitToIcu{Now(), "Molinette"},
      CloseCase{kDeceased, Nov(13)},
  };
  for (const PersonCommand& c : refused) {
    SCOPED_TRACE(c.index());
    EXPECT_TRUE(Rejects(s, c, kRuleViolation));
  }
}


// ---- the integrity of a sample's record (security audit of 2026-12, finding 5) ----

TEST(PersonDecideSwabTest, ARequestIsEffectiveWhenMadeAndMayBeRecordedLate) {
  PersonState s = Registered();
  Decision now = Apply(s, RequestSwab{kSwab, {}, "", "", Timestamp{}});
  EXPECT_EQ(now.events[0].effective_at, Now()) << "no time given: the registry's clock";
  EXPECT_EQ(s.FindSwab(kSwab)->requested_at, Now());
  PersonState t = Registered();
  Decision late = Apply(t, RequestSwab{kSwab, {}, "", "", At("2020-11-02T08:00:00Z")});
  EXPECT_EQ(late.events[0].effective_at, At("2020-11-02T08:00:00Z"));
  EXPECT_TRUE(Rejects(Registered(), RequestSwab{kSwab, {}, "", "", At("2020-11-15T11:00:00Z")}, kInvalidArgument,
                      "requested_at"));
}

TEST(PersonDecideSwabTest, ACollectionCannotPrecedeItsRequestBeyondTheSkew) {
  PersonState s = Registered();
  Apply(s, RequestSwab{kSwab, {}, "", "", Timestamp{}});  // requested now, 15 Nov 10:00
  // The audit's case: a swab requested today, "collected" on a day of the past.
  EXPECT_TRUE(Rejects(s, CollectSwab{kSwab, At("2020-03-01T09:00:00Z"), "", "LAB02"}, kInvalidArgument,
                      "collected_at"));
  const Timestamp edge{Now().micros - kCollectionSkewMicros};
  EXPECT_TRUE(Rejects(s, CollectSwab{kSwab, Timestamp{edge.micros - 1}, "", "LAB02"}, kInvalidArgument,
                      "collected_at"));
  EXPECT_TRUE(Decide(s, CollectSwab{kSwab, edge, "", "LAB02"}, Ctx()));
  EXPECT_TRUE(Rejects(s, CollectSwab{kSwab, Now(), "", ""}, kInvalidArgument, "lab_id"));
}

TEST(PersonDecideSwabTest, OnlyTheLaboratoryHoldingTheSampleReportsIt) {
  PersonState s = Registered();
  Apply(s, RequestSwab{kSwab, {}, "", "", At("2020-11-10T08:00:00Z")});
  Apply(s, CollectSwab{kSwab, At("2020-11-10T09:00:00Z"), "", "lab02"});
  EXPECT_EQ(s.FindSwab(kSwab)->holder_lab, "LAB02");
  EXPECT_TRUE(Rejects(s, RecordResult{kSwab, kPositive, "LAB01", At("2020-11-11T08:00:00Z")}, kInvalidArgument,
                      "lab_id"));
  // Handed over to LAB01, which now reports; LAB02 no longer may.
  Decision handed = Apply(s, HandOverSample{kSwab, "LAB01", At("2020-11-10T12:00:00Z")});
  EXPECT_EQ(Single<SampleHandedOver>(handed),
            (SampleHandedOver{kSwab, "LAB02", "LAB01", At("2020-11-10T12:00:00Z")}));
  EXPECT_TRUE(Rejects(s, RecordResult{kSwab, kPositive, "LAB02", At("2020-11-11T08:00:00Z")}, kInvalidArgument,
                      "lab_id"));
  Apply(s, RecordResult{kSwab, kPositive, "LAB01", At("2020-11-11T08:00:00Z")});
  EXPECT_TRUE(Rejects(s, HandOverSample{kSwab, "LAB03", Timestamp{}}, kRuleViolation)) << "reported already";
}

TEST(PersonDecideSwabTest, AHandOverNeedsACollectedSampleAnotherLabAndATimeAfterCollection) {
  PersonState s = Registered();
  Apply(s, RequestSwab{kSwab, {}, "", "", At("2020-11-10T08:00:00Z")});
  EXPECT_TRUE(Rejects(s, HandOverSample{kSwab, "LAB01", Timestamp{}}, kRuleViolation));
  Apply(s, CollectSwab{kSwab, At("2020-11-10T09:00:00Z"), "", "LAB02"});
  EXPECT_TRUE(Rejects(s, HandOverSample{kSwab, "LAB02", Timestamp{}}, kInvalidArgument, "to_lab"));
  EXPECT_TRUE(Rejects(s, HandOverSample{kSwab, "LAB01", At("2020-11-10T08:30:00Z")}, kInvalidArgument, "at"));
  EXPECT_TRUE(Rejects(s, HandOverSample{"SW-999999", "LAB01", Timestamp{}}, kNotFound));
}

// A sample collected before collections named their laboratory (schema 1) may be reported
// by any laboratory, as then.
TEST(PersonDecideSwabTest, ASampleOfTheOldSchemaHasNoHolder) {
  PersonState s = Registered();
  Evolve(s, SwabRequested{kSwab, SwabKind::kMolecular, "", "", Timestamp{}});
  Evolve(s, SwabCollected{kSwab, At("2020-03-01T09:00:00Z"), "", ""});
  EXPECT_TRUE(Decide(s, RecordResult{kSwab, kPositive, "LAB07", At("2020-03-02T09:00:00Z")}, Ctx()));
}

}  // namespace
}  // namespace caseledger::domain
