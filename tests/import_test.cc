// caseledger import (docs/import.md), run as the built executable: an export with bad lines
// is refused whole, each bad line named with its number and field, and the store is left
// as it was; a good export gives the views the same commands give over HTTP, and the
// imported chain verifies.
#include "domain/tax_code.h"
#include "eventstore/event_store.h"
#include "serving/live_views.h"
#include "tests/support/cli_runner.h"
#include "tests/support/test_store.h"
#include "tests/support/test_server.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <map>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace caseledger::testing {
namespace {

using Outcome = CliOutcome;

Outcome Caseledger(const std::string& args, const std::string& dir) {
  return RunCli(BuiltExecutable("caseledger"), args, dir);
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string TaxCode(const std::string& family, const std::string& given, const char* birth, char sex) {
  return domain::ComposeTaxCode(family, given, *domain::Date::Parse(birth), sex, "L219");
}

boost::json::object Registration(const std::string& family, const std::string& given, const char* birth, char sex) {
  return {{"tax_code", TaxCode(family, given, birth, sex)},
          {"family_name", family},
          {"given_names", given},
          {"birth_date", birth},
          {"sex", std::string(1, sex)},
          {"residence_istat", "001272"},
          {"address", "Via Roma 1"},
          {"phone", "+39 011 1234567"}};
}

uint64_t StoredEvents(const std::string& data) {
  eventstore::StoreOptions o = caseledger::testing::StoreOptionsIn(data);
  o.create_if_missing = false;
  auto store = eventstore::EventStore::Open(o);
  if (!store) return ~uint64_t{0};
  return (*store)->CommittedPosition();
}

std::string Line(boost::json::object o) { return boost::json::serialize(o) + "\n"; }

TEST(ImportTest, AnExportWithBadLinesIsRefusedWholeWithLineNumbersAndTheStoreStaysAsItWas) {
  TempDir dir;
  const std::string data = dir.Sub("data");
  auto reg = [](const char* key, const char* family, const char* at) {
    boost::json::object o = Registration(family, "Anna", "1990-03-05", 'F');
    o["command"] = "register_person";
    o["recorded_at"] = at;
    o["person"] = key;
    return Line(o);
  };
  const std::string good =
      reg("P1", "Rossi", "2020-10-01T08:00:00Z") + reg("P2", "Bianchi", "2020-10-01T08:01:00Z") +
      R"({"command":"request_swab","recorded_at":"2020-10-01T09:00:00Z","person":"P1","swab_id":"TO-0001","kind":"molecular"})" "\n"
      R"({"command":"collect_swab","recorded_at":"2020-10-01T10:00:00Z","swab_id":"TO-0001","collected_at":"2020-10-01T10:00:00Z","lab_id":"LAB-TO1"})" "\n";
  WriteFile(dir.Sub("good.jsonl"), good);
  Outcome first = Caseledger("import --data " + data + " --from " + dir.Sub("good.jsonl"), dir.path());
  ASSERT_EQ(first.code, 0) << first.err;
  const uint64_t before = StoredEvents(data);
  ASSERT_EQ(before, 4u);

  const std::string bad =
      reg("P3", "Verdi", "2020-10-02T08:00:00Z") +                                       // 1 good
      "{\"command\":\"register_person\",\n" +                                              // 2 not JSON
      R"({"command":"register_person","recorded_at":"2020-10-02T08:02:00Z","person":"P4","family_name":"Neri","given_names":"Ugo","sex":"M","residence_istat":"001272"})" "\n"  // 3 no birth_date
      R"({"command":"request_swab","recorded_at":"2020-10-02T09:00:00Z","person":"P9","swab_id":"TO-0009","kind":"molecular"})" "\n"   // 4 unknown person
      R"({"command":"request_swab","recorded_at":"2020-10-02T09:01:00Z","person":"P3","swab_id":"TO-0001","kind":"molecular"})" "\n"   // 5 swab taken
      "\n" +                                                                               // 6 blank: skipped
      R"({"command":"start_isolation","recorded_at":"2020-10-02T09:02:00Z","person":"P3","start":"2020-10-02","reason":"positive","colour":"red"})" "\n"  // 7 unknown field
      R"({"command":"start_isolation","recorded_at":"2020-10-01T09:02:00Z","person":"P3","start":"2020-10-01","reason":"positive"})" "\n"  // 8 goes back
      R"({"command":"beam_me_up","recorded_at":"2020-10-03T09:02:00Z","person":"P3"})" "\n"        // 9 unknown command
      R"({"command":"start_isolation","recorded_at":"2020-10-03T09:03:00Z","person":"P3","start":"2020-10-03","reason":"positive"})" "\n";  // 10 good
  WriteFile(dir.Sub("bad.jsonl"), bad);
  Outcome refused = Caseledger("import --data " + data + " --from " + dir.Sub("bad.jsonl"), dir.path());
  EXPECT_EQ(refused.code, 1) << refused.out << refused.err;
  for (const char* expected : {"line 2: ", "line 3: birth_date: ", "line 4: person: ", "line 5: swab_id: ",
                               "line 7: colour: ", "line 8: recorded_at: ", "line 9: command: ",
                               "import refused: 7 bad line(s) of 10"}) {
    EXPECT_NE(refused.err.find(expected), std::string::npos) << expected << " in:\n" << refused.err;
  }
  for (const char* good_line : {"line 1:", "line 6:", "line 10:"}) {
    EXPECT_EQ(refused.err.find(good_line), std::string::npos) << good_line << " in:\n" << refused.err;
  }
  // Nothing of it stayed: not the good lines, not a work file.
  EXPECT_EQ(StoredEvents(data), before);
  EXPECT_FALSE(std::filesystem::exists(data + "/import.tmp"));
  Outcome verified = Caseledger("verify --data " + data + " --chain-only", dir.path());
  EXPECT_EQ(verified.code, 0) << verified.out << verified.err;

  // The same lines without the bad ones go in after what the store holds.
  std::istringstream lines(bad);
  std::string kept, text;
  for (int n = 1; std::getline(lines, text); ++n) {
    if (n == 1 || n == 10) kept += text + "\n";
  }
  WriteFile(dir.Sub("fixed.jsonl"), kept);
  Outcome second = Caseledger("import --data " + data + " --from " + dir.Sub("fixed.jsonl"), dir.path());
  EXPECT_EQ(second.code, 0) << second.err;
  EXPECT_EQ(StoredEvents(data), before + 2);
  verified = Caseledger("verify --data " + data + " --chain-only", dir.path());
  EXPECT_EQ(verified.code, 0) << verified.out << verified.err;
}

// Sends commands over HTTP and writes each as an export line, at the instant the server
// recorded it.
class ExportRecorder {
 public:
  ExportRecorder(TestServer& server, HttpClient& http) : server_(server), http_(http), token_(server.Token()) {}

  // POSTs `body` to `path` and records {"command", "recorded_at", subject..., body...}.
  boost::json::object Run(const std::string& command, const std::string& path, boost::json::object subject,
                          const boost::json::object& body) {
    HttpReply reply = http_.Post(path, boost::json::serialize(body), token_);
    EXPECT_EQ(reply.status, 201) << command << " " << path << ": " << reply.body;
    if (reply.status != 201) return {};
    boost::json::object answer = reply.Json().as_object();
    const uint64_t first = answer.at("first_position").to_number<uint64_t>();
    auto env = server_.service().store().ReadLog(first, 1);
    EXPECT_TRUE(env && env->size() == 1);
    boost::json::object line;
    line["command"] = command;
    line["recorded_at"] = env->front().recorded_at.ToString();
    for (const auto& [k, v] : subject) line[k] = v;
    if (command == "register_person") line["person"] = answer.at("person_id");  // the id it was given
    for (const auto& [k, v] : body) line[k] = v;
    export_ += Line(line);
    return answer;
  }
  const std::string& text() const { return export_; }

 private:
  TestServer& server_;
  HttpClient& http_;
  std::string token_;
  std::string export_;
};

std::vector<std::string> ViewBodies(uint16_t port, const std::string& token) {
  HttpClient http(port);
  std::vector<std::string> out;
  for (const char* path :
       {"/v1/views/region?day=2020-10-25", "/v1/views/region?day=2020-11-05", "/v1/views/municipalities?day=2020-10-25",
        "/v1/views/municipalities/001272?day=2020-10-25", "/v1/views/municipalities/001156?day=2020-11-05",
        "/v1/views/gps/GP0012720001?day=2020-10-25", "/v1/views/labs/LAB-TO1?day=2020-10-21",
        "/v1/views/schools/TOIC81200X?day=2020-10-25", "/v1/views/region/daily.csv?from=2020-10-01&to=2020-11-10"}) {
    HttpReply r = http.Get(path, token);
    out.push_back(std::string(path) + " " + std::to_string(r.status) + " " + r.body);
  }
  return out;
}

TEST(ImportTest, AGoodExportGivesTheViewsOfTheSameCommandsOverHttpAndTheChainVerifies) {
  TempDir dir;
  std::vector<std::string> over_http;
  {
    TestServer server;
    HttpClient http(server.port());
    ExportRecorder rec(server, http);
    auto person = [](const std::string& id) { return boost::json::object{{"person", id}}; };
    auto swab = [](const char* id) { return boost::json::object{{"swab_id", id}}; };
    // The export names people by the ids the server gave them.
    boost::json::object p1_body = Registration("Rossi", "Mario", "1985-12-10", 'M');
    boost::json::object p2_body = Registration("Bianchi", "Anna", "1990-03-05", 'F');
    boost::json::object p3_body = Registration("Verdi", "Ugo", "2008-01-20", 'M');
    std::string p1 = std::string(rec.Run("register_person", "/v1/people", {}, p1_body).at("person_id").as_string());
    std::string p2 = std::string(rec.Run("register_person", "/v1/people", {}, p2_body).at("person_id").as_string());
    std::string p3 = std::string(rec.Run("register_person", "/v1/people", {}, p3_body).at("person_id").as_string());
    ASSERT_FALSE(p1.empty() || p2.empty() || p3.empty());
    const std::string P1 = "/v1/people/" + p1, P2 = "/v1/people/" + p2, P3 = "/v1/people/" + p3;
    rec.Run("assign_gp", P1 + "/gp", person(p1), {{"gp_id", "GP0012720001"}});
    rec.Run("assign_gp", P2 + "/gp", person(p2), {{"gp_id", "GP0012720001"}});
    rec.Run("enrol_in_school", P3 + "/enrolments", person(p3), {{"school", "TOIC81200X"}, {"class", "3B"}, {"role", "student"}});
    rec.Run("request_swab", P1 + "/swabs", person(p1), {{"swab_id", "TO-0001"}, {"kind", "molecular"}, {"reason", "symptoms"}, {"requested_at", "2020-10-19T08:00:00Z"}});
    rec.Run("collect_swab", "/v1/swabs/TO-0001/collection", swab("TO-0001"), {{"lab_id", "LAB-TO1"}, {"collected_at", "2020-10-20T09:00:00Z"}, {"site", "drive-in"}});
    rec.Run("report_result", "/v1/swabs/TO-0001/result", swab("TO-0001"), {{"outcome", "positive"}, {"lab_id", "LAB-TO1"}, {"reported_at", "2020-10-21T15:00:00Z"}});
    rec.Run("start_isolation", P1 + "/isolation", person(p1), {{"start", "2020-10-20"}, {"reason", "positive"}});
    rec.Run("report_contact", P2 + "/contacts", person(p2), {{"contact_of", p1}, {"last_exposure", "2020-10-19"}});
    rec.Run("start_quarantine", P2 + "/quarantine", person(p2), {{"start", "2020-10-19"}, {"reason", "close_contact"}, {"source_case", p1}});
    rec.Run("hospitalisation", P1 + "/hospitalisation", person(p1), {{"kind", "admission"}, {"at", "2020-10-22T10:00:00Z"}, {"facility", "Molinette"}});
    rec.Run("hospitalisation", P1 + "/hospitalisation", person(p1), {{"kind", "icu"}, {"at", "2020-10-23T10:00:00Z"}, {"facility", "Molinette"}});
    rec.Run("hospitalisation", P1 + "/hospitalisation", person(p1), {{"kind", "discharge"}, {"at", "2020-10-28T10:00:00Z"}, {"facility", "Molinette"}});
    rec.Run("request_swab", P2 + "/swabs", person(p2), {{"swab_id", "TO-0002"}, {"kind", "antigen"}, {"reason", "release"}, {"requested_at", "2020-10-28T08:00:00Z"}});
    rec.Run("collect_swab", "/v1/swabs/TO-0002/collection", swab("TO-0002"), {{"lab_id", "LAB-TO1"}, {"collected_at", "2020-10-29T09:00:00Z"}});
    rec.Run("report_result", "/v1/swabs/TO-0002/result", swab("TO-0002"), {{"outcome", "negative"}, {"lab_id", "LAB-TO1"}, {"reported_at", "2020-10-29T18:00:00Z"}});
    rec.Run("end_measure", P2 + "/measures/1/end", boost::json::object{{"person", p2}, {"measure_id", 1}}, {{"at", "2020-10-30"}, {"reason", "negative_test"}});
    rec.Run("close_case", P1 + "/closure", person(p1), {{"outcome", "recovered"}, {"at", "2020-11-02"}});
    rec.Run("request_swab", P3 + "/swabs", person(p3), {{"swab_id", "TO-0003"}, {"kind", "molecular"}, {"requested_at", "2020-10-23T08:00:00Z"}});
    rec.Run("collect_swab", "/v1/swabs/TO-0003/collection", swab("TO-0003"), {{"lab_id", "LAB-TO1"}, {"collected_at", "2020-10-24T09:00:00Z"}});
    rec.Run("report_result", "/v1/swabs/TO-0003/result", swab("TO-0003"), {{"outcome", "positive"}, {"lab_id", "LAB-TO1"}, {"reported_at", "2020-10-25T09:00:00Z"}});
    rec.Run("correct_result", "/v1/swabs/TO-0003/correction", swab("TO-0003"), {{"outcome", "negative"}, {"reason", "sample swap"}, {"lab_id", "LAB-TO1"}});
    rec.Run("change_residence", P3 + "/residence", person(p3), {{"istat", "001156"}, {"address", "Via Po 2"}});
    rec.Run("record_vaccination", P2 + "/vaccinations", person(p2), {{"dose", 1}, {"date", "2021-05-01"}, {"product", "Comirnaty"}});
    rec.Run("erase_personal_data", P2 + "/erasure", person(p2), {{"legal_reason", "GDPR art. 17 request"}});
    WriteFile(dir.Sub("export.jsonl"), rec.text());
    server.service().views().WaitIdle(std::chrono::seconds(10));
    const uint64_t last = server.service().store().CommittedPosition();
    HttpClient wait(server.port());
    ASSERT_EQ(wait.Get("/v1/views/region?min_position=" + std::to_string(last), server.Token()).status, 200);
    over_http = ViewBodies(server.port(), server.Token());
  }

  const std::string data = dir.Sub("data");
  Outcome imported = Caseledger("import --data " + data + " --from " + dir.Sub("export.jsonl"), dir.path());
  ASSERT_EQ(imported.code, 0) << imported.err;
  EXPECT_NE(imported.out.find("imported 27 lines: "), std::string::npos) << imported.out;
  Outcome chain = Caseledger("verify --data " + data + " --chain-only", dir.path());
  EXPECT_EQ(chain.code, 0) << chain.out << chain.err;

  // A server on the imported store (it records the shipped rules after the import) answers
  // every view as the server that took the commands over HTTP.
  std::vector<std::string> imported_views;
  {
    TestServer server([&](api::ServiceOptions& o) { o.data_dir = data; });
    const uint64_t last = server.service().store().CommittedPosition();
    HttpClient wait(server.port());
    ASSERT_EQ(wait.Get("/v1/views/region?min_position=" + std::to_string(last), server.Token()).status, 200);
    imported_views = ViewBodies(server.port(), server.Token());
  }
  ASSERT_EQ(imported_views.size(), over_http.size());
  for (size_t i = 0; i < over_http.size(); ++i) {
    EXPECT_EQ(imported_views[i], over_http[i]);
    EXPECT_NE(over_http[i].find(" 200 "), std::string::npos) << over_http[i];
  }
  // And the whole store verifies: chain, index, heads, and every view against a rebuild.
  Outcome verified = Caseledger("verify --data " + data, dir.path());
  EXPECT_EQ(verified.code, 0) << verified.out << verified.err;
}

// An export of many people, where lines name people and swabs registered long before (a
// result days after the request, a re-test of someone tested earlier, a contact of an earlier
// case), so that a small budget of people in memory has to read them back.
std::string ManyPeopleExport(int people) {
  std::map<int, std::string> later;  // lines due at a later step
  std::string out;
  auto at = [](int step) {
    char text[32];
    std::snprintf(text, sizeof text, "2020-10-%02dT%02d:%02d:00Z", 1 + step / 1440, step / 60 % 24, step % 60);
    return std::string(text);
  };
  auto day = [](int step) {
    char text[32];
    std::snprintf(text, sizeof text, "2020-10-%02d", 1 + step / 1440);
    return std::string(text);
  };
  auto key = [](int i) { return "K" + std::to_string(i); };
  for (int step = 0; step < people + 60; ++step) {
    const std::string now = at(step);
    if (auto due = later.find(step); due != later.end()) out += due->second;
    if (step >= people) continue;
    const int i = step;
    out += R"({"command":"register_person","recorded_at":")" + now + R"(","person":")" + key(i) +
           R"(","family_name":"Rossi)" + std::to_string(i) + R"(","given_names":"Anna","birth_date":"1980-01-0)" +
           std::to_string(1 + i % 9) + R"(","sex":"F","residence_istat":")" + (i % 2 ? "001272" : "001156") + "\"}\n";
    const std::string swab = "TS-" + std::to_string(100000 + i);
    out += R"({"command":"request_swab","recorded_at":")" + now + R"(","person":")" + key(i) + R"(","swab_id":")" +
           swab + R"(","kind":"molecular","reason":"symptoms"})" "\n";
    out += R"({"command":"collect_swab","recorded_at":")" + now + R"(","swab_id":")" + swab + R"(","collected_at":")" +
           now + R"(","lab_id":"LAB-TO1"})" "\n";
    // The result half an hour later; a positive isolates and quarantines the person before.
    const int then = step + 30;
    const bool positive = i % 5 == 0 && i > 0;
    std::string& due = later[then];
    due += R"({"command":"report_result","recorded_at":")" + at(then) + R"(","swab_id":")" + swab +
           R"(","outcome":")" + (positive ? "positive" : "negative") + R"(","lab_id":"LAB-TO1","reported_at":")" +
           at(then) + "\"}\n";
    if (positive) {
      due += R"({"command":"start_isolation","recorded_at":")" + at(then) + R"(","person":")" + key(i) +
             R"(","start":")" + day(then) + R"(","reason":"positive"})" "\n";
      due += R"({"command":"report_contact","recorded_at":")" + at(then) + R"(","person":")" + key(i - 1) +
             R"(","contact_of":")" + key(i) + R"(","last_exposure":")" + day(then) + "\"}\n";
      due += R"({"command":"start_quarantine","recorded_at":")" + at(then) + R"(","person":")" + key(i - 1) +
             R"(","start":")" + day(then) + R"(","reason":"close_contact","source_case":")" + key(i) + "\"}\n";
    }
    // A re-test of someone registered long before, collected and reported an hour later.
    if (i % 7 == 3 && i >= 20) {
      const std::string again = "TR-" + std::to_string(100000 + i);
      out += R"({"command":"request_swab","recorded_at":")" + now + R"(","person":")" + key(i / 2) +
             R"(","swab_id":")" + again + R"(","kind":"antigen","reason":"screening"})" "\n";
      const int hour = step + 60;
      later[hour] += R"({"command":"collect_swab","recorded_at":")" + at(hour) + R"(","swab_id":")" + again +
                     R"(","collected_at":")" + at(hour) + R"(","lab_id":"LAB-TO1"})" "\n" +
                     R"({"command":"report_result","recorded_at":")" + at(hour) + R"(","swab_id":")" + again +
                     R"(","outcome":"negative","lab_id":"LAB-TO1","reported_at":")" + at(hour) + "\"}\n";
    }
  }
  return out;
}

