// The bad-input battery (docs/api.md), transport level: requests no well-behaved HTTP client
// sends — truncated and oversized bodies, header floods, slow clients — written on a raw
// socket. The server answers with a problem (413, 431) or closes without answering, and
// never writes to the log.
#include "eventstore/event_store.h"
#include "tests/api/bad_input_support.h"

#include <boost/asio.hpp>
#include <poll.h>
#include <sys/socket.h>

#include <cstdlib>
#include <functional>
#include <memory>
#include <thread>

namespace caseledger::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using tcp = boost::asio::ip::tcp;

// What the server did with the bytes written on a raw connection.
struct RawOutcome {
  std::string received;                  // every byte the server wrote
  bool closed = false;                   // the server closed (EOF or reset) before we gave up
  std::chrono::milliseconds elapsed{0};  // from connecting to the close (or giving up)
};

struct RawOptions {
  // `dribble` is written one byte at a time with this pause in between.
  std::chrono::milliseconds byte_interval{300};
  bool half_close = false;                 // shutdown(SHUT_WR) once everything is written
  std::chrono::milliseconds give_up = 3s;  // stop waiting for the server after this
};

// Reads what is ready within `wait`: false once the server has closed.
bool ReadFor(tcp::socket& socket, std::chrono::milliseconds wait, std::string& out) {
  pollfd p{socket.native_handle(), POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return true;
  char buf[16 * 1024];
  ssize_t n = ::recv(socket.native_handle(), buf, sizeof buf, 0);
  if (n <= 0) return false;  // EOF, or reset
  out.append(buf, static_cast<size_t>(n));
  return true;
}

// Connects, writes `head` at once, then `dribble` one byte per `byte_interval`, and reads
// what the server writes until it closes or `give_up` passes since connecting.
RawOutcome RawExchange(uint16_t port, std::string_view head, std::string_view dribble = "",
                       const RawOptions& options = {}) {
  boost::asio::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  RawOutcome out;
  const auto start = Clock::now();
  auto finish = [&](bool closed) {
    out.closed = closed;
    out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    return out;
  };
  boost::system::error_code ec;  // a write may fail once the server has given up on us
  boost::asio::write(socket, boost::asio::buffer(head.data(), head.size()), ec);
  for (size_t i = 0; i < dribble.size() && !ec; ++i) {
    if (!ReadFor(socket, options.byte_interval, out.received)) return finish(true);
    if (Clock::now() - start > options.give_up) return finish(false);
    boost::asio::write(socket, boost::asio::buffer(&dribble[i], 1), ec);
  }
  if (options.half_close) ::shutdown(socket.native_handle(), SHUT_WR);
  while (Clock::now() - start < options.give_up) {
    if (!ReadFor(socket, 50ms, out.received)) return finish(true);
  }
  return finish(false);
}

// Parses one raw HTTP/1.1 response: status line, headers, and the rest as the body.
HttpReply ParseRawReply(std::string_view raw) {
  HttpReply reply;
  size_t end = raw.find("\r\n\r\n");
  if (!raw.starts_with("HTTP/1.1 ") || end == std::string_view::npos) return reply;
  reply.status = std::atoi(std::string(raw.substr(9, 3)).c_str());
  size_t line = raw.find("\r\n") + 2;
  while (line < end) {
    size_t eol = raw.find("\r\n", line);
    std::string_view field = raw.substr(line, eol - line);
    size_t colon = field.find(':');
    std::string name(field.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = field.substr(colon + 1);
    while (value.starts_with(' ')) value.remove_prefix(1);
    reply.headers[name] = std::string(value);
    line = eol + 2;
  }
  reply.body = std::string(raw.substr(end + 4));
  return reply;
}

class BadInputTransportTest : public ::testing::Test {
 protected:
  uint64_t Committed() { return server_->service().store().CommittedPosition(); }

  // A POST head with the test token and a JSON body of `content_length` bytes.
  std::string PostHead(const std::string& target, size_t content_length,
                       const std::string& extra = "") {
    return "POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token_ +
           "\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(content_length) + "\r\n" + extra + "\r\n";
  }

  // The server still serves, and the log holds exactly the one registration made in SetUp.
  void ExpectServingAndUnchanged() {
    HttpClient http(server_->port());
    HttpReply health = http.Send("GET", "/healthz");
    EXPECT_EQ(health.status, 200);
    EXPECT_EQ(Committed(), registered_at_);
  }

  void SetUp() override { Start({}); }

  void Start(std::function<void(api::ServiceOptions&)> tune) {
    server_.reset();
    server_ = std::make_unique<TestServer>(std::move(tune));
    token_ = server_->Token();
    HttpClient http(server_->port());
    HttpReply reply = http.Post("/v1/people", Registration().Body(), token_);
    ASSERT_EQ(reply.status, 201) << reply.body;
    registered_at_ = Committed();
    ASSERT_GT(registered_at_, 0u);
  }

  std::unique_ptr<TestServer> server_;
  std::string token_;
  uint64_t registered_at_ = 0;
};

// A body that would be accepted if it were complete.
std::string ValidBody() {
  Registration r;
  r.family = "Neri";
  r.given = "Luca";
  return r.Body();
}

TEST_F(BadInputTransportTest, TruncatedBodyThenHalfCloseIsNotProcessed) {
  const std::string body = ValidBody();
  RawOptions options;
  options.half_close = true;
  options.give_up = 2s;
  RawOutcome out =
      RawExchange(server_->port(), PostHead("/v1/people", body.size() + 40) + body, "", options);
  EXPECT_TRUE(out.closed) << "the server kept waiting for a body that cannot come";
  EXPECT_EQ(out.received, "") << "the server answered a request it did not receive whole";
  ExpectServingAndUnchanged();
}

TEST_F(BadInputTransportTest, TruncatedBodyThenCloseIsNotProcessed) {
  const std::string body = ValidBody();
  {
    boost::asio::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), server_->port()});
    boost::asio::write(socket, boost::asio::buffer(PostHead("/v1/people", body.size() + 1) + body));
  }  // closed
  std::this_thread::sleep_for(200ms);
  ExpectServingAndUnchanged();
}

