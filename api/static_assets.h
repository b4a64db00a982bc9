// The web console's files (web/), compiled into the binary and served at `/` by the same
// server as the API: same origin, so the console needs no CORS and its Content-Security-
// Policy can be strict. No Beast here.
#pragma once

#include "api/router.h"

#include <span>
#include <string>
#include <string_view>

namespace caseledger::api {

// One file: its URL path ("/", "/assets/app.js"), content type, bytes and the same bytes
// gzipped (gzip -9n at build time).
struct StaticAsset {
  std::string_view path;
  std::string_view content_type;
  std::string_view body;
  std::string_view gzip;
};

// The files web/CMakeLists.txt embedded (generated source in the build tree).
std::span<const StaticAsset> EmbeddedAssets();

// Sign-in as the console offers it. With both set, the console signs in with OpenID
// Connect (authorization code + PKCE) at `oidc_issuer` as the public client
// `oidc_client_id`; otherwise it asks for a pasted token (development).
struct ConsoleOptions {
  std::string oidc_issuer;
  std::string oidc_client_id;
};

// The Content-Security-Policy of every console answer: scripts, styles, fonts and images
// only from this origin (images also as data: URIs, which bootstrap-italia's CSS uses), no
// inline script or style, fetches to this origin and the identity provider's, no framing.
std::string ConsoleContentSecurityPolicy(const ConsoleOptions& options);

// GET/HEAD route per asset (unauthenticated; ETag per representation and 304, gzip when the
// client accepts it, CSP and nosniff), and GET /console/config.json with the sign-in settings.
void AddConsoleRoutes(Router& router, std::span<const StaticAsset> assets, const ConsoleOptions& options);

}  // namespace caseledger::api
