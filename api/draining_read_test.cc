#include "api/draining_read.h"

#include <boost/asio.hpp>
#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <string>

namespace caseledger::api {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// A connected pair on loopback: `server` on the io_context under test, `client` written
// with blocking calls.
class DrainingReadTest : public ::testing::Test {
 protected:
  struct Read {
    bool done = false;
    boost::system::error_code ec;
    size_t n = 0;
    char buf[64];
    std::string Text() const { return std::string(buf, n); }
  };

  void SetUp() override {
    tcp::acceptor acceptor(ioc_, {asio::ip::make_address("127.0.0.1"), 0});
    client_.connect(acceptor.local_endpoint());
    acceptor.accept(server_);
    ASSERT_TRUE(EnableDrainingReads(server_));
  }

  // Writes `bytes` and waits until the server's socket holds them (poll does not read).
  // With `seen`, the reactor then takes their event (runs what is ready): a read started
  // afterwards meets no event left over from bytes it has already read.
  void Send(std::string_view bytes, bool seen = true) {
    asio::write(client_, asio::buffer(bytes.data(), bytes.size()));
    pollfd p{server_.native_handle(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 2'000), 1);
    if (seen) {
      ioc_.poll();
      ioc_.restart();
    }
  }

  void Start(Read& r, size_t size) {
    server_.async_read_some(DrainingBuffer(asio::buffer(r.buf, size)), [&r](boost::system::error_code ec, size_t n) {
      r.done = true;
      r.ec = ec;
      r.n = n;
    });
  }

  // Runs the io_context until `r` completes or two seconds pass.
  void Finish(Read& r) {
    const auto until = std::chrono::steady_clock::now() + 2s;
    while (!r.done && std::chrono::steady_clock::now() < until) ioc_.run_one_for(100ms);
    ioc_.restart();
  }

  asio::io_context ioc_{1};
  // So that poll() runs the reactor also while no read is pending.
  asio::executor_work_guard<asio::io_context::executor_type> work_{ioc_.get_executor()};
  asio::io_context client_ioc_;
  tcp::socket server_{ioc_};
  tcp::socket client_{client_ioc_};
};

// The point of it: after a read that left the socket empty, the next read does not try
// the socket (Asio's speculative recv, which would fail with EAGAIN) until epoll says
// bytes came, and then reads them.
TEST_F(DrainingReadTest, AReadThatLeftNothingLetsTheNextReadWaitWithoutTryingTheSocket) {
  Send("GET");
  Read first;
  const uint64_t before = DrainingReadAttempts();
  Start(first, 16);
  Finish(first);
  ASSERT_TRUE(first.done);
  EXPECT_EQ(first.Text(), "GET");
  EXPECT_EQ(DrainingReadAttempts(), before + 1);

  Read second;
  Start(second, 16);
  ioc_.poll();
  ioc_.restart();
  EXPECT_FALSE(second.done);
  EXPECT_EQ(DrainingReadAttempts(), before + 1) << "the socket was tried although the last read emptied it";

  Send(" /x");
  Finish(second);
  ASSERT_TRUE(second.done);
  EXPECT_FALSE(second.ec);
  EXPECT_EQ(second.Text(), " /x");
  EXPECT_EQ(DrainingReadAttempts(), before + 2);  // one recv, after the event
}

// A read that left bytes (its buffer full): the next one tries the socket at once, as every
// Asio read does.
TEST_F(DrainingReadTest, AReadThatLeftBytesLetsTheNextTryTheSocketAtOnce) {
  Send("0123456789ab");
  Read a, b, c;
  const uint64_t before = DrainingReadAttempts();
  Start(a, 8);
  Finish(a);
  EXPECT_EQ(a.Text(), "01234567");
  Start(b, 8);  // tried at once: gets the four bytes left, a short read
  Finish(b);
  EXPECT_EQ(b.Text(), "89ab");
  EXPECT_EQ(DrainingReadAttempts(), before + 2);
  Start(c, 8);
  ioc_.poll();
  ioc_.restart();
  EXPECT_FALSE(c.done);
  EXPECT_EQ(DrainingReadAttempts(), before + 2);
  Send("!");
  Finish(c);
  EXPECT_EQ(c.Text(), "!");
}

// Bytes that came after a read that left nothing are read whether the reactor saw their event before
// the next read began (no read pending then) or only after it.
TEST_F(DrainingReadTest, BytesThatCameAfterAreReadWhenTheReactorSawThemBeforeOrAfterTheNextRead) {
  Read a, b, c;
  Send("a");
  Start(a, 8);
  Finish(a);
  EXPECT_EQ(a.Text(), "a");

  Send("b");  // its event taken while no read is pending
  Start(b, 8);
  Finish(b);
  ASSERT_TRUE(b.done) << "bytes whose event came between two reads were never read";
  EXPECT_EQ(b.Text(), "b");

  Send("c", false);  // its event not yet taken when the read begins
  Start(c, 8);
  Finish(c);
  ASSERT_TRUE(c.done);
  EXPECT_EQ(c.Text(), "c");
}

// The client's last bytes and its FIN taken by one read: no event will come for the FIN,
// so the next read must try the socket at once and see the end of the stream (a rule of
// "shorter than the buffer means empty" would leave it waiting for the read timeout).
TEST_F(DrainingReadTest, AFinTakenWithTheLastBytesIsSeenByTheNextReadAtOnce) {
  asio::write(client_, asio::buffer("bye", 3));
  client_.shutdown(tcp::socket::shutdown_send);
  pollfd p{server_.native_handle(), POLLRDHUP, 0};
  ASSERT_EQ(::poll(&p, 1, 2'000), 1);
  ioc_.poll();  // the one event, taken before any read
  ioc_.restart();
  Read a, b;
  Start(a, 16);
  Finish(a);
  EXPECT_EQ(a.Text(), "bye");
  Start(b, 16);
  ioc_.poll();
  ioc_.restart();
  ASSERT_TRUE(b.done) << "the end of the stream was not seen without another event";
  EXPECT_EQ(b.ec, asio::error::eof);
}

// The end of the stream and errors complete as with a plain buffer.
TEST_F(DrainingReadTest, TheEndOfTheStreamCompletesAPendingRead) {
  Send("x");
  Read a, b;
  Start(a, 8);
  Finish(a);
  Start(b, 8);
  client_.shutdown(tcp::socket::shutdown_send);
  Finish(b);
  ASSERT_TRUE(b.done);
  EXPECT_EQ(b.ec, asio::error::eof);
  EXPECT_EQ(b.n, 0u);
}

}  // namespace
}  // namespace caseledger::api
