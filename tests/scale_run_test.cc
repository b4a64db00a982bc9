// The scale run's pieces (issue #8) on a small window: the DPC-driven workload loaded
// straight into a store, all views rebuilt, and the region view set beside the scaled
// bulletin (workload/dpc_compare.h) must differ by zero in the columns the generator drives.
// Also: Italy's peak days as `caseledger-loadgen --peak` finds them in the national series.
#include <gtest/gtest.h>

#include <map>

#include "workload/bench_views.h"
#include "workload/demo_workload.h"
#include "workload/dpc_compare.h"
#include "workload/loadgen_peak.h"
#include "app/reference_files.h"
#include "eventstore/event_store.h"
#include "projections/region_view.h"
#include "projections/view_runner.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

namespace caseledger::workload {
namespace {

using domain::Date;

// Loads [from, to] at 1:scale, rebuilds the views and expects zero differences.
void ExpectRegionViewReproducesTheBulletin(Date from, Date to, int64_t kScale) {
  testing::TempDir dir;
  auto reference = app::LoadReferenceData(app::DefaultReferenceDir()).value();
  auto rules = std::make_shared<const domain::RuleBook>(app::LoadRuleBook(app::DefaultRulesDir()).value());
  auto store = eventstore::EventStore::Open(testing::StoreOptionsIn(dir.path())).value();
  DemoOptions o;
  o.from = from;
  o.to = to;
  o.scale = kScale;
  std::string error;
  auto report = LoadDemoWorkload(*store, reference, app::DefaultReferenceDir(), o, &error);
  ASSERT_TRUE(report) << error;
  ASSERT_EQ(report->rejected, 0u) << report->first_rejections.front();

  projections::RebuildOptions ro;
  ro.path = dir.Sub("views");
  ro.rules = rules;
  auto runner = projections::Rebuild(*store, MakeAllViews(reference, rules), ro);
  ASSERT_TRUE(runner) << runner.error().message;
  const auto* region = (*runner)->Get<projections::RegionView>("region");
  ASSERT_NE(region, nullptr);
  auto rows = region->Series("", to, {from + -1, to});
  ASSERT_TRUE(rows);
  auto series = LoadScaledSeries(app::DefaultReferenceDir(), from, to, kScale);
  ASSERT_TRUE(series) << series.error().message;

  std::map<std::string, ColumnDifference> diffs;
  for (const ColumnDifference& d : CompareWithBulletin(*rows, *series)) diffs[d.column] = d;
  for (const char* column : {"tamponi", "tamponi_test_antigenico_rapido", "nuovi_positivi",
                             "dimessi_guariti", "deceduti", "ricoverati_con_sintomi",
                             "terapia_intensiva", "totale_positivi"}) {
    ASSERT_TRUE(diffs.count(column)) << column;
    const ColumnDifference& d = diffs[column];
    EXPECT_EQ(d.largest, 0) << column << " on " << d.day.ToString() << ": view " << d.view
                            << ", bulletin " << d.bulletin;
  }
}

TEST(ScaleRunTest, RegionViewReproducesTheScaledBulletinInTheDrivenColumns) {
  // Two weeks with molecular and antigen swabs, hospital and ICU moves, deaths.
  ExpectRegionViewReproducesTheBulletin(Date::FromYmd(2021, 1, 25), Date::FromYmd(2021, 2, 7), 1000);
}

TEST(ScaleRunTest, AntigenSwabsFollowTheBulletinWhenTheyOutnumberTheOthers) {
  // January 2022: more antigen tests than the swabs left after positives and closures, so
  // release tests and positives' swabs must be antigen tests too.
  ExpectRegionViewReproducesTheBulletin(Date::FromYmd(2022, 1, 10), Date::FromYmd(2022, 1, 23), 1000);
}

TEST(ScaleRunTest, ItalysPeakDaysAreThoseOfJanuary2022) {
  auto peak = FindItalyPeak(app::DefaultReferenceDir());
  ASSERT_TRUE(peak) << peak.error().message;
  EXPECT_EQ(peak->swab_day, Date::FromYmd(2022, 1, 18));
  EXPECT_EQ(peak->swabs, 1'481'349);
  EXPECT_EQ(peak->positive_day, Date::FromYmd(2022, 1, 11));
  EXPECT_EQ(peak->positives, 220'532);
}

}  // namespace
}  // namespace caseledger::workload
