// The published contract (api/openapi.json) against the server: the document lists exactly
// the routes the server registers, the server serves the document it was built with, and
// every request-body example in it is accepted by a real server.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "api/api_context.h"
#include "api/router.h"
#include "api/routes.h"
#include "app/reference_files.h"
#include "serving/live_views.h"
#include "replay/rules_log.h"
#include "domain/tax_code.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"
#include "tests/support/test_server.h"
#include "tests/support/build_paths.h"

#include <atomic>
#include <chrono>
#include <thread>

namespace caseledger::testing {
namespace {

namespace json = boost::json;
using Params = std::map<std::string, std::string>;

constexpr const char* kJson = "application/json";
constexpr const char* kCsv = "text/csv";
constexpr const char* kPlanned = "x-caseledger-planned";

json::value LoadDocument() {
  std::ifstream in(caseledger::TestSourceDir() + "/api/openapi.json", std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Follows a local "$ref" ("#/components/parameters/PersonId") to what it names.
const json::value& Resolve(const json::value& doc, const json::value& v) {
  if (!v.is_object() || !v.as_object().contains("$ref")) return v;
  std::string_view ref = v.at("$ref").as_string();
  return Resolve(doc, doc.at_pointer(ref.substr(1)));
}

// "/v1/people/{id}/swabs" with {"id": "01..."} -> "/v1/people/01.../swabs".
std::string Fill(const std::string& pattern, const Params& params) {
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '{') {
      out += pattern[i];
      continue;
    }
    size_t close = pattern.find('}', i);
    std::string name = pattern.substr(i + 1, close - i - 1);
    auto it = params.find(name);
    if (it == params.end()) throw std::runtime_error("no value for {" + name + "} in " + pattern);
    out += it->second;
    i = close;
  }
  return out;
}

bool Is2xx(const HttpReply& r) { return r.status >= 200 && r.status < 300; }

std::string Str(const json::value& v, const char* key) {
  return std::string(v.at(key).as_string());
}

// The request-body examples of the document's POST operations, posted one by one in the
// order a scenario needs them; remembers which were posted.
class RequestExamples {
 public:
  RequestExamples(const json::value& doc, HttpClient& http, std::string token)
      : http_(http), token_(std::move(token)) {
    for (const auto& [path, item] : doc.at("paths").as_object()) {
      const json::object* post =
          item.as_object().if_contains("post") ? &item.at("post").as_object() : nullptr;
      if (!post || post->contains(kPlanned) || !post->contains("requestBody")) continue;
      for (const auto& [media, content] :
           Resolve(doc, post->at("requestBody")).at("content").as_object()) {
        if (content.as_object().contains("example"))
          examples_[{std::string(path), std::string(media)}] = content.at("example");
      }
    }
  }

  const json::value& Example(const std::string& path, const std::string& media = kJson) const {
    auto it = examples_.find({path, media});
    if (it == examples_.end())
      throw std::runtime_error("no " + media + " example for POST " + path);
    return it->second;
  }

  HttpReply Post(const std::string& path, const Params& params, const std::string& media = kJson) {
    const json::value& example = Example(path, media);
    used_.insert({path, media});
    std::string body =
        example.is_string() ? std::string(example.as_string()) : json::serialize(example);
    // Send, not Post: Post always labels the body application/json.
    return http_.Send("POST", Fill(path, params), body,
                      {{"Authorization", "Bearer " + token_}, {"Content-Type", media}});
  }

  std::vector<std::string> Unused() const {
    std::vector<std::string> out;
    for (const auto& [key, example] : examples_) {
      if (!used_.count(key)) out.push_back("POST " + key.first + " (" + key.second + ")");
    }
    return out;
  }

