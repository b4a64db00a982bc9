// For the views' tests: a view's answer as the API renders it (api/view_json.h), from the
// view's typed report, so that the tests keep asserting the JSON the server sends.
// projections_test links api's view_json library for this alone (api/CMakeLists.txt).
#pragma once

#include "api/view_json.h"

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace caseledger::projections {

template <class Report>
std::optional<boost::json::object> RenderedJson(const std::optional<Report>& report,
                                                boost::json::object (*present)(const Report&)) {
  return report ? std::optional<boost::json::object>(present(*report)) : std::nullopt;
}

inline std::optional<boost::json::object> GpJson(const GpView& v, std::string_view gp, domain::Date day) {
  return RenderedJson(v.Gp(gp, day), api::GpJson);
}
inline std::optional<boost::json::object> SchoolJson(const SchoolView& v, std::string_view school,
                                                     domain::Date day) {
  return RenderedJson(v.School(school, day), api::SchoolJson);
}
inline std::optional<boost::json::object> MunicipalityJson(const MunicipalityView& v, std::string_view istat,
                                                           domain::Date day, const DayRange& range = {}) {
  return RenderedJson(v.Municipality(istat, day, range), api::MunicipalityJson);
}
inline boost::json::object MunicipalitiesJson(const MunicipalityView& v, const MunicipalityFilter& filter,
                                              domain::Date day) {
  return api::MunicipalitiesJson(v.Municipalities(filter, day));
}
inline std::optional<boost::json::object> RegionJson(const RegionView& v, std::string_view area, domain::Date day,
                                                     const DayRange& range = {}) {
  return RenderedJson(v.Area(area, day, range), api::RegionJson);
}
inline std::optional<std::string> RegionCsv(const RegionView& v, std::string_view area, domain::Date day,
                                            const DayRange& range = {}) {
  auto rows = v.Series(area, day, range);
  return rows ? std::optional<std::string>(api::DpcCsv(*rows)) : std::nullopt;
}
inline std::optional<boost::json::object> LabJson(const LabView& v, std::string_view lab, domain::Date day,
                                                  const DayRange& range = {}) {
  return RenderedJson(v.Lab(lab, day, range), api::LabJson);
}
inline boost::json::object LabsJson(const LabView& v, domain::Date day) { return api::LabsJson(v.Labs(day)); }

}  // namespace caseledger::projections
