// Commands on people's registry data: registration, residence, GP, school enrolment,
// vaccination. Erasure is in routes_erasure.cc.
#include "api/command_bodies.h"
#include "api/command_service.h"
#include "api/route_helpers.h"
#include "api/routes.h"

namespace caseledger::api {

using namespace domain;

void AddPeopleRoutes(Router& router, const ApiContext& ctx) {
  AddPersonCommand<RegisterPerson>(router, ctx, "/v1/people", ReadRegisterPerson);
  AddPersonCommand<ChangeResidence>(router, ctx, "/v1/people/{id}/residence", ReadChangeResidence);
  AddPersonCommand<AssignGp>(router, ctx, "/v1/people/{id}/gp", ReadAssignGp);
  AddPersonCommand<EnrolInSchool>(router, ctx, "/v1/people/{id}/enrolments", ReadEnrolInSchool);
  AddPersonCommand<LeaveSchool>(router, ctx, "/v1/people/{id}/enrolments:leave", ReadLeaveSchool);
  AddPersonCommand<RecordVaccination>(router, ctx, "/v1/people/{id}/vaccinations", ReadRecordVaccination);
}

}  // namespace caseledger::api
