// HTTPS on the listener: TLS 1.2+ served with a self-signed certificate made by the test,
// TLS 1.1 refused, and plain HTTP refused on non-loopback addresses unless insecure.
#include "api/server.h"
#include "tests/support/test_server.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <gtest/gtest.h>

#include <cstdlib>

namespace caseledger::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;

// A self-signed P-256 certificate for 127.0.0.1 in `dir`.
void MakeCertificate(const std::string& dir) {
  const std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
                          "-subj /CN=127.0.0.1 -keyout " + dir + "/key.pem -out " + dir +
                          "/cert.pem 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

// One GET over TLS with the protocol versions pinned to [min, max]; the status, or -1 when
// the handshake fails.
int GetOverTls(uint16_t port, const std::string& cert, int min_version, int max_version,
               const std::string& target = "/healthz") {
  asio::io_context ioc;
  ssl::context ctx(ssl::context::tls_client);
  // Lets this client offer old versions at all (Debian's default floor is TLS 1.2), so a
  // refusal can only come from the server.
  SSL_CTX_set_security_level(ctx.native_handle(), 0);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), min_version);
  SSL_CTX_set_max_proto_version(ctx.native_handle(), max_version);
  ctx.load_verify_file(cert);
  ctx.set_verify_mode(ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
  beast::get_lowest_layer(stream).connect({asio::ip::make_address("127.0.0.1"), port});
  beast::error_code ec;
  stream.handshake(ssl::stream_base::client, ec);
  if (ec) return -1;
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  stream.shutdown(ec);
  return static_cast<int>(res.result_int());
}

TEST(TlsTest, ServesHttpsWithTls12AndLaterAndRefusesTls11) {
  TempDir certs;
  MakeCertificate(certs.path());
  const std::string cert = certs.Sub("cert.pem");
  TestServer server([&](api::ServiceOptions& o) {
    o.server.tls_cert_path = cert;
    o.server.tls_key_path = certs.Sub("key.pem");
  });
  EXPECT_EQ(GetOverTls(server.port(), cert, TLS1_2_VERSION, TLS1_2_VERSION), 200);
  EXPECT_EQ(GetOverTls(server.port(), cert, TLS1_3_VERSION, TLS1_3_VERSION), 200);
  EXPECT_EQ(GetOverTls(server.port(), cert, TLS1_VERSION, TLS1_1_VERSION), -1);
  // The routes behave as over plain HTTP: no token, 401.
  EXPECT_EQ(GetOverTls(server.port(), cert, TLS1_2_VERSION, TLS1_3_VERSION, "/v1/rules"), 401);
  // Plain HTTP to the TLS port gets no answer.
  HttpClient plain(server.port());
  EXPECT_THROW(plain.Send("GET", "/healthz"), std::exception);
}

TEST(TlsTest, BadCertificateFilesStopTheStart) {
  TempDir certs;
  api::ServerOptions o;
  o.port = 0;
  o.tls_cert_path = certs.Sub("missing.pem");
  o.tls_key_path = certs.Sub("missing-key.pem");
  api::Router router;
  api::HttpServer server(o, router, {}, [] { return uint64_t{0}; }, nullptr);
  std::string error;
  EXPECT_FALSE(server.Start(&error));
  EXPECT_NE(error.find("certificate"), std::string::npos) << error;
}

TEST(TlsTest, PlainHttpIsForLoopbackUnlessInsecure) {
  api::ServerOptions o;
  o.host = "0.0.0.0";
  auto refused = api::ValidateListenOptions(o);
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->find("loopback"), std::string::npos);
  o.host = "192.0.2.10";
  EXPECT_TRUE(api::ValidateListenOptions(o));
  o.insecure = true;
  EXPECT_FALSE(api::ValidateListenOptions(o));
  o.insecure = false;
  o.tls_cert_path = "cert.pem";
  EXPECT_TRUE(api::ValidateListenOptions(o));  // a certificate without its key
  o.tls_key_path = "key.pem";
  EXPECT_FALSE(api::ValidateListenOptions(o));
  for (const char* loopback : {"127.0.0.1", "::1"}) {
    api::ServerOptions plain;
    plain.host = loopback;
    EXPECT_FALSE(api::ValidateListenOptions(plain)) << loopback;
  }
  api::ServerOptions bad;
  bad.host = "not-an-address";
  EXPECT_TRUE(api::ValidateListenOptions(bad));
}

}  // namespace
}  // namespace caseledger::testing
