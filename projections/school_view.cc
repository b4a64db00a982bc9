#include "projections/school_view.h"

#include "projections/entry_codec.h"
#include "projections/person_internal.h"
#include "projections/sharded_table.h"

#include <boost/json.hpp>

#include <algorithm>
#include <utility>

namespace caseledger::projections {
namespace {

namespace json = boost::json;
using domain::ClassStatus;
using domain::Date;
using domain::SchoolRole;

constexpr char kFormat = 2;     // first byte of every persisted value (2: orders keep their given end)
// Class quarantine when no rule set is in force on the order's start (before 2020-10-12):
// the 14 days of contact quarantine of the February 2020 circulars.
constexpr int kDefaultClassDays = 14;

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

int Severity(ClassStatus s) {
  switch (s) {
    case ClassStatus::kInPresence: return 0;
    case ClassStatus::kInPresenceWithFfp2: return 1;
    case ClassStatus::kDistanceLearning: return 2;
    case ClassStatus::kClassQuarantine: return 3;
  }
  return 0;
}

// The end of an explicit class quarantine (see SchoolView::SchoolJson).
ClassOrder ResolveOrder(Date start, const std::optional<Date>& given_end, std::string_view level,
                        const domain::RuleBook& rules) {
  ClassOrder o{start, start + kDefaultClassDays, std::nullopt, given_end};
  if (const domain::RuleSet* rs = rules.InForce(start)) {
    const auto& s = rs->school();
    const auto& table = level == "infanzia"   ? s.infanzia
                        : level == "primaria" ? s.primaria
                                              : s.secondaria;
    auto q = std::find_if(table.begin(), table.end(), [](const domain::ClassThreshold& t) {
      return t.status == ClassStatus::kClassQuarantine;
    });
    if (q != table.end()) {
      o.end = start + q->days;
      if (q->days_with_negative_test)
        o.release_with_test_from = start + *q->days_with_negative_test;
    } else {
      const domain::MeasurePlan plan =
          rs->Plan({domain::MeasureKind::kQuarantine, start, "school_class",
                    domain::VaccinationStatus::kUnvaccinated});
      o.end = plan.end;
      o.release_with_test_from = plan.release_with_test_from;
    }
  }
  if (given_end) o = {start, *given_end, std::nullopt, given_end};
  return o;
}

struct ClassDay {
  ClassStatus status = ClassStatus::kInPresence;
  bool by_order = false;
  std::optional<Date> until;
  std::optional<Date> release_with_test_from;
  int positives_in_window = 0;
};

ClassDay DecideDay(const ClassEntry& c, std::string_view level, Date day,
                   const domain::RuleSet* rs) {
  ClassDay d;
  for (const ClassOrder& o : c.orders) {
    if (o.start <= day && day < o.end && (!d.until || *d.until < o.end)) {
      d = {ClassStatus::kClassQuarantine, true, o.end, o.release_with_test_from, 0};
    }
  }
  std::vector<Date> positives;  // students' positive days up to `day`
  for (const Member& m : c.members) {
    if (m.role == SchoolRole::kStudent && m.last_positive && *m.last_positive <= day) {
      positives.push_back(*m.last_positive);
    }
  }
  const int window = rs ? rs->class_window_days() : 0;
  auto in_window = [&](Date end) {
    return static_cast<int>(std::count_if(positives.begin(), positives.end(),
                                          [&](Date p) { return p <= end && end - p < window; }));
  };
  d.positives_in_window = in_window(day);
  if (d.by_order || rs == nullptr) return d;
  // Each positive day x is a trigger; its decision runs for `days` from x.
  for (Date x : positives) {
    const domain::ClassDecision dec = rs->DecideClass({std::string(level), in_window(x), x});
    if (dec.status == ClassStatus::kInPresence || day >= x + dec.days) continue;
    if (Severity(dec.status) < Severity(d.status)) continue;
    if (dec.status == d.status && x + dec.days <= *d.until) continue;
    d.status = dec.status;
    d.until = x + dec.days;
    d.release_with_test_from.reset();
    if (dec.days_with_negative_test) d.release_with_test_from = x + *dec.days_with_negative_test;
  }
  return d;
}

json::value DateOrNull(const std::optional<Date>& d) {
  return d ? json::value(d->ToString()) : json::value(nullptr);
}

}  // namespace

class SchoolView::Impl final : public KeyedTable {
 public:
  explicit Impl(std::shared_ptr<const domain::RuleBook> rules) : rules_(std::move(rules)) {}

  std::shared_ptr<const domain::RuleBook> rules_;
  Table table_;                          // the writer's schools
  cow::DirtyPairs<std::string> dirty_;   // (school, class) to write

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
  void Persist(PersistSink& sink) override {
    std::string key;
    dirty_.Drain([&](std::string_view school, std::string_view label) {
      key.assign(school).append("/").append(label);
      if (const ClassEntry* c = FindClass(school, label)) {
        sink.Put(key, Encode(*c));
      } else {
        sink.Delete(key);
      }
    });
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
    for (const Enrolment& en : person.enrolments) {
      const ClassEntry* c = FindClass(en.school, en.class_label);
      if (c == nullptr) continue;
      auto m = std::lower_bound(c->members.begin(), c->members.end(), id,
                                [](const Member& x, std::string_view p) { return std::string_view(x.person) < p; });
      if (m == c->members.end() || m->person != id) continue;
      Member updated = *m;
      change(updated);
      if (updated == *m) continue;
      const auto index = m - c->members.begin();
      OwnClass(en.school, en.class_label).members[index] = std::move(updated);
    }
  }

