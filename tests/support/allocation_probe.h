// Counts the bytes this process allocates through operator new in large blocks (1 MiB and
// more), so a test can tell "the 16 MB body was copied once per row" from "read in place"
// exactly, whatever the allocator reuses and however noisy the machine's CPU time is.
//
// Linking allocation_probe.cc replaces the global operator new/delete of the whole test
// binary (with malloc/free, as the default ones are); the count costs one comparison per
// allocation.
#pragma once

#include <cstdint>

namespace caseledger::testing {

// Bytes allocated in blocks of at least 1 MiB since the process started (monotonic).
uint64_t LargeAllocatedBytes();

}  // namespace caseledger::testing
