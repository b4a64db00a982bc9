// Object-level authorization (docs/security.md, OWASP API1/API5): which of the caller's grants allows
// an action on a given object. Pure functions of the principal, the object's current state
// and the reference data; the routes call them on every read, list, export, stream and
// command. The policy, in one place:
//
//   person reads        operator (resident in its ASL), gp (its patients), auditor
//   person commands     operator (resident in its ASL; registration: residence in its ASL);
//                       gp: request swabs for its patients; lab: collect swabs in its own
//                       name, report and hand over the samples it holds, correct its own
//                       results; admin: erasure only
//   class quarantine    operator of the ASL of the school's municipality (school registry)
//   municipality views  operator (its ASL), mayor (its municipality, counts < 3 hidden),
//                       auditor, admin
//   school views        school (its own), operator (the school's municipality in its ASL),
//                       auditor, admin
//   GP views            gp (its own), auditor
//   lab views           lab (its own), operator, auditor, admin
//   region views        every granted role (the DPC bulletin is public)
//   access reports      auditor, operator (resident in its ASL)
//   grants              admin (auditor reads them); rules: admin adopts, every role reads
//
// A role that may never do an action gets 403; a role that may, on an object outside its
// scope, gets 404 so that ids cannot be probed.
#pragma once

#include "api/router.h"
#include "domain/commands.h"
#include "domain/person.h"
#include "domain/reference.h"

#include <optional>
#include <set>
#include <string>

namespace caseledger::api {

using domain::Role;

// True when the caller holds any of `roles`.
bool HoldsAny(const Principal& p, std::initializer_list<Role> roles);

// The role in which `p` may read this person, or nullopt.
std::optional<Role> PersonReadRole(const Principal& p, const domain::PersonState& person,
                                   const domain::ReferenceData& ref);
// The role in which `p` may read this person's access report, or nullopt.
std::optional<Role> AccessReportRole(const Principal& p, const domain::PersonState& person,
                                     const domain::ReferenceData& ref);
// The same with the ASL of the person's residence already at hand (ResidenceAsl, or a copy
// of it kept beside the person's cached state): a read's check without the look-up.
std::optional<Role> PersonReadRoleIn(const Principal& p, const domain::PersonState& person,
                                     std::string_view residence_asl);
std::optional<Role> AccessReportRoleIn(const Principal& p, const domain::PersonState& person,
                                       std::string_view residence_asl);
// The ASL of the person's residence ("" when unknown or outside Piedmont), as held by `ref`.
std::string_view ResidenceAsl(const domain::ReferenceData& ref, const domain::PersonState& person);

// Roles that may issue this kind of command on someone (the 403 gate, before any lookup).
bool MayIssue(const Principal& p, const domain::PersonCommand& command);
// The role in which `p` may issue `command` on `person` (empty state for a registration),
// or nullopt.
std::optional<Role> PersonCommandRole(const Principal& p, const domain::PersonState& person,
                                      const domain::PersonCommand& command,
                                      const domain::ReferenceData& ref);
// `school_istat`: the school's municipality in the school registry (api/school_registry.h),
// "" for a school not registered (no operator's).
std::optional<Role> SchoolCommandRole(const Principal& p, const std::string& school_istat,
                                      const domain::ReferenceData& ref);

enum class ViewKind { kMunicipality, kSchool, kGp, kLab, kRegion };

// "municipalities", "schools", "gps", "labs", "region" (the runner's view names).
std::optional<ViewKind> ViewKindOf(std::string_view view_name);

struct ViewAccess {
  bool kind_allowed = false;  // false: 403 for every key of this kind
  bool key_allowed = false;   // false: 404
  bool suppress_small_counts = false;
  Role role = Role::kAuditor;
};
// `school_istat`: for kSchool, the municipality of school `key` in the school registry ("" when
// not registered); ignored for the other kinds.
ViewAccess ViewAccessFor(const Principal& p, ViewKind kind, const std::string& key,
                         const domain::ReferenceData& ref, const std::string& school_istat = "");
// Municipalities `p` may list (nullopt: all of them); the bool says whether the caller's
// best grant for each is a mayor's (small counts hidden).
std::optional<std::set<std::string>> VisibleMunicipalities(const Principal& p,
                                                           const domain::ReferenceData& ref);

// The ASL of a municipality ("" when unknown or outside Piedmont).
std::string AslOf(const domain::ReferenceData& ref, const std::string& istat);

}  // namespace caseledger::api
