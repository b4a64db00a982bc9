#include "eventstore/bulk_index_runs.h"

#include "eventstore/record_format.h"
#include "eventstore/rocks_status.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <queue>

namespace caseledger::eventstore::bulk_import_internal {
namespace {

// A run's file: its first position (8 bytes), then per stream in name order its name's size
// (4) and bytes, its seed's size (4; kNoSeed: none) and bytes, its first version (8), its
// events (4) and their offsets (4 each). In the machine's byte order: the file lives only
// as long as the process that wrote it.
constexpr uint32_t kNoSeed = UINT32_MAX;
constexpr size_t kBuffer = 1 << 20;

StoreError RunError(const rocksdb::Status& s, const std::string& what) {
  return StoreErrorFrom(s, "bulk import: " + what);
}

template <class T>
void Put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

// Compares format::StreamPrefix(name) (the name and a zero byte) with `bound`, bytewise,
// without building it.
int ComparePrefix(std::string_view name, std::string_view bound) {
  const size_t n = std::min(name.size(), bound.size());
  if (const int c = n == 0 ? 0 : std::memcmp(name.data(), bound.data(), n); c != 0) return c;
  if (name.size() >= bound.size()) return 1;  // bound is a prefix of the name: the prefix is longer
  const auto next = static_cast<unsigned char>(bound[name.size()]);
  if (next != 0) return -1;
  return bound.size() == name.size() + 1 ? 0 : -1;
}

// One stream's entries in one run, as the merge reads them.
struct StreamSlice {
  std::string_view name;
  const std::string* seed = nullptr;  // none
  uint64_t first_version = 0;
  uint64_t base = 0;  // the run's first position
  const uint32_t* offsets = nullptr;
  uint32_t events = 0;
};

// A run read stream by stream, from the first stream whose prefix reaches `lower`.
class SliceSource {
 public:
  virtual ~SliceSource() = default;
  // To the next stream (the first, at the first call); false at the end or on an error.
  virtual bool Advance() = 0;
  const StreamSlice& current() const { return current_; }

 protected:
  StreamSlice current_;
};

class MemorySource final : public SliceSource {
 public:
  MemorySource(const IndexRun& run, std::string_view lower) : run_(run) {
    next_ = static_cast<size_t>(std::partition_point(run_.streams.begin(), run_.streams.end(),
                                                     [&](const Touched& t) { return ComparePrefix(*t.name, lower) < 0; }) -
                                run_.streams.begin());
  }
  bool Advance() override {
    if (next_ >= run_.streams.size()) return false;
    const Touched& t = run_.streams[next_++];
    auto seed = run_.seeds.find(t.slot);
    current_ = {*t.name, seed == run_.seeds.end() ? nullptr : &seed->second, t.first_version, run_.first,
                run_.offsets.data() + t.begin, t.events};
    return true;
  }

 private:
  const IndexRun& run_;
  size_t next_ = 0;
};

class FileSource final : public SliceSource {
 public:
  // Opens `file` at its last mark before `lower`.
  rocksdb::Status Open(rocksdb::Env* env, const IndexRunFiles::RunFile& file, std::string_view lower) {
    lower_ = lower;
    rocksdb::Status s = env->NewRandomAccessFile(file.path, &file_, rocksdb::EnvOptions());
    if (!s.ok()) return s;
    bytes_.emplace(file_.get(), std::numeric_limits<uint64_t>::max(), "a run's file ends within a stream");
    if (!Read(&base_, sizeof base_)) return status_.ok() ? rocksdb::Status::Corruption("no header") : status_;
    uint64_t start = sizeof base_;
    for (const auto& mark : file.marks) {
      if (!lower.empty() && ComparePrefix(mark.name, lower) < 0) start = mark.offset;
    }
    bytes_->Seek(start);
    return rocksdb::Status::OK();
  }
  bool Advance() override {
    for (;;) {
      uint32_t name_size = 0, seed_size = 0, events = 0;
      if (!Read(&name_size, sizeof name_size, /*at_end_ok=*/true)) return false;
      name_.resize(name_size);
      if (!Read(name_.data(), name_size) || !Read(&seed_size, sizeof seed_size)) return Truncated();
      if (seed_size != kNoSeed) {
        seed_.resize(seed_size);
        if (!Read(seed_.data(), seed_size)) return Truncated();
      }
      if (!Read(&current_.first_version, sizeof current_.first_version) || !Read(&events, sizeof events)) return Truncated();
      offsets_.resize(events);
      if (!Read(offsets_.data(), sizeof(uint32_t) * events)) return Truncated();
      if (!lower_.empty() && ComparePrefix(name_, lower_) < 0) continue;
      current_.name = name_;
      current_.seed = seed_size == kNoSeed ? nullptr : &seed_;
      current_.base = base_;
      current_.offsets = offsets_.data();
      current_.events = events;
      return true;
    }
  }
  const rocksdb::Status& status() const { return status_; }
  ~FileSource() override { sodium_memzero(seed_.data(), seed_.size()); }

