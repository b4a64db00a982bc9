#include "tests/support/build_paths.h"

#if !defined(CASELEDGER_SOURCE_DIR) || !defined(CASELEDGER_BINARY_DIR)
#error "CMake defines CASELEDGER_SOURCE_DIR and CASELEDGER_BINARY_DIR for this file"
#endif

namespace caseledger {

const std::string& TestSourceDir() {
  static const std::string dir = CASELEDGER_SOURCE_DIR;
  return dir;
}

const std::string& TestBinaryDir() {
  static const std::string dir = CASELEDGER_BINARY_DIR;
  return dir;
}

}  // namespace caseledger
