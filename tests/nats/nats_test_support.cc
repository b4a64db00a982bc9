#include "tests/nats/nats_test_support.h"

#include "api/jwt.h"
#include "domain/tax_code.h"
#include "domain/time.h"
#include "eventstore/nats_link.h"
#include "tests/support/build_paths.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>

namespace caseledger::testing {
namespace {

const char* const kFamilyNames[] = {"Rossi", "Bianchi", "Ferrari", "Esposito", "Colombo",
                                    "Ricci", "Marino", "Greco", "Bruno", "Galli"};
const char* const kGivenNames[] = {"Mario", "Giulia", "Luca", "Chiara", "Paolo"};

}  // namespace

const std::vector<std::string>& CaseWorkload::Municipalities() {
  static const std::vector<std::string> v = {"001272", "002158", "003106", "004078", "006003"};
  return v;
}
const std::vector<std::string>& CaseWorkload::Asls() {
  static const std::vector<std::string> v = {"TO", "VC", "NO", "CN1", "AL"};
  return v;
}
const std::vector<std::string>& CaseWorkload::Labs() {
  static const std::vector<std::string> v = {"LAB-TO1", "LAB-NO2"};
  return v;
}
const std::vector<std::string>& CaseWorkload::Gps() {
  static const std::vector<std::string> v = {"GP0012720001", "GP0031060002"};
  return v;
}
const std::vector<std::string>& CaseWorkload::Schools() {
  static const std::vector<std::string> v = {"TOIC81200X"};
  return v;
}

CaseWorkload::CaseWorkload(uint16_t port, std::string token, int threads, int first_person)
    : port_(port), token_(std::move(token)), threads_(threads), first_person_(first_person) {}

CaseWorkload::~CaseWorkload() { Stop(); }

void CaseWorkload::Start(int people) {
  stop_.store(false);
  for (int i = 0; i < threads_; ++i) workers_.emplace_back([this, people] { Worker(people); });
}

void CaseWorkload::Wait() {
  for (auto& t : workers_) t.join();
  workers_.clear();
}

void CaseWorkload::Stop() {
  stop_.store(true);
  Wait();
}

std::string CaseWorkload::first_failure() const {
  std::lock_guard lock(mu_);
  return first_failure_;
}

std::vector<uint64_t> CaseWorkload::AcknowledgedPositions() const {
  std::lock_guard lock(mu_);
  return acknowledged_;
}

std::vector<CaseWorkload::Registration> CaseWorkload::Registrations() const {
  std::lock_guard lock(mu_);
  return registrations_;
}

std::vector<std::string> CaseWorkload::PersonalValues() const {
  std::lock_guard lock(mu_);
  return personal_;
}

void CaseWorkload::Worker(int people) {
  std::unique_ptr<HttpClient> http;
  while (!stop_.load()) {
    const int n = next_.fetch_add(1);
    if (n >= people) return;
    try {
      if (!http) http = std::make_unique<HttpClient>(port_);
      if (OnePerson(*http, first_person_ + n)) {
        done_.fetch_add(1);
        continue;
      }
    } catch (const std::exception& e) {
      std::lock_guard lock(mu_);
      if (first_failure_.empty()) first_failure_ = std::string("person ") + std::to_string(n) + ": " + e.what();
    }
    failures_.fetch_add(1);
    http.reset();
  }
}

bool CaseWorkload::OnePerson(HttpClient& http, int n) {
  const std::string family = kFamilyNames[n % 10];
  const std::string given = kGivenNames[n % 5];
  const domain::Date birth = domain::Date::FromYmd(1950, 1, 1) + n;
  const char sex = n % 2 ? 'F' : 'M';
  const std::string tax_code = domain::ComposeTaxCode(family, given, birth, sex, "L219");
  {
    std::lock_guard lock(mu_);
    personal_.push_back(tax_code);
    if (n < 10) personal_.push_back(family);
  }
  const std::string istat = Municipalities()[n % 5];
  const std::string swab = "SW-NATS-" + std::to_string(n);
  const int day = 1 + n % 28;
  char date[16];
  std::snprintf(date, sizeof date, "2020-10-%02d", day);
  auto check = [&](const HttpReply& r, const char* what) {
    if (r.status != 201) {
      std::lock_guard lock(mu_);
      if (first_failure_.empty()) first_failure_ = std::string(what) + ": " + std::to_string(r.status) + " " + r.body;
      return false;
    }
    const uint64_t pos = r.Json().at("position").to_number<uint64_t>();
    {
      std::lock_guard lock(mu_);
      acknowledged_.push_back(pos);
    }
    uint64_t seen = last_position_.load();
    while (pos > seen && !last_position_.compare_exchange_weak(seen, pos)) {
    }
    return true;
  };
  auto reg = http.Post("/v1/people", R"({"tax_code":")" + tax_code + R"(","family_name":")" + family +
                                         R"(","given_names":")" + given + R"(","birth_date":")" +
                                         birth.ToString() + R"(","sex":")" + std::string(1, sex) +
                                         R"(","residence_istat":")" + istat + R"("})",
                       token_);
  if (!check(reg, "register")) return false;
  const std::string id(reg.Json().at("person_id").as_string());
  {
    std::lock_guard lock(mu_);
    registrations_.push_back({tax_code, family, id, reg.Json().at("position").to_number<uint64_t>()});
  }
  if (!check(http.Post("/v1/people/" + id + "/gp", R"({"gp_id":")" + Gps()[n % 2] + R"("})", token_), "gp")) return false;
  if (!check(http.Post("/v1/people/" + id + "/enrolments",
                       R"({"school":"TOIC81200X","class":")" + std::to_string(1 + n % 3) + R"(A","role":"student"})", token_),
             "enrolment")) {
    return false;
  }
  if (!check(http.Post("/v1/people/" + id + "/swabs", R"({"requested_at":"2020-10-01T08:00:00Z","swab_id":")" + swab + R"(","kind":"molecular"})", token_), "swab")) return false;
  if (!check(http.Post("/v1/swabs/" + swab + "/collection", R"({"lab_id":")" + Labs()[n % 2] + R"(","collected_at":")" + std::string(date) + R"(T08:00:00Z"})", token_),
             "collection")) {
    return false;
  }
  const std::string outcome = n % 4 == 0 ? "positive" : "negative";
  return check(http.Post("/v1/swabs/" + swab + "/result",
                         R"({"outcome":")" + outcome + R"(","lab_id":")" + Labs()[n % 2] + R"(","reported_at":")" +
                             std::string(date) + R"(T18:00:00Z"})",
                         token_),
               "result");
}

