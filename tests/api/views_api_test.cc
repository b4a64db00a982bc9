// The read views over HTTP: a case registered through the API shows in the municipality,
// region (JSON and DPC CSV), lab, GP and school views, min_position waits for it, and the
// change stream announces it.
#include "eventstore/event_store.h"
#include "domain/tax_code.h"
#include "tests/support/test_server.h"

#include <boost/asio.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace caseledger::testing {
namespace {

std::string Register(HttpClient& http, const std::string& token) {
  std::string tc = domain::ComposeTaxCode("Gallo", "Sara", *domain::Date::Parse("2008-05-02"), 'F', "L219");
  auto r = http.Post("/v1/people", R"({"tax_code":")" + tc +
                     R"(","family_name":"Gallo","given_names":"Sara","birth_date":"2008-05-02","sex":"F","residence_istat":"001272"})", token);
  EXPECT_EQ(r.status, 201) << r.body;
  return std::string(r.Json().at("person_id").as_string());
}

TEST(ViewsApiTest, APositiveCaseShowsInEveryView) {
  TestServer server;
  HttpClient http(server.port());
  const std::string token = server.Token();
  const std::string id = Register(http, token);
  ASSERT_EQ(http.Post("/v1/people/" + id + "/gp", R"({"gp_id":"GP0012720001"})", token).status, 201);
  ASSERT_EQ(http.Post("/v1/people/" + id + "/enrolments", R"({"school":"TOIC81200X","class":"3B","role":"student"})", token).status, 201);
  ASSERT_EQ(http.Post("/v1/people/" + id + "/swabs", R"({"requested_at":"2020-10-01T08:00:00Z","swab_id":"TO-V-1","kind":"molecular"})", token).status, 201);
  ASSERT_EQ(http.Post("/v1/swabs/TO-V-1/collection", R"({"lab_id":"LAB-TO1","collected_at":"2020-10-20T08:00:00Z"})", token).status, 201);
  auto result = http.Post("/v1/swabs/TO-V-1/result", R"({"outcome":"positive","lab_id":"LAB-TO1","reported_at":"2020-10-21T10:00:00Z"})", token);
  ASSERT_EQ(result.status, 201) << result.body;
  auto iso = http.Post("/v1/people/" + id + "/isolation", R"({"start":"2020-10-21","reason":"positive"})", token);
  ASSERT_EQ(iso.status, 201);
  const std::string pos = std::to_string(iso.Json().at("position").to_number<uint64_t>());

  auto m = http.Get("/v1/views/municipalities/001272?day=2020-10-21&min_position=" + pos, token);
  ASSERT_EQ(m.status, 200) << m.body;
  EXPECT_GE(std::stoull(m.Header("x-position")), std::stoull(pos));
  EXPECT_EQ(m.Json().at("active_isolations").to_number<int64_t>(), 1);
  EXPECT_EQ(m.Json().at("new_positives").to_number<int64_t>(), 1);
  // Rates as people write them (docs/api.md): 1 case in Torino's 872,367 is 0.11 per 100k,
  // not Boost.JSON's 1.1E-1; a week without cases is 0, not 0E0.
  EXPECT_NE(m.body.find("\"incidence_7d_per_100k\":0.11,"), std::string::npos) << m.body;
  auto before = http.Get("/v1/views/municipalities/001272?day=2020-10-01&min_position=" + pos, token);
  ASSERT_EQ(before.status, 200) << before.body;
  EXPECT_NE(before.body.find("\"incidence_7d_per_100k\":0,"), std::string::npos) << before.body;
  for (const auto* body : {&m.body, &before.body}) {
    EXPECT_EQ(body->find("E-"), std::string::npos) << *body;
    EXPECT_EQ(body->find("E0"), std::string::npos) << *body;
  }
  EXPECT_EQ(http.Get("/v1/views/municipalities/001272?day=2020-10-21&min_position=" + pos, token,
                     {{"If-None-Match", m.Header("etag")}}).status, 304);

  auto csv = http.Get("/v1/views/region/daily.csv?from=2020-10-20&to=2020-10-21&day=2020-10-21", token);
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_EQ(csv.body.rfind("data,totale_positivi,isolamento_domiciliare,nuovi_positivi", 0), 0u) << csv.body;
  EXPECT_NE(csv.body.find("2020-10-21"), std::string::npos);

  auto lab = http.Get("/v1/views/labs/LAB-TO1?day=2020-10-21", token);
  EXPECT_EQ(lab.status, 200) << lab.body;
  auto gp = http.Get("/v1/views/gps/GP0012720001?day=2020-10-21", token);
  ASSERT_EQ(gp.status, 200) << gp.body;
  EXPECT_EQ(gp.Json().at("patient_count").to_number<int64_t>(), 1);
  EXPECT_EQ(gp.body.find("Gallo"), std::string::npos) << "views hold no names";
  auto school = http.Get("/v1/views/schools/TOIC81200X?day=2020-10-21", token);
  ASSERT_EQ(school.status, 200) << school.body;
  EXPECT_EQ(school.body.find(id), std::string::npos) << "the school view has counts only";

  EXPECT_EQ(http.Get("/v1/views/municipalities/999999", token).status, 404);
  EXPECT_EQ(http.Get("/v1/views/region?day=yesterday", token).status, 400);
  // A position far ahead is not reached within the wait: 503 with Retry-After.
  auto ahead = http.Get("/v1/views/region?min_position=999999&timeout_ms=100", token);
  EXPECT_EQ(ahead.status, 503);
  EXPECT_FALSE(ahead.Header("retry-after").empty());
}

TEST(ViewsApiTest, ChangeStreamAnnouncesViewChanges) {
  TestServer server;
  const std::string token = server.Token();
  namespace asio = boost::asio;
  asio::io_context ioc;
  asio::ip::tcp::socket sock(ioc);
  sock.connect({asio::ip::make_address("127.0.0.1"), server.port()});
  std::string req = "GET /v1/views/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\n\r\n";
  asio::write(sock, asio::buffer(req));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let the subscription start
  HttpClient http(server.port());
  const std::string id = Register(http, token);
  ASSERT_EQ(http.Post("/v1/people/" + id + "/swabs", R"({"requested_at":"2020-10-01T08:00:00Z","swab_id":"TO-S-1","kind":"antigen"})", token).status, 201);
  ASSERT_EQ(http.Post("/v1/swabs/TO-S-1/collection", R"({"lab_id":"LAB-TO1","collected_at":"2020-10-20T08:00:00Z"})", token).status, 201);
  std::string got;
  char buf[4096];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (got.find("001272") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    sock.non_blocking(true);
    boost::system::error_code ec;
    size_t n = sock.read_some(asio::buffer(buf), ec);
    if (!ec) got.append(buf, n);
    else std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(got.find("text/event-stream"), std::string::npos) << got;
  EXPECT_NE(got.find("\"view\":\"municipalities\""), std::string::npos) << got;
  EXPECT_NE(got.find("\"key\":\"001272\""), std::string::npos) << got;
}

}  // namespace
}  // namespace caseledger::testing
