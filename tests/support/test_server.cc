#include "tests/support/test_server.h"

#include "api/grants.h"
#include "api/jwt.h"
#include "app/reference_files.h"
#include "tests/support/build_paths.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace caseledger::testing {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

boost::json::value HttpReply::Json() const {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  return ec ? boost::json::value() : v;
}

std::string HttpReply::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

TestServer::TestServer(std::function<void(api::ServiceOptions&)> tune) {
  api::ServiceOptions options;
  options.data_dir = dir_.Sub("data");
  options.server.host = "127.0.0.1";
  options.server.port = 0;
  options.server.command_threads = 8;
  auto reference = app::LoadReferenceData(caseledger::TestSourceDir() + "/ops/reference");
  auto rules = app::LoadRuleBook(caseledger::TestSourceDir() + "/ops/rules");
  if (!reference || !rules) throw std::runtime_error("cannot load reference data or rules");
  options.reference = *reference;
  options.rules = std::make_shared<const domain::RuleBook>(std::move(*rules));
  if (tune) tune(options);
  std::string error;
  service_ = api::Service::Open(options, &error);
  if (!service_) throw std::runtime_error("cannot start server: " + error);
  thread_ = std::thread([this] { service_->Run(false); });
  // The default subject may do everything a test of commands and views needs: operate in
  // every ASL, administer, and audit. Scoping itself is tested with narrower subjects.
  // A read replica takes its grants from the primary's log (through NATS), never its own.
  if (options.replica) return;
  for (const auto& asl : options.reference->asls()) Grant(kDefaultSubject, "operator", asl.code);
  Grant(kDefaultSubject, "admin");
  Grant(kDefaultSubject, "auditor");
}

void TestServer::Grant(const std::string& subject, const std::string& role, const std::string& scope) {
  RecordGrant(subject, role, scope, false);
}

void TestServer::Revoke(const std::string& subject, const std::string& role, const std::string& scope) {
  RecordGrant(subject, role, scope, true);
}

void TestServer::RecordGrant(const std::string& subject, const std::string& role, const std::string& scope,
                             bool revoke) {
  static const auto reference = app::LoadReferenceData(caseledger::TestSourceDir() + "/ops/reference");
  auto grant = domain::ValidateGrant(role, scope, **reference);
  if (!grant) throw std::runtime_error("bad grant: " + grant.error().message);
  auto now = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch());
  auto change = api::RecordGrant(service_->store(), subject, *grant, revoke, {"test", "admin"},
                                 domain::Timestamp{now.count()});
  if (!change) throw std::runtime_error("cannot record the grant: " + change.error().message);
}

TestServer::~TestServer() {
  service_->Stop();
  thread_.join();
}

std::string RedatedDecember2021RuleSet() {
  std::ifstream in(caseledger::TestSourceDir() + "/ops/rules/2021-12-31.json");
  std::stringstream text;
  text << in.rdbuf();
  boost::json::value set = boost::json::parse(text.str());
  set.as_object()["effective_from"] = "2020-10-12";
  set.as_object()["id"] = "2021-12-31-as-of-2020-10-12";
  return boost::json::serialize(set);
}

std::string TestServer::Token(const std::string& subject) const {
  std::string error;
  auto key = api::LoadKeyFile(service_->auth_key_path(), &error);
  if (!key) throw std::runtime_error(error);
  api::TokenClaims claims;
  claims.subject = subject;
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch()).count();
  claims.issued_at = now;
  claims.expires_at = now + 3600;
  return api::SignToken(claims, *key);
}

struct HttpClient::Impl {
  boost::asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
};

HttpClient::HttpClient(uint16_t port) : impl_(std::make_unique<Impl>()) {
  impl_->stream.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
}

HttpClient::~HttpClient() {
  beast::error_code ec;
  impl_->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
}

HttpReply HttpClient::Send(const std::string& method, const std::string& target, const std::string& body,
                           const std::map<std::string, std::string>& headers) {
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  req.keep_alive(true);
  http::write(impl_->stream, req);
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  if (method == "HEAD") parser.skip(true);
  http::read(impl_->stream, impl_->buffer, parser);
  auto& res = parser.get();
  HttpReply reply;
  reply.status = res.result_int();
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    reply.headers[name] = std::string(f.value());
  }
  reply.body = res.body();
  return reply;
}

HttpReply HttpClient::Post(const std::string& target, const std::string& json, const std::string& token,
                           const std::map<std::string, std::string>& headers) {
  auto h = headers;
  h["Authorization"] = "Bearer " + token;
  h["Content-Type"] = "application/json";
  return Send("POST", target, json, h);
}

HttpReply HttpClient::Get(const std::string& target, const std::string& token,
                          const std::map<std::string, std::string>& headers) {
  auto h = headers;
  h["Authorization"] = "Bearer " + token;
  return Send("GET", target, "", h);
}

}  // namespace caseledger::testing
