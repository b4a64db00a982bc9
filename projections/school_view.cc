#include "projections/school_view.h"

#include "domain/school_class.h"

#include "projections/entry_codec.h"
#include "projections/person_internal.h"
#include "projections/sharded_table.h"

#include <algorithm>
#include <tuple>
#include <utility>

namespace caseledger::projections {
namespace {

using domain::ClassStatus;
using domain::Date;
using domain::SchoolRole;

constexpr char kFormat = 2;     // first byte of every persisted value (2: orders keep their given end)

// A quarantine of the person's own: running on day d when start <= d < end.
struct OwnQuarantine {
  uint32_t id = 0;  // 0: none
  Date start;
  Date end;
  bool RunsOn(Date d) const { return id != 0 && start <= d && d < end; }
  bool operator==(const OwnQuarantine&) const = default;
  template <class A> void serialize(A& ar) { ar(id, start, end); }
};

struct Member {
  std::string person;
  SchoolRole role = SchoolRole::kStudent;
  bool case_open = false;
  std::optional<Date> last_positive;  // collection day of the last positive swab
  OwnQuarantine quarantine;
  bool operator==(const Member&) const = default;
  template <class A>
  void serialize(A& ar) {
    ar(person, role, case_open, last_positive, quarantine);
  }
};

// A ClassQuarantineOrdered, its end resolved when applied; the end the order gave, if
// any, so that a what-if can resolve it again under other rules.
struct ClassOrder {
  Date start;
  Date end;
  std::optional<Date> release_with_test_from;
  std::optional<Date> given_end;
  template <class A> void serialize(A& ar) { ar(start, end, release_with_test_from, given_end); }
};

struct ClassEntry {
  std::vector<Member> members;     // sorted by person
  std::vector<ClassOrder> orders;  // in log order
  template <class A> void serialize(A& ar) { ar(members, orders); }
};

using ClassSlot = std::pair<std::string, std::shared_ptr<ClassEntry>>;
struct SchoolEntry {
  std::vector<ClassSlot> classes;  // sorted by label
};

using cow::Own;
using Table = cow::ShardedTable<SchoolEntry>;
using FrozenSchools = Table::Frozen;

std::string Encode(const ClassEntry& c) { return EncodeEntry(kFormat, c); }

// False for another format byte, short input, an impossible length, bytes left over
// (domain/bounded_archive.h) or a role out of range.
bool Decode(std::string_view bytes, ClassEntry& c) {
  return DecodeEntry(kFormat, bytes, c) &&
         std::all_of(c.members.begin(), c.members.end(),
                     [](const Member& m) { return m.role <= SchoolRole::kStaff; });
}

template <class Classes>
auto FindSlot(Classes& classes, std::string_view label) {
  return std::lower_bound(classes.begin(), classes.end(), label,
                          [](const ClassSlot& c, std::string_view l) { return std::string_view(c.first) < l; });
}

// The order with its end resolved under `rules` (domain::ResolveClassOrder).
ClassOrder ResolveOrder(Date start, const std::optional<Date>& given_end, std::string_view level,
                        const domain::RuleBook& rules) {
  const domain::ClassOrderSpan span = domain::ResolveClassOrder(start, given_end, level, rules);
  return {span.start, span.end, span.release_with_test_from, given_end};
}

// The class's status on `day` (domain::DecideClassDay).
domain::ClassDay DecideDay(const ClassEntry& c, std::string_view level, Date day, const domain::RuleSet* rs) {
  std::vector<domain::ClassOrderSpan> orders;
  orders.reserve(c.orders.size());
  for (const ClassOrder& o : c.orders) orders.push_back({o.start, o.end, o.release_with_test_from});
  std::vector<Date> positives;
  for (const Member& m : c.members) {
    if (m.role == SchoolRole::kStudent && m.last_positive) positives.push_back(*m.last_positive);
  }
  return domain::DecideClassDay(orders, positives, level, day, rs);
}

}  // namespace

class SchoolView::Impl final : public KeyedTable {
 public:
  explicit Impl(std::shared_ptr<const domain::RuleBook> rules) : rules_(std::move(rules)) {}

  std::shared_ptr<const domain::RuleBook> rules_;
  Table table_;                          // the writer's schools
  cow::DirtyPairs<std::string> dirty_;   // (school, class) to write
  std::vector<std::pair<std::string, size_t>> keys_;  // Persist's scratch: (key, its slash)

