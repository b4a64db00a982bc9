// What a test process spends: CPU time and resident memory, read from the kernel, so
// denial-of-service tests can assert that a request cost the in-process server little.
// Process-wide: the figures include the test's own client, which the bounds allow for.
#pragma once

#include <sys/resource.h>

#include <fstream>
#include <string>

namespace caseledger::testing {

// User plus system CPU seconds of the whole process so far.
inline double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// VmRSS or VmHWM (the peak) of this process, in MiB; 0 when /proc is not readable.
inline double StatusMiB(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string name;
  double kib = 0;
  while (in >> name) {
    if (name == key + ":" && in >> kib) return kib / 1024;
    in.ignore(1 << 12, '\n');
  }
  return 0;
}
inline double RssMiB() { return StatusMiB("VmRSS"); }
inline double PeakRssMiB() { return StatusMiB("VmHWM"); }

// Resets VmHWM to the current RSS (Linux: "5" to clear_refs), so PeakRssMiB() measures
// from here; false when the kernel does not allow it.
inline bool ResetPeakRss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return bool(out);
}

// Memory a test allows on top of what it expects: ASan keeps freed blocks in quarantine.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr double kSanitizerSlackMiB = 320;
#else
inline constexpr double kSanitizerSlackMiB = 0;
#endif

}  // namespace caseledger::testing
