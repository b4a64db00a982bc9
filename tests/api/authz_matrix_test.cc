// Object-level authorization over HTTP (docs/security.md, OWASP API1/API5): every route, for every
// role, on an object inside and outside the caller's scope, answers the expected status.
// "ok" cells are run for real and must pass the gate (2xx, or 422 when the domain then
// refuses a repeated command); refusals must be exactly 403 (role never allowed) or 404
// (object outside the scope, so ids cannot be probed).
#include "domain/tax_code.h"
#include "eventstore/access_log.h"
#include "tests/support/test_server.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include <fstream>

namespace caseledger::testing {
namespace {

constexpr int kOk = 0;  // passes the gate: 2xx, or 422/409 from the domain afterwards

struct Fixture {
  TestServer server;
  HttpClient http{server.port()};
  std::string in_to, in_al;    // people resident in Torino (ASL TO) and Alessandria (ASL AL)
  std::string tax_to;
  std::map<std::string, std::string> tokens;
  uint64_t position = 0;
  int swab = 0;

  std::string Register(const std::string& family, const std::string& istat, const std::string& token) {
    const char* birth = family == "Rossi" ? "1980-01-01" : "1981-02-02";
    std::string tc = domain::ComposeTaxCode(family, "Anna", *domain::Date::Parse(birth), 'F', "L219");
    auto r = http.Post("/v1/people", R"({"tax_code":")" + tc + R"(","family_name":")" + family +
                       R"(","given_names":"Anna","birth_date":")" + birth + R"(","sex":"F","residence_istat":")" +
                       istat + R"("})", token);
    EXPECT_EQ(r.status, 201) << r.body;
    if (family == "Rossi") tax_to = tc;
    return r.status == 201 ? std::string(r.Json().at("person_id").as_string()) : "";
  }
  uint64_t Post(const std::string& target, const std::string& body) {
    auto r = http.Post(target, body, tokens["admin-all"]);
    EXPECT_EQ(r.status, 201) << target << " " << r.body;
    if (r.status == 201) position = std::max(position, r.Json().at("position").to_number<uint64_t>());
    return position;
  }
};

struct Cell {
  std::string user;
  int status;
};

class AuthzMatrixTest : public ::testing::Test {
 protected:
  void SetUp() override {
    f_ = std::make_unique<Fixture>();
    TestServer& s = f_->server;
    f_->tokens["admin-all"] = s.Token();  // operator everywhere + admin + auditor
    auto user = [&](const std::string& name, const std::string& role, const std::string& scope) {
      if (!role.empty()) s.Grant(name, role, scope);
      f_->tokens[name] = s.Token(name);
    };
    user("op-to", "operator", "TO");
    user("op-al", "operator", "AL");
    user("lab-1", "lab", "LAB-TO1");
    user("lab-2", "lab", "LAB-AL2");
    user("gp-1", "gp", "GP0012720001");
    user("gp-2", "gp", "GP0060030002");
    user("school-1", "school", "TOIC81200X");
    user("school-2", "school", "ALIC80000B");
    user("mayor-to", "mayor", "001272");
    user("mayor-al", "mayor", "006003");
    user("auditor", "auditor", "");
    user("admin", "admin", "");
    user("nobody", "", "");

    const std::string& admin = f_->tokens["admin-all"];
    // Where the two schools are: an operator's school scope is the school's municipality.
    std::ofstream(s.data_dir() + "/data/schools.csv") << "school,istat\nTOIC81200X,001272\nALIC80000B,006003\n";
    f_->in_to = f_->Register("Rossi", "001272", admin);
    f_->in_al = f_->Register("Verdi", "006003", admin);
    f_->Post("/v1/people/" + f_->in_to + "/gp", R"({"gp_id":"GP0012720001"})");
    f_->Post("/v1/people/" + f_->in_al + "/gp", R"({"gp_id":"GP0060030002"})");
    f_->Post("/v1/people/" + f_->in_to + "/enrolments", R"({"school":"TOIC81200X","class":"3B","role":"student"})");
    f_->Post("/v1/people/" + f_->in_al + "/enrolments", R"({"school":"ALIC80000B","class":"1A","role":"student"})");
    f_->Post("/v1/people/" + f_->in_to + "/swabs", R"({"requested_at":"2020-10-01T08:00:00Z","swab_id":"SW-TO-1","kind":"molecular"})");
    f_->Post("/v1/swabs/SW-TO-1/collection", R"({"lab_id":"LAB-TO1","collected_at":"2020-10-20T08:00:00Z"})");
    f_->Post("/v1/swabs/SW-TO-1/result", R"({"outcome":"negative","lab_id":"LAB-TO1","reported_at":"2020-10-21T10:00:00Z"})");
    f_->Post("/v1/people/" + f_->in_al + "/swabs", R"({"requested_at":"2020-10-01T08:00:00Z","swab_id":"SW-AL-1","kind":"molecular"})");
    f_->Post("/v1/swabs/SW-AL-1/collection", R"({"lab_id":"LAB-AL2","collected_at":"2020-10-20T08:00:00Z"})");
    f_->Post("/v1/swabs/SW-AL-1/result", R"({"outcome":"negative","lab_id":"LAB-AL2","reported_at":"2020-10-21T10:00:00Z"})");
  }

