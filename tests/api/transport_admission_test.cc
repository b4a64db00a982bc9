// Audit 2026-12, finding 2, at the transport: a request is authenticated (and, where the
// route allows it, authorized) on its headers, before any byte of a large body is read;
// `Expect: 100-continue` is honoured; connections are capped in all and per client.
// Written on raw sockets: the point is what the server does before the body is sent.
#include "tests/api/bad_input_support.h"
#include "tests/support/raw_socket.h"

#include <memory>
#include <vector>

namespace caseledger::testing {
namespace {

using namespace std::chrono_literals;

constexpr size_t kLargeBody = 16'000'000;

std::string BatchHead(const std::string& token, size_t length, const std::string& extra = "") {
  return "POST /v1/results:batch HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
         (token.empty() ? std::string() : "Authorization: Bearer " + token + "\r\n") +
         "Content-Type: text/csv\r\nContent-Length: " + std::to_string(length) + "\r\n" + extra + "\r\n";
}

int StatusOf(const std::string& raw) {
  return raw.starts_with("HTTP/1.1 ") && raw.size() >= 12 ? std::stoi(raw.substr(9, 3)) : 0;
}

class TransportAdmissionTest : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }
  void Start(std::function<void(api::ServiceOptions&)> tune) {
    server_.reset();
    server_ = std::make_unique<TestServer>(std::move(tune));
    server_->Grant("lab-1", "lab", "LAB-TO1");
  }
  // The server answers a normal request on a connection of its own.
  void ExpectServing(const char* source = "127.0.0.1") {
    RawSocket s(server_->port(), source);
    ASSERT_TRUE(s.valid());
    ASSERT_TRUE(s.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    s.ReadUntil(2s, "\r\n\r\n");
    EXPECT_EQ(StatusOf(s.received()), 200) << s.received();
  }
  std::unique_ptr<TestServer> server_;
};

// The headers of a 16 MB upload, and not one byte of its body: a caller without a token,
// or without a grant that may upload, is answered at once and the connection closed.
// (The server used to wait for the whole body, parse it, and only then refuse.)
TEST_F(TransportAdmissionTest, LargeBatchIsRefusedOnItsHeadersBeforeTheBodyIsSent) {
  struct Case {
    const char* what;
    std::string token;
    int status;
  };
  const Case cases[] = {{"no token", "", 401},
                        {"bad token", "not.a.token", 401},
                        {"no grant", server_->Token("nobody"), 403},
                        {"operator only of views", server_->Token("mayor"), 403}};
  server_->Grant("mayor", "mayor", "001272");
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    RawSocket s(server_->port());
    ASSERT_TRUE(s.Send(BatchHead(c.token, kLargeBody)));
    const auto start = std::chrono::steady_clock::now();
    bool closed = s.ReadUntil(3s);  // until the server closes
    EXPECT_TRUE(closed) << "the server waits for a body it will refuse";
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
    EXPECT_EQ(StatusOf(s.received()), c.status) << s.received();
    EXPECT_NE(s.received().find("Connection: close"), std::string::npos) << s.received();
  }
  ExpectServing();
}

// A client that sends the whole body anyway reads the refusal, not a reset: the server
// discards what is still coming for a bounded time after answering.
TEST_F(TransportAdmissionTest, RefusedClientThatSendsTheBodyAnywayReadsTheAnswer) {
  RawSocket s(server_->port());
  ASSERT_TRUE(s.Send(BatchHead(server_->Token("nobody"), 4'000'000)));
  const std::string chunk(64 * 1024, ',');
  bool sent = true;
  for (size_t n = 0; n < 4'000'000 && sent; n += chunk.size()) {
    sent = s.Send(std::string_view(chunk).substr(0, std::min(chunk.size(), 4'000'000 - n)));
  }
  EXPECT_TRUE(sent) << "the server reset the connection while the body was coming";
  s.ReadUntil(3s);
  EXPECT_EQ(StatusOf(s.received()), 403) << s.received();
}