  // Entries "<school>/<class>" (see the header).
  bool Load(std::string_view key, std::string_view value) override {
    const size_t slash = key.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == key.size()) return false;
    ClassEntry decoded;
    if (!Decode(value, decoded)) return false;
    OwnClass(std::string(key.substr(0, slash)), std::string(key.substr(slash + 1))) = std::move(decoded);
    table_.ForgetChanges();  // restoring is not a change, nor anything to write
    dirty_.Clear();
    return true;
  }
  // Writes each class changed in the batch once, or deletes it when it is gone.
  // In key order: the writer's batch is then one sorted run (ViewsDb::Batch::Sort finds it
  // so and copies nothing, where it sorted and rewrote the classes' 2-5 MB per write of a
  // catch-up at 1:1).
  void Persist(PersistSink& sink) override {
    keys_.clear();
    dirty_.Drain([&](std::string_view school, std::string_view label) {
      keys_.push_back({std::string(school).append("/").append(label), school.size()});
    });
    std::sort(keys_.begin(), keys_.end());
    for (const auto& [key, slash] : keys_) {
      const std::string_view k(key);
      if (const ClassEntry* c = FindClass(k.substr(0, slash), k.substr(slash + 1))) {
        sink.Put(key, Encode(*c));
      } else {
        sink.Delete(key);
      }
    }
    keys_.clear();
  }
  std::shared_ptr<const void> Freeze() override { return std::make_shared<const FrozenSchools>(table_.Freeze()); }
  std::vector<std::string> ChangedKeys() const override { return table_.ChangedKeys(); }
  void Clear() override {
    table_.Clear();
    dirty_.Clear();
  }

  const ClassEntry* FindClass(std::string_view school, std::string_view label) const {
    const SchoolEntry* s = table_.Find(school);
    if (s == nullptr) return nullptr;
    auto c = FindSlot(s->classes, label);
    return c != s->classes.end() && c->first == label ? c->second.get() : nullptr;
  }

  // The class, owned by the working state (copied first if a snapshot shares it).
  ClassEntry& OwnClass(const std::string& school, const std::string& label) {
    dirty_.Mark(school, label);
    auto& classes = table_.Own(school).classes;
    auto c = FindSlot(classes, label);
    if (c == classes.end() || c->first != label) c = classes.insert(c, {label, nullptr});
    return Own(c->second);
  }

  // Drops an owned class that holds nothing any more (and its school with its last class).
  void Tidy(const std::string& school, const std::string& label) {
    auto& classes = table_.Own(school).classes;
    auto c = FindSlot(classes, label);
    if (!c->second->members.empty() || !c->second->orders.empty()) return;
    classes.erase(c);
    if (classes.empty()) table_.Erase(school);
  }

  void Enrol(const std::string& school, const std::string& label, Member m) {
    auto& members = OwnClass(school, label).members;
    auto at = std::lower_bound(members.begin(), members.end(), m.person,
                               [](const Member& x, const std::string& p) { return x.person < p; });
    if (at != members.end() && at->person == m.person) {
      *at = std::move(m);
    } else {
      members.insert(at, std::move(m));
    }
  }

  void Leave(const std::string& school, const std::string& label, std::string_view person) {
    if (!FindClass(school, label)) return;
    std::erase_if(OwnClass(school, label).members,
                  [&](const Member& m) { return m.person == person; });
    Tidy(school, label);
  }

  // Applies `change` to the person's entry in every class they are enrolled in; copies and
  // marks for writing only the classes where it changed something.
  template <class Change>
  void UpdateMember(const PersonRecord& person, std::string_view id, Change change) {
    for (const domain::Enrolment& en : person.enrolments) {
      const ClassEntry* c = FindClass(en.school, en.class_label);
      if (c == nullptr) continue;
      auto m = std::lower_bound(c->members.begin(), c->members.end(), id,
                                [](const Member& x, std::string_view p) { return std::string_view(x.person) < p; });
      if (m == c->members.end() || m->person != id) continue;
      // Changed on a copy without the person id: the id (26 characters, past the 15 a
      // std::string holds inline) copied and freed per class and event was most of this
      // (docs/benchmarks.md, session 31). `change` sets figures only.
      Member updated{{}, m->role, m->case_open, m->last_positive, m->quarantine};
      change(updated);
      auto figures = [](const Member& x) { return std::tie(x.role, x.case_open, x.last_positive, x.quarantine); };
      if (figures(updated) == figures(*m)) continue;
      const auto index = m - c->members.begin();
      Member& owned = OwnClass(en.school, en.class_label).members[index];
      owned.role = updated.role;
      owned.case_open = updated.case_open;
      owned.last_positive = updated.last_positive;
      owned.quarantine = updated.quarantine;
    }
  }

