// Five people in Torino and Moncalieri in November 2020, through a real event store and
// the runner, with every figure checked by hand day by day (12 Oct 2020 rules: isolation
// 21 days by time alone, close-contact quarantine 14 days).
//
//   A Torino: swab 11-02 09:00, positive 11-03 08:00 (LAB01), isolation from 11-02; moves
//     to Moncalieri 11-06; isolation ended with a negative test 11-13, recovered 11-13.
//   B Torino: antigen swab 11-02 10:00, positive 11-03 12:00 (LAB02), isolation from 11-03;
//     corrected to negative 11-04, isolation revoked 11-04.
//   C Moncalieri: quarantine from 11-01 (plan end 11-15); swab 11-02 11:00, negative
//     11-04 09:00 (LAB01); quarantine ended early with the negative test 11-10.
//   D Torino: swab 11-05 09:00, positive 11-06 09:00 (LAB01), isolation from 11-05;
//     hospital 11-07, ICU 11-09, discharged 11-12; recovered 11-20.
//   E Moncalieri: antigen swab 11-05 08:00, positive 11-05 14:00 (LAB02), isolation from
//     11-05; hospital 11-08; died 11-10.
#include "projections/views_test_support.h"
#include "tests/support/build_paths.h"

#include <gtest/gtest.h>

#include <map>

namespace caseledger::projections {
namespace {

using namespace caseledger::projections::testing;
using domain::Date;
using domain::MeasureEndReason;
using domain::Outcome;
using domain::SwabKind;

constexpr const char* kTorino = "001272";
constexpr const char* kMoncalieri = "001156";

class GoldenScenarioTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string a = PersonId(1), b = PersonId(2), c = PersonId(3), d = PersonId(4), e = PersonId(5);
    auto reg = [&](const std::string& p, const char* istat) {
      log_.Person(p, {{domain::PersonRegistered{p, domain::Sex::kFemale, istat, {}}, At("2020-10-01", 9)}});
    };
    auto swab = [&](const std::string& p, const char* id, SwabKind kind, const char* day, int hour) {
      log_.Person(p, {{domain::SwabRequested{id, kind, "symptoms", "GP0001", {}}, At(day, hour - 1)},
                      {domain::SwabCollected{id, At(day, hour), "drive-in", ""}, At(day, hour)}});
    };
    auto result = [&](const std::string& p, const char* id, Outcome o, const char* lab, const char* day,
                      int hour, domain::Timestamp collected) {
      log_.Person(p, {{domain::ResultRecorded{id, o, lab, At(day, hour)}, collected}});
    };
    auto measure_end = [&](const std::string& p, uint32_t id, const char* day, MeasureEndReason why) {
      log_.Person(p, {{domain::MeasureEnded{id, D(day), why}, At(day, 0)}});
    };
    reg(a, kTorino);
    reg(b, kTorino);
    reg(c, kMoncalieri);
    reg(d, kTorino);
    reg(e, kMoncalieri);
    log_.Person(c, {{domain::QuarantineOrdered{1, D("2020-11-01"), "close_contact", a, {}}, At("2020-11-01", 0)}});
    swab(a, "SW-A1", SwabKind::kMolecular, "2020-11-02", 9);
    swab(b, "SW-B1", SwabKind::kAntigen, "2020-11-02", 10);
    swab(c, "SW-C1", SwabKind::kMolecular, "2020-11-02", 11);
    result(a, "SW-A1", Outcome::kPositive, "LAB01", "2020-11-03", 8, At("2020-11-02", 9));
    log_.Person(a, {{domain::IsolationOrdered{1, D("2020-11-02"), "positive", {}}, At("2020-11-02", 0)}});
    result(b, "SW-B1", Outcome::kPositive, "LAB02", "2020-11-03", 12, At("2020-11-02", 10));
    log_.Person(b, {{domain::IsolationOrdered{1, D("2020-11-03"), "positive", {}}, At("2020-11-03", 0)}});
    result(c, "SW-C1", Outcome::kNegative, "LAB01", "2020-11-04", 9, At("2020-11-02", 11));
    log_.Person(b, {{domain::ResultCorrected{"SW-B1", Outcome::kPositive, Outcome::kNegative,
                                              "sample swap", "LAB02", At("2020-11-04", 10)},
                     At("2020-11-02", 10)}});
    measure_end(b, 1, "2020-11-04", MeasureEndReason::kRevoked);
    swab(d, "SW-D1", SwabKind::kMolecular, "2020-11-05", 9);
    swab(e, "SW-E1", SwabKind::kAntigen, "2020-11-05", 8);
    result(e, "SW-E1", Outcome::kPositive, "LAB02", "2020-11-05", 14, At("2020-11-05", 8));
    log_.Person(e, {{domain::IsolationOrdered{1, D("2020-11-05"), "positive", {}}, At("2020-11-05", 0)}});
    log_.Person(a, {{domain::ResidenceChanged{kTorino, kMoncalieri, {}}, At("2020-11-06", 8)}});
    result(d, "SW-D1", Outcome::kPositive, "LAB01", "2020-11-06", 9, At("2020-11-05", 9));
    log_.Person(d, {{domain::IsolationOrdered{1, D("2020-11-05"), "positive", {}}, At("2020-11-05", 0)}});
    log_.Person(d, {{domain::Hospitalized{At("2020-11-07", 10), "Molinette"}, At("2020-11-07", 10)}});
    log_.Person(e, {{domain::Hospitalized{At("2020-11-08", 10), "Santa Croce"}, At("2020-11-08", 10)}});
    log_.Person(d, {{domain::IcuAdmitted{At("2020-11-09", 10), "Molinette"}, At("2020-11-09", 10)}});
    log_.Person(e, {{domain::MeasureEnded{1, D("2020-11-10"), MeasureEndReason::kCaseClosed}, At("2020-11-10", 0)},
                    {domain::CaseClosed{domain::CaseOutcome::kDeceased, D("2020-11-10")}, At("2020-11-10", 0)}});
    measure_end(c, 1, "2020-11-10", MeasureEndReason::kNegativeTest);
    log_.Person(d, {{domain::Discharged{At("2020-11-12", 10), "Molinette"}, At("2020-11-12", 10)}});
    measure_end(a, 1, "2020-11-13", MeasureEndReason::kNegativeTest);
    log_.Person(a, {{domain::CaseClosed{domain::CaseOutcome::kRecovered, D("2020-11-13")}, At("2020-11-13", 0)}});
    log_.Person(d, {{domain::MeasureEnded{1, D("2020-11-20"), MeasureEndReason::kCaseClosed}, At("2020-11-20", 0)},
                    {domain::CaseClosed{domain::CaseOutcome::kRecovered, D("2020-11-20")}, At("2020-11-20", 0)}});
    Open();
  }