 private:
  HttpClient& http_;
  std::string token_;
  std::map<std::pair<std::string, std::string>, json::value> examples_;
  std::set<std::pair<std::string, std::string>> used_;
};

// The swab ids a results:batch example reports on (JSON rows or the CSV swab_id column).
std::vector<std::string> BatchSwabIds(const json::value& example) {
  std::vector<std::string> ids;
  if (example.is_object()) {
    for (const auto& row : example.at("results").as_array()) ids.push_back(Str(row, "swab_id"));
    return ids;
  }
  std::istringstream in(std::string(example.as_string()));
  std::string line;
  int column = -1;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> cells;
    std::stringstream cs(line);
    for (std::string cell; std::getline(cs, cell, ',');) cells.push_back(cell);
    if (column < 0) {
      for (size_t i = 0; i < cells.size(); ++i) {
        if (cells[i] == "swab_id") column = static_cast<int>(i);
      }
      continue;
    }
    ids.push_back(cells.at(column));
  }
  return ids;
}

TEST(OpenApiTest, DocumentListsExactlyTheRegisteredRoutes) {
  json::value doc = LoadDocument();
  api::ApiContext ctx;  // handlers are never called: only the route table is read
  api::Router router;
  api::AddAllRoutes(router, ctx);

  std::set<std::string> registered, documented;
  std::map<std::string, bool> authenticated;
  for (const api::Route& r : router.routes()) {
    std::string key = Lower(api::ToString(r.method)) + " " + r.pattern;
    EXPECT_TRUE(registered.insert(key).second) << "registered twice: " << key;
    authenticated[key] = r.authenticated;
  }
  const json::array& global_security = doc.at("security").as_array();
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    for (const auto& [method, op] : item.as_object()) {
      std::string key = std::string(method) + " " + std::string(path);
      documented.insert(key);
      // security: [] on the open routes, the document's bearer requirement on the others.
      const json::value* security = op.as_object().if_contains("security");
      bool needs_token = security ? !security->as_array().empty() : !global_security.empty();
      auto it = authenticated.find(key);
      if (it != authenticated.end()) {
        EXPECT_EQ(needs_token, it->second) << "security of " << key;
      }
    }
  }
  for (const auto& key : registered)
    EXPECT_TRUE(documented.count(key)) << "not documented: " << key;
  for (const auto& key : documented)
    EXPECT_TRUE(registered.count(key)) << "not registered: " << key;
}

TEST(OpenApiTest, ServerServesTheDocument) {
  TestServer server;
  HttpClient http(server.port());
  auto served = http.Send("GET", "/v1/openapi.json");  // no token: the contract is public
  ASSERT_EQ(served.status, 200) << served.body;
  EXPECT_EQ(served.Header("content-type"), kJson);
  EXPECT_EQ(json::parse(served.body), LoadDocument());
  auto again = http.Send("GET", "/v1/openapi.json", "", {{"If-None-Match", served.Header("etag")}});
  EXPECT_EQ(again.status, 304);
}

// Operations marked x-caseledger-planned are registered but not built: they answer 501,
// and only they do (every POST is sent an empty object; built ones reject it otherwise).
TEST(OpenApiTest, PlannedOperationsAndOnlyThemAnswerNotImplemented) {
  json::value doc = LoadDocument();
  TestServer server;
  HttpClient http(server.port());
  const std::string token = server.Token();
  int posts = 0;
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    for (const auto& [method, op] : item.as_object()) {
      if (method != "post") continue;
      ++posts;
      Params params;
      if (const auto* list = op.as_object().if_contains("parameters")) {
        for (const auto& p : list->as_array()) {
          const json::value& param = Resolve(doc, p);
          if (param.at("in") == "path") {
            params[Str(param, "name")] = param.as_object().contains("example") ? Str(param, "example") : "x";
          }
        }
      }
      std::string target = Fill(std::string(path), params);
      auto reply = http.Post(target, "{}", token);
      if (op.as_object().contains(kPlanned)) {
        EXPECT_EQ(reply.status, 501) << method << " " << target << ": " << reply.body;
      } else {
        EXPECT_NE(reply.status, 501) << method << " " << target << ": " << reply.body;
      }
    }
  }
  EXPECT_GE(posts, 10);
}

