// The daily figures the demo workload follows: the Piedmont DPC bulletin
// (ops/reference/dpc-piemonte-daily.csv), scaled 1:N.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "domain/error.h"
#include "domain/time.h"

namespace caseledger::workload {

// The columns of one bulletin row that the generator reads. Cumulative columns are as
// published (the DPC files carry a few corrections: a cumulative figure may go down).
struct DpcDay {
  domain::Date day;
  int64_t totale_positivi = 0;         // level: open cases
  int64_t nuovi_positivi = 0;          // that day
  int64_t dimessi_guariti = 0;         // cumulative
  int64_t deceduti = 0;                // cumulative
  int64_t tamponi = 0;                 // cumulative
  int64_t casi_testati = 0;            // cumulative; 0 where not published (before 2020-04-19)
  int64_t tamponi_antigenici = 0;      // cumulative; 0 where not published (before 2021-01-15)
  int64_t ricoverati_con_sintomi = 0;  // level: in hospital, not in intensive care
  int64_t terapia_intensiva = 0;       // level
};

// Parses the DPC CSV text (header line naming the columns, one line per day in date order);
// empty fields read as 0. Errors name the line that is wrong.
domain::Result<std::vector<DpcDay>> ParseDpcDaily(std::string_view csv);

// a / n rounded half up (toward +infinity), for any sign of `a`. REQUIRES: n > 0.
int64_t RoundDiv(int64_t a, int64_t n);

// The targets of one day of the range, scaled. Flows are cumulative since the start of the
// range (the real total since the day before `from`, divided by the scale and rounded), so
// that the generator, carrying what it could not do yet, matches the scaled totals of every
// prefix of the range; the difference of two consecutive days is that day's figure.
struct ScaledDay {
  domain::Date day;
  int64_t swabs = 0;          // tamponi
  int64_t antigen_swabs = 0;  // tamponi_test_antigenico_rapido
  int64_t new_positives = 0;  // sum of nuovi_positivi
  int64_t recoveries = 0;     // dimessi_guariti
  int64_t deaths = 0;         // deceduti
  int64_t newly_tested = 0;   // casi_testati
  // Levels at the end of the day (not cumulative): rounded ricoverati_con_sintomi and
  // terapia_intensiva.
  int64_t ward = 0;
  int64_t icu = 0;
};

struct ScaledSeries {
  // Rounded levels the day before the range (zero when the range starts the series):
  // the generator opens that many cases before its first day.
  int64_t open_cases_before = 0;
  int64_t ward_before = 0;
  int64_t icu_before = 0;
  std::vector<ScaledDay> days;  // from .. to, one per day
};

// REQUIRES nothing of the arguments: a range outside the series, reversed, or a scale
// below 1 is an kInvalidArgument error naming the flag ("from", "to", "scale").
domain::Result<ScaledSeries> ScaleSeries(const std::vector<DpcDay>& series, domain::Date from,
                                         domain::Date to, int64_t scale);

}  // namespace caseledger::workload
