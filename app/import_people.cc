#include "app/import_people.h"

#include "domain/bounded_archive.h"
#include "domain/person_state_archive.h"
#include "domain/string_archive.h"

namespace caseledger::app {
namespace {

uint64_t HashOf(std::string_view text) { return std::hash<std::string_view>{}(text); }

std::string Encode(const ImportPerson& p) {
  std::string out;
  {
    domain::StringOutputArchive ar(out);
    ImportPerson& q = const_cast<ImportPerson&>(p);
    ar(q.key, q.id, q.line, q.state);
  }
  return out;
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
    : spill_path_(std::move(spill_path)), in_memory_(std::max<size_t>(1, in_memory)) {}

ImportPeople::~ImportPeople() = default;

eventstore::StoreResult<void> ImportPeople::Open() {
  if (spill_path_.empty()) return {};
  auto file = eventstore::SpillFile::Create(spill_path_);
  if (!file) return file.error();
  file_ = std::move(*file);
  return {};
}

eventstore::StoreResult<ImportPerson*> ImportPeople::Get(uint32_t index) {
  Slot& slot = slots_[index];
  slot.referenced = true;
  if (slot.person) return slot.person.get();
  if (auto read = file_->Read(slot.where, buffer_); !read) return read.error();
  auto person = Decode(buffer_, spill_path_);
  if (!person) return person.error();
  slot.person = std::move(*person);
  slot.person->index = index;
  loaded_.push_back(index);
  ++stats_.read;
  return slot.person.get();
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
  const auto index = static_cast<uint32_t>(slots_.size());
  if (auto [it, added] = by_key_.try_emplace(HashOf(person.key), index); !added) key_collisions_[person.key] = index;
  Slot& slot = slots_.emplace_back();
  slot.person = std::make_unique<ImportPerson>(std::move(person));
  slot.person->index = index;
  slot.referenced = true;
  loaded_.push_back(index);
  return slot.person.get();
}

void ImportPeople::AddSwab(std::string_view swab_id, const ImportPerson* person) {
  if (auto [it, added] = by_swab_.try_emplace(HashOf(swab_id), person->index); !added) {
    swab_collisions_[std::string(swab_id)] = person->index;
  }
}

eventstore::StoreResult<void> ImportPeople::Trim() {
  if (!file_) return {};
  while (loaded_.size() > in_memory_) {
    if (hand_ >= loaded_.size()) hand_ = 0;
    Slot& slot = slots_[loaded_[hand_]];
    if (slot.referenced) {
      slot.referenced = false;
      ++hand_;
      continue;
    }
    if (auto evicted = Evict(loaded_[hand_]); !evicted) return evicted;
    loaded_[hand_] = loaded_.back();  // the hand now points at one it has not seen
    loaded_.pop_back();
  }
  stats_.file_bytes = file_->file_bytes();
  return {};
}

eventstore::StoreResult<void> ImportPeople::Evict(uint32_t index) {
  Slot& slot = slots_[index];
  if (auto written = file_->Write(slot.where, Encode(*slot.person)); !written) return written;
  slot.person.reset();
  ++stats_.written;
  return {};
}

eventstore::StoreResult<void> ImportPeople::ForEach(const std::function<void(const ImportPerson&)>& visit) {
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].person) {
      visit(*slots_[i].person);
      continue;
    }
    if (auto read = file_->Read(slots_[i].where, buffer_); !read) return read.error();
    auto person = Decode(buffer_, spill_path_);
    if (!person) return person.error();
    visit(**person);
  }
  return {};
}

}  // namespace caseledger::app
