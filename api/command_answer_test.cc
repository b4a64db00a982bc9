// A command's answer, as written without a JSON library (command_answer.cc): its text parses
// to the fields a client reads, in Boost.JSON's order, with any string escaped; its headers
// say the version, the position, a replay and a registration's new resource.
#include "api/command_answer.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace caseledger::api {
namespace {

namespace json = boost::json;

eventstore::AppendResult Appended(std::string stream, uint64_t first, uint64_t last, uint64_t version) {
  eventstore::AppendResult r;
  r.stream = std::move(stream);
  r.first_position = first;
  r.last_position = last;
  r.version = version;
  return r;
}

TEST(CommandAnswerTest, ARegistrationAnswersItsPositionsVersionAndNewPerson) {
  const std::vector<domain::Event> events{domain::PersonRegistered{"01HPERSON", domain::Sex::kFemale, "001272", {}}};
  const Response res = CommandAnswer(Appended("person-01HPERSON", 41, 41, 1), events, "");
  EXPECT_EQ(res.status, 201);
  EXPECT_EQ(res.Body(),
            R"({"position":41,"first_position":41,"stream":"person-01HPERSON","version":1,"person_id":"01HPERSON"})");
  EXPECT_EQ(res.Header("etag"), "\"1\"");
  EXPECT_EQ(res.Header("x-position"), "41");
  EXPECT_EQ(res.Header("location"), "/v1/people/01HPERSON");
  EXPECT_EQ(res.Header("idempotent-replayed"), "");
}

TEST(CommandAnswerTest, AFieldNamedTwiceKeepsItsPlaceAndTakesTheLastValue) {
  // The person the command was on, then the same field from a measure's and a swab's events:
  // an object's insert-or-assign, as the answers were written with boost::json::object.
  domain::SwabRequested swab;
  swab.swab_id = "S-1";
  domain::IsolationOrdered first;
  first.measure_id = 1;
  domain::IsolationOrdered second;
  second.measure_id = 2;
  const std::vector<domain::Event> events{first, swab, second};
  auto r = Appended("person-P7", 10, 12, 5);
  r.replayed = true;
  const Response res = CommandAnswer(r, events, "P7");
  const json::object expected{{"position", 12}, {"first_position", 10}, {"stream", "person-P7"}, {"version", 5},
                              {"person_id", "P7"},  {"measure_id", 2},      {"swab_id", "S-1"}};
  EXPECT_EQ(res.Body(), json::serialize(expected));
  EXPECT_EQ(res.Header("idempotent-replayed"), "true");
  EXPECT_EQ(res.Header("location"), "") << "not a registration";
}

TEST(CommandAnswerTest, StringsAreEscapedAsJson) {
  // Ids come from clients' commands (validated elsewhere); the answer stays valid JSON
  // whatever they hold, and reads back as the same text.
  const std::string odd = std::string("a\"b\\c\nd\te\x01") + "\xc3\xa8";
  domain::SwabRequested swab;
  swab.swab_id = odd;
  const Response res = CommandAnswer(Appended("person-" + odd, 3, 3, 2), {swab}, odd);
  json::error_code ec;
  const json::value parsed = json::parse(res.Body(), ec);
  ASSERT_FALSE(ec) << res.Body();
  EXPECT_EQ(parsed.at("stream").as_string(), "person-" + odd);
  EXPECT_EQ(parsed.at("person_id").as_string(), odd);
  EXPECT_EQ(parsed.at("swab_id").as_string(), odd);
  EXPECT_EQ(res.Body(), json::serialize(parsed)) << "the same escapes as Boost.JSON's";
}

TEST(CommandAnswerTest, AnyRunOfIdsIsWrittenAsBoostJsonsObjectWouldBe) {
  // Every sequence of up to four id-bearing events (and a status event naming none), with
  // and without the person the command was on: the body is the object built field by
  // field with insert-or-assign, serialized by Boost.JSON (the answer's text before it was
  // written by hand).
  domain::PersonRegistered registered{"01HREG", domain::Sex::kMale, "001272", {}};
  domain::SwabRequested swab;
  swab.swab_id = "S-9";
  domain::IsolationOrdered isolation;
  isolation.measure_id = 3;
  domain::QuarantineOrdered quarantine;
  quarantine.measure_id = 4;
  domain::SwabCollected collected;
  collected.swab_id = "S-9";
  const std::vector<domain::Event> kinds{registered, swab, isolation, quarantine, collected};
  int checked = 0;
  for (int length = 1; length <= 4; ++length) {
    int runs = 1;
    for (int i = 0; i < length; ++i) runs *= static_cast<int>(kinds.size());
    for (int run = 0; run < runs; ++run) {
      std::vector<domain::Event> events;
      for (int i = 0, rest = run; i < length; ++i, rest /= static_cast<int>(kinds.size())) {
        events.push_back(kinds[rest % kinds.size()]);
      }
      for (const std::string person : {"", "P1"}) {
        json::object expected;
        expected["position"] = 9;
        expected["first_position"] = 7;
        expected["stream"] = "person-P1";
        expected["version"] = 2;
        if (!person.empty()) expected["person_id"] = person;
        for (const auto& e : events) {
          if (const auto* v = std::get_if<domain::PersonRegistered>(&e)) expected["person_id"] = v->person_id;
          if (const auto* v = std::get_if<domain::SwabRequested>(&e)) expected["swab_id"] = v->swab_id;
          if (const auto* v = std::get_if<domain::IsolationOrdered>(&e)) expected["measure_id"] = v->measure_id;
          if (const auto* v = std::get_if<domain::QuarantineOrdered>(&e)) expected["measure_id"] = v->measure_id;
        }
        const Response res = CommandAnswer(Appended("person-P1", 7, 9, 2), events, person);
        ASSERT_EQ(res.Body(), json::serialize(expected)) << "run " << run << " of " << length;
        EXPECT_EQ(res.Header("location"),
                  std::holds_alternative<domain::PersonRegistered>(events.front()) ? "/v1/people/P1" : "");
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 2 * (5 + 25 + 125 + 625));
}

}  // namespace
}  // namespace caseledger::api
