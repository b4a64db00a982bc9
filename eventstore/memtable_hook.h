// Private to eventstore/: RocksDB's memtables (the skip list, a hash table for families read
// by whole key, one hashed by stream for the stream index) with one hook, a thread's call on
// its next memtable insert. With enable_pipelined_write a write's batch reaches the memtable
// only after its WAL write and sync succeeded (DBImpl::PipelinedWriteImpl: a failed WAL
// stage completes its writers without a memtable stage), and a later write joins the WAL
// queue behind it. So the group commit learns from the hook, while its write still runs,
// that the group is durable and that the next group may be handed to RocksDB: that group's
// WAL write and sync then run beside this group's memtable inserts, and no write is ever
// handed over before the one ahead of it is synced (group_commit.cc).
//
// Everything else is the skip list's own (SkipListFactory); the factory keeps its name, so
// the OPTIONS file RocksDB writes names the plain skip list. The hash table's factory has a
// name of its own (CaseledgerHashedWholeKey; CaseledgerHashedByPrefix for the stream index's):
// under RocksDB's, a family without a prefix extractor would silently get a skip list
// instead, and lose the hook.
//
// Thread safety: the hook is the calling thread's (thread-local); a memtable is used as
// RocksDB uses any.
#pragma once

#include <rocksdb/memtablerep.h>
#include <rocksdb/slice_transform.h>

#include <memory>

namespace caseledger::eventstore {

// Arms `fire(arg)` for the calling thread's next memtable insert; it is called at most once,
// before that insert, on this thread. Disarm() after the write returned (no insert happens
// when the write fails, or when another thread inserts this thread's batch).
void ArmMemtableInsertHook(void (*fire)(void*), void* arg);
void DisarmMemtableInsertHook();

std::shared_ptr<rocksdb::MemTableRepFactory> NewHookedSkipListFactory();

// A hash table of `buckets` buckets, each a sorted list of the keys that hash to it
// (RocksDB's hash link list on the whole key), with the same hook: an insert hashes its key
// and walks one short list, where the skip list searches from the last insert's place (or
// its top) through levels that grow with the memtable. For families read only by whole
// key (Get): an iterator over the family copies the memtable into a sorted list first,
// which a flush does once. Its inserts are not concurrent (allow_concurrent_memtable_write
// must be off).
std::shared_ptr<rocksdb::MemTableRepFactory> NewHookedHashedFactory(size_t buckets);

// The same hash table, hashing a key by the family's prefix extractor (for the stream index:
// NewStreamPrefixTransform, so that a stream's entries share one short sorted list, a skip
// list once it holds 256). REQUIRES: the family's prefix_extractor is set. Then an iterator
// over the family reads its memtables in RocksDB's prefix mode unless ReadOptions::
// total_order_seek is set: a Seek finds the target's bucket and a Next past its end ends the
// memtable's part, so a read that goes on from one stream into the next misses the
// memtable's entries there, and a SeekToFirst, SeekToLast or SeekForPrev finds none at all.
// Such a read sets total_order_seek (and gets a sorted copy of the table, as a flush does).
std::shared_ptr<rocksdb::MemTableRepFactory> NewHookedPrefixHashedFactory(size_t buckets);

// The stream index's prefix: a key `stream '\0' BE64(version)` (FORMAT.md) without its
// version, so a stream's entries, its key seed (version 0) among them, share it. Keys not
// of that shape are not in its domain.
std::shared_ptr<const rocksdb::SliceTransform> NewStreamPrefixTransform();

}  // namespace caseledger::eventstore