// Requests that cannot be framed (the server cannot tell where they end) are answered 400
// with a problem, the connection is closed, and nothing is written.
TEST_F(BadInputTransportTest, UnframeableRequestsAre400AndTheConnectionIsClosed) {
  const std::string auth = "Authorization: Bearer " + token_ + "\r\n";
  const std::string body = ValidBody();
  const std::string post = "POST /v1/people HTTP/1.1\r\nHost: x\r\n" + auth;
  const std::string cases[] = {
      post + "Content-Length: abc\r\n\r\n" + body,
      post + "Content-Length: -5\r\n\r\n" + body,
      post + "Content-Length: 2\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
          body,
      post + "Content-Length: " + std::to_string(body.size()) +
          "\r\nTransfer-Encoding: chunked\r\n\r\n" + body,
      post + "Transfer-Encoding: chunked\r\n\r\nzz\r\n" + body + "\r\n0\r\n\r\n",
      "GARBAGE\r\n\r\n",
      "POST /v1/people HTTP/9.9\r\n" + auth + "\r\n",
      "GET /healthz HTTP/1.1\r\nHost: x\r\nBad Field: y\r\n\r\n",
      "GET /healthz HTTP/1.1\nHost: x\n\n",
      // A second chunk whose size is not hex, after a first one that was.
      post + "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\nzz\r\n\r\n",
  };
  for (const std::string& request : cases) {
    SCOPED_TRACE(request.substr(0, request.find("\r\n\r\n")));
    RawOptions options;
    options.give_up = 2s;
    RawOutcome out = RawExchange(server_->port(), request, "", options);
    EXPECT_TRUE(out.closed);
    HttpReply reply = ParseRawReply(out.received);
    ExpectProblem(reply, 400);
    EXPECT_EQ(reply.headers["connection"], "close");
    ExpectServingAndUnchanged();
  }
}

TEST_F(BadInputTransportTest, OversizedBodyIs413AndTheConnectionIsClosed) {
  // Content-Length above the limit is refused from the header, before any body is read.
  const std::string body = "{\"family_name\":\"" + std::string(70 * 1024, 'x') + "\"}";
  RawOutcome out = RawExchange(server_->port(), PostHead("/v1/people", body.size()) + body);
  EXPECT_TRUE(out.closed) << "the connection stays open after a 413";
  HttpReply reply = ParseRawReply(out.received);
  ExpectProblem(reply, 413);
  ExpectServingAndUnchanged();
}

TEST_F(BadInputTransportTest, OversizedChunkedBodyIs413AndTheConnectionIsClosed) {
  std::string chunks;
  const std::string chunk(8 * 1024, 'x');
  for (int i = 0; i < 9; ++i) chunks += "2000\r\n" + chunk + "\r\n";  // 72 KiB
  chunks += "0\r\n\r\n";
  const std::string head =
      "POST /v1/people HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token_ +
      "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  RawOutcome out = RawExchange(server_->port(), head + chunks);
  EXPECT_TRUE(out.closed) << "the connection stays open after a 413";
  HttpReply reply = ParseRawReply(out.received);
  ExpectProblem(reply, 413);
  EXPECT_EQ(reply.Header("connection"), "close");
  ExpectServingAndUnchanged();
}