  // A result or correction: the open case and last positive as the directory will have
  // them after this event (same episode rule).
  void Episode(const PersonRecord& person, std::string_view id, uint64_t swab_hash, domain::Outcome outcome) {
    const internal::Episode ep = internal::EpisodeWith(person, swab_hash, static_cast<uint8_t>(outcome));
    UpdateMember(person, id, [&](Member& m) {
      m.case_open = ep.open;
      m.last_positive = ep.last_positive;
    });
  }
};

SchoolView::SchoolView(std::shared_ptr<const domain::RuleBook> rules)
    : KeyedView("schools", std::make_unique<Impl>(std::move(rules))), impl_(static_cast<Impl*>(&table())) {}
SchoolView::~SchoolView() = default;

bool SchoolView::ReadsRecord(const LogEvent& e, const PersonRecord& before) const {
  // Only the events Apply reads the record for: every other event of a pupil (swabs
  // requested and collected, doses, isolations, moves, ...) leaves their classes alone, and
  // a record kept for it was copied by the partition at the pupil's next change.
  if (std::holds_alternative<domain::SchoolEnrolled>(e.event)) return true;
  if (before.enrolments.empty()) return false;
  return std::holds_alternative<domain::ResultRecorded>(e.event) ||
         std::holds_alternative<domain::ResultCorrected>(e.event) ||
         std::holds_alternative<domain::QuarantineOrdered>(e.event) ||
         std::holds_alternative<domain::MeasureEnded>(e.event) || std::holds_alternative<domain::CaseClosed>(e.event);
}

EventInterest SchoolView::Interest() const {
  return {EventTypes<domain::SchoolEnrolled, domain::SchoolLeft, domain::ClassQuarantineOrdered, domain::ResultRecorded,
                     domain::ResultCorrected, domain::QuarantineOrdered, domain::MeasureEnded, domain::CaseClosed>(),
          false};
}

void SchoolView::Apply(const LogEvent& e, const PersonRecord* person, PersistSink&) {
  Impl& s = *impl_;
  const std::string_view id = e.person_id;
  if (const auto* x = std::get_if<domain::SchoolEnrolled>(&e.event)) {
    Member m;
    m.person = std::string(id);
    m.role = x->role;
    if (person) {
      m.case_open = person->case_open;
      m.last_positive = person->last_positive;
      for (const ActiveMeasure& a : person->measures) {
        if (!a.isolation) m.quarantine = {a.measure_id, a.start, a.end};
      }
    }
    s.Enrol(x->school, x->class_label, std::move(m));
  } else if (const auto* x = std::get_if<domain::SchoolLeft>(&e.event)) {
    s.Leave(x->school, x->class_label, id);
  } else if (const auto* x = std::get_if<domain::ClassQuarantineOrdered>(&e.event)) {
    const std::string_view stream = e.envelope.stream;
    const std::string school(stream.substr(stream.find('-') + 1));
    const ClassOrder order = ResolveOrder(x->start, x->end, domain::SchoolLevel(school, x->class_label), *s.rules_);
    s.OwnClass(school, x->class_label).orders.push_back(order);
  } else if (person == nullptr || person->enrolments.empty()) {
    return;
  } else if (const auto* x = std::get_if<domain::ResultRecorded>(&e.event)) {
    s.Episode(*person, id, e.SwabHash(x->swab_id), x->outcome);
  } else if (const auto* x = std::get_if<domain::ResultCorrected>(&e.event)) {
    s.Episode(*person, id, e.SwabHash(x->swab_id), x->outcome);
  } else if (const auto* x = std::get_if<domain::QuarantineOrdered>(&e.event)) {
    // The end as the directory fixes it when it applies this event.
    const Date end =
        internal::PlannedEnd(s.rules_.get(), *person, false, x->start, x->reason, x->end);
    s.UpdateMember(*person, id, [&](Member& m) { m.quarantine = {x->measure_id, x->start, end}; });
  } else if (const auto* x = std::get_if<domain::MeasureEnded>(&e.event)) {
    s.UpdateMember(*person, id, [&](Member& m) {
      if (m.quarantine.id == x->measure_id) m.quarantine = {};
    });
  } else if (std::holds_alternative<domain::CaseClosed>(e.event)) {
    s.UpdateMember(*person, id, [](Member& m) { m.case_open = false; });
  }
}

