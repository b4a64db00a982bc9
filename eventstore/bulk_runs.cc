#include "eventstore/bulk_runs.h"

#include "eventstore/rocks_status.h"

#include <rocksdb/iterator.h>

#include <algorithm>
#include <filesystem>
#include <queue>

namespace caseledger::eventstore::bulk_import_internal {
namespace {

StoreError RunError(const rocksdb::Status& s, const std::string& what) {
  return StoreErrorFrom(s, "bulk import: " + what);
}

}  // namespace

std::vector<std::string> CutsOf(std::vector<std::string_view> samples, size_t parts) {
  std::vector<std::string> cuts;
  if (parts < 2 || samples.size() < 2 * parts) return cuts;
  std::sort(samples.begin(), samples.end());
  for (size_t part = 1; part < parts; ++part) {
    const std::string_view cut = samples[samples.size() * part / parts];
    if (cuts.empty() || cuts.back() < cut) cuts.emplace_back(cut);
  }
  return cuts;
}

SortedRuns::SortedRuns(std::string path_prefix, rocksdb::Env* env) : prefix_(std::move(path_prefix)) {
  options_.compression = rocksdb::kNoCompression;
  options_.bottommost_compression = rocksdb::kNoCompression;
  if (env) options_.env = env;
}

SortedRuns::~SortedRuns() {
  iterators_.clear();
  readers_.clear();
  std::error_code ec;
  for (const std::string& path : paths_) std::filesystem::remove(path, ec);
}

StoreResult<void> SortedRuns::Write(const Fill& fill) {
  auto file = WriteRun(NextPath(), fill);
  if (!file) return file.error();
  Add(std::move(*file));
  return {};
}

StoreResult<SortedRuns::RunFile> SortedRuns::WriteRun(std::string path, const Fill& fill) const {
  RunFile file;
  file.path = std::move(path);
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), options_);
  rocksdb::Status s = writer.Open(file.path);
  if (!s.ok()) return RunError(s, "open " + file.path);
  TableSink sink{writer, 0, &file.samples};
  s = fill(sink);
  if (!s.ok()) return RunError(s, "write " + file.path);
  if (sink.entries == 0) {
    std::error_code ec;
    std::filesystem::remove(file.path, ec);
    return file;
  }
  s = writer.Finish();
  if (!s.ok()) return RunError(s, "finish " + file.path);
  file.entries = sink.entries;
  return file;
}

void SortedRuns::Add(RunFile file) {
  if (file.entries == 0) return;
  paths_.push_back(std::move(file.path));
  entries_ += file.entries;
  for (std::string& sample : file.samples) samples_.push_back(std::move(sample));
}

StoreResult<void> SortedRuns::OpenReaders() {
  while (readers_.size() < paths_.size()) {
    auto reader = std::make_unique<rocksdb::SstFileReader>(options_);
    const std::string& path = paths_[readers_.size()];
    rocksdb::Status s = reader->Open(path);
    if (!s.ok()) return RunError(s, "open " + path);
    rocksdb::ReadOptions ro;
    ro.verify_checksums = false;  // written by this process a moment ago
    ro.fill_cache = false;
    iterators_.emplace_back(reader->NewIterator(ro));
    readers_.push_back(std::move(reader));
  }
  return {};
}

StoreResult<std::optional<std::string>> SortedRuns::Find(std::string_view key) {
  if (auto opened = OpenReaders(); !opened) return opened.error();
  const rocksdb::Slice k(key.data(), key.size());
  for (size_t i = iterators_.size(); i-- > 0;) {
    rocksdb::Iterator& it = *iterators_[i];
    it.Seek(k);
    if (!it.status().ok()) return RunError(it.status(), "read " + paths_[i]);
    if (it.Valid() && it.key() == k) return std::optional<std::string>(it.value().ToString());
  }
  return std::optional<std::string>();
}

namespace {

// A run file read as a RunCursor.
class FileCursor final : public RunCursor {
 public:
  explicit FileCursor(std::unique_ptr<rocksdb::Iterator> it) : it_(std::move(it)) {}
  void Seek(std::string_view target) override { it_->Seek(rocksdb::Slice(target.data(), target.size())); }
  bool Valid() const override { return it_->Valid(); }
  std::string_view key() const override { return {it_->key().data(), it_->key().size()}; }
  std::string_view value() const override { return {it_->value().data(), it_->value().size()}; }
  void Next() override { it_->Next(); }
  rocksdb::Status status() const { return it_->status(); }

 private:
  std::unique_ptr<rocksdb::Iterator> it_;
};

}  // namespace

StoreResult<void> SortedRuns::MergeRange(std::string_view lower, std::string_view upper, RunCursor* newest,
                                         const Visit& visit) const {
  std::vector<std::unique_ptr<rocksdb::SstFileReader>> readers;
  std::vector<std::unique_ptr<FileCursor>> files;
  std::vector<RunCursor*> cursors;  // oldest first
  for (const std::string& path : paths_) {
    auto& reader = readers.emplace_back(std::make_unique<rocksdb::SstFileReader>(options_));
    rocksdb::Status s = reader->Open(path);
    if (!s.ok()) return RunError(s, "open " + path);
    rocksdb::ReadOptions ro;
    ro.verify_checksums = false;  // written by this process a moment ago
    ro.fill_cache = false;
    files.push_back(std::make_unique<FileCursor>(std::unique_ptr<rocksdb::Iterator>(reader->NewIterator(ro))));
    cursors.push_back(files.back().get());
  }
  if (newest) cursors.push_back(newest);
  auto in_range = [&](const RunCursor& c) { return c.Valid() && (upper.empty() || c.key() < upper); };
  if (cursors.size() == 1) {
    // One run (a load whose entries all stayed in memory, as the 1:10 load's stream index):
    // its keys are strictly increasing, so each is visited as it is, without the heap and
    // the copy of each key that skipping the older runs' equal keys needs.
    RunCursor& it = *cursors.front();
    for (it.Seek(lower); in_range(it); it.Next()) {
      rocksdb::Status s = visit(it.key(), it.value());
      if (!s.ok()) return RunError(s, "merge runs");
    }
  } else {
    // A heap of the runs by their current key, the newest run first among equal keys.
    auto later = [&](size_t a, size_t b) {
      const int c = cursors[a]->key().compare(cursors[b]->key());
      return c != 0 ? c > 0 : a < b;
    };
    std::priority_queue<size_t, std::vector<size_t>, decltype(later)> heap(later);
    for (size_t i = 0; i < cursors.size(); ++i) {
      cursors[i]->Seek(lower);
      if (in_range(*cursors[i])) heap.push(i);
    }
    std::string current;
    while (!heap.empty()) {
      const size_t top = heap.top();
      heap.pop();
      RunCursor& it = *cursors[top];
      current.assign(it.key());
      rocksdb::Status s = visit(current, it.value());
      if (!s.ok()) return RunError(s, "merge runs");
      // The same key in older runs: skipped.
      while (!heap.empty() && cursors[heap.top()]->key() == current) {
        const size_t older = heap.top();
        heap.pop();
        cursors[older]->Next();
        if (in_range(*cursors[older])) heap.push(older);
      }
      it.Next();
      if (in_range(it)) heap.push(top);
    }
  }
  for (size_t i = 0; i < files.size(); ++i) {
    if (!files[i]->status().ok()) return RunError(files[i]->status(), "read " + paths_[i]);
  }
  return {};
}

}  // namespace caseledger::eventstore::bulk_import_internal