// The other side of the body limit: results:batch takes bodies far above 64 KiB.
TEST_F(BadInputTransportTest, BatchBodyAboveTheCommandLimitIsRead) {
  std::string csv = "swab_id,outcome,lab_id,reported_at\r\n";
  while (csv.size() < 70 * 1024) csv += "NOSUCH-0001,positive,LAB-TO1,2020-10-21T15:00:00Z\r\n";
  HttpClient http(server_->port());
  HttpReply reply;
  ASSERT_NO_THROW(
      reply = http.Send("POST", "/v1/results:batch", csv,
                        {{"Authorization", "Bearer " + token_}, {"Content-Type", "text/csv"}}))
      << "the connection was closed without an answer";
  EXPECT_EQ(reply.status, 200) << reply.body.substr(0, 300);
  ExpectServingAndUnchanged();  // every row names an unknown swab
}

TEST_F(BadInputTransportTest, HeaderFloodIs431AndTheConnectionIsClosed) {
  std::string many;  // 200 headers of ~60 bytes: ~12 KiB
  for (int i = 0; i < 200; ++i) {
    many += "X-Flood-" + std::to_string(i) + ": " + std::string(40, 'f') + "\r\n";
  }
  const std::string one_huge = "X-Huge: " + std::string(9 * 1024, 'h') + "\r\n";
  for (const std::string& extra : {many, one_huge}) {
    const std::string body = ValidBody();
    RawOutcome out =
        RawExchange(server_->port(), PostHead("/v1/people", body.size(), extra) + body);
    EXPECT_TRUE(out.closed) << "the connection stays open after a 431";
    HttpReply reply = ParseRawReply(out.received);
    ExpectProblem(reply, 431);
    ExpectServingAndUnchanged();
  }
}

// A client that sends one byte every 300 ms is cut off by the 1 s read timeout, whether
// it is slow in the header or in the body, without an answer and without a write.
TEST_F(BadInputTransportTest, SlowClientIsCutOffByTheReadTimeout) {
  Start([](api::ServiceOptions& o) { o.server.read_timeout = std::chrono::milliseconds(1'000); });
  const std::string body = ValidBody();
  struct Case {
    const char* what;
    std::string head, dribble;
  };
  const std::string head = PostHead("/v1/people", body.size());
  const Case cases[] = {{"slow header", "", head + body}, {"slow body", head, body}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    RawOptions options;
    options.give_up = 4s;
    RawOutcome out = RawExchange(server_->port(), c.head, c.dribble, options);
    EXPECT_TRUE(out.closed) << "still connected after " << out.elapsed.count() << " ms";
    EXPECT_GE(out.elapsed, 900ms);
    EXPECT_LE(out.elapsed, 2'000ms);
    EXPECT_EQ(out.received, "");
    ExpectServingAndUnchanged();
  }
}

// Keep-alive is not forever: a connection idle after its answer is closed by the same
// read timeout.
TEST_F(BadInputTransportTest, IdleKeepAliveConnectionIsClosedByTheReadTimeout) {
  Start([](api::ServiceOptions& o) { o.server.read_timeout = std::chrono::milliseconds(500); });
  RawOptions options;
  options.give_up = 2s;
  const auto start = Clock::now();
  RawOutcome out =
      RawExchange(server_->port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "", options);
  EXPECT_TRUE(out.closed);
  EXPECT_TRUE(out.received.starts_with("HTTP/1.1 200")) << out.received;
  EXPECT_LE(Clock::now() - start, 1'500ms);
  ExpectServingAndUnchanged();
}

// A read that got fewer bytes than it asked for lets the next read wait for epoll without
// trying the socket (api/draining_read.h). Nothing may be left unread by it: requests
// pipelined in one segment, a header that comes a few bytes at a time, and a second request
// sent after the first answer are all answered before the read timeout (10 s here).
TEST_F(BadInputTransportTest, BytesAfterAShortReadAreAllReadPipelinedPiecemealOrLater) {
  Start([](api::ServiceOptions& o) { o.server.read_timeout = std::chrono::milliseconds(10'000); });
  const std::string get = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string last = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  struct Case {
    const char* what;
    std::string head, dribble;
    std::chrono::milliseconds byte_interval;
    size_t answers;
  };
  const Case cases[] = {
      {"three pipelined in one write", get + get + last, "", 0ms, 3},
      {"a header a byte at a time", "GET /heal", last.substr(9), 20ms, 1},
      {"a second request after the first answer", get, last, 5ms, 2},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    RawOptions options;
    options.byte_interval = c.byte_interval;
    options.give_up = 5s;
    RawOutcome out = RawExchange(server_->port(), c.head, c.dribble, options);
    EXPECT_TRUE(out.closed) << "still connected after " << out.elapsed.count() << " ms";
    size_t answers = 0;
    for (size_t at = out.received.find("HTTP/1.1 200 "); at != std::string::npos;
         at = out.received.find("HTTP/1.1 200 ", at + 1)) {
      ++answers;
    }
    EXPECT_EQ(answers, c.answers) << out.received;
    EXPECT_LT(out.elapsed, 4s);
  }
  ExpectServingAndUnchanged();
}

}  // namespace
}  // namespace caseledger::testing
