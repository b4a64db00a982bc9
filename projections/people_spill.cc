#include "projections/people_spill.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

namespace caseledger::projections {
namespace {

using eventstore::StoreError;
using eventstore::StoreErrorCode;

constexpr std::string_view kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// Each character's value in kCrockford, -1 for the others: a look-up, where a search of
// kCrockford per letter (memchr) made PackUlid ~400 instructions an id, once per person
// written to the spill and per read back (docs/benchmarks.md, session 27).
constexpr std::array<int8_t, 256> kCrockfordValues = [] {
  std::array<int8_t, 256> values{};
  values.fill(-1);
  for (size_t i = 0; i < kCrockford.size(); ++i) values[static_cast<unsigned char>(kCrockford[i])] = static_cast<int8_t>(i);
  return values;
}();

int CrockfordValue(char c) { return kCrockfordValues[static_cast<unsigned char>(c)]; }

StoreError IoError(const std::string& what, const std::string& path) {
  return StoreError(StoreErrorCode::kIo, what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

bool PeopleSpill::PackUlid(std::string_view id, std::array<uint64_t, 2>& out) {
  if (id.size() != 26) return false;
  unsigned __int128 bits = 0;
  for (size_t i = 0; i < id.size(); ++i) {
    const int v = CrockfordValue(id[i]);
    if (v < 0 || (i == 0 && v > 7)) return false;
    bits = (bits << 5) | static_cast<unsigned>(v);
  }
  out = {static_cast<uint64_t>(bits >> 64), static_cast<uint64_t>(bits)};
  return true;
}

std::string PeopleSpill::UnpackUlid(const std::array<uint64_t, 2>& k) {
  unsigned __int128 bits = (static_cast<unsigned __int128>(k[0]) << 64) | k[1];
  std::string id(26, '0');
  for (size_t i = 26; i-- > 0;) {
    id[i] = kCrockford[static_cast<size_t>(bits & 31)];
    bits >>= 5;
  }
  return id;
}

PeopleSpill::Result<std::unique_ptr<PeopleSpill>> PeopleSpill::Create(std::string path) {
  std::unique_ptr<PeopleSpill> spill(new PeopleSpill());
  spill->fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (spill->fd_ < 0) return IoError("cannot create", path);
  spill->path_ = std::move(path);
  return spill;
}

PeopleSpill::~PeopleSpill() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
}

uint64_t PeopleSpill::Locate(std::string_view value) {
  const uint64_t where = ((end_ + pending_.size()) << kLengthBits) | value.size();
  pending_.append(value);
  return where;
}

void PeopleSpill::Put(std::string_view id, std::string_view value) {
  if (value.size() >= (uint64_t{1} << kLengthBits)) throw std::length_error("person entry over 16 MiB");
  std::array<uint64_t, 2> key;
  if (PackUlid(id, key)) {
    ulids_.insert_or_assign(key, Locate(value));
  } else {
    others_.insert_or_assign(std::string(id), Locate(value));
  }
}

PeopleSpill::Result<void> PeopleSpill::Write() {
  size_t done = 0;
  while (done < pending_.size()) {
    const ssize_t n = ::pwrite(fd_, pending_.data() + done, pending_.size() - done, static_cast<off_t>(end_ + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("cannot write", path_);
    }
    done += static_cast<size_t>(n);
  }
  end_ += pending_.size();
  pending_.clear();
  return {};
}

PeopleSpill::Result<void> PeopleSpill::ReadAt(uint64_t where, std::string& value) const {
  value.resize(where & ((uint64_t{1} << kLengthBits) - 1));
  return ReadRange(where >> kLengthBits, value.size(), value.data());
}

PeopleSpill::Result<void> PeopleSpill::ReadRange(uint64_t offset, size_t length, char* out) const {
  size_t done = 0;
  while (done < length && offset + done < end_) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(length - done, end_ - offset - done));
    const ssize_t n = ::pread(fd_, out + done, want, static_cast<off_t>(offset + done));
    file_reads_.fetch_add(1, std::memory_order_relaxed);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 ? IoError("cannot read", path_) : StoreError(StoreErrorCode::kCorruption, "short read of " + path_);
    done += static_cast<size_t>(n);
  }
  if (done < length) {  // put since the last Write
    std::memcpy(out + done, pending_.data() + (offset + done - end_), length - done);
  }
  return {};
}

PeopleSpill::Result<bool> PeopleSpill::Get(std::string_view id, std::string& value) const {
  std::array<uint64_t, 2> key;
  uint64_t where = 0;
  if (PackUlid(id, key)) {
    auto it = ulids_.find(key);
    if (it == ulids_.end()) return false;
    where = it->second;
  } else {
    auto it = others_.find(id);
    if (it == others_.end()) return false;
    where = it->second;
  }
  if (auto read = ReadAt(where, value); !read) return read.error();
  return true;
}

PeopleSpill::Sorted PeopleSpill::TakeSorted() {
  // ULIDs sort as their bits do (the alphabet is in ASCII order); the others (none but in
  // tests) are merged in by their text.
  Sorted sorted(*this);
  auto packed = std::make_shared<Sorted::Packed>(ulids_.begin(), ulids_.end());
  ulids_ = {};
  std::sort(packed->begin(), packed->end());
  auto others = std::make_shared<Sorted::Others>(others_.begin(), others_.end());
  others_ = {};
  std::sort(others->begin(), others->end());
  sorted.packed_end_ = packed->size();
  sorted.others_end_ = others->size();
  sorted.packed_ = std::move(packed);
  sorted.others_ = std::move(others);
  sorted.Settle();
  return sorted;
}

void PeopleSpill::Sorted::Settle() {
  if (Done()) return;
  if (packed_at_ < packed_end_) id_ = UnpackUlid((*packed_)[packed_at_].first);
  other_ = others_at_ < others_end_ && (packed_at_ == packed_end_ || (*others_)[others_at_].first < id_);
  if (other_) {
    id_ = (*others_)[others_at_].first;
    where_ = (*others_)[others_at_].second;
  } else {
    where_ = (*packed_)[packed_at_].second;
  }
}

void PeopleSpill::Sorted::Next() {
  if (Done()) return;
  ++(other_ ? others_at_ : packed_at_);
  ++seq_;
  Settle();
}

PeopleSpill::Result<void> PeopleSpill::Sorted::Value(std::string& value) {
  if (seq_ < ahead_first_ || seq_ - ahead_first_ + 1 >= ahead_at_.size()) {
    if (auto read = ReadAhead(); !read) return read;
  }
  const size_t i = seq_ - ahead_first_;
  value.assign(ahead_.data() + ahead_at_[i], ahead_at_[i + 1] - ahead_at_[i]);
  return {};
}

PeopleSpill::Result<void> PeopleSpill::Sorted::ReadAhead() {
  // One pread per person was 6.7 M system calls at the end of a 1:1 catch-up, ~1-2 us each
  // on this machine, most of the merge threads' time in the kernel (docs/benchmarks.md,
  // session 33). The people come in id order, a ULID's time their registration's, and a
  // person's latest entry was written by the Flush after their last event, weeks after it
  // at most for most: the next people's entries lie in a stretch of the file, read here in
  // file order, entries less than kAheadGap apart in one read (a gap copied costs less than
  // a system call). Entries far apart are read one by one, as before.
  struct Wanted {
    uint64_t offset;
    uint32_t length, index;
  };
  std::vector<Wanted> wanted;
  size_t bytes = 0, p = packed_at_, o = others_at_;
  ahead_at_.assign(1, 0);
  while ((p < packed_end_ || o < others_end_) && bytes < kAheadBytes) {
    // The order Settle hands them out in.
    const bool other = o < others_end_ && (p == packed_end_ || (*others_)[o].first < UnpackUlid((*packed_)[p].first));
    const uint64_t where = other ? (*others_)[o++].second : (*packed_)[p++].second;
    const auto length = static_cast<uint32_t>(where & ((uint64_t{1} << kLengthBits) - 1));
    wanted.push_back({where >> kLengthBits, length, static_cast<uint32_t>(wanted.size())});
    bytes += length;
    ahead_at_.push_back(static_cast<uint32_t>(bytes));
  }
  ahead_first_ = seq_;
  ahead_.resize(bytes);
  std::sort(wanted.begin(), wanted.end(), [](const Wanted& a, const Wanted& b) { return a.offset < b.offset; });
  thread_local std::string span;  // a read of several entries (the merge threads': one each)
  for (size_t g = 0; g < wanted.size();) {
    const uint64_t begin = wanted[g].offset;
    uint64_t end = begin + wanted[g].length;
    size_t h = g + 1;
    while (h < wanted.size() && wanted[h].offset <= end + kAheadGap &&
           std::max(end, wanted[h].offset + wanted[h].length) - begin <= kAheadRead) {
      end = std::max(end, wanted[h].offset + wanted[h].length);
      ++h;
    }
    if (h == g + 1) {
      if (auto read = spill_->ReadRange(begin, wanted[g].length, ahead_.data() + ahead_at_[wanted[g].index]); !read) return read;
    } else {
      span.resize(end - begin);
      if (auto read = spill_->ReadRange(begin, span.size(), span.data()); !read) return read;
      for (size_t i = g; i < h; ++i) {
        std::memcpy(ahead_.data() + ahead_at_[wanted[i].index], span.data() + (wanted[i].offset - begin), wanted[i].length);
      }
    }
    g = h;
  }
  return {};
}

std::string PeopleSpill::Sorted::Middle() const {
  if (packed_end_ - packed_at_ >= others_end_ - others_at_) {
    return packed_at_ == packed_end_ ? std::string() : UnpackUlid((*packed_)[(packed_at_ + packed_end_) / 2].first);
  }
  return (*others_)[(others_at_ + others_end_) / 2].first;
}

PeopleSpill::Sorted PeopleSpill::Sorted::SplitAt(const std::string& from) {
  // By the ids' text, as Settle merges them (a pivot need not be a ULID).
  const auto packed_from = std::partition_point(
      packed_->begin() + static_cast<ptrdiff_t>(packed_at_), packed_->begin() + static_cast<ptrdiff_t>(packed_end_),
      [&](const auto& entry) { return UnpackUlid(entry.first) < from; });
  const auto others_from = std::partition_point(
      others_->begin() + static_cast<ptrdiff_t>(others_at_), others_->begin() + static_cast<ptrdiff_t>(others_end_),
      [&](const auto& entry) { return entry.first < from; });
  Sorted upper(*spill_);
  upper.packed_ = packed_;
  upper.others_ = others_;
  upper.packed_at_ = static_cast<size_t>(packed_from - packed_->begin());
  upper.packed_end_ = packed_end_;
  upper.others_at_ = static_cast<size_t>(others_from - others_->begin());
  upper.others_end_ = others_end_;
  packed_end_ = upper.packed_at_;
  others_end_ = upper.others_at_;
  ahead_at_.clear();  // what was read ahead may be the upper's now
  upper.Settle();
  Settle();
  return upper;
}

size_t PeopleSpill::IndexBytes() const {
  return ulids_.capacity() * (sizeof(std::pair<std::array<uint64_t, 2>, uint64_t>) + 1) +
         others_.capacity() * (sizeof(std::pair<std::string, uint64_t>) + 1);
}

}  // namespace caseledger::projections
