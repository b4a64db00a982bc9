#include "domain/tax_code.h"

#include <array>
#include <chrono>
#include <cstdio>

namespace caseledger::domain {
namespace {

constexpr std::string_view kMonthLetters = "ABCDEHLMPRST";
constexpr std::string_view kOmocodiaLetters = "LMNPQRSTUV";  // stand for 0..9
constexpr std::string_view kVowels = "AEIOU";
constexpr std::array<size_t, 7> kDigitPositions = {6, 7, 9, 10, 12, 13, 14};
constexpr size_t kLength = 16;

// Values of a character in an odd (1st, 3rd, ...) position, DM 23/12/1976 table; digits
// weigh as the letter of the same index (0 as A, 1 as B, ...).
constexpr std::array<int, 26> kOddValues = {1,  0,  5, 7, 9, 13, 15, 17, 19, 21, 2,  4,  18,
                                            20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23};

// Base letter of U+00C0..U+00FF (the second byte of a 0xC3 UTF-8 sequence, minus 0x80);
// '_' for characters that have none.
constexpr std::string_view kLatin1Letters =
    "AAAAAA_CEEEEIIIIDNOOOOO_OUUUUY__"   // U+00C0..U+00DF
    "AAAAAA_CEEEEIIIIDNOOOOO_OUUUUY_Y";  // U+00E0..U+00FF
static_assert(kLatin1Letters.size() == 64);

bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
char ToUpper(char c) { return (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c; }

// 0..9 for a digit or an omocodia letter, -1 otherwise.
int DigitValue(char c) {
  if (IsDigit(c)) return c - '0';
  size_t p = kOmocodiaLetters.find(c);
  return p == std::string_view::npos ? -1 : int(p);
}

int TwoDigits(const std::string& code, size_t pos) {
  return DigitValue(code[pos]) * 10 + DigitValue(code[pos + 1]);
}

std::string Quote(char c) {
  if (c > 0x20 && c < 0x7f) return std::string("'") + c + "'";
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", unsigned(static_cast<unsigned char>(c)));
  return buf;
}

std::string_view Trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// The letters A-Z of a UTF-8 name, upper case, accents dropped, everything else skipped.
std::string Letters(std::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = ToUpper(name[i]);
    if (IsUpper(c)) {
      out += c;
    } else if (static_cast<unsigned char>(c) == 0xC3 && i + 1 < name.size()) {
      unsigned char next = static_cast<unsigned char>(name[i + 1]);
      if (next >= 0x80 && next <= 0xBF) {
        if (kLatin1Letters[next - 0x80] != '_') out += kLatin1Letters[next - 0x80];
        ++i;
      }
    }
  }
  return out;
}

bool IsVowel(char c) { return kVowels.find(c) != std::string_view::npos; }

// Consonants, then vowels, then 'X', first three.
std::string ConsonantsVowelsPadding(const std::string& consonants, const std::string& letters) {
  std::string out = consonants;
  for (char c : letters) {
    if (IsVowel(c)) out += c;
  }
  out += "XXX";
  return out.substr(0, 3);
}

std::string Consonants(const std::string& letters) {
  std::string out;
  for (char c : letters) {
    if (!IsVowel(c)) out += c;
  }
  return out;
}

// The first structural problem of an upper-case 16-character code, or an empty string.
std::string ShapeProblem(const std::string& code) {
  for (size_t i = 0; i < kLength; ++i) {
    bool digit_slot = false;
    for (size_t p : kDigitPositions) digit_slot |= (p == i);
    if (digit_slot && DigitValue(code[i]) < 0) {
      return "character " + std::to_string(i + 1) + " must be a digit (or omocodia letter " +
             std::string(kOmocodiaLetters) + "), got " + Quote(code[i]);
    }
    if (!digit_slot && !IsUpper(code[i])) {
      return "character " + std::to_string(i + 1) + " must be a letter, got " + Quote(code[i]);
    }
  }
  if (kMonthLetters.find(code[8]) == std::string_view::npos) {
    return "month letter " + Quote(code[8]) + " is not valid (expected one of " +
           std::string(kMonthLetters) + ")";
  }
  int day = TwoDigits(code, 9);
  if (day < 1 || (day > 31 && day < 41) || day > 71) {
    std::string dd = std::to_string(day);
    if (day < 10) dd.insert(dd.begin(), '0');
    return "day " + dd + " is not valid (01-31, or 41-71 for women)";
  }
  if (TaxCodeCheckCharacter(code) != code[15]) {
    return "check character " + Quote(code[15]) + " does not match the rest of the code";
  }
  return {};
}

}  // namespace

char TaxCodeCheckCharacter(std::string_view first15) {
  int sum = 0;
  for (size_t i = 0; i < 15 && i < first15.size(); ++i) {
    char c = first15[i];
    int index = IsDigit(c) ? c - '0' : c - 'A';
    if (index < 0 || index > 25) index = 0;  // precondition broken: stay defined
    // Positions are counted from 1 in the decree: index 0 is "odd".
    sum += (i % 2 == 0) ? kOddValues[size_t(index)] : index;
  }
  return char('A' + sum % 26);
}

Result<TaxCode> ParseTaxCode(std::string_view text, Date today, std::string_view field) {
  std::string_view trimmed = Trim(text);
  if (trimmed.size() != kLength) {
    return Error::Invalid(std::string(field),
                          "must be 16 characters, got " + std::to_string(trimmed.size()));
  }
  std::string code;
  for (char c : trimmed) code += ToUpper(c);
  if (std::string problem = ShapeProblem(code); !problem.empty()) {
    return Error::Invalid(std::string(field), std::move(problem));
  }

  TaxCode tc;
  tc.code = code;
  int day = TwoDigits(code, 9);
  tc.sex = day > 40 ? 'F' : 'M';
  if (day > 40) day -= 40;
  unsigned month = unsigned(kMonthLetters.find(code[8])) + 1;
  int yy = TwoDigits(code, 6);
  tc.year_digits = yy;
  tc.month = month;
  tc.day = unsigned(day);

  // Latest year ending in `yy` that is not after today's, then the century before it.
  int this_year = int(today.Ymd().year());
  int year = this_year - (((this_year - yy) % 100) + 100) % 100;
  bool found = false;
  for (int candidate : {year, year - 100}) {
    std::chrono::year_month_day ymd{std::chrono::year{candidate}, std::chrono::month{month},
                                    std::chrono::day{unsigned(day)}};
    if (!ymd.ok()) continue;
    Date d = Date::FromYmd(candidate, month, unsigned(day));
    if (d > today) continue;
    tc.birth_date = d;
    found = true;
    break;
  }
  if (!found) {
    return Error::Invalid(std::string(field), "birth date (day " + std::to_string(day) +
                                                  ", month " + std::to_string(month) +
                                                  ") is not a calendar day");
  }

  tc.birthplace = code.substr(11, 4);
  for (size_t i = 1; i < 4; ++i) tc.birthplace[i] = char('0' + DigitValue(tc.birthplace[i]));
  return tc;
}

std::vector<FieldError> TaxCodeDisagreements(const TaxCode& tc, Date birth_date, char sex) {
  std::vector<FieldError> out;
  const auto ymd = birth_date.Ymd();
  const int year = int(ymd.year());
  char buf[96];
  std::string parts;
  auto part = [&](const char* text) { parts += (parts.empty() ? "" : ", ") + std::string(text); };
  if (((year % 100) + 100) % 100 != tc.year_digits) {
    std::snprintf(buf, sizeof buf, "the code's year ends in %02d, not in %02d", tc.year_digits, year % 100);
    part(buf);
  }
  if (unsigned(ymd.month()) != tc.month) {
    std::snprintf(buf, sizeof buf, "the code's month is %02u (letter %c), not %02u", tc.month, tc.code[8],
                  unsigned(ymd.month()));
    part(buf);
  }
  if (unsigned(ymd.day()) != tc.day) {
    std::snprintf(buf, sizeof buf, "the code's day is %02u, not %02u", tc.day, unsigned(ymd.day()));
    part(buf);
  }
  if (!parts.empty()) {
    out.push_back({"birth_date", "birth date " + birth_date.ToString() + " does not match the tax code: " + parts});
  }
  if (sex != tc.sex) {
    out.push_back({"sex", std::string("sex ") + sex + " does not match the tax code, which says " + tc.sex +
                              (tc.sex == 'F' ? " (day + 40)" : " (day without 40 added)")});
  }
  return out;
}

std::string EncodeFamilyName(std::string_view family_name) {
  std::string letters = Letters(family_name);
  return ConsonantsVowelsPadding(Consonants(letters), letters);
}

std::string EncodeGivenNames(std::string_view given_names) {
  std::string letters = Letters(given_names);
  std::string consonants = Consonants(letters);
  if (consonants.size() > 3) return {consonants[0], consonants[2], consonants[3]};
  return ConsonantsVowelsPadding(consonants, letters);
}

bool TaxCodeMatchesNames(const TaxCode& tc, std::string_view family_name,
                         std::string_view given_names) {
  if (tc.code.size() < 6) return false;
  return tc.code.compare(0, 3, EncodeFamilyName(family_name)) == 0 &&
         tc.code.compare(3, 3, EncodeGivenNames(given_names)) == 0;
}

std::string ComposeTaxCode(std::string_view family_name, std::string_view given_names,
                           Date birth_date, char sex, std::string_view belfiore) {
  auto ymd = birth_date.Ymd();
  unsigned day = unsigned(ymd.day()) + (sex == 'F' ? 40 : 0);
  char digits[32];
  std::snprintf(digits, sizeof digits, "%02d%c%02u", int(ymd.year()) % 100,
                kMonthLetters[unsigned(ymd.month()) - 1], day);
  std::string code = EncodeFamilyName(family_name) + EncodeGivenNames(given_names) + digits;
  for (char c : belfiore) code += ToUpper(c);
  code += TaxCodeCheckCharacter(code);
  return code;
}

}  // namespace caseledger::domain
