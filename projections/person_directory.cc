#include "projections/person_directory.h"

#include "domain/string_archive.h"

#include "domain/bounded_archive.h"
#include "projections/person_internal.h"

#include <cereal/archives/binary.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include <algorithm>
#include <cstring>
#include <sstream>
#include <type_traits>

namespace caseledger::domain {
// Dose lives in the pure domain, which does not persist it; the directory does.
template <class A>
void serialize(A& ar, Dose& d) {
  ar(d.number, d.date);
}
template <class A>
void serialize(A& ar, Enrolment& e) {
  ar(e.school, e.class_label, e.role);
}
}  // namespace caseledger::domain

namespace caseledger::projections {
namespace {

using domain::Date;

// 2: the episode as the domain keeps it (last closure and its day, instead of "deceased" and
// the last recovery), no report day or municipality left from a closed case.
constexpr char kFormat = 2;
constexpr int kDefaultMeasureDays = 14;

SwabRecord* MutableSwab(PersonRecord& r, uint64_t h) {
  const size_t i = r.swabs.FindLastIndex([h](const SwabRecord& s) { return s.id_hash == h; });
  return i == r.swabs.size() ? nullptr : &r.swabs.Mutable(i);
}

// The facts move by the domain's FactsApplier (domain/person_facts.h); the overloads here
// add what only the views keep, reading the record before the facts move where they need to.
struct Applier : domain::FactsApplier {
  using domain::FactsApplier::operator();
  PersonRecord& r;
  const domain::RuleBook* rules;
  const LogEvent& event;
  Date day;  // effective day of the event

  Applier(PersonRecord& record, const domain::RuleBook* book, const LogEvent& e)
      : domain::FactsApplier{record}, r(record), rules(book), event(e), day(e.EffectiveDay()) {}

  void operator()(const domain::ResidenceChanged& e) {
    if (e.to_istat == r.residence_istat) return;
    for (ActiveMeasure& m : r.measures) {
      Date from = std::max(day, m.since);
      if (from >= m.end) continue;  // over by time already: stays where it ran
      m.since = from;
      m.istat = e.to_istat;
    }
    domain::FactsApplier::operator()(e);
  }
  void operator()(const domain::SwabRequested& e) {
    SwabRecord s;
    s.id_hash = event.SwabHash(e.swab_id);
    s.kind = e.kind;
    r.swabs.push_back(s);
  }
  void operator()(const domain::SwabCollected& e) {
    if (SwabRecord* s = MutableSwab(r, event.SwabHash(e.swab_id))) {
      s->collected = true;
      s->collected_at = e.collected_at.micros;
    }
  }
  void operator()(const domain::ResultRecorded& e) {
    SwabRecord* s = MutableSwab(r, event.SwabHash(e.swab_id));
    if (!s) return;
    if (!s->reported()) s->reported_day = event.OwnDay(e.reported_at).days;
    s->outcome = static_cast<uint8_t>(e.outcome);
    Settle(*s, Date{s->reported_day});
  }
  void operator()(const domain::ResultCorrected& e) {
    SwabRecord* s = MutableSwab(r, event.SwabHash(e.swab_id));
    if (!s) return;
    if (!s->reported()) s->reported_day = event.OwnDay(e.corrected_at).days;
    s->outcome = static_cast<uint8_t>(e.outcome);
    Settle(*s, Date{s->reported_day});
  }
  void operator()(const domain::IsolationOrdered& e) { Order(true, e.measure_id, e.start, e.reason, e.end); }
  void operator()(const domain::QuarantineOrdered& e) { Order(false, e.measure_id, e.start, e.reason, e.end); }
  void operator()(const domain::MeasureEnded& e) {
    std::erase_if(r.measures, [&](const ActiveMeasure& m) { return m.measure_id == e.measure_id; });
  }
  void operator()(const domain::CaseClosed& e) {
    domain::FactsApplier::operator()(e);
    r.case_reported_on.reset();
    r.case_istat.clear();
  }

