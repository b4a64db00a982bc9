#include "app/import_people.h"

#include "domain/bounded_archive.h"
#include "domain/person_state_archive.h"
#include "domain/string_archive.h"

namespace caseledger::app {
namespace {

uint64_t HashOf(std::string_view text) { return std::hash<std::string_view>{}(text); }

void Encode(const ImportPerson& p, std::string& out) {
  domain::StringOutputArchive ar(out);
  ImportPerson& q = const_cast<ImportPerson&>(p);
  ar(q.key, q.id, q.line, q.state);
}

eventstore::StoreResult<std::unique_ptr<ImportPerson>> Decode(std::string_view bytes, const std::string& path) {
  auto p = std::make_unique<ImportPerson>();
  try {
    domain::BoundedBinaryInputArchive ar(bytes);
    ar(p->key, p->id, p->line, p->state);
  } catch (const std::exception& e) {
    return eventstore::StoreError{eventstore::StoreErrorCode::kCorruption, "spill file " + path + ": " + e.what()};
  }
  return p;
}

}  // namespace

ImportPeople::ImportPeople(std::string spill_path, size_t in_memory)
    : records_(std::move(spill_path), in_memory, Encode, Decode) {}

ImportPeople::~ImportPeople() = default;

eventstore::StoreResult<void> ImportPeople::Open() { return records_.Open(); }

eventstore::StoreResult<ImportPerson*> ImportPeople::Get(uint32_t index) {
  auto person = records_.Get(index);
  if (person) (*person)->index = index;  // not in the spilled bytes
  return person;
}

eventstore::StoreResult<ImportPerson*> ImportPeople::Find(std::string_view key) {
  if (auto it = by_key_.find(HashOf(key)); it != by_key_.end()) {
    auto person = Get(it->second);
    if (!person || (*person)->key == key) return person;
    if (auto exact = key_collisions_.find(std::string(key)); exact != key_collisions_.end()) return Get(exact->second);
  }
  return nullptr;
}

eventstore::StoreResult<ImportPerson*> ImportPeople::FindSwab(std::string_view swab_id) {
  if (auto it = by_swab_.find(HashOf(swab_id)); it != by_swab_.end()) {
    auto person = Get(it->second);
    if (!person || (*person)->state.FindSwab(swab_id)) return person;
    if (auto exact = swab_collisions_.find(std::string(swab_id)); exact != swab_collisions_.end()) {
      return Get(exact->second);
    }
  }
  return nullptr;
}

ImportPerson* ImportPeople::Add(ImportPerson person) {
  const auto index = static_cast<uint32_t>(records_.size());
  if (auto [it, added] = by_key_.try_emplace(HashOf(person.key), index); !added) key_collisions_[person.key] = index;
  person.index = index;
  return records_.Add(std::make_unique<ImportPerson>(std::move(person)));
}

void ImportPeople::AddSwab(std::string_view swab_id, const ImportPerson* person) {
  if (auto [it, added] = by_swab_.try_emplace(HashOf(swab_id), person->index); !added) {
    swab_collisions_[std::string(swab_id)] = person->index;
  }
}

eventstore::StoreResult<void> ImportPeople::Trim() { return records_.Trim(); }

eventstore::StoreResult<void> ImportPeople::ForEach(const std::function<void(const ImportPerson&)>& visit) {
  return records_.ForEach(visit);
}

}  // namespace caseledger::app
