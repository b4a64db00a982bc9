// Who may do what (docs/security.md): roles, their scopes, and the grants of one user as they stand
// after the `users` stream's AccessGranted/AccessRevoked events. Pure: the API turns a token
// subject into a GrantSet and asks the questions below on every request.
#pragma once

#include "domain/error.h"
#include "domain/events.h"
#include "domain/reference.h"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace caseledger::domain {

enum class Role : uint8_t { kOperator, kLab, kGp, kSchool, kMayor, kAuditor, kAdmin };

// "operator", "lab", ... ; nullopt for anything else.
std::optional<Role> ParseRole(std::string_view text);
const char* ToString(Role role);

// A role held over one scope: an ASL code (operator), a lab id (lab), a GP id (gp), a school
// code (school), an ISTAT code (mayor); empty for the regional roles auditor and admin.
struct Grant {
  Role role = Role::kOperator;
  std::string scope;
  bool operator==(const Grant&) const = default;
};

// Checks a grant request and normalises the scope (upper case codes). Field errors name
// "role" or "scope".
Result<Grant> ValidateGrant(std::string_view role, std::string_view scope, const ReferenceData& ref);

// The grants one user holds, in the order they were granted. Revoking a grant not held
// changes nothing (the event is still a fact in the log). Copies share the grants (a
// request's principal is a copy of its user's set): a copy costs a reference count, and
// Apply gives the changed set its own vector. Thread safety: as a std::vector's.
class GrantSet {
 public:
  void Apply(const AccessGranted& e);
  void Apply(const AccessRevoked& e);

  const std::vector<Grant>& grants() const { return grants_ ? *grants_ : kNone; }
  bool empty() const { return !grants_ || grants_->empty(); }
  bool Has(Role role) const;
  bool Holds(Role role, std::string_view scope) const;
  // Scopes held in `role`, in grant order.
  std::vector<std::string> Scopes(Role role) const;

 private:
  static inline const std::vector<Grant> kNone;
  std::shared_ptr<const std::vector<Grant>> grants_;  // null: none
};

// Applies an AccessGranted or AccessRevoked to the grants of its user in `users` (the fold
// of the `users` stream); any other event is ignored.
void ApplyAccessEvent(const Event& event, std::unordered_map<std::string, GrantSet>& users);

// Smallest count a mayor's aggregate view shows; smaller non-zero counts are suppressed
// so that nobody is identifiable in a small municipality.
inline constexpr int64_t kMinShownCount = 3;

}  // namespace caseledger::domain
