// RuleSet::Parse: reading and validating the JSON form of a rule set (ops/rules/README.md).
// Its canonical writer, RuleSet::ToJson, is in rules.cc.
#include "domain/rules.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <utility>

namespace caseledger::domain {
namespace {

namespace json = boost::json;

constexpr int kMaxDays = 365;
constexpr int kMaxPositives = 1000;

std::string Join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}
std::string Index(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

// Reads fields of JSON objects, collecting every problem with its path instead of stopping
// at the first: an operator fixing a rule file sees all of them at once.
class FieldReader {
 public:
  std::vector<FieldError> errors;

  void Fail(std::string path, std::string message) {
    errors.push_back({std::move(path), std::move(message)});
  }

  void RejectUnknown(const json::object& o, std::initializer_list<std::string_view> known,
                     const std::string& path) {
    for (const auto& member : o) {
      if (std::find(known.begin(), known.end(), member.key()) == known.end()) {
        Fail(Join(path, member.key()), "unknown field");
      }
    }
  }

  // The member if present and of the expected type; nullptr otherwise, after recording
  // "required" (when it is) or the type mismatch.
  const json::value* Member(const json::object& o, std::string_view key, const std::string& path,
                            bool required, bool (json::value::*is)() const noexcept,
                            const char* expected) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr) {
      if (required) Fail(Join(path, key), "required");
    } else if (!(v->*is)()) {
      Fail(Join(path, key), std::string("must be ") + expected);
      v = nullptr;
    }
    return v;
  }

  std::optional<std::string> String(const json::object& o, std::string_view key,
                                    const std::string& path, bool required) {
    const json::value* v = Member(o, key, path, required, &json::value::is_string, "a string");
    if (v == nullptr) return std::nullopt;
    if (required && v->as_string().empty()) {
      Fail(Join(path, key), "must not be empty");
      return std::nullopt;
    }
    return std::string(v->as_string());
  }

  std::optional<int> Int(const json::object& o, std::string_view key, const std::string& path,
                         bool required, int min, int max) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr) {
      if (required) Fail(Join(path, key), "required");
      return std::nullopt;
    }
    // A uint64 is beyond int64's range, so out of range too.
    if (!v->is_int64() || v->as_int64() < min || v->as_int64() > max) {
      Fail(Join(path, key),
           "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
      return std::nullopt;
    }
    return static_cast<int>(v->as_int64());
  }

  const json::array* Array(const json::object& o, std::string_view key, const std::string& path,
                           bool required) {
    const json::value* v = Member(o, key, path, required, &json::value::is_array, "an array");
    return v ? &v->as_array() : nullptr;
  }

  const json::object* Object(const json::value& v, const std::string& path) {
    if (v.is_object()) return &v.as_object();
    Fail(path, "must be an object");
    return nullptr;
  }

  // A name of an enum, parsed by `parse`.
  template <class E>
  std::optional<E> Enum(const json::value& v, std::optional<E> (*parse)(std::string_view),
                        const std::string& path, const char* what) {
    std::optional<E> e = v.is_string() ? parse(v.as_string()) : std::nullopt;
    if (!e) Fail(path, std::string("not a ") + what);
    return e;
  }
};

std::vector<std::string> ReadStrings(FieldReader& r, const json::array& a,
                                     const std::string& path) {
  std::vector<std::string> out;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_string() || a[i].as_string().empty()) {
      r.Fail(Index(path, i), "must be a non-empty string");
    } else {
      out.emplace_back(a[i].as_string());
    }
  }
  return out;
}

