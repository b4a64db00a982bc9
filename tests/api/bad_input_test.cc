// The bad-input battery (docs/api.md), request level: every rejected request gets the exact
// status as application/problem+json naming what is wrong, leaks nothing internal, and
// writes nothing (the committed log position does not move). The socket-level cases
// (truncated and oversized bodies, header floods, slow clients) are in
// bad_input_transport_test.cc.
#include "api/jwt.h"
#include "eventstore/event_store.h"
#include "tests/api/bad_input_support.h"

#include <functional>
#include <map>
#include <source_location>
#include <vector>

namespace caseledger::testing {
namespace {

constexpr char kUnknownPerson[] = "01ARZ3NDEKTSV4RRFFQ69G5FAV";  // a well-formed ULID

class BadInputTest : public ::testing::Test {
 protected:
  uint64_t Committed() { return server_.service().store().CommittedPosition(); }

  // Runs `send` and checks that it was rejected with `status` (and an error naming
  // `field`, when given) and that nothing reached the log.
  void ExpectRejected(int status, std::string_view field, const std::function<HttpReply()>& send,
                      std::source_location loc = std::source_location::current()) {
    ::testing::ScopedTrace trace(loc.file_name(), static_cast<int>(loc.line()), "rejection");
    const uint64_t before = Committed();
    HttpReply reply = send();
    ExpectProblem(reply, status, field);
    EXPECT_EQ(Committed(), before) << "a rejected request wrote to the log: " << reply.body;
  }
  // A POST with the test token that must be rejected.
  void ExpectPostRejected(int status, std::string_view field, const std::string& target,
                          const std::string& body,
                          const std::map<std::string, std::string>& headers = {},
                          std::source_location loc = std::source_location::current()) {
    ExpectRejected(
        status, field, [&] { return http_.Post(target, body, token_, headers); }, loc);
  }

  // Registers a person and returns the id (empty on failure, which is reported).
  std::string Register(const Registration& r = {}) {
    HttpReply reply = http_.Post("/v1/people", r.Body(), token_);
    EXPECT_EQ(reply.status, 201) << reply.body;
    if (reply.status != 201) return "";
    return std::string(reply.Json().at("person_id").as_string());
  }
  void Post201(const std::string& target, const std::string& body) {
    HttpReply reply = http_.Post(target, body, token_);
    EXPECT_EQ(reply.status, 201) << target << ": " << reply.body;
  }

  TestServer server_;
  HttpClient http_{server_.port()};
  std::string token_ = server_.Token();
};

// Registrations of two more people, distinct from the default one (Rossi).
Registration Neri(std::string birth = "1970-01-01") {
  Registration r;
  r.family = "Neri";
  r.given = "Luca";
  r.birth = std::move(birth);
  return r;
}
Registration Bianchi() {
  Registration r;
  r.family = "Bianchi";
  r.given = "Anna";
  r.birth = "1990-03-05";
  r.sex = 'F';
  return r;
}

// A registration body whose `family_name` holds arrays nested so that the whole body is
// `depth` levels deep (the object itself is level 1).
std::string NestedBody(int depth) {
  return R"({"family_name":)" + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}";
}

TEST_F(BadInputTest, MalformedJsonIsRejected) {
  Register();
  for (const char* body :
       {R"({"family_name": "Rossi")", R"({family_name: "Rossi"})", R"({"family_name": "Rossi",})",
        R"({"a": 01})", R"({"a": NaN})", R"({} {})", R"({"a": "unterminated})",
        "{\"a\": \"tab\there\"}", "\xef\xbb\xbf{}"}) {
    SCOPED_TRACE(body);
    ExpectPostRejected(400, "", "/v1/people", body);
  }
}

