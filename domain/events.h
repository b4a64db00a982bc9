// Every event of the registry (docs/formats.md) as a plain struct. Each has a type name and a schema version;
// `serialize` covers the public fields only. Personal data (names, tax code, birth date,
// address, phone) lives in a `Personal personal` member, encoded apart so that it can be
// encrypted per person (crypto-shredding) without touching the rest of the event.
#pragma once

#include "domain/time.h"

#include <cereal/types/optional.hpp>
#include <cereal/types/string.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace caseledger::domain {

enum class Sex : uint8_t { kMale, kFemale, kUnknown };
enum class SwabKind : uint8_t { kMolecular, kAntigen };
enum class Outcome : uint8_t { kPositive, kNegative, kInconclusive };
enum class SchoolRole : uint8_t { kStudent, kStaff };
enum class MeasureEndReason : uint8_t { kNegativeTest, kElapsed, kRevoked, kCaseClosed };
enum class CaseOutcome : uint8_t { kRecovered, kDeceased };

// Personal data of one event; an empty string means "not given".
struct Personal {
  std::string family_name;
  std::string given_names;
  std::string tax_code;
  std::string birth_date;  // YYYY-MM-DD
  std::string address;
  std::string phone;

  bool empty() const {
    return family_name.empty() && given_names.empty() && tax_code.empty() && birth_date.empty() &&
           address.empty() && phone.empty();
  }
  bool operator==(const Personal&) const = default;
  template <class A>
  void serialize(A& ar) {
    ar(family_name, given_names, tax_code, birth_date, address, phone);
  }
};

#define CASELEDGER_EVENT(Name, Version) \
  static constexpr std::string_view kType = #Name; \
  static constexpr uint32_t kSchemaVersion = Version; \
  bool operator==(const Name&) const = default

// ---- person stream ("person-<id>") ----
struct PersonRegistered {
  CASELEDGER_EVENT(PersonRegistered, 1);
  std::string person_id;
  Sex sex = Sex::kUnknown;
  std::string residence_istat;
  Personal personal;  // tax code, names, birth date, address, phone
  template <class A> void serialize(A& ar) { ar(person_id, sex, residence_istat); }
};
struct ResidenceChanged {
  CASELEDGER_EVENT(ResidenceChanged, 1);
  std::string from_istat;
  std::string to_istat;
  Personal personal;  // address
  template <class A> void serialize(A& ar) { ar(from_istat, to_istat); }
};
struct GpAssigned {
  CASELEDGER_EVENT(GpAssigned, 1);
  std::string gp_id;
  std::string previous_gp_id;
  template <class A> void serialize(A& ar) { ar(gp_id, previous_gp_id); }
};
struct SchoolEnrolled {
  CASELEDGER_EVENT(SchoolEnrolled, 1);
  std::string school;
  std::string class_label;
  SchoolRole role = SchoolRole::kStudent;
  template <class A> void serialize(A& ar) { ar(school, class_label, role); }
};
struct SchoolLeft {
  CASELEDGER_EVENT(SchoolLeft, 1);
  std::string school;
  std::string class_label;
  SchoolRole role = SchoolRole::kStudent;
  template <class A> void serialize(A& ar) { ar(school, class_label, role); }
};
struct SwabRequested {
  CASELEDGER_EVENT(SwabRequested, 1);
  std::string swab_id;
  SwabKind kind = SwabKind::kMolecular;
  std::string reason;        // "symptoms", "contact", "screening", "release", ...
  std::string requested_by;  // GP id, operator id
  template <class A> void serialize(A& ar) { ar(swab_id, kind, reason, requested_by); }
};
struct SwabCollected {
  CASELEDGER_EVENT(SwabCollected, 1);
  std::string swab_id;
  Timestamp collected_at;
  std::string site;
  template <class A> void serialize(A& ar) { ar(swab_id, collected_at, site); }
};
// Schema 2 replaced v1's `bool positive` by the three-valued outcome (see event_codec.cc).
struct ResultRecorded {
  CASELEDGER_EVENT(ResultRecorded, 2);
  std::string swab_id;
  Outcome outcome = Outcome::kNegative;
  std::string lab_id;
  Timestamp reported_at;
  template <class A> void serialize(A& ar) { ar(swab_id, outcome, lab_id, reported_at); }
};
struct ResultCorrected {
  CASELEDGER_EVENT(ResultCorrected, 1);
  std::string swab_id;
  Outcome previous_outcome = Outcome::kNegative;
  Outcome outcome = Outcome::kNegative;
  std::string reason;
  std::string lab_id;
  Timestamp corrected_at;
  template <class A> void serialize(A& ar) {
    ar(swab_id, previous_outcome, outcome, reason, lab_id, corrected_at);
  }
};
struct IsolationOrdered {
  CASELEDGER_EVENT(IsolationOrdered, 1);
  uint32_t measure_id = 0;  // ordinal of the measure within the person, from 1
  Date start;
  std::string reason;          // "positive", "symptomatic"
  std::optional<Date> end;     // given by the operator; else computed by the rules in force
  template <class A> void serialize(A& ar) { ar(measure_id, start, reason, end); }
};
struct QuarantineOrdered {
  CASELEDGER_EVENT(QuarantineOrdered, 1);
  uint32_t measure_id = 0;
  Date start;
  std::string reason;       // "close_contact", "travel", "school_class"
  std::string source_case;  // person id of the case, when known
  std::optional<Date> end;
  template <class A> void serialize(A& ar) { ar(measure_id, start, reason, source_case, end); }
};
struct MeasureEnded {
  CASELEDGER_EVENT(MeasureEnded, 1);
  uint32_t measure_id = 0;
  Date at;
  MeasureEndReason reason = MeasureEndReason::kElapsed;
  template <class A> void serialize(A& ar) { ar(measure_id, at, reason); }
};
struct ContactReported {
  CASELEDGER_EVENT(ContactReported, 1);
  std::string contact_of;  // person id of the case
  Date last_exposure;
  template <class A> void serialize(A& ar) { ar(contact_of, last_exposure); }
};
struct VaccinationRecorded {
  CASELEDGER_EVENT(VaccinationRecorded, 1);
  uint32_t dose = 1;
  Date date;
  std::string product;
  template <class A> void serialize(A& ar) { ar(dose, date, product); }
};
struct Hospitalized {
  CASELEDGER_EVENT(Hospitalized, 1);
  Timestamp at;
  std::string facility;
  template <class A> void serialize(A& ar) { ar(at, facility); }
};
struct IcuAdmitted {
  CASELEDGER_EVENT(IcuAdmitted, 1);
  Timestamp at;
  std::string facility;
  template <class A> void serialize(A& ar) { ar(at, facility); }
};
struct Discharged {
  CASELEDGER_EVENT(Discharged, 1);
  Timestamp at;
  std::string facility;
  template <class A> void serialize(A& ar) { ar(at, facility); }
};
struct CaseClosed {
  CASELEDGER_EVENT(CaseClosed, 1);
  CaseOutcome outcome = CaseOutcome::kRecovered;
  Date at;
  template <class A> void serialize(A& ar) { ar(outcome, at); }
};
struct PersonalDataErased {
  CASELEDGER_EVENT(PersonalDataErased, 1);
  std::string legal_reason;
  template <class A> void serialize(A& ar) { ar(legal_reason); }
};

