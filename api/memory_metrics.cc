#include "api/memory_metrics.h"

#include "eventstore/process_memory.h"

#include <cstdio>

namespace caseledger::api {
namespace {

std::string MiB(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.0f MiB", static_cast<double>(bytes) / (1 << 20));
  return text;
}

projections::ViewsMemory ViewsMemoryOf(const serving::LiveViews& views) {
  auto current = views.Current();
  return current ? current->runner->Memory() : projections::ViewsMemory{};
}

}  // namespace

void AddMemoryGauges(HttpMetrics& metrics, const eventstore::EventStore& store, const serving::LiveViews& views,
                     const PersonCache& people) {
  const eventstore::EventStore* st = &store;
  const serving::LiveViews* vr = &views;
  const PersonCache* pc = &people;
  metrics.AddGauge("caseledger_memory_resident_bytes", "Resident set of the process (VmRSS).",
                   [] { return double(eventstore::ResidentSetBytes()); });
  metrics.AddGauge("caseledger_memory_allocated_bytes", "Bytes the allocator has handed out and not taken back (jemalloc; 0 without).",
                   [] { return double(eventstore::ReadAllocatorStats().allocated); });
  metrics.AddGauge("caseledger_memory_store_block_cache_bytes", "The store's RocksDB block cache.",
                   [st] { return double(st->Memory().block_cache); });
  metrics.AddGauge("caseledger_memory_store_memtables_bytes", "The store's RocksDB memtables.",
                   [st] { return double(st->Memory().memtables); });
  metrics.AddGauge("caseledger_memory_store_table_readers_bytes", "The store's index and filter blocks outside its block cache.",
                   [st] { return double(st->Memory().table_readers); });
  metrics.AddGauge("caseledger_memory_views_db_bytes", "The views database's block cache, memtables and table readers.",
                   [vr] { return double(ViewsMemoryOf(*vr).db.total()); });
  metrics.AddGauge("caseledger_memory_views_person_records_bytes",
                   "Person records the views keep cached, with their GP patient status (estimate).",
                   [vr] { return double(ViewsMemoryOf(*vr).person_bytes); });
  metrics.AddGauge("caseledger_memory_api_person_cache_bytes",
                   "Person states and their answers the API keeps (estimate, at most its share of the budget).",
                   [pc] { return double(pc->Bytes()); });
}

std::string MemoryLine(const eventstore::EventStore& store, const serving::LiveViews& views, const PersonCache& people) {
  const eventstore::AllocatorStats a = eventstore::ReadAllocatorStats();
  const eventstore::RocksMemory s = store.Memory();
  const projections::ViewsMemory v = ViewsMemoryOf(views);
  std::string line = "resident " + MiB(eventstore::ResidentSetBytes());
  if (a.jemalloc) line += " (allocated " + MiB(a.allocated) + ", dirty " + MiB(a.dirty) + ")";
  line += "; store: block cache " + MiB(s.block_cache) + " of " + MiB(s.block_cache_capacity) + ", memtables " +
          MiB(s.memtables) + ", table readers " + MiB(s.table_readers);
  line += "; views: block cache " + MiB(v.db.block_cache) + " of " + MiB(v.db.block_cache_capacity) + ", memtables " +
          MiB(v.db.memtables) + ", table readers " + MiB(v.db.table_readers) + ", " +
          std::to_string(v.person_records) + " person records " + MiB(v.person_bytes);
  line += "; API person cache " + MiB(people.Bytes()) + " of " + MiB(people.capacity_bytes());
  return line;
}

}  // namespace caseledger::api