namespace {

SchoolReport ReportOf(std::string_view school, const SchoolEntry& entry, uint64_t position, Date today,
                      const domain::RuleSet* rs) {
  SchoolReport out;
  out.school = std::string(school);
  out.position = position;
  out.day = today;
  if (rs) out.rule_set = rs->id();
  SchoolTotals& t = out.totals;
  for (const auto& [label, c] : entry.classes) {
    ClassReport r;
    r.label = label;
    r.level = domain::SchoolLevel(school, label);
    r.day = DecideDay(*c, r.level, today, rs);
    const bool class_quarantine = r.day.status == ClassStatus::kClassQuarantine;
    for (const Member& m : c->members) {
      (m.role == SchoolRole::kStudent ? r.students : r.staff) += 1;
      r.positive += m.case_open ? 1 : 0;
      const bool by_class = class_quarantine && m.role == SchoolRole::kStudent && !m.case_open;
      r.in_quarantine += m.quarantine.RunsOn(today) || by_class ? 1 : 0;
    }
    t.students += r.students;
    t.staff += r.staff;
    t.positive += r.positive;
    t.in_quarantine += r.in_quarantine;
    t.classes_not_in_presence += r.day.status != ClassStatus::kInPresence ? 1 : 0;
    out.classes.push_back(std::move(r));
  }
  t.classes = out.classes.size();
  return out;
}

const Member* FindMember(const ClassEntry& c, std::string_view person) {
  auto m = std::lower_bound(c.members.begin(), c.members.end(), person,
                            [](const Member& x, std::string_view p) { return x.person < p; });
  return m != c.members.end() && m->person == person ? &*m : nullptr;
}

}  // namespace

std::optional<SchoolReport> SchoolView::School(std::string_view school, Date today) const {
  const auto snap = Snapshot<FrozenSchools>();
  const SchoolEntry* entry = snap.table->Find(school);
  if (entry == nullptr) return std::nullopt;
  return ReportOf(school, *entry, snap.position, today, impl_->rules_->InForce(today));
}

std::optional<SchoolReport> SchoolView::SchoolUnder(std::string_view school, Date today,
                                                    const domain::RuleBook& rules, const SchoolView& overlay) const {
  const auto snap = Snapshot<FrozenSchools>();
  const SchoolEntry* entry = snap.table->Find(school);
  if (entry == nullptr) return std::nullopt;
  const auto theirs = overlay.Snapshot<FrozenSchools>();
  const SchoolEntry* their_entry = theirs.table->Find(school);
  SchoolEntry copy;
  for (const auto& [label, c] : entry->classes) {
    auto next = std::make_shared<ClassEntry>(*c);
    const ClassEntry* their_class = nullptr;
    if (their_entry != nullptr) {
      auto t = FindSlot(their_entry->classes, label);
      if (t != their_entry->classes.end() && t->first == label) their_class = t->second.get();
    }
    for (Member& m : next->members) {
      if (const Member* replaced = their_class ? FindMember(*their_class, m.person) : nullptr) m = *replaced;
    }
    const std::string_view level = domain::SchoolLevel(school, label);
    for (ClassOrder& o : next->orders) o = ResolveOrder(o.start, o.given_end, level, rules);
    copy.classes.emplace_back(label, std::move(next));
  }
  return ReportOf(school, copy, snap.position, today, rules.InForce(today));
}

std::vector<std::string> SchoolView::SchoolsWithMembers() const {
  std::vector<std::string> schools;
  Snapshot<FrozenSchools>().table->ForEach([&](const std::string& school, const SchoolEntry& entry) {
    if (std::any_of(entry.classes.begin(), entry.classes.end(),
                    [](const ClassSlot& c) { return !c.second->members.empty(); })) {
      schools.push_back(school);
    }
  });
  std::sort(schools.begin(), schools.end());
  return schools;
}

std::vector<SchoolView::ClassOrderRef> SchoolView::ClassOrders() const {
  std::vector<ClassOrderRef> out;
  Snapshot<FrozenSchools>().table->ForEach([&](const std::string& school, const SchoolEntry& entry) {
    for (const auto& [label, c] : entry.classes) {
      for (const ClassOrder& o : c->orders) {
        ClassOrderRef ref{school, label, o.start, {}};
        for (const Member& m : c->members) ref.members.push_back(m.person);
        out.push_back(std::move(ref));
      }
    }
  });
  return out;
}

}  // namespace caseledger::projections
