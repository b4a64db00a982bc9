// Replays the committed inputs of every fuzz target through its harness in the normal
// build (g++, and ASan/UBSan under CASELEDGER_SANITIZE): the seed corpus, and every input
// that once crashed a target (regressions/<target>/, one file per bug fixed; see
// docs/fuzzing.md). A harness aborts on a broken property, so a regression fails the test.
#include "tests/fuzz/fuzz_target.h"
#include "tests/support/build_paths.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

// fuzz_targets.inc: FUZZ_TARGET(name) for each line of targets.txt (CMakeLists.txt).
#define FUZZ_TARGET(name) int Fuzz_##name(const uint8_t* data, size_t size);
#include "fuzz_targets.inc"
#undef FUZZ_TARGET

namespace caseledger::fuzz {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> Inputs(const std::string& kind, const std::string& target) {
  std::vector<fs::path> files;
  const fs::path dir = fs::path(caseledger::TestSourceDir()) / "tests/fuzz" / kind / target;
  if (!fs::is_directory(dir)) return files;
  for (const auto& f : fs::directory_iterator(dir)) {
    if (f.is_regular_file()) files.push_back(f.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Runs every input of `target`; returns how many seeds there were.
size_t Replay(const std::string& target, Entry entry) {
  size_t seeds = 0;
  for (const std::string kind : {"corpus", "regressions"}) {
    for (const auto& path : Inputs(kind, target)) {
      std::ifstream in(path, std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      SCOPED_TRACE(path.string());
      // Printed before the call: a harness that aborts names the input it died on.
      std::fprintf(stderr, "replaying %s\n", path.c_str());
      EXPECT_EQ(entry(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), 0);
      if (kind == "corpus") ++seeds;
    }
  }
  return seeds;
}

#define FUZZ_TARGET(name) \
  TEST(FuzzRegression, name) { EXPECT_GT(Replay(#name, &Fuzz_##name), 0u) << "no seed corpus for " #name; }
#include "fuzz_targets.inc"
#undef FUZZ_TARGET

}  // namespace
}  // namespace caseledger::fuzz
