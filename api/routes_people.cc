// Commands on people's registry data: registration, residence, GP, school enrolment,
// vaccination. Erasure is in routes_erasure.cc.
#include "api/command_service.h"
#include "api/route_helpers.h"
#include "api/routes.h"

namespace caseledger::api {

using namespace domain;

void AddPeopleRoutes(Router& router, const ApiContext& ctx) {
  AddPersonCommand<RegisterPerson>(router, ctx, "/v1/people", [](JsonFields& f, RegisterPerson& c, FieldErrors& e) {
    c.tax_code = f.String("tax_code", false).value_or("");
    c.family_name = f.String("family_name").value_or("");
    c.given_names = f.String("given_names").value_or("");
    c.birth_date = f.Date("birth_date").value_or(Date{});
    c.sex = EnumField<Sex>(f, e, "sex", ParseSex, "M, F").value_or(Sex::kUnknown);
    c.residence_istat = f.String("residence_istat").value_or("");
    c.address = f.String("address", false).value_or("");
    c.phone = f.String("phone", false).value_or("");
  });
  AddPersonCommand<ChangeResidence>(router, ctx, "/v1/people/{id}/residence",
                                    [](JsonFields& f, ChangeResidence& c, FieldErrors&) {
                                      c.istat = f.String("istat").value_or("");
                                      c.address = f.String("address", false).value_or("");
                                    });
  AddPersonCommand<AssignGp>(router, ctx, "/v1/people/{id}/gp", [](JsonFields& f, AssignGp& c, FieldErrors&) {
    c.gp_id = f.String("gp_id").value_or("");
  });
  AddPersonCommand<EnrolInSchool>(router, ctx, "/v1/people/{id}/enrolments",
                                  [](JsonFields& f, EnrolInSchool& c, FieldErrors& e) {
                                    c.school = f.String("school").value_or("");
                                    c.class_label = f.String("class").value_or("");
                                    c.role = EnumField<SchoolRole>(f, e, "role", ParseSchoolRole, "student, staff")
                                                 .value_or(SchoolRole::kStudent);
                                  });
  AddPersonCommand<LeaveSchool>(router, ctx, "/v1/people/{id}/enrolments:leave",
                                [](JsonFields& f, LeaveSchool& c, FieldErrors&) {
                                  c.school = f.String("school").value_or("");
                                  c.class_label = f.String("class").value_or("");
                                });
  AddPersonCommand<RecordVaccination>(router, ctx, "/v1/people/{id}/vaccinations",
                                      [](JsonFields& f, RecordVaccination& c, FieldErrors& e) {
                                        auto dose = f.Int("dose");
                                        if (dose && (*dose < 1 || *dose > 10)) e.Add("dose", "must be between 1 and 10");
                                        c.dose = static_cast<uint32_t>(dose.value_or(0));
                                        c.date = f.Date("date").value_or(Date{});
                                        c.product = f.String("product").value_or("");
                                      });
}

}  // namespace caseledger::api
