#include "domain/access.h"

#include "domain/validation.h"

#include <algorithm>
#include <array>

namespace caseledger::domain {
namespace {

constexpr std::array<std::pair<Role, const char*>, 7> kRoles{{
    {Role::kOperator, "operator"},
    {Role::kLab, "lab"},
    {Role::kGp, "gp"},
    {Role::kSchool, "school"},
    {Role::kMayor, "mayor"},
    {Role::kAuditor, "auditor"},
    {Role::kAdmin, "admin"},
}};

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

Result<std::string> ValidateAsl(std::string_view text, const ReferenceData& ref) {
  std::string code = Upper(text);
  for (const Asl& a : ref.asls()) {
    if (a.code == code) return code;
  }
  return Error::Invalid("scope", "must be an ASL code of the reference table (e.g. TO3)");
}

}  // namespace

std::optional<Role> ParseRole(std::string_view text) {
  for (const auto& [role, name] : kRoles) {
    if (text == name) return role;
  }
  return std::nullopt;
}

const char* ToString(Role role) {
  for (const auto& [r, name] : kRoles) {
    if (r == role) return name;
  }
  return "unknown";
}

Result<Grant> ValidateGrant(std::string_view role_text, std::string_view scope, const ReferenceData& ref) {
  auto role = ParseRole(role_text);
  if (!role) return Error::Invalid("role", "must be one of operator, lab, gp, school, mayor, auditor, admin");
  Result<std::string> normalised = std::string();
  switch (*role) {
    case Role::kOperator: normalised = ValidateAsl(scope, ref); break;
    case Role::kLab: normalised = ValidateLabId(scope, "scope"); break;
    case Role::kGp: normalised = ValidateGpId(scope, "scope"); break;
    case Role::kSchool: normalised = ValidateSchoolCode(scope, "scope"); break;
    case Role::kMayor: normalised = ValidateIstatCode(scope, ref, "scope"); break;
    case Role::kAuditor:
    case Role::kAdmin:
      if (!scope.empty()) return Error::Invalid("scope", "must be empty: this role covers the region");
      break;
  }
  if (!normalised) return normalised.error();
  return Grant{*role, *normalised};
}

void GrantSet::Apply(const AccessGranted& e) {
  auto role = ParseRole(e.role);
  if (!role || Holds(*role, e.scope)) return;
  auto next = std::make_shared<std::vector<Grant>>(grants());  // copies keep the old one
  next->push_back({*role, e.scope});
  grants_ = std::move(next);
}

void GrantSet::Apply(const AccessRevoked& e) {
  auto role = ParseRole(e.role);
  if (!role || !Holds(*role, e.scope)) return;
  auto next = std::make_shared<std::vector<Grant>>(grants());
  std::erase(*next, Grant{*role, e.scope});
  grants_ = std::move(next);
}

void ApplyAccessEvent(const Event& event, std::unordered_map<std::string, GrantSet>& users) {
  if (const auto* g = std::get_if<AccessGranted>(&event)) users[g->user].Apply(*g);
  if (const auto* r = std::get_if<AccessRevoked>(&event)) users[r->user].Apply(*r);
}

bool GrantSet::Has(Role role) const {
  return std::any_of(grants().begin(), grants().end(), [role](const Grant& g) { return g.role == role; });
}

bool GrantSet::Holds(Role role, std::string_view scope) const {
  return std::any_of(grants().begin(), grants().end(),
                     [&](const Grant& g) { return g.role == role && g.scope == scope; });
}

std::vector<std::string> GrantSet::Scopes(Role role) const {
  std::vector<std::string> out;
  for (const Grant& g : grants()) {
    if (g.role == role) out.push_back(g.scope);
  }
  return out;
}

}  // namespace caseledger::domain
