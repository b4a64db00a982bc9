#include "domain/validation.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace caseledger::domain {
namespace {

// The one field error of a rejected result, checked to be for `field`.
template <class T>
std::string Rejection(const Result<T>& r, std::string_view field) {
  EXPECT_FALSE(r);
  if (r) return {};
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().fields.size(), 1u);
  if (r.error().fields.empty()) return {};
  EXPECT_EQ(r.error().fields[0].field, field);
  return r.error().fields[0].message;
}

Timestamp At(const char* rfc3339) { return *Timestamp::Parse(rfc3339); }

std::shared_ptr<const ReferenceData> TinyReference() {
  constexpr std::string_view kComuni =
      "istat_code,name,province_code,province_abbr,province_name,region_code,region_name,"
      "cadastral_code,population\n"
      "001272,Torino,001,TO,Torino,01,Piemonte,L219,872367\n"
      "004078,Cuneo,004,CN,Cuneo,01,Piemonte,D205,55464\n";
  constexpr std::string_view kAsl =
      "istat_code,asl_code,asl_name\n"
      "001272,TO,ASL Città di Torino\n"
      "004078,CN1,ASL CN1\n";
  auto ref = ReferenceData::Parse(kComuni, kAsl);
  EXPECT_TRUE(ref) << ref.error().message;
  return ref ? *ref : nullptr;
}

TEST(ValidationTest, IstatCodeMustBeSixDigitsAndKnown) {
  auto ref = TinyReference();
  ASSERT_TRUE(ref);
  EXPECT_EQ(ValidateIstatCode(" 001272 ", *ref, "residence.istat").value(), "001272");
  EXPECT_NE(Rejection(ValidateIstatCode("1272", *ref, "residence.istat"), "residence.istat")
                .find("6-digit"),
            std::string::npos);
  EXPECT_NE(Rejection(ValidateIstatCode("00127A", *ref, "istat"), "istat").find("6-digit"),
            std::string::npos);
  EXPECT_NE(Rejection(ValidateIstatCode("001999", *ref, "istat"), "istat")
                .find("not a known municipality"),
            std::string::npos);
}

TEST(ValidationTest, SchoolCodeHasTheMeccanograficoShape) {
  EXPECT_EQ(ValidateSchoolCode("TOIC81200X", "school").value(), "TOIC81200X");
  EXPECT_EQ(ValidateSchoolCode("topc01000b", "school").value(), "TOPC01000B");
  EXPECT_EQ(ValidateSchoolCode("TOEE123456", "school").value(), "TOEE123456");
  Rejection(ValidateSchoolCode("TOIC8120X", "school"), "school");   // 9 characters
  Rejection(ValidateSchoolCode("T0IC81200X", "school"), "school");  // digit in province
  Rejection(ValidateSchoolCode("TO1C81200X", "school"), "school");  // digit in type
  Rejection(ValidateSchoolCode("TOIC812-0X", "school"), "school");  // punctuation
}

TEST(ValidationTest, ClassLabelIsYearThenSection) {
  EXPECT_EQ(ValidateClassLabel("3B", "class").value(), "3B");
  EXPECT_EQ(ValidateClassLabel("5as", "class").value(), "5AS");
  EXPECT_EQ(ValidateClassLabel("2", "class").value(), "2");
  EXPECT_EQ(ValidateClassLabel("08C", "class").value(), "8C");
  Rejection(ValidateClassLabel("0A", "class"), "class");
  Rejection(ValidateClassLabel("9A", "class"), "class");
  Rejection(ValidateClassLabel("B3", "class"), "class");
  Rejection(ValidateClassLabel("1ABCD", "class"), "class");
  Rejection(ValidateClassLabel("3 B", "class"), "class");
  Rejection(ValidateClassLabel("", "class"), "class");
}

TEST(ValidationTest, GpAndLabIdsAreRegistryShapes) {
  EXPECT_EQ(ValidateGpId("a1234", "gp_id").value(), "A1234");
  EXPECT_EQ(ValidateGpId("12345678", "gp_id").value(), "12345678");
  Rejection(ValidateGpId("A12", "gp_id"), "gp_id");
  Rejection(ValidateGpId("ABCDEF", "gp_id"), "gp_id");  // no digit
  Rejection(ValidateGpId("A12-34", "gp_id"), "gp_id");
  Rejection(ValidateGpId("A1234567890123456", "gp_id"), "gp_id");  // 17

  EXPECT_EQ(ValidateLabId("lab_to-01", "lab_id").value(), "LAB_TO-01");
  EXPECT_EQ(ValidateLabId("MOL", "lab_id").value(), "MOL");
  Rejection(ValidateLabId("AB", "lab_id"), "lab_id");
  Rejection(ValidateLabId("LAB TO", "lab_id"), "lab_id");
}