  void Open() {
    runner_.reset();
    RunnerOptions o;
    o.path = log_.Path("views");
    o.rules = Rules();
    o.max_batch = 5;  // many batches
    auto r = ViewRunner::Open(log_.store(), MakeViews(), o);
    ASSERT_TRUE(r) << r.error().message;
    runner_ = std::move(*r);
    auto reached = runner_->CatchUp();
    ASSERT_TRUE(reached) << reached.error().message;
    ASSERT_EQ(*reached, log_.store().CommittedPosition());
  }

  const MunicipalityView& Municipalities() { return *runner_->Get<MunicipalityView>("municipalities"); }
  const RegionView& Region() { return *runner_->Get<RegionView>("region"); }
  const LabView& Labs() { return *runner_->Get<LabView>("labs"); }

  // A municipality column over 2020-11-01 .. 2020-11-21, one value per day.
  std::vector<int64_t> MuniSeries(const char* istat, int64_t MunicipalityFigures::*field) {
    std::vector<int64_t> v;
    for (Date d = D("2020-11-01"); d <= D("2020-11-21"); d = d + 1) v.push_back(Municipalities().FiguresOn(istat, d).value().*field);
    return v;
  }
  std::vector<int64_t> RegionSeries(const char* area, int64_t DpcRow::*field) {
    auto rows = Region().Series(area, D("2020-11-21"), {D("2020-11-01"), D("2020-11-21")});
    std::vector<int64_t> v;
    for (const DpcRow& r : rows.value()) v.push_back(r.*field);
    return v;
  }

  TestLog log_;
  std::unique_ptr<ViewRunner> runner_;
};

using V = std::vector<int64_t>;
//                 Nov: 1  2  3  4  5  6  7  8  9 10 11 12 13 14 15 16 17 18 19 20 21

