// How the views database (views_db.h) uses memory: part of RunnerOptions, so a public
// header of its own, without RocksDB.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace caseledger::projections {

struct ViewsDbOptions {
  // The block cache (data blocks). The tables' index and filter blocks stay with their
  // table readers, outside it (views_db.cc says why): they grow with the data, a few bytes
  // per key, and ViewRunner::Memory reports them.
  size_t block_cache_bytes = size_t{64} << 20;
  // One memtable's size: a rebuild's batches go there before a flush (at most two exist,
  // the one filling and the one flushing).
  size_t write_buffer_bytes = size_t{64} << 20;
  // While the views catch up from far behind (a start from scratch, a rebuild; ViewsDb::
  // CatchingUp): the memtable's size (0: write_buffer_bytes). A catch-up rewrites every
  // person record and GP row a batch changed; a larger memtable keeps more of those
  // rewrites from ever reaching a table file.
  size_t catch_up_write_buffer_bytes = 0;
  // Called on the writing thread before each batch is written (tests: a slow disk, so that
  // a write behind is still running while the batches after it are applied).
  std::function<void()> before_write;
  // Called on Create's thread before it creates the database (tests: a slow creation).
  std::function<void()> while_creating;
  // Called on Create's thread after each file it writes, renames or would have synced
  // (views_db_creation.h), with what it did (tests: the directory copied as a crash there
  // would leave it).
  std::function<void(const std::string&)> creation_step;
};

}  // namespace caseledger::projections
