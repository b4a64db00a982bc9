// Private to projections/: what a runner finds in its views database at open (FORMAT.md).
// The database is usable when its format and view names are the runner's, its checkpoint
// parses and is not ahead of the log (unless the log is another node's), and every view
// entry loads: then each view holds what it stored and the runner resumes after the
// checkpoint. Otherwise it is emptied (one range tombstone), stamped with the runner's format
// and views and checkpoint 0, and the views are rebuilt from the log. Person records and the
// measure-start index stay in the database (the batches read the records they need).
#pragma once

#include "projections/view.h"
#include "projections/views_db.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace caseledger::projections {

class ViewsRecovery {
 public:
  struct Options {
    uint64_t committed = 0;   // the log's committed position
    bool remote_log = false;  // RunnerOptions::remote_log
    std::string path;         // for the message when a view cannot be rebuilt in place
    // The database was created by this open: nothing to load or drop, and its meta is not
    // written now but with the first checkpoint (Recovered::meta_unwritten).
    bool created = false;
  };
  // Where the views stand after recovery.
  struct Recovered {
    uint64_t checkpoint = 0;  // last position applied (0: rebuild from the log)
    uint64_t registered = 0;  // index/registered
    bool reset = false;       // views were loaded, then an entry did not: they were Reset
    // The database holds no meta yet (Options::created): the runner puts it (PutMeta) in
    // the batch of its first checkpoint. Until then the database has no checkpoint, and the
    // next open empties it, as it would a database emptied here whose meta a crash lost.
    // Its one synced write and, before a catch-up's first table file is ingested, the
    // memtable's flush that its keys would force (docs/benchmarks.md, session 22) saved.
    bool meta_unwritten = false;
  };

  ViewsRecovery(ViewsDb& db, std::vector<std::unique_ptr<View>>& views, Options options)
      : db_(db), views_(views), options_(std::move(options)) {}

  // Loads the views from a usable database, else empties it. Errors: the database cannot
  // be read or written, or a view that loaded part of a bad database cannot be reset.
  eventstore::StoreResult<Recovered> Run();

 private:
  // The checkpoint of a database of this format and these views, if usable.
  eventstore::StoreResult<std::optional<uint64_t>> Checkpoint();
  // Loads every view entry; false (the views reset) when one does not load.
  eventstore::StoreResult<bool> LoadViews(Recovered& out);
  eventstore::StoreResult<std::optional<uint64_t>> Registered();
  // Forgets what the views loaded (`bad`: the entry that did not load, for the log line).
  eventstore::StoreResult<void> ResetViews(const std::string& bad, Recovered& out);
  eventstore::StoreResult<void> Empty();

  ViewsDb& db_;
  std::vector<std::unique_ptr<View>>& views_;
  Options options_;
};

// The names of the views, comma-separated, as "meta/views" keeps them.
std::string ViewNames(const std::vector<std::unique_ptr<View>>& views);
// Puts "meta/format" and "meta/views" for these views in `batch`.
void PutMeta(ViewsDb::Batch& batch, const std::vector<std::unique_ptr<View>>& views);

}  // namespace caseledger::projections