TEST_F(GoldenScenarioTest, TorinoFiguresDayByDay) {
  using F = MunicipalityFigures;
  EXPECT_EQ(MuniSeries(kTorino, &F::new_positives), (V{0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(MuniSeries(kTorino, &F::cumulative_cases), (V{0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2}));
  EXPECT_EQ(MuniSeries(kTorino, &F::swabs_molecular), (V{0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(MuniSeries(kTorino, &F::swabs_antigen), (V{0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  // A from 11-03 until the move, D from 11-06 to the recovery; B's case never was.
  EXPECT_EQ(MuniSeries(kTorino, &F::currently_positive), (V{0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0}));
  // A [11-02, 11-06) here, B [11-03, 11-04) revoked, D [11-05, 11-20).
  EXPECT_EQ(MuniSeries(kTorino, &F::active_isolations), (V{0, 1, 2, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0}));
  EXPECT_EQ(MuniSeries(kTorino, &F::active_quarantines), (V(21, 0)));
  EXPECT_EQ(MuniSeries(kTorino, &F::recovered), (V{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1}));
  EXPECT_EQ(MuniSeries(kTorino, &F::deceased), (V(21, 0)));
}

TEST_F(GoldenScenarioTest, MoncalieriFiguresDayByDay) {
  using F = MunicipalityFigures;
  EXPECT_EQ(MuniSeries(kMoncalieri, &F::new_positives), (V{0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(MuniSeries(kMoncalieri, &F::cumulative_cases), (V{0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}));
  // E from 11-05 to death, A (moved in) from 11-06 to recovery.
  EXPECT_EQ(MuniSeries(kMoncalieri, &F::currently_positive), (V{0, 0, 0, 0, 1, 2, 2, 2, 2, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(MuniSeries(kMoncalieri, &F::active_isolations), (V{0, 0, 0, 0, 1, 2, 2, 2, 2, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  // C [11-01, 11-10): ended early with a negative test instead of on 11-15.
  EXPECT_EQ(MuniSeries(kMoncalieri, &F::active_quarantines), (V{1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(MuniSeries(kMoncalieri, &F::recovered), (V{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1}));
  EXPECT_EQ(MuniSeries(kMoncalieri, &F::deceased), (V{0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}));
  EXPECT_EQ(MuniSeries(kMoncalieri, &F::swabs_molecular), (V{0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(MuniSeries(kMoncalieri, &F::swabs_antigen), (V{0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST_F(GoldenScenarioTest, IncidenceIsTheLastSevenDaysPerHundredThousand) {
  // Moncalieri, 55,875 residents: E's positive of 11-05 counts from 11-05 to 11-11.
  auto on = [&](const char* day) { return Municipalities().FiguresOn(kMoncalieri, D(day)).value(); };
  EXPECT_EQ(on("2020-11-04").incidence_7d_per_100k, 0.0);
  EXPECT_EQ(on("2020-11-05").new_positives_7d, 1);
  EXPECT_DOUBLE_EQ(on("2020-11-11").incidence_7d_per_100k.value(), 1.79);  // 100000 / 55875
  EXPECT_EQ(on("2020-11-12").new_positives_7d, 0);
  auto json = MunicipalityJson(Municipalities(), kMoncalieri, D("2020-11-06")).value();
  EXPECT_EQ(json.at("name"), "Moncalieri");
  EXPECT_EQ(json.at("asl"), "TO5");
  EXPECT_EQ(json.at("population"), 55875);
  EXPECT_EQ(json.at("currently_positive"), 2);
  const auto& daily = json.at("daily").as_array();
  ASSERT_EQ(daily.size(), 6u);  // 11-01 (C's quarantine) .. 11-06
  EXPECT_EQ(daily.front().at("date"), "2020-11-01");
  EXPECT_EQ(daily.back().at("incidence_7d_per_100k").as_double(), 1.79);
}

TEST_F(GoldenScenarioTest, MunicipalityListsFilterByAslOrProvince) {
  auto to5 = MunicipalitiesJson(Municipalities(), {"TO5", ""}, D("2020-11-07"));
  EXPECT_EQ(to5.at("asl"), "TO5");
  EXPECT_EQ(to5.at("province"), nullptr);
  EXPECT_EQ(to5.at("position"), runner_->Position());
  const auto& list = to5.at("municipalities").as_array();
  ASSERT_EQ(list.size(), 40u);  // the 40 municipalities of ASL TO5
  int64_t positive = 0;
  for (const auto& m : list) {
    EXPECT_EQ(m.at("asl"), "TO5");
    positive += m.at("currently_positive").as_int64();
    if (m.at("istat") == kMoncalieri) {
      EXPECT_EQ(m.at("active_isolations"), 2);
    }
  }
  EXPECT_EQ(positive, 2);  // A and E, both in Moncalieri
  EXPECT_EQ(MunicipalitiesJson(Municipalities(), {"", "TO"}, D("2020-11-07")).at("municipalities").as_array().size(), 312u);
  EXPECT_EQ(MunicipalitiesJson(Municipalities(), {"", "001"}, D("2020-11-07")).at("municipalities").as_array().size(), 312u);
  EXPECT_TRUE(MunicipalitiesJson(Municipalities(), {"XX", ""}, D("2020-11-07")).at("municipalities").as_array().empty());
  EXPECT_EQ(MunicipalitiesJson(Municipalities(), {}, D("2020-11-07")).at("municipalities").as_array().size(), 1181u);
  EXPECT_FALSE(MunicipalityJson(Municipalities(), "999999", D("2020-11-07")).has_value());
}

TEST_F(GoldenScenarioTest, RegionBulletinDayByDay) {
  EXPECT_EQ(RegionSeries("", &DpcRow::nuovi_positivi), (V{0, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(RegionSeries("", &DpcRow::totale_casi), (V{0, 0, 1, 1, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3}));
  EXPECT_EQ(RegionSeries("", &DpcRow::totale_positivi_test_molecolare), (V{0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2}));
  EXPECT_EQ(RegionSeries("", &DpcRow::totale_positivi_test_antigenico_rapido), (V{0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}));
  EXPECT_EQ(RegionSeries("", &DpcRow::totale_positivi), (V{0, 0, 1, 1, 2, 3, 3, 3, 3, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 0, 0}));
  EXPECT_EQ(RegionSeries("", &DpcRow::ricoverati_con_sintomi), (V{0, 0, 0, 0, 0, 0, 1, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(RegionSeries("", &DpcRow::terapia_intensiva), (V{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(RegionSeries("", &DpcRow::totale_ospedalizzati), (V{0, 0, 0, 0, 0, 0, 1, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(RegionSeries("", &DpcRow::isolamento_domiciliare), (V{0, 0, 1, 1, 2, 3, 2, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 0, 0}));
  EXPECT_EQ(RegionSeries("", &DpcRow::variazione_totale_positivi), (V{0, 0, 1, 0, 1, 1, 0, 0, 0, -1, 0, 0, -1, 0, 0, 0, 0, 0, 0, -1, 0}));
  EXPECT_EQ(RegionSeries("", &DpcRow::dimessi_guariti), (V{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 2, 2}));
  EXPECT_EQ(RegionSeries("", &DpcRow::deceduti), (V{0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}));
  EXPECT_EQ(RegionSeries("", &DpcRow::tamponi), (V{0, 3, 3, 3, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5}));
  EXPECT_EQ(RegionSeries("", &DpcRow::tamponi_test_molecolare), (V{0, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3}));
  EXPECT_EQ(RegionSeries("", &DpcRow::tamponi_test_antigenico_rapido), (V{0, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2}));
  EXPECT_EQ(RegionSeries("", &DpcRow::casi_testati), (V{0, 3, 3, 3, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5}));
}

TEST_F(GoldenScenarioTest, AslSeriesFollowTheResidence) {
  // ASL TO (Torino): A until the move on 11-06, then D; D's hospital and ICU stay.
  EXPECT_EQ(RegionSeries("TO", &DpcRow::totale_positivi), (V{0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0}));
  EXPECT_EQ(RegionSeries("TO", &DpcRow::totale_casi), (V{0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2}));
  EXPECT_EQ(RegionSeries("TO", &DpcRow::terapia_intensiva), (V{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(RegionSeries("TO", &DpcRow::ricoverati_con_sintomi), (V{0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  // ASL TO5 (Moncalieri): E, then A from the move.
  EXPECT_EQ(RegionSeries("TO5", &DpcRow::totale_positivi), (V{0, 0, 0, 0, 1, 2, 2, 2, 2, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(RegionSeries("TO5", &DpcRow::ricoverati_con_sintomi), (V{0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(RegionSeries("TO5", &DpcRow::deceduti), (V{0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}));
  EXPECT_FALSE(Region().Series("XX", D("2020-11-21")).has_value());
}

TEST_F(GoldenScenarioTest, RegionCsvHasTheDpcHeaderAndRows) {
  std::string csv = RegionCsv(Region(), "", D("2020-11-06"), {D("2020-11-05"), {}}).value();
  EXPECT_EQ(csv,
            "data,totale_positivi,isolamento_domiciliare,nuovi_positivi,dimessi_guariti,deceduti,"
            "totale_casi,tamponi,casi_testati,tamponi_test_molecolare,tamponi_test_antigenico_rapido,"
            "totale_positivi_test_molecolare,totale_positivi_test_antigenico_rapido,"
            "ricoverati_con_sintomi,terapia_intensiva,totale_ospedalizzati,variazione_totale_positivi\n"
            "2020-11-05T17:00:00,2,2,1,0,0,2,5,5,3,2,1,1,0,0,0,1\n"
            "2020-11-06T17:00:00,3,3,1,0,0,3,5,5,3,2,2,1,0,0,0,1\n");
  // The DPC file's own header is a prefix of ours.
  std::string dpc = ReadFile(caseledger::TestSourceDir() + "/ops/reference/dpc-piemonte-daily.csv");
  std::string dpc_header = dpc.substr(0, dpc.find_first_of("\r\n"));
  EXPECT_EQ(csv.substr(0, dpc_header.size()), dpc_header);
  auto json = RegionJson(Region(), "", D("2020-11-06")).value();
  EXPECT_EQ(json.at("name"), "Piemonte");
  EXPECT_EQ(json.at("daily").as_array().back().at("data"), "2020-11-06T17:00:00");
  EXPECT_EQ(json.at("daily").as_array().back().at("totale_casi"), 3);
}

TEST_F(GoldenScenarioTest, LabResultsTurnaroundAndBacklog) {
  // LAB01: 23 h (A), 46 h (C), 24 h (D), read as bucket limits 24 h, 47 h, 25 h.
  auto lab1 = Labs().FiguresOn("LAB01", D("2020-11-06")).value();
  EXPECT_EQ(lab1.results, 1);
  EXPECT_EQ(lab1.positive, 1);
  EXPECT_EQ(lab1.results_7d, 3);
  EXPECT_EQ(lab1.turnaround_median_minutes, 25 * 60);
  EXPECT_EQ(lab1.turnaround_p90_minutes, 47 * 60);
  // LAB02: B's result counts as first reported; the correction on its own day.
  EXPECT_EQ(Labs().FiguresOn("LAB02", D("2020-11-03")).value().positive, 1);
  EXPECT_EQ(Labs().FiguresOn("LAB02", D("2020-11-04")).value().corrections, 1);
  auto lab2 = Labs().FiguresOn("LAB02", D("2020-11-05")).value();
  EXPECT_EQ(lab2.turnaround_median_minutes, 7 * 60);   // E: 6 h
  EXPECT_EQ(lab2.turnaround_p90_minutes, 27 * 60);     // B: 26 h
  EXPECT_FALSE(Labs().FiguresOn("LAB99", D("2020-11-05")).has_value());
  V backlog;
  for (Date d = D("2020-11-01"); d <= D("2020-11-07"); d = d + 1) backlog.push_back(Labs().RegionBacklog(d));
  EXPECT_EQ(backlog, (V{0, 3, 1, 0, 1, 0, 0}));
  auto json = LabJson(Labs(), "LAB01", D("2020-11-06")).value();
  EXPECT_EQ(json.at("turnaround_7d").at("median_minutes"), 25 * 60);
  EXPECT_EQ(json.at("region_backlog"), 0);
  EXPECT_EQ(json.at("daily").as_array().size(), 4u);  // 11-03 .. 11-06
}

TEST_F(GoldenScenarioTest, ReopenedViewsAnswerTheSame) {
  std::vector<Date> days = {D("2020-11-03"), D("2020-11-09"), D("2020-11-21")};
  std::string before = DumpViews(*runner_, days);
  uint64_t position = runner_->Position();
  Open();
  EXPECT_EQ(runner_->Position(), position);
  EXPECT_EQ(runner_->metrics().events_applied.load(), 0u);  // loaded, not re-applied
  EXPECT_EQ(DumpViews(*runner_, days), before);
}

}  // namespace
}  // namespace caseledger::projections