  // Runs one request as every user in `cells` and checks the status.
  void Check(const std::string& method, const std::function<std::string()>& target,
             const std::function<std::string()>& body, const std::vector<Cell>& cells) {
    for (const Cell& c : cells) {
      SCOPED_TRACE(method + " as " + c.user);
      const std::string t = target();
      HttpReply r = method == "GET"    ? f_->http.Get(t, f_->tokens.at(c.user))
                    : method == "POST" ? f_->http.Post(t, body(), f_->tokens.at(c.user))
                                       : f_->http.Send(method, t, "", {{"Authorization", "Bearer " + f_->tokens.at(c.user)}});
      if (c.status == kOk) {
        EXPECT_TRUE((r.status >= 200 && r.status < 300) || r.status == 422 || r.status == 409)
            << t << " -> " << r.status << " " << r.body;
      } else {
        EXPECT_EQ(r.status, c.status) << t << " " << r.body;
      }
    }
  }
  std::function<std::string()> Fixed(std::string s) { return [s] { return s; }; }
  std::string Views(const std::string& path) {
    return path + (path.find('?') == std::string::npos ? "?" : "&") + "day=2020-10-21&min_position=" +
           std::to_string(f_->position);
  }

  std::unique_ptr<Fixture> f_;
};

TEST_F(AuthzMatrixTest, PersonReads) {
  const std::vector<Cell> cells = {{"op-to", kOk},     {"op-al", 404},    {"gp-1", kOk},      {"gp-2", 404},
                                   {"auditor", kOk},   {"lab-1", 403},    {"school-1", 403},  {"mayor-to", 403},
                                   {"admin", 403},     {"nobody", 403}};
  Check("GET", Fixed("/v1/people/" + f_->in_to), {}, cells);
  Check("GET", Fixed("/v1/people/" + f_->in_to + "?as_of=2030-01-01T00:00:00Z"), {}, cells);
  Check("GET", Fixed("/v1/people?tax_code=" + f_->tax_to), {}, cells);
  Check("GET", Fixed("/v1/people/" + f_->in_to + "/history"), {}, cells);
  Check("GET", Fixed("/v1/people/" + f_->in_to + "/access-log"), {},
        {{"op-to", kOk}, {"op-al", 404}, {"auditor", kOk}, {"gp-1", 403}, {"lab-1", 403}, {"mayor-to", 403},
         {"admin", 403}, {"nobody", 403}});
  // A person that does not exist looks exactly like one outside the scope.
  Check("GET", Fixed("/v1/people/01HZZZZZZZZZZZZZZZZZZZZZZZ"), {}, {{"op-to", 404}, {"op-al", 404}, {"auditor", 404}});
}

