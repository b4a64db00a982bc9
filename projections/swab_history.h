// The swabs of a person record, in request order, shared between copies of the record.
//
// Why: the batch pipeline keeps the record as it was before every event of a person
// (batch_pipeline.h), a copy per event, and a record keeps every swab the person ever had:
// with a std::vector each copy allocated and copied the whole history, so that an event
// cost more the longer the history behind it (at 1:10 the copy alone was ~7 % of a whole
// rebuild). Here the swabs are a prefix shared by every copy (immutable while shared) and
// the last few, in the record itself: a copy is one reference count and a few bytes, and
// an event changes the recent swabs (requested, collected and reported within days) in
// the copy's own tail. Changing a swab of the shared prefix moves the prefix's end back
// into the tail when it fits, else copies the prefix once (a correction of an old result).
//
// Encoded as the std::vector<SwabRecord> it replaces (a size tag and the swabs): the
// record's stored format does not change (projections/FORMAT.md).
#pragma once

#include "domain/time.h"
#include "domain/events.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <vector>

#include <cereal/cereal.hpp>
#include <cereal/types/vector.hpp>

namespace caseledger::projections {

// A swab of the person, compact (a person may have dozens and the region millions): the
// id is kept as a 64-bit FNV-1a hash (SwabIdHash), enough to tell one person's swabs apart.
struct SwabRecord {
  static constexpr uint8_t kNoOutcome = 0xff;
  uint64_t id_hash = 0;
  int64_t collected_at = 0;   // micros, when collected
  int32_t reported_day = 0;   // Date::days of the first report, when reported
  domain::SwabKind kind = domain::SwabKind::kMolecular;
  bool collected = false;
  uint8_t outcome = kNoOutcome;  // domain::Outcome after corrections, or kNoOutcome

  bool reported() const { return outcome != kNoOutcome; }
  bool positive() const { return outcome == static_cast<uint8_t>(domain::Outcome::kPositive); }
  domain::Date collected_day() const { return domain::Timestamp{collected_at}.ToDate(); }
  bool operator==(const SwabRecord&) const = default;
  template <class A> void serialize(A& ar) {
    ar(id_hash, collected_at, reported_day, kind, collected, outcome);
  }
};

class SwabHistory {
 public:
  // Swabs kept in the record itself, after the shared prefix.
  static constexpr size_t kTail = 4;

  SwabHistory() = default;
  explicit SwabHistory(std::vector<SwabRecord> swabs);

  size_t size() const { return sealed_ + tail_size_; }
  bool empty() const { return size() == 0; }
  const SwabRecord& operator[](size_t i) const { return i < sealed_ ? (*prefix_)[i] : tail_[i - sealed_]; }
  // Swab `i` to change: in the tail, or in a prefix no other copy holds; else the prefix's
  // end moves into the tail (when it fits) or the prefix is copied.
  SwabRecord& Mutable(size_t i);
  void push_back(const SwabRecord& s);
  void clear() { *this = SwabHistory(); }

  // Bytes on the heap (the shared prefix, counted whole by every copy that holds it).
  size_t HeapBytes(size_t (*allocated)(size_t)) const;
  bool operator==(const SwabHistory& o) const;

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = SwabRecord;
    using difference_type = std::ptrdiff_t;
    using pointer = const SwabRecord*;
    using reference = const SwabRecord&;
    const_iterator() = default;
    const_iterator(const SwabHistory* h, size_t i) : h_(h), i_(i) {}
    reference operator*() const { return (*h_)[i_]; }
    pointer operator->() const { return &(*h_)[i_]; }
    const_iterator& operator++() {
      ++i_;
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator old = *this;
      ++i_;
      return old;
    }
    bool operator==(const const_iterator& o) const { return i_ == o.i_; }

   private:
    const SwabHistory* h_ = nullptr;
    size_t i_ = 0;
  };
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size()}; }

  // The index of the first swab for which `f(swab)` holds (size(): none), in request order.
  template <class F>
  size_t FindIndex(F f) const {
    for (size_t i = 0; i < sealed_; ++i) {
      if (f((*prefix_)[i])) return i;
    }
    for (size_t i = 0; i < tail_size_; ++i) {
      if (f(tail_[i])) return sealed_ + i;
    }
    return size();
  }

  // The index of the last swab for which `f(swab)` holds (size(): none), searched from the
  // newest. For a swab's id, which is unique (a claim of the store), it is the one swab:
  // the events that name a swab mostly follow its request by days, so the search ends at
  // once where one from the oldest read every swab of a person tested weekly (a cache
  // miss per few swabs: PersonRecord::FindSwab was ~2.4 % of a 1:1 catch-up).
  template <class F>
  size_t FindLastIndex(F f) const {
    for (size_t i = tail_size_; i-- > 0;) {
      if (f(tail_[i])) return sealed_ + i;
    }
    for (size_t i = sealed_; i-- > 0;) {
      if (f((*prefix_)[i])) return i;
    }
    return size();
  }

  // As cereal writes a std::vector<SwabRecord>.
  template <class A> void save(A& ar) const {
    ar(cereal::make_size_tag(static_cast<cereal::size_type>(size())));
    for (size_t i = 0; i < size(); ++i) ar(const_cast<SwabRecord&>((*this)[i]));
  }
  template <class A> void load(A& ar) {
    std::vector<SwabRecord> swabs;
    ar(swabs);
    *this = SwabHistory(std::move(swabs));
  }

 private:
  // Moves the oldest half of a full tail to the end of the prefix.
  void Seal();

  // Swabs [0, sealed_) are the first sealed_ of *prefix_ (another copy may hold more of
  // it); *prefix_ is changed in place only while no other copy holds it.
  std::shared_ptr<const std::vector<SwabRecord>> prefix_;
  uint32_t sealed_ = 0;
  uint32_t tail_size_ = 0;
  std::array<SwabRecord, kTail> tail_{};
};

}  // namespace caseledger::projections
