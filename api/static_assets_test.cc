// The console's files as the router serves them: content type, CSP, ETag per
// representation with 304, gzip only when accepted, and the sign-in settings.
#include "api/static_assets.h"

#include <gtest/gtest.h>

namespace caseledger::api {
namespace {

const StaticAsset kAssets[] = {
    {"/", "text/html; charset=utf-8", "<!doctype html>", "GZ-HTML"},
    {"/assets/font.woff2", "font/woff2", "wOF2", {}},
};

Response Get(const Router& router, const std::string& path,
             std::vector<std::pair<std::string, std::string>> headers = {}) {
  auto match = router.Find(Method::kGet, path);
  EXPECT_NE(match.route, nullptr) << path;
  EXPECT_FALSE(match.route->authenticated) << path;
  Request req;
  req.path = path;
  for (const auto& [name, value] : headers) req.headers.Add(name, value);
  return match.route->handler(RouteRequest{req, {}, {}});
}

TEST(StaticAssetsTest, ServesEachFileWithItsTypeAndAStrictPolicy) {
  Router router;
  AddConsoleRoutes(router, kAssets, {"https://idp.example.org/realms/piemonte", "console"});
  Response r = Get(router, "/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(r.body, "<!doctype html>");
  EXPECT_EQ(r.Header("Content-Encoding"), "");
  const std::string csp(r.Header("Content-Security-Policy"));
  EXPECT_NE(csp.find("script-src 'self';"), std::string::npos) << csp;
  EXPECT_NE(csp.find("style-src 'self';"), std::string::npos) << csp;
  EXPECT_NE(csp.find("connect-src 'self' https://idp.example.org;"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe"), std::string::npos) << csp;
  EXPECT_EQ(r.Header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(Get(router, "/assets/font.woff2").content_type, "font/woff2");
}

TEST(StaticAssetsTest, GzipOnlyWhenAcceptedAndNeverForFilesWithoutIt) {
  Router router;
  AddConsoleRoutes(router, kAssets, {});
  Response gz = Get(router, "/", {{"accept-encoding", "br, gzip;q=0.8"}});
  EXPECT_EQ(gz.body, "GZ-HTML");
  EXPECT_EQ(gz.Header("Content-Encoding"), "gzip");
  EXPECT_EQ(gz.Header("Vary"), "Accept-Encoding");
  EXPECT_EQ(Get(router, "/", {{"accept-encoding", "gzip;q=0, identity"}}).body, "<!doctype html>");
  EXPECT_EQ(Get(router, "/", {{"accept-encoding", "deflate"}}).body, "<!doctype html>");
  EXPECT_EQ(Get(router, "/assets/font.woff2", {{"accept-encoding", "gzip"}}).body, "wOF2");
}

TEST(StaticAssetsTest, EachRepresentationHasItsETagAnd304) {
  Router router;
  AddConsoleRoutes(router, kAssets, {});
  const std::string plain(Get(router, "/").Header("ETag"));
  const std::string gz(Get(router, "/", {{"accept-encoding", "gzip"}}).Header("ETag"));
  ASSERT_FALSE(plain.empty());
  EXPECT_NE(plain, gz);
  Response not_modified = Get(router, "/", {{"if-none-match", plain}});
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_TRUE(not_modified.body.empty());
  EXPECT_EQ(Get(router, "/", {{"if-none-match", gz}}).status, 200);  // the gzip tag, plain asked
  EXPECT_EQ(Get(router, "/", {{"if-none-match", "\"other\""}}).status, 200);
}

TEST(StaticAssetsTest, ConfigTellsWhetherToSignInAtAProvider) {
  Router with, without;
  AddConsoleRoutes(with, kAssets, {"https://idp.example.org", "caseledger-console"});
  AddConsoleRoutes(without, kAssets, {});
  EXPECT_EQ(Get(with, "/console/config.json").body,
            R"({"oidc":{"issuer":"https://idp.example.org","client_id":"caseledger-console"}})");
  EXPECT_EQ(Get(without, "/console/config.json").body, R"({"oidc":null})");
}

TEST(StaticAssetsTest, TheBinaryEmbedsTheConsole) {
  bool index = false, app = false;
  for (const StaticAsset& a : EmbeddedAssets()) {
    index |= a.path == "/" && a.body.find("/assets/app.js") != std::string_view::npos;
    app |= a.path == "/assets/app.js" && !a.gzip.empty() && a.content_type.starts_with("text/javascript");
  }
  EXPECT_TRUE(index);
  EXPECT_TRUE(app);
}

}  // namespace
}  // namespace caseledger::api