// Boost.JSON would keep the last of two members with one key: a body that says two things
// is refused instead, naming the key (at any depth), and nothing is written.
TEST_F(BadInputTest, DuplicateKeysAreRejectedNamingTheKey) {
  const std::string valid = Registration().Body();
  ASSERT_EQ(valid.front(), '{');
  const std::string twice = R"({"family_name": "Bianchi", )" + valid.substr(1);
  ExpectPostRejected(400, "family_name", "/v1/people", twice);
  HttpReply reply = http_.Post("/v1/people", twice, token_);
  EXPECT_NE(reply.body.find("family_name"), std::string::npos) << reply.body;
  EXPECT_NE(reply.Json().at("detail").as_string().find("more than once"), std::string::npos) << reply.body;
  // Nested, and with the key spelt by an escape: the same key.
  ExpectPostRejected(400, "x[1].a", "/v1/people", R"({"x": [{}, {"a": 1, "\u0061": 2}]})");
  // The same key in two different objects is no duplicate: the body fails for other reasons.
  HttpReply distinct = http_.Post("/v1/people", R"({"x": {"a": 1}, "y": {"a": 1}})", token_);
  EXPECT_EQ(distinct.status, 400);
  EXPECT_EQ(distinct.body.find("more than once"), std::string::npos) << distinct.body;
}

TEST_F(BadInputTest, EmptyBodyIsRejected) {
  const std::string id = Register();
  ExpectPostRejected(400, "", "/v1/people", "");
  ExpectPostRejected(400, "", "/v1/people/" + id + "/gp", "");
  ExpectPostRejected(400, "", "/v1/people/" + id + "/gp", " \r\n\t ");
}

TEST_F(BadInputTest, BodyThatIsNotAnObjectIsRejected) {
  Registration r;
  for (const std::string& body : {"[" + r.Body() + "]", std::string("\"Rossi\""), std::string("42"),
                                  std::string("null"), std::string("true"), std::string("[]")}) {
    SCOPED_TRACE(body);
    ExpectPostRejected(400, "", "/v1/people", body);
  }
}