// Every request-body example, in the order a case unfolds, against a real server. Path
// parameters come from the answers of earlier examples (POST /v1/rules last: it rebuilds
// the views under the adopted set). Setup requests that are not examples: a second person (the contact, a student), a discharge
// before the case is closed as recovered (the hospitalisation example is an admission), and
// the swabs, requested and collected, that the results:batch examples report on.
TEST(OpenApiTest, EveryRequestExampleIsAccepted) {
  json::value doc = LoadDocument();
  TestServer server;
  HttpClient http(server.port());
  const std::string token = server.Token();
  RequestExamples examples(doc, http, token);
  auto post = [&](const std::string& path, const Params& params, const std::string& media = kJson) {
    HttpReply r = examples.Post(path, params, media);
    EXPECT_TRUE(Is2xx(r)) << "POST " << path << " (" << media << ") example: " << r.status << " "
                          << r.body;
    return r;
  };
  auto setup = [&](const std::string& target, const std::string& body) {
    HttpReply r = http.Post(target, body, token);
    EXPECT_EQ(r.status, 201) << "setup POST " << target << ": " << r.body;
    return r;
  };

  // The case.
  auto registered = post("/v1/people", {});
  ASSERT_EQ(registered.status, 201);
  const std::string a = Str(registered.Json(), "person_id");
  // The contact: the registration example with another person's data.
  json::object contact = examples.Example("/v1/people").as_object();
  contact["family_name"] = "Esposito";
  contact["given_names"] = "Luca";
  contact["birth_date"] = "2006-03-14";
  contact["sex"] = "M";
  contact["tax_code"] =
      domain::ComposeTaxCode("Esposito", "Luca", *domain::Date::Parse("2006-03-14"), 'M', "L219");
  auto contact_registered = setup("/v1/people", json::serialize(contact));
  ASSERT_EQ(contact_registered.status, 201);
  const std::string b = Str(contact_registered.Json(), "person_id");

  auto swab_requested = post("/v1/people/{id}/swabs", {{"id", a}});
  ASSERT_EQ(swab_requested.status, 201);
  const Params swab{{"swab", Str(swab_requested.Json(), "swab_id")}};
  post("/v1/swabs/{swab}/collection", swab);
  post("/v1/swabs/{swab}/handover", swab);
  post("/v1/swabs/{swab}/result", swab);
  post("/v1/swabs/{swab}/correction", swab);

  auto isolation = post("/v1/people/{id}/isolation", {{"id", a}});
  ASSERT_EQ(isolation.status, 201);
  const std::string measure =
      std::to_string(isolation.Json().at("measure_id").to_number<uint64_t>());
  post("/v1/people/{id}/measures/{m}/end", {{"id", a}, {"m", measure}});

  post("/v1/people/{id}/contacts", {{"id", b}});
  post("/v1/people/{id}/quarantine", {{"id", b}});
  post("/v1/people/{id}/enrolments", {{"id", b}});
  post("/v1/people/{id}/enrolments:leave", {{"id", b}});

  post("/v1/people/{id}/hospitalisation", {{"id", a}});
  setup(
      "/v1/people/" + a + "/hospitalisation",
      R"({"kind":"discharge","at":"2020-10-29T11:00:00+01:00","facility":"Ospedale Amedeo di Savoia, Torino"})");
  post("/v1/people/{id}/closure", {{"id", a}});
  post("/v1/people/{id}/vaccinations", {{"id", a}});

  const json::value& enrolment = examples.Example("/v1/people/{id}/enrolments");
  // Where the school is (the school registry, docs/security.md): whose operators act on it.
  std::ofstream(server.data_dir() + "/data/schools.csv") << "school,istat\n" << Str(enrolment, "school") << ",001272\n";
  post("/v1/schools/{school}/classes/{class}/quarantine",
       {{"school", Str(enrolment, "school")}, {"class", Str(enrolment, "class")}});

  for (const char* media : {kJson, kCsv}) {
    std::vector<std::string> ids = BatchSwabIds(examples.Example("/v1/results:batch", media));
    ASSERT_FALSE(ids.empty()) << media;
    for (const auto& id : ids) {
      setup("/v1/people/" + b + "/swabs",
            R"({"requested_at":"2020-10-01T08:00:00Z","swab_id":")" + id + R"(","kind":"antigen","reason":"contact"})");
      setup("/v1/swabs/" + id + "/collection", R"({"lab_id":"LAB-TO-AMEDEO","collected_at":"2020-10-26T10:00:00+01:00"})");
    }
    auto batch = post("/v1/results:batch", {}, media);
    ASSERT_EQ(batch.status, 200) << batch.body;
    EXPECT_EQ(batch.Json().at("accepted").to_number<size_t>(), ids.size())
        << media << ": " << batch.body;
    EXPECT_EQ(batch.Json().at("rejected").to_number<size_t>(), 0u) << media << ": " << batch.body;
  }

  post("/v1/people/{id}/residence", {{"id", a}});
  post("/v1/people/{id}/gp", {{"id", a}});
  post("/v1/people/{id}/erasure", {{"id", a}});
  auto adopted = post("/v1/rules", {});
  ASSERT_EQ(adopted.status, 201) << adopted.body;
  EXPECT_TRUE(server.service().views().WaitIdle(std::chrono::seconds(30)));
  EXPECT_EQ(server.service().views().Current()->rules_position,
            adopted.Json().at("position").to_number<uint64_t>());

  std::string unused;
  for (const auto& u : examples.Unused()) unused += "\n  " + u;
  EXPECT_TRUE(unused.empty()) << "examples not exercised by this test (add them to the scenario):"
                              << unused;

  // The scenario left the state the examples describe.
  auto person = http.Get("/v1/people/" + a, token).Json();
  EXPECT_EQ(person.at("case").at("closure").at("outcome"), "recovered");
  EXPECT_TRUE(person.at("personal").at("erased").as_bool());
  EXPECT_EQ(Str(person.at("residence"), "municipality"), "Moncalieri");
}