  // A result or correction: the open case and last positive as the directory will have
  // them after this event (same episode rule).
  void Episode(const PersonRecord& person, std::string_view id, const std::string& swab,
               domain::Outcome outcome) {
    const internal::Episode ep =
        internal::EpisodeWith(person, SwabIdHash(swab), static_cast<uint8_t>(outcome));
    UpdateMember(person, id, [&](Member& m) {
      m.case_open = ep.open;
      m.last_positive = ep.last_positive;
    });
  }
};

SchoolView::SchoolView(std::shared_ptr<const domain::RuleBook> rules)
    : KeyedView("schools", std::make_unique<Impl>(std::move(rules))), impl_(static_cast<Impl*>(&table())) {}
SchoolView::~SchoolView() = default;

std::string_view SchoolView::SchoolLevel(std::string_view school, std::string_view class_label) {
  const std::string_view type = school.size() >= 4 ? school.substr(2, 2) : std::string_view();
  if (type == "AA") return "infanzia";
  if (type == "EE") return "primaria";
  if (type == "IC") {
    const int year = class_label.empty() ? 0 : class_label[0] - '0';
    return year >= 6 && year <= 8 ? "secondaria" : "primaria";
  }
  return "secondaria";
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
    const ClassOrder order = ResolveOrder(x->start, x->end, SchoolLevel(school, x->class_label), *s.rules_);
    s.OwnClass(school, x->class_label).orders.push_back(order);
  } else if (person == nullptr || person->enrolments.empty()) {
    return;
  } else if (const auto* x = std::get_if<domain::ResultRecorded>(&e.event)) {
    s.Episode(*person, id, x->swab_id, x->outcome);
  } else if (const auto* x = std::get_if<domain::ResultCorrected>(&e.event)) {
    s.Episode(*person, id, x->swab_id, x->outcome);
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

json::object RenderSchool(const std::string& school, const SchoolEntry& entry, uint64_t position, Date today,
                          const domain::RuleSet* rs) {
  json::array classes;
  int students = 0, staff = 0, positive = 0, quarantined = 0, not_in_presence = 0;
  for (const auto& [label, c] : entry.classes) {
    const std::string_view level = SchoolView::SchoolLevel(school, label);
    const ClassDay d = DecideDay(*c, level, today, rs);
    const bool class_quarantine = d.status == ClassStatus::kClassQuarantine;
    int st = 0, sf = 0, pos = 0, q = 0;
    for (const Member& m : c->members) {
      (m.role == SchoolRole::kStudent ? st : sf) += 1;
      pos += m.case_open ? 1 : 0;
      const bool by_class = class_quarantine && m.role == SchoolRole::kStudent && !m.case_open;
      q += m.quarantine.RunsOn(today) || by_class ? 1 : 0;
    }
    classes.push_back({{"class", label},
                       {"level", level},
                       {"students", st},
                       {"staff", sf},
                       {"positive", pos},
                       {"in_quarantine", q},
                       {"positives_in_window", d.positives_in_window},
                       {"status", domain::ToString(d.status)},
                       {"status_source", d.by_order ? "order" : "rules"},
                       {"status_until", DateOrNull(d.until)},
                       {"release_with_test_from", DateOrNull(d.release_with_test_from)}});
    students += st;
    staff += sf;
    positive += pos;
    quarantined += q;
    not_in_presence += d.status != ClassStatus::kInPresence ? 1 : 0;
  }
  json::object out;
  out["school"] = school;
  out["position"] = position;
  out["day"] = today.ToString();
  out["rule_set"] = rs ? json::value(rs->id()) : json::value(nullptr);
  out["totals"] = json::object{{"students", students},
                               {"staff", staff},
                               {"positive", positive},
                               {"in_quarantine", quarantined},
                               {"classes", classes.size()},
                               {"classes_not_in_presence", not_in_presence}};
  out["classes"] = std::move(classes);
  return out;
}

const Member* FindMember(const ClassEntry& c, std::string_view person) {
  auto m = std::lower_bound(c.members.begin(), c.members.end(), person,
                            [](const Member& x, std::string_view p) { return x.person < p; });
  return m != c.members.end() && m->person == person ? &*m : nullptr;
}

}  // namespace

std::optional<json::object> SchoolView::SchoolJson(std::string_view school, Date today) const {
  const auto snap = Snapshot<FrozenSchools>();
  const SchoolEntry* entry = snap.table->Find(school);
  if (entry == nullptr) return std::nullopt;
  return RenderSchool(std::string(school), *entry, snap.position, today, impl_->rules_->InForce(today));
}

std::optional<json::object> SchoolView::SchoolJsonUnder(std::string_view school, Date today,
                                                        const domain::RuleBook& rules,
                                                        const SchoolView& overlay) const {
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
    const std::string_view level = SchoolLevel(school, label);
    for (ClassOrder& o : next->orders) o = ResolveOrder(o.start, o.given_end, level, rules);
    copy.classes.emplace_back(label, std::move(next));
  }
  return RenderSchool(std::string(school), copy, snap.position, today, rules.InForce(today));
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
