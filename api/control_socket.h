// DATA/control.sock: a Unix stream socket (mode 0600) on which the running server takes an
// operator's requests that need the databases it holds open (RocksDB lets one process open
// them): today `backup DEST` from `caseledger backup` (docs/operations.md). Whoever can
// open the socket can read the data directory anyway; no token is asked.
//
// One request per connection: a line, answered by one line (JSON), then closed.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace caseledger::api {

class ControlSocket {
 public:
  using Handler = std::function<std::string(const std::string& request)>;
  // Binds `path` (a stale socket left by a crash is replaced) and serves requests on a
  // thread of its own, one at a time. nullptr with `error` set when it cannot bind.
  static std::unique_ptr<ControlSocket> Start(const std::string& path, Handler handler, std::string* error);
  ~ControlSocket();  // stops serving and removes the socket

  ControlSocket(const ControlSocket&) = delete;
  ControlSocket& operator=(const ControlSocket&) = delete;

 private:
  ControlSocket() = default;
  void Run();

  std::string path_;
  Handler handler_;
  int listen_fd_ = -1;
  int stop_fd_[2] = {-1, -1};  // a pipe: written to stop Run()
  std::thread thread_;
};

// Sends `request` to the server listening on `path` and returns its answer; nullopt when
// nothing listens there (no server runs).
std::optional<std::string> AskControlSocket(const std::string& path, const std::string& request);

}  // namespace caseledger::api