TEST_F(BadInputTest, NestingBeyondTheLimitIsRejected) {
  Register();
  // 32 levels is within the limit: the body parses and is refused for its content.
  ExpectPostRejected(400, "family_name", "/v1/people", NestedBody(32));
  for (int depth : {33, 65, 20'000}) {
    SCOPED_TRACE(depth);
    const uint64_t before = Committed();
    HttpReply reply = http_.Post("/v1/people", NestedBody(depth), token_);
    ExpectProblem(reply, 400);
    EXPECT_NE(reply.Json().at("detail").as_string().find("deeper"), std::string::npos)
        << reply.body;
    EXPECT_EQ(Committed(), before);
  }
}

TEST_F(BadInputTest, InvalidUtf8IsRejected) {
  Register();
  Registration r;
  r.family = "Ro";
  // Stray continuation, bad second byte, overlong '/', UTF-16 surrogate, truncated
  // sequence, beyond U+10FFFF.
  for (const char* bad :
       {"\x80", "\xc3\x28", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", "\xf4\x90\x80\x80", "\xff"}) {
    SCOPED_TRACE(::testing::PrintToString(std::string(bad)));
    boost::json::object o = r.Object();
    std::string body = boost::json::serialize(o);
    const std::string marker = "\"Ro\"";
    body.replace(body.find(marker), marker.size(), "\"Ro" + std::string(bad) + "ssi\"");
    ExpectPostRejected(400, "", "/v1/people", body);
    // In a member name too.
    ExpectPostRejected(400, "", "/v1/people", "{\"" + std::string(bad) + "\": 1}");
  }
  // Escapes that decode to a lone surrogate or a control character.
  ExpectPostRejected(400, "", "/v1/people",
                     R"({"family_name":"Ro\ud800ssi","given_names":"Mario"})");
  boost::json::object o = r.Object();
  o["family_name"] = std::string("Ro\0ssi", 6);
  ExpectPostRejected(400, "family_name", "/v1/people", boost::json::serialize(o));
}

TEST_F(BadInputTest, WrongTypesAreRejectedNamingTheField) {
  const std::string id = Register();
  struct Case {
    const char* field;
    boost::json::value value;
  };
  Case cases[] = {{"family_name", 42},                                       // number for a string
                  {"family_name", boost::json::array{"Ro"}},                 // array for a string
                  {"given_names", boost::json::object{{"first", "Mario"}}},  // object
                  {"birth_date", 19851210},
                  {"sex", true},
                  {"residence_istat", 1272}};  // a number loses the leading zeros
  for (const auto& c : cases) {
    SCOPED_TRACE(c.field);
    boost::json::object o = Neri().Object();
    o[c.field] = c.value;
    ExpectPostRejected(400, c.field, "/v1/people", boost::json::serialize(o));
  }
  // A string for a number.
  ExpectPostRejected(400, "dose", "/v1/people/" + id + "/vaccinations",
                     R"({"dose":"two","date":"2021-03-01","product":"Comirnaty"})");
  ExpectPostRejected(400, "dose", "/v1/people/" + id + "/vaccinations",
                     R"({"dose":1.5,"date":"2021-03-01","product":"Comirnaty"})");
  // Malformed and impossible dates.
  ExpectPostRejected(400, "start", "/v1/people/" + id + "/isolation",
                     R"({"start":"20/10/2020","reason":"positive"})");
  ExpectPostRejected(400, "start", "/v1/people/" + id + "/isolation",
                     R"({"start":"2020-02-30","reason":"positive"})");
}

TEST_F(BadInputTest, UnknownFieldsAreRejected) {
  const std::string id = Register();
  boost::json::object o = Neri().Object();
  o["role"] = "admin";
  ExpectPostRejected(400, "role", "/v1/people", boost::json::serialize(o));
  ExpectPostRejected(400, "GP_ID", "/v1/people/" + id + "/gp", R"({"GP_ID":"GP1234"})");
  ExpectPostRejected(400, "version", "/v1/people/" + id + "/gp",
                     R"({"gp_id":"GP1234","version":1})");
}

TEST_F(BadInputTest, MissingRequiredFieldsAreNamed) {
  const std::string id = Register();
  ExpectPostRejected(400, "family_name", "/v1/people", "{}");
  ExpectPostRejected(400, "swab_id", "/v1/people/" + id + "/swabs", R"({"kind":"molecular"})");
  ExpectPostRejected(400, "kind", "/v1/people/" + id + "/swabs",
                     R"({"requested_at":"2020-10-01T08:00:00Z","swab_id":"TO-0001","kind":"saliva"})");
}

TEST_F(BadInputTest, UnknownOrMalformedIdsInPathsAreNotFound) {
  const std::string id = Register();
  Post201("/v1/people/" + id + "/isolation", R"({"start":"2020-10-20","reason":"positive"})");
  const std::string gp = R"({"gp_id":"GP1234"})";
  ExpectPostRejected(404, "", std::string("/v1/people/") + kUnknownPerson + "/gp", gp);
  for (const char* bad : {"not-a-ulid", "01ARZ3NDEKTSV4RRFFQ69G5FA", "81ARZ3NDEKTSV4RRFFQ69G5FAV",
                          "01ARZ3NDEKTSV4RRFFQ69G5FAU", "..", "%2e%2e"}) {
    SCOPED_TRACE(bad);
    ExpectPostRejected(404, "", std::string("/v1/people/") + bad + "/gp", gp);
    ExpectRejected(404, "", [&] { return http_.Get(std::string("/v1/people/") + bad, token_); });
  }
  ExpectRejected(404, "",
                 [&] { return http_.Get(std::string("/v1/people/") + kUnknownPerson, token_); });
  ExpectRejected(404, "", [&] {
    return http_.Get(std::string("/v1/people/") + kUnknownPerson + "/history", token_);
  });
  // Swabs nobody requested, well-formed or not.
  ExpectPostRejected(404, "", "/v1/swabs/TO-9999/collection",
                     R"({"lab_id":"LAB-TO1","collected_at":"2020-10-20T09:00:00Z"})");
  ExpectPostRejected(
      404, "", "/v1/swabs/x/result",
      R"({"outcome":"positive","lab_id":"LAB-TO1","reported_at":"2020-10-21T15:00:00Z"})");
  // Measures: 0, not a number, overflowing, and one that does not exist.
  const std::string end = R"({"at":"2020-10-31","reason":"negative_test"})";
  for (const char* m : {"0", "abc", "-1", "1x", "99999999999999999999", "7"}) {
    SCOPED_TRACE(m);
    ExpectPostRejected(404, "", "/v1/people/" + id + "/measures/" + m + "/end", end);
  }
}

TEST_F(BadInputTest, MalformedRequestTargetIsRejected) {
  Register();
  ExpectRejected(400, "target", [&] { return http_.Get("/v1/people/%zz", token_); });
  ExpectRejected(400, "target", [&] { return http_.Get("/v1/people/%00", token_); });
}

TEST_F(BadInputTest, InvalidTaxCodesAreRejected) {
  Register();
  Registration r = Bianchi();
  std::string code = r.ValidTaxCode();
  code.back() = code.back() == 'A' ? 'B' : 'A';  // wrong check letter
  r.tax_code = code;
  ExpectPostRejected(400, "tax_code", "/v1/people", r.Body());
  r.tax_code = "NOTACODE";
  ExpectPostRejected(400, "tax_code", "/v1/people", r.Body());
  // A valid code, but for another birth date or sex than the one declared.
  r.tax_code = r.ValidTaxCode();
  r.birth = "1990-03-06";
  ExpectPostRejected(400, "birth_date", "/v1/people", r.Body());
  r.birth = "1990-03-05";
  r.sex = 'M';
  ExpectPostRejected(400, "sex", "/v1/people", r.Body());
}

TEST_F(BadInputTest, UnknownIstatCodesAreRejected) {
  const std::string id = Register();
  for (const char* istat : {"999999", "001999", "1272", "00127A", ""}) {
    SCOPED_TRACE(istat);
    Registration r = Neri();
    r.istat = istat;
    ExpectPostRejected(400, "residence_istat", "/v1/people", r.Body());
    ExpectPostRejected(400, "istat", "/v1/people/" + id + "/residence",
                       std::string(R"({"istat":")") + istat + "\"}");
  }
}

TEST_F(BadInputTest, DatesInTheFutureAreRejected) {
  const std::string id = Register();
  const std::string later = (TodayInItaly() + 2).ToString();  // tomorrow + 1
  ExpectPostRejected(400, "birth_date", "/v1/people", Neri(later).Body());
  boost::json::object o = Neri(later).Object();
  o.erase("tax_code");
  ExpectPostRejected(400, "birth_date", "/v1/people", boost::json::serialize(o));
  ExpectPostRejected(400, "start", "/v1/people/" + id + "/isolation",
                     R"({"start":")" + later + R"(","reason":"positive"})");
  ExpectPostRejected(400, "start", "/v1/people/" + id + "/quarantine",
                     R"({"start":")" + later + R"(","reason":"close_contact"})");
  ExpectPostRejected(400, "last_exposure", "/v1/people/" + id + "/contacts",
                     R"({"contact_of":")" + std::string(kUnknownPerson) + R"(","last_exposure":")" +
                         later + "\"}");
  Post201("/v1/people/" + id + "/swabs", R"({"requested_at":"2020-10-01T08:00:00Z","swab_id":"TO-0001","kind":"molecular"})");
  ExpectPostRejected(400, "collected_at", "/v1/swabs/TO-0001/collection",
                     R"({"lab_id":"LAB-TO1","collected_at":")" + later + R"(T09:00:00Z"})");
  // And before the registry's first day.
  ExpectPostRejected(400, "start", "/v1/people/" + id + "/isolation",
                     R"({"start":"2019-12-31","reason":"positive"})");
}

TEST_F(BadInputTest, DuplicateSwabIdsAreConflicts) {
  const std::string id = Register();
  const std::string other = Register(Bianchi());
  Post201("/v1/people/" + id + "/swabs", R"({"requested_at":"2020-10-01T08:00:00Z","swab_id":"TO-0001","kind":"molecular"})");
  const std::string again = R"({"requested_at":"2020-10-01T08:00:00Z","swab_id":"TO-0001","kind":"antigen"})";
  ExpectPostRejected(409, "", "/v1/people/" + id + "/swabs", again);
  ExpectPostRejected(409, "", "/v1/people/" + other + "/swabs", again);
}

TEST_F(BadInputTest, StaleIfMatchIsAFailedPreconditionWithTheCurrentVersion) {
  const std::string id = Register();
  for (const char* tag : {"\"0\"", "\"2\"", "\"99\""}) {
    SCOPED_TRACE(tag);
    const uint64_t before = Committed();
    HttpReply reply = http_.Post("/v1/people/" + id + "/gp", R"({"gp_id":"GP1234"})", token_,
                                 {{"If-Match", tag}});
    ExpectProblem(reply, 412);
    EXPECT_EQ(reply.Header("etag"), "\"1\"");
    EXPECT_EQ(reply.Json().at("current_version").to_number<uint64_t>(), 1u) << reply.body;
    EXPECT_EQ(Committed(), before);
  }
  ExpectPostRejected(400, "If-Match", "/v1/people/" + id + "/gp", R"({"gp_id":"GP1234"})",
                     {{"If-Match", "\"one\""}});
}

TEST_F(BadInputTest, IdempotencyKeyReusedWithAnotherBodyIsRejected) {
  Registration r;
  HttpReply first = http_.Post("/v1/people", r.Body(), token_, {{"Idempotency-Key", "k-1"}});
  ASSERT_EQ(first.status, 201) << first.body;
  const std::string id(first.Json().at("person_id").as_string());
  ExpectPostRejected(422, "", "/v1/people", Neri().Body(), {{"Idempotency-Key", "k-1"}});
  // A valid request on another path is another request too.
  ExpectPostRejected(422, "", "/v1/people/" + id + "/residence", R"({"istat":"001001"})",
                     {{"Idempotency-Key", "k-1"}});
  ExpectPostRejected(400, "Idempotency-Key", "/v1/people", r.Body(),
                     {{"Idempotency-Key", std::string(201, 'k')}});
}

// Every way of not holding a valid token is a 401 with a challenge, before anything else
// (a missing token on an unknown person is 401, not 404).
TEST_F(BadInputTest, MissingOrBadTokensAreUnauthorized) {
  const std::string id = Register();
  std::string error;
  auto key = api::LoadKeyFile(server_.service().auth_key_path(), &error);
  ASSERT_TRUE(key) << error;
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  api::TokenClaims valid;
  valid.subject = "tester";
  valid.issued_at = now;
  valid.expires_at = now + 3600;
  api::TokenClaims expired = valid;  // beyond the 60 s leeway
  expired.issued_at = now - 7200;
  expired.expires_at = now - 3600;
  auto other_key = api::JwtKey::FromSecret(std::string(48, 'x'));
  ASSERT_TRUE(other_key);
  const std::string good = api::SignToken(valid, *key);
  const size_t dot1 = good.find('.'), dot2 = good.rfind('.');
  // The valid payload under {"alg":"none"} and an empty signature.
  const std::string unsigned_token =
      api::Base64UrlEncode(R"({"alg":"none","typ":"JWT"})") + good.substr(dot1, dot2 - dot1) + ".";
  const std::map<std::string, std::string> cases = {
      {"missing", ""},
      {"garbage", "Bearer garbage"},
      {"empty bearer", "Bearer "},
      {"wrong signature", "Bearer " + api::SignToken(valid, *other_key)},
      {"expired", "Bearer " + api::SignToken(expired, *key)},
      {"alg none", "Bearer " + unsigned_token},
      {"tampered",
       "Bearer " + good.substr(0, good.size() - 2) + (good.back() == 'A' ? "BB" : "AA")},
      {"basic scheme", "Basic dGVzdGVyOnNlY3JldA=="},
  };
  for (const auto& [what, authorization] : cases) {
    SCOPED_TRACE(what);
    std::map<std::string, std::string> headers{{"Content-Type", "application/json"}};
    if (!authorization.empty()) headers["Authorization"] = authorization;
    for (const std::string& target : {std::string("/v1/people"), "/v1/people/" + id + "/gp",
                                      std::string("/v1/people/") + kUnknownPerson + "/gp"}) {
      HttpReply reply;
      ExpectRejected(401, "", [&] {
        reply = http_.Send("POST", target, Neri().Body(), headers);
        return reply;
      });
      EXPECT_TRUE(reply.Header("www-authenticate").starts_with("Bearer")) << target;
    }
    HttpReply read;
    ExpectRejected(401, "",
                   [&] { return read = http_.Send("GET", "/v1/people/" + id, "", headers); });
    EXPECT_TRUE(read.Header("www-authenticate").starts_with("Bearer"));
  }
}

TEST_F(BadInputTest, MethodNotAllowedNamesTheAllowedMethods) {
  const std::string id = Register();
  struct Case {
    const char* method;
    std::string target;
    std::vector<std::string> allow;
  };
  const Case cases[] = {{"GET", "/v1/people/" + id + "/swabs", {"POST"}},
                        {"DELETE", "/v1/people/" + id, {"GET"}},
                        {"PUT", "/v1/people", {"GET", "POST"}},
                        {"PATCH", "/v1/swabs/TO-0001/result", {"POST"}}};
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.method) + " " + c.target);
    HttpReply reply;
    ExpectRejected(405, "", [&] {
      return reply = http_.Send(c.method, c.target, "", {{"Authorization", "Bearer " + token_}});
    });
    for (const auto& m : c.allow) {
      EXPECT_NE(reply.Header("allow").find(m), std::string::npos) << reply.Header("allow");
    }
  }
}

