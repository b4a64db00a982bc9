// Audit 2026-12, finding 7: an operator revoked while subscribed to /v1/views/stream kept
// receiving its municipalities' changes. The stream now ends at the revocation, and no
// change made after it reaches the revoked caller.
#include "domain/tax_code.h"
#include "tests/support/raw_socket.h"
#include "tests/support/test_server.h"

#include <gtest/gtest.h>

#include <thread>

namespace caseledger::testing {
namespace {

using namespace std::chrono_literals;

// Registers someone in Torino (001272) and collects a swab of theirs: a change to
// Torino's municipality view. Returns the person id.
std::string SwabInTorino(HttpClient& http, const std::string& token, const std::string& family) {
  std::string tc = domain::ComposeTaxCode(family, "Sara", *domain::Date::Parse("2008-05-02"), 'F', "L219");
  auto r = http.Post("/v1/people", R"({"tax_code":")" + tc + R"(","family_name":")" + family +
                                        R"(","given_names":"Sara","birth_date":"2008-05-02","sex":"F","residence_istat":"001272"})",
                     token);
  EXPECT_EQ(r.status, 201) << r.body;
  if (r.status != 201) return "";
  std::string id(r.Json().at("person_id").as_string());
  const std::string swab = "TO-" + family;
  EXPECT_EQ(http.Post("/v1/people/" + id + "/swabs", R"({"swab_id":")" + swab + R"(","kind":"antigen"})", token).status, 201);
  EXPECT_EQ(http.Post("/v1/swabs/" + swab + "/collection", R"({"collected_at":"2020-10-20T08:00:00Z"})", token).status,
            201);
  return id;
}

TEST(ChangeStreamRevocationTest, RevokedOperatorsStreamEndsAndHearsNothingMore) {
  TestServer server;
  server.Grant("op-to", "operator", "TO");
  HttpClient http(server.port());
  const std::string admin = server.Token();
  RawSocket stream(server.port());
  ASSERT_TRUE(stream.Send("GET /v1/views/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + server.Token("op-to") +
                          "\r\n\r\n"));
  ASSERT_FALSE(stream.ReadUntil(2s, "text/event-stream")) << stream.received();
  std::this_thread::sleep_for(200ms);  // the subscription is in place

  // Before the revocation the operator hears of Torino's changes.
  const std::string first = SwabInTorino(http, admin, "Gallo");
  ASSERT_FALSE(first.empty());
  ASSERT_FALSE(stream.ReadUntil(5s, "\"key\":\"001272\"")) << "closed early: " << stream.received();
  ASSERT_NE(stream.received().find("\"key\":\"001272\""), std::string::npos) << stream.received();

  ASSERT_FALSE(stream.ReadUntil(300ms));  // the rest of that change's announcements
  server.Revoke("op-to", "operator", "TO");
  const size_t heard = stream.received().size();
  // A change after the revocation: the stream ends without announcing it.
  const std::string second = SwabInTorino(http, admin, "Bruno");
  ASSERT_FALSE(second.empty());
  const auto start = std::chrono::steady_clock::now();
  bool closed = stream.ReadUntil(5s);
  EXPECT_TRUE(closed) << "the revoked operator's stream is still open";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  const std::string after = stream.received().substr(heard);
  EXPECT_EQ(after.find("event: change"), std::string::npos) << "heard after the revocation: " << after;
  // Its reads are refused too, and a new subscription is.
  EXPECT_EQ(http.Get("/v1/views/municipalities/001272", server.Token("op-to")).status, 403);
  EXPECT_EQ(http.Get("/v1/views/stream", server.Token("op-to")).status, 403);
}

// Another subscriber, whose grants did not change, keeps its stream.
TEST(ChangeStreamRevocationTest, UnrelatedRevocationLeavesOtherStreamsOpen) {
  TestServer server;
  server.Grant("op-to", "operator", "TO");
  server.Grant("op-to-2", "operator", "TO");
  HttpClient http(server.port());
  RawSocket stream(server.port());
  ASSERT_TRUE(stream.Send("GET /v1/views/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                          server.Token("op-to-2") + "\r\n\r\n"));
  ASSERT_FALSE(stream.ReadUntil(2s, "text/event-stream"));
  std::this_thread::sleep_for(200ms);
  server.Revoke("op-to", "operator", "TO");
  ASSERT_FALSE(SwabInTorino(http, server.Token(), "Gallo").empty());
  EXPECT_FALSE(stream.ReadUntil(5s, "\"key\":\"001272\"")) << "closed: " << stream.received();
  EXPECT_NE(stream.received().find("\"key\":\"001272\""), std::string::npos) << stream.received();
}

}  // namespace
}  // namespace caseledger::testing