// The log of an imported store with its personal parts open, and the hash at its tip.
std::vector<domain::Envelope> ImportedLog(const std::string& data) {
  eventstore::StoreOptions o = caseledger::testing::StoreOptionsIn(data);
  o.create_if_missing = false;
  auto store = eventstore::EventStore::Open(o);
  if (!store) return {};
  auto log = (*store)->ReadLog(1, 1'000'000).value();
  std::map<uint64_t, std::string> personal;
  for (const auto& env : log) {
    if (env.personal_form != domain::PersonalForm::kSealed || personal.count(env.position)) continue;
    for (const auto& e : (*store)->ReadStream(env.stream, 1, 1'000'000).value()) personal[e.position] = e.personal;
  }
  for (auto& env : log) {
    if (auto it = personal.find(env.position); it != personal.end()) {
      env.personal = it->second;
      env.personal_form = domain::PersonalForm::kOpen;
    }
  }
  return log;
}

std::string FileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ImportTest, ATinyBudgetOfPeopleInMemoryLoadsTheStoreAnUnboundedImportLoads) {
  TempDir dir;
  const int people = 1500;
  WriteFile(dir.Sub("export.jsonl"), ManyPeopleExport(people));
  const std::string unbounded = dir.Sub("unbounded"), tiny = dir.Sub("tiny");
  Outcome all = Caseledger("import --data " + unbounded + " --from " + dir.Sub("export.jsonl") +
                               " --people-in-memory 1000000 --ids " + dir.Sub("all.ids"),
                           dir.path());
  ASSERT_EQ(all.code, 0) << all.err;
  Outcome bounded = Caseledger("import --data " + tiny + " --from " + dir.Sub("export.jsonl") +
                                   " --people-in-memory 3 --ids " + dir.Sub("tiny.ids"),
                               dir.path());
  ASSERT_EQ(bounded.code, 0) << bounded.err;
  EXPECT_NE(bounded.out.find(std::to_string(people) + " people"), std::string::npos) << bounded.out;
  EXPECT_NE(bounded.out.find("people written out to the spill file"), std::string::npos) << bounded.out;
  EXPECT_EQ(all.out.find("spill file"), std::string::npos) << all.out;
  EXPECT_FALSE(std::filesystem::exists(tiny + "/import.tmp")) << "the spill file goes with the work directory";

  // The same events, bodies and personal parts at the same positions (sealed under each
  // store's own keys), so the same views; and the chain of the bounded one verifies.
  const auto expected = ImportedLog(unbounded), got = ImportedLog(tiny);
  ASSERT_GT(expected.size(), static_cast<size_t>(people) * 4);
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const domain::Envelope &a = got[i], &b = expected[i];
    ASSERT_TRUE(a.position == b.position && a.stream == b.stream && a.version == b.version && a.type == b.type &&
                a.body == b.body && a.personal == b.personal && a.recorded_at == b.recorded_at &&
                a.effective_at == b.effective_at)
        << "position " << b.position << ": " << a.stream << " " << a.type << " vs " << b.stream << " " << b.type;
  }
  const std::string ids = FileText(dir.Sub("tiny.ids"));
  EXPECT_EQ(ids, FileText(dir.Sub("all.ids")));
  EXPECT_EQ(std::count(ids.begin(), ids.end(), '\n'), people);
  Outcome verified = Caseledger("verify --data " + tiny, dir.path());
  EXPECT_EQ(verified.code, 0) << verified.out << verified.err;

  // A bad line naming a person who waits in the spill file is still found bad, and refuses all.
  std::string bad = ManyPeopleExport(people);
  bad += R"({"command":"start_isolation","recorded_at":"2020-10-03T00:00:00Z","person":"K7","start":"2020-10-09","reason":"positive"})" "\n";
  WriteFile(dir.Sub("bad.jsonl"), bad);
  const std::string refused_dir = dir.Sub("refused");
  Outcome refused = Caseledger("import --data " + refused_dir + " --from " + dir.Sub("bad.jsonl") +
                                   " --people-in-memory 3", dir.path());
  EXPECT_EQ(refused.code, 1) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("import refused: 1 bad line(s)"), std::string::npos) << refused.err;
  EXPECT_EQ(StoredEvents(refused_dir), 0u);
  EXPECT_FALSE(std::filesystem::exists(refused_dir + "/import.tmp"));
}

}  // namespace
}  // namespace caseledger::testing
