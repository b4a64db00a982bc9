// JsonText: Boost.JSON's text, but doubles in plain decimal (docs/api.md).
#include "api/json_text.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <limits>

namespace caseledger::api {
namespace {

TEST(JsonTextTest, DoublesAreWrittenAsPeopleWriteThem) {
  EXPECT_EQ(DecimalText(0.11), "0.11");
  EXPECT_EQ(DecimalText(0.0), "0");
  EXPECT_EQ(DecimalText(-0.0), "0");
  EXPECT_EQ(DecimalText(12.5), "12.5");
  EXPECT_EQ(DecimalText(1.79), "1.79");
  EXPECT_EQ(DecimalText(100.0), "100");
  EXPECT_EQ(DecimalText(-3.0), "-3");
  EXPECT_EQ(DecimalText(1234567.89), "1234567.89");
  EXPECT_EQ(DecimalText(0.0005), "0.0005");
  EXPECT_EQ(DecimalText(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(DecimalText(std::numeric_limits<double>::quiet_NaN()), "null");
  EXPECT_EQ(boost::json::serialize(boost::json::value(0.11)), "1.1E-1");  // what it replaces
}

TEST(JsonTextTest, EverythingElseIsBoostsOwnText) {
  const boost::json::value v = boost::json::parse(
      R"({"a":1,"b":-2,"c":18446744073709551615,"d":true,"e":false,"f":null,"g":"x\"y\\z\u0001é",)"
      R"("h":[1,{"i":[]}],"j":{},"k":[]})");
  EXPECT_EQ(JsonText(v), boost::json::serialize(v));
  EXPECT_EQ(JsonText(v.as_object()), boost::json::serialize(v));
}

TEST(JsonTextTest, DoublesInsideObjectsAndArraysReadBackTheSame) {
  boost::json::object o{{"rate", 0.11}, {"zero", 0.0}, {"list", boost::json::array{1.5, 2, 0.25}},
                        {"name", "Torino"}};
  const std::string text = JsonText(o);
  EXPECT_EQ(text, R"({"rate":0.11,"zero":0,"list":[1.5,2,0.25],"name":"Torino"})");
  const boost::json::value back = boost::json::parse(text);
  EXPECT_EQ(back.at("rate").to_number<double>(), 0.11);
  EXPECT_EQ(back.at("list").at(2).to_number<double>(), 0.25);
}

}  // namespace
}  // namespace caseledger::api