TEST(ValidationTest, SwabIdKeepsCase) {
  EXPECT_EQ(ValidateSwabId("Ab-123456", "swab_id").value(), "Ab-123456");
  Rejection(ValidateSwabId("12345", "swab_id"), "swab_id");
  Rejection(ValidateSwabId("AB_123456", "swab_id"), "swab_id");
  Rejection(ValidateSwabId(std::string(41, '7'), "swab_id"), "swab_id");
}

TEST(ValidationTest, PersonIdIsAnUpperCaseUlid) {
  EXPECT_EQ(ValidatePersonId("01ARZ3NDEKTSV4RRFFQ69G5FAV", "person_id").value(),
            "01ARZ3NDEKTSV4RRFFQ69G5FAV");
  EXPECT_EQ(ValidatePersonId("01arz3ndektsv4rrffq69g5fav", "person_id").value(),
            "01ARZ3NDEKTSV4RRFFQ69G5FAV");
  Rejection(ValidatePersonId("01ARZ3NDEKTSV4RRFFQ69G5FA", "person_id"), "person_id");
  Rejection(ValidatePersonId("01ARZ3NDEKTSV4RRFFQ69G5FAU", "person_id"), "person_id");  // U
  Rejection(ValidatePersonId("81ARZ3NDEKTSV4RRFFQ69G5FAV", "person_id"), "person_id");
  Rejection(ValidatePersonId("550e8400-e29b-41d4-a716-446655440000", "person_id"), "person_id");
  // Blanks around it are trimmed; mixed case is read as upper case.
  EXPECT_EQ(ValidatePersonId("  01ArZ3nDeKtSv4RrFfQ69g5fAv\t", "person_id").value(),
            "01ARZ3NDEKTSV4RRFFQ69G5FAV");
  EXPECT_EQ(ValidatePersonId("7ZZZZZZZZZZZZZZZZZZZZZZZZZ", "person_id").value(), "7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
  // I, L, O and U are not Crockford characters, in either case; nor is anything else.
  for (char c : std::string("ILOUilou-_ \x7f\x80\xff\0")) {
    std::string id = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
    id[13] = c;
    Rejection(ValidatePersonId(id, "person_id"), "person_id");
  }
  std::string with_nul("01ARZ3NDEKTSV4RRFFQ69G5FA\0", 26);
  Rejection(ValidatePersonId(with_nul, "person_id"), "person_id");
}

// The query's check without the copy says what the validation says, for every case above.
TEST(ValidationTest, IsPersonIdAgreesWithTheValidation) {
  std::vector<std::string> ids = {"01ARZ3NDEKTSV4RRFFQ69G5FAV", "01arz3ndektsv4rrffq69g5fav",
                                  "01ARZ3NDEKTSV4RRFFQ69G5FA",  "01ARZ3NDEKTSV4RRFFQ69G5FAU",
                                  "81ARZ3NDEKTSV4RRFFQ69G5FAV", "550e8400-e29b-41d4-a716-446655440000",
                                  "  01ArZ3nDeKtSv4RrFfQ69g5fAv\t", "7ZZZZZZZZZZZZZZZZZZZZZZZZZ",
                                  std::string("01ARZ3NDEKTSV4RRFFQ69G5FA\0", 26), "", "01ARZ3NDEKTSV4RRFFQ69G5FAVX"};
  for (char c : std::string("ILOUilou-_ \x7f\x80\xff\0", 15)) {
    std::string id = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
    id[13] = c;
    ids.push_back(id);
  }
  int accepted = 0;
  for (const std::string& id : ids) {
    const bool valid = ValidatePersonId(id, "person_id").has_value();
    EXPECT_EQ(IsPersonId(id), valid) << "\"" << id << "\"";
    accepted += valid;
  }
  EXPECT_EQ(accepted, 4);
}

TEST(ValidationTest, EffectiveDateIsNotInTheFutureOfItaly) {
  // 22:30 UTC on 12 Oct is already 13 Oct in Rome.
  Timestamp now = At("2020-10-12T22:30:00Z");
  EXPECT_TRUE(ValidateEffectiveDate(Date::FromYmd(2020, 10, 13), now, "effective_at"));
  EXPECT_TRUE(ValidateEffectiveDate(Date::FromYmd(2020, 1, 1), now, "effective_at"));
  EXPECT_NE(Rejection(ValidateEffectiveDate(Date::FromYmd(2020, 10, 14), now, "effective_at"),
                      "effective_at")
                .find("future"),
            std::string::npos);
  Rejection(ValidateEffectiveDate(Date::FromYmd(2019, 12, 31), now, "effective_at"),
            "effective_at");
  // Three minutes before midnight in Rome, the next day is within the allowed clock skew.
  Timestamp late = At("2020-10-12T21:57:00Z");
  EXPECT_TRUE(ValidateEffectiveDate(Date::FromYmd(2020, 10, 13), late, "effective_at"));
  Timestamp earlier = At("2020-10-12T21:50:00Z");
  Rejection(ValidateEffectiveDate(Date::FromYmd(2020, 10, 13), earlier, "effective_at"),
            "effective_at");
}

TEST(ValidationTest, EffectiveInstantAllowsClockSkewOnly) {
  Timestamp now = At("2021-01-10T10:00:00Z");
  EXPECT_TRUE(ValidateEffectiveInstant(At("2021-01-10T10:04:59Z"), now, "collected_at"));
  Rejection(ValidateEffectiveInstant(At("2021-01-10T10:05:01Z"), now, "collected_at"),
            "collected_at");
  // 2020-01-01 starts at 23:00 UTC the day before in Rome.
  EXPECT_TRUE(ValidateEffectiveInstant(At("2019-12-31T23:00:00Z"), now, "collected_at"));
  EXPECT_NE(Rejection(ValidateEffectiveInstant(At("2019-12-31T22:59:59Z"), now, "collected_at"),
                      "collected_at")
                .find("before 2020-01-01"),
            std::string::npos);
}

TEST(ValidationTest, BirthDateIsPastAndPlausible) {
  Timestamp now = At("2021-01-10T10:00:00Z");
  EXPECT_TRUE(ValidateBirthDate(Date::FromYmd(2021, 1, 10), now, "birth_date"));
  EXPECT_TRUE(ValidateBirthDate(Date::FromYmd(1890, 1, 1), now, "birth_date"));
  Rejection(ValidateBirthDate(Date::FromYmd(2021, 1, 11), now, "birth_date"), "birth_date");
  Rejection(ValidateBirthDate(Date::FromYmd(1889, 12, 31), now, "birth_date"), "birth_date");
}

TEST(ValidationTest, NameIsTrimmedUtf8WithoutControls) {
  EXPECT_EQ(ValidateName("  Niccolò D'Amico ", "given_names").value(), "Niccolò D'Amico");
  EXPECT_EQ(ValidateName("Ζωή 张", "given_names").value(), "Ζωή 张");
  EXPECT_EQ(ValidateName(std::string(100, 'a'), "family_name").value().size(), 100u);
  Rejection(ValidateName("   ", "family_name"), "family_name");
  Rejection(ValidateName(std::string(101, 'a'), "family_name"), "family_name");
  Rejection(ValidateName("Ros\tsi", "family_name"), "family_name");
  Rejection(ValidateName("Rossi\x7f", "family_name"), "family_name");
  Rejection(ValidateName("Rossi\xc2\x85", "family_name"), "family_name");  // C1 NEL
  Rejection(ValidateName("Ross\xe9", "family_name"), "family_name");       // Latin-1 é
  Rejection(ValidateName("\xc0\xaf", "family_name"), "family_name");       // overlong '/'
  Rejection(ValidateName("\xed\xa0\x80", "family_name"), "family_name");   // surrogate
}

TEST(ValidationTest, PhoneKeepsPlusAndDigits) {
  EXPECT_EQ(ValidatePhone("+39 011 123 4567", "phone").value(), "+390111234567");
  EXPECT_EQ(ValidatePhone("3331234567", "phone").value(), "3331234567");
  Rejection(ValidatePhone("12345", "phone"), "phone");
  Rejection(ValidatePhone("+", "phone"), "phone");
  Rejection(ValidatePhone("011-1234567", "phone"), "phone");
  Rejection(ValidatePhone("39+0111234567", "phone"), "phone");
  Rejection(ValidatePhone(std::string(17, '1'), "phone"), "phone");
}

TEST(ValidationTest, FieldErrorsCollectsEveryProblem) {
  FieldErrors errors;
  auto phone = errors.Take(ValidatePhone("+39 333 1234567", "phone"));
  auto gp = errors.Take(ValidateGpId("??", "gp_id"));
  auto swab = Check(ValidateSwabId("x", "swab_id"), errors);
  ASSERT_TRUE(phone);
  EXPECT_EQ(*phone, "+393331234567");
  EXPECT_FALSE(gp);
  EXPECT_FALSE(swab);
  errors.Add("address", "must not be empty");
  ASSERT_FALSE(errors.empty());
  Error e = errors.ToError();
  EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
  ASSERT_EQ(e.fields.size(), 3u);
  EXPECT_EQ(e.fields[0].field, "gp_id");
  EXPECT_EQ(e.fields[1].field, "swab_id");
  EXPECT_EQ(e.fields[2].field, "address");
  EXPECT_EQ(e.message, e.fields[0].message);
}

TEST(ValidationTest, FieldErrorsStartsEmpty) {
  FieldErrors errors;
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(errors.Take(Result<int>(7)), 7);
  EXPECT_TRUE(errors.empty());
}

}  // namespace
}  // namespace caseledger::domain
