// Commands: what a user asks for. Fields arrive typed (dates parsed) but not yet checked
// against the domain; `Decide` validates them and answers with events or an error.
#pragma once

#include "domain/events.h"
#include "domain/time.h"

#include <optional>
#include <string>
#include <variant>

namespace caseledger::domain {

struct RegisterPerson {
  std::string tax_code;  // empty: a foreign resident without one
  std::string family_name;
  std::string given_names;
  Date birth_date;
  Sex sex = Sex::kUnknown;
  std::string residence_istat;
  std::string address;
  std::string phone;
};
struct ChangeResidence { std::string istat; std::string address; };
struct AssignGp { std::string gp_id; };
struct EnrolInSchool { std::string school; std::string class_label; SchoolRole role = SchoolRole::kStudent; };
struct LeaveSchool { std::string school; std::string class_label; };
// `requested_at` zero: now. A past time records a request made before it reached the
// registry (a migration, a paper form); the envelope's recorded time stays the truth.
struct RequestSwab {
  std::string swab_id;
  SwabKind kind = SwabKind::kMolecular;
  std::string reason;
  std::string requested_by;
  Timestamp requested_at;
};
// `lab_id`: the laboratory that takes the sample (the collecting lab, or the one an ASL
// collection point sends it to); only it, or one it hands the sample to, reports.
struct CollectSwab { std::string swab_id; Timestamp collected_at; std::string site; std::string lab_id; };
struct HandOverSample { std::string swab_id; std::string to_lab; Timestamp at; };
struct RecordResult { std::string swab_id; Outcome outcome = Outcome::kNegative; std::string lab_id; Timestamp reported_at; };
struct CorrectResult { std::string swab_id; Outcome outcome = Outcome::kNegative; std::string reason; std::string lab_id; };
struct OrderIsolation { Date start; std::string reason; std::optional<Date> end; };
struct OrderQuarantine { Date start; std::string reason; std::string source_case; std::optional<Date> end; };
struct EndMeasure { uint32_t measure_id = 0; Date at; MeasureEndReason reason = MeasureEndReason::kElapsed; };
struct ReportContact { std::string contact_of; Date last_exposure; };
struct RecordVaccination { uint32_t dose = 1; Date date; std::string product; };
struct Hospitalize { Timestamp at; std::string facility; };
struct AdmitToIcu { Timestamp at; std::string facility; };
struct Discharge { Timestamp at; std::string facility; };
struct CloseCase { CaseOutcome outcome = CaseOutcome::kRecovered; Date at; };
struct ErasePersonalData { std::string legal_reason; };

using PersonCommand =
    std::variant<RegisterPerson, ChangeResidence, AssignGp, EnrolInSchool, LeaveSchool, RequestSwab,
                 CollectSwab, RecordResult, CorrectResult, OrderIsolation, OrderQuarantine,
                 EndMeasure, ReportContact, RecordVaccination, Hospitalize, AdmitToIcu, Discharge,
                 CloseCase, ErasePersonalData, HandOverSample>;

struct OrderClassQuarantine { std::string class_label; Date start; std::string reason; std::optional<Date> end; };
using SchoolCommand = std::variant<OrderClassQuarantine>;

}  // namespace caseledger::domain
