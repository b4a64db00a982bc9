#include "domain/event_json.h"

#include "domain/event_codec.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace caseledger::domain {
namespace {

namespace json = boost::json;

Date D(std::string_view text) { return *Date::Parse(text); }
Timestamp T(std::string_view text) { return *Timestamp::Parse(text); }

Personal SomePersonal() {
  return {"Rossi",           "Mario", "RSSMRA80A01L219M", "1980-01-01", "Via Roma 1, Torino",
          "+39 011 555 0101"};
}

// One sample of an event type and the fields its JSON must hold (besides "type").
struct EventCase {
  Event event;
  std::vector<std::pair<std::string, json::value>> fields;
};

std::vector<EventCase> AllEventCases() {
  return {
      {PersonRegistered{.person_id = "p1",
                        .sex = Sex::kFemale,
                        .residence_istat = "001272",
                        .personal = SomePersonal()},
       {{"person_id", "p1"}, {"sex", "F"}, {"residence_istat", "001272"}}},
      {ResidenceChanged{.from_istat = "001272", .to_istat = "004003", .personal = SomePersonal()},
       {{"from_istat", "001272"}, {"to_istat", "004003"}}},
      {GpAssigned{.gp_id = "GP123", .previous_gp_id = "GP9"},
       {{"gp_id", "GP123"}, {"previous_gp_id", "GP9"}}},
      {SchoolEnrolled{.school = "TOIC81200X", .class_label = "3B", .role = SchoolRole::kStudent},
       {{"school", "TOIC81200X"}, {"class_label", "3B"}, {"role", "student"}}},
      {SchoolLeft{.school = "TOIC81200X", .class_label = "3B", .role = SchoolRole::kStaff},
       {{"school", "TOIC81200X"}, {"class_label", "3B"}, {"role", "staff"}}},
      {SwabRequested{.swab_id = "S1",
                     .kind = SwabKind::kMolecular,
                     .reason = "contact",
                     .requested_by = "GP123",
                     .requested_at = T("2020-11-01T18:00:00Z")},
       {{"swab_id", "S1"},
        {"kind", "molecular"},
        {"reason", "contact"},
        {"requested_by", "GP123"},
        {"requested_at", "2020-11-01T18:00:00Z"}}},
      {SwabCollected{.swab_id = "S1",
                     .collected_at = T("2020-11-02T09:00:00Z"),
                     .site = "drive-in",
                     .lab_id = "LAB2"},
       {{"swab_id", "S1"}, {"collected_at", "2020-11-02T09:00:00Z"}, {"site", "drive-in"}, {"lab_id", "LAB2"}}},
      {SampleHandedOver{.swab_id = "S1",
                        .from_lab = "LAB2",
                        .to_lab = "LAB1",
                        .handed_over_at = T("2020-11-02T12:00:00Z")},
       {{"swab_id", "S1"}, {"from_lab", "LAB2"}, {"to_lab", "LAB1"}, {"handed_over_at", "2020-11-02T12:00:00Z"}}},
      {ResultRecorded{.swab_id = "S1",
                      .outcome = Outcome::kPositive,
                      .lab_id = "LAB1",
                      .reported_at = T("2020-11-03T10:15:00Z")},
       {{"swab_id", "S1"},
        {"outcome", "positive"},
        {"lab_id", "LAB1"},
        {"reported_at", "2020-11-03T10:15:00Z"}}},
      {ResultCorrected{.swab_id = "S1",
                       .previous_outcome = Outcome::kPositive,
                       .outcome = Outcome::kInconclusive,
                       .reason = "mix-up",
                       .lab_id = "LAB1",
                       .corrected_at = T("2020-11-04T08:00:00Z")},
       {{"swab_id", "S1"},
        {"previous_outcome", "positive"},
        {"outcome", "inconclusive"},
        {"reason", "mix-up"},
        {"lab_id", "LAB1"},
        {"corrected_at", "2020-11-04T08:00:00Z"}}},
      {IsolationOrdered{.measure_id = 1, .start = D("2020-11-02"), .reason = "positive", .end = {}},
       {{"measure_id", 1}, {"start", "2020-11-02"}, {"reason", "positive"}, {"end", nullptr}}},
      {QuarantineOrdered{.measure_id = 2,
                         .start = D("2020-11-01"),
                         .reason = "close_contact",
                         .source_case = "p9",
                         .end = D("2020-11-15")},
       {{"measure_id", 2},
        {"start", "2020-11-01"},
        {"reason", "close_contact"},
        {"source_case", "p9"},
        {"end", "2020-11-15"}}},
      {MeasureEnded{
           .measure_id = 2, .at = D("2020-11-11"), .reason = MeasureEndReason::kNegativeTest},
       {{"measure_id", 2}, {"at", "2020-11-11"}, {"reason", "negative_test"}}},
      {ContactReported{.contact_of = "p9", .last_exposure = D("2020-11-01")},
       {{"contact_of", "p9"}, {"last_exposure", "2020-11-01"}}},
      {VaccinationRecorded{.dose = 2, .date = D("2021-06-01"), .product = "Comirnaty"},
       {{"dose", 2}, {"date", "2021-06-01"}, {"product", "Comirnaty"}}},
      {Hospitalized{.at = T("2020-11-05T12:00:00Z"), .facility = "Molinette"},
       {{"at", "2020-11-05T12:00:00Z"}, {"facility", "Molinette"}}},
      {IcuAdmitted{.at = T("2020-11-06T12:00:00Z"), .facility = "Molinette"},
       {{"at", "2020-11-06T12:00:00Z"}, {"facility", "Molinette"}}},
      {Discharged{.at = T("2020-11-20T12:00:00Z"), .facility = "Molinette"},
       {{"at", "2020-11-20T12:00:00Z"}, {"facility", "Molinette"}}},
      {CaseClosed{.outcome = CaseOutcome::kRecovered, .at = D("2020-11-23")},
       {{"outcome", "recovered"}, {"at", "2020-11-23"}}},
      {PersonalDataErased{.legal_reason = "GDPR art. 17"}, {{"legal_reason", "GDPR art. 17"}}},
      {ClassQuarantineOrdered{
           .class_label = "3B", .start = D("2020-11-02"), .reason = "positive student", .end = {}},
       {{"class_label", "3B"},
        {"start", "2020-11-02"},
        {"reason", "positive student"},
        {"end", nullptr}}},
      {RulesAdopted{.rule_set_id = "r1",
                    .effective_from = D("2020-10-12"),
                    .rules_json = R"({"id":"r1","days":[10,14]})"},
       {{"rule_set_id", "r1"},
        {"effective_from", "2020-10-12"},
        {"rules", json::object{{"id", "r1"}, {"days", json::array{10, 14}}}}}},
      {AccessGranted{.user = "u1", .role = "operator", .scope = "TO"},
       {{"user", "u1"}, {"role", "operator"}, {"scope", "TO"}}},
      {AccessRevoked{.user = "u1", .role = "operator", .scope = "TO"},
       {{"user", "u1"}, {"role", "operator"}, {"scope", "TO"}}},
  };
}

TEST(EventJsonTest, TableCoversEveryEventType) {
  std::set<size_t> seen;
  for (const EventCase& c : AllEventCases()) seen.insert(c.event.index());
  EXPECT_EQ(seen.size(), std::variant_size_v<Event>);
}

TEST(EventJsonTest, EveryEventTypeHasItsTypeAndFields) {
  for (const EventCase& c : AllEventCases()) {
    SCOPED_TRACE(std::string(TypeName(c.event)));
    json::object o = EventToJson(c.event, /*include_personal=*/false);
    ASSERT_TRUE(o.contains("type"));
    EXPECT_EQ(o.at("type"), json::value(TypeName(c.event)));
    for (const auto& [key, expected] : c.fields) {
      ASSERT_TRUE(o.contains(key)) << key;
      EXPECT_EQ(o.at(key), expected) << key << ": " << json::serialize(o.at(key));
    }
    EXPECT_EQ(o.size(), c.fields.size() + 1) << json::serialize(o);
  }
}

// Every personal value of SomePersonal(), as it would appear in serialized JSON.
std::vector<std::string> PersonalValues() {
  Personal p = SomePersonal();
  return {p.family_name, p.given_names, p.tax_code, p.birth_date, p.address, p.phone};
}

TEST(EventJsonTest, NoPersonalValueAppearsWithoutIncludePersonal) {
  for (const EventCase& c : AllEventCases()) {
    std::string text = json::serialize(EventToJson(c.event, false));
    EXPECT_EQ(text.find("personal"), std::string::npos) << text;
    for (const std::string& value : PersonalValues()) {
      EXPECT_EQ(text.find(value), std::string::npos) << value << " in " << text;
    }
  }
}

TEST(EventJsonTest, PersonalObjectHoldsOnlyTheGivenFields) {
  PersonRegistered full{.person_id = "p1", .residence_istat = "001272", .personal = SomePersonal()};
  json::object o = EventToJson(full, true);
  ASSERT_TRUE(o.contains("personal"));
  const json::object& personal = o.at("personal").as_object();
  EXPECT_EQ(personal.at("family_name"), "Rossi");
  EXPECT_EQ(personal.at("given_names"), "Mario");
  EXPECT_EQ(personal.at("tax_code"), "RSSMRA80A01L219M");
  EXPECT_EQ(personal.at("birth_date"), "1980-01-01");
  EXPECT_EQ(personal.at("address"), "Via Roma 1, Torino");
  EXPECT_EQ(personal.at("phone"), "+39 011 555 0101");

  ResidenceChanged moved{.from_istat = "001272", .to_istat = "004003", .personal = {}};
  moved.personal.address = "Via Maestra 3, Alba";
  json::object m = EventToJson(moved, true);
  EXPECT_EQ(m.at("personal"), (json::object{{"address", "Via Maestra 3, Alba"}}));

  // Erased or never given: no "personal" key at all.
  full.personal = Personal{};
  EXPECT_FALSE(EventToJson(full, true).contains("personal"));
}

TEST(EventJsonTest, UnparsableRulesTextIsKeptAsString) {
  RulesAdopted bad{.rule_set_id = "r1", .effective_from = D("2020-10-12"), .rules_json = "{oops"};
  EXPECT_EQ(EventToJson(bad, false).at("rules"), "{oops");
}

Envelope SampleEnvelope() {
  Envelope env;
  env.position = 42;
  env.stream = "person-p1";
  env.version = 3;
  env.type = "PersonRegistered";
  env.schema_version = 1;
  env.recorded_at = T("2020-11-03T10:15:00.250000Z");
  env.effective_at = T("2020-11-02T09:00:00Z");
  env.actor = {"op-7", "operator"};
  env.correlation_id = "corr-1";
  env.idempotency_key = "idem-1";
  for (size_t i = 0; i < env.hash.size(); ++i) {
    env.prev_hash[i] = static_cast<uint8_t>(i);
    env.hash[i] = static_cast<uint8_t>(0xff - i);
  }
  return env;
}

TEST(EventJsonTest, EnvelopeCarriesHexHashesAndMetadata) {
  Envelope env = SampleEnvelope();
  PersonRegistered event{.person_id = "p1",
                         .sex = Sex::kMale,
                         .residence_istat = "001272",
                         .personal = SomePersonal()};
  json::object o = EnvelopeToJson(env, event, false);
  EXPECT_EQ(o.at("position"), 42u);
  EXPECT_EQ(o.at("stream"), "person-p1");
  EXPECT_EQ(o.at("version"), 3u);
  EXPECT_EQ(o.at("type"), "PersonRegistered");
  EXPECT_EQ(o.at("schema_version"), 1u);
  EXPECT_EQ(o.at("recorded_at"), "2020-11-03T10:15:00.250000Z");
  EXPECT_EQ(o.at("effective_at"), "2020-11-02T09:00:00Z");
  EXPECT_EQ(o.at("actor"), (json::object{{"id", "op-7"}, {"role", "operator"}}));
  EXPECT_EQ(o.at("correlation_id"), "corr-1");
  EXPECT_EQ(o.at("idempotency_key"), "idem-1");
  EXPECT_FALSE(o.contains("causation_id"));  // empty: left out

  const json::string& prev = o.at("prev_hash").as_string();
  const json::string& hash = o.at("hash").as_string();
  EXPECT_EQ(prev.size(), 64u);
  EXPECT_EQ(hash.size(), 64u);
  EXPECT_EQ(prev.subview(0, 8), "00010203");
  EXPECT_EQ(hash.subview(0, 8), "fffefdfc");
  EXPECT_EQ(prev, HexHash(env.prev_hash));
  EXPECT_EQ(HexHash(Hash{}), std::string(64, '0'));

  EXPECT_EQ(o.at("event"), EventToJson(event, false));
  std::string text = json::serialize(o);
  for (const std::string& value : PersonalValues()) {
    EXPECT_EQ(text.find(value), std::string::npos) << value;
  }
  EXPECT_EQ(EnvelopeToJson(env, event, true).at("event").at("personal").at("tax_code"),
            "RSSMRA80A01L219M");
}

TEST(EventJsonTest, ErasedPersonalPartsSayErasedInPlaceOfTheFields) {
  Envelope env = SampleEnvelope();
  env.personal_form = PersonalForm::kErased;
  PersonRegistered event{.person_id = "p1", .sex = Sex::kMale, .residence_istat = "001272", .personal = {}};
  EXPECT_EQ(EnvelopeToJson(env, event, true).at("event").at("personal"), "erased");
  EXPECT_EQ(EnvelopeToJson(env, event, true).at("event").at("residence_istat"), "001272");
  EXPECT_FALSE(EnvelopeToJson(env, event, false).at("event").as_object().contains("personal"));
}

// The public form read back (what a read replica does with the relayed JSON): every
// public field survives; personal fields are gone.
TEST(EventJsonTest, PublicFormReadsBackIntoTheSameEventWithoutPersonalData) {
  for (const EventCase& c : AllEventCases()) {
    json::object o = EventToJson(c.event, false);
    auto back = EventFromJson(o);
    ASSERT_TRUE(back) << json::serialize(o) << ": " << back.error().message;
    Event expected = c.event;
    if (Personal* p = PersonalOf(expected)) *p = Personal{};
    if (auto* r = std::get_if<RulesAdopted>(&expected)) {
      // The rules come back as the same JSON object, serialized compactly.
      EXPECT_EQ(json::parse(std::get<RulesAdopted>(*back).rules_json), json::parse(r->rules_json));
      r->rules_json = std::get<RulesAdopted>(*back).rules_json;
    }
    EXPECT_TRUE(*back == expected) << json::serialize(o);
  }
}

TEST(EventJsonTest, PublicFormWithAMissingOrBadFieldIsRejected) {
  json::object o = EventToJson(ResultRecorded{.swab_id = "S1",
                                              .outcome = Outcome::kPositive,
                                              .lab_id = "LAB1",
                                              .reported_at = T("2020-11-03T10:15:00Z")},
                               false);
  json::object missing = o;
  missing.erase("lab_id");
  EXPECT_FALSE(EventFromJson(missing));
  json::object bad = o;
  bad["outcome"] = "maybe";
  EXPECT_FALSE(EventFromJson(bad));
  json::object unknown = o;
  unknown["type"] = "SomethingElse";
  EXPECT_FALSE(EventFromJson(unknown));
}

TEST(EventJsonTest, EnvelopeReadsBackWithABodyThatDecodes) {
  Envelope env = SampleEnvelope();
  PersonRegistered event{.person_id = "p1",
                         .sex = Sex::kMale,
                         .residence_istat = "001272",
                         .personal = SomePersonal()};
  auto back = EnvelopeFromJson(EnvelopeToJson(env, event, false));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->envelope.position, 42u);
  EXPECT_EQ(back->envelope.stream, "person-p1");
  EXPECT_EQ(back->envelope.version, 3u);
  EXPECT_EQ(back->envelope.recorded_at, env.recorded_at);
  EXPECT_EQ(back->envelope.effective_at, env.effective_at);
  EXPECT_EQ(back->envelope.actor, env.actor);
  EXPECT_EQ(back->envelope.correlation_id, "corr-1");
  EXPECT_TRUE(back->envelope.personal.empty());
  auto decoded = Decode(back->envelope.type, back->envelope.schema_version, back->envelope.body, {});
  ASSERT_TRUE(decoded);
  EXPECT_EQ(std::get<PersonRegistered>(*decoded).person_id, "p1");
  EXPECT_TRUE(std::get<PersonRegistered>(*decoded).personal.empty());
}

}  // namespace
}  // namespace caseledger::domain
