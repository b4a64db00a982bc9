#include "eventstore/written_heads.h"

namespace caseledger::eventstore {

std::optional<format::Head> WrittenHeads::Find(const std::string& stream) const {
  const Shard& shard = ShardOf(stream);
  std::lock_guard l(shard.mu);
  auto it = shard.heads.find(stream);
  if (it == shard.heads.end()) return std::nullopt;
  return it->second;
}

void WrittenHeads::PutLocked(Shard& shard, const std::string& stream, const format::Head& head) {
  if (shard.heads.size() >= per_shard_ && !shard.heads.contains(stream)) {
    shard.heads.clear();
    ++shard.generation;
  }
  auto [it, inserted] = shard.heads.try_emplace(stream, head);
  if (!inserted && it->second.version < head.version) it->second = head;
}

void WrittenHeads::Put(const std::string& stream, const format::Head& head) {
  Shard& shard = ShardOf(stream);
  std::lock_guard l(shard.mu);
  PutLocked(shard, stream, head);
}

uint64_t WrittenHeads::Generation(const std::string& stream) const {
  const Shard& shard = ShardOf(stream);
  std::lock_guard l(shard.mu);
  return shard.generation;
}

void WrittenHeads::Fill(const std::string& stream, const format::Head& head, uint64_t generation) {
  Shard& shard = ShardOf(stream);
  std::lock_guard l(shard.mu);
  if (shard.generation != generation) return;  // emptied since the read began: maybe stale
  PutLocked(shard, stream, head);
}

void WrittenHeads::Clear() {
  for (Shard& shard : shards_) {
    std::lock_guard l(shard.mu);
    shard.heads.clear();
    ++shard.generation;
  }
}

}  // namespace caseledger::eventstore
