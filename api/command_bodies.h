// The JSON bodies of the command routes (docs/api.md), read into domain commands: one reader
// per body, shared by the routes and by `caseledger import` (docs/import.md), so that a line
// of a legacy export means exactly what the same body means over HTTP. Each reader records
// a field error (wrong type, missing, out of range) instead of throwing; the caller rejects
// unknown fields (JsonFields::RejectUnknown) and answers the errors.
#pragma once

#include "api/json_body.h"
#include "domain/commands.h"
#include "domain/validation.h"

#include <string>

namespace caseledger::api {

using domain::FieldErrors;

void ReadRegisterPerson(JsonFields& f, domain::RegisterPerson& c, FieldErrors& e);        // POST /v1/people
void ReadChangeResidence(JsonFields& f, domain::ChangeResidence& c, FieldErrors& e);      // .../residence
void ReadAssignGp(JsonFields& f, domain::AssignGp& c, FieldErrors& e);                    // .../gp
void ReadEnrolInSchool(JsonFields& f, domain::EnrolInSchool& c, FieldErrors& e);          // .../enrolments
void ReadLeaveSchool(JsonFields& f, domain::LeaveSchool& c, FieldErrors& e);              // .../enrolments:leave
void ReadRecordVaccination(JsonFields& f, domain::RecordVaccination& c, FieldErrors& e);  // .../vaccinations
void ReadRequestSwab(JsonFields& f, domain::RequestSwab& c, FieldErrors& e);              // .../swabs
// The swab id of these four is in the path (/v1/swabs/{swab}/...), not in the body.
void ReadCollectSwab(JsonFields& f, domain::CollectSwab& c, FieldErrors& e);
void ReadHandOverSample(JsonFields& f, domain::HandOverSample& c, FieldErrors& e);
void ReadRecordResult(JsonFields& f, domain::RecordResult& c, FieldErrors& e);
void ReadCorrectResult(JsonFields& f, domain::CorrectResult& c, FieldErrors& e);
void ReadOrderIsolation(JsonFields& f, domain::OrderIsolation& c, FieldErrors& e);
void ReadOrderQuarantine(JsonFields& f, domain::OrderQuarantine& c, FieldErrors& e);
// The measure id is in the path (/v1/people/{id}/measures/{m}/end).
void ReadEndMeasure(JsonFields& f, domain::EndMeasure& c, FieldErrors& e);
void ReadReportContact(JsonFields& f, domain::ReportContact& c, FieldErrors& e);
void ReadCloseCase(JsonFields& f, domain::CloseCase& c, FieldErrors& e);
void ReadErasePersonalData(JsonFields& f, domain::ErasePersonalData& c, FieldErrors& e);
// The class is in the path (/v1/schools/{school}/classes/{class}/quarantine).
void ReadOrderClassQuarantine(JsonFields& f, domain::OrderClassQuarantine& c, FieldErrors& e);

// POST /v1/people/{id}/hospitalisation carries one of three commands.
struct HospitalStep {
  std::string kind;  // admission, icu, discharge
  domain::Timestamp at;
  std::string facility;
};
void ReadHospitalStep(JsonFields& f, HospitalStep& c, FieldErrors& e);
domain::PersonCommand HospitalCommand(const HospitalStep& step);

}  // namespace caseledger::api
