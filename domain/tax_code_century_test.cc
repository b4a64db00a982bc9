// Registration with a tax code whose two-digit year could be either century: the given
// birth date decides the century (people born 1900-1926 and centenarians register), the code
// must agree with it on the year's last two digits, the month, the day and the sex
// (omocodia included), and a birth date no century makes plausible is refused.
#include <gtest/gtest.h>

#include "domain/person.h"
#include "domain/tax_code.h"

namespace caseledger::domain {
namespace {

const std::string kPersonId = "01HF8Z3K4M5N6P7Q8R9S0T1V2W";

// The day the issue was seen: a code with year 23 was read as 2023.
Timestamp Today() { return *Timestamp::Parse("2026-12-02T10:00:00Z"); }

const ReferenceData& Reference() {
  static const std::shared_ptr<const ReferenceData> ref =
      ReferenceData::Parse(
          "istat_code,name,province_code,province_abbr,province_name,region_code,region_name,"
          "cadastral_code,population\n"
          "001272,Torino,001,TO,Torino,01,Piemonte,L219,872367\n",
          "istat_code,asl_code,asl_name\n"
          "001272,TO,ASL Città di Torino\n")
          .value();
  return *ref;
}

RegisterPerson Person(Date birth, Sex sex) {
  RegisterPerson c;
  c.family_name = "Bianchi";
  c.given_names = sex == Sex::kFemale ? "Giuseppina" : "Giovanni";
  c.birth_date = birth;
  c.sex = sex;
  c.residence_istat = "001272";
  c.tax_code = ComposeTaxCode(c.family_name, c.given_names, birth, sex == Sex::kFemale ? 'F' : 'M', "L219");
  return c;
}

Result<Decision> Register(const RegisterPerson& c) {
  return Decide(PersonState{}, PersonCommand{c}, DecideContext{Today(), &Reference(), kPersonId});
}

// The fields the refusal names, in order.
std::vector<std::string> RefusedFields(const Result<Decision>& r) {
  std::vector<std::string> fields;
  if (r) return fields;
  for (const FieldError& f : r.error().fields) fields.push_back(f.field);
  return fields;
}

// A code with every digit position written as its omocodia letter, check letter recomputed.
std::string Omocodia(std::string code) {
  constexpr std::string_view kLetters = "LMNPQRSTUV";
  for (size_t p : {6, 7, 9, 10, 12, 13, 14}) code[p] = kLetters[size_t(code[p] - '0')];
  code[15] = TaxCodeCheckCharacter(code);
  return code;
}

TEST(TaxCodeCenturyTest, CentenariansAndEveryBoundaryYearRegisterWithTheirBirthDate) {
  const Date births[] = {
      Date::FromYmd(1890, 1, 1),    // the earliest birth date accepted
      Date::FromYmd(1900, 1, 1),    // year 00 of the previous century (2000 is also plausible)
      Date::FromYmd(1900, 12, 31),
      Date::FromYmd(1920, 2, 29),   // a leap-day centenarian
      Date::FromYmd(1923, 7, 28),   // the resident: "23" is not 2023
      Date::FromYmd(1926, 12, 2),   // 100 today
      Date::FromYmd(1926, 12, 3),   // 100 tomorrow
      Date::FromYmd(1926, 12, 31),  // the last year whose digits are also a past date of this century
      Date::FromYmd(1927, 1, 1),
      Date::FromYmd(1999, 12, 31),
      Date::FromYmd(2000, 1, 1),
      Date::FromYmd(2000, 2, 29),
      Date::FromYmd(2025, 12, 31),
      Date::FromYmd(2026, 12, 2),   // born today
  };
  for (Date birth : births) {
    for (Sex sex : {Sex::kMale, Sex::kFemale}) {
      RegisterPerson c = Person(birth, sex);
      for (const std::string& code : {c.tax_code, Omocodia(c.tax_code)}) {
        SCOPED_TRACE(birth.ToString() + " " + code);
        c.tax_code = code;
        auto r = Register(c);
        ASSERT_TRUE(r) << r.error().message << (r.error().fields.empty() ? "" : ": " + r.error().fields[0].message);
        const auto& e = std::get<PersonRegistered>(r->events.at(0).event);
        EXPECT_EQ(e.personal.birth_date, birth.ToString());
        EXPECT_EQ(e.personal.tax_code, code);
      }
    }
  }
}

TEST(TaxCodeCenturyTest, ABirthDateNoCenturyMakesPlausibleIsRefusedNamingBirthDate) {
  // The code agrees on the digits, month and day; the century puts the birth in the future
  // or before 1890 (the oldest person ever documented lived 122 years).
  for (Date birth : {Date::FromYmd(2123, 7, 28), Date::FromYmd(2026, 12, 5), Date::FromYmd(1823, 7, 28),
                     Date::FromYmd(1889, 12, 31)}) {
    SCOPED_TRACE(birth.ToString());
    RegisterPerson c = Person(birth, Sex::kMale);
    EXPECT_EQ(RefusedFields(Register(c)), std::vector<std::string>{"birth_date"});
  }
}

TEST(TaxCodeCenturyTest, AYearMonthDayOrSexTheCodeDoesNotSayIsRefusedNamingTheField) {
  const Date birth = Date::FromYmd(1923, 7, 28);
  struct Case {
    const char* name;
    Date given;
    Sex sex;
    const char* field;
    const char* says;
  };
  const Case cases[] = {
      {"other year digits", Date::FromYmd(1924, 7, 28), Sex::kMale, "birth_date", "year ends in 23, not in 24"},
      {"other decade", Date::FromYmd(1913, 7, 28), Sex::kMale, "birth_date", "year ends in 23, not in 13"},
      {"other month", Date::FromYmd(1923, 8, 28), Sex::kMale, "birth_date", "month is 07 (letter L), not 08"},
      {"other day", Date::FromYmd(1923, 7, 27), Sex::kMale, "birth_date", "day is 28, not 27"},
      {"other sex", birth, Sex::kFemale, "sex", "which says M"},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.name);
    for (bool omocodia : {false, true}) {
      RegisterPerson c = Person(birth, Sex::kMale);
      if (omocodia) c.tax_code = Omocodia(c.tax_code);
      c.birth_date = k.given;
      c.sex = k.sex;
      auto r = Register(c);
      ASSERT_EQ(RefusedFields(r), std::vector<std::string>{k.field});
      EXPECT_NE(r.error().fields[0].message.find(k.says), std::string::npos) << r.error().fields[0].message;
    }
  }
  // A woman's code (day + 40) given as a man: only the sex is wrong.
  RegisterPerson woman = Person(birth, Sex::kFemale);
  woman.sex = Sex::kMale;
  EXPECT_EQ(RefusedFields(Register(woman)), std::vector<std::string>{"sex"});
}

TEST(TaxCodeCenturyTest, DisagreementsListEveryPartThatDiffers) {
  auto tc = ParseTaxCode(ComposeTaxCode("Bianchi", "Giovanni", Date::FromYmd(1923, 7, 28), 'M', "L219"),
                         Today().ToDate());
  ASSERT_TRUE(tc);
  EXPECT_EQ(tc->year_digits, 23);
  EXPECT_EQ(tc->month, 7u);
  EXPECT_EQ(tc->day, 28u);
  EXPECT_TRUE(TaxCodeDisagreements(*tc, Date::FromYmd(1923, 7, 28), 'M').empty());
  EXPECT_TRUE(TaxCodeDisagreements(*tc, Date::FromYmd(2023, 7, 28), 'M').empty());  // the century is the date's
  auto all = TaxCodeDisagreements(*tc, Date::FromYmd(1924, 8, 29), 'F');
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].field, "birth_date");
  EXPECT_EQ(all[0].message,
            "birth date 1924-08-29 does not match the tax code: the code's year ends in 23, not in 24, "
            "the code's month is 07 (letter L), not 08, the code's day is 28, not 29");
  EXPECT_EQ(all[1].field, "sex");
}

}  // namespace
}  // namespace caseledger::domain
