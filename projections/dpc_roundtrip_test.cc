// Round trip against real data: three weeks of Piedmont's DPC bulletin (1-21 Feb 2021,
// when swabs and positives are split by test kind), scaled 1:100, drive a generated
// workload day by day — people tested for the first time or again, molecular and antigen
// swabs collected and reported, new positives isolated, recoveries and deaths closed,
// patients moved in and out of hospital and intensive care — and the region CSV export
// reproduces the scaled series.
//
// Scaling: every cumulative column C is scaled as round(C / 100) and daily figures are
// its day-to-day differences, so they add up; derived columns are derived from the scaled
// ones as DPC derives them: totale_casi = positives by molecular + by antigen test,
// totale_positivi = totale_casi - dimessi_guariti - deceduti, isolamento_domiciliare =
// totale_positivi - ricoverati - terapia intensiva, tamponi = molecular + antigen swabs.
// The day before the window (31 Jan) is a baseline: its open cases and hospital figures
// are created on that day, so levels match exactly from the first day on; cumulative
// columns are compared as increments from the baseline row.
#include "projections/views_test_support.h"
#include "tests/support/build_paths.h"

#include <gtest/gtest.h>

#include <cmath>
#include <deque>
#include <map>

namespace caseledger::projections {
namespace {

using namespace caseledger::projections::testing;
using domain::Date;
using domain::SwabKind;

std::vector<std::string> Split(std::string_view line) {
  std::vector<std::string> out(1);
  for (char c : line) {
    if (c == ',') out.emplace_back();
    else if (c != '\r') out.back().push_back(c);
  }
  return out;
}

// A CSV with a header, as rows of column -> text, keyed by the day of "data".
std::map<Date, std::map<std::string, std::string>> ParseCsv(const std::string& text) {
  std::map<Date, std::map<std::string, std::string>> rows;
  std::vector<std::string> header;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    auto fields = Split(std::string_view(text).substr(start, end - start));
    start = end + 1;
    if (header.empty()) {
      header = fields;
      continue;
    }
    if (fields.size() != header.size()) continue;
    auto& row = rows[D(fields[0].substr(0, 10).c_str())];
    for (size_t i = 0; i < fields.size(); ++i) row[header[i]] = fields[i];
  }
  return rows;
}

// The scaled targets of one day.
struct Target {
  int64_t pos_molecular, pos_antigen, recovered, deceased, ward, icu, swabs_molecular,
      swabs_antigen, tested;
  int64_t cases() const { return pos_molecular + pos_antigen; }
  int64_t open() const { return cases() - recovered - deceased; }
};

class DpcRoundTripTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dpc_ = ParseCsv(ReadFile(caseledger::TestSourceDir() + "/ops/reference/dpc-piemonte-daily.csv"));
  }
  int64_t Scaled(Date d, const char* column) {
    const std::string& v = dpc_.at(d).at(column);
    if (v.empty()) throw std::runtime_error(std::string("no ") + column + " on " + d.ToString());
    return std::llround(std::stod(v) / 100.0);
  }
  Target TargetOn(Date d) {
    return {Scaled(d, "totale_positivi_test_molecolare"), Scaled(d, "totale_positivi_test_antigenico_rapido"),
            Scaled(d, "dimessi_guariti"), Scaled(d, "deceduti"), Scaled(d, "ricoverati_con_sintomi"),
            Scaled(d, "terapia_intensiva"), Scaled(d, "tamponi_test_molecolare"),
            Scaled(d, "tamponi_test_antigenico_rapido"), Scaled(d, "casi_testati")};
  }

  struct Person {
    std::string id;
    bool open = false, deceased = false, ward = false, icu = false;
    uint32_t measures = 0;
  };

  // The events of one day, one append per person (in the order people first act).
  void Emit(size_t person, domain::Event e, domain::Timestamp at) {
    auto [it, fresh] = day_index_.emplace(person, day_.size());
    if (fresh) day_.push_back({domain::PersonStream(people_[person].id), {}});
    day_[it->second].second.push_back({std::move(e), at});
  }
  void EndDay() {
    for (auto& a : day_) appends_.push_back(std::move(a));
    day_.clear();
    day_index_.clear();
  }
  size_t NewPerson(Date d) {
    static constexpr const char* kPlaces[] = {"001272", "001156", "005005", "004078", "003106", "002158", "006003"};
    size_t i = people_.size();
    people_.push_back({PersonId(static_cast<int>(i) + 1)});
    Emit(i, domain::PersonRegistered{people_[i].id, domain::Sex::kMale, kPlaces[i % 7], {}}, At(d, 7));
    return i;
  }
  void Swab(size_t p, Date d, SwabKind kind, bool positive) {
    std::string id = "SW-" + std::to_string(++swabs_);
    Emit(p, domain::SwabRequested{id, kind, "screening", "GP0001", {}}, At(d, 8));
    Emit(p, domain::SwabCollected{id, At(d, 9), "site", ""}, At(d, 9));
    Emit(p, domain::ResultRecorded{id, positive ? domain::Outcome::kPositive : domain::Outcome::kNegative,
                                   kind == SwabKind::kAntigen ? "LAB02" : "LAB01", At(d, 15)},
         At(d, 9));
    if (!positive) return;
    Person& x = people_[p];
    x.open = true;
    Emit(p, domain::IsolationOrdered{++x.measures, d, "positive", {}}, At(d, 0));
    open_.push_back(p);
  }
  void Close(size_t p, Date d, domain::CaseOutcome outcome) {
    Person& x = people_[p];
    Emit(p, domain::MeasureEnded{x.measures, d, domain::MeasureEndReason::kCaseClosed}, At(d, 0));
    Emit(p, domain::CaseClosed{outcome, d}, At(d, 0));
    x.open = false;
    x.deceased = outcome == domain::CaseOutcome::kDeceased;
    std::erase(open_, p);
  }
  // The oldest open case matching `ok`.
  std::optional<size_t> Oldest(auto&& ok) {
    for (size_t p : open_) {
      if (ok(people_[p])) return p;
    }
    return std::nullopt;
  }
  void Hospital(Date d, const Target& t) {
    auto count = [&](bool Person::*f) {
      return std::count_if(people_.begin(), people_.end(), [&](const Person& x) { return x.open && x.*f; });
    };
    for (auto icu = count(&Person::icu); icu < t.icu; ++icu) {
      auto p = Oldest([](const Person& x) { return x.ward; });
      if (!p) p = Oldest([](const Person& x) { return !x.ward && !x.icu; });
      ASSERT_TRUE(p);
      Emit(*p, domain::IcuAdmitted{At(d, 12), "H"}, At(d, 12));
      people_[*p].ward = false;
      people_[*p].icu = true;
    }
    for (auto icu = count(&Person::icu); icu > t.icu; --icu) {
      auto p = Oldest([](const Person& x) { return x.icu; });
      Emit(*p, domain::Discharged{At(d, 12), "H"}, At(d, 12));
      people_[*p].icu = false;
    }
    for (auto ward = count(&Person::ward); ward < t.ward; ++ward) {
      auto p = Oldest([](const Person& x) { return !x.ward && !x.icu; });
      ASSERT_TRUE(p);
      Emit(*p, domain::Hospitalized{At(d, 12), "H"}, At(d, 12));
      people_[*p].ward = true;
    }
    for (auto ward = count(&Person::ward); ward > t.ward; --ward) {
      auto p = Oldest([](const Person& x) { return x.ward; });
      Emit(*p, domain::Discharged{At(d, 12), "H"}, At(d, 12));
      people_[*p].ward = false;
    }
  }
  // The next living person (round robin) among the first `known`, open or not, for
  // repeat swabs.
  size_t Pool(size_t known, bool must_be_free) {
    for (size_t tries = 0; tries < known; ++tries) {
      size_t p = cursor_++ % known;
      if (!people_[p].deceased && !(must_be_free && people_[p].open)) return p;
    }
    throw std::runtime_error("nobody left to swab");
  }

  void Drive(Date d, const Target& prev, const Target& t) {
    const int64_t n_mol = t.swabs_molecular - prev.swabs_molecular, n_ant = t.swabs_antigen - prev.swabs_antigen;
    const int64_t first = t.tested - prev.tested;
    const int64_t p_mol = t.pos_molecular - prev.pos_molecular, p_ant = t.pos_antigen - prev.pos_antigen;
    ASSERT_GE(n_mol, p_mol);
    ASSERT_GE(n_ant, p_ant);
    ASSERT_GE(p_mol, 0);
    ASSERT_GE(p_ant, 0);
    ASSERT_LE(first, n_mol + n_ant);
    // Swabs in this order: positives then negatives, molecular then antigen; the first
    // `first` go to people tested for the first time, the rest to people tested before.
    std::vector<std::pair<SwabKind, bool>> swabs;
    for (int64_t i = 0; i < n_mol + n_ant; ++i) {
      SwabKind kind = i < p_mol ? SwabKind::kMolecular
                      : i < p_mol + p_ant ? SwabKind::kAntigen
                      : i < n_mol + p_ant ? SwabKind::kMolecular
                                          : SwabKind::kAntigen;
      swabs.push_back({kind, i < p_mol + p_ant});
    }
    const size_t known = people_.size();
    for (int64_t i = 0; i < static_cast<int64_t>(swabs.size()); ++i) {
      size_t p = i < first ? NewPerson(d) : Pool(known, /*must_be_free=*/swabs[i].second);
      Swab(p, d, swabs[i].first, swabs[i].second);
    }
    for (int64_t i = 0; i < t.recovered - prev.recovered; ++i) {
      auto p = Oldest([](const Person& x) { return !x.ward && !x.icu; });
      ASSERT_TRUE(p);
      Close(*p, d, domain::CaseOutcome::kRecovered);
    }
    for (int64_t i = 0; i < t.deceased - prev.deceased; ++i) {
      auto p = Oldest([](const Person& x) { return !x.ward && !x.icu; });
      ASSERT_TRUE(p);
      Close(*p, d, domain::CaseOutcome::kDeceased);
    }
    Hospital(d, t);
    EndDay();
  }

  std::map<Date, std::map<std::string, std::string>> dpc_;
  std::vector<Person> people_;
  std::deque<size_t> open_;  // open cases, oldest first
  std::vector<std::pair<std::string, std::vector<Timed>>> appends_, day_;
  std::map<size_t, size_t> day_index_;
  size_t cursor_ = 0;
  int swabs_ = 0;
};