TEST_F(AuthzMatrixTest, PersonCommands) {
  const std::string to = "/v1/people/" + f_->in_to;
  const std::vector<Cell> operator_only = {{"op-to", kOk}, {"op-al", 404},   {"gp-1", 403},  {"lab-1", 403},
                                           {"auditor", 403}, {"admin", 403}, {"mayor-to", 403}, {"school-1", 403},
                                           {"nobody", 403}};
  Check("POST", Fixed(to + "/residence"), Fixed(R"({"istat":"001272","address":"Via Po 1"})"), operator_only);
  Check("POST", Fixed(to + "/gp"), Fixed(R"({"gp_id":"GP0012720001"})"), operator_only);
  Check("POST", Fixed(to + "/vaccinations"), Fixed(R"({"dose":1,"date":"2021-05-01","product":"Comirnaty"})"), operator_only);
  Check("POST", Fixed(to + "/quarantine"), Fixed(R"({"start":"2020-10-22","reason":"close contact"})"), operator_only);
  Check("POST", Fixed(to + "/contacts"), Fixed(R"({"contact_of":")" + f_->in_al + R"(","last_exposure":"2020-10-19"})"),
        operator_only);
  Check("POST", Fixed("/v1/people"),
        Fixed(R"({"tax_code":")" + domain::ComposeTaxCode("Neri", "Luca", *domain::Date::Parse("1970-02-02"), 'M', "L219") +
              R"(","family_name":"Neri","given_names":"Luca","birth_date":"1970-02-02","sex":"M","residence_istat":"001272"})"),
        {{"op-al", 403}, {"gp-1", 403}, {"lab-1", 403}, {"auditor", 403}, {"admin", 403}, {"nobody", 403}, {"op-to", 201}});
  // Swab requests: the operator and the person's own GP.
  auto new_swab = [this] { return R"({"requested_at":"2020-10-01T08:00:00Z","swab_id":"SW-N-)" + std::to_string(++f_->swab) + R"(","kind":"antigen"})"; };
  Check("POST", Fixed(to + "/swabs"), new_swab,
        {{"op-to", 201}, {"gp-1", 201}, {"gp-2", 404}, {"op-al", 404}, {"lab-1", 403}, {"auditor", 403}, {"nobody", 403}});
  // Results: the lab named in the result (only in its own name), and the operator.
  Check("POST", Fixed("/v1/swabs/SW-TO-1/correction"), Fixed(R"({"outcome":"positive","reason":"mix-up"})"),
        {{"lab-2", 404}, {"gp-1", 403}, {"op-al", 404}, {"auditor", 403}, {"lab-1", 201}});
  Check("POST", Fixed("/v1/swabs/SW-AL-1/correction"), Fixed(R"({"outcome":"positive","reason":"x","lab_id":"LAB-TO1"})"),
        {{"lab-1", 404}, {"op-to", 404}});
  // Erasure: admin only.
  Check("POST", Fixed("/v1/people/" + f_->in_al + "/erasure"), Fixed(R"({"legal_reason":"GDPR art. 17 request"})"),
        {{"op-al", 403}, {"auditor", 403}, {"gp-2", 403}, {"nobody", 403}});
  // A class quarantine: an operator of the ASL of the school's municipality.
  Check("POST", Fixed("/v1/schools/TOIC81200X/classes/3B/quarantine"), Fixed(R"({"start":"2020-10-22","reason":"two cases"})"),
        {{"op-al", 404}, {"school-1", 403}, {"auditor", 403}, {"op-to", 201}});
}