 private:
  bool Truncated() {
    if (status_.ok()) status_ = rocksdb::Status::Corruption("a run's file ends within a stream");
    return false;
  }
  // Copies the next n bytes; false at the file's end (an error unless none was read and
  // `at_end_ok`) or on an error.
  bool Read(void* out, size_t n, bool at_end_ok = false) {
    if (bytes_->Read(out, n, at_end_ok)) return true;
    if (status_.ok()) status_ = bytes_->status();
    return false;
  }

  std::string_view lower_;
  std::unique_ptr<rocksdb::RandomAccessFile> file_;
  std::optional<RunFileBytes> bytes_;  // of file_, once open
  uint64_t base_ = 0;
  rocksdb::Status status_;
  std::string name_, seed_;
  std::vector<uint32_t> offsets_;
};

}  // namespace

void IndexRun::Sort() {
  // Each stream's slice of `offsets`, in name order, then every event's offset placed in
  // its stream's slice: in position order, which is the stream's version order. One pass
  // counting and one placing, each writing to as many places as there are streams (a cursor
  // of 4 bytes per stream), where vectors per stream were a miss each event.
  SortByName(streams, [](const Touched& t) { return std::string_view(*t.name); });
  std::vector<uint32_t> next(streams.size());
  for (uint32_t slot : slots) ++next[slot];
  uint32_t begin = 0;
  for (Touched& t : streams) {
    t.events = next[t.slot];
    t.begin = begin;
    next[t.slot] = begin;
    begin += t.events;
  }
  offsets.resize(slots.size());
  for (size_t i = 0; i < slots.size(); ++i) offsets[next[slots[i]]++] = static_cast<uint32_t>(i);
  std::vector<uint32_t>().swap(slots);
}

void IndexRun::Clear() {
  for (auto& [slot, seed] : seeds) sodium_memzero(seed.data(), seed.size());
  *this = IndexRun{};
}

IndexRunFiles::IndexRunFiles(std::string path_prefix, rocksdb::Env* env)
    : prefix_(std::move(path_prefix)), env_(env ? env : rocksdb::Env::Default()) {}

IndexRunFiles::~IndexRunFiles() {
  std::error_code ec;
  for (const RunFile& file : files_) std::filesystem::remove(file.path, ec);
}

StoreResult<IndexRunFiles::RunFile> IndexRunFiles::WriteRun(const std::string& path, const IndexRun& run) const {
  RunFile file;
  file.path = path;
  if (run.streams.empty()) return file;
  std::unique_ptr<rocksdb::WritableFile> out;
  rocksdb::Status s = env_->NewWritableFile(path, &out, rocksdb::EnvOptions());
  if (!s.ok()) return RunError(s, "open " + path);
  std::string buffer;
  buffer.reserve(kBuffer + 4096);
  uint64_t flushed = 0;
  bool secret = false;  // a key seed in the buffer: wiped once written
  auto flush = [&] {
    rocksdb::Status st = out->Append(rocksdb::Slice(buffer));
    flushed += buffer.size();
    if (secret) sodium_memzero(buffer.data(), buffer.size());
    secret = false;
    buffer.clear();
    return st;
  };
  Put<uint64_t>(buffer, run.first);
  for (size_t i = 0; i < run.streams.size(); ++i) {
    const Touched& t = run.streams[i];
    if (i % kMarkEvery == 0) file.marks.push_back({*t.name, flushed + buffer.size()});
    Put<uint32_t>(buffer, static_cast<uint32_t>(t.name->size()));
    buffer.append(*t.name);
    if (auto seed = run.seeds.find(t.slot); seed != run.seeds.end()) {
      Put<uint32_t>(buffer, static_cast<uint32_t>(seed->second.size()));
      buffer.append(seed->second);
      secret = true;
      ++file.entries;
    } else {
      Put<uint32_t>(buffer, kNoSeed);
    }
    Put<uint64_t>(buffer, t.first_version);
    Put<uint32_t>(buffer, t.events);
    buffer.append(reinterpret_cast<const char*>(run.offsets.data() + t.begin), sizeof(uint32_t) * t.events);
    file.entries += t.events;
    if (buffer.size() >= kBuffer) {
      if (s = flush(); !s.ok()) return RunError(s, "write " + path);
    }
  }
  if (s = flush(); !s.ok()) return RunError(s, "write " + path);
  if (s = out->Close(); !s.ok()) return RunError(s, "finish " + path);
  return file;
}

void IndexRunFiles::Add(RunFile file) {
  if (file.entries == 0 && file.marks.empty()) return;
  files_.push_back(std::move(file));
}

StoreResult<void> IndexRunFiles::MergeRange(std::string_view lower, std::string_view upper, const IndexRun* newest,
                                            const Visit& visit) const {
  std::vector<std::unique_ptr<FileSource>> files;
  std::vector<SliceSource*> sources;  // oldest first
  for (const RunFile& f : files_) {
    auto& source = files.emplace_back(std::make_unique<FileSource>());
    if (rocksdb::Status s = source->Open(env_, f, lower); !s.ok()) return RunError(s, "open " + f.path);
    sources.push_back(source.get());
  }
  static const IndexRun kNone;
  MemorySource memory(newest ? *newest : kNone, lower);
  if (newest) sources.push_back(&memory);
  auto in_range = [&](const StreamSlice& s) { return upper.empty() || ComparePrefix(s.name, upper) < 0; };
  // A heap of the runs by their current stream, the oldest first among equal names.
  auto later = [&](size_t a, size_t b) {
    const int c = sources[a]->current().name.compare(sources[b]->current().name);
    return c != 0 ? c > 0 : a > b;
  };
  std::priority_queue<size_t, std::vector<size_t>, decltype(later)> heap(later);
  for (size_t i = 0; i < sources.size(); ++i) {
    if (sources[i]->Advance() && in_range(sources[i]->current())) heap.push(i);
  }
  std::vector<size_t> group;  // the runs holding the stream merged, oldest first
  std::string key;
  auto put = [&](uint64_t version, std::string_view value) {
    key.resize(key.size() - 8);
    format::PutFixed64BE(key, version);
    return visit(key, value);
  };
  while (!heap.empty()) {
    group.clear();
    group.push_back(heap.top());
    heap.pop();
    const std::string_view name = sources[group.front()]->current().name;
    while (!heap.empty() && sources[heap.top()]->current().name == name) {
      group.push_back(heap.top());
      heap.pop();
    }
    key.assign(name);
    key.push_back('\0');
    key.append(8, '\0');
    // The key seed (version 0, before every entry): the newest run's.
    for (auto g = group.rbegin(); g != group.rend(); ++g) {
      if (const std::string* seed = sources[*g]->current().seed) {
        if (rocksdb::Status s = put(0, *seed); !s.ok()) return RunError(s, "merge runs");
        break;
      }
    }
    for (size_t g : group) {
      const StreamSlice& slice = sources[g]->current();
      for (uint32_t k = 0; k < slice.events; ++k) {
        rocksdb::Status s = put(slice.first_version + k, format::EncodePositionRef(slice.base + slice.offsets[k]));
        if (!s.ok()) return RunError(s, "merge runs");
      }
    }
    for (size_t g : group) {
      if (sources[g]->Advance() && in_range(sources[g]->current())) heap.push(g);
    }
  }
  for (size_t i = 0; i < files.size(); ++i) {
    if (!files[i]->status().ok()) return RunError(files[i]->status(), "read " + files_[i].path);
  }
  return {};
}

}  // namespace caseledger::eventstore::bulk_import_internal