// The header limit (8 KiB) counts the whole header however it arrives: in pieces it
// used to pass, since each parse call saw only what was new.
TEST_F(TransportAdmissionTest, HeaderSentInPiecesCountsWhole) {
  RawSocket s(server_->port());
  ASSERT_TRUE(s.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
  for (int i = 0; i < 4 && !s.ReadUntil(100ms); ++i) {
    s.Send("X-Piece-" + std::to_string(i) + ": " + std::string(3000, 'p') + "\r\n");
  }
  s.Send("\r\n");
  EXPECT_TRUE(s.ReadUntil(3s)) << "still open: " << s.received();
  EXPECT_EQ(StatusOf(s.received()), 431) << s.received();
}

// Refusals of requests with a small body keep the connection (the body is drained), so a
// keep-alive client goes on as before.
TEST_F(TransportAdmissionTest, SmallBodyRefusalKeepsTheConnection) {
  HttpClient http(server_->port());
  auto refused = http.Send("POST", "/v1/people", "{}", {{"Content-Type", "application/json"}});
  ExpectProblem(refused, 401);
  auto after = http.Send("GET", "/healthz");
  EXPECT_EQ(after.status, 200);
}

TEST_F(TransportAdmissionTest, ExpectContinueIsSentOnlyToAnAdmittedCaller) {
  for (auto [token, status] : {std::pair{std::string(), 401}, std::pair{server_->Token("nobody"), 403}}) {
    RawSocket s(server_->port());
    ASSERT_TRUE(s.Send(BatchHead(token, kLargeBody, "Expect: 100-continue\r\n")));
    EXPECT_TRUE(s.ReadUntil(3s)) << "not closed: " << s.received();
    EXPECT_EQ(StatusOf(s.received()), status) << s.received();
    EXPECT_EQ(s.received().find("100 Continue"), std::string::npos) << s.received();
  }
  // Too large for the route: 413 without 100 Continue.
  {
    RawSocket s(server_->port());
    ASSERT_TRUE(s.Send(BatchHead(server_->Token("lab-1"), 17 * 1024 * 1024, "Expect: 100-continue\r\n")));
    s.ReadUntil(3s);
    EXPECT_EQ(StatusOf(s.received()), 413) << s.received();
  }
  // An expectation the server does not know: 417.
  {
    RawSocket s(server_->port());
    ASSERT_TRUE(s.Send(BatchHead(server_->Token("lab-1"), 100, "Expect: teapot\r\n")));
    s.ReadUntil(3s);
    EXPECT_EQ(StatusOf(s.received()), 417) << s.received();
  }
  // Admitted: 100 Continue first, then the body is read and answered.
  const std::string csv = "swab_id,outcome,lab_id,reported_at\nNOSUCH-1,positive,LAB-TO1,2020-10-21T15:00:00Z\n";
  RawSocket s(server_->port());
  ASSERT_TRUE(s.Send(BatchHead(server_->Token("lab-1"), csv.size(), "Expect: 100-continue\r\n")));
  s.ReadUntil(3s, "\r\n\r\n");
  ASSERT_TRUE(s.received().starts_with("HTTP/1.1 100 Continue\r\n")) << s.received();
  ASSERT_TRUE(s.Send(csv));
  s.ReadUntil(3s, "\"rejected\":1");
  EXPECT_NE(s.received().find("HTTP/1.1 200"), std::string::npos) << s.received();
}

// Eight connections at most, four per client. Connections in the middle of a request
// are never taken away: past a cap the newcomer is refused (429 for its own client's
// cap, 503 for the server's), and a normal request answers once one ends.
TEST_F(TransportAdmissionTest, ConnectionsBeyondTheCapsAreRefused) {
  Start([](api::ServiceOptions& o) {
    o.server.max_connections = 8;
    o.server.max_connections_per_client = 4;
  });
  const std::string partial = "GET /healthz HTTP/1.1\r\n";  // a request begun, not finished
  std::vector<std::unique_ptr<RawSocket>> busy;
  for (const char* source : {"127.0.0.2", "127.0.0.3"}) {
    for (int i = 0; i < 4; ++i) {
      busy.push_back(std::make_unique<RawSocket>(server_->port(), source));
      ASSERT_TRUE(busy.back()->valid());
      ASSERT_TRUE(busy.back()->Send(partial));
    }
  }
  std::this_thread::sleep_for(200ms);  // every one of them has begun its request
  RawSocket same_client(server_->port(), "127.0.0.2");
  EXPECT_TRUE(same_client.ReadUntil(2s)) << "a fifth connection of one client stays open";
  EXPECT_EQ(StatusOf(same_client.received()), 429) << same_client.received();
  RawSocket other_client(server_->port(), "127.0.0.4");
  EXPECT_TRUE(other_client.ReadUntil(2s)) << "a ninth connection stays open";
  EXPECT_EQ(StatusOf(other_client.received()), 503) << other_client.received();
  // The begun requests are intact: finishing one answers it.
  ASSERT_TRUE(busy.front()->Send("Host: x\r\nConnection: close\r\n\r\n"));
  busy.front()->ReadUntil(2s);
  EXPECT_EQ(StatusOf(busy.front()->received()), 200) << busy.front()->received();
  busy.front().reset();
  std::this_thread::sleep_for(100ms);
  ExpectServing("127.0.0.5");
}

// Idle connections (keep-alive, nothing sent) do not lock anyone out: at the cap the
// longest idle one is closed to make room for a client with a request.
TEST_F(TransportAdmissionTest, IdleConnectionsMakeRoomForARequest) {
  Start([](api::ServiceOptions& o) {
    o.server.max_connections = 8;
    o.server.max_connections_per_client = 8;
  });
  std::vector<std::unique_ptr<RawSocket>> idle;
  for (int i = 0; i < 8; ++i) {
    idle.push_back(std::make_unique<RawSocket>(server_->port(), "127.0.0.2"));
    ASSERT_TRUE(idle.back()->valid());
    std::this_thread::sleep_for(10ms);  // an order of idleness
  }
  std::this_thread::sleep_for(200ms);
  for (int round = 0; round < 3; ++round) ExpectServing("127.0.0.3");
  EXPECT_TRUE(idle.front()->ReadUntil(1s)) << "the longest idle connection is still open";
  EXPECT_EQ(idle.front()->received(), "");
  EXPECT_FALSE(idle.back()->ReadUntil(100ms)) << "the newest idle connection was closed first";
}

}  // namespace
}  // namespace caseledger::testing