std::vector<RelayedMessage> ReadStream(const std::vector<std::string>& urls, const std::string& stream) {
  std::vector<RelayedMessage> out;
  eventstore::NatsLinkOptions lo;
  lo.urls = urls;
  lo.name = "caseledger-test-reader";
  std::string error;
  auto link = eventstore::NatsLink::Connect(lo, &error);
  if (!link) {
    ADD_FAILURE() << error;
    return out;
  }
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = natsStatus(NATS_OK);
  // Right after a node loss the stream may be electing a leader: retry for a while.
  for (int attempt = 0; attempt < 50; ++attempt) {
    s = js_GetStreamInfo(&si, link->js(), stream.c_str(), nullptr, &jerr);
    if (s == NATS_OK) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (s != NATS_OK) {
    ADD_FAILURE() << "stream info: " << eventstore::NatsErrorText(s, jerr);
    return out;
  }
  const uint64_t first = si->State.FirstSeq, last = si->State.LastSeq;
  jsStreamInfo_Destroy(si);
  for (uint64_t seq = first; seq <= last && seq > 0; ++seq) {
    natsMsg* m = nullptr;
    // Also mid-read: a leader lost after the stream info answers "JetStream system
    // temporarily unavailable" (10008) until the next is elected.
    for (int attempt = 0; attempt < 50; ++attempt) {
      s = js_GetMsg(&m, link->js(), stream.c_str(), seq, nullptr, &jerr);
      if (s == NATS_OK) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    if (s != NATS_OK) {
      ADD_FAILURE() << "message " << seq << ": " << eventstore::NatsErrorText(s, jerr);
      return out;
    }
    RelayedMessage r;
    r.seq = seq;
    r.subject = natsMsg_GetSubject(m);
    auto header = [&](const char* name) {
      const char* v = nullptr;
      return natsMsgHeader_Get(m, name, &v) == NATS_OK && v != nullptr ? std::string(v) : std::string();
    };
    r.msg_id = header("Nats-Msg-Id");
    r.position = eventstore::PositionHeader(m);
    r.stream = header(eventstore::kStreamHeader);
    r.type = header(eventstore::kTypeHeader);
    r.schema_version = header(eventstore::kSchemaHeader);
    r.data.assign(natsMsg_GetData(m), size_t(natsMsg_GetDataLength(m)));
    natsMsg_Destroy(m);
    out.push_back(std::move(r));
  }
  return out;
}

std::string StreamLeader(const std::vector<std::string>& urls, const std::string& stream) {
  eventstore::NatsLinkOptions lo;
  lo.urls = urls;
  lo.name = "caseledger-test-leader";
  std::string error;
  auto link = eventstore::NatsLink::Connect(lo, &error);
  if (!link) return "";
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  if (js_GetStreamInfo(&si, link->js(), stream.c_str(), nullptr, &jerr) != NATS_OK) return "";
  std::string leader = si->Cluster != nullptr && si->Cluster->Leader != nullptr ? si->Cluster->Leader : "";
  jsStreamInfo_Destroy(si);
  return leader;
}

void ExpectEveryPositionOnceInOrder(const std::vector<RelayedMessage>& messages, uint64_t last) {
  ASSERT_EQ(messages.size(), last) << "the stream must hold positions 1.." << last << " once each";
  for (size_t i = 0; i < messages.size(); ++i) {
    ASSERT_EQ(messages[i].position, i + 1) << "stream sequence " << messages[i].seq;
    ASSERT_EQ(messages[i].msg_id, std::to_string(i + 1));
  }
}

std::vector<std::string> ViewUrls() {
  std::vector<std::string> urls = {"/v1/views/region?day=2020-10-15", "/v1/views/region?day=2020-10-28",
                                   "/v1/views/region/daily.csv?from=2020-10-01&to=2020-10-31"};
  for (const auto& asl : CaseWorkload::Asls()) {
    urls.push_back("/v1/views/municipalities?asl=" + asl + "&day=2020-10-20");
    urls.push_back("/v1/views/region?asl=" + asl + "&day=2020-10-20");
  }
  for (const auto& m : CaseWorkload::Municipalities()) urls.push_back("/v1/views/municipalities/" + m + "?day=2020-10-20");
  for (const auto& l : CaseWorkload::Labs()) urls.push_back("/v1/views/labs/" + l + "?day=2020-10-20");
  for (const auto& g : CaseWorkload::Gps()) urls.push_back("/v1/views/gps/" + g + "?day=2020-10-20");
  for (const auto& s : CaseWorkload::Schools()) urls.push_back("/v1/views/schools/" + s + "?day=2020-10-20");
  return urls;
}

std::string TokenFor(const std::string& key_path, const std::string& subject) {
  std::string error;
  auto key = api::LoadKeyFile(key_path, &error);
  if (!key) throw std::runtime_error(error);
  api::TokenClaims claims;
  claims.subject = subject;
  claims.issued_at = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  claims.expires_at = claims.issued_at + 3600;
  return api::SignToken(claims, *key);
}

void ServeProcess::Start() {
  const std::string binary = caseledger::TestBinaryDir() + "/app/caseledger";
  std::vector<std::string> args = {binary, "serve", "--data", data_, "--listen", "127.0.0.1:" + std::to_string(port_)};
  args.insert(args.end(), extra_.begin(), extra_.end());
  const std::string log = data_ + ".log";
  pid_ = fork();
  ASSERT_GE(pid_, 0);
  if (pid_ == 0) {
    freopen(log.c_str(), "a", stdout);
    freopen(log.c_str(), "a", stderr);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  ASSERT_TRUE(Answers200("/healthz")) << "caseledger serve did not start; see " << log;
}

bool ServeProcess::Answers200(const char* path) const {
  return WaitUntil([&] {
    try {
      HttpClient probe(port_);
      return probe.Send("GET", path).status == 200;
    } catch (const std::exception&) {
      return false;
    }
  }, std::chrono::seconds(30));
}

void ServeProcess::WaitReady() {
  ASSERT_TRUE(Answers200("/readyz")) << "caseledger serve did not get ready; see " << data_ << ".log";
}

void ServeProcess::Kill(int sig) {
  if (pid_ <= 0) return;
  kill(pid_, sig);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

double ServeProcess::Gauge(const std::string& name) {
  HttpClient http(port_);
  std::istringstream in(http.Send("GET", "/metrics").body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(name + " ")) return std::stod(line.substr(name.size() + 1));
  }
  return -1;
}

uint64_t ServeProcess::Position(const std::string& name) { return uint64_t(std::max(0.0, Gauge(name))); }

bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace caseledger::testing
