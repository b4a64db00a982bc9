// Test support for the runner's property tests (header only; not part of the library): the
// five views (the three day series, GPs, schools), a view that dies in the middle of a
// batch, every answer of the five views as one string, and every entry a views database
// stored. Two runners agree when both strings are equal and both maps are.
#pragma once

#include "projections/cross_history_test_support.h"
#include "projections/gp_view.h"
#include "projections/school_view.h"
#include "projections/views_db.h"
#include "projections/views_test_support.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace caseledger::projections::testing {

inline std::vector<std::unique_ptr<View>> AllViews() {
  std::vector<std::unique_ptr<View>> views = MakeViews();
  views.push_back(std::make_unique<GpView>(Rules()));
  views.push_back(std::make_unique<SchoolView>(Rules()));
  return views;
}

// A view that throws at its K-th Apply: a crash in the middle of a batch, after the events
// before it in the same batch were applied in memory.
class CrashingView final : public View {
 public:
  CrashingView(std::unique_ptr<View> inner, int crash_at) : inner_(std::move(inner)), left_(crash_at) {}
  std::string_view name() const override { return inner_->name(); }
  // Attached with its person folds as the view it wraps: the person entries it writes carry
  // the folds' parts (person_entry.h), as the reopened runner's do.
  void Attach(std::shared_ptr<const StoredEntries> entries) override { inner_->Attach(std::move(entries)); }
  std::vector<PersonFold*> PersonFolds(size_t n) override { return inner_->PersonFolds(n); }
  bool Load(std::string_view k, std::string_view v) override { return inner_->Load(k, v); }
  void Apply(const LogEvent& e, const PersonRecord* p, PersistSink& s) override {
    if (--left_ == 0) throw std::runtime_error("simulated crash");
    inner_->Apply(e, p, s);
  }
  void Persist(PersistSink& s) override { inner_->Persist(s); }
  void Publish(uint64_t position) override { inner_->Publish(position); }
  bool Reset() override { return inner_->Reset(); }
  std::vector<std::string> ChangedKeys() const override { return inner_->ChangedKeys(); }

 private:
  std::unique_ptr<View> inner_;
  int left_;
};

// Every answer of the five views on `days`: the day series, GP1000-GP1004 (the GPs the
// histories assign) and the schools of cross_history_test_support.h.
inline std::string DumpAll(const ViewRunner& runner, const std::vector<domain::Date>& days) {
  std::string out = DumpViews(runner, days);
  const auto* gps = runner.Get<GpView>("gps");
  const auto* schools = runner.Get<SchoolView>("schools");
  for (domain::Date day : days) {
    for (int gp = 1000; gp < 1005; ++gp) {
      auto j = GpJson(*gps, "GP" + std::to_string(gp), day);
      out += j ? boost::json::serialize(*j) : "null";
    }
    for (const char* school : kSchools) {
      auto j = SchoolJson(*schools, school, day);
      out += j ? boost::json::serialize(*j) : "null";
    }
  }
  return out;
}

// Every entry of the views database at `path` (closed), key to value.
inline std::map<std::string, std::string> Stored(const std::string& path) {
  std::map<std::string, std::string> entries;
  auto db = ViewsDb::Open(path);
  EXPECT_TRUE(db);
  if (!db) return entries;
  EXPECT_TRUE((*db)->ForEach([&](std::string_view k, std::string_view v) {
    entries.emplace(k, v);
    return true;
  }));
  return entries;
}

// Catches up a runner of `views()` on `log` in batches of 3, opens it again, and rebuilds
// the views from scratch: `dump` must answer the same of all three. Returns what it
// answered live ("" after a failure, reported).
inline std::string ExpectLiveReopenedAndRebuiltAgree(TestLog& log,
                                                     const std::function<std::vector<std::unique_ptr<View>>()>& views,
                                                     const std::function<std::string(const ViewRunner&)>& dump) {
  RunnerOptions o;
  o.path = log.Path("views");
  o.rules = Rules();
  o.max_batch = 3;
  std::string live;
  {
    auto r = ViewRunner::Open(log.store(), views(), o);
    if (!r) {
      ADD_FAILURE() << r.error().message;
      return "";
    }
    if (auto caught_up = (*r)->CatchUp(); !caught_up) {
      ADD_FAILURE() << caught_up.error().message;
      return "";
    }
    live = dump(**r);
  }
  auto reopened = ViewRunner::Open(log.store(), views(), o);
  if (!reopened) {
    ADD_FAILURE() << reopened.error().message;
    return "";
  }
  EXPECT_EQ(dump(**reopened), live) << "reopened";
  RebuildOptions b;
  b.path = log.Path("rebuilt");
  b.rules = Rules();
  auto rebuilt = Rebuild(log.store(), views(), b);
  if (!rebuilt) {
    ADD_FAILURE() << rebuilt.error().message;
    return "";
  }
  EXPECT_EQ(dump(**rebuilt), live) << "rebuilt";
  return live;
}

}  // namespace caseledger::projections::testing
