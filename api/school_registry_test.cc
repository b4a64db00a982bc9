// The school registry file (audit finding 4): both forms it accepts, and the rows it leaves out.
#include "api/school_registry.h"
#include "tests/support/build_paths.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace caseledger::api {
namespace {

const domain::ReferenceData& Reference() {
  static const auto ref = [] {
    auto read = [](const std::string& path) {
      std::stringstream s;
      s << std::ifstream(path).rdbuf();
      return s.str();
    };
    auto r = domain::ReferenceData::Parse(read(caseledger::TestSourceDir() + "/ops/reference/istat-comuni.csv"),
                                          read(caseledger::TestSourceDir() + "/ops/reference/piemonte-asl.csv"));
    if (!r) throw std::runtime_error(r.error().message);
    return *r;
  }();
  return *ref;
}

TEST(SchoolRegistryTest, TwoColumns) {
  auto t = ParseSchoolRegistry("school,istat\nTOIC81200X,001272\natic80000x,005005\n", Reference());
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->places.size(), 2u);
  EXPECT_EQ(t->places.at("TOIC81200X"), "001272");
  EXPECT_EQ(t->places.at("ATIC80000X"), "005005") << "codes are normalised";
  EXPECT_EQ(t->rows_left_out, 0u);
}

// The Ministry's open-data file as published: the municipality by its Belfiore code.
TEST(SchoolRegistryTest, TheMinistrysAnagrafeFile) {
  const std::string csv =
      "ANNOSCOLASTICO,AREAGEOGRAFICA,REGIONE,PROVINCIA,CODICEISTITUTORIFERIMENTO,DENOMINAZIONEISTITUTORIFERIMENTO,"
      "CODICESCUOLA,DENOMINAZIONESCUOLA,INDIRIZZOSCUOLA,CAPSCUOLA,CODICECOMUNESCUOLA,DESCRIZIONECOMUNE\r\n"
      "202021,NORD OVEST,PIEMONTE,ASTI,ATIC80000X,\"IC ASTI, PRIMO\",ATEE80001X,PRIMARIA,\"VIA ROMA, 1\",14100,A479,ASTI\r\n"
      "202021,NORD OVEST,PIEMONTE,ASTI,ATIC80100X,IC CASTELNUOVO,ATIC80100X,IC,VIA X,14022,C232,CASTELNUOVO DON BOSCO\r\n"
      "202021,NORD OVEST,PIEMONTE,TORINO,TOIC81200X,IC,TOIC81200X,IC,VIA Y,10100,A479,ASTI\r\n"
      "202021,NORD OVEST,PIEMONTE,TORINO,TOIC81300X,IC,TOIC81300X,IC,VIA Z,10100,Z999,NOWHERE\r\n";
  auto t = ParseSchoolRegistry(csv, Reference());
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->places.size(), 2u);
  EXPECT_EQ(t->places.at("ATEE80001X"), "005005");
  EXPECT_EQ(t->places.at("ATIC80100X"), "005031");
  EXPECT_EQ(t->rows_left_out, 2u) << "a Torino code in Asti, an unknown municipality";
  EXPECT_NE(t->first_left_out.find("line 4"), std::string::npos) << t->first_left_out;
}

TEST(SchoolRegistryTest, AFileOfNeitherFormIsRefused) {
  EXPECT_FALSE(ParseSchoolRegistry("code,comune\nTOIC81200X,001272\n", Reference()));
  auto empty = ParseSchoolRegistry("", Reference());
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->places.empty());
}

}  // namespace
}  // namespace caseledger::api