TEST_F(BadInputTest, UnknownPathsAreNotFound) {
  Register();
  for (const char* target : {"/v1/nope", "/v1/people/", "/v2/people", "/v1/people//gp",
                             "/V1/PEOPLE", "/v1/swabs/TO-0001", "/v2"}) {
    SCOPED_TRACE(target);
    ExpectRejected(404, "", [&] { return http_.Get(target, token_); });
    ExpectPostRejected(404, "", target, "{}");
  }
}

TEST_F(BadInputTest, ResultsOutOfOrderBreakDomainRules) {
  const std::string id = Register();
  Post201("/v1/people/" + id + "/swabs", R"({"requested_at":"2020-10-01T08:00:00Z","swab_id":"TO-0001","kind":"molecular"})");
  const std::string result =
      R"({"outcome":"positive","lab_id":"LAB-TO1","reported_at":"2020-10-21T15:00:00Z"})";
  // Not collected yet.
  ExpectPostRejected(422, "", "/v1/swabs/TO-0001/result", result);
  Post201("/v1/swabs/TO-0001/collection", R"({"lab_id":"LAB-TO1","collected_at":"2020-10-20T09:00:00Z"})");
  Post201("/v1/swabs/TO-0001/result", result);
  // A second result (either outcome): a change is a correction.
  ExpectPostRejected(422, "", "/v1/swabs/TO-0001/result", result);
  ExpectPostRejected(
      422, "", "/v1/swabs/TO-0001/result",
      R"({"outcome":"negative","lab_id":"LAB-TO1","reported_at":"2020-10-22T15:00:00Z"})");
  // Collected twice.
  ExpectPostRejected(422, "", "/v1/swabs/TO-0001/collection",
                     R"({"lab_id":"LAB-TO1","collected_at":"2020-10-20T10:00:00Z"})");
}

}  // namespace
}  // namespace caseledger::testing
