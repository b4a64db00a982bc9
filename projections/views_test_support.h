// Test support for the projections tests (header only; not part of the library): a real
// event store in a temporary directory, the shipped reference data and rule sets, and a
// canonical JSON dump of the municipality, region and lab views for comparisons.
#pragma once

#include "domain/event_codec.h"
#include "domain/events.h"
#include "domain/reference.h"
#include "domain/rules.h"
#include "eventstore/event_store.h"
#include "projections/lab_view.h"
#include "projections/municipality_view.h"
#include "projections/region_view.h"
#include "projections/view_json_test_support.h"
#include "projections/view_runner.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"
#include "tests/support/build_paths.h"

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace caseledger::projections::testing {

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::shared_ptr<const domain::ReferenceData> Reference() {
  static const std::shared_ptr<const domain::ReferenceData> reference = [] {
    std::string dir = caseledger::TestSourceDir() + "/ops/reference/";
    auto parsed = domain::ReferenceData::Parse(ReadFile(dir + "istat-comuni.csv"),
                                               ReadFile(dir + "piemonte-asl.csv"));
    if (!parsed) throw std::runtime_error(parsed.error().message);
    return *parsed;
  }();
  return reference;
}

inline std::shared_ptr<const domain::RuleBook> Rules() {
  static const std::shared_ptr<const domain::RuleBook> rules = [] {
    auto book = std::make_shared<domain::RuleBook>();
    for (const auto& f : std::filesystem::directory_iterator(caseledger::TestSourceDir() + "/ops/rules")) {
      if (f.path().extension() != ".json") continue;
      auto set = domain::RuleSet::Parse(ReadFile(f.path().string()));
      if (!set) throw std::runtime_error(f.path().string() + ": " + set.error().message);
      if (auto added = book->Add(std::move(set).value()); !added) {
        throw std::runtime_error(added.error().message);
      }
    }
    return std::shared_ptr<const domain::RuleBook>(std::move(book));
  }();
  return rules;
}

inline std::vector<std::unique_ptr<View>> MakeViews() {
  std::vector<std::unique_ptr<View>> views;
  views.push_back(std::make_unique<MunicipalityView>(Reference()));
  views.push_back(std::make_unique<RegionView>(Reference()));
  views.push_back(std::make_unique<LabView>());
  return views;
}

inline domain::Date D(const char* text) {
  auto d = domain::Date::Parse(text);
  if (!d) throw std::invalid_argument(text);
  return *d;
}
// An instant on a civil day in Italy.
inline domain::Timestamp At(domain::Date day, int hour, int minute = 0) {
  return {domain::Timestamp::StartOfDay(day).micros + (hour * 60LL + minute) * 60'000'000LL};
}
inline domain::Timestamp At(const char* day, int hour, int minute = 0) { return At(D(day), hour, minute); }

// A 26-character ULID-shaped person id.
inline std::string PersonId(int n) {
  static constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  std::string id = "01HF";
  std::string tail;
  for (int i = 0; i < 22; ++i) {
    tail.insert(tail.begin(), kCrockford[n % 32]);
    n /= 32;
  }
  return id + tail;
}

using Timed = std::pair<domain::Event, domain::Timestamp>;

// A real event store in a temporary directory; appends encode with domain::Encode.
class TestLog {
 public:
  TestLog() {
    auto s = eventstore::EventStore::Open(caseledger::testing::StoreOptionsIn(dir_.path()));
    if (!s) throw std::runtime_error(s.error().message);
    store_ = std::move(*s);
  }
  eventstore::EventStore& store() { return *store_; }
  std::string Path(const std::string& name) const { return dir_.Sub(name); }

  // Appends `events` to the stream of `person` ("" for a school/other stream given in
  // `stream`) atomically; returns the last position.
  uint64_t Append(const std::string& stream, const std::vector<Timed>& events) {
    eventstore::AppendRequest r;
    r.stream = stream;
    r.expected = eventstore::ExpectedVersion::Any();
    r.actor = {"test", "operator"};
    for (const auto& [event, effective] : events) {
      domain::EncodedEvent enc = domain::Encode(event);
      r.events.push_back({enc.type, enc.schema_version, enc.body, enc.personal, effective});
    }
    auto a = store_->Append(r);
    if (!a) throw std::runtime_error(a.error().message);
    return a->last_position;
  }
  uint64_t Person(const std::string& person, const std::vector<Timed>& events) {
    return Append(domain::PersonStream(person), events);
  }
  // Person `n` (PersonId), resident in `istat`, with a positive swab: 5 events in 4 appends.
  void PositiveCase(int n, const char* istat = "001272") {
    const std::string p = PersonId(n), swab = "SW-" + std::to_string(100000 + n);
    Person(p, {{domain::PersonRegistered{p, domain::Sex::kMale, istat, {}}, At("2020-10-20", 8)}});
    Person(p, {{domain::SwabRequested{swab, domain::SwabKind::kMolecular, "symptoms", "GP0001", {}}, At("2020-10-21", 8)},
               {domain::SwabCollected{swab, At("2020-10-21", 9), "site", ""}, At("2020-10-21", 9)}});
    Person(p, {{domain::ResultRecorded{swab, domain::Outcome::kPositive, "LAB01", At("2020-10-22", 9)},
                At("2020-10-21", 9)}});
    Person(p, {{domain::IsolationOrdered{1, domain::Date(D("2020-10-21")), "positive", {}}, At("2020-10-21", 0)}});
  }

 private:
  caseledger::testing::TempDir dir_;
  std::unique_ptr<eventstore::EventStore> store_;
};

// Appends from `threads` threads, each stream's appends in order from one thread: the
// group commit shares the syncs, and the views do not depend on how streams interleave.
inline void AppendConcurrently(TestLog& log, const std::vector<std::pair<std::string, std::vector<Timed>>>& appends,
                               size_t threads) {
  std::vector<std::vector<const std::pair<std::string, std::vector<Timed>>*>> queues(threads);
  for (const auto& a : appends) queues[std::hash<std::string>{}(a.first) % threads].push_back(&a);
  std::vector<std::thread> workers;
  for (auto& q : queues) {
    workers.emplace_back([&log, &q] {
      for (const auto* a : q) log.Append(a->first, a->second);
    });
  }
  for (auto& w : workers) w.join();
}

// Every answer of the three views on `days`, as one string: equal strings, equal views.
inline std::string DumpViews(const ViewRunner& runner, const std::vector<domain::Date>& days) {
  const auto* m = runner.Get<MunicipalityView>("municipalities");
  const auto* r = runner.Get<RegionView>("region");
  const auto* l = runner.Get<LabView>("labs");
  boost::json::array out;
  for (domain::Date day : days) {
    if (m) {
      for (const auto& asl : Reference()->asls()) out.push_back(MunicipalitiesJson(*m, {asl.code, ""}, day));
      for (const char* istat : {"015146", "001272", "001156"}) {
        if (auto j = MunicipalityJson(*m, istat, day)) out.push_back(std::move(*j));
      }
    }
    if (r) {
      if (auto j = RegionJson(*r, "", day)) out.push_back(std::move(*j));
      for (const auto& asl : Reference()->asls()) {
        if (auto j = RegionJson(*r, asl.code, day)) out.push_back(std::move(*j));
      }
    }
    if (l) {
      boost::json::object labs = LabsJson(*l, day);
      out.push_back(labs);
      for (const auto& lab : labs.at("labs").as_array()) {
        if (auto j = LabJson(*l, lab.at("lab").as_string(), day)) out.push_back(std::move(*j));
      }
    }
  }
  return boost::json::serialize(out);
}

}  // namespace caseledger::projections::testing
