// The runner's memory: the person records' sampled size, their bound in bytes, what the
// caches hold for /metrics, and giving memory back after a long catch-up (view_runner.h,
// RunnerOptions::person_cache_bytes).
#include "projections/view_runner_impl.h"

#include "projections/batch_pipeline.h"
#include "projections/memory_estimate.h"
#include "projections/projections_logger.h"
#include "projections/views_db.h"
#include "projections/views_layout.h"
#include "eventstore/process_memory.h"

#include <algorithm>

namespace caseledger::projections {
namespace {

using layout::kPersonStreamPrefix;

// The person cache never goes below this many records, whatever its bytes: a batch's
// people are cached on top anyway, and fewer would make every batch read most of its
// people back.
constexpr size_t kMinPersonCache = 1024;

}  // namespace

void ViewRunner::Impl::SampleRecords(const DecodedBatch& decoded) {
  // Up to kSamples person events spread over the batch: their records are cached (a batch
  // evicts nothing of its own) and changed lately, as the records kept longest are.
  constexpr size_t kSamples = 64;
  // Following the log live, a batch holds a few commands: measuring its records at every
  // batch would add a record walk per command. Once there is an estimate, it is refreshed
  // every kSampleEvery events (a rebuild's batches, 2^17 events, each time).
  constexpr size_t kSampleEvery = 4096;
  const auto& envelopes = decoded.envelopes;
  events_since_sample += envelopes.size();
  if (record_bytes != 0 && events_since_sample < kSampleEvery) return;
  events_since_sample = 0;
  const size_t step = std::max<size_t>(1, envelopes.size() / kSamples);
  size_t bytes = 0, n = 0;
  for (size_t i = 0; i < envelopes.size(); i += step) {
    std::string_view stream = envelopes[i].stream;
    if (!stream.starts_with(kPersonStreamPrefix)) continue;
    const std::string_view id = stream.substr(kPersonStreamPrefix.size());
    const size_t entry = pipeline ? pipeline->CachedBytes(id) : CachedBytes(directory, fold_list, id);
    if (entry == 0) continue;
    bytes += entry;
    ++n;
  }
  if (n == 0) return;
  const double mean = static_cast<double>(bytes) / n;
  // A running mean that follows the history's drift (records grow as people get swabbed,
  // vaccinated, isolated) within a few dozen batches.
  record_bytes = record_bytes == 0 ? mean : 0.95 * record_bytes + 0.05 * mean;
}

size_t ViewRunner::Impl::TablesBytes() const {
  const auto now = std::chrono::steady_clock::now();
  if (!tables_known || now - tables_measured >= kTablesEvery) {
    tables_bytes = db->Memory().table_readers + (options.other_tables ? options.other_tables() : 0);
    tables_measured = now;
    tables_known = true;
  }
  return tables_bytes;
}

size_t ViewRunner::Impl::PersonCacheLimit() const {
  if (options.person_cache_bytes == 0) return options.person_cache;
  size_t bytes = options.person_cache_bytes;
  if (options.records_give_way_to_tables) {
    const size_t tables = TablesBytes();
    bytes = bytes > tables ? bytes - tables : 0;
  }
  // A catch-up's spill (people_spill.h) keeps its index within the records'
  // share: what it saves is the reads of the records it cannot cache.
  if (pipeline) {
    const size_t index = pipeline->SpillIndexBytes();
    bytes = bytes > index ? bytes - index : 0;
  }
  // Until the first sample, a record is taken to be 1 KiB (more than most).
  const double each = record_bytes > 0 ? record_bytes : 1024.0;
  return std::max<size_t>(kMinPersonCache, static_cast<size_t>(static_cast<double>(bytes) / each));
}

void ViewRunner::Impl::NoteMemory() {
  const size_t people = pipeline ? pipeline->CachedPeople() : directory.size();
  cached_people.store(people, std::memory_order_relaxed);
  cached_people_bytes.store(static_cast<uint64_t>(people * record_bytes), std::memory_order_relaxed);
}

eventstore::StoreResult<void> ViewRunner::Settle() {
  // Back in the following settings (a catch-up leaves the database in its own); as at a
  // catch-up's end before session 22, a failure only warns (the views are whole either way).
  if (auto set = impl_->db->CatchingUp(false); !set) ProjectionsLog()->warn("{}", set.error().message);
  auto flushed = impl_->db->Flush();
  eventstore::ReleaseFreeMemory();
  return flushed;
}

ViewsMemory ViewRunner::Memory() const {
  ViewsMemory m;
  m.db = impl_->db->Memory();
  m.person_records = impl_->cached_people.load(std::memory_order_relaxed);
  m.person_bytes = impl_->cached_people_bytes.load(std::memory_order_relaxed);
  return m;
}

}  // namespace caseledger::projections
