#include "domain/reference.h"
#include "tests/support/build_paths.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

namespace caseledger::domain {
namespace {

std::string ReadFile(const std::string& relative) {
  std::ifstream in(caseledger::TestSourceDir() + "/" + relative, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The shipped tables, parsed once for the whole suite.
const ReferenceData& Real() {
  static const std::shared_ptr<const ReferenceData> data = [] {
    auto r = ReferenceData::Parse(ReadFile("ops/reference/istat-comuni.csv"),
                                  ReadFile("ops/reference/piemonte-asl.csv"));
    if (!r) ADD_FAILURE() << r.error().message;
    return r ? *r : nullptr;
  }();
  if (data == nullptr) throw std::runtime_error("reference data did not parse");
  return *data;
}

constexpr std::string_view kHeader =
    "istat_code,name,province_code,province_abbr,province_name,region_code,region_name,"
    "cadastral_code,population\n";
constexpr std::string_view kAslHeader = "istat_code,asl_code,asl_name\n";

// Two Piedmont municipalities and one outside Piedmont.
std::string SmallComuni() {
  return std::string(kHeader) +
         "001272,Torino,001,TO,Torino,01,Piemonte,L219,872367\n"
         "004003,Alba,004,CN,Cuneo,01,Piemonte,A124,30804\n"
         "007003,Aosta,007,AO,Valle d'Aosta/Vallée d'Aoste,02,Valle d'Aosta,A326,34062\n";
}

std::string SmallAsl() {
  return std::string(kAslHeader) +
         "001272,TO,ASL Città di Torino\n"
         "004003,CN2,ASL CN2\n";
}

// Asserts that parsing fails and that the error names `line` of `source`.
void ExpectRejectedAt(const Result<std::shared_ptr<const ReferenceData>>& r,
                      const std::string& source, int line) {
  ASSERT_FALSE(r) << "expected a parse error";
  ASSERT_EQ(r.error().fields.size(), 1u);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().fields[0].field, source + " line " + std::to_string(line));
  EXPECT_NE(r.error().message.find("line " + std::to_string(line) + ":"), std::string::npos)
      << r.error().message;
}

TEST(ReferenceDataTest, LoadsEveryItalianMunicipality) {
  EXPECT_EQ(Real().municipalities().size(), 7904u);
}

TEST(ReferenceDataTest, PiedmontHas1181MunicipalitiesAnd4363916Residents) {
  size_t count = 0;
  int64_t population = 0;
  for (const Municipality& m : Real().municipalities()) {
    if (m.region_code != "01") continue;
    ++count;
    population += m.population;
  }
  EXPECT_EQ(count, 1181u);
  EXPECT_EQ(population, 4363916);
}

TEST(ReferenceDataTest, EveryPiedmontMunicipalityHasExactlyOneAsl) {
  std::set<std::string> codes;
  for (const Asl& a : Real().asls()) codes.insert(a.code);
  size_t listed = 0;
  for (const Asl& a : Real().asls()) listed += Real().MunicipalitiesOfAsl(a.code).size();
  EXPECT_EQ(listed, 1181u);  // the per-ASL lists partition Piedmont
  for (const Municipality& m : Real().municipalities()) {
    if (m.region_code == "01") {
      EXPECT_TRUE(codes.contains(m.asl)) << m.istat_code << " " << m.name;
    } else {
      EXPECT_TRUE(m.asl.empty()) << m.istat_code << " " << m.name;
    }
  }
}

TEST(ReferenceDataTest, ListsTheTwelveAslsInRegionalOrder) {
  std::vector<std::string> codes;
  for (const Asl& a : Real().asls()) codes.push_back(a.code);
  EXPECT_EQ(codes, (std::vector<std::string>{"TO", "TO3", "TO4", "TO5", "VC", "BI", "NO", "VCO",
                                             "CN1", "CN2", "AT", "AL"}));
  EXPECT_EQ(Real().asls().front().name, "ASL Città di Torino");
  EXPECT_EQ(Real().asls().back().name, "ASL AL");
}

TEST(ReferenceDataTest, TorinoIsTheCityAslWithCadastralL219) {
  const Municipality* torino = Real().FindMunicipality("001272");
  ASSERT_NE(torino, nullptr);
  EXPECT_EQ(torino->name, "Torino");
  EXPECT_EQ(torino->asl, "TO");
  EXPECT_EQ(torino->cadastral_code, "L219");
  EXPECT_EQ(Real().FindByCadastralCode("L219"), torino);
  ASSERT_EQ(Real().MunicipalitiesOfAsl("TO").size(), 1u);
}

TEST(ReferenceDataTest, KnownTownsBelongToTheirAsl) {
  struct Case {
    const char* istat;
    const char* name;
    const char* asl;
  };
  for (const Case& c : {Case{"004003", "Alba", "CN2"}, Case{"001191", "Pinerolo", "TO3"},
                        Case{"001125", "Ivrea", "TO4"}, Case{"001078", "Chieri", "TO5"},
                        Case{"004078", "Cuneo", "CN1"}, Case{"002049", "Crescentino", "TO4"}}) {
    const Municipality* m = Real().FindMunicipality(c.istat);
    ASSERT_NE(m, nullptr) << c.istat;
    EXPECT_EQ(m->name, c.name);
    EXPECT_EQ(m->asl, c.asl) << c.name;
  }
}

TEST(ReferenceDataTest, MunicipalitiesOfAslAreInIstatOrder) {
  auto cn2 = Real().MunicipalitiesOfAsl("CN2");
  EXPECT_EQ(cn2.size(), 75u);
  for (size_t i = 1; i < cn2.size(); ++i) EXPECT_LT(cn2[i - 1]->istat_code, cn2[i]->istat_code);
  for (const Municipality* m : cn2) EXPECT_EQ(m->asl, "CN2");
  EXPECT_TRUE(Real().MunicipalitiesOfAsl("XX").empty());
  EXPECT_TRUE(Real().MunicipalitiesOfAsl("").empty());
}

TEST(ReferenceDataTest, UnknownCodesAreNotFound) {
  EXPECT_EQ(Real().FindMunicipality("999999"), nullptr);
  EXPECT_EQ(Real().FindByCadastralCode("Z999"), nullptr);
}

TEST(ReferenceParseTest, AcceptsQuotedFieldsCrlfAndNoTrailingNewline) {
  std::string comuni = std::string(kHeader) +
                       "001272,\"Torino, \"\"citta\"\"\",001,TO,Torino,01,Piemonte,L219,872367\r\n"
                       "004003,Alba,004,CN,Cuneo,01,Piemonte,A124,30804";
  auto r = ReferenceData::Parse(comuni, SmallAsl());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)->FindMunicipality("001272")->name, "Torino, \"citta\"");
  EXPECT_EQ((*r)->FindMunicipality("004003")->population, 30804);
}

TEST(ReferenceParseTest, KeepsApostrophesAndAccentsInNames) {
  auto r = ReferenceData::Parse(SmallComuni(), SmallAsl());
  ASSERT_TRUE(r) << r.error().message;
  const Municipality* aosta = (*r)->FindMunicipality("007003");
  ASSERT_NE(aosta, nullptr);
  EXPECT_TRUE(aosta->asl.empty());
  EXPECT_EQ((*r)->FindByCadastralCode("A326"), aosta);
}

TEST(ReferenceParseTest, RejectsRowWithMissingFieldNamingTheLine) {
  std::string comuni = SmallComuni() + "001001,Agliè,001,TO,Torino,01,Piemonte,A074\n";
  ExpectRejectedAt(ReferenceData::Parse(comuni, SmallAsl()), "comuni_csv", 5);
}

TEST(ReferenceParseTest, RejectsBadPopulationAndBadCodes) {
  std::string bad_pop = std::string(kHeader) + "001272,Torino,001,TO,Torino,01,Piemonte,L219,-5\n";
  ExpectRejectedAt(ReferenceData::Parse(bad_pop, SmallAsl()), "comuni_csv", 2);
  std::string bad_code = std::string(kHeader) + "01272,Torino,001,TO,Torino,01,Piemonte,L219,1\n";
  ExpectRejectedAt(ReferenceData::Parse(bad_code, SmallAsl()), "comuni_csv", 2);
  std::string bad_belfiore =
      std::string(kHeader) + "001272,Torino,001,TO,Torino,01,Piemonte,219,1\n";
  ExpectRejectedAt(ReferenceData::Parse(bad_belfiore, SmallAsl()), "comuni_csv", 2);
}

TEST(ReferenceParseTest, RejectsWrongHeaderAndUnterminatedQuote) {
  ExpectRejectedAt(ReferenceData::Parse("code,name\n", SmallAsl()), "comuni_csv", 1);
  std::string open_quote = SmallComuni() + "001001,\"Agliè,001,TO,Torino,01,Piemonte,A074,2644\n";
  ExpectRejectedAt(ReferenceData::Parse(open_quote, SmallAsl()), "comuni_csv", 5);
}

TEST(ReferenceParseTest, RejectsDuplicateIstatCode) {
  std::string comuni = SmallComuni() + "\n004003,Alba bis,004,CN,Cuneo,01,Piemonte,A999,1\n";
  ExpectRejectedAt(ReferenceData::Parse(comuni, SmallAsl()), "comuni_csv", 6);
}

TEST(ReferenceParseTest, RejectsUnknownIstatCodeInAslFile) {
  std::string asl = SmallAsl() + "001001,TO4,ASL TO4\n";
  ExpectRejectedAt(ReferenceData::Parse(SmallComuni(), asl), "asl_csv", 4);
}

TEST(ReferenceParseTest, RejectsUnknownAslCodeAndWrongName) {
  std::string unknown = std::string(kAslHeader) + "001272,TO1,ASL TO1\n004003,CN2,ASL CN2\n";
  ExpectRejectedAt(ReferenceData::Parse(SmallComuni(), unknown), "asl_csv", 2);
  std::string misnamed = std::string(kAslHeader) + "001272,TO,ASL TO\n004003,CN2,ASL CN2\n";
  ExpectRejectedAt(ReferenceData::Parse(SmallComuni(), misnamed), "asl_csv", 2);
}

TEST(ReferenceParseTest, RejectsAslForMunicipalityOutsidePiedmontOrListedTwice) {
  std::string outside = SmallAsl() + "007003,TO,ASL Città di Torino\n";
  ExpectRejectedAt(ReferenceData::Parse(SmallComuni(), outside), "asl_csv", 4);
  std::string twice = SmallAsl() + "004003,CN1,ASL CN1\n";
  ExpectRejectedAt(ReferenceData::Parse(SmallComuni(), twice), "asl_csv", 4);
}

TEST(ReferenceParseTest, RejectsPiedmontMunicipalityWithoutAsl) {
  auto r = ReferenceData::Parse(SmallComuni(),
                                std::string(kAslHeader) + "001272,TO,ASL Città di Torino\n");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("004003"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace caseledger::domain
