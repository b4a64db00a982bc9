// The GP view's rows (gp_view.h) as kept in memory and in the views database: a GP's
// patients in buckets copied on write, each patient's open case, measures and pending swabs,
// and the results reported to the GP by day; their encoding (a format byte, then cereal) and
// their keys ("<gp>/p/<person>", "<gp>/r/<day>"). Private to gp_view.cc.
#pragma once

#include "projections/entry_codec.h"
#include "projections/person_internal.h"
#include "projections/person_key.h"
#include "projections/sharded_table.h"
#include "projections/view.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace caseledger::projections::gp_rows {

using domain::Date;

constexpr char kFormat = 1;      // first byte of every persisted value
constexpr size_t kBuckets = 32;  // a change copies one bucket: ~1/32 of a GP's patients
constexpr int kResultDays = 7;   // report days of results kept per GP

// A person id held inline (person_key.h), so that copying a bucket allocates nothing per
// patient.
using projections::PersonKey;

// The key of a patient row in the view's cache (gp_view.cc): the GP and the person, the
// person held inline; looked up by PatientRef without building the row's database key.
struct PatientRef {
  std::string_view gp, person;
};
struct PatientId {
  std::string gp;
  PersonKey person;
  PatientRef ref() const { return {gp, person.view()}; }
};
struct PatientIdHash {
  using is_transparent = void;
  size_t operator()(const PatientRef& r) const {
    const std::hash<std::string_view> h;
    return h(r.person) ^ (h(r.gp) * 0x9e3779b97f4a7c15ull);
  }
  size_t operator()(const PatientId& k) const { return (*this)(k.ref()); }
};
struct PatientIdEq {
  using is_transparent = void;
  static PatientRef Ref(const PatientRef& r) { return r; }
  static PatientRef Ref(const PatientId& k) { return k.ref(); }
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    const PatientRef x = Ref(a), y = Ref(b);
    return x.person == y.person && x.gp == y.gp;
  }
};

// An id of at most N characters held inline, persisted as the std::string it stands for
// (cereal's length, then the bytes): a note's person and swab id, a pending swab's id. Why:
// each was a string longer than the 15 characters std::string holds inline, so a note made
// two heap blocks at its result and freed them when its day was dropped (about half of
// AddNote), a pending swab one at its request (docs/benchmarks.md, session 31).
template <size_t N>
class InlineId {
 public:
  InlineId() = default;
  // Throws std::length_error for an id longer than N characters.
  explicit InlineId(std::string_view id) : size_(static_cast<uint8_t>(id.size())) {
    if (id.size() > N) throw std::length_error("id longer than " + std::to_string(N) + ": " + std::string(id));
    std::copy(id.begin(), id.end(), data_.begin());
  }
  std::string_view view() const { return {data_.data(), size_}; }
  bool operator==(const InlineId& other) const { return view() == other.view(); }

  template <class A>
  void save(A& ar) const {
    ar(cereal::make_size_tag(static_cast<cereal::size_type>(size_)));
    ar(cereal::binary_data(data_.data(), size_));
  }
  // Throws cereal::Exception for a length above N (DecodeEntry then returns false).
  template <class A>
  void load(A& ar) {
    cereal::size_type n = 0;
    ar(cereal::make_size_tag(n));
    if (n > N) throw cereal::Exception("an id of " + std::to_string(n) + " characters");
    size_ = static_cast<uint8_t>(n);
    ar(cereal::binary_data(data_.data(), size_));
  }

 private:
  static_assert(N < 256);
  std::array<char, N> data_{};
  uint8_t size_ = 0;
};

struct MeasureStatus {
  uint32_t id = 0;
  bool isolation = false;
  Date start;
  Date end;  // over on this day: ActiveMeasure::end
  std::optional<Date> release_with_test_from;
  bool end_given = false;
  std::string reason;
  std::string rule_set;  // empty: no rule set in force on the start day
  bool RunsOn(Date d) const { return start <= d && d < end; }
  bool operator==(const MeasureStatus&) const = default;
  template <class A> void serialize(A& ar) {
    ar(id, isolation, start, end, release_with_test_from, end_given, reason, rule_set);
  }
};