TEST_F(AuthzMatrixTest, SwabsByBarcodeAndBatches) {
  Check("POST", Fixed("/v1/people/" + f_->in_to + "/swabs"), Fixed(R"({"requested_at":"2020-10-01T08:00:00Z","swab_id":"SW-TO-2","kind":"antigen"})"),
        {{"op-to", 201}});
  // Any laboratory collects, in its own name only; then only the laboratory holding the
  // sample reports it, or hands it over (audit of 2026-12, finding 5).
  Check("POST", Fixed("/v1/swabs/SW-TO-2/collection"), Fixed(R"({"lab_id":"LAB-TO1","collected_at":"2020-10-21T08:00:00Z"})"),
        {{"gp-1", 403}, {"op-al", 404}, {"auditor", 403}, {"lab-2", 404}});
  Check("POST", Fixed("/v1/swabs/SW-TO-2/collection"), Fixed(R"({"collected_at":"2020-10-21T08:00:00Z"})"),
        {{"lab-2", 201}});
  Check("POST", Fixed("/v1/swabs/SW-TO-2/result"),
        Fixed(R"({"outcome":"negative","lab_id":"LAB-TO1","reported_at":"2020-10-21T12:00:00Z"})"),
        {{"lab-2", 404}, {"gp-1", 403}, {"op-al", 404}, {"lab-1", 404}});
  Check("POST", Fixed("/v1/swabs/SW-TO-2/handover"), Fixed(R"({"to_lab":"LAB-TO1"})"),
        {{"lab-1", 404}, {"gp-1", 403}, {"op-al", 404}, {"lab-2", 201}});
  Check("POST", Fixed("/v1/swabs/SW-TO-2/result"),
        Fixed(R"({"outcome":"negative","lab_id":"LAB-TO1","reported_at":"2020-10-21T12:00:00Z"})"),
        {{"lab-2", 404}, {"lab-1", 201}});
  // A batch runs every row through the same checks: lab-2 may not report in LAB-TO1's name.
  Check("POST", Fixed("/v1/people/" + f_->in_to + "/swabs"), Fixed(R"({"requested_at":"2020-10-01T08:00:00Z","swab_id":"SW-TO-3","kind":"antigen"})"),
        {{"op-to", 201}});
  Check("POST", Fixed("/v1/swabs/SW-TO-3/collection"), Fixed(R"({"lab_id":"LAB-TO1","collected_at":"2020-10-21T08:00:00Z"})"),
        {{"op-to", 201}});
  auto batch = f_->http.Post("/v1/results:batch",
                             R"({"results":[{"swab_id":"SW-TO-3","outcome":"negative","lab_id":"LAB-TO1","reported_at":"2020-10-21T12:00:00Z"}]})",
                             f_->tokens["lab-2"]);
  ASSERT_LT(batch.status, 500) << batch.body;
  EXPECT_NE(batch.body.find("404"), std::string::npos) << batch.body;
  EXPECT_EQ(batch.body.find("\"status\":201"), std::string::npos) << batch.body;
}

TEST_F(AuthzMatrixTest, Views) {
  Check("GET", [&] { return Views("/v1/views/municipalities/001272"); }, {},
        {{"op-to", 200}, {"op-al", 404}, {"mayor-to", 200}, {"mayor-al", 404}, {"auditor", 200}, {"admin", 200},
         {"gp-1", 403}, {"lab-1", 403}, {"school-1", 403}, {"nobody", 403}});
  Check("GET", [&] { return Views("/v1/views/municipalities"); }, {},
        {{"op-to", 200}, {"mayor-to", 200}, {"auditor", 200}, {"gp-1", 403}, {"lab-1", 403}, {"nobody", 403}});
  Check("GET", [&] { return Views("/v1/views/schools/TOIC81200X"); }, {},
        {{"school-1", 200}, {"school-2", 404}, {"op-to", 200}, {"op-al", 404}, {"auditor", 200}, {"gp-1", 403},
         {"mayor-to", 403}, {"lab-1", 403}, {"nobody", 403}});
  Check("GET", [&] { return Views("/v1/views/gps/GP0012720001"); }, {},
        {{"gp-1", 200}, {"gp-2", 404}, {"auditor", 200}, {"op-to", 403}, {"admin", 403}, {"mayor-to", 403},
         {"nobody", 403}});
  Check("GET", [&] { return Views("/v1/views/labs/LAB-TO1"); }, {},
        {{"lab-1", 200}, {"lab-2", 404}, {"op-to", 200}, {"auditor", 200}, {"gp-1", 403}, {"mayor-to", 403},
         {"nobody", 403}});
  for (const char* region : {"/v1/views/region", "/v1/views/region/daily.csv"}) {
    Check("GET", [&] { return Views(region); }, {},
          {{"op-to", 200}, {"lab-1", 200}, {"gp-1", 200}, {"school-1", 200}, {"mayor-to", 200}, {"auditor", 200},
           {"admin", 200}, {"nobody", 403}});
  }
}

