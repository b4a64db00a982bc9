// The days a daily series answer covers.
#pragma once

#include "domain/time.h"

#include <optional>

namespace caseledger::projections {

struct DayRange {
  std::optional<domain::Date> from;  // default: the first day with an event
  std::optional<domain::Date> to;    // default: the day asked about
};

// At most this many days in one answer (a whole pandemic is ~1,800).
inline constexpr int kMaxSeriesDays = 4000;

}  // namespace caseledger::projections
