// The bytes of one access-log record: format byte 2, then the fields as varints, sized
// strings and codes (eventstore/FORMAT.md); format 1 (cereal binary, before 2026-12-06) is
// still read. The "r" keys of access_log.cc's layout hold one record each (formats 1 and
// 2, before 2026-12-06, morning) or a write's records under one key (format 3: a count,
// then the records in format 2 back to back). Private to eventstore/ and its tests; split
// out so that what a damaged database hands back on open is tested and fuzzed alone
// (tests/fuzz/access_record_fuzz.cc).
#pragma once

#include "eventstore/access_log.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace caseledger::eventstore {

// The record's bytes in `format` (2, what is written; 1 for tests of what older stores
// hold).
std::string EncodeAccessRecord(const AccessRecord& r, int format = 2);
// The format-2 bytes appended to `out`; returns where the person's id starts in `out`.
size_t AppendAccessRecord(const AccessRecordView& r, std::string& out);

// Records waiting for the access log's write, each already in its stored bytes, one after
// the other in one buffer. A deque of AccessRecord cost each read two allocations (the
// person's id and the endpoint outgrow a short string) made on an I/O thread and freed on
// the writer's, and the deque's fresh memory was page faults on the I/O threads; these
// buffers keep their capacity from one write to the next.
struct AccessRecordQueue {
  struct Entry {
    size_t end = 0;        // the record's bytes end here (they start where the one before ends)
    size_t person_at = 0;  // its person's id starts here
    size_t person_size = 0;
    int64_t at = 0;        // its instant (µs), kept beside its bytes for the writer's merge
                           // and entry spans, which decoded it back from them per record
  };
  std::string bytes;
  std::vector<Entry> entries;

  void Add(const AccessRecordView& r) {
    const size_t person_at = AppendAccessRecord(r, bytes);
    entries.push_back({bytes.size(), person_at, r.person_id.size(), r.at.micros});
  }
  std::string_view Body(size_t i) const {
    const size_t begin = i == 0 ? 0 : entries[i - 1].end;
    return std::string_view(bytes).substr(begin, entries[i].end - begin);
  }
  std::string_view Person(size_t i) const {
    return std::string_view(bytes).substr(entries[i].person_at, entries[i].person_size);
  }
  // `later`'s records after these.
  void Append(const AccessRecordQueue& later) {
    const size_t shift = bytes.size();
    bytes.append(later.bytes);
    for (Entry e : later.entries) entries.push_back({e.end + shift, e.person_at + shift, e.person_size, e.at});
  }
  // `from`'s record i after these.
  void AppendOne(const AccessRecordQueue& from, size_t i) {
    const size_t begin = i == 0 ? 0 : from.entries[i - 1].end;
    const size_t shift = bytes.size() - begin;
    bytes.append(from.bytes, begin, from.entries[i].end - begin);
    const Entry& e = from.entries[i];
    entries.push_back({e.end + shift, e.person_at + shift, e.person_size, e.at});
  }
  int64_t At(size_t i) const { return entries[i].at; }
  void Clear() {
    bytes.clear();
    entries.clear();
  }
  size_t size() const { return entries.size(); }
  bool empty() const { return entries.empty(); }
};

// nullopt when the bytes are not a record of format 1 or 2: another format byte, short, a
// length beyond the bytes, bytes left over; in format 2 also a varint longer than it must
// be, an unknown code, a literal of a text that has a code, a status beyond 32 bits (each
// record has one encoding).
std::optional<AccessRecord> DecodeAccessRecord(std::string_view bytes);

// Format 3: several records of one write under one key, `3` ‖ varint(count ≥ 1) ‖ count
// records in format 2 (each with its format byte), back to back.
inline constexpr char kAccessEntryFormat = 3;
void AppendAccessEntryHeader(std::string& out, uint64_t count);
// How many records an "r" key's body holds: 1 for a record of format 1 or 2, the count of
// a format-3 entry; 0 when the body is neither (or a format-3 count of 0).
uint64_t AccessRecordsIn(std::string_view body);
// The records of an "r" key's body, in order: the body itself for format 1 or 2, each
// record of a format-3 entry (split, not decoded: DecodeAccessRecord each). nullopt for a
// format-3 entry whose records do not split into exactly its count (a record cut short,
// bytes left over), or for a body that holds no record.
std::optional<std::vector<std::string_view>> SplitAccessRecords(std::string_view body);
// The instant of a format-2 record (its first field), or nullopt.
std::optional<int64_t> AccessRecordAt(std::string_view record);

}  // namespace caseledger::eventstore