TEST_F(AuthzMatrixTest, ListsAreFilteredToTheScope) {
  auto op = f_->http.Get(Views("/v1/views/municipalities"), f_->tokens["op-to"]);
  ASSERT_EQ(op.status, 200) << op.body;
  const boost::json::value body = op.Json();
  const auto& list = body.at("municipalities").as_array();
  ASSERT_FALSE(list.empty());
  for (const auto& m : list) EXPECT_EQ(m.at("asl").as_string(), "TO") << m;
  auto mayor = f_->http.Get(Views("/v1/views/municipalities"), f_->tokens["mayor-al"]);
  ASSERT_EQ(mayor.status, 200) << mayor.body;
  ASSERT_EQ(mayor.Json().at("municipalities").as_array().size(), 1u);
  EXPECT_EQ(mayor.Json().at("municipalities").as_array()[0].at("istat").as_string(), "006003");
}

TEST_F(AuthzMatrixTest, MayorSeesSmallCountsSuppressed) {
  // One quarantine in Torino: the operator sees 1, the mayor sees null.
  f_->Post("/v1/people/" + f_->in_to + "/quarantine", R"({"start":"2020-10-21","reason":"close contact"})");
  auto op = f_->http.Get(Views("/v1/views/municipalities/001272"), f_->tokens["op-to"]);
  ASSERT_EQ(op.status, 200) << op.body;
  EXPECT_EQ(op.Json().at("active_quarantines").to_number<int64_t>(), 1);
  auto mayor = f_->http.Get(Views("/v1/views/municipalities/001272"), f_->tokens["mayor-to"]);
  ASSERT_EQ(mayor.status, 200) << mayor.body;
  EXPECT_TRUE(mayor.Json().at("active_quarantines").is_null()) << mayor.body;
  EXPECT_EQ(mayor.Json().at("rounded_to").to_number<int64_t>(), 3);
  EXPECT_TRUE(mayor.Json().at("active_isolations").is_null()) << "zero reads as < 3 too, so null does not tell 1 or 2";
}

