// Regression tests for the outside audit of 2026-12 (issue #18), findings 3, 4, 8 and 9, against
// a real server on loopback: each test failed on the code the audit was run against.
// docs/security.md, "Audit of 2026-12: findings and fixes", says what changed and why.
#include "api/command_service.h"
#include "app/reference_files.h"
#include "domain/event_codec.h"
#include "domain/school.h"
#include "domain/tax_code.h"
#include "eventstore/access_log.h"
#include "tests/support/test_server.h"
#include "tests/support/build_paths.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <thread>

namespace caseledger::testing {
namespace {

class AuditFindingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    User("team/alice", "operator", "TO");
    User("team", "operator", "CN1");
    User("op-to", "operator", "TO");
    User("op-al", "operator", "AL");
    User("lab-to", "lab", "LAB-TO1");
    User("lab-al", "lab", "LAB-AL2");
    User("gp-to", "gp", "GP0012720001");
    User("admin", "admin", "");
    User("nobody", "", "");
    tokens_["tester"] = server_.Token();
  }
  void User(const std::string& name, const std::string& role, const std::string& scope) {
    if (!role.empty()) server_.Grant(name, role, scope);
    tokens_[name] = server_.Token(name);
  }
  static std::string Registration(const std::string& family, const std::string& istat, const char* birth = "1980-01-01") {
    std::string tc = domain::ComposeTaxCode(family, "Anna", *domain::Date::Parse(birth), 'F', "L219");
    return R"({"tax_code":")" + tc + R"(","family_name":")" + family + R"(","given_names":"Anna","birth_date":")" +
           birth + R"(","sex":"F","residence_istat":")" + istat + R"("})";
  }
  HttpReply Post(const std::string& target, const std::string& body, const std::string& user,
                 const std::map<std::string, std::string>& headers = {}) {
    return http_.Post(target, body, tokens_.at(user), headers);
  }
  HttpReply Delete(const std::string& target, const std::string& user) {
    return http_.Send("DELETE", target, "", {{"Authorization", "Bearer " + tokens_.at(user)}});
  }
  std::string Detail(const HttpReply& r) {
    auto v = r.Json();
    return v.is_object() && v.as_object().contains("detail") ? std::string(v.at("detail").as_string()) : "";
  }

  TestServer server_;
  HttpClient http_{server_.port()};
  std::map<std::string, std::string> tokens_;
};

// Finding 3: subject "team" sending key "alice/k1" was answered with subject "team/alice"'s
// registration (its person id and Location).
TEST_F(AuditFindingsTest, IdempotencyKeysAreScopedByAnUnambiguousSubject) {
  const std::string body = Registration("Rossi", "001272");
  auto first = Post("/v1/people", body, "team/alice", {{"Idempotency-Key", "k1"}});
  ASSERT_EQ(first.status, 201) << first.body;
  auto again = Post("/v1/people", body, "team/alice", {{"Idempotency-Key", "k1"}});
  EXPECT_EQ(again.status, 201) << again.body;
  EXPECT_EQ(again.Header("idempotent-replayed"), "true");
  EXPECT_EQ(again.Json().at("person_id"), first.Json().at("person_id"));

  auto other = Post("/v1/people", body, "team", {{"Idempotency-Key", "alice/k1"}});
  EXPECT_EQ(other.status, 403) << "an operator of CN1 registering in Torino: " << other.body;
  EXPECT_EQ(other.body.find(std::string(first.Json().at("person_id").as_string())), std::string::npos) << other.body;
  EXPECT_TRUE(other.Header("location").empty()) << other.Header("location");
  EXPECT_NE(api::IdempotencyKeyOf("team/alice", "k1"), api::IdempotencyKeyOf("team", "alice/k1"));
}

