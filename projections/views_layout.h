// Private to projections/: the keys of the views database that are the runner's own (the
// layout in prose: FORMAT.md), shared by the runner (view_runner.cc) and its recovery at open
// (views_recovery.cc).
#pragma once

#include <string_view>

namespace caseledger::projections::layout {

// 7: a GP's results one entry per report day ("gps/<gp>/r/<day>"); 6: person entries (person_entry.h: the record and the person folds' parts, the GP view's
// patient status); 5: person records of format 2 (the domain's episode facts: person_directory.cc); 4: the
// measure-start index ("index/"); 3: class orders keep their given end; 2: the region view's
// late-report column
inline constexpr std::string_view kFormat = "7";
inline constexpr std::string_view kFormatKey = "meta/format";
inline constexpr std::string_view kViewsKey = "meta/views";
inline constexpr std::string_view kCheckpointKey = "checkpoint";
inline constexpr std::string_view kPeoplePrefix = "people/";
inline constexpr std::string_view kPersonStreamPrefix = "person-";
// The measure-start index: "index/starts/<YYYY-MM-DD>/<person id>" for every isolation or
// quarantine order of a person starting on that day, and the number of registrations applied.
inline constexpr std::string_view kIndexPrefix = "index/";
inline constexpr std::string_view kStartsPrefix = "index/starts/";
inline constexpr std::string_view kRegisteredKey = "index/registered";

}  // namespace caseledger::projections::layout