TEST_F(AuthzMatrixTest, GrantsAreAdminsAndTakeEffectOnTheNextRequest) {
  Check("GET", Fixed("/v1/grants"), {}, {{"admin", 200}, {"auditor", 200}, {"op-to", 403}, {"nobody", 403}});
  Check("GET", Fixed("/v1/me"), {}, {{"nobody", 200}, {"op-to", 200}});
  Check("POST", Fixed("/v1/grants"), Fixed(R"({"user":"nobody","role":"operator","scope":"TO"})"),
        {{"op-to", 403}, {"auditor", 403}, {"nobody", 403}});
  Check("DELETE", Fixed("/v1/grants/op-to/operator/TO"), {}, {{"op-to", 403}, {"auditor", 403}, {"nobody", 403}});
  Check("GET", Fixed("/v1/grant-requests"), {}, {{"admin", 200}, {"auditor", 200}, {"op-to", 403}, {"nobody", 403}});
  Check("DELETE", Fixed("/v1/grant-requests/op-to/auditor"), {}, {{"op-to", 403}, {"auditor", 403}, {"nobody", 403}});
  Check("GET", Fixed("/v1/schools"), {}, {{"op-to", 200}, {"school-1", 200}, {"nobody", 403}});
  Check("POST", Fixed("/v1/rules"), Fixed("{}"), {{"op-to", 403}, {"auditor", 403}, {"nobody", 403}});
  Check("GET", Fixed("/v1/rules"), {}, {{"op-to", 200}, {"nobody", 403}});
  Check("GET", Fixed("/v1/audit/chain"), {},
        {{"auditor", 200}, {"admin", 200}, {"op-to", 403}, {"mayor-to", 403}, {"nobody", 403}});

  const std::string person = "/v1/people/" + f_->in_to;
  EXPECT_EQ(f_->http.Get(person, f_->tokens["nobody"]).status, 403);
  // Operator opens personal data: one admin asks, another grants (docs/security.md, finding 9).
  auto asked = f_->http.Post("/v1/grants", R"({"user":"nobody","role":"operator","scope":"to"})", f_->tokens["admin"]);
  ASSERT_EQ(asked.status, 202) << asked.body;
  EXPECT_EQ(f_->http.Get(person, f_->tokens["nobody"]).status, 403) << "a request grants nothing";
  auto granted = f_->http.Post("/v1/grants", R"({"user":"nobody","role":"operator","scope":"to"})", f_->tokens["admin-all"]);
  ASSERT_EQ(granted.status, 201) << granted.body;
  EXPECT_EQ(granted.Json().at("scope").as_string(), "TO");
  EXPECT_EQ(f_->http.Post("/v1/grants", R"({"user":"nobody","role":"operator","scope":"TO"})", f_->tokens["admin"]).status, 200)
      << "a grant already held appends nothing";
  EXPECT_EQ(f_->http.Get(person, f_->tokens["nobody"]).status, 200);
  auto me = f_->http.Get("/v1/me", f_->tokens["nobody"]);
  EXPECT_EQ(me.Json().at("grants").as_array().size(), 1u) << me.body;
  EXPECT_EQ(f_->http.Send("DELETE", "/v1/grants/nobody/operator/TO", "", {{"Authorization", "Bearer " + f_->tokens["admin"]}}).status, 200);
  EXPECT_EQ(f_->http.Get(person, f_->tokens["nobody"]).status, 403) << "revocation holds on the next request";
  EXPECT_EQ(f_->http.Send("DELETE", "/v1/grants/nobody/operator/TO", "", {{"Authorization", "Bearer " + f_->tokens["admin"]}}).status, 404);
  auto bad = f_->http.Post("/v1/grants", R"({"user":"x","role":"operator","scope":"ZZ"})", f_->tokens["admin"]);
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("\"scope\""), std::string::npos) << bad.body;
  EXPECT_EQ(f_->http.Post("/v1/grants", R"({"user":"x","role":"king"})", f_->tokens["admin"]).status, 400);
  EXPECT_EQ(f_->http.Post("/v1/grants", R"({"user":"x","role":"auditor","scope":"TO"})", f_->tokens["admin"]).status, 400);
}

TEST_F(AuthzMatrixTest, ActorRoleIsTheGrantThatAllowedTheCommand) {
  auto r = f_->http.Post("/v1/people/" + f_->in_to + "/swabs", R"({"requested_at":"2020-10-01T08:00:00Z","swab_id":"SW-GP-1","kind":"antigen"})", f_->tokens["gp-1"]);
  ASSERT_EQ(r.status, 201) << r.body;
  auto history = f_->http.Get("/v1/people/" + f_->in_to + "/history", f_->tokens["auditor"]);
  ASSERT_EQ(history.status, 200);
  const boost::json::value body = history.Json();
  const auto& last = body.at("events").as_array().back();
  EXPECT_EQ(last.at("actor").at("id").as_string(), "gp-1");
  EXPECT_EQ(last.at("actor").at("role").as_string(), "gp");
}

