// Route registration, one function per resource area (routes_*.cc).
#pragma once

#include "api/api_context.h"
#include "api/router.h"

namespace caseledger::api {

void AddPeopleRoutes(Router& router, const ApiContext& ctx);
void AddPeopleQueryRoutes(Router& router, const ApiContext& ctx);
void AddErasureRoutes(Router& router, const ApiContext& ctx);
void AddSwabRoutes(Router& router, const ApiContext& ctx);
void AddMeasureRoutes(Router& router, const ApiContext& ctx);
void AddViewRoutes(Router& router, const ApiContext& ctx);
void AddRulesRoutes(Router& router, const ApiContext& ctx);
void AddOpsRoutes(Router& router, const ApiContext& ctx);
void AddAuditRoutes(Router& router, const ApiContext& ctx);
void AddGrantRoutes(Router& router, const ApiContext& ctx);
void AddSchoolRoutes(Router& router, const ApiContext& ctx);

// Every route of the API.
void AddAllRoutes(Router& router, const ApiContext& ctx);

}  // namespace caseledger::api
