// One mapping of RocksDB's failures for all of eventstore/ (rocks_status.h): a full disk is
// kNoSpace wherever it happens (the bulk import's runs, a truncation and a standby used to
// call it an I/O error), a corruption kCorruption, the rest kIo; the message says what.
#include "eventstore/rocks_status.h"

#include <gtest/gtest.h>

namespace caseledger::eventstore {
namespace {

TEST(StoreErrorFromTest, AFullDiskIsNoSpaceACorruptionIsCorruptionTheRestIsIo) {
  const StoreError full = StoreErrorFrom(rocksdb::Status::NoSpace("injected"), "bulk import: write run");
  EXPECT_EQ(full.code, StoreErrorCode::kNoSpace);
  EXPECT_EQ(full.message.rfind("bulk import: write run: ", 0), 0u) << full.message;
  EXPECT_NE(full.message.find("injected"), std::string::npos) << full.message;

  EXPECT_EQ(StoreErrorFrom(rocksdb::Status::Corruption("bad block"), "read log").code, StoreErrorCode::kCorruption);
  EXPECT_EQ(StoreErrorFrom(rocksdb::Status::IOError("disk gone"), "read log").code, StoreErrorCode::kIo);
  EXPECT_EQ(StoreErrorFrom(rocksdb::Status::Incomplete("shutting down"), "flush").code, StoreErrorCode::kIo);
}

}  // namespace
}  // namespace caseledger::eventstore
