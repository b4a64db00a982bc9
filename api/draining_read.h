// A read from a TCP socket that tells Asio's epoll reactor when it emptied the socket's
// receive queue, so that the next read on that socket waits for the kernel's readiness
// event instead of first trying `recv` and failing with EAGAIN.
//
// Asio starts every read with a speculative `recv`. After an answer, that read almost
// always finds nothing (the client is still reading the answer): 0.9 failed `recvfrom` a
// person query at saturation. nginx skips it (a read shorter than its buffer, with no
// EPOLLRDHUP seen, means the queue was empty). Here the kernel says so itself: with
// TCP_INQ set on the socket, each `recvmsg` returns how many bytes are left, and 1 once a
// FIN has come (a short read may have taken the last bytes and the FIN together, after
// which no event comes: a bare short-read rule would then wait for the read timeout). A
// read that leaves 0 reports `done_and_exhausted`, the outcome the reactor already knows
// from a read that returns 0 bytes: it stops trying the socket until its next event.
//
// Why no data is missed: the reactor registers sockets edge-triggered, and every segment
// that arrives after the `recvmsg` wakes epoll again (one that arrives during it is in the
// socket's backlog, delivered with a wake-up when the read releases the socket). The
// reactor's next event on the socket turns speculative reads back on and performs the
// pending read.
//
// Contract: async_read_some(DrainingBuffer(b), handler) on a connected TCP socket reads
// as async_read_some(b) does (same completions, errors and bytes). Only the next read's
// first attempt changes, whatever that read's buffer (Beast's reads too: the reactor's flag
// is per socket, and the same edge-triggered event completes them), and only on a socket
// given EnableDrainingReads() (without TCP_INQ, before Linux 4.18, every read is tried at
// once as before). Reads of one socket are made on one thread. TLS streams and the io_uring
// backend do not use this operation and read as before.
//
// Internal to api/ (session.cc, and its test): this reaches into Asio's detail namespace,
// checked against Asio 1.26 (Boost 1.81).
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/socket_base.hpp>  // before the detail header, which uses it
#include <boost/asio/detail/reactive_socket_recv_op.hpp>
#include <boost/asio/version.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#if BOOST_ASIO_VERSION != 102600
#error "api/draining_read.h specializes Asio 1.26's reactive_socket_recv_op_base: check it against this Asio"
#endif

namespace caseledger::api {

// A single buffer for async_read_some: a read through it that leaves the socket's queue
// empty lets the next read wait for epoll (above).
struct DrainingBuffer : boost::asio::mutable_buffer {
  explicit DrainingBuffer(boost::asio::mutable_buffer b) : boost::asio::mutable_buffer(b) {}
};

// Asks the kernel for the bytes left after each read (TCP_INQ); false when it cannot (the
// socket's reads are then all tried at once, as Asio's are).
inline bool EnableDrainingReads(boost::asio::ip::tcp::socket& socket) {
  const int one = 1;
  return ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_INQ, &one, sizeof one) == 0;
}

// How many times the reactor tried `recv` for a DrainingBuffer read on this thread (the
// speculative attempts and those after an event): what the tests count.
inline uint64_t& DrainingReadAttempts() {
  thread_local uint64_t attempts = 0;
  return attempts;
}

}  // namespace caseledger::api

namespace boost::asio::detail {

// Asio's own class, for the one buffer type above; reactive_socket_recv_op derives from it
// and needs its constructor and reactor_op's ec_ and bytes_transferred_ only.
template <>
class reactive_socket_recv_op_base<caseledger::api::DrainingBuffer> : public reactor_op {
 public:
  reactive_socket_recv_op_base(const boost::system::error_code& success_ec, socket_type socket,
                               socket_ops::state_type state, const caseledger::api::DrainingBuffer& buffer,
                               socket_base::message_flags flags, func_type complete_func)
      : reactor_op(success_ec, &reactive_socket_recv_op_base::do_perform, complete_func),
        socket_(socket),
        state_(state),
        buffer_(buffer),
        flags_(flags) {}

  // As socket_ops::non_blocking_recv1 (EINTR retried, EAGAIN not done, 0 bytes the end of
  // the stream), through recvmsg for the kernel's count of the bytes left.
  static status do_perform(reactor_op* base) {
    auto* o = static_cast<reactive_socket_recv_op_base*>(base);
    ++caseledger::api::DrainingReadAttempts();
    iovec iov{o->buffer_.data(), o->buffer_.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    do {
      n = ::recvmsg(o->socket_, &msg, o->flags_);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      o->ec_ = boost::system::error_code(errno, boost::asio::error::get_system_category());
      if (o->ec_ == boost::asio::error::would_block || o->ec_ == boost::asio::error::try_again) return not_done;
      o->bytes_transferred_ = 0;
      return done_and_exhausted;  // as Asio's: a failed read reports 0 bytes
    }
    o->ec_ = boost::system::error_code();
    o->bytes_transferred_ = static_cast<size_t>(n);
    if (n == 0 && o->buffer_.size() > 0 && (o->state_ & socket_ops::stream_oriented) != 0) {
      o->ec_ = boost::asio::error::eof;
      return done_and_exhausted;
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == IPPROTO_TCP && c->cmsg_type == TCP_CM_INQ) {
        int left;
        std::memcpy(&left, CMSG_DATA(c), sizeof left);
        if (left == 0) return done_and_exhausted;
      }
    }
    return done;
  }

 private:
  socket_type socket_;
  socket_ops::state_type state_;
  boost::asio::mutable_buffer buffer_;
  socket_base::message_flags flags_;
};

}  // namespace boost::asio::detail
