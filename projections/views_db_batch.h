// Private to views_db*.cc: a ViewsDb::Batch's representation and its records, shared by
// the batch's own operations (views_db.cc) and the tables made of kept batches
// (views_db_tables.cc).
#pragma once

#include "projections/views_db.h"

#include <rocksdb/slice.h>
#include <rocksdb/status.h>
#include <rocksdb/write_batch.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace caseledger::projections {

// A WriteBatch whose bytes Append and Sort copy as they are. rep_ (protected) is in
// RocksDB's format (db/write_batch.cc): a 12-byte header (sequence, then the count, fixed32
// little-endian at byte 8) and the records one after the other; ours are only Puts and
// Deletes of the default column family.
class ViewsDb::Batch::Rep final : public rocksdb::WriteBatch {
 public:
  Rep() = default;
  // From bytes: RocksDB computes its content flags (has puts, deletes) again from the
  // records if it needs them.
  explicit Rep(std::string&& bytes) : rocksdb::WriteBatch(std::move(bytes)) {}
  std::string& bytes() { return rep_; }
};

namespace views_batch {

inline constexpr size_t kBatchHeader = 12;

inline void SetCount(std::string& rep, uint32_t n) {
  for (int i = 0; i < 4; ++i) rep[8 + i] = static_cast<char>((n >> (8 * i)) & 0xff);
}

// A record of a batch: its key, and where its bytes are in the batch.
struct Record {
  rocksdb::Slice key;
  const char* begin;  // the record's bytes in the batch
  const char* end;
  rocksdb::Slice value;  // a Put's (WriteAsTable's table files)
  bool put;
};

// The records of a batch in their order; false if it holds anything but Puts and Deletes of
// the default column family.
class Records final : public rocksdb::WriteBatch::Handler {
 public:
  Records(const std::string& rep, std::vector<Record>& out) : next_(rep.data() + kBatchHeader), out_(out) {}
  rocksdb::Status PutCF(uint32_t cf, const rocksdb::Slice& key, const rocksdb::Slice& value) override {
    return Add(cf, key, value.data() + value.size(), value, true);
  }
  rocksdb::Status DeleteCF(uint32_t cf, const rocksdb::Slice& key) override {
    return Add(cf, key, key.data() + key.size(), {}, false);
  }

 private:
  rocksdb::Status Add(uint32_t cf, const rocksdb::Slice& key, const char* end, const rocksdb::Slice& value, bool put) {
    if (cf != 0) return rocksdb::Status::NotSupported();
    out_.push_back({key, next_, end, value, put});
    next_ = end;
    return rocksdb::Status::OK();
  }
  const char* next_;  // records are contiguous: one begins where the one before ends
  std::vector<Record>& out_;
};

}  // namespace views_batch
}  // namespace caseledger::projections
