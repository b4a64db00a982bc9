// caseledger import --data DIR --from FILE: builds the store from a legacy export, one JSON
// line per command (docs/import.md), every command through the domain's Decide, written as
// sorted files that RocksDB ingests at once (eventstore/bulk_import.h). Refused whole when
// any line is bad: each bad line is named with its number and field, and the store stays
// as it was. A store that holds events already is imported into after its last position.
//
// Work on both cores: pool threads parse blocks of lines while this thread decides the
// block before (in line order: positions, versions and claims follow the export), and the
// bulk import's threads hash and write the chunks of the log behind it.
#include "app/commands.h"
#include "app/flags.h"
#include "app/import_progress.h"
#include "app/legacy_import.h"
#include "app/reference_files.h"
#include "eventstore/bulk_import.h"

#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>

namespace caseledger::app {
namespace {

constexpr size_t kBlockLines = 8192;

// Lines with their numbers (blank lines are skipped, not numbered again).
struct Block {
  uint64_t end_offset = 0;  // bytes of the file read up to its end
  std::vector<std::pair<uint64_t, std::string>> lines;
};

struct ParsedBlock {
  uint64_t end_offset = 0;
  std::vector<std::pair<uint64_t, domain::Result<ImportLine>>> lines;
};

ParsedBlock Parse(Block block) {
  ParsedBlock out{block.end_offset, {}};
  out.lines.reserve(block.lines.size());
  for (const auto& [number, text] : block.lines) out.lines.emplace_back(number, ParseImportLine(text));
  return out;
}

}  // namespace

int RunImport(const Args& args) {
  Flags flags(args, {"data", "from", "master-key", "reference", "threads", "max-errors", "ids", "format",
                      "people-in-memory"});
  if (!flags.ok()) return UsageError(flags.error());
  auto data = flags.Get("data");
  auto from = flags.Get("from");
  if (!data || !from) return UsageError("import needs --data DIR and --from FILE");
  const int threads = std::atoi(flags.GetOr("threads", "2").c_str());
  if (threads < 1 || threads > 64) return UsageError("--threads is 1 to 64");
  const long max_errors = std::atol(flags.GetOr("max-errors", "50").c_str());
  if (max_errors < 1) return UsageError("--max-errors is 1 or more");
  const long long in_memory = std::atoll(flags.GetOr("people-in-memory", "262144").c_str());
  if (in_memory < 1) return UsageError("--people-in-memory is at least 1");
  const std::string format = flags.GetOr("format", "table");
  if (format != "table" && format != "tsv") return UsageError("--format is table or tsv");

  std::ifstream in(*from, std::ios::binary);
  if (!in) return Failure("cannot read " + *from);
  std::error_code ec;
  const uint64_t file_bytes = std::filesystem::file_size(*from, ec);
  auto reference = LoadReferenceData(flags.GetOr("reference", DefaultReferenceDir()));
  if (!reference) return Failure(reference.error().message);

  eventstore::StoreOptions so;
  so.path = *data + "/store";
  so.master_key_path = flags.GetOr("master-key", *data + "/master.key");  // where serve looks for it
  std::filesystem::create_directories(so.path, ec);
  auto store = eventstore::EventStore::Open(so);
  if (!store) {
    return Failure("cannot open " + so.path + ": " + store.error().message +
                   " (a running server holds the store: stop it first)");
  }
  const uint64_t before = (*store)->CommittedPosition();
  if (before > 0) std::cerr << "import: the store holds " << before << " events; importing after them\n";
  eventstore::BulkImportOptions bo;
  bo.work_dir = *data + "/import.tmp";
  bo.threads = threads;
  auto bulk = eventstore::BulkImport::Begin(**store, bo);
  if (!bulk) return Failure("cannot start the import: " + bulk.error().message);
  // The people's states beyond the budget wait in the work directory (removed with it).
  ImportPeople people(bo.work_dir + "/people.spill", static_cast<size_t>(in_memory));
  if (auto opened = people.Open(); !opened) return Failure("cannot start the import: " + opened.error().message);
  LegacyImport import(**reference, **store, **bulk, people);
  import.set_max_errors(static_cast<size_t>(max_errors));

  TerminalProgress progress("import", file_bytes);
  std::deque<std::future<ParsedBlock>> parsing;
  uint64_t line_number = 0, offset = 0;
  auto decide = [&](ParsedBlock parsed) {
    for (auto& [number, line] : parsed.lines) import.Apply(number, std::move(line));
    progress.Update(parsed.end_offset, parsed.lines.empty() ? 0 : parsed.lines.back().first, (*bulk)->events());
  };
  for (bool more = true; more;) {
    Block block;
    block.lines.reserve(kBlockLines);
    std::string text;
    while (block.lines.size() < kBlockLines && (more = static_cast<bool>(std::getline(in, text)))) {
      ++line_number;
      offset += text.size() + 1;
      if (!text.empty() && text.back() == '\r') text.pop_back();
      if (text.empty()) continue;  // blank lines are allowed (an export's trailing newline)
      block.lines.emplace_back(line_number, std::move(text));
    }
    block.end_offset = offset;
    if (!block.lines.empty()) parsing.push_back(std::async(std::launch::async, Parse, std::move(block)));
    while (parsing.size() > static_cast<size_t>(more ? threads : 0)) {
      decide(parsing.front().get());
      parsing.pop_front();
    }
  }
  if (in.bad()) return Failure("cannot read " + *from);
  progress.Finish();
  if (import.failure()) {
    return Failure("import failed, nothing was imported: " + import.failure()->message);
  }

  if (import.bad_lines() > 0) {
    for (const LineError& e : import.errors()) std::cerr << *from << ": " << e.ToString() << "\n";
    if (import.bad_lines() > import.errors().size()) {
      std::cerr << "... and " << import.bad_lines() - import.errors().size() << " more bad lines\n";
    }
    return Failure("import refused: " + std::to_string(import.bad_lines()) + " bad line(s) of " +
                   std::to_string(line_number) + "; nothing was imported, the store is as it was");
  }
  auto stats = (*bulk)->Commit();
  if (!stats) return Failure("import failed, nothing was imported: " + stats.error().message);
  const double took = progress.seconds();
  if (auto ids_file = flags.Get("ids")) {
    std::ofstream ids(*ids_file);
    auto listed = import.ForEachDerivedId([&](const std::string& key, const std::string& id) {
      ids << key << '\t' << id << '\n';
    });
    if (!listed) return Failure("imported, but cannot list the ids: " + listed.error().message);
    if (!ids) return Failure("imported, but cannot write " + *ids_file);
  }
  const double rate = took > 0 ? static_cast<double>(stats->events) / took : 0;
  if (format == "tsv") {
    std::printf("import\t%llu\t%llu\t%llu\t%.2f\t%.0f\n", static_cast<unsigned long long>(line_number),
                static_cast<unsigned long long>(stats->events), static_cast<unsigned long long>(import.people()),
                took, rate);
  } else {
    std::printf("imported %llu lines: %llu events at positions %llu..%llu, %llu people, in %.1f s (%.0f events/s, "
                "%llu files, %.1f MiB)\n",
                static_cast<unsigned long long>(line_number), static_cast<unsigned long long>(stats->events),
                static_cast<unsigned long long>(stats->first_position),
                static_cast<unsigned long long>(stats->last_position),
                static_cast<unsigned long long>(import.people()), took, rate,
                static_cast<unsigned long long>(stats->files), static_cast<double>(stats->file_bytes) / 1048576.0);
    if (people.stats().written > 0) {
      std::printf("  people written out to the spill file %llu times, read back %llu times (--people-in-memory %lld)\n",
                  static_cast<unsigned long long>(people.stats().written),
                  static_cast<unsigned long long>(people.stats().read), in_memory);
    }
  }
  return 0;
}

}  // namespace caseledger::app