TEST_F(AuthzMatrixTest, AccessLogRecordsEveryPersonalReadWithItsOutcome) {
  const std::string person = "/v1/people/" + f_->in_to;
  ASSERT_EQ(f_->http.Get(person, f_->tokens["op-to"]).status, 200);
  ASSERT_EQ(f_->http.Get(person + "/history", f_->tokens["gp-1"]).status, 200);
  ASSERT_EQ(f_->http.Get(person, f_->tokens["op-al"]).status, 404);
  ASSERT_EQ(f_->http.Get("/v1/people?tax_code=" + f_->tax_to, f_->tokens["auditor"]).status, 200);
  ASSERT_TRUE(f_->server.service().access_log().Flush());
  auto report = f_->http.Get(person + "/access-log", f_->tokens["auditor"]);
  ASSERT_EQ(report.status, 200) << report.body;
  std::vector<std::string> seen;
  const boost::json::value body = report.Json();
  for (const auto& r : body.at("records").as_array()) {
    seen.push_back(std::string(r.at("subject").as_string()) + " " + std::string(r.at("role").as_string()) + " " +
                   std::string(r.at("endpoint").as_string()) + " " + std::to_string(r.at("status").to_number<int>()));
  }
  const std::vector<std::string> expected = {
      "op-to operator GET /v1/people/{id} 200",
      "gp-1 gp GET /v1/people/{id}/history 200",
      "op-al  GET /v1/people/{id} 404",
      "auditor auditor GET /v1/people?tax_code 200",
  };
  EXPECT_EQ(seen, expected) << report.body;
  // The other person's report does not hold these reads.
  auto other = f_->http.Get("/v1/people/" + f_->in_al + "/access-log", f_->tokens["auditor"]);
  ASSERT_EQ(other.status, 200);
  EXPECT_TRUE(other.Json().at("records").as_array().empty()) << other.body;
}

TEST_F(AuthzMatrixTest, ChangeStreamIsScoped) {
  namespace asio = boost::asio;
  asio::io_context ioc;
  auto subscribe = [&](const std::string& who) {
    auto sock = std::make_unique<asio::ip::tcp::socket>(ioc);
    sock->connect({asio::ip::make_address("127.0.0.1"), f_->server.port()});
    std::string req = "GET /v1/views/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + f_->tokens[who] + "\r\n\r\n";
    asio::write(*sock, asio::buffer(req));
    return sock;
  };
  auto mayor_al = subscribe("mayor-al");
  auto op_to = subscribe("op-to");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  f_->Post("/v1/people/" + f_->in_to + "/quarantine", R"({"start":"2020-10-21","reason":"close contact"})");
  auto drain = [](asio::ip::tcp::socket& sock, const std::string& until) {
    std::string got;
    char buf[4096];
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    sock.non_blocking(true);
    while ((until.empty() || got.find(until) == std::string::npos) && std::chrono::steady_clock::now() < deadline) {
      boost::system::error_code ec;
      size_t n = sock.read_some(asio::buffer(buf), ec);
      if (!ec) got.append(buf, n);
      else std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return got;
  };
  std::string to = drain(*op_to, "\"key\":\"001272\"");
  EXPECT_NE(to.find("\"key\":\"001272\""), std::string::npos) << to;
  std::string al = drain(*mayor_al, "");
  EXPECT_NE(al.find("text/event-stream"), std::string::npos) << al;
  EXPECT_EQ(al.find("001272"), std::string::npos) << "the mayor of Alessandria hears nothing of Torino: " << al;
  EXPECT_EQ(al.find("GP0012720001"), std::string::npos) << al;
}

}  // namespace
}  // namespace caseledger::testing
