// A keep-alive connection keeps its last verified bearer token (api/token_cache.h,
// VerifiedBearer), so that its repeats skip the shared cache. What a request may do is
// still decided per request: a grant revoked between two requests on one connection
// refuses the second, a token that expires between them is refused, and another token on
// the same connection is another caller. Each request here goes over one HttpClient's one
// connection.
#include "api/jwt.h"
#include "domain/time.h"
#include "domain/tax_code.h"
#include "tests/support/test_server.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace caseledger::testing {
namespace {

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class ConnectionTokenTest : public ::testing::Test {
 protected:
  // Registers a person resident in Torino (ASL TO) as the server's default subject; their id.
  std::string RegisterInTorino() {
    const std::string tc = domain::ComposeTaxCode("Verdi", "Anna", *domain::Date::Parse("1980-01-01"), 'F', "L219");
    auto reg = http_.Post("/v1/people",
                          R"({"tax_code":")" + tc + R"(","family_name":"Verdi","given_names":"Anna",)"
                          R"("birth_date":"1980-01-01","sex":"F","residence_istat":"001272"})",
                          server_.Token());
    EXPECT_EQ(reg.status, 201) << reg.body;
    return std::string(reg.Json().at("person_id").as_string());
  }
  // A token for `subject` signed with the server's key, expiring at `expires_at`.
  std::string TokenExpiringAt(const std::string& subject, int64_t expires_at) {
    std::string error;
    auto key = api::LoadKeyFile(server_.service().auth_key_path(), &error);
    EXPECT_TRUE(key) << error;
    api::TokenClaims claims;
    claims.subject = subject;
    claims.issued_at = NowSeconds() - 120;
    claims.expires_at = expires_at;
    return api::SignToken(claims, *key);
  }

  TestServer server_;
  HttpClient http_{server_.port()};
};

TEST_F(ConnectionTokenTest, AGrantRevokedBetweenTwoRequestsRefusesTheSecond) {
  const std::string id = RegisterInTorino();
  server_.Grant("op-to", "operator", "TO");
  const std::string token = server_.Token("op-to");
  auto read = http_.Get("/v1/people/" + id, token);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_NE(read.body.find("Verdi"), std::string::npos);

  server_.Revoke("op-to", "operator", "TO");
  auto refused = http_.Get("/v1/people/" + id, token);
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(refused.body.find("Verdi"), std::string::npos) << refused.body;

  server_.Grant("op-to", "operator", "AL");  // another ASL: the person is out of scope
  auto other = http_.Get("/v1/people/" + id, token);
  EXPECT_EQ(other.status, 404) << other.body;
  EXPECT_EQ(other.body.find("Verdi"), std::string::npos) << other.body;
}

// exp is checked with VerifyToken's 60 s of leeway: a token whose exp is 59 s ago holds for
// about one second more, then the same connection's next request is refused.
TEST_F(ConnectionTokenTest, ATokenThatExpiresMidConnectionIsRefused) {
  const std::string id = RegisterInTorino();
  const int64_t expires_at = NowSeconds() - 59;
  const std::string token = TokenExpiringAt(TestServer::kDefaultSubject, expires_at);
  auto read = http_.Get("/v1/people/" + id, token);
  ASSERT_EQ(read.status, 200) << read.body << " (a slow start: the token ran out before the first read)";
  while (NowSeconds() < expires_at + 61) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto refused = http_.Get("/v1/people/" + id, token);
  EXPECT_EQ(refused.status, 401) << refused.body;
  EXPECT_NE(refused.body.find("expired"), std::string::npos) << refused.body;
  EXPECT_EQ(refused.body.find("Verdi"), std::string::npos) << refused.body;
  EXPECT_EQ(http_.Get("/v1/people/" + id, server_.Token()).status, 200) << "a fresh token on the same connection";
}

// Another token on the same connection is another caller, and a token altered after one
// that verified is refused.
TEST_F(ConnectionTokenTest, EachTokenOnOneConnectionIsItsOwnCaller) {
  const std::string id = RegisterInTorino();
  server_.Grant("op-al", "operator", "AL");
  const std::string mine = server_.Token();
  const std::string theirs = server_.Token("op-al");
  EXPECT_EQ(http_.Get("/v1/people/" + id, mine).status, 200);
  EXPECT_EQ(http_.Get("/v1/people/" + id, theirs).status, 404) << "op-al is an operator of AL only";
  EXPECT_EQ(http_.Get("/v1/people/" + id, mine).status, 200);
  std::string altered = mine;
  const size_t payload = altered.find('.') + 1;
  altered[payload] = altered[payload] == 'e' ? 'f' : 'e';
  EXPECT_EQ(http_.Get("/v1/people/" + id, altered).status, 401);
  auto me = http_.Get("/v1/me", theirs);
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_NE(me.body.find("op-al"), std::string::npos) << me.body;
}

}  // namespace
}  // namespace caseledger::testing
