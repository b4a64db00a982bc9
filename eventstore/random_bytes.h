// Random bytes from the kernel's generator, drawn 4 KiB at a time per thread: libsodium's
// randombytes_buf is one getrandom system call per call, which was one per sealed part and
// per new stream key (~4 % of a bulk import's CPU) and one per new id of the HTTP commands
// (a registration's person, a swab: 0.27 system calls a command of the mix).
//
// Thread safety: any thread; each has its own pool. Bytes handed out are wiped from the
// pool, and a forked child draws afresh (never the parent's bytes).
#pragma once

#include <cstddef>

namespace caseledger::eventstore {

// Fills out[0, n) with random bytes (a request over 1 KiB goes to the kernel directly).
void RandomBytes(unsigned char* out, size_t n);

}  // namespace caseledger::eventstore