// An answer against its schema: every member it holds is documented with the JSON type it
// has, and every required member is there (nested objects alike).
void ExpectMatchesSchema(const json::value& doc, const json::value& schema_ref, const json::value& answer,
                         const std::string& where) {
  const json::object& schema = Resolve(doc, schema_ref).as_object();
  const std::string type(schema.at("type").as_string());
  if (type == "object") {
    ASSERT_TRUE(answer.is_object()) << where << ": " << json::serialize(answer);
    if (!schema.contains("properties")) return;
    const json::object& properties = schema.at("properties").as_object();
    for (const auto& [key, value] : answer.as_object()) {
      const json::value* member = properties.if_contains(key);
      EXPECT_NE(member, nullptr) << where << "." << key << " is not documented";
      if (member) ExpectMatchesSchema(doc, *member, value, where + "." + std::string(key));
    }
    if (const json::value* required = schema.if_contains("required")) {
      for (const json::value& key : required->as_array())
        EXPECT_TRUE(answer.as_object().contains(key.as_string())) << where << " lacks " << key.as_string();
    }
  } else if (type == "integer") {
    EXPECT_TRUE(answer.is_int64() || answer.is_uint64()) << where << ": " << json::serialize(answer);
  } else if (type == "number") {
    EXPECT_TRUE(answer.is_number()) << where << ": " << json::serialize(answer);
  } else if (type == "string") {
    EXPECT_TRUE(answer.is_string()) << where << ": " << json::serialize(answer);
  } else if (type == "boolean") {
    EXPECT_TRUE(answer.is_bool()) << where << ": " << json::serialize(answer);
  }
}

// /readyz against the document's Readiness schema, idle and while a rebuild under newly
// adopted rules runs (held before its switch, where a crash would leave it).
TEST(OpenApiTest, ReadinessAnswersAsDocumentedAlsoDuringARebuild) {
  const json::value doc = LoadDocument();
  const json::value& readiness = doc.at_pointer("/components/schemas/Readiness");
  TempDir dir;
  auto store = eventstore::EventStore::Open(StoreOptionsIn(dir.path()));
  ASSERT_TRUE(store) << store.error().message;
  auto shipped = app::LoadRuleBook(app::DefaultRulesDir());
  ASSERT_TRUE(shipped) << shipped.error().message;
  ASSERT_TRUE(replay::BootstrapRules(**store, *shipped));
  auto reference = app::LoadReferenceData(app::DefaultReferenceDir());
  ASSERT_TRUE(reference) << reference.error().message;
  std::atomic<bool> release{false};
  serving::LiveViewsOptions views_options;
  views_options.data_dir = dir.path();
  views_options.reference = *reference;
  views_options.rebuild_nice = 0;
  views_options.before_switch = [&] {
    while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return true;
  };
  auto views = serving::LiveViews::Open(**store, views_options);
  ASSERT_TRUE(views) << views.error().message;
  api::ApiContext ctx;
  ctx.store = store->get();
  ctx.views = views->get();
  api::Router router;
  api::AddOpsRoutes(router, ctx);
  auto readyz = [&] {
    api::Request request;
    request.target = request.path = "/readyz";
    auto match = router.Find(api::Method::kGet, "/readyz");
    return json::parse(match.route->handler(api::RouteRequest{request, {}, {}}).body);
  };
  ExpectMatchesSchema(doc, readiness, readyz(), "readyz");

  auto candidate = domain::RuleSet::Parse(RedatedDecember2021RuleSet());
  ASSERT_TRUE(candidate) << candidate.error().message;
  auto adopted = replay::RecordAdoption(**store, *candidate, {});
  ASSERT_TRUE(adopted) << adopted.error().message;
  (*views)->Adopt(adopted->last_position);
  ASSERT_TRUE((*views)->status().rebuilding);
  const json::value during = readyz();
  release.store(true);
  ASSERT_TRUE(during.as_object().contains("rebuild")) << json::serialize(during);
  ExpectMatchesSchema(doc, readiness, during, "readyz");
  ASSERT_TRUE((*views)->WaitIdle(std::chrono::seconds(60)));
  ExpectMatchesSchema(doc, readiness, readyz(), "readyz");
}

}  // namespace
}  // namespace caseledger::testing
