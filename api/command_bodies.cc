#include "api/command_bodies.h"

#include "api/route_helpers.h"

namespace caseledger::api {

using namespace domain;

void ReadRegisterPerson(JsonFields& f, RegisterPerson& c, FieldErrors& e) {
  c.tax_code = f.String("tax_code", false).value_or("");
  c.family_name = f.String("family_name").value_or("");
  c.given_names = f.String("given_names").value_or("");
  c.birth_date = f.Date("birth_date").value_or(Date{});
  c.sex = EnumField<Sex>(f, e, "sex", ParseSex, "M, F").value_or(Sex::kUnknown);
  c.residence_istat = f.String("residence_istat").value_or("");
  c.address = f.String("address", false).value_or("");
  c.phone = f.String("phone", false).value_or("");
}

void ReadChangeResidence(JsonFields& f, ChangeResidence& c, FieldErrors&) {
  c.istat = f.String("istat").value_or("");
  c.address = f.String("address", false).value_or("");
}

void ReadAssignGp(JsonFields& f, AssignGp& c, FieldErrors&) { c.gp_id = f.String("gp_id").value_or(""); }

void ReadEnrolInSchool(JsonFields& f, EnrolInSchool& c, FieldErrors& e) {
  c.school = f.String("school").value_or("");
  c.class_label = f.String("class").value_or("");
  c.role = EnumField<SchoolRole>(f, e, "role", ParseSchoolRole, "student, staff").value_or(SchoolRole::kStudent);
}

void ReadLeaveSchool(JsonFields& f, LeaveSchool& c, FieldErrors&) {
  c.school = f.String("school").value_or("");
  c.class_label = f.String("class").value_or("");
}

void ReadRecordVaccination(JsonFields& f, RecordVaccination& c, FieldErrors& e) {
  auto dose = f.Int("dose");
  if (dose && (*dose < 1 || *dose > 10)) e.Add("dose", "must be between 1 and 10");
  c.dose = static_cast<uint32_t>(dose.value_or(0));
  c.date = f.Date("date").value_or(Date{});
  c.product = f.String("product").value_or("");
}

void ReadRequestSwab(JsonFields& f, RequestSwab& c, FieldErrors& e) {
  c.swab_id = f.String("swab_id").value_or("");
  c.kind = EnumField<SwabKind>(f, e, "kind", ParseSwabKind, "molecular, antigen").value_or(SwabKind::kMolecular);
  c.reason = f.String("reason", false).value_or("");
  c.requested_by = f.String("requested_by", false).value_or("");
  c.requested_at = f.Time("requested_at", false).value_or(Timestamp{});
}

void ReadCollectSwab(JsonFields& f, CollectSwab& c, FieldErrors&) {
  c.collected_at = f.Time("collected_at").value_or(Timestamp{});
  c.site = f.String("site", false).value_or("");
  c.lab_id = f.String("lab_id", false).value_or("");
}

void ReadHandOverSample(JsonFields& f, HandOverSample& c, FieldErrors&) {
  c.to_lab = f.String("to_lab").value_or("");
  c.at = f.Time("at", false).value_or(Timestamp{});
}

void ReadRecordResult(JsonFields& f, RecordResult& c, FieldErrors& e) {
  c.outcome = EnumField<Outcome>(f, e, "outcome", ParseOutcome, "positive, negative, inconclusive")
                  .value_or(Outcome::kNegative);
  c.lab_id = f.String("lab_id").value_or("");
  c.reported_at = f.Time("reported_at").value_or(Timestamp{});
}

void ReadCorrectResult(JsonFields& f, CorrectResult& c, FieldErrors& e) {
  c.outcome = EnumField<Outcome>(f, e, "outcome", ParseOutcome, "positive, negative, inconclusive")
                  .value_or(Outcome::kNegative);
  c.reason = f.String("reason").value_or("");
  c.lab_id = f.String("lab_id", false).value_or("");
}

void ReadOrderIsolation(JsonFields& f, OrderIsolation& c, FieldErrors&) {
  c.start = f.Date("start").value_or(Date{});
  c.reason = f.String("reason").value_or("");
  c.end = f.Date("end", false);
}

void ReadOrderQuarantine(JsonFields& f, OrderQuarantine& c, FieldErrors&) {
  c.start = f.Date("start").value_or(Date{});
  c.reason = f.String("reason").value_or("");
  c.source_case = f.String("source_case", false).value_or("");
  c.end = f.Date("end", false);
}

void ReadEndMeasure(JsonFields& f, EndMeasure& c, FieldErrors& e) {
  c.at = f.Date("at").value_or(Date{});
  c.reason = EnumField<MeasureEndReason>(f, e, "reason", ParseMeasureEndReason, "negative_test, elapsed, revoked")
                 .value_or(MeasureEndReason::kElapsed);
}

void ReadReportContact(JsonFields& f, ReportContact& c, FieldErrors&) {
  c.contact_of = f.String("contact_of").value_or("");
  c.last_exposure = f.Date("last_exposure").value_or(Date{});
}

void ReadCloseCase(JsonFields& f, CloseCase& c, FieldErrors& e) {
  c.outcome = EnumField<CaseOutcome>(f, e, "outcome", ParseCaseOutcome, "recovered, deceased")
                  .value_or(CaseOutcome::kRecovered);
  c.at = f.Date("at").value_or(Date{});
}

void ReadErasePersonalData(JsonFields& f, ErasePersonalData& c, FieldErrors&) {
  c.legal_reason = f.String("legal_reason").value_or("");  // required: 400 when missing
}

void ReadOrderClassQuarantine(JsonFields& f, OrderClassQuarantine& c, FieldErrors&) {
  c.start = f.Date("start").value_or(Date{});
  c.reason = f.String("reason").value_or("");
  c.end = f.Date("end", false);
}

void ReadHospitalStep(JsonFields& f, HospitalStep& s, FieldErrors& e) {
  auto kind = f.String("kind");
  s.kind = kind.value_or("");
  if (kind && s.kind != "admission" && s.kind != "icu" && s.kind != "discharge") {
    e.Add("kind", "must be one of admission, icu, discharge");
  }
  s.at = f.Time("at").value_or(Timestamp{});
  s.facility = f.String("facility", false).value_or("");
}

PersonCommand HospitalCommand(const HospitalStep& s) {
  if (s.kind == "admission") return Hospitalize{s.at, s.facility};
  if (s.kind == "icu") return AdmitToIcu{s.at, s.facility};
  return Discharge{s.at, s.facility};
}

}  // namespace caseledger::api
