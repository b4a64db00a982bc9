// What a forked child makes, handed back to its parent: for tests that a forked process
// never repeats its parent's random bytes (eventstore/random_bytes.h).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <optional>
#include <string>

namespace caseledger::testing {

// Forks; the child calls `make` and writes its result (at most 4 KiB) to a pipe, then exits.
// What the child made, or nullopt if the pipe, the fork or the child failed.
inline std::optional<std::string> MadeInForkedChild(const std::function<std::string()>& make) {
  int fds[2];
  if (pipe(fds) != 0) return std::nullopt;
  const pid_t child = fork();
  if (child < 0) {
    close(fds[0]);
    close(fds[1]);
    return std::nullopt;
  }
  if (child == 0) {
    const std::string made = make();
    _exit(write(fds[1], made.data(), made.size()) == static_cast<ssize_t>(made.size()) ? 0 : 1);
  }
  close(fds[1]);
  char buffer[4096];
  std::string made;
  for (ssize_t n; (n = read(fds[0], buffer, sizeof buffer)) > 0;) made.append(buffer, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return made;
}

}  // namespace caseledger::testing