// Keys recorded before the length-prefixed form ("http/<subject>/<key>"): the subject that
// wrote one still gets its answer back; another subject whose key spells the same string
// does not.
TEST_F(AuditFindingsTest, OldFormKeysReplayOnlyForTheirOwnSubject) {
  eventstore::EventStore& store = server_.service().store();
  const std::string body = Registration("Bianchi", "001272");
  // What the server before the fix wrote for team/alice's "k1".
  domain::RegisterPerson command;
  command.tax_code = domain::ComposeTaxCode("Bianchi", "Anna", *domain::Date::Parse("1980-01-01"), 'F', "L219");
  command.family_name = "Bianchi";
  command.given_names = "Anna";
  command.birth_date = *domain::Date::Parse("1980-01-01");
  command.sex = domain::Sex::kFemale;
  command.residence_istat = "001272";
  auto reference = app::LoadReferenceData(caseledger::TestSourceDir() + "/ops/reference");
  ASSERT_TRUE(reference);
  domain::DecideContext dc{domain::Timestamp{1'700'000'000'000'000}, reference->get(), "01HQ8XW3K5V7R9T2M4N6P8Q0ZA"};
  auto decision = domain::Decide(domain::PersonState{}, domain::PersonCommand{command}, dc);
  ASSERT_TRUE(decision) << decision.error().message;
  eventstore::AppendRequest append;
  append.stream = domain::PersonStream("01HQ8XW3K5V7R9T2M4N6P8Q0ZA");
  append.expected = eventstore::ExpectedVersion::NoStream();
  append.actor = {"team/alice", "operator"};
  append.idempotency_key = "http/team/alice/k1";
  append.request_digest = store.RequestDigest("POST /v1/people\n" + body);
  append.claims = decision->claims;
  for (auto& d : decision->events) {
    domain::EncodedEvent enc = domain::Encode(d.event);
    append.events.push_back({enc.type, enc.schema_version, enc.body, enc.personal, d.effective_at});
  }
  ASSERT_TRUE(store.Append(append).has_value());

  auto own = Post("/v1/people", body, "team/alice", {{"Idempotency-Key", "k1"}});
  EXPECT_EQ(own.status, 201) << own.body;
  EXPECT_EQ(own.Header("idempotent-replayed"), "true");
  EXPECT_EQ(own.Json().at("person_id").as_string(), "01HQ8XW3K5V7R9T2M4N6P8Q0ZA");
  auto other = Post("/v1/people", body, "team", {{"Idempotency-Key", "alice/k1"}});
  EXPECT_EQ(other.status, 403) << other.body;
  EXPECT_EQ(other.body.find("01HQ8XW3K5V7R9T2M4N6P8Q0ZA"), std::string::npos) << other.body;
}

// Finding 3: a replay was answered before any scope check, so a revoked operator kept
// getting the first answer.
TEST_F(AuditFindingsTest, ReplaysAreAuthorizedAgain) {
  server_.Grant("op-al", "operator", "TO");
  const std::string body = Registration("Verdi", "001272");
  auto first = Post("/v1/people", body, "op-al", {{"Idempotency-Key", "r1"}});
  ASSERT_EQ(first.status, 201) << first.body;
  server_.Revoke("op-al", "operator", "TO");
  auto replay = Post("/v1/people", body, "op-al", {{"Idempotency-Key", "r1"}});
  EXPECT_EQ(replay.status, 404) << replay.body;
  EXPECT_EQ(replay.body.find(std::string(first.Json().at("person_id").as_string())), std::string::npos);
  server_.Grant("op-al", "operator", "TO");
  EXPECT_EQ(Post("/v1/people", body, "op-al", {{"Idempotency-Key", "r1"}}).status, 201) << "and back with the grant";
}

// Finding 3: subjects may hold '/', so the revocation route takes them percent-encoded.
TEST_F(AuditFindingsTest, GrantsOfSubjectsWithSlashesCanBeRevoked) {
  User("ext/bob", "", "");
  ASSERT_EQ(Post("/v1/grants", R"({"user":"ext/bob","role":"mayor","scope":"001272"})", "admin").status, 201);
  ASSERT_EQ(http_.Get("/v1/views/municipalities/001272", tokens_["ext/bob"]).status, 200);
  auto revoked = Delete("/v1/grants/ext%2Fbob/mayor/001272", "admin");
  EXPECT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_EQ(revoked.Json().at("user").as_string(), "ext/bob") << revoked.body;
  EXPECT_EQ(http_.Get("/v1/views/municipalities/001272", tokens_["ext/bob"]).status, 403);
  auto grants = http_.Get("/v1/grants?user=ext%2Fbob", tokens_["admin"]);
  EXPECT_EQ(grants.Json().at("users").as_array().size(), 0u) << grants.body;
  // A '%' in a subject travels as %25.
  User("odd%2Fname", "", "");
  ASSERT_EQ(Post("/v1/grants", R"({"user":"odd%2Fname","role":"mayor","scope":"001272"})", "admin").status, 201);
  EXPECT_EQ(Delete("/v1/grants/odd%252Fname/mayor/001272", "admin").status, 200);
  EXPECT_EQ(http_.Get("/v1/views/municipalities/001272", tokens_["odd%2Fname"]).status, 403);
}

// Finding 8: any token told an existing swab (403) from an unknown one (404 "swab X is unknown").
TEST_F(AuditFindingsTest, SwabRoutesAreNoExistenceOracle) {
  const std::string person = std::string(Post("/v1/people", Registration("Neri", "001272"), "tester").Json().at("person_id").as_string());
  ASSERT_EQ(Post("/v1/people/" + person + "/swabs", R"({"requested_at":"2020-10-01T08:00:00Z","swab_id":"SW-REAL-1","kind":"molecular"})", "tester").status, 201);
  ASSERT_EQ(Post("/v1/swabs/SW-REAL-1/collection", R"({"collected_at":"2020-10-20T08:00:00Z"})", "lab-to").status, 201);
  const std::string result = R"({"outcome":"negative","lab_id":"LAB-TO1","reported_at":"2020-10-21T10:00:00Z"})";
  for (const char* who : {"nobody", "gp-to", "admin"}) {
    SCOPED_TRACE(who);
    EXPECT_EQ(Post("/v1/swabs/SW-REAL-1/result", result, who).status, 403);
    EXPECT_EQ(Post("/v1/swabs/SW-NONE-1/result", result, who).status, 403);
  }
  // Roles that may record results, outside their scope: the same 404 for both.
  for (const char* who : {"lab-al", "op-al"}) {
    SCOPED_TRACE(who);
    auto real = Post("/v1/swabs/SW-REAL-1/result", result, who);
    auto none = Post("/v1/swabs/SW-NONE-1/result", result, who);
    EXPECT_EQ(real.status, 404) << real.body;
    EXPECT_EQ(none.status, 404) << none.body;
    EXPECT_EQ(Detail(real), "swab SW-REAL-1 not found");
    EXPECT_EQ(Detail(none), "swab SW-NONE-1 not found");
  }
  // The batch route answers its rows alike.
  auto batch = Post("/v1/results:batch",
                    R"({"results":[{"swab_id":"SW-REAL-1","outcome":"negative","lab_id":"LAB-TO1","reported_at":"2020-10-21T10:00:00Z"},)"
                    R"({"swab_id":"SW-NONE-1","outcome":"negative","lab_id":"LAB-TO1","reported_at":"2020-10-21T10:00:00Z"}]})",
                    "lab-al");
  ASSERT_EQ(batch.status, 200) << batch.body;
  const boost::json::value batch_body = batch.Json();
  const auto& rows = batch_body.at("results").as_array();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].at("status"), rows[1].at("status")) << batch.body;
  EXPECT_EQ(rows[0].at("detail").as_string(), "swab SW-REAL-1 not found") << batch.body;
  EXPECT_EQ(rows[1].at("detail").as_string(), "swab SW-NONE-1 not found") << batch.body;
  EXPECT_EQ(Post("/v1/swabs/SW-REAL-1/result", result, "lab-to").status, 201) << "the lab in scope still records";
}

