#include "api/tax_code_claims.h"

#include "api/authz.h"
#include "api/command_service.h"
#include "domain/tax_code.h"

namespace caseledger::api {
namespace {

const std::string kPrefix(domain::kTaxCodeClaimPrefix);

bool MayRead(const ApiContext& ctx, const Principal& p, const std::string& person_id) {
  auto person = CurrentPerson(ctx, person_id);
  return person && (*person)->registered && PersonReadRole(p, **person, *ctx.reference).has_value();
}

}  // namespace

std::string TaxCodeClaimInAsl(const std::string& asl, const std::string& code) {
  return kPrefix + asl + "/" + code;
}

TaxCodeInScope ClaimTaxCodeInScope(const ApiContext& ctx, const Principal& p,
                                   const domain::RegisterPerson& registration, domain::Decision& decision) {
  TaxCodeInScope out;
  const std::string asl = AslOf(*ctx.reference, registration.residence_istat);
  for (std::string& claim : decision.claims) {
    if (!claim.starts_with(kPrefix) || asl.empty()) continue;
    auto read = ctx.store->ReadClaim(claim);
    if (!read) continue;  // the store's own check reads it again and answers the error
    std::optional<std::string> holder;
    if (read->owner && read->owner->starts_with("person-")) holder = read->owner->substr(7);
    // Held by a record the caller may read: the store refuses the duplicate (409), as the
    // caller can look it up anyway.
    if (!holder || MayRead(ctx, p, *holder)) {
      out.read = std::move(*read);
      continue;
    }
    claim = TaxCodeClaimInAsl(asl, claim.substr(kPrefix.size()));
    out.registered_before = std::move(holder);
    return out;
  }
  return out;
}

void ReleaseTaxCodeEverywhere(const domain::ReferenceData& ref, domain::Decision& decision) {
  std::vector<std::string> more;
  for (const std::string& claim : decision.released_claims) {
    if (!claim.starts_with(kPrefix)) continue;
    for (const domain::Asl& asl : ref.asls()) more.push_back(TaxCodeClaimInAsl(asl.code, claim.substr(kPrefix.size())));
  }
  decision.released_claims.insert(decision.released_claims.end(), more.begin(), more.end());
}

std::optional<std::string> PersonByTaxCode(const ApiContext& ctx, const Principal& p, const std::string& code) {
  auto holder = PersonOfClaim(*ctx.store, kPrefix + code);
  if (holder && MayRead(ctx, p, *holder)) return holder;
  for (const domain::Asl& asl : ctx.reference->asls()) {
    auto again = PersonOfClaim(*ctx.store, TaxCodeClaimInAsl(asl.code, code));
    if (again && MayRead(ctx, p, *again)) return again;
  }
  return holder;
}

}  // namespace caseledger::api
