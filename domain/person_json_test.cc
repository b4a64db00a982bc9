#include "domain/person_json.h"
#include "tests/support/build_paths.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace caseledger::domain {
namespace {

namespace json = boost::json;

Date D(std::string_view text) { return *Date::Parse(text); }
Timestamp T(std::string_view text) { return *Timestamp::Parse(text); }

std::shared_ptr<const ReferenceData> SmallReference() {
  auto r = ReferenceData::Parse(
      "istat_code,name,province_code,province_abbr,province_name,region_code,region_name,"
      "cadastral_code,population\n"
      "001272,Torino,001,TO,Torino,01,Piemonte,L219,872367\n",
      "istat_code,asl_code,asl_name\n"
      "001272,TO,ASL Città di Torino\n");
  if (!r) ADD_FAILURE() << r.error().message;
  return r ? *r : nullptr;
}

// The rule book with the 12 Oct 2020 rules only (isolation 10 days + test or 21 days;
// contacts 14 days or 10 + test).
RuleBook October2020Rules() {
  std::ifstream in(caseledger::TestSourceDir() + "/ops/rules/2020-10-12.json");
  std::stringstream text;
  text << in.rdbuf();
  auto set = RuleSet::Parse(text.str());
  RuleBook book;
  if (!set) {
    ADD_FAILURE() << set.error().message;
    return book;
  }
  auto added = book.Add(std::move(set).value());
  if (!added) ADD_FAILURE() << added.error().message;
  return book;
}

Personal SomePersonal() {
  return {"Rossi",           "Maria", "RSSMRA80A41L219X", "1980-01-01", "Via Roma 1, Torino",
          "+39 011 555 0101"};
}

PersonState Build(const std::vector<Event>& events) {
  PersonState state;
  for (const Event& e : events) Evolve(state, e);
  return state;
}

// Registered in Torino, positive molecular swab collected on 2020-11-02, isolated from that
// day with no end given.
PersonState PositiveAndIsolated() {
  return Build({
      PersonRegistered{.person_id = "p1",
                       .sex = Sex::kFemale,
                       .residence_istat = "001272",
                       .personal = SomePersonal()},
      SwabRequested{.swab_id = "S1",
                    .kind = SwabKind::kMolecular,
                    .reason = "symptoms",
                    .requested_by = "GP123",
                    .requested_at = T("2020-11-01T18:00:00Z")},
      SwabCollected{.swab_id = "S1", .collected_at = T("2020-11-02T09:00:00Z"), .site = "drive-in", .lab_id = "LAB1"},
      ResultRecorded{.swab_id = "S1",
                     .outcome = Outcome::kPositive,
                     .lab_id = "LAB1",
                     .reported_at = T("2020-11-03T10:15:00Z")},
      IsolationOrdered{.measure_id = 1, .start = D("2020-11-02"), .reason = "positive", .end = {}},
  });
}

class PersonJsonTest : public ::testing::Test {
 protected:
  PersonJsonOptions Options(bool include_personal = true) {
    return {include_personal, D("2020-11-05"), reference_.get(), &rules_};
  }
  std::shared_ptr<const ReferenceData> reference_ = SmallReference();
  RuleBook rules_ = October2020Rules();
};

TEST_F(PersonJsonTest, IsolationEndsAreComputedByTheRulesInForce) {
  json::object o = PersonToJson(PositiveAndIsolated(), Options());
  EXPECT_EQ(o.at("id"), "p1");
  EXPECT_EQ(o.at("version"), 5u);
  EXPECT_EQ(o.at("sex"), "F");
  EXPECT_EQ(
      o.at("residence"),
      (json::object{
          {"istat", "001272"}, {"municipality", "Torino"}, {"province", "TO"}, {"asl", "TO"}}));
  EXPECT_EQ(o.at("case"),
            (json::object{{"open", true}, {"last_positive", "2020-11-02"}, {"closure", nullptr}}));

  const json::array& swabs = o.at("swabs").as_array();
  ASSERT_EQ(swabs.size(), 1u);
  EXPECT_EQ(swabs[0].at("kind"), "molecular");
  EXPECT_EQ(swabs[0].at("collected"), true);
  EXPECT_EQ(swabs[0].at("collected_at"), "2020-11-02T09:00:00Z");
  EXPECT_EQ(swabs[0].at("outcome"), "positive");
  EXPECT_EQ(swabs[0].at("lab_id"), "LAB1");
  EXPECT_EQ(swabs[0].at("reported_at"), "2020-11-03T10:15:00Z");
  EXPECT_EQ(swabs[0].at("corrections"), 0);

  const json::array& measures = o.at("measures").as_array();
  ASSERT_EQ(measures.size(), 1u);
  const json::value& m = measures[0];
  EXPECT_EQ(m.at("kind"), "isolation");
  EXPECT_EQ(m.at("start"), "2020-11-02");
  // Day 0 is the start: 10 days + negative test from 2020-11-12, 21 days to 2020-11-23.
  EXPECT_EQ(m.at("release_with_test_from"), "2020-11-12");
  EXPECT_EQ(m.at("end"), "2020-11-23");
  EXPECT_EQ(m.at("max_end"), "2020-11-23");
  EXPECT_EQ(m.at("end_given"), false);
  EXPECT_EQ(m.at("quarantine_required"), true);
  EXPECT_EQ(m.at("rule_set"), "2020-10-12");
  EXPECT_EQ(m.at("status"), "active");
  EXPECT_EQ(m.at("ended_on"), nullptr);
  EXPECT_EQ(m.at("end_reason"), nullptr);
  EXPECT_EQ(m.at("source_case"), nullptr);
}

TEST_F(PersonJsonTest, GivenEndOverridesTheRulesAndEarlierStartsHaveNoRuleSet) {
  PersonState state = Build({
      PersonRegistered{.person_id = "p2", .residence_istat = "001272", .personal = {}},
      ContactReported{.contact_of = "p1", .last_exposure = D("2020-10-20")},
      QuarantineOrdered{.measure_id = 1,
                        .start = D("2020-10-20"),
                        .reason = "close_contact",
                        .source_case = "p1",
                        .end = D("2020-10-31")},
      MeasureEnded{
          .measure_id = 1, .at = D("2020-10-31"), .reason = MeasureEndReason::kNegativeTest},
      QuarantineOrdered{.measure_id = 2,
                        .start = D("2020-10-01"),
                        .reason = "travel",
                        .source_case = "",
                        .end = {}},
  });
  json::object o = PersonToJson(state, Options());
  const json::array& measures = o.at("measures").as_array();
  ASSERT_EQ(measures.size(), 2u);

  const json::value& given = measures[0];
  EXPECT_EQ(given.at("end"), "2020-10-31");  // the rules alone would say 2020-11-03
  EXPECT_EQ(given.at("end_given"), true);
  EXPECT_EQ(given.at("release_with_test_from"), "2020-10-30");
  EXPECT_EQ(given.at("max_end"), "2020-11-03");
  EXPECT_EQ(given.at("rule_set"), "2020-10-12");
  EXPECT_EQ(given.at("source_case"), "p1");
  EXPECT_EQ(given.at("status"), "ended");
  EXPECT_EQ(given.at("ended_on"), "2020-10-31");
  EXPECT_EQ(given.at("end_reason"), "negative_test");

  const json::value& before_rules = measures[1];  // starts before 2020-10-12
  EXPECT_EQ(before_rules.at("end"), nullptr);
  EXPECT_EQ(before_rules.at("release_with_test_from"), nullptr);
  EXPECT_EQ(before_rules.at("max_end"), nullptr);
  EXPECT_EQ(before_rules.at("rule_set"), nullptr);
  EXPECT_EQ(before_rules.at("status"), "active");

  EXPECT_EQ(o.at("contacts"),
            (json::array{json::object{{"contact_of", "p1"}, {"last_exposure", "2020-10-20"}}}));
  EXPECT_EQ(o.at("gp_id"), nullptr);
}

TEST_F(PersonJsonTest, WithoutIncludePersonalNoPersonalValueAppears) {
  PersonState state = PositiveAndIsolated();
  std::string text = json::serialize(PersonToJson(state, Options(/*include_personal=*/false)));
  EXPECT_EQ(text.find("\"personal\""), std::string::npos) << text;
  Personal p = SomePersonal();
  for (const std::string& value :
       {p.family_name, p.given_names, p.tax_code, p.birth_date, p.address, p.phone}) {
    EXPECT_EQ(text.find(value), std::string::npos) << value << " in " << text;
  }

  json::object with = PersonToJson(state, Options(true));
  EXPECT_EQ(with.at("personal").at("family_name"), "Rossi");
  EXPECT_EQ(with.at("personal").at("tax_code"), "RSSMRA80A41L219X");
  EXPECT_EQ(with.at("personal").at("erased"), false);
}

TEST_F(PersonJsonTest, ErasedPersonShowsOnlyTheErasure) {
  PersonState state = PositiveAndIsolated();
  Evolve(state, PersonalDataErased{.legal_reason = "GDPR art. 17"});
  EXPECT_EQ(PersonToJson(state, Options()).at("personal"), (json::object{{"erased", true}}));
}

TEST_F(PersonJsonTest, VaccinationStatusIsGivenOnTodayWithTheRecovery) {
  PersonState state = Build({
      PersonRegistered{.person_id = "p3", .residence_istat = "001272", .personal = {}},
      VaccinationRecorded{.dose = 1, .date = D("2021-05-01"), .product = "Comirnaty"},
      VaccinationRecorded{.dose = 2, .date = D("2021-06-01"), .product = "Comirnaty"},
      CaseClosed{.outcome = CaseOutcome::kRecovered, .at = D("2021-12-01")},
  });
  PersonJsonOptions options = Options();
  options.today = D("2021-07-01");  // dose 2 + 30 days, recovery not yet
  json::object o = PersonToJson(state, options);
  EXPECT_EQ(o.at("vaccination").at("status"), "primary_recent");
  EXPECT_EQ(o.at("vaccination").at("doses"),
            (json::array{json::object{{"dose", 1}, {"date", "2021-05-01"}},
                         json::object{{"dose", 2}, {"date", "2021-06-01"}}}));
  options.today = D("2022-01-10");  // dose 2 + 223 days (old), recovery + 40 days (recent)
  EXPECT_EQ(PersonToJson(state, options).at("vaccination").at("status"), "recovered_recent");
  EXPECT_EQ(PersonToJson(state, options).at("case").at("closure"),
            (json::object{{"outcome", "recovered"}, {"on", "2021-12-01"}}));
}

TEST_F(PersonJsonTest, WithoutReferenceOrRulesTheDerivedValuesAreNull) {
  json::object o = PersonToJson(PositiveAndIsolated(), PersonJsonOptions{.today = D("2020-11-05")});
  EXPECT_EQ(o.at("residence"), (json::object{{"istat", "001272"},
                                             {"municipality", nullptr},
                                             {"province", nullptr},
                                             {"asl", nullptr}}));
  EXPECT_EQ(o.at("measures").at(0).at("end"), nullptr);
  EXPECT_EQ(o.at("measures").at(0).at("rule_set"), nullptr);
}

}  // namespace
}  // namespace caseledger::domain
