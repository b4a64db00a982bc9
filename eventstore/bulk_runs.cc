#include "eventstore/bulk_runs.h"

#include "eventstore/rocks_status.h"

#include <cstring>

#include <algorithm>
#include <filesystem>
#include <iterator>
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

namespace {

constexpr size_t kBuffer = 1 << 20;
constexpr uint32_t kLengthBytes = sizeof(uint32_t);

void PutLength(std::string& out, size_t n) {
  const auto v = static_cast<uint32_t>(n);
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

}  // namespace

rocksdb::Status RunSink::Put(std::string_view key, std::string_view value) {
  if (entries_ % TableSink::kSampleEvery == 0) samples_.emplace_back(key);
  if (entries_ % kMarkEvery == 0) marks_.push_back({std::string(key), flushed_ + buffer_.size()});
  ++entries_;
  PutLength(buffer_, key.size());
  buffer_.append(key);
  PutLength(buffer_, value.size());
  buffer_.append(value);
  return buffer_.size() >= kBuffer ? Flush() : rocksdb::Status::OK();
}

rocksdb::Status RunSink::Flush() {
  rocksdb::Status s = file_.Append(rocksdb::Slice(buffer_));
  flushed_ += buffer_.size();
  buffer_.clear();
  return s;
}

SortedRuns::SortedRuns(std::string path_prefix, rocksdb::Env* env)
    : prefix_(std::move(path_prefix)), env_(env ? env : rocksdb::Env::Default()) {}

SortedRuns::~SortedRuns() {
  readers_.clear();
  std::error_code ec;
  for (const RunFile& file : files_) std::filesystem::remove(file.path, ec);
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
  std::unique_ptr<rocksdb::WritableFile> out;
  rocksdb::Status s = env_->NewWritableFile(file.path, &out, rocksdb::EnvOptions());
  if (!s.ok()) return RunError(s, "open " + file.path);
  RunSink sink(*out, file.samples, file.marks);
  sink.buffer_.reserve(kBuffer + 4096);
  s = fill(sink);
  if (s.ok()) s = sink.Flush();
  if (!s.ok()) return RunError(s, "write " + file.path);
  s = out->Close();
  if (!s.ok()) return RunError(s, "finish " + file.path);
  if (sink.entries() == 0) {
    std::error_code ec;
    std::filesystem::remove(file.path, ec);
    RunFile none;
    none.path = file.path;
    return none;
  }
  file.entries = sink.entries();
  file.bytes = sink.flushed_;
  return file;
}

void SortedRuns::Add(RunFile file) {
  if (file.entries == 0) return;
  entries_ += file.entries;
  for (std::string& sample : file.samples) samples_.push_back(std::move(sample));
  file.samples.clear();
  files_.push_back(std::move(file));
}

RunFileBytes::RunFileBytes(rocksdb::RandomAccessFile* file, uint64_t bytes, const char* ends_within)
    : file_(file), bytes_(bytes), ends_within_(ends_within), scratch_(std::make_unique<char[]>(kBuffer)) {}

void RunFileBytes::Seek(uint64_t offset) {
  offset_ = offset;
  data_ = nullptr;
  size_ = used_ = 0;
}

bool RunFileBytes::Read(void* out, size_t n, bool at_end_ok) {
  char* to = static_cast<char*>(out);
  size_t got = 0;
  while (got < n) {
    if (used_ == size_) {
      rocksdb::Slice read;
      if (offset_ < bytes_) status_ = file_->Read(offset_, std::min<uint64_t>(kBuffer, bytes_ - offset_), &read, scratch_.get());
      if (!status_.ok()) return false;
      if (read.empty()) {
        if (!(at_end_ok && got == 0)) status_ = rocksdb::Status::Corruption(ends_within_);
        return false;
      }
      data_ = read.data();
      size_ = read.size();
      used_ = 0;
      offset_ += read.size();
    }
    const size_t take = std::min(n - got, size_ - used_);
    std::memcpy(to + got, data_ + used_, take);
    used_ += take;
    got += take;
  }
  return true;
}

namespace {

// The entries of a run's file from `offset` on, one at a time, through a buffer.
class FileCursor final : public RunCursor {
 public:
  FileCursor(const SortedRuns::RunFile& file, std::unique_ptr<rocksdb::RandomAccessFile> reader)
      : file_(file), reader_(std::move(reader)), bytes_(reader_.get(), file.bytes, "a run ends within an entry") {}
  void Seek(std::string_view target) override {
    // From the last mark before target (the marks are the run's keys, ascending).
    auto after = std::partition_point(file_.marks.begin(), file_.marks.end(),
                                      [&](const RunSink::Mark& m) { return m.key < target; });
    bytes_.Seek(after == file_.marks.begin() ? 0 : std::prev(after)->offset);
    Next();
    while (valid_ && key_ < target) Next();
  }
  bool Valid() const override { return valid_; }
  std::string_view key() const override { return key_; }
  std::string_view value() const override { return value_; }
  void Next() override {
    valid_ = false;
    uint32_t n = 0;
    if (!Read(&n, kLengthBytes, /*at_end_ok=*/true)) return;
    key_.resize(n);
    if (!Read(key_.data(), n) || !Read(&n, kLengthBytes)) return;
    value_.resize(n);
    if (!Read(value_.data(), n)) return;
    valid_ = true;
  }
  const rocksdb::Status& status() const { return bytes_.status(); }