std::vector<RuleSource> ReadSources(FieldReader& r, const json::array& a, const std::string& path) {
  std::vector<RuleSource> out;
  if (a.empty()) r.Fail(path, "at least one source is required");
  for (size_t i = 0; i < a.size(); ++i) {
    const std::string at = Index(path, i);
    const json::object* o = r.Object(a[i], at);
    if (o == nullptr) continue;
    r.RejectUnknown(*o, {"name", "url"}, at);
    RuleSource s;
    s.name = r.String(*o, "name", at, true).value_or("");
    s.url = r.String(*o, "url", at, false).value_or("");
    if (!s.url.empty() && !s.url.starts_with("https://") && !s.url.starts_with("http://")) {
      r.Fail(Join(at, "url"), "must be an http(s) URL");
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::optional<MeasureRule> ReadMeasure(FieldReader& r, const json::object& o,
                                       const std::string& path) {
  r.RejectUnknown(
      o,
      {"kind", "reasons", "vaccination", "quarantine_required", "days", "days_with_negative_test",
       "max_days", "self_monitoring_days", "ffp2_days", "note"},
      path);
  const size_t errors_before = r.errors.size();
  MeasureRule m;
  std::optional<MeasureKind> kind;
  if (const json::value* v = r.Member(o, "kind", path, true, &json::value::is_string, "a string")) {
    kind = r.Enum(*v, ParseMeasureKind, Join(path, "kind"), "measure kind");
  }
  m.kind = kind.value_or(MeasureKind::kQuarantine);
  if (const json::array* reasons = r.Array(o, "reasons", path, true)) {
    const std::string at = Join(path, "reasons");
    if (reasons->empty()) r.Fail(at, "at least one reason is required");
    const auto& known = MeasureReasons(m.kind);
    for (size_t i = 0; i < reasons->size(); ++i) {
      const json::value& v = (*reasons)[i];
      if (!v.is_string()) {
        r.Fail(Index(at, i), "must be a string");
      } else if (kind && std::find(known.begin(), known.end(), v.as_string()) == known.end()) {
        r.Fail(Index(at, i), "not a reason for " + std::string(ToString(m.kind)));
      } else {
        m.reasons.emplace_back(v.as_string());
      }
    }
  }
  if (const json::array* statuses = r.Array(o, "vaccination", path, false)) {
    for (size_t i = 0; i < statuses->size(); ++i) {
      auto status = r.Enum((*statuses)[i], ParseVaccinationStatus,
                           Index(Join(path, "vaccination"), i), "vaccination status");
      if (status) m.vaccination.push_back(*status);
    }
  }
  if (const json::value* v =
          r.Member(o, "quarantine_required", path, false, &json::value::is_bool, "a boolean")) {
    m.quarantine_required = v->as_bool();
  }
  m.days = r.Int(o, "days", path, true, 0, kMaxDays).value_or(0);
  m.days_with_negative_test = r.Int(o, "days_with_negative_test", path, false, 0, m.days);
  m.max_days = r.Int(o, "max_days", path, false, m.days, kMaxDays).value_or(m.days);
  m.self_monitoring_days = r.Int(o, "self_monitoring_days", path, false, 0, kMaxDays).value_or(0);
  m.ffp2_days = r.Int(o, "ffp2_days", path, false, 0, kMaxDays).value_or(0);
  m.note = r.String(o, "note", path, false).value_or("");
  if (!m.quarantine_required && o.contains("days_with_negative_test")) {
    r.Fail(Join(path, "days_with_negative_test"), "not allowed when no quarantine is required");
  }
  if (r.errors.size() != errors_before) return std::nullopt;
  return m;
}

// Every kind/reason/status combination must have a rule, so that Plan always answers.
void CheckCoverage(FieldReader& r, const std::vector<MeasureRule>& rules) {
  for (MeasureKind kind : {MeasureKind::kIsolation, MeasureKind::kQuarantine}) {
    for (const std::string& reason : MeasureReasons(kind)) {
      for (int s = 0; s <= static_cast<int>(VaccinationStatus::kRecoveredRecent); ++s) {
        const auto status = static_cast<VaccinationStatus>(s);
        const bool covered = std::any_of(rules.begin(), rules.end(), [&](const MeasureRule& m) {
          return m.kind == kind &&
                 std::find(m.reasons.begin(), m.reasons.end(), reason) != m.reasons.end() &&
                 (m.vaccination.empty() || std::find(m.vaccination.begin(), m.vaccination.end(),
                                                     status) != m.vaccination.end());
        });
        if (!covered) {
          r.Fail("measures", std::string("no rule for ") + ToString(kind) + " / " + reason + " / " +
                                 ToString(status));
        }
      }
    }
  }
}

std::vector<ClassThreshold> ReadThresholds(FieldReader& r, const json::array& a,
                                           const std::string& path) {
  std::vector<ClassThreshold> out;
  for (size_t i = 0; i < a.size(); ++i) {
    const std::string at = Index(path, i);
    const json::object* o = r.Object(a[i], at);
    if (o == nullptr) continue;
    r.RejectUnknown(*o, {"min_positives", "status", "days", "days_with_negative_test"}, at);
    ClassThreshold t;
    t.min_positives = r.Int(*o, "min_positives", at, true, 1, kMaxPositives).value_or(1);
    if (const json::value* v =
            r.Member(*o, "status", at, true, &json::value::is_string, "a string")) {
      t.status = r.Enum(*v, ParseClassStatus, Join(at, "status"), "class status")
                     .value_or(ClassStatus::kInPresence);
    }
    t.days = r.Int(*o, "days", at, true, 0, kMaxDays).value_or(0);
    t.days_with_negative_test = r.Int(*o, "days_with_negative_test", at, false, 0, t.days);
    if (!out.empty() && t.min_positives <= out.back().min_positives) {
      r.Fail(Join(at, "min_positives"), "must be greater than the previous threshold's");
    }
    out.push_back(t);
  }
  return out;
}

SchoolRules ReadSchool(FieldReader& r, const json::object& o, const std::string& path) {
  r.RejectUnknown(o, {"window_days", "infanzia", "primaria", "secondaria"}, path);
  SchoolRules s;
  s.window_days = r.Int(o, "window_days", path, true, 1, kMaxDays).value_or(1);
  for (auto [key, table] : {std::pair{"infanzia", &s.infanzia}, std::pair{"primaria", &s.primaria},
                            std::pair{"secondaria", &s.secondaria}}) {
    if (const json::array* a = r.Array(o, key, path, true)) {
      *table = ReadThresholds(r, *a, Join(path, key));
    }
  }
  return s;
}

}  // namespace

Result<RuleSet> RuleSet::Parse(std::string_view text) {
  json::parse_options options;
  options.max_depth = 16;
  boost::system::error_code ec;
  json::value doc = json::parse(text, ec, {}, options);
  if (ec) return Error::Invalid("$", "malformed JSON: " + ec.message());
  if (!doc.is_object()) return Error::Invalid("$", "a rule set must be a JSON object");
  const json::object& o = doc.as_object();

  FieldReader r;
  r.RejectUnknown(o, {"id", "effective_from", "title", "sources", "notes", "measures", "school"},
                  "");
  RuleSet set;
  set.id_ = r.String(o, "id", "", true).value_or("");
  if (!std::all_of(set.id_.begin(), set.id_.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
      })) {
    r.Fail("id", "may hold only letters, digits, '-', '_' and '.'");
  }
  if (auto day = r.String(o, "effective_from", "", true)) {
    if (auto d = Date::Parse(*day)) {
      set.effective_from_ = *d;
    } else {
      r.Fail("effective_from", "must be a date YYYY-MM-DD");
    }
  }
  set.title_ = r.String(o, "title", "", true).value_or("");
  if (const json::array* a = r.Array(o, "sources", "", true)) {
    set.sources_ = ReadSources(r, *a, "sources");
  }
  if (const json::array* a = r.Array(o, "notes", "", false)) {
    set.notes_ = ReadStrings(r, *a, "notes");
  }
  if (const json::array* a = r.Array(o, "measures", "", true)) {
    bool complete = true;
    for (size_t i = 0; i < a->size(); ++i) {
      const json::object* m = r.Object((*a)[i], Index("measures", i));
      auto rule = m ? ReadMeasure(r, *m, Index("measures", i)) : std::nullopt;
      if (rule) {
        set.measures_.push_back(std::move(*rule));
      } else {
        complete = false;
      }
    }
    if (complete) CheckCoverage(r, set.measures_);  // gaps are noise when a row is broken
  }
  if (const json::value* school =
          r.Member(o, "school", "", true, &json::value::is_object, "an object")) {
    set.school_ = ReadSchool(r, school->as_object(), "school");
  }
  if (!r.errors.empty()) return Error::Invalid(std::move(r.errors));
  return set;
}

}  // namespace caseledger::domain