// ---- school stream ("school-<code>") ----
struct ClassQuarantineOrdered {
  CASELEDGER_EVENT(ClassQuarantineOrdered, 1);
  std::string class_label;
  Date start;
  std::string reason;
  std::optional<Date> end;
  template <class A> void serialize(A& ar) { ar(class_label, start, reason, end); }
};

// ---- rules stream ("rules") ----
struct RulesAdopted {
  CASELEDGER_EVENT(RulesAdopted, 1);
  std::string rule_set_id;
  Date effective_from;
  std::string rules_json;  // the whole rule set, canonical JSON (RuleSet::ToJson)
  template <class A> void serialize(A& ar) { ar(rule_set_id, effective_from, rules_json); }
};

// ---- users stream ("users") ----
struct AccessGranted {
  CASELEDGER_EVENT(AccessGranted, 1);
  std::string user;
  std::string role;   // operator, lab, gp, school, mayor, auditor, admin
  std::string scope;  // ASL code, lab id, GP id, school code, ISTAT code; empty for global roles
  template <class A> void serialize(A& ar) { ar(user, role, scope); }
};
struct AccessRevoked {
  CASELEDGER_EVENT(AccessRevoked, 1);
  std::string user;
  std::string role;
  std::string scope;
  template <class A> void serialize(A& ar) { ar(user, role, scope); }
};

#undef CASELEDGER_EVENT

using Event =
    std::variant<PersonRegistered, ResidenceChanged, GpAssigned, SchoolEnrolled, SchoolLeft,
                 SwabRequested, SwabCollected, ResultRecorded, ResultCorrected, IsolationOrdered,
                 QuarantineOrdered, MeasureEnded, ContactReported, VaccinationRecorded,
                 Hospitalized, IcuAdmitted, Discharged, CaseClosed, PersonalDataErased,
                 ClassQuarantineOrdered, RulesAdopted, AccessGranted, AccessRevoked>;

// Type name of the event held ("PersonRegistered", ...).
std::string_view TypeName(const Event& e);

// Stream ids.
inline std::string PersonStream(std::string_view person_id) { return "person-" + std::string(person_id); }
inline std::string SchoolStream(std::string_view school) { return "school-" + std::string(school); }
inline constexpr std::string_view kRulesStream = "rules";
inline constexpr std::string_view kUsersStream = "users";

const char* ToString(Sex v);
const char* ToString(SwabKind v);
const char* ToString(Outcome v);
const char* ToString(SchoolRole v);
const char* ToString(MeasureEndReason v);
const char* ToString(CaseOutcome v);
std::optional<Sex> ParseSex(std::string_view s);
std::optional<SwabKind> ParseSwabKind(std::string_view s);
std::optional<Outcome> ParseOutcome(std::string_view s);
std::optional<SchoolRole> ParseSchoolRole(std::string_view s);
std::optional<MeasureEndReason> ParseMeasureEndReason(std::string_view s);
std::optional<CaseOutcome> ParseCaseOutcome(std::string_view s);

}  // namespace caseledger::domain
