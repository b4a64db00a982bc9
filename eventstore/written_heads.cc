#include "eventstore/written_heads.h"

namespace caseledger::eventstore {

std::optional<format::Head> WrittenHeads::Find(const std::string& stream) const {
  const Shard& shard = ShardOf(stream);
  std::lock_guard l(shard.mu);
  auto it = shard.heads.find(stream);
  if (it == shard.heads.end()) return std::nullopt;
  return it->second;
}

void WrittenHeads::Put(const std::string& stream, const format::Head& head) {
  Shard& shard = ShardOf(stream);
  std::lock_guard l(shard.mu);
  if (shard.heads.size() >= per_shard_ && !shard.heads.contains(stream)) shard.heads.clear();
  auto [it, inserted] = shard.heads.try_emplace(stream, head);
  if (!inserted && it->second.version < head.version) it->second = head;
}

void WrittenHeads::Clear() {
  for (Shard& shard : shards_) {
    std::lock_guard l(shard.mu);
    shard.heads.clear();
  }
}

}  // namespace caseledger::eventstore