  // The episode after swab `s` changed; a case opened by it counts from `reported`.
  void Settle(const SwabRecord& s, Date reported) {
    internal::Episode ep = internal::EpisodeWith(r, s.id_hash, s.outcome);
    if (!r.case_open && ep.open) {
      r.case_reported_on = reported;
      r.case_istat = r.residence_istat;
      r.case_test = s.kind;
    } else if (r.case_open && !ep.open) {
      r.case_reported_on.reset();
      r.case_istat.clear();
    }
    r.Settle(ep);
  }
  void Order(bool isolation, uint32_t id, Date start, const std::string& reason,
             const std::optional<Date>& given) {
    ActiveMeasure m;
    m.measure_id = id;
    m.isolation = isolation;
    m.start = start;
    m.given_end = given;
    m.reason = reason;
    m.end = internal::PlannedEnd(rules, r, isolation, start, reason, given);
    m.istat = r.residence_istat;
    m.since = start;
    r.measures.push_back(std::move(m));
  }
};

// Writes what cereal's BinaryOutputArchive writes for PersonRecord::serialize: arithmetic
// values and enums as their bytes (little-endian, as this machine holds them), a bool as one
// byte, a string or vector as a 64-bit size then its elements, an optional as a bool
// "nullopt" then its value when there is one. Size() is the exact count of bytes Record
// writes: the caller sizes the buffer once.
struct RecordWriter {
  char* at;

  template <class T>
  void Raw(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    std::memcpy(at, &v, sizeof(v));
    at += sizeof(v);
  }
  void Size(size_t n) { Raw(static_cast<uint64_t>(n)); }
  void Str(const std::string& s) {
    Size(s.size());
    std::memcpy(at, s.data(), s.size());
    at += s.size();
  }
  void Day(Date d) { Raw(d.days); }
  template <class T>
  void Opt(const std::optional<T>& v) {
    Raw(static_cast<bool>(!v));
    if (v) Raw(*v);
  }
  void Opt(const std::optional<Date>& v) {
    Raw(static_cast<bool>(!v));
    if (v) Day(*v);
  }

  static size_t Size(const PersonRecord& r) {
    constexpr size_t kSize = sizeof(uint64_t), kDay = sizeof(int32_t);
    auto opt_day = [](const std::optional<Date>& d) { return 1 + (d ? kDay : 0); };
    size_t n = kSize + r.residence_istat.size() + kSize + r.gp_id.size();
    n += kSize;
    for (const domain::Enrolment& e : r.enrolments) n += kSize + e.school.size() + kSize + e.class_label.size() + 1;
    n += kSize;
    for (const ActiveMeasure& m : r.measures) {
      n += sizeof(m.measure_id) + 1 + kDay + opt_day(m.given_end) + kSize + m.reason.size() + kDay + kSize +
           m.istat.size() + kDay;
    }
    n += kSize + r.doses.size() * (sizeof(int) + kDay);
    n += 3;  // case_open, hospitalized, in_icu
    n += 1 + (r.last_closure ? 1 : 0) + opt_day(r.closed_on) + opt_day(r.last_positive);
    n += kSize + r.swabs.size() * (sizeof(uint64_t) + sizeof(int64_t) + sizeof(int32_t) + 3);
    n += opt_day(r.case_reported_on) + kSize + r.case_istat.size() + 1;
    n += kSize;
    for (const Spell& s : r.spells) n += 1 + kSize + s.istat.size() + kDay + opt_day(s.to);
    return n;
  }

