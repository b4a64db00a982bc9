#include "eventstore/append_checks.h"

#include "domain/decision.h"

#include <algorithm>

namespace caseledger::eventstore {

std::optional<StoreError> CheckStreamName(std::string_view stream) {
  if (!stream.empty() && stream.find('\0') == std::string_view::npos) return std::nullopt;
  return StoreError{StoreErrorCode::kInvalidArgument, "stream id must be non-empty text"};
}

std::optional<StoreError> CheckExpectedVersion(const AppendRequest& r, std::string_view stream, uint64_t version) {
  const ExpectedVersion& ex = r.expected;
  const bool ok = ex.kind == ExpectedVersion::Kind::kAny ||
                  (ex.kind == ExpectedVersion::Kind::kNoStream && version == 0) ||
                  (ex.kind == ExpectedVersion::Kind::kExact && version == ex.version);
  if (ok) return std::nullopt;
  return StoreError{StoreErrorCode::kWrongExpectedVersion,
                    "stream " + std::string(stream) + " is at version " + std::to_string(version), version};
}

StoreResult<CheckedClaims> CheckClaims(const AppendRequest& r, std::string_view stream, const PersonalVault* vault,
                                       const ClaimOwnerLookup& owner) {
  const bool personal = std::any_of(r.events.begin(), r.events.end(), [](const NewEvent& e) { return !e.personal.empty(); });
  return CheckClaims(r, personal, stream, vault, owner);
}

StoreResult<CheckedClaims> CheckClaims(const AppendRequest& r, bool personal, std::string_view stream,
                                       const PersonalVault* vault, const ClaimOwnerLookup& owner) {
  CheckedClaims checked;
  checked.personal = personal;
  const bool personal_claims =
      std::any_of(r.claims.begin(), r.claims.end(), domain::IsPersonalClaim) ||
      std::any_of(r.released_claims.begin(), r.released_claims.end(), domain::IsPersonalClaim);
  if (!vault && (checked.personal || personal_claims || r.erase_personal_data)) {
    return StoreError{StoreErrorCode::kInvalidArgument,
                      "the store was opened without a master key: it cannot record personal data"};
  }
  // Personal claims are only ever stored as their keyed hash.
  auto stored_claim = [&](const std::string& claim) { return vault ? vault->BlindClaim(claim) : claim; };
  for (const std::string& claim : r.claims) {
    // A read the request carries has the stored form already (no second keyed hash).
    const ClaimRead* read = nullptr;
    for (const ClaimRead& c : r.claim_reads) {
      if (c.claim == claim && !c.stored.empty()) read = &c;
    }
    checked.taken.push_back(read ? read->stored : stored_claim(claim));
    auto holder = owner(checked.taken.back(), read);
    if (!holder) return holder.error();
    if (*holder && **holder != stream) {
      StoreError e{StoreErrorCode::kClaimTaken, checked.taken.back() + " is already taken"};
      e.claim = checked.taken.back();
      e.claim_owner = **holder;
      return e;
    }
  }
  for (const std::string& claim : r.released_claims) {
    std::string stored = stored_claim(claim);
    auto holder = owner(stored, nullptr);
    if (!holder) return holder.error();
    if (*holder && **holder == stream) checked.released.push_back(std::move(stored));
  }
  return checked;
}

}  // namespace caseledger::eventstore
