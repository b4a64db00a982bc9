// The checks an append request passes before it is given positions, one set for the group
// commit (group_commit.cc, RocksEventStore::Prepare) and the bulk import (bulk_import.cc), so
// that both refuse the same requests with the same errors. Private to eventstore.
#pragma once

#include "eventstore/event_store.h"
#include "eventstore/personal_vault.h"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace caseledger::eventstore {

// kInvalidArgument unless `stream` is a usable stream id (non-empty, no NUL: the stream
// index's keys end the id with one).
std::optional<StoreError> CheckStreamName(std::string_view stream);

// kWrongExpectedVersion (naming `stream` and its version) unless `r.expected` admits a
// stream at `version` (0: no stream). `stream` is the request's (r.stream, or the stream a
// bulk import's handle names: bulk_import.h).
std::optional<StoreError> CheckExpectedVersion(const AppendRequest& r, std::string_view stream, uint64_t version);

// A request's personal data and claims, once checked.
struct CheckedClaims {
  bool personal = false;              // an event of the request carries personal data
  std::vector<std::string> taken;     // the claims' stored forms (personal ones blinded)
  std::vector<std::string> released;  // stored forms of the released claims the stream holds
};

// The stream holding a stored claim, as the caller sees the store (its unsynced or imported
// state included); nullopt: free. `read` is the request's own read of the claim
// (AppendRequest::claim_reads), or null: the lookup decides whether its answer still stands.
using ClaimOwnerLookup =
    std::function<StoreResult<std::optional<std::string>>(const std::string& stored, const ClaimRead* read)>;

// Refuses personal data, a personal claim or an erasure when `vault` is null (a store opened
// without a master key), and a claim another stream holds (kClaimTaken, naming the claim and
// its owner); a released claim the stream does not hold is left out, not refused. `stream`
// is the one the request appends to, as for CheckExpectedVersion. `owner` is asked about
// each of r.claims in order (the i-th answer is about taken[i]), then about each of
// r.released_claims in order: the bulk import keeps what it learnt of each claim by that order.
StoreResult<CheckedClaims> CheckClaims(const AppendRequest& r, std::string_view stream, const PersonalVault* vault,
                                       const ClaimOwnerLookup& owner);
// The same for a request whose events are held apart from it (the bulk import's by view):
// `personal` tells whether one of them carries personal data; r.events is not read.
StoreResult<CheckedClaims> CheckClaims(const AppendRequest& r, bool personal, std::string_view stream,
                                       const PersonalVault* vault, const ClaimOwnerLookup& owner);

}  // namespace caseledger::eventstore
