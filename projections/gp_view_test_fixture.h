// The GP view's test fixture, shared by gp_view_test.cc and gp_view_report_test.cc: events
// built here, applied to the view and then to a person directory (as the runner does).
#pragma once

#include "projections/gp_view.h"

#include "domain/event_codec.h"
#include "projections/entry_codec.h"
#include "projections/person_directory.h"
#include "projections/views_db.h"
#include "projections/views_test_support.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace caseledger::projections::gp_view_testing {


using domain::Date;
using domain::Timestamp;
using testing::At;  // the projections' test support (views_test_support.h)
using testing::D;
namespace json = boost::json;

class MemorySink final : public PersistSink {
 public:
  void Put(std::string_view key, std::string_view value) override {
    entries[std::string(key)] = std::string(value);
    ++puts;
    ops.push_back("put " + std::string(key));
  }
  void Delete(std::string_view key) override {
    entries.erase(std::string(key));
    ops.push_back("delete " + std::string(key));
  }
  std::map<std::string, std::string> entries;
  int puts = 0;
  std::vector<std::string> ops;  // in order, "put <key>" or "delete <key>"
};

inline std::string Person(int n) {  // 26-character ULIDs, sorted by n
  std::string id = "01HF000000000000000000000";
  return id + static_cast<char>('A' + n);
}

inline json::value Id(int n) { return json::value(Person(n)); }

// A person's event as the log holds it, recorded when it took effect.
inline domain::Envelope PersonEnvelope(uint64_t position, const std::string& person, const domain::Event& event,
                                       Timestamp effective) {
  domain::Envelope env;
  env.position = position;
  env.stream = domain::PersonStream(person);
  env.type = std::string(domain::TypeName(event));
  env.effective_at = effective;
  env.recorded_at = effective;
  return env;
}

constexpr const char* kGp1 = "MMG00001";
constexpr const char* kGp2 = "MMG00002";

class GpViewTest : public ::testing::Test {
 protected:
  void Append(const std::string& person, domain::Event event, Timestamp effective) {
    const domain::Envelope env = PersonEnvelope(++position_, person, event, effective);
    LogEvent e{env, event, person};
    view_.Apply(e, directory_.Find(person), sink_);
    if (shadow_) {  // the same events, written after each one
      shadow_->Apply(e, directory_.Find(person), shadow_sink_);
      shadow_->Persist(shadow_sink_);
    }
    directory_.Apply(e);
  }
  void Patient(int n, const char* gp) {
    Append(Person(n), domain::PersonRegistered{Person(n), domain::Sex::kMale, "001272", {}},
           At("2020-09-01", 9));
    if (gp) Assign(n, gp);
  }
  void Assign(int n, const char* gp) {
    Append(Person(n), domain::GpAssigned{gp, directory_.Find(Person(n))->gp_id},
           At("2020-09-01", 10));
  }
  void Request(int n, const std::string& swab, const char* day) {
    Append(Person(n), domain::SwabRequested{swab, domain::SwabKind::kMolecular, "contact", kGp1, {}},
           At(day, 8));
  }
  void Collect(int n, const std::string& swab, const char* day) {
    Append(Person(n), domain::SwabCollected{swab, At(day, 9), "drive-in", ""}, At(day, 9));
  }
  void Result(int n, const std::string& swab, domain::Outcome outcome, const char* collected,
              const char* reported) {
    Append(Person(n), domain::ResultRecorded{swab, outcome, "LAB01", At(reported, 11)},
           At(collected, 9));
  }
  void Quarantine(int n, uint32_t id, const char* start) {
    Append(Person(n), domain::QuarantineOrdered{id, D(start), "close_contact", "", std::nullopt},
           At(start, 0));
  }
  // The end of a batch, as the runner does it: write what changed, then publish.
  void Commit() {
    view_.Persist(sink_);
    view_.Publish(position_);
  }
  json::object Gp(const char* gp, const char* day) {
    Commit();
    auto out = GpJson(view_, gp, D(day));
    return out ? *out : json::object{};
  }
  static json::object Only(const json::object& gp, const char* list) {
    const json::array& a = gp.at("actions").at(list).as_array();
    EXPECT_EQ(a.size(), 1u) << list;
    return a.empty() ? json::object{} : a[0].as_object();
  }
  // Whether some persisted key starts with `prefix`.
  bool Persisted(const std::string& prefix) const {
    auto it = sink_.entries.lower_bound(prefix);
    return it != sink_.entries.end() && it->first.starts_with(prefix);
  }
  static size_t Count(const json::object& gp, const char* list) {
    return gp.at("actions").at(list).as_array().size();
  }

  std::shared_ptr<const domain::RuleBook> rules_ = testing::Rules();
  GpView view_{rules_};
  PersonDirectory directory_{rules_};
  MemorySink sink_;
  uint64_t position_ = 0;
  std::unique_ptr<GpView> shadow_;  // when set, Append applies and persists each event there too
  MemorySink shadow_sink_;
};

}  // namespace caseledger::projections::gp_view_testing
