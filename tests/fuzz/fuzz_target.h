// One libFuzzer target per parser (docs/fuzzing.md). A harness file defines its entry as
//
//   CASELEDGER_FUZZ_TARGET(event_codec) { ... data, size ... return 0; }
//
// The clang build (CASELEDGER_FUZZ=ON, ops/fuzz) compiles each file into an executable
// whose LLVMFuzzerTestOneInput is that function; the normal build compiles all of them
// into fuzz_regression_test, which replays the committed corpus and regression inputs
// through the same functions (replay_test.cc). A harness returns 0 and reports a broken
// property by aborting (FUZZ_CHECK), which libFuzzer records as a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace caseledger::fuzz {

using Entry = int (*)(const uint8_t* data, size_t size);

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace caseledger::fuzz

#define FUZZ_CHECK(condition)                                                                 \
  do {                                                                                        \
    if (!(condition)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (false)

#ifdef CASELEDGER_LIBFUZZER
#define CASELEDGER_FUZZ_TARGET(name)                                               \
  int Fuzz_##name(const uint8_t* data, size_t size);                                \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {         \
    return Fuzz_##name(data, size);                                                 \
  }                                                                                 \
  int Fuzz_##name(const uint8_t* data, size_t size)
#else
#define CASELEDGER_FUZZ_TARGET(name) int Fuzz_##name(const uint8_t* data, size_t size)
#endif
