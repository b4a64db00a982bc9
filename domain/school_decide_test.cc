// Decide and Evolve of the school aggregate: class quarantines.
#include <gtest/gtest.h>

#include "domain/decide_test_support.h"

#include <functional>

#include "domain/school.h"

namespace caseledger::domain {
namespace {

constexpr std::string_view kSchool = "TOIC81200X";

Timestamp Now() { return *Timestamp::Parse("2020-11-15T10:00:00Z"); }
Date Nov(unsigned day) { return Date::FromYmd(2020, 11, day); }
DecideContext Ctx(Timestamp now = Now()) { return {now, nullptr, ""}; }

SchoolState School() {
  SchoolState s;
  s.school = std::string(kSchool);
  return s;
}

OrderClassQuarantine ThreeB() { return {"3B", Nov(10), "positive_in_class", Nov(20)}; }

// Decides `c`, which must be accepted, and applies its events.
Decision Apply(SchoolState& s, const OrderClassQuarantine& c) {
  auto r = Decide(s, c, Ctx());
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  if (!r) return {};
  for (const Decided& d : r->events) Evolve(s, d.event);
  return *r;
}


TEST(SchoolDecideTest, ClassQuarantineIsEffectiveAtItsStartDay) {
  OrderClassQuarantine c = ThreeB();
  c.class_label = " 03b ";
  auto r = Decide(School(), c, Ctx());
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(std::get<ClassQuarantineOrdered>(r->events[0].event),
            (ClassQuarantineOrdered{"3B", Nov(10), "positive_in_class", Nov(20)}));
  EXPECT_EQ(r->events[0].effective_at, Timestamp::StartOfDay(Nov(10)));
  EXPECT_EQ(r->events[0].effective_at.ToString(), "2020-11-09T23:00:00Z");  // CET midnight
  EXPECT_TRUE(r->claims.empty());
}

TEST(SchoolDecideTest, EndIsOptional) {
  OrderClassQuarantine c = ThreeB();
  c.end.reset();
  auto r = Decide(School(), c, Ctx());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(std::get<ClassQuarantineOrdered>(r->events[0].event).end.has_value());
}

TEST(SchoolDecideTest, SameClassAndStartTwiceIsAConflict) {
  SchoolState s = School();
  Apply(s, ThreeB());
  OrderClassQuarantine again = ThreeB();
  again.class_label = "3b";
  again.reason = "second positive";
  EXPECT_TRUE(Rejected(Decide(s, again, Ctx()), ErrorCode::kConflict));
}

TEST(SchoolDecideTest, AnotherClassOrAnotherStartIsAccepted) {
  SchoolState s = School();
  Apply(s, ThreeB());
  OrderClassQuarantine other_class = ThreeB();
  other_class.class_label = "3C";
  EXPECT_TRUE(Decide(s, other_class, Ctx()));
  OrderClassQuarantine later = ThreeB();
  later.start = Nov(14);
  EXPECT_TRUE(Decide(s, later, Ctx()));
}

TEST(SchoolDecideTest, InvalidInputIsRejectedNamingTheField) {
  struct Case {
    const char* name;
    std::function<void(SchoolState&, OrderClassQuarantine&)> change;
    const char* field;
  };
  const Case cases[] = {
      {"malformed school code", [](SchoolState& s, OrderClassQuarantine&) { s.school = "TO123"; },
       "school"},
      {"no school code", [](SchoolState& s, OrderClassQuarantine&) { s.school.clear(); }, "school"},
      {"class year 0", [](SchoolState&, OrderClassQuarantine& c) { c.class_label = "0A"; },
       "class"},
      {"class section too long",
       [](SchoolState&, OrderClassQuarantine& c) { c.class_label = "3ABCD"; }, "class"},
      {"start tomorrow",
       [](SchoolState&, OrderClassQuarantine& c) {
         c.start = Nov(16);
         c.end = Nov(26);
       },
       "start"},
      {"start before 2020",
       [](SchoolState&, OrderClassQuarantine& c) { c.start = Date::FromYmd(2019, 12, 31); },
       "start"},
      {"end before start", [](SchoolState&, OrderClassQuarantine& c) { c.end = Nov(9); }, "end"},
      {"no reason", [](SchoolState&, OrderClassQuarantine& c) { c.reason.clear(); }, "reason"},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    SchoolState s = School();
    OrderClassQuarantine c = ThreeB();
    tc.change(s, c);
    EXPECT_TRUE(Rejected(Decide(s, c, Ctx()), ErrorCode::kInvalidArgument, tc.field));
  }
}

TEST(SchoolDecideTest, EveryInvalidFieldIsReportedAtOnce) {
  SchoolState s = School();
  s.school = "X";
  auto r = Decide(s, OrderClassQuarantine{"9", Nov(10), "", Nov(1)}, Ctx());
  ASSERT_FALSE(r);
  std::vector<std::string> fields;
  for (const FieldError& f : r.error().fields) fields.push_back(f.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"school", "class", "end", "reason"}));
}

TEST(SchoolDecideTest, StartMayBeTheItalianDayOfNowPlusTheClockSkew) {
  // 22:56Z is 23:56 in Turin: five minutes later it is already 16 November there.
  OrderClassQuarantine c{"3B", Nov(16), "positive_in_class", std::nullopt};
  EXPECT_TRUE(Decide(School(), c, Ctx(*Timestamp::Parse("2020-11-15T22:56:00Z"))));
  EXPECT_TRUE(Rejected(Decide(School(), c, Ctx(*Timestamp::Parse("2020-11-15T22:54:00Z"))),
                       ErrorCode::kInvalidArgument, "start"));
}

TEST(SchoolDecideTest, EvolveAccumulatesQuarantinesAndCountsVersions) {
  SchoolState s = School();
  Apply(s, ThreeB());
  OrderClassQuarantine c = ThreeB();
  c.class_label = "1A";
  Apply(s, c);
  EXPECT_EQ(s.version, 2u);
  ASSERT_EQ(s.class_quarantines.size(), 2u);
  EXPECT_EQ(s.class_quarantines[0].class_label, "3B");
  EXPECT_EQ(s.class_quarantines[1].class_label, "1A");
  EXPECT_EQ(s.school, kSchool);
}

}  // namespace
}  // namespace caseledger::domain
