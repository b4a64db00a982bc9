#include "api/authz.h"

#include <algorithm>

namespace caseledger::api {
namespace {

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

bool OperatorOf(const Principal& p, std::string_view asl) {
  return !asl.empty() && p.grants.Has(Role::kOperator) && p.grants.Holds(Role::kOperator, asl);
}

bool OperatorOf(const Principal& p, const domain::ReferenceData& ref, const std::string& istat) {
  if (!p.grants.Has(Role::kOperator)) return false;
  const domain::Municipality* m = ref.FindMunicipality(istat);
  return m && OperatorOf(p, m->asl);
}

// Which roles may issue a command kind, whatever the object.
std::initializer_list<Role> RolesFor(const domain::PersonCommand& c) {
  static constexpr std::initializer_list<Role> kOperator = {Role::kOperator};
  static constexpr std::initializer_list<Role> kSwabRequest = {Role::kOperator, Role::kGp};
  static constexpr std::initializer_list<Role> kLabWork = {Role::kOperator, Role::kLab};
  static constexpr std::initializer_list<Role> kAdmin = {Role::kAdmin};
  if (std::holds_alternative<domain::RequestSwab>(c)) return kSwabRequest;
  if (std::holds_alternative<domain::CollectSwab>(c) || std::holds_alternative<domain::RecordResult>(c) ||
      std::holds_alternative<domain::CorrectResult>(c) || std::holds_alternative<domain::HandOverSample>(c)) {
    return kLabWork;
  }
  if (std::holds_alternative<domain::ErasePersonalData>(c)) return kAdmin;
  return kOperator;
}

// The lab a result command speaks for: the lab in the command, else (a correction without
// one) the lab that reported the swab.
std::string LabOf(const domain::PersonState& person, const domain::PersonCommand& c) {
  // A collection in the name of the lab that takes the sample.
  if (const auto* r = std::get_if<domain::CollectSwab>(&c)) return Upper(r->lab_id);
  if (const auto* r = std::get_if<domain::RecordResult>(&c)) {
    // Only the laboratory holding the sample reports (any, for a sample collected before
    // collections named their laboratory).
    const domain::SwabState* swab = person.FindSwab(r->swab_id);
    std::string holder = swab ? Upper(swab->holder_lab) : "";
    return holder.empty() || holder == Upper(r->lab_id) ? Upper(r->lab_id) : "";
  }
  if (const auto* r = std::get_if<domain::HandOverSample>(&c)) {
    const domain::SwabState* swab = person.FindSwab(r->swab_id);
    return swab ? Upper(swab->holder_lab) : "";
  }
  if (const auto* r = std::get_if<domain::CorrectResult>(&c)) {
    const domain::SwabState* swab = person.FindSwab(r->swab_id);
    std::string reported = swab ? Upper(swab->lab_id) : "";
    if (r->lab_id.empty()) return reported;
    // A lab corrects only its own results, and only in its own name.
    return Upper(r->lab_id) == reported ? reported : "";
  }
  return "";
}

}  // namespace

std::string AslOf(const domain::ReferenceData& ref, const std::string& istat) {
  const domain::Municipality* m = ref.FindMunicipality(istat);
  return m ? m->asl : "";
}

bool HoldsAny(const Principal& p, std::initializer_list<Role> roles) {
  return std::any_of(roles.begin(), roles.end(), [&](Role r) { return p.grants.Has(r); });
}

std::string_view ResidenceAsl(const domain::ReferenceData& ref, const domain::PersonState& person) {
  const domain::Municipality* m = ref.FindMunicipality(person.residence_istat);
  return m ? std::string_view(m->asl) : std::string_view();
}

std::optional<Role> PersonReadRoleIn(const Principal& p, const domain::PersonState& person,
                                     std::string_view residence_asl) {
  if (OperatorOf(p, residence_asl)) return Role::kOperator;
  if (!person.gp_id.empty() && p.grants.Holds(Role::kGp, person.gp_id)) return Role::kGp;
  if (p.grants.Has(Role::kAuditor)) return Role::kAuditor;
  return std::nullopt;
}

std::optional<Role> AccessReportRoleIn(const Principal& p, const domain::PersonState&, std::string_view residence_asl) {
  if (p.grants.Has(Role::kAuditor)) return Role::kAuditor;
  if (OperatorOf(p, residence_asl)) return Role::kOperator;
  return std::nullopt;
}

std::optional<Role> PersonReadRole(const Principal& p, const domain::PersonState& person,
                                   const domain::ReferenceData& ref) {
  return PersonReadRoleIn(p, person, ResidenceAsl(ref, person));
}

std::optional<Role> AccessReportRole(const Principal& p, const domain::PersonState& person,
                                     const domain::ReferenceData& ref) {
  return AccessReportRoleIn(p, person, ResidenceAsl(ref, person));
}

bool MayIssue(const Principal& p, const domain::PersonCommand& command) {
  return HoldsAny(p, RolesFor(command));
}

std::optional<Role> PersonCommandRole(const Principal& p, const domain::PersonState& person,
                                      const domain::PersonCommand& command,
                                      const domain::ReferenceData& ref) {
  if (std::holds_alternative<domain::ErasePersonalData>(command)) {
    return p.grants.Has(Role::kAdmin) ? std::optional(Role::kAdmin) : std::nullopt;
  }
  // Where the person lives now; for a registration, where they will.
  const auto* registration = std::get_if<domain::RegisterPerson>(&command);
  const std::string& istat =
      !person.registered && registration ? registration->residence_istat : person.residence_istat;
  if (OperatorOf(p, ref, istat)) return Role::kOperator;
  if (std::holds_alternative<domain::RequestSwab>(command) && !person.gp_id.empty() &&
      p.grants.Holds(Role::kGp, person.gp_id)) {
    return Role::kGp;
  }
  if (std::string lab = LabOf(person, command); !lab.empty() && p.grants.Holds(Role::kLab, lab)) {
    return Role::kLab;
  }
  return std::nullopt;
}

std::optional<Role> SchoolCommandRole(const Principal& p, const std::string& school_istat,
                                      const domain::ReferenceData& ref) {
  // The school's municipality, not its province: ASLs cross province borders (docs/security.md).
  if (OperatorOf(p, ref, school_istat)) return Role::kOperator;
  return std::nullopt;
}

std::optional<ViewKind> ViewKindOf(std::string_view name) {
  if (name == "municipalities") return ViewKind::kMunicipality;
  if (name == "schools") return ViewKind::kSchool;
  if (name == "gps") return ViewKind::kGp;
  if (name == "labs") return ViewKind::kLab;
  if (name == "region") return ViewKind::kRegion;
  return std::nullopt;
}

ViewAccess ViewAccessFor(const Principal& p, ViewKind kind, const std::string& key,
                         const domain::ReferenceData& ref, const std::string& school_istat) {
  ViewAccess a;
  auto allow = [&](Role role, bool key_ok, bool suppress = false) {
    a.kind_allowed = true;
    if (key_ok && !a.key_allowed) {
      a.key_allowed = true;
      a.role = role;
      a.suppress_small_counts = suppress;
    }
  };
  const domain::GrantSet& g = p.grants;
  switch (kind) {
    case ViewKind::kMunicipality:
      if (g.Has(Role::kAdmin)) allow(Role::kAdmin, true);
      if (g.Has(Role::kAuditor)) allow(Role::kAuditor, true);
      if (g.Has(Role::kOperator)) allow(Role::kOperator, OperatorOf(p, ref, key));
      if (g.Has(Role::kMayor)) allow(Role::kMayor, g.Holds(Role::kMayor, key), true);
      break;
    case ViewKind::kSchool:
      if (g.Has(Role::kAdmin)) allow(Role::kAdmin, true);
      if (g.Has(Role::kAuditor)) allow(Role::kAuditor, true);
      if (g.Has(Role::kOperator)) allow(Role::kOperator, OperatorOf(p, ref, school_istat));
      if (g.Has(Role::kSchool)) allow(Role::kSchool, g.Holds(Role::kSchool, Upper(key)));
      break;
    case ViewKind::kGp:
      if (g.Has(Role::kAuditor)) allow(Role::kAuditor, true);
      if (g.Has(Role::kGp)) allow(Role::kGp, g.Holds(Role::kGp, Upper(key)));
      break;
    case ViewKind::kLab:
      if (g.Has(Role::kAdmin)) allow(Role::kAdmin, true);
      if (g.Has(Role::kAuditor)) allow(Role::kAuditor, true);
      if (g.Has(Role::kOperator)) allow(Role::kOperator, true);
      if (g.Has(Role::kLab)) allow(Role::kLab, g.Holds(Role::kLab, Upper(key)));
      break;
    case ViewKind::kRegion:
      if (!g.empty()) allow(g.grants().front().role, true);
      break;
  }
  return a;
}

std::optional<std::set<std::string>> VisibleMunicipalities(const Principal& p,
                                                           const domain::ReferenceData& ref) {
  if (p.grants.Has(Role::kAdmin) || p.grants.Has(Role::kAuditor)) return std::nullopt;
  std::set<std::string> out;
  for (const std::string& asl : p.grants.Scopes(Role::kOperator)) {
    for (const domain::Municipality* m : ref.MunicipalitiesOfAsl(asl)) out.insert(m->istat_code);
  }
  for (const std::string& istat : p.grants.Scopes(Role::kMayor)) out.insert(istat);
  return out;
}

}  // namespace caseledger::api
