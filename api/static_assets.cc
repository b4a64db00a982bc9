#include "api/static_assets.h"

#include "api/content_coding.h"

#include <boost/json.hpp>
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <memory>

namespace caseledger::api {
namespace {

// The origin (scheme://host[:port]) of an issuer URL; empty when it has none.
std::string OriginOf(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  auto end = url.find('/', scheme + 3);
  return std::string(url.substr(0, end));
}

std::string Digest(std::string_view bytes) {
  unsigned char hash[16];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                     nullptr, 0);
  char hex[sizeof hash * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
  return hex;
}

bool Matches(std::string_view if_none_match, const std::string& etag) {
  if (if_none_match == "*") return true;
  return if_none_match.find(etag) != std::string_view::npos;
}

void SecurityHeaders(Response& r, const std::string& csp) {
  r.Set("Content-Security-Policy", csp);
  r.Set("X-Content-Type-Options", "nosniff");
  r.Set("Referrer-Policy", "no-referrer");
  r.Set("X-Frame-Options", "DENY");
  r.Set("Cross-Origin-Opener-Policy", "same-origin");
}

}  // namespace

std::string ConsoleContentSecurityPolicy(const ConsoleOptions& options) {
  std::string idp = OriginOf(options.oidc_issuer);
  std::string connect = "'self'" + (idp.empty() ? "" : " " + idp);
  return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self' data:; "
         "connect-src " + connect + "; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
}

void AddConsoleRoutes(Router& router, std::span<const StaticAsset> assets, const ConsoleOptions& options) {
  auto csp = std::make_shared<const std::string>(ConsoleContentSecurityPolicy(options));
  for (const StaticAsset& asset : assets) {
    const std::string tag = Digest(asset.body);
    auto etag = std::make_shared<const std::string>("\"" + tag + "\"");
    auto etag_gz = std::make_shared<const std::string>("\"" + tag + "-gz\"");
    router.Add({Method::kGet, std::string(asset.path), RouteKind::kQuery, false,
                [asset, etag, etag_gz, csp](const RouteRequest& req) {
                  const bool gz = !asset.gzip.empty() && AcceptsGzip(req.http.Header("accept-encoding"));
                  const std::string& tag = gz ? *etag_gz : *etag;
                  Response r;
                  r.content_type = asset.content_type;
                  r.Set("ETag", tag);
                  // Revalidate every time: a new binary must show its own console at once,
                  // and a 304 costs one round trip on loopback or the LAN.
                  r.Set("Cache-Control", "no-cache");
                  r.Set("Vary", "Accept-Encoding");
                  SecurityHeaders(r, *csp);
                  if (Matches(req.http.Header("if-none-match"), tag)) {
                    r.status = 304;
                    return r;
                  }
                  if (gz) r.Set("Content-Encoding", "gzip");
                  r.body = std::string(gz ? asset.gzip : asset.body);
                  return r;
                }});
  }
  boost::json::object config;
  if (!options.oidc_issuer.empty() && !options.oidc_client_id.empty()) {
    config["oidc"] = {{"issuer", options.oidc_issuer}, {"client_id", options.oidc_client_id}};
  } else {
    config["oidc"] = nullptr;
  }
  auto body = std::make_shared<const std::string>(boost::json::serialize(config));
  router.Add({Method::kGet, "/console/config.json", RouteKind::kQuery, false, [body, csp](const RouteRequest&) {
                Response r;
                r.body = *body;
                r.Set("Cache-Control", "no-cache");
                SecurityHeaders(r, *csp);
                return r;
              }});
}

}  // namespace caseledger::api
