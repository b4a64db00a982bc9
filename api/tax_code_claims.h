// Tax codes registered again in another ASL (finding 8 of the 2026-12 audit,
// docs/security.md). A tax code is unique in the registry, so a registration of one that a
// record outside the caller's scope already holds could only be refused, and the refusal
// (409) told an operator that someone it may not look up exists. Instead such a
// registration goes through like any other: it holds the tax code in the namespace of the
// new residence's ASL ("taxcode/<ASL>/<code>", still unique there, still a keyed hash in
// the store), and the earlier record's access report notes it, where its ASL's operators
// and the auditors see it and reconcile (the old ASL records the residence change).
// Lookups by tax code answer the record the caller may read.
#pragma once

#include "api/api_context.h"
#include "api/router.h"
#include "domain/commands.h"
#include "domain/decision.h"

#include <optional>
#include <string>

namespace caseledger::api {

// "taxcode/<asl>/<code>": the claim of a tax code registered again in ASL `asl`.
std::string TaxCodeClaimInAsl(const std::string& asl, const std::string& code);

struct TaxCodeInScope {
  // The person holding the tax code whom `p` may not read (the caller notes the new
  // registration in that record's access report), if any.
  std::optional<std::string> registered_before;
  // The read of the claim the decision keeps, for the append (AppendRequest::claim_reads):
  // the store then neither blinds nor reads it again unless claims were written meanwhile.
  std::optional<eventstore::ClaimRead> read;
};

// For a registration decided for `p`: when a record `p` may not read holds the tax code,
// moves the decision's claim into the residence ASL's namespace and names that record.
TaxCodeInScope ClaimTaxCodeInScope(const ApiContext& ctx, const Principal& p,
                                   const domain::RegisterPerson& registration, domain::Decision& decision);

// An erasure gives up the tax code in every ASL's namespace too.
void ReleaseTaxCodeEverywhere(const domain::ReferenceData& ref, domain::Decision& decision);

// The person holding tax code `code` that `p` may read, else the holder of the region-wide
// claim (whose read is then refused and logged as any other), else nullopt.
std::optional<std::string> PersonByTaxCode(const ApiContext& ctx, const Principal& p, const std::string& code);

}  // namespace caseledger::api