// Finding 9: an admin could grant itself auditor and read personal data.
TEST_F(AuditFindingsTest, NoOneGrantsARoleToThemselves) {
  for (const char* role : {R"({"user":"admin","role":"auditor"})", R"({"user":"admin","role":"mayor","scope":"001272"})"}) {
    auto self = Post("/v1/grants", role, "admin");
    EXPECT_EQ(self.status, 403) << self.body;
    EXPECT_NE(self.body.find("separation-of-duties"), std::string::npos) << self.body;
  }
  auto me = http_.Get("/v1/me", tokens_["admin"]);
  EXPECT_EQ(me.Json().at("grants").as_array().size(), 1u) << me.body;
}

// Finding 9: "?tax_code=...&as_of=..." echoed the tax code in the ETag header.
TEST_F(AuditFindingsTest, NoTaxCodeInHeaders) {
  const std::string body = Registration("Gialli", "001272");
  ASSERT_EQ(Post("/v1/people", body, "tester").status, 201);
  const std::string tc = domain::ComposeTaxCode("Gialli", "Anna", *domain::Date::Parse("1980-01-01"), 'F', "L219");
  for (const std::string& q : {"?tax_code=" + tc + "&as_of=2030-01-01T00:00:00Z", "?tax_code=" + tc + "&effective_at=2030-01-01T00:00:00Z",
                               "?tax_code=" + tc}) {
    auto r = http_.Get("/v1/people" + q, tokens_["op-to"]);
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_FALSE(r.Header("etag").empty());
    for (const auto& [name, value] : r.headers) EXPECT_EQ(value.find(tc), std::string::npos) << name << ": " << value;
    auto again = http_.Get("/v1/people" + q, tokens_["op-to"], {{"If-None-Match", r.Header("etag")}});
    EXPECT_EQ(again.status, 304) << "the tag still validates";
  }
}