TEST_F(DpcRoundTripTest, RegionCsvReproducesThreeWeeksOfTheScaledBulletin) {
  const Date base = D("2021-01-31"), first = D("2021-02-01"), last = D("2021-02-21");
  const Target t0 = TargetOn(base);
  // Baseline: the open cases of 31 Jan, each with its positive molecular swab that day.
  for (int64_t i = 0; i < t0.open(); ++i) Swab(NewPerson(base), base, SwabKind::kMolecular, true);
  Hospital(base, t0);
  EndDay();
  Target prev = t0;
  for (Date d = first; d <= last; d = d + 1) {
    Target t = TargetOn(d);
    Drive(d, prev, t);
    if (HasFatalFailure()) return;
    prev = t;
  }

  TestLog log;
  AppendConcurrently(log, appends_, 8);
  RunnerOptions o;
  o.path = log.Path("views");
  o.rules = Rules();
  auto runner = ViewRunner::Open(log.store(), MakeViews(), o);
  ASSERT_TRUE(runner) << runner.error().message;
  ASSERT_TRUE((*runner)->CatchUp()) << (*runner)->failure();
  const RegionView& region = *(*runner)->Get<RegionView>("region");

  std::string csv = RegionCsv(region, "", last, {base, last}).value();
  auto rows = ParseCsv(csv);
  ASSERT_EQ(rows.size(), 22u);
  auto got = [&](Date d, const char* column) { return std::stoll(rows.at(d).at(column)); };
  auto dpc = [&](Date d, const char* column) { return Scaled(d, column); };
  auto since_base = [&](Date d, const char* column) { return got(d, column) - got(base, column); };
  for (Date d = base; d <= last; d = d + 1) {
    SCOPED_TRACE(d.ToString());
    Target t = TargetOn(d), y = TargetOn(d + -1);
    EXPECT_EQ(rows.at(d).at("data"), d.ToString() + "T17:00:00");
    // Levels, exactly.
    EXPECT_EQ(got(d, "totale_positivi"), t.open());
    EXPECT_EQ(got(d, "ricoverati_con_sintomi"), dpc(d, "ricoverati_con_sintomi"));
    EXPECT_EQ(got(d, "terapia_intensiva"), dpc(d, "terapia_intensiva"));
    EXPECT_EQ(got(d, "totale_ospedalizzati"), t.ward + t.icu);
    EXPECT_EQ(got(d, "isolamento_domiciliare"), t.open() - t.ward - t.icu);
    if (d == base) continue;
    // Flows of the day, exactly.
    EXPECT_EQ(got(d, "nuovi_positivi"), t.cases() - y.cases());
    EXPECT_EQ(got(d, "variazione_totale_positivi"), t.open() - y.open());
    // Cumulative columns, from the baseline.
    EXPECT_EQ(since_base(d, "totale_casi"), t.cases() - t0.cases());
    for (const char* c : {"dimessi_guariti", "deceduti", "casi_testati", "tamponi_test_molecolare",
                          "tamponi_test_antigenico_rapido", "totale_positivi_test_molecolare",
                          "totale_positivi_test_antigenico_rapido"}) {
      EXPECT_EQ(since_base(d, c), dpc(d, c) - dpc(base, c)) << c;
    }
    EXPECT_EQ(since_base(d, "tamponi"), t.swabs_molecular + t.swabs_antigen - t0.swabs_molecular - t0.swabs_antigen);
  }

  // The ASLs add up to the region, column by column.
  auto whole = region.Series("", last, {base, last}).value();
  std::vector<DpcRow> sum(whole.size());
  for (const auto& asl : Reference()->asls()) {
    auto part = region.Series(asl.code, last, {base, last}).value();
    if (part.empty()) continue;
    ASSERT_EQ(part.size(), whole.size());
    for (size_t i = 0; i < part.size(); ++i) {
      sum[i].totale_positivi += part[i].totale_positivi;
      sum[i].nuovi_positivi += part[i].nuovi_positivi;
      sum[i].tamponi += part[i].tamponi;
      sum[i].terapia_intensiva += part[i].terapia_intensiva;
      sum[i].casi_testati += part[i].casi_testati;
    }
  }
  for (size_t i = 0; i < whole.size(); ++i) {
    EXPECT_EQ(sum[i].totale_positivi, whole[i].totale_positivi);
    EXPECT_EQ(sum[i].nuovi_positivi, whole[i].nuovi_positivi);
    EXPECT_EQ(sum[i].tamponi, whole[i].tamponi);
    EXPECT_EQ(sum[i].terapia_intensiva, whole[i].terapia_intensiva);
    EXPECT_EQ(sum[i].casi_testati, whole[i].casi_testati);
  }
  std::cout << log.store().CommittedPosition() << " events for " << people_.size() << " people\n";
}

}  // namespace
}  // namespace caseledger::projections
