#include "domain/tax_code.h"

#include <gtest/gtest.h>

#include <array>
#include <string>

namespace caseledger::domain {
namespace {

// Check letters below were computed independently (a separate script implementing the
// DM 23/12/1976 tables), not with the code under test.
const Date kToday = Date::FromYmd(2021, 3, 1);

std::string OnlyMessage(const Result<TaxCode>& r) {
  EXPECT_FALSE(r);
  if (r) return {};
  EXPECT_EQ(r.error().fields.size(), 1u);
  EXPECT_EQ(r.error().fields.front().field, "tax_code");
  return r.error().fields.front().message;
}

TEST(TaxCodeTest, ParsesTheDocumentedMaleExample) {
  // Mario Rossi, born 10 Dec 1985 in San Giuliano Terme (A562).
  auto r = ParseTaxCode("RSSMRA85T10A562S", kToday);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->code, "RSSMRA85T10A562S");
  EXPECT_EQ(r->birth_date.ToString(), "1985-12-10");
  EXPECT_EQ(r->sex, 'M');
  EXPECT_EQ(r->birthplace, "A562");
}

TEST(TaxCodeTest, ParsesAnOldCodeIntoThePreviousCentury) {
  // Matteo Moretti, born 9 Apr 1925 in Milano (F205): the example of the Italian Wikipedia.
  auto r = ParseTaxCode("MRTMTT25D09F205Z", kToday);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->birth_date.ToString(), "1925-04-09");
  EXPECT_EQ(r->birthplace, "F205");
}

TEST(TaxCodeTest, DayPlusFortyMeansFemale) {
  auto r = ParseTaxCode("BNCGLI90D65L219R", kToday);  // Giulia Bianchi, Torino
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->sex, 'F');
  EXPECT_EQ(r->birth_date.ToString(), "1990-04-25");
  EXPECT_EQ(r->birthplace, "L219");
}

TEST(TaxCodeTest, CenturyIsTheLatestNotAfterToday) {
  // Born 3 Feb 2001 abroad (Z404, United States).
  auto r = ParseTaxCode("SPSNNA01B43Z404Y", kToday);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->birth_date.ToString(), "2001-02-03");
  EXPECT_EQ(r->birthplace, "Z404");
  EXPECT_EQ(r->sex, 'F');
  // The same code read in 2000 cannot be a future birth: it is 1901.
  auto old = ParseTaxCode("SPSNNA01B43Z404Y", Date::FromYmd(2000, 6, 1));
  ASSERT_TRUE(old);
  EXPECT_EQ(old->birth_date.ToString(), "1901-02-03");
  // The day before the 100th birthday, 2085 would be a future year: it is 1985.
  auto edge = ParseTaxCode("RSSMRA85T10A562S", Date::FromYmd(2085, 12, 9));
  ASSERT_TRUE(edge);
  EXPECT_EQ(edge->birth_date.ToString(), "1985-12-10");
}

TEST(TaxCodeTest, LeapDayPicksALeapCentury) {
  auto r = ParseTaxCode("RSSMRA00B69L219U", kToday);  // 29 Feb 2000
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->birth_date.ToString(), "2000-02-29");
}

TEST(TaxCodeTest, LowerCaseAndSpacesAreNormalised) {
  auto r = ParseTaxCode("  rssmra85t10a562s\n", kToday);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->code, "RSSMRA85T10A562S");
}

TEST(TaxCodeTest, EveryOmocodiaPositionDecodesToTheSameData) {
  const std::array<const char*, 8> variants = {
      "RSSMRAU5T10A562P",  // position 7
      "RSSMRA8RT10A562E",  // 8
      "RSSMRA85TM0A562D",  // 10
      "RSSMRA85T1LA562V",  // 11
      "RSSMRA85T10AR62N",  // 13
      "RSSMRA85T10A5S2E",  // 14
      "RSSMRA85T10A56NH",  // 15
      "RSSMRAURTMLARSNL",  // all seven
  };
  for (const char* code : variants) {
    auto r = ParseTaxCode(code, kToday);
    ASSERT_TRUE(r) << code << ": " << r.error().message;
    EXPECT_EQ(r->code, code);
    EXPECT_EQ(r->birth_date.ToString(), "1985-12-10") << code;
    EXPECT_EQ(r->birthplace, "A562") << code;
    EXPECT_EQ(r->sex, 'M') << code;
  }
}