 private:
  bool Read(void* out, size_t n, bool at_end_ok = false) { return bytes_.Read(out, n, at_end_ok); }

  const SortedRuns::RunFile& file_;
  std::unique_ptr<rocksdb::RandomAccessFile> reader_;
  RunFileBytes bytes_;
  bool valid_ = false;
  std::string key_, value_;
};

}  // namespace

StoreResult<std::optional<std::string>> SortedRuns::Find(std::string_view key) {
  while (readers_.size() < files_.size()) {
    const std::string& path = files_[readers_.size()].path;
    std::unique_ptr<rocksdb::RandomAccessFile> reader;
    rocksdb::Status s = env_->NewRandomAccessFile(path, &reader, rocksdb::EnvOptions());
    if (!s.ok()) return RunError(s, "open " + path);
    readers_.push_back(std::move(reader));
  }
  for (size_t i = files_.size(); i-- > 0;) {
    const RunFile& f = files_[i];
    // The entries between the last mark at or before key and the next mark.
    auto after = std::partition_point(f.marks.begin(), f.marks.end(), [&](const RunSink::Mark& m) { return m.key <= key; });
    if (after == f.marks.begin()) continue;  // before the run's first key
    const uint64_t begin = std::prev(after)->offset;
    const uint64_t end = after == f.marks.end() ? f.bytes : after->offset;
    found_.resize(end - begin);
    rocksdb::Slice read;
    rocksdb::Status s = readers_[i]->Read(begin, end - begin, &read, found_.data());
    if (s.ok() && read.size() != end - begin) s = rocksdb::Status::Corruption("a run is shorter than written");
    if (!s.ok()) return RunError(s, "read " + f.path);
    const char* p = read.data();
    const char* const stop = p + read.size();
    while (p + kLengthBytes <= stop) {
      uint32_t n = 0;
      std::memcpy(&n, p, kLengthBytes);
      const std::string_view k(p + kLengthBytes, n);
      p += kLengthBytes + n;
      std::memcpy(&n, p, kLengthBytes);
      const std::string_view v(p + kLengthBytes, n);
      p += kLengthBytes + n;
      if (k == key) return std::optional<std::string>(std::string(v));
      if (k > key) break;
    }
  }
  return std::optional<std::string>();
}

StoreResult<void> SortedRuns::MergeRange(std::string_view lower, std::string_view upper, RunCursor* newest,
                                         const Visit& visit) const {
  std::vector<std::unique_ptr<FileCursor>> files;
  std::vector<RunCursor*> cursors;  // oldest first
  for (const RunFile& f : files_) {
    std::unique_ptr<rocksdb::RandomAccessFile> reader;
    rocksdb::Status s = env_->NewRandomAccessFile(f.path, &reader, rocksdb::EnvOptions());
    if (!s.ok()) return RunError(s, "open " + f.path);
    files.push_back(std::make_unique<FileCursor>(f, std::move(reader)));
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
    if (!files[i]->status().ok()) return RunError(files[i]->status(), "read " + files_[i].path);
  }
  return {};
}

}  // namespace caseledger::eventstore::bulk_import_internal