  // In PersonRecord::serialize's order.
  void Record(const PersonRecord& r) {
    static_assert(sizeof(domain::SwabKind) == 1 && sizeof(domain::SchoolRole) == 1 &&
                  sizeof(domain::CaseOutcome) == 1 && sizeof(Metric) == 1 && sizeof(bool) == 1);
    Str(r.residence_istat);
    Str(r.gp_id);
    Size(r.enrolments.size());
    for (const domain::Enrolment& e : r.enrolments) {
      Str(e.school);
      Str(e.class_label);
      Raw(e.role);
    }
    Size(r.measures.size());
    for (const ActiveMeasure& m : r.measures) {
      Raw(m.measure_id);
      Raw(m.isolation);
      Day(m.start);
      Opt(m.given_end);
      Str(m.reason);
      Day(m.end);
      Str(m.istat);
      Day(m.since);
    }
    Size(r.doses.size());
    for (const domain::Dose& d : r.doses) {
      Raw(d.number);
      Day(d.date);
    }
    Raw(r.case_open);
    Raw(r.hospitalized);
    Raw(r.in_icu);
    Opt(r.last_closure);
    Opt(r.closed_on);
    Opt(r.last_positive);
    Size(r.swabs.size());
    for (const SwabRecord& s : r.swabs) {
      Raw(s.id_hash);
      Raw(s.collected_at);
      Raw(s.reported_day);
      Raw(s.kind);
      Raw(s.collected);
      Raw(s.outcome);
    }
    Opt(r.case_reported_on);
    Str(r.case_istat);
    Raw(r.case_test);
    Size(r.spells.size());
    for (const Spell& s : r.spells) {
      Raw(s.metric);
      Str(s.istat);
      Day(s.from);
      Opt(s.to);
    }
  }
};

}  // namespace

namespace internal {

Date PlannedEnd(const domain::RuleBook* rules, const PersonRecord& record, bool isolation,
                Date start, std::string_view reason, const std::optional<Date>& given_end) {
  if (given_end) return *given_end;
  const domain::RuleSet* set = rules ? rules->InForce(start) : nullptr;
  if (!set) return start + kDefaultMeasureDays;
  domain::MeasureQuery q;
  q.kind = isolation ? domain::MeasureKind::kIsolation : domain::MeasureKind::kQuarantine;
  q.start = start;
  q.reason = std::string(reason);
  q.vaccination = domain::ClassifyVaccination(record.doses, record.last_recovery(), start);
  domain::MeasurePlan plan = set->Plan(q);
  // No measure required (self-monitoring only): it is over on its first day.
  return plan.quarantine_required ? plan.end : start;
}

Episode EpisodeWith(const PersonRecord& record, uint64_t changed, uint8_t outcome) {
  constexpr uint8_t kPositive = static_cast<uint8_t>(domain::Outcome::kPositive);
  return record.EpisodeWith(domain::LastPositive(record.swabs, [&](const SwabRecord& s) -> std::optional<Date> {
    if ((s.id_hash == changed ? outcome : s.outcome) != kPositive) return std::nullopt;
    return s.collected_day();
  }));
}

}  // namespace internal

const SwabRecord* PersonRecord::FindSwab(std::string_view swab_id) const { return FindSwabHash(SwabIdHash(swab_id)); }

const SwabRecord* PersonRecord::FindSwabHash(uint64_t h) const {
  const size_t i = swabs.FindLastIndex([h](const SwabRecord& s) { return s.id_hash == h; });
  return i == swabs.size() ? nullptr : &swabs[i];
}

const ActiveMeasure* PersonRecord::FindMeasure(uint32_t measure_id) const {
  for (const ActiveMeasure& m : measures) {
    if (m.measure_id == measure_id) return &m;
  }
  return nullptr;
}

bool PersonRecord::tested() const {
  return swabs.FindIndex([](const SwabRecord& s) { return s.collected; }) != swabs.size();
}

PersonDirectory::PersonDirectory(std::shared_ptr<const domain::RuleBook> rules)
    : rules_(std::move(rules)) {}

const PersonRecord* PersonDirectory::Find(std::string_view person_id) const {
  if (person_id.empty()) return nullptr;
  auto it = people_.find(person_id);
  return it == people_.end() ? nullptr : it->second.record.get();
}

const PersonRecord* PersonDirectory::Find(std::string_view person_id, std::span<const FoldState>& states) const {
  states = {};
  auto it = person_id.empty() ? people_.end() : people_.find(person_id);
  if (it == people_.end()) return nullptr;
  states = std::span<const FoldState>(it->second.folds.data(), it->second.folds.size());
  return it->second.record.get();
}

std::span<FoldState> PersonDirectory::FoldStates(std::string_view person_id) {
  auto it = person_id.empty() ? people_.end() : people_.find(person_id);
  if (it == people_.end()) return {};
  return std::span<FoldState>(it->second.folds.data(), it->second.folds.size());
}

const PersonRecord* PersonDirectory::Touch(const HashedId& person) {
  auto it = people_.find(person);
  if (it == people_.end()) return nullptr;
  if (it->second.stamp != stamp_) {
    CountStamp(it->second.stamp, -1);
    CountStamp(stamp_, 1);
    it->second.stamp = stamp_;
  }
  return it->second.record.get();
}

PersonDirectory::People::iterator PersonDirectory::Insert(std::string_view person_id,
                                                          std::shared_ptr<PersonRecord> record) {
  Cached c{std::move(record), stamp_, false, 0, nullptr, {}};
  c.folds.resize(folds_);
  auto it = people_.emplace(PersonKey(person_id), std::move(c)).first;
  CountStamp(stamp_, 1);
  return it;
}

void PersonDirectory::PrefetchRecord(const HashedId& person) const {
  auto it = people_.find(person);
  if (it == people_.end()) return;
  PrefetchEntry(ToWrite{{}, it->second.record.get(), {it->second.folds.data(), it->second.folds.size()}, 0});
}

void PersonDirectory::PrefetchEntry(const ToWrite& entry) {
  // The record and its shared_ptr's count (one block: make_shared), then the fold states.
  const char* record = reinterpret_cast<const char*>(entry.record);
  for (size_t line = 0; line < sizeof(PersonRecord) + 64; line += 64) __builtin_prefetch(record - 16 + line);
  for (const FoldState& state : entry.states) __builtin_prefetch(state.get());
}

size_t PersonDirectory::Evict(size_t budget) {
  if (budget == 0 || people_.size() <= budget) return 0;
  const size_t keep = budget - budget / 8;
  // The stamp at or above which `keep` records remain (ties evicted too: whole batches),
  // and how many records are older.
  const size_t cut = people_.size() - keep;  // records to forget, at least
  size_t older = 0;
  size_t stamps = 0;  // of stamped_, older than the one kept
  while (older < cut) older += stamped_[stamps++];
  const uint64_t oldest_kept = first_stamp_ + stamps;
  last_ = nullptr;
  size_t forgotten = 0;
  for (auto it = people_.begin(); it != people_.end() && forgotten < older;) {
    if (it->second.stamp < oldest_kept) {
      people_.erase(it++);
      ++forgotten;
    } else {
      ++it;
    }
  }
  stamped_.erase(stamped_.begin(), stamped_.begin() + static_cast<std::ptrdiff_t>(stamps));
  first_stamp_ = oldest_kept;
  return forgotten;
}

bool PersonDirectory::Apply(const LogEvent& e) { return Apply(e, Find(e.person_id)); }

bool PersonDirectory::Apply(const LogEvent& e, const PersonRecord* record) {
  if (e.person_id.empty()) return false;
  if (record == nullptr) {
    if (!std::holds_alternative<domain::PersonRegistered>(e.event)) return false;
    last_ = nullptr;
    record = Insert(e.person_id, std::make_shared<PersonRecord>())->second.record.get();
  }
  // Events that change nothing the directory keeps: nothing to write.
  if (std::holds_alternative<domain::ContactReported>(e.event) ||
      std::holds_alternative<domain::PersonalDataErased>(e.event)) {
    return false;
  }
  // The record is ours: `record` came from Find on this directory.
  PersonRecord& r = const_cast<PersonRecord&>(*record);
  internal::StepSpells(r, e, r.spells, nullptr);  // reads the record as it is before `e`
  std::visit(Applier{r, rules_.get(), e}, e.event);
  return true;
}

std::string PersonDirectory::Encode(const PersonRecord& r) {
  std::string out;
  EncodeTo(r, out);
  return out;
}

void PersonDirectory::EncodeTo(const PersonRecord& r, std::string& out) {
  // The bytes of cereal's binary archive (PersonRecord::serialize, which Decode reads),
  // written by hand into a buffer sized first: through cereal's archive every field was an
  // append of its own, ~1,400 instructions a record, ~300 an event of a catch-up at 1:1
  // density, where every person changed is written at each Flush (docs/benchmarks.md,
  // session 32). PersonDirectoryTest.TheRecordsBytesAreCerealsBinary holds them equal.
  const size_t start = out.size();
  out.resize(start + 1 + RecordWriter::Size(r));
  RecordWriter w{out.data() + start};
  w.Raw(kFormat);
  w.Record(r);
}

bool PersonDirectory::Decode(std::string_view bytes, PersonRecord& r) {
  return !bytes.empty() && bytes[0] == kFormat && domain::DecodeCereal(bytes.substr(1), r);
}

bool PersonDirectory::DecodeGpId(std::string_view bytes, std::string_view& gp_id) {
  // The record's first two fields (PersonRecord::serialize: residence_istat, gp_id), each
  // a string: its size (cereal's 64-bit size tag, little-endian as written) then its bytes.
  if (bytes.empty() || bytes[0] != kFormat) return false;
  size_t at = 1;
  auto next = [&](std::string_view& field) {
    uint64_t size = 0;
    if (bytes.size() - at < sizeof(size)) return false;
    std::memcpy(&size, bytes.data() + at, sizeof(size));
    at += sizeof(size);
    if (bytes.size() - at < size) return false;
    field = bytes.substr(at, size);
    at += size;
    return true;
  };
  std::string_view residence;
  return next(residence) && next(gp_id);
}

bool PersonDirectory::Load(std::string_view person_id, std::string_view bytes) {
  PersonRecord r;
  if (!Decode(bytes, r)) return false;
  last_ = nullptr;
  if (auto it = people_.find(person_id); it != people_.end()) {
    CountStamp(it->second.stamp, -1);
    people_.erase(it);
  }
  Insert(person_id, std::make_shared<PersonRecord>(std::move(r)));
  return true;
}

void PersonDirectory::MarkFoldsChanged(std::string_view person_id, uint32_t folds) {
  auto it = person_id.empty() ? people_.end() : people_.find(person_id);
  if (it != people_.end()) it->second.folds_changed |= folds;
}

void PersonDirectory::TakeToWrite(std::string_view person_id, std::vector<ToWrite>& out) {
  auto it = person_id.empty() ? people_.end() : people_.find(person_id);
  if (it == people_.end()) return;
  Cached& c = it->second;
  out.push_back(ToWrite{person_id, c.record.get(), std::span<const FoldState>(c.folds.data(), c.folds.size()),
                        c.folds_changed});
  c.unwritten = false;
  c.folds_changed = 0;
}

bool PersonDirectory::Advance(const LogEvent& e, People::iterator& it) {
  if (it == people_.end()) {
    if (!std::holds_alternative<domain::PersonRegistered>(e.event)) return false;
    it = Insert(e.person_id, std::make_shared<PersonRecord>());
  } else if (std::holds_alternative<domain::ContactReported>(e.event) ||
             std::holds_alternative<domain::PersonalDataErased>(e.event)) {
    return false;
  } else if (it->second.record.use_count() > 1) {
    // Someone holds it (Step's `before`, of this batch or of one whose views still read
    // it: they are released between the pool's rounds, never during one): it stays as it was.
    it->second.record = std::make_shared<PersonRecord>(*it->second.record);
  }
  return Apply(e, it->second.record.get());
}

}  // namespace caseledger::projections