// Finding 4: an operator of TO5 (whose ASL holds 8 municipalities of the province of Asti)
// quarantined class 3B of a school in Asti and read its view.
TEST_F(AuditFindingsTest, SchoolScopeIsTheSchoolsMunicipality) {
  User("op-to5", "operator", "TO5");
  User("op-at", "operator", "AT");
  const std::string quarantine = R"({"start":"2020-10-22","reason":"two cases"})";
  // Not in the registry: nobody's, and said so.
  auto unknown = Post("/v1/schools/ATIC80000X/classes/3B/quarantine", quarantine, "op-at");
  EXPECT_EQ(unknown.status, 422) << unknown.body;
  EXPECT_NE(unknown.body.find("school-not-registered"), std::string::npos) << unknown.body;
  // The registry (read again when it changes): a school in Asti, one in Castelnuovo Don
  // Bosco (province of Asti, ASL TO5), and one placed outside its code's province (left out).
  std::ofstream(server_.data_dir() + "/data/schools.csv")
      << "school,istat\nATIC80000X,005005\nATIC80100X,005031\nATIC80200X,001272\n";
  auto list = http_.Get("/v1/schools", tokens_["op-at"]);
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.Json().at("schools").as_array().size(), 2u) << list.body;

  auto to5 = Post("/v1/schools/ATIC80000X/classes/3B/quarantine", quarantine, "op-to5");
  EXPECT_EQ(to5.status, 404) << "TO5 no longer quarantines a class in Asti: " << to5.body;
  auto at = Post("/v1/schools/ATIC80000X/classes/3B/quarantine", quarantine, "op-at");
  ASSERT_EQ(at.status, 201) << at.body;
  const std::string view = "/v1/views/schools/ATIC80000X?day=2020-10-22&min_position=" +
                           std::to_string(at.Json().at("position").to_number<uint64_t>());
  EXPECT_EQ(http_.Get(view, tokens_["op-to5"]).status, 404);
  EXPECT_EQ(http_.Get(view, tokens_["op-at"]).status, 200);
  EXPECT_EQ(Post("/v1/schools/ATIC80100X/classes/2A/quarantine", quarantine, "op-to5").status, 201);
  EXPECT_EQ(Post("/v1/schools/ATIC80100X/classes/2A/quarantine", quarantine, "op-at").status, 404);
  EXPECT_EQ(Post("/v1/schools/ATIC80200X/classes/1A/quarantine", quarantine, "op-to").status, 422);
}

