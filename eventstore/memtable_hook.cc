#include "eventstore/memtable_hook.h"

#include <rocksdb/slice_transform.h>

namespace caseledger::eventstore {
namespace {

thread_local void (*t_fire)(void*) = nullptr;
thread_local void* t_arg = nullptr;

inline void Fire() {
  if (t_fire != nullptr) [[unlikely]] {
    auto fire = t_fire;
    t_fire = nullptr;
    fire(t_arg);
  }
}

// The skip list, every call passed through; the inserts call the hook first.
class HookedRep : public rocksdb::MemTableRep {
 public:
  HookedRep(rocksdb::MemTableRep* inner, rocksdb::Allocator* allocator) : MemTableRep(allocator), inner_(inner) {}

  rocksdb::KeyHandle Allocate(const size_t len, char** buf) override { return inner_->Allocate(len, buf); }
  void Insert(rocksdb::KeyHandle handle) override {
    Fire();
    inner_->Insert(handle);
  }
  bool InsertKey(rocksdb::KeyHandle handle) override {
    Fire();
    return inner_->InsertKey(handle);
  }
  void InsertWithHint(rocksdb::KeyHandle handle, void** hint) override {
    Fire();
    inner_->InsertWithHint(handle, hint);
  }
  bool InsertKeyWithHint(rocksdb::KeyHandle handle, void** hint) override {
    Fire();
    return inner_->InsertKeyWithHint(handle, hint);
  }
  void InsertWithHintConcurrently(rocksdb::KeyHandle handle, void** hint) override {
    Fire();
    inner_->InsertWithHintConcurrently(handle, hint);
  }
  bool InsertKeyWithHintConcurrently(rocksdb::KeyHandle handle, void** hint) override {
    Fire();
    return inner_->InsertKeyWithHintConcurrently(handle, hint);
  }
  void InsertConcurrently(rocksdb::KeyHandle handle) override {
    Fire();
    inner_->InsertConcurrently(handle);
  }
  bool InsertKeyConcurrently(rocksdb::KeyHandle handle) override {
    Fire();
    return inner_->InsertKeyConcurrently(handle);
  }
  bool Contains(const char* key) const override { return inner_->Contains(key); }
  void MarkReadOnly() override { inner_->MarkReadOnly(); }
  void MarkFlushed() override { inner_->MarkFlushed(); }
  void Get(const rocksdb::LookupKey& k, void* callback_args, bool (*callback_func)(void*, const char*)) override {
    inner_->Get(k, callback_args, callback_func);
  }
  uint64_t ApproximateNumEntries(const rocksdb::Slice& start_ikey, const rocksdb::Slice& end_key) override {
    return inner_->ApproximateNumEntries(start_ikey, end_key);
  }
  void UniqueRandomSample(const uint64_t num_entries, const uint64_t target_sample_size,
                          std::unordered_set<const char*>* entries) override {
    inner_->UniqueRandomSample(num_entries, target_sample_size, entries);
  }
  size_t ApproximateMemoryUsage() override { return inner_->ApproximateMemoryUsage(); }
  Iterator* GetIterator(rocksdb::Arena* arena) override { return inner_->GetIterator(arena); }
  Iterator* GetDynamicPrefixIterator(rocksdb::Arena* arena) override { return inner_->GetDynamicPrefixIterator(arena); }
  bool IsMergeOperatorSupported() const override { return inner_->IsMergeOperatorSupported(); }
  bool IsSnapshotSupported() const override { return inner_->IsSnapshotSupported(); }

