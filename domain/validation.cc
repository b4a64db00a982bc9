#include "domain/validation.h"

#include <algorithm>
#include <array>

namespace caseledger::domain {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsLetter(char c) { return IsUpper(c) || (c >= 'a' && c <= 'z'); }
bool IsAlnum(char c) { return IsDigit(c) || IsLetter(c); }
char ToUpper(char c) { return (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c; }

std::string_view Trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ToUpper(c);
  return out;
}

Error Invalid(std::string_view field, std::string message) {
  return Error::Invalid(std::string(field), std::move(message));
}

// Length in [min, max] and every character accepted by `ok`; otherwise the problem.
template <class Pred>
std::optional<std::string> ShapeProblem(std::string_view s, size_t min, size_t max, Pred ok,
                                        std::string_view allowed) {
  if (s.size() < min || s.size() > max) {
    return "must be " + std::to_string(min) + "-" + std::to_string(max) + " characters, got " +
           std::to_string(s.size());
  }
  if (!std::all_of(s.begin(), s.end(), ok)) {
    return "may contain only " + std::string(allowed);
  }
  return std::nullopt;
}

// Length in bytes of the valid UTF-8 sequence at `s[i]` that is not a control character
// (C0, DEL, C1), or 0.
size_t AcceptableUtf8At(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b = byte(i);
  if (b < 0x80) return (b < 0x20 || b == 0x7F) ? 0 : 1;
  size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
  if (b >= 0xC2 && b <= 0xDF) {
    len = 2;
    if (b == 0xC2) lo = 0xA0;  // U+0080..U+009F are C1 controls
  } else if (b >= 0xE0 && b <= 0xEF) {
    len = 3;
    if (b == 0xE0) lo = 0xA0;  // overlong
    if (b == 0xED) hi = 0x9F;  // surrogates
  } else if (b >= 0xF0 && b <= 0xF4) {
    len = 4;
    if (b == 0xF0) lo = 0x90;  // overlong
    if (b == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + len > s.size() || byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = i + 2; k < i + len; ++k) {
    if (byte(k) < 0x80 || byte(k) > 0xBF) return 0;
  }
  return len;
}

// A ULID's characters (Crockford base32: digits and letters but I, L, O and U), each as
// written in a valid id: a lower-case letter stands for its upper case. 0: not one of them.
constexpr std::array<char, 256> kUlidCharacters = [] {
  std::array<char, 256> table{};
  for (char c = '0'; c <= '9'; ++c) table[static_cast<unsigned char>(c)] = c;
  for (char c = 'A'; c <= 'Z'; ++c) {
    if (c == 'I' || c == 'L' || c == 'O' || c == 'U') continue;
    table[static_cast<unsigned char>(c)] = c;
    table[static_cast<unsigned char>(c - 'A' + 'a')] = c;
  }
  return table;
}();

}  // namespace

Result<std::string> ValidateIstatCode(std::string_view text, const ReferenceData& ref,
                                      std::string_view field) {
  std::string_view s = Trim(text);
  if (s.size() != 6 || !std::all_of(s.begin(), s.end(), IsDigit)) {
    return Invalid(field, "must be a 6-digit ISTAT municipality code");
  }
  if (ref.FindMunicipality(s) == nullptr) {
    return Invalid(field, "ISTAT code " + std::string(s) + " is not a known municipality");
  }
  return std::string(s);
}

Result<std::string> ValidateSchoolCode(std::string_view text, std::string_view field) {
  std::string s = Upper(Trim(text));
  if (s.size() != 10) {
    return Invalid(field, "must be a 10-character codice meccanografico, got " +
                              std::to_string(s.size()) + " characters");
  }
  if (!std::all_of(s.begin(), s.begin() + 4, IsUpper)) {
    return Invalid(field, "must start with 2 letters of province and 2 letters of school type");
  }
  if (!std::all_of(s.begin() + 4, s.end(), IsAlnum)) {
    return Invalid(field, "characters 5-10 must be letters or digits");
  }
  return s;
}

Result<std::string> ValidateClassLabel(std::string_view text, std::string_view field) {
  std::string s = Upper(Trim(text));
  size_t digits = 0;
  while (digits < s.size() && IsDigit(s[digits])) ++digits;
  int year = digits == 0 || digits > 2 ? 0 : std::stoi(s.substr(0, digits));
  if (year < 1 || year > 8) {
    return Invalid(field, "must start with the class year 1-8 (e.g. \"3B\")");
  }
  std::string section = s.substr(digits);
  if (section.size() > 3 || !std::all_of(section.begin(), section.end(), IsUpper)) {
    return Invalid(field, "the section after the year must be at most 3 letters");
  }
  return std::to_string(year) + section;
}

Result<std::string> ValidateGpId(std::string_view text, std::string_view field) {
  std::string s = Upper(Trim(text));
  auto ok = [](char c) { return IsDigit(c) || IsUpper(c); };
  if (auto problem = ShapeProblem(s, 4, 16, ok, "letters and digits")) {
    return Invalid(field, std::move(*problem));
  }
  if (std::none_of(s.begin(), s.end(), IsDigit)) {
    return Invalid(field, "must contain at least one digit");
  }
  return s;
}

Result<std::string> ValidateLabId(std::string_view text, std::string_view field) {
  std::string s = Upper(Trim(text));
  auto ok = [](char c) { return IsDigit(c) || IsUpper(c) || c == '_' || c == '-'; };
  if (auto problem = ShapeProblem(s, 3, 16, ok, "letters, digits, '_' and '-'")) {
    return Invalid(field, std::move(*problem));
  }
  return s;
}

Result<std::string> ValidateSwabId(std::string_view text, std::string_view field) {
  std::string s(Trim(text));
  auto ok = [](char c) { return IsAlnum(c) || c == '-'; };
  if (auto problem = ShapeProblem(s, 6, 40, ok, "letters, digits and '-'")) {
    return Invalid(field, std::move(*problem));
  }
  return s;
}

namespace {

// `text` trimmed, upper-cased into `out` when it is a person id; why not, otherwise.
std::optional<std::string_view> PersonIdInto(std::string_view text, char (&out)[26]) {
  const std::string_view trimmed = Trim(text);
  if (trimmed.size() == 26) {
    bool valid = true;
    for (size_t i = 0; i < 26; ++i) {
      const char c = kUlidCharacters[static_cast<unsigned char>(trimmed[i])];
      valid &= c != 0;
      out[i] = c;
    }
    if (valid) {
      if (out[0] > '7') return "is not a valid ULID (timestamp out of range)";
      return std::nullopt;
    }
  }
  return "must be a 26-character ULID (Crockford base32)";
}

}  // namespace

// Checked and upper-cased in one pass through a table (read on every person query: a copy
// upper-cased, then a check per character, cost ~500 instructions).
Result<std::string> ValidatePersonId(std::string_view text, std::string_view field) {
  char id[26];
  if (auto problem = PersonIdInto(text, id)) return Invalid(field, std::string(*problem));
  return std::string(id, sizeof id);
}

bool IsPersonId(std::string_view text) {
  char id[26];
  return !PersonIdInto(text, id);
}

Result<Date> ValidateEffectiveDate(Date d, Timestamp now, std::string_view field) {
  Date latest = Timestamp{now.micros + kMaxClockSkewMicros}.ToDate();
  Date earliest = Date::FromYmd(kEarliestEffectiveYear, 1, 1);
  if (d > latest) return Invalid(field, "date " + d.ToString() + " is in the future");
  if (d < earliest) {
    return Invalid(field, "date " + d.ToString() + " is before " + earliest.ToString());
  }
  return d;
}

Result<Timestamp> ValidateEffectiveInstant(Timestamp t, Timestamp now, std::string_view field) {
  Timestamp earliest = Timestamp::StartOfDay(Date::FromYmd(kEarliestEffectiveYear, 1, 1));
  if (t.micros > now.micros + kMaxClockSkewMicros) {
    return Invalid(field, "instant " + t.ToString() + " is in the future");
  }
  if (t < earliest) return Invalid(field, "instant " + t.ToString() + " is before 2020-01-01");
  return t;
}

Result<Date> ValidateBirthDate(Date d, Timestamp now, std::string_view field) {
  Date latest = Timestamp{now.micros + kMaxClockSkewMicros}.ToDate();
  Date earliest = Date::FromYmd(kEarliestBirthYear, 1, 1);
  if (d > latest) return Invalid(field, "birth date " + d.ToString() + " is in the future");
  if (d < earliest) {
    return Invalid(field, "birth date " + d.ToString() + " is before " + earliest.ToString());
  }
  return d;
}

Result<std::string> ValidateName(std::string_view text, std::string_view field) {
  std::string_view s = Trim(text);
  if (s.empty()) return Invalid(field, "must not be empty");
  if (s.size() > 100) return Invalid(field, "must be at most 100 bytes");
  for (size_t i = 0; i < s.size();) {
    size_t len = AcceptableUtf8At(s, i);
    if (len == 0) return Invalid(field, "must be valid UTF-8 without control characters");
    i += len;
  }
  return std::string(s);
}

Result<std::string> ValidatePhone(std::string_view text, std::string_view field) {
  std::string s;
  for (char c : Trim(text)) {
    if (c != ' ') s += c;
  }
  size_t start = (!s.empty() && s[0] == '+') ? 1 : 0;
  size_t digits = s.size() - start;
  if (digits < 6 || digits > 16 || !std::all_of(s.begin() + long(start), s.end(), IsDigit)) {
    return Invalid(field, "must be an optional '+' followed by 6-16 digits");
  }
  return s;
}

}  // namespace caseledger::domain
