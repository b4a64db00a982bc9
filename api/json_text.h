// JSON as the API writes it: Boost.JSON's serializer, except that a double is written the way
// people write numbers (plain decimal, no exponent, no trailing zeros: 0.11, 12.5, 0), where
// boost::json::serialize writes 1.1E-1 and 0E0. The views round their rates before they get
// here (incidence_7d_per_100k: 2 decimals, docs/api.md), so the shortest decimal that reads
// back as the same double is at most that long. Non-finite doubles are written as null.
#pragma once

#include <boost/json/value.hpp>

#include <string>

namespace caseledger::api {

std::string JsonText(const boost::json::value& v);
std::string JsonText(const boost::json::object& o);

// The shortest plain decimal of `d` that reads back as `d` ("0.11", "12.5", "0", "-3").
std::string DecimalText(double d);

}  // namespace caseledger::api
