#include "eventstore/written_claims.h"

#include "domain/decision.h"

namespace caseledger::eventstore {

std::optional<std::string> WrittenClaims::Find(const std::string& claim) const {
  const Shard& shard = ShardOf(claim);
  std::lock_guard l(shard.mu);
  auto it = shard.owners.find(claim);
  if (it == shard.owners.end()) return std::nullopt;
  return it->second;
}

void WrittenClaims::PutLocked(Shard& shard, const std::string& claim, const std::string& owner) {
  ++shard.generation;
  if (shard.owners.size() >= per_shard_ && !shard.owners.contains(claim)) shard.owners.clear();
  shard.owners.insert_or_assign(claim, owner);
}

void WrittenClaims::Put(const std::string& claim, const std::string& owner) {
  if (domain::IsPersonalClaim(claim)) return;
  Shard& shard = ShardOf(claim);
  std::lock_guard l(shard.mu);
  PutLocked(shard, claim, owner);
}

void WrittenClaims::Erase(const std::string& claim) {
  Shard& shard = ShardOf(claim);
  std::lock_guard l(shard.mu);
  ++shard.generation;
  shard.owners.erase(claim);
}

uint64_t WrittenClaims::Generation(const std::string& claim) const {
  const Shard& shard = ShardOf(claim);
  std::lock_guard l(shard.mu);
  return shard.generation;
}

void WrittenClaims::Fill(const std::string& claim, const std::string& owner, uint64_t generation) {
  if (domain::IsPersonalClaim(claim)) return;
  Shard& shard = ShardOf(claim);
  std::lock_guard l(shard.mu);
  if (shard.generation != generation) return;  // changed since the read began: maybe stale
  PutLocked(shard, claim, owner);
}

void WrittenClaims::Clear() {
  for (Shard& shard : shards_) {
    std::lock_guard l(shard.mu);
    shard.owners.clear();
    ++shard.generation;
  }
}

}  // namespace caseledger::eventstore
