#include "projections/memory_estimate.h"

#include "projections/view.h"

#include <memory>

namespace caseledger::projections {
namespace {

// libstdc++'s strings hold up to 15 characters inline.
constexpr size_t kInlineChars = 15;

size_t Heap(const std::string& s) { return s.capacity() > kInlineChars ? AllocatedBytes(s.capacity() + 1) : 0; }

template <class T>
size_t Buffer(const std::vector<T>& v) {
  return AllocatedBytes(v.capacity() * sizeof(T));
}

}  // namespace

size_t CachedRecordBytes(const PersonRecord& r) {
  // std::make_shared: one allocation for the control block (two counts and a vtable
  // pointer) and the record.
  size_t bytes = AllocatedBytes(sizeof(PersonRecord) + 16);
  bytes += Heap(r.residence_istat) + Heap(r.gp_id) + Heap(r.case_istat);
  bytes += Buffer(r.enrolments);
  for (const auto& e : r.enrolments) bytes += Heap(e.school) + Heap(e.class_label);
  bytes += Buffer(r.doses);
  bytes += Buffer(r.measures);
  for (const auto& m : r.measures) bytes += Heap(m.reason) + Heap(m.istat);
  bytes += r.swabs.HeapBytes(AllocatedBytes);
  bytes += Buffer(r.spells);
  for (const auto& s : r.spells) bytes += Heap(s.istat);
  // The hash table's slot (the key held inline, a shared_ptr, a stamp, the GP-only record's
  // pointer and the fold states)
  // at the load of a Swiss table between its growths (7/16 to 7/8 full: ~2/3 on average),
  // plus one control byte.
  constexpr size_t kSlot = sizeof(PersonKey) + sizeof(std::shared_ptr<PersonRecord>) + sizeof(uint64_t) +
                          sizeof(const PersonRecord*) + sizeof(absl::InlinedVector<FoldState, 1>);
  bytes += kSlot * 3 / 2 + 1;
  return bytes;
}

size_t CachedEntryBytes(const PersonRecord& record, std::span<const FoldState> states,
                        std::span<PersonFold* const> folds) {
  size_t bytes = CachedRecordBytes(record);
  if (states.size() > 1) bytes += AllocatedBytes(states.size() * sizeof(FoldState));  // beyond the one inline
  for (size_t k = 0; k < states.size() && k < folds.size(); ++k) bytes += folds[k]->StateBytes(states[k]);
  return bytes;
}

size_t CachedBytes(const PersonDirectory& directory, std::span<PersonFold* const> folds, std::string_view person_id) {
  std::span<const FoldState> states;
  const PersonRecord* record = directory.Find(person_id, states);
  return record == nullptr ? 0 : CachedEntryBytes(*record, states, folds);
}

}  // namespace caseledger::projections