struct PendingSwab {
  InlineId<40> swab_id;  // domain::ValidateSwabId's 6-40 characters
  domain::SwabKind kind = domain::SwabKind::kMolecular;
  Date requested_on;
  std::optional<Date> collected_on;
  bool operator==(const PendingSwab&) const = default;
  template <class A> void serialize(A& ar) { ar(swab_id, kind, requested_on, collected_on); }
};

struct PatientStatus {
  bool case_open = false;
  std::vector<MeasureStatus> measures;  // active ones, in the order they were ordered
  std::vector<PendingSwab> pending;     // in the order they were requested
  bool idle() const { return !case_open && measures.empty() && pending.empty(); }
  bool operator==(const PatientStatus&) const = default;
  template <class A> void serialize(A& ar) { ar(case_open, measures, pending); }
};

struct Patient {
  PersonKey id;
  std::shared_ptr<PatientStatus> status;  // null while idle: most patients, most of the time
};

// A result reported to the GP, persisted with the other results of its report day
// ("<gp>/r/<day>": the day's notes in log order). The person id is at most 39 characters
// (PersonKey's), the swab id at most 40 (domain::ValidateSwabId's).
struct ResultNote {
  Date day;               // report day (Italy)
  uint64_t position = 0;  // of the event: orders a day's notes
  InlineId<39> person;
  InlineId<40> swab_id;
  domain::Outcome outcome = domain::Outcome::kNegative;
  bool corrected = false;
  template <class A>
  void serialize(A& ar) {
    ar(day, position, person, swab_id, outcome, corrected);
  }
};
using Notes = std::vector<ResultNote>;
using Bucket = std::vector<Patient>;  // sorted by id

struct GpEntry {
  std::array<std::shared_ptr<Bucket>, kBuckets> buckets;
  size_t patients = 0;
  std::vector<std::pair<Date, std::shared_ptr<Notes>>> results;  // by report day, ascending
};

using cow::KeyHash;
using cow::Own;
using Table = cow::ShardedTable<GpEntry>;
// Published: the GPs (patient counts, results; every patient too when not attached) and,
// when attached, the patient rows as the batch of the same position wrote them.
struct FrozenGps {
  Table::Frozen gps;
  std::shared_ptr<const StoredEntries::Pinned> rows;  // null: the patients are in the buckets
};
inline size_t BucketOf(std::string_view person) { return KeyHash{}(person) % kBuckets; }

template <class T>
inline std::string Encode(const T& value) {
  return EncodeEntry(kFormat, value);
}
template <class T>
inline bool Decode(std::string_view bytes, T& value) {
  return DecodeEntry(kFormat, bytes, value);
}

template <class Patients>
inline auto FindIn(Patients& v, std::string_view id) {
  return std::lower_bound(v.begin(), v.end(), id,
                          [](const Patient& p, std::string_view k) { return p.id.view() < k; });
}

inline const Patient* FindPatient(const GpEntry* g, std::string_view id) {
  const Bucket* b = g ? g->buckets[BucketOf(id)].get() : nullptr;
  if (b == nullptr) return nullptr;
  auto it = FindIn(*b, id);
  return it != b->end() && it->id.view() == id ? &*it : nullptr;
}

inline std::shared_ptr<Notes>& DaySlot(GpEntry& g, Date day) {
  auto at = std::lower_bound(g.results.begin(), g.results.end(), day,
                             [](const auto& d, Date x) { return d.first < x; });
  if (at == g.results.end() || at->first != day) at = g.results.insert(at, {day, nullptr});
  return at->second;
}

// Notes of a day are kept in log order (moved notes keep their position).
inline void InsertNote(Notes& notes, const ResultNote& note) {
  if (notes.empty() || notes.back().position < note.position) return notes.push_back(note);
  auto at = std::upper_bound(notes.begin(), notes.end(), note.position,
                             [](uint64_t p, const ResultNote& n) { return p < n.position; });
  notes.insert(at, note);
}

// The patient rows of a catch-up from scratch, made at its end (PersonFold::RowsAtEnd):
// each person with a GP gives the row "<gp>/p/<person>", their part or an idle status
// (gp_view_rows_at_end.cc).
std::unique_ptr<PersonRowsAtEnd> MakeRowsAtEnd();

inline std::string PatientKey(std::string_view gp, std::string_view person) {
  return std::string(gp) + "/p/" + std::string(person);
}
inline std::string DayKeyOf(std::string_view gp, Date day) { return std::string(gp) + "/r/" + day.ToString(); }

}  // namespace caseledger::projections::gp_rows