TEST(TaxCodeTest, WrongCheckLetterIsRejected) {
  EXPECT_NE(OnlyMessage(ParseTaxCode("RSSMRA85T10A562T", kToday)).find("check character"),
            std::string::npos);
  // A single-digit typo is caught by the check letter too.
  EXPECT_NE(OnlyMessage(ParseTaxCode("RSSMRA85T11A562S", kToday)).find("check character"),
            std::string::npos);
}

TEST(TaxCodeTest, WrongLengthIsRejected) {
  EXPECT_EQ(OnlyMessage(ParseTaxCode("RSSMRA85T10A562", kToday)), "must be 16 characters, got 15");
  EXPECT_EQ(OnlyMessage(ParseTaxCode("", kToday)), "must be 16 characters, got 0");
  EXPECT_EQ(OnlyMessage(ParseTaxCode("RSSMRA85T10A562SS", kToday)),
            "must be 16 characters, got 17");
}

TEST(TaxCodeTest, BadMonthLetterIsNamed) {
  std::string code = "RSSMRA85X10A562";
  code += TaxCodeCheckCharacter(code);
  EXPECT_NE(OnlyMessage(ParseTaxCode(code, kToday)).find("month letter 'X' is not valid"),
            std::string::npos);
}

TEST(TaxCodeTest, DaysOutsideBothRangesAreRejected) {
  for (const char* day : {"32", "72", "00", "40"}) {
    std::string code = std::string("RSSMRA85T") + day + "A562";
    code += TaxCodeCheckCharacter(code);
    EXPECT_NE(OnlyMessage(ParseTaxCode(code, kToday)).find(std::string("day ") + day),
              std::string::npos)
        << day;
  }
  // 31 is a valid day number but not in April.
  std::string april31 = "RSSMRA85D31A562";
  april31 += TaxCodeCheckCharacter(april31);
  EXPECT_NE(OnlyMessage(ParseTaxCode(april31, kToday)).find("not a calendar day"),
            std::string::npos);
}

TEST(TaxCodeTest, CharacterClassesAreEnforcedPerPosition) {
  EXPECT_NE(OnlyMessage(ParseTaxCode("RSSMR185T10A562S", kToday)).find("character 6"),
            std::string::npos);
  // 'A' is not an omocodia letter.
  EXPECT_NE(OnlyMessage(ParseTaxCode("RSSMRAA5T10A562S", kToday)).find("character 7"),
            std::string::npos);
  EXPECT_NE(OnlyMessage(ParseTaxCode("RSSMRA85T1 A562S", kToday)).find("character 11"),
            std::string::npos);
}

TEST(TaxCodeTest, NamesEncodeAsConsonantsThenVowelsThenX) {
  EXPECT_EQ(EncodeFamilyName("Rossi"), "RSS");
  EXPECT_EQ(EncodeFamilyName("Fo"), "FOX");
  EXPECT_EQ(EncodeFamilyName("Re"), "REX");
  EXPECT_EQ(EncodeFamilyName("De Luca"), "DLC");
  EXPECT_EQ(EncodeFamilyName("D'Amico"), "DMC");
  EXPECT_EQ(EncodeFamilyName("Bianchi"), "BNC");
  EXPECT_EQ(EncodeGivenNames("Mario"), "MRA");
  EXPECT_EQ(EncodeGivenNames("Giulia"), "GLI");
  EXPECT_EQ(EncodeGivenNames("Ugo"), "GUO");
  EXPECT_EQ(EncodeGivenNames("Gianfranco"), "GFR");  // G N F R N C: 1st, 3rd, 4th
  EXPECT_EQ(EncodeGivenNames("Giuseppe"), "GPP");    // G S P P: 1st, 3rd, 4th
  EXPECT_EQ(EncodeGivenNames("Niccolò"), "NCL");     // N C C L
  EXPECT_EQ(EncodeGivenNames("Zoë"), "ZOE");
}