// Finding 9: a grant that opens personal data takes a second admin.
TEST_F(AuditFindingsTest, PersonalDataGrantsTakeTwoAdmins) {
  User("carol", "", "");
  User("admin-2", "admin", "");
  const std::string person = std::string(Post("/v1/people", Registration("Rosa", "001272"), "tester").Json().at("person_id").as_string());
  auto asked = Post("/v1/grants", R"({"user":"carol","role":"auditor"})", "admin");
  ASSERT_EQ(asked.status, 202) << asked.body;
  EXPECT_EQ(asked.Json().at("status").as_string(), "pending");
  EXPECT_EQ(http_.Get("/v1/people/" + person, tokens_["carol"]).status, 403) << "pending is not granted";
  EXPECT_EQ(Post("/v1/grants", R"({"user":"carol","role":"auditor"})", "admin").status, 202) << "the same admin twice";
  EXPECT_EQ(http_.Get("/v1/people/" + person, tokens_["carol"]).status, 403);
  auto pending = http_.Get("/v1/grant-requests", tokens_["admin-2"]);
  ASSERT_EQ(pending.status, 200) << pending.body;
  ASSERT_EQ(pending.Json().at("requests").as_array().size(), 1u) << pending.body;
  EXPECT_EQ(pending.Json().at("requests").as_array()[0].at("requested_by").as_string(), "admin");
  auto approved = Post("/v1/grants", R"({"user":"carol","role":"auditor"})", "admin-2");
  ASSERT_EQ(approved.status, 201) << approved.body;
  EXPECT_EQ(approved.Json().at("requested_by").as_string(), "admin");
  EXPECT_EQ(http_.Get("/v1/people/" + person, tokens_["carol"]).status, 200);
  EXPECT_TRUE(http_.Get("/v1/grant-requests", tokens_["admin"]).Json().at("requests").as_array().empty());
  // Who asked and who granted are both in the log: the approval names the request.
  auto users = server_.service().store().ReadStream("users", 1, 10'000);
  ASSERT_TRUE(users.has_value());
  uint64_t request_position = 0;
  bool approved_in_log = false;
  for (const auto& env : *users) {
    if (env.actor.id == "admin" && env.correlation_id == "grant-request") request_position = env.position;
    if (env.actor.id == "admin-2" && env.type == "AccessGranted" && request_position != 0 &&
        env.causation_id == std::to_string(request_position)) {
      approved_in_log = true;
    }
  }
  EXPECT_TRUE(approved_in_log);

  // A withdrawn request is gone: the next admin's ask is a new request, not an approval.
  EXPECT_EQ(Post("/v1/grants", R"({"user":"carol","role":"lab","scope":"LAB-TO1"})", "admin").status, 202);
  EXPECT_EQ(Delete("/v1/grant-requests/carol/lab/LAB-TO1", "admin-2").status, 200);
  EXPECT_EQ(Delete("/v1/grant-requests/carol/lab/LAB-TO1", "admin-2").status, 404);
  EXPECT_EQ(Post("/v1/grants", R"({"user":"carol","role":"lab","scope":"LAB-TO1"})", "admin-2").status, 202);
  // Roles without personal data stay one admin's.
  EXPECT_EQ(Post("/v1/grants", R"({"user":"carol","role":"mayor","scope":"001272"})", "admin").status, 201);
  // Who asked and who granted are both in the log.
  auto history = http_.Get("/v1/grants?user=carol", tokens_["admin"]);
  EXPECT_EQ(history.Json().at("users").as_array()[0].at("grants").as_array().size(), 2u) << history.body;
}

// Finding 8: a registration answered 409 for a tax code registered in another ASL while the
// same operator's lookup said 404.
TEST_F(AuditFindingsTest, ATaxCodeRegisteredElsewhereIsNoOracle) {
  const std::string tc = domain::ComposeTaxCode("Ferri", "Anna", *domain::Date::Parse("1980-01-01"), 'F', "L219");
  auto first = Post("/v1/people", Registration("Ferri", "001272"), "op-to");
  ASSERT_EQ(first.status, 201) << first.body;
  const std::string in_to(first.Json().at("person_id").as_string());
  EXPECT_EQ(http_.Get("/v1/people?tax_code=" + tc, tokens_["op-al"]).status, 404);

  // Alessandria registers the same tax code: answered as a tax code nobody holds would be.
  auto again = Post("/v1/people", Registration("Ferri", "006003"), "op-al");
  auto fresh = Post("/v1/people", Registration("Conti", "006003"), "op-al");
  ASSERT_EQ(again.status, 201) << again.body;
  ASSERT_EQ(fresh.status, 201) << fresh.body;
  std::set<std::string> again_keys, fresh_keys;
  const boost::json::value again_body = again.Json(), fresh_body = fresh.Json();
  for (const auto& kv : again_body.as_object()) again_keys.insert(std::string(kv.key()));
  for (const auto& kv : fresh_body.as_object()) fresh_keys.insert(std::string(kv.key()));
  EXPECT_EQ(again_keys, fresh_keys);
  EXPECT_EQ(again.Header("location").empty(), fresh.Header("location").empty());
  const std::string in_al(again.Json().at("person_id").as_string());
  EXPECT_NE(in_al, in_to);

  // Each operator looks up its own record; neither learns of the other.
  auto al = http_.Get("/v1/people?tax_code=" + tc, tokens_["op-al"]);
  ASSERT_EQ(al.status, 200) << al.body;
  EXPECT_EQ(al.Json().at("id").as_string(), in_al) << al.body;
  auto to = http_.Get("/v1/people?tax_code=" + tc, tokens_["op-to"]);
  ASSERT_EQ(to.status, 200) << to.body;
  EXPECT_EQ(to.Json().at("id").as_string(), in_to) << to.body;
  // Inside the caller's scope a duplicate is still refused.
  EXPECT_EQ(Post("/v1/people", Registration("Ferri", "006003"), "op-al").status, 409);
  EXPECT_EQ(Post("/v1/people", Registration("Ferri", "001272"), "op-to").status, 409);

  // The earlier record's access report says so, for its ASL and the auditors to reconcile.
  ASSERT_TRUE(server_.service().access_log().Flush());
  auto report = http_.Get("/v1/people/" + in_to + "/access-log", tokens_["op-to"]);
  ASSERT_EQ(report.status, 200) << report.body;
  EXPECT_NE(report.body.find("tax code registered again: person " + in_al), std::string::npos) << report.body;
  EXPECT_NE(report.body.find("\"op-al\""), std::string::npos) << report.body;

  // Erasing the second record frees its tax code in Alessandria's namespace too.
  ASSERT_EQ(Post("/v1/people/" + in_al + "/erasure", R"({"legal_reason":"GDPR art. 17 request"})", "admin").status, 201);
  EXPECT_EQ(Post("/v1/people", Registration("Ferri", "006003"), "op-al").status, 201);
}

// A registration reads its tax code's claim once, while deciding, and the store reuses that
// read (eventstore::ClaimRead): registrations of one tax code sent at once, each on its own
// connection, all read it free, and exactly one is registered; the others are refused as a
// duplicate (409).
TEST_F(AuditFindingsTest, RegistrationsOfOneTaxCodeSentAtOnceRegisterOne) {
  constexpr int kRacers = 8;
  const std::string body = Registration("Marino", "001272");
  const std::string token = tokens_.at("op-to");
  std::vector<int> status(kRacers);
  std::vector<std::thread> racers;
  for (int i = 0; i < kRacers; ++i) {
    racers.emplace_back([&, i] {
      HttpClient http(server_.port());
      status[i] = http.Post("/v1/people", body, token).status;
    });
  }
  for (auto& t : racers) t.join();
  EXPECT_EQ(std::count(status.begin(), status.end(), 201), 1);
  EXPECT_EQ(std::count(status.begin(), status.end(), 409), kRacers - 1);
  const std::string tc = domain::ComposeTaxCode("Marino", "Anna", *domain::Date::Parse("1980-01-01"), 'F', "L219");
  EXPECT_EQ(http_.Get("/v1/people?tax_code=" + tc, token).status, 200);
  EXPECT_EQ(Post("/v1/people", body, "op-to").status, 409);  // and after, read from the database
}

}  // namespace
}  // namespace caseledger::testing
