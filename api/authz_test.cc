// The school scope of operators (finding 4 of the 2026-12 audit, docs/security.md): an
// operator may act on a school exactly when the school's municipality is in its ASL, whatever
// province the school code names. Table-driven over every ASL and the Piedmont reference data.
#include "api/authz.h"
#include "tests/support/build_paths.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace caseledger::api {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const domain::ReferenceData& Reference() {
  static const auto ref = [] {
    auto r = domain::ReferenceData::Parse(ReadFile(caseledger::TestSourceDir() + "/ops/reference/istat-comuni.csv"),
                                          ReadFile(caseledger::TestSourceDir() + "/ops/reference/piemonte-asl.csv"));
    if (!r) throw std::runtime_error(r.error().message);
    return *r;
  }();
  return *ref;
}

Principal OperatorOf(const std::string& asl) {
  Principal p{"op-" + asl, {}};
  p.grants.Apply(domain::AccessGranted{p.subject, "operator", asl});
  return p;
}

// A school of each Piedmont province, in its provincial capital.
struct Capital {
  const char* province;
  const char* istat;
  const char* asl;
};
constexpr Capital kCapitals[] = {
    {"TO", "001272", "TO"}, {"VC", "002158", "VC"}, {"NO", "003106", "NO"}, {"CN", "004078", "CN1"},
    {"AT", "005005", "AT"}, {"AL", "006003", "AL"}, {"BI", "096004", "BI"}, {"VB", "103072", "VCO"},
};

TEST(SchoolScopeTest, EveryAslAgainstASchoolOfEachProvince) {
  const auto& asls = Reference().asls();
  ASSERT_EQ(asls.size(), 12u);
  for (const domain::Asl& asl : asls) {
    const Principal op = OperatorOf(asl.code);
    for (const Capital& c : kCapitals) {
      SCOPED_TRACE(asl.code + " on a school of " + c.province);
      const bool expected = asl.code == c.asl;
      EXPECT_EQ(SchoolCommandRole(op, c.istat, Reference()).has_value(), expected);
      const std::string school = std::string(c.province) + "IC80000X";
      ViewAccess view = ViewAccessFor(op, ViewKind::kSchool, school, Reference(), c.istat);
      EXPECT_TRUE(view.kind_allowed);
      EXPECT_EQ(view.key_allowed, expected);
    }
  }
}

// The borders the audit crossed: TO5 got Asti, TO4 Vercelli, AL Asti and Vercelli, CN2 Asti,
// VC Biella and Novara, VCO Novara, because their ASLs hold a few municipalities there.
TEST(SchoolScopeTest, BorderMunicipalitiesDoNotOpenTheirProvince) {
  struct Case {
    const char* asl;
    const char* capital_istat;
  };
  for (const Case& c : {Case{"TO5", "005005"}, Case{"TO4", "002158"}, Case{"AL", "005005"}, Case{"AL", "002158"},
                        Case{"CN2", "005005"}, Case{"VC", "096004"}, Case{"VC", "003106"}, Case{"VCO", "003106"}}) {
    SCOPED_TRACE(std::string(c.asl) + " on " + c.capital_istat);
    EXPECT_FALSE(SchoolCommandRole(OperatorOf(c.asl), c.capital_istat, Reference()));
  }
}

// Every municipality of the region: the operator of its ASL and no other.
TEST(SchoolScopeTest, ExactlyTheAslOfTheSchoolsMunicipality) {
  size_t checked = 0;
  for (const domain::Municipality& m : Reference().municipalities()) {
    if (m.asl.empty()) continue;
    for (const domain::Asl& asl : Reference().asls()) {
      ASSERT_EQ(SchoolCommandRole(OperatorOf(asl.code), m.istat_code, Reference()).has_value(), asl.code == m.asl)
          << asl.code << " " << m.name;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 1181u * 12u);
  // Castelnuovo Don Bosco is in the province of Asti and the ASL TO5.
  EXPECT_TRUE(SchoolCommandRole(OperatorOf("TO5"), "005031", Reference()).has_value());
  EXPECT_FALSE(SchoolCommandRole(OperatorOf("AT"), "005031", Reference()));
}

TEST(SchoolScopeTest, ASchoolNotRegisteredIsNoOperators) {
  for (const domain::Asl& asl : Reference().asls()) {
    EXPECT_FALSE(SchoolCommandRole(OperatorOf(asl.code), "", Reference())) << asl.code;
    EXPECT_FALSE(ViewAccessFor(OperatorOf(asl.code), ViewKind::kSchool, "TOIC81200X", Reference(), "").key_allowed);
  }
}

}  // namespace
}  // namespace caseledger::api
