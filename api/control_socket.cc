#include "api/control_socket.h"

#include "api/api_logger.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace caseledger::api {
namespace {

constexpr size_t kMaxRequest = 4096;

bool Address(const std::string& path, sockaddr_un& addr) {
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, path.data(), path.size());
  return true;
}

void WriteAll(int fd, const std::string& bytes) {
  for (size_t done = 0; done < bytes.size();) {
    ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

// Reads until a newline or EOF (at most kMaxRequest bytes).
std::string ReadLine(int fd) {
  std::string line;
  char buf[512];
  while (line.size() < kMaxRequest && line.find('\n') == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    line.append(buf, static_cast<size_t>(n));
  }
  if (auto nl = line.find('\n'); nl != std::string::npos) line.resize(nl);
  return line;
}

}  // namespace

std::unique_ptr<ControlSocket> ControlSocket::Start(const std::string& path, Handler handler, std::string* error) {
  sockaddr_un addr;
  if (!Address(path, addr)) {
    *error = "control socket path " + path + " is longer than " + std::to_string(sizeof addr.sun_path - 1) + " bytes";
    return nullptr;
  }
  std::unique_ptr<ControlSocket> s(new ControlSocket());
  s->path_ = path;
  s->handler_ = std::move(handler);
  s->listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s->listen_fd_ < 0 || ::pipe2(s->stop_fd_, O_CLOEXEC) != 0) {
    *error = std::string("control socket: ") + std::strerror(errno);
    return nullptr;
  }
  ::unlink(path.c_str());  // the store's lock, taken before, says no other server uses it
  const mode_t old_mask = ::umask(077);  // created 0600: the data directory's owner only
  const int bound = ::bind(s->listen_fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  ::umask(old_mask);
  if (bound != 0 || ::listen(s->listen_fd_, 4) != 0) {
    *error = "control socket " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  s->thread_ = std::thread([raw = s.get()] { raw->Run(); });
  return s;
}

ControlSocket::~ControlSocket() {
  if (thread_.joinable()) {
    char stop = 1;
    while (::write(stop_fd_[1], &stop, 1) < 0 && errno == EINTR) {
    }
    thread_.join();
    ::unlink(path_.c_str());
  }
  for (int fd : {listen_fd_, stop_fd_[0], stop_fd_[1]}) {
    if (fd >= 0) ::close(fd);
  }
}

void ControlSocket::Run() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      ApiLog()->error("control socket: poll: {}", std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    timeval timeout{10, 0};  // a client that sends nothing does not hold the socket
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    const std::string request = ReadLine(fd);
    std::string answer;
    try {
      answer = handler_(request);
    } catch (const std::exception& e) {
      answer = std::string(R"({"ok":false,"error":"internal error"})");
      ApiLog()->error("control socket request failed: {}", e.what());
    }
    WriteAll(fd, answer + "\n");
    ::close(fd);
  }
}

std::optional<std::string> AskControlSocket(const std::string& path, const std::string& request) {
  sockaddr_un addr;
  if (!Address(path, addr)) return std::nullopt;
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  WriteAll(fd, request + "\n");
  std::string answer;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    answer.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (auto nl = answer.find('\n'); nl != std::string::npos) answer.resize(nl);
  return answer;
}

}  // namespace caseledger::api
