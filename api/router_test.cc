#include "api/router.h"

#include <gtest/gtest.h>

namespace caseledger::api {
namespace {

Route R(Method m, std::string pattern) {
  Route r;
  r.method = m;
  r.pattern = std::move(pattern);
  r.handler = [](const RouteRequest&) { return Response{}; };
  return r;
}

// Routes are looked up by their first two segments; what a request matches, with which
// parameters, and the 404/405 split are those of trying every route in order.
class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add(R(Method::kGet, "/healthz"));
    router_.Add(R(Method::kPost, "/v1/people"));
    router_.Add(R(Method::kGet, "/v1/people"));
    router_.Add(R(Method::kGet, "/v1/people/{id}"));
    router_.Add(R(Method::kPost, "/v1/people/{id}/swabs"));
    router_.Add(R(Method::kGet, "/v1/{kind}/stats"));  // a parameter in the head: tried for every path
    router_.Add(R(Method::kPut, "/v1/people/{id}"));
    router_.Add(R(Method::kPost, "/v1/results:batch"));
    router_.Add(R(Method::kGet, "/v1/people/stats"));  // after the open route, which wins
    router_.Add(R(Method::kGet, "/"));
  }
  Router router_;
};

TEST_F(RouterTest, FindsTheFirstRouteInOrderWithItsParameters) {
  auto m = router_.Find(Method::kGet, "/v1/people/01ABC");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/v1/people/{id}");
  EXPECT_EQ(m.params.at("id"), "01ABC");

  m = router_.Find(Method::kPost, "/v1/people/01ABC/swabs");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/v1/people/{id}/swabs");

  m = router_.Find(Method::kGet, "/v1/people");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->method, Method::kGet);
  EXPECT_EQ(m.route->pattern, "/v1/people");

  // Both "/v1/people/{id}" and the open "/v1/{kind}/stats" match; the one added first wins.
  m = router_.Find(Method::kGet, "/v1/people/stats");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/v1/people/{id}");
  m = router_.Find(Method::kGet, "/v1/labs/stats");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/v1/{kind}/stats");
  EXPECT_EQ(m.params.at("kind"), "labs");

  m = router_.Find(Method::kPost, "/v1/results:batch");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/v1/results:batch");
  EXPECT_NE(router_.Find(Method::kGet, "/").route, nullptr);
  EXPECT_NE(router_.Find(Method::kHead, "/healthz").route, nullptr);  // HEAD finds GET
}

TEST_F(RouterTest, WrongMethodIs405WithEveryAllowedMethodAndUnknownPathIs404) {
  auto m = router_.Find(Method::kDelete, "/v1/people/01ABC");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(m.allow, "GET, PUT");
  m = router_.Find(Method::kDelete, "/v1/people");
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(m.allow, "POST, GET");
  EXPECT_EQ(router_.Find(Method::kGet, "/v1/peoplex").status, 404);
  EXPECT_EQ(router_.Find(Method::kGet, "/v1/people/").status, 404);  // an empty parameter
  EXPECT_EQ(router_.Find(Method::kGet, "/v2/people/01ABC").status, 404);
  EXPECT_EQ(router_.Find(Method::kGet, "/healthz/x").status, 404);
  // A head no route has: only the open routes, for the 405 too.
  m = router_.Find(Method::kPost, "/v1/labs/stats");
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(m.allow, "GET");
  EXPECT_EQ(router_.Find(Method::kHead, "/v1/labs/stats").route->pattern, "/v1/{kind}/stats");
}

// Parameters are held in place: each found by its name, decoded, surviving the moves and
// copies a request makes of them; a pattern with more than PathParams holds is refused.
TEST(PathParamsTest, ParametersAreFoundByNameAcrossMovesAndCopies) {
  Router router;
  router.Add(R(Method::kDelete, "/v1/grants/{user}/{role}/{scope}"));
  auto m = router.Find(Method::kDelete, "/v1/grants/ext%2Fbob/operator/ASL-TO-a-long-scope-past-sso");
  ASSERT_NE(m.route, nullptr);
  ASSERT_EQ(m.params.size(), 3u);
  PathParams moved = std::move(m.params);
  PathParams copied = moved;
  for (const PathParams* p : {&moved, &copied}) {
    EXPECT_EQ(p->at("user"), "ext/bob");
    EXPECT_EQ(p->at("role"), "operator");
    EXPECT_EQ(p->at("scope"), "ASL-TO-a-long-scope-past-sso");
    EXPECT_EQ(p->Find("id"), nullptr);
    EXPECT_THROW(p->at("id"), std::out_of_range);
  }
  copied = std::move(moved);
  EXPECT_EQ(copied.at("scope"), "ASL-TO-a-long-scope-past-sso");
  EXPECT_THROW(router.Add(R(Method::kGet, "/{a}/{b}/{c}/{d}/{e}")), std::invalid_argument);
}

}  // namespace
}  // namespace caseledger::api