 private:
  std::unique_ptr<rocksdb::MemTableRep> inner_;
};

class HookedSkipListFactory : public rocksdb::SkipListFactory {
 public:
  rocksdb::MemTableRep* CreateMemTableRep(const rocksdb::MemTableRep::KeyComparator& compare,
                                          rocksdb::Allocator* allocator, const rocksdb::SliceTransform* transform,
                                          rocksdb::Logger* logger) override {
    return new HookedRep(SkipListFactory::CreateMemTableRep(compare, allocator, transform, logger), allocator);
  }
};

// RocksDB's hash link list behind the hook, hashing by `own` when given, else by the
// transform RocksDB hands the factory (the family's prefix extractor).
// - Whole keys (`own` a no-op transform): the family has no prefix extractor, so the database
//   still reads it in total order (an iterator over the whole family, a flush's, gets the
//   rep's sorted copy) and no read of it is cut to a prefix. The factory must not carry the
//   inner factory's name: RocksDB replaces a factory of that name with a skip list in a
//   family without a prefix extractor (ColumnFamilyData's SanitizeOptions).
// - By prefix (`own` null): the family has one, so RocksDB keeps the factory whatever its name.
class HookedHashLinkListFactory : public rocksdb::MemTableRepFactory {
 public:
  HookedHashLinkListFactory(size_t buckets, const char* name, std::unique_ptr<const rocksdb::SliceTransform> own)
      // No histogram of the buckets logged at each flush (a pass over every bucket).
      : inner_(rocksdb::NewHashLinkListRepFactory(buckets, /*huge_page_tlb_size=*/0,
                                                  /*bucket_entries_logging_threshold=*/4096,
                                                  /*if_log_bucket_dist_when_flash=*/false)),
        name_(name),
        own_(std::move(own)) {}

  rocksdb::MemTableRep* CreateMemTableRep(const rocksdb::MemTableRep::KeyComparator& compare,
                                          rocksdb::Allocator* allocator, const rocksdb::SliceTransform* transform,
                                          rocksdb::Logger* logger) override {
    return new HookedRep(inner_->CreateMemTableRep(compare, allocator, own_ ? own_.get() : transform, logger),
                         allocator);
  }
  const char* Name() const override { return name_; }
  bool IsInsertConcurrentlySupported() const override { return inner_->IsInsertConcurrentlySupported(); }
  bool CanHandleDuplicatedKey() const override { return inner_->CanHandleDuplicatedKey(); }

 private:
  std::unique_ptr<rocksdb::MemTableRepFactory> inner_;
  const char* name_;
  std::unique_ptr<const rocksdb::SliceTransform> own_;
};

// stream '\0' BE64(version) -> stream '\0'.
class StreamPrefixTransform : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "CaseledgerStreamPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    // The hash table transforms every key it holds, in the domain or not: such a key is its
    // own prefix.
    if (!InDomain(key)) return key;
    return rocksdb::Slice(key.data(), key.size() - 8);
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return key.size() >= 9 && key[key.size() - 9] == '\0';
  }
};

}  // namespace

void ArmMemtableInsertHook(void (*fire)(void*), void* arg) {
  t_fire = fire;
  t_arg = arg;
}

void DisarmMemtableInsertHook() {
  t_fire = nullptr;
  t_arg = nullptr;
}

std::shared_ptr<rocksdb::MemTableRepFactory> NewHookedSkipListFactory() {
  return std::make_shared<HookedSkipListFactory>();
}

std::shared_ptr<rocksdb::MemTableRepFactory> NewHookedHashedFactory(size_t buckets) {
  return std::make_shared<HookedHashLinkListFactory>(buckets, "CaseledgerHashedWholeKey",
                                                     std::unique_ptr<const rocksdb::SliceTransform>(rocksdb::NewNoopTransform()));
}

std::shared_ptr<rocksdb::MemTableRepFactory> NewHookedPrefixHashedFactory(size_t buckets) {
  return std::make_shared<HookedHashLinkListFactory>(buckets, "CaseledgerHashedByPrefix", nullptr);
}

std::shared_ptr<const rocksdb::SliceTransform> NewStreamPrefixTransform() {
  return std::make_shared<StreamPrefixTransform>();
}

}  // namespace caseledger::eventstore
