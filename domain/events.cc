#include "domain/events.h"

#include <array>
#include <utility>

namespace caseledger::domain {
namespace {

template <class E, size_t N>
std::optional<E> ParseName(std::string_view s, const std::array<std::pair<E, const char*>, N>& names) {
  for (const auto& [value, name] : names) {
    if (s == name) return value;
  }
  return std::nullopt;
}

template <class E, size_t N>
const char* NameOf(E v, const std::array<std::pair<E, const char*>, N>& names) {
  for (const auto& [value, name] : names) {
    if (v == value) return name;
  }
  return "unknown";
}

constexpr std::array<std::pair<Sex, const char*>, 3> kSex{
    {{Sex::kMale, "M"}, {Sex::kFemale, "F"}, {Sex::kUnknown, "X"}}};
constexpr std::array<std::pair<SwabKind, const char*>, 2> kSwabKind{
    {{SwabKind::kMolecular, "molecular"}, {SwabKind::kAntigen, "antigen"}}};
constexpr std::array<std::pair<Outcome, const char*>, 3> kOutcome{{{Outcome::kPositive, "positive"},
                                                                   {Outcome::kNegative, "negative"},
                                                                   {Outcome::kInconclusive, "inconclusive"}}};
constexpr std::array<std::pair<SchoolRole, const char*>, 2> kRole{
    {{SchoolRole::kStudent, "student"}, {SchoolRole::kStaff, "staff"}}};
constexpr std::array<std::pair<MeasureEndReason, const char*>, 4> kEndReason{
    {{MeasureEndReason::kNegativeTest, "negative_test"},
     {MeasureEndReason::kElapsed, "elapsed"},
     {MeasureEndReason::kRevoked, "revoked"},
     {MeasureEndReason::kCaseClosed, "case_closed"}}};
constexpr std::array<std::pair<CaseOutcome, const char*>, 2> kCaseOutcome{
    {{CaseOutcome::kRecovered, "recovered"}, {CaseOutcome::kDeceased, "deceased"}}};

}  // namespace

const char* ToString(Sex v) { return NameOf(v, kSex); }
const char* ToString(SwabKind v) { return NameOf(v, kSwabKind); }
const char* ToString(Outcome v) { return NameOf(v, kOutcome); }
const char* ToString(SchoolRole v) { return NameOf(v, kRole); }
const char* ToString(MeasureEndReason v) { return NameOf(v, kEndReason); }
const char* ToString(CaseOutcome v) { return NameOf(v, kCaseOutcome); }
std::optional<Sex> ParseSex(std::string_view s) { return ParseName(s, kSex); }
std::optional<SwabKind> ParseSwabKind(std::string_view s) { return ParseName(s, kSwabKind); }
std::optional<Outcome> ParseOutcome(std::string_view s) { return ParseName(s, kOutcome); }
std::optional<SchoolRole> ParseSchoolRole(std::string_view s) { return ParseName(s, kRole); }
std::optional<MeasureEndReason> ParseMeasureEndReason(std::string_view s) {
  return ParseName(s, kEndReason);
}
std::optional<CaseOutcome> ParseCaseOutcome(std::string_view s) { return ParseName(s, kCaseOutcome); }

}  // namespace caseledger::domain