TEST(TaxCodeTest, MatchesNamesComparesTheFirstSixLetters) {
  auto tc = ParseTaxCode("RSSMRA85T10A562S", kToday);
  ASSERT_TRUE(tc);
  EXPECT_TRUE(TaxCodeMatchesNames(*tc, "Rossi", "Mario"));
  EXPECT_TRUE(TaxCodeMatchesNames(*tc, "ROSSI", "mario"));
  EXPECT_FALSE(TaxCodeMatchesNames(*tc, "Rossi", "Maria Grazia"));
  EXPECT_FALSE(TaxCodeMatchesNames(*tc, "Ricci", "Mario"));
  EXPECT_FALSE(TaxCodeMatchesNames(*tc, "Mario", "Rossi"));
  auto gianfranco = ParseTaxCode("DLCGFR75L01L219T", kToday);
  ASSERT_TRUE(gianfranco) << gianfranco.error().message;
  EXPECT_TRUE(TaxCodeMatchesNames(*gianfranco, "De Luca", "Gianfranco"));
}

TEST(TaxCodeTest, ComposeGivesTheKnownCodes) {
  EXPECT_EQ(ComposeTaxCode("Rossi", "Mario", Date::FromYmd(1985, 12, 10), 'M', "A562"),
            "RSSMRA85T10A562S");
  EXPECT_EQ(ComposeTaxCode("Bianchi", "Giulia", Date::FromYmd(1990, 4, 25), 'F', "L219"),
            "BNCGLI90D65L219R");
  EXPECT_EQ(ComposeTaxCode("Re", "Ugo", Date::FromYmd(1960, 1, 31), 'M', "F205"),
            "REXGUO60A31F205L");
  EXPECT_EQ(ComposeTaxCode("Fo", "Dario", Date::FromYmd(1926, 3, 24), 'M', "l219"),
            "FOXDRA26C24L219Y");
}

TEST(TaxCodeTest, ComposedCodesRoundTripThroughParse) {
  struct Person {
    const char* family;
    const char* given;
    Date birth;
    char sex;
    const char* belfiore;
  };
  const Person people[] = {
      {"Esposito", "Anna", Date::FromYmd(2001, 2, 3), 'F', "Z404"},
      {"Verdi", "Giuseppe", Date::FromYmd(1933, 10, 10), 'M', "A001"},
      {"Colombo", "Lucia", Date::FromYmd(2020, 12, 31), 'F', "L219"},
      {"Ferrari", "Luca", Date::FromYmd(1950, 1, 1), 'M', "D969"},
  };
  for (const Person& p : people) {
    std::string code = ComposeTaxCode(p.family, p.given, p.birth, p.sex, p.belfiore);
    auto r = ParseTaxCode(code, kToday);
    ASSERT_TRUE(r) << code << ": " << r.error().message;
    EXPECT_EQ(r->birth_date, p.birth) << code;
    EXPECT_EQ(r->sex, p.sex) << code;
    EXPECT_EQ(r->birthplace, p.belfiore) << code;
    EXPECT_TRUE(TaxCodeMatchesNames(*r, p.family, p.given)) << code;
  }
}

TEST(TaxCodeTest, UsesTheGivenFieldName) {
  auto r = ParseTaxCode("XXX", kToday, "contact.tax_code");
  ASSERT_FALSE(r);
  ASSERT_EQ(r.error().fields.size(), 1u);
  EXPECT_EQ(r.error().fields[0].field, "contact.tax_code");
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace caseledger::domain
